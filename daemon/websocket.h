/* websocket.h: WebSocket stream clients, GET /ws (pipecastd(8), "HTTP"):
 * the rings of their encodings (lib/wsring.c), allocated with the first
 * client of each, and one connection's protocol state, embedded in its
 * client. The socket, the timer and the lists stay client.c's. */
#ifndef PIPECAST_WEBSOCKET_H
#define PIPECAST_WEBSOCKET_H

#include "counters.h"
#include "ws.h"
#include "wsring.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

/* The largest data message a client may send (it is read and ignored);
 * a larger one is closed with 1009 (pipecastd(8)). */
#define WEBSOCKET_MAX_MESSAGE (64 * 1024)
/* How long the peer has to close its end after our close frame. */
#define WEBSOCKET_CLOSE_WAIT_MS 2000

/* One WebSocket connection: what an idle one needs inline, the rest
 * allocated at need. */
struct websocket_conn {
	uint8_t *head;           /* the 101 response (and a gap message) until
				  * it is out, before the cursor's bytes */
	uint8_t *later;          /* a control frame waiting for the note
				  * (WS_CONTROL_FRAME_MAX bytes, at the first) */
	struct wsring_cursor cur;
	struct ws_parser parser;
	uint16_t head_len, head_off;
	uint8_t kind;            /* its ring's enum wsring_kind */
	uint8_t later_len;
	bool later_close;        /* `later` is a close frame */
	bool close_queued;       /* the note is (or will be) a close frame */
	bool close_sent;         /* it is out: nothing more is sent */
	enum close_reason reason : 8; /* why, for the close that follows */
};

/* The ring of an encoding, allocated on first use; NULL when out of memory. */
struct wsring *websocket_ring(enum wsring_kind k);
/* Encodes appended records (line framing) or a chunk (raw) into every ring
 * in use; frames reach their rings at websocket_flush(). */
void websocket_append(const char *data, size_t n);
/* Moves encoded frames into their rings (the overflow policy first). */
void websocket_flush(void);
/* Releases the rings at exit. */
void websocket_free(void);

/* A connection that starts at pos, its first bytes `head` (the 101
 * response and a gap message; copied); a stash of stash_cap bytes (given,
 * or with stash NULL allocated at the first need) keeps the rest of a
 * frame a skip must finish when the ring would lose it. Returns 0, or -1
 * when memory is out. */
int websocket_conn_init(struct websocket_conn *w, struct wsring *r, uint64_t pos,
			 const void *head, size_t len, uint8_t *stash, size_t stash_cap);
/* Bytes the client sent: control frames are answered (queued), data
 * ignored. Returns false when the connection must close at once. */
/* Frees what the connection allocated (not w itself). */
void websocket_conn_free(struct websocket_conn *w);
bool websocket_conn_read(struct websocket_conn *w, const uint8_t *buf, size_t n);
/* A keepalive ping, when nothing is waiting. */
void websocket_conn_ping(struct websocket_conn *w);
int websocket_conn_iov(const struct websocket_conn *w, struct iovec iov[5]);
void websocket_conn_advance(struct websocket_conn *w, size_t n);
enum wsring_verdict websocket_conn_make_room(struct websocket_conn *w, const struct wsring *r,
					     uint64_t n, bool skip, uint64_t *missed);
uint64_t websocket_conn_lag(const struct websocket_conn *w);

#endif

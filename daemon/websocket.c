/* websocket.c: WebSocket stream clients (pipecastd(8), "HTTP"). Each
 * record is encoded once per encoding in use, into that encoding's ring;
 * a connection is a cursor into it plus the state of its control frames,
 * which go out between whole frames only. */
#include "websocket.h"
#include "alloc.h"
#include "client.h"
#include "daemon.h"
#include "fanout.h"
#include "log.h"

#include <string.h>

static struct wsring rings[WSRING_KINDS];
static bool ring_on[WSRING_KINDS];

/* The first client of an encoding allocates its ring, which numbers on
 * from the stream's newest record. */
struct wsring *websocket_ring(enum wsring_kind k)
{
	if (ring_on[k])
		return &rings[k];
	if (wsring_init(&rings[k], k, conf->clients.buffer, conf->source.max_line,
			fanout_epoch(), fanout_last_seq(), 0) < 0) {
		log_warning("WebSocket ring: out of memory");
		return NULL;
	}
	ring_on[k] = true;
	return &rings[k];
}

/* The batch of a ring into the ring, once its clients made room. */
static void websocket_ring_flush(struct wsring *r)
{
	size_t n = wsring_pending(r);

	if (n == 0)
		return;
	clients_before_ws_append(r, n);
	wsring_flush(r);
}

/* One record (or raw piece) into one ring's batch. */
static void websocket_add(struct wsring *r, const char *p, size_t n)
{
	if (wsring_add(r, (const uint8_t *)p, n) == 0)
		return;
	websocket_ring_flush(r);
	if (wsring_add(r, (const uint8_t *)p, n) < 0)
		log_warning("WebSocket: a record of %zu bytes does not fit its frame", n);
}

/* Raw pieces of at most max_line, one binary frame each. */
static void websocket_encode_raw(struct wsring *r, const char *data, size_t n)
{
	const char *p = data, *end = data + n;

	for (; p < end; p += conf->source.max_line)
		websocket_add(r, p, (size_t)(end - p) < conf->source.max_line ?
			      (size_t)(end - p) : conf->source.max_line);
}

/* Whole lines, one frame each, a batch at a time: the chunk's UTF-8 is
 * checked once for all its lines (text frames then copy them as they are);
 * the line a full batch stopped at goes through websocket_add(), which
 * flushes the batch first. */
static void websocket_encode(struct wsring *r, const char *data, size_t n)
{
	const uint8_t *p = (const uint8_t *)data, *end = p + n, *nl;
	bool utf8;

	if (r->kind == WSRING_BINARY) {
		websocket_encode_raw(r, data, n);
		return;
	}
	utf8 = r->kind == WSRING_TEXT && ws_utf8_valid(p, n);
	while (p < end) {
		p += wsring_add_lines(r, p, (size_t)(end - p), utf8);
		if (p == end || !(nl = memchr(p, '\n', (size_t)(end - p))))
			return;
		websocket_add(r, (const char *)p, (size_t)(nl + 1 - p));
		p = nl + 1;
	}
}

/* Every ring in use gets the records. */
void websocket_append(const char *data, size_t n)
{
	for (int k = 0; k < WSRING_KINDS; k++)
		if (ring_on[k])
			websocket_encode(&rings[k], data, n);
}

/* Before a broadcast: every batch into its ring. */
void websocket_flush(void)
{
	for (int k = 0; k < WSRING_KINDS; k++)
		if (ring_on[k])
			websocket_ring_flush(&rings[k]);
}

/* At exit. */
void websocket_free(void)
{
	for (int k = 0; k < WSRING_KINDS; k++)
		if (ring_on[k])
			wsring_free(&rings[k]);
	memset(ring_on, 0, sizeof(ring_on));
}

/* The ring a connection reads (allocated before any connection of it). */
static struct wsring *websocket_conn_ring(const struct websocket_conn *w)
{
	return &rings[w->kind];
}

/* The handshake's answer and any gap message come first, from a copy
 * that goes once it is out. */
int websocket_conn_init(struct websocket_conn *w, struct wsring *r, uint64_t pos,
			const void *head, size_t len, uint8_t *stash, size_t stash_cap)
{
	memset(w, 0, sizeof(*w));
	if (len > UINT16_MAX || (len && !(w->head = pc_malloc(len))))
		return -1;
	if (len)
		memcpy(w->head, head, len);
	w->head_len = (uint16_t)len;
	w->kind = (uint8_t)r->kind;
	wsring_cursor_init(&w->cur, r, pos, NULL, 0, stash, stash_cap);
	ws_parser_init(&w->parser, WEBSOCKET_MAX_MESSAGE);
	w->reason = CLOSE_PEER;
	return 0;
}

/* Frees what the connection allocated. */
void websocket_conn_free(struct websocket_conn *w)
{
	wsring_cursor_free(&w->cur);
	ws_parser_free(&w->parser);
	pc_free(w->head);
	pc_free(w->later);
	w->head = w->later = NULL;
}

/* Queues a control frame after the frame being sent; one waits behind a
 * pending note (a close replaces a waiting pong). False when the frame
 * boundary is lost. */
static bool websocket_conn_queue(struct websocket_conn *w, const uint8_t *f, size_t n,
				 bool close)
{
	if (w->close_queued)
		return true;
	if (!wsring_cursor_note_pending(&w->cur)) {
		if (wsring_cursor_note(&w->cur, websocket_conn_ring(w), f, n) < 0)
			return false;
		w->close_queued = close;
		return true;
	}
	if (w->later_close && !close)
		return true;
	if (!w->later && !(w->later = pc_malloc(WS_CONTROL_FRAME_MAX)))
		return false;
	memcpy(w->later, f, n);
	w->later_len = (uint8_t)n;   /* at most WS_CONTROL_FRAME_MAX */
	w->later_close = close;
	return true;
}

/* Our close frame with code, then nothing more. */
static bool websocket_conn_close(struct websocket_conn *w, uint16_t code, enum close_reason why)
{
	uint8_t f[WS_CONTROL_FRAME_MAX];

	w->reason = why;
	return websocket_conn_queue(w, f, ws_close_frame(f, code, ""), true);
}

/* Parses what arrived: pings get pongs, a close is echoed, a protocol
 * error is closed with its code; data messages are ignored. */
bool websocket_conn_read(struct websocket_conn *w, const uint8_t *buf, size_t n)
{
	uint8_t f[WS_CONTROL_FRAME_MAX];
	struct ws_event ev;
	size_t used;

	while (n > 0 && !w->parser.done) {
		used = ws_parse(&w->parser, buf, n, &ev);
		buf += used;
		n -= used;
		switch (ev.type) {
		case WS_EV_PING:
			if (!websocket_conn_queue(w, f, ws_control_frame(f, WS_OP_PONG, ev.data, ev.len),
						  false))
				return false;
			break;
		case WS_EV_CLOSE:
			return websocket_conn_close(w, ev.code == WS_CLOSE_NO_STATUS ?
						    WS_CLOSE_NORMAL : ev.code, CLOSE_PEER);
		case WS_EV_ERROR:
			log_debug("WebSocket: protocol error, closing with %u", ev.code);
			return websocket_conn_close(w, ev.code, CLOSE_ERROR);
		case WS_EV_NONE:
		case WS_EV_MESSAGE:
		case WS_EV_PONG:
			break;
		}
	}
	return true;
}

/* [http] keepalive: an empty ping while nothing is waiting. */
void websocket_conn_ping(struct websocket_conn *w)
{
	uint8_t f[WS_CONTROL_FRAME_MAX];

	if (w->close_queued || wsring_cursor_note_pending(&w->cur))
		return;
	(void)websocket_conn_queue(w, f, ws_control_frame(f, WS_OP_PING, NULL, 0), false);
}

/* The rest of the response head, then the cursor's bytes (at most 3);
 * nothing once the close frame is out. */
int websocket_conn_iov(const struct websocket_conn *w, struct iovec iov[5])
{
	int k = 0;

	if (w->close_sent)
		return 0;
	if (w->head_off < w->head_len)
		iov[k++] = (struct iovec){ w->head + w->head_off, (size_t)(w->head_len - w->head_off) };
	return k + wsring_cursor_iov(&w->cur, websocket_conn_ring(w), iov + k);
}

/* Consumes the response head's part of n sent bytes (freed once it is
 * out); returns what is left for the cursor. */
static size_t websocket_conn_head_sent(struct websocket_conn *w, size_t n)
{
	size_t t = w->head_len - w->head_off;

	if (t == 0)
		return n;
	t = n < t ? n : t;
	w->head_off += (uint16_t)t;
	if (w->head_off == w->head_len) {
		/* safe to free now: writev is done; head is read only while head_off < head_len */
		pc_free(w->head);
		w->head = NULL;
	}
	return n - t;
}

/* A finished note: the close is out, or the waiting control frame's turn. */
void websocket_conn_advance(struct websocket_conn *w, size_t n)
{
	size_t len;
	bool close;

	wsring_cursor_advance(&w->cur, websocket_conn_head_sent(w, n));
	if (wsring_cursor_note_pending(&w->cur))
		return;
	if (w->close_queued) {
		w->close_sent = true;
		return;
	}
	if (w->later_len) {
		len = w->later_len;
		close = w->later_close;
		w->later_len = 0;
		w->later_close = false;
		if (wsring_cursor_note(&w->cur, websocket_conn_ring(w), w->later, len) == 0)
			w->close_queued = close;
		else if (close)
			w->close_sent = true;   /* no boundary left: end without it */
	}
}

/* A closed-down connection keeps nothing of the ring. */
enum wsring_verdict websocket_conn_make_room(struct websocket_conn *w, const struct wsring *r,
					     uint64_t n, bool skip, uint64_t *missed)
{
	*missed = 0;
	if (w->close_sent || websocket_conn_ring(w) != r)
		return WSRING_KEEP;
	if (w->close_queued)   /* nothing after the close frame: no skip */
		skip = false;
	return wsring_cursor_make_room(&w->cur, r, n, skip, missed);
}

/* Ring bytes still to send. */
uint64_t websocket_conn_lag(const struct websocket_conn *w)
{
	return w->close_sent ? 0 : wsring_cursor_lag(&w->cur, websocket_conn_ring(w));
}

/* wsring.h: the WebSocket forms of the stream, encoded once for every /ws
 * client (pipecastd(8), "HTTP").
 *
 * Design: one ring per encoding (text messages, ?envelope=json messages,
 * binary messages of raw records), each holding whole server frames, one
 * per record, written once; a WebSocket client is an absolute cursor into
 * the ring of its encoding, so writing to N clients stays one writev each.
 * Frames follow one another with nothing between them, so a frame boundary
 * is found by reading headers forward from a known boundary; a sparse
 * index (seqidx) holds every WSRING_STRIDE-th frame's offset, sequence
 * number and source bytes, and records are numbered consecutively, so a
 * resume or a boundary costs a binary search and a walk over fewer than
 * WSRING_STRIDE headers, never a scan of the ring.
 *
 * Control frames (a pong, a close, a keepalive ping) and gap messages are
 * a client's note: they go out between whole frames only. The cursor then
 * sends ring bytes up to the end of the frame it is in (cut), the note,
 * and continues at jump. A skipped client finishes its frame the same way;
 * the ring is larger than the configured buffer by the longest frame, so
 * that rest is still there. */
#ifndef PIPECAST_WSRING_H
#define PIPECAST_WSRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "eventid.h"
#include "ring.h"
#include "seqidx.h"
#include "ws.h"

#define WSRING_STRIDE 32
#define WSRING_NO_CUT UINT64_MAX
/* A note: the 101 response head and a gap message, or one control frame. */
#define WSRING_NOTE_MAX (WS_RESPONSE_MAX + WS_GAP_FRAME_MAX + WS_CONTROL_FRAME_MAX)
/* A note held in the cursor itself: a ping, a close or a gap message
 * ({"gap":N} in a 2-byte header: at most 30 bytes); a longer one is moved
 * out of line at its first need. */
#define WSRING_NOTE_INLINE 32
/* Index entries waiting for their batch to reach the ring. */
#define WSRING_PENDING_MAX 64

enum wsring_kind { WSRING_TEXT, WSRING_JSON, WSRING_BINARY, WSRING_KINDS };

struct wsring {
	struct ring ring;
	struct seqidx idx;
	enum wsring_kind kind;
	uint64_t limit;   /* how far behind a client may be: `buffer` */
	uint64_t epoch;
	uint64_t seq;     /* the newest record's sequence number (batch included) */
	uint64_t ring_seq; /* the newest record's in the ring */
	uint64_t src;     /* source bytes of every record so far */
	uint8_t *batch;   /* frames encoded, not yet in the ring */
	size_t batch_len, batch_cap;
	struct seqidx_entry pend[WSRING_PENDING_MAX]; /* off: within the batch */
	size_t n_pend;
	struct eventid_text id;   /* the newest JSON frame's id, as text */
};

/* The longest frame of one record of max_line bytes. */
size_t wsring_frame_max(enum wsring_kind k, uint64_t max_line);
/* Allocates the ring (buffer plus the longest frame), its index and its
 * batch; numbering goes on after seq, src counts on from src. 0, or -1. */
int wsring_init(struct wsring *r, enum wsring_kind k, uint64_t buffer, uint64_t max_line,
		uint64_t epoch, uint64_t seq, uint64_t src);
void wsring_free(struct wsring *r);

/* Encodes one record (raw framing: one chunk) into the batch. Returns 0,
 * or -1 when the batch has no room for it: flush first (wsring_flush). */
int wsring_add(struct wsring *r, const uint8_t *rec, size_t n);
/* Encodes the whole lines of a chunk (line framing), one frame each, while
 * the batch has room for them; returns the bytes taken (flush, then call
 * again for the rest). utf8: the whole chunk passed ws_utf8_valid(), so a
 * text ring copies each line as it is instead of sanitising it. */
size_t wsring_add_lines(struct wsring *r, const uint8_t *p, size_t n, bool utf8);
/* Bytes the batch will add to the ring. */
size_t wsring_pending(const struct wsring *r);
/* Moves the batch into the ring (after the caller made room for it). */
void wsring_flush(struct wsring *r);

/* Where a client starts, and the gap message it gets first. */
struct wsring_start {
	uint64_t pos;
	bool gap;
	bool known;
	uint64_t missed;
};
/* The resume table of pipecast.conf(5) ("EVENT IDS"): records held after
 * `after` of our epoch, live only, or a gap first. */
void wsring_resume(const struct wsring *r, uint64_t after, struct wsring_start *st);
/* Another epoch: a gap of unknown size, then every record held. */
void wsring_resume_foreign(const struct wsring *r, struct wsring_start *st);
/* A new client: records within `backlog` source bytes, counted to within
 * WSRING_STRIDE records (never more than backlog). */
uint64_t wsring_backlog(const struct wsring *r, uint64_t backlog);

/* One client's position; see the design above. */
struct wsring_cursor {
	uint64_t pos;
	uint64_t cut;            /* WSRING_NO_CUT unless a note waits for it */
	uint64_t jump;
	uint64_t jump_seq;       /* the seq of the frame starting at jump */
	uint64_t bound;          /* a frame boundary <= pos that is known */
	uint64_t bound_seq;      /* the seq of the frame starting at bound */
	uint64_t gap_missed;     /* records that gap message counts */
	uint8_t *stash;          /* the rest [pos, cut) once copied: given, or
				  * allocated at the first need */
	uint8_t *note_big;       /* NULL, or the note once longer than inline */
	uint32_t stash_cap, stash_len, stash_off;
	uint16_t note_len, note_off;
	uint16_t note_fixed;     /* note bytes before a skip's gap message */
	bool stashed;
	bool stash_owned;        /* stash is the cursor's (wsring_cursor_free) */
	uint8_t note[WSRING_NOTE_INLINE];
};

enum wsring_verdict { WSRING_KEEP, WSRING_DROP, WSRING_SKIPPED };

/* A cursor at pos (a frame boundary) whose first bytes are note, with
 * stash_cap bytes of stash (may be none) for the rest of a frame that the
 * ring is about to overwrite before the client took it. */
void wsring_cursor_init(struct wsring_cursor *c, const struct wsring *r, uint64_t pos,
			const void *note, size_t len, uint8_t *stash, size_t stash_cap);
/* Frees what the cursor allocated: a stash given as NULL (with stash_cap
 * bytes) is allocated at the first skip that needs it. */
void wsring_cursor_free(struct wsring_cursor *c);
/* Whether the note is still (partly) unsent. */
bool wsring_cursor_note_pending(const struct wsring_cursor *c);
/* Queues a frame (a control frame) to go out at the next frame boundary;
 * -1 when a note is pending already or the boundary is lost. */
int wsring_cursor_note(struct wsring_cursor *c, const struct wsring *r,
		       const void *frame, size_t len);
/* Whether nothing at all waits to be sent. */
bool wsring_cursor_idle(const struct wsring_cursor *c, const struct wsring *r);
/* Before n bytes are appended: keep, drop, or (skip) finish the frame, a
 * gap message, then the head; *missed is the ring bytes it will never get.
 * A skip while one is pending moves on to the head again and counts the
 * records in the same gap message, unless that message is partly sent. */
enum wsring_verdict wsring_cursor_make_room(struct wsring_cursor *c, const struct wsring *r,
					    uint64_t n, bool skip, uint64_t *missed);
/* What to send, as at most five iovecs; returns how many. */
int wsring_cursor_iov(const struct wsring_cursor *c, const struct wsring *r,
		      struct iovec iov[5]);
/* n bytes of wsring_cursor_iov() were sent. */
void wsring_cursor_advance(struct wsring_cursor *c, uint64_t n);
/* Ring bytes between the cursor and the head. */
uint64_t wsring_cursor_lag(const struct wsring_cursor *c, const struct wsring *r);

#endif

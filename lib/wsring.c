/* wsring.c: the WebSocket rings, their index, and their readers. */
#include "wsring.h"
#include "alloc.h"
#include "eventid.h"

#include <string.h>

#define WSRING_BATCH_MIN (64 * 1024)

/* The longest frame of one record of max_line bytes (and its '\n'). */
size_t wsring_frame_max(enum wsring_kind k, uint64_t max_line)
{
	size_t n = (size_t)max_line + 1;

	switch (k) {
	case WSRING_TEXT:
		return ws_encode_text_max(n);
	case WSRING_JSON:
		return ws_encode_json_max(EVENTID_MAX, n);
	default:
		return WS_HEADER_MAX + n;
	}
}

/* One ring (buffer, plus the longest frame a skipped client may still have
 * to finish, plus a batch), its index (a frame takes at least 2 bytes) and
 * the batch. */
int wsring_init(struct wsring *r, enum wsring_kind k, uint64_t buffer, uint64_t max_line,
		uint64_t epoch, uint64_t seq, uint64_t src)
{
	size_t fmax = wsring_frame_max(k, max_line);
	size_t cap = fmax > WSRING_BATCH_MIN ? fmax : WSRING_BATCH_MIN;
	uint64_t size = buffer + fmax + cap;

	memset(r, 0, sizeof(*r));
	if (ring_init(&r->ring, size, 0) < 0)
		return -1;
	if (seqidx_init(&r->idx, (size_t)(size / (2 * WSRING_STRIDE) + 2)) < 0 ||
	    !(r->batch = pc_malloc(cap))) {
		seqidx_free(&r->idx);
		ring_free(&r->ring);
		return -1;
	}
	r->kind = k;
	r->batch_cap = cap;
	r->limit = buffer;
	r->epoch = epoch;
	r->seq = r->ring_seq = seq;
	r->src = src;
	return 0;
}

/* Releases the ring, the index and the batch. */
void wsring_free(struct wsring *r)
{
	ring_free(&r->ring);
	seqidx_free(&r->idx);
	pc_free(r->batch);
	r->batch = NULL;
}

/* Numbers the next record, whose frame starts at the batch's end: every
 * WSRING_STRIDE-th gets an index entry. */
static void wsring_number(struct wsring *r)
{
	r->seq++;
	if ((r->seq - 1) % WSRING_STRIDE == 0)
		r->pend[r->n_pend++] = (struct seqidx_entry){ r->seq, r->batch_len, r->src };
}

/* Whether the batch lacks room for a frame of up to frame_max bytes or
 * for its index entry. */
static bool wsring_full(const struct wsring *r, size_t frame_max)
{
	return r->batch_len + frame_max > r->batch_cap || r->n_pend == WSRING_PENDING_MAX;
}

/* Encodes one record's frame at the end of the batch. */
int wsring_add(struct wsring *r, const uint8_t *rec, size_t n)
{
	uint8_t *out = r->batch + r->batch_len;
	const char *id;
	size_t idn;

	if (wsring_full(r, wsring_frame_max(r->kind, n)))
		return -1;
	wsring_number(r);
	switch (r->kind) {
	case WSRING_TEXT:
		r->batch_len += ws_encode_text(out, rec, n);
		break;
	case WSRING_JSON:
		id = eventid_text(&r->id, r->epoch, r->seq, &idn);
		r->batch_len += ws_encode_json(out, id, idn, rec, n);
		break;
	default:
		r->batch_len += ws_encode_binary(out, rec, n);
		break;
	}
	r->src += n;
	return 0;
}

/* wsring_add() of a text ring's record known to be valid UTF-8. */
static int wsring_add_utf8(struct wsring *r, const uint8_t *rec, size_t n)
{
	if (wsring_full(r, WS_HEADER_MAX + n))
		return -1;
	wsring_number(r);
	r->batch_len += ws_encode_text_utf8(r->batch + r->batch_len, rec, n);
	r->src += n;
	return 0;
}

/* The whole lines of a chunk, one frame each, while the batch has room. */
size_t wsring_add_lines(struct wsring *r, const uint8_t *p, size_t n, bool utf8)
{
	int (*add)(struct wsring *, const uint8_t *, size_t) =
		utf8 && r->kind == WSRING_TEXT ? wsring_add_utf8 : wsring_add;
	const uint8_t *start = p, *end = p + n, *nl;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL &&
	       add(r, p, (size_t)(nl + 1 - p)) == 0)
		p = nl + 1;
	return (size_t)(p - start);
}

/* What the next flush writes. */
size_t wsring_pending(const struct wsring *r)
{
	return r->batch_len;
}

/* The batch into the ring, its index entries with their ring offsets. */
void wsring_flush(struct wsring *r)
{
	for (size_t i = 0; i < r->n_pend; i++)
		seqidx_add(&r->idx, r->pend[i].seq, r->ring.head + r->pend[i].off, r->pend[i].src);
	ring_write(&r->ring, r->batch, r->batch_len);
	r->ring_seq = r->seq;
	r->batch_len = 0;
	r->n_pend = 0;
}

/* The size of the frame that starts at pos (a frame boundary in the ring). */
static uint64_t wsring_frame_size(const struct wsring *r, uint64_t pos)
{
	uint8_t h[WS_HEADER_MAX];
	uint64_t avail = r->ring.head - pos, len = 0;

	ring_copy(&r->ring, pos, pos + (avail < sizeof(h) ? avail : sizeof(h)), h);
	if ((h[1] & 0x7f) < 126)
		return 2 + (h[1] & 0x7f);
	if ((h[1] & 0x7f) == 126)
		return 4 + ((uint64_t)h[2] << 8 | h[3]);
	for (int i = 2; i < 10; i++)
		len = len << 8 | h[i];
	return 10 + len;
}

/* From the boundary *b (record *seq), walks frames while the next boundary
 * is at or before `to`; leaves *b at the frame containing `to` (or at to). */
static void wsring_walk(const struct wsring *r, uint64_t *b, uint64_t *seq, uint64_t to)
{
	while (*b < to && *b < r->ring.head) {
		uint64_t next = *b + wsring_frame_size(r, *b);

		if (next > to)
			return;
		*b = next;
		(*seq)++;
	}
}

/* The frame containing pos, from the index or a boundary known to the
 * caller (kb, kseq; kb = UINT64_MAX when none). Returns 0, or -1 when no
 * known boundary is still in the ring. */
static int wsring_locate(const struct wsring *r, uint64_t pos, uint64_t kb, uint64_t kseq,
			 uint64_t *b, uint64_t *seq)
{
	uint64_t tail = ring_tail(&r->ring);
	const struct seqidx_entry *e;

	if (pos >= r->ring.head) {
		*b = r->ring.head;
		*seq = r->ring_seq + 1;
		return 0;
	}
	e = seqidx_floor(&r->idx, SEQIDX_OFF, pos, tail);
	if (kb != UINT64_MAX && kb >= tail && kb <= pos && (!e || kb >= e->off)) {
		*b = kb;
		*seq = kseq;
	} else if (e) {
		*b = e->off;
		*seq = e->seq;
	} else {
		return -1;
	}
	wsring_walk(r, b, seq, pos);
	return 0;
}

/* Sets up a start with or without a gap message. */
static void wsring_start_at(struct wsring_start *st, uint64_t pos, bool gap, bool known,
			    uint64_t missed)
{
	*st = (struct wsring_start){ pos, gap, known, missed };
}

/* The resume table, as for event streams, in this ring's memory. */
void wsring_resume(const struct wsring *r, uint64_t after, struct wsring_start *st)
{
	const struct seqidx_entry *first = seqidx_oldest(&r->idx, ring_tail(&r->ring));
	const struct seqidx_entry *e;
	uint64_t b, seq;

	if (after >= r->ring_seq) {
		wsring_start_at(st, r->ring.head, false, false, 0);
		return;
	}
	if (!first) {
		wsring_start_at(st, r->ring.head, true, true, r->ring_seq - after);
		return;
	}
	if (first->seq > after + 1) {
		wsring_start_at(st, first->off, true, true, first->seq - after - 1);
		return;
	}
	e = seqidx_floor(&r->idx, SEQIDX_SEQ, after + 1, ring_tail(&r->ring));
	b = e->off;
	seq = e->seq;
	while (seq < after + 1 && b < r->ring.head) {
		b += wsring_frame_size(r, b);
		seq++;
	}
	wsring_start_at(st, b, false, false, 0);
}

/* Everything held, after a gap of unknown size. */
void wsring_resume_foreign(const struct wsring *r, struct wsring_start *st)
{
	const struct seqidx_entry *first = seqidx_oldest(&r->idx, ring_tail(&r->ring));

	wsring_start_at(st, first ? first->off : r->ring.head, true, false, 0);
}

/* The first indexed frame whose source offset is within the backlog. */
uint64_t wsring_backlog(const struct wsring *r, uint64_t backlog)
{
	uint64_t target = r->src > backlog ? r->src - backlog : 0;
	uint64_t tail = ring_tail(&r->ring);
	const struct seqidx_entry *e, *next;

	if (backlog == 0)
		return r->ring.head;
	e = seqidx_floor(&r->idx, SEQIDX_SRC, target, tail);
	if (!e)
		e = seqidx_oldest(&r->idx, tail);
	else if (e->src < target) {
		next = seqidx_floor(&r->idx, SEQIDX_SEQ, e->seq + WSRING_STRIDE, tail);
		e = next && next != e ? next : NULL;
	}
	return e ? e->off : r->ring.head;
}

/* Where the note is: inline, or the larger buffer once one was needed. */
static uint8_t *wsring_note(const struct wsring_cursor *c)
{
	return c->note_big ? c->note_big : (uint8_t *)c->note;
}

/* Room for a note of n bytes: inline notes hold a ping, a close or a gap
 * message; a longer one (a pong with a payload, a control frame and a gap
 * message after it) moves the note to WSRING_NOTE_MAX bytes allocated at
 * that first need. Returns -1 when n is too long or memory is out. */
static int wsring_note_room(struct wsring_cursor *c, size_t n)
{
	if (n <= sizeof(c->note) || c->note_big)
		return n <= WSRING_NOTE_MAX ? 0 : -1;
	if (n > WSRING_NOTE_MAX || !(c->note_big = pc_malloc(WSRING_NOTE_MAX)))
		return -1;
	memcpy(c->note_big, c->note, c->note_len);
	return 0;
}

/* Starts at pos, note first (the response head, a gap message). */
void wsring_cursor_init(struct wsring_cursor *c, const struct wsring *r, uint64_t pos,
			const void *note, size_t len, uint8_t *stash, size_t stash_cap)
{
	uint64_t b = pos, seq = r->ring_seq + 1;

	memset(c, 0, sizeof(*c));
	if (wsring_locate(r, pos, UINT64_MAX, 0, &b, &seq) < 0)
		b = UINT64_MAX;
	c->pos = c->jump = pos;
	c->bound = b;
	c->bound_seq = c->jump_seq = seq;
	c->cut = WSRING_NO_CUT;
	c->stash = stash;
	c->stash_owned = !stash;
	c->stash_cap = (uint32_t)stash_cap;
	if (len > WSRING_NOTE_MAX || wsring_note_room(c, len) < 0)
		len = len < sizeof(c->note) ? len : sizeof(c->note);
	if (len) {
		memcpy(wsring_note(c), note, len);
		c->note_len = c->note_fixed = len;
		c->cut = pos;
	}
}

/* Frees a stash the cursor allocated. */
void wsring_cursor_free(struct wsring_cursor *c)
{
	if (c->stash_owned)
		pc_free(c->stash);
	c->stash = NULL;
	pc_free(c->note_big);
	c->note_big = NULL;
}

/* A note is waiting, or being sent. */
bool wsring_cursor_note_pending(const struct wsring_cursor *c)
{
	return c->cut != WSRING_NO_CUT;
}

/* The note goes after the frame the cursor is in: at its end, or at once
 * when the cursor is at a boundary. */
int wsring_cursor_note(struct wsring_cursor *c, const struct wsring *r,
		       const void *frame, size_t len)
{
	uint64_t b, seq;

	if (c->cut != WSRING_NO_CUT || wsring_note_room(c, len) < 0 ||
	    wsring_locate(r, c->pos, c->bound, c->bound_seq, &b, &seq) < 0)
		return -1;
	c->bound = b;
	c->bound_seq = seq;
	if (b < c->pos) {
		b += wsring_frame_size(r, b);
		seq++;
	}
	c->cut = c->jump = b;
	c->jump_seq = seq;
	memcpy(wsring_note(c), frame, len);
	c->note_len = c->note_fixed = len;
	c->note_off = 0;
	return 0;
}

/* Nothing to send. */
bool wsring_cursor_idle(const struct wsring_cursor *c, const struct wsring *r)
{
	return c->cut == WSRING_NO_CUT && c->pos == r->ring.head;
}

/* A skip's gap message after the fixed part of the note (json only); -1
 * when there is no memory for it. */
static int wsring_cursor_gap(struct wsring_cursor *c, const struct wsring *r, uint64_t more)
{
	uint8_t gap[WS_GAP_FRAME_MAX];
	size_t n = 0;

	if (r->kind == WSRING_JSON) {
		n = ws_encode_gap(gap, true, c->gap_missed + more);
		if (wsring_note_room(c, c->note_fixed + n) < 0)
			return -1;
		memcpy(wsring_note(c) + c->note_fixed, gap, n);
	}
	c->gap_missed += more;
	c->note_len = (uint16_t)(c->note_fixed + n);
	return 0;
}

/* A skip while a note waits: on to the head again, the same gap message
 * counting the records between. */
static enum wsring_verdict wsring_cursor_reskip(struct wsring_cursor *c, const struct wsring *r,
						uint64_t *missed)
{
	if (c->note_off > c->note_fixed)
		return WSRING_DROP;   /* its gap message is partly sent */
	if (c->note_len == c->note_fixed)
		c->gap_missed = 0;
	*missed = r->ring.head - c->jump;
	if (wsring_cursor_gap(c, r, r->ring_seq + 1 - c->jump_seq) < 0)
		return WSRING_DROP;
	c->jump = r->ring.head;
	c->jump_seq = r->ring_seq + 1;
	return WSRING_SKIPPED;
}

/* The first skip: the end of the frame it is in, the gap message, the
 * head. */
static enum wsring_verdict wsring_cursor_skip(struct wsring_cursor *c, const struct wsring *r,
					      uint64_t *missed)
{
	uint64_t b, seq, fend;

	if (wsring_locate(r, c->pos, c->bound, c->bound_seq, &b, &seq) < 0)
		return WSRING_DROP;
	fend = b == c->pos ? b : b + wsring_frame_size(r, b);
	seq = b == c->pos ? seq - 1 : seq;   /* the last record it gets */
	*missed = r->ring.head - fend;
	c->note_fixed = c->note_off = 0;
	c->gap_missed = 0;
	if (wsring_cursor_gap(c, r, r->ring_seq - seq) < 0)
		return WSRING_DROP;
	c->cut = fend;
	c->jump = r->ring.head;
	c->jump_seq = r->ring_seq + 1;
	c->bound = b;
	c->bound_seq = b == c->pos ? seq + 1 : seq;
	return WSRING_SKIPPED;
}

/* The rest of the frame before the cut, copied to the stash when the next
 * n bytes would overwrite it; -1 when it does not fit. */
static int wsring_cursor_keep_rest(struct wsring_cursor *c, const struct wsring *r, uint64_t n)
{
	if (c->cut == WSRING_NO_CUT || c->stashed || c->pos == c->cut ||
	    r->ring.head + n - c->pos <= r->ring.window)
		return 0;
	if (c->cut - c->pos > c->stash_cap || c->pos < ring_tail(&r->ring))
		return -1;
	if (!c->stash && (!c->stash_owned || !(c->stash = pc_malloc(c->stash_cap))))
		return -1;
	ring_copy(&r->ring, c->pos, c->cut, c->stash);
	c->stash_len = (uint32_t)(c->cut - c->pos);
	c->stash_off = 0;
	c->stashed = true;
	return 0;
}

/* Overrun: more than the buffer behind from where it continues. Skip:
 * finish the frame (from the stash if the ring would lose it), a gap
 * message (envelope=json) with the records missed, then the head. */
enum wsring_verdict wsring_cursor_make_room(struct wsring_cursor *c, const struct wsring *r,
					    uint64_t n, bool skip, uint64_t *missed)
{
	uint64_t from = c->cut != WSRING_NO_CUT ? c->jump : c->pos;
	enum wsring_verdict v = WSRING_KEEP;

	*missed = 0;
	if (r->ring.head + n - from > r->limit) {
		if (!skip)
			return WSRING_DROP;
		v = c->cut != WSRING_NO_CUT ? wsring_cursor_reskip(c, r, missed) :
					      wsring_cursor_skip(c, r, missed);
	}
	if (v == WSRING_DROP || wsring_cursor_keep_rest(c, r, n) < 0)
		return WSRING_DROP;
	return v;
}

/* Ring bytes up to the cut, the note, then ring bytes from jump. */
int wsring_cursor_iov(const struct wsring_cursor *c, const struct wsring *r,
		      struct iovec iov[5])
{
	int k = 0;

	if (c->cut == WSRING_NO_CUT)
		return ring_span(&r->ring, c->pos, r->ring.head, iov);
	if (c->stashed)
		iov[k++] = (struct iovec){ c->stash + c->stash_off, c->stash_len - c->stash_off };
	else
		k += ring_span(&r->ring, c->pos, c->cut, iov);
	if (c->note_off < c->note_len)
		iov[k++] = (struct iovec){ wsring_note(c) + c->note_off, c->note_len - c->note_off };
	return k + ring_span(&r->ring, c->jump, r->ring.head, iov + k);
}

/* Consumes ring bytes to the cut, the note, then ring bytes from jump. */
void wsring_cursor_advance(struct wsring_cursor *c, uint64_t n)
{
	uint64_t k;

	if (c->cut != WSRING_NO_CUT) {
		k = c->cut - c->pos < n ? c->cut - c->pos : n;
		c->pos += k;
		c->stash_off += (uint32_t)k;
		n -= k;
		if (c->pos < c->cut)
			return;
		c->stashed = false;
		k = (uint64_t)(c->note_len - c->note_off) < n ? (uint64_t)(c->note_len - c->note_off) : n;
		c->note_off += (uint16_t)k;
		n -= k;
		if (c->note_off < c->note_len)
			return;
		c->pos = c->bound = c->jump;
		c->bound_seq = c->jump_seq;
		c->cut = WSRING_NO_CUT;
		c->note_len = c->note_off = c->note_fixed = 0;
	}
	c->pos += n;
}

/* Ring bytes still to send. */
uint64_t wsring_cursor_lag(const struct wsring_cursor *c, const struct wsring *r)
{
	return r->ring.head - (c->cut != WSRING_NO_CUT ? c->jump : c->pos);
}

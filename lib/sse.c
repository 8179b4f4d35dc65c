/* sse.c: the encoded event stream, its index, and its readers. */
#include "sse.h"
#include "alloc.h"
#include "eventid.h"

#include <stdio.h>
#include <string.h>

/* "id: " + the longest id + "\n". */
#define SSE_ID_LINE_MAX (4 + EVENTID_MAX)

/* buffer, plus the longest record's encoding (every byte a '\r': seven bytes
 * of "data: " and "\n" per piece), plus its id line. */
uint64_t sse_ring_size(uint64_t buffer, uint64_t max_line)
{
	return buffer + 7 * max_line + SSE_ID_LINE_MAX + 16;
}

/* One ring, and an index sized for the most events the ring can hold (an
 * event takes at least 30 bytes). */
int sse_init(struct sse *s, uint64_t buffer, uint64_t max_line, uint64_t epoch)
{
	uint64_t size = sse_ring_size(buffer, max_line);

	memset(s, 0, sizeof(*s));
	if (ring_init(&s->ring, size, 0) < 0)
		return -1;
	if (seqidx_init(&s->idx, (size_t)(size / (30 * SSE_STRIDE) + 2)) < 0) {
		ring_free(&s->ring);
		return -1;
	}
	s->limit = buffer;
	s->epoch = epoch;
	return 0;
}

/* Releases the ring and the index. */
void sse_free(struct sse *s)
{
	ring_free(&s->ring);
	seqidx_free(&s->idx);
}

/* How many bytes of n equal c: a word of 8 at a time, each byte's match
 * as a 0 or 1 in its own lane (no carry crosses lanes), the lanes summed
 * before any of them can reach 256, pairwise into 16-bit lanes first so
 * that their total (at most 2,040) fits. The SSE form of a chunk needs
 * its record and '\r' counts without a call per record. */
static size_t sse_count_byte(const char *p, size_t n, char c)
{
	const uint64_t ones = 0x0101010101010101ull, low7 = 0x7f7f7f7f7f7f7f7full;
	const uint64_t pat = ones * (uint8_t)c;
	size_t count = 0, i = 0;

	while (i + 8 <= n) {
		uint64_t lanes = 0;

		for (int k = 0; k < 255 && i + 8 <= n; k++, i += 8) {
			uint64_t w;

			memcpy(&w, p + i, 8);
			w ^= pat;
			lanes += ~(((w & low7) + low7) | w | low7) >> 7;
		}
		lanes = (lanes & 0x00ff00ff00ff00ffull) + ((lanes >> 8) & 0x00ff00ff00ff00ffull);
		count += (size_t)((lanes * 0x0001000100010001ull) >> 48);
	}
	for (; i < n; i++)
		count += p[i] == c;
	return count;
}

/* How many newlines n bytes hold: a memchr per line while lines are
 * long, where that is cheapest, a word at a time once they prove short
 * (the first 32 of them average under 32 bytes). */
static size_t sse_count_lines(const char *p, size_t n)
{
	const char *end = p + n, *q = p, *nl;
	size_t lines = 0;

	while (q < end && (nl = memchr(q, '\n', (size_t)(end - q))) != NULL) {
		q = nl + 1;
		if (++lines == 32 && (size_t)(q - p) < 32 * 32)
			return lines + sse_count_byte(q, (size_t)(end - q), '\n');
	}
	return lines;
}

/* Decimal digits of v. */
static size_t sse_digits(uint64_t v)
{
	size_t d = 1;

	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

/* The smallest number of d + 1 digits, or UINT64_MAX past 20 digits. */
static uint64_t sse_digits_bound(size_t d)
{
	uint64_t b = 1;

	if (d >= 20)
		return UINT64_MAX;
	while (d--)
		b *= 10;
	return b;
}

/* Total digits of the numbers first .. first + count - 1. */
static uint64_t sse_digits_sum(uint64_t first, uint64_t count)
{
	size_t digits = sse_digits(first);
	uint64_t sum = 0;

	while (count > 0) {
		uint64_t bound = sse_digits_bound(digits);
		uint64_t here = bound - first < count ? bound - first : count;

		sum += here * digits;
		count -= here;
		first += here;
		digits++;
	}
	return sum;
}

/* Sums the encodings of every record of a chunk, in one count of its
 * newlines and '\r's: each record is an id line ("id: ", 17 bytes of
 * epoch, its number, "\n"), "data: " and "\n" around each '\r'-separated
 * piece of its body, and an empty line, so 30 bytes, its number's digits,
 * its body and 6 per '\r'. Bytes after the last newline are no record. */
uint64_t sse_records_len(const struct sse *s, const char *data, size_t n)
{
	const char *last = memrchr(data, '\n', n);
	size_t whole = last ? (size_t)(last + 1 - data) : 0;
	uint64_t records, cr;

	records = sse_count_lines(data, whole);
	cr = memchr(data, '\r', whole) ? sse_count_byte(data, whole, '\r') : 0;
	return 30 * records + sse_digits_sum(s->seq + 1, records) + (whole - records) + 6 * cr;
}

/* Writes prefix + the n bytes at p + "\n" at out; returns its end. */
static char *sse_piece(char *out, const char *prefix, size_t plen, const char *p, size_t n)
{
	memcpy(out, prefix, plen);
	memcpy(out + plen, p, n);
	out += plen + n;
	*out++ = '\n';
	return out;
}

/* Writes each '\r'-separated piece of n bytes as prefix + piece + "\n" at
 * out; returns the end of what it wrote. */
static char *sse_pieces(char *out, const char *prefix, size_t plen, const char *p, size_t n)
{
	const char *end = p + n;

	for (;;) {
		const char *cr = memchr(p, '\r', (size_t)(end - p));

		out = sse_piece(out, prefix, plen, p, (size_t)((cr ? cr : end) - p));
		if (!cr)
			return out;
		p = cr + 1;
	}
}

/* Where the next bytes are written: straight into the ring's memory at its
 * head, contiguous for a whole event (the mapping is doubled); an encoded
 * ring holds nothing back (no reserve), so committing them is the same as
 * ring_write() without the copy. */
static char *sse_head(struct sse *s)
{
	return ring_at(&s->ring, s->ring.head);
}

/* The bytes written from sse_head() to end join the stream. */
static void sse_commit(struct sse *s, const char *end)
{
	ring_commit(&s->ring, (size_t)(end - sse_head(s)), 0);
}

/* One event, written in place; every SSE_STRIDE-th is indexed. The id's
 * text is cached (eventid_text()): numbering one by one costs an increment
 * of its decimal digits. A body known to hold no '\r' (plain) is one data
 * line, written without looking for one. */
static void sse_record(struct sse *s, const char *rec, size_t body, bool plain)
{
	char *out = sse_head(s);
	const char *id;
	size_t idn;

	s->seq++;
	if (s->events++ % SSE_STRIDE == 0)
		seqidx_add(&s->idx, s->seq, s->ring.head, s->src);
	id = eventid_text(&s->id, s->epoch, s->seq, &idn);
	memcpy(out, "id: ", 4);
	memcpy(out + 4, id, idn);
	out += 4 + idn;
	*out++ = '\n';
	out = plain ? sse_piece(out, "data: ", 6, rec, body) : sse_pieces(out, "data: ", 6, rec, body);
	*out++ = '\n';
	sse_commit(s, out);
	s->src += body + 1;
}

/* Encodes every whole record of a chunk; one look for '\r' in the whole
 * chunk spares one per record in the usual chunk, which has none. */
void sse_records(struct sse *s, const char *data, size_t n)
{
	const char *p = data, *end = data + n, *nl;
	bool plain = memchr(data, '\r', n) == NULL;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		sse_record(s, p, (size_t)(nl - p), plain);
		p = nl + 1;
	}
}

/* Numbers the next record from outside: see sse.h. */
void sse_number_next(struct sse *s, uint64_t epoch, uint64_t seq)
{
	if (epoch != s->epoch) {
		s->epoch = epoch;
		s->since = s->ring.head;
		s->sparse = s->sparse || s->seq != 0;
	} else if (seq != s->seq + 1) {
		s->sparse = true;
	}
	s->seq = seq - 1;
}

/* The gap notice's length. */
uint64_t sse_gap_len(bool known, uint64_t missed)
{
	char note[SSE_NOTE_MAX];

	return sse_gap_note(note, known, missed);
}

/* An upstream's gap notice, written once for every reader. */
void sse_gap(struct sse *s, bool known, uint64_t missed)
{
	char note[SSE_NOTE_MAX];
	size_t n = sse_gap_note(note, known, missed);

	ring_write(&s->ring, note, n);
}

/* Where the events of the current epoch begin to be held. */
static uint64_t sse_epoch_tail(const struct sse *s)
{
	uint64_t tail = ring_tail(&s->ring);

	return s->since > tail ? s->since : tail;
}

/* ": " and "\n" around each piece. */
uint64_t sse_comment_len(const char *text, size_t n)
{
	size_t cr = sse_count_byte(text, n, '\r');

	return n - cr + 3 * (cr + 1);
}

/* A heartbeat, as comment lines that clients ignore. */
void sse_comment(struct sse *s, const char *text, size_t n)
{
	sse_commit(s, sse_pieces(sse_head(s), ": ", 2, text, n));
}

/* The ring byte at an absolute offset. */
static char sse_byte(const struct sse *s, uint64_t pos)
{
	return *ring_at(&s->ring, pos);
}

/* The start of the next line. */
static uint64_t sse_next_line(const struct sse *s, uint64_t pos)
{
	return ring_line_end(&s->ring, pos, UINT64_MAX);
}

/* The sequence number in the id line at pos. */
static uint64_t sse_line_seq(const struct sse *s, uint64_t pos)
{
	char line[SSE_ID_LINE_MAX];
	uint64_t end = ring_line_end(&s->ring, pos, sizeof(line));
	struct eventid id;

	if (end - pos < 4 + 18 + 1)
		return 0;
	ring_copy(&s->ring, pos, end, line);
	return eventid_parse(line + 4, (size_t)(end - pos) - 5, &id) == 0 ? id.seq : 0;
}

/* The first event start at or after the line boundary pos, or head. */
static uint64_t sse_next_event(const struct sse *s, uint64_t pos)
{
	while (pos < s->ring.head && sse_byte(s, pos) != 'i')
		pos = sse_next_line(s, pos);
	return pos;
}

/* Found by walking from the first line boundary after the ring's tail. */
uint64_t sse_first_seq(const struct sse *s, uint64_t *off)
{
	uint64_t tail = ring_tail(&s->ring);
	uint64_t p = sse_next_event(s, s->since > tail ? s->since
					: ring_line_start(&s->ring, tail));

	*off = p;
	return p < s->ring.head ? sse_line_seq(s, p) : 0;
}

/* The offset of the first event with seq >= want, walking events from pos
 * (an event start); head when there is none. */
static uint64_t sse_walk_seq(const struct sse *s, uint64_t pos, uint64_t want)
{
	for (pos = sse_next_event(s, pos); pos < s->ring.head;
	     pos = sse_next_event(s, sse_next_line(s, pos)))
		if (sse_line_seq(s, pos) >= want)
			return pos;
	return s->ring.head;
}

/* Sets up a start with or without a gap notice. */
static void sse_start_at(struct sse_start *st, uint64_t pos, bool gap, bool known, uint64_t missed)
{
	st->pos = pos;
	st->gap = gap;
	st->known = known;
	st->missed = missed;
}

/* The resume table: live only, the held records after `after`, or a gap. */
void sse_resume(const struct sse *s, uint64_t after, struct sse_start *st)
{
	const struct seqidx_entry *e;
	uint64_t foff, first;

	if (after >= s->seq) {
		sse_start_at(st, s->ring.head, false, false, 0);
		return;
	}
	first = sse_first_seq(s, &foff);
	if (first == 0) {
		sse_start_at(st, s->ring.head, true, !s->sparse, s->seq - after);
		return;
	}
	if (first > after + 1) {
		sse_start_at(st, foff, true, !s->sparse, first - after - 1);
		return;
	}
	e = seqidx_floor(&s->idx, SEQIDX_SEQ, after + 1, sse_epoch_tail(s));
	sse_start_at(st, sse_walk_seq(s, e && e->off > foff ? e->off : foff, after + 1),
		     false, false, 0);
}

/* Another epoch: everything held, after a gap of unknown size. */
void sse_resume_foreign(const struct sse *s, struct sse_start *st)
{
	uint64_t foff;

	sse_first_seq(s, &foff);
	sse_start_at(st, foff, true, false, 0);
}

/* Source bytes of the event at pos (an event start): each data line gives
 * its text and one byte of '\r' or '\n'. Sets *next to the line after it. */
static uint64_t sse_event_src(const struct sse *s, uint64_t pos, uint64_t *next)
{
	uint64_t src = 0;

	pos = sse_next_line(s, pos);
	while (pos < s->ring.head && sse_byte(s, pos) == 'd') {
		uint64_t end = sse_next_line(s, pos);

		src += end - pos - 6;
		pos = end;
	}
	*next = pos < s->ring.head ? pos + 1 : pos;
	return src;
}

/* Walks events from the indexed one at or before the target, adding up
 * their source bytes, to the first that starts within the backlog. */
uint64_t sse_backlog(const struct sse *s, uint64_t backlog)
{
	uint64_t target = s->src > backlog ? s->src - backlog : 0;
	uint64_t tail = ring_tail(&s->ring), pos, src;
	const struct seqidx_entry *e;

	if (backlog == 0)
		return s->ring.head;
	e = seqidx_floor(&s->idx, SEQIDX_SRC, target, tail);
	if (!e)
		e = seqidx_oldest(&s->idx, tail);
	if (!e)
		return s->ring.head;
	pos = e->off;
	src = e->src;
	while (pos < s->ring.head && src < target) {
		uint64_t next;

		src += sse_event_src(s, pos, &next);
		pos = sse_next_event(s, next);
	}
	return pos;
}

/* "event: gap", the count or null, and the empty line; no id. */
size_t sse_gap_note(char *out, bool known, uint64_t missed)
{
	if (known)
		return (size_t)snprintf(out, SSE_NOTE_MAX, "event: gap\ndata: {\"missed\":%llu}\n\n",
					(unsigned long long)missed);
	return (size_t)snprintf(out, SSE_NOTE_MAX, "event: gap\ndata: {\"missed\":null}\n\n");
}

/* From the indexed event at or before off, the last event start before it. */
uint64_t sse_seq_before(const struct sse *s, uint64_t off)
{
	const struct seqidx_entry *e;
	uint64_t p, last;

	if (off == 0)
		return 0;
	e = seqidx_floor(&s->idx, SEQIDX_OFF, off - 1, ring_tail(&s->ring));
	if (e) {
		p = e->off;
		last = e->seq;
	} else {
		last = sse_first_seq(s, &p);
		if (last == 0)
			return s->seq;
		if (p >= off)
			return last - 1;
	}
	for (p = sse_next_event(s, sse_next_line(s, p)); p < off && p < s->ring.head;
	     p = sse_next_event(s, sse_next_line(s, p)))
		last = sse_line_seq(s, p);
	return last;
}

/* ---- readers ---- */

/* Starts a reader. */
void sse_cursor_init(struct sse_cursor *c, uint64_t pos, const char *note, size_t len,
		     char *stash, size_t stash_cap)
{
	c->stash = stash;
	c->stash_owned = !stash;
	c->stash_cap = (uint32_t)stash_cap;
	c->stash_len = c->stash_off = 0;
	c->pos = pos;
	c->cut = SSE_NO_CUT;
	c->jump = pos;
	c->note = note;
	c->note_len = note ? len : 0;
	c->note_off = 0;
	c->gap_after = 0;
	c->note_fixed = 0;
	c->gap_open = false;
}

/* Frees a stash the reader allocated. */
void sse_cursor_free(struct sse_cursor *c)
{
	if (c->stash_owned)
		pc_free(c->stash);
	c->stash = NULL;
}

/* The stash, allocated at the first need when the reader owns it; NULL
 * when there is none (the ring keeps the rest then). */
static char *sse_cursor_stash(struct sse_cursor *c)
{
	if (!c->stash && c->stash_owned && c->stash_cap)
		c->stash = pc_malloc(c->stash_cap);
	return c->stash;
}

/* Whether a note is still to be sent. */
bool sse_cursor_note_pending(const struct sse_cursor *c)
{
	return c->note_off < c->note_len;
}

/* Nothing to send at all. */
bool sse_cursor_idle(const struct sse_cursor *c, const struct sse *s)
{
	return c->cut == SSE_NO_CUT && c->stash_off == c->stash_len &&
	       !sse_cursor_note_pending(c) && c->pos == s->ring.head;
}

/* Copies a short text into the reader's own note. */
void sse_cursor_set_note(struct sse_cursor *c, const char *text, size_t n)
{
	if (n > SSE_NOTE_MAX)
		n = SSE_NOTE_MAX;
	memcpy(c->inline_note, text, n);
	c->note = c->inline_note;
	c->note_len = n;
	c->note_off = 0;
	c->note_fixed = 0;
	c->gap_open = false;
}

/* Whether pos is where an event or a comment begins (or the head). */
static bool sse_at_boundary(const struct sse *s, uint64_t pos)
{
	char b;

	if (pos == s->ring.head)
		return true;
	b = sse_byte(s, pos);
	return (pos == 0 || sse_byte(s, pos - 1) == '\n') && (b == 'i' || b == ':' || b == 'e');
}

/* A line boundary at or before pos: the indexed event before it, else the
 * first boundary after the tail (a skipped reader's line starts there or
 * later: it is never more than the ring's extra room behind). */
static uint64_t sse_line_before(const struct sse *s, uint64_t pos)
{
	uint64_t tail = ring_tail(&s->ring);
	const struct seqidx_entry *e = pos ? seqidx_floor(&s->idx, SEQIDX_OFF, pos - 1, tail) : NULL;
	uint64_t start = ring_line_start(&s->ring, tail);

	return e && e->off > start ? e->off : start;
}

/* One past what a reader in the middle of something must still get: the
 * rest of its comment line, or of its event (up to its empty line). */
static uint64_t sse_piece_end(const struct sse *s, uint64_t pos)
{
	uint64_t p = sse_line_before(s, pos), next = s->ring.head;

	for (; p < s->ring.head; p = next) {
		next = sse_next_line(s, p);
		if (next > pos)
			break;
	}
	if (p >= s->ring.head || sse_byte(s, p) == ':' || sse_byte(s, p) == '\n')
		return next;
	for (p = next; p < s->ring.head; p = sse_next_line(s, p))
		if (sse_byte(s, p) == '\n')
			return p + 1;
	return p;
}

/* (Re)writes the reader's gap notice, after the fixed part of its inline
 * note, for what it has missed since gap_after. */
static void sse_cursor_gap(struct sse_cursor *c, const struct sse *s)
{
	char note[SSE_NOTE_MAX];
	size_t n = sse_gap_note(note, !s->sparse, s->seq - c->gap_after);

	memcpy(c->inline_note + c->note_fixed, note, n);
	c->note = c->inline_note;
	c->note_len = c->note_fixed + n;
	c->gap_open = true;
}

/* A skip while a note is unsent (the reader is at an event boundary, the
 * ring bytes after the note not begun): an unsent gap notice is counted
 * again; otherwise a new one follows the rest of the note. The response
 * head is the one note nothing can follow: its records are missed without
 * a notice (the client had not even its head). */
static uint64_t sse_cursor_skip_noted(struct sse_cursor *c, const struct sse *s)
{
	uint64_t missed = s->ring.head - c->pos;

	if (c->note != c->inline_note) {
		c->pos = s->ring.head;
		return missed;
	}
	if (!c->gap_open || c->note_off > c->note_fixed) {
		size_t rest = c->note_len - c->note_off;

		memmove(c->inline_note, c->inline_note + c->note_off, rest);
		c->note_off = 0;
		c->note_fixed = rest;
		c->gap_after = sse_seq_before(s, c->pos);
	}
	c->pos = s->ring.head;
	sse_cursor_gap(c, s);
	return missed;
}

/* Skips a reader that is not in a skip already. */
static uint64_t sse_cursor_skip(struct sse_cursor *c, const struct sse *s)
{
	uint64_t head = s->ring.head, end;

	if (sse_cursor_note_pending(c))
		return sse_cursor_skip_noted(c, s);
	c->note_fixed = c->note_off = 0;
	c->gap_after = sse_seq_before(s, c->pos);
	end = sse_at_boundary(s, c->pos) ? c->pos : sse_piece_end(s, c->pos);
	if (end - c->pos <= c->stash_cap && sse_cursor_stash(c)) {
		ring_copy(&s->ring, c->pos, end, c->stash);
		c->stash_len = (uint32_t)(end - c->pos);
		c->stash_off = 0;
		c->pos = head;
	} else {
		c->cut = end;
		c->jump = head;
	}
	sse_cursor_gap(c, s);
	return head - end;
}

/* The overflow policy for one reader, before n bytes are appended. */
enum sse_verdict sse_cursor_make_room(struct sse_cursor *c, const struct sse *s, uint64_t n,
				      bool skip, uint64_t *missed_bytes)
{
	uint64_t head = s->ring.head;

	*missed_bytes = 0;
	if (c->cut != SSE_NO_CUT) {
		if (head - c->pos + n > s->ring.window)
			return SSE_DROP;
		if (head - c->jump + n <= s->limit)
			return SSE_KEEP;
		*missed_bytes = head - c->jump;
		c->jump = head;
		sse_cursor_gap(c, s);
		return SSE_SKIPPED;
	}
	if (head - c->pos + n <= s->limit)
		return SSE_KEEP;
	if (!skip)
		return SSE_DROP;
	*missed_bytes = sse_cursor_skip(c, s);
	/* the rest of its event must outlive this append */
	if (c->cut != SSE_NO_CUT && head - c->pos + n > s->ring.window)
		return SSE_DROP;
	return SSE_SKIPPED;
}

/* Ring bytes before a cut, the note, ring bytes from pos or jump. */
int sse_cursor_iov(const struct sse_cursor *c, const struct sse *s, struct iovec iov[5])
{
	int k = 0;
	uint64_t from = c->pos;

	if (c->cut != SSE_NO_CUT) {
		k = ring_span(&s->ring, c->pos, c->cut, iov);
		from = c->jump;
	} else if (c->stash_off < c->stash_len) {
		iov[k].iov_base = c->stash + c->stash_off;
		iov[k].iov_len = c->stash_len - c->stash_off;
		k++;
	}
	if (sse_cursor_note_pending(c)) {
		iov[k].iov_base = (char *)c->note + c->note_off;
		iov[k].iov_len = c->note_len - c->note_off;
		k++;
	}
	return k + ring_iov(&s->ring, from, iov + k);
}

/* Consumes, in the order of sse_cursor_iov(). */
void sse_cursor_advance(struct sse_cursor *c, uint64_t n)
{
	size_t t;

	if (c->cut != SSE_NO_CUT) {
		t = c->cut - c->pos < n ? (size_t)(c->cut - c->pos) : (size_t)n;
		c->pos += t;
		n -= t;
		if (c->pos < c->cut)
			return;
		c->pos = c->jump;
		c->cut = SSE_NO_CUT;
	}
	t = c->stash_len - c->stash_off < n ? c->stash_len - c->stash_off : (size_t)n;
	c->stash_off += (uint32_t)t;
	n -= t;
	t = c->note_len - c->note_off < n ? c->note_len - c->note_off : (size_t)n;
	c->note_off += (uint32_t)t;
	if (c->note_off > c->note_fixed)
		c->gap_open = false;   /* its gap notice has begun: it is final */
	c->pos += n - t;
}

/* How far behind the head the reader's ring bytes are. */
uint64_t sse_cursor_lag(const struct sse_cursor *c, const struct sse *s)
{
	return s->ring.head - c->pos;
}

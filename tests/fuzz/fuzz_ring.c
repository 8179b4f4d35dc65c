/* fuzz_ring.c: libFuzzer target for the ring and its readers (lib/ring.c,
 * lib/cursor.c), fed by the framer (lib/framer.c) the way the daemon's
 * source and fanout do: before each read into the ring's reserve, readers
 * send what their speed allows when half a window is unflushed (as the
 * daemon flushes in the middle of a long read), then every reader more
 * than a window behind meets the drop or skip policy (cursor_make_room),
 * then the read lands in the reserve and the framer commits whole records
 * in place. The ring (window 64..568 bytes, its memory one page or two
 * mapped twice) wraps many times over a long input.
 *
 * Input: byte 0: bit 0 raw framing, bit 1 overflow = skip, bits 2..7 the
 * ring's window (64..568 bytes); byte 1: max_line (16..window/4); byte 2:
 * backlog (0..window/2) and the read size; bytes 3..6: each reader's speed
 * per flush (0: stuck). Then operations, one byte each, op = byte & 3,
 * reader = (byte >> 2) % READERS:
 *   0: the next byte L and L bytes of stream, read and committed (with
 *      reader 3: the L bytes 16 times over); with bit 7 of the op byte set,
 *      those bytes are instead one record the daemon writes itself (as a
 *      heartbeat is: into the ring ahead of the held line, ended with
 *      '\n'), which may be longer than max_line and than a stash;
 *   1: the reader sends up to the next byte's value;
 *   2: the reader (re)connects at the newest whole records within backlog;
 *   3: every reader sends all it has (with reader 1, line framing: a
 *      heartbeat record is inserted first, ahead of the held line).
 * At the end the framer is finished and every reader sends all it has.
 *
 * Every byte a reader sends is traced back to its absolute position in the
 * stream (the stash of a skip included). Invariants:
 *  - the bytes sent equal the stream's bytes at those positions;
 *  - positions only increase; with drop, never a gap; with skip in line
 *    framing, a gap only from a record end to a record start, so a skipped
 *    reader only ever sees whole records; the bytes skipped equal the
 *    missed counts cursor_make_room reported;
 *  - a stash never holds more than max_line bytes; one cut from a longer
 *    record ends with a '\n' of its own, after which the reader may jump;
 *  - a reader starts at a record start (line framing), not before the tail;
 *  - after make_room a kept or skipped reader is at most a window behind;
 *  - the bytes of an append are the piece that the framer emitted, at the
 *    stream's head;
 *  - nothing leaks through the counting allocator. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "alloc.h"
#include "cursor.h"
#include "framer.h"
#include "ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define READERS 4
#define HEADER (3 + READERS)

/* One reader: its cursor and what it has been seen to receive. */
struct reader {
	struct cursor c;
	bool open;
	uint64_t next;        /* stream position the next byte should come from */
	uint64_t stash_base;  /* stream position of the stash's first byte */
	uint64_t missed, gaps;
	bool stash_cut;       /* the stash's last byte is a '\n' of the cut's own */
	bool cut_ended;       /* that '\n' was just sent: the record has ended */
	uint8_t speed;
};

/* The whole run's state. */
struct world {
	struct ring r;
	struct framer f;
	struct cursor_policy pol;
	struct reader rd[READERS];
	char *stream;         /* every byte ever written to the ring */
	size_t stream_cap, stream_len;
	size_t unflushed;
	uint64_t backlog;
};

/* Whether pos starts a record (line framing): 0 or right after a '\n'. */
static bool fuzz_record_start(const struct world *w, uint64_t pos)
{
	return pos == 0 || w->stream[pos - 1] == '\n';
}

/* Accepts a jump of the reader from rd->next to pos, or fails. */
static void fuzz_gap(struct world *w, struct reader *rd, uint64_t pos)
{
	if (pos < rd->next)
		fuzz_fail("reader went backwards");
	if (pos == rd->next)
		return;
	if (!w->pol.skip)
		fuzz_fail("reader with drop policy lost bytes");
	if (w->pol.lines && ((!rd->cut_ended && !fuzz_record_start(w, rd->next)) ||
			     !fuzz_record_start(w, pos)))
		fuzz_fail("skipped reader sees a partial record");
	rd->cut_ended = false;
	rd->gaps += pos - rd->next;
	rd->next = pos;
}

/* Checks n sent bytes against the stream at pos and moves on. */
static void fuzz_received(struct world *w, struct reader *rd, uint64_t pos,
			  const char *p, size_t n)
{
	fuzz_gap(w, rd, pos);
	if (pos + n > w->r.head || memcmp(w->stream + pos, p, n) != 0)
		fuzz_fail("reader sent bytes the stream does not have there");
	rd->next = pos + n;
	if (n)
		rd->cut_ended = false;
}

/* The stash's length and offset, 0 while the cursor has none (it is
 * allocated at the first skip or notice). */
static size_t fuzz_stash_len(const struct cursor *c)
{
	return c->stash ? c->stash->len : 0;
}

/* See fuzz_stash_len. */
static size_t fuzz_stash_off(const struct cursor *c)
{
	return c->stash ? c->stash->off : 0;
}

/* n sent bytes of the stash from its offset off: the stream's bytes, but
 * for the '\n' that ends a cut stash, which stands for no stream byte. */
static void fuzz_received_stash(struct world *w, struct reader *rd, size_t off,
				const char *p, size_t n)
{
	bool synthetic = rd->stash_cut && off + n == fuzz_stash_len(&rd->c);

	fuzz_received(w, rd, rd->stash_base + off, p, n - synthetic);
	if (synthetic && p[n - 1] != '\n')
		fuzz_fail("a cut stash does not end with a newline");
	if (synthetic)
		rd->cut_ended = true;
}

/* The reader sends up to max bytes. */
static void fuzz_send(struct world *w, struct reader *rd, size_t max)
{
	struct iovec iov[3];
	int cnt;
	size_t left, stash_left;
	uint64_t pos;

	if (!rd->open)
		return;
	cnt = cursor_iov(&rd->c, &w->r, iov);
	stash_left = fuzz_stash_len(&rd->c) - fuzz_stash_off(&rd->c);
	pos = stash_left ? rd->stash_base + fuzz_stash_off(&rd->c) : rd->c.pos;
	left = max;
	for (int i = 0; i < cnt && left; i++) {
		size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;

		if (stash_left && i == 0 && iov[0].iov_len != stash_left)
			fuzz_fail("first iovec is not the stash");
		if (stash_left && i == 0)
			fuzz_received_stash(w, rd, fuzz_stash_off(&rd->c), iov[0].iov_base, n);
		else
			fuzz_received(w, rd, pos, iov[i].iov_base, n);
		left -= n;
		pos = stash_left && i == 0 ? rd->c.pos : pos + n;
	}
	cursor_advance(&rd->c, &w->r, max - left);
}

/* A reader connects at the newest whole records within backlog. */
static void fuzz_connect(struct world *w, struct reader *rd)
{
	uint64_t head = w->r.head;
	uint64_t from = head > w->backlog ? head - w->backlog : 0;
	uint64_t start;

	if (rd->open)
		cursor_free(&rd->c);
	if (w->backlog == 0)
		start = head;
	else if (!w->pol.lines)
		start = from < ring_tail(&w->r) ? ring_tail(&w->r) : from;
	else
		start = ring_line_start(&w->r, from);
	if (start < ring_tail(&w->r) || start > head)
		fuzz_fail("reader starts outside the ring");
	if (w->pol.lines && !fuzz_record_start(w, start))
		fuzz_fail("reader starts inside a record");
	cursor_init(&rd->c, start);
	rd->open = true;
	rd->next = start;
	rd->missed = rd->gaps = 0;
}

/* Every reader sends what its speed allows (0: stuck; 255: all). */
static void fuzz_flush(struct world *w)
{
	for (int i = 0; i < READERS; i++)
		fuzz_send(w, &w->rd[i], w->rd[i].speed == 255 ? SIZE_MAX : w->rd[i].speed);
	w->unflushed = 0;
}

/* A skip stashed the rest of the record from old: bounded, and either the
 * stream's bytes up to a '\n' or a cut ended by a '\n' of its own. */
static void fuzz_new_stash(struct world *w, struct reader *rd, uint64_t old)
{
	size_t len = fuzz_stash_len(&rd->c);

	if (len > w->pol.max_line)
		fuzz_fail("stash longer than max_line");
	rd->stash_base = old;
	rd->stash_cut = old + len > w->r.head || w->stream[old + len - 1] != '\n';
}

/* Applies the overflow policy to one reader before n bytes are written. */
static void fuzz_make_room(struct world *w, struct reader *rd, size_t n)
{
	bool had_stash = fuzz_stash_off(&rd->c) < fuzz_stash_len(&rd->c);
	uint64_t old = rd->c.pos, missed;

	if (!rd->open)
		return;
	switch (cursor_make_room(&rd->c, &w->r, n, &w->pol, &missed)) {
	case CURSOR_DROP:
		if (w->pol.skip)
			fuzz_fail("reader with skip policy dropped");
		cursor_free(&rd->c);
		rd->open = false;
		return;
	case CURSOR_SKIPPED:
		if (!w->pol.skip)
			fuzz_fail("drop policy skipped");
		if (!had_stash && fuzz_stash_off(&rd->c) < fuzz_stash_len(&rd->c))
			fuzz_new_stash(w, rd, old);
		rd->missed += missed;
		break;
	case CURSOR_KEEP:
		if (missed)
			fuzz_fail("kept reader missed bytes");
		break;
	}
	if (w->r.head + n - rd->c.pos > w->r.window)
		fuzz_fail("reader would be overrun after make_room");
}

/* Before anything is written into the reserve, as fanout_prepare does. */
static void fuzz_prepare(struct world *w, size_t n)
{
	if (w->unflushed + n > w->r.window / 2)
		fuzz_flush(w);
	for (int i = 0; i < READERS; i++)
		fuzz_make_room(w, &w->rd[i], 0);
}

/* Makes room in the copy of the stream for n more bytes. */
static void fuzz_stream_room(struct world *w, size_t n)
{
	if (w->r.head + n <= w->stream_cap)
		return;
	w->stream_cap = 2 * (w->r.head + n);
	w->stream = realloc(w->stream, w->stream_cap);
	if (!w->stream)
		abort();
}

/* The framer committed whole records in place, as source_emit hears. */
static void fuzz_emit(void *ctx, uint64_t pos, size_t n, uint64_t records)
{
	struct world *w = ctx;

	(void)records;
	if (pos + n != w->r.head || pos != w->stream_len)
		fuzz_fail("append not at the stream's head");
	fuzz_stream_room(w, 0);
	memcpy(w->stream + pos, ring_at(&w->r, pos), n);
	w->stream_len = pos + n;
	w->unflushed += n;
}

/* A record the daemon writes itself (a heartbeat): n bytes without '\n',
 * then one, into the ring ahead of the held line, as fanout_append does,
 * whatever max_line is. */
static void fuzz_own_record(struct world *w, const uint8_t *p, size_t n)
{
	char rec[257];

	if (n + 1 > w->r.window / 2)
		n = w->r.window / 2 - 1;
	for (size_t i = 0; i < n; i++)
		rec[i] = p[i] == '\n' ? 'h' : (char)p[i];
	rec[n] = '\n';
	fuzz_prepare(w, n + 1);
	fuzz_stream_room(w, n + 1);
	memcpy(w->stream + w->r.head, rec, n + 1);
	ring_write(&w->r, rec, n + 1);
	w->stream_len = w->r.head;
	w->unflushed += n + 1;
}

/* A heartbeat record, "HB\n". */
static void fuzz_heartbeat(struct world *w)
{
	fuzz_own_record(w, (const uint8_t *)"HB", 2);
}

/* Reads n stream bytes into the ring and commits them, a room at a time. */
static void fuzz_feed(struct world *w, const uint8_t *p, size_t n)
{
	while (n) {
		size_t room;
		char *dst = framer_space(&w->f, &room);

		fuzz_prepare(w, room);
		if (room > n)
			room = n;
		fuzz_stream_room(w, 2 * room + w->f.max_line);
		memcpy(dst, p, room);
		framer_commit(&w->f, room);
		p += room;
		n -= room;
	}
}

/* Drains every reader and checks the totals. */
static void fuzz_finish(struct world *w)
{
	fuzz_prepare(w, 0);
	fuzz_stream_room(w, w->f.max_line + 1);
	framer_finish(&w->f);
	for (int i = 0; i < READERS; i++) {
		struct reader *rd = &w->rd[i];

		if (!rd->open)
			continue;
		fuzz_send(w, rd, SIZE_MAX);
		if (cursor_lag(&rd->c, &w->r) != 0)
			fuzz_fail("reader not drained");
		fuzz_gap(w, rd, w->r.head);
		if (rd->gaps != rd->missed)
			fuzz_fail("bytes skipped differ from the missed counts");
		cursor_free(&rd->c);
		rd->open = false;
	}
}

/* Sets the world up from the header; returns -1 when the input is short. */
static int fuzz_setup(struct world *w, const uint8_t *data, size_t size)
{
	size_t ring_size, max_line, cap, reserve;

	if (size < HEADER)
		return -1;
	memset(w, 0, sizeof(*w));
	ring_size = 64 + 8 * (size_t)(data[0] >> 2);
	max_line = 16 + data[1] % (ring_size / 4 - 15);
	cap = max_line + 1 + data[2] % 64;
	if (cap > ring_size / 2)
		cap = ring_size / 2;
	w->pol = (struct cursor_policy){ .skip = data[0] & 2, .lines = !(data[0] & 1),
					 .max_line = max_line };
	w->backlog = data[2] % (ring_size / 2 + 1);
	for (int i = 0; i < READERS; i++)
		w->rd[i].speed = data[3 + i];
	reserve = framer_reserve(data[0] & 1, max_line, cap);
	if (reserve < 257 + max_line)
		reserve = 257 + max_line;        /* an own record ahead of a held line */
	if (ring_init(&w->r, ring_size, reserve) < 0 ||
	    framer_init(&w->f, &w->r, data[0] & 1, max_line, cap, fuzz_emit, w) < 0)
		abort();
	return 0;
}

/* One input: see the top of this file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct world w;
	uint64_t live0 = alloc_live();
	size_t i = HEADER;

	if (fuzz_setup(&w, data, size) < 0)
		return 0;
	fuzz_connect(&w, &w.rd[0]);
	while (i < size) {
		uint8_t op = data[i++];
		struct reader *rd = &w.rd[(op >> 2) % READERS];
		size_t arg = 0;

		if ((op & 3) <= 1 && i < size)
			arg = data[i++];
		if ((op & 3) == 0) {
			if (arg > size - i)
				arg = size - i;
			if ((op & 0x80) && w.pol.lines)
				fuzz_own_record(&w, data + i, arg);
			else
				for (int k = rd == &w.rd[3] ? 16 : 1; k > 0; k--)
					fuzz_feed(&w, data + i, arg);
			i += arg;
		} else if ((op & 3) == 1) {
			fuzz_send(&w, rd, arg);
		} else if ((op & 3) == 2) {
			fuzz_connect(&w, rd);
		} else {
			if (rd == &w.rd[1] && w.pol.lines)
				fuzz_heartbeat(&w);
			fuzz_flush(&w);
		}
	}
	fuzz_finish(&w);
	framer_free(&w.f);
	ring_free(&w.r);
	free(w.stream);
	if (alloc_live() != live0)
		fuzz_fail("ring or readers leaked an allocation");
	return 0;
}

/* fuzz_sse.c: libFuzzer target for lib/sse.c and lib/seqidx.c (the SSE form
 * of the stream: the producer's bytes are outside input, and the ring is
 * walked by parsing what was written into it).
 *
 * Input: byte 0 picks the buffer (256..8,000 bytes) and byte 1 max_line
 * (16..79) and the reader's stash (none, or 32..1,000 bytes); then ops,
 * one byte each with its arguments after it:
 *   0: a record of (next byte % max_line) bytes of input ('\n' made 'x'),
 *      after the reader's overflow policy (skip) for its encoded size;
 *   1: a heartbeat comment of (next byte % 16) bytes;
 *   2: the reader sends up to (next byte * 4) bytes;
 *   3: a resume after (next two bytes) of the seqs so far is checked.
 *
 * Invariants checked (any failure aborts):
 *  - sse_records_len() is what sse_records() writes, for each record and
 *    for the whole input taken as one chunk of records (any bytes, lines
 *    of any length, a piece of a line at its end);
 *  - what the reader sends is whole events, gap notices and comment lines
 *    only; every event's data lines joined with '\r' are the record of
 *    that id; ids increase by one, except after a gap notice, where they
 *    increase by missed + 1; a dropped reader starts again at the head;
 *  - a resume after S starts at the event S + 1 when that is held (no gap),
 *    otherwise at the oldest held event with a gap of (oldest - S - 1), or
 *    at the head when S is the newest or newer;
 *  - sse_free leaves alloc_live() where sse_init found it. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "alloc.h"
#include "eventid.h"
#include "sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RECORDS 8192
#define OUT_MAX (1 << 20)

struct model {
	char *rec[MAX_RECORDS + 1];     /* record bodies by seq */
	size_t len[MAX_RECORDS + 1];
	uint64_t n;
};

/* The reader's output, and where its parse stands. */
struct reader {
	struct sse_cursor c;
	char out[OUT_MAX];
	size_t len;
	uint64_t last;                  /* last id seen, 0 before any */
	bool gap;                       /* a gap notice came since the last id */
	uint64_t missed;
};

static struct reader rd;
static struct model m;

/* One event (id line, data lines) against the model. */
static void check_event(const char *p, size_t n)
{
	char joined[128];
	size_t jn = 0;
	uint64_t seq;
	const char *nl = memchr(p, '\n', n), *line;
	struct eventid id;

	if (!nl || eventid_parse(p + 4, (size_t)(nl - p) - 4, &id) < 0)
		fuzz_fail("bad id line");
	seq = id.seq;
	for (line = nl + 1; line < p + n;) {
		const char *e = memchr(line, '\n', (size_t)(p + n - line));
		size_t ln = (size_t)(e - line);

		if (ln < 6 || memcmp(line, "data: ", 6) != 0 || jn + ln > sizeof(joined))
			fuzz_fail("bad data line");
		if (line != nl + 1)
			joined[jn++] = '\r';
		memcpy(joined + jn, line + 6, ln - 6);
		jn += ln - 6;
		line = e + 1;
	}
	if (seq == 0 || seq > m.n || jn != m.len[seq] || memcmp(joined, m.rec[seq], jn) != 0)
		fuzz_fail("event data is not its record");
	if (rd.last && seq != rd.last + 1 + (rd.gap ? rd.missed : 0)) {
		fprintf(stderr, "fuzz_sse: id %llu after %llu (gap %d, missed %llu)\n",
			(unsigned long long)seq, (unsigned long long)rd.last, rd.gap,
			(unsigned long long)rd.missed);
		fuzz_fail("ids do not follow (or the gap count is wrong)");
	}
	rd.last = seq;
	rd.gap = false;
}

/* Parses and drops the reader's whole output blocks. */
static void check_output(void)
{
	size_t at = 0;

	for (;;) {
		char *p = rd.out + at;
		size_t left = rd.len - at;
		char *end;

		if (left >= 1 && p[0] == ':') {
			char *nl = memchr(p, '\n', left);

			if (!nl)
				break;
			at += (size_t)(nl - p) + 1;
			continue;
		}
		end = memmem(p, left, "\n\n", 2);
		if (!end)
			break;
		if (left > 11 && memcmp(p, "event: gap\n", 11) == 0) {
			unsigned long n;

			if (sscanf(p, "event: gap\ndata: {\"missed\":%lu}", &n) != 1)
				fuzz_fail("bad gap notice");
			rd.missed = (rd.gap ? rd.missed : 0) + n;   /* notices add up */
			rd.gap = true;
		} else if (left > 4 && memcmp(p, "id: ", 4) == 0) {
			check_event(p, (size_t)(end - p) + 1);
		} else {
			fuzz_fail("neither event, notice nor comment");
		}
		at += (size_t)(end - p) + 2;
	}
	memmove(rd.out, rd.out + at, rd.len - at);
	rd.len -= at;
}

/* The reader sends up to max bytes. */
static void drain(const struct sse *s, size_t max)
{
	struct iovec iov[5];
	int n = sse_cursor_iov(&rd.c, s, iov);
	size_t got = 0;

	for (int i = 0; i < n && got < max; i++) {
		size_t k = iov[i].iov_len < max - got ? iov[i].iov_len : max - got;

		if (rd.len + k > OUT_MAX)
			fuzz_fail("output overflow");
		memcpy(rd.out + rd.len, iov[i].iov_base, k);
		rd.len += k;
		got += k;
	}
	sse_cursor_advance(&rd.c, got);
	check_output();
}

/* A reader that starts at the head: nothing of the old one counts. */
static void restart(const struct sse *s, char *stash, size_t cap)
{
	sse_cursor_init(&rd.c, s->ring.head, NULL, 0, stash, cap);
	rd.len = 0;
	rd.last = 0;
	rd.gap = false;
}

/* Appends one record (after the reader's overflow policy). */
static void add_record(struct sse *s, const uint8_t *p, size_t n, char *stash, size_t cap)
{
	char rec[128];
	uint64_t before, want, missed;

	if (m.n >= MAX_RECORDS)
		return;
	for (size_t i = 0; i < n; i++)
		rec[i] = p[i] == '\n' ? 'x' : (char)p[i];
	rec[n] = '\n';
	want = sse_records_len(s, rec, n + 1);
	if (sse_cursor_make_room(&rd.c, s, want, true, &missed) == SSE_DROP)
		restart(s, stash, cap);
	before = s->ring.head;
	sse_records(s, rec, n + 1);
	if (s->ring.head - before != want)
		fuzz_fail("sse_records_len differs from what was written");
	m.n++;
	m.rec[m.n] = malloc(n ? n : 1);
	memcpy(m.rec[m.n], rec, n);
	m.len[m.n] = n;
}

/* The first event id at pos, or 0 when pos is the head. */
static uint64_t id_at(const struct sse *s, uint64_t pos)
{
	char line[64];
	size_t n = s->ring.head - pos < sizeof(line) ? (size_t)(s->ring.head - pos) : sizeof(line);
	char *nl;
	struct eventid id;

	if (n == 0)
		return 0;
	ring_copy(&s->ring, pos, pos + n, line);
	nl = memchr(line, '\n', n);
	if (n < 5 || memcmp(line, "id: ", 4) != 0 || !nl ||
	    eventid_parse(line + 4, (size_t)(nl - line) - 4, &id) < 0)
		fuzz_fail("a resume does not start at an event");
	return id.seq;
}

/* The resume table, for one S. */
static void check_resume(const struct sse *s, uint64_t after)
{
	struct sse_start st;
	uint64_t off, first = sse_first_seq(s, &off), got;

	sse_resume(s, after, &st);
	got = id_at(s, st.pos);
	if (after >= s->seq) {
		if (st.pos != s->ring.head || st.gap)
			fuzz_fail("resume from the newest is not live only");
		return;
	}
	if (first && first <= after + 1) {
		if (st.gap || got != after + 1)
			fuzz_fail("resume inside the ring does not start after S");
		return;
	}
	if (!st.gap || !st.known || (first && (got != first || st.missed != first - after - 1)))
		fuzz_fail("resume past the ring: wrong gap");
}

/* One input: a stream, a reader, resumes. */
/* The whole input as one chunk of records into a ring that holds its
 * longest possible encoding: sse_records_len() is what sse_records() writes. */
static void check_chunk(const uint8_t *data, size_t size)
{
	struct sse s;
	uint64_t want;

	if (sse_init(&s, 64 * (uint64_t)size + 64, size + 1, 0x1234) < 0)
		return;
	want = sse_records_len(&s, (const char *)data, size);
	sse_records(&s, (const char *)data, size);
	if (s.ring.head != want)
		fuzz_fail("sse_records_len differs from what a chunk wrote");
	sse_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char stash[1024];
	struct sse s;
	uint64_t live0 = alloc_live();
	size_t max_line, cap, i = 2;

	if (size < 2)
		return 0;
	check_chunk(data, size);
	max_line = 16 + data[1] % 64;
	cap = data[1] & 0x80 ? 32 + (size_t)data[0] * 4 % 968 : 0;
	if (sse_init(&s, 256 + (uint64_t)data[0] * 30, max_line, 0x1234) < 0)
		return 0;
	m.n = 0;
	restart(&s, cap ? stash : NULL, cap);
	while (i + 2 < size) {
		uint8_t op = data[i++] % 4, a = data[i++];

		if (op == 0) {
			size_t n = a % max_line;

			if (n + 1 > max_line || i + n > size)
				n = 0;
			add_record(&s, data + i, n, cap ? stash : NULL, cap);
			i += n;
		} else if (op == 1) {
			char text[16];
			uint64_t missed;

			memset(text, 'h', sizeof(text));
			if (sse_cursor_make_room(&rd.c, &s, sse_comment_len(text, a % 16), true,
						 &missed) == SSE_DROP)
				restart(&s, cap ? stash : NULL, cap);
			sse_comment(&s, text, a % 16);
		} else if (op == 2) {
			drain(&s, (size_t)a * 4);
		} else {
			check_resume(&s, ((uint64_t)a << 8 | data[i++]) % (s.seq + 2));
		}
	}
	drain(&s, OUT_MAX);
	if (rd.len != 0)
		fuzz_fail("output ends inside an event");
	sse_free(&s);
	for (uint64_t k = 1; k <= m.n; k++)
		free(m.rec[k]);
	if (alloc_live() != live0)
		fuzz_fail("sse_free leaked");
	return 0;
}

/* fuzz_framer.c: libFuzzer target for lib/framer.c (pipecast.conf(5) "RECORDS").
 *
 * The framer works in place in a ring (a 4 KiB page mapped twice, so a
 * long input wraps it several times): reads land in the ring's reserve and
 * whole records are committed where they lie.
 *
 * Input: byte 0 picks the framing (bit 0: raw) and the most bytes one read
 * brings (bits 1..7: 1..382); byte 1 picks max_line (16..256); bytes 2..3
 * seed the chunk sizes and which chunks are followed by a heartbeat record
 * (line framing: "HB\n" inserted with ring_write ahead of the held line, as
 * the daemon's heartbeat does); the rest is
 * the producer's stream, fed through framer_space()/framer_commit() in
 * chunks of 1..room bytes, then framer_finish().
 *
 * Invariants checked (any failure aborts):
 *  - line framing: every piece is whole records: it holds exactly
 *    `records` newlines, at least one, and ends in '\n' (so no emit leaves
 *    the ring's head inside a record); raw: every piece is one record;
 *  - after every commit and after finish, the output so far is empty or
 *    ends in '\n' (line framing), so a flush never splits a record;
 *  - line framing: the output equals the reference model below: the input
 *    with a '\n' inserted before the max_line-th byte of a line segment
 *    (a segment being a line, or what is left of it after an inserted
 *    '\n'), and one '\n' appended at the end when the input is non-empty
 *    and does not end in '\n'; every record of the output is at most
 *    max_line bytes; the records counted equal the newlines of the output;
 *    long_lines equals the number of input lines longer than max_line,
 *    newline included (a last line without one counts one for it);
 *  - raw framing: the output equals the input, byte for byte;
 *  - every append starts where the previous one (or a heartbeat) ended;
 *    the ring stream is as long as the framer's output and the heartbeats;
 *  - f->seq counts the records emitted;
 *  - framer_free leaves alloc_live() where framer_init found it.
 *
 * Each input runs twice: with the scan framer_init picked for this CPU
 * (AVX2 where it has it) and with the SSE2 one. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "alloc.h"
#include "framer.h"
#include "ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER 4

#define HB "HB\n"
#define HB_LEN 3

/* What the framer handed out, and how. */
struct sink {
	struct ring ring;
	char *out;            /* the emits, concatenated */
	size_t len, cap;
	uint64_t next_pos;
	uint64_t records;
	uint64_t pieces;
	bool raw;
};

/* Counts the newlines of n bytes. */
static uint64_t fuzz_count_nl(const char *p, size_t n)
{
	uint64_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += p[i] == '\n';
	return k;
}

/* The framer's emit callback: checks the piece and appends it. */
static void fuzz_emit(void *ctx, uint64_t pos, size_t n, uint64_t records)
{
	struct sink *s = ctx;
	const char *data = ring_at(&s->ring, pos);

	if (pos != s->next_pos || s->ring.head != pos + n)
		fuzz_fail("append not contiguous with the stream");
	s->next_pos = pos + n;
	if (n == 0)
		fuzz_fail("empty piece");
	if (s->raw && records != 1)
		fuzz_fail("raw piece is not one record");
	if (!s->raw && fuzz_count_nl(data, n) != records)
		fuzz_fail("piece's record count differs from its newlines");
	if (!s->raw && (records == 0 || data[n - 1] != '\n'))
		fuzz_fail("piece does not end at a record boundary");
	if (s->len + n > s->cap)
		fuzz_fail("more output than the model allows");
	memcpy(s->out + s->len, data, n);
	s->len += n;
	s->records += records;
	s->pieces++;
}

/* A heartbeat record goes in ahead of the held line. */
static void fuzz_heartbeat(struct sink *s)
{
	ring_write(&s->ring, HB, HB_LEN);
	s->next_pos = s->ring.head;
}

/* Line framing as pipecast.conf(5) words it, one byte at a time; returns the length
 * of the expected output written to exp and the long lines in *longs. */
static size_t fuzz_model(const uint8_t *in, size_t n, size_t max_line,
			 char *exp, uint64_t *longs)
{
	size_t len = 0, seg = 0;
	bool in_long = false;

	*longs = 0;
	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\n') {
			exp[len++] = '\n';
			seg = 0;
			in_long = false;
			continue;
		}
		if (seg == max_line - 1) {
			exp[len++] = '\n';
			seg = 0;
			if (!in_long)
				(*longs)++;
			in_long = true;
		}
		exp[len++] = (char)in[i];
		seg++;
	}
	if (n && in[n - 1] != '\n')
		exp[len++] = '\n';
	return len;
}

/* Checks that no record of the output is longer than max_line. */
static void fuzz_check_records(const struct sink *s, size_t max_line)
{
	size_t start = 0;

	for (size_t i = 0; i < s->len; i++) {
		if (s->out[i] != '\n')
			continue;
		if (i + 1 - start > max_line)
			fuzz_fail("record longer than max_line");
		start = i + 1;
	}
	if (start != s->len)
		fuzz_fail("output ends inside a record");
}

/* Feeds the stream in chunks; checks the boundary after each commit. */
static void fuzz_feed(struct framer *f, struct sink *s, const uint8_t *in,
		      size_t n, uint32_t seed)
{
	uint64_t hbs = 0;

	size_t off = 0;

	while (off < n) {
		size_t room, chunk;
		char *p = framer_space(f, &room);
		uint32_t r = fuzz_next(&seed);

		if (room == 0)
			fuzz_fail("framer has no room");
		chunk = (r & 3) == 0 ? room : 1 + (r >> 2) % room;
		if (chunk > n - off)
			chunk = n - off;
		memcpy(p, in + off, chunk);
		framer_commit(f, chunk);
		off += chunk;
		if (!f->raw && s->len && s->out[s->len - 1] != '\n')
			fuzz_fail("commit left the output inside a record");
		if (!f->raw && framer_held(f) >= f->max_line)
			fuzz_fail("framer holds a whole max_line");
		if (!f->raw && (r >> 12) % 8 == 0) {
			fuzz_heartbeat(s);
			hbs++;
		}
	}
	framer_finish(f);
	if (framer_held(f) != 0)
		fuzz_fail("framer holds bytes after finish");
	if (f->seq != s->records)
		fuzz_fail("framer's record number differs from the records emitted");
	if (s->ring.head != s->len + hbs * HB_LEN)
		fuzz_fail("ring stream is not the output and the heartbeats");
}

/* Compares the sink with what the framing must produce. */
static void fuzz_check(const struct framer *f, const struct sink *s,
		       const uint8_t *in, size_t n)
{
	uint64_t longs;
	char *exp;
	size_t elen;

	if (f->raw) {
		if (s->len != n || (n && memcmp(s->out, in, n) != 0))
			fuzz_fail("raw output differs from the input");
		if (f->long_lines != 0)
			fuzz_fail("raw framing counted long lines");
		return;
	}
	exp = malloc(2 * n + 2);
	if (!exp)
		abort();
	elen = fuzz_model(in, n, f->max_line, exp, &longs);
	if (elen != s->len || (elen && memcmp(exp, s->out, elen) != 0))
		fuzz_fail("line output differs from the model");
	free(exp);
	if (s->records != fuzz_count_nl(s->out, s->len))
		fuzz_fail("records counted differ from the newlines sent");
	if (f->long_lines != longs)
		fuzz_fail("long_lines differs from the model");
	fuzz_check_records(s, f->max_line);
}

/* One input, framed with the scan the CPU picked (wide) or with the
 * SSE2 one. */
static void fuzz_run(const uint8_t *data, size_t size, bool wide)
{
	struct framer f;
	struct sink s = { 0 };
	uint64_t live0 = alloc_live();
	size_t max_line, room, n;
	uint32_t seed;

	max_line = 16 + data[1] % 241;
	room = 1 + (size_t)(data[0] >> 1) * 3;
	seed = ((uint32_t)data[2] << 8 | data[3]) + 1;
	n = size - HEADER;
	s.raw = data[0] & 1;
	s.cap = 2 * n + 2;
	s.out = malloc(s.cap);
	if (!s.out ||
	    ring_init(&s.ring, 64, framer_reserve(s.raw, max_line, room)) < 0 ||
	    framer_init(&f, &s.ring, s.raw, max_line, room, fuzz_emit, &s) < 0)
		abort();
	f.wide = f.wide && wide;
	fuzz_feed(&f, &s, data + HEADER, n, seed);
	fuzz_check(&f, &s, data + HEADER, n);
	framer_free(&f);
	ring_free(&s.ring);
	free(s.out);
	if (alloc_live() != live0)
		fuzz_fail("framer leaked an allocation");
}

/* One input: see the top of this file. Both scans where the CPU has
 * AVX2, the same checks for each. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < HEADER)
		return 0;
	fuzz_run(data, size, true);
	fuzz_run(data, size, false);
	return 0;
}

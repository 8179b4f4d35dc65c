/* test_framer.c: line framing in place in the ring (whole records, long
 * lines cut and counted, last line completed at the end, record numbers,
 * heartbeats inserted ahead of a held line) and raw framing, at any chunk
 * boundary. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "framer.h"

struct sink {
	struct ring ring;        /* the framer works in place in it */
	char data[8192];
	size_t len;
	uint64_t records;
	uint64_t next_pos;       /* where the next emit must start */
	int calls;
};

/* A ring of 64 KiB with the reserve the framer asks for, and a framer on it. */
static void tf_init(struct framer *f, struct sink *s, bool raw, size_t max_line, size_t room,
		    framer_emit_fn emit)
{
	assert_int_equal(ring_init(&s->ring, 65536, framer_reserve(raw, max_line, room)), 0);
	assert_int_equal(framer_init(f, &s->ring, raw, max_line, room, emit, s), 0);
}

/* Frees the framer and its ring. */
static void tf_free(struct framer *f)
{
	struct ring *r = f->ring;

	framer_free(f);
	ring_free(r);
}

/* Collects what the framer emits: appends are contiguous, at the head. */
static void sink_emit(void *ctx, uint64_t pos, size_t n, uint64_t records)
{
	struct sink *s = ctx;
	const char *data = ring_at(&s->ring, pos);

	assert_int_equal(pos, s->next_pos);
	assert_int_equal(s->ring.head, pos + n);
	s->next_pos = pos + n;

	assert_true(s->len + n < sizeof(s->data));
	memcpy(s->data + s->len, data, n);
	s->len += n;
	s->data[s->len] = '\0';
	s->records += records;
	s->calls++;
}

/* Counts records and checks that appends are contiguous, without copying. */
static void sink_count_emit(void *ctx, uint64_t pos, size_t n, uint64_t records)
{
	struct sink *s = ctx;

	assert_int_equal(pos, s->next_pos);
	assert_int_equal(*ring_at(&s->ring, pos + n - 1), '\n');
	s->next_pos = pos + n;
	s->records += records;
}

/* Feeds text in chunks of `step` bytes, as successive reads would. */
static void feed(struct framer *f, const char *text, size_t step)
{
	size_t len = strlen(text);

	for (size_t off = 0; off < len; off += step) {
		size_t room, n = len - off < step ? len - off : step;
		char *p = framer_space(f, &room);

		assert_true(n <= room);
		memcpy(p, text + off, n);
		framer_commit(f, n);
	}
}

static void whole_lines_in_one_piece(void **state)
{
	struct framer f;
	struct sink s = { 0 };

	(void)state;
	tf_init(&f, &s, false, 16, 64, sink_emit);
	feed(&f, "one\ntwo\nthree\n", 64);
	assert_string_equal(s.data, "one\ntwo\nthree\n");
	assert_int_equal(s.records, 3);
	assert_int_equal(s.calls, 1);
	tf_free(&f);
}

static void partial_line_is_held_until_its_newline(void **state)
{
	struct framer f;
	struct sink s = { 0 };

	(void)state;
	tf_init(&f, &s, false, 16, 64, sink_emit);
	feed(&f, "one\ntw", 64);
	assert_string_equal(s.data, "one\n");
	feed(&f, "o\n", 64);
	assert_string_equal(s.data, "one\ntwo\n");
	assert_int_equal(s.records, 2);
	tf_free(&f);
}

static void any_chunk_size_gives_the_same_records(void **state)
{
	const char *text = "alpha\nbe\n\ngamma delta\nx\n";

	(void)state;
	for (size_t step = 1; step <= 8; step++) {
		struct framer f;
		struct sink s = { 0 };

		tf_init(&f, &s, false, 16, 64, sink_emit);
		feed(&f, text, step);
		assert_string_equal(s.data, text);
		assert_int_equal(s.records, 5);
		tf_free(&f);
	}
}

static void long_line_cut_into_max_line_pieces_counted_once(void **state)
{
	struct framer f;
	struct sink s = { 0 };

	(void)state;
	tf_init(&f, &s, false, 8, 64, sink_emit);
	feed(&f, "abcdefghijklmnopq\nok\n", 64);   /* 17 bytes + '\n' */
	assert_string_equal(s.data, "abcdefg\nhijklmn\nopq\nok\n");
	assert_int_equal(f.long_lines, 1);
	assert_int_equal(s.records, 4);
	tf_free(&f);
}

static void long_line_without_newline_is_cut_as_it_comes(void **state)
{
	struct framer f;
	struct sink s = { 0 };

	(void)state;
	tf_init(&f, &s, false, 8, 32, sink_emit);
	feed(&f, "abcdefghij", 3);                 /* no '\n' yet */
	assert_string_equal(s.data, "abcdefg\n");
	feed(&f, "klmnopqrstu", 5);
	assert_string_equal(s.data, "abcdefg\nhijklmn\n");  /* "opqrstu" may still end */
	assert_int_equal(f.long_lines, 1);
	feed(&f, "\n", 1);
	assert_string_equal(s.data, "abcdefg\nhijklmn\nopqrstu\n");
	feed(&f, "0123456789\n", 11);               /* a second long line */
	assert_int_equal(f.long_lines, 2);
	tf_free(&f);
}

static void exactly_max_line_is_not_long(void **state)
{
	struct framer f;
	struct sink s = { 0 };

	(void)state;
	tf_init(&f, &s, false, 8, 32, sink_emit);
	feed(&f, "abcdefg\n", 1);
	assert_string_equal(s.data, "abcdefg\n");
	assert_int_equal(f.long_lines, 0);
	tf_free(&f);
}

static void finish_completes_the_last_line(void **state)
{
	struct framer f;
	struct sink s = { 0 };

	(void)state;
	tf_init(&f, &s, false, 16, 64, sink_emit);
	feed(&f, "one\nlast", 64);
	framer_finish(&f);
	assert_string_equal(s.data, "one\nlast\n");
	assert_int_equal(s.records, 2);
	framer_finish(&f);                          /* nothing more */
	assert_string_equal(s.data, "one\nlast\n");
	tf_free(&f);
}

static void raw_passes_bytes_unchanged_one_record_per_read(void **state)
{
	struct framer f;
	struct sink s = { 0 };
	size_t room;
	char *p;

	(void)state;
	tf_init(&f, &s, true, 16, 64, sink_emit);
	p = framer_space(&f, &room);
	memcpy(p, "a\0b\nc", 5);
	framer_commit(&f, 5);
	framer_finish(&f);
	assert_int_equal(s.len, 5);
	assert_memory_equal(s.data, "a\0b\nc", 5);
	assert_int_equal(s.records, 1);
	tf_free(&f);
}

/* The rules of pipecast.conf(5) "RECORDS", one byte at a time: the reference the
 * framer must agree with. Returns the output length. */
static size_t reference_frame(const char *in, size_t n, size_t max_line, char *out,
			      uint64_t *records, uint64_t *long_lines)
{
	size_t o = 0, col = 0;
	bool cut = false;

	*records = *long_lines = 0;
	for (size_t i = 0; i < n; i++) {
		if (in[i] != '\n' && col == max_line - 1) {
			/* the line goes on past max_line - 1 bytes: cut it here */
			out[o++] = '\n';
			(*records)++;
			if (!cut)
				(*long_lines)++;
			cut = true;
			col = 0;
		}
		out[o++] = in[i];
		col++;
		if (in[i] == '\n') {
			(*records)++;
			col = 0;
			cut = false;
		}
	}
	if (col > 0) {
		out[o++] = '\n';
		(*records)++;
	}
	return o;
}

/* A deterministic pseudo-random sequence (no sleeps, no clock). */
static uint32_t lcg(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 16;
}

/* Feeds n bytes in reads of 1..most bytes (as the room allows), then
 * finishes. */
static void feed_random(struct framer *f, const char *in, size_t n, uint32_t *seed, size_t most)
{
	for (size_t off = 0; off < n;) {
		size_t room, step = 1 + lcg(seed) % most;
		char *p = framer_space(f, &room);

		step = step > room ? room : step;
		step = step > n - off ? n - off : step;
		memcpy(p, in + off, step);
		framer_commit(f, step);
		off += step;
	}
	framer_finish(f);
}

/* The sink holds the reference's output, records and long lines. */
static void assert_framed(const struct sink *s, const struct framer *f, const char *want,
			  size_t wn, uint64_t recs, uint64_t longs)
{
	assert_int_equal(s->len, wn);
	assert_memory_equal(s->data, want, wn);
	assert_int_equal(s->records, recs);
	assert_int_equal(f->long_lines, longs);
}

static void agrees_with_the_byte_by_byte_reference(void **state)
{
	static char in[3000], want[6000];
	uint32_t seed = 42;

	(void)state;
	for (int round = 0; round < 300; round++) {
		size_t max_line = 16 + lcg(&seed) % 64, n = lcg(&seed) % sizeof(in);
		unsigned nl_every = 1 + lcg(&seed) % 120;
		uint64_t recs, longs;
		struct framer f;
		struct sink *s = calloc(1, sizeof(*s));
		size_t wn;

		for (size_t i = 0; i < n; i++)
			in[i] = lcg(&seed) % nl_every == 0 ? '\n' : (char)('a' + lcg(&seed) % 26);
		wn = reference_frame(in, n, max_line, want, &recs, &longs);
		tf_init(&f, s, false, max_line, max_line + 1 + lcg(&seed) % 200, sink_emit);
		feed_random(&f, in, n, &seed, 300);
		assert_framed(s, &f, want, wn, recs, longs);
		tf_free(&f);
		free(s);
	}
}

/* Checks that a piece is whole records: it ends in '\n' and holds as many
 * newlines as it says records, at least one. */
static void whole_record_emit(void *ctx, uint64_t pos, size_t n, uint64_t records)
{
	const char *data = ring_at(&((struct sink *)ctx)->ring, pos);
	uint64_t nl = 0;

	for (size_t i = 0; i < n; i++)
		nl += data[i] == '\n';
	assert_true(n > 0);
	assert_int_equal(data[n - 1], '\n');
	assert_true(records >= 1);
	assert_int_equal(nl, records);
	sink_emit(ctx, pos, n, records);
}

/* Regression (found by tests/fuzz/fuzz_ring): a cut piece and its '\n' came
 * in two emits, so a reader skipped to the ring's head between them started
 * inside a record; now every emit ends at a record boundary. */
static void long_line_pieces_are_emitted_as_whole_records(void **state)
{
	struct framer f;
	struct sink s = { 0 };

	(void)state;
	tf_init(&f, &s, false, 8, 32, whole_record_emit);
	feed(&f, "abcdefghijklmnopq\nok\n", 64);      /* cut in framer_lines */
	feed(&f, "0123456789ABCDEFGHIJ", 4);            /* cut as it comes */
	framer_finish(&f);
	assert_string_equal(s.data, "abcdefg\nhijklmn\nopq\nok\n"
			    "0123456\n789ABCD\nEFGHIJ\n");
	assert_int_equal(s.records, 7);
	assert_int_equal(f.long_lines, 2);
	tf_free(&f);
}


/* Records are numbered by the count, cut pieces and a finished last line
 * included. */
static void records_are_numbered(void **state)
{
	struct framer f;
	struct sink s = { 0 };

	(void)state;
	tf_init(&f, &s, false, 8, 64, sink_emit);
	feed(&f, "a\nbb\nccc\ndd", 64);                /* records 1-3 */
	assert_int_equal(f.seq, 3);
	feed(&f, "\n0123456789\n", 5);                  /* 4, then 5-6 (cut) */
	framer_finish(&f);
	feed(&f, "z", 1);
	framer_finish(&f);                                 /* 7 */
	assert_int_equal(f.seq, 7);
	assert_int_equal(s.records, 7);
	assert_string_equal(s.data, "a\nbb\nccc\ndd\n0123456\n789\nz\n");
	tf_free(&f);
}

static void heartbeat_goes_ahead_of_a_held_line(void **state)
{
	struct framer f;
	struct sink s = { 0 };

	(void)state;
	tf_init(&f, &s, false, 16, 64, sink_emit);
	feed(&f, "one\npart", 64);
	assert_int_equal(framer_held(&f), 4);
	ring_write(&s.ring, "HB\n", 3);          /* as a heartbeat does */
	s.next_pos = s.ring.head;
	feed(&f, "ial\n", 64);
	assert_string_equal(s.data, "one\npartial\n");
	assert_memory_equal(ring_at(&s.ring, 0), "one\nHB\npartial\n", 15);
	assert_int_equal(s.ring.head, 15);
	assert_int_equal(framer_held(&f), 0);
	tf_free(&f);
}

/* Lines cut while the ring wraps many times: the bytes clients would read
 * (contiguous thanks to the mirror) are the reference's, record after
 * record. */
static void wraps_the_ring_and_keeps_every_byte(void **state)
{
	static char in[50000], want[60000], got[60000];
	struct sink *s = calloc(1, sizeof(*s));
	uint64_t recs, longs;
	uint32_t seed = 7;
	size_t wn, off = 0;
	struct framer f;

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = lcg(&seed) % 40 == 0 ? '\n' : (char)('A' + lcg(&seed) % 26);
	wn = reference_frame(in, sizeof(in), 32, want, &recs, &longs);
	assert_int_equal(ring_init(&s->ring, 4096, framer_reserve(false, 32, 1000)), 0);
	assert_int_equal(framer_init(&f, &s->ring, false, 32, 1000, sink_count_emit, s), 0);
	while (off < sizeof(in)) {
		size_t room, step;
		char *p = framer_space(&f, &room);

		step = 1 + lcg(&seed) % room;
		if (step > sizeof(in) - off)
			step = sizeof(in) - off;
		memcpy(p, in + off, step);
		framer_commit(&f, step);
		off += step;
		/* what a client at the tail would read, in one piece */
		memcpy(got + ring_tail(&s->ring), ring_at(&s->ring, ring_tail(&s->ring)),
		       s->ring.head - ring_tail(&s->ring));
	}
	framer_finish(&f);
	memcpy(got + ring_tail(&s->ring), ring_at(&s->ring, ring_tail(&s->ring)),
	       s->ring.head - ring_tail(&s->ring));
	assert_int_equal(s->ring.head, wn);
	assert_memory_equal(got, want, wn);
	assert_int_equal(f.seq, recs);
	assert_int_equal(s->records, recs);
	assert_int_equal(f.long_lines, longs);
	framer_free(&f);
	ring_free(&s->ring);
	free(s);
}

/* The AVX2 scan (taken where the CPU has it) and the SSE2 one frame alike:
 * short and long lines, several newlines in one 64-byte block, chunks that
 * end anywhere, the same as the byte-by-byte reference. */
static void both_scans_agree_with_the_reference(void **state)
{
	static char in[6000], want[8192];
	uint32_t seed = 1234;

	(void)state;
	for (int round = 0; round < 400; round++) {
		size_t max_line = 16 + lcg(&seed) % 190, n = 0, wn;
		size_t room = 64 + lcg(&seed) % 1500;
		uint32_t feed_seed = lcg(&seed);
		uint64_t recs, longs;

		while (n < sizeof(in)) {
			size_t len = lcg(&seed) % 16 ? 1 + lcg(&seed) % 120 : lcg(&seed) % 500;

			for (size_t i = 0; i < len && n < sizeof(in) - 1; i++)
				in[n++] = (char)('a' + lcg(&seed) % 26);
			in[n++] = '\n';
		}
		n -= lcg(&seed) % 50;                /* may end inside a line */
		wn = reference_frame(in, n, max_line, want, &recs, &longs);
		for (int wide = 1; wide >= 0; wide--) {
			struct sink *s = calloc(1, sizeof(*s));
			uint32_t fs = feed_seed;
			struct framer f;

			tf_init(&f, s, false, max_line, room, sink_emit);
			f.wide = f.wide && wide;
			feed_random(&f, in, n, &fs, room);
			assert_framed(s, &f, want, wn, recs, longs);
			assert_int_equal(f.seq, recs);
			tf_free(&f);
			free(s);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(whole_lines_in_one_piece),
		cmocka_unit_test(both_scans_agree_with_the_reference),
		cmocka_unit_test(records_are_numbered),
		cmocka_unit_test(heartbeat_goes_ahead_of_a_held_line),
		cmocka_unit_test(wraps_the_ring_and_keeps_every_byte),
		cmocka_unit_test(partial_line_is_held_until_its_newline),
		cmocka_unit_test(any_chunk_size_gives_the_same_records),
		cmocka_unit_test(long_line_cut_into_max_line_pieces_counted_once),
		cmocka_unit_test(long_line_without_newline_is_cut_as_it_comes),
		cmocka_unit_test(exactly_max_line_is_not_long),
		cmocka_unit_test(finish_completes_the_last_line),
		cmocka_unit_test(raw_passes_bytes_unchanged_one_record_per_read),
		cmocka_unit_test(agrees_with_the_byte_by_byte_reference),
		cmocka_unit_test(long_line_pieces_are_emitted_as_whole_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

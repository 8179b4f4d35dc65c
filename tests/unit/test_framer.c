/* test_framer.c: line framing (whole records, long lines cut and counted,
 * last line completed at the end) and raw framing, at any chunk boundary. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "framer.h"

struct sink {
	char data[4096];
	size_t len;
	uint64_t records;
	int calls;
};

/* Collects what the framer emits. */
static void sink_emit(void *ctx, const char *data, size_t n, uint64_t records)
{
	struct sink *s = ctx;

	assert_true(s->len + n < sizeof(s->data));
	memcpy(s->data + s->len, data, n);
	s->len += n;
	s->data[s->len] = '\0';
	s->records += records;
	s->calls++;
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
	framer_init(&f, false, 16, 64, sink_emit, &s);
	feed(&f, "one\ntwo\nthree\n", 64);
	assert_string_equal(s.data, "one\ntwo\nthree\n");
	assert_int_equal(s.records, 3);
	assert_int_equal(s.calls, 1);
	framer_free(&f);
}

static void partial_line_is_held_until_its_newline(void **state)
{
	struct framer f;
	struct sink s = { 0 };

	(void)state;
	framer_init(&f, false, 16, 64, sink_emit, &s);
	feed(&f, "one\ntw", 64);
	assert_string_equal(s.data, "one\n");
	feed(&f, "o\n", 64);
	assert_string_equal(s.data, "one\ntwo\n");
	assert_int_equal(s.records, 2);
	framer_free(&f);
}

static void any_chunk_size_gives_the_same_records(void **state)
{
	const char *text = "alpha\nbe\n\ngamma delta\nx\n";

	(void)state;
	for (size_t step = 1; step <= 8; step++) {
		struct framer f;
		struct sink s = { 0 };

		framer_init(&f, false, 16, 64, sink_emit, &s);
		feed(&f, text, step);
		assert_string_equal(s.data, text);
		assert_int_equal(s.records, 5);
		framer_free(&f);
	}
}

static void long_line_cut_into_max_line_pieces_counted_once(void **state)
{
	struct framer f;
	struct sink s = { 0 };

	(void)state;
	framer_init(&f, false, 8, 64, sink_emit, &s);
	feed(&f, "abcdefghijklmnopq\nok\n", 64);   /* 17 bytes + '\n' */
	assert_string_equal(s.data, "abcdefg\nhijklmn\nopq\nok\n");
	assert_int_equal(f.long_lines, 1);
	assert_int_equal(s.records, 4);
	framer_free(&f);
}

static void long_line_without_newline_is_cut_as_it_comes(void **state)
{
	struct framer f;
	struct sink s = { 0 };

	(void)state;
	framer_init(&f, false, 8, 32, sink_emit, &s);
	feed(&f, "abcdefghij", 3);                 /* no '\n' yet */
	assert_string_equal(s.data, "abcdefg\n");
	feed(&f, "klmnopqrstu", 5);
	assert_string_equal(s.data, "abcdefg\nhijklmn\n");  /* "opqrstu" may still end */
	assert_int_equal(f.long_lines, 1);
	feed(&f, "\n", 1);
	assert_string_equal(s.data, "abcdefg\nhijklmn\nopqrstu\n");
	feed(&f, "0123456789\n", 11);               /* a second long line */
	assert_int_equal(f.long_lines, 2);
	framer_free(&f);
}

static void exactly_max_line_is_not_long(void **state)
{
	struct framer f;
	struct sink s = { 0 };

	(void)state;
	framer_init(&f, false, 8, 32, sink_emit, &s);
	feed(&f, "abcdefg\n", 1);
	assert_string_equal(s.data, "abcdefg\n");
	assert_int_equal(f.long_lines, 0);
	framer_free(&f);
}

static void finish_completes_the_last_line(void **state)
{
	struct framer f;
	struct sink s = { 0 };

	(void)state;
	framer_init(&f, false, 16, 64, sink_emit, &s);
	feed(&f, "one\nlast", 64);
	framer_finish(&f);
	assert_string_equal(s.data, "one\nlast\n");
	assert_int_equal(s.records, 2);
	framer_finish(&f);                          /* nothing more */
	assert_string_equal(s.data, "one\nlast\n");
	framer_free(&f);
}

static void raw_passes_bytes_unchanged_one_record_per_read(void **state)
{
	struct framer f;
	struct sink s = { 0 };
	size_t room;
	char *p;

	(void)state;
	framer_init(&f, true, 16, 64, sink_emit, &s);
	p = framer_space(&f, &room);
	memcpy(p, "a\0b\nc", 5);
	framer_commit(&f, 5);
	framer_finish(&f);
	assert_int_equal(s.len, 5);
	assert_memory_equal(s.data, "a\0b\nc", 5);
	assert_int_equal(s.records, 1);
	framer_free(&f);
}

/* Checks that a piece is whole records: it ends in '\n' and holds as many
 * newlines as it says records, at least one. */
static void whole_record_emit(void *ctx, const char *data, size_t n, uint64_t records)
{
	uint64_t nl = 0;

	for (size_t i = 0; i < n; i++)
		nl += data[i] == '\n';
	assert_true(n > 0);
	assert_int_equal(data[n - 1], '\n');
	assert_true(records >= 1);
	assert_int_equal(nl, records);
	sink_emit(ctx, data, n, records);
}

/* Regression (found by tests/fuzz/fuzz_ring): a cut piece and its '\n' came
 * in two emits, so a reader skipped to the ring's head between them started
 * inside a record; now every emit ends at a record boundary. */
static void long_line_pieces_are_emitted_as_whole_records(void **state)
{
	struct framer f;
	struct sink s = { 0 };

	(void)state;
	framer_init(&f, false, 8, 32, whole_record_emit, &s);
	feed(&f, "abcdefghijklmnopq\nok\n", 64);      /* cut in framer_lines */
	feed(&f, "0123456789ABCDEFGHIJ", 4);            /* cut as it comes */
	framer_finish(&f);
	assert_string_equal(s.data, "abcdefg\nhijklmn\nopq\nok\n"
			    "0123456\n789ABCD\nEFGHIJ\n");
	assert_int_equal(s.records, 7);
	assert_int_equal(f.long_lines, 2);
	framer_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(whole_lines_in_one_piece),
		cmocka_unit_test(partial_line_is_held_until_its_newline),
		cmocka_unit_test(any_chunk_size_gives_the_same_records),
		cmocka_unit_test(long_line_cut_into_max_line_pieces_counted_once),
		cmocka_unit_test(long_line_without_newline_is_cut_as_it_comes),
		cmocka_unit_test(exactly_max_line_is_not_long),
		cmocka_unit_test(finish_completes_the_last_line),
		cmocka_unit_test(raw_passes_bytes_unchanged_one_record_per_read),
		cmocka_unit_test(long_line_pieces_are_emitted_as_whole_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

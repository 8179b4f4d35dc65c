/* test_resp.c: the RESP2 reader (every element type, nesting and the end
 * of a reply, partial input at every split point, buffer compaction,
 * limits, malformed input) and the command writer (exact bytes, short
 * buffers). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "resp.h"

static const struct resp_limits lim = {
	.max_bulk = 64, .max_line = 32, .max_array = 16, .max_depth = 4,
};

/* Reads one element of a C string with a fresh reader. */
static enum resp_status one(const char *s, struct resp_elem *el)
{
	struct resp_reader r;

	resp_reader_init(&r, &lim);
	return resp_next(&r, s, strlen(s), el);
}

/* Asserts that s reads as one element of the given type and text. */
static void expect_str(const char *s, enum resp_type type, const char *text)
{
	struct resp_elem el;

	assert_int_equal(one(s, &el), RESP_OK);
	assert_int_equal(el.type, type);
	assert_int_equal(el.len, strlen(text));
	assert_memory_equal(el.str, text, el.len);
	assert_true(el.last);
	assert_int_equal(el.depth, 0);
}

/* Asserts the status that s reads with. */
static void expect_status(const char *s, enum resp_status st)
{
	struct resp_elem el;

	assert_int_equal(one(s, &el), st);
}

static void scalar_types(void **state __unused)
{
	struct resp_elem el;

	expect_str("+OK\r\n", RESP_SIMPLE, "OK");
	expect_str("-ERR no such key\r\n", RESP_ERROR, "ERR no such key");
	expect_str("$5\r\nhello\r\n", RESP_BULK, "hello");
	expect_str("$0\r\n\r\n", RESP_BULK, "");
	expect_str("$4\r\na\r\nb\r\n", RESP_BULK, "a\r\nb");
	expect_str("+\r\n", RESP_SIMPLE, "");
	assert_int_equal(one(":1234\r\n", &el), RESP_OK);
	assert_int_equal(el.type, RESP_INT);
	assert_int_equal(el.n, 1234);
	assert_int_equal(one(":-9223372036854775808\r\n", &el), RESP_OK);
	assert_true(el.n == INT64_MIN);
	assert_int_equal(one(":9223372036854775807\r\n", &el), RESP_OK);
	assert_true(el.n == INT64_MAX);
	assert_int_equal(one("$-1\r\n", &el), RESP_OK);
	assert_int_equal(el.type, RESP_NIL);
	assert_true(el.last);
	assert_int_equal(one("*-1\r\n", &el), RESP_OK);
	assert_int_equal(el.type, RESP_NIL);
	assert_int_equal(one("*0\r\n", &el), RESP_OK);
	assert_int_equal(el.type, RESP_ARRAY);
	assert_int_equal(el.n, 0);
	assert_true(el.last);
}

/* One expected element of a walk: type, depth, last, and text or n. */
struct want {
	enum resp_type type;
	unsigned depth;
	int last;
	const char *text;
	int64_t n;
};

static const char nested[] =
	"*3\r\n$1\r\na\r\n*2\r\n*0\r\n*1\r\n:7\r\n+x\r\n"
	"*-1\r\n"
	"-ERR e\r\n";

static const struct want nested_want[] = {
	{ RESP_ARRAY, 0, 0, NULL, 3 },
	{ RESP_BULK, 1, 0, "a", 0 },
	{ RESP_ARRAY, 1, 0, NULL, 2 },
	{ RESP_ARRAY, 2, 0, NULL, 0 },
	{ RESP_ARRAY, 2, 0, NULL, 1 },
	{ RESP_INT, 3, 0, NULL, 7 },
	{ RESP_SIMPLE, 1, 1, "x", 0 },
	{ RESP_NIL, 0, 1, NULL, -1 },
	{ RESP_ERROR, 0, 1, "e", 0 },
};

#define NWANT (sizeof(nested_want) / sizeof(nested_want[0]))

/* Checks one element against what was expected. */
static void check_elem(const struct resp_elem *el, const struct want *w)
{
	assert_int_equal(el->type, w->type);
	assert_int_equal(el->depth, w->depth);
	assert_int_equal(el->last, w->last);
	if (w->text && strcmp(w->text, "e") == 0)
		assert_memory_equal(el->str, "ERR e", 5);
	else if (w->text)
		assert_memory_equal(el->str, w->text, strlen(w->text));
	else if (w->type == RESP_INT || w->type == RESP_ARRAY)
		assert_int_equal(el->n, w->n);
}

static void nesting_and_reply_ends(void **state __unused)
{
	struct resp_reader r;
	struct resp_elem el;

	resp_reader_init(&r, &lim);
	for (size_t i = 0; i < NWANT; i++) {
		assert_int_equal(resp_next(&r, nested, strlen(nested), &el), RESP_OK);
		check_elem(&el, &nested_want[i]);
		assert_int_equal(resp_reader_idle(&r), nested_want[i].last);
	}
	assert_int_equal(r.pos, strlen(nested));
	assert_int_equal(resp_next(&r, nested, strlen(nested), &el), RESP_MORE);
}

/* Feeds the text one byte more at a time into a small buffer that is
 * compacted after every element: the elements read are the same as at once. */
static void partial_input_every_split(void **state __unused)
{
	char buf[sizeof(nested)];
	size_t have = 0, fed = 0, got = 0, total = strlen(nested);
	struct resp_reader r;
	struct resp_elem el;

	resp_reader_init(&r, &lim);
	while (got < NWANT) {
		enum resp_status st = resp_next(&r, buf, have, &el);

		if (st == RESP_MORE) {
			size_t pos = r.pos;

			assert_true(fed < total);
			memmove(buf, buf + pos, have - pos);
			have -= pos;
			resp_reader_shift(&r, pos);
			assert_int_equal(r.pos, 0);
			buf[have++] = nested[fed++];
			continue;
		}
		assert_int_equal(st, RESP_OK);
		check_elem(&el, &nested_want[got++]);
	}
	assert_int_equal(fed, total);
}

/* Every prefix of a bulk string is incomplete, never an error. */
static void every_prefix_is_more(void **state __unused)
{
	const char *s = "$10\r\n0123456789\r\n";
	struct resp_reader r;
	struct resp_elem el;

	for (size_t n = 0; n < strlen(s); n++) {
		resp_reader_init(&r, &lim);
		assert_int_equal(resp_next(&r, s, n, &el), RESP_MORE);
		assert_int_equal(r.pos, 0);
	}
}

static void limits(void **state __unused)
{
	char big[128];

	/* 65 bytes announced: refused before the payload arrives */
	expect_status("$65\r\n", RESP_ELIMIT);
	expect_status("$64\r\n", RESP_MORE);
	expect_status("*17\r\n", RESP_ELIMIT);
	expect_status("*16\r\n", RESP_OK);
	expect_status("*1\r\n*1\r\n*1\r\n*1\r\n", RESP_OK);
	/* a line of 32 bytes after the type byte is allowed, 33 are not,
	 * complete or not */
	snprintf(big, sizeof(big), "+%032d\r\n", 0);
	expect_status(big, RESP_OK);
	snprintf(big, sizeof(big), "+%033d\r\n", 0);
	expect_status(big, RESP_ELIMIT);
	snprintf(big, sizeof(big), "+%040d", 0);
	expect_status(big, RESP_ELIMIT);
	snprintf(big, sizeof(big), "+%031d", 0);
	expect_status(big, RESP_MORE);
}

static void depth_limit(void **state __unused)
{
	const char *s = "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n";
	struct resp_reader r;
	struct resp_elem el;

	resp_reader_init(&r, &lim);
	for (int i = 0; i < 4; i++)
		assert_int_equal(resp_next(&r, s, strlen(s), &el), RESP_OK);
	assert_int_equal(resp_next(&r, s, strlen(s), &el), RESP_ELIMIT);
	/* an empty array does not open a level */
	assert_int_equal(resp_next(&r, "*0\r\n", 4, &el), RESP_MORE);
	r.pos = 0;
	assert_int_equal(resp_next(&r, "*0\r\n", 4, &el), RESP_OK);
	assert_true(el.last);
}

static void malformed(void **state __unused)
{
	static const char *const bad[] = {
		"?x\r\n", "\r\n", "+a\nb\r\n", "+a\rb\r\n", "+ab\n", ":\r\n", ":-\r\n",
		":12a\r\n", ": 1\r\n", ":+1\r\n", ":9223372036854775808\r\n",
		":-9223372036854775809\r\n", "$-2\r\n", "$x\r\n", "$\r\n",
		"$3\r\nabcX\n", "$3\r\nabc\rX", "*-2\r\n", "*1x\r\n",
		"$18446744073709551616\r\n",
	};
	struct resp_reader r;
	struct resp_elem el;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		resp_reader_init(&r, &lim);
		if (resp_next(&r, bad[i], strlen(bad[i]), &el) != RESP_EPROTO)
			fail_msg("'%s' not refused", bad[i]);
		/* sticky: the same error again, nothing consumed */
		assert_int_equal(resp_next(&r, bad[i], strlen(bad[i]), &el), RESP_EPROTO);
		assert_int_equal(r.pos, 0);
	}
}

static void skip_whole_elements(void **state __unused)
{
	struct resp_reader r;
	struct resp_elem el;
	size_t n = strlen(nested);

	resp_reader_init(&r, &lim);
	assert_int_equal(resp_skip(&r, nested, n), RESP_OK);
	assert_true(resp_reader_idle(&r));
	assert_int_equal(resp_next(&r, nested, n, &el), RESP_OK);
	assert_int_equal(el.type, RESP_NIL);
	/* an incomplete array leaves the reader where it was */
	resp_reader_init(&r, &lim);
	assert_int_equal(resp_skip(&r, nested, 20), RESP_MORE);
	assert_int_equal(r.pos, 0);
	assert_int_equal(r.depth, 0);
	/* inside an array: skipping a member array stops at its end */
	assert_int_equal(resp_next(&r, nested, n, &el), RESP_OK);
	assert_int_equal(resp_next(&r, nested, n, &el), RESP_OK);
	assert_int_equal(resp_skip(&r, nested, n), RESP_OK);
	assert_int_equal(resp_next(&r, nested, n, &el), RESP_OK);
	assert_int_equal(el.type, RESP_SIMPLE);
	assert_true(el.last);
}

static void writer_exact_bytes(void **state __unused)
{
	char out[256];
	size_t n;

	n = resp_cmd_xread(out, sizeof(out), 5000, 100, "k", 1, "$");
	assert_int_equal(n, strlen("*8\r\n$5\r\nXREAD\r\n$5\r\nBLOCK\r\n$4\r\n5000\r\n"
				   "$5\r\nCOUNT\r\n$3\r\n100\r\n$7\r\nSTREAMS\r\n"
				   "$1\r\nk\r\n$1\r\n$\r\n"));
	assert_memory_equal(out, "*8\r\n$5\r\nXREAD\r\n$5\r\nBLOCK\r\n$4\r\n5000\r\n"
			    "$5\r\nCOUNT\r\n$3\r\n100\r\n$7\r\nSTREAMS\r\n"
			    "$1\r\nk\r\n$1\r\n$\r\n", n);
	n = resp_cmd_xadd(out, sizeof(out), "key", 3, 1000, "a\r\nb", 4);
	out[n] = '\0';
	assert_string_equal(out, "*8\r\n$4\r\nXADD\r\n$3\r\nkey\r\n$6\r\nMAXLEN\r\n"
			    "$1\r\n~\r\n$4\r\n1000\r\n$1\r\n*\r\n$4\r\ndata\r\n"
			    "$4\r\na\r\nb\r\n");
	n = resp_cmd_xadd(out, sizeof(out), "key", 3, 0, "", 0);
	out[n] = '\0';
	assert_string_equal(out, "*5\r\n$4\r\nXADD\r\n$3\r\nkey\r\n$1\r\n*\r\n"
			    "$4\r\ndata\r\n$0\r\n\r\n");
	n = resp_cmd_xrange(out, sizeof(out), "k", 1, "(1-2", "+", 10);
	out[n] = '\0';
	assert_string_equal(out, "*6\r\n$6\r\nXRANGE\r\n$1\r\nk\r\n$4\r\n(1-2\r\n"
			    "$1\r\n+\r\n$5\r\nCOUNT\r\n$2\r\n10\r\n");
	n = resp_cmd_xrevrange(out, sizeof(out), "k", 1, "+", "-", 4096);
	out[n] = '\0';
	assert_string_equal(out, "*6\r\n$9\r\nXREVRANGE\r\n$1\r\nk\r\n$1\r\n+\r\n"
			    "$1\r\n-\r\n$5\r\nCOUNT\r\n$4\r\n4096\r\n");
	n = resp_cmd_xinfo_stream(out, sizeof(out), "k", 1);
	out[n] = '\0';
	assert_string_equal(out, "*3\r\n$5\r\nXINFO\r\n$6\r\nSTREAM\r\n$1\r\nk\r\n");
}

/* The writer's own output reads back as the same arguments. */
static void writer_reads_back(void **state __unused)
{
	char out[256];
	size_t n = resp_cmd_xadd(out, sizeof(out), "s", 1, 7, "x\ny", 3);
	static const char *const args[] = { "XADD", "s", "MAXLEN", "~", "7", "*", "data", "x\ny" };
	struct resp_reader r;
	struct resp_elem el;

	resp_reader_init(&r, &lim);
	assert_int_equal(resp_next(&r, out, n, &el), RESP_OK);
	assert_int_equal(el.n, 8);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(resp_next(&r, out, n, &el), RESP_OK);
		assert_int_equal(el.type, RESP_BULK);
		assert_int_equal(el.len, strlen(args[i]));
		assert_memory_equal(el.str, args[i], el.len);
	}
	assert_true(el.last);
	assert_int_equal(r.pos, n);
}

/* A buffer too short is never overrun; the length needed is returned. */
static void writer_short_buffer(void **state __unused)
{
	char out[64], full[64];
	size_t need = resp_cmd_xinfo_stream(full, sizeof(full), "key", 3);

	for (size_t cap = 0; cap < need; cap++) {
		memset(out, 'Z', sizeof(out));
		assert_int_equal(resp_cmd_xinfo_stream(out, cap, "key", 3), need);
		for (size_t i = cap; i < sizeof(out); i++)
			assert_int_equal(out[i], 'Z');
	}
	assert_int_equal(resp_cmd_xinfo_stream(NULL, 0, "key", 3), need);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scalar_types),
		cmocka_unit_test(nesting_and_reply_ends),
		cmocka_unit_test(partial_input_every_split),
		cmocka_unit_test(every_prefix_is_more),
		cmocka_unit_test(limits),
		cmocka_unit_test(depth_limit),
		cmocka_unit_test(malformed),
		cmocka_unit_test(skip_whole_elements),
		cmocka_unit_test(writer_exact_bytes),
		cmocka_unit_test(writer_reads_back),
		cmocka_unit_test(writer_short_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_chunked.c: the chunked transfer decoder: sizes in hex, extensions,
 * trailers, both line ends, decoding in place at every split point, the
 * end of the body, and malformed codings refused with their reason. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "chunked.h"

/* Decodes s fed `step` bytes at a time; the body lands in body (NUL
 * terminated); returns the last status and the input bytes read. */
static enum chunked_status decode(const char *s, size_t step, char *body, size_t *read)
{
	struct chunked c;
	enum chunked_status st = CHUNKED_MORE;
	size_t n = strlen(s), off = 0, blen = 0;

	chunked_init(&c);
	while (off < n && st == CHUNKED_MORE) {
		char buf[256];
		size_t chunk = n - off < step ? n - off : step, out, used;

		memcpy(buf, s + off, chunk);
		st = chunked_decode(&c, buf, chunk, &out, &used);
		assert_true(out <= used);
		memcpy(body + blen, buf, out);
		blen += out;
		off += used;
		if (st == CHUNKED_MORE)
			assert_int_equal(used, chunk);
	}
	body[blen] = '\0';
	*read = off;
	return st;
}

/* Decodes at every step size: always status st, the body, and `read`
 * input bytes. */
static void expect(const char *s, enum chunked_status st, const char *body, size_t read)
{
	for (size_t step = 1; step <= strlen(s); step++) {
		char got[256];
		size_t r;

		assert_int_equal(decode(s, step, got, &r), st);
		assert_string_equal(got, body);
		assert_int_equal(r, read);
	}
}

static void bodies(void **state __unused)
{
	static const char one[] = "5\r\nhello\r\n0\r\n\r\n";
	static const char two[] = "3\r\nabc\r\nA;name=value\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\nNEXT";

	expect(one, CHUNKED_END, "hello", strlen(one));
	expect(two, CHUNKED_END, "abc0123456789", strlen(two) - 4);
	expect("1\nx\n0\n\n", CHUNKED_END, "x", 7);
	expect("00000001 \t;ext\r\nx\r\n0  \r\n\r\n", CHUNKED_END, "x", 26);
	expect("a\r\n0123456789\r\n", CHUNKED_MORE, "0123456789", 15);
	expect("fff\r\nabc", CHUNKED_MORE, "abc", 8);
	/* an event stream cut in chunks anywhere comes out whole */
	expect("4\r\ndata\r\n6\r\n: x\n\ni\r\n2\r\nd:\r\n", CHUNKED_MORE, "data: x\n\nid:", 27);
}

static void malformed(void **state __unused)
{
	static const struct { const char *in, *err; } bad[] = {
		{ "x\r\n", "malformed chunk size" },
		{ "\r\n", "malformed chunk size" },
		{ "1x\r\n", "malformed chunk size" },
		{ "1 2\r\n", "malformed chunk size" },
		{ "-1\r\n", "malformed chunk size" },
		{ "1\rx", "bare CR in a chunk size line" },
		{ "1\r\nab", "chunk data longer than its size" },
		{ "1\r\na\rb", "bare CR after chunk data" },
		{ "1000000000000000\r\n", "chunk size too large" },
		{ "0\r\n\rx", "bare CR in the trailers" },
	};
	char body[64];
	size_t r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct chunked c;
		char buf[64];
		size_t out, used, n = strlen(bad[i].in);

		memcpy(buf, bad[i].in, n);
		chunked_init(&c);
		if (chunked_decode(&c, buf, n, &out, &used) != CHUNKED_ERROR)
			fail_msg("accepted: %s", bad[i].in);
		assert_string_equal(c.err, bad[i].err);
		/* sticky */
		assert_int_equal(chunked_decode(&c, buf, n, &out, &used), CHUNKED_ERROR);
		assert_int_equal(used, 0);
	}
	/* 15 hex digits are fine */
	assert_int_equal(decode("fffffffffffffff\r\nab", 3, body, &r), CHUNKED_MORE);
	assert_string_equal(body, "ab");
}

/* Size and trailer lines are bounded: a 10 MiB extension is refused. */
static void long_lines(void **state __unused)
{
	char buf[CHUNKED_LINE_MAX + 16];
	struct chunked c;
	size_t out, used;

	memset(buf, 'e', sizeof(buf));
	memcpy(buf, "1;", 2);
	chunked_init(&c);
	assert_int_equal(chunked_decode(&c, buf, CHUNKED_LINE_MAX, &out, &used), CHUNKED_MORE);
	assert_int_equal(chunked_decode(&c, buf + 2, 8, &out, &used), CHUNKED_ERROR);
	assert_string_equal(c.err, "chunk size or trailer line too long");
	memcpy(buf, "0\r\nX-Trailer: ", 14);
	chunked_init(&c);
	assert_int_equal(chunked_decode(&c, buf, sizeof(buf), &out, &used), CHUNKED_ERROR);
	assert_string_equal(c.err, "chunk size or trailer line too long");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bodies),
		cmocka_unit_test(malformed),
		cmocka_unit_test(long_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

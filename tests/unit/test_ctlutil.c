/* test_ctlutil.c: pipecastctl's pure helpers: reply framing, the `show info` table, rates, intervals, human-readable figures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "alloc.h"
#include "ctlutil.h"

/* A reply ends at its first empty line; the body keeps its last newline. */
static void reply_end_found(void **state)
{
	static const char two[] = "ok\n\nnext: 1\n\n";

	(void)state;
	assert_int_equal(ctl_reply_end("ok\n\n", 4), 4);
	assert_int_equal(ctl_reply_end(two, sizeof(two) - 1), 4);
	assert_int_equal(ctl_reply_end("a: 1\nb: 2\n\n", 11), 11);
	assert_int_equal(ctl_reply_end("\n", 1), 1);
}

/* Until the empty line has arrived, the reply is incomplete. */
static void reply_end_incomplete(void **state)
{
	(void)state;
	assert_int_equal(ctl_reply_end(NULL, 0), 0);
	assert_int_equal(ctl_reply_end("ok", 2), 0);
	assert_int_equal(ctl_reply_end("ok\n", 3), 0);
	assert_int_equal(ctl_reply_end("a: 1\nb: 2\n", 10), 0);
}

/* Only an `error:` prefix marks an error. */
static void reply_error_prefix(void **state)
{
	(void)state;
	assert_true(ctl_reply_is_error("error: no such client\n", 22));
	assert_true(ctl_reply_is_error("error:", 6));
	assert_false(ctl_reply_is_error("error", 5));
	assert_false(ctl_reply_is_error("ok\n", 3));
	assert_false(ctl_reply_is_error("last_error: 1\n", 14));
}

/* Names and values, in order, values may contain ": "; junk lines skipped. */
static void info_parse_and_get(void **state)
{
	static const char body[] = "version: 0.1.0\nsource_records_total: 5\n"
				   "junk\n: novalue\nnote: a: b\n";
	struct ctl_info info;
	uint64_t v = 0;

	(void)state;
	assert_int_equal(ctl_info_parse(body, sizeof(body) - 1, &info), 0);
	assert_int_equal(info.n, 3);
	assert_string_equal(info.kv[0].name, "version");
	assert_string_equal(ctl_info_get(&info, "version"), "0.1.0");
	assert_string_equal(ctl_info_get(&info, "note"), "a: b");
	assert_null(ctl_info_get(&info, "junk"));
	assert_int_equal(ctl_info_u64(&info, "source_records_total", &v), 0);
	assert_int_equal(v, 5);
	ctl_info_free(&info);
	assert_null(info.kv);
}

/* Integers only: a string or a missing name leaves the output alone. */
static void info_u64_and_sum(void **state)
{
	static const char body[] = "a: 1\nb: 20\nc: x\nd: -1\n";
	static const char *const ab[] = { "a", "b", NULL };
	static const char *const abc[] = { "a", "b", "c", NULL };
	static const char *const az[] = { "a", "z", NULL };
	struct ctl_info info;
	uint64_t v = 42;

	(void)state;
	assert_int_equal(ctl_info_parse(body, sizeof(body) - 1, &info), 0);
	assert_int_equal(ctl_info_u64(&info, "c", &v), -1);
	assert_int_equal(ctl_info_u64(&info, "d", &v), -1);
	assert_int_equal(ctl_info_u64(&info, "zz", &v), -1);
	assert_int_equal(v, 42);
	assert_int_equal(ctl_info_sum(&info, ab, &v), 0);
	assert_int_equal(v, 21);
	assert_int_equal(ctl_info_sum(&info, abc, &v), -1);
	assert_int_equal(ctl_info_sum(&info, az, &v), -1);
	assert_int_equal(v, 21);
	ctl_info_free(&info);
}

/* An empty body parses to an empty table, and nothing leaks. */
static void info_empty_no_leak(void **state)
{
	uint64_t live = alloc_live();
	struct ctl_info info;

	(void)state;
	assert_int_equal(ctl_info_parse("", 0, &info), 0);
	assert_int_equal(info.n, 0);
	assert_null(ctl_info_get(&info, "version"));
	ctl_info_free(&info);
	ctl_info_free(&info);
	assert_int_equal(alloc_live(), live);
}

/* Deltas per second; no rate without time or when a counter went back. */
static void rate_cases(void **state)
{
	double r = -1;

	(void)state;
	assert_int_equal(ctl_rate(100, 600, 0.5, &r), 0);
	assert_true(r > 999.999 && r < 1000.001);
	assert_int_equal(ctl_rate(7, 7, 2.0, &r), 0);
	assert_true(r == 0);
	r = -1;
	assert_int_equal(ctl_rate(1, 2, 0, &r), -1);
	assert_int_equal(ctl_rate(1, 2, -1, &r), -1);
	assert_int_equal(ctl_rate(10, 2, 1, &r), -1);
	assert_true(r == -1);
}

/* Parses s with watch's bounds; returns the result code. */
static int secs(const char *s, uint64_t *ms)
{
	return ctl_parse_seconds(s, 100, 3600000, ms);
}

/* Integers and up to three decimals. */
static void seconds_accepted(void **state)
{
	uint64_t ms = 0;

	(void)state;
	assert_int_equal(secs("1", &ms), 0);
	assert_int_equal(ms, 1000);
	assert_int_equal(secs("0.5", &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(secs("0.1", &ms), 0);
	assert_int_equal(ms, 100);
	assert_int_equal(secs("2.25", &ms), 0);
	assert_int_equal(ms, 2250);
	assert_int_equal(secs("0.125", &ms), 0);
	assert_int_equal(ms, 125);
	assert_int_equal(secs("3600", &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(secs("3600.000", &ms), 0);
	assert_int_equal(ms, 3600000);
}

/* Malformed spellings are -1, out-of-range values -2; output untouched. */
static void seconds_refused(void **state)
{
	static const char *const bad[] = {
		"", ".", ".5", "1.", "-1", "+1", "1e3", "0x10", " 1", "1 ", "1s",
		"0.1234", "inf", "nan", "1..2", NULL,
	};
	static const char *const range[] = {
		"0", "0.099", "0.0", "3600.001", "3601", "99999999999999999999999", NULL,
	};
	uint64_t ms = 42;

	(void)state;
	for (const char *const *s = bad; *s; s++)
		if (secs(*s, &ms) != -1)
			fail_msg("'%s' not refused as malformed", *s);
	for (const char *const *s = range; *s; s++)
		if (secs(*s, &ms) != -2)
			fail_msg("'%s' not refused as out of range", *s);
	assert_int_equal(ms, 42);
}

/* Binary units, moving up before a value would print as 1024. */
static void human_bytes(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(ctl_human_bytes(0, b, sizeof(b)), "0 B");
	assert_string_equal(ctl_human_bytes(1023, b, sizeof(b)), "1023 B");
	assert_string_equal(ctl_human_bytes(1024, b, sizeof(b)), "1.0 KiB");
	assert_string_equal(ctl_human_bytes(1536, b, sizeof(b)), "1.5 KiB");
	assert_string_equal(ctl_human_bytes(1048575, b, sizeof(b)), "1.0 MiB");
	assert_string_equal(ctl_human_bytes(4194304, b, sizeof(b)), "4.0 MiB");
	assert_string_equal(ctl_human_bytes(5.0 * (1ULL << 40), b, sizeof(b)), "5.0 TiB");
	assert_string_equal(ctl_human_bytes(-3, b, sizeof(b)), "0 B");
}

/* Decimal units for per-second counts. */
static void human_count(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(ctl_human_count(0, b, sizeof(b)), "0.00");
	assert_string_equal(ctl_human_count(0.5, b, sizeof(b)), "0.50");
	assert_string_equal(ctl_human_count(0.25, b, sizeof(b)), "0.25");
	assert_string_equal(ctl_human_count(9.99, b, sizeof(b)), "9.99");
	assert_string_equal(ctl_human_count(9.999, b, sizeof(b)), "10.0");
	assert_string_equal(ctl_human_count(12.34, b, sizeof(b)), "12.3");
	assert_string_equal(ctl_human_byte_rate(2.5, b, sizeof(b)), "2.5 B");
	assert_string_equal(ctl_human_byte_rate(0, b, sizeof(b)), "0.0 B");
	assert_string_equal(ctl_human_byte_rate(100, b, sizeof(b)), "100 B");
	assert_string_equal(ctl_human_byte_rate(2048, b, sizeof(b)), "2.0 KiB");
	assert_string_equal(ctl_human_count(999.9, b, sizeof(b)), "999.9");
	assert_string_equal(ctl_human_count(999.96, b, sizeof(b)), "1.0k");
	assert_string_equal(ctl_human_count(1234, b, sizeof(b)), "1.2k");
	assert_string_equal(ctl_human_count(3.4e6, b, sizeof(b)), "3.4M");
	assert_string_equal(ctl_human_count(5.6e9, b, sizeof(b)), "5.6G");
}

/* Columns line up on a terminal; the cells themselves are unchanged. */
static void align_columns(void **state)
{
	const char *t = "id addr age_s\n7 127.0.0.1:5555 1.000\n12 unix 10.250\n";
	char *a = ctl_align_columns(t, strlen(t));

	(void)state;
	assert_non_null(a);
	assert_string_equal(a, "id addr           age_s\n"
			       "7  127.0.0.1:5555 1.000\n"
			       "12 unix           10.250\n");
	pc_free(a);
	a = ctl_align_columns("", 0);
	assert_string_equal(a, "");
	pc_free(a);
}

/* Two or three largest units of an uptime. */
static void human_duration(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(ctl_human_duration(0, b, sizeof(b)), "0s");
	assert_string_equal(ctl_human_duration(45, b, sizeof(b)), "45s");
	assert_string_equal(ctl_human_duration(123, b, sizeof(b)), "2m03s");
	assert_string_equal(ctl_human_duration(3723, b, sizeof(b)), "1h02m03s");
	assert_string_equal(ctl_human_duration(273900, b, sizeof(b)), "3d04h05m");
}

/* Small buffers get a truncated, terminated string. */
static void human_truncates(void **state)
{
	char b[4];

	(void)state;
	assert_string_equal(ctl_human_bytes(1536, b, sizeof(b)), "1.5");
	assert_string_equal(ctl_human_duration(3723, b, sizeof(b)), "1h0");
}

/* Control characters stop a safe run; UTF-8 text and newlines do not. */
static void terminal_safety(void **state)
{
	char s[] = "ok \xc3\xa9\n\t\x1b[2J\x07\xc2\x9b" "1m\x7f\x85";

	(void)state;
	assert_int_equal(ctl_safe_span(s, strlen(s)), 7);
	assert_int_equal(ctl_safe_span("plain\n", 6), 6);
	assert_int_equal(ctl_safe_span("\r", 1), 0);
	ctl_defang(s, strlen(s));
	assert_string_equal(s, "ok \xc3\xa9\n\t?[2J???1m??");
}

/* Runs every test of this file; the exit status is the number of failures. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reply_end_found),
		cmocka_unit_test(reply_end_incomplete),
		cmocka_unit_test(reply_error_prefix),
		cmocka_unit_test(info_parse_and_get),
		cmocka_unit_test(info_u64_and_sum),
		cmocka_unit_test(info_empty_no_leak),
		cmocka_unit_test(rate_cases),
		cmocka_unit_test(seconds_accepted),
		cmocka_unit_test(seconds_refused),
		cmocka_unit_test(human_bytes),
		cmocka_unit_test(human_count),
		cmocka_unit_test(align_columns),
		cmocka_unit_test(human_duration),
		cmocka_unit_test(human_truncates),
		cmocka_unit_test(terminal_safety),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

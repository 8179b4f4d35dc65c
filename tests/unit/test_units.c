/* test_units.c: the number syntaxes of the configuration file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "units.h"

/* Parses s as a duration that must be accepted and returns milliseconds. */
static uint64_t dur(const char *s)
{
	uint64_t v = 0;

	assert_int_equal(units_parse_duration(s, &v), 0);
	return v;
}

/* Parses s as a size that must be accepted and returns bytes. */
static uint64_t size(const char *s)
{
	uint64_t v = 0;

	assert_int_equal(units_parse_size(s, &v), 0);
	return v;
}

/* Asserts that s is a malformed duration and that the output is untouched. */
static void dur_bad(const char *s)
{
	uint64_t v = 42;

	if (units_parse_duration(s, &v) != -1)
		fail_msg("duration '%s' accepted", s);
	assert_int_equal(v, 42);
}

/* Asserts that s is a well-formed duration too large for 64 bits (out of
 * range, not malformed) and that the output is untouched. */
static void dur_range(const char *s)
{
	uint64_t v = 42;

	if (units_parse_duration(s, &v) != UNITS_RANGE)
		fail_msg("duration '%s' not reported out of range", s);
	assert_int_equal(v, 42);
}

/* Asserts that s is a malformed size and that the output is untouched. */
static void size_bad(const char *s)
{
	uint64_t v = 42;

	if (units_parse_size(s, &v) != -1)
		fail_msg("size '%s' accepted", s);
	assert_int_equal(v, 42);
}

/* Every duration suffix scales as pipecast.conf(5) says. */
static void duration_every_suffix(void **state)
{
	(void)state;
	assert_int_equal(dur("250ms"), 250);
	assert_int_equal(dur("30s"), 30000);
	assert_int_equal(dur("5m"), 300000);
	assert_int_equal(dur("2h"), 7200000);
	assert_int_equal(dur("3d"), 3ULL * 86400000);
}

/* A bare integer is seconds; zero is zero with or without a suffix. */
static void duration_bare_is_seconds_and_zero(void **state)
{
	(void)state;
	assert_int_equal(dur("300"), 300000);
	assert_int_equal(dur("0"), 0);
	assert_int_equal(dur("0ms"), 0);
	assert_int_equal(dur("0d"), 0);
	assert_int_equal(dur("007s"), 7000);
}

/* Fractions, compounds, blanks, signs, unknown or upper-case suffixes and
 * empty strings are malformed. */
static void duration_rejects_garbage(void **state)
{
	static const char *const bad[] = {
		"", "s", "ms", "1.5s", "1,5s", ".5s", "1m30s", "1h1m", " 5s", "5s ",
		"5 s", "-5s", "+5s", "5x", "5S", "5MS", "5sec", "5min", "0x10",
		"5ss", "5\ts", "5us", "1e3", NULL,
	};

	(void)state;
	for (size_t i = 0; bad[i]; i++)
		dur_bad(bad[i]);
}

/* Well-formed values that do not fit 64 bits, before or after scaling, are
 * out of range; a malformed tail stays malformed. */
static void duration_overflow_is_out_of_range(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(dur("18446744073709551615ms"), UINT64_MAX);
	dur_range("18446744073709551616ms");
	dur_range("18446744073709551615s");
	dur_range("18446744073709551615");
	dur_range("9999999999999999999");
	dur_range("213503982335d");
	dur_range("99999999999999999999999999");
	dur_bad("99999999999999999999999999x");
	assert_int_equal(units_parse_size("99999999999999999999G", &v), UNITS_RANGE);
	assert_int_equal(units_parse_uint("99999999999999999999", &v), UNITS_RANGE);
}

/* Every size suffix scales by powers of 1024; bare numbers are bytes. */
static void size_every_suffix_and_bare(void **state)
{
	(void)state;
	assert_int_equal(size("512"), 512);
	assert_int_equal(size("512B"), 512);
	assert_int_equal(size("64K"), 65536);
	assert_int_equal(size("64KiB"), 65536);
	assert_int_equal(size("4M"), 4194304);
	assert_int_equal(size("4MiB"), 4194304);
	assert_int_equal(size("1G"), 1073741824);
	assert_int_equal(size("1GiB"), 1073741824);
	assert_int_equal(size("0"), 0);
	assert_int_equal(size("0B"), 0);
	assert_int_equal(size("0GiB"), 0);
}

/* Decimal, lower-case, spaced, signed, fractional or compound sizes are
 * malformed. */
static void size_rejects_garbage(void **state)
{
	static const char *const bad[] = {
		"", "K", "KiB", "1.5M", "1M512K", " 1M", "1M ", "1 M", "-1M", "+1M",
		"1k", "1kib", "1KB", "1MB", "1Ki", "1b", "1T", "1TiB", "1iB",
		"0x10", "1Mi", NULL,
	};

	(void)state;
	for (size_t i = 0; bad[i]; i++)
		size_bad(bad[i]);
}

/* Sizes that do not fit 64 bits after scaling are out of range. */
static void size_overflow_is_out_of_range(void **state)
{
	uint64_t v = 42;

	(void)state;
	assert_int_equal(size("18446744073709551615"), UINT64_MAX);
	assert_int_equal(units_parse_size("18446744073709551616", &v), UNITS_RANGE);
	assert_int_equal(units_parse_size("17179869184GiB", &v), UNITS_RANGE);
	assert_int_equal(v, 42);
	assert_int_equal(size("17179869183GiB"), 17179869183ULL << 30);
}

/* Octal modes: "0" and up to three octal digits, nothing else. */
static void octal_accepts_zero_prefixed_up_to_three_digits(void **state)
{
	unsigned m = 1;

	(void)state;
	assert_int_equal(units_parse_octal("0", &m), 0);
	assert_int_equal(m, 0);
	assert_int_equal(units_parse_octal("00", &m), 0);
	assert_int_equal(m, 0);
	assert_int_equal(units_parse_octal("07", &m), 0);
	assert_int_equal(m, 07);
	assert_int_equal(units_parse_octal("0660", &m), 0);
	assert_int_equal(m, 0660);
	assert_int_equal(units_parse_octal("0777", &m), 0);
	assert_int_equal(m, 0777);
}

/* Octal modes without the leading 0, with 8 or 9, too long, signed or
 * spaced are malformed and leave the output alone. */
static void octal_rejects_garbage(void **state)
{
	static const char *const bad[] = {
		"", "660", "0668", "0690", "01777", "00000", "-0660", "+0660",
		" 0660", "0660 ", "0x1ff", "0o660", "0660s", NULL,
	};
	unsigned m = 5;

	(void)state;
	for (size_t i = 0; bad[i]; i++) {
		if (units_parse_octal(bad[i], &m) != -1)
			fail_msg("octal '%s' accepted", bad[i]);
	}
	assert_int_equal(m, 5);
}

/* Plain integers: digits only, up to UINT64_MAX. */
static void uint_digits_only(void **state)
{
	static const char *const bad[] = {
		"", "-1", "+1", "1.0", "1k", " 1", "1 ", "1e3", "0x10",
		NULL,
	};
	uint64_t v = 0;

	(void)state;
	assert_int_equal(units_parse_uint("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(units_parse_uint("1000000", &v), 0);
	assert_int_equal(v, 1000000);
	assert_int_equal(units_parse_uint("18446744073709551615", &v), 0);
	assert_int_equal(v, UINT64_MAX);
	for (size_t i = 0; bad[i]; i++) {
		v = 7;
		if (units_parse_uint(bad[i], &v) != -1 ||
		    units_parse_uint_n(bad[i], strlen(bad[i]), &v) != -1)
			fail_msg("integer '%s' accepted", bad[i]);
		assert_int_equal(v, 7);
	}
	/* the counted form stops at n, whatever follows */
	assert_int_equal(units_parse_uint_n("18446744073709551615x", 20, &v), 0);
	assert_int_equal(v, UINT64_MAX);
	assert_int_equal(units_parse_uint_n("123\r\n", 3, &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(units_parse_uint_n("123", 0, &v), -1);
}

/* Durations are written with the largest exact unit. */
static void format_duration_largest_exact_unit(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(units_format_duration(0, b, sizeof(b)), "0");
	assert_string_equal(units_format_duration(1, b, sizeof(b)), "1ms");
	assert_string_equal(units_format_duration(300, b, sizeof(b)), "300ms");
	assert_string_equal(units_format_duration(1500, b, sizeof(b)), "1500ms");
	assert_string_equal(units_format_duration(30000, b, sizeof(b)), "30s");
	assert_string_equal(units_format_duration(90000, b, sizeof(b)), "90s");
	assert_string_equal(units_format_duration(300000, b, sizeof(b)), "5m");
	assert_string_equal(units_format_duration(3600000, b, sizeof(b)), "1h");
	assert_string_equal(units_format_duration(86400000, b, sizeof(b)), "1d");
	assert_string_equal(units_format_duration(30ULL * 86400000, b, sizeof(b)),
			    "30d");
	assert_string_equal(units_format_duration(UINT64_MAX, b, sizeof(b)),
			    "18446744073709551615ms");
}

/* Sizes are written with the largest exact binary unit. */
static void format_size_largest_exact_unit(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(units_format_size(0, b, sizeof(b)), "0B");
	assert_string_equal(units_format_size(100, b, sizeof(b)), "100B");
	assert_string_equal(units_format_size(1536, b, sizeof(b)), "1536B");
	assert_string_equal(units_format_size(65536, b, sizeof(b)), "64KiB");
	assert_string_equal(units_format_size(4194304, b, sizeof(b)), "4MiB");
	assert_string_equal(units_format_size(1073741824, b, sizeof(b)), "1GiB");
	assert_string_equal(units_format_size(3ULL << 40, b, sizeof(b)), "3072GiB");
}

/* What the formatters write, the parsers read back to the same value. */
static void format_round_trips_through_parse(void **state)
{
	static const uint64_t ms[] = { 0, 7, 1000, 61000, 7200000, 172800000 };
	static const uint64_t by[] = { 0, 16, 1023, 1024, 65536, 1ULL << 30 };
	char b[32];

	(void)state;
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++)
		assert_int_equal(dur(units_format_duration(ms[i], b, sizeof(b))), ms[i]);
	for (size_t i = 0; i < sizeof(by) / sizeof(by[0]); i++)
		assert_int_equal(size(units_format_size(by[i], b, sizeof(b))), by[i]);
}

/* A short buffer gets a truncated, terminated string, never an overrun. */
static void format_truncates_to_buffer(void **state)
{
	char b[4];

	(void)state;
	assert_string_equal(units_format_size(65536, b, sizeof(b)), "64K");
	assert_string_equal(units_format_duration(300000000, b, sizeof(b)), "500");
}

/* Runs every test of this file; the exit status is the number of failures. */
static void decimal_fields_are_strict(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(units_parse_decimal("65535", 5, 65535, &v), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(units_parse_decimal("0", 1, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(units_parse_decimal("1234", 2, 100, &v), 0);   /* n bytes only */
	assert_int_equal(v, 12);
	v = 7;
	assert_int_equal(units_parse_decimal("65536", 5, 65535, &v), -1);
	assert_int_equal(units_parse_decimal("01", 2, 100, &v), -1);
	assert_int_equal(units_parse_decimal("", 0, 100, &v), -1);
	assert_int_equal(units_parse_decimal("+1", 2, 100, &v), -1);
	assert_int_equal(units_parse_decimal("1 ", 2, 100, &v), -1);
	assert_int_equal(units_parse_decimal("18446744073709551616", 20, UINT64_MAX, &v), -1);
	assert_int_equal(v, 7);
	assert_int_equal(units_parse_decimal("18446744073709551615", 20, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
}

/* Hex digits of either case have their value; every other byte is -1. */
static void hex_digits_either_case(void **state)
{
	static const char digits[] = "0123456789abcdef", upper[] = "ABCDEF";
	int valid = 0;

	(void)state;
	for (int i = 0; i < 16; i++)
		assert_int_equal(units_hex_digit(digits[i]), i);
	for (int i = 0; i < 6; i++)
		assert_int_equal(units_hex_digit(upper[i]), 10 + i);
	for (int c = -128; c < 128; c++)
		valid += units_hex_digit((char)c) >= 0;
	assert_int_equal(valid, 22);
	assert_int_equal(units_hex_digit('g'), -1);
	assert_int_equal(units_hex_digit('G'), -1);
	assert_int_equal(units_hex_digit('/'), -1);
	assert_int_equal(units_hex_digit(':'), -1);
	assert_int_equal(units_hex_digit('@'), -1);
	assert_int_equal(units_hex_digit('`'), -1);
	assert_int_equal(units_hex_digit('\0'), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(duration_every_suffix),
		cmocka_unit_test(duration_bare_is_seconds_and_zero),
		cmocka_unit_test(duration_rejects_garbage),
		cmocka_unit_test(duration_overflow_is_out_of_range),
		cmocka_unit_test(size_every_suffix_and_bare),
		cmocka_unit_test(size_rejects_garbage),
		cmocka_unit_test(size_overflow_is_out_of_range),
		cmocka_unit_test(octal_accepts_zero_prefixed_up_to_three_digits),
		cmocka_unit_test(octal_rejects_garbage),
		cmocka_unit_test(uint_digits_only),
		cmocka_unit_test(format_duration_largest_exact_unit),
		cmocka_unit_test(format_size_largest_exact_unit),
		cmocka_unit_test(format_round_trips_through_parse),
		cmocka_unit_test(format_truncates_to_buffer),
		cmocka_unit_test(decimal_fields_are_strict),
		cmocka_unit_test(hex_digits_either_case),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

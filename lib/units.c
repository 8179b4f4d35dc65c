/* units.c: the number syntaxes of the configuration file (pipecast.conf(5) "Value
 * syntax"): durations, sizes, octal modes and plain integers, and the shortest
 * spelling of a duration or a size for messages; the value of a hex digit for
 * the protocol parsers. Strict on purpose: no signs, no blanks, no fractions,
 * no compounds; a well-formed value beyond 64 bits is out of range
 * (UNITS_RANGE), not malformed. */
#include "units.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* One suffix and what it multiplies by. */
struct unit {
	const char *suffix;
	uint64_t factor;
};

#define KIB 1024ULL
#define SEC_MS 1000ULL
#define MIN_MS (60 * SEC_MS)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)

/* Duration suffixes; "" is the bare integer, meaning seconds. */
static const struct unit duration_units[] = {
	{ "ms", 1 }, { "s", SEC_MS }, { "m", MIN_MS }, { "h", HOUR_MS },
	{ "d", DAY_MS }, { "", SEC_MS }, { NULL, 0 },
};

/* Size suffixes; "" is the bare integer, meaning bytes. */
static const struct unit size_units[] = {
	{ "B", 1 }, { "K", KIB }, { "KiB", KIB }, { "M", KIB * KIB },
	{ "MiB", KIB * KIB }, { "G", KIB * KIB * KIB }, { "GiB", KIB * KIB * KIB },
	{ "", 1 }, { NULL, 0 },
};

/* Reads the leading decimal digits of s (at least one) into *v; returns
 * the first character after them, or NULL when there is no digit. A number
 * beyond 64 bits sets *over (all its digits are still read). */
static const char *units_digits(const char *s, uint64_t *v, bool *over)
{
	uint64_t n = 0;
	const char *p = s;

	*over = false;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (n > (UINT64_MAX - d) / 10)
			*over = true;
		else
			n = n * 10 + d;
	}
	if (p == s)
		return NULL;
	*v = n;
	return p;
}

/* Parses "<digits><suffix>" against one suffix table; shared by durations
 * and sizes so both have the same strictness. */
static int units_parse_scaled(const char *s, const struct unit *units,
			      uint64_t *out)
{
	uint64_t n;
	bool over;
	const char *rest = units_digits(s, &n, &over);

	if (!rest)
		return -1;
	for (const struct unit *u = units; u->suffix; u++) {
		if (strcmp(rest, u->suffix) != 0)
			continue;
		if (over || n > UINT64_MAX / u->factor)
			return UNITS_RANGE;
		*out = n * u->factor;
		return 0;
	}
	return -1;
}

/* Durations as the file spells them, in milliseconds. */
int units_parse_duration(const char *s, uint64_t *ms)
{
	return units_parse_scaled(s, duration_units, ms);
}

/* Sizes as the file spells them, in bytes. */
int units_parse_size(const char *s, uint64_t *bytes)
{
	return units_parse_scaled(s, size_units, bytes);
}

/* Octal permission modes: "0" and up to three octal digits. */
int units_parse_octal(const char *s, unsigned *mode)
{
	unsigned m = 0;
	size_t i;

	if (s[0] != '0')
		return -1;
	for (i = 1; s[i]; i++) {
		if (i > 3 || s[i] < '0' || s[i] > '7')
			return -1;
		m = m * 8 + (unsigned)(s[i] - '0');
	}
	*mode = m;
	return 0;
}

/* Plain counts such as max_clients: digits only. */
int units_parse_uint(const char *s, uint64_t *v)
{
	uint64_t n;
	bool over;
	const char *rest = units_digits(s, &n, &over);

	if (!rest || *rest)
		return -1;
	if (over)
		return UNITS_RANGE;
	*v = n;
	return 0;
}

/* Digits in a protocol field (Redis ids, event ids, lengths, ports). */
int units_parse_uint_n(const char *p, size_t n, uint64_t *v)
{
	uint64_t acc = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)p[i] - '0';

		if (d > 9 || acc > (UINT64_MAX - d) / 10)
			return -1;
		acc = acc * 10 + d;
	}
	*v = acc;
	return 0;
}

/* A strict decimal field of outside input: units_parse_uint_n's digits,
 * without a leading zero, at most max. */
int units_parse_decimal(const char *s, size_t n, uint64_t max, uint64_t *v)
{
	uint64_t x;

	if ((n > 1 && s[0] == '0') || units_parse_uint_n(s, n, &x) < 0 || x > max)
		return -1;
	*v = x;
	return 0;
}

/* One hex digit's value, either case; -1 for anything else. */
int units_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Writes v with the largest suffix of the table that divides it exactly;
 * the table is ordered from the largest factor down. */
static char *units_format_scaled(uint64_t v, const struct unit *desc,
				 char *buf, size_t len)
{
	const struct unit *u = desc;

	while (u[1].suffix && (v == 0 || v % u->factor != 0))
		u++;
	snprintf(buf, len, "%llu%s", (unsigned long long)(v / u->factor),
		 u->suffix);
	return buf;
}

/* Durations for messages: largest exact unit, "0" for zero. */
char *units_format_duration(uint64_t ms, char *buf, size_t len)
{
	static const struct unit desc[] = {
		{ "d", DAY_MS }, { "h", HOUR_MS }, { "m", MIN_MS },
		{ "s", SEC_MS }, { "ms", 1 }, { NULL, 0 },
	};

	if (ms == 0) {
		snprintf(buf, len, "0");
		return buf;
	}
	return units_format_scaled(ms, desc, buf, len);
}

/* Sizes for messages: largest exact binary unit, bytes otherwise. */
char *units_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const struct unit desc[] = {
		{ "GiB", KIB * KIB * KIB }, { "MiB", KIB * KIB },
		{ "KiB", KIB }, { "B", 1 }, { NULL, 0 },
	};

	return units_format_scaled(bytes, desc, buf, len);
}

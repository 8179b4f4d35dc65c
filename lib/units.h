/* units.h: parsing and formatting of durations, sizes, octal modes and integers
 * as the configuration file spells them (see pipecast.conf(5) "Value syntax"),
 * and the digit readers the protocol parsers share. */
#ifndef PIPECAST_UNITS_H
#define PIPECAST_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Each parser returns 0 and stores the value, -1 for a malformed string, or
 * UNITS_RANGE for a well-formed one whose value does not fit 64 bits (the
 * output is then untouched). No leading/trailing blanks are accepted;
 * callers trim first. */
#define UNITS_RANGE (-2)

/* "250ms", "30s", "5m", "1h", "2d" or a bare integer (seconds) -> milliseconds. */
int units_parse_duration(const char *s, uint64_t *ms);
/* "512", "512B", "64K", "64KiB", "4M", "4MiB", "1G", "1GiB" -> bytes. */
int units_parse_size(const char *s, uint64_t *bytes);
/* "0" followed by one to three octal digits ("0660", "00", "0") -> mode bits. */
int units_parse_octal(const char *s, unsigned *mode);
/* A non-negative decimal integer without sign or suffix. */
int units_parse_uint(const char *s, uint64_t *v);
/* The same for the n bytes at p (not NUL-terminated; protocol fields). */
int units_parse_uint_n(const char *p, size_t n, uint64_t *v);

/* Exactly the n characters at s as a decimal number: digits only, no
 * leading zero (except "0" itself), at most max. For fields of outside
 * input (prefix lengths, ports, ids), which need not be NUL-terminated. */
int units_parse_decimal(const char *s, size_t n, uint64_t max, uint64_t *v);

/* The value of one hex digit ('0'-'9', 'a'-'f', 'A'-'F'), or -1: for the
 * protocol fields spelled in hex (percent escapes, chunk sizes, ids). */
int units_hex_digit(char c);

/* Shortest exact spelling of a duration ("300ms", "5m", "0"); returns buf. */
char *units_format_duration(uint64_t ms, char *buf, size_t len);
/* Shortest exact spelling of a size ("4MiB", "100B"); returns buf. */
char *units_format_size(uint64_t bytes, char *buf, size_t len);

#endif

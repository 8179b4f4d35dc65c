/* ctlutil.c: pipecastctl's pure helpers (see ctlutil.h): reply framing,
 * the `show info` table, rates, interval parsing and human-readable
 * figures. */
#include "ctlutil.h"

#include "alloc.h"
#include "units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the unsafe sequence at p (0: p starts with a safe byte): an
 * ASCII control other than '\n' and '\t', DEL, or a C1 control encoded in
 * UTF-8 (0xC2 0x80..0x9F) or as a lone byte 0x80..0x9F. */
static size_t ctl_unsafe_len(const unsigned char *p, size_t len)
{
	if ((p[0] < 0x20 && p[0] != '\n' && p[0] != '\t') || p[0] == 0x7f)
		return 1;
	if (p[0] == 0xc2 && len > 1 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 2;
	return p[0] >= 0x80 && p[0] <= 0x9f ? 1 : 0;
}

/* Safe run for a terminal: see ctlutil.h. */
size_t ctl_safe_span(const char *p, size_t len)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0;

	while (i < len && ctl_unsafe_len(u + i, len - i) == 0)
		i += (u[i] == 0xc2 && i + 1 < len) ? 2 : 1;
	return i > len ? len : i;
}

/* Neutralises unsafe bytes in place. */
void ctl_defang(char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t bad = ctl_unsafe_len((const unsigned char *)s + i, len - i);

		for (size_t k = 0; k < bad; k++)
			s[i + k] = '?';
		i += bad ? bad : 1;
	}
}

/* Every reply ends with an empty line, and no body contains one, so the
 * first "\n\n" (or a leading "\n" for an empty body) ends it. */
size_t ctl_reply_end(const char *buf, size_t len)
{
	const char *p;

	if (len == 0)
		return 0;
	if (buf[0] == '\n')
		return 1;
	p = memmem(buf, len, "\n\n", 2);
	return p ? (size_t)(p - buf) + 2 : 0;
}

/* The daemon marks failures with an `error:` prefix. */
bool ctl_reply_is_error(const char *body, size_t len)
{
	static const char prefix[] = "error:";

	return len >= sizeof(prefix) - 1 &&
	       memcmp(body, prefix, sizeof(prefix) - 1) == 0;
}

/* Splits one NUL-terminated line at its first ": " into the next entry. */
static void ctl_info_line(struct ctl_info *info, char *line)
{
	char *sep = strstr(line, ": ");

	if (!sep || sep == line)
		return;
	*sep = '\0';
	info->kv[info->n].name = line;
	info->kv[info->n].value = sep + 2;
	info->n++;
}

/* One table for a whole reply, so that a frame costs two allocations. */
int ctl_info_parse(const char *body, size_t len, struct ctl_info *out)
{
	size_t lines = 1;
	char *line, *nl;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < len; i++)
		lines += body[i] == '\n';
	out->buf = pc_malloc(len + 1);
	out->kv = pc_calloc(lines, sizeof(*out->kv));
	if (!out->buf || !out->kv) {
		ctl_info_free(out);
		return -1;
	}
	memcpy(out->buf, body, len);
	out->buf[len] = '\0';
	ctl_defang(out->buf, len);
	for (line = out->buf; line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		ctl_info_line(out, line);
	}
	return 0;
}

/* Releases what ctl_info_parse allocated; safe on an empty table. */
void ctl_info_free(struct ctl_info *info)
{
	pc_free(info->buf);
	pc_free(info->kv);
	memset(info, 0, sizeof(*info));
}

/* Linear lookup: a reply has a few dozen names. */
const char *ctl_info_get(const struct ctl_info *info, const char *name)
{
	for (size_t i = 0; i < info->n; i++)
		if (strcmp(info->kv[i].name, name) == 0)
			return info->kv[i].value;
	return NULL;
}

/* Counters and gauges are plain unsigned integers. */
int ctl_info_u64(const struct ctl_info *info, const char *name, uint64_t *v)
{
	const char *s = ctl_info_get(info, name);

	return s ? units_parse_uint(s, v) : -1;
}

/* Totals spread over several names (clients closed for any reason). */
int ctl_info_sum(const struct ctl_info *info, const char *const *names,
		 uint64_t *v)
{
	uint64_t sum = 0, x;

	for (; *names; names++) {
		if (ctl_info_u64(info, *names, &x) < 0)
			return -1;
		sum += x;
	}
	*v = sum;
	return 0;
}

/* Delta over time, refusing what would be meaningless. */
int ctl_rate(uint64_t prev, uint64_t cur, double elapsed, double *rate)
{
	if (!(elapsed > 0) || cur < prev)
		return -1;
	*rate = (double)(cur - prev) / elapsed;
	return 0;
}

/* Reads the digits at *p (at most max of them, at least one) into *v,
 * saturating at UINT64_MAX / 10; advances *p; returns the count. */
static size_t ctl_digits(const char **p, size_t max, uint64_t *v)
{
	size_t n = 0;

	*v = 0;
	for (; **p >= '0' && **p <= '9' && n < max; (*p)++, n++)
		if (*v < UINT64_MAX / 100)
			*v = *v * 10 + (uint64_t)(**p - '0');
	return n;
}

/* Intervals and timeouts on the command line: decimal seconds. */
int ctl_parse_seconds(const char *s, uint64_t min_ms, uint64_t max_ms,
		      uint64_t *ms)
{
	const char *p = s;
	uint64_t whole, frac = 0;
	size_t nfrac = 0;

	if (ctl_digits(&p, SIZE_MAX, &whole) == 0)
		return -1;
	if (*p == '.') {
		p++;
		nfrac = ctl_digits(&p, 4, &frac);
		if (nfrac == 0 || nfrac > 3)
			return -1;
	}
	if (*p)
		return -1;
	for (; nfrac < 3; nfrac++)
		frac *= 10;
	if (whole > max_ms / 1000 + 1)
		return -2;
	whole = whole * 1000 + frac;
	if (whole < min_ms || whole > max_ms)
		return -2;
	*ms = whole;
	return 0;
}

/* Writes v in the first unit where its printed value stays below base
 * (judged on the whole text, before buf may truncate it). */
static char *ctl_human_scaled(double v, double base, const char *const *units,
			      const char *first_fmt, char *buf, size_t len)
{
	const char *fmt = first_fmt;
	char full[512];

	if (!(v >= 0))
		v = 0;
	for (size_t i = 0;; i++) {
		snprintf(full, sizeof(full), fmt, v, units[i]);
		if (!units[i + 1] || strtod(full, NULL) < base)
			break;
		v /= base;
		fmt = "%.1f%s";
	}
	snprintf(buf, len, "%s", full);
	return buf;
}

/* Sizes and byte rates in binary units, as the configuration spells them. */
char *ctl_human_bytes(double bytes, char *buf, size_t len)
{
	static const char *const units[] = {
		" B", " KiB", " MiB", " GiB", " TiB", " PiB", " EiB", NULL,
	};

	return ctl_human_scaled(bytes, 1024, units, "%.0f%s", buf, len);
}

/* Byte rates: as sizes, with a decimal below 10 B/s. */
char *ctl_human_byte_rate(double bytes, char *buf, size_t len)
{
	if (bytes >= 0 && bytes < 9.95) {
		snprintf(buf, len, "%.1f B", bytes);
		return buf;
	}
	return ctl_human_bytes(bytes, buf, len);
}

/* Record and client rates in decimal units; two decimals below 10/s, so
 * that a slow stream does not read as 0. */
char *ctl_human_count(double v, char *buf, size_t len)
{
	static const char *const units[] = {
		"", "k", "M", "G", "T", "P", "E", NULL,
	};

	if (v >= 0 && v < 9.995) {
		snprintf(buf, len, "%.2f", v);
		return buf;
	}
	return ctl_human_scaled(v, 1000, units, "%.1f%s", buf, len);
}

/* Uptime, shown with its two or three largest units. */
char *ctl_human_duration(uint64_t seconds, char *buf, size_t len)
{
	unsigned long long d = seconds / 86400, h = seconds / 3600 % 24,
			   m = seconds / 60 % 60, s = seconds % 60;

	if (d)
		snprintf(buf, len, "%llud%02lluh%02llum", d, h, m);
	else if (h)
		snprintf(buf, len, "%lluh%02llum%02llus", h, m, s);
	else if (m)
		snprintf(buf, len, "%llum%02llus", m, s);
	else
		snprintf(buf, len, "%llus", s);
	return buf;
}

/* Width of each space-separated column over every line of a table. */
static size_t ctl_column_widths(const char *body, size_t len, size_t *w, size_t max)
{
	size_t col = 0, cell = 0, ncols = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && body[i] != ' ' && body[i] != '\n') {
			cell++;
			continue;
		}
		if (col < max) {
			if (col >= ncols)
				w[ncols++] = 0;
			if (cell > w[col])
				w[col] = cell;
		}
		cell = 0;
		col = i < len && body[i] == ' ' ? col + 1 : 0;
	}
	return ncols;
}

/* Pads every cell but the last of its line to its column's width. */
char *ctl_align_columns(const char *body, size_t len)
{
	size_t w[CTL_ALIGN_COLS_MAX], ncols = ctl_column_widths(body, len, w, CTL_ALIGN_COLS_MAX);
	size_t lines = 1, row = 0, col = 0, cell = 0, o = 0;
	char *out;

	for (size_t i = 0; i < len; i++)
		lines += body[i] == '\n';
	for (size_t i = 0; i < ncols; i++)
		row += w[i] + 1;
	out = pc_malloc(lines * row + len + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (body[i] == ' ' && col < ncols) {
			while (cell++ < w[col])
				out[o++] = ' ';
			out[o++] = ' ';
			col++;
			cell = 0;
			continue;
		}
		out[o++] = body[i];
		cell = body[i] == '\n' ? 0 : cell + 1;
		col = body[i] == '\n' ? 0 : col;
	}
	out[o] = '\0';
	return out;
}

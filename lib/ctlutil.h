/* ctlutil.h: the parts of pipecastctl that know nothing of sockets or
 * terminals: how a reply ends, the `name: value` table of `show info`,
 * rates and human-readable figures (socket paths: statspath.h). Nothing here logs or exits; heap memory comes from pc_malloc. */
#ifndef PIPECAST_CTLUTIL_H
#define PIPECAST_CTLUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Replies (pipecastd(8) "STATS SOCKET"): each ends with one empty line. */

/* Length of the complete reply at the start of buf, its terminating empty
 * line included, or 0 while it is incomplete. The reply's body (every line
 * with its newline, without the empty line) is the first return-1 bytes. */
size_t ctl_reply_end(const char *buf, size_t len);
/* Whether a reply body is an error (`error: ...`). */
bool ctl_reply_is_error(const char *body, size_t len);

/* Terminal safety: the length of the leading run of p that may go to a
 * terminal as it is (printable bytes, '\n', '\t' and UTF-8 text; not the
 * ASCII controls, DEL, or the C1 controls U+0080..U+009F, which can move
 * the cursor, retitle the window or answer back). */
size_t ctl_safe_span(const char *p, size_t len);
/* Replaces every byte that ctl_safe_span would stop at with '?', in place. */
void ctl_defang(char *s, size_t len);

/* One `name: value` line of `show info`. */
struct ctl_kv {
	const char *name;
	const char *value;
};

/* A parsed `show info` reply; the strings point into buf. */
struct ctl_info {
	char *buf;
	struct ctl_kv *kv;
	size_t n;
};

/* Parses a reply body of `name: value` lines (lines without ": " are
 * skipped); bytes unsafe on a terminal become '?' (ctl_defang). Returns 0, or -1 when memory runs out (out is then empty).
 * Free with ctl_info_free. */
int ctl_info_parse(const char *body, size_t len, struct ctl_info *out);
void ctl_info_free(struct ctl_info *info);
/* The value of name, or NULL. */
const char *ctl_info_get(const struct ctl_info *info, const char *name);
/* The value of name as an unsigned integer; 0, or -1 when it is missing
 * or not a plain integer (*v is then untouched). */
int ctl_info_u64(const struct ctl_info *info, const char *name, uint64_t *v);
/* The sum of several integer values; -1 when any is missing or bad. */
int ctl_info_sum(const struct ctl_info *info, const char *const *names,
		 uint64_t *v);

/* Per-second rate of a counter that went from prev to cur in elapsed
 * seconds; -1 when elapsed is not positive or the counter went back (the
 * daemon restarted). */
int ctl_rate(uint64_t prev, uint64_t cur, double elapsed, double *rate);

/* Parses decimal seconds ("1", "0.5", "2.25", at most three decimals) into
 * milliseconds within [min_ms, max_ms]. Returns 0, -1 when malformed, -2
 * when out of range (*ms is untouched on error). */
int ctl_parse_seconds(const char *s, uint64_t min_ms, uint64_t max_ms,
		      uint64_t *ms);

/* "0 B", "1023 B", "1.5 KiB", "4.0 MiB" ... up to EiB; returns buf. */
char *ctl_human_bytes(double bytes, char *buf, size_t len);
/* "0.5 B", "9.9 B", then as ctl_human_bytes: for per-second bytes. */
char *ctl_human_byte_rate(double bytes, char *buf, size_t len);
/* "0.00", "0.25", "9.99", "10.0", "999.9", "1.2k", "3.4M", "5.6G" ... for
 * per-second counts. */
char *ctl_human_count(double v, char *buf, size_t len);
/* A table reply (cells split by single spaces) with its columns aligned,
 * for a terminal; a fresh pc_malloc'd string, or NULL when out of memory.
 * Columns past CTL_ALIGN_COLS_MAX are left as they are. */
#define CTL_ALIGN_COLS_MAX 32
char *ctl_align_columns(const char *body, size_t len);
/* "45s", "2m03s", "1h02m03s", "3d04h05m". */
char *ctl_human_duration(uint64_t seconds, char *buf, size_t len);

#endif

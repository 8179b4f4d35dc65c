/* statfmt.h: the replies of the stats socket (pipecastd(8) "STATS SOCKET"),
 * written into an sbuf. Every reply ends with exactly one empty line ("\n\n")
 * and no reply body contains one; JSON replies are one line. The daemon
 * fills the structs below; nothing here reads the daemon's globals.
 *
 * Every function returns 0, or -1 when the sbuf has failed (allocation); the
 * reply is then incomplete and the caller should send an error instead. */
#ifndef PIPECAST_STATFMT_H
#define PIPECAST_STATFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "closedlog.h"
#include "counters.h"
#include "sbuf.h"

/* What "show info" shows, read at one instant: the registry of counters
 * copied whole (reg), and the figures the daemon reads elsewhere. The names,
 * their order, types and help texts are the table in statfmt.c (see
 * statfmt_info_name() and friends), so a new registry counter is one field
 * in counters.h and one row of that table. Times are seconds, shown with
 * three decimals. Strings may be NULL (shown as "-", JSON null). */
struct statfmt_info {
	struct counters reg;
	const char *version;
	uint64_t pid;
	double uptime_seconds;
	const char *source_state;       /* open, waiting, restarting, closed */
	double source_idle_seconds;
	uint64_t ring_size_bytes;
	uint64_t ring_used_bytes;
	uint64_t timers_live;
	uint64_t timers_client_live;
	uint64_t timer_allocations_total;
	uint64_t timer_rearms_total;
	uint64_t timer_expirations_total;
	uint64_t allocations_live;
	uint64_t allocations_total;
	uint64_t memory_rss_bytes;
	uint64_t loop_iterations_total;
	uint64_t allocations_clients_total;
	uint64_t allocations_stats_total;
	uint64_t allocations_other_total;
	const char *stream_epoch;       /* 16 hex digits */
	uint64_t stream_first_seq;
	uint64_t stream_last_seq;
};

/* One timer kind. Rows come in the documented order: client, stats, source_idle,
 * source_restart, heartbeat, accept_pause, shutdown, watchdog, status. */
struct statfmt_timer_row {
	const char *kind;
	uint64_t live, allocations_total, rearms_total, expirations_total;
	double next_due_s;      /* < 0: none armed */
};

/* One connected client. */
struct statfmt_client_row {
	uint64_t id;
	const char *addr;       /* "127.0.0.1:5555", "[::1]:5555" or "unix" */
	double age_s, idle_s;
	uint64_t lag_bytes, sent_bytes, skipped_bytes;
	const char *state;      /* live, pending, closing */
	const char *proto;      /* raw, sse, ws */
};

/* One key of show config: "section.key", "default", "FILE:LINE" or "-o",
 * and the value as the file would spell it. */
struct statfmt_config_row {
	const char *key;
	const char *source;
	const char *value;
};

/* Stat types as Prometheus sees them; strings become labels. */
enum statfmt_type { STATFMT_COUNTER, STATFMT_GAUGE, STATFMT_STRING };

/* The documented list of "show info" names, in the documented order.
 * These four serve the unit tests (the formatters read the table). */
size_t statfmt_info_count(void);
/* Name i, or NULL past the end. */
const char *statfmt_info_name(size_t i);
/* Type of name i (counter exactly when the name ends in _total). */
enum statfmt_type statfmt_info_type(size_t i);
/* One-line description of name i, the HELP text of its metric. */
const char *statfmt_info_help(size_t i);

/* "ok". */
int statfmt_ok(struct sbuf *b);
/* "ok" followed by the non-empty lines of lines[0..len) (reload's notes). */
int statfmt_ok_lines(struct sbuf *b, const char *lines, size_t len);
/* "error: MSG"; control characters of MSG (newlines) become spaces. */
int statfmt_error(struct sbuf *b, const char *msg);
/* The command list (statcmd_help()). */
int statfmt_help(struct sbuf *b);
/* "name: value" lines, or one JSON object. */
int statfmt_info(struct sbuf *b, const struct statfmt_info *in, bool json);
/* Header and one row per kind, or one JSON object keyed by kind. */
int statfmt_timers(struct sbuf *b, const struct statfmt_timer_row *rows, size_t n,
		   bool json);
/* Header and rows, or a JSON array of objects. Tests only: the daemon
 * streams with statfmt_clients_begin/row. */
int statfmt_clients(struct sbuf *b, const struct statfmt_client_row *rows, size_t n,
		    bool json);
/* Header and the log's rows oldest first, or a JSON array of objects. */
int statfmt_closed(struct sbuf *b, const struct closedlog *log, bool json);

/* Streaming form of statfmt_clients, for a daemon that walks a list and
 * would rather not build an array: begin, one call per row, end. */
struct statfmt_rows {
	struct sbuf *b;
	bool json;
	size_t n;
};
void statfmt_clients_begin(struct statfmt_rows *t, struct sbuf *b, bool json);
void statfmt_clients_row(struct statfmt_rows *t, const struct statfmt_client_row *r);
int statfmt_rows_end(struct statfmt_rows *t);
/* show config, streamed the same way: "KEY SOURCE VALUE" lines without a
 * header (VALUE last, blanks kept), or a JSON array of objects. */
void statfmt_config_begin(struct statfmt_rows *t, struct sbuf *b, bool json);
void statfmt_config_row(struct statfmt_rows *t, const struct statfmt_config_row *r);

#endif

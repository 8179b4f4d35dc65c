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

/* One field per "show info" name, in the documented order. The documented list of
 * names, with their types and help texts, is the table in statfmt.c; see
 * stats_info_name() and friends. Times are seconds, shown with three
 * decimals. Strings may be NULL (shown as "-", JSON null). */
struct stats_info {
	const char *version;
	uint64_t pid;
	double uptime_seconds;
	const char *source_state;       /* open, waiting, restarting, closed */
	uint64_t source_records_total;
	uint64_t source_bytes_total;
	double source_idle_seconds;
	uint64_t source_restarts_total;
	uint64_t source_long_lines_total;
	uint64_t heartbeats_total;
	uint64_t clients_connected;
	uint64_t clients_accepted_total;
	uint64_t clients_rejected_total;
	uint64_t clients_closed_idle_total;
	uint64_t clients_closed_send_timeout_total;
	uint64_t clients_dropped_overflow_total;
	uint64_t clients_closed_peer_total;
	uint64_t clients_closed_error_total;
	uint64_t clients_closed_kill_total;
	uint64_t clients_closed_shutdown_total;
	uint64_t clients_skipped_bytes_total;
	uint64_t bytes_sent_total;
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
	uint64_t source_fifo_refused_total;
	uint64_t log_lines_dropped_total;
	uint64_t clients_closed_denied_total;
	uint64_t clients_closed_auth_timeout_total;
	uint64_t access_refused_address_total;      /* REFUSAL_COUNT of them, */
	uint64_t access_refused_per_ip_total;       /* in enum refusal's order */
	uint64_t access_refused_token_total;
	uint64_t access_refused_uid_total;
	uint64_t access_refused_auth_timeout_total;
	const char *stream_epoch;       /* 16 hex digits */
	uint64_t stream_first_seq;
	uint64_t stream_last_seq;
	uint64_t http_requests_2xx_total;
	uint64_t http_requests_3xx_total;
	uint64_t http_requests_4xx_total;
	uint64_t http_requests_5xx_total;
	uint64_t resumes_total;
	uint64_t resume_gaps_total;
};

/* One timer kind. Rows come in the documented order: client, stats, source_idle,
 * source_restart, heartbeat, accept_pause, shutdown, watchdog, status. */
struct stats_timer_row {
	const char *kind;
	uint64_t live, allocations_total, rearms_total, expirations_total;
	double next_due_s;      /* < 0: none armed */
};

/* One connected client. */
struct stats_client_row {
	uint64_t id;
	const char *addr;       /* "127.0.0.1:5555", "[::1]:5555" or "unix" */
	double age_s, idle_s;
	uint64_t lag_bytes, sent_bytes, skipped_bytes;
	const char *state;      /* live, pending, closing */
	const char *proto;      /* raw, sse, ws */
};

/* One key of show config: "section.key", "default", "FILE:LINE" or "-o",
 * and the value as the file would spell it. */
struct stats_config_row {
	const char *key;
	const char *source;
	const char *value;
};

/* Stat types as Prometheus sees them; strings become labels. */
enum stats_type { STATS_COUNTER, STATS_GAUGE, STATS_STRING };

/* The documented list of "show info" names, in the documented order.
 * These four serve the unit tests (the formatters read the table). */
size_t stats_info_count(void);
/* Name i, or NULL past the end. */
const char *stats_info_name(size_t i);
/* Type of name i (counter exactly when the name ends in _total). */
enum stats_type stats_info_type(size_t i);
/* One-line description of name i, the HELP text of its metric. */
const char *stats_info_help(size_t i);

/* Copies the per-reason close counters into the clients_*_total fields
 * (clients_rejected_total included) and the other registry counters. */
void stats_info_from_counters(struct stats_info *in, const struct counters *c);

/* "ok". */
int statfmt_ok(struct sbuf *b);
/* "ok" followed by the non-empty lines of lines[0..len) (reload's notes). */
int statfmt_ok_lines(struct sbuf *b, const char *lines, size_t len);
/* "error: MSG"; control characters of MSG (newlines) become spaces. */
int statfmt_error(struct sbuf *b, const char *msg);
/* The command list (statcmd_help()). */
int statfmt_help(struct sbuf *b);
/* "name: value" lines, or one JSON object. */
int statfmt_info(struct sbuf *b, const struct stats_info *in, bool json);
/* Header and one row per kind, or one JSON object keyed by kind. */
int statfmt_timers(struct sbuf *b, const struct stats_timer_row *rows, size_t n,
		   bool json);
/* Header and rows, or a JSON array of objects. Tests only: the daemon
 * streams with statfmt_clients_begin/row. */
int statfmt_clients(struct sbuf *b, const struct stats_client_row *rows, size_t n,
		    bool json);
/* Header and the log's rows oldest first, or a JSON array of objects. */
int statfmt_closed(struct sbuf *b, const struct closedlog *log, bool json);
/* Prometheus text exposition 0.0.4, then the protocol's empty line. */
int statfmt_metrics(struct sbuf *b, const struct stats_info *in,
		    const struct stats_timer_row *rows, size_t n);

/* Streaming form of statfmt_clients, for a daemon that walks a list and
 * would rather not build an array: begin, one call per row, end. */
struct statfmt_rows {
	struct sbuf *b;
	bool json;
	size_t n;
};
void statfmt_clients_begin(struct statfmt_rows *t, struct sbuf *b, bool json);
void statfmt_clients_row(struct statfmt_rows *t, const struct stats_client_row *r);
int statfmt_rows_end(struct statfmt_rows *t);
/* show config, streamed the same way: "KEY SOURCE VALUE" lines without a
 * header (VALUE last, blanks kept), or a JSON array of objects. */
void statfmt_config_begin(struct statfmt_rows *t, struct sbuf *b, bool json);
void statfmt_config_row(struct statfmt_rows *t, const struct stats_config_row *r);

#endif

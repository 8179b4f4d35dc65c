/* statfmt.c: stats socket replies. Every table, JSON object and metric
 * family is driven by a field table (name, value type, offset), so a name is
 * spelled once and text, JSON and Prometheus output cannot drift apart. */
#include "statfmt.h"
#include "compat.h"
#include "statcmd.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* How a field's value is stored and shown. */
enum field_type {
	F_U64,          /* uint64_t */
	F_SEC,          /* double seconds, three decimals */
	F_DUE,          /* double seconds, or < 0 for none: "-" / null */
	F_STR,          /* const char *, may be NULL */
	F_CHARS,        /* char array inside the row */
	F_TEXT,         /* const char *, the last cell: blanks kept */
};

/* What "show metrics" makes of a show-info name. */
enum metric_how {
	MX_PLAIN,       /* pipecast_NAME VALUE */
	MX_BY_KIND,     /* pipecast_NAME{kind="..."}, one sample per timer kind */
	MX_BUILD_INFO,  /* pipecast_build_info{version="..."} 1 */
	MX_STATE,       /* pipecast_source_state{state="..."} 0 or 1 */
	MX_STREAM_INFO, /* pipecast_stream_info{epoch="..."} 1 */
	MX_LABELLED,    /* pipecast_FAMILY{LABEL="..."}: one sample of a family
			 * whose samples are consecutive names */
};

struct field {
	const char *name;
	enum field_type type;
	size_t off;             /* in the row or in struct stats_info */
	enum stats_type stat;   /* show info only */
	enum metric_how how;    /* show info only */
	size_t kind_off;        /* MX_BY_KIND: field of struct stats_timer_row */
	const char *help;       /* show info only */
	const char *family;     /* MX_LABELLED: the family, its label, and this */
	const char *label;      /* name's value of the label */
	const char *value;
};

#define INFO(n, t, st, h) \
	{ #n, t, offsetof(struct stats_info, n), st, MX_PLAIN, 0, h, NULL, NULL, NULL }
#define COUNTER(n, h) INFO(n, F_U64, STATS_COUNTER, h)
#define GAUGE(n, h) INFO(n, F_U64, STATS_GAUGE, h)
#define SECONDS(n, h) INFO(n, F_SEC, STATS_GAUGE, h)
#define BY_KIND(n, st, k, h) { #n, F_U64, offsetof(struct stats_info, n), st, \
	MX_BY_KIND, offsetof(struct stats_timer_row, k), h, NULL, NULL, NULL }
/* FAMILY_VALUE_total, shown as pipecast_FAMILY_total{LABEL="VALUE"}. */
#define LABELLED(family, label, v, h) { #family "_" #v "_total", F_U64, \
	offsetof(struct stats_info, family##_##v##_total), STATS_COUNTER, MX_LABELLED, 0, h, \
	#family "_total", #label, #v }
#define REASON(r, h) LABELLED(access_refused, reason, r, h)
#define CLASS(c, h) LABELLED(http_requests, class, c, h)
#define LABEL(n, how, h) \
	{ #n, F_STR, offsetof(struct stats_info, n), STATS_STRING, how, 0, h, NULL, NULL, NULL }

/* The one documented list of "show info" names, in the documented order. */
static const struct field info_fields[] = {
	LABEL(version, MX_BUILD_INFO, "Version of pipecastd."),
	GAUGE(pid, "Process id of pipecastd."),
	SECONDS(uptime_seconds, "Seconds since pipecastd started."),
	LABEL(source_state, MX_STATE,
	      "State of the source: open, waiting, restarting or closed."),
	COUNTER(source_records_total, "Records read from the source."),
	COUNTER(source_bytes_total, "Bytes read from the source."),
	SECONDS(source_idle_seconds, "Seconds since the source last delivered data."),
	COUNTER(source_restarts_total, "Times the source command was restarted."),
	COUNTER(source_long_lines_total, "Lines longer than max_line, cut into pieces."),
	COUNTER(heartbeats_total, "Heartbeat records sent."),
	GAUGE(clients_connected, "Clients connected now."),
	COUNTER(clients_accepted_total, "Clients accepted and served."),
	COUNTER(clients_rejected_total, "Connections closed at once beyond max_clients."),
	COUNTER(clients_closed_idle_total, "Clients closed by the idle timeout."),
	COUNTER(clients_closed_send_timeout_total, "Clients closed by the send timeout."),
	COUNTER(clients_dropped_overflow_total,
		"Clients disconnected for falling more than the buffer behind."),
	COUNTER(clients_closed_peer_total, "Clients that closed their connection."),
	COUNTER(clients_closed_error_total, "Clients closed after a socket error."),
	COUNTER(clients_closed_kill_total, "Clients closed by the kill client command."),
	COUNTER(clients_closed_shutdown_total, "Clients closed by a stop of pipecastd."),
	COUNTER(clients_skipped_bytes_total,
		"Bytes that overflow = skip made clients miss."),
	COUNTER(bytes_sent_total, "Bytes sent to clients."),
	GAUGE(ring_size_bytes, "Size of the ring buffer."),
	GAUGE(ring_used_bytes, "Bytes the slowest client is behind the newest byte."),
	BY_KIND(timers_live, STATS_GAUGE, live, "Timers active in the loop now."),
	GAUGE(timers_client_live, "Active timers that belong to client connections."),
	BY_KIND(timer_allocations_total, STATS_COUNTER, allocations_total,
		"Timer objects ever created."),
	BY_KIND(timer_rearms_total, STATS_COUNTER, rearms_total,
		"Times an active timer was re-armed."),
	BY_KIND(timer_expirations_total, STATS_COUNTER, expirations_total,
		"Times a timer expired."),
	GAUGE(allocations_live, "Heap allocations live now."),
	COUNTER(allocations_total, "Heap allocations ever made."),
	GAUGE(memory_rss_bytes, "Resident set size of pipecastd."),
	COUNTER(loop_iterations_total, "Iterations of the event loop."),
	COUNTER(allocations_clients_total, "Heap allocations made for client connections."),
	COUNTER(allocations_stats_total, "Heap allocations made for stats connections."),
	COUNTER(allocations_other_total, "Heap allocations made for everything else."),
	COUNTER(source_fifo_refused_total,
		"Reopens refused: the FIFO's path named something else."),
	COUNTER(log_lines_dropped_total,
		"Log lines dropped while standard error could not take them."),
	COUNTER(clients_closed_denied_total,
		"Clients closed because access rules no longer (or did not) let them in."),
	COUNTER(clients_closed_auth_timeout_total,
		"Raw clients closed for not authenticating within auth_timeout."),
	REASON(address, "Connections refused by access rules, by reason."),
	REASON(per_ip, "Connections refused by access rules, by reason."),
	REASON(token, "Connections refused by access rules, by reason."),
	REASON(uid, "Connections refused by access rules, by reason."),
	REASON(auth_timeout, "Connections refused by access rules, by reason."),
	LABEL(stream_epoch, MX_STREAM_INFO, "Epoch of the event ids of this stream."),
	GAUGE(stream_first_seq, "Oldest record that every client kind can still be served."),
	GAUGE(stream_last_seq, "Sequence number of the newest record."),
	CLASS(2xx, "HTTP requests answered, by class."),
	CLASS(3xx, "HTTP requests answered, by class."),
	CLASS(4xx, "HTTP requests answered, by class."),
	CLASS(5xx, "HTTP requests answered, by class."),
	COUNTER(resumes_total, "Event streams that resumed from an id."),
	COUNTER(resume_gaps_total, "Resumes that began with a gap notice."),
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define COL(s, n, t) { #n, t, offsetof(struct s, n), 0, 0, 0, NULL, NULL, NULL, NULL }

/* The kind comes first: JSON uses it as the key and the rest as the value. */
static const struct field timer_cols[] = {
	COL(stats_timer_row, kind, F_STR),
	COL(stats_timer_row, live, F_U64),
	COL(stats_timer_row, allocations_total, F_U64),
	COL(stats_timer_row, rearms_total, F_U64),
	COL(stats_timer_row, expirations_total, F_U64),
	COL(stats_timer_row, next_due_s, F_DUE),
};

static const struct field client_cols[] = {
	COL(stats_client_row, id, F_U64),
	COL(stats_client_row, addr, F_STR),
	COL(stats_client_row, age_s, F_SEC),
	COL(stats_client_row, idle_s, F_SEC),
	COL(stats_client_row, lag_bytes, F_U64),
	COL(stats_client_row, sent_bytes, F_U64),
	COL(stats_client_row, skipped_bytes, F_U64),
	COL(stats_client_row, state, F_STR),
	COL(stats_client_row, proto, F_STR),
};

static const struct field config_cols[] = {
	COL(stats_config_row, key, F_STR),
	COL(stats_config_row, source, F_STR),
	COL(stats_config_row, value, F_TEXT),
};

static const struct field closed_cols[] = {
	COL(stats_closed_row, id, F_U64),
	COL(stats_closed_row, addr, F_CHARS),
	COL(stats_closed_row, age_s, F_SEC),
	COL(stats_closed_row, sent_bytes, F_U64),
	COL(stats_closed_row, reason, F_STR),
};

/* The values source_state takes; metrics show each as 0 or 1. */
static const char *const source_states[] = { "open", "waiting", "restarting", "closed" };

/* ---- reading fields ---- */

/* The uint64_t at a field's offset. */
static uint64_t field_u64(const void *base, const struct field *f)
{
	uint64_t v;

	memcpy(&v, (const char *)base + f->off, sizeof(v));
	return v;
}

/* The double at a field's offset. */
static double field_f64(const void *base, const struct field *f)
{
	double v;

	memcpy(&v, (const char *)base + f->off, sizeof(v));
	return v;
}

/* The string at a field's offset (pointer or inline array); may be NULL. */
static const char *field_str(const void *base, const struct field *f)
{
	const char *s;

	if (f->type == F_CHARS)
		return (const char *)base + f->off;
	memcpy(&s, (const char *)base + f->off, sizeof(s));
	return s;
}

/* ---- text values ---- */

/* A decimal integer. */
static void text_u64(struct sbuf *b, const void *base, const struct field *f)
{
	sbuf_printf(b, "%llu", (unsigned long long)field_u64(base, f));
}

/* Seconds with three decimals, or `none` where there is no number (not
 * finite, or negative for a time until something when nothing is due). */
static void put_seconds(struct sbuf *b, double v, bool due, const char *none)
{
	if (isfinite(v) && !(due && v < 0))
		sbuf_printf(b, "%.3f", v);
	else
		sbuf_puts(b, none);
}

/* Seconds; "-" when not a number. */
static void text_sec(struct sbuf *b, const void *base, const struct field *f)
{
	put_seconds(b, field_f64(base, f), false, "-");
}

/* Seconds until something, or "-" when nothing is due. */
static void text_due(struct sbuf *b, const void *base, const struct field *f)
{
	put_seconds(b, field_f64(base, f), true, "-");
}

/* A string as one table cell: "-" when empty, blanks and control bytes as
 * '?', so that columns stay split by single spaces and lines stay whole. */
static void text_str(struct sbuf *b, const void *base, const struct field *f)
{
	const char *s = field_str(base, f);

	if (!s || !*s) {
		sbuf_puts(b, "-");
		return;
	}
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		sbuf_append(b, c <= ' ' || c == 0x7f ? "?" : s, 1);
	}
}

/* A last cell of free text: blanks kept, control bytes as '?', nothing
 * at all when empty. */
static void text_text(struct sbuf *b, const void *base, const struct field *f)
{
	const char *s = field_str(base, f);

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		sbuf_append(b, c < ' ' || c == 0x7f ? "?" : s, 1);
	}
}

/* ---- JSON values ---- */

/* Same as text: JSON integers are plain decimals. */
static void json_u64(struct sbuf *b, const void *base, const struct field *f)
{
	text_u64(b, base, f);
}

/* Seconds; null when not a number. */
static void json_sec(struct sbuf *b, const void *base, const struct field *f)
{
	put_seconds(b, field_f64(base, f), false, "null");
}

/* Seconds until something, or null when nothing is due. */
static void json_due(struct sbuf *b, const void *base, const struct field *f)
{
	put_seconds(b, field_f64(base, f), true, "null");
}

/* JSON's two-character escapes, by the byte they stand for. */
static const char json_short_esc[128] = {
	['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
	['"'] = '"', ['\\'] = '\\',
};

/* A quoted JSON string with quotes, backslashes and control bytes escaped.
 * Other bytes pass as they are (the daemon's strings are ASCII). */
static void json_string(struct sbuf *b, const char *s)
{
	sbuf_puts(b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 128 && json_short_esc[c])
			sbuf_printf(b, "\\%c", json_short_esc[c]);
		else if (c < 0x20)
			sbuf_printf(b, "\\u%04x", c);
		else
			sbuf_append(b, s, 1);
	}
	sbuf_puts(b, "\"");
}

/* A string field, or null when it is NULL. */
static void json_str(struct sbuf *b, const void *base, const struct field *f)
{
	const char *s = field_str(base, f);

	if (s)
		json_string(b, s);
	else
		sbuf_puts(b, "null");
}

typedef void (*put_fn)(struct sbuf *b, const void *base, const struct field *f);

/* Value writers by field type: [0] text, [1] JSON. */
static const put_fn put[][2] = {
	[F_U64] = { text_u64, json_u64 },
	[F_SEC] = { text_sec, json_sec },
	[F_DUE] = { text_due, json_due },
	[F_STR] = { text_str, json_str },
	[F_CHARS] = { text_str, json_str },
	[F_TEXT] = { text_text, json_str },
};

/* ---- generic tables and objects ---- */

/* The header line of a table: the column names. */
static void table_header(struct sbuf *b, const struct field *cols, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sbuf_printf(b, "%s%s", i ? " " : "", cols[i].name);
	sbuf_puts(b, "\n");
}

/* One table row, cells separated by single spaces. */
static void table_row(struct sbuf *b, const struct field *cols, size_t n,
		      const void *row)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			sbuf_puts(b, " ");
		put[cols[i].type][0](b, row, &cols[i]);
	}
	sbuf_puts(b, "\n");
}

/* One JSON object of the given fields of a row. */
static void json_object(struct sbuf *b, const struct field *cols, size_t n,
			const void *row)
{
	sbuf_puts(b, "{");
	for (size_t i = 0; i < n; i++) {
		sbuf_printf(b, "%s\"%s\":", i ? "," : "", cols[i].name);
		put[cols[i].type][1](b, row, &cols[i]);
	}
	sbuf_puts(b, "}");
}

/* Ends a reply with the protocol's empty line; reports allocation failure. */
static int reply_end(struct sbuf *b)
{
	sbuf_puts(b, "\n");
	return sbuf_failed(b) ? -1 : 0;
}

/* Starts a table reply: the header, or the opening of a JSON array. */
static void rows_begin(struct statfmt_rows *t, struct sbuf *b, bool json,
		       const struct field *cols, size_t n)
{
	*t = (struct statfmt_rows){ .b = b, .json = json, .n = 0 };
	if (json)
		sbuf_puts(b, "[");
	else
		table_header(b, cols, n);
}

/* One row of a table reply, as text or as one element of the JSON array. */
static void rows_add(struct statfmt_rows *t, const struct field *cols, size_t n,
		     const void *row)
{
	if (t->json) {
		sbuf_puts(t->b, t->n ? "," : "");
		json_object(t->b, cols, n, row);
	} else {
		table_row(t->b, cols, n, row);
	}
	t->n++;
}

/* Closes a table reply (the JSON array and its line) and the reply. */
int statfmt_rows_end(struct statfmt_rows *t)
{
	if (t->json)
		sbuf_puts(t->b, "]\n");
	return reply_end(t->b);
}

/* ---- the show-info name list ---- */

/* Number of documented names. */
size_t stats_info_count(void)
{
	return NELEM(info_fields);
}

/* Name i, for documentation checks and tools. */
const char *stats_info_name(size_t i)
{
	return i < NELEM(info_fields) ? info_fields[i].name : NULL;
}

/* Prometheus type of name i. */
enum stats_type stats_info_type(size_t i)
{
	return i < NELEM(info_fields) ? info_fields[i].stat : STATS_STRING;
}

/* Description of name i. */
const char *stats_info_help(size_t i)
{
	return i < NELEM(info_fields) ? info_fields[i].help : NULL;
}

/* Where each close reason is counted in struct stats_info. */
static const size_t reason_fields[CLOSE_REASON_COUNT] = {
	[CLOSE_IDLE] = offsetof(struct stats_info, clients_closed_idle_total),
	[CLOSE_SEND_TIMEOUT] = offsetof(struct stats_info, clients_closed_send_timeout_total),
	[CLOSE_OVERFLOW] = offsetof(struct stats_info, clients_dropped_overflow_total),
	[CLOSE_PEER] = offsetof(struct stats_info, clients_closed_peer_total),
	[CLOSE_ERROR] = offsetof(struct stats_info, clients_closed_error_total),
	[CLOSE_KILL] = offsetof(struct stats_info, clients_closed_kill_total),
	[CLOSE_SHUTDOWN] = offsetof(struct stats_info, clients_closed_shutdown_total),
	[CLOSE_REJECTED] = offsetof(struct stats_info, clients_rejected_total),
	[CLOSE_DENIED] = offsetof(struct stats_info, clients_closed_denied_total),
	[CLOSE_AUTH_TIMEOUT] = offsetof(struct stats_info, clients_closed_auth_timeout_total),
};

/* Registry counters copied as they are: offsets in both structs. */
#define SAME(n) { offsetof(struct stats_info, n), offsetof(struct counters, n) }
#define SAME_AS(n, c) { offsetof(struct stats_info, n), offsetof(struct counters, c) }
static const size_t same_fields[][2] = {
	SAME(source_records_total), SAME(source_bytes_total),
	SAME(source_restarts_total), SAME(source_long_lines_total),
	SAME(heartbeats_total), SAME(clients_connected),
	SAME(clients_accepted_total), SAME(clients_skipped_bytes_total),
	SAME(bytes_sent_total),
	SAME(source_fifo_refused_total), SAME(log_lines_dropped_total),
	SAME_AS(http_requests_2xx_total, http_requests_total[HTTP_2XX]),
	SAME_AS(http_requests_3xx_total, http_requests_total[HTTP_3XX]),
	SAME_AS(http_requests_4xx_total, http_requests_total[HTTP_4XX]),
	SAME_AS(http_requests_5xx_total, http_requests_total[HTTP_5XX]),
	SAME(resumes_total), SAME(resume_gaps_total),
};

/* Fills the registry's part of the info; the daemon adds the rest. */
void stats_info_from_counters(struct stats_info *in, const struct counters *c)
{
	for (size_t i = 0; i < NELEM(same_fields); i++)
		memcpy((char *)in + same_fields[i][0],
		       (const char *)c + same_fields[i][1], sizeof(uint64_t));
	for (size_t r = 0; r < CLOSE_REASON_COUNT; r++)
		memcpy((char *)in + reason_fields[r], &c->clients_closed_total[r],
		       sizeof(uint64_t));
	memcpy(&in->access_refused_address_total, c->access_refused_total,
	       sizeof(c->access_refused_total));
}

_Static_assert(offsetof(struct stats_info, access_refused_auth_timeout_total) ==
	       offsetof(struct stats_info, access_refused_address_total) +
	       (REFUSAL_COUNT - 1) * sizeof(uint64_t),
	       "the access_refused_*_total fields follow enum refusal");

/* ---- replies ---- */

/* Success of a command without output. */
int statfmt_ok(struct sbuf *b)
{
	sbuf_puts(b, "ok\n");
	return reply_end(b);
}

/* Success with notes: "ok", then each non-empty line of lines (control
 * characters but the newline become spaces), then the empty line. */
int statfmt_ok_lines(struct sbuf *b, const char *lines, size_t len)
{
	bool bol = true;

	sbuf_puts(b, "ok\n");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)lines[i];

		if (c == '\n' && bol)
			continue;               /* an empty line would end the reply */
		sbuf_append(b, c != '\n' && (c < ' ' || c == 0x7f) ? " " : &lines[i], 1);
		bol = c == '\n';
	}
	if (!bol)
		sbuf_puts(b, "\n");
	return reply_end(b);
}

/* A failed command; the message is kept on one line. */
int statfmt_error(struct sbuf *b, const char *msg)
{
	sbuf_puts(b, "error: ");
	for (; msg && *msg; msg++) {
		unsigned char c = (unsigned char)*msg;

		sbuf_append(b, c < ' ' || c == 0x7f ? " " : msg, 1);
	}
	sbuf_puts(b, "\n");
	return reply_end(b);
}

/* The command list. */
int statfmt_help(struct sbuf *b)
{
	sbuf_puts(b, statcmd_help());
	return reply_end(b);
}

/* Every show-info name with its value. */
int statfmt_info(struct sbuf *b, const struct stats_info *in, bool json)
{
	if (json) {
		json_object(b, info_fields, NELEM(info_fields), in);
		sbuf_puts(b, "\n");
		return reply_end(b);
	}
	for (size_t i = 0; i < NELEM(info_fields); i++) {
		sbuf_printf(b, "%s: ", info_fields[i].name);
		put[info_fields[i].type][0](b, in, &info_fields[i]);
		sbuf_puts(b, "\n");
	}
	return reply_end(b);
}

/* Timer figures by kind; JSON is an object keyed by kind. */
int statfmt_timers(struct sbuf *b, const struct stats_timer_row *rows, size_t n,
		   bool json)
{
	if (!json) {
		table_header(b, timer_cols, NELEM(timer_cols));
		for (size_t i = 0; i < n; i++)
			table_row(b, timer_cols, NELEM(timer_cols), &rows[i]);
		return reply_end(b);
	}
	sbuf_puts(b, "{");
	for (size_t i = 0; i < n; i++) {
		sbuf_puts(b, i ? "," : "");
		json_string(b, rows[i].kind ? rows[i].kind : "");
		sbuf_puts(b, ":");
		json_object(b, timer_cols + 1, NELEM(timer_cols) - 1, &rows[i]);
	}
	sbuf_puts(b, "}\n");
	return reply_end(b);
}

/* Starts a streamed "show clients" reply. */
void statfmt_clients_begin(struct statfmt_rows *t, struct sbuf *b, bool json)
{
	rows_begin(t, b, json, client_cols, NELEM(client_cols));
}

/* Adds one client to a streamed "show clients" reply. */
void statfmt_clients_row(struct statfmt_rows *t, const struct stats_client_row *r)
{
	rows_add(t, client_cols, NELEM(client_cols), r);
}

/* show config: no header (the value, last, may hold blanks), or a JSON
 * array. */
void statfmt_config_begin(struct statfmt_rows *t, struct sbuf *b, bool json)
{
	*t = (struct statfmt_rows){ .b = b, .json = json, .n = 0 };
	if (json)
		sbuf_puts(b, "[");
}

/* One key of show config. */
void statfmt_config_row(struct statfmt_rows *t, const struct stats_config_row *r)
{
	rows_add(t, config_cols, NELEM(config_cols), r);
}

/* "show clients" from an array. */
int statfmt_clients(struct sbuf *b, const struct stats_client_row *rows, size_t n,
		    bool json)
{
	struct statfmt_rows t;

	statfmt_clients_begin(&t, b, json);
	for (size_t i = 0; i < n; i++)
		statfmt_clients_row(&t, &rows[i]);
	return statfmt_rows_end(&t);
}

/* "show closed" from the log, oldest first. */
int statfmt_closed(struct sbuf *b, const struct closedlog *log, bool json)
{
	struct statfmt_rows t;

	rows_begin(&t, b, json, closed_cols, NELEM(closed_cols));
	for (size_t i = 0; i < closedlog_count(log); i++)
		rows_add(&t, closed_cols, NELEM(closed_cols), closedlog_at(log, i));
	return statfmt_rows_end(&t);
}

/* ---- Prometheus text exposition 0.0.4 ---- */

static const char *const prom_types[] = {
	[STATS_COUNTER] = "counter",
	[STATS_GAUGE] = "gauge",
	[STATS_STRING] = "gauge",
};

/* Escapes of the exposition format: [0] in HELP texts, [1] in label values. */
static const char *const prom_esc[2][128] = {
	{ ['\\'] = "\\\\", ['\n'] = "\\n" },
	{ ['\\'] = "\\\\", ['\n'] = "\\n", ['"'] = "\\\"" },
};

/* Appends s escaped for a HELP text (label false) or a label value. */
static void prom_escaped(struct sbuf *b, const char *s, bool label)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		const char *e = c < 128 ? prom_esc[label][c] : NULL;

		if (e)
			sbuf_puts(b, e);
		else
			sbuf_append(b, s, 1);
	}
}

/* The HELP and TYPE lines that open every family. */
static void prom_family(struct sbuf *b, const char *name, enum stats_type type,
			const char *help)
{
	sbuf_printf(b, "# HELP pipecast_%s ", name);
	prom_escaped(b, help, false);
	sbuf_printf(b, "\n# TYPE pipecast_%s %s\n", name, prom_types[type]);
}

/* One sample with one label: pipecast_NAME{LABEL="VALUE"} then the value. */
static void prom_labelled(struct sbuf *b, const char *name, const char *label,
			  const char *value)
{
	sbuf_printf(b, "pipecast_%s{%s=\"", name, label);
	prom_escaped(b, value ? value : "", true);
	sbuf_puts(b, "\"} ");
}

/* A sample value: integers exact, seconds with three decimals. */
static void prom_value(struct sbuf *b, const void *base, const struct field *f)
{
	double v;

	if (f->type == F_U64) {
		text_u64(b, base, f);
		return;
	}
	v = field_f64(base, f);
	if (isnan(v))
		sbuf_puts(b, "NaN");
	else if (isinf(v))
		sbuf_puts(b, v > 0 ? "+Inf" : "-Inf");
	else
		sbuf_printf(b, "%.3f", v);
}

/* pipecast_NAME VALUE. */
static void metric_plain(struct sbuf *b, const struct field *f,
			 const struct stats_info *in,
			 __unused const struct stats_timer_row *rows, __unused size_t n)
{
	prom_family(b, f->name, f->stat, f->help);
	sbuf_printf(b, "pipecast_%s ", f->name);
	prom_value(b, in, f);
	sbuf_puts(b, "\n");
}

/* pipecast_NAME{kind="K"} VALUE for every timer kind; the family has no
 * unlabelled sample, the kinds add up to the show-info total. */
static void metric_by_kind(struct sbuf *b, const struct field *f,
			   __unused const struct stats_info *in,
			   const struct stats_timer_row *rows, size_t n)
{
	struct field col = { .type = F_U64, .off = f->kind_off };

	prom_family(b, f->name, f->stat, f->help);
	for (size_t i = 0; i < n; i++) {
		prom_labelled(b, f->name, "kind", rows[i].kind);
		text_u64(b, &rows[i], &col);
		sbuf_puts(b, "\n");
	}
}

/* pipecast_build_info{version="V"} 1. */
static void metric_build_info(struct sbuf *b, const struct field *f,
			      const struct stats_info *in,
			      __unused const struct stats_timer_row *rows, __unused size_t n)
{
	prom_family(b, "build_info", STATS_GAUGE, f->help);
	prom_labelled(b, "build_info", "version", field_str(in, f));
	sbuf_puts(b, "1\n");
}

/* pipecast_source_state{state="S"} 1 for the current state, 0 for the
 * others; a state outside the known four still shows, as 1. */
static void metric_state(struct sbuf *b, const struct field *f,
			 const struct stats_info *in,
			 __unused const struct stats_timer_row *rows, __unused size_t n)
{
	const char *cur = field_str(in, f);
	bool known = false;

	prom_family(b, f->name, STATS_GAUGE, f->help);
	for (size_t i = 0; i < NELEM(source_states); i++) {
		bool is = cur && strcmp(cur, source_states[i]) == 0;

		prom_labelled(b, f->name, "state", source_states[i]);
		sbuf_puts(b, is ? "1\n" : "0\n");
		known = known || is;
	}
	if (cur && !known) {
		prom_labelled(b, f->name, "state", cur);
		sbuf_puts(b, "1\n");
	}
}

/* pipecast_stream_info{epoch="E"} 1. */
static void metric_stream_info(struct sbuf *b, const struct field *f,
			       const struct stats_info *in,
			       __unused const struct stats_timer_row *rows, __unused size_t n)
{
	prom_family(b, "stream_info", STATS_GAUGE, f->help);
	prom_labelled(b, "stream_info", "epoch", field_str(in, f));
	sbuf_puts(b, "1\n");
}

/* pipecast_FAMILY{LABEL="V"} VALUE; the family's HELP and TYPE come with
 * its first name (f points into info_fields, where they are consecutive). */
static void metric_labelled(struct sbuf *b, const struct field *f,
			  const struct stats_info *in,
			  __unused const struct stats_timer_row *rows, __unused size_t n)
{
	const struct field *prev = f > info_fields ? f - 1 : NULL;

	if (!prev || prev->how != MX_LABELLED || strcmp(prev->family, f->family) != 0)
		prom_family(b, f->family, f->stat, f->help);
	prom_labelled(b, f->family, f->label, f->value);
	prom_value(b, in, f);
	sbuf_puts(b, "\n");
}

typedef void (*metric_fn)(struct sbuf *b, const struct field *f,
			  const struct stats_info *in,
			  const struct stats_timer_row *rows, size_t n);

static const metric_fn metric_fns[] = {
	[MX_PLAIN] = metric_plain,
	[MX_BY_KIND] = metric_by_kind,
	[MX_BUILD_INFO] = metric_build_info,
	[MX_STATE] = metric_state,
	[MX_STREAM_INFO] = metric_stream_info,
	[MX_LABELLED] = metric_labelled,
};

/* pipecast_timer_next_due_seconds{kind="K"}, only for kinds with a timer
 * armed; no family at all when none is. */
static void metric_next_due(struct sbuf *b, const struct stats_timer_row *rows,
			    size_t n)
{
	static const struct field due = { .type = F_SEC,
		.off = offsetof(struct stats_timer_row, next_due_s) };
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		if (rows[i].next_due_s < 0)
			continue;
		if (!any)
			prom_family(b, "timer_next_due_seconds", STATS_GAUGE,
				    "Seconds until the soonest armed timer of the kind expires.");
		any = true;
		prom_labelled(b, "timer_next_due_seconds", "kind", rows[i].kind);
		prom_value(b, &rows[i], &due);
		sbuf_puts(b, "\n");
	}
}

/* Every show-info name as a metric family, then the next-due family. */
int statfmt_metrics(struct sbuf *b, const struct stats_info *in,
		    const struct stats_timer_row *rows, size_t n)
{
	for (size_t i = 0; i < NELEM(info_fields); i++)
		metric_fns[info_fields[i].how](b, &info_fields[i], in, rows, n);
	metric_next_due(b, rows, n);
	return reply_end(b);
}

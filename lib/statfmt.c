/* statfmt.c: stats socket replies. Every table, JSON object and metric
 * family is driven by a field table (name, value type, offset), so a name is
 * spelled once and text, JSON and Prometheus output (promfmt.c) cannot drift
 * apart. */
#include "statfmt.h"
#include "compat.h"
#include "statcmd.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "statfmt-private.h"

#define INFO(n, t, st, h) \
	{ #n, t, offsetof(struct statfmt_info, n), st, MX_PLAIN, 0, h, NULL, NULL, NULL }
#define COUNTER(n, h) INFO(n, F_U64, STATFMT_COUNTER, h)
/* A counter of the registry: reg.FIELD, shown as NAME. */
#define REG_AS(n, field, st, h) \
	{ #n, F_U64, offsetof(struct statfmt_info, reg.field), st, MX_PLAIN, 0, h, NULL, NULL, NULL }
#define REG(n, h) REG_AS(n, n, STATFMT_COUNTER, h)
#define CLOSED(n, r, h) REG_AS(n, clients_closed_total[r], STATFMT_COUNTER, h)
#define GAUGE(n, h) INFO(n, F_U64, STATFMT_GAUGE, h)
#define SECONDS(n, h) INFO(n, F_SEC, STATFMT_GAUGE, h)
#define BY_KIND(n, st, k, h) { #n, F_U64, offsetof(struct statfmt_info, n), st, \
	MX_BY_KIND, offsetof(struct statfmt_timer_row, k), h, NULL, NULL, NULL }
/* FAMILY_VALUE_total, shown as pipecast_FAMILY_total{LABEL="VALUE"}. */
#define LABELLED(family, label, v, i, h) { #family "_" #v "_total", F_U64, \
	offsetof(struct statfmt_info, reg.family##_total[i]), STATFMT_COUNTER, MX_LABELLED, 0, h, \
	#family "_total", #label, #v }
#define REASON(r, i, h) LABELLED(access_refused, reason, r, i, h)
#define CLASS(c, i, h) LABELLED(http_requests, class, c, i, h)
#define LABEL(n, how, h) \
	{ #n, F_STR, offsetof(struct statfmt_info, n), STATFMT_STRING, how, 0, h, NULL, NULL, NULL }
/* A string NAME, shown as pipecast_FAMILY{LABEL="NAME's value"} 1. */
#define INFO_LABEL(n, family, label, h) { #n, F_STR, offsetof(struct statfmt_info, n), \
	STATFMT_STRING, MX_INFO, 0, h, #family, #label, NULL }

/* The one documented list of "show info" names, in the documented order. */
const struct field statfmt_info_fields[] = {
	INFO_LABEL(version, build_info, version, "Version of pipecastd."),
	GAUGE(pid, "Process id of pipecastd."),
	SECONDS(uptime_seconds, "Seconds since pipecastd started."),
	LABEL(source_state, MX_STATE,
	      "State of the source: open, waiting, restarting or closed."),
	REG(source_records_total, "Records read from the source."),
	REG(source_bytes_total, "Bytes read from the source."),
	SECONDS(source_idle_seconds, "Seconds since the source last delivered data."),
	REG(source_restarts_total, "Times the source command was restarted."),
	REG(source_long_lines_total, "Lines longer than max_line, cut into pieces."),
	REG(heartbeats_total, "Heartbeat records sent."),
	REG_AS(clients_connected, clients_connected, STATFMT_GAUGE, "Clients connected now."),
	REG(clients_accepted_total, "Clients accepted and served."),
	CLOSED(clients_rejected_total, CLOSE_REJECTED, "Connections closed at once beyond max_clients."),
	CLOSED(clients_closed_idle_total, CLOSE_IDLE, "Clients closed by the idle timeout."),
	CLOSED(clients_closed_send_timeout_total, CLOSE_SEND_TIMEOUT, "Clients closed by the send timeout."),
	CLOSED(clients_dropped_overflow_total, CLOSE_OVERFLOW,
		"Clients disconnected for falling more than the buffer behind."),
	CLOSED(clients_closed_peer_total, CLOSE_PEER, "Clients that closed their connection."),
	CLOSED(clients_closed_error_total, CLOSE_ERROR, "Clients closed after a socket error."),
	CLOSED(clients_closed_kill_total, CLOSE_KILL, "Clients closed by the kill client command."),
	CLOSED(clients_closed_shutdown_total, CLOSE_SHUTDOWN, "Clients closed by a stop of pipecastd."),
	REG(clients_skipped_bytes_total,
		"Bytes that overflow = skip made clients miss."),
	REG(bytes_sent_total, "Bytes sent to clients."),
	GAUGE(ring_size_bytes, "Size of the ring buffer."),
	GAUGE(ring_used_bytes, "Bytes the slowest client is behind the newest byte."),
	BY_KIND(timers_live, STATFMT_GAUGE, live, "Timers active in the loop now."),
	GAUGE(timers_client_live, "Active timers that belong to client connections."),
	BY_KIND(timer_allocations_total, STATFMT_COUNTER, allocations_total,
		"Timer objects ever created."),
	BY_KIND(timer_rearms_total, STATFMT_COUNTER, rearms_total,
		"Times an active timer was re-armed."),
	BY_KIND(timer_expirations_total, STATFMT_COUNTER, expirations_total,
		"Times a timer expired."),
	GAUGE(allocations_live, "Heap allocations live now."),
	COUNTER(allocations_total, "Heap allocations ever made."),
	GAUGE(memory_rss_bytes, "Resident set size of pipecastd."),
	COUNTER(loop_iterations_total, "Iterations of the event loop."),
	COUNTER(allocations_clients_total, "Heap allocations made for client connections."),
	COUNTER(allocations_stats_total, "Heap allocations made for stats connections."),
	COUNTER(allocations_other_total, "Heap allocations made for everything else."),
	REG(source_fifo_refused_total,
		"Reopens refused: the FIFO's path named something else."),
	REG(log_lines_dropped_total,
		"Log lines dropped while standard error could not take them."),
	CLOSED(clients_closed_denied_total, CLOSE_DENIED,
		"Clients closed because access rules no longer (or did not) let them in."),
	CLOSED(clients_closed_auth_timeout_total, CLOSE_AUTH_TIMEOUT,
		"Raw clients closed for not authenticating within auth_timeout."),
	REASON(address, REFUSED_ADDRESS, "Connections refused by access rules, by reason."),
	REASON(per_ip, REFUSED_PER_IP, "Connections refused by access rules, by reason."),
	REASON(token, REFUSED_TOKEN, "Connections refused by access rules, by reason."),
	REASON(uid, REFUSED_UID, "Connections refused by access rules, by reason."),
	REASON(auth_timeout, REFUSED_AUTH_TIMEOUT, "Connections refused by access rules, by reason."),
	INFO_LABEL(stream_epoch, stream_info, epoch, "Epoch of the event ids of this stream."),
	GAUGE(stream_first_seq, "Oldest record that every client kind can still be served."),
	GAUGE(stream_last_seq, "Sequence number of the newest record."),
	CLASS(2xx, HTTP_2XX, "HTTP requests answered, by class."),
	CLASS(3xx, HTTP_3XX, "HTTP requests answered, by class."),
	CLASS(4xx, HTTP_4XX, "HTTP requests answered, by class."),
	CLASS(5xx, HTTP_5XX, "HTTP requests answered, by class."),
	REG(resumes_total, "Event streams that resumed from an id."),
	REG(resume_gaps_total, "Resumes that began with a gap notice."),
};

const size_t statfmt_info_nfields = NELEM(statfmt_info_fields);
#define COL(s, n, t) { #n, t, offsetof(struct s, n), 0, 0, 0, NULL, NULL, NULL, NULL }

/* The kind comes first: JSON uses it as the key and the rest as the value. */
static const struct field timer_cols[] = {
	COL(statfmt_timer_row, kind, F_STR),
	COL(statfmt_timer_row, live, F_U64),
	COL(statfmt_timer_row, allocations_total, F_U64),
	COL(statfmt_timer_row, rearms_total, F_U64),
	COL(statfmt_timer_row, expirations_total, F_U64),
	COL(statfmt_timer_row, next_due_s, F_DUE),
};

static const struct field client_cols[] = {
	COL(statfmt_client_row, id, F_U64),
	COL(statfmt_client_row, addr, F_STR),
	COL(statfmt_client_row, age_s, F_SEC),
	COL(statfmt_client_row, idle_s, F_SEC),
	COL(statfmt_client_row, lag_bytes, F_U64),
	COL(statfmt_client_row, sent_bytes, F_U64),
	COL(statfmt_client_row, skipped_bytes, F_U64),
	COL(statfmt_client_row, state, F_STR),
	COL(statfmt_client_row, proto, F_STR),
};

static const struct field config_cols[] = {
	COL(statfmt_config_row, key, F_STR),
	COL(statfmt_config_row, source, F_STR),
	COL(statfmt_config_row, value, F_TEXT),
};

static const struct field closed_cols[] = {
	COL(stats_closed_row, id, F_U64),
	COL(stats_closed_row, addr, F_CHARS),
	COL(stats_closed_row, age_s, F_SEC),
	COL(stats_closed_row, sent_bytes, F_U64),
	COL(stats_closed_row, reason, F_STR),
};

/* The values source_state takes; metrics show each as 0 or 1. */
const char *const statfmt_source_states[] = { "open", "waiting", "restarting", "closed" };
const size_t statfmt_nsource_states = NELEM(statfmt_source_states);

/* ---- reading fields ---- */

/* The uint64_t at a field's offset. */
uint64_t statfmt_field_u64(const void *base, const struct field *f)
{
	uint64_t v;

	memcpy(&v, (const char *)base + f->off, sizeof(v));
	return v;
}

/* The double at a field's offset. */
double statfmt_field_f64(const void *base, const struct field *f)
{
	double v;

	memcpy(&v, (const char *)base + f->off, sizeof(v));
	return v;
}

/* The string at a field's offset (pointer or inline array); may be NULL. */
const char *statfmt_field_str(const void *base, const struct field *f)
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
	sbuf_printf(b, "%llu", (unsigned long long)statfmt_field_u64(base, f));
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
	put_seconds(b, statfmt_field_f64(base, f), false, "-");
}

/* Seconds until something, or "-" when nothing is due. */
static void text_due(struct sbuf *b, const void *base, const struct field *f)
{
	put_seconds(b, statfmt_field_f64(base, f), true, "-");
}

/* A string as one table cell: "-" when empty, blanks and control bytes as
 * '?', so that columns stay split by single spaces and lines stay whole. */
static void text_str(struct sbuf *b, const void *base, const struct field *f)
{
	const char *s = statfmt_field_str(base, f);

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
	const char *s = statfmt_field_str(base, f);

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
	put_seconds(b, statfmt_field_f64(base, f), false, "null");
}

/* Seconds until something, or null when nothing is due. */
static void json_due(struct sbuf *b, const void *base, const struct field *f)
{
	put_seconds(b, statfmt_field_f64(base, f), true, "null");
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
	const char *s = statfmt_field_str(base, f);

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
int statfmt_reply_end(struct sbuf *b)
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
	return statfmt_reply_end(t->b);
}

/* ---- the show-info name list ---- */

/* Number of documented names. */
size_t statfmt_info_count(void)
{
	return statfmt_info_nfields;
}

/* Name i, for documentation checks and tools. */
const char *statfmt_info_name(size_t i)
{
	return i < statfmt_info_nfields ? statfmt_info_fields[i].name : NULL;
}

/* Prometheus type of name i. */
enum statfmt_type statfmt_info_type(size_t i)
{
	return i < statfmt_info_nfields ? statfmt_info_fields[i].stat : STATFMT_STRING;
}

/* Description of name i. */
const char *statfmt_info_help(size_t i)
{
	return i < statfmt_info_nfields ? statfmt_info_fields[i].help : NULL;
}

/* ---- replies ---- */

/* Success of a command without output. */
int statfmt_ok(struct sbuf *b)
{
	sbuf_puts(b, "ok\n");
	return statfmt_reply_end(b);
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
	return statfmt_reply_end(b);
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
	return statfmt_reply_end(b);
}

/* The command list. */
int statfmt_help(struct sbuf *b)
{
	sbuf_puts(b, statcmd_help());
	return statfmt_reply_end(b);
}

/* Every show-info name with its value. */
int statfmt_info(struct sbuf *b, const struct statfmt_info *in, bool json)
{
	if (json) {
		json_object(b, statfmt_info_fields, statfmt_info_nfields, in);
		sbuf_puts(b, "\n");
		return statfmt_reply_end(b);
	}
	for (size_t i = 0; i < statfmt_info_nfields; i++) {
		sbuf_printf(b, "%s: ", statfmt_info_fields[i].name);
		put[statfmt_info_fields[i].type][0](b, in, &statfmt_info_fields[i]);
		sbuf_puts(b, "\n");
	}
	return statfmt_reply_end(b);
}

/* Timer figures by kind; JSON is an object keyed by kind. */
int statfmt_timers(struct sbuf *b, const struct statfmt_timer_row *rows, size_t n,
		   bool json)
{
	if (!json) {
		table_header(b, timer_cols, NELEM(timer_cols));
		for (size_t i = 0; i < n; i++)
			table_row(b, timer_cols, NELEM(timer_cols), &rows[i]);
		return statfmt_reply_end(b);
	}
	sbuf_puts(b, "{");
	for (size_t i = 0; i < n; i++) {
		sbuf_puts(b, i ? "," : "");
		json_string(b, rows[i].kind ? rows[i].kind : "");
		sbuf_puts(b, ":");
		json_object(b, timer_cols + 1, NELEM(timer_cols) - 1, &rows[i]);
	}
	sbuf_puts(b, "}\n");
	return statfmt_reply_end(b);
}

/* Starts a streamed "show clients" reply. */
void statfmt_clients_begin(struct statfmt_rows *t, struct sbuf *b, bool json)
{
	rows_begin(t, b, json, client_cols, NELEM(client_cols));
}

/* Adds one client to a streamed "show clients" reply. */
void statfmt_clients_row(struct statfmt_rows *t, const struct statfmt_client_row *r)
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
void statfmt_config_row(struct statfmt_rows *t, const struct statfmt_config_row *r)
{
	rows_add(t, config_cols, NELEM(config_cols), r);
}

/* "show clients" from an array. */
int statfmt_clients(struct sbuf *b, const struct statfmt_client_row *rows, size_t n,
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

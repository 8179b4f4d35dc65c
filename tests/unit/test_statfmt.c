/* test_statfmt.c: stats replies (exact text of each kind, the closing empty
 * line, JSON escaping, Prometheus output checked by promtool when present),
 * the output buffer, and the log of recent closes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc.h"
#include "closedlog.h"
#include "sbuf.h"
#include "statcmd.h"
#include "promfmt.h"
#include "statfmt.h"

static const struct statfmt_info info = {
	.version = "0.1.0", .pid = 4242, .uptime_seconds = 12.3456,
	.source_state = "open", .reg.source_records_total = 1000, .reg.source_bytes_total = 64000,
	.source_idle_seconds = 0.0004, .reg.source_restarts_total = 2,
	.reg.source_long_lines_total = 3, .reg.heartbeats_total = 4, .reg.clients_connected = 2,
	.reg.clients_accepted_total = 10, .reg.clients_closed_total[CLOSE_REJECTED] = 1,
	.reg.clients_closed_total[CLOSE_IDLE] = 1, .reg.clients_closed_total[CLOSE_SEND_TIMEOUT] = 2,
	.reg.clients_closed_total[CLOSE_OVERFLOW] = 3, .reg.clients_closed_total[CLOSE_PEER] = 1,
	.reg.clients_closed_total[CLOSE_ERROR] = 0, .reg.clients_closed_total[CLOSE_KILL] = 1,
	.reg.clients_closed_total[CLOSE_SHUTDOWN] = 0, .reg.clients_skipped_bytes_total = 77,
	.reg.bytes_sent_total = 128000, .ring_size_bytes = 4194304, .ring_used_bytes = 512,
	.timers_live = 4, .timers_client_live = 2, .timer_allocations_total = 14,
	.timer_rearms_total = 100, .timer_expirations_total = 9,
	.allocations_live = 30, .allocations_total = 300,
	.memory_rss_bytes = 8388608, .loop_iterations_total = 5000,
	.allocations_clients_total = 200, .allocations_stats_total = 60,
	.allocations_other_total = 40,
	.reg.source_fifo_refused_total = 6, .reg.log_lines_dropped_total = 7,
	.reg.clients_closed_total[CLOSE_DENIED] = 6, .reg.clients_closed_total[CLOSE_AUTH_TIMEOUT] = 7,
	.reg.access_refused_total[REFUSED_ADDRESS] = 11, .reg.access_refused_total[REFUSED_PER_IP] = 12,
	.reg.access_refused_total[REFUSED_TOKEN] = 13, .reg.access_refused_total[REFUSED_UID] = 14,
	.reg.access_refused_total[REFUSED_AUTH_TIMEOUT] = 15,
	.stream_epoch = "00c0ffee12345678", .stream_first_seq = 900, .stream_last_seq = 1000,
	.reg.http_requests_total[HTTP_2XX] = 20, .reg.http_requests_total[HTTP_3XX] = 0,
	.reg.http_requests_total[HTTP_4XX] = 4, .reg.http_requests_total[HTTP_5XX] = 1,
	.reg.resumes_total = 6, .reg.resume_gaps_total = 2,
};

/* Per-kind figures that add up to the totals of `info`. */
static const struct statfmt_timer_row timers[] = {
	{ "client", 2, 12, 90, 5, 0.25 },
	{ "stats", 1, 1, 10, 0, 59.9996 },
	{ "source_idle", 0, 0, 0, 0, -1 },
	{ "source_restart", 0, 0, 0, 0, -1 },
	{ "heartbeat", 0, 0, 0, 0, -1 },
	{ "accept_pause", 0, 0, 0, 0, -1 },
	{ "shutdown", 0, 0, 0, 0, -1 },
	{ "watchdog", 0, 0, 0, 0, -1 },
	{ "status", 1, 1, 0, 4, 1.5 },
};
#define NTIMERS (sizeof(timers) / sizeof(timers[0]))

static const struct statfmt_client_row clients[] = {
	{ 1, "127.0.0.1:5555", 1.5, 0.25, 0, 100, 0, "live", "raw" },
	{ 22, "[::1]:5555", 3600, 0.0126, 42, 1048576, 7, "pending", "sse" },
	{ 3, "unix", 0, 0, 0, 0, 0, "closing", "ws" },
};

/* Asserts the protocol's shape: one closing empty line and none before it;
 * a JSON reply is a single line. */
static void check_reply(const struct sbuf *b, bool json)
{
	assert_false(sbuf_failed(b));
	assert_true(b->len >= 3);
	assert_int_equal(strlen(b->buf), b->len);
	assert_string_equal(b->buf + b->len - 2, "\n\n");
	assert_true(strstr(b->buf, "\n\n") == b->buf + b->len - 2);
	assert_true(b->buf[0] != '\n');
	if (json)
		assert_true(strchr(b->buf, '\n') == b->buf + b->len - 2);
}

/* ---- sbuf ---- */

static void sbuf_grows_and_terminates(void **state)
{
	struct sbuf b = SBUF_INIT;
	uint64_t live = alloc_live();
	char big[1000];

	(void)state;
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(sbuf_puts(&b, "ab"), 0);
	assert_int_equal(sbuf_append(&b, "cd", 1), 0);
	assert_int_equal(sbuf_printf(&b, "<%d>", 42), 0);
	assert_string_equal(b.buf, "abc<42>");
	assert_int_equal(sbuf_printf(&b, "%s|%s", big, big), 0);
	assert_int_equal(b.len, 7 + 2 * 999 + 1);
	assert_int_equal(strlen(b.buf), b.len);
	assert_int_equal(b.buf[b.len - 1], 'y');
	assert_int_equal(alloc_live(), live + 1);
	sbuf_free(&b);
	assert_int_equal(alloc_live(), live);
	assert_null(b.buf);
	assert_int_equal(b.len, 0);
}

static void sbuf_failure_is_sticky_until_reset(void **state)
{
	struct sbuf b;

	(void)state;
	sbuf_init(&b);
	assert_int_equal(sbuf_puts(&b, "ok"), 0);
	assert_int_equal(sbuf_append(&b, "x", SIZE_MAX - 1), -1);
	assert_true(sbuf_failed(&b));
	assert_int_equal(sbuf_puts(&b, "more"), -1);
	assert_int_equal(sbuf_printf(&b, "%d", 1), -1);
	assert_int_equal(statfmt_ok(&b), -1);
	assert_string_equal(b.buf, "ok");
	sbuf_reset(&b);
	assert_false(sbuf_failed(&b));
	assert_int_equal(b.len, 0);
	assert_int_equal(sbuf_puts(&b, "again"), 0);
	assert_string_equal(b.buf, "again");
	sbuf_free(&b);
}

static void sbuf_consume_keeps_the_rest(void **state)
{
	struct sbuf b = SBUF_INIT;

	(void)state;
	sbuf_consume(&b, 3);
	sbuf_puts(&b, "hello world");
	sbuf_consume(&b, 6);
	assert_string_equal(b.buf, "world");
	assert_int_equal(b.len, 5);
	sbuf_consume(&b, 99);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.buf, "");
	sbuf_free(&b);
}

/* ---- the show-info name list ---- */

static void info_names_follow_spec_order(void **state)
{
	static const char *const spec[] = {
		"version", "pid", "uptime_seconds",
		"source_state", "source_records_total", "source_bytes_total",
		"source_idle_seconds", "source_restarts_total",
		"source_long_lines_total", "heartbeats_total",
		"clients_connected", "clients_accepted_total", "clients_rejected_total",
		"clients_closed_idle_total", "clients_closed_send_timeout_total",
		"clients_dropped_overflow_total", "clients_closed_peer_total",
		"clients_closed_error_total", "clients_closed_kill_total",
		"clients_closed_shutdown_total", "clients_skipped_bytes_total",
		"bytes_sent_total", "ring_size_bytes", "ring_used_bytes",
		"timers_live", "timers_client_live", "timer_allocations_total",
		"timer_rearms_total", "timer_expirations_total",
		"allocations_live", "allocations_total", "memory_rss_bytes",
		"loop_iterations_total", "allocations_clients_total",
		"allocations_stats_total", "allocations_other_total",
		"source_fifo_refused_total", "log_lines_dropped_total",
		"clients_closed_denied_total", "clients_closed_auth_timeout_total",
		"access_refused_address_total", "access_refused_per_ip_total",
		"access_refused_token_total", "access_refused_uid_total",
		"access_refused_auth_timeout_total",
		"stream_epoch", "stream_first_seq", "stream_last_seq",
		"http_requests_2xx_total", "http_requests_3xx_total",
		"http_requests_4xx_total", "http_requests_5xx_total",
		"resumes_total", "resume_gaps_total",
	};
	size_t n = sizeof(spec) / sizeof(spec[0]);

	(void)state;
	assert_int_equal(statfmt_info_count(), n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(statfmt_info_name(i), spec[i]);
	assert_null(statfmt_info_name(n));
}

static void info_types_and_help(void **state)
{
	(void)state;
	for (size_t i = 0; i < statfmt_info_count(); i++) {
		const char *name = statfmt_info_name(i);
		size_t len = strlen(name);
		bool total = len > 6 && strcmp(name + len - 6, "_total") == 0;
		bool str = strcmp(name, "version") == 0 || strcmp(name, "source_state") == 0 ||
			   strcmp(name, "stream_epoch") == 0;

		assert_int_equal(statfmt_info_type(i) == STATFMT_COUNTER, total);
		assert_int_equal(statfmt_info_type(i) == STATFMT_STRING, str);
		assert_true(strlen(statfmt_info_help(i)) > 5);
		assert_null(strchr(statfmt_info_help(i), '\n'));
	}
}

/* The snapshot's registry part (reg) is shown under the documented names:
 * each close reason, refusal reason and answer class under its own. */
static void info_shows_the_registry(void **state)
{
	static const struct { const char *name; size_t i; } closed[] = {
		{ "clients_closed_idle_total", CLOSE_IDLE },
		{ "clients_closed_send_timeout_total", CLOSE_SEND_TIMEOUT },
		{ "clients_dropped_overflow_total", CLOSE_OVERFLOW },
		{ "clients_closed_peer_total", CLOSE_PEER },
		{ "clients_closed_error_total", CLOSE_ERROR },
		{ "clients_closed_kill_total", CLOSE_KILL },
		{ "clients_closed_shutdown_total", CLOSE_SHUTDOWN },
		{ "clients_rejected_total", CLOSE_REJECTED },
		{ "clients_closed_denied_total", CLOSE_DENIED },
		{ "clients_closed_auth_timeout_total", CLOSE_AUTH_TIMEOUT },
	}, refused[] = {
		{ "access_refused_address_total", REFUSED_ADDRESS },
		{ "access_refused_per_ip_total", REFUSED_PER_IP },
		{ "access_refused_token_total", REFUSED_TOKEN },
		{ "access_refused_uid_total", REFUSED_UID },
		{ "access_refused_auth_timeout_total", REFUSED_AUTH_TIMEOUT },
	};
	struct statfmt_info in = info;
	struct sbuf b = SBUF_INIT;
	char want[96];

	(void)state;
	for (size_t r = 0; r < CLOSE_REASON_COUNT; r++)
		in.reg.clients_closed_total[r] = 100 + r;
	for (size_t r = 0; r < REFUSAL_COUNT; r++)
		in.reg.access_refused_total[r] = 200 + r;
	in.reg.heartbeats_total = 5;
	assert_int_equal(statfmt_info(&b, &in, false), 0);
	for (size_t k = 0; k < sizeof(closed) / sizeof(closed[0]); k++) {
		snprintf(want, sizeof(want), "\n%s: %zu\n", closed[k].name, 100 + closed[k].i);
		assert_non_null(strstr(b.buf, want));
	}
	for (size_t k = 0; k < sizeof(refused) / sizeof(refused[0]); k++) {
		snprintf(want, sizeof(want), "\n%s: %zu\n", refused[k].name, 200 + refused[k].i);
		assert_non_null(strstr(b.buf, want));
	}
	assert_non_null(strstr(b.buf, "\nheartbeats_total: 5\n"));
	assert_non_null(strstr(b.buf, "\nloop_iterations_total: 5000\n"));   /* not the registry's */
	sbuf_free(&b);
}

/* ---- simple replies ---- */

static void ok_reply(void **state)
{
	struct sbuf b = SBUF_INIT;

	(void)state;
	assert_int_equal(statfmt_ok(&b), 0);
	assert_string_equal(b.buf, "ok\n\n");
	check_reply(&b, false);
	sbuf_free(&b);
}

static void error_reply_stays_on_one_line(void **state)
{
	struct sbuf b = SBUF_INIT;

	(void)state;
	assert_int_equal(statfmt_error(&b, "no such client"), 0);
	assert_string_equal(b.buf, "error: no such client\n\n");
	check_reply(&b, false);
	sbuf_reset(&b);
	assert_int_equal(statfmt_error(&b, "bad\nthing\r\n\nx\t"), 0);
	assert_string_equal(b.buf, "error: bad thing   x \n\n");
	check_reply(&b, false);
	sbuf_free(&b);
}

static void help_reply(void **state)
{
	struct sbuf b = SBUF_INIT;

	(void)state;
	assert_int_equal(statfmt_help(&b), 0);
	assert_int_equal(b.len, strlen(statcmd_help()) + 1);
	assert_memory_equal(b.buf, statcmd_help(), b.len - 1);
	check_reply(&b, false);
	sbuf_free(&b);
}

/* ---- show info ---- */

static void info_text(void **state)
{
	static const char expected[] =
		"version: 0.1.0\n"
		"pid: 4242\n"
		"uptime_seconds: 12.346\n"
		"source_state: open\n"
		"source_records_total: 1000\n"
		"source_bytes_total: 64000\n"
		"source_idle_seconds: 0.000\n"
		"source_restarts_total: 2\n"
		"source_long_lines_total: 3\n"
		"heartbeats_total: 4\n"
		"clients_connected: 2\n"
		"clients_accepted_total: 10\n"
		"clients_rejected_total: 1\n"
		"clients_closed_idle_total: 1\n"
		"clients_closed_send_timeout_total: 2\n"
		"clients_dropped_overflow_total: 3\n"
		"clients_closed_peer_total: 1\n"
		"clients_closed_error_total: 0\n"
		"clients_closed_kill_total: 1\n"
		"clients_closed_shutdown_total: 0\n"
		"clients_skipped_bytes_total: 77\n"
		"bytes_sent_total: 128000\n"
		"ring_size_bytes: 4194304\n"
		"ring_used_bytes: 512\n"
		"timers_live: 4\n"
		"timers_client_live: 2\n"
		"timer_allocations_total: 14\n"
		"timer_rearms_total: 100\n"
		"timer_expirations_total: 9\n"
		"allocations_live: 30\n"
		"allocations_total: 300\n"
		"memory_rss_bytes: 8388608\n"
		"loop_iterations_total: 5000\n"
		"allocations_clients_total: 200\n"
		"allocations_stats_total: 60\n"
		"allocations_other_total: 40\n"
		"source_fifo_refused_total: 6\n"
		"log_lines_dropped_total: 7\n"
		"clients_closed_denied_total: 6\n"
		"clients_closed_auth_timeout_total: 7\n"
		"access_refused_address_total: 11\n"
		"access_refused_per_ip_total: 12\n"
		"access_refused_token_total: 13\n"
		"access_refused_uid_total: 14\n"
		"access_refused_auth_timeout_total: 15\n"
		"stream_epoch: 00c0ffee12345678\n"
		"stream_first_seq: 900\n"
		"stream_last_seq: 1000\n"
		"http_requests_2xx_total: 20\n"
		"http_requests_3xx_total: 0\n"
		"http_requests_4xx_total: 4\n"
		"http_requests_5xx_total: 1\n"
		"resumes_total: 6\n"
		"resume_gaps_total: 2\n"
		"\n";
	struct sbuf b = SBUF_INIT;

	(void)state;
	assert_int_equal(statfmt_info(&b, &info, false), 0);
	assert_string_equal(b.buf, expected);
	check_reply(&b, false);
	sbuf_free(&b);
}

static void info_json(void **state)
{
	static const char expected[] =
		"{\"version\":\"0.1.0\",\"pid\":4242,\"uptime_seconds\":12.346,"
		"\"source_state\":\"open\",\"source_records_total\":1000,"
		"\"source_bytes_total\":64000,\"source_idle_seconds\":0.000,"
		"\"source_restarts_total\":2,\"source_long_lines_total\":3,"
		"\"heartbeats_total\":4,\"clients_connected\":2,"
		"\"clients_accepted_total\":10,\"clients_rejected_total\":1,"
		"\"clients_closed_idle_total\":1,\"clients_closed_send_timeout_total\":2,"
		"\"clients_dropped_overflow_total\":3,\"clients_closed_peer_total\":1,"
		"\"clients_closed_error_total\":0,\"clients_closed_kill_total\":1,"
		"\"clients_closed_shutdown_total\":0,\"clients_skipped_bytes_total\":77,"
		"\"bytes_sent_total\":128000,\"ring_size_bytes\":4194304,"
		"\"ring_used_bytes\":512,\"timers_live\":4,\"timers_client_live\":2,"
		"\"timer_allocations_total\":14,\"timer_rearms_total\":100,"
		"\"timer_expirations_total\":9,\"allocations_live\":30,"
		"\"allocations_total\":300,\"memory_rss_bytes\":8388608,"
		"\"loop_iterations_total\":5000,\"allocations_clients_total\":200,"
		"\"allocations_stats_total\":60,\"allocations_other_total\":40,"
		"\"source_fifo_refused_total\":6,\"log_lines_dropped_total\":7,"
		"\"clients_closed_denied_total\":6,"
		"\"clients_closed_auth_timeout_total\":7,\"access_refused_address_total\":11,"
		"\"access_refused_per_ip_total\":12,\"access_refused_token_total\":13,"
		"\"access_refused_uid_total\":14,\"access_refused_auth_timeout_total\":15,"
		"\"stream_epoch\":\"00c0ffee12345678\","
		"\"stream_first_seq\":900,\"stream_last_seq\":1000,"
		"\"http_requests_2xx_total\":20,\"http_requests_3xx_total\":0,"
		"\"http_requests_4xx_total\":4,\"http_requests_5xx_total\":1,"
		"\"resumes_total\":6,\"resume_gaps_total\":2}\n\n";
	struct sbuf b = SBUF_INIT;

	(void)state;
	assert_int_equal(statfmt_info(&b, &info, true), 0);
	assert_string_equal(b.buf, expected);
	check_reply(&b, true);
	sbuf_free(&b);
}

static void info_odd_strings_and_numbers(void **state)
{
	struct statfmt_info in = info;
	struct sbuf b = SBUF_INIT;

	(void)state;
	in.version = "1.0 \"rc\"\\\n";
	in.source_state = NULL;
	in.uptime_seconds = NAN;
	assert_int_equal(statfmt_info(&b, &in, false), 0);
	check_reply(&b, false);
	assert_non_null(strstr(b.buf, "version: 1.0?\"rc\"\\?\n"));
	assert_non_null(strstr(b.buf, "\nsource_state: -\n"));
	assert_non_null(strstr(b.buf, "\nuptime_seconds: -\n"));
	sbuf_reset(&b);
	assert_int_equal(statfmt_info(&b, &in, true), 0);
	check_reply(&b, true);
	assert_non_null(strstr(b.buf, "{\"version\":\"1.0 \\\"rc\\\"\\\\\\n\","));
	assert_non_null(strstr(b.buf, ",\"source_state\":null,"));
	assert_non_null(strstr(b.buf, ",\"uptime_seconds\":null,"));
	sbuf_free(&b);
}

/* ---- show timers ---- */

static void timers_text(void **state)
{
	static const char expected[] =
		"kind live allocations_total rearms_total expirations_total next_due_s\n"
		"client 2 12 90 5 0.250\n"
		"stats 1 1 10 0 60.000\n"
		"source_idle 0 0 0 0 -\n"
		"source_restart 0 0 0 0 -\n"
		"heartbeat 0 0 0 0 -\n"
		"accept_pause 0 0 0 0 -\n"
		"shutdown 0 0 0 0 -\n"
		"watchdog 0 0 0 0 -\n"
		"status 1 1 0 4 1.500\n"
		"\n";
	struct sbuf b = SBUF_INIT;

	(void)state;
	assert_int_equal(statfmt_timers(&b, timers, NTIMERS, false), 0);
	assert_string_equal(b.buf, expected);
	check_reply(&b, false);
	sbuf_free(&b);
}

static void timers_json(void **state)
{
#define Z(k) "\"" k "\":{\"live\":0,\"allocations_total\":0,\"rearms_total\":0," \
	"\"expirations_total\":0,\"next_due_s\":null}"
	static const char expected[] =
		"{\"client\":{\"live\":2,\"allocations_total\":12,\"rearms_total\":90,"
		"\"expirations_total\":5,\"next_due_s\":0.250},"
		"\"stats\":{\"live\":1,\"allocations_total\":1,\"rearms_total\":10,"
		"\"expirations_total\":0,\"next_due_s\":60.000},"
		Z("source_idle") "," Z("source_restart") "," Z("heartbeat") ","
		Z("accept_pause") "," Z("shutdown") "," Z("watchdog") ","
		"\"status\":{\"live\":1,\"allocations_total\":1,\"rearms_total\":0,"
		"\"expirations_total\":4,\"next_due_s\":1.500}}\n\n";
#undef Z
	struct sbuf b = SBUF_INIT;

	(void)state;
	assert_int_equal(statfmt_timers(&b, timers, NTIMERS, true), 0);
	assert_string_equal(b.buf, expected);
	check_reply(&b, true);
	sbuf_free(&b);
}

/* ---- show clients ---- */

static void clients_text(void **state)
{
	static const char expected[] =
		"id addr age_s idle_s lag_bytes sent_bytes skipped_bytes state proto\n"
		"1 127.0.0.1:5555 1.500 0.250 0 100 0 live raw\n"
		"22 [::1]:5555 3600.000 0.013 42 1048576 7 pending sse\n"
		"3 unix 0.000 0.000 0 0 0 closing ws\n"
		"\n";
	struct sbuf b = SBUF_INIT;

	(void)state;
	assert_int_equal(statfmt_clients(&b, clients, 3, false), 0);
	assert_string_equal(b.buf, expected);
	check_reply(&b, false);
	sbuf_free(&b);
}

static void clients_json(void **state)
{
	static const char expected[] =
		"[{\"id\":1,\"addr\":\"127.0.0.1:5555\",\"age_s\":1.500,\"idle_s\":0.250,"
		"\"lag_bytes\":0,\"sent_bytes\":100,\"skipped_bytes\":0,\"state\":\"live\",\"proto\":\"raw\"},"
		"{\"id\":22,\"addr\":\"[::1]:5555\",\"age_s\":3600.000,\"idle_s\":0.013,"
		"\"lag_bytes\":42,\"sent_bytes\":1048576,\"skipped_bytes\":7,"
		"\"state\":\"pending\",\"proto\":\"sse\"},"
		"{\"id\":3,\"addr\":\"unix\",\"age_s\":0.000,\"idle_s\":0.000,"
		"\"lag_bytes\":0,\"sent_bytes\":0,\"skipped_bytes\":0,\"state\":\"closing\",\"proto\":\"ws\"}]"
		"\n\n";
	struct sbuf b = SBUF_INIT;

	(void)state;
	assert_int_equal(statfmt_clients(&b, clients, 3, true), 0);
	assert_string_equal(b.buf, expected);
	check_reply(&b, true);
	sbuf_free(&b);
}

static void clients_empty(void **state)
{
	struct sbuf b = SBUF_INIT;

	(void)state;
	assert_int_equal(statfmt_clients(&b, NULL, 0, false), 0);
	assert_string_equal(b.buf,
		"id addr age_s idle_s lag_bytes sent_bytes skipped_bytes state proto\n\n");
	check_reply(&b, false);
	sbuf_reset(&b);
	assert_int_equal(statfmt_clients(&b, NULL, 0, true), 0);
	assert_string_equal(b.buf, "[]\n\n");
	check_reply(&b, true);
	sbuf_free(&b);
}

static void clients_streamed_equals_array(void **state)
{
	struct sbuf a = SBUF_INIT, s = SBUF_INIT;
	struct statfmt_rows t;

	(void)state;
	for (int json = 0; json < 2; json++) {
		sbuf_reset(&a);
		sbuf_reset(&s);
		statfmt_clients(&a, clients, 3, json);
		statfmt_clients_begin(&t, &s, json);
		for (size_t i = 0; i < 3; i++)
			statfmt_clients_row(&t, &clients[i]);
		assert_int_equal(statfmt_rows_end(&t), 0);
		assert_string_equal(a.buf, s.buf);
	}
	sbuf_free(&a);
	sbuf_free(&s);
}

static void json_escapes_strings(void **state)
{
	const struct statfmt_client_row odd = {
		7, "a\"b\\c\x01\x1f\n\r\t\b\f/\x7f\xc3\xa9", 0, 0, 0, 0, 0, "", "raw"
	};
	struct sbuf b = SBUF_INIT;

	(void)state;
	assert_int_equal(statfmt_clients(&b, &odd, 1, true), 0);
	check_reply(&b, true);
	assert_string_equal(b.buf,
		"[{\"id\":7,\"addr\":\"a\\\"b\\\\c\\u0001\\u001f\\n\\r\\t\\b\\f/\x7f\xc3\xa9\","
		"\"age_s\":0.000,\"idle_s\":0.000,\"lag_bytes\":0,\"sent_bytes\":0,"
		"\"skipped_bytes\":0,\"state\":\"\",\"proto\":\"raw\"}]\n\n");
	sbuf_reset(&b);
	assert_int_equal(statfmt_clients(&b, &odd, 1, false), 0);
	check_reply(&b, false);
	assert_non_null(strstr(b.buf, "\n7 a\"b\\c??????" "?/?\xc3\xa9 0.000 0.000 0 0 0 - raw\n\n"));
	sbuf_free(&b);
}

/* ---- closed log and show closed ---- */

static void closedlog_wraps_oldest_first(void **state)
{
	struct closedlog *l = malloc(sizeof(*l));
	char addr[32];

	(void)state;
	assert_non_null(l);
	closedlog_init(l);
	assert_int_equal(closedlog_count(l), 0);
	assert_null(closedlog_at(l, 0));
	for (uint64_t id = 1; id <= 250; id++) {
		snprintf(addr, sizeof(addr), "10.0.0.1:%u", (unsigned)id);
		closedlog_push(l, id, addr, (double)id, id * 10, CLOSE_PEER);
		assert_int_equal(closedlog_count(l), id < CLOSEDLOG_SIZE ? id : CLOSEDLOG_SIZE);
		assert_int_equal(closedlog_at(l, 0)->id, id <= CLOSEDLOG_SIZE ? 1 : id - 99);
		assert_int_equal(closedlog_at(l, closedlog_count(l) - 1)->id, id);
	}
	for (size_t i = 0; i < CLOSEDLOG_SIZE; i++) {
		const struct stats_closed_row *r = closedlog_at(l, i);

		assert_int_equal(r->id, 151 + i);
		snprintf(addr, sizeof(addr), "10.0.0.1:%u", (unsigned)(151 + i));
		assert_string_equal(r->addr, addr);
		assert_int_equal(r->sent_bytes, (151 + i) * 10);
		assert_string_equal(r->reason, "peer");
	}
	assert_null(closedlog_at(l, CLOSEDLOG_SIZE));
	free(l);
}

static void closedlog_cuts_long_addresses(void **state)
{
	struct closedlog l;
	char addr[200];

	(void)state;
	closedlog_init(&l);
	memset(addr, 'a', sizeof(addr) - 1);
	addr[sizeof(addr) - 1] = '\0';
	closedlog_push(&l, 1, addr, 0, 0, CLOSE_ERROR);
	closedlog_push(&l, 2, NULL, 0, 0, CLOSE_REJECTED);
	assert_int_equal(strlen(closedlog_at(&l, 0)->addr), CLOSEDLOG_ADDR_MAX - 1);
	assert_string_equal(closedlog_at(&l, 1)->addr, "");
	assert_string_equal(closedlog_at(&l, 1)->reason, "rejected");
}

static void closed_text_and_json(void **state)
{
	struct closedlog l;
	struct sbuf b = SBUF_INIT;

	(void)state;
	closedlog_init(&l);
	closedlog_push(&l, 5, "127.0.0.1:40000", 12.5, 2048, CLOSE_IDLE);
	closedlog_push(&l, 6, "unix", 0.001, 0, CLOSE_KILL);
	closedlog_push(&l, 7, "[::1]:1", 2, 3, CLOSE_SEND_TIMEOUT);
	assert_int_equal(statfmt_closed(&b, &l, false), 0);
	assert_string_equal(b.buf,
		"id addr age_s sent_bytes reason\n"
		"5 127.0.0.1:40000 12.500 2048 idle\n"
		"6 unix 0.001 0 kill\n"
		"7 [::1]:1 2.000 3 send_timeout\n"
		"\n");
	check_reply(&b, false);
	sbuf_reset(&b);
	assert_int_equal(statfmt_closed(&b, &l, true), 0);
	assert_string_equal(b.buf,
		"[{\"id\":5,\"addr\":\"127.0.0.1:40000\",\"age_s\":12.500,"
		"\"sent_bytes\":2048,\"reason\":\"idle\"},"
		"{\"id\":6,\"addr\":\"unix\",\"age_s\":0.001,\"sent_bytes\":0,"
		"\"reason\":\"kill\"},"
		"{\"id\":7,\"addr\":\"[::1]:1\",\"age_s\":2.000,\"sent_bytes\":3,"
		"\"reason\":\"send_timeout\"}]\n\n");
	check_reply(&b, true);
	sbuf_free(&b);
}

static void closed_empty(void **state)
{
	struct closedlog l;
	struct sbuf b = SBUF_INIT;

	(void)state;
	closedlog_init(&l);
	assert_int_equal(statfmt_closed(&b, &l, false), 0);
	assert_string_equal(b.buf, "id addr age_s sent_bytes reason\n\n");
	sbuf_reset(&b);
	assert_int_equal(statfmt_closed(&b, &l, true), 0);
	assert_string_equal(b.buf, "[]\n\n");
	sbuf_free(&b);
}

/* ---- show metrics ---- */

/* The value of the sample that starts with `prefix` (name and labels). */
static double sample(const char *body, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *p = body; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, prefix, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	fail_msg("no sample %s", prefix);
	return -1;
}

/* Sum of a labelled family's samples; asserts there is no unlabelled one. */
static double family_sum(const char *body, const char *name)
{
	char plain[128], labelled[128];
	double sum = 0;
	int n = 0;

	snprintf(plain, sizeof(plain), "\n%s ", name);
	snprintf(labelled, sizeof(labelled), "\n%s{kind=\"", name);
	assert_null(strstr(body, plain));
	for (const char *p = strstr(body, labelled); p; p = strstr(p + 1, labelled)) {
		sum += strtod(strchr(p, '}') + 2, NULL);
		n++;
	}
	assert_int_equal(n, NTIMERS);
	return sum;
}

static void metrics_samples(void **state)
{
	struct sbuf b = SBUF_INIT;

	(void)state;
	assert_int_equal(promfmt_metrics(&b, &info, timers, NTIMERS), 0);
	check_reply(&b, false);
	assert_non_null(strstr(b.buf,
		"# HELP pipecast_build_info Version of pipecastd.\n"
		"# TYPE pipecast_build_info gauge\n"
		"pipecast_build_info{version=\"0.1.0\"} 1\n"));
	assert_non_null(strstr(b.buf,
		"# TYPE pipecast_source_state gauge\n"
		"pipecast_source_state{state=\"open\"} 1\n"
		"pipecast_source_state{state=\"waiting\"} 0\n"
		"pipecast_source_state{state=\"restarting\"} 0\n"
		"pipecast_source_state{state=\"closed\"} 0\n"));
	assert_non_null(strstr(b.buf,
		"# HELP pipecast_source_records_total Records read from the source.\n"
		"# TYPE pipecast_source_records_total counter\n"
		"pipecast_source_records_total 1000\n"));
	assert_non_null(strstr(b.buf,
		"# TYPE pipecast_uptime_seconds gauge\npipecast_uptime_seconds 12.346\n"));
	assert_non_null(strstr(b.buf,
		"# TYPE pipecast_timers_live gauge\n"
		"pipecast_timers_live{kind=\"client\"} 2\n"
		"pipecast_timers_live{kind=\"stats\"} 1\n"));
	assert_non_null(strstr(b.buf,
		"# TYPE pipecast_timer_next_due_seconds gauge\n"
		"pipecast_timer_next_due_seconds{kind=\"client\"} 0.250\n"
		"pipecast_timer_next_due_seconds{kind=\"stats\"} 60.000\n"
		"pipecast_timer_next_due_seconds{kind=\"status\"} 1.500\n\n"));
	assert_true(sample(b.buf, "pipecast_timers_client_live") == 2);
	assert_true(sample(b.buf, "pipecast_loop_iterations_total") == 5000);
	assert_non_null(strstr(b.buf,
		"# HELP pipecast_access_refused_total Connections refused by access rules, by reason.\n"
		"# TYPE pipecast_access_refused_total counter\n"
		"pipecast_access_refused_total{reason=\"address\"} 11\n"
		"pipecast_access_refused_total{reason=\"per_ip\"} 12\n"
		"pipecast_access_refused_total{reason=\"token\"} 13\n"
		"pipecast_access_refused_total{reason=\"uid\"} 14\n"
		"pipecast_access_refused_total{reason=\"auth_timeout\"} 15\n"));
	assert_null(strstr(b.buf, "pipecast_access_refused_address_total"));
	assert_true(sample(b.buf, "pipecast_clients_closed_denied_total") == 6);
	assert_non_null(strstr(b.buf,
		"# TYPE pipecast_stream_info gauge\n"
		"pipecast_stream_info{epoch=\"00c0ffee12345678\"} 1\n"));
	assert_non_null(strstr(b.buf,
		"# HELP pipecast_http_requests_total HTTP requests answered, by class.\n"
		"# TYPE pipecast_http_requests_total counter\n"
		"pipecast_http_requests_total{class=\"2xx\"} 20\n"
		"pipecast_http_requests_total{class=\"3xx\"} 0\n"
		"pipecast_http_requests_total{class=\"4xx\"} 4\n"
		"pipecast_http_requests_total{class=\"5xx\"} 1\n"));
	assert_null(strstr(b.buf, "http_requests_2xx"));
	assert_true(sample(b.buf, "pipecast_resume_gaps_total") == 2);
	assert_true(sample(b.buf, "pipecast_stream_first_seq") == 900);
	assert_null(strstr(b.buf, "pipecast_version"));
	assert_null(strstr(b.buf, "kind=\"source_idle\"} -"));
	sbuf_free(&b);
}

static void metrics_kinds_add_up_to_totals(void **state)
{
	struct sbuf b = SBUF_INIT;

	(void)state;
	promfmt_metrics(&b, &info, timers, NTIMERS);
	assert_true(family_sum(b.buf, "pipecast_timers_live") == info.timers_live);
	assert_true(family_sum(b.buf, "pipecast_timer_allocations_total") ==
		    info.timer_allocations_total);
	assert_true(family_sum(b.buf, "pipecast_timer_rearms_total") ==
		    info.timer_rearms_total);
	assert_true(family_sum(b.buf, "pipecast_timer_expirations_total") ==
		    info.timer_expirations_total);
	sbuf_free(&b);
}

/* Checks every sample's family has one HELP and one TYPE before it, and that
 * counters end in _total. */
static void metrics_families_are_declared(void **state)
{
	struct sbuf b = SBUF_INIT;
	char seen[4096] = " ";

	(void)state;
	promfmt_metrics(&b, &info, timers, NTIMERS);
	for (char *line = strtok(b.buf, "\n"); line; line = strtok(NULL, "\n")) {
		char name[128], key[132], type[16];

		if (sscanf(line, "# TYPE %127s %15s", name, type) == 2) {
			snprintf(key, sizeof(key), " %s ", name);
			assert_null(strstr(seen, key));
			strcat(seen, name);
			strcat(seen, " ");
			assert_int_equal(strcmp(type, "counter") == 0,
					 strstr(name, "_total") == name + strlen(name) - 6);
			continue;
		}
		if (line[0] == '#')
			continue;
		assert_int_equal(sscanf(line, "%127[a-z_]", name), 1);
		snprintf(key, sizeof(key), " %s ", name);
		assert_non_null(strstr(seen, key));
	}
	sbuf_free(&b);
}

static void metrics_odd_values(void **state)
{
	struct statfmt_info in = info;
	struct statfmt_timer_row none[NTIMERS];
	struct sbuf b = SBUF_INIT;

	(void)state;
	memcpy(none, timers, sizeof(none));
	for (size_t i = 0; i < NTIMERS; i++)
		none[i].next_due_s = -1;
	in.version = "1.0 \"x\"\\y\nz";
	in.source_state = "weird";
	in.uptime_seconds = INFINITY;
	in.source_idle_seconds = NAN;
	assert_int_equal(promfmt_metrics(&b, &in, none, NTIMERS), 0);
	check_reply(&b, false);
	assert_non_null(strstr(b.buf,
		"pipecast_build_info{version=\"1.0 \\\"x\\\"\\\\y\\nz\"} 1\n"));
	assert_non_null(strstr(b.buf,
		"pipecast_source_state{state=\"closed\"} 0\n"
		"pipecast_source_state{state=\"weird\"} 1\n"));
	assert_non_null(strstr(b.buf, "\npipecast_uptime_seconds +Inf\n"));
	assert_non_null(strstr(b.buf, "\npipecast_source_idle_seconds NaN\n"));
	assert_null(strstr(b.buf, "next_due"));
	sbuf_free(&b);
}

/* Writes a whole reply to a temporary file and runs promtool on it. */
static int promtool_check(const struct sbuf *b)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : P_tmpdir;
	char path[PATH_MAX], cmd[PATH_MAX + 64];
	int fd, rc;

	assert_true(snprintf(path, sizeof(path), "%s/test_statfmt_XXXXXX", dir) <
		    (int)sizeof(path));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b->buf, b->len), (ssize_t)b->len);
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s'", path);
	rc = system(cmd);
	unlink(path);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void metrics_pass_promtool(void **state)
{
	struct statfmt_info in = info;
	struct statfmt_timer_row odd[NTIMERS];
	struct sbuf b = SBUF_INIT;

	(void)state;
	if (system("command -v promtool >/dev/null 2>&1") != 0)
		skip();
	assert_int_equal(promfmt_metrics(&b, &info, timers, NTIMERS), 0);
	assert_int_equal(promtool_check(&b), 0);
	memcpy(odd, timers, sizeof(odd));
	odd[0].kind = "cli\"ent\\\n";
	in.version = "1.0 \"x\"\\y\nz";
	in.source_state = "weird";
	in.source_idle_seconds = NAN;
	sbuf_reset(&b);
	assert_int_equal(promfmt_metrics(&b, &in, odd, NTIMERS), 0);
	assert_int_equal(promtool_check(&b), 0);
	sbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sbuf_grows_and_terminates),
		cmocka_unit_test(sbuf_failure_is_sticky_until_reset),
		cmocka_unit_test(sbuf_consume_keeps_the_rest),
		cmocka_unit_test(info_names_follow_spec_order),
		cmocka_unit_test(info_types_and_help),
		cmocka_unit_test(info_shows_the_registry),
		cmocka_unit_test(ok_reply),
		cmocka_unit_test(error_reply_stays_on_one_line),
		cmocka_unit_test(help_reply),
		cmocka_unit_test(info_text),
		cmocka_unit_test(info_json),
		cmocka_unit_test(info_odd_strings_and_numbers),
		cmocka_unit_test(timers_text),
		cmocka_unit_test(timers_json),
		cmocka_unit_test(clients_text),
		cmocka_unit_test(clients_json),
		cmocka_unit_test(clients_empty),
		cmocka_unit_test(clients_streamed_equals_array),
		cmocka_unit_test(json_escapes_strings),
		cmocka_unit_test(closedlog_wraps_oldest_first),
		cmocka_unit_test(closedlog_cuts_long_addresses),
		cmocka_unit_test(closed_text_and_json),
		cmocka_unit_test(closed_empty),
		cmocka_unit_test(metrics_samples),
		cmocka_unit_test(metrics_kinds_add_up_to_totals),
		cmocka_unit_test(metrics_families_are_declared),
		cmocka_unit_test(metrics_odd_values),
		cmocka_unit_test(metrics_pass_promtool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

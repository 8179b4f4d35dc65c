/* report.c: the stats commands. Figures come from the one counter registry
 * and the timer accounting; nothing is counted here. */
#include "report.h"
#include "alloc.h"
#include "client.h"
#include "counters.h"
#include "eventid.h"
#include "daemon.h"
#include "fanout.h"
#include "log.h"
#include "reload.h"
#include "source.h"
#include "statcmd.h"
#include "promfmt.h"
#include "statfmt.h"
#include "stats.h"
#include "timers.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Resident memory of this process, from /proc/self/statm. */
static uint64_t report_rss(void)
{
	unsigned long long size, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Seconds until the soonest timer of a kind fires, or -1. */
static double report_next_due(enum timer_kind k)
{
	if (k == TK_CLIENT)
		return clients_next_due();
	if (k == TK_STATS)
		return stats_next_due();
	if (k == TK_HTTP)
		return clients_http_next_due();
	return timer_next_due(k);
}

/* One row per timer kind, in the documented order (the order of enum timer_kind). */
static void report_timer_rows(struct statfmt_timer_row rows[TK_COUNT])
{
	for (int k = 0; k < TK_COUNT; k++) {
		const struct timer_stats *t = timer_stats(k);

		rows[k] = (struct statfmt_timer_row){
			.kind = timer_kind_name(k), .live = t->live,
			.allocations_total = t->allocations_total,
			.rearms_total = t->rearms_total,
			.expirations_total = t->expirations_total,
			.next_due_s = report_next_due(k),
		};
	}
}

/* Everything "show info" shows, read at this instant. */
static void report_info(struct statfmt_info *in, const struct statfmt_timer_row rows[TK_COUNT])
{
	static char epoch[17];
	const struct ring *r = fanout_ring();

	*in = (struct statfmt_info){ 0 };
	eventid_epoch(epoch, fanout_epoch());
	in->stream_epoch = epoch;
	in->stream_first_seq = fanout_first_seq();
	in->stream_last_seq = fanout_last_seq();
	in->reg = counters;
	in->version = PIPECAST_VERSION;
	in->pid = (uint64_t)getpid();
	in->uptime_seconds = NS_TO_S(mono_ns() - daemon_started());
	in->source_state = source_state_name();
	in->source_idle_seconds = source_idle_seconds();
	in->ring_size_bytes = r->window;
	in->ring_used_bytes = clients_max_lag();
	for (int k = 0; k < TK_COUNT; k++) {
		in->timers_live += rows[k].live;
		in->timer_allocations_total += rows[k].allocations_total;
		in->timer_rearms_total += rows[k].rearms_total;
		in->timer_expirations_total += rows[k].expirations_total;
	}
	in->timers_client_live = rows[TK_CLIENT].live;
	in->allocations_live = alloc_live();
	in->allocations_total = alloc_total();
	in->allocations_clients_total = alloc_total_of(ALLOC_CLIENTS);
	in->allocations_stats_total = alloc_total_of(ALLOC_STATS);
	in->allocations_other_total = alloc_total_of(ALLOC_OTHER);
	in->memory_rss_bytes = report_rss();
	in->loop_iterations_total = ev_iteration(loop);
}

/* show info / show metrics (and /metrics, /info.json). */
void report_show_info(struct sbuf *out, bool metrics, bool json)
{
	struct statfmt_timer_row rows[TK_COUNT];
	struct statfmt_info in;

	report_timer_rows(rows);
	report_info(&in, rows);
	if (metrics)
		promfmt_metrics(out, &in, rows, TK_COUNT);
	else
		statfmt_info(out, &in, json);
}

/* show timers. */
static void report_show_timers(struct sbuf *out, bool json)
{
	struct statfmt_timer_row rows[TK_COUNT];

	report_timer_rows(rows);
	statfmt_timers(out, rows, TK_COUNT, json);
}

/* show config: every key of the configuration in force, where it was set
 * and its value (admin only: it shows command lines). */
static void report_show_config(struct sbuf *out, bool json)
{
	struct statfmt_rows t;
	char key[64], value[4096];

	statfmt_config_begin(&t, out, json);
	for (size_t i = 0; i < config_key_count(); i++) {
		struct statfmt_config_row r = {
			.key = key, .source = config_key_origin(conf, i),
			.value = config_key_format(conf, i, value, sizeof(value)),
		};

		snprintf(key, sizeof(key), "%s.%s", config_key_section(i), config_key_name(i));
		if (strcmp(key, "stats.socket") == 0 && !conf->stats.socket && stats_socket_path())
			r.value = stats_socket_path();   /* the default path order's choice */
		statfmt_config_row(&t, &r);
	}
	statfmt_rows_end(&t);
}

/* kill client ID. */
static void report_kill(struct sbuf *out, uint64_t id)
{
	if (client_kill(id) < 0)
		statfmt_error(out, "no such client");
	else
		statfmt_ok(out);
}

/* reload. */
static void report_reload(struct sbuf *out)
{
	char err[512];

	struct sbuf notes;

	log_notice("stats: reload requested");
	sbuf_init(&notes);
	if (reload_run(err, sizeof(err), &notes) < 0)
		statfmt_error(out, err);
	else
		statfmt_ok_lines(out, notes.buf ? notes.buf : "", notes.len);
	sbuf_free(&notes);
}

/* show clients: begun here and continued in slices, or whole. */
static enum report_result report_show_clients(struct sbuf *out, bool json,
					      struct report_cont *cont)
{
	if (!cont) {
		clients_report(out, json);
		return REPORT_OK;
	}
	clients_report_start(&cont->walk, out, json);
	return REPORT_MORE;
}

/* The next slice of a long reply; a slice lost to memory leaves a reply
 * that cannot be mended: REPORT_QUIT closes the connection once flushed. */
enum report_result report_continue(struct sbuf *out, struct report_cont *cont)
{
	bool done = clients_report_slice(&cont->walk);

	if (sbuf_failed(out))
		return REPORT_QUIT;
	return done ? REPORT_OK : REPORT_MORE;
}

/* Runs one parsed command. */
static enum report_result report_run(struct sbuf *out, const struct statcmd *c,
				     struct report_cont *cont)
{
	switch (c->kind) {
	case STATCMD_SHOW_INFO:    report_show_info(out, false, c->json); break;
	case STATCMD_SHOW_METRICS: report_show_info(out, true, false); break;
	case STATCMD_SHOW_TIMERS:  report_show_timers(out, c->json); break;
	case STATCMD_SHOW_CLIENTS: return report_show_clients(out, c->json, cont);
	case STATCMD_SHOW_CLOSED:  statfmt_closed(out, clients_closed_log(), c->json); break;
	case STATCMD_SHOW_CONFIG:  report_show_config(out, c->json); break;
	case STATCMD_KILL_CLIENT:  report_kill(out, c->id); break;
	case STATCMD_RELOAD:       report_reload(out); break;
	case STATCMD_HELP:         statfmt_help(out); break;
	case STATCMD_QUIT:         statfmt_ok(out); return REPORT_QUIT;
	case STATCMD_COUNT:        break;
	}
	return REPORT_OK;
}

/* Parses, checks the peer's right, runs. */
enum report_result report_command(struct sbuf *out, const char *line, size_t len,
				  bool admin, struct report_cont *cont)
{
	struct statcmd cmd;
	char err[STATCMD_ERR_MAX];
	size_t before = out->len;
	enum report_result r;

	if (statcmd_parse(line, len, &cmd, err, sizeof(err)) < 0) {
		statfmt_error(out, err);
		return REPORT_OK;
	}
	if (cmd.admin && !admin) {
		statfmt_error(out, "permission denied");
		return REPORT_OK;
	}
	r = report_run(out, &cmd, cont);
	if (sbuf_failed(out)) {          /* drop the partial reply, keep earlier ones */
		out->len = before;
		out->failed = false;
		statfmt_error(out, "out of memory");
		return r == REPORT_MORE ? REPORT_OK : r;
	}
	return r;
}

/* An error reply outside a command (line too long). */
void report_error(struct sbuf *out, const char *msg)
{
	statfmt_error(out, msg);
}

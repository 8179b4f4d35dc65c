/* report.c: the stats commands. Figures come from the one counter registry
 * and the timer accounting; nothing is counted here. */
#include "report.h"
#include "alloc.h"
#include "client.h"
#include "counters.h"
#include "daemon.h"
#include "fanout.h"
#include "log.h"
#include "reload.h"
#include "source.h"
#include "statcmd.h"
#include "statfmt.h"
#include "stats.h"
#include "timers.h"

#include <stdio.h>
#include <unistd.h>

static int64_t started = -1;

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
	return timer_next_due(k);
}

/* One row per timer kind, in SPEC order (the order of enum timer_kind). */
static void report_timer_rows(struct stats_timer_row rows[TK_COUNT])
{
	for (int k = 0; k < TK_COUNT; k++) {
		const struct timer_stats *t = timer_stats(k);

		rows[k] = (struct stats_timer_row){
			.kind = timer_kind_name(k), .live = t->live,
			.allocations_total = t->allocations_total,
			.rearms_total = t->rearms_total,
			.expirations_total = t->expirations_total,
			.next_due_s = report_next_due(k),
		};
	}
}

/* Everything "show info" shows, read at this instant. */
static void report_info(struct stats_info *in, const struct stats_timer_row rows[TK_COUNT])
{
	const struct ring *r = fanout_ring();

	*in = (struct stats_info){ 0 };
	stats_info_from_counters(in, &counters);
	in->version = PIPECAST_VERSION;
	in->pid = (uint64_t)getpid();
	in->uptime_seconds = NS_TO_S(mono_ns() - started);
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
	in->memory_rss_bytes = report_rss();
	in->loop_iterations_total = ev_iteration(loop);
}

/* show info / show metrics. */
static void report_show_info(struct sbuf *out, bool metrics, bool json)
{
	struct stats_timer_row rows[TK_COUNT];
	struct stats_info in;

	report_timer_rows(rows);
	report_info(&in, rows);
	if (metrics)
		statfmt_metrics(out, &in, rows, TK_COUNT);
	else
		statfmt_info(out, &in, json);
}

/* show timers. */
static void report_show_timers(struct sbuf *out, bool json)
{
	struct stats_timer_row rows[TK_COUNT];

	report_timer_rows(rows);
	statfmt_timers(out, rows, TK_COUNT, json);
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

	log_notice("stats: reload requested");
	if (reload_run(err, sizeof(err)) < 0)
		statfmt_error(out, err);
	else
		statfmt_ok(out);
}

/* Runs one parsed command. */
static enum report_result report_run(struct sbuf *out, const struct statcmd *c)
{
	switch (c->kind) {
	case STATCMD_SHOW_INFO:    report_show_info(out, false, c->json); break;
	case STATCMD_SHOW_METRICS: report_show_info(out, true, false); break;
	case STATCMD_SHOW_TIMERS:  report_show_timers(out, c->json); break;
	case STATCMD_SHOW_CLIENTS: clients_report(out, c->json); break;
	case STATCMD_SHOW_CLOSED:  statfmt_closed(out, clients_closed_log(), c->json); break;
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
				  bool admin)
{
	struct statcmd cmd;
	char err[STATCMD_ERR_MAX];
	size_t before = out->len;
	enum report_result r;

	if (started < 0)
		started = daemon_started();
	if (statcmd_parse(line, len, &cmd, err, sizeof(err)) < 0) {
		statfmt_error(out, err);
		return REPORT_OK;
	}
	if (cmd.admin && !admin) {
		statfmt_error(out, "permission denied");
		return REPORT_OK;
	}
	r = report_run(out, &cmd);
	if (sbuf_failed(out)) {          /* drop the partial reply, keep earlier ones */
		out->len = before;
		out->failed = false;
		statfmt_error(out, "out of memory");
	}
	return r;
}

/* An error reply outside a command (line too long). */
void report_error(struct sbuf *out, const char *msg)
{
	statfmt_error(out, msg);
}

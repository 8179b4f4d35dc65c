/* timers.c: counted timer operations, by kind. */
#include "timers.h"
#include "daemon.h"

static struct timer_stats stats[TK_COUNT];
static ev_timer *single[TK_COUNT];   /* kinds with one timer: that timer */

static const char *const kind_names[TK_COUNT] = {
	[TK_CLIENT] = "client",
	[TK_STATS] = "stats",
	[TK_SOURCE_IDLE] = "source_idle",
	[TK_SOURCE_RESTART] = "source_restart",
	[TK_HEARTBEAT] = "heartbeat",
	[TK_ACCEPT_PAUSE] = "accept_pause",
	[TK_SHUTDOWN] = "shutdown",
	[TK_WATCHDOG] = "watchdog",
	[TK_STATUS] = "status",
	[TK_HTTP] = "http",
	[TK_UPSTREAM] = "upstream",
};

/* Creates the one timer object of its owner. */
void timer_setup(enum timer_kind k, ev_timer *w, timer_cb cb)
{
	ev_timer_init(w, cb, 0., 0.);
	stats[k].allocations_total++;
	if (k != TK_CLIENT && k != TK_STATS && k != TK_HTTP)
		single[k] = w;
}

/* Seconds until the one timer of a kind fires, or -1 (not for the kinds
 * that belong to connections: their owners scan them). */
double timer_next_due(enum timer_kind k)
{
	return single[k] ? timer_remaining(single[k]) : -1.;
}

/* Uses ev_timer_again so that a re-arm is one heap adjustment. */
void timer_arm(enum timer_kind k, ev_timer *w, double after)
{
	int was_active = ev_is_active(w);

	w->repeat = after > 1e-6 ? after : 1e-6;
	ev_timer_again(loop, w);
	if (was_active)
		stats[k].rearms_total++;
	else
		stats[k].live++;
}

/* Stops an active timer; a no-op otherwise. */
void timer_disarm(enum timer_kind k, ev_timer *w)
{
	if (!ev_is_active(w))
		return;
	ev_timer_stop(loop, w);
	stats[k].live--;
}

/* Counts an expiration; repeating timers stay active in libev. */
void timer_fired(enum timer_kind k, ev_timer *w)
{
	stats[k].expirations_total++;
	if (!ev_is_active(w))
		stats[k].live--;
}

/* Time left before an active timer fires. */
double timer_remaining(ev_timer *w)
{
	return ev_is_active(w) ? ev_timer_remaining(loop, w) : -1.;
}

/* The sooner of `best` (seconds, or -1 for none yet) and the timer's
 * expiry: folds a set of timers into their soonest for "show timers". */
double timer_sooner(double best, ev_timer *w)
{
	double left = timer_remaining(w);

	return left >= 0 && (best < 0 || left < best) ? left : best;
}

/* Read access for the stats. */
const struct timer_stats *timer_stats(enum timer_kind k)
{
	return &stats[k];
}

/* Name of a timer kind as "show timers" lists it. */
const char *timer_kind_name(enum timer_kind k)
{
	return k < TK_COUNT ? kind_names[k] : "?";
}

/* timers.h: every ev_timer of the daemon is started, re-armed, stopped and
 * counted through here, so that the stats show true live timer counts
 * (libev keeps no such count). */
#ifndef PIPECAST_TIMERS_H
#define PIPECAST_TIMERS_H

#include <ev.h>
#include <stdint.h>

enum timer_kind {
	TK_CLIENT, TK_STATS, TK_SOURCE_IDLE, TK_SOURCE_RESTART, TK_HEARTBEAT,
	TK_ACCEPT_PAUSE, TK_SHUTDOWN, TK_WATCHDOG, TK_STATUS,
	TK_HTTP,         /* HTTP connections until they stream (request head, answer) */
	TK_UPSTREAM,     /* an upstream source's connection (sse:, redis:): listed last */
	TK_COUNT
};

struct timer_stats {
	uint64_t live;
	uint64_t allocations_total;
	uint64_t rearms_total;
	uint64_t expirations_total;
};

typedef void (*timer_cb)(struct ev_loop *loop, ev_timer *w, int revents);

/* Initialises an embedded timer (counted as one timer object created). */
void timer_setup(enum timer_kind k, ev_timer *w, timer_cb cb);
/* Starts the timer, or re-arms it if active, to fire after `after` seconds. */
void timer_arm(enum timer_kind k, ev_timer *w, double after);
/* Stops the timer if it is active. */
void timer_disarm(enum timer_kind k, ev_timer *w);
/* First call of every timer callback: counts the expiration. The timer stays
 * active (it repeats); the callback re-arms or disarms it. */
void timer_fired(enum timer_kind k, ev_timer *w);
/* Seconds until the timer fires; negative when it is not active. */
double timer_remaining(ev_timer *w);

/* The sooner of best (seconds, -1 = none) and w's expiry. */
double timer_sooner(double best, ev_timer *w);
/* For the kinds that have a single timer: seconds until it fires, or -1. */
double timer_next_due(enum timer_kind k);

const struct timer_stats *timer_stats(enum timer_kind k);
const char *timer_kind_name(enum timer_kind k);

#endif

/* deadline.h: the arithmetic behind a connection's one timer. Activity only
 * stores timestamps; when the timer fires, this decides whether a deadline
 * has passed or how long to sleep until the earliest one (libev manual, "Be
 * smart about timeouts", technique 3). Times are monotonic nanoseconds. */
#ifndef PIPECAST_DEADLINE_H
#define PIPECAST_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>

#define DEADLINE_NONE INT64_MAX

/* What is due: nothing, a close (idle, send, the hard deadline `by`), or a
 * keepalive to send (not a close). */
enum deadline_kind { DEADLINE_OK, DEADLINE_IDLE, DEADLINE_SEND, DEADLINE_BY,
		     DEADLINE_KEEPALIVE };

struct deadline {
	int64_t last_activity;  /* last byte moved in either direction */
	int64_t send_since;     /* pending output: when it began, or last progress */
	bool pending;           /* output is waiting for the socket */
	int64_t by;             /* a hard deadline: the PROXY header, the AUTH
				 * line or an HTTP request head must be in by
				 * then; 0 = none */
	int64_t last_sent;      /* last byte sent, for the keepalive */
};

struct deadline_limits {
	int64_t idle_ns;        /* 0 = off */
	int64_t send_ns;        /* 0 = off */
	int64_t keepalive_ns;   /* 0 = off; due only while nothing is pending */
};

/* The earliest absolute time at which a deadline falls, or DEADLINE_NONE. */
int64_t deadline_due(const struct deadline *d, const struct deadline_limits *l);

/* Which deadline has passed at now (by first, then the earlier of send and
 * idle, then the keepalive);
 * otherwise DEADLINE_OK and *wait_ns is the time left until the earliest one,
 * or DEADLINE_NONE when no deadline applies. */
enum deadline_kind deadline_check(const struct deadline *d,
				  const struct deadline_limits *l,
				  int64_t now, int64_t *wait_ns);

/* Whether a timer due at timer_due must be moved earlier to honour d. */
bool deadline_sooner(const struct deadline *d, const struct deadline_limits *l,
		     int64_t timer_due);

#endif

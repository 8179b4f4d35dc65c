/* deadline.c: idle, send, hard and keepalive deadlines of one connection. */
#include "deadline.h"

#include <stddef.h>

/* Absolute idle deadline, or none. */
static int64_t deadline_idle(const struct deadline *d, const struct deadline_limits *l)
{
	return l->idle_ns > 0 ? d->last_activity + l->idle_ns : DEADLINE_NONE;
}

/* Absolute send deadline while output is pending, or none. */
static int64_t deadline_send(const struct deadline *d, const struct deadline_limits *l)
{
	return l->send_ns > 0 && d->pending ? d->send_since + l->send_ns : DEADLINE_NONE;
}

/* The hard deadline, or none. */
static int64_t deadline_by(const struct deadline *d)
{
	return d->by > 0 ? d->by : DEADLINE_NONE;
}

/* When a keepalive is due: nothing sent for keepalive_ns, nothing pending. */
static int64_t deadline_keepalive(const struct deadline *d, const struct deadline_limits *l)
{
	return l->keepalive_ns > 0 && !d->pending ? d->last_sent + l->keepalive_ns : DEADLINE_NONE;
}

/* The earliest of the deadlines. */
int64_t deadline_due(const struct deadline *d, const struct deadline_limits *l)
{
	int64_t t[] = { deadline_idle(d, l), deadline_send(d, l), deadline_by(d),
			deadline_keepalive(d, l) };
	int64_t due = DEADLINE_NONE;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i] < due)
			due = t[i];
	return due;
}

/* Decides, when the timer fires, between closing, a keepalive and sleeping
 * on. */
enum deadline_kind deadline_check(const struct deadline *d,
				  const struct deadline_limits *l,
				  int64_t now, int64_t *wait_ns)
{
	int64_t idle = deadline_idle(d, l);
	int64_t send = deadline_send(d, l);
	int64_t due = deadline_due(d, l);

	*wait_ns = DEADLINE_NONE;
	if (due == DEADLINE_NONE)
		return DEADLINE_OK;
	if (due > now) {
		*wait_ns = due - now;
		return DEADLINE_OK;
	}
	if (deadline_by(d) <= now)
		return DEADLINE_BY;
	if (send <= now || idle <= now)
		return send <= idle ? DEADLINE_SEND : DEADLINE_IDLE;
	return DEADLINE_KEEPALIVE;
}

/* True when the connection's earliest deadline comes before the timer. */
bool deadline_sooner(const struct deadline *d, const struct deadline_limits *l,
		     int64_t timer_due)
{
	return deadline_due(d, l) < timer_due;
}

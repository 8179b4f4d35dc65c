/* deadline.c: idle and send deadlines of one connection. */
#include "deadline.h"

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

/* The earlier of the two deadlines. */
int64_t deadline_due(const struct deadline *d, const struct deadline_limits *l)
{
	int64_t idle = deadline_idle(d, l);
	int64_t send = deadline_send(d, l);

	return idle < send ? idle : send;
}

/* Decides, when the timer fires, between closing and sleeping on. */
enum deadline_kind deadline_check(const struct deadline *d,
				  const struct deadline_limits *l,
				  int64_t now, int64_t *wait_ns)
{
	int64_t idle = deadline_idle(d, l);
	int64_t send = deadline_send(d, l);
	int64_t due = idle < send ? idle : send;

	*wait_ns = DEADLINE_NONE;
	if (due == DEADLINE_NONE)
		return DEADLINE_OK;
	if (due <= now)
		return send <= idle ? DEADLINE_SEND : DEADLINE_IDLE;
	*wait_ns = due - now;
	return DEADLINE_OK;
}

/* True when the connection's earliest deadline comes before the timer. */
bool deadline_sooner(const struct deadline *d, const struct deadline_limits *l,
		     int64_t timer_due)
{
	return deadline_due(d, l) < timer_due;
}

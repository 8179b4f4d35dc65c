/* deadline.c: idle, send and auth deadlines of one connection. */
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

/* Absolute auth deadline while the connection has not authenticated. */
static int64_t deadline_auth(const struct deadline *d)
{
	return d->auth_due ? d->auth_due : DEADLINE_NONE;
}

/* The earliest of the deadlines. */
int64_t deadline_due(const struct deadline *d, const struct deadline_limits *l)
{
	int64_t idle = deadline_idle(d, l);
	int64_t send = deadline_send(d, l);
	int64_t due = idle < send ? idle : send;

	return deadline_auth(d) < due ? deadline_auth(d) : due;
}

/* Decides, when the timer fires, between closing and sleeping on. */
enum deadline_kind deadline_check(const struct deadline *d,
				  const struct deadline_limits *l,
				  int64_t now, int64_t *wait_ns)
{
	int64_t idle = deadline_idle(d, l);
	int64_t send = deadline_send(d, l);
	int64_t auth = deadline_auth(d);
	int64_t due = deadline_due(d, l);

	*wait_ns = DEADLINE_NONE;
	if (due == DEADLINE_NONE)
		return DEADLINE_OK;
	if (due <= now)
		return auth == due ? DEADLINE_AUTH : send <= idle ? DEADLINE_SEND : DEADLINE_IDLE;
	*wait_ns = due - now;
	return DEADLINE_OK;
}

/* True when the connection's earliest deadline comes before the timer. */
bool deadline_sooner(const struct deadline *d, const struct deadline_limits *l,
		     int64_t timer_due)
{
	return deadline_due(d, l) < timer_due;
}

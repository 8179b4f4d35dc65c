/* closedlog.c: fixed ring of recent client closes. */
#include "closedlog.h"

#include <stdio.h>
#include <string.h>

/* Starts empty. */
void closedlog_init(struct closedlog *l)
{
	memset(l, 0, sizeof(*l));
}

/* Overwrites the oldest slot once the ring is full. */
void closedlog_push(struct closedlog *l, uint64_t id, const char *addr,
		    double age_s, uint64_t sent_bytes, enum close_reason reason)
{
	struct stats_closed_row *r = &l->rows[l->next];

	r->id = id;
	snprintf(r->addr, sizeof(r->addr), "%s", addr ? addr : "");
	r->age_s = age_s;
	r->sent_bytes = sent_bytes;
	r->reason = close_reason_name(reason);
	l->next = (l->next + 1) % CLOSEDLOG_SIZE;
	if (l->count < CLOSEDLOG_SIZE)
		l->count++;
}

/* How many closes "show closed" lists. */
size_t closedlog_count(const struct closedlog *l)
{
	return l->count;
}

/* Maps an age index (0 = oldest) to its slot in the ring. */
const struct stats_closed_row *closedlog_at(const struct closedlog *l, size_t i)
{
	size_t oldest = (l->next + CLOSEDLOG_SIZE - l->count) % CLOSEDLOG_SIZE;

	if (i >= l->count)
		return NULL;
	return &l->rows[(oldest + i) % CLOSEDLOG_SIZE];
}

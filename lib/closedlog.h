/* closedlog.h: the last CLOSEDLOG_SIZE client closes, for "show closed".
 * A fixed ring inside the struct: recording a close never allocates. */
#ifndef PIPECAST_CLOSEDLOG_H
#define PIPECAST_CLOSEDLOG_H

#include <stddef.h>
#include <stdint.h>

#include "counters.h"

#define CLOSEDLOG_SIZE 100
#define CLOSEDLOG_ADDR_MAX 64   /* "[v6]:port" fits with room to spare */

struct stats_closed_row {
	uint64_t id;
	char addr[CLOSEDLOG_ADDR_MAX];  /* copied, NUL-terminated, cut if longer */
	double age_s;                   /* connection's age when it closed */
	uint64_t sent_bytes;
	const char *reason;             /* close_reason_name(): static */
};

struct closedlog {
	struct stats_closed_row rows[CLOSEDLOG_SIZE];
	size_t next;    /* slot the next close goes to */
	size_t count;   /* rows held, at most CLOSEDLOG_SIZE */
};

/* An empty log (a zeroed struct is one too). Tests only. */
void closedlog_init(struct closedlog *l);
/* Records one close, forgetting the oldest once CLOSEDLOG_SIZE are held. */
void closedlog_push(struct closedlog *l, uint64_t id, const char *addr,
		    double age_s, uint64_t sent_bytes, enum close_reason reason);
/* Rows held. */
size_t closedlog_count(const struct closedlog *l);
/* Row i, 0 being the oldest held; NULL when i >= closedlog_count(). */
const struct stats_closed_row *closedlog_at(const struct closedlog *l, size_t i);

#endif

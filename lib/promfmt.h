/* promfmt.h: the Prometheus text exposition of the stats (pipecastd(8)
 * "STATS SOCKET", show metrics; also GET /metrics). */
#ifndef PIPECAST_PROMFMT_H
#define PIPECAST_PROMFMT_H

#include <stddef.h>

#include "sbuf.h"
#include "statfmt.h"

/* Every show-info name as pipecast_NAME with HELP and TYPE, per-kind timer
 * figures, labelled families, then the protocol's empty line. Returns 0, or
 * -1 when the sbuf has failed. */
int promfmt_metrics(struct sbuf *b, const struct statfmt_info *in,
		    const struct statfmt_timer_row *rows, size_t n);

#endif

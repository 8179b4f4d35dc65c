/* fanout.h: the ring that all clients read from, what appends to it (records
 * and heartbeats), and when clients are told that it grew. */
#ifndef PIPECAST_FANOUT_H
#define PIPECAST_FANOUT_H

#include <stddef.h>
#include <stdint.h>

#include "preamble.h"
#include "ring.h"

/* Allocates the ring ([clients] buffer) and sets up the heartbeat timer.
 * Returns 0, or -1 with errno set. */
int fanout_init(void);
void fanout_free(void);
const struct ring *fanout_ring(void);
/* Appends whole records (n <= buffer / 2). */
void fanout_append(const char *data, size_t n);
/* Appends records of the source, keeping the first of each run as the
 * preamble ([clients] preamble). */
void fanout_append_source(const char *data, size_t n);
/* The source begins a new run: the next records are the preamble. */
void fanout_new_run(void);
const struct preamble *fanout_preamble(void);
/* Lets clients write what was appended since the last flush. */
void fanout_flush(void);
/* (Re)applies heartbeat settings; stopping disables them. */
void fanout_apply_config(void);
void fanout_stop(void);

#endif

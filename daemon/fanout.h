/* fanout.h: the ring that all clients read from, what appends to it (records
 * and heartbeats), and when clients are told that it grew. */
#ifndef PIPECAST_FANOUT_H
#define PIPECAST_FANOUT_H

#include <stddef.h>
#include <stdint.h>

#include "ring.h"

/* Maps the ring ([clients] buffer) and sets up the heartbeat timer.
 * Returns 0, or -1 with errno set. */
int fanout_init(void);
void fanout_free(void);
const struct ring *fanout_ring(void);
/* The ring for its one writer, the source's framer. */
struct ring *fanout_ring_writer(void);
/* Before up to n bytes are written into the ring's reserve. */
void fanout_prepare(size_t n);
/* After n bytes of whole records were committed at the ring's head. */
void fanout_appended(size_t n);
/* Appends a whole record (a heartbeat) ahead of the held unfinished line. */
void fanout_append(const char *data, size_t n);
/* Lets clients write what was appended since the last flush. */
void fanout_flush(void);
/* (Re)applies heartbeat settings; stopping disables them. */
void fanout_apply_config(void);
void fanout_stop(void);

#endif

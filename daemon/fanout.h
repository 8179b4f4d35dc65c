/* fanout.h: the ring that all clients read from, what appends to it (records
 * and heartbeats), and when clients are told that it grew. */
#ifndef PIPECAST_FANOUT_H
#define PIPECAST_FANOUT_H

#include <stddef.h>
#include <stdint.h>

#include "preamble.h"
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
/* After n bytes of whole records from the source were committed at ring
 * cursor pos; the first of each run are kept as the preamble ([clients]
 * preamble). */
void fanout_appended_source(uint64_t pos, size_t n);
/* The source begins a new run: the next records are the preamble. */
void fanout_new_run(void);
const struct preamble *fanout_preamble(void);
/* Lets clients write what was appended since the last flush. */
void fanout_flush(void);
/* (Re)applies heartbeat settings; stopping disables them. */
void fanout_apply_config(void);
void fanout_stop(void);

#endif

/* fanout.h: the ring that all clients read from, the SSE form of the stream
 * that /events clients read from, what appends to them (records and
 * heartbeats), the event ids, and when clients are told that they grew. */
#ifndef PIPECAST_FANOUT_H
#define PIPECAST_FANOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "preamble.h"
#include "ring.h"
#include "sse.h"

/* Maps the ring ([clients] buffer), chooses the epoch, sets up the
 * heartbeat timer, and the SSE form when HTTP listeners are configured.
 * Returns 0, or -1 with errno set. */
int fanout_init(void);
void fanout_free(void);
const struct ring *fanout_ring(void);
/* The SSE form of the stream, or NULL while there is none (raw framing, or
 * no HTTP listener configured yet). */
const struct sse *fanout_sse(void);
/* Allocates the SSE form if HTTP listeners are configured and it does not
 * exist yet (start-up and reload); 0, or -1 when out of memory. */
int fanout_sse_enable(void);
/* The ring for its one writer, the source's framer. */
struct ring *fanout_ring_writer(void);
/* Before up to n bytes are written into the ring's reserve. */
void fanout_prepare(size_t n);
/* The framer's records join the stream: after n bytes of `records` whole
 * records were committed at ring cursor pos. They, like an upstream's
 * records (fanout_append_id), are numbered on from the last one
 * (pipecastd(8), "Event ids and resume"), encoded for SSE and WebSocket
 * clients, and the first of each run are kept as the preamble ([clients]
 * preamble), all in one place. */
void fanout_appended_source(uint64_t pos, size_t n, uint64_t records);
/* A record with an upstream's id, or with one of this node's own epoch
 * (pipecastd(8), "Event ids and resume"); false for a repeat, not appended. */
bool fanout_append_id(const char *rec, size_t n, uint64_t epoch, uint64_t seq);
void fanout_append_own(const char *rec, size_t n);
/* The epoch of the next records is e (a Redis stream's), from now on. */
void fanout_take_epoch(uint64_t e);
/* Passes an upstream's gap notice on to the clients. */
void fanout_gap(bool known, uint64_t missed);
/* The source begins a new run: the next records are the preamble. */
void fanout_new_run(void);
const struct preamble *fanout_preamble(void);
/* Lets clients write what was appended since the last flush. */
void fanout_flush(void);
/* (Re)applies heartbeat settings; stopping disables them. */
void fanout_apply_config(void);
void fanout_stop(void);

/* A new random epoch. */
uint64_t fanout_new_epoch(void);
/* The epoch of this run's ids. */
uint64_t fanout_epoch(void);
/* The newest record's sequence number (0 before any, and with raw framing). */
uint64_t fanout_last_seq(void);
/* The oldest record that every client kind can still be served, or 0. */
uint64_t fanout_first_seq(void);

#endif

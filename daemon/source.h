/* source.h: the producer: standard input, a FIFO or a command's output. */
#ifndef PIPECAST_SOURCE_H
#define PIPECAST_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

/* The most bytes one read of the producer brings (the framer's room). */
size_t source_read_room(void);
/* Opens the configured input (creating the FIFO, starting the command).
 * Returns 0, or -1 after logging why start-up cannot go on. */
int source_open(void);
/* Graceful stop: stops reading; a command's process group gets SIGTERM,
 * then SIGKILL after 2 s. */
void source_stop(void);
/* Stop at once: a command's process group gets SIGKILL. */
void source_kill(void);
/* True once nothing of the source is left running (no unreaped command). */
bool source_finished(void);
/* Re-applies [source] settings that take effect at once. */
void source_apply_config(void);
/* Releases everything at exit and removes a FIFO this daemon created. */
void source_free(void);
/* Seconds since the source last delivered bytes (or was opened). */
double source_idle_seconds(void);
/* "open", "waiting", "restarting" or "closed". */
const char *source_state_name(void);

#endif

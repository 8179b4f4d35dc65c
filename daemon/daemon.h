/* daemon.h: what every part of the daemon shares: the loop, the current
 * configuration, the monotonic clock and the stop sequence (main.c). */
#ifndef PIPECAST_DAEMON_H
#define PIPECAST_DAEMON_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

/* Exit statuses of pipecastd(8). */
enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_STARTUP = 2, EXIT_FATAL = 3 };

extern struct ev_loop *loop;
extern const struct config *conf;

/* The configuration in force, writable for the reload that replaces it. */
struct config *daemon_config(void);

/* Monotonic time in nanoseconds: activity timestamps must not follow the
 * wall clock's steps. */
int64_t mono_ns(void);

/* Seconds, as libev wants them, from nanoseconds or milliseconds. */
#define NS_TO_S(ns) ((double)(ns) / 1e9)
#define MS_TO_NS(ms) ((int64_t)(ms) * 1000000)

/* Begins the graceful stop (idempotent; a second signal ends it at once). */
void daemon_stop(const char *why);
bool daemon_stopping(void);
/* mono_ns() when the daemon started. */
int64_t daemon_started(void);

#endif

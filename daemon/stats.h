/* stats.h: the stats socket: live counters, timers and clients for
 * pipecastctl, socat and Prometheus, and the admin commands. */
#ifndef PIPECAST_STATS_H
#define PIPECAST_STATS_H

#include <stdbool.h>

/* Binds the stats socket ([stats] socket, or the default path order).
 * Returns 0, or -1 after logging why (start-up fails with exit status 2). */
int stats_open(void);
/* Stops accepting, closes every stats connection, removes the socket file
 * this daemon created. */
void stats_close(void);
/* Starts or stops accepting stats connections (paused with the client
 * listeners when descriptors run out). */
void stats_accepting(bool on);
/* Frees closed stats connections; called at the loop's safe point. */
void stats_reap(void);
/* Applies [stats] idle_timeout, mode and max_connections after a reload. */
void stats_apply_config(void);
/* The socket file this daemon bound (the default path order's choice
 * included), or NULL for a socket-activated one; for show config. */
const char *stats_socket_path(void);
/* Seconds until the soonest stats-connection timer fires, or -1. */
double stats_next_due(void);

#endif

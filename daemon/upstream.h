/* upstream.h: an upstream source, sse:http://HOST:PORT/PATH
 * (pipecast.conf(5), "Upstream sources"); source.c hands the source over
 * to it when input names one. */
#ifndef PIPECAST_UPSTREAM_H
#define PIPECAST_UPSTREAM_H

/* Allocates its buffers and starts connecting. Returns 0, or -1 after
 * logging why start-up cannot go on. */
int upstream_open(void);
/* Graceful stop: closes the connection; nothing reconnects. */
void upstream_stop(void);
/* Re-applies idle_timeout (and restart_delay at the next reconnect). */
void upstream_apply_config(void);
/* Releases the connection and the buffers at exit. */
void upstream_free(void);
/* Seconds since the upstream last sent bytes (or since start). */
double upstream_idle_seconds(void);
/* "open", "restarting" or "closed". */
const char *upstream_state_name(void);

#endif

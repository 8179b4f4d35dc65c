/* upstream.h: an upstream source, sse:http://HOST:PORT/PATH or
 * redis:HOST:PORT/KEY (pipecast.conf(5), "Upstream sources"); source.c
 * hands the source over to it when input names one. upstream.c owns the
 * connection (socket, its one timer, the reconnect backoff); each kind
 * (upsse.c, upredis.c) speaks its protocol over it through the second
 * half of this header. */
#ifndef PIPECAST_UPSTREAM_H
#define PIPECAST_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "upurl.h"

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

/* ---- for the kinds of upstream (upsse.c, upredis.c) ---- */

/* What a kind does with the connection. */
struct upstream_kind {
	/* At start: allocates what the kind needs; returns the size of the
	 * read buffer it wants, or 0 after logging why it cannot start. */
	size_t (*open)(const struct upurl *u);
	void (*free)(void);                /* at exit; NULL: nothing to free */
	/* The connection is made: the kind sends its first request. */
	void (*connected)(void);
	/* Bytes arrived: buf[0, *len) holds what was read and not consumed.
	 * The kind consumes what it can (moving the rest to the front and
	 * setting *len). Returns false when it gave the connection up
	 * (through upstream_retry or upstream_ended). */
	bool (*input)(char *buf, size_t *len);
};

extern const struct upstream_kind upsse_kind;
extern const struct upstream_kind upredis_kind;

/* Queues bytes for the upstream and writes what the socket takes; false
 * (after giving the connection up) when they do not fit. */
bool upstream_send(const char *p, size_t n);
/* The handshake is over: records flow, the timer turns to idle_timeout.
 * detail follows "streaming" in the log line. */
void upstream_streaming(const char *detail);
/* A handshake of many steps made one: the connect timeout starts again. */
void upstream_handshake_progress(void);
/* True once upstream_streaming was called on this connection. */
bool upstream_is_streaming(void);
/* Gives the connection up: reconnect after the backoff (logged). */
void upstream_retry(const char *why);
/* The upstream ended a stream: on_eof decides (exit, or reconnect). */
void upstream_ended(const char *why);
/* The input value, for log lines. */
const char *upstream_name(void);

#endif

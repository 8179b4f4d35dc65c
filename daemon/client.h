/* client.h: client connections: each reads the shared ring through its own
 * cursor and owns exactly one ev_timer for its idle and send deadlines. */
#ifndef PIPECAST_CLIENT_H
#define PIPECAST_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "statfmt.h"

struct access_conn;

/* Takes a freshly accepted socket that access_accept() let in: serves it,
 * or closes it when max_clients are already connected. addr is
 * "127.0.0.1:5555", "[::1]:5555" or "unix". */
void client_accept(int fd, const char *addr, bool tcp, struct access_conn *ac);
/* Before n bytes are appended to the ring: applies the overflow policy to
 * every client those bytes would overrun. */
void clients_before_append(size_t n);
/* After the ring grew: writes to every client that is not already waiting
 * on its socket. */
void clients_broadcast(void);
/* Graceful stop: closes caught-up clients, lets pending ones drain. */
void clients_shutdown(void);
/* Closes every client at once. */
void clients_close_all(enum close_reason why);
/* Re-evaluates every client's deadlines after a configuration change. */
void clients_apply_config(void);
/* How far the slowest client is behind the ring's head, in bytes. */
uint64_t clients_max_lag(void);
struct sbuf;
struct closedlog;

/* Closes the client with this id (reason kill); -1 when there is none. */
int client_kill(uint64_t id);
/* Appends the "show clients" reply. */
int clients_report(struct sbuf *out, bool json);

/* A "show clients" reply produced in slices (the stats server's, which
 * writes one slice per turn of the loop while the socket drains). */
#define CLIENTS_SLICE 128
struct clients_walk {
	struct statfmt_rows t;
	uint64_t after;          /* the id of the last row written */
	int64_t now;             /* ages and idle times are of this instant */
};
void clients_report_start(struct clients_walk *w, struct sbuf *out, bool json);
/* Appends the next slice; true once the reply is complete. */
bool clients_report_slice(struct clients_walk *w);
/* The last closes, for "show closed". */
const struct closedlog *clients_closed_log(void);
/* Seconds until the soonest client timer fires, or -1. */
double clients_next_due(void);
/* Frees closed clients; called at a safe point of the loop. */
void clients_reap(void);

#endif

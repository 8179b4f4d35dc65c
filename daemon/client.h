/* client.h: client connections: each reads one of the shared rings through
 * its own cursor and owns exactly one ev_timer for all its deadlines. An
 * HTTP connection is one of these from its accept: while its request head
 * arrives and while a non-stream answer goes out it is not a client (not
 * counted, not listed, its timer of kind "http"); a stream (/events)
 * becomes a client without any new allocation. */
#ifndef PIPECAST_CLIENT_H
#define PIPECAST_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "statfmt.h"

/* What a client speaks, and so which ring it reads ("show clients" proto). */
enum client_proto { CLIENT_RAW, CLIENT_SSE, CLIENT_WS, CLIENT_PROTO_COUNT };

struct client;
struct sbuf;
struct closedlog;
struct wsring;
struct access_conn;

/* Takes a freshly accepted socket that access_accept() let in: serves it,
 * or closes it when max_clients are already connected. addr is
 * "127.0.0.1:5555", "[::1]:5555" or "unix". */
void client_accept(int fd, const char *addr, bool tcp, struct access_conn *ac);
/* Takes a freshly accepted socket of an HTTP listener with access
 * control's verdict (ac, and why it is refused or REFUSAL_COUNT): reads its
 * request head, within [http] request_timeout; a refused one gets 403. */
void client_http_accept(int fd, const char *addr, bool tcp, struct access_conn *ac,
			enum refusal why);

/* For the HTTP layer (http.c), on a connection still reading its head: */
/* Sends a complete answer (it takes resp's memory), counted by class, then
 * closes the connection. */
void client_answer(struct client *c, struct sbuf *resp, int status);
/* Turns the connection into an SSE client at pos of the SSE ring, sending
 * head (the response head, retry line, a gap notice; copied) first. -1 when
 * max_clients are connected (counted as rejected; the caller answers). */
int client_start_sse(struct client *c, const char *head, size_t len, uint64_t pos);
/* The same for a WebSocket upgrade: a client of ring r from pos, head (the
 * 101 response and a gap message) first; -1 beyond max_clients or out of
 * memory. */
int client_start_ws(struct client *c, struct wsring *r, uint64_t pos, const void *head,
		    size_t len);
/* The peer's address, for logs. */
const char *client_addr(const struct client *c);
/* What access control knows of the connection (its token is kept there). */
struct access_conn *client_access(struct client *c);

/* Before n bytes are appended to the ring of proto: applies the overflow
 * policy to every client of that ring those bytes would overrun. */
void clients_before_append(enum client_proto proto, uint64_t n);
/* The same before n bytes are appended to a WebSocket ring. */
void clients_before_ws_append(const struct wsring *r, uint64_t n);
/* After the rings grew: writes to every client that is not already waiting
 * on its socket. */
void clients_broadcast(void);
/* Graceful stop: closes caught-up clients, lets pending ones drain; HTTP
 * requests in progress are closed. */
void clients_shutdown(void);
/* Closes every client (and HTTP request) at once. */
void clients_close_all(enum close_reason why);
/* Re-evaluates every client's deadlines after a configuration change. */
void clients_apply_config(void);
/* How far the slowest client is behind the head of its ring, in bytes. */
uint64_t clients_max_lag(void);

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
/* Seconds until the soonest timer of an HTTP request fires, or -1. */
double clients_http_next_due(void);
/* Frees closed clients; called at a safe point of the loop. */
void clients_reap(void);

/* One per-connection structure and its size, for pipecastd --sizes. */
struct client_size {
	const char *name;
	size_t bytes;
	const char *what;        /* who has one, and where it lives */
};
/* The table of them; *n is its length. */
const struct client_size *client_sizes(size_t *n);

#endif

/* access.h: [access] of pipecast.conf(5) for connections: address rules,
 * max_per_ip, unix_allow, trusted proxies, tokens, and the refusals they
 * cause (counted by reason, logged at most once a second). Raw clients use
 * it from the listener and client code; the HTTP side calls the same
 * functions (access_accept at accept time, access_proxied after a PROXY
 * header, access_token_ok with a token from the request, access_metrics_ok
 * for /metrics and /healthz, access_check_addr for the address rules alone,
 * access_refused for a refusal of its own, access_release at close). */
#ifndef PIPECAST_ACCESS_H
#define PIPECAST_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cidr.h"
#include "counters.h"

/* What access control keeps for one connection (embedded in its owner,
 * 32 bytes: every idle client carries it). */
struct access_conn {
	uint64_t token_fp;      /* its token's fingerprint (never the token) */
	struct cidr_addr addr;  /* the peer, or the client a PROXY header named */
	bool tcp : 1;           /* a TCP peer: address rules apply */
	bool counted : 1;       /* holds one count in the per-address table */
	bool proxied : 1;       /* from a trusted proxy: its header comes first */
	bool authed : 1;        /* presented a valid token */
	bool mapped : 1;        /* addr came as an IPv4-mapped IPv6 address */
	uint16_t port;          /* the peer's port, for its name */
};

/* Longest name access_conn_name() writes: "[v4-mapped v6 address]:65535". */
#define ACCESS_NAME_MAX 56

/* Start-up: the per-address table, sized from max_clients. Returns 0, or
 * -1 after logging. */
int access_init(void);
/* Exit: frees the table. */
void access_free(void);
/* Reload: the table follows a new max_clients. */
void access_apply_config(void);

/* A connection just accepted, before anything is allocated for it:
 * REFUSAL_COUNT when it may go on (*ac then describes it, as below), else
 * why it is refused (nothing counted, fd left open: an HTTP peer gets its
 * 403). */
enum refusal access_admit(int fd, const struct sockaddr *sa, socklen_t len, bool tcp,
			  struct access_conn *ac);
/* A raw client just accepted, before anything is allocated for it. On
 * refusal the fd is closed, the refusal counted and logged, and -1 is
 * returned; otherwise 0 and *ac describes the connection (counted for
 * max_per_ip unless it came from a trusted proxy, whose header must be
 * read first). name is the peer as logs show it. */
int access_accept(int fd, const struct sockaddr *sa, socklen_t len, bool tcp,
		  const char *name, struct access_conn *ac);
/* After a trusted proxy's header: src (NULL for a header without an
 * address) becomes the connection's address and the address rules and
 * max_per_ip apply to it. Returns 0, or -1 with *why set (nothing is
 * counted then; the caller closes and calls access_refused). */
int access_proxied(struct access_conn *ac, const struct sockaddr *src, socklen_t len,
		   enum refusal *why);
/* Whether allow and deny let a TCP peer's address in (nothing counted). */
bool access_check_addr(const struct cidr_addr *a);
/* The peer's name for logs and "show clients": "127.0.0.1:5555",
 * "[::1]:5555" or "unix"; returns buf (ACCESS_NAME_MAX bytes). */
const char *access_conn_name(const struct access_conn *ac, char *buf);
/* The connection is gone: its per-address count is released. */
void access_release(struct access_conn *ac);
/* Counts a refusal and logs it, at most one line a second with a count. */
void access_refused(enum refusal why, const char *name);
/* Each loop turn: logs the refusals counted since the last line once a
 * second has passed. */
void access_safe_point(void);

/* Whether stream clients must present a token (tokens_file is set). */
bool access_tokens_required(void);
/* Whether tok is one of the tokens (constant time); on success its
 * fingerprint is kept in ac for later reloads. */
bool access_token_ok(struct access_conn *ac, const char *tok, size_t len);
/* Whether a peer may read /metrics and /healthz: metrics_allow for a TCP
 * peer; a Unix one passed unix_allow. */
bool access_metrics_ok(const struct access_conn *ac);
/* Reload: whether a connected client is still allowed (address rules,
 * unix_allow through fd's credentials, and for a streaming one its token);
 * REFUSAL_COUNT when it is, else the reason it would be refused now. */
enum refusal access_recheck(const struct access_conn *ac, int fd, bool streaming);

#endif

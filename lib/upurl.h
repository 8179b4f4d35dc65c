/* upurl.h: the syntax of an upstream source (pipecast.conf(5), [source]
 * input): sse:http://HOST[:PORT]/PATH and redis:HOST[:PORT]/KEY[?history=N].
 * HOST is a numeric IPv4 address, a bracketed IPv6 address or `localhost`
 * (taken as 127.0.0.1): no name is ever looked up, so connecting never
 * blocks the loop. https: is refused (TLS goes through a local proxy). */
#ifndef PIPECAST_UPURL_H
#define PIPECAST_UPURL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#define UPURL_PATH_MAX 1024      /* SSE request target */
#define UPURL_KEY_MAX 512        /* Redis stream key */
#define UPURL_HISTORY_MAX 1000000
#define UPURL_SSE_PORT 80
#define UPURL_REDIS_PORT 6379

enum upurl_kind { UPURL_SSE, UPURL_REDIS };

struct upurl {
	enum upurl_kind kind;
	int family;                      /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
	uint16_t port;
	char host[INET6_ADDRSTRLEN + 2]; /* as the Host header wants it: [v6] */
	char path[UPURL_PATH_MAX + 1];   /* SSE: from the '/' on, query included */
	char key[UPURL_KEY_MAX + 1];     /* Redis: the stream's key */
	uint64_t history;                /* Redis: ?history=N; 0 when not given */
};

/* The longest Last-Event-ID value sent; a longer id is not sent. */
#define UPURL_LAST_ID_MAX 256

/* True when an input value names an upstream source (sse: or redis:). */
bool upurl_is(const char *s);
/* Parses and checks an upstream source. Returns 0, or -1 with *why set
 * to a static description of the problem. */
int upurl_parse(const char *s, struct upurl *u, const char **why);
/* Writes the GET request that opens an SSE upstream's stream into
 * out[0, cap) and returns its length, or 0 when it does not fit. With
 * last_id (idlen bytes, may be NULL) it asks to resume after that id
 * (Last-Event-ID); an id that could not travel in a header (a control
 * byte, or longer than UPURL_LAST_ID_MAX) is left out. */
size_t upurl_sse_request(const struct upurl *u, const char *last_id, size_t idlen,
			 char *out, size_t cap);

#endif

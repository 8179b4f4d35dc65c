/* httpd.h: the HTTP side of pipecastd (pipecast.conf(5), "[http]"): what a
 * request head on an HTTP listener gets. The connection itself (its socket,
 * its one timer, its memory) is client.c's; this file reads the head it was
 * given and answers, or turns the connection into an event stream. */
#ifndef PIPECAST_HTTPD_H
#define PIPECAST_HTTPD_H

#include <stddef.h>

#include "counters.h"

struct client;
struct http_request;

/* The request head so far (len bytes): waits for more, or answers. */
void httpd_head(struct client *c, const char *buf, size_t len);
/* The head did not arrive within request_timeout: 408. */
void httpd_timeout(struct client *c);
/* Access control refused the request (r, or NULL before its head was
 * read): 401 with WWW-Authenticate: Bearer for a token, 403 otherwise. */
void httpd_refused(struct client *c, const struct http_request *r, enum refusal why);

#endif

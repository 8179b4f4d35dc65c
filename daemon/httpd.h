/* httpd.h: the HTTP side of pipecastd (pipecast.conf(5), "[http]"): what a
 * request head on an HTTP listener gets. The connection itself (its socket,
 * its one timer, its memory) is client.c's; this file reads the head it was
 * given and answers, or turns the connection into an event stream. */
#ifndef PIPECAST_HTTPD_H
#define PIPECAST_HTTPD_H

#include <stddef.h>

struct client;

/* The request head so far (len bytes): waits for more, or answers. */
void httpd_head(struct client *c, const char *buf, size_t len);
/* The head did not arrive within request_timeout: 408. */
void httpd_timeout(struct client *c);

#endif

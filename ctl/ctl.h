/* ctl.h: what pipecastctl's files share: exit statuses, messages, the
 * clock and the connection to the stats socket. */
#ifndef PIPECAST_CTL_H
#define PIPECAST_CTL_H

#include "ctlutil.h"
#include "statspath.h"
#include "upurl.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses (pipecastctl(1)). */
enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAIL = 1,   /* the daemon answered an error or is unreachable */
	CTL_EXIT_USAGE = 2,
};

/* Prints "pipecastctl: MESSAGE" and a newline on standard error. */
void ctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* CLOCK_MONOTONIC in milliseconds. */
int64_t ctl_now_ms(void);

/* conn.c: one connection to the stats socket. */
struct conn;

/* How a request ended. */
enum conn_status {
	CONN_OK,
	CONN_ERROR,     /* message in the caller's buffer */
	CONN_CLOSED,    /* the daemon closed before answering anything */
	CONN_INTR,      /* a signal asked us to stop */
};

/* Connects to the first path that answers; NULL with every path tried and
 * its reason in err otherwise. Waits are bounded by timeout_ms. */
struct conn *conn_open(const struct statspath_list *paths, int64_t timeout_ms,
		       char *err, size_t errlen);
/* Connects again to the path that answered before. */
enum conn_status conn_reopen(struct conn *c, char *err, size_t errlen);
/* The path this connection uses. */
const char *conn_path(const struct conn *c);
/* Sends one command line and reads its reply; with half_close, shuts down
 * the writing side after the line and accepts EOF as the end. The body
 * (without the terminating empty line) stays valid until the next call. */
enum conn_status conn_request(struct conn *c, const char *cmd, bool half_close,
			      const char **body, size_t *len,
			      char *err, size_t errlen);
void conn_close(struct conn *c);
/* Signals unblocked while waiting (ppoll); NULL waits with the current mask. */
void conn_wait_mask(const sigset_t *mask);

/* watch.c: the live view. */
struct watch_opts {
	uint64_t interval_ms;
	uint64_t count;          /* frames to draw; 0 = until stopped */
	int64_t timeout_ms;
};

int watch_run(const struct statspath_list *paths, const struct watch_opts *o);

/* list.c: every template instance under /run/pipecast that answers. */
int list_run(int64_t timeout_ms);

/* publish.c: standard input's lines to a Redis stream. target is the
 * redis: value as given (for messages), url its parsed form; maxlen 0
 * means no trimming. Returns the exit status. */
int publish_run(const char *target, const struct upurl *url, uint64_t maxlen,
		int64_t timeout_ms);

#endif

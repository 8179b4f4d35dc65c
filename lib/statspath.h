/* statspath.h: where the stats socket lives, for the daemon and for
 * pipecastctl alike (pipecast.conf(5) "[stats] socket", pipecastctl(1)):
 * the daemon's default path, the per-user private directory, pipecastctl's
 * discovery list and the socket of a template instance. Pure: the caller
 * passes the environment in; nothing here logs, exits or touches a file. */
#ifndef PIPECAST_STATSPATH_H
#define PIPECAST_STATSPATH_H

#include <stdbool.h>
#include <stddef.h>

#define STATSPATH_MAX 3
#define STATSPATH_LEN 4096
/* The directory of the packaged service and of every template instance. */
#define STATSPATH_RUNDIR "/run/pipecast"
#define STATSPATH_NAME_MAX 64

/* pipecastctl's candidates, tried in order. */
struct statspath_list {
	size_t n;
	char path[STATSPATH_MAX][STATSPATH_LEN];
};

/* The daemon's socket when [stats] socket is unset: the first directory
 * of `runtime_dir` ($RUNTIME_DIRECTORY, a colon-separated list) + stats.sock,
 * else `xdg_runtime`/pipecast/stats.sock, else the private directory's
 * stats.sock. NULL and "" both mean unset. 0, or -1 when it does not fit. */
int statspath_default(const char *runtime_dir, const char *xdg_runtime,
		      unsigned long uid, char *buf, size_t len);
/* The per-user directory /tmp/pipecast-UID (created 0700, owner checked).
 * 0, or -1 when it does not fit. */
int statspath_private_dir(unsigned long uid, char *buf, size_t len);
/* Fills out with the socket paths pipecastctl tries: `opt` (-s) alone if
 * set, else `env_socket` ($PIPECAST_SOCKET) alone if set, else
 * /run/pipecast/stats.sock, `xdg_runtime`/pipecast/stats.sock (when set)
 * and /tmp/pipecast-UID/stats.sock. 0, or -1 when a path does not fit. */
int statspath_candidates(const char *opt, const char *env_socket,
			 const char *xdg_runtime, unsigned long uid,
			 struct statspath_list *out);
/* Whether name can be a template instance: 1 to STATSPATH_NAME_MAX bytes
 * of letters, digits and "_-.:@\", not starting with a dot. */
bool statspath_instance_ok(const char *name);
/* `rundir`/NAME/stats.sock, the socket of instance NAME. 0, or -1 when the
 * name is not an instance name or the path does not fit. */
int statspath_instance(const char *rundir, const char *name, char *buf,
		       size_t len);

#endif

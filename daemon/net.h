/* net.h: listening sockets, made the same way for clients and the stats
 * socket: non-blocking, close-on-exec, never taking over a live Unix socket. */
#ifndef PIPECAST_NET_H
#define PIPECAST_NET_H

#include <stddef.h>
#include <sys/socket.h>

#include "fileid.h"

/* Binds and listens on a Unix socket path with the given mode (set by the
 * umask at bind time, never by chmod of the name). A path that a running
 * server answers on is refused; a stale socket file is replaced; anything
 * else at the path is refused. Returns the fd and records the socket file
 * in *id, or -1 with a message in err (errno EADDRINUSE: a running server
 * answers there). */
int net_unix_listen(const char *path, unsigned mode, struct fileid *id, char *err,
		    size_t errlen);

/* Binds and listens on HOST:PORT, a numeric address or localhost (both
 * loopback addresses); never looks a name up. Stores up to
 * max fds; returns how many, or -1 with a message in err (none left open). */
int net_tcp_listen(const char *host, const char *port, int *fds, int max,
		   char *err, size_t errlen);

/* "127.0.0.1:5555", "[::1]:5555" or "unix". */
void net_peer_name(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen);

#endif

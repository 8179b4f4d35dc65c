/* net.c: socket creation shared by the listeners and the stats server. */
#include "net.h"
#include "compat.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Reports a failed call into the caller's buffer as "WHAT: strerror(errno)";
 * returns -1 for the caller to return. */
static int net_error(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, strerror(errno));
	return -1;
}

/* Fills a sockaddr_un; the caller has checked the length. */
static socklen_t net_unix_addr(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", path);
	return (socklen_t)sizeof(*sun);
}

/* Decides whether an existing path may be replaced: only a socket nobody
 * answers on. Returns 0 (free or removed), or -1 with a message. */
static int net_unix_claim(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : net_error(err, errlen, path);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s: exists and is not a socket", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return net_error(err, errlen, "socket");
	rc = connect(fd, (struct sockaddr *)&sun, net_unix_addr(&sun, path));
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "%s: already served by a running process", path);
		errno = EADDRINUSE;
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return net_error(err, errlen, "cannot remove the stale socket");
	return 0;
}

/* Checks what bind(2) created at path: a socket of ours, recorded in *id
 * for later mode changes and removal by identity. */
static int net_unix_verify(const char *path, struct fileid *id, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return net_error(err, errlen, path);
	if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: replaced right after it was bound", path);
		return -1;
	}
	*id = (struct fileid){ .dev = st.st_dev, .ino = st.st_ino, .set = true };
	return 0;
}

/* Unix listener: probe, then bind under the umask that gives exactly mode,
 * so no chmod by name follows (a Unix socket has no descriptor of its
 * file to fchmod); the result is checked with lstat(2). */
int net_unix_listen(const char *path, unsigned mode, struct fileid *id, char *err,
		    size_t errlen)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd, rc;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if (net_unix_claim(path, err, errlen) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return net_error(err, errlen, "socket");
	old = umask((mode_t)(~mode & 0777));
	rc = bind(fd, (struct sockaddr *)&sun, net_unix_addr(&sun, path));
	umask(old);
	if (rc < 0 || listen(fd, SOMAXCONN) < 0) {
		net_error(err, errlen, path);
		if (rc == 0)
			unlink(path);
		close(fd);
		return -1;
	}
	if (net_unix_verify(path, id, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One TCP listening socket for one resolved address. */
static int net_tcp_one(const struct addrinfo *ai, char *err, size_t errlen)
{
	static const int one = 1;
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			ai->ai_protocol);

	if (fd < 0)
		return net_error(err, errlen, "socket");
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
		net_error(err, errlen, "bind");
		close(fd);
		return -1;
	}
	return fd;
}

/* Listens on every address a numeric host gives (one, for a numeric one);
 * appends to fds[*n]. optional: an address this machine lacks (no IPv6)
 * is skipped rather than an error. */
static int net_tcp_numeric(const char *host, const char *port, bool optional, int *fds,
			   int *n, int max, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	int rc = getaddrinfo(host, port, &hints, &res);

	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
		return optional ? 0 : -1;
	}
	for (ai = res; ai && *n < max; ai = ai->ai_next) {
		int fd = net_tcp_one(ai, err, errlen);

		if (fd < 0 && optional && (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT))
			continue;
		if (fd < 0) {
			freeaddrinfo(res);
			return -1;
		}
		fds[(*n)++] = fd;
	}
	freeaddrinfo(res);
	return 0;
}

/* Listens on HOST:PORT. HOST is numeric, or localhost, which means
 * 127.0.0.1 and ::1 (when this machine has IPv6): no name is ever looked
 * up, so nothing here can wait on a resolver (pipecast.conf(5), listen). */
int net_tcp_listen(const char *host, const char *port, int *fds, int max,
		   char *err, size_t errlen)
{
	bool local = strcmp(host, "localhost") == 0;
	int n = 0;

	if (net_tcp_numeric(local ? "127.0.0.1" : host, port, false, fds, &n, max,
			    err, errlen) < 0 ||
	    (local && net_tcp_numeric("::1", port, true, fds, &n, max, err, errlen) < 0)) {
		while (n > 0)
			close(fds[--n]);
		return -1;
	}
	return n;
}

/* Formats a peer address for logs and stats. */
void net_peer_name(const struct sockaddr *sa, __unused socklen_t len, char *buf, size_t buflen)
{
	char host[INET6_ADDRSTRLEN];
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
		snprintf(buf, buflen, "%s:%u", host, ntohs(in4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, buflen, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		snprintf(buf, buflen, "unix");
	}
}

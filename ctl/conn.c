/* conn.c: pipecastctl's one connection to the stats socket: discovery by
 * connecting to each candidate in turn, then command lines and replies,
 * every wait bounded so that a stuck daemon never hangs the tool. */
#include "ctl.h"

#include "alloc.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define REPLY_MAX (64u << 20)  /* a reply larger than this is not the daemon's */
#define READ_CHUNK 65536

struct conn {
	int fd;
	char path[STATSPATH_LEN];
	int64_t timeout_ms;
	char *buf;          /* bytes read and not yet handed out */
	size_t len, cap;
	size_t consumed;    /* the last reply's length, dropped at the next call */
};

static const sigset_t *wait_mask;

/* watch lets SIGINT/SIGTERM through only while it waits. */
void conn_wait_mask(const sigset_t *mask)
{
	wait_mask = mask;
}

/* Appends formatted text to a message buffer, truncating quietly. */
static void conn_msg_add(char *err, size_t errlen, const char *fmt, ...)
{
	size_t used = strnlen(err, errlen);
	va_list ap;

	if (used + 1 >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + used, errlen - used, fmt, ap);
	va_end(ap);
}

/* Connects one socket; the send timeout also bounds a connect that waits
 * for room in a full listen backlog. Returns the fd, or -1 with errno. */
static int conn_connect(const char *path, int64_t timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_ms / 1000,
			      .tv_usec = (timeout_ms % 1000) * 1000 };
	int fd, saved;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0 &&
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	saved = errno == EAGAIN ? ETIMEDOUT : errno;
	close(fd);
	errno = saved;
	return -1;
}

/* The daemon's own rule for its per-user directory /tmp/pipecast-UID
 * (pipecastd(8), SECURITY): a socket there is trusted only if the
 * directory is a real directory of this user that no one else may write;
 * anyone can create that name in /tmp first. Returns why not, or NULL. */
static const char *conn_dir_refused(const char *path)
{
	char dir[64];
	struct stat st;
	size_t n;

	n = (size_t)snprintf(dir, sizeof(dir), "/tmp/pipecast-%lu", (unsigned long)getuid());
	if (strncmp(path, dir, n) != 0 || path[n] != '/')
		return NULL;
	if (lstat(dir, &st) < 0)
		return NULL;            /* the connect reports what is missing */
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid())
		return "the directory belongs to another user; refused";
	if (st.st_mode & 022)
		return "the directory is writable by other users; refused";
	return NULL;
}

/* Tries every candidate in order: a stale socket file does not hide a live
 * daemon further down the list. */
struct conn *conn_open(const struct statspath_list *paths, int64_t timeout_ms,
		       char *err, size_t errlen)
{
	struct conn *c;
	int fd = -1;
	size_t i;

	err[0] = '\0';
	conn_msg_add(err, errlen, "no daemon answers; tried:");
	for (i = 0; i < paths->n && fd < 0; i++) {
		const char *why = conn_dir_refused(paths->path[i]);

		fd = why ? -1 : conn_connect(paths->path[i], timeout_ms);
		if (fd < 0)
			conn_msg_add(err, errlen, "%s %s (%s)", i ? "," : "",
				     paths->path[i], why ? why : strerror(errno));
	}
	if (fd < 0)
		return NULL;
	c = pc_calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->fd = fd;
	c->timeout_ms = timeout_ms;
	snprintf(c->path, sizeof(c->path), "%s", paths->path[i - 1]);
	return c;
}

/* After the daemon closed an idle connection: same path, fresh socket. */
enum conn_status conn_reopen(struct conn *c, char *err, size_t errlen)
{
	if (c->fd >= 0)
		close(c->fd);
	c->len = c->consumed = 0;
	c->fd = conn_connect(c->path, c->timeout_ms);
	if (c->fd >= 0)
		return CONN_OK;
	snprintf(err, errlen, "daemon went away: %s (%s)", c->path,
		 strerror(errno));
	return CONN_ERROR;
}

/* For messages. */
const char *conn_path(const struct conn *c)
{
	return c->path;
}

/* Waits for events on the socket until deadline (monotonic ms). */
static enum conn_status conn_wait(struct conn *c, short events,
				  int64_t deadline, char *err, size_t errlen)
{
	struct pollfd pfd = { .fd = c->fd, .events = events };

	for (;;) {
		int64_t left = deadline - ctl_now_ms();
		struct timespec ts = { .tv_sec = left > 0 ? left / 1000 : 0,
				       .tv_nsec = left > 0 ? left % 1000 * 1000000 : 0 };
		int n = ppoll(&pfd, 1, &ts, wait_mask);

		if (n > 0)
			return CONN_OK;
		if (n == 0) {
			snprintf(err, errlen, "no answer from %s within %.1f s",
				 c->path, (double)c->timeout_ms / 1000);
			return CONN_ERROR;
		}
		if (errno != EINTR)
			break;
		if (wait_mask)
			return CONN_INTR;
	}
	snprintf(err, errlen, "%s: %s", c->path, strerror(errno));
	return CONN_ERROR;
}

/* Whether an errno means the daemon closed its end. */
static bool conn_gone(int e)
{
	return e == EPIPE || e == ECONNRESET;
}

/* Writes the whole command line. */
static enum conn_status conn_send(struct conn *c, const char *line, size_t n,
				  int64_t deadline, char *err, size_t errlen)
{
	while (n > 0) {
		enum conn_status st = conn_wait(c, POLLOUT, deadline, err, errlen);
		ssize_t w;

		if (st != CONN_OK)
			return st;
		w = send(c->fd, line, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w < 0 && conn_gone(errno))
			return CONN_CLOSED;
		if (w < 0) {
			snprintf(err, errlen, "%s: %s", c->path, strerror(errno));
			return CONN_ERROR;
		}
		line += w;
		n -= (size_t)w;
	}
	return CONN_OK;
}

/* Makes room for one more read. */
static int conn_grow(struct conn *c)
{
	size_t cap = c->cap ? c->cap * 2 : READ_CHUNK;
	char *p;

	if (c->cap - c->len >= READ_CHUNK / 2)
		return 0;
	if (cap > REPLY_MAX)
		return -1;
	p = pc_realloc(c->buf, cap);
	if (!p)
		return -1;
	c->buf = p;
	c->cap = cap;
	return 0;
}

/* Reads once; 1 for data, 0 for EOF, -1 for an error (errno). */
static int conn_read(struct conn *c)
{
	ssize_t r;

	if (conn_grow(c) < 0) {
		errno = EMSGSIZE;
		return -1;
	}
	do
		r = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EAGAIN)
		return 1;
	if (r < 0)
		return conn_gone(errno) ? 0 : -1;
	c->len += (size_t)r;
	return r > 0;
}

/* Hands out the reply that ends at end (its terminator excluded). */
static enum conn_status conn_reply(struct conn *c, size_t end, size_t body,
				   const char **out, size_t *len)
{
	c->consumed = end;
	*out = c->buf ? c->buf : "";
	*len = body;
	return CONN_OK;
}

/* Reads until a whole reply is buffered, or until EOF after a half-close. */
static enum conn_status conn_receive(struct conn *c, bool half_close,
				     int64_t deadline, const char **out,
				     size_t *len, char *err, size_t errlen)
{
	for (;;) {
		size_t end = ctl_reply_end(c->buf, c->len);
		enum conn_status st;
		int r;

		if (end)
			return conn_reply(c, end, end - 1, out, len);
		st = conn_wait(c, POLLIN, deadline, err, errlen);
		if (st != CONN_OK)
			return st;
		r = conn_read(c);
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", c->path, strerror(errno));
			return CONN_ERROR;
		}
		if (r > 0)
			continue;
		if (c->len == 0)
			return CONN_CLOSED;
		if (half_close)
			return conn_reply(c, c->len, c->len, out, len);
		snprintf(err, errlen, "%s: connection closed in the middle of a reply",
			 c->path);
		return CONN_ERROR;
	}
}

/* One command, one reply; the previous reply's bytes are dropped first. */
enum conn_status conn_request(struct conn *c, const char *cmd, bool half_close,
			      const char **body, size_t *len,
			      char *err, size_t errlen)
{
	int64_t deadline = ctl_now_ms() + c->timeout_ms;
	char line[1100];
	int n = snprintf(line, sizeof(line), "%s\n", cmd);
	enum conn_status st;

	if (n < 0 || (size_t)n >= sizeof(line)) {
		snprintf(err, errlen, "command too long");
		return CONN_ERROR;
	}
	if (c->consumed) {
		memmove(c->buf, c->buf + c->consumed, c->len - c->consumed);
		c->len -= c->consumed;
		c->consumed = 0;
	}
	st = conn_send(c, line, (size_t)n, deadline, err, errlen);
	if (st != CONN_OK)
		return st;
	if (half_close && shutdown(c->fd, SHUT_WR) < 0 && !conn_gone(errno)) {
		snprintf(err, errlen, "%s: %s", c->path, strerror(errno));
		return CONN_ERROR;
	}
	return conn_receive(c, half_close, deadline, body, len, err, errlen);
}

/* Closes the socket and frees the connection; NULL is fine. */
void conn_close(struct conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	pc_free(c->buf);
	pc_free(c);
}

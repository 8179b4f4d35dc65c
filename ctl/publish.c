/* publish.c: pipecastctl publish: standard input's lines, each XADDed to a
 * Redis stream as the field `data` (pipecastctl(1)). Commands are
 * pipelined: up to PUB_INFLIGHT_MAX wait for their reply at once, so the
 * rate is bounded by Redis, not by round trips; replies are read with the
 * RESP reader of lib/resp.c. The first error reply, or the connection's
 * loss, ends the run with status 1 and says how many lines Redis took. */
#include "ctl.h"

#include "alloc.h"
#include "resp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PUB_INFLIGHT_MAX 8192        /* commands sent whose reply has not come */
#define PUB_OUT_HIGH (256u << 10)    /* stop queueing above this many bytes */
#define PUB_IN_CHUNK (256u << 10)    /* standard input is read this much at a time */
#define PUB_LINE_MAX (64u << 20)     /* the longest line published */
#define PUB_REPLY_BUF 65536

/* One publishing run. */
struct pub {
	const char *target;          /* as the user wrote it, for messages */
	const struct upurl *url;
	uint64_t maxlen;
	int64_t timeout_ms;
	int fd;                      /* the Redis connection */
	char *in;                    /* standard input not yet queued */
	size_t in_len, in_cap;
	bool in_eof;
	char *out;                   /* commands not yet sent */
	size_t out_len, out_cap;
	char reply[PUB_REPLY_BUF];   /* replies read, not yet parsed */
	size_t reply_len;
	struct resp_reader rd;
	uint64_t queued, acked;      /* lines queued as commands, and taken by Redis */
	int64_t waiting_since;       /* when the oldest unanswered wait began */
};

/* Says what went wrong, naming the target; returns the failure status. */
__attribute__((format(printf, 2, 3)))
static int pub_fail(const struct pub *p, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctl_warn("%s: %s", p->target, msg);
	return CTL_EXIT_FAIL;
}

/* The text of the target's address, for connect errors. */
static void pub_addr(const struct upurl *u, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%u", u->host, u->port);
}

/* Connects without a name lookup, waiting at most timeout_ms. */
static int pub_connect(struct pub *p)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	struct pollfd pfd;
	socklen_t sl = p->url->family == AF_INET ? sizeof(*v4) : sizeof(*v6);
	char addr[INET6_ADDRSTRLEN + 16];
	int err = 0;

	pub_addr(p->url, addr, sizeof(addr));
	ss.ss_family = (sa_family_t)p->url->family;
	if (p->url->family == AF_INET) {
		v4->sin_addr = p->url->addr.v4;
		v4->sin_port = htons(p->url->port);
	} else {
		v6->sin6_addr = p->url->addr.v6;
		v6->sin6_port = htons(p->url->port);
	}
	p->fd = socket(p->url->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		return pub_fail(p, "socket: %s", strerror(errno));
	if (connect(p->fd, (struct sockaddr *)&ss, sl) == 0)
		return CTL_EXIT_OK;
	if (errno != EINPROGRESS)
		return pub_fail(p, "connect to %s: %s", addr, strerror(errno));
	pfd = (struct pollfd){ .fd = p->fd, .events = POLLOUT };
	if (poll(&pfd, 1, (int)p->timeout_ms) == 0)
		return pub_fail(p, "connect to %s: no answer within %lld ms", addr,
				(long long)p->timeout_ms);
	sl = sizeof(err);
	getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
	if (err)
		return pub_fail(p, "connect to %s: %s", addr, strerror(err));
	return CTL_EXIT_OK;
}

/* Makes room for `need` more bytes in a buffer, growing it as needed. */
static int pub_room(char **buf, size_t len, size_t *cap, size_t need)
{
	size_t want = *cap ? *cap : PUB_IN_CHUNK;
	char *nb;

	while (want - len < need)
		want *= 2;
	if (want == *cap)
		return 0;
	nb = pc_realloc(*buf, want);
	if (!nb)
		return -1;
	*buf = nb;
	*cap = want;
	return 0;
}

/* Appends one XADD for a line to the commands to send. */
static int pub_queue_line(struct pub *p, const char *line, size_t n)
{
	size_t need = resp_cmd_xadd(NULL, 0, p->url->key, strlen(p->url->key), p->maxlen,
				    line, n);

	if (pub_room(&p->out, p->out_len, &p->out_cap, need) < 0)
		return pub_fail(p, "out of memory");
	resp_cmd_xadd(p->out + p->out_len, need, p->url->key, strlen(p->url->key),
		      p->maxlen, line, n);
	p->out_len += need;
	p->queued++;
	return CTL_EXIT_OK;
}

/* Turns the complete lines read so far into commands, while the number
 * of unanswered commands and the bytes waiting to be sent allow. */
static int pub_queue(struct pub *p)
{
	size_t off = 0;
	int rc = CTL_EXIT_OK;

	while (rc == CTL_EXIT_OK && p->queued - p->acked < PUB_INFLIGHT_MAX &&
	       p->out_len < PUB_OUT_HIGH && off < p->in_len) {
		char *nl = memchr(p->in + off, '\n', p->in_len - off);
		size_t n = nl ? (size_t)(nl - (p->in + off)) : p->in_len - off;

		if (!nl && !p->in_eof)
			break;
		rc = pub_queue_line(p, p->in + off, n);
		off += n + (nl != NULL);
	}
	if (off) {
		memmove(p->in, p->in + off, p->in_len - off);
		p->in_len -= off;
	}
	return rc;
}

/* Reads what standard input has; a line may not outgrow PUB_LINE_MAX. */
static int pub_read_stdin(struct pub *p)
{
	ssize_t n;

	if (p->in_len == p->in_cap && p->in_cap >= PUB_LINE_MAX)
		return pub_fail(p, "a line of standard input is longer than %u MiB",
				PUB_LINE_MAX >> 20);
	if (pub_room(&p->in, p->in_len, &p->in_cap, p->in_len < p->in_cap ? 1 : p->in_cap) < 0)
		return pub_fail(p, "out of memory");
	n = read(STDIN_FILENO, p->in + p->in_len, p->in_cap - p->in_len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return CTL_EXIT_OK;
	if (n < 0)
		return pub_fail(p, "standard input: %s", strerror(errno));
	p->in_len += (size_t)n;
	p->in_eof = n == 0;
	return CTL_EXIT_OK;
}

/* Sends what it can of the queued commands. */
static int pub_send(struct pub *p)
{
	ssize_t n = send(p->fd, p->out, p->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return CTL_EXIT_OK;
	if (n < 0)
		return pub_fail(p, "sending to Redis: %s (%llu lines taken)", strerror(errno),
				(unsigned long long)p->acked);
	memmove(p->out, p->out + n, p->out_len - (size_t)n);
	p->out_len -= (size_t)n;
	return CTL_EXIT_OK;
}

/* Takes the complete replies: an entry id for each line, or an error. */
static int pub_replies(struct pub *p)
{
	struct resp_elem el;
	enum resp_status st;

	while ((st = resp_next(&p->rd, p->reply, p->reply_len, &el)) == RESP_OK) {
		if (el.type == RESP_ERROR)
			return pub_fail(p, "XADD: %.*s (%llu lines taken)", (int)el.len, el.str,
					(unsigned long long)p->acked);
		if (el.type != RESP_BULK || !el.last || p->acked == p->queued)
			return pub_fail(p, "unexpected reply from Redis (%llu lines taken)",
					(unsigned long long)p->acked);
		p->acked++;
	}
	if (st != RESP_MORE)
		return pub_fail(p, "malformed reply from Redis (%llu lines taken)",
				(unsigned long long)p->acked);
	memmove(p->reply, p->reply + p->rd.pos, p->reply_len - p->rd.pos);
	p->reply_len -= p->rd.pos;
	resp_reader_shift(&p->rd, p->rd.pos);
	return CTL_EXIT_OK;
}

/* Reads replies; the connection's end is an error while lines are due. */
static int pub_recv(struct pub *p)
{
	ssize_t n = recv(p->fd, p->reply + p->reply_len, sizeof(p->reply) - p->reply_len,
			 MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return CTL_EXIT_OK;
	if (n < 0)
		return pub_fail(p, "reading from Redis: %s (%llu lines taken)", strerror(errno),
				(unsigned long long)p->acked);
	if (n == 0)
		return pub_fail(p, "Redis closed the connection (%llu lines taken)",
				(unsigned long long)p->acked);
	p->reply_len += (size_t)n;
	p->waiting_since = ctl_now_ms();
	return pub_replies(p);
}

/* True when every line was read, sent and taken. */
static bool pub_done(const struct pub *p)
{
	return p->in_eof && p->in_len == 0 && p->out_len == 0 && p->acked == p->queued;
}

/* One wait for standard input, room to send, or replies. */
static int pub_wait(struct pub *p)
{
	bool waiting = p->out_len > 0 || p->acked < p->queued;
	bool want_in = !p->in_eof && p->queued - p->acked < PUB_INFLIGHT_MAX &&
		       p->out_len < PUB_OUT_HIGH;
	struct pollfd pfd[2] = {
		{ .fd = want_in ? STDIN_FILENO : -1, .events = POLLIN },
		{ .fd = p->fd, .events = POLLIN | (p->out_len ? POLLOUT : 0) },
	};
	int64_t left = p->waiting_since + p->timeout_ms - ctl_now_ms();
	int n, rc = CTL_EXIT_OK;

	n = poll(pfd, 2, waiting ? (int)(left > 0 ? left : 0) : -1);
	if (!waiting)   /* the wait for replies starts when there are some */
		p->waiting_since = ctl_now_ms();
	if (n < 0 && errno != EINTR)
		return pub_fail(p, "poll: %s", strerror(errno));
	if (n == 0 && waiting)
		return pub_fail(p, "Redis has not answered for %lld ms (%llu lines taken)",
				(long long)p->timeout_ms, (unsigned long long)p->acked);
	if (n > 0 && pfd[1].revents & (POLLIN | POLLERR | POLLHUP))
		rc = pub_recv(p);
	if (rc == CTL_EXIT_OK && n > 0 && pfd[1].revents & POLLOUT)
		rc = pub_send(p);
	if (rc == CTL_EXIT_OK && n > 0 && pfd[0].revents)
		rc = pub_read_stdin(p);
	return rc;
}

/* Publishes standard input (see the top of this file). */
int publish_run(const char *target, const struct upurl *url, uint64_t maxlen,
		int64_t timeout_ms)
{
	static const struct resp_limits lim = {
		.max_bulk = 64, .max_line = 4096, .max_array = 16, .max_depth = 2,
	};
	struct pub *p = pc_calloc(1, sizeof(*p));
	int rc;

	if (!p) {
		ctl_warn("out of memory");
		return CTL_EXIT_FAIL;
	}
	p->target = target;
	p->url = url;
	p->maxlen = maxlen;
	p->timeout_ms = timeout_ms;
	p->fd = -1;
	resp_reader_init(&p->rd, &lim);
	rc = pub_connect(p);
	while (rc == CTL_EXIT_OK && !pub_done(p)) {
		rc = pub_queue(p);
		if (rc == CTL_EXIT_OK && !pub_done(p))
			rc = pub_wait(p);
	}
	if (p->fd >= 0)
		close(p->fd);
	pc_free(p->in);
	pc_free(p->out);
	pc_free(p);
	return rc;
}

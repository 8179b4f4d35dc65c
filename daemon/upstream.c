/* upstream.c: the connection of an upstream source, [source] input =
 * sse:http://HOST:PORT/PATH or redis:HOST:PORT/KEY (pipecast.conf(5),
 * "Upstream sources"). One non-blocking TCP connection in the daemon's
 * loop and ONE embedded timer (show timers kind upstream) for each of its
 * deadlines in turn: the connect timeout (until the kind's handshake is
 * over: an HTTP response head, or Redis' epoch and start position),
 * [source] idle_timeout while streaming, and the reconnect backoff. What
 * flows over it is the kind's business (upsse.c, upredis.c). The read
 * buffer is allocated once, at start: nothing is allocated per record. */
#include "upstream.h"
#include "alloc.h"
#include "compat.h"
#include "counters.h"
#include "daemon.h"
#include "fanout.h"
#include "log.h"
#include "timers.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UP_CONNECT_TIMEOUT_S 10.0              /* connect and handshake */
#define UP_OUT_MAX           8192              /* requests not yet written */
#define UP_LONG_RUN_NS       (10LL * 1000000000) /* a connection this long resets the backoff */
#define UP_BACKOFF_CAP_MS    (30 * 1000)

/* Where the connection is in its life. */
enum up_phase {
	UP_WAIT,       /* closed; the timer counts down the backoff */
	UP_CONNECT,    /* connect() in progress */
	UP_HANDSHAKE,  /* connected; the kind's handshake (head, epoch...) */
	UP_STREAM,     /* records flow */
	UP_STOPPED,
};

static struct {
	ev_io io;
	ev_timer timer;          /* the one timer: connect, idle, backoff */
	const struct upstream_kind *kind;
	struct upurl url;
	int fd;
	int events;              /* what io watches */
	enum up_phase phase;
	char *buf;               /* bytes read, not yet consumed by the kind */
	size_t cap, len;
	char out[UP_OUT_MAX];    /* bytes for the upstream, not yet written */
	size_t out_len, out_off;
	int64_t last_data;       /* the last bytes from the upstream */
	int64_t opened;          /* when the stream began */
	uint64_t delay_ms;       /* the next reconnect delay (backoff) */
	bool silent;             /* this silent spell was already acted upon */
} up = { .fd = -1 };

/* Closes the connection, if any. */
static void upstream_close(void)
{
	ev_io_stop(loop, &up.io);
	if (up.fd >= 0)
		close(up.fd);
	up.fd = -1;
	up.events = 0;
	up.len = 0;
	up.out_len = up.out_off = 0;
}

/* Watches the socket for these events (no change: no libev call). */
static void upstream_watch(int events)
{
	if (events == up.events && ev_is_active(&up.io))
		return;
	ev_io_stop(loop, &up.io);
	ev_io_set(&up.io, up.fd, events);
	ev_io_start(loop, &up.io);
	up.events = events;
}

/* The input value, for log lines. */
const char *upstream_name(void)
{
	return conf->source.input_arg;
}

/* The connection failed or ended: try again after the backoff, which
 * doubles after each short-lived connection as for commands. */
void upstream_retry(const char *why)
{
	uint64_t cap = conf->source.restart_delay_ms > UP_BACKOFF_CAP_MS ?
		       conf->source.restart_delay_ms : UP_BACKOFF_CAP_MS;
	uint64_t delay;

	fanout_flush();
	if (up.phase == UP_STREAM && mono_ns() - up.opened >= UP_LONG_RUN_NS)
		up.delay_ms = conf->source.restart_delay_ms;
	upstream_close();
	delay = up.delay_ms;
	up.delay_ms = delay * 2 < cap ? delay * 2 : cap;
	up.phase = UP_WAIT;
	log_notice("upstream %s: %s; reconnecting in %.3f s", upstream_name(), why,
		   delay / 1e3);
	timer_arm(TK_UPSTREAM, &up.timer, delay / 1e3);
}

/* The upstream ended a stream that was flowing: on_eof decides. */
void upstream_ended(const char *why)
{
	fanout_flush();
	if (up.phase == UP_STREAM && conf->source.on_eof == ON_EOF_EXIT) {
		log_notice("upstream %s: %s", upstream_name(), why);
		upstream_close();
		up.phase = UP_STOPPED;
		timer_disarm(TK_UPSTREAM, &up.timer);
		daemon_stop("the upstream closed");
		return;
	}
	upstream_retry(why);
}

/* Writes what is queued; watches for writability while some is left.
 * False after giving the connection up. */
static bool upstream_flush_out(void)
{
	while (up.out_off < up.out_len) {
		ssize_t n = write(up.fd, up.out + up.out_off, up.out_len - up.out_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			upstream_retry(strerror(errno));
			return false;
		}
		up.out_off += (size_t)n;
	}
	if (up.out_off == up.out_len)
		up.out_off = up.out_len = 0;
	upstream_watch(up.out_len ? EV_READ | EV_WRITE : EV_READ);
	return true;
}

/* Queues a request (see upstream.h). */
bool upstream_send(const char *p, size_t n)
{
	if (up.out_off > 0) {
		memmove(up.out, up.out + up.out_off, up.out_len - up.out_off);
		up.out_len -= up.out_off;
		up.out_off = 0;
	}
	if (n > sizeof(up.out) - up.out_len) {
		upstream_retry("a request does not fit the output buffer");
		return false;
	}
	memcpy(up.out + up.out_len, p, n);
	up.out_len += n;
	return upstream_flush_out();
}

/* The handshake is over: the timer turns to idle_timeout. */
void upstream_streaming(const char *detail)
{
	up.phase = UP_STREAM;
	up.opened = up.last_data = mono_ns();
	up.silent = false;
	log_notice("upstream %s: streaming%s", upstream_name(), detail);
	if (conf->source.idle_timeout_ms)
		timer_arm(TK_UPSTREAM, &up.timer, conf->source.idle_timeout_ms / 1e3);
	else
		timer_disarm(TK_UPSTREAM, &up.timer);
}

/* A long handshake moved on (a Redis edge's backlog scan, reply after
 * reply): its timeout starts again. */
void upstream_handshake_progress(void)
{
	if (up.phase == UP_HANDSHAKE)
		timer_arm(TK_UPSTREAM, &up.timer, UP_CONNECT_TIMEOUT_S);
}

/* True while records flow on this connection. */
bool upstream_is_streaming(void)
{
	return up.phase == UP_STREAM;
}

/* A read buffer that the kind left full holds something larger than it
 * allows: the connection cannot go on. */
static bool upstream_consume(void)
{
	if (!up.kind->input(up.buf, &up.len))
		return false;
	if (up.len == up.cap) {
		upstream_retry("a reply larger than the read buffer");
		return false;
	}
	return true;
}

/* Reads what the upstream sent, at most a quarter of the ring per turn of
 * the loop, then lets clients write it all in one go. */
static void upstream_read(void)
{
	size_t budget = conf->clients.buffer / 4, got = 0;
	ssize_t n;

	while (got < budget) {
		n = read(up.fd, up.buf + up.len, up.cap - up.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			upstream_ended(n == 0 ? "closed by the upstream" : strerror(errno));
			return;
		}
		got += (size_t)n;
		up.len += (size_t)n;
		counters.source_bytes_total += (uint64_t)n;
		if (!upstream_consume())
			return;
	}
	up.last_data = mono_ns();
	if (up.silent) {
		up.silent = false;
		if (conf->source.idle_timeout_ms)
			timer_arm(TK_UPSTREAM, &up.timer, conf->source.idle_timeout_ms / 1e3);
	}
	fanout_flush();
}

/* connect() finished: on success the kind begins its handshake. */
static void upstream_connected(void)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(up.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
		upstream_retry(strerror(err ? err : errno));
		return;
	}
	up.phase = UP_HANDSHAKE;
	upstream_watch(EV_READ);
	up.kind->connected();
}

/* The one I/O watcher: connect completion, then writes and reads. */
static void upstream_io_cb(__unused struct ev_loop *l, __unused ev_io *w, int revents)
{
	if (up.phase == UP_CONNECT) {
		upstream_connected();
		return;
	}
	if ((revents & EV_WRITE) && !upstream_flush_out())
		return;
	if ((revents & EV_READ) && (up.phase == UP_HANDSHAKE || up.phase == UP_STREAM))
		upstream_read();
}

/* The socket address of the upstream. */
static socklen_t upstream_addr(struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (up.url.family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(up.url.port);
		a->sin6_addr = up.url.addr.v6;
		return sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(up.url.port);
		a->sin_addr = up.url.addr.v4;
		return sizeof(*a);
	}
}

/* Starts a non-blocking connect; its timeout covers the handshake. */
static void upstream_connect(void)
{
	struct sockaddr_storage ss;
	socklen_t sl = upstream_addr(&ss);
	static const int one = 1;

	up.phase = UP_CONNECT;
	up.fd = socket(up.url.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (up.fd < 0) {
		upstream_retry(strerror(errno));
		return;
	}
	(void)setsockopt(up.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(up.fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		upstream_retry(strerror(errno));
		return;
	}
	upstream_watch(EV_WRITE);
	timer_arm(TK_UPSTREAM, &up.timer, UP_CONNECT_TIMEOUT_S);
}

/* The stream has been silent for idle_timeout: on_idle decides, once per
 * silent spell. */
static void upstream_idle(int64_t quiet)
{
	log_notice("upstream %s: silent for %.3f s", upstream_name(), NS_TO_S(quiet));
	switch (conf->source.on_idle) {
	case ON_IDLE_LOG:
		up.silent = true;
		timer_disarm(TK_UPSTREAM, &up.timer);
		break;
	case ON_IDLE_EXIT:
		up.silent = true;
		timer_disarm(TK_UPSTREAM, &up.timer);
		daemon_stop("the upstream is silent");
		break;
	case ON_IDLE_RESTART:
		upstream_retry("silent");
		break;
	}
}

/* While streaming: acts on a passed idle deadline, or sleeps until it. */
static void upstream_idle_check(void)
{
	int64_t limit = MS_TO_NS(conf->source.idle_timeout_ms);
	int64_t quiet = mono_ns() - up.last_data;

	if (limit == 0)
		timer_disarm(TK_UPSTREAM, &up.timer);
	else if (quiet < limit)
		timer_arm(TK_UPSTREAM, &up.timer, NS_TO_S(limit - quiet));
	else
		upstream_idle(quiet);
}

/* The one timer: the backoff is over, the connect or the handshake took
 * too long, or the idle deadline came. */
static void upstream_timer_cb(__unused struct ev_loop *l, ev_timer *w, __unused int revents)
{
	timer_fired(TK_UPSTREAM, w);
	switch (up.phase) {
	case UP_WAIT:
		timer_disarm(TK_UPSTREAM, w);
		counters.source_restarts_total++;
		upstream_connect();
		break;
	case UP_CONNECT:
	case UP_HANDSHAKE:
		upstream_retry("no answer within the connect timeout");
		break;
	case UP_STREAM:
		upstream_idle_check();
		break;
	case UP_STOPPED:
		timer_disarm(TK_UPSTREAM, w);
		break;
	}
}

/* Parses the input, lets the kind allocate, allocates the read buffer
 * once and makes the first connection. */
int upstream_open(void)
{
	const char *why;

	if (upurl_parse(conf->source.input_arg, &up.url, &why) < 0) {
		log_error("source %s: %s", conf->source.input_arg, why);
		return -1;
	}
	up.kind = up.url.kind == UPURL_REDIS ? &upredis_kind : &upsse_kind;
	if ((up.cap = up.kind->open(&up.url)) == 0)
		return -1;
	if ((up.buf = pc_malloc(up.cap)) == NULL) {
		log_error("source: out of memory");
		return -1;
	}
	timer_setup(TK_UPSTREAM, &up.timer, upstream_timer_cb);
	ev_init(&up.io, upstream_io_cb);
	up.delay_ms = conf->source.restart_delay_ms;
	up.last_data = mono_ns();
	upstream_connect();
	return 0;
}

/* Graceful stop: the connection closes, nothing reconnects. */
void upstream_stop(void)
{
	upstream_close();
	up.phase = UP_STOPPED;
	timer_disarm(TK_UPSTREAM, &up.timer);
}

/* Takes a new idle_timeout or restart_delay into account. */
void upstream_apply_config(void)
{
	if (up.phase != UP_STREAM)
		return;
	up.silent = false;
	upstream_idle_check();
}

/* Exit: the connection and the buffers. */
void upstream_free(void)
{
	upstream_stop();
	if (up.kind && up.kind->free)
		up.kind->free();
	pc_free(up.buf);
	up.buf = NULL;
}

/* How long the upstream has been silent. */
double upstream_idle_seconds(void)
{
	return NS_TO_S(mono_ns() - up.last_data);
}

/* source_state: open while streaming, restarting while (re)connecting,
 * closed once stopped (pipecastd(8)). */
const char *upstream_state_name(void)
{
	static const char *const names[] = {
		[UP_WAIT] = "restarting", [UP_CONNECT] = "restarting",
		[UP_HANDSHAKE] = "restarting", [UP_STREAM] = "open", [UP_STOPPED] = "closed",
	};

	return names[up.phase];
}

/* upstream.c: an upstream source, [source] input = sse:http://HOST:PORT/PATH
 * (pipecast.conf(5), "Upstream sources"): another pipecastd's /events, or
 * any SSE server's. One non-blocking TCP connection in the daemon's loop
 * and ONE embedded timer (show timers kind upstream) for each of its
 * deadlines in turn: the connect timeout (until the response head is
 * read), [source] idle_timeout while streaming, and the reconnect backoff.
 * Each event becomes one record that keeps its upstream id; a reconnect
 * resumes with Last-Event-ID. The read buffer and the event buffer are
 * allocated once, at start: nothing is allocated per record. */
#include "upstream.h"
#include "alloc.h"
#include "chunked.h"
#include "compat.h"
#include "counters.h"
#include "daemon.h"
#include "eventid.h"
#include "fanout.h"
#include "httpresp.h"
#include "log.h"
#include "sseparse.h"
#include "timers.h"
#include "upurl.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UP_CONNECT_TIMEOUT_S 10.0              /* connect and response head */
#define UP_HEAD_MAX          (16 * 1024)       /* a longer head is refused */
#define UP_READ_BUF          (64 * 1024)
#define UP_LONG_RUN_NS       (10LL * 1000000000) /* a connection this long resets the backoff */
#define UP_BACKOFF_CAP_MS    (30 * 1000)

/* Where the connection is in its life. */
enum up_phase {
	UP_WAIT,       /* closed; the timer counts down the backoff */
	UP_CONNECT,    /* connect() in progress, then the request is written */
	UP_HEAD,       /* reading the response head */
	UP_BODY,       /* streaming events */
	UP_STOPPED,
};

static struct {
	ev_io io;
	ev_timer timer;          /* the one timer: connect, idle, backoff */
	struct upurl url;
	int fd;
	enum up_phase phase;
	char *buf;               /* UP_READ_BUF bytes: the head, then body bytes */
	size_t len;
	char *event;             /* an event's data and its '\n': max_line bytes */
	struct httpresp resp;
	struct chunked chunked;
	bool chunked_on;
	struct sseparse parser;
	char req[UPURL_PATH_MAX + UPURL_LAST_ID_MAX + 512];
	size_t req_len, req_off;
	int64_t last_data;       /* the last bytes from the upstream */
	int64_t opened;          /* when the stream's head was read */
	uint64_t delay_ms;       /* the next reconnect delay (backoff) */
	uint64_t dropped;        /* oversized events already logged */
	bool silent;             /* this silent spell was already acted upon */
} up = { .fd = -1 };

static void upstream_connect(void);

/* Closes the connection, if any. */
static void upstream_close(void)
{
	ev_io_stop(loop, &up.io);
	if (up.fd >= 0)
		close(up.fd);
	up.fd = -1;
	up.len = 0;
}

/* Watches the socket for one kind of event. */
static void upstream_watch(int events)
{
	ev_io_stop(loop, &up.io);
	ev_io_set(&up.io, up.fd, events);
	ev_io_start(loop, &up.io);
}

/* The connection failed or ended: try again after the backoff, which
 * doubles after each short-lived connection as for commands. */
static void upstream_retry(const char *why)
{
	uint64_t cap = conf->source.restart_delay_ms > UP_BACKOFF_CAP_MS ?
		       conf->source.restart_delay_ms : UP_BACKOFF_CAP_MS;
	uint64_t delay;

	if (up.phase == UP_BODY && mono_ns() - up.opened >= UP_LONG_RUN_NS)
		up.delay_ms = conf->source.restart_delay_ms;
	upstream_close();
	delay = up.delay_ms;
	up.delay_ms = delay * 2 < cap ? delay * 2 : cap;
	up.phase = UP_WAIT;
	log_notice("upstream %s: %s; reconnecting in %.3f s", conf->source.input_arg, why,
		   delay / 1e3);
	timer_arm(TK_UPSTREAM, &up.timer, delay / 1e3);
}

/* The upstream ended a stream that was flowing: on_eof decides. */
static void upstream_ended(const char *why)
{
	fanout_flush();
	if (up.phase == UP_BODY && conf->source.on_eof == ON_EOF_EXIT) {
		log_notice("upstream %s: %s", conf->source.input_arg, why);
		upstream_close();
		up.phase = UP_STOPPED;
		timer_disarm(TK_UPSTREAM, &up.timer);
		daemon_stop("the upstream closed");
		return;
	}
	upstream_retry(why);
}

/* One event of the upstream: a gap notice passed on, or a record that
 * keeps the upstream's id (one of this node's epoch when it has none of
 * the form EPOCH-SEQ). The data lies in up.event, with room for '\n'. */
static void upstream_event(const struct sse_event *ev)
{
	struct eventid id;
	int64_t missed;

	if (ev->type_len == 3 && memcmp(ev->type, "gap", 3) == 0 &&
	    sseparse_gap(ev->data, ev->len, &missed) == 0) {
		log_notice("upstream %s: gap notice (missed %lld)", conf->source.input_arg,
			   (long long)missed);
		fanout_gap(missed >= 0, missed >= 0 ? (uint64_t)missed : 0);
		return;
	}
	up.event[ev->len] = '\n';
	if (ev->has_id && eventid_parse(ev->id, ev->id_len, &id) == 0) {
		if (!fanout_append_id(up.event, ev->len + 1, id.epoch, id.seq))
			return;
	} else {
		fanout_append_own(up.event, ev->len + 1);
	}
	counters.source_records_total++;
}

/* Hands body bytes to the event parser. */
static void upstream_feed(const char *p, size_t n)
{
	struct sse_event ev;
	size_t used;

	while (n > 0) {
		switch (sseparse_feed(&up.parser, p, n, &used, &ev)) {
		case SSEPARSE_EVENT:
			upstream_event(&ev);
			break;
		case SSEPARSE_DROPPED:
			log_warning("upstream %s: an event longer than max_line (%llu) dropped",
				    conf->source.input_arg,
				    (unsigned long long)conf->source.max_line);
			break;
		case SSEPARSE_MORE:
			break;
		}
		p += used;
		n -= used;
	}
}

/* The body bytes read so far: decoded from chunked coding when the
 * response uses it, then parsed. Returns false when the stream ended. */
static bool upstream_body(void)
{
	size_t out = up.len, used = up.len;
	enum chunked_status st = CHUNKED_MORE;

	if (up.chunked_on)
		st = chunked_decode(&up.chunked, up.buf, up.len, &out, &used);
	upstream_feed(up.buf, out);
	up.len = 0;
	if (st == CHUNKED_ERROR) {
		upstream_retry(up.chunked.err);
		return false;
	}
	if (st == CHUNKED_END) {
		upstream_ended("the stream ended");
		return false;
	}
	return true;
}

/* The whole head is read: a 200 event stream starts the records. */
static bool upstream_head_done(void)
{
	char why[64];

	if (up.resp.status != 200 || !up.resp.event_stream) {
		if (up.resp.status != 200)
			snprintf(why, sizeof(why), "answered %d", up.resp.status);
		else
			snprintf(why, sizeof(why), "answered with no text/event-stream");
		upstream_retry(why);
		return false;
	}
	up.len -= up.resp.head_len;
	memmove(up.buf, up.buf + up.resp.head_len, up.len);
	up.chunked_on = up.resp.chunked;
	chunked_init(&up.chunked);
	sseparse_restart(&up.parser);
	up.phase = UP_BODY;
	up.opened = up.last_data = mono_ns();
	up.silent = false;
	log_notice("upstream %s: streaming%s%.*s", conf->source.input_arg,
		   up.parser.last_id_len ? ", resuming after " : "",
		   (int)up.parser.last_id_len, up.parser.last_id);
	if (conf->source.idle_timeout_ms)
		timer_arm(TK_UPSTREAM, &up.timer, conf->source.idle_timeout_ms / 1e3);
	else
		timer_disarm(TK_UPSTREAM, &up.timer);
	return true;
}

/* Looks for the end of the response head in what was read. */
static bool upstream_head(void)
{
	const char *err;

	switch (httpresp_parse(&up.resp, up.buf, up.len, UP_HEAD_MAX, &err)) {
	case HTTPRESP_MORE:
		return true;
	case HTTPRESP_ERROR:
		upstream_retry(err);
		return false;
	case HTTPRESP_OK:
		break;
	}
	return upstream_head_done() && upstream_body();
}

/* Reads what the upstream sent, at most a quarter of the ring per turn of
 * the loop, then lets clients write it all in one go. */
static void upstream_read(void)
{
	size_t budget = conf->clients.buffer / 4, got = 0;
	ssize_t n;

	while (got < budget) {
		n = read(up.fd, up.buf + up.len, UP_READ_BUF - up.len);
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
		if (!(up.phase == UP_HEAD ? upstream_head() : upstream_body()))
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

/* connect() finished: on success the request goes out (small: one write
 * into an empty socket buffer, continued on the next writability if not). */
static void upstream_send_request(void)
{
	int err = 0;
	socklen_t len = sizeof(err);
	ssize_t n;

	if (up.req_off == 0 &&
	    (getsockopt(up.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0)) {
		upstream_retry(strerror(err ? err : errno));
		return;
	}
	n = write(up.fd, up.req + up.req_off, up.req_len - up.req_off);
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		upstream_retry(strerror(errno));
		return;
	}
	up.req_off += n > 0 ? (size_t)n : 0;
	if (up.req_off < up.req_len)
		return;
	up.phase = UP_HEAD;
	httpresp_init(&up.resp);
	upstream_watch(EV_READ);
}

/* The one I/O watcher: connect completion and the request, then reads. */
static void upstream_io_cb(__unused struct ev_loop *l, __unused ev_io *w, __unused int revents)
{
	if (up.phase == UP_CONNECT)
		upstream_send_request();
	else if (up.phase == UP_HEAD || up.phase == UP_BODY)
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

/* Starts a non-blocking connect; its timeout covers the response head. */
static void upstream_connect(void)
{
	struct sockaddr_storage ss;
	socklen_t sl = upstream_addr(&ss);
	static const int one = 1;

	up.req_len = upurl_sse_request(&up.url, up.parser.last_id, up.parser.last_id_len,
				       up.req, sizeof(up.req));
	up.req_off = 0;
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
	log_notice("upstream %s: silent for %.3f s", conf->source.input_arg, NS_TO_S(quiet));
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

/* The one timer: the backoff is over, the connect or the head took too
 * long, or the idle deadline came. */
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
	case UP_HEAD:
		upstream_retry("no answer within the connect timeout");
		break;
	case UP_BODY:
		upstream_idle_check();
		break;
	case UP_STOPPED:
		timer_disarm(TK_UPSTREAM, w);
		break;
	}
}

/* Allocates the buffers once and makes the first connection. */
int upstream_open(void)
{
	const char *why;

	if (upurl_parse(conf->source.input_arg, &up.url, &why) < 0) {
		log_error("source %s: %s", conf->source.input_arg, why);
		return -1;
	}
	if (up.url.kind != UPURL_SSE) {
		log_error("source %s: redis: sources are not supported by this version",
			  conf->source.input_arg);
		return -1;
	}
	up.buf = pc_malloc(UP_READ_BUF);
	up.event = pc_malloc(conf->source.max_line);
	if (!up.buf || !up.event) {
		log_error("source: out of memory");
		return -1;
	}
	sseparse_init(&up.parser, up.event, conf->source.max_line - 1);
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
	if (up.phase != UP_BODY)
		return;
	up.silent = false;
	upstream_idle_check();
}

/* Exit: the connection and the buffers. */
void upstream_free(void)
{
	upstream_stop();
	pc_free(up.buf);
	pc_free(up.event);
	up.buf = up.event = NULL;
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
		[UP_HEAD] = "restarting", [UP_BODY] = "open", [UP_STOPPED] = "closed",
	};

	return names[up.phase];
}

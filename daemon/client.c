/* client.c: connections, from accept to close (pipecastd(8)): accepted ->
 * (PROXY header) -> (AUTH line, or HTTP request head) -> streaming ->
 * closing, each stage one more deadline of the connection's one timer. A
 * connection is on one of four lists: waiting (not streaming yet: a PROXY
 * header, an AUTH line or a request head to read, an HTTP answer to write),
 * live (caught up with its ring's head), pending (output waiting for its
 * socket, write watcher running) or dead (closed, freed at the next safe
 * point). Raw connections are clients from their accept; HTTP ones only
 * once they stream. */
#include "client.h"
#include "access.h"
#include "compat.h"
#include "alloc.h"
#include "closedlog.h"
#include "cursor.h"
#include "daemon.h"
#include "deadline.h"
#include "fanout.h"
#include "http.h"
#include "httpd.h"
#include "list.h"
#include "log.h"
#include "net.h"
#include "pool.h"
#include "proxyproto.h"
#include "sbuf.h"
#include "sse.h"
#include "statfmt.h"
#include "timers.h"
#include "websocket.h"
#include "tokens.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Where a connection is in its life, in order; every phase before
 * PH_STREAM has a hard deadline (dl.by). */
enum client_phase {
	PH_PROXY,     /* a trusted proxy's PROXY header (auth_timeout) */
	PH_AUTH,      /* raw: the AUTH line (auth_timeout) */
	PH_HEAD,      /* HTTP: reading the request head (request_timeout) */
	PH_ANSWER,    /* HTTP: writing an answer, then closing */
	PH_STREAM,    /* a client: raw, or an event stream */
};

#define GATE_BUF 1024   /* raw: a PROXY header's needed part, or an AUTH line */

/* The lists a connection is on (see above). */
enum client_list_id { L_WAITING, L_LIVE, L_PENDING, L_DEAD, L_COUNT };

/* What an event stream keeps inline, where a raw client has its cursor
 * (their cursors are out of line). */
struct client_stream {
	int64_t last_sent;       /* last byte sent, for the keepalive */
	uint64_t skipped;
};

/* One connection: what every idle client needs, and nothing more (200
 * bytes, in a pool: no heap header; pipecastd --sizes). What only some
 * connections need, or only for a while, is out of line behind io.data
 * (libev leaves a watcher's data to its user): before streaming a struct
 * client_gate; a raw client's struct client_raw once it has a preamble to
 * finish or has skipped; an event stream's struct client_sse or struct
 * client_ws. */
struct client {
	TAILQ_ENTRY(client) entry;
	ev_io io;                /* reads always (discarded, but activity); also
				  * writability while output is pending; fd
				  * is io.fd; data: the out-of-line part */
	ev_timer timer;          /* the one timer: every deadline of its life */
	uint64_t id : 48;        /* 2^48 connections: centuries at 10,000/s */
	enum client_proto proto : 2;
	enum client_phase phase : 3;
	enum client_list_id list : 3;
	bool http : 1;           /* from an HTTP listener */
	bool client : 1;         /* counted in clients_connected, listed, closed
				  * with a reason: raw from its accept, HTTP
				  * once it streams */
	bool draining : 1;       /* graceful stop: close once caught up */
	bool closed : 1;
	bool tcp : 1;
	bool eof : 1;            /* the peer half-closed: it sends nothing more,
				  * but still receives (pipecast.conf(5)) */
	bool ws_shut : 1;        /* ws: our close frame is out, write side shut */
	uint64_t sent;
	int64_t created;
	int64_t last_activity;   /* last byte received (the idle deadline) */
	int64_t send_since;      /* pending output: when it began, or last progress */
	union {
		struct cursor cur;       /* raw: where this client is in the ring */
		struct client_stream st; /* sse, ws */
	};
	struct access_conn ac;   /* the peer's address (its name), its token */
};

/* Before streaming: what is read (a PROXY header, an AUTH line, a request
 * head), then an HTTP answer that is not a stream; freed when the
 * connection streams. */
struct client_gate {
	int64_t by;              /* the hard deadline of the phase */
	size_t len, max;         /* bytes held in buf, its size */
	size_t skip;             /* PROXY v2 bytes (TLVs) still to discard */
	struct sbuf answer;      /* HTTP: an answer that is not a stream */
	bool answered;           /* the answer is out; waiting for the peer's end */
	char buf[];
};

/* A raw client's rarely used parts: allocated when it starts with part of
 * the preamble due, or at its first skip. */
struct client_raw {
	uint64_t skipped;
	uint64_t pre_gen;        /* of the preamble in force at its start */
	uint32_t pre_len, pre_sent; /* the preamble it gets before the ring */
};

/* An SSE client's cursor (GET /events). */
struct client_sse {
	struct sse_cursor cur;   /* where it is in the SSE ring */
	char *head;              /* its response head until it is out */
};

/* A WebSocket client's protocol state (GET /ws). */
struct client_ws {
	struct websocket_conn conn; /* its ring, cursor and control frames */
	int64_t by;              /* the close handshake's deadline; 0 = none */
};

TAILQ_HEAD(client_list, client);
static struct client_list lists[L_COUNT] = {
	TAILQ_HEAD_INITIALIZER(lists[L_WAITING]), TAILQ_HEAD_INITIALIZER(lists[L_LIVE]),
	TAILQ_HEAD_INITIALIZER(lists[L_PENDING]), TAILQ_HEAD_INITIALIZER(lists[L_DEAD]),
};
/* The lists of open connections, for whoever visits them all (clients are
 * those with `client` set). */
static const enum client_list_id open_lists[] = { L_WAITING, L_LIVE, L_PENDING };
#define OPEN_LISTS (sizeof(open_lists) / sizeof(open_lists[0]))
static uint64_t next_id = 1;
/* Every connection's struct client, without a heap header each: blocks of
 * POOL_PER_BLOCK (lib/pool.c), counted as allocations for the clients. */
_Static_assert(sizeof(struct client) % 8 == 0, "a pool slot is exactly one client");
static struct pool client_pool = { .size = sizeof(struct client) };
static struct closedlog closed_log;   /* the last 100 closes, for show closed */

static const char *const proto_names[CLIENT_PROTO_COUNT] = {
	[CLIENT_RAW] = "raw", [CLIENT_SSE] = "sse", [CLIENT_WS] = "ws",
};

/* An SSE keepalive: a comment line (pipecast.conf(5), [http] keepalive). */
static const char keepalive_line[] = ":\n";

static void client_flush(struct client *c);
static void client_sse_advance(struct client *c, size_t n);

/* Ids are 48 bits wide (struct client). */
#define CLIENT_ID_MASK ((UINT64_C(1) << 48) - 1)

/* Moves a client between lists. */
static void client_move(struct client *c, enum client_list_id to)
{
	TAILQ_REMOVE(&lists[c->list], c, entry);
	TAILQ_INSERT_TAIL(&lists[to], c, entry);
	c->list = to;
}

/* The out-of-line part before streaming (never NULL then). */
static struct client_gate *client_gate(const struct client *c)
{
	return c->phase < PH_STREAM ? c->io.data : NULL;
}

/* A raw client's rare part, NULL until it needs one. */
static struct client_raw *client_raw(const struct client *c)
{
	return c->phase == PH_STREAM && c->proto == CLIENT_RAW ? c->io.data : NULL;
}

/* An SSE client's part. */
static struct client_sse *client_sse(const struct client *c)
{
	return c->io.data;
}

/* A WebSocket client's connection. */
static struct websocket_conn *client_ws(const struct client *c)
{
	return &((struct client_ws *)c->io.data)->conn;
}

/* A WebSocket client's close handshake deadline (0: none). */
static int64_t *client_ws_by(const struct client *c)
{
	return &((struct client_ws *)c->io.data)->by;
}

/* An event stream's keepalive clock and skip count; NULL for a raw client
 * or before streaming. */
static struct client_stream *client_stream(struct client *c)
{
	return c->phase == PH_STREAM && c->proto != CLIENT_RAW ? &c->st : NULL;
}

/* A zeroed out-of-line part of a connection (a raw client's rare part,
 * an event stream's), counted for the clients; NULL when memory is out. */
static void *client_part_alloc(size_t size)
{
	enum alloc_owner was = alloc_owner_set(ALLOC_CLIENTS);
	void *x = pc_calloc(1, size);

	alloc_owner_set(was);
	return x;
}

/* The raw client's rare part, allocated at its first need; NULL when
 * memory is out. */
static struct client_raw *client_raw_get(struct client *c)
{
	if (!c->io.data)
		c->io.data = client_part_alloc(sizeof(struct client_raw));
	return c->io.data;
}

/* The peer's name, "127.0.0.1:5555", "[::1]:5555" or "unix", into buf
 * (ACCESS_NAME_MAX bytes). */
static const char *client_name(const struct client *c, char *buf)
{
	return access_conn_name(&c->ac, buf);
}

/* The deadlines in force, gathered from where each lives. */
static struct deadline client_deadline_of(const struct client *c)
{
	const struct client_gate *g = client_gate(c);
	bool stream = c->phase == PH_STREAM && c->proto != CLIENT_RAW;
	struct deadline d = {
		.last_activity = c->last_activity, .send_since = c->send_since,
		.pending = c->list == L_PENDING,
		.by = g ? g->by : stream && c->proto == CLIENT_WS ? *client_ws_by(c) : 0,
		.last_sent = stream ? c->st.last_sent : c->created,
	};
	return d;
}

/* The timer kind of a connection: clients' timers are "client" ones. */
static enum timer_kind client_tk(const struct client *c)
{
	return c->client ? TK_CLIENT : TK_HTTP;
}

/* The configured deadlines, in nanoseconds; HTTP requests have only their
 * hard deadline (dl.by). */
static struct deadline_limits client_limits(const struct client *c)
{
	struct deadline_limits l = { 0, 0, 0 };

	if (!c->client)
		return l;
	l.idle_ns = MS_TO_NS(conf->clients.idle_timeout_ms);
	l.send_ns = MS_TO_NS(conf->clients.send_timeout_ms);
	if (c->proto != CLIENT_RAW)
		l.keepalive_ns = MS_TO_NS(conf->http.keepalive_ms);
	return l;
}

/* Arms the timer for the earliest deadline; with `exact` it may also move
 * later (after it fired, or on reload), otherwise only earlier. */
static void client_timer_update(struct client *c, bool exact)
{
	struct deadline_limits l = client_limits(c);
	struct deadline dl = client_deadline_of(c);
	int64_t due = deadline_due(&dl, &l);
	int64_t now = mono_ns();
	double left = timer_remaining(&c->timer);

	if (due == DEADLINE_NONE) {
		if (exact)
			timer_disarm(client_tk(c), &c->timer);
		return;
	}
	if (!exact && left >= 0 && !deadline_sooner(&dl, &l, now + (int64_t)(left * 1e9)))
		return;
	timer_arm(client_tk(c), &c->timer, NS_TO_S(due > now ? due - now : 0));
}

/* Stops watching and closes the socket. */
static void client_shut(struct client *c)
{
	c->closed = true;
	ev_io_stop(loop, &c->io);
	timer_disarm(client_tk(c), &c->timer);
	close(c->io.fd);
	ev_io_set(&c->io, -1, 0);
	access_release(&c->ac);
	client_move(c, L_DEAD);
}

/* Closes an HTTP connection that is not a client: nothing is counted. */
static void client_drop(struct client *c)
{
	if (!c->closed)
		client_shut(c);
}

/* [clients] notices: before a close the daemon decides, one line saying
 * why, when the socket has room (on a line of its own: after a newline if
 * a record was cut). */
static void client_close_notice(struct client *c, enum close_reason why)
{
	static const bool told[CLOSE_REASON_COUNT] = {
		[CLOSE_KILL] = true, [CLOSE_SHUTDOWN] = true, [CLOSE_OVERFLOW] = true,
	};
	const struct client_raw *x = client_raw(c);
	char line[NOTICE_PREFIX_MAX + 64];
	bool cut;
	int n;

	if (!conf->clients.notices || !told[why] || c->proto != CLIENT_RAW ||
	    c->phase != PH_STREAM)
		return;                 /* nothing to a client not let in yet */
	cut = cursor_mid_record(&c->cur) || (x && x->pre_sent < x->pre_len);
	n = snprintf(line, sizeof(line), "%s%sclosing (%s)\n", cut ? "\n" : "",
		     conf->clients.notice_prefix, close_reason_name(why));
	if (n > 0 && send(c->io.fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1,
			  MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
		counters.bytes_sent_total += (size_t)n;
}

/* [clients] notices: the skipped bytes, said where they are missing. */
static void client_skip_notice(struct client *c, uint64_t missed)
{
	char line[NOTICE_PREFIX_MAX + 64];
	int n;

	if (!conf->clients.notices)
		return;
	n = snprintf(line, sizeof(line), "%sskipped %llu bytes\n", conf->clients.notice_prefix,
		     (unsigned long long)missed);
	if (n > 0 && (size_t)n < sizeof(line) &&
	    cursor_note(&c->cur, line, (size_t)n, conf->source.max_line) < 0)
		log_debug("client %llu: no room for the skip notice", (unsigned long long)c->id);
}

/* Bytes this client skipped: kept where its kind keeps them. */
static uint64_t client_skipped(const struct client *c)
{
	const struct client_raw *x = client_raw(c);

	if (c->phase == PH_STREAM && c->proto != CLIENT_RAW)
		return c->st.skipped;
	return x ? x->skipped : 0;
}

/* Closes the connection now and queues its memory for the safe point. */
static void client_close(struct client *c, enum close_reason why)
{
	char name[ACCESS_NAME_MAX];

	if (c->closed)
		return;
	if (!c->client) {
		client_drop(c);
		return;
	}
	client_close_notice(c, why);
	client_shut(c);
	counters.clients_connected--;
	counters.clients_closed_total[why]++;
	client_name(c, name);
	closedlog_push(&closed_log, c->id, name, NS_TO_S(mono_ns() - c->created), c->sent, why);
	log_info("client %llu closed %s reason=%s sent=%llu skipped=%llu age=%.3fs",
		 (unsigned long long)c->id, name, close_reason_name(why),
		 (unsigned long long)c->sent, (unsigned long long)client_skipped(c),
		 NS_TO_S(mono_ns() - c->created));
}

/* A stream with nothing sent for `keepalive`: a comment line, sent at once
 * (it is at an event boundary: nothing is pending). */
static void client_stream_keepalive(struct client *c)
{
	if (c->proto == CLIENT_WS) {
		websocket_conn_ping(client_ws(c));
		client_flush(c);
		return;
	}
	if (c->proto != CLIENT_SSE || sse_cursor_note_pending(&client_sse(c)->cur))
		return;
	sse_cursor_set_note(&client_sse(c)->cur, keepalive_line, sizeof(keepalive_line) - 1);
	client_flush(c);
}

/* The hard deadline passed: what it means in each phase. */
static void client_by_passed(struct client *c)
{
	char name[ACCESS_NAME_MAX];

	switch (c->phase) {
	case PH_PROXY:
	case PH_AUTH:
		access_refused(REFUSED_AUTH_TIMEOUT, client_name(c, name));
		client_close(c, CLOSE_AUTH_TIMEOUT);
		break;
	case PH_HEAD:
		httpd_timeout(c);
		break;
	case PH_ANSWER:
		client_drop(c);
		break;
	case PH_STREAM:       /* a WebSocket's close handshake ran out */
		client_close(c, c->proto == CLIENT_WS ? client_ws(c)->reason : CLOSE_ERROR);
		break;
	}
}

/* A deadline passed: what it means in each phase. */
static void client_deadline(struct client *c, enum deadline_kind k)
{
	switch (k) {
	case DEADLINE_IDLE:
		client_close(c, CLOSE_IDLE);
		break;
	case DEADLINE_SEND:
		client_close(c, CLOSE_SEND_TIMEOUT);
		break;
	case DEADLINE_BY:
		client_by_passed(c);
		break;
	case DEADLINE_KEEPALIVE:
		client_stream_keepalive(c);
		break;
	case DEADLINE_OK:
		break;
	}
}

/* Whether a Unix peer has closed its end (both directions shut). */
static bool client_unix_hung_up(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

/* When the idle deadline passed: the last sign of life of the peer, read
 * only now (never per record). TCP: the last acknowledgement its kernel
 * sent, keepalive probes' included; Unix: now while its end is open.
 * Returns -1 when the connection is gone. */
static int64_t client_last_sign(const struct client *c, int64_t now)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (!c->tcp)
		return client_unix_hung_up(c->io.fd) ? -1 : now;
	if (getsockopt(c->io.fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return c->last_activity;
	if (ti.tcpi_state == TCP_CLOSE)
		return -1;
	return now - MS_TO_NS(ti.tcpi_last_ack_recv);
}

/* The single timer's callback: act on a passed deadline or sleep on. An
 * idle deadline first asks the kernel for a later sign of life. */
static void client_timer_cb(__unused struct ev_loop *l, ev_timer *w, __unused int revents)
{
	struct client *c = container_of(w, struct client, timer);
	struct deadline_limits lim = client_limits(c);
	struct deadline dl = client_deadline_of(c);
	int64_t wait, now = mono_ns(), sign;
	enum deadline_kind k;

	timer_fired(client_tk(c), w);
	k = deadline_check(&dl, &lim, now, &wait);
	if (k == DEADLINE_IDLE) {
		sign = client_last_sign(c, now);
		if (sign < 0) {
			client_close(c, CLOSE_PEER);
			return;
		}
		if (sign > c->last_activity)
			c->last_activity = dl.last_activity = sign;
		k = deadline_check(&dl, &lim, now, &wait);
	}
	if (k != DEADLINE_OK) {
		client_deadline(c, k);
		if (!c->closed)
			client_timer_update(c, true);
		return;
	}
	if (wait == DEADLINE_NONE)
		timer_disarm(client_tk(c), w);
	else
		timer_arm(client_tk(c), w, NS_TO_S(wait));
}

static void client_watch(struct client *c);

/* End of input from the peer: it will send nothing more, which is not a
 * wish to receive nothing more. Reading stops; a Unix peer that closed
 * both ways is gone; an answered HTTP request ends there. */
static void client_read_eof(struct client *c)
{
	if (!c->client) {
		client_drop(c);
		return;
	}
	if (!c->tcp && client_unix_hung_up(c->io.fd)) {
		client_close(c, CLOSE_PEER);
		return;
	}
	c->eof = true;
	log_debug("client %llu half-closed; still sending", (unsigned long long)c->id);
	client_watch(c);
}

/* WebSocket frames from the client: control frames are answered at the
 * next frame boundary, so a flush follows. What they allocate (a control
 * frame's buffers, at the first need) counts for the clients. */
static void client_read_ws(struct client *c, const uint8_t *buf, size_t n)
{
	enum alloc_owner was;
	bool ok;

	if (c->ws_shut)
		return;
	was = alloc_owner_set(ALLOC_CLIENTS);
	ok = websocket_conn_read(client_ws(c), buf, n);
	alloc_owner_set(was);
	if (!ok) {
		client_close(c, CLOSE_ERROR);
		return;
	}
	client_flush(c);
}

/* Reads up to len bytes into buf; it counts as a sign of life. Returns the
 * count, or 0 when there was nothing (or the peer half-closed, or the
 * connection was closed). */
static size_t client_recv(struct client *c, char *buf, size_t len)
{
	ssize_t n = read(c->io.fd, buf, len);

	if (n > 0) {
		c->last_activity = mono_ns();
		return (size_t)n;
	}
	if (n == 0 && c->ws_shut)
		client_close(c, client_ws(c)->reason);
	else if (n == 0)
		client_read_eof(c);
	else if (errno != EAGAIN && errno != EINTR)
		client_close(c, errno == ECONNRESET ? CLOSE_PEER : CLOSE_ERROR);
	return 0;
}

static char sink[16384];
static void client_gate_read(struct client *c);

/* Reads what the peer sends: before streaming what its phase waits for;
 * then only to discard. */
static void client_read(struct client *c)
{
	size_t n;

	if (c->phase == PH_STREAM || c->phase == PH_ANSWER) {
		n = client_recv(c, sink, sizeof(sink));
		if (n > 0 && c->proto == CLIENT_WS && !c->closed)
			client_read_ws(c, (const uint8_t *)sink, n);
	} else
		client_gate_read(c);
}

/* The one I/O watcher: bytes to read, or room to write what is pending. */
static void client_io_cb(__unused struct ev_loop *l, ev_io *w, int revents)
{
	struct client *c = container_of(w, struct client, io);

	if (revents & EV_READ)
		client_read(c);
	if ((revents & EV_WRITE) && !c->closed)
		client_flush(c);
}

/* Watches for reading (until the peer's end of input) and, while output is
 * pending, for writing: one epoll_ctl. */
static void client_watch(struct client *c)
{
	bool write = c->list == L_PENDING || (c->phase == PH_ANSWER && !client_gate(c)->answered);
	int events = (c->eof ? 0 : EV_READ) | (write ? EV_WRITE : 0);

	if (ev_is_active(&c->io) && (c->io.events & (EV_READ | EV_WRITE)) == events)
		return;
	ev_io_stop(loop, &c->io);
	if (events == 0)
		return;
	ev_io_set(&c->io, c->io.fd, events);
	ev_io_start(loop, &c->io);
}

/* Our close frame is out: shut the write side and give the peer a short
 * while to close its end (RFC 6455 section 7.1.1), on the one timer. */
static void client_ws_shut(struct client *c, int64_t now)
{
	if (!client_ws(c)->close_sent || c->ws_shut)
		return;
	c->ws_shut = true;
	shutdown(c->io.fd, SHUT_WR);
	*client_ws_by(c) = now + MS_TO_NS(WEBSOCKET_CLOSE_WAIT_MS);
	client_timer_update(c, false);
}

/* What the client has to send: an event stream from its ring (and notes);
 * a raw client the rest of its preamble (dropped if a new run of the
 * source replaced it meanwhile), then the ring. */
static int client_iov(struct client *c, struct iovec iov[5])
{
	const struct preamble *p = fanout_preamble();
	struct client_raw *x = client_raw(c);
	int k = 0;

	if (c->proto == CLIENT_SSE)
		return sse_cursor_iov(&client_sse(c)->cur, fanout_sse(), iov);
	if (c->proto == CLIENT_WS)
		return websocket_conn_iov(client_ws(c), iov);
	if (x && x->pre_sent < x->pre_len && x->pre_gen != p->gen)
		x->pre_len = x->pre_sent;
	if (x && x->pre_sent < x->pre_len)
		iov[k++] = (struct iovec){ p->buf + x->pre_sent, x->pre_len - x->pre_sent };
	return k + cursor_iov(&c->cur, fanout_ring(), iov + k);
}

/* Accounts for n bytes accepted by the socket: a raw client's preamble's
 * first. */
static void client_advance(struct client *c, size_t n)
{
	struct client_raw *x = client_raw(c);
	struct client_stream *st = client_stream(c);
	size_t pre = x ? x->pre_len - x->pre_sent : 0;
	int64_t now = mono_ns();

	if (c->proto == CLIENT_SSE) {
		client_sse_advance(c, n);
	} else if (c->proto == CLIENT_WS) {
		websocket_conn_advance(client_ws(c), n);
		client_ws_shut(c, now);
	} else {
		pre = n < pre ? n : pre;
		if (pre)
			x->pre_sent += (uint32_t)pre;
		if (n > pre)
			cursor_advance(&c->cur, fanout_ring(), n - pre);
	}
	c->sent += n;
	counters.bytes_sent_total += n;
	if (st)
		st->last_sent = now;
	c->send_since = now;
}

/* Output is waiting for the socket: watch for writability and make sure the
 * timer honours the send deadline. */
static void client_set_pending(struct client *c)
{
	if (c->list == L_PENDING)
		return;
	client_move(c, L_PENDING);
	client_watch(c);
	c->send_since = mono_ns();
	client_timer_update(c, false);
}

/* Caught up: stop watching for writability. */
static void client_set_live(struct client *c)
{
	if (c->draining) {
		client_close(c, CLOSE_SHUTDOWN);
		return;
	}
	if (c->list == L_LIVE)
		return;
	client_move(c, L_LIVE);
	client_watch(c);
	client_timer_update(c, false);
}

/* The answer is out: half-close and wait (briefly) for the peer's end, so
 * that unread request bytes do not turn the close into a reset that could
 * lose the answer. */
static void client_answered(struct client *c)
{
	client_gate(c)->answered = true;
	shutdown(c->io.fd, SHUT_WR);
	client_watch(c);
}

/* HTTP: writes what is left of the answer. */
static void client_flush_answer(struct client *c)
{
	struct client_gate *g = client_gate(c);
	ssize_t n;

	if (g->answered)
		return;
	n = write(c->io.fd, g->answer.buf, g->answer.len);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			client_watch(c);
		else
			client_drop(c);
		return;
	}
	sbuf_consume(&g->answer, (size_t)n);
	if (g->answer.len == 0)
		client_answered(c);
	else
		client_watch(c);
}

/* Writes the rest of its preamble and everything between the client's
 * cursor and the head in one writev; what the socket does not take stays
 * pending. */
static void client_flush(struct client *c)
{
	struct iovec iov[5];
	size_t want = 0;
	ssize_t n;
	int cnt;

	if (c->phase != PH_STREAM) {
		if (c->phase == PH_ANSWER)
			client_flush_answer(c);
		return;
	}
	cnt = client_iov(c, iov);
	for (int i = 0; i < cnt; i++)
		want += iov[i].iov_len;
	if (cnt == 0) {
		client_set_live(c);
		return;
	}
	n = writev(c->io.fd, iov, cnt);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			client_set_pending(c);
		else
			client_close(c, errno == EPIPE || errno == ECONNRESET ? CLOSE_PEER : CLOSE_ERROR);
		return;
	}
	client_advance(c, (size_t)n);
	if ((size_t)n < want)
		client_set_pending(c);
	else
		client_set_live(c);
}

/* Where a new client starts: the newest whole records within `backlog`. */
static uint64_t client_start(void)
{
	const struct ring *r = fanout_ring();
	uint64_t back = conf->clients.backlog;
	uint64_t from = r->head > back ? r->head - back : 0;

	if (back == 0)
		return r->head;
	if (conf->source.framing == FRAMING_RAW)
		return from < ring_tail(r) ? ring_tail(r) : from;
	return ring_line_start(r, from);
}

/* Counts and logs a connection refused beyond max_clients. */
static void client_count_reject(const char *addr)
{
	uint64_t id = next_id++;

	counters.clients_closed_total[CLOSE_REJECTED]++;
	closedlog_push(&closed_log, id, addr, 0, 0, CLOSE_REJECTED);
	log_info("client %llu closed %s reason=rejected (max_clients %llu reached)",
		 (unsigned long long)id, addr, (unsigned long long)conf->clients.max_clients);
}

/* TCP keepalive per [clients] tcp_keepalive: probes after that much quiet,
 * 10 s apart (tcp_keepalive apart when shorter: after an answered probe
 * Linux waits the interval), 6 of them, so a live reader of a quiet stream
 * answers and a dead one is found (pipecast.conf(5), "Client liveness"). */
static void client_keepalive(int fd)
{
	int on = conf->clients.tcp_keepalive_ms > 0;
	int idle = (int)((conf->clients.tcp_keepalive_ms + 999) / 1000);
	int intvl = idle < 10 ? idle : 10;
	static const int cnt = 6;

	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	if (!on)
		return;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

/* Where a new client starts reading, taken when it may stream: its cursor
 * (with the backlog) and the preamble in force. */
static void client_position(struct client *c)
{
	const struct preamble *p = fanout_preamble();
	struct client_raw *x;
	size_t pre;

	cursor_init(&c->cur, client_start());
	pre = preamble_for(p, c->cur.pos);
	if (pre == 0)
		return;
	if (!(x = client_raw_get(c))) {
		log_warning("client %llu: out of memory for its preamble", (unsigned long long)c->id);
		return;
	}
	x->pre_len = (uint32_t)pre;    /* at most preamble x max_line: 1 GiB */
	x->pre_sent = 0;
	x->pre_gen = p->gen;
}

/* The first phase of a new connection: a trusted proxy's header, then an
 * HTTP request head, a raw client's AUTH line, or straight to the stream. */
static enum client_phase client_first_phase(const struct client *c)
{
	if (c->ac.proxied)
		return PH_PROXY;
	return c->http ? PH_HEAD : access_tokens_required() ? PH_AUTH : PH_STREAM;
}

/* The hard deadline of a phase before streaming, counted from the connect
 * (pipecast.conf(5): auth_timeout, request_timeout). */
static void client_set_by(struct client *c)
{
	if (c->phase == PH_PROXY || c->phase == PH_AUTH)
		client_gate(c)->by = c->created + MS_TO_NS(conf->access.auth_timeout_ms);
	else if (c->phase == PH_HEAD)
		client_gate(c)->by = c->created + MS_TO_NS(conf->http.request_timeout_ms);
}

/* The out-of-line part of a connection that must read (max bytes) or
 * answer (max 0) before it may stream. */
static struct client_gate *client_gate_new(size_t max)
{
	struct client_gate *g = pc_calloc(1, sizeof(*g) + max);

	if (g) {
		g->max = max;
		sbuf_init(&g->answer);
	}
	return g;
}

/* The gate is over: the connection streams. Its memory goes now (nothing
 * else points into it: the HTTP layer is done with the request). */
static void client_gate_free(struct client *c)
{
	struct client_gate *g = c->io.data;

	if (g)
		sbuf_free(&g->answer);
	pc_free(g);
	c->io.data = NULL;
}

/* Builds the connection's state, embedding its watchers and its one timer;
 * one that must first send something waits on the waiting list with its
 * hard deadline set and no cursor yet. An HTTP peer refused at accept
 * (why) goes straight to its answer, with no request buffer. */
static struct client *client_new(int fd, bool tcp, bool http, const struct access_conn *ac,
				 enum refusal why)
{
	static const int one = 1;
	struct client *c = pool_alloc(&client_pool);
	struct client_gate *g = NULL;

	if (!c)
		return NULL;
	c->ac = *ac;
	c->http = http;
	c->client = !http;
	c->phase = why == REFUSAL_COUNT ? client_first_phase(c) : PH_ANSWER;
	if (c->phase < PH_STREAM &&
	    !(g = client_gate_new(c->phase == PH_ANSWER ? 0 : http ? HTTP_HEAD_MAX : GATE_BUF))) {
		pool_free(&client_pool, c);
		return NULL;
	}
	if (tcp) {
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		client_keepalive(fd);
	}
	c->tcp = tcp;
	c->created = mono_ns();
	c->last_activity = c->created;
	ev_io_init(&c->io, client_io_cb, fd, EV_READ);
	c->io.data = g;
	client_set_by(c);
	timer_setup(client_tk(c), &c->timer, client_timer_cb);
	c->list = c->phase == PH_STREAM ? L_LIVE : L_WAITING;
	TAILQ_INSERT_TAIL(&lists[c->list], c, entry);
	return c;
}

/* A connection becomes a client: counted, listed, logged, timed. */
static void client_begin(struct client *c)
{
	c->client = true;
	c->id = next_id++ & CLIENT_ID_MASK;
	counters.clients_connected++;
	counters.clients_accepted_total++;
	char name[ACCESS_NAME_MAX];

	log_info("client %llu open %s%s", (unsigned long long)c->id, client_name(c, name),
		 c->proto == CLIENT_RAW ? "" : c->proto == CLIENT_SSE ? " (sse)" : " (ws)");
	client_timer_update(c, true);
	client_flush(c);
}

static void client_serve(int fd, const char *addr, bool tcp, struct access_conn *ac);

/* Serves or rejects a freshly accepted connection that access control let
 * in (ac; its per-address count is released when it goes no further); what
 * it allocates counts for the clients. */
void client_accept(int fd, const char *addr, bool tcp, struct access_conn *ac)
{
	enum alloc_owner was = alloc_owner_set(ALLOC_CLIENTS);

	client_serve(fd, addr, tcp, ac);
	alloc_owner_set(was);
}

/* Builds and starts one client, or refuses it. */
static void client_serve(int fd, const char *addr, bool tcp, struct access_conn *ac)
{
	struct client *c;

	if (counters.clients_connected >= conf->clients.max_clients) {
		access_release(ac);
		close(fd);
		client_count_reject(addr);
		return;
	}
	c = client_new(fd, tcp, false, ac, REFUSAL_COUNT);
	if (!c) {
		log_warning("client from %s: out of memory", addr);
		access_release(ac);
		close(fd);
		return;
	}
	if (c->phase == PH_STREAM)
		client_position(c);
	ev_io_start(loop, &c->io);
	client_begin(c);
}

/* ---- before streaming: PROXY header and AUTH line (pipecastd(8)) ---- */

/* Access control refused what the peer sent: a raw client is closed
 * without a byte, an HTTP one answered 403. */
static void client_refuse(struct client *c, enum refusal why)
{
	char name[ACCESS_NAME_MAX];

	access_refused(why, client_name(c, name));
	if (c->http)
		httpd_refused(c, NULL, why);
	else
		client_close(c, CLOSE_DENIED);
}

/* Drops the first n bytes held. */
static void client_head_consume(struct client *c, size_t n)
{
	struct client_gate *g = client_gate(c);

	memmove(g->buf, g->buf + n, g->len - n);
	g->len -= n;
}

/* A raw client through the gate: the backlog is taken now, then the
 * stream flows. */
static void client_stream_start(struct client *c)
{
	/* safe to free now: its callers only return, client_gate_read looks it up anew */
	client_gate_free(c);
	c->phase = PH_STREAM;
	client_position(c);
	client_move(c, L_LIVE);
	client_timer_update(c, true);
	client_flush(c);
}

/* The phase after the PROXY header (its deadline stays: it counts from the
 * connect). */
static void client_after_proxy(struct client *c)
{
	if (c->http)
		c->phase = PH_HEAD;
	else if (access_tokens_required())
		c->phase = PH_AUTH;
	else
		client_stream_start(c);
}

/* A trusted proxy's header: its client's address replaces the proxy's.
 * Returns 1 when the next phase may run, 0 for more bytes, -1 closed. */
static int client_gate_proxy(struct client *c)
{
	struct client_gate *g = client_gate(c);
	struct proxyproto_result r;
	const char *why = NULL;
	char name[ACCESS_NAME_MAX];
	enum refusal refused;
	size_t used;

	switch (proxyproto_parse(g->buf, g->len, &r, &why)) {
	case PROXYPROTO_MORE:
		return 0;
	case PROXYPROTO_ERROR:
		log_debug("client %llu %s: %s", (unsigned long long)c->id, client_name(c, name), why);
		client_refuse(c, REFUSED_ADDRESS);
		return -1;
	case PROXYPROTO_DONE:
		break;
	}
	if (access_proxied(&c->ac, r.local ? NULL : (struct sockaddr *)&r.src, r.src_len,
			   &refused) < 0) {
		client_refuse(c, refused);
		return -1;
	}
	log_info("client %llu is %s (PROXY v%d)", (unsigned long long)c->id, client_name(c, name),
		 r.version);
	used = r.length < g->len ? r.length : g->len;
	g->skip = r.length - used;
	client_head_consume(c, used);
	client_after_proxy(c);
	return 1;
}

/* The AUTH line: a known token lets the client stream; anything else
 * closes it without a byte. */
static int client_gate_auth(struct client *c)
{
	const char *tok;
	size_t len, used;

	struct client_gate *g = client_gate(c);

	switch (tokens_auth_line(g->buf, g->len, &tok, &len, &used)) {
	case TOKENS_AUTH_MORE:
		return 0;
	case TOKENS_AUTH_BAD:
		client_refuse(c, REFUSED_TOKEN);
		return -1;
	case TOKENS_AUTH_LINE:
		break;
	}
	if (!access_token_ok(&c->ac, tok, len)) {
		client_refuse(c, REFUSED_TOKEN);
		return -1;
	}
	log_info("client %llu authenticated", (unsigned long long)c->id);
	client_stream_start(c);
	return 1;
}

/* One phase on the bytes held: 1 when the next one may run on what is
 * left, 0 when more bytes are needed (or the phase is over), -1 closed. The
 * HTTP layer decides on a request head once it is whole. */
static int client_gate_step(struct client *c)
{
	switch (c->phase) {
	case PH_PROXY:
		return client_gate_proxy(c);
	case PH_AUTH:
		return client_gate_auth(c);
	case PH_HEAD:
		httpd_head(c, client_gate(c)->buf, client_gate(c)->len);
		return 0;
	case PH_ANSWER:
	case PH_STREAM:
		break;
	}
	return 0;
}

/* Reads before streaming: TLV bytes to skip first, else into the head
 * buffer; then runs the phases on what is held. A raw peer that fills the
 * buffer without a whole header or AUTH line is refused. */
static void client_gate_read(struct client *c)
{
	struct client_gate *g = client_gate(c);
	size_t n;

	if (g->skip) {
		n = client_recv(c, sink, g->skip < sizeof(sink) ? g->skip : sizeof(sink));
		g->skip -= n;
		return;
	}
	n = client_recv(c, g->buf + g->len, g->max - g->len);
	g->len += n;
	/* each step may end the gate (and free it): look again every time */
	while (n && !c->closed && (g = client_gate(c)) && g->len && !g->skip &&
	       client_gate_step(c) > 0)
		;
	g = client_gate(c);
	if (!c->closed && (c->phase == PH_PROXY || c->phase == PH_AUTH) && g->len == g->max)
		client_refuse(c, c->phase == PH_PROXY ? REFUSED_ADDRESS : REFUSED_TOKEN);
}

static void client_http_serve(int fd, const char *addr, bool tcp, struct access_conn *ac,
			      enum refusal why);

/* An HTTP connection; what it allocates counts for the clients. */
void client_http_accept(int fd, const char *addr, bool tcp, struct access_conn *ac,
			enum refusal why)
{
	enum alloc_owner was = alloc_owner_set(ALLOC_CLIENTS);

	client_http_serve(fd, addr, tcp, ac, why);
	alloc_owner_set(was);
}

/* Its request head must come within request_timeout; a peer that access
 * control refused is answered 403 at once (and its request never read). */
static void client_http_serve(int fd, const char *addr, bool tcp, struct access_conn *ac,
			      enum refusal why)
{
	struct client *c = client_new(fd, tcp, true, ac, why);

	if (!c) {
		log_warning("http from %s: out of memory", addr);
		access_release(ac);
		close(fd);
		return;
	}
	ev_io_start(loop, &c->io);
	client_timer_update(c, true);
	if (why != REFUSAL_COUNT)
		client_refuse(c, why);
}

/* The class an HTTP status counts in. */
static enum http_class client_http_class(int status)
{
	return status >= 500 ? HTTP_5XX : status >= 400 ? HTTP_4XX :
	       status >= 300 ? HTTP_3XX : HTTP_2XX;
}

/* Takes the answer, and the connection to its last phase. */
void client_answer(struct client *c, struct sbuf *resp, int status)
{
	struct client_gate *g = client_gate(c);

	counters.http_requests_total[client_http_class(status)]++;
	sbuf_free(&g->answer);
	g->answer = *resp;
	sbuf_init(resp);
	c->phase = PH_ANSWER;
	g->by = mono_ns() + MS_TO_NS(conf->http.request_timeout_ms);
	client_timer_update(c, true);
	client_flush(c);
}

/* A request may become a stream client: within max_clients, counted as
 * answered, its request timer stopped. */
static int client_stream_admit(struct client *c)
{
	char name[ACCESS_NAME_MAX];

	if (counters.clients_connected >= conf->clients.max_clients) {
		client_count_reject(client_name(c, name));
		return -1;
	}
	counters.http_requests_total[HTTP_2XX]++;
	timer_disarm(TK_HTTP, &c->timer);
	return 0;
}

/* The request is now a stream client of proto, its out-of-line part x
 * in place of the request's (which goes now: the HTTP layer is done with
 * it). */
static void client_stream_begin(struct client *c, enum client_proto proto, void *x)
{
	/* safe to free now: httpd logged the request (in the gate) and reads it no more */
	client_gate_free(c);
	c->io.data = x;
	c->proto = proto;
	c->phase = PH_STREAM;
	c->client = true;
	c->last_activity = mono_ns();
	client_stream(c)->last_sent = c->last_activity;
	client_move(c, L_LIVE);
	client_begin(c);
}

/* From request to SSE client at pos, sending head (the response head,
 * retry line, a gap notice; copied, and freed once it is out) first. */
int client_start_sse(struct client *c, const char *head, size_t len, uint64_t pos)
{
	struct client_sse *x = client_part_alloc(sizeof(*x));

	if (x && !(x->head = client_part_alloc(len))) {
		pc_free(x);
		x = NULL;
	}
	if (!x || client_stream_admit(c) < 0) {
		if (x)
			pc_free(x->head);
		pc_free(x);
		return -1;
	}
	memcpy(x->head, head, len);
	/* a skip's cut rest of an event goes to a stash allocated at need */
	sse_cursor_init(&x->cur, pos, x->head, len, NULL, HTTP_HEAD_MAX);
	client_stream_begin(c, CLIENT_SSE, x);
	return 0;
}

/* Consumes n bytes sent; the response head goes once it is out. */
static void client_sse_advance(struct client *c, size_t n)
{
	struct client_sse *x = client_sse(c);

	sse_cursor_advance(&x->cur, n);
	if (x->head && !sse_cursor_note_pending(&x->cur)) {
		/* safe to free now: writev is done; the cursor reads its note only while pending */
		pc_free(x->head);
		x->head = NULL;
	}
}

/* From upgrade request to WebSocket client, starting at pos of its ring
 * with head (the 101 response, maybe a gap message) first. */
int client_start_ws(struct client *c, struct wsring *r, uint64_t pos, const void *head,
		    size_t len)
{
	struct client_ws *x = client_part_alloc(sizeof(*x));
	enum alloc_owner was = alloc_owner_set(ALLOC_CLIENTS);
	int ok;

	/* a skip's cut rest of a frame goes to a stash allocated at need */
	ok = x && websocket_conn_init(&x->conn, r, pos, head, len, NULL, HTTP_HEAD_MAX) == 0;
	alloc_owner_set(was);
	if (!ok || client_stream_admit(c) < 0) {
		if (x)
			websocket_conn_free(&x->conn);
		pc_free(x);
		return -1;
	}
	client_stream_begin(c, CLIENT_WS, x);
	return 0;
}

/* For the HTTP layer's logs: the name in a buffer of its own (one name
 * per log line). */
const char *client_addr(const struct client *c)
{
	static char name[ACCESS_NAME_MAX];

	return client_name(c, name);
}

/* For the HTTP layer's checks of tokens and metrics_allow. */
struct access_conn *client_access(struct client *c)
{
	return &c->ac;
}

/* The overflow policy of the configuration. */
static struct cursor_policy client_policy(void)
{
	struct cursor_policy p = {
		.skip = conf->clients.overflow == OVERFLOW_SKIP,
		.lines = conf->source.framing == FRAMING_LINE,
		.max_line = conf->source.max_line,
	};
	return p;
}

/* Applies the overflow policy to one raw client; CURSOR_DROP, or the bytes
 * it skipped through *missed. */
static enum cursor_verdict client_make_room(struct client *c, uint64_t n,
					    const struct cursor_policy *p, uint64_t *missed)
{
	if (c->proto == CLIENT_SSE)
		return (enum cursor_verdict)sse_cursor_make_room(&client_sse(c)->cur, fanout_sse(), n, p->skip,
								  missed);
	return cursor_make_room(&c->cur, fanout_ring(), (size_t)n, p, missed);
}

_Static_assert((int)CURSOR_KEEP == (int)SSE_KEEP && (int)CURSOR_DROP == (int)SSE_DROP &&
	       (int)CURSOR_SKIPPED == (int)SSE_SKIPPED, "one verdict for both rings");

/* Counts bytes a client skipped where its kind keeps them (a raw client's
 * rare part is allocated at its first skip; without memory only the
 * total counts them). */
static void client_count_skipped(struct client *c, uint64_t missed)
{
	struct client_stream *st = client_stream(c);
	struct client_raw *x = st ? NULL : client_raw_get(c);

	if (st)
		st->skipped += missed;
	else if (x)
		x->skipped += missed;
	counters.clients_skipped_bytes_total += missed;
}

/* What the overflow policy decided for one client. */
static void client_room_verdict(struct client *c, enum cursor_verdict v, uint64_t missed)
{
	switch (v) {
	case CURSOR_KEEP:
		break;
	case CURSOR_DROP:
		client_close(c, CLOSE_OVERFLOW);
		break;
	case CURSOR_SKIPPED:
		if (missed > 0 && c->proto == CLIENT_RAW)
			client_skip_notice(c, missed);
		client_count_skipped(c, missed);
		log_debug("client %llu skipped %llu bytes", (unsigned long long)c->id,
			  (unsigned long long)missed);
		break;
	}
}

/* Clients waiting on their sockets are the only ones that can be overrun;
 * a skip's stash counts for the clients. */
void clients_before_append(enum client_proto proto, uint64_t n)
{
	struct cursor_policy p = client_policy();
	struct client *c, *next;
	enum cursor_verdict v;
	uint64_t missed;
	enum alloc_owner was = alloc_owner_set(ALLOC_CLIENTS);

	TAILQ_FOREACH_SAFE(c, &lists[L_PENDING], entry, next) {
		if (c->proto != proto)
			continue;
		/* The verdict first: it sets missed (argument order is unspecified). */
		v = client_make_room(c, n, &p, &missed);
		client_room_verdict(c, v, missed);
	}
	alloc_owner_set(was);
}

_Static_assert((int)CURSOR_KEEP == (int)WSRING_KEEP && (int)CURSOR_DROP == (int)WSRING_DROP &&
	       (int)CURSOR_SKIPPED == (int)WSRING_SKIPPED, "one verdict for every ring");

/* Before n bytes are appended to a WebSocket ring: its pending clients. */
void clients_before_ws_append(const struct wsring *r, uint64_t n)
{
	bool skip = conf->clients.overflow == OVERFLOW_SKIP;
	struct client *c, *next;
	enum cursor_verdict v;
	uint64_t missed;
	enum alloc_owner was = alloc_owner_set(ALLOC_CLIENTS);

	TAILQ_FOREACH_SAFE(c, &lists[L_PENDING], entry, next) {
		if (c->proto != CLIENT_WS)
			continue;
		v = (enum cursor_verdict)websocket_conn_make_room(client_ws(c), r, n, skip, &missed);
		client_room_verdict(c, v, missed);
	}
	alloc_owner_set(was);
}

/* Writes to every caught-up client. */
void clients_broadcast(void)
{
	struct client *c, *next;

	TAILQ_FOREACH_SAFE(c, &lists[L_LIVE], entry, next)
		client_flush(c);
}

/* Graceful stop: caught-up clients are closed, pending ones drain first. */
void clients_shutdown(void)
{
	struct client *c, *next;

	TAILQ_FOREACH_SAFE(c, &lists[L_LIVE], entry, next)
		client_close(c, CLOSE_SHUTDOWN);
	TAILQ_FOREACH(c, &lists[L_PENDING], entry)
		c->draining = true;
	while ((c = TAILQ_FIRST(&lists[L_WAITING])) != NULL)
		client_close(c, CLOSE_SHUTDOWN);
}

/* Closes every open client and request. */
void clients_close_all(enum close_reason why)
{
	struct client *c;

	for (size_t i = 0; i < OPEN_LISTS; i++)
		while ((c = TAILQ_FIRST(&lists[open_lists[i]])) != NULL)
			client_close(c, why);
}

/* Reload, for one raw client: closed when access rules no longer let it
 * in; before streaming, the new auth_timeout counts from its connect, and
 * without tokens an AUTH line is no longer awaited. */
static void client_apply_access(struct client *c)
{
	enum refusal why = access_recheck(&c->ac, c->io.fd, c->phase == PH_STREAM);
	char name[ACCESS_NAME_MAX];

	if (why != REFUSAL_COUNT) {
		log_info("client %llu %s: no longer allowed (%s)", (unsigned long long)c->id,
			 client_name(c, name), refusal_name(why));
		client_close(c, CLOSE_DENIED);
		return;
	}
	if (c->phase == PH_STREAM)
		return;
	client_set_by(c);
	if (c->phase == PH_AUTH && !access_tokens_required())
		client_stream_start(c);
}

/* New rules, timeouts and keepalive apply to connected clients: the ones
 * no longer allowed are closed, the others' one timer is re-armed and
 * their sockets' keepalive set again. */
void clients_apply_config(void)
{
	struct client *c, *next;

	for (size_t i = 0; i < OPEN_LISTS; i++)
		TAILQ_FOREACH_SAFE(c, &lists[open_lists[i]], entry, next)
			if (c->client)
				client_apply_access(c);
	for (size_t i = 0; i < OPEN_LISTS; i++)
		TAILQ_FOREACH(c, &lists[open_lists[i]], entry) {
			if (!c->client)
				continue;
			if (c->tcp)
				client_keepalive(c->io.fd);
			client_timer_update(c, true);
		}
}

/* A client's lag in its own ring. */
static uint64_t client_lag(const struct client *c)
{
	if (c->proto == CLIENT_SSE)
		return sse_cursor_lag(&client_sse(c)->cur, fanout_sse());
	if (c->proto == CLIENT_WS)
		return websocket_conn_lag(client_ws(c));
	return cursor_lag(&c->cur, fanout_ring());
}

/* Only pending clients are behind; live ones are at the head. */
uint64_t clients_max_lag(void)
{
	uint64_t lag = 0;
	struct client *c;

	TAILQ_FOREACH(c, &lists[L_PENDING], entry)
		if (client_lag(c) > lag)
			lag = client_lag(c);
	return lag;
}

/* Frees a connection's out-of-line part, by what it is at its close. */
static void client_free_data(struct client *c)
{
	struct client_sse *sse;

	if (c->phase < PH_STREAM) {
		client_gate_free(c);
		return;
	}
	if (c->proto == CLIENT_SSE && (sse = client_sse(c))) {
		sse_cursor_free(&sse->cur);
		pc_free(sse->head);
	} else if (c->proto == CLIENT_WS && c->io.data) {
		websocket_conn_free(client_ws(c));
	}
	pc_free(c->io.data);
	c->io.data = NULL;
}

/* Frees the connections closed since the last call. */
void clients_reap(void)
{
	struct client *c;

	while ((c = TAILQ_FIRST(&lists[L_DEAD])) != NULL) {
		TAILQ_REMOVE(&lists[L_DEAD], c, entry);
		if (c->proto == CLIENT_RAW)
			cursor_free(&c->cur);
		client_free_data(c);
		pool_free(&client_pool, c);
	}
}

/* kill client ID: closes one client. */
int client_kill(uint64_t id)
{
	struct client *c;

	for (size_t i = 0; i < OPEN_LISTS; i++)
		TAILQ_FOREACH(c, &lists[open_lists[i]], entry)
			if (c->client && c->id == id) {
				client_close(c, CLOSE_KILL);
				return 0;
			}
	return -1;
}

/* The last sign of life known now: a byte from the client, or on TCP an
 * acknowledgement (asked of the kernel here, per query, not per record). */
static int64_t client_last_seen(const struct client *c, int64_t now)
{
	int64_t sign = c->tcp && !c->closed ? client_last_sign(c, now) : -1;

	return sign > c->last_activity ? sign : c->last_activity;
}

/* One "show clients" row. */
static void client_row(struct statfmt_rows *t, const struct client *c, int64_t now)
{
	char name[ACCESS_NAME_MAX];
	struct statfmt_client_row r = {
		.id = c->id, .addr = client_name(c, name),
		.age_s = NS_TO_S(now - c->created),
		.idle_s = NS_TO_S(now - client_last_seen(c, now)),
		.lag_bytes = c->phase == PH_STREAM ? client_lag(c) : 0,
		.sent_bytes = c->sent, .skipped_bytes = client_skipped(c),
		.state = c->draining ? "closing" : c->list == L_PENDING ? "pending" :
			 c->list == L_WAITING ? "auth" : "live",
		.proto = proto_names[c->proto],
	};

	statfmt_clients_row(t, &r);
}

/* Keeps the at most n clients with the smallest ids above after, sorted by
 * id, in pick[0..*got). */
static void clients_pick(uint64_t after, struct client **pick, size_t n, size_t *got)
{
	struct client *c;

	*got = 0;
	for (size_t l = 0; l < OPEN_LISTS; l++)
		TAILQ_FOREACH(c, &lists[open_lists[l]], entry) {
			size_t i;

			if (!c->client || c->id <= after ||
			    (*got == n && c->id > pick[n - 1]->id))
				continue;
			i = *got < n ? (*got)++ : n - 1;
			for (; i > 0 && pick[i - 1]->id > c->id; i--)
				pick[i] = pick[i - 1];
			pick[i] = c;
		}
}

/* show clients, started: the header; rows follow a slice at a time. */
void clients_report_start(struct clients_walk *w, struct sbuf *out, bool json)
{
	statfmt_clients_begin(&w->t, out, json);
	w->after = 0;
	w->now = mono_ns();
}

/* Up to CLIENTS_SLICE rows in id order (connection order) after the last
 * one written: a reply of 10,000 rows never stalls the loop at once, and
 * clients that come and go between slices are simply in or out. Returns
 * true once the reply is complete. */
bool clients_report_slice(struct clients_walk *w)
{
	struct client *pick[CLIENTS_SLICE];
	size_t got;

	clients_pick(w->after, pick, CLIENTS_SLICE, &got);
	for (size_t i = 0; i < got; i++)
		client_row(&w->t, pick[i], w->now);
	if (got)
		w->after = pick[got - 1]->id;
	if (got == CLIENTS_SLICE)
		return false;
	statfmt_rows_end(&w->t);
	return true;
}

/* show clients at once, for callers that need the whole reply now. */
int clients_report(struct sbuf *out, bool json)
{
	struct clients_walk w;

	clients_report_start(&w, out, json);
	while (!clients_report_slice(&w))
		;
	return sbuf_failed(out) ? -1 : 0;
}

/* pipecastd --sizes: what a connection costs, structure by structure
 * (the benchmarks report it). */
const struct client_size *client_sizes(size_t *n)
{
	static const struct client_size sizes[] = {
		{ "struct client", sizeof(struct client),
		  "every connection (in blocks of 64: no heap header each)" },
		{ "ev_io", sizeof(ev_io), "in struct client" },
		{ "ev_timer", sizeof(ev_timer), "in struct client: its one timer" },
		{ "struct cursor", sizeof(struct cursor), "in struct client: raw" },
		{ "struct access_conn", sizeof(struct access_conn), "in struct client" },
		{ "struct client_gate", sizeof(struct client_gate),
		  "before streaming, with its read buffer (1 KiB raw, 8 KiB HTTP)" },
		{ "struct client_raw", sizeof(struct client_raw),
		  "raw, once a preamble is due or it skipped" },
		{ "struct cursor_stash", sizeof(struct cursor_stash),
		  "raw, from its first skip, with max_line + 320 bytes" },
		{ "struct client_sse", sizeof(struct client_sse), "SSE (one allocation)" },
		{ "struct sse_cursor", sizeof(struct sse_cursor), "in struct client_sse" },
		{ "struct client_ws", sizeof(struct client_ws), "WebSocket (one allocation)" },
		{ "struct websocket_conn", sizeof(struct websocket_conn), "in struct client_ws" },
		{ "struct wsring_cursor", sizeof(struct wsring_cursor), "in struct websocket_conn" },
		{ "struct ws_parser", sizeof(struct ws_parser), "in struct websocket_conn" },
	};

	*n = sizeof(sizes) / sizeof(sizes[0]);
	return sizes;
}

/* show closed reads the log of recent closes. */
const struct closedlog *clients_closed_log(void)
{
	return &closed_log;
}

/* For "show timers": the soonest client timer, or -1. */
double clients_next_due(void)
{
	struct client *c;
	double best = -1;

	for (size_t i = 0; i < OPEN_LISTS; i++)
		TAILQ_FOREACH(c, &lists[open_lists[i]], entry)
			if (c->client)
				best = timer_sooner(best, &c->timer);
	return best;
}

/* For "show timers": the soonest timer of an HTTP request, or -1. */
double clients_http_next_due(void)
{
	struct client *c;
	double best = -1;

	TAILQ_FOREACH(c, &lists[L_WAITING], entry)
		if (!c->client)
			best = timer_sooner(best, &c->timer);
	return best;
}

/* client.c: client connections. A client is on one of three lists: live
 * (caught up with the ring's head), pending (output waiting for its socket,
 * write watcher running) or dead (closed, freed at the next safe point). */
#include "client.h"
#include "compat.h"
#include "alloc.h"
#include "closedlog.h"
#include "cursor.h"
#include "daemon.h"
#include "deadline.h"
#include "fanout.h"
#include "list.h"
#include "log.h"
#include "statfmt.h"
#include "timers.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

struct client {
	TAILQ_ENTRY(client) entry;
	ev_io io;                /* reads always (discarded, but activity); also
				  * writability while output is pending */
	ev_timer timer;          /* the one timer: idle and send deadlines */
	struct deadline dl;
	int fd;
	uint64_t id;
	struct cursor cur;       /* where this client is in the ring */
	uint64_t sent;
	uint64_t skipped;
	int64_t created;
	bool draining;           /* graceful stop: close once caught up */
	bool closed;
	struct client_list *list;
	char addr[56];            /* "[v4-mapped v6 address]:65535" fits */
};

TAILQ_HEAD(client_list, client);
static struct client_list live = TAILQ_HEAD_INITIALIZER(live);
static struct client_list pending = TAILQ_HEAD_INITIALIZER(pending);
static struct client_list dead = TAILQ_HEAD_INITIALIZER(dead);
/* The lists of connected clients, for whoever visits them all. */
static struct client_list *const open_lists[] = { &live, &pending };
#define OPEN_LISTS (sizeof(open_lists) / sizeof(open_lists[0]))
static uint64_t next_id = 1;
static struct closedlog closed_log;   /* the last 100 closes, for show closed */

static void client_flush(struct client *c);

/* Moves a client between lists. */
static void client_move(struct client *c, struct client_list *to)
{
	TAILQ_REMOVE(c->list, c, entry);
	TAILQ_INSERT_TAIL(to, c, entry);
	c->list = to;
}

/* The configured deadlines, in nanoseconds. */
static struct deadline_limits client_limits(void)
{
	struct deadline_limits l = {
		.idle_ns = MS_TO_NS(conf->clients.idle_timeout_ms),
		.send_ns = MS_TO_NS(conf->clients.send_timeout_ms),
	};
	return l;
}

/* Arms the timer for the earliest deadline; with `exact` it may also move
 * later (after it fired, or on reload), otherwise only earlier. */
static void client_timer_update(struct client *c, bool exact)
{
	struct deadline_limits l = client_limits();
	int64_t due = deadline_due(&c->dl, &l);
	int64_t now = mono_ns();
	double left = timer_remaining(&c->timer);

	if (due == DEADLINE_NONE) {
		if (exact)
			timer_disarm(TK_CLIENT, &c->timer);
		return;
	}
	if (!exact && left >= 0 && !deadline_sooner(&c->dl, &l, now + (int64_t)(left * 1e9)))
		return;
	timer_arm(TK_CLIENT, &c->timer, NS_TO_S(due > now ? due - now : 0));
}

/* Closes the connection now and queues its memory for the safe point. */
static void client_close(struct client *c, enum close_reason why)
{
	if (c->closed)
		return;
	c->closed = true;
	ev_io_stop(loop, &c->io);
	timer_disarm(TK_CLIENT, &c->timer);
	close(c->fd);
	c->fd = -1;
	counters.clients_connected--;
	counters.clients_closed_total[why]++;
	closedlog_push(&closed_log, c->id, c->addr, NS_TO_S(mono_ns() - c->created),
		       c->sent, why);
	log_info("client %llu closed %s reason=%s sent=%llu skipped=%llu age=%.3fs",
		 (unsigned long long)c->id, c->addr, close_reason_name(why),
		 (unsigned long long)c->sent, (unsigned long long)c->skipped,
		 NS_TO_S(mono_ns() - c->created));
	client_move(c, &dead);
}

/* The single timer's callback: close on a passed deadline or sleep on. */
static void client_timer_cb(__unused struct ev_loop *l, ev_timer *w, __unused int revents)
{
	struct client *c = container_of(w, struct client, timer);
	struct deadline_limits lim = client_limits();
	int64_t wait;
	enum deadline_kind k;

	timer_fired(TK_CLIENT, w);
	k = deadline_check(&c->dl, &lim, mono_ns(), &wait);
	if (k != DEADLINE_OK) {
		client_close(c, k == DEADLINE_IDLE ? CLOSE_IDLE : CLOSE_SEND_TIMEOUT);
		return;
	}
	if (wait == DEADLINE_NONE)
		timer_disarm(TK_CLIENT, w);
	else
		timer_arm(TK_CLIENT, w, NS_TO_S(wait));
}

/* Reads and discards what the client sends; it counts as activity. */
static void client_read(struct client *c)
{
	static char sink[16384];
	ssize_t n = read(c->fd, sink, sizeof(sink));

	if (n > 0) {
		c->dl.last_activity = mono_ns();
		return;
	}
	if (n == 0)
		client_close(c, CLOSE_PEER);
	else if (errno != EAGAIN && errno != EINTR)
		client_close(c, errno == ECONNRESET ? CLOSE_PEER : CLOSE_ERROR);
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

/* Watches for reading only, or for writing too (one epoll_ctl). */
static void client_watch(struct client *c, int events)
{
	ev_io_stop(loop, &c->io);
	ev_io_set(&c->io, c->fd, events);
	ev_io_start(loop, &c->io);
}

/* Accounts for n bytes accepted by the socket. */
static void client_advance(struct client *c, size_t n)
{
	int64_t now = mono_ns();

	cursor_advance(&c->cur, fanout_ring(), n);
	c->sent += n;
	counters.bytes_sent_total += n;
	c->dl.last_activity = now;
	c->dl.send_since = now;
}

/* Output is waiting for the socket: watch for writability and make sure the
 * timer honours the send deadline. */
static void client_set_pending(struct client *c)
{
	if (c->list == &pending)
		return;
	client_move(c, &pending);
	client_watch(c, EV_READ | EV_WRITE);
	c->dl.pending = true;
	c->dl.send_since = mono_ns();
	client_timer_update(c, false);
}

/* Caught up: stop watching for writability. */
static void client_set_live(struct client *c)
{
	if (c->draining) {
		client_close(c, CLOSE_SHUTDOWN);
		return;
	}
	if (c->list == &live)
		return;
	client_move(c, &live);
	client_watch(c, EV_READ);
	c->dl.pending = false;
}

/* Writes everything between the client's cursor and the head in one writev;
 * what the socket does not take stays pending. */
static void client_flush(struct client *c)
{
	struct iovec iov[3];
	size_t want = 0;
	ssize_t n;
	int cnt = cursor_iov(&c->cur, fanout_ring(), iov);

	for (int i = 0; i < cnt; i++)
		want += iov[i].iov_len;
	if (cnt == 0) {
		client_set_live(c);
		return;
	}
	n = writev(c->fd, iov, cnt);
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

/* Refuses a connection beyond max_clients: it is counted, never served. */
static void client_reject(int fd, const char *addr)
{
	uint64_t id = next_id++;

	close(fd);
	counters.clients_closed_total[CLOSE_REJECTED]++;
	closedlog_push(&closed_log, id, addr, 0, 0, CLOSE_REJECTED);
	log_info("client %llu closed %s reason=rejected (max_clients %llu reached)",
		 (unsigned long long)id, addr, (unsigned long long)conf->clients.max_clients);
}

/* Builds the client's state, embedding its watchers and its one timer. */
static struct client *client_new(int fd, const char *addr)
{
	struct client *c = pc_calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd = fd;
	c->id = next_id++;
	c->created = mono_ns();
	c->dl.last_activity = c->created;
	cursor_init(&c->cur, client_start());
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	ev_io_init(&c->io, client_io_cb, fd, EV_READ);
	timer_setup(TK_CLIENT, &c->timer, client_timer_cb);
	c->list = &live;
	TAILQ_INSERT_TAIL(&live, c, entry);
	return c;
}

/* Serves or rejects a freshly accepted connection. */
void client_accept(int fd, const char *addr, bool tcp)
{
	static const int one = 1;
	struct client *c;

	if (counters.clients_connected >= conf->clients.max_clients) {
		client_reject(fd, addr);
		return;
	}
	if (tcp)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = client_new(fd, addr);
	if (!c) {
		log_warning("client from %s: out of memory", addr);
		close(fd);
		return;
	}
	counters.clients_connected++;
	counters.clients_accepted_total++;
	log_info("client %llu open %s", (unsigned long long)c->id, c->addr);
	ev_io_start(loop, &c->io);
	client_timer_update(c, true);
	client_flush(c);
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

/* Clients waiting on their sockets are the only ones that can be overrun. */
void clients_before_append(size_t n)
{
	const struct ring *r = fanout_ring();
	struct cursor_policy p = client_policy();
	struct client *c, *next;
	uint64_t missed;

	TAILQ_FOREACH_SAFE(c, &pending, entry, next) {
		switch (cursor_make_room(&c->cur, r, n, &p, &missed)) {
		case CURSOR_KEEP:
			break;
		case CURSOR_DROP:
			client_close(c, CLOSE_OVERFLOW);
			break;
		case CURSOR_SKIPPED:
			c->skipped += missed;
			counters.clients_skipped_bytes_total += missed;
			log_debug("client %llu skipped %llu bytes", (unsigned long long)c->id,
				  (unsigned long long)missed);
			break;
		}
	}
}

/* Writes to every caught-up client. */
void clients_broadcast(void)
{
	struct client *c, *next;

	TAILQ_FOREACH_SAFE(c, &live, entry, next)
		client_flush(c);
}

/* Graceful stop: caught-up clients are closed, pending ones drain first. */
void clients_shutdown(void)
{
	struct client *c, *next;

	TAILQ_FOREACH_SAFE(c, &live, entry, next)
		client_close(c, CLOSE_SHUTDOWN);
	TAILQ_FOREACH(c, &pending, entry)
		c->draining = true;
}

/* Closes every open client. */
void clients_close_all(enum close_reason why)
{
	struct client *c;

	while ((c = TAILQ_FIRST(&live)) != NULL)
		client_close(c, why);
	while ((c = TAILQ_FIRST(&pending)) != NULL)
		client_close(c, why);
}

/* New timeouts apply to connected clients by re-arming their one timer. */
void clients_apply_config(void)
{
	struct client *c;

	for (size_t i = 0; i < OPEN_LISTS; i++)
		TAILQ_FOREACH(c, open_lists[i], entry)
			client_timer_update(c, true);
}

/* Only pending clients are behind; live ones are at the head. */
uint64_t clients_max_lag(void)
{
	const struct ring *r = fanout_ring();
	uint64_t lag = 0;
	struct client *c;

	TAILQ_FOREACH(c, &pending, entry)
		if (cursor_lag(&c->cur, r) > lag)
			lag = cursor_lag(&c->cur, r);
	return lag;
}

/* Frees the clients closed since the last call. */
void clients_reap(void)
{
	struct client *c;

	while ((c = TAILQ_FIRST(&dead)) != NULL) {
		TAILQ_REMOVE(&dead, c, entry);
		cursor_free(&c->cur);
		pc_free(c);
	}
}

/* kill client ID: closes one client. */
int client_kill(uint64_t id)
{
	struct client *c;

	for (size_t i = 0; i < OPEN_LISTS; i++)
		TAILQ_FOREACH(c, open_lists[i], entry)
			if (c->id == id) {
				client_close(c, CLOSE_KILL);
				return 0;
			}
	return -1;
}

/* One "show clients" row. */
static void client_row(struct statfmt_rows *t, const struct client *c, int64_t now)
{
	struct stats_client_row r = {
		.id = c->id, .addr = c->addr,
		.age_s = NS_TO_S(now - c->created),
		.idle_s = NS_TO_S(now - c->dl.last_activity),
		.lag_bytes = cursor_lag(&c->cur, fanout_ring()),
		.sent_bytes = c->sent, .skipped_bytes = c->skipped,
		.state = c->draining ? "closing" : c->list == &pending ? "pending" : "live",
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
		TAILQ_FOREACH(c, open_lists[l], entry) {
			size_t i;

			if (c->id <= after || (*got == n && c->id > pick[n - 1]->id))
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
		TAILQ_FOREACH(c, open_lists[i], entry)
			best = timer_sooner(best, &c->timer);
	return best;
}

/* fanout.c: owns the ring and the heartbeat; tells clients when it grew. */
#include "fanout.h"
#include "compat.h"
#include "client.h"
#include "counters.h"
#include "daemon.h"
#include "timers.h"

#include <string.h>

static struct ring ring;
static struct preamble preamble;   /* [clients] preamble: allocated here, once */
static ev_timer heartbeat_timer;
static int64_t last_out;    /* when a record or heartbeat was last appended */
static size_t unflushed;    /* bytes appended since clients were last told */

static void fanout_heartbeat_cb(struct ev_loop *l, ev_timer *w, int revents);

/* Allocates the ring once for the daemon's whole life. */
int fanout_init(void)
{
	if (ring_init(&ring, conf->clients.buffer) < 0)
		return -1;
	if (preamble_init(&preamble, conf->clients.preamble, conf->source.max_line) < 0) {
		ring_free(&ring);
		return -1;
	}
	timer_setup(TK_HEARTBEAT, &heartbeat_timer, fanout_heartbeat_cb);
	last_out = mono_ns();
	fanout_apply_config();
	return 0;
}

/* Releases the ring at exit. */
void fanout_free(void)
{
	ring_free(&ring);
	preamble_free(&preamble);
}

/* Read access for clients and stats. */
const struct ring *fanout_ring(void)
{
	return &ring;
}

/* Stores records once for every client; flushes first when clients that
 * are caught up could otherwise fall half a ring behind before they write. */
void fanout_append(const char *data, size_t n)
{
	if (unflushed + n > ring.size / 2)
		fanout_flush();
	clients_before_append(n);
	ring_write(&ring, data, n);
	unflushed += n;
	last_out = mono_ns();
}

/* Records from the source: the first ones of a run are kept as the
 * preamble too (a copy into memory allocated at start-up). */
void fanout_append_source(const char *data, size_t n)
{
	preamble_offer(&preamble, data, n, ring.head);
	fanout_append(data, n);
}

/* A new run of the source (a command started again, a new FIFO writer):
 * its first records become the preamble. */
void fanout_new_run(void)
{
	preamble_reset(&preamble);
}

/* Read access for new clients. */
const struct preamble *fanout_preamble(void)
{
	return &preamble;
}

/* One broadcast per batch of appends, not per record. */
void fanout_flush(void)
{
	if (unflushed == 0)
		return;
	unflushed = 0;
	clients_broadcast();
}

/* Appends heartbeat_line when nothing went out for `heartbeat`; otherwise
 * sleeps until it would be due. */
static void fanout_heartbeat_cb(__unused struct ev_loop *l, ev_timer *w, __unused int revents)
{
	static char line[HEARTBEAT_LINE_MAX + 1];
	int64_t period = MS_TO_NS(conf->clients.heartbeat_ms);
	int64_t quiet = mono_ns() - last_out;
	size_t n;

	timer_fired(TK_HEARTBEAT, w);
	if (quiet < period) {
		timer_arm(TK_HEARTBEAT, w, NS_TO_S(period - quiet));
		return;
	}
	n = strlen(conf->clients.heartbeat_line);
	memcpy(line, conf->clients.heartbeat_line, n);
	line[n++] = '\n';
	fanout_append(line, n);
	counters.heartbeats_total++;
	fanout_flush();
	timer_arm(TK_HEARTBEAT, w, NS_TO_S(period));
}

/* Starts, re-times or stops the heartbeat to match the configuration. */
void fanout_apply_config(void)
{
	int64_t period = MS_TO_NS(conf->clients.heartbeat_ms);
	int64_t left;

	if (period == 0 || conf->source.framing != FRAMING_LINE || daemon_stopping()) {
		timer_disarm(TK_HEARTBEAT, &heartbeat_timer);
		return;
	}
	left = last_out + period - mono_ns();
	timer_arm(TK_HEARTBEAT, &heartbeat_timer, NS_TO_S(left > 0 ? left : 0));
}

/* No heartbeats once the daemon stops. */
void fanout_stop(void)
{
	timer_disarm(TK_HEARTBEAT, &heartbeat_timer);
}

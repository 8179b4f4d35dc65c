/* fanout.c: owns the ring, its SSE form and the heartbeat; numbers the
 * records; tells clients when the rings grew. */
#include "fanout.h"
#include "websocket.h"
#include "client.h"
#include "compat.h"
#include "counters.h"
#include "daemon.h"
#include "framer.h"
#include "seqidx.h"
#include "source.h"
#include "timers.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Raw-ring index entries: one at a record start every ring/RAW_INDEX_SPAN
 * bytes at most, so the oldest record still in the ring is known to within
 * that much. */
#define RAW_INDEX_SPAN 1024

static struct ring ring;
static struct sse sse;
static bool sse_on;
static struct seqidx raw_index;
static uint64_t raw_indexed_at;  /* ring head at the last raw index entry */
static uint64_t epoch;
static uint64_t seq;             /* records appended (line framing) */
static uint64_t own_epoch;       /* chosen at start; epoch follows an upstream's */
static uint64_t own_seq;         /* the last seq given in own_epoch */
static uint64_t raw_since;       /* where the current epoch's records start */
static bool raw_index_due;       /* index the next record (a new epoch's first) */
static struct preamble preamble;   /* [clients] preamble: allocated here, once */
static ev_timer heartbeat_timer;
static int64_t last_out;         /* when a record or heartbeat was last appended */
static size_t unflushed;         /* raw bytes appended since clients were last told */
static uint64_t sse_unflushed;   /* SSE bytes appended since then */

static void fanout_heartbeat_cb(struct ev_loop *l, ev_timer *w, int revents);

/* A fresh epoch at every start (and for a Redis stream's epoch group):
 * 64 random bits, or the clock and pid when the kernel has no randomness
 * to give. */
uint64_t fanout_new_epoch(void)
{
	uint64_t e;
	struct timespec ts;

	if (getrandom(&e, sizeof(e), GRND_NONBLOCK) == (ssize_t)sizeof(e))
		return e;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 40;
}

/* The ring's reserve beyond its head: what the source's framer may write
 * there, or a heartbeat line inserted ahead of a held unfinished line. */
static size_t fanout_reserve(void)
{
	size_t max_line = conf->source.max_line;
	size_t framer = framer_reserve(conf->source.framing == FRAMING_RAW, max_line,
				       source_read_room());
	size_t heartbeat = HEARTBEAT_LINE_MAX + 1 + max_line;

	return framer > heartbeat ? framer : heartbeat;
}

/* Maps the ring once for the daemon's whole life: `buffer` bytes of history
 * for clients and the source's reserve, rounded up to a page. */
int fanout_init(void)
{
	if (ring_init(&ring, conf->clients.buffer, fanout_reserve()) < 0)
		return -1;
	if (preamble_init(&preamble, conf->clients.preamble, conf->source.max_line) < 0) {
		ring_free(&ring);
		return -1;
	}
	if (seqidx_init(&raw_index, RAW_INDEX_SPAN + 2) < 0)
		return -1;
	epoch = own_epoch = fanout_new_epoch();
	timer_setup(TK_HEARTBEAT, &heartbeat_timer, fanout_heartbeat_cb);
	last_out = mono_ns();
	fanout_apply_config();
	return fanout_sse_enable();
}

/* The SSE ring is only worth its memory once HTTP is served. */
int fanout_sse_enable(void)
{
	if (sse_on || conf->http.n_listen == 0 || conf->source.framing != FRAMING_LINE)
		return 0;
	if (sse_init(&sse, conf->clients.buffer, conf->source.max_line, epoch) < 0)
		return -1;
	sse.seq = seq;
	sse_on = true;
	return 0;
}

/* Releases the rings at exit. */
void fanout_free(void)
{
	ring_free(&ring);
	seqidx_free(&raw_index);
	if (sse_on)
		sse_free(&sse);
	sse_on = false;
	preamble_free(&preamble);
	websocket_free();
}

/* Read access for clients and stats. */
const struct ring *fanout_ring(void)
{
	return &ring;
}

/* Read access for SSE clients. */
const struct sse *fanout_sse(void)
{
	return sse_on ? &sse : NULL;
}

/* The source's framer writes into the ring's reserve itself. */
struct ring *fanout_ring_writer(void)
{
	return &ring;
}

/* Before anything is written into the reserve: flushes first when clients
 * that are caught up could otherwise fall half a ring behind before they
 * write, and applies the overflow policy to clients more than `buffer`
 * behind, whose oldest bytes the reserve is about to overwrite. */
void fanout_prepare(size_t n)
{
	if (unflushed + n > ring.window / 2)
		fanout_flush();
	clients_before_append(CLIENT_RAW, 0);
}

/* n bytes of whole records or a heartbeat were committed at the head. */
static void fanout_appended(size_t n)
{
	unflushed += n;
	last_out = mono_ns();
}

/* Makes room for n encoded bytes in the SSE ring, as fanout_prepare. */
static void fanout_sse_room(uint64_t n)
{
	if (sse_unflushed + n > sse.limit / 2)
		fanout_flush();
	clients_before_append(CLIENT_SSE, n);
	sse_unflushed += n;
}

/* The length of the whole records in the first half of n bytes of whole
 * records, or of the first record when that half holds none (n itself
 * when n is one record). */
static size_t fanout_sse_half(const char *data, size_t n)
{
	const char *nl = memrchr(data, '\n', n / 2);

	if (nl == NULL)
		nl = memchr(data, '\n', n);
	return (size_t)(nl + 1 - data);
}

/* The SSE form of whole records, in pieces whose encoding takes at most a
 * quarter of the SSE ring (halved until it does, down to one record,
 * which always fits): a chunk of many short records grows several times
 * over in its SSE form. */
static void fanout_sse_records(const char *data, size_t n)
{
	while (n > 0) {
		size_t take = n, half;
		uint64_t len = sse_records_len(&sse, data, take);

		while (len > sse.limit / 4 && (half = fanout_sse_half(data, take)) < take) {
			take = half;
			len = sse_records_len(&sse, data, take);
		}
		fanout_sse_room(len);
		sse_records(&sse, data, take);
		data += take;
		n -= take;
	}
}

/* Records that joined the ring at pos get their numbers, an index entry
 * when the last one lies far enough back (no scan: entries are at batch
 * starts, which are record starts), and their SSE and WebSocket forms. */
static void fanout_records(uint64_t pos, size_t n, uint64_t records)
{
	const char *data = ring_at(&ring, pos);

	if (conf->source.framing != FRAMING_LINE) {
		websocket_append(data, n);
		return;
	}
	if (raw_index.added == 0 || raw_index_due ||
	    pos - raw_indexed_at >= ring.window / RAW_INDEX_SPAN) {
		seqidx_add(&raw_index, seq + 1, pos, 0);
		raw_indexed_at = pos;
		raw_index_due = false;
	}
	if (sse_on)
		fanout_sse_records(data, n);
	websocket_append(data, n);
	seq += records;
}

/* Copies whole lines in at the head (a heartbeat, a notice, an upstream's
 * record), ahead of the unfinished line the source may hold; returns the
 * cursor where they start. */
static uint64_t fanout_write(const char *data, size_t n)
{
	uint64_t pos;

	fanout_prepare(n);
	pos = ring.head;
	ring_write(&ring, data, n);
	fanout_appended(n);
	return pos;
}

/* Records of the source now at ring cursor pos: the first ones of a run are
 * kept as the preamble too (a copy into memory allocated at start-up). */
static void fanout_source_records(uint64_t pos, size_t n, uint64_t records)
{
	preamble_offer(&preamble, ring_at(&ring, pos), n, pos);
	fanout_records(pos, n, records);
}

/* The framer's way into the stream: n bytes of `records` whole records
 * were committed at ring cursor pos. */
void fanout_appended_source(uint64_t pos, size_t n, uint64_t records)
{
	fanout_appended(n);
	fanout_source_records(pos, n, records);
}

/* The epoch of the next record changes (a relay takes on its upstream's):
 * lookups by seq only look at the records from here on (the raw index is
 * only searched by offset, from raw_since on). */
static void fanout_switch_epoch(uint64_t e)
{
	if (epoch == own_epoch)
		own_seq = seq;
	epoch = e;
	seq = e == own_epoch ? own_seq : 0;
	raw_since = ring.head;
	raw_index_due = true;
}

/* A Redis source learnt its stream's epoch before any record of it: show
 * info tells it from now on (pipecastd(8), "Event ids and resume"). */
void fanout_take_epoch(uint64_t e)
{
	if (conf->source.framing == FRAMING_LINE && e != epoch)
		fanout_switch_epoch(e);
}

/* One whole record that comes with its id (an upstream's): the node takes
 * on the id's epoch and the record its seq (pipecastd(8), "Event ids and
 * resume"). A record whose seq is not after the last one of the same epoch
 * is a repeat and is not appended: returns false. */
bool fanout_append_id(const char *rec, size_t n, uint64_t e, uint64_t s)
{
	if (conf->source.framing != FRAMING_LINE || (e == epoch && s <= seq) || s == 0)
		return false;
	if (e != epoch)
		fanout_switch_epoch(e);
	if (sse_on)
		sse_number_next(&sse, e, s);
	seq = s - 1;
	fanout_source_records(fanout_write(rec, n), n, 1);
	return true;
}

/* One whole record whose upstream id is not of the form EPOCH-SEQ: it
 * gets an id of this node's own epoch. */
void fanout_append_own(const char *rec, size_t n)
{
	fanout_append_id(rec, n, own_epoch, (epoch == own_epoch ? seq : own_seq) + 1);
}

/* An upstream's gap notice, passed on: an event in the SSE form, and a
 * notice line for raw clients when [clients] notices is on. */
void fanout_gap(bool known, uint64_t missed)
{
	char line[NOTICE_PREFIX_MAX + 64];
	int n;

	if (sse_on) {
		fanout_sse_room(sse_gap_len(known, missed));
		sse_gap(&sse, known, missed);
	}
	if (!conf->clients.notices)
		return;
	if (known)
		n = snprintf(line, sizeof(line), "%sgap (missed %llu)\n",
			     conf->clients.notice_prefix, (unsigned long long)missed);
	else
		n = snprintf(line, sizeof(line), "%sgap (missed unknown)\n",
			     conf->clients.notice_prefix);
	if (n > 0 && (size_t)n < sizeof(line))
		fanout_write(line, (size_t)n);
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
	websocket_flush();
	if (unflushed == 0 && sse_unflushed == 0)
		return;
	unflushed = 0;
	sse_unflushed = 0;
	clients_broadcast();
}

/* A heartbeat: a line in the raw ring, a comment in the SSE ring. */
static void fanout_heartbeat(void)
{
	static char line[HEARTBEAT_LINE_MAX + 1];
	size_t n = strlen(conf->clients.heartbeat_line);

	memcpy(line, conf->clients.heartbeat_line, n);
	line[n] = '\n';
	fanout_write(line, n + 1);
	if (sse_on) {
		fanout_sse_room(sse_comment_len(line, n));
		sse_comment(&sse, line, n);
	}
	counters.heartbeats_total++;
	fanout_flush();
}

/* Appends heartbeat_line when nothing went out for `heartbeat`; otherwise
 * sleeps until it would be due. */
static void fanout_heartbeat_cb(__unused struct ev_loop *l, ev_timer *w, __unused int revents)
{
	int64_t period = MS_TO_NS(conf->clients.heartbeat_ms);
	int64_t quiet = mono_ns() - last_out;

	timer_fired(TK_HEARTBEAT, w);
	if (quiet < period) {
		timer_arm(TK_HEARTBEAT, w, NS_TO_S(period - quiet));
		return;
	}
	fanout_heartbeat();
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

/* For show info and /events. */
uint64_t fanout_epoch(void)
{
	return epoch;
}

/* For show info. */
uint64_t fanout_last_seq(void)
{
	return seq;
}

/* The later of the raw ring's oldest indexed record and the SSE ring's
 * oldest event. */
uint64_t fanout_first_seq(void)
{
	uint64_t tail = ring_tail(&ring);
	const struct seqidx_entry *e = seqidx_oldest(&raw_index, raw_since > tail ? raw_since : tail);
	uint64_t first = e ? e->seq : 0, off, s;

	if (seq == 0 || first == 0 || first > seq)
		return 0;
	if (!sse_on)
		return first;
	s = sse_first_seq(&sse, &off);
	return s == 0 ? 0 : s > first ? s : first;
}

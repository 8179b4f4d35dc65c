/* upredis.c: the redis: kind of upstream (pipecast.conf(5), "Upstream
 * sources"; pipecastd(8), "A Redis stream as the backbone"): the Redis
 * stream KEY read with XREAD BLOCK over the connection of upstream.c, in
 * RESP read by lib/resp.c in place (no hiredis: nothing is allocated per
 * reply element). The connection is request/response:
 *   handshake: the epoch script (lib/repoch.c) finds the stream's epoch
 *     group; a new edge then walks back from the newest entry with
 *     XREVRANGE until its backlog is filled;
 *   streaming: MULTI, the epoch script, XREAD COUNT, EXEC: the entries
 *     come with the epoch of the stream instance they were read from
 *     (Redis runs a transaction alone); when a read found fewer than its
 *     batch, XREAD BLOCK COUNT 1 first waits for the next entry (its
 *     answer only wakes the edge up: the transaction reads that entry).
 * Each entry's field `data` is one record, its id EPOCH-SEQ with SEQ = MS
 * * 1000000 + SEQ of the entry id (rstream_id_to_seq); the record is made
 * in the read buffer itself (its newlines turned to CR, the CR of RESP's
 * CRLF after it turned to the newline that ends it). */
#include "upstream.h"
#include "counters.h"
#include "daemon.h"
#include "fanout.h"
#include "log.h"
#include "repoch.h"
#include "resp.h"
#include "rstream.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define UPREDIS_COUNT      4096          /* entries per XREAD or XREVRANGE */
#define UPREDIS_BLOCK_MS   2000          /* the longest XREAD BLOCK */
#define UPREDIS_SLACK      (64 * 1024)   /* read buffer room beyond max_line */
#define UPREDIS_CMD_MAX    8192

/* The replies the connection waits for, in order: +OK and +QUEUED of a
 * transaction, the head of EXEC's answer, the epoch script's, XREAD's in
 * it, a backlog scan's, a wake-up's. */
enum rd_reply { RD_STATUS, RD_EXEC, RD_EPOCH, RD_READ, RD_SCAN, RD_WAKE };

#define UPREDIS_EXPECT_MAX 8

/* What reading a reply came to. */
enum rd_step { RD_DONE, RD_MORE, RD_GONE };

static struct {
	const struct upurl *url;
	size_t keylen, cap;
	struct resp_reader rd;
	struct rstream_walk walk;
	enum rd_reply expect[UPREDIS_EXPECT_MAX];
	unsigned n_expect;
	bool walking;            /* the walk is inside the first expected reply */
	bool checked;            /* this connection's epoch is known */
	bool batch_full;         /* the last read found UPREDIS_COUNT entries */
	uint64_t batch_n;
	bool have_epoch;
	uint64_t epoch;          /* the stream's epoch group, once found */
	uint64_t fresh;          /* the epoch a group created now gets */
	bool renew;              /* the stream went back in time: a new epoch */
	bool have_last;          /* the next read starts after last */
	uint64_t last_ms, last_seq;
	uint64_t told_ms, told_seq;  /* the newest deleted entry a gap notice told of */
	int64_t ord;             /* entries ever added up to last; -1 unknown */
	int64_t batch_added;     /* entries-added when the current batch was read */
	bool scanning;           /* a new edge fills its backlog */
	bool scan_stop;
	uint64_t scan_bytes, scan_n, scan_ms, scan_seq;
	uint64_t skipped;        /* entries without `data`, or with an id too large */
} rd;

/* A new name for a group this edge may create; never 0 (0 = no renew). */
static void upredis_new_fresh(void)
{
	do
		rd.fresh = fanout_new_epoch();
	while (rd.fresh == 0);
}

/* Redis answered an error (no permission, WRONGTYPE, LOADING...). */
static void upredis_reply_error(const char *msg, size_t len)
{
	char why[256];

	snprintf(why, sizeof(why), "Redis answered: %.*s", len > 200 ? 200 : (int)len, msg);
	upstream_retry(why);
}

/* The epoch script alone (the handshake). */
static size_t upredis_script(char *cmd, size_t cap)
{
	rd.expect[rd.n_expect++] = RD_EPOCH;
	return repoch_cmd(cmd, cap, rd.url->key, rd.keylen, rd.fresh, rd.renew ? rd.epoch : 0);
}

/* MULTI or EXEC. */
static size_t upredis_word(char *cmd, size_t cap, const char *word)
{
	struct resp_arg arg = { word, strlen(word) };

	return resp_cmd(cmd, cap, &arg, 1);
}

/* MULTI, the epoch script, XREAD COUNT after the last entry, EXEC: +OK,
 * +QUEUED twice, then EXEC's array of the two answers. In a transaction
 * XREAD never blocks (its BLOCK is ignored). */
static size_t upredis_read(char *cmd, size_t cap)
{
	static const enum rd_reply replies[] = {
		RD_STATUS, RD_STATUS, RD_STATUS, RD_EXEC, RD_EPOCH, RD_READ,
	};
	char id[RSTREAM_ID_MAX + 1];
	size_t n = upredis_word(cmd, cap, "MULTI");

	rstream_id_format(id, rd.last_ms, rd.last_seq);
	if (n < cap)
		n += repoch_cmd(cmd + n, cap - n, rd.url->key, rd.keylen, rd.fresh,
				rd.renew ? rd.epoch : 0);
	if (n < cap)
		n += resp_cmd_xread(cmd + n, cap - n, 1, UPREDIS_COUNT, rd.url->key, rd.keylen, id);
	if (n < cap)
		n += upredis_word(cmd + n, cap - n, "EXEC");
	for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++)
		rd.expect[rd.n_expect++] = replies[i];
	return n;
}

/* XREVRANGE back from the oldest entry the scan has seen. */
static size_t upredis_scan(char *cmd, size_t cap)
{
	char id[RSTREAM_ID_MAX + 2] = "+";

	if (rd.scan_n > 0) {
		id[0] = '(';
		rstream_id_format(id + 1, rd.scan_ms, rd.scan_seq);
	}
	rd.scan_n = 0;
	rd.expect[rd.n_expect++] = RD_SCAN;
	return resp_cmd_xrevrange(cmd, cap, rd.url->key, rd.keylen, id, "-", UPREDIS_COUNT);
}

/* XREAD BLOCK COUNT 1 after the last entry: returns when one comes, or
 * after the block time (shorter than idle_timeout, so Redis' answers keep
 * a live link from looking silent). */
static size_t upredis_wait(char *cmd, size_t cap)
{
	char id[RSTREAM_ID_MAX + 1];
	uint64_t block = UPREDIS_BLOCK_MS, idle = conf->source.idle_timeout_ms;

	if (idle && idle / 2 < block)
		block = idle / 2 ? idle / 2 : 1;
	rstream_id_format(id, rd.last_ms, rd.last_seq);
	rd.expect[rd.n_expect++] = RD_WAKE;
	return resp_cmd_xread(cmd, cap, block, 1, rd.url->key, rd.keylen, id);
}

/* The next request: the epoch script alone (handshake), the backlog
 * scan, or a read (after a wait for an entry when the last read did not
 * fill its batch). */
static bool upredis_next(void)
{
	char cmd[UPREDIS_CMD_MAX];
	size_t n = 0;

	rd.n_expect = 0;
	rd.walking = false;
	if (!rd.checked)
		n = upredis_script(cmd, sizeof(cmd));
	else if (rd.scanning)
		n = upredis_scan(cmd, sizeof(cmd));
	else {
		if (!rd.batch_full)
			n = upredis_wait(cmd, sizeof(cmd));
		if (n < sizeof(cmd))
			n += upredis_read(cmd + n, sizeof(cmd) - n);
	}
	if (n > sizeof(cmd)) {
		upstream_retry("a command does not fit its buffer");
		return false;
	}
	return upstream_send(cmd, n);
}

/* The first epoch found: a new edge starts from its newest entries,
 * filling its backlog (or after the last one with no backlog). */
static void upredis_adopt(const struct repoch_reply *rep)
{
	rd.have_epoch = true;
	rd.epoch = rep->epoch;
	fanout_take_epoch(rd.epoch);
	log_notice("upstream %s: stream epoch %016" PRIx64, upstream_name(), rd.epoch);
	rd.ord = -1;
	if (conf->clients.backlog == 0) {
		rd.have_last = true;
		rd.last_ms = rep->last_ms;
		rd.last_seq = rep->last_seq;
		rd.ord = rep->added;
		return;
	}
	rd.scanning = true;
	rd.scan_stop = false;
	rd.scan_bytes = rd.scan_n = 0;
}

/* The epoch group changed (the stream was deleted or re-created, Redis
 * restarted empty): while streaming, reconnect; at a handshake, take the
 * new epoch, tell clients with a gap notice of unknown size, and read the
 * new stream from its start. False when the connection was given up. */
static bool upredis_new_stream(const struct repoch_reply *rep)
{
	char why[UPURL_KEY_MAX + 64];

	if (upstream_is_streaming()) {
		snprintf(why, sizeof(why), "stream %s was deleted or re-created", rd.url->key);
		upstream_retry(why);
		return false;
	}
	log_notice("upstream %s: a new stream, epoch %016" PRIx64 " (was %016" PRIx64
		   "): reading it from its start", upstream_name(), rep->epoch, rd.epoch);
	fanout_gap(false, 0);
	rd.epoch = rep->epoch;
	fanout_take_epoch(rd.epoch);
	rd.have_last = true;
	rd.last_ms = rd.last_seq = 0;
	rd.told_ms = rd.told_seq = 0;
	rd.ord = -1;
	rd.scanning = false;
	return true;
}

/* Entries after the last one read are gone before the edge could read
 * them: trimmed (MAXLEN while the edge was away: more entries left the
 * head of the stream than the edge had read) or deleted (XDEL after the
 * last one read). Clients get a gap notice of unknown size, once per such
 * loss. Reading from the start of a stream, older entries are no loss. */
static void upredis_lost(const struct repoch_reply *rep)
{
	bool trimmed = rd.ord >= 0 && rep->added >= 0 && rep->added - rep->length > rd.ord;
	bool deleted = rd.have_last && (rd.last_ms || rd.last_seq) &&
		rstream_id_cmp(rep->deleted_ms, rep->deleted_seq, rd.last_ms, rd.last_seq) > 0 &&
		rstream_id_cmp(rep->deleted_ms, rep->deleted_seq, rd.told_ms, rd.told_seq) > 0;
	char a[RSTREAM_ID_MAX + 1];

	if (!trimmed && !deleted)
		return;
	rstream_id_format(a, rd.last_ms, rd.last_seq);
	log_warning("upstream %s: entries after %s were %s before they were read: a gap",
		    upstream_name(), a, trimmed ? "trimmed" : "deleted");
	fanout_gap(false, 0);
	if (trimmed)
		rd.ord = rep->added - rep->length;
	rd.told_ms = rep->deleted_ms;
	rd.told_seq = rep->deleted_seq;
}

/* The stream's last-generated-id is older than an entry already read:
 * the stream went back in time (re-created, XSETID): the next connection
 * renews its epoch. */
static bool upredis_backwards(const struct repoch_reply *rep)
{
	char why[UPURL_KEY_MAX + 2 * RSTREAM_ID_MAX + 64], a[RSTREAM_ID_MAX + 1],
	     b[RSTREAM_ID_MAX + 1];

	rstream_id_format(a, rep->last_ms, rep->last_seq);
	rstream_id_format(b, rd.last_ms, rd.last_seq);
	snprintf(why, sizeof(why), "stream %s went back in time (last id %s, read up to %s)",
		 rd.url->key, a, b);
	rd.renew = true;
	upstream_retry(why);
	return false;
}

/* What the epoch script said. False when the connection was given up. */
static bool upredis_epoch_seen(const struct repoch_reply *rep)
{
	char why[UPURL_KEY_MAX + 64];

	if (!rep->exists) {
		snprintf(why, sizeof(why), "stream %s does not exist", rd.url->key);
		upstream_retry(why);
		return false;
	}
	if (rep->epoch == rd.fresh)
		upredis_new_fresh();
	if (!rd.have_epoch) {
		upredis_adopt(rep);
	} else if (rep->epoch != rd.epoch) {
		if (!upredis_new_stream(rep))
			return false;
	} else if (rd.have_last &&
		   rstream_id_cmp(rep->last_ms, rep->last_seq, rd.last_ms, rd.last_seq) < 0) {
		return upredis_backwards(rep);
	} else {
		upredis_lost(rep);
	}
	rd.batch_added = rep->added;
	rd.renew = false;
	rd.checked = true;
	return true;
}

/* Reads the epoch script's reply. */
static enum rd_step upredis_epoch(const char *buf, size_t len)
{
	struct repoch_reply rep;
	const char *msg = NULL;
	size_t msglen = 0;

	switch (repoch_read(&rd.rd, buf, len, &rep, &msg, &msglen)) {
	case RSTREAM_MORE:
		return RD_MORE;
	case RSTREAM_REPLY_ERROR:
		upredis_reply_error(msg, msglen);
		return RD_GONE;
	case RSTREAM_END:
		return upredis_epoch_seen(&rep) ? RD_DONE : RD_GONE;
	default:
		upstream_retry("not the epoch script's reply (protocol error)");
		return RD_GONE;
	}
}

/* An entry that is no record: no field `data`, or an id whose SEQ does
 * not fit (pipecastd(8)); logged when the count reaches a power of two. */
static void upredis_skip(const struct rstream_entry *e, const char *what)
{
	rd.skipped++;
	if ((rd.skipped & (rd.skipped - 1)) == 0)
		log_warning("upstream %s: entry %.*s %s: skipped (%" PRIu64 " so far)",
			    upstream_name(), (int)e->id_len, e->id, what, rd.skipped);
}

/* One entry read: a record made in place in the read buffer (its
 * newlines become CR, as the data lines of one SSE event are joined, and
 * the CR of RESP's CRLF after it the newline that ends it). */
static void upredis_record(const struct rstream_entry *e)
{
	char *d = (char *)e->data, *nl;
	uint64_t s;

	rd.have_last = true;
	rd.last_ms = e->ms;
	rd.last_seq = e->seq;
	if (!e->has_data) {
		upredis_skip(e, "has no field data");
		return;
	}
	if (rstream_id_to_seq(e->ms, e->seq, &s) < 0) {
		upredis_skip(e, "has an id that maps to no SEQ");
		return;
	}
	for (nl = memchr(d, '\n', e->data_len); nl; nl = memchr(nl, '\n', (size_t)(d + e->data_len - nl)))
		*nl = '\r';
	d[e->data_len] = '\n';
	if (fanout_append_id(d, e->data_len + 1, rd.epoch, s))
		counters.source_records_total++;
}

/* One entry of the backlog scan (newest first): the scan stops at the
 * first that would overflow backlog; reading starts after it. */
static void upredis_scan_entry(const struct rstream_entry *e)
{
	uint64_t cost = e->has_data ? e->data_len + 1 : 0;

	rd.scan_n++;
	if (rd.scan_stop)
		return;
	if (rd.scan_bytes + cost > conf->clients.backlog) {
		rd.scan_stop = true;
		rd.have_last = true;
		rd.last_ms = e->ms;
		rd.last_seq = e->seq;
		return;
	}
	rd.scan_bytes += cost;
	rd.scan_ms = e->ms;
	rd.scan_seq = e->seq;
}

/* A scan reply is over: go on further back (each reply within the
 * connect timeout), or start reading. */
static void upredis_scan_end(void)
{
	upstream_handshake_progress();
	if (!rd.scan_stop && rd.scan_n == UPREDIS_COUNT)
		return;
	if (!rd.scan_stop) {
		rd.have_last = true;
		rd.last_ms = rd.last_seq = 0;
	}
	rd.scanning = false;
}

/* An entry larger than the read buffer allows (max_line): it is dropped,
 * and the next connection reads on after it (the reply cannot be read to
 * its end). Anything else over the limits is a protocol error. */
static enum rd_step upredis_too_large(const char *buf, size_t len)
{
	uint64_t ms, seq;
	char id[RSTREAM_ID_MAX + 1];

	if (rstream_peek_id(&rd.walk, buf, len, &ms, &seq) < 0) {
		upstream_retry("a reply over the size limits (max_line)");
		return RD_GONE;
	}
	rstream_id_format(id, ms, seq);
	log_warning("upstream %s: entry %s larger than max_line (%llu) dropped",
		    upstream_name(), id, (unsigned long long)conf->source.max_line);
	rd.have_last = true;
	rd.last_ms = ms;
	rd.last_seq = seq;
	rd.ord = -1;
	rd.scanning = false;
	upstream_retry("stepping over that entry");
	return RD_GONE;
}

/* One entry of a reply: a record (a read), a step of the backlog scan,
 * or nothing (the wake-up's entry: the next read takes it). */
static void upredis_entry(enum rd_reply kind, const struct rstream_entry *e)
{
	if (kind == RD_READ) {
		rd.batch_n++;
		upredis_record(e);
	} else if (kind == RD_SCAN) {
		upredis_scan_entry(e);
	}
}

/* A batch of entries was read: when it reached the end of the stream,
 * every entry added so far is at or before the last one read. */
static void upredis_batch_end(void)
{
	rd.batch_full = rd.batch_n == UPREDIS_COUNT;
	if (!rd.batch_full)
		rd.ord = rd.batch_added;
	else if (rd.ord >= 0)
		rd.ord += (int64_t)rd.batch_n;
}

/* The end of a reply of entries. */
static void upredis_entries_end(enum rd_reply kind)
{
	if (kind == RD_SCAN)
		upredis_scan_end();
	else if (kind == RD_READ)
		upredis_batch_end();
}

/* Reads the entries of a read (XREAD in EXEC), a scan (XREVRANGE) or a
 * wake-up (XREAD BLOCK). */
static enum rd_step upredis_entries(enum rd_reply kind, const char *buf, size_t len)
{
	struct rstream_entry e;

	if (!rd.walking) {
		rstream_walk_init(&rd.walk, &rd.rd, kind == RD_SCAN ? RSTREAM_XRANGE : RSTREAM_XREAD);
		rd.walking = true;
		rd.batch_n = 0;
	}
	for (;;) {
		switch (rstream_next(&rd.walk, buf, len, &e)) {
		case RSTREAM_ENTRY:
			upredis_entry(kind, &e);
			continue;
		case RSTREAM_END:
		case RSTREAM_NIL:
			upredis_entries_end(kind);
			return RD_DONE;
		case RSTREAM_MORE:     /* too large only when it fills the buffer alone */
			if (rd.rd.pos > 0 || len < rd.cap)
				return RD_MORE;
			return upredis_too_large(buf, len);
		case RSTREAM_ELIMIT:
			return upredis_too_large(buf, len);
		case RSTREAM_REPLY_ERROR:
			upredis_reply_error(e.data, e.data_len);
			return RD_GONE;
		case RSTREAM_EPROTO:
			break;
		}
		upstream_retry("not a stream reply (protocol error)");
		return RD_GONE;
	}
}

/* +OK, +QUEUED, or the head of EXEC's answer (an array of two answers);
 * an error (a command refused as it was queued) gives the link up. */
static enum rd_step upredis_simple(enum rd_reply kind, const char *buf, size_t len)
{
	struct resp_elem el;
	enum resp_status st = resp_next(&rd.rd, buf, len, &el);

	if (st == RESP_MORE)
		return RD_MORE;
	if (st == RESP_OK && el.type == RESP_ERROR) {
		upredis_reply_error(el.str, el.len);
		return RD_GONE;
	}
	if (st == RESP_OK && (kind == RD_STATUS ? el.type == RESP_SIMPLE
						: el.type == RESP_ARRAY && el.n == 2))
		return RD_DONE;
	upstream_retry("not the answer to a transaction (protocol error)");
	return RD_GONE;
}

/* Reads the reply the connection waits for first. */
static enum rd_step upredis_reply(char *buf, size_t len)
{
	switch (rd.expect[0]) {
	case RD_STATUS:
	case RD_EXEC:
		return upredis_simple(rd.expect[0], buf, len);
	case RD_EPOCH:
		return upredis_epoch(buf, len);
	default:
		return upredis_entries(rd.expect[0], buf, len);
	}
}

/* A whole reply was read: the next one, or the next request (streaming
 * begins once the handshake's replies are read). */
static bool upredis_reply_done(void)
{
	char detail[64 + RSTREAM_ID_MAX], id[RSTREAM_ID_MAX + 1];

	rd.walking = false;
	memmove(rd.expect, rd.expect + 1, --rd.n_expect * sizeof(rd.expect[0]));
	if (rd.n_expect > 0)
		return true;
	if (!upstream_is_streaming() && !rd.scanning) {
		rstream_id_format(id, rd.last_ms, rd.last_seq);
		snprintf(detail, sizeof(detail), ", epoch %016" PRIx64 ", after %s", rd.epoch, id);
		upstream_streaming(detail);
	}
	return upredis_next();
}

/* Replies, in order; consumed bytes leave the buffer. */
static bool upredis_input(char *buf, size_t *len)
{
	while (rd.rd.pos < *len) {
		enum rd_step st;

		if (rd.n_expect == 0) {
			upstream_retry("Redis sent what it was not asked for");
			return false;
		}
		if ((st = upredis_reply(buf, *len)) == RD_GONE)
			return false;
		if (st == RD_MORE)
			break;
		if (!upredis_reply_done())
			return false;
	}
	memmove(buf, buf + rd.rd.pos, *len - rd.rd.pos);
	*len -= rd.rd.pos;
	resp_reader_shift(&rd.rd, rd.rd.pos);
	return true;
}

/* A new connection: a fresh reader, then the epoch script. */
static void upredis_connected(void)
{
	const struct resp_limits lim = {
		.max_bulk = conf->source.max_line - 1, .max_line = 1024,
		.max_array = 4096, .max_depth = 6,
	};

	resp_reader_init(&rd.rd, &lim);
	rd.checked = false;
	rd.batch_full = false;
	rd.scan_bytes = rd.scan_n = 0;     /* a scan cut short starts again */
	rd.scan_stop = false;
	upredis_next();
}

/* The read buffer holds one whole entry of max_line (?history= was
 * refused with the configuration). */
static size_t upredis_open(const struct upurl *u)
{
	rd.url = u;
	rd.keylen = strlen(u->key);
	rd.cap = conf->source.max_line + UPREDIS_SLACK;
	upredis_new_fresh();
	return rd.cap;
}

const struct upstream_kind upredis_kind = {
	.open = upredis_open,
	.connected = upredis_connected,
	.input = upredis_input,
};

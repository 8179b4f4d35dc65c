/* fuzz_sseparse.c: libFuzzer target for the upstream event stream reader
 * (lib/sseparse.c), its gap helper, and the id parser the daemon applies to
 * an upstream event's id (lib/eventid.c).
 *
 * Input: byte 0 picks the data buffer's size (1..256), bytes 1..2 seed
 * the chunk sizes; the rest is the stream, read once whole and once in
 * chunks (each chunk in an allocation of its exact size).
 *
 * Invariants checked (any failure aborts):
 *  - the events (and dropped events) equal those of the reference model
 *    below, which reads the whole stream line by line as the event stream
 *    format says, with the size rules of sseparse.h; so do the last id,
 *    the retry hint, and the dropped and comment counts;
 *  - read in chunks, the same comes out as read whole;
 *  - an event's data fits the buffer and holds no '\n'; *used never
 *    exceeds what was given, and SSEPARSE_MORE means all of it;
 *  - a data accepted as a gap, and an id accepted as EPOCH-SEQ, formatted
 *    again, parse to the same values;
 *  - nothing is allocated through the daemon's allocator. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "alloc.h"
#include "eventid.h"
#include "sseparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER 3

/* A digest of the events seen. */
struct trace {
	uint64_t h;
	uint64_t events;
};

/* Mixes bytes into the digest (FNV-1a), with the length first. */
static void trace_add(struct trace *t, const void *p, size_t n)
{
	t->h = fuzz_fnv(fuzz_fnv(t->h, &n, sizeof(n)), p, n);
}

/* Adds one event to the digest. */
static void trace_event(struct trace *t, int dropped, const char *type, size_t tlen,
			int has_id, const char *id, size_t idlen,
			const char *data, size_t dlen)
{
	trace_add(t, &dropped, sizeof(dropped));
	if (!dropped) {
		trace_add(t, type, tlen);
		trace_add(t, &has_id, sizeof(has_id));
		trace_add(t, id, has_id ? idlen : 0);
		trace_add(t, data, dlen);
	}
	t->events++;
}

/* The reference model's state: unbounded buffers, bounds checked at the end. */
struct model {
	char *data;
	size_t dlen;
	unsigned ndata;
	bool too_long;
	char id[SSEPARSE_ID_MAX], last_id[SSEPARSE_ID_MAX];
	size_t id_len, last_len;
	bool has_id;
	char type[SSEPARSE_TYPE_MAX];
	size_t type_len;
	uint64_t retry, dropped, comments;
};

/* The model's field handling for one complete, non-empty line. */
static void model_field(struct model *m, const char *l, size_t n, size_t cap)
{
	const char *colon = memchr(l, ':', n);
	size_t nl = colon ? (size_t)(colon - l) : n;
	const char *v = colon ? colon + 1 : l + n;
	size_t vn = colon ? n - nl - 1 : 0;

	if (vn && v[0] == ' ') {
		v++;
		vn--;
	}
	if (nl == 4 && !memcmp(l, "data", 4)) {
		if (m->ndata++)
			m->data[m->dlen++] = '\r';
		memcpy(m->data + m->dlen, v, vn);
		m->dlen += vn;
		if (m->dlen > cap)
			m->too_long = true;
	} else if (nl == 2 && !memcmp(l, "id", 2)) {
		if (vn > SSEPARSE_ID_MAX)
			m->too_long = true;
		else if (!memchr(v, '\0', vn)) {
			memcpy(m->id, v, vn);
			memcpy(m->last_id, v, vn);
			m->id_len = m->last_len = vn;
			m->has_id = true;
		}
	} else if (nl == 5 && !memcmp(l, "event", 5)) {
		if (vn > SSEPARSE_TYPE_MAX)
			m->too_long = true;
		else {
			memcpy(m->type, v, vn);
			m->type_len = vn;
		}
	} else if (nl == 5 && !memcmp(l, "retry", 5) && vn > 0) {
		uint64_t r = 0;
		size_t i;

		for (i = 0; i < vn && v[i] >= '0' && v[i] <= '9'; i++) {
			if (r > (UINT64_MAX - (uint64_t)(v[i] - '0')) / 10)
				break;
			r = r * 10 + (uint64_t)(v[i] - '0');
		}
		if (i == vn)
			m->retry = r;
	}
}

/* An empty line in the model. */
static void model_dispatch(struct model *m, struct trace *t)
{
	if (m->too_long) {
		m->dropped++;
		trace_event(t, 1, NULL, 0, 0, NULL, 0, NULL, 0);
	} else if (m->ndata) {
		trace_event(t, 0, m->type, m->type_len, m->has_id, m->id, m->id_len,
			    m->data, m->dlen);
	}
	m->dlen = m->ndata = m->type_len = 0;
	m->too_long = m->has_id = false;
}

/* Reads the whole stream as the format says, line by line. */
static void model_run(const char *in, size_t n, size_t cap, struct model *m,
		      struct trace *t)
{
	size_t i = 0;

	m->data = malloc(2 * n + 1);
	if (!m->data)
		abort();
	if (n >= 3 && !memcmp(in, "\xef\xbb\xbf", 3))
		i = 3;
	while (i < n) {
		size_t s = i;

		while (i < n && in[i] != '\r' && in[i] != '\n')
			i++;
		if (i == n)
			break;   /* an unfinished line is not read */
		if (i == s)
			model_dispatch(m, t);
		else if (in[s] == ':')
			m->comments++;
		else
			model_field(m, in + s, i - s, cap);
		i += in[i] == '\r' && i + 1 < n && in[i + 1] == '\n' ? 2 : 1;
	}
	free(m->data);
}

/* Checks one event from the parser and adds it to the digest. */
static void fuzz_event(const struct sseparse *p, const struct sse_event *ev, struct trace *t)
{
	int64_t missed, again;
	struct eventid id, again_id;

	if (ev->len > p->cap || (ev->len && memchr(ev->data, '\n', ev->len)))
		fuzz_fail("event data too long or holding a newline");
	if (sseparse_gap(ev->data, ev->len, &missed) == 0) {
		char buf[64];
		int n = missed < 0 ? snprintf(buf, sizeof(buf), "{\"missed\":null}")
				   : snprintf(buf, sizeof(buf), "{\"missed\":%lld}", (long long)missed);

		if (sseparse_gap(buf, (size_t)n, &again) != 0 || again != missed)
			fuzz_fail("gap does not re-parse");
	}
	if (ev->has_id && eventid_parse(ev->id, ev->id_len, &id) == 0) {
		char buf[EVENTID_MAX];
		size_t n = eventid_format(buf, id.epoch, id.seq);

		if (memcmp(buf, ev->id, 17) != 0 || eventid_parse(buf, n, &again_id) != 0 ||
		    again_id.epoch != id.epoch || again_id.seq != id.seq)
			fuzz_fail("event id does not re-format");
	}
	trace_event(t, 0, ev->type, ev->type_len, ev->has_id, ev->id, ev->id_len,
		    ev->data, ev->len);
}

/* Runs the parser over the stream in chunks (seed 0: whole). */
static void fuzz_run(struct sseparse *p, const uint8_t *in, size_t n, uint32_t seed,
		     struct trace *t)
{
	size_t off = 0;

	while (off < n) {
		size_t c = fuzz_chunk(&seed, 97, n - off), pos = 0;
		char *chunk = malloc(c);

		if (!chunk)
			abort();
		memcpy(chunk, in + off, c);
		while (pos < c) {
			struct sse_event ev;
			size_t used = 0;
			enum sseparse_status st = sseparse_feed(p, chunk + pos, c - pos, &used, &ev);

			if (used > c - pos || (st == SSEPARSE_MORE && used != c - pos) ||
			    (st != SSEPARSE_MORE && used == 0))
				fuzz_fail("bad *used");
			if (st == SSEPARSE_EVENT)
				fuzz_event(p, &ev, t);
			else if (st == SSEPARSE_DROPPED)
				trace_event(t, 1, NULL, 0, 0, NULL, 0, NULL, 0);
			pos += used;
		}
		free(chunk);
		off += c;
	}
}

/* Compares a parser's ending state with the model's. */
static void fuzz_compare(const struct sseparse *p, const struct trace *t,
			 const struct model *m, const struct trace *mt)
{
	if (t->h != mt->h || t->events != mt->events)
		fuzz_fail("events differ from the model");
	if (p->last_id_len != m->last_len || memcmp(p->last_id, m->last_id, m->last_len))
		fuzz_fail("last id differs from the model");
	if (p->retry_ms != m->retry || p->dropped != m->dropped || p->comments != m->comments)
		fuzz_fail("retry, dropped or comments differ from the model");
}

/* One input: see the top of this file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t total0 = alloc_total();
	struct sseparse whole, chunked;
	struct trace tw = { FUZZ_FNV_BASIS, 0 }, tc = tw, tm = tw;
	struct model m;
	size_t cap, n;
	char *buf1, *buf2;

	if (size < HEADER)
		return 0;
	cap = 1 + data[0];
	n = size - HEADER;
	buf1 = malloc(cap);
	buf2 = malloc(cap);
	if (!buf1 || !buf2)
		abort();
	memset(&m, 0, sizeof(m));
	model_run((const char *)data + HEADER, n, cap, &m, &tm);
	sseparse_init(&whole, buf1, cap);
	fuzz_run(&whole, data + HEADER, n, 0, &tw);
	sseparse_init(&chunked, buf2, cap);
	fuzz_run(&chunked, data + HEADER, n, ((uint32_t)data[1] << 8 | data[2]) + 1, &tc);
	fuzz_compare(&whole, &tw, &m, &tm);
	fuzz_compare(&chunked, &tc, &m, &tm);
	free(buf1);
	free(buf2);
	if (alloc_total() != total0)
		fuzz_fail("the parser allocated");
	return 0;
}

/* fuzz_resp.c: libFuzzer target for the RESP2 reader and writer
 * (lib/resp.c) and the Redis stream replies walked on it (lib/rstream.c,
 * lib/repoch.c).
 *
 * Input: byte 0 picks the limits (max_bulk 0..63 or 1 MiB, max_depth
 * 1..8), byte 1 the reply kind walked (raw elements, XREAD, XRANGE, XINFO
 * STREAM; with bit 2 set, the epoch script's reply, then an XREAD
 * reply, as in EXEC's answer), bytes 2..3 seed the chunk sizes; the rest is what a server
 * sends, read once whole and once in chunks into a buffer allocated to
 * the input's exact length and compacted as the daemon would.
 *
 * Invariants checked (any failure aborts):
 *  - every element or entry handed out points inside the bytes held, a
 *    bulk or entry value is within max_bulk (an error text within max_line), depths stay under max_depth,
 *    r->pos never passes the bytes held;
 *  - read in chunks, the same elements (or entries) come out, in the same
 *    order, with the same final status, as read whole: a split point
 *    never changes what is parsed;
 *  - RESP_MORE, and RSTREAM_MORE from rstream_info_read, never move the
 *    reader (the walk may have read header elements before its MORE);
 *  - the writer's command for arguments cut from the input reads back as
 *    exactly those arguments;
 *  - peeking at the id of an entry too large to read never moves the
 *    reader;
 *  - nothing is allocated through the daemon's allocator. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "alloc.h"
#include "repoch.h"
#include "resp.h"
#include "rstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER 4

/* A digest of what was parsed, so two runs can be compared. */
struct trace {
	uint64_t h;
	uint64_t count;
	int final;
};

/* Mixes bytes into the digest (FNV-1a). */
static void trace_add(struct trace *t, const void *p, size_t n)
{
	t->h = fuzz_fnv(t->h, p, n);
}

/* Checks that [p, p + n) lies in the held bytes. */
static void fuzz_inside(const char *buf, size_t have, const char *p, size_t n)
{
	if (n && (p < buf || p > buf + have || n > (size_t)(buf + have - p)))
		fuzz_fail("pointer outside the bytes held");
}

/* The epoch script's reply; then an XREAD reply is walked (*mode becomes
 * 1). Same returns as fuzz_step. */
static int fuzz_epoch(int *mode, struct resp_reader *r, const char *buf, size_t have,
		      struct trace *t)
{
	struct resp_reader before = *r;
	struct repoch_reply rep;
	const char *msg;
	size_t msglen;
	enum rstream_status st = repoch_read(r, buf, have, &rep, &msg, &msglen);

	if (st == RSTREAM_MORE) {
		if (memcmp(&before, r, sizeof(before)) != 0)
			fuzz_fail("MORE moved the reader");
		return 0;
	}
	trace_add(t, &st, sizeof(st));
	if (st == RSTREAM_REPLY_ERROR) {
		fuzz_inside(buf, have, msg, msglen);
		trace_add(t, msg, msglen);
	}
	if (st != RSTREAM_END || !rep.exists)
		return -1;
	trace_add(t, &rep, sizeof(rep));
	*mode = 1;
	return 1;
}

/* One step in the chosen mode; adds what it parsed to the trace. Returns
 * 1 to go on, 0 when more bytes are needed, -1 when the run is over. */
static int fuzz_step(int mode, struct resp_reader *r, struct rstream_walk *w,
		     const char *buf, size_t have, struct trace *t)
{
	struct resp_reader before = *r;
	struct resp_elem el;
	struct rstream_entry e;
	struct rstream_info info;
	const char *msg;
	size_t msglen;
	int st;

	if (mode == 0) {
		st = resp_next(r, buf, have, &el);
		if (st == RESP_OK) {
			fuzz_inside(buf, have, el.str, el.type == RESP_INT ? 0 : el.len);
			if (el.type == RESP_BULK && el.len > r->lim.max_bulk)
				fuzz_fail("bulk longer than max_bulk");
			if (el.depth > r->lim.max_depth || r->depth > r->lim.max_depth)
				fuzz_fail("depth beyond max_depth");
			trace_add(t, &el.type, sizeof(el.type));
			trace_add(t, &el.n, sizeof(el.n));
			trace_add(t, &el.depth, sizeof(el.depth));
			trace_add(t, &el.last, sizeof(el.last));
			if (el.type != RESP_INT && el.type != RESP_ARRAY && el.type != RESP_NIL)
				trace_add(t, el.str, el.len);
		}
		st = st == RESP_OK ? 1 : st == RESP_MORE ? 0 : -st;
	} else if (mode == 3) {
		st = rstream_info_read(r, buf, have, &info, &msg, &msglen);
		if (st == RSTREAM_END) {
			trace_add(t, &info, sizeof(info));
		} else if (st == RSTREAM_REPLY_ERROR) {
			fuzz_inside(buf, have, msg, msglen);
			trace_add(t, msg, msglen);
		}
		st = st == RSTREAM_END || st == RSTREAM_REPLY_ERROR ? 1
		     : st == RSTREAM_MORE ? 0 : -st;
	} else {
		st = rstream_next(w, buf, have, &e);
		if (st == RSTREAM_ENTRY || st == RSTREAM_REPLY_ERROR) {
			fuzz_inside(buf, have, e.id, e.id_len);
			fuzz_inside(buf, have, e.data, e.data_len);
			if (st == RSTREAM_ENTRY && e.data_len > r->lim.max_bulk)
				fuzz_fail("entry data longer than max_bulk");
			if (st == RSTREAM_REPLY_ERROR && e.data_len > r->lim.max_line)
				fuzz_fail("error text longer than max_line");
			trace_add(t, e.id, e.id_len);
			trace_add(t, &e.has_data, sizeof(e.has_data));
			trace_add(t, e.data, e.data_len);
		}
		if (st != RSTREAM_MORE)
			trace_add(t, &st, sizeof(st));
		if (st == RSTREAM_ELIMIT || st == RSTREAM_MORE) {
			struct resp_reader at = *r;
			uint64_t ms, seq;

			if (rstream_peek_id(w, buf, have, &ms, &seq) == 0 &&
			    memcmp(&at, r, sizeof(at)) != 0)
				fuzz_fail("peeking moved the reader");
		}
		st = st == RSTREAM_MORE ? 0 : st >= RSTREAM_EPROTO ? -st : 1;
	}
	if (st == 0 && (mode == 0 || mode == 3) && memcmp(&before, r, sizeof(before)) != 0)
		fuzz_fail("MORE moved the reader");
	if (r->pos > have)
		fuzz_fail("reader position past the bytes held");
	if (st == 1)
		t->count++;
	if (st < 0)
		t->final = st;
	return st < 0 ? -1 : st;
}

/* Runs the input through the chosen reader; step 0 means all at once. */
static void fuzz_run(int mode, const struct resp_limits *lim, const uint8_t *in,
		     size_t n, uint32_t seed, struct trace *t)
{
	char *buf = malloc(n ? n : 1);
	size_t have = 0, fed = 0;
	struct resp_reader r;
	struct rstream_walk w;
	int st;

	if (!buf)
		abort();
	memset(t, 0, sizeof(*t));
	t->h = FUZZ_FNV_BASIS;
	resp_reader_init(&r, lim);
	rstream_walk_init(&w, &r, mode == 1 || mode == 4 ? RSTREAM_XREAD : RSTREAM_XRANGE);
	if (!seed) {
		memcpy(buf, in, n);
		have = fed = n;
	}
	for (int guard = 0; guard < 1 << 20; guard++) {
		st = mode == 4 ? fuzz_epoch(&mode, &r, buf, have, t)
			       : fuzz_step(mode, &r, &w, buf, have, t);
		if (st < 0)
			break;
		if (st > 0)
			continue;
		if (fed == n)
			break;
		memmove(buf, buf + r.pos, have - r.pos);
		have -= r.pos;
		resp_reader_shift(&r, r.pos);
		{
			size_t c = fuzz_chunk(&seed, 64, n - fed);

			memcpy(buf + have, in + fed, c);
			have += c;
			fed += c;
		}
	}
	free(buf);
}

/* Writes arguments cut from the input as a command and reads it back. */
static void fuzz_writer(const uint8_t *in, size_t n)
{
	struct resp_arg argv[8];
	size_t argc = 0, need, off = 0;
	struct resp_limits lim = { n, 32, 8, 2 };
	struct resp_reader r;
	struct resp_elem el;
	char *out;

	while (argc < 8 && off < n) {
		size_t len = in[off] % 32;

		len = len < n - off - 1 ? len : n - off - 1;
		argv[argc].p = (const char *)in + off + 1;
		argv[argc++].len = len;
		off += 1 + len;
	}
	need = resp_cmd(NULL, 0, argv, argc);
	out = malloc(need);
	if (!out || resp_cmd(out, need, argv, argc) != need)
		fuzz_fail("writer length differs between calls");
	resp_reader_init(&r, &lim);
	if (resp_next(&r, out, need, &el) != RESP_OK || el.type != RESP_ARRAY ||
	    el.n != (int64_t)argc)
		fuzz_fail("command header does not read back");
	for (size_t i = 0; i < argc; i++)
		if (resp_next(&r, out, need, &el) != RESP_OK || el.type != RESP_BULK ||
		    el.len != argv[i].len || (el.len && memcmp(el.str, argv[i].p, el.len)))
			fuzz_fail("command argument does not read back");
	if (r.pos != need || !resp_reader_idle(&r))
		fuzz_fail("command has trailing bytes");
	free(out);
}

/* One input: see the top of this file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t total0 = alloc_total();
	struct resp_limits lim;
	struct trace whole, chunked;
	uint32_t seed;
	int mode;

	if (size < HEADER)
		return 0;
	lim.max_bulk = (data[0] & 0x40) ? 1 << 20 : data[0] & 0x3f;
	lim.max_depth = 1 + (data[0] >> 7) * 4 + (data[1] >> 6);
	lim.max_line = 24;
	lim.max_array = 1000;
	mode = data[1] & 4 ? 4 : data[1] & 3;
	seed = ((uint32_t)data[2] << 8 | data[3]) + 1;
	fuzz_run(mode, &lim, data + HEADER, size - HEADER, 0, &whole);
	fuzz_run(mode, &lim, data + HEADER, size - HEADER, seed, &chunked);
	if (whole.h != chunked.h || whole.count != chunked.count ||
	    whole.final != chunked.final)
		fuzz_fail("chunked reading differs from reading whole");
	fuzz_writer(data + HEADER, size - HEADER);
	if (alloc_total() != total0)
		fuzz_fail("the reader allocated");
	return 0;
}

/* fuzz_httpresp.c: libFuzzer target for an upstream's response head
 * (lib/httpresp.c), followed, as a relay reads it, by the chunked decoder
 * (lib/chunked.c) and the event stream reader (lib/sseparse.c).
 *
 * Input: byte 0 picks max_head (64 .. 4144), bytes 1..2 seed the sizes
 * by which the response grows; the rest is the response.
 *
 * Invariants checked (any failure aborts):
 *  - parsed whole, and parsed again as its bytes arrive (one call per
 *    step, each on an allocation of exactly the bytes so far), the head
 *    gives the same status, fields, length and error;
 *  - an accepted head is within max_head and the bytes given, starts with
 *    "HTTP/1.", ends at its first empty line, and has a status 100..999;
 *  - every refused head has a reason;
 *  - the body after the head goes through the chunked decoder when the
 *    head says so, then through the event stream reader, without fault;
 *  - nothing is allocated through the daemon's allocator. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "alloc.h"
#include "chunked.h"
#include "httpresp.h"
#include "sseparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER 3

/* Parses in[0, n) as it arrives (seed 0: all at once). */
static enum httpresp_status fuzz_parse(const uint8_t *in, size_t n, size_t max,
				       uint32_t seed, struct httpresp *r, const char **err)
{
	enum httpresp_status st = HTTPRESP_MORE;
	size_t have = 0;

	httpresp_init(r);
	*err = NULL;
	while (st == HTTPRESP_MORE && have < n) {
		char *buf;

		have += fuzz_chunk(&seed, 37, n - have);
		buf = malloc(have);
		if (!buf)
			abort();
		memcpy(buf, in, have);
		st = httpresp_parse(r, buf, have, max, err);
		free(buf);
	}
	return st;
}

/* Checks an accepted head against the bytes. */
static void fuzz_check_head(const struct httpresp *r, const uint8_t *in, size_t n, size_t max)
{
	const char *p = (const char *)in;
	size_t e = r->head_len;

	if (e > max || e > n || e < 2 || memcmp(p, "HTTP/1.", 7) != 0)
		fuzz_fail("accepted head out of bounds or not HTTP/1.x");
	if (r->status < 100 || r->status > 999)
		fuzz_fail("status out of range");
	for (size_t i = 0; i < e; i++) {
		size_t end = 0;

		if (p[i] != '\n')
			continue;
		if (i + 1 < e && p[i + 1] == '\n')
			end = i + 2;
		else if (i + 2 < e && p[i + 1] == '\r' && p[i + 2] == '\n')
			end = i + 3;
		if (end && end != e)
			fuzz_fail("head goes past its first empty line");
		if (end)
			return;
	}
	fuzz_fail("head does not end with an empty line");
}

/* Feeds the body to the chunked decoder (if coded) and the SSE reader. */
static void fuzz_body(const struct httpresp *r, const uint8_t *in, size_t n)
{
	char *body = malloc(n ? n : 1), sbuf[64];
	struct chunked c;
	struct sseparse p;
	size_t len = n, used, pos = 0;

	if (!body)
		abort();
	memcpy(body, in, n);
	if (r->chunked) {
		chunked_init(&c);
		chunked_decode(&c, body, n, &len, &used);
	}
	sseparse_init(&p, sbuf, sizeof(sbuf));
	while (pos < len) {
		struct sse_event ev;

		sseparse_feed(&p, body + pos, len - pos, &used, &ev);
		pos += used;
	}
	free(body);
}

/* One input: see the top of this file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t total0 = alloc_total();
	struct httpresp a, b;
	const char *ea, *eb;
	enum httpresp_status sa, sb;
	size_t max, n;

	if (size < HEADER)
		return 0;
	max = 64 + (size_t)data[0] * 16;
	n = size - HEADER;
	sa = fuzz_parse(data + HEADER, n, max, 0, &a, &ea);
	sb = fuzz_parse(data + HEADER, n, max, ((uint32_t)data[1] << 8 | data[2]) + 1, &b, &eb);
	if (sa != sb || (sa == HTTPRESP_ERROR && strcmp(ea, eb) != 0))
		fuzz_fail("parsing as bytes arrive differs from parsing whole");
	if (sa == HTTPRESP_ERROR && (!ea || !*ea))
		fuzz_fail("error without a reason");
	if (sa == HTTPRESP_OK) {
		a.scanned = b.scanned = 0;
		if (memcmp(&a, &b, sizeof(a)) != 0)
			fuzz_fail("fields differ between whole and in pieces");
		fuzz_check_head(&a, data + HEADER, n, max);
		fuzz_body(&a, data + HEADER + a.head_len, n - a.head_len);
	}
	if (alloc_total() != total0)
		fuzz_fail("the parsers allocated");
	return 0;
}

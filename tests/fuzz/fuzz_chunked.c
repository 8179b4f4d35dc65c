/* fuzz_chunked.c: libFuzzer target for the chunked transfer decoder
 * (lib/chunked.c).
 *
 * Input: bytes 0..1 seed the chunk sizes; the rest is used twice: as a
 * coded body straight from a server, and as a body that is coded here
 * (chunk sizes, extensions and trailers from the seed) and decoded back.
 *
 * Invariants checked (any failure aborts):
 *  - decoding the input whole and in chunks (each chunk in an allocation
 *    of its exact size) gives the same body, status and bytes read; the
 *    output never grows past the input; *used is all of it unless the
 *    body ended; an error comes with a reason;
 *  - a body coded here decodes to itself, ending exactly at its end;
 *  - nothing is allocated through the daemon's allocator. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "alloc.h"
#include "chunked.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER 2

/* What a decode gave. */
struct result {
	char *body;
	size_t len;
	size_t read;
	enum chunked_status st;
};

/* Decodes in[0, n) in chunks (seed 0: whole). */
static void fuzz_decode(const uint8_t *in, size_t n, uint32_t seed, struct result *r)
{
	struct chunked c;
	size_t off = 0;

	chunked_init(&c);
	r->body = malloc(n + 1);
	r->len = 0;
	r->st = CHUNKED_MORE;
	if (!r->body)
		abort();
	while (off < n && r->st == CHUNKED_MORE) {
		size_t k = fuzz_chunk(&seed, 61, n - off), out, used;
		char *chunk = malloc(k);

		if (!chunk)
			abort();
		memcpy(chunk, in + off, k);
		r->st = chunked_decode(&c, chunk, k, &out, &used);
		if (out > used || used > k || (r->st == CHUNKED_MORE && used != k))
			fuzz_fail("bad *out or *used");
		if (r->st == CHUNKED_ERROR && (!c.err || !*c.err))
			fuzz_fail("error without a reason");
		memcpy(r->body + r->len, chunk, out);
		r->len += out;
		off += used;
		free(chunk);
	}
	r->read = off;
}

/* Codes body in chunks with extensions and trailers chosen by the seed. */
static size_t fuzz_encode(const uint8_t *body, size_t n, uint32_t seed, char *out)
{
	size_t o = 0, off = 0;

	while (off < n) {
		uint32_t r = fuzz_next(&seed);
		size_t k = 1 + r % 40;

		k = k < n - off ? k : n - off;
		o += (size_t)sprintf(out + o, (r >> 8) & 1 ? "%zX" : "%zx", k);
		if ((r >> 9) & 1)
			o += (size_t)sprintf(out + o, " ;ext=\"v\"");
		o += (size_t)sprintf(out + o, (r >> 10) & 1 ? "\n" : "\r\n");
		memcpy(out + o, body + off, k);
		o += k;
		o += (size_t)sprintf(out + o, (r >> 11) & 1 ? "\n" : "\r\n");
		off += k;
	}
	o += (size_t)sprintf(out + o, (seed & 1) ? "0\r\nX-T: 1\r\n\r\n" : "000\n\n");
	return o;
}

/* One input: see the top of this file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t total0 = alloc_total();
	struct result whole, parts, round;
	uint32_t seed;
	size_t n, clen;
	char *coded;

	if (size < HEADER)
		return 0;
	seed = ((uint32_t)data[0] << 8 | data[1]) + 1;
	n = size - HEADER;
	fuzz_decode(data + HEADER, n, 0, &whole);
	fuzz_decode(data + HEADER, n, seed, &parts);
	if (whole.st != parts.st || whole.len != parts.len || whole.read != parts.read ||
	    memcmp(whole.body, parts.body, whole.len))
		fuzz_fail("chunked decoding differs from decoding whole");
	coded = malloc(20 * n + 64);   /* at most 19 bytes of coding per body byte */
	if (!coded)
		abort();
	clen = fuzz_encode(data + HEADER, n, seed, coded);
	fuzz_decode((const uint8_t *)coded, clen, seed * 7 + 1, &round);
	if (round.st != CHUNKED_END || round.read != clen || round.len != n ||
	    memcmp(round.body, data + HEADER, n))
		fuzz_fail("a coded body does not decode to itself");
	free(whole.body);
	free(parts.body);
	free(round.body);
	free(coded);
	if (alloc_total() != total0)
		fuzz_fail("the decoder allocated");
	return 0;
}

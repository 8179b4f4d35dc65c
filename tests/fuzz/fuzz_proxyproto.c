/* fuzz_proxyproto.c: libFuzzer target for the PROXY protocol parser
 * (lib/proxyproto.c).
 *
 * Input: the bytes a trusted proxy's connection begins with, given in an
 * allocation of exactly their length so that any read past it is caught.
 *
 * Invariants checked (any failure aborts):
 *  - the status is MORE, DONE or ERROR; ERROR comes with a reason;
 *  - DONE: version 1 or 2; v1 length at most 107 and within the input,
 *    ending in CRLF; v2 length at least 16; without `local`, the source is
 *    AF_INET or AF_INET6 with the matching length;
 *  - every prefix of the input gives MORE or the same result: offering the
 *    bytes in pieces never changes the outcome; past ERROR, no longer
 *    input turns into DONE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "fuzz_util.h"
#include "proxyproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks one DONE result against the bytes it came from. */
static void fuzz_check_done(const struct proxyproto_result *r, const uint8_t *buf, size_t len)
{
	if (r->version == 1) {
		if (r->length > PROXYPROTO_V1_MAX || r->length > len || r->length < 8)
			fuzz_fail("v1 length out of bounds");
		if (buf[r->length - 2] != '\r' || buf[r->length - 1] != '\n')
			fuzz_fail("v1 header does not end in CRLF");
	} else if (r->version == 2) {
		if (r->length < PROXYPROTO_V2_HEAD || r->length > PROXYPROTO_V2_HEAD + 65535)
			fuzz_fail("v2 length out of bounds");
	} else {
		fuzz_fail("version neither 1 nor 2");
	}
	if (r->local)
		return;
	if (!(r->src.ss_family == AF_INET && r->src_len == sizeof(struct sockaddr_in)) &&
	    !(r->src.ss_family == AF_INET6 && r->src_len == sizeof(struct sockaddr_in6)))
		fuzz_fail("source address neither IPv4 nor IPv6");
}

/* Parses buf[0..len) from a copy of exactly that size. */
static enum proxyproto_status fuzz_parse(const uint8_t *data, size_t len,
					 struct proxyproto_result *r)
{
	uint8_t *copy = malloc(len ? len : 1);
	const char *why = NULL;
	enum proxyproto_status st;

	if (!copy)
		abort();
	memcpy(copy, data, len);
	memset(r, 0, sizeof(*r));
	st = proxyproto_parse(copy, len, r, &why);
	if (st == PROXYPROTO_ERROR && (!why || !*why))
		fuzz_fail("error without a reason");
	if (st == PROXYPROTO_DONE)
		fuzz_check_done(r, copy, len);
	free(copy);
	return st;
}

/* One input: see the top of this file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxyproto_result whole, part;
	enum proxyproto_status st = fuzz_parse(data, size, &whole);
	size_t step = size > 64 ? size / 16 : 1;

	if (st != PROXYPROTO_MORE && st != PROXYPROTO_DONE && st != PROXYPROTO_ERROR)
		fuzz_fail("status out of range");
	for (size_t n = 0; n < size; n += step) {
		enum proxyproto_status p = fuzz_parse(data, n, &part);

		if (p == PROXYPROTO_MORE)
			continue;
		if (p != st)
			fuzz_fail("a prefix gave a different outcome than the whole");
		if (p == PROXYPROTO_DONE &&
		    (part.length != whole.length || part.local != whole.local ||
		     memcmp(&part.src, &whole.src, sizeof(part.src)) != 0))
			fuzz_fail("a prefix gave a different header");
	}
	return 0;
}

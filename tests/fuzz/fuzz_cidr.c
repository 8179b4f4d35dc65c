/* fuzz_cidr.c: libFuzzer target for the address rule parser and matcher
 * (lib/cidr.c).
 *
 * Input: the first byte picks an address family and the next 16 bytes are
 * a peer address; the rest is one rule (any bytes), NUL-terminated.
 *
 * Invariants checked (any failure aborts):
 *  - cidr_parse returns 0 or -1; on -1 the message is non-empty, one line
 *    of printable ASCII;
 *  - on 0: family is all, 4 or 6, bits within the family's range, no host
 *    bits set; formatting and parsing again gives the same rule;
 *  - a rule matches its own network address; "all" matches everything; a
 *    mapped IPv6 peer matches exactly as its IPv4 address does. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks the error message. */
static void fuzz_check_msg(const char *err)
{
	if (!*err)
		fuzz_fail("empty error message");
	for (const char *p = err; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			fuzz_fail("unprintable byte in the error message");
}

/* Checks a parsed rule's shape and its round trip through the text form. */
static void fuzz_check_rule(const struct cidr *c)
{
	struct cidr again;
	struct cidr_addr self = { .family = c->family };
	char text[CIDR_TEXT_MAX], err[160];
	unsigned total = c->family == CIDR_V4 ? 32 : 128;

	if (c->family != CIDR_ALL && c->family != CIDR_V4 && c->family != CIDR_V6)
		fuzz_fail("family out of range");
	if (c->family != CIDR_ALL && c->bits > total)
		fuzz_fail("prefix longer than the address");
	for (unsigned i = c->bits; c->family != CIDR_ALL && i < total; i++)
		if (c->b[i / 8] & (0x80 >> (i % 8)))
			fuzz_fail("host bit set in a parsed rule");
	cidr_format(c, text, sizeof(text));
	if (cidr_parse(text, &again, err, sizeof(err)) != 0 ||
	    memcmp(&again, c, sizeof(again)) != 0)
		fuzz_fail("formatted rule does not parse back to itself");
	memcpy(self.b, c->b, sizeof(self.b));
	if (c->family != CIDR_ALL && !cidr_match(c, &self))
		fuzz_fail("rule does not match its own network address");
}

/* Matches the peer as IPv4 and as its mapped IPv6 form. */
static void fuzz_check_match(const struct cidr *c, const uint8_t *peer, bool v6)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
	struct cidr_addr a, m;

	if (v6) {
		memcpy(&in6.sin6_addr, peer, 16);
		if (cidr_addr_from((struct sockaddr *)&in6, sizeof(in6), &a) < 0)
			fuzz_fail("IPv6 peer has no address");
		if (c->family == CIDR_ALL && !cidr_match(c, &a))
			fuzz_fail("all did not match");
		return;
	}
	memcpy(&in.sin_addr, peer, 4);
	memset(&in6.sin6_addr, 0, 10);
	memset((uint8_t *)&in6.sin6_addr + 10, 0xff, 2);
	memcpy((uint8_t *)&in6.sin6_addr + 12, peer, 4);
	if (cidr_addr_from((struct sockaddr *)&in, sizeof(in), &a) < 0 ||
	    cidr_addr_from((struct sockaddr *)&in6, sizeof(in6), &m) < 0)
		fuzz_fail("IPv4 peer has no address");
	if (cidr_match(c, &a) != cidr_match(c, &m))
		fuzz_fail("mapped peer matched differently from its IPv4 form");
}

/* One input: see the top of this file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t peer[16] = { 0 };
	char *text, err[160];
	struct cidr c;
	bool v6;
	int rc;

	if (size < 17)
		return 0;
	v6 = data[0] & 1;
	memcpy(peer, data + 1, 16);
	text = malloc(size - 17 + 1);
	if (!text)
		abort();
	memcpy(text, data + 17, size - 17);
	text[size - 17] = '\0';
	memset(err, 0, sizeof(err));
	rc = cidr_parse(text, &c, err, sizeof(err));
	if (rc == -1)
		fuzz_check_msg(err);
	else if (rc != 0)
		fuzz_fail("cidr_parse returned neither 0 nor -1");
	else {
		fuzz_check_rule(&c);
		fuzz_check_match(&c, peer, v6);
	}
	free(text);
	return 0;
}

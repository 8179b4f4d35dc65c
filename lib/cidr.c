/* cidr.c: parsing and matching of address rules (pipecast.conf(5),
 * [access]). Rules keep their family; a mapped IPv6 peer or rule is IPv4. */
#include "cidr.h"
#include "units.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const uint8_t mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Writes "input: problem" (the input only when short and printable). */
static int cidr_fail(const char *s, const char *why, char *err, size_t errlen)
{
	size_t n = strlen(s);
	bool show = n > 0 && n <= CIDR_TEXT_MAX;

	for (size_t i = 0; show && i < n; i++)
		show = s[i] > ' ' && s[i] < 0x7f;
	if (show)
		snprintf(err, errlen, "'%s': %s", s, why);
	else
		snprintf(err, errlen, "%s", why);
	return -1;
}

/* The prefix length after '/': at most max, no leading zero. */
static int cidr_bits(const char *p, unsigned max, uint8_t *bits)
{
	uint64_t v;

	if (units_parse_decimal(p, strlen(p), max, &v) < 0)
		return -1;
	*bits = (uint8_t)v;
	return 0;
}

/* Whether any bit past the prefix is set. */
static bool cidr_host_bits(const uint8_t *b, unsigned bits, unsigned total)
{
	for (unsigned i = bits; i < total; i++)
		if (b[i / 8] & (0x80 >> (i % 8)))
			return true;
	return false;
}

/* A mapped IPv6 rule (::ffff:a.b.c.d/96+n) is the IPv4 rule a.b.c.d/n. */
static void cidr_unmap(struct cidr *c)
{
	if (c->family != CIDR_V6 || c->bits < 96 || memcmp(c->b, mapped_prefix, 12) != 0)
		return;
	memmove(c->b, c->b + 12, 4);
	memset(c->b + 4, 0, 12);
	c->family = CIDR_V4;
	c->bits = (uint8_t)(c->bits - 96);
}

/* Parses "all", "ADDR" or "ADDR/BITS". */
int cidr_parse(const char *s, struct cidr *out, char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN + 1], net[CIDR_TEXT_MAX];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct cidr c = { 0 };
	unsigned total;

	if (strcmp(s, "all") == 0) {
		*out = c;
		return 0;
	}
	if (alen == 0)
		return cidr_fail(s, "expected an address, ADDRESS/BITS or 'all'", err, errlen);
	if (alen >= sizeof(addr) || memchr(s, '%', alen))
		return cidr_fail(s, "not an IPv4 or IPv6 address", err, errlen);
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, c.b) == 1)
		c.family = CIDR_V4;
	else if (inet_pton(AF_INET6, addr, c.b) == 1)
		c.family = CIDR_V6;
	else
		return cidr_fail(s, "not an IPv4 or IPv6 address", err, errlen);
	total = c.family == CIDR_V4 ? 32 : 128;
	c.bits = (uint8_t)total;
	if (slash && cidr_bits(slash + 1, total, &c.bits) < 0)
		return cidr_fail(s, c.family == CIDR_V4 ? "prefix length must be 0 to 32"
							: "prefix length must be 0 to 128", err, errlen);
	if (cidr_host_bits(c.b, c.bits, total)) {
		struct cidr fixed = c;

		for (unsigned i = c.bits; i < total; i++)
			fixed.b[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
		cidr_format(&fixed, net, sizeof(net));
		snprintf(err, errlen, "'%s': bits set past the prefix (did you mean %s?)", s, net);
		return -1;
	}
	cidr_unmap(&c);
	*out = c;
	return 0;
}

/* Takes the address out of a peer's sockaddr. */
int cidr_addr_from(const struct sockaddr *sa, socklen_t len, struct cidr_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		out->family = CIDR_V4;
		memcpy(out->b, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		memcpy(out->b, &in6->sin6_addr, 16);
		out->family = CIDR_V6;
		if (memcmp(out->b, mapped_prefix, 12) == 0) {
			memmove(out->b, out->b + 12, 4);
			memset(out->b + 4, 0, 12);
			out->family = CIDR_V4;
		}
		return 0;
	}
	return -1;
}

/* Compares the first `bits` bits. */
bool cidr_match(const struct cidr *c, const struct cidr_addr *a)
{
	unsigned full = c->bits / 8, rest = c->bits % 8;

	if (c->family == CIDR_ALL)
		return true;
	if (c->family != a->family || memcmp(c->b, a->b, full) != 0)
		return false;
	return rest == 0 || ((c->b[full] ^ a->b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/* A list of rules matches when one does. */
bool cidr_match_any(const struct cidr *list, size_t n, const struct cidr_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (cidr_match(&list[i], a))
			return true;
	return false;
}

/* The rule as the configuration spells it. */
char *cidr_format(const struct cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (c->family == CIDR_ALL) {
		snprintf(buf, len, "all");
		return buf;
	}
	inet_ntop(c->family == CIDR_V4 ? AF_INET : AF_INET6, c->b, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, c->bits);
	return buf;
}

/* cidr.h: address rules of [access] allow, deny, metrics_allow and
 * trusted_proxies (pipecast.conf(5)): "10.0.0.0/8", "::1/128", a bare
 * address, or "all". An IPv4-mapped IPv6 peer (::ffff:a.b.c.d) is an IPv4
 * peer for every rule. */
#ifndef PIPECAST_CIDR_H
#define PIPECAST_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum cidr_family { CIDR_ALL = 0, CIDR_V4 = 4, CIDR_V6 = 6 };

/* A peer's address: IPv4 in b[0..3], IPv6 in b[0..15]. */
struct cidr_addr {
	uint8_t family;         /* CIDR_V4 or CIDR_V6 */
	uint8_t b[16];
};

/* One rule: family CIDR_ALL matches every address. */
struct cidr {
	uint8_t family;
	uint8_t bits;           /* prefix length: 0..32 or 0..128 */
	uint8_t b[16];          /* the network, host bits zero */
};

#define CIDR_TEXT_MAX 64    /* "ffff:...:ffff/128" and a terminator fit */

/* Parses a rule. Returns 0, or -1 with a one-line message in err (the
 * input is quoted only when it is short and printable). */
int cidr_parse(const char *s, struct cidr *out, char *err, size_t errlen);
/* The address of an AF_INET or AF_INET6 sockaddr (a mapped IPv6 address
 * becomes IPv4). Returns 0, or -1 for another family or a short length. */
int cidr_addr_from(const struct sockaddr *sa, socklen_t len, struct cidr_addr *out);
/* Whether a rule covers an address. */
bool cidr_match(const struct cidr *c, const struct cidr_addr *a);
/* Whether any of n rules covers the address. */
bool cidr_match_any(const struct cidr *list, size_t n, const struct cidr_addr *a);
/* "10.0.0.0/8", "::1/128" or "all"; returns buf. */
char *cidr_format(const struct cidr *c, char *buf, size_t len);

#endif

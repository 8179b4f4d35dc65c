/* proxyproto.c: PROXY protocol v1 (text) and v2 (binary) headers. */
#include "proxyproto.h"
#include "units.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

static const unsigned char v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
};
static const char v1_sig[] = "PROXY ";

/* Returns ERROR with a reason. */
static enum proxyproto_status proxyproto_fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return PROXYPROTO_ERROR;
}

/* ---- version 1 ---- */

/* A port: no leading zero, at most 65535. */
static int v1_port(const char *s, size_t n, uint16_t *port)
{
	uint64_t v;

	if (units_parse_decimal(s, n, 65535, &v) < 0)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* Splits "A B C D" (single spaces) into exactly four fields. */
static int v1_fields(const char *s, size_t n, const char *f[4], size_t fl[4])
{
	size_t k = 0, start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != ' ')
			continue;
		if (k == 4 || i == start)
			return -1;
		f[k] = s + start;
		fl[k++] = i - start;
		start = i + 1;
	}
	return k == 4 ? 0 : -1;
}

/* Fills the source address of "TCP4"/"TCP6 SRC DST SPORT DPORT". */
static int v1_addresses(int af, const char *s, size_t n, struct proxyproto_result *r)
{
	const char *f[4];
	size_t fl[4];
	char text[INET6_ADDRSTRLEN];
	unsigned char dst[16];
	uint16_t sport, dport;

	if (v1_fields(s, n, f, fl) < 0 || v1_port(f[2], fl[2], &sport) < 0 ||
	    v1_port(f[3], fl[3], &dport) < 0)
		return -1;
	for (int i = 1; i >= 0; i--) {
		if (fl[i] >= sizeof(text))
			return -1;
		memcpy(text, f[i], fl[i]);
		text[fl[i]] = '\0';
		if (inet_pton(af, text, dst) != 1)
			return -1;
	}
	memset(&r->src, 0, sizeof(r->src));
	if (af == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&r->src;

		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, dst, 4);
		in->sin_port = htons(sport);
		r->src_len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&r->src;

		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, dst, 16);
		in6->sin6_port = htons(sport);
		r->src_len = sizeof(*in6);
	}
	return 0;
}

/* "PROXY TCP4|TCP6|UNKNOWN ...\r\n" within 107 bytes. */
static enum proxyproto_status v1_parse(const char *s, size_t len,
				       struct proxyproto_result *r, const char **why)
{
	size_t look = len < PROXYPROTO_V1_MAX ? len : PROXYPROTO_V1_MAX;
	const char *lf = memchr(s, '\n', look);
	size_t end, n;
	const char *p;

	if (!lf)
		return len >= PROXYPROTO_V1_MAX
			? proxyproto_fail(why, "PROXY v1 line longer than 107 bytes")
			: PROXYPROTO_MORE;
	end = (size_t)(lf - s);
	if (end == 0 || s[end - 1] != '\r')
		return proxyproto_fail(why, "PROXY v1 line does not end in CRLF");
	r->version = 1;
	r->length = end + 1;
	r->local = false;
	p = s + 6;
	n = end - 1 - 6;
	if (n >= 7 && memcmp(p, "UNKNOWN", 7) == 0 && (n == 7 || p[7] == ' ')) {
		r->local = true;
		return PROXYPROTO_DONE;
	}
	if (n > 5 && memcmp(p, "TCP4 ", 5) == 0 && v1_addresses(AF_INET, p + 5, n - 5, r) == 0)
		return PROXYPROTO_DONE;
	if (n > 5 && memcmp(p, "TCP6 ", 5) == 0 && v1_addresses(AF_INET6, p + 5, n - 5, r) == 0)
		return PROXYPROTO_DONE;
	return proxyproto_fail(why, "malformed PROXY v1 line");
}

/* ---- version 2 ---- */

/* Bytes of the address block for an address family nibble; 0: unspecified. */
static size_t v2_addr_len(unsigned fam)
{
	static const size_t lens[] = { 0, 12, 36, 216 };

	return fam < 4 ? lens[fam] : 0;
}

/* The source address of an INET or INET6 block. */
static void v2_source(const unsigned char *a, unsigned fam, struct proxyproto_result *r)
{
	memset(&r->src, 0, sizeof(r->src));
	if (fam == 1) {
		struct sockaddr_in *in = (struct sockaddr_in *)&r->src;

		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, a, 4);
		memcpy(&in->sin_port, a + 8, 2);
		r->src_len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&r->src;

		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, a, 16);
		memcpy(&in6->sin6_port, a + 32, 2);
		r->src_len = sizeof(*in6);
	}
}

/* The 16-byte head, then the address block its length announces. */
static enum proxyproto_status v2_parse(const unsigned char *s, size_t len,
				       struct proxyproto_result *r, const char **why)
{
	unsigned cmd, fam, proto;
	size_t body, need;

	if (len < PROXYPROTO_V2_HEAD)
		return PROXYPROTO_MORE;
	if ((s[12] >> 4) != 2)
		return proxyproto_fail(why, "PROXY v2 header of another version");
	cmd = s[12] & 0x0f;
	fam = s[13] >> 4;
	proto = s[13] & 0x0f;
	body = (size_t)s[14] << 8 | s[15];
	if (cmd > 1)
		return proxyproto_fail(why, "PROXY v2 header with an unknown command");
	if (fam > 3 || proto > 2)
		return proxyproto_fail(why, "PROXY v2 header with an unknown family or protocol");
	if (cmd == 1 && fam != 0 && body < v2_addr_len(fam))
		return proxyproto_fail(why, "PROXY v2 length shorter than its addresses");
	if (cmd == 1 && (fam == 1 || fam == 2) && proto != 1)
		return proxyproto_fail(why, "PROXY v2 header for a datagram or unspecified protocol");
	r->version = 2;
	r->length = PROXYPROTO_V2_HEAD + body;
	r->local = cmd == 0 || fam == 0 || fam == 3;
	if (r->local)
		return PROXYPROTO_DONE;
	need = PROXYPROTO_V2_HEAD + v2_addr_len(fam);
	if (len < need)
		return PROXYPROTO_MORE;
	v2_source(s + PROXYPROTO_V2_HEAD, fam, r);
	return PROXYPROTO_DONE;
}

/* Decides the version from the first bytes, then parses it. */
enum proxyproto_status proxyproto_parse(const void *buf, size_t len,
					struct proxyproto_result *r, const char **why)
{
	const unsigned char *s = buf;
	size_t n1 = len < 6 ? len : 6, n2 = len < 12 ? len : 12;

	if (len == 0)
		return PROXYPROTO_MORE;
	if (memcmp(s, v1_sig, n1) == 0)
		return len < 6 ? PROXYPROTO_MORE : v1_parse(buf, len, r, why);
	if (memcmp(s, v2_sig, n2) == 0)
		return len < 12 ? PROXYPROTO_MORE : v2_parse(s, len, r, why);
	return proxyproto_fail(why, "no PROXY protocol header");
}

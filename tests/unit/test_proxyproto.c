/* test_proxyproto.c: PROXY protocol v1 and v2 headers, fed whole and in
 * pieces; strict bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "proxyproto.h"

#define S(lit) lit, sizeof(lit) - 1

static const unsigned char sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
};

/* The textual source address and port of a result. */
static void source_is(const struct proxyproto_result *r, const char *addr, unsigned port)
{
	char text[INET6_ADDRSTRLEN];

	if (r->src.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&r->src;

		inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
		assert_int_equal(ntohs(in->sin_port), port);
		assert_int_equal(r->src_len, sizeof(*in));
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&r->src;

		assert_int_equal(r->src.ss_family, AF_INET6);
		inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
		assert_int_equal(ntohs(in6->sin6_port), port);
	}
	assert_string_equal(text, addr);
}

/* Every proper prefix of a complete header asks for more. */
static void prefixes_want_more(const void *buf, size_t len)
{
	struct proxyproto_result r;

	for (size_t i = 0; i < len; i++)
		if (proxyproto_parse(buf, i, &r, NULL) != PROXYPROTO_MORE)
			fail_msg("prefix of %zu bytes did not ask for more", i);
}

static void v1_tcp4_and_tcp6(void **state)
{
	struct proxyproto_result r;
	const char h4[] = "PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\nAUTH x\n";
	const char h6[] = "PROXY TCP6 2001:db8::7 2001:db8::1 4000 7070\r\n";

	(void)state;
	assert_int_equal(proxyproto_parse(S(h4), &r, NULL), PROXYPROTO_DONE);
	assert_int_equal(r.version, 1);
	assert_int_equal(r.length, strlen(h4) - strlen("AUTH x\n"));
	assert_false(r.local);
	source_is(&r, "192.0.2.7", 56324);
	prefixes_want_more(h4, r.length);
	assert_int_equal(proxyproto_parse(S(h6), &r, NULL), PROXYPROTO_DONE);
	source_is(&r, "2001:db8::7", 4000);
	assert_int_equal(r.length, strlen(h6));
}

static void v1_unknown_keeps_the_connection_address(void **state)
{
	struct proxyproto_result r;

	(void)state;
	assert_int_equal(proxyproto_parse(S("PROXY UNKNOWN\r\n"), &r, NULL), PROXYPROTO_DONE);
	assert_true(r.local);
	assert_int_equal(r.length, 15);
	assert_int_equal(proxyproto_parse(S("PROXY UNKNOWN ff::1 ::1 1 2\r\n"), &r, NULL),
			 PROXYPROTO_DONE);
	assert_true(r.local);
}

/* A header that must fail, with a reason containing want. */
static void bad(const void *buf, size_t len, const char *want)
{
	struct proxyproto_result r;
	const char *why = "";

	assert_int_equal(proxyproto_parse(buf, len, &r, &why), PROXYPROTO_ERROR);
	if (!strstr(why, want))
		fail_msg("reason '%s' lacks '%s'", why, want);
}

static void v1_is_strict(void **state)
{
	char line[PROXYPROTO_V1_MAX + 8];

	(void)state;
	bad(S("PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\n"), "CRLF");
	bad(S("PROXY TCP4 192.0.2.7 198.51.100.1 56324\r\n"), "malformed");
	bad(S("PROXY TCP4 192.0.2.7  198.51.100.1 1 2\r\n"), "malformed");
	bad(S("PROXY TCP4 192.0.2.7 198.51.100.1 65536 2\r\n"), "malformed");
	bad(S("PROXY TCP4 192.0.2.7 198.51.100.1 01 2\r\n"), "malformed");
	bad(S("PROXY TCP4 2001:db8::7 198.51.100.1 1 2\r\n"), "malformed");
	bad(S("PROXY TCP6 192.0.2.7 ::1 1 2\r\n"), "malformed");
	bad(S("PROXY TCP5 192.0.2.7 198.51.100.1 1 2\r\n"), "malformed");
	bad(S("PROXY \r\n"), "malformed");
	bad(S("GET / HTTP/1.1\r\n"), "no PROXY protocol header");
	bad(S("PROXX"), "no PROXY protocol header");
	bad(S("AUTH x\n"), "no PROXY protocol header");
	/* no CRLF within 107 bytes: an error, not a wait */
	memset(line, 'a', sizeof(line));
	memcpy(line, "PROXY ", 6);
	assert_int_equal(proxyproto_parse(line, PROXYPROTO_V1_MAX - 1, &(struct proxyproto_result){ 0 },
					  NULL), PROXYPROTO_MORE);
	bad(line, PROXYPROTO_V1_MAX, "longer than 107");
	/* exactly 107 with CRLF at the end is accepted as a length */
	memcpy(line, "PROXY UNKNOWN ", 14);
	line[105] = '\r';
	line[106] = '\n';
	assert_int_equal(proxyproto_parse(line, 107, &(struct proxyproto_result){ 0 }, NULL),
			 PROXYPROTO_DONE);
}

/* Builds a v2 header: command, family/protocol, body length, body. */
static size_t v2(unsigned char *out, unsigned cmd, unsigned famproto, const void *body,
		 size_t len, size_t announced)
{
	memcpy(out, sig, 12);
	out[12] = (unsigned char)(0x20 | cmd);
	out[13] = (unsigned char)famproto;
	out[14] = (unsigned char)(announced >> 8);
	out[15] = (unsigned char)announced;
	memcpy(out + 16, body, len);
	return 16 + len;
}

static void v2_inet_and_inet6(void **state)
{
	unsigned char h[300], body[40] = { 0 };
	struct proxyproto_result r;
	size_t n;

	(void)state;
	memcpy(body, "\xc0\x00\x02\x07\xc6\x33\x64\x01\xdc\x04\x01\xbb", 12);
	n = v2(h, 1, 0x11, body, 12, 12);
	prefixes_want_more(h, n);
	assert_int_equal(proxyproto_parse(h, n, &r, NULL), PROXYPROTO_DONE);
	assert_int_equal(r.version, 2);
	assert_int_equal(r.length, 28);
	source_is(&r, "192.0.2.7", 56324);
	memset(body, 0, sizeof(body));
	body[0] = 0x20; body[1] = 0x01; body[2] = 0x0d; body[3] = 0xb8; body[15] = 7;
	body[32] = 0x0f; body[33] = 0xa0;
	n = v2(h, 1, 0x21, body, 36, 36);
	assert_int_equal(proxyproto_parse(h, n, &r, NULL), PROXYPROTO_DONE);
	source_is(&r, "2001:db8::7", 4000);
}

static void v2_length_field_is_honoured(void **state)
{
	unsigned char h[300], body[12] = { 10, 0, 0, 1, 10, 0, 0, 2, 0, 80, 0, 81 };
	struct proxyproto_result r;
	size_t n;

	(void)state;
	/* TLVs announced after the addresses: done once the addresses are in,
	 * and the length covers the TLVs for the caller to skip */
	n = v2(h, 1, 0x11, body, 12, 12 + 500);
	assert_int_equal(proxyproto_parse(h, n, &r, NULL), PROXYPROTO_DONE);
	assert_int_equal(r.length, 16 + 512);
	source_is(&r, "10.0.0.1", 80);
	/* a length too short for the addresses */
	n = v2(h, 1, 0x11, body, 12, 11);
	bad(h, n, "shorter than its addresses");
	n = v2(h, 1, 0x21, body, 12, 12);
	bad(h, n, "shorter than its addresses");
}

static void v2_local_and_unspec(void **state)
{
	unsigned char h[64];
	struct proxyproto_result r;
	size_t n;

	(void)state;
	n = v2(h, 0, 0x00, "", 0, 0);       /* LOCAL: a health check */
	assert_int_equal(proxyproto_parse(h, n, &r, NULL), PROXYPROTO_DONE);
	assert_true(r.local);
	assert_int_equal(r.length, 16);
	n = v2(h, 0, 0x11, "abcdefghijkl", 12, 12);   /* LOCAL with addresses: ignored */
	assert_int_equal(proxyproto_parse(h, n, &r, NULL), PROXYPROTO_DONE);
	assert_true(r.local);
	assert_int_equal(r.length, 28);
	n = v2(h, 1, 0x00, "", 0, 5);       /* PROXY, AF_UNSPEC */
	assert_int_equal(proxyproto_parse(h, n, &r, NULL), PROXYPROTO_DONE);
	assert_true(r.local);
	assert_int_equal(r.length, 21);
}

static void v2_is_strict(void **state)
{
	unsigned char h[64], body[12] = { 0 };
	size_t n;

	(void)state;
	n = v2(h, 1, 0x11, body, 12, 12);
	h[12] = 0x11;                       /* version 1 in a binary header */
	bad(h, n, "another version");
	n = v2(h, 2, 0x11, body, 12, 12);
	bad(h, n, "unknown command");
	n = v2(h, 1, 0x41, body, 12, 12);
	bad(h, n, "unknown family");
	n = v2(h, 1, 0x12, body, 12, 12);   /* UDP */
	bad(h, n, "datagram");
	h[11] = 0x0b;                       /* broken signature */
	bad(h, 12, "no PROXY protocol header");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(v1_tcp4_and_tcp6),
		cmocka_unit_test(v1_unknown_keeps_the_connection_address),
		cmocka_unit_test(v1_is_strict),
		cmocka_unit_test(v2_inet_and_inet6),
		cmocka_unit_test(v2_length_field_is_honoured),
		cmocka_unit_test(v2_local_and_unspec),
		cmocka_unit_test(v2_is_strict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

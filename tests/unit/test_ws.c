/* test_ws.c: the WebSocket pieces: RFC 6455's handshake and frame examples
 * (sections 1.3 and 5.7), the client frame parser's close codes, server
 * frames, UTF-8 sanitising (Unicode's maximal subparts) and JSON escaping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "ws.h"

#define MB(s) ((const uint8_t *)(s))

/* Parses all of buf in one call sequence; returns the first event that is
 * not WS_EV_NONE (or WS_EV_NONE), with *used the bytes consumed to it. */
static struct ws_event parse_all(struct ws_parser *p, const void *buf, size_t n, size_t *used)
{
	struct ws_event ev;
	size_t off = 0;

	do {
		off += ws_parse(p, (const uint8_t *)buf + off, n - off, &ev);
	} while (ev.type == WS_EV_NONE && off < n);
	if (used)
		*used = off;
	return ev;
}

/* The parser of first_event(); its events' data point into it. */
static struct ws_parser first_parser;

/* A fresh parser with a message limit of limit, given all of buf: the
 * first event it reports. */
static struct ws_event first_event(const void *buf, size_t n, uint64_t limit)
{
	ws_parser_free(&first_parser);   /* the previous one's */
	ws_parser_init(&first_parser, limit);
	return parse_all(&first_parser, buf, n, NULL);
}

/* Builds a masked client frame (mask 37 fa 21 3d, as in RFC 6455 5.7). */
static size_t client_frame(uint8_t *out, uint8_t b0, const void *payload, size_t len)
{
	static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	size_t h = 2;

	out[0] = b0;
	if (len < 126) {
		out[1] = (uint8_t)(0x80 | len);
	} else if (len <= 0xFFFF) {
		out[1] = 0x80 | 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		h = 4;
	} else {
		out[1] = 0x80 | 127;
		for (int i = 0; i < 8; i++)
			out[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
		h = 10;
	}
	memcpy(out + h, mask, 4);
	for (size_t i = 0; i < len; i++)
		out[h + 4 + i] = ((const uint8_t *)payload)[i] ^ mask[i & 3];
	return h + 4 + len;
}

/* The error code a single client frame gets, or 0 when it is accepted. */
static unsigned frame_error(uint8_t b0, const void *payload, size_t len)
{
	uint8_t *buf = malloc(len + 14);
	size_t n = client_frame(buf, b0, payload, len);
	struct ws_event ev = first_event(buf, n, 1 << 20);

	free(buf);
	return ev.type == WS_EV_ERROR ? ev.code : 0;
}

static void accept_key_rfc_example(void **state __unused)
{
	char out[WS_ACCEPT_LEN + 1];
	const char *key = "dGhlIHNhbXBsZSBub25jZQ==";

	assert_int_equal(ws_accept_key(key, strlen(key), out), 0);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	key = "x3JJHMbDL1EzLkh9GBhXDw==";
	assert_int_equal(ws_accept_key(key, strlen(key), out), 0);
	assert_string_equal(out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

static void accept_key_rejects_malformed(void **state __unused)
{
	char out[WS_ACCEPT_LEN + 1];
	static const char *bad[] = {
		"", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ===",
		"dGhlIHNhbXBsZSBub25jZQ!=", "dGhlIHNhbXBsZSBub25jZR==",
		"dGhl IHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQAA",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ws_accept_key(bad[i], strlen(bad[i]), out), -1);
}

static void upgrade_headers_are_checked(void **state __unused)
{
	const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
	size_t k = strlen(key);

	assert_int_equal(ws_upgrade_check("websocket", 9, "Upgrade", 7, "13", 2, key, k), WS_UPGRADE_OK);
	assert_int_equal(ws_upgrade_check("WebSocket", 9, "keep-alive, Upgrade", 19, "13", 2, key, k),
			 WS_UPGRADE_OK);
	assert_int_equal(ws_upgrade_check("h2c, websocket ", 15, "\tupgrade,x", 11, "13", 2, key, k),
			 WS_UPGRADE_OK);
	assert_int_equal(ws_upgrade_check(NULL, 0, "Upgrade", 7, "13", 2, key, k), WS_UPGRADE_BAD);
	assert_int_equal(ws_upgrade_check("websockets", 10, "Upgrade", 7, "13", 2, key, k), WS_UPGRADE_BAD);
	assert_int_equal(ws_upgrade_check("websocket", 9, "keep-alive", 10, "13", 2, key, k), WS_UPGRADE_BAD);
	assert_int_equal(ws_upgrade_check("websocket", 9, "Upgrade", 7, "13", 2, NULL, 0), WS_UPGRADE_BAD);
	assert_int_equal(ws_upgrade_check("websocket", 9, "Upgrade", 7, "13", 2, key, k - 1), WS_UPGRADE_BAD);
	assert_int_equal(ws_upgrade_check("websocket", 9, "Upgrade", 7, "8", 1, key, k), WS_UPGRADE_VERSION);
	assert_int_equal(ws_upgrade_check("websocket", 9, "Upgrade", 7, NULL, 0, key, k), WS_UPGRADE_VERSION);
	assert_false(ws_has_token("a,,b , c", 8, ""));
	assert_true(ws_has_token("a,,b , c", 8, "c"));
}

static void upgrade_response_carries_the_accept_key(void **state __unused)
{
	char out[WS_RESPONSE_MAX];
	const char *want = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			   "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

	assert_int_equal(ws_upgrade_response(out, sizeof(out), "dGhlIHNhbXBsZSBub25jZQ==", 24), strlen(want));
	assert_string_equal(out, want);
	assert_int_equal(ws_upgrade_response(out, sizeof(out), "short", 5), 0);
	assert_int_equal(ws_upgrade_response(out, 20, "dGhlIHNhbXBsZSBub25jZQ==", 24), 0);
}

static void masked_hello_is_one_message(void **state __unused)
{
	static const uint8_t f[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	struct ws_parser p;
	struct ws_event ev;
	size_t used;

	ws_parser_init(&p, 1024);
	ev = parse_all(&p, f, sizeof(f), &used);
	assert_int_equal(ev.type, WS_EV_MESSAGE);
	assert_int_equal(ev.message_len, 5);
	assert_int_equal(used, sizeof(f));
	/* the same, one byte per call */
	ws_parser_init(&p, 1024);
	for (size_t i = 0; i < sizeof(f); i++) {
		assert_int_equal(ws_parse(&p, f + i, 1, &ev), 1);
		assert_int_equal(ev.type, i + 1 < sizeof(f) ? WS_EV_NONE : WS_EV_MESSAGE);
	}
}

static void unmasked_frames_close_1002(void **state __unused)
{
	static const uint8_t hello[] = { 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
	static const uint8_t ping[] = { 0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
	struct ws_event ev = first_event(hello, sizeof(hello), 1024);

	assert_int_equal(ev.type, WS_EV_ERROR);
	assert_int_equal(ev.code, WS_CLOSE_PROTOCOL);
	assert_int_equal(ws_parse(&first_parser, hello, sizeof(hello), &ev), 0);
	ev = first_event(ping, sizeof(ping), 1024);
	assert_int_equal(ev.code, WS_CLOSE_PROTOCOL);
}

static void masked_pong_carries_its_payload(void **state __unused)
{
	static const uint8_t f[] = { 0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	struct ws_event ev = first_event(f, sizeof(f), 1024);

	assert_int_equal(ev.type, WS_EV_PONG);
	assert_int_equal(ev.len, 5);
	assert_memory_equal(ev.data, "Hello", 5);
}

/* Parses buf and expects a ping carrying ping (plen bytes), then a data
 * message of mlen bytes. */
static void expect_ping_then_message(const uint8_t *buf, size_t n, const char *ping,
				     size_t plen, uint64_t mlen)
{
	struct ws_parser p;
	struct ws_event ev;
	size_t used;

	ws_parser_init(&p, 1024);
	ev = parse_all(&p, buf, n, &used);
	assert_int_equal(ev.type, WS_EV_PING);
	assert_int_equal(ev.len, plen);
	assert_memory_equal(ev.data, ping, plen);
	ev = parse_all(&p, buf + used, n - used, &used);
	assert_int_equal(ev.type, WS_EV_MESSAGE);
	assert_int_equal(ev.message_len, mlen);
	ws_parser_free(&p);
}

static void pings_between_fragments_and_empty_frames(void **state __unused)
{
	uint8_t buf[64];
	size_t n = 0;

	n += client_frame(buf + n, 0x01, "Hel", 3);
	n += client_frame(buf + n, 0x89, "Hello", 5);
	n += client_frame(buf + n, 0x80, "lo", 2);
	expect_ping_then_message(buf, n, "Hello", 5, 5);
	n = client_frame(buf, 0x89, "", 0);
	n += client_frame(buf + n, 0x82, "", 0);
	expect_ping_then_message(buf, n, "", 0, 0);
}

static void too_big_closes_1009_at_the_header(void **state __unused)
{
	uint8_t hdr[14];
	struct ws_parser p;
	struct ws_event ev;
	size_t used;

	/* a 1 MiB binary frame: refused as soon as its header is read */
	hdr[0] = 0x82;
	hdr[1] = 0x80 | 127;
	memset(hdr + 2, 0, 8);
	hdr[7] = 0x10;
	memset(hdr + 10, 0x11, 4);
	ws_parser_init(&p, 65536);
	ev = parse_all(&p, hdr, sizeof(hdr), &used);
	assert_int_equal(ev.type, WS_EV_ERROR);
	assert_int_equal(ev.code, WS_CLOSE_TOO_BIG);
	assert_int_equal(used, 14);
	/* fragments adding up past the limit */
	{
		uint8_t *buf = malloc(3 * 40000 + 64);
		uint8_t *data = calloc(1, 40000);
		size_t n = client_frame(buf, 0x02, data, 40000);

		n += client_frame(buf + n, 0x80, data, 40000);
		ws_parser_init(&p, 65536);
		ev = parse_all(&p, buf, n, NULL);
		assert_int_equal(ev.code, WS_CLOSE_TOO_BIG);
		free(buf);
		free(data);
	}
	/* exactly the limit is fine */
	{
		uint8_t *buf = malloc(65536 + 14);
		uint8_t *data = calloc(1, 65536);
		size_t n = client_frame(buf, 0x82, data, 65536);

		ws_parser_init(&p, 65536);
		ev = parse_all(&p, buf, n, &used);
		assert_int_equal(ev.type, WS_EV_MESSAGE);
		assert_int_equal(ev.message_len, 65536);
		assert_int_equal(used, n);
		free(buf);
		free(data);
	}
}

static void bad_opcodes_and_bits_close_1002(void **state __unused)
{
	static const uint8_t bad[] = { 0x83, 0x84, 0x85, 0x86, 0x87, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f,
				       0xc1, 0xa1, 0x91, 0x80, 0x09, 0x08 };

	for (size_t i = 0; i < sizeof(bad); i++)
		assert_int_equal(frame_error(bad[i], "x", 1), WS_CLOSE_PROTOCOL);
	assert_int_equal(frame_error(0x81, "x", 1), 0);
	assert_int_equal(frame_error(0x82, "x", 1), 0);
}

static void control_frames_over_125_close_1002(void **state __unused)
{
	uint8_t big[126] = { 0 };

	assert_int_equal(frame_error(0x89, big, 125), 0);
	assert_int_equal(frame_error(0x89, big, 126), WS_CLOSE_PROTOCOL);
	assert_int_equal(frame_error(0x8a, big, 126), WS_CLOSE_PROTOCOL);
}

static void fragments_out_of_order_close_1002(void **state __unused)
{
	uint8_t buf[32];
	size_t n = 0;
	struct ws_parser p;
	struct ws_event ev;

	assert_int_equal(frame_error(0x80, "x", 1), WS_CLOSE_PROTOCOL);
	n += client_frame(buf + n, 0x01, "a", 1);
	n += client_frame(buf + n, 0x81, "b", 1);
	ws_parser_init(&p, 1024);
	ev = parse_all(&p, buf, n, NULL);
	assert_int_equal(ev.type, WS_EV_ERROR);
	assert_int_equal(ev.code, WS_CLOSE_PROTOCOL);
}

static void close_frames_are_validated(void **state __unused)
{
	struct ws_parser p;
	struct ws_event ev;
	uint8_t buf[64];
	size_t n;

	ws_parser_init(&p, 1024);
	n = client_frame(buf, 0x88, "", 0);
	ev = parse_all(&p, buf, n, NULL);
	assert_int_equal(ev.type, WS_EV_CLOSE);
	assert_int_equal(ev.code, WS_CLOSE_NO_STATUS);
	ws_parser_free(&p);
	ws_parser_init(&p, 1024);
	n = client_frame(buf, 0x88, "\x03\xe8" "bye", 5);
	ev = parse_all(&p, buf, n, NULL);
	assert_int_equal(ev.type, WS_EV_CLOSE);
	assert_int_equal(ev.code, 1000);
	assert_int_equal(ev.len, 3);
	assert_memory_equal(ev.data, "bye", 3);
	assert_int_equal(ws_parse(&p, buf, n, &ev), 0);
	ws_parser_free(&p);
	assert_int_equal(frame_error(0x88, "\x03", 1), WS_CLOSE_PROTOCOL);
	assert_int_equal(frame_error(0x88, "\x03\xed", 2), WS_CLOSE_PROTOCOL);   /* 1005 */
	assert_int_equal(frame_error(0x88, "\x03\xe7", 2), WS_CLOSE_PROTOCOL);   /* 999 */
	assert_int_equal(frame_error(0x88, "\x03\xf8", 2), WS_CLOSE_PROTOCOL);   /* 1016 */
	assert_int_equal(frame_error(0x88, "\x13\x88", 2), WS_CLOSE_PROTOCOL);   /* 5000 */
	assert_int_equal(frame_error(0x88, "\x0b\xb8", 2), 0);                   /* 3000 */
	assert_int_equal(frame_error(0x88, "\x03\xe8\xce\xba", 4), 0);
	assert_int_equal(frame_error(0x88, "\x03\xe8\xff", 3), WS_CLOSE_BAD_DATA);
	assert_int_equal(frame_error(0x88, "\x03\xe8\xed\xa0\x80", 5), WS_CLOSE_BAD_DATA);
}

static void close_codes_a_peer_may_send(void **state __unused)
{
	for (unsigned c = 0; c < 6000; c++) {
		bool ok = (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) ||
			  (c >= 3000 && c <= 4999);
		assert_int_equal(ws_close_code_valid(c), ok);
	}
}

static void server_frame_headers(void **state __unused)
{
	static const struct {
		enum ws_opcode op;
		uint64_t len;
		const char *want;
		size_t size;
	} cases[] = {
		{ WS_OP_TEXT, 5, "\x81\x05", 2 },
		{ WS_OP_BINARY, 125, "\x82\x7d", 2 },
		{ WS_OP_BINARY, 256, "\x82\x7e\x01\x00", 4 },
		{ WS_OP_BINARY, 65535, "\x82\x7e\xff\xff", 4 },
		{ WS_OP_BINARY, 65536, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10 },
		{ WS_OP_PING, 0, "\x89\x00", 2 },
	};
	uint8_t h[WS_HEADER_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(ws_frame_header(h, cases[i].op, cases[i].len), cases[i].size);
		assert_memory_equal(h, cases[i].want, cases[i].size);
	}
}

static void server_control_frames(void **state __unused)
{
	uint8_t f[WS_CONTROL_FRAME_MAX];
	char reason[200];

	assert_int_equal(ws_control_frame(f, WS_OP_PING, MB("Hello"), 5), 7);
	assert_memory_equal(f, "\x89\x05" "Hello", 7);
	assert_int_equal(ws_control_frame(f, WS_OP_PONG, MB("Hello"), 5), 7);
	assert_memory_equal(f, "\x8a\x05" "Hello", 7);
	assert_int_equal(ws_close_frame(f, 1009, "too big"), 11);
	assert_memory_equal(f, "\x88\x09\x03\xf1" "too big", 11);
	assert_int_equal(ws_close_frame(f, 1000, NULL), 4);
	assert_memory_equal(f, "\x88\x02\x03\xe8", 4);
	/* a long reason of 2-byte characters is cut between characters */
	for (int i = 0; i < 99; i++)
		memcpy(reason + 2 * i, "\xc3\xa9", 2);
	reason[198] = '\0';
	assert_int_equal(ws_close_frame(f, 1000, reason), 4 + 122);
	assert_int_equal(f[1], 124);
	assert_true(ws_utf8_valid(f + 4, 122));
}

/* Sanitises s and compares with want. */
static void check_sanitize(const char *s, size_t n, const char *want)
{
	uint8_t out[256];
	size_t len = ws_utf8_sanitize(out, MB(s), n);

	assert_int_equal(len, strlen(want));
	assert_int_equal(ws_utf8_sanitized_len(MB(s), n), len);
	assert_memory_equal(out, want, len);
	assert_true(ws_utf8_valid(out, len));
	assert_int_equal(ws_utf8_valid(MB(s), n), strcmp(s, want) == 0 && n == strlen(s));
}

#define R "\xef\xbf\xbd"

static void utf8_maximal_subparts(void **state __unused)
{
	check_sanitize("plain ascii", 11, "plain ascii");
	check_sanitize("\xce\xba\xe2\x82\xac\xf0\x9f\x98\x80", 9, "\xce\xba\xe2\x82\xac\xf0\x9f\x98\x80");
	/* Unicode section 3.9, Table 3-8 */
	check_sanitize("\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64", 13,
		       "a" R R R "b" R "c" R R "d");
	check_sanitize("\xc0\xaf", 2, R R);                  /* overlong */
	check_sanitize("\xe0\x80\xaf", 3, R R R);            /* overlong */
	check_sanitize("\xed\xa0\x80", 3, R R R);            /* surrogate */
	check_sanitize("\xf4\x90\x80\x80", 4, R R R R);      /* above U+10FFFF */
	check_sanitize("\xf5\xff", 2, R R);
	check_sanitize("ab\xe2\x82", 4, "ab" R);             /* cut at the end */
	check_sanitize("\xf0\x9f\x98", 3, R);
}

/* What to put into ASCII at every offset: well-formed sequences, which stay,
 * and ill-formed ones, each replaced as a whole by want. */
static const struct { const char *in, *want; } utf8_cases[] = {
	{ "\xc3\xa9", "\xc3\xa9" },
	{ "\xe2\x82\xac", "\xe2\x82\xac" },
	{ "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" },
	{ "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf" },
	{ "\x80", R },
	{ "\xff", R },
	{ "\xc0\xaf", R R },
	{ "\xe2\x82", R },                  /* cut short by the ASCII after it */
	{ "\xf0\x9f\x98", R },
	{ "\xed\xa0\x80", R R R },          /* surrogate */
	{ "\xf4\x90\x80\x80", R R R R },    /* above U+10FFFF */
	{ "\xc3\xa9\xe2", "\xc3\xa9" R },
};

/* The word-at-a-time ASCII path hands over to the exact validator at every
 * offset within a word and around its end: each case after 0 to 19 ASCII
 * bytes and before 0 to 9 more, so that every sequence starts at every
 * position in a word and, 2 to 4 bytes long, straddles the 8-byte boundary
 * at every split; the same case twice, ASCII between, tests a second
 * hand-over after the fast path resumed unaligned. */
static void utf8_fast_path_at_every_offset(void **state __unused)
{
	char in[64], want[128];

	for (size_t c = 0; c < sizeof(utf8_cases) / sizeof(utf8_cases[0]); c++) {
		size_t sl = strlen(utf8_cases[c].in), wl = strlen(utf8_cases[c].want);

		for (size_t pre = 0; pre < 20; pre++) {
			for (size_t post = 0; post < 10; post++) {
				memset(in, 'a', pre);
				memcpy(in + pre, utf8_cases[c].in, sl);
				memset(in + pre + sl, 'z', post);
				in[pre + sl + post] = '\0';
				memset(want, 'a', pre);
				memcpy(want + pre, utf8_cases[c].want, wl);
				memset(want + pre + wl, 'z', post);
				want[pre + wl + post] = '\0';
				check_sanitize(in, pre + sl + post, want);
				strcat(in, utf8_cases[c].in);
				strcat(want, utf8_cases[c].want);
				check_sanitize(in, strlen(in), want);
			}
		}
	}
}

/* Ill-formed sequences whose bytes lie on both sides of an 8-byte word:
 * a lead byte ending one word and a byte that cannot continue it starting
 * the next, and a sequence cut short across the boundary. */
static void utf8_invalid_across_the_word_boundary(void **state __unused)
{
	check_sanitize("abcdefg\xe2(bcdefgh", 16, "abcdefg" R "(bcdefgh");
	check_sanitize("abcdef\xe2\x82(bcdefgh", 16, "abcdef" R "(bcdefgh");
	check_sanitize("abcdef\xf0\x9f\x98(cdefgh", 16, "abcdef" R "(cdefgh");
	check_sanitize("abcdefg\xe0\x80\xaf" "defgh", 15, "abcdefg" R R R "defgh");
	check_sanitize("abcdefg\xed\xbf\xbf" "defgh", 15, "abcdefg" R R R "defgh");
	check_sanitize("abcdefgh\x80\x80\x80\x80\x80\x80\x80\x80z", 17,
		       "abcdefgh" R R R R R R R R "z");
	check_sanitize("abcdefg\xc3", 8, "abcdefg" R);
	check_sanitize("abcdefgh\xc3", 9, "abcdefgh" R);
}

static void json_escapes_controls_quotes_backslashes(void **state __unused)
{
	char out[256];
	const char *in = "q\"b\\n\nr\rt\tb\bf\f\x01\x1f\x7f" "\xce\xba\xff";
	size_t len = ws_json_escape(out, MB(in), strlen(in));
	const char *want = "q\\\"b\\\\n\\nr\\rt\\tb\\bf\\f\\u0001\\u001f\x7f\xce\xba" R;

	assert_int_equal(len, strlen(want));
	assert_memory_equal(out, want, len);
	assert_int_equal(ws_json_escape(out, MB("\0"), 1), 6);
	assert_memory_equal(out, "\\u0000", 6);
}

/* A line of n bytes (at most 299, its '\n' added here) encoded as a text
 * frame with header head (hl bytes): the line, with the byte at bad (if
 * below n) replaced by U+FFFD. */
static void check_text_frame(uint8_t *rec, size_t n, const char *head, size_t hl, size_t bad)
{
	uint8_t out[1024];
	size_t len = n + (bad < n ? 2 : 0);

	rec[n] = '\n';
	assert_int_equal(ws_encode_text(out, rec, n + 1), hl + len);
	assert_memory_equal(out, head, hl);
	if (bad >= n) {
		assert_memory_equal(out + hl, rec, n);
		return;
	}
	assert_memory_equal(out + hl, rec, bad);
	assert_memory_equal(out + hl + bad, R, 3);
	assert_memory_equal(out + hl + bad + 3, rec + bad + 1, n - bad - 1);
}

static void encode_text_strips_newline_and_sanitises(void **state __unused)
{
	uint8_t out[1024];
	uint8_t rec[300];
	size_t n;

	n = ws_encode_text(out, MB("h\xc3\xa9llo\n"), 7);
	assert_int_equal(n, 2 + 6);
	assert_memory_equal(out, "\x81\x06h\xc3\xa9llo", 8);
	n = ws_encode_text(out, MB("a\xffz\n"), 4);
	assert_int_equal(n, 2 + 5);
	assert_memory_equal(out, "\x81\x05" "a" R "z", 7);
	n = ws_encode_text(out, MB("\n"), 1);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "\x81\x00", 2);
	memset(rec, 'x', sizeof(rec));
	rec[299] = '\n';
	assert_true(ws_encode_text_max(300) <= sizeof(out));
	n = ws_encode_text(out, rec, 300);
	assert_int_equal(n, 4 + 299);
	assert_memory_equal(out, "\x81\x7e\x01\x2b", 4);
	assert_memory_equal(out + 4, rec, 299);
	/* 124 bytes sanitised to 126: the header grows to 4 bytes */
	memset(rec, 'x', 124);
	rec[60] = '\xff';
	check_text_frame(rec, 124, "\x81\x7e\x00\x7e", 4, 60);
	/* 125 valid bytes: the longest 2-byte header */
	rec[60] = 'x';
	check_text_frame(rec, 125, "\x81\x7d", 2, SIZE_MAX);
}

static void encode_binary_keeps_bytes(void **state __unused)
{
	uint8_t out[64];

	assert_int_equal(ws_encode_binary(out, MB("a\xff\n"), 3), 5);
	assert_memory_equal(out, "\x82\x03" "a\xff\n", 5);
}

static void encode_json_envelope_and_gap(void **state __unused)
{
	const char *id = "00000000deadbeef-42";
	const char *want = "{\"id\":\"00000000deadbeef-42\",\"data\":\"say \\\"hi\\\"\\u001b[1m" R "\"}";
	uint8_t out[256];
	size_t n;

	assert_true(ws_encode_json_max(strlen(id), 14) <= sizeof(out));
	n = ws_encode_json(out, id, strlen(id), MB("say \"hi\"\x1b[1m\xfe\n"), 14);
	assert_int_equal(n, 2 + strlen(want));
	assert_int_equal(out[0], 0x81);
	assert_int_equal(out[1], strlen(want));
	assert_memory_equal(out + 2, want, strlen(want));
	/* escapes that make the payload outgrow the 2-byte header */
	n = ws_encode_json(out, id, strlen(id), MB("\x01\x01\x01\x01\x01\x01\x01\x01"
						   "\x01\x01\x01\x01\x01\x01\x01\x01\n"), 17);
	assert_int_equal(n, 4 + 19 + 19 + 16 * 6);
	assert_memory_equal(out, "\x81\x7e\x00\x86{\"id\":\"00000000deadbeef-42\",\"data\":\"\\u0001", 4 + 42);
	assert_memory_equal(out + 4 + 19 + 19 + 15 * 6 - 2, "\\u0001\"}", 8);
	n = ws_encode_gap(out, true, 17);
	assert_int_equal(n, 2 + 10);
	assert_memory_equal(out, "\x81\x0a{\"gap\":17}", 12);
	n = ws_encode_gap(out, false, 0);
	assert_memory_equal(out, "\x81\x0c{\"gap\":null}", 14);
	assert_int_equal(n, 14);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accept_key_rfc_example),
		cmocka_unit_test(accept_key_rejects_malformed),
		cmocka_unit_test(upgrade_headers_are_checked),
		cmocka_unit_test(upgrade_response_carries_the_accept_key),
		cmocka_unit_test(masked_hello_is_one_message),
		cmocka_unit_test(unmasked_frames_close_1002),
		cmocka_unit_test(masked_pong_carries_its_payload),
		cmocka_unit_test(pings_between_fragments_and_empty_frames),
		cmocka_unit_test(too_big_closes_1009_at_the_header),
		cmocka_unit_test(bad_opcodes_and_bits_close_1002),
		cmocka_unit_test(control_frames_over_125_close_1002),
		cmocka_unit_test(fragments_out_of_order_close_1002),
		cmocka_unit_test(close_frames_are_validated),
		cmocka_unit_test(close_codes_a_peer_may_send),
		cmocka_unit_test(server_frame_headers),
		cmocka_unit_test(server_control_frames),
		cmocka_unit_test(utf8_maximal_subparts),
		cmocka_unit_test(utf8_fast_path_at_every_offset),
		cmocka_unit_test(utf8_invalid_across_the_word_boundary),
		cmocka_unit_test(json_escapes_controls_quotes_backslashes),
		cmocka_unit_test(encode_text_strips_newline_and_sanitises),
		cmocka_unit_test(encode_binary_keeps_bytes),
		cmocka_unit_test(encode_json_envelope_and_gap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

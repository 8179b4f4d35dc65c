/* test_httpresp.c: an upstream's response head: status line, the headers
 * acted on, line ends, a head that arrives in pieces, the size bound, and
 * every malformed head refused with its reason. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "httpresp.h"

/* Parses a complete C string in one call. */
static enum httpresp_status parse(const char *s, struct httpresp *r, const char **err)
{
	httpresp_init(r);
	*err = NULL;
	return httpresp_parse(r, s, strlen(s), 8192, err);
}

static void pipecast_reply(void **state __unused)
{
	static const char head[] =
		"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
		"Cache-Control: no-store\r\nConnection: close\r\n\r\n";
	char text[256];
	struct httpresp r;
	const char *err;

	snprintf(text, sizeof(text), "%sretry: 2000\n\n", head);
	assert_int_equal(parse(text, &r, &err), HTTPRESP_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.minor, 1);
	assert_true(r.event_stream);
	assert_false(r.chunked);
	assert_false(r.has_length);
	assert_true(r.close);
	assert_int_equal(r.head_len, strlen(head));
}

static void chunked_and_lengths(void **state __unused)
{
	struct httpresp r;
	const char *err;

	assert_int_equal(parse("HTTP/1.1 200 OK\nContent-Type: Text/Event-Stream; charset=utf-8\n"
			       "Transfer-Encoding:  chunked \n\n", &r, &err), HTTPRESP_OK);
	assert_true(r.event_stream);
	assert_true(r.chunked);
	assert_false(r.close);
	assert_int_equal(parse("HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n"
			       "Content-Length: 12\r\ncontent-length: 12\r\n\r\n", &r, &err),
			 HTTPRESP_OK);
	assert_int_equal(r.status, 404);
	assert_false(r.event_stream);
	assert_true(r.has_length);
	assert_int_equal(r.length, 12);
	assert_true(r.close);
	assert_int_equal(parse("HTTP/1.1 204\r\n\r\n", &r, &err), HTTPRESP_OK);
	assert_int_equal(r.status, 204);
	assert_int_equal(parse("HTTP/1.1 200 \r\nX-Empty:\r\nConnection: keep-alive, Close\r\n\r\n",
			       &r, &err), HTTPRESP_OK);
	assert_true(r.close);
}

/* The head fed one byte more at a time: MORE until its last byte. */
static void arrives_in_pieces(void **state __unused)
{
	static const char text[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata";
	size_t head = strlen(text) - 4;
	struct httpresp r;
	const char *err;

	httpresp_init(&r);
	for (size_t n = 0; n < head; n++)
		assert_int_equal(httpresp_parse(&r, text, n, 8192, &err), HTTPRESP_MORE);
	assert_int_equal(httpresp_parse(&r, text, head, 8192, &err), HTTPRESP_OK);
	assert_int_equal(r.head_len, head);
	assert_true(r.event_stream);
}

/* An endless head is refused at the bound, whatever comes after. */
static void size_bound(void **state __unused)
{
	char text[300];
	struct httpresp r;
	const char *err;

	memset(text, 'a', sizeof(text));
	memcpy(text, "HTTP/1.1 200 OK\r\nX: ", 20);
	httpresp_init(&r);
	assert_int_equal(httpresp_parse(&r, text, 255, 256, &err), HTTPRESP_MORE);
	assert_int_equal(httpresp_parse(&r, text, 256, 256, &err), HTTPRESP_ERROR);
	assert_string_equal(err, "response head too large");
	/* a complete head that ends past the bound is refused too */
	memcpy(text + 250, "\r\n\r\n", 4);
	httpresp_init(&r);
	assert_int_equal(httpresp_parse(&r, text, 254, 253, &err), HTTPRESP_ERROR);
	httpresp_init(&r);
	assert_int_equal(httpresp_parse(&r, text, 254, 254, &err), HTTPRESP_OK);
}

static void malformed(void **state __unused)
{
	static const struct { const char *head, *err; } bad[] = {
		{ "HTTP/2 200 OK\r\n\r\n", "malformed status line" },
		{ "HTTP/1.1 20 OK\r\n\r\n", "malformed status line" },
		{ "HTTP/1.1 099 OK\r\n\r\n", "malformed status line" },
		{ "HTTP/1.1 200OK\r\n\r\n", "malformed status line" },
		{ "http/1.1 200 OK\r\n\r\n", "malformed status line" },
		{ "\r\n\r\n", "malformed status line" },
		{ "SSH-2.0-OpenSSH\r\n\r\n", "malformed status line" },
		{ "HTTP/1.1 200 OK\r\n folded\r\n\r\n", "folded header line" },
		{ "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", "malformed header line" },
		{ "HTTP/1.1 200 OK\r\n: v\r\n\r\n", "malformed header line" },
		{ "HTTP/1.1 200 OK\r\nBad Name: v\r\n\r\n", "malformed header name" },
		{ "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", "control character in a header" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		  "unsupported Transfer-Encoding" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
		  "unsupported Transfer-Encoding" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", "malformed Content-Length" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", "malformed Content-Length" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		  "conflicting Content-Length" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n",
		  "malformed Content-Length" },
	};
	struct httpresp r;
	const char *err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i].head, &r, &err) != HTTPRESP_ERROR)
			fail_msg("accepted: %s", bad[i].head);
		assert_string_equal(err, bad[i].err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pipecast_reply),
		cmocka_unit_test(chunked_and_lengths),
		cmocka_unit_test(arrives_in_pieces),
		cmocka_unit_test(size_bound),
		cmocka_unit_test(malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

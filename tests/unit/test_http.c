/* test_http.c: the request-head parser: request line, the headers pipecast
 * reads, bodies refused, the 8 KiB cap, and query parameters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "http.h"

/* Parses a NUL-terminated head. */
static enum http_status parse(const char *s, struct http_request *req)
{
	return http_parse(s, strlen(s), req);
}

/* Whether a piece of the buffer equals text exactly. */
static void assert_str(struct http_str s, const char *text)
{
	assert_non_null(s.p);
	assert_int_equal(s.n, strlen(text));
	assert_memory_equal(s.p, text, s.n);
}

static void get_with_headers(void **state)
{
	struct http_request r;
	const char *h = "GET /events?last_event_id=00000000000000ff-7&x=1 HTTP/1.1\r\n"
			"Host: localhost:8080\r\n"
			"last-event-id:   0123456789abcdef-42  \r\n"
			"Authorization: Bearer s3cret\r\n"
			"Cookie: a=b; pipecast_token=t\r\n"
			"Origin: http://localhost:8080\r\n"
			"Upgrade: websocket\r\nConnection: Upgrade\r\n"
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			"Sec-WebSocket-Version: 13\r\n"
			"Content-Length: 0\r\n"
			"\r\nrest";

	(void)state;
	assert_int_equal(parse(h, &r), HTTP_OK);
	assert_int_equal(r.method, HTTP_GET);
	assert_int_equal(r.minor, 1);
	assert_str(r.path, "/events");
	assert_str(r.query, "last_event_id=00000000000000ff-7&x=1");
	assert_str(r.host, "localhost:8080");
	assert_str(r.last_event_id, "0123456789abcdef-42");
	assert_str(r.authorization, "Bearer s3cret");
	assert_str(r.cookie, "a=b; pipecast_token=t");
	assert_str(r.origin, "http://localhost:8080");
	assert_str(r.upgrade, "websocket");
	assert_str(r.connection, "Upgrade");
	assert_str(r.sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
	assert_str(r.sec_websocket_version, "13");
	assert_int_equal(r.head_len, strlen(h) - 4);
}

static void methods_and_bare_lf(void **state)
{
	struct http_request r;

	(void)state;
	assert_int_equal(parse("HEAD /metrics HTTP/1.0\n\n", &r), HTTP_OK);
	assert_int_equal(r.method, HTTP_HEAD);
	assert_int_equal(r.minor, 0);
	assert_null(r.query.p);
	assert_int_equal(parse("OPTIONS /events HTTP/1.1\r\n\r\n", &r), HTTP_OK);
	assert_int_equal(r.method, HTTP_OPTIONS);
	assert_int_equal(parse("POST / HTTP/1.1\r\n\r\n", &r), HTTP_OK);
	assert_int_equal(r.method, HTTP_OTHER);
	assert_int_equal(parse("get / HTTP/1.1\r\n\r\n", &r), HTTP_OK);
	assert_int_equal(r.method, HTTP_OTHER);  /* methods are case-sensitive */
}

static void incomplete_until_the_blank_line(void **state)
{
	struct http_request r;

	(void)state;
	assert_int_equal(parse("", &r), HTTP_INCOMPLETE);
	assert_int_equal(parse("GET / HTTP/1.1\r\n", &r), HTTP_INCOMPLETE);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\n\r", &r), HTTP_INCOMPLETE);
}

static void malformed_heads(void **state)
{
	static const char *const bad[] = {
		"GET\r\n\r\n",
		"GET / HTTP/2.0\r\n\r\n",
		"GET / HTTP/1.1 \r\n\r\n",
		"GET  / HTTP/1.1\r\n\r\n",
		"GET events HTTP/1.1\r\n\r\n",
		"GET /a b HTTP/1.1\r\n\r\n",
		"G(T / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nNo colon\r\n\r\n",
		"GET / HTTP/1.1\r\n: empty name\r\n\r\n",
		"GET / HTTP/1.1\r\nBad name: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
		"GET / HTTP/1.1\r\nX: a\001b\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
		"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
	};
	struct http_request r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &r) != HTTP_BAD)
			fail_msg("not refused: %s", bad[i]);
	}
}

static void head_over_8k_is_too_large(void **state)
{
	static char big[HTTP_HEAD_MAX + 64];
	struct http_request r;
	size_t n;

	(void)state;
	n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX: ");
	memset(big + n, 'a', sizeof(big) - n);
	assert_int_equal(http_parse(big, HTTP_HEAD_MAX - 1, &r), HTTP_INCOMPLETE);
	assert_int_equal(http_parse(big, HTTP_HEAD_MAX, &r), HTTP_TOO_LARGE);
	/* the blank line just past the cap */
	memcpy(big + HTTP_HEAD_MAX - 2, "\r\n\r\n", 4);
	assert_int_equal(http_parse(big, HTTP_HEAD_MAX + 2, &r), HTTP_TOO_LARGE);
	memcpy(big + HTTP_HEAD_MAX - 4, "\r\n\r\n", 4);
	assert_int_equal(http_parse(big, HTTP_HEAD_MAX + 2, &r), HTTP_OK);
	assert_int_equal(r.head_len, HTTP_HEAD_MAX);
}

static void query_parameters(void **state)
{
	struct http_request r;
	char v[16];

	(void)state;
	assert_int_equal(parse("GET /ws?envelope=json&token=a%2Bb+c&e=&f&token=no HTTP/1.1\r\n\r\n", &r),
			 HTTP_OK);
	assert_int_equal(http_query(&r, "envelope", v, sizeof(v)), 4);
	assert_string_equal(v, "json");
	assert_int_equal(http_query(&r, "token", v, sizeof(v)), 5);
	assert_string_equal(v, "a+b c");
	assert_int_equal(http_query(&r, "e", v, sizeof(v)), 0);
	assert_int_equal(http_query(&r, "f", v, sizeof(v)), 0);
	assert_int_equal(http_query(&r, "last_event_id", v, sizeof(v)), -1);
	assert_int_equal(http_query(&r, "toke", v, sizeof(v)), -1);
	assert_int_equal(http_query(&r, "envelope", v, 4), -2);
	assert_int_equal(parse("GET /?a=%4 HTTP/1.1\r\n\r\n", &r), HTTP_OK);
	assert_int_equal(http_query(&r, "a", v, sizeof(v)), -2);
	assert_int_equal(parse("GET /?a=%zz HTTP/1.1\r\n\r\n", &r), HTTP_OK);
	assert_int_equal(http_query(&r, "a", v, sizeof(v)), -2);
	assert_int_equal(parse("GET / HTTP/1.1\r\n\r\n", &r), HTTP_OK);
	assert_int_equal(http_query(&r, "a", v, sizeof(v)), -1);
}

static void first_header_wins(void **state)
{
	struct http_request r;

	(void)state;
	assert_int_equal(parse("GET / HTTP/1.1\r\nOrigin: a\r\nORIGIN: b\r\n\r\n", &r), HTTP_OK);
	assert_str(r.origin, "a");
	assert_true(http_str_eq(r.origin, "A"));
	assert_false(http_str_eq(r.host, ""));
}

/* Bearer, then ?token=, then the cookie, which counts only from a page of
 * this host or of cors_origin. */
static void the_token_of_a_request(void **state)
{
	struct http_request r;
	char v[16];

	(void)state;
	assert_int_equal(parse("GET /events?token=q HTTP/1.1\r\nAuthorization: bearer  s3\r\n"
			       "\r\n", &r), HTTP_OK);
	assert_int_equal(http_token(&r, "", v, sizeof(v)), 2);
	assert_string_equal(v, "s3");
	assert_int_equal(parse("GET /events?token=a%2Bb HTTP/1.1\r\nAuthorization: Basic eA==\r\n"
			       "Cookie: pipecast_token=c\r\n\r\n", &r), HTTP_OK);
	assert_int_equal(http_token(&r, "", v, sizeof(v)), 3);
	assert_string_equal(v, "a+b");
	assert_int_equal(http_token(&r, "", v, 3), -2);
	/* the cookie: only with an Origin of this host, or cors_origin */
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: h:80\r\nCookie: a=1; pipecast_token=ck\r\n"
			       "Origin: http://h:80\r\n\r\n", &r), HTTP_OK);
	assert_int_equal(http_token(&r, NULL, v, sizeof(v)), 2);
	assert_string_equal(v, "ck");
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: h:80\r\nCookie: pipecast_token=ck\r\n"
			       "Origin: https://evil:80\r\n\r\n", &r), HTTP_OK);
	assert_int_equal(http_token(&r, "", v, sizeof(v)), -1);
	assert_int_equal(http_token(&r, "https://evil:80", v, sizeof(v)), 2);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: h:80\r\nCookie: pipecast_token=ck\r\n"
			       "\r\n", &r), HTTP_OK);
	assert_int_equal(http_token(&r, "", v, sizeof(v)), -1);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: h:80\r\nOrigin: http://h:80\r\n"
			       "Cookie: xpipecast_token=no; pipecast_token\r\n\r\n", &r), HTTP_OK);
	assert_int_equal(http_token(&r, "", v, sizeof(v)), -1);
	assert_int_equal(parse("GET / HTTP/1.1\r\n\r\n", &r), HTTP_OK);
	assert_int_equal(http_token(&r, "", v, sizeof(v)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(get_with_headers),
		cmocka_unit_test(methods_and_bare_lf),
		cmocka_unit_test(incomplete_until_the_blank_line),
		cmocka_unit_test(malformed_heads),
		cmocka_unit_test(head_over_8k_is_too_large),
		cmocka_unit_test(query_parameters),
		cmocka_unit_test(first_header_wins),
		cmocka_unit_test(the_token_of_a_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

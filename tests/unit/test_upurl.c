/* test_upurl.c: upstream sources: sse:http:// and redis: with every host
 * form, default and explicit ports, paths, keys, ?history=N, and every
 * refusal with its message (https: pointing to the TLS proxy recipe). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <string.h>

#include "compat.h"
#include "upurl.h"

/* Parses s, which must be accepted. */
static void ok(const char *s, struct upurl *u)
{
	const char *why = NULL;

	if (upurl_parse(s, u, &why) != 0)
		fail_msg("'%s' refused: %s", s, why);
}

/* Parses s, which must be refused with a message containing `part`. */
static void refused(const char *s, const char *part)
{
	struct upurl u;
	const char *why = NULL;

	if (upurl_parse(s, &u, &why) != -1)
		fail_msg("'%s' accepted", s);
	if (!strstr(why, part))
		fail_msg("'%s': message '%s' lacks '%s'", s, why, part);
}

static void sse_sources(void **state __unused)
{
	struct upurl u;
	char a[INET6_ADDRSTRLEN];

	ok("sse:http://127.0.0.1:8080/events", &u);
	assert_int_equal(u.kind, UPURL_SSE);
	assert_int_equal(u.family, AF_INET);
	assert_int_equal(u.port, 8080);
	assert_string_equal(u.host, "127.0.0.1");
	assert_string_equal(u.path, "/events");
	assert_string_equal(inet_ntop(AF_INET, &u.addr.v4, a, sizeof(a)), "127.0.0.1");
	ok("sse:http://[::1]:7000/events?token=abc&x=%20", &u);
	assert_int_equal(u.family, AF_INET6);
	assert_string_equal(u.host, "[::1]");
	assert_string_equal(u.path, "/events?token=abc&x=%20");
	assert_string_equal(inet_ntop(AF_INET6, &u.addr.v6, a, sizeof(a)), "::1");
	ok("sse:http://localhost/", &u);
	assert_int_equal(u.port, UPURL_SSE_PORT);
	assert_int_equal(u.family, AF_INET);
	assert_string_equal(u.host, "127.0.0.1");
	assert_true(u.addr.v4.s_addr == htonl(INADDR_LOOPBACK));
	ok("sse:http://10.1.2.3:65535/a/b", &u);
	assert_int_equal(u.port, 65535);
}

static void redis_sources(void **state __unused)
{
	struct upurl u;

	ok("redis:127.0.0.1:6380/feed", &u);
	assert_int_equal(u.kind, UPURL_REDIS);
	assert_int_equal(u.port, 6380);
	assert_string_equal(u.key, "feed");
	assert_int_equal(u.history, 0);
	ok("redis:localhost/app:events/1", &u);
	assert_int_equal(u.port, UPURL_REDIS_PORT);
	assert_string_equal(u.key, "app:events/1");
	ok("redis:[2001:db8::7]:1/k?history=1000000", &u);
	assert_int_equal(u.family, AF_INET6);
	assert_int_equal(u.port, 1);
	assert_string_equal(u.key, "k");
	assert_int_equal(u.history, 1000000);
	assert_true(upurl_is("redis:x"));
	assert_true(upurl_is("sse:x"));
	assert_false(upurl_is("stdin"));
	assert_false(upurl_is("exec:sse:x"));
}

static void refusals(void **state __unused)
{
	char longpath[1100], longkey[600];

	refused("sse:https://127.0.0.1/events", "pipecastd(8), TLS");
	refused("sse:ftp://127.0.0.1/x", "expected sse:http://");
	refused("sse:127.0.0.1:80/x", "expected sse:http://");
	refused("sse:http://example.com/events", "no name is looked up");
	refused("sse:http://localhost.localdomain/x", "no name is looked up");
	refused("sse:http://1.2.3/x", "no name is looked up");
	refused("sse:http://[::1/x", "no name is looked up");
	refused("sse:http://[fe80::1%eth0]:80/x", "no name is looked up");
	refused("sse:http:///x", "no name is looked up");
	refused("sse:http://127.0.0.1:8080", "expected /PATH");
	refused("sse:http://127.0.0.1:0/x", "PORT must be");
	refused("sse:http://127.0.0.1:65536/x", "PORT must be");
	refused("sse:http://127.0.0.1:/x", "PORT must be");
	refused("sse:http://127.0.0.1:8a/x", "PORT must be");
	refused("sse:http://[::1]x/x", "PORT must be");
	refused("sse:http://user:pw@127.0.0.1/x", "passwords");
	refused("sse:http://127.0.0.1/a b", "without blanks");
	refused("sse:http://127.0.0.1/a#frag", "'#'");
	refused("sse:http://127.0.0.1/\x01", "printable");
	memset(longpath, 'p', sizeof(longpath));
	memcpy(longpath, "sse:http://1.2.3.4/", 19);
	longpath[sizeof(longpath) - 1] = '\0';
	refused(longpath, "longer than 1024");
	refused("redis:127.0.0.1:6379/", "empty KEY");
	refused("redis:127.0.0.1:6379", "expected /KEY");
	refused("redis:127.0.0.1:6379/?history=5", "empty KEY");
	refused("redis:127.0.0.1/a b", "printable");
	refused("redis:127.0.0.1/k?history=0", "history must be");
	refused("redis:127.0.0.1/k?history=1000001", "history must be");
	refused("redis:127.0.0.1/k?history=", "history must be");
	refused("redis:127.0.0.1/k?hist=5", "unknown parameter");
	refused("redis:redis.local/k", "no name is looked up");
	memset(longkey, 'k', sizeof(longkey));
	memcpy(longkey, "redis:1.2.3.4/", 14);
	longkey[sizeof(longkey) - 1] = '\0';
	refused(longkey, "longer than 512");
	refused("stdin", "expected sse:");
}

static void sse_requests(void **state __unused)
{
	struct upurl u;
	char out[512], longid[UPURL_LAST_ID_MAX + 2];
	static const char head[] =
		"GET /events?x=1 HTTP/1.1\r\nHost: [::1]:7000\r\n"
		"Accept: text/event-stream\r\nCache-Control: no-cache\r\n"
		"User-Agent: pipecast/" PIPECAST_VERSION "\r\n";
	size_t n;

	ok("sse:http://[::1]:7000/events?x=1", &u);
	n = upurl_sse_request(&u, NULL, 0, out, sizeof(out));
	assert_int_equal(n, strlen(head) + 2);
	assert_memory_equal(out, head, strlen(head));
	assert_string_equal(out + strlen(head), "\r\n");
	n = upurl_sse_request(&u, "0123456789abcdef-42", 19, out, sizeof(out));
	assert_int_equal(n, strlen(head) + strlen("Last-Event-ID: 0123456789abcdef-42\r\n\r\n"));
	assert_string_equal(out + strlen(head), "Last-Event-ID: 0123456789abcdef-42\r\n\r\n");
	/* an id that cannot be a header value is left out */
	upurl_sse_request(&u, "a\x01b", 3, out, sizeof(out));
	assert_string_equal(out + strlen(head), "\r\n");
	memset(longid, 'i', sizeof(longid));
	upurl_sse_request(&u, longid, UPURL_LAST_ID_MAX + 1, out, sizeof(out));
	assert_string_equal(out + strlen(head), "\r\n");
	n = upurl_sse_request(&u, longid, UPURL_LAST_ID_MAX, out, sizeof(out));
	assert_int_equal(n, strlen(head) + 15 + UPURL_LAST_ID_MAX + 4);
	/* too small: 0 */
	assert_int_equal(upurl_sse_request(&u, NULL, 0, out, strlen(head) + 2), 0);
	assert_int_equal(upurl_sse_request(&u, NULL, 0, out, strlen(head) + 3), strlen(head) + 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sse_sources),
		cmocka_unit_test(redis_sources),
		cmocka_unit_test(refusals),
		cmocka_unit_test(sse_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

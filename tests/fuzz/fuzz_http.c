/* fuzz_http.c: libFuzzer target for lib/http.c (the request head) and
 * lib/eventid.c (ids sent back by clients).
 *
 * Input: the bytes a client sent, parsed as one request head.
 *
 * Invariants checked (any failure aborts):
 *  - the result is one of the four statuses; HTTP_TOO_LARGE only when the
 *    input reaches HTTP_HEAD_MAX bytes; HTTP_INCOMPLETE only when the input
 *    holds no blank line within the cap;
 *  - on HTTP_OK: head_len <= min(len, HTTP_HEAD_MAX), the head ends in a
 *    blank line, and every string of the request lies inside the head; the
 *    path starts with '/' (or is "*"), path + '?' + query is the target;
 *  - http_query() of each parameter pipecast reads, and http_token(),
 *    return -2, -1, or a length below the room given, NUL-terminated there;
 *  - an id that eventid_parse() accepts formats back to the same bytes
 *    unless its number had leading zeros. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "eventid.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A string of the request lies within the head (or is absent). */
static void fuzz_inside(const char *buf, const struct http_request *r, struct http_str s)
{
	if (s.p && (s.p < buf || s.p + s.n > buf + r->head_len))
		fuzz_fail("string outside the head");
}

/* The id round trip. */
static void fuzz_id(struct http_str s)
{
	struct eventid id;
	char out[EVENTID_MAX];

	if (!s.p || eventid_parse(s.p, s.n, &id) < 0)
		return;
	if (eventid_format(out, id.epoch, id.seq) != s.n && s.p[17] != '0')
		fuzz_fail("id does not format back to its length");
	if (s.p[17] != '0' && memcmp(out, s.p, s.n) != 0)
		fuzz_fail("id does not format back to itself");
}

/* The query parameters the daemon looks up, and the token. */
static void fuzz_query(const struct http_request *r)
{
	static const char *const names[] = { "last_event_id", "token", "envelope", "" };
	char v[64];
	int n;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		n = http_query(r, names[i], v, sizeof(v));
		if (n < -2 || n >= (int)sizeof(v) || (n >= 0 && v[n] != '\0'))
			fuzz_fail("query value out of bounds");
		if (n >= 0 && i == 0)
			fuzz_id((struct http_str){ v, (size_t)n });
	}
	n = http_token(r, "http://o", v, sizeof(v));
	if (n < -2 || n >= (int)sizeof(v) || (n >= 0 && v[n] != '\0'))
		fuzz_fail("token out of bounds");
}

/* Checks a successful parse. */
static void fuzz_ok(const char *buf, size_t len, const struct http_request *r)
{
	const struct http_str all[] = {
		r->target, r->path, r->query, r->host, r->last_event_id, r->authorization,
		r->cookie, r->origin, r->upgrade, r->connection, r->sec_websocket_key,
		r->sec_websocket_version,
	};

	if (r->head_len > len || r->head_len > HTTP_HEAD_MAX || r->head_len < 2 ||
	    buf[r->head_len - 1] != '\n')
		fuzz_fail("bad head length");
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		fuzz_inside(buf, r, all[i]);
	if (!r->path.p || r->path.p != r->target.p || (r->path.p[0] != '/' && r->path.p[0] != '*'))
		fuzz_fail("bad path");
	if (r->path.n + (r->query.p ? r->query.n + 1 : 0) != r->target.n)
		fuzz_fail("path and query do not make the target");
	fuzz_query(r);
	fuzz_id(r->last_event_id);
}

/* One request head. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct http_request r;
	enum http_status st;

	memcpy(buf, data, size);
	st = http_parse(buf, size, &r);
	switch (st) {
	case HTTP_OK:
		fuzz_ok(buf, size, &r);
		break;
	case HTTP_TOO_LARGE:
		if (size < HTTP_HEAD_MAX)
			fuzz_fail("too large below the cap");
		break;
	case HTTP_INCOMPLETE:
		if (size >= HTTP_HEAD_MAX)
			fuzz_fail("incomplete at the cap");
		break;
	case HTTP_BAD:
		break;
	default:
		fuzz_fail("unknown status");
	}
	free(buf);
	return 0;
}

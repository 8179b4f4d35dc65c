/* fuzz_upurl.c: libFuzzer target for upstream sources (lib/upurl.c).
 *
 * Input: the whole input is one [source] input value (cut at a NUL), given
 * in an allocation of exactly its length plus the terminator.
 *
 * Invariants checked (any failure aborts):
 *  - upurl_parse returns 0 or -1, and -1 always with a reason;
 *  - an accepted value: its kind matches its scheme, the port is not 0,
 *    an SSE path starts with '/' and a Redis key is not empty, both
 *    printable without blanks; history is 0 or 1..1000000;
 *  - an accepted value written back in full (explicit port) parses to
 *    exactly the same description;
 *  - an accepted SSE source's request, with the input as Last-Event-ID,
 *    is lines ending in CRLF with no bare CR or LF, and ends at its first
 *    empty line;
 *  - nothing is allocated through the daemon's allocator. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "alloc.h"
#include "upurl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks that a field is printable ASCII without blanks. */
static void fuzz_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			fuzz_fail("unprintable byte in an accepted field");
}

/* Writes an accepted source back and parses it again. */
static void fuzz_round_trip(const struct upurl *u)
{
	static char buf[2048];
	struct upurl again;
	const char *why;

	if (u->kind == UPURL_SSE)
		snprintf(buf, sizeof(buf), "sse:http://%s:%u%s", u->host, u->port, u->path);
	else if (u->history)
		snprintf(buf, sizeof(buf), "redis:%s:%u/%s?history=%llu", u->host, u->port,
			 u->key, (unsigned long long)u->history);
	else
		snprintf(buf, sizeof(buf), "redis:%s:%u/%s", u->host, u->port, u->key);
	if (upurl_parse(buf, &again, &why) != 0)
		fuzz_fail("written back, the source is refused");
	if (memcmp(u, &again, sizeof(again)) != 0)
		fuzz_fail("written back, the source parses differently");
}

/* Checks the request of an SSE source, resuming after `id`. */
static void fuzz_request(const struct upurl *u, const char *id, size_t idlen)
{
	static char out[4096];
	size_t n = upurl_sse_request(u, id, idlen, out, sizeof(out));
	const char *end;

	if (n == 0 || n >= sizeof(out))
		fuzz_fail("request does not fit 4 KiB");
	end = strstr(out, "\r\n\r\n");
	if (!end || (size_t)(end - out) + 4 != n)
		fuzz_fail("request does not end at its first empty line");
	for (size_t i = 0; i < n; i++)
		if ((out[i] == '\r') != (i + 1 < n && out[i + 1] == '\n') ||
		    (out[i] == '\n' && (i == 0 || out[i - 1] != '\r')))
			fuzz_fail("bare CR or LF in the request");
}

/* One input: see the top of this file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t total0 = alloc_total();
	size_t n = strnlen((const char *)data, size);
	char *s = malloc(n + 1);
	struct upurl u;
	const char *why = NULL;
	int rc;

	if (!s)
		abort();
	memcpy(s, data, n);
	s[n] = '\0';
	rc = upurl_parse(s, &u, &why);
	if (rc != 0 && (rc != -1 || !why || !*why))
		fuzz_fail("bad return or missing reason");
	if (rc == 0) {
		if ((u.kind == UPURL_SSE) != (strncmp(s, "sse:", 4) == 0) || u.port == 0 ||
		    u.history > UPURL_HISTORY_MAX)
			fuzz_fail("accepted source out of its ranges");
		if (u.kind == UPURL_SSE ? u.path[0] != '/' : u.key[0] == '\0')
			fuzz_fail("accepted source without a path or key");
		fuzz_printable(u.kind == UPURL_SSE ? u.path : u.key);
		fuzz_round_trip(&u);
		if (u.kind == UPURL_SSE)
			fuzz_request(&u, (const char *)data, size);
	}
	free(s);
	if (alloc_total() != total0)
		fuzz_fail("the parser allocated");
	return 0;
}

/* upurl.c: parsing of upstream sources (see upurl.h). */
#include "upurl.h"
#include "units.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* What the parts of an upstream source may be made of. */
#define UPURL_ERR_HOST "HOST must be a numeric IPv4 address, [IPv6] or localhost " \
		       "(no name is looked up)"
#define UPURL_ERR_TLS "https: is not supported: reach a TLS upstream through a local " \
		      "TLS proxy (see pipecastd(8), TLS)"

/* A source whose value starts with one of these is an upstream. */
bool upurl_is(const char *s)
{
	return strncmp(s, "sse:", 4) == 0 || strncmp(s, "redis:", 6) == 0;
}

/* Printable ASCII without blanks: bytes that travel in a request line or a
 * command unchanged. */
static bool upurl_printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* HOST: a dotted quad, [IPv6] or localhost; *end is where it stops. */
static const char *upurl_host(const char *s, struct upurl *u, const char **end)
{
	char buf[INET6_ADDRSTRLEN];
	size_t n;

	if (strncmp(s, "localhost", 9) == 0 && (s[9] == ':' || s[9] == '/')) {
		u->family = AF_INET;
		u->addr.v4.s_addr = htonl(INADDR_LOOPBACK);
		strcpy(u->host, "127.0.0.1");
		*end = s + 9;
		return NULL;
	}
	if (s[0] == '[') {
		n = strcspn(s + 1, "]");
		if (s[1 + n] != ']' || n == 0 || n >= sizeof(buf))
			return UPURL_ERR_HOST;
		memcpy(buf, s + 1, n);
		buf[n] = '\0';
		if (inet_pton(AF_INET6, buf, &u->addr.v6) != 1)
			return UPURL_ERR_HOST;
		u->family = AF_INET6;
		memcpy(u->host, s, n + 2);
		u->host[n + 2] = '\0';
		*end = s + n + 2;
		return NULL;
	}
	n = strcspn(s, ":/");
	if (n == 0 || n >= sizeof(buf))
		return UPURL_ERR_HOST;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, &u->addr.v4) != 1)
		return UPURL_ERR_HOST;
	u->family = AF_INET;
	strcpy(u->host, buf);
	*end = s + n;
	return NULL;
}

/* [:PORT] up to the '/' that must follow; *end is at the '/'. */
static const char *upurl_port(const char *s, struct upurl *u, const char **end)
{
	const char *slash = strchr(s, '/');
	uint64_t port;

	if (!slash)
		return u->kind == UPURL_SSE ? "expected /PATH after the host"
					    : "expected /KEY after the host";
	*end = slash;
	if (s == slash)
		return NULL;
	if (s[0] != ':' || units_parse_uint_n(s + 1, (size_t)(slash - s - 1), &port) < 0 ||
	    port < 1 || port > 65535)
		return "PORT must be a number 1..65535";
	u->port = (uint16_t)port;
	return NULL;
}

/* HOST[:PORT] then the '/'. */
static const char *upurl_authority(const char *s, struct upurl *u, const char **end)
{
	const char *why, *p;

	if (s[strcspn(s, "@/")] == '@')
		return "user names and passwords are not supported";
	if ((why = upurl_host(s, u, &p)) != NULL)
		return why;
	return upurl_port(p, u, end);
}

/* sse:http://HOST[:PORT]/PATH */
static const char *upurl_sse(const char *s, struct upurl *u)
{
	const char *path;
	const char *why;
	size_t n;

	if (strncmp(s, "https://", 8) == 0)
		return UPURL_ERR_TLS;
	if (strncmp(s, "http://", 7) != 0)
		return "expected sse:http://HOST:PORT/PATH";
	u->kind = UPURL_SSE;
	u->port = UPURL_SSE_PORT;
	if ((why = upurl_authority(s + 7, u, &path)) != NULL)
		return why;
	n = strlen(path);
	if (n > UPURL_PATH_MAX)
		return "PATH longer than 1024 bytes";
	if (!upurl_printable(path, n) || strchr(path, '#'))
		return "PATH must be printable ASCII without blanks or '#'";
	memcpy(u->path, path, n + 1);
	return NULL;
}

/* ?history=N */
static const char *upurl_query(const char *q, struct upurl *u)
{
	if (strncmp(q, "history=", 8) != 0)
		return "unknown parameter (only ?history=N)";
	if (units_parse_uint(q + 8, &u->history) < 0 || u->history < 1 ||
	    u->history > UPURL_HISTORY_MAX)
		return "history must be a number 1..1000000";
	return NULL;
}

/* redis:HOST[:PORT]/KEY[?history=N] */
static const char *upurl_redis(const char *s, struct upurl *u)
{
	const char *key;
	const char *why;
	size_t n;

	u->kind = UPURL_REDIS;
	u->port = UPURL_REDIS_PORT;
	if ((why = upurl_authority(s, u, &key)) != NULL)
		return why;
	key++;
	n = strcspn(key, "?");
	if (n == 0)
		return "empty KEY";
	if (n > UPURL_KEY_MAX)
		return "KEY longer than 512 bytes";
	if (!upurl_printable(key, n))
		return "KEY must be printable ASCII without blanks";
	memcpy(u->key, key, n);
	u->key[n] = '\0';
	return key[n] == '?' ? upurl_query(key + n + 1, u) : NULL;
}

/* Parses an upstream source (see upurl.h). */
int upurl_parse(const char *s, struct upurl *u, const char **why)
{
	memset(u, 0, sizeof(*u));
	if (strncmp(s, "sse:", 4) == 0)
		*why = upurl_sse(s + 4, u);
	else if (strncmp(s, "redis:", 6) == 0)
		*why = upurl_redis(s + 6, u);
	else
		*why = "expected sse:http://HOST:PORT/PATH or redis:HOST:PORT/KEY";
	return *why ? -1 : 0;
}

/* Can an id travel as a header value unchanged? */
static bool upurl_header_safe(const char *p, size_t n)
{
	if (n > UPURL_LAST_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] == 0x7f)
			return false;
	return true;
}

/* The request of an SSE upstream (see upurl.h). */
size_t upurl_sse_request(const struct upurl *u, const char *last_id, size_t idlen,
			 char *out, size_t cap)
{
	bool resume = last_id && upurl_header_safe(last_id, idlen);
	int n = snprintf(out, cap,
			 "GET %s HTTP/1.1\r\n"
			 "Host: %s:%u\r\n"
			 "Accept: text/event-stream\r\n"
			 "Cache-Control: no-cache\r\n"
			 "User-Agent: pipecast/" PIPECAST_VERSION "\r\n"
			 "%s%.*s%s"
			 "\r\n",
			 u->path, u->host, u->port,
			 resume ? "Last-Event-ID: " : "", resume ? (int)idlen : 0,
			 resume ? last_id : "", resume ? "\r\n" : "");

	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* http.h: the HTTP/1.1 request head, parsed in place (pipecast.conf(5),
 * "[http]"). Hand-written and small: pipecast only needs the request line
 * and a handful of headers, never a body, and the whole head is in one
 * buffer of at most HTTP_HEAD_MAX bytes before it is parsed. Every string of
 * a parsed request points into the caller's buffer (not NUL-terminated). */
#ifndef PIPECAST_HTTP_H
#define PIPECAST_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* The longest request head served; a longer one gets 431. */
#define HTTP_HEAD_MAX 8192

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_OPTIONS, HTTP_OTHER };

/* What parsing a buffer found. */
enum http_status {
	HTTP_INCOMPLETE,    /* no end of head yet: read more */
	HTTP_OK,            /* a complete, well-formed head without a body */
	HTTP_BAD,           /* malformed, or announces a body: 400 */
	HTTP_TOO_LARGE,     /* the head exceeds HTTP_HEAD_MAX: 431 */
};

/* A piece of the buffer; p == NULL when absent. */
struct http_str {
	const char *p;
	size_t n;
};

struct http_request {
	enum http_method method;
	struct http_str target;          /* as sent: path and query */
	struct http_str path;            /* before '?' */
	struct http_str query;           /* after '?', without it */
	int minor;                       /* HTTP/1.minor */
	struct http_str host;
	struct http_str last_event_id;
	struct http_str authorization;
	struct http_str cookie;
	struct http_str origin;
	struct http_str upgrade;
	struct http_str connection;
	struct http_str sec_websocket_key;
	struct http_str sec_websocket_version;
	size_t head_len;                 /* bytes of the head, blank line included */
};

/* Parses the first len bytes of buf. On HTTP_OK, *req describes the request
 * and req->head_len how many bytes it took. Lines may end in CRLF or LF. */
enum http_status http_parse(const char *buf, size_t len, struct http_request *req);

/* Looks up query parameter name and percent-decodes its value ('+' is a
 * space) into out (cap bytes, NUL-terminated). Returns the decoded length,
 * -1 when absent, -2 when malformed or longer than cap - 1. The first
 * occurrence counts. */
int http_query(const struct http_request *req, const char *name, char *out, size_t cap);

/* The access token a request presents (pipecast.conf(5), [access]):
 * "Authorization: Bearer TOKEN", else the query parameter token (decoded),
 * else the cookie pipecast_token, taken only when Origin is this request's
 * host (http:// or https:// and the Host header) or cors_origin. Copied
 * into out (cap bytes, NUL-terminated). Returns its length, -1 when there
 * is none, -2 when malformed or not shorter than cap. */
int http_token(const struct http_request *req, const char *cors_origin, char *out, size_t cap);

/* Whether s equals the NUL-terminated lit, ignoring ASCII case. */
bool http_str_eq(struct http_str s, const char *lit);

#endif

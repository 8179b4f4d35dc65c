/* http.c: the request-head parser (RFC 9112 section 3 and 5, the subset a
 * broadcast server needs). */
#include "http.h"
#include "units.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* The headers pipecast looks at, and where each goes in the request. */
static const struct {
	const char *name;
	size_t off;
} http_headers[] = {
	{ "host", offsetof(struct http_request, host) },
	{ "last-event-id", offsetof(struct http_request, last_event_id) },
	{ "authorization", offsetof(struct http_request, authorization) },
	{ "cookie", offsetof(struct http_request, cookie) },
	{ "origin", offsetof(struct http_request, origin) },
	{ "upgrade", offsetof(struct http_request, upgrade) },
	{ "connection", offsetof(struct http_request, connection) },
	{ "sec-websocket-key", offsetof(struct http_request, sec_websocket_key) },
	{ "sec-websocket-version", offsetof(struct http_request, sec_websocket_version) },
};

static const struct {
	const char *name;
	enum http_method m;
} http_methods[] = {
	{ "GET", HTTP_GET }, { "HEAD", HTTP_HEAD }, { "OPTIONS", HTTP_OPTIONS },
};

/* RFC 9110 tchar: the characters of methods and header names. */
static bool http_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Visible characters of a request target (no spaces, no controls). */
static bool http_target_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

/* Whether s equals lit, ignoring ASCII case. */
bool http_str_eq(struct http_str s, const char *lit)
{
	return s.p && strlen(lit) == s.n && strncasecmp(s.p, lit, s.n) == 0;
}

/* The end of the head: one past the blank line, or 0 when not there yet. */
static size_t http_head_end(const char *buf, size_t len)
{
	for (const char *p = buf; (p = memchr(p, '\n', len - (size_t)(p - buf))) != NULL; p++) {
		size_t at = (size_t)(p - buf) + 1;

		if (at < len && buf[at] == '\n')
			return at + 1;
		if (at + 1 < len && buf[at] == '\r' && buf[at + 1] == '\n')
			return at + 2;
	}
	return 0;
}

/* One line of [*at, end): its text without CR LF; advances *at past it. */
static struct http_str http_line(const char *buf, size_t end, size_t *at)
{
	const char *nl = memchr(buf + *at, '\n', end - *at);
	struct http_str s = { buf + *at, (size_t)(nl - (buf + *at)) };

	*at += s.n + 1;
	if (s.n > 0 && s.p[s.n - 1] == '\r')
		s.n--;
	return s;
}

/* METHOD SP request-target SP HTTP/1.x */
static enum http_status http_request_line(struct http_str l, struct http_request *req)
{
	const char *sp1 = memchr(l.p, ' ', l.n), *sp2, *q;
	size_t mlen, tlen;

	if (!sp1 || sp1 == l.p)
		return HTTP_BAD;
	mlen = (size_t)(sp1 - l.p);
	for (size_t i = 0; i < mlen; i++)
		if (!http_tchar((unsigned char)l.p[i]))
			return HTTP_BAD;
	req->method = HTTP_OTHER;
	for (size_t i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++)
		if (strlen(http_methods[i].name) == mlen && memcmp(l.p, http_methods[i].name, mlen) == 0)
			req->method = http_methods[i].m;
	sp2 = memchr(sp1 + 1, ' ', l.n - mlen - 1);
	if (!sp2 || l.p + l.n - (sp2 + 1) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return HTTP_BAD;
	req->minor = sp2[8] - '0';
	tlen = (size_t)(sp2 - sp1 - 1);
	if (tlen == 0 || (sp1[1] != '/' && !(tlen == 1 && sp1[1] == '*')))
		return HTTP_BAD;
	for (size_t i = 0; i < tlen; i++)
		if (!http_target_char((unsigned char)sp1[1 + i]))
			return HTTP_BAD;
	req->target = (struct http_str){ sp1 + 1, tlen };
	q = memchr(sp1 + 1, '?', tlen);
	req->path = (struct http_str){ sp1 + 1, q ? (size_t)(q - sp1 - 1) : tlen };
	if (q)
		req->query = (struct http_str){ q + 1, tlen - req->path.n - 1 };
	return HTTP_OK;
}

/* Whether a Content-Length value announces a body (anything but 0s). */
static bool http_has_body(struct http_str v)
{
	if (v.n == 0)
		return true;
	for (size_t i = 0; i < v.n; i++)
		if (v.p[i] != '0')
			return true;
	return false;
}

/* name ":" OWS value OWS; keeps the headers of http_headers[]. */
static enum http_status http_header(struct http_str l, struct http_request *req)
{
	const char *colon = memchr(l.p, ':', l.n);
	struct http_str name, v;

	if (!colon || colon == l.p)
		return HTTP_BAD;
	name = (struct http_str){ l.p, (size_t)(colon - l.p) };
	for (size_t i = 0; i < name.n; i++)
		if (!http_tchar((unsigned char)name.p[i]))
			return HTTP_BAD;
	v = (struct http_str){ colon + 1, l.n - name.n - 1 };
	while (v.n > 0 && (*v.p == ' ' || *v.p == '\t'))
		v.p++, v.n--;
	while (v.n > 0 && (v.p[v.n - 1] == ' ' || v.p[v.n - 1] == '\t'))
		v.n--;
	for (size_t i = 0; i < v.n; i++)
		if ((unsigned char)v.p[i] < 0x20 && v.p[i] != '\t')
			return HTTP_BAD;
	if (http_str_eq(name, "transfer-encoding") ||
	    (http_str_eq(name, "content-length") && http_has_body(v)))
		return HTTP_BAD;
	for (size_t i = 0; i < sizeof(http_headers) / sizeof(http_headers[0]); i++) {
		struct http_str *f = (struct http_str *)((char *)req + http_headers[i].off);

		if (http_str_eq(name, http_headers[i].name) && !f->p)
			*f = v;
	}
	return HTTP_OK;
}

/* The request line, then every header line up to the blank one. */
enum http_status http_parse(const char *buf, size_t len, struct http_request *req)
{
	size_t end = http_head_end(buf, len > HTTP_HEAD_MAX ? HTTP_HEAD_MAX : len);
	size_t at = 0;
	struct http_str l;

	memset(req, 0, sizeof(*req));
	if (end == 0)
		return len >= HTTP_HEAD_MAX ? HTTP_TOO_LARGE : HTTP_INCOMPLETE;
	l = http_line(buf, end, &at);
	if (http_request_line(l, req) != HTTP_OK)
		return HTTP_BAD;
	for (;;) {
		l = http_line(buf, end, &at);
		if (l.n == 0)
			break;
		if (*l.p == ' ' || *l.p == '\t' || http_header(l, req) != HTTP_OK)
			return HTTP_BAD;  /* obsolete line folding is refused too */
	}
	req->head_len = end;
	return HTTP_OK;
}

/* Percent-decodes v into out; the length, or -2. */
static int http_decode(struct http_str v, char *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < v.n; i++) {
		int c = (unsigned char)v.p[i];

		if (c == '+')
			c = ' ';
		else if (c == '%') {
			int hi, lo;

			if (i + 2 >= v.n)
				return -2;
			hi = units_hex_digit(v.p[i + 1]);
			lo = units_hex_digit(v.p[i + 2]);
			if (hi < 0 || lo < 0)
				return -2;
			c = hi * 16 + lo;
			i += 2;
		}
		if (n + 1 >= cap)
			return -2;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return (int)n;
}

/* Walks the &-separated pairs of the query for name. */
int http_query(const struct http_request *req, const char *name, char *out, size_t cap)
{
	const char *p = req->query.p, *end;
	size_t nlen = strlen(name);

	if (!p || cap == 0)
		return -1;
	end = p + req->query.n;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		size_t klen = (size_t)((eq ? eq : stop) - p);

		if (klen == nlen && memcmp(p, name, nlen) == 0) {
			struct http_str v = { eq ? eq + 1 : stop, eq ? (size_t)(stop - eq - 1) : 0 };

			return http_decode(v, out, cap);
		}
		p = stop + 1;
	}
	return -1;
}

/* Copies s into out (cap bytes, NUL-terminated): its length, or -2 when it
 * does not fit. */
static int http_copy(struct http_str s, char *out, size_t cap)
{
	if (s.n >= cap)
		return -2;
	memcpy(out, s.p, s.n);
	out[s.n] = '\0';
	return (int)s.n;
}

/* The credentials of "Authorization: Bearer TOKEN" (scheme in any case). */
static struct http_str http_bearer(struct http_str v)
{
	static const char scheme[] = "bearer ";
	size_t i = sizeof(scheme) - 1;

	if (!v.p || v.n < i || strncasecmp(v.p, scheme, i) != 0)
		return (struct http_str){ NULL, 0 };
	while (i < v.n && v.p[i] == ' ')
		i++;
	return (struct http_str){ v.p + i, v.n - i };
}

/* The value of cookie name in a Cookie header ("a=1; b=2"), or absent. */
static struct http_str http_cookie(struct http_str v, const char *name)
{
	const char *p = v.p, *end = v.p + v.n;
	size_t nlen = strlen(name);

	while (p && p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *stop = semi ? semi : end;

		while (p < stop && *p == ' ')
			p++;
		if ((size_t)(stop - p) > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=')
			return (struct http_str){ p + nlen + 1, (size_t)(stop - p - nlen - 1) };
		p = stop + 1;
	}
	return (struct http_str){ NULL, 0 };
}

/* Whether Origin names the request's own host (http:// or https:// and
 * the Host header) or equals cors_origin. */
static bool http_origin_ok(const struct http_request *req, const char *cors_origin)
{
	struct http_str o = req->origin;
	const char *sep;

	if (!o.p || o.n == 0)
		return false;
	if (cors_origin && cors_origin[0] && http_str_eq(o, cors_origin))
		return true;
	sep = memmem(o.p, o.n, "://", 3);
	if (!sep || !req->host.p)
		return false;
	if (!((size_t)(sep - o.p) == 4 && strncasecmp(o.p, "http", 4) == 0) &&
	    !((size_t)(sep - o.p) == 5 && strncasecmp(o.p, "https", 5) == 0))
		return false;
	sep += 3;
	return (size_t)(o.p + o.n - sep) == req->host.n &&
	       strncasecmp(sep, req->host.p, req->host.n) == 0;
}

/* Bearer first, then the query, then the cookie (only from a page of this
 * host or of cors_origin: another site's page cannot use it). */
int http_token(const struct http_request *req, const char *cors_origin, char *out, size_t cap)
{
	struct http_str v = http_bearer(req->authorization);
	int n;

	if (cap == 0)
		return -2;
	if (v.p)
		return http_copy(v, out, cap);
	n = http_query(req, "token", out, cap);
	if (n != -1)
		return n;
	v = req->cookie.p ? http_cookie(req->cookie, "pipecast_token") : v;
	if (!v.p || !http_origin_ok(req, cors_origin))
		return -1;
	return http_copy(v, out, cap);
}

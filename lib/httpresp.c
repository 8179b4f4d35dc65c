/* httpresp.c: an upstream response's head (see httpresp.h). */
#include "httpresp.h"
#include "units.h"

#include <string.h>
#include <strings.h>

/* One line of the head, without its line end. */
struct hline {
	const char *p;
	size_t n;
};

/* Starts a search at the response's first byte. */
void httpresp_init(struct httpresp *r)
{
	memset(r, 0, sizeof(*r));
}

/* Finds the empty line that ends the head ("\n\n" or "\n\r\n"); returns
 * the offset after it, or 0 with r->scanned moved as far as is decided. */
static size_t httpresp_end(struct httpresp *r, const char *buf, size_t len)
{
	size_t k = r->scanned;
	const char *lf;

	while (k < len && (lf = memchr(buf + k, '\n', len - k)) != NULL) {
		k = (size_t)(lf - buf);
		if (k + 1 < len && buf[k + 1] == '\n')
			return k + 2;
		if (k + 2 < len && buf[k + 1] == '\r' && buf[k + 2] == '\n')
			return k + 3;
		if (k + 1 == len || (k + 2 == len && buf[k + 1] == '\r'))
			break;   /* undecided until more bytes come */
		k++;
	}
	r->scanned = k < len ? k : len;
	return 0;
}

/* Takes the next line of [*at, end); a trailing '\r' is dropped. */
static struct hline httpresp_line(const char *buf, size_t *at, size_t end)
{
	const char *p = buf + *at;
	const char *lf = memchr(p, '\n', end - *at);
	struct hline l = { p, (size_t)(lf - p) };

	*at += l.n + 1;
	if (l.n > 0 && p[l.n - 1] == '\r')
		l.n--;
	return l;
}

/* Is c a digit? */
static bool httpresp_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "HTTP/1.x SSS[ reason]" */
static int httpresp_status(struct httpresp *r, struct hline l)
{
	if (l.n < 12 || memcmp(l.p, "HTTP/1.", 7) != 0 || !httpresp_digit(l.p[7]) ||
	    l.p[8] != ' ' || l.p[9] < '1' || l.p[9] > '9' || !httpresp_digit(l.p[10]) ||
	    !httpresp_digit(l.p[11]) || (l.n > 12 && l.p[12] != ' '))
		return -1;
	r->minor = l.p[7] - '0';
	r->status = (l.p[9] - '0') * 100 + (l.p[10] - '0') * 10 + (l.p[11] - '0');
	r->close = r->minor == 0;
	return 0;
}

/* Trims blanks at both ends. */
static struct hline httpresp_trim(struct hline v)
{
	while (v.n && (v.p[0] == ' ' || v.p[0] == '\t')) {
		v.p++;
		v.n--;
	}
	while (v.n && (v.p[v.n - 1] == ' ' || v.p[v.n - 1] == '\t'))
		v.n--;
	return v;
}

/* Compares a value with a word, ignoring case. */
static bool httpresp_is(struct hline v, const char *word)
{
	return v.n == strlen(word) && strncasecmp(v.p, word, v.n) == 0;
}

/* Cuts the next comma-separated element of *v off, trimmed. */
static struct hline httpresp_element(struct hline *v)
{
	const char *comma = memchr(v->p, ',', v->n);
	size_t n = comma ? (size_t)(comma - v->p) : v->n;
	struct hline e = { v->p, n };

	v->p += comma ? n + 1 : n;
	v->n -= comma ? n + 1 : n;
	return httpresp_trim(e);
}

/* Content-Type: the media type, parameters ignored. */
static const char *httpresp_ctype(struct httpresp *r, struct hline v)
{
	const char *semi = memchr(v.p, ';', v.n);

	if (semi)
		v.n = (size_t)(semi - v.p);
	r->event_stream = httpresp_is(httpresp_trim(v), "text/event-stream");
	return NULL;
}

/* Transfer-Encoding: chunked, last, is the only coding understood. */
static const char *httpresp_te(struct httpresp *r, struct hline v)
{
	while (v.n) {
		struct hline e = httpresp_element(&v);

		if (e.n == 0)
			continue;
		if (r->chunked || !httpresp_is(e, "chunked"))
			return "unsupported Transfer-Encoding";
		r->chunked = true;
	}
	return NULL;
}

/* Content-Length: digits; a second one must agree. */
static const char *httpresp_length(struct httpresp *r, struct hline v)
{
	uint64_t n;

	if (units_parse_uint_n(v.p, v.n, &n) < 0)
		return "malformed Content-Length";
	if (r->has_length && r->length != n)
		return "conflicting Content-Length";
	r->has_length = true;
	r->length = n;
	return NULL;
}

/* Connection: close. */
static const char *httpresp_conn(struct httpresp *r, struct hline v)
{
	while (v.n)
		if (httpresp_is(httpresp_element(&v), "close"))
			r->close = true;
	return NULL;
}

/* The headers acted on, by name. */
static const struct {
	const char *name;
	const char *(*fn)(struct httpresp *r, struct hline v);
} httpresp_headers[] = {
	{ "content-type", httpresp_ctype },
	{ "transfer-encoding", httpresp_te },
	{ "content-length", httpresp_length },
	{ "connection", httpresp_conn },
};

/* Is c allowed in a header's name (an RFC 9110 token)? */
static bool httpresp_tchar(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c);
}

/* One header line: "name: value". */
static const char *httpresp_header(struct httpresp *r, struct hline l)
{
	const char *colon = memchr(l.p, ':', l.n);
	struct hline name, value;

	if (l.p[0] == ' ' || l.p[0] == '\t')
		return "folded header line";
	if (!colon || colon == l.p)
		return "malformed header line";
	name = (struct hline){ l.p, (size_t)(colon - l.p) };
	for (size_t i = 0; i < name.n; i++)
		if (!httpresp_tchar((unsigned char)name.p[i]))
			return "malformed header name";
	value = httpresp_trim((struct hline){ colon + 1, l.n - name.n - 1 });
	for (size_t i = 0; i < value.n; i++)
		if (((unsigned char)value.p[i] < 0x20 && value.p[i] != '\t') || value.p[i] == 0x7f)
			return "control character in a header";
	for (size_t i = 0; i < sizeof(httpresp_headers) / sizeof(httpresp_headers[0]); i++)
		if (httpresp_is(name, httpresp_headers[i].name))
			return httpresp_headers[i].fn(r, value);
	return NULL;
}

/* Parses the complete head buf[0, end). */
static const char *httpresp_head(struct httpresp *r, const char *buf, size_t end)
{
	size_t at = 0;
	struct hline l = httpresp_line(buf, &at, end);
	const char *err;

	if (httpresp_status(r, l) < 0)
		return "malformed status line";
	while (at < end) {
		l = httpresp_line(buf, &at, end);
		if (l.n == 0)
			break;
		if ((err = httpresp_header(r, l)) != NULL)
			return err;
	}
	return NULL;
}

/* Looks for a complete head and parses it (see httpresp.h). */
enum httpresp_status httpresp_parse(struct httpresp *r, const char *buf, size_t len,
				    size_t max_head, const char **err)
{
	size_t end = httpresp_end(r, buf, len);

	if (end == 0 || end > max_head) {
		if (end == 0 && len < max_head)
			return HTTPRESP_MORE;
		*err = "response head too large";
		return HTTPRESP_ERROR;
	}
	r->head_len = end;
	if ((*err = httpresp_head(r, buf, end)) != NULL)
		return HTTPRESP_ERROR;
	return HTTPRESP_OK;
}

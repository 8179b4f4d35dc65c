/* resp.c: the RESP2 reader and command writer (see resp.h). */
#include "resp.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Copies the limits, keeping the depth within what the reader can track. */
void resp_reader_init(struct resp_reader *r, const struct resp_limits *lim)
{
	memset(r, 0, sizeof(*r));
	r->lim = *lim;
	if (r->lim.max_depth > RESP_DEPTH_MAX)
		r->lim.max_depth = RESP_DEPTH_MAX;
}

/* The caller moved its unread bytes to the front of its buffer. */
void resp_reader_shift(struct resp_reader *r, size_t n)
{
	r->pos -= n <= r->pos ? n : r->pos;
}

/* A reply may only be cut off between two replies. */
bool resp_reader_idle(const struct resp_reader *r)
{
	return r->depth == 0;
}

/* Finds the CRLF that ends the line at p (avail bytes); returns the
 * line's length, or a status when it is incomplete, too long or holds a
 * bare CR or LF. */
static enum resp_status resp_line(const char *p, size_t avail, size_t max,
				  size_t *linelen)
{
	size_t scan = avail < max + 2 ? avail : max + 2;
	const char *nl = memchr(p, '\n', scan);
	size_t n;

	if (!nl)
		return scan == max + 2 ? RESP_ELIMIT : RESP_MORE;
	n = (size_t)(nl - p);
	if (n == 0 || p[n - 1] != '\r' || memchr(p, '\r', n - 1))
		return RESP_EPROTO;
	*linelen = n - 1;
	return RESP_OK;
}

/* Parses a decimal integer, optional '-', no blanks, no overflow. */
static int resp_int(const char *p, size_t n, int64_t *v)
{
	bool neg = n > 0 && p[0] == '-';
	uint64_t acc = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	size_t i = neg;

	if (i == n)
		return -1;
	for (; i < n; i++) {
		unsigned d = (unsigned char)p[i] - '0';

		if (d > 9 || acc > (lim - d) / 10)
			return -1;
		acc = acc * 10 + d;
	}
	*v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
	return 0;
}

/* A bulk string: $len, then len bytes and CRLF; $-1 is nil. */
static enum resp_status resp_bulk(const struct resp_reader *r, const char *p,
				  size_t avail, size_t line, struct resp_elem *el,
				  size_t *used)
{
	int64_t n;

	if (resp_int(p + 1, line - 1, &n) < 0 || n < -1)
		return RESP_EPROTO;
	if (n == -1) {
		el->type = RESP_NIL;
		*used = line + 2;
		return RESP_OK;
	}
	if ((uint64_t)n > r->lim.max_bulk)
		return RESP_ELIMIT;
	if (avail - (line + 2) < (size_t)n + 2)
		return RESP_MORE;
	if (p[line + 2 + n] != '\r' || p[line + 3 + n] != '\n')
		return RESP_EPROTO;
	el->type = RESP_BULK;
	el->str = p + line + 2;
	el->len = (size_t)n;
	*used = line + 4 + (size_t)n;
	return RESP_OK;
}

/* An array header: *n; *-1 is nil; n members follow as elements. */
static enum resp_status resp_array(const struct resp_reader *r, const char *p,
				   size_t line, struct resp_elem *el)
{
	int64_t n;

	if (resp_int(p + 1, line - 1, &n) < 0 || n < -1)
		return RESP_EPROTO;
	if (n > r->lim.max_array)
		return RESP_ELIMIT;
	if (n > 0 && r->depth >= r->lim.max_depth)
		return RESP_ELIMIT;
	el->type = n == -1 ? RESP_NIL : RESP_ARRAY;
	el->n = n;
	return RESP_OK;
}

/* Decodes the element at p, by its first byte; *used is its length. */
static enum resp_status resp_decode(const struct resp_reader *r, const char *p,
				    size_t avail, struct resp_elem *el, size_t *used)
{
	size_t line;
	enum resp_status st = resp_line(p, avail, r->lim.max_line + 1, &line);

	if (st != RESP_OK)
		return st;
	if (line < 1)
		return RESP_EPROTO;
	*used = line + 2;
	el->str = p + 1;
	el->len = line - 1;
	switch (p[0]) {
	case '+': el->type = RESP_SIMPLE; return RESP_OK;
	case '-': el->type = RESP_ERROR; return RESP_OK;
	case ':':
		el->type = RESP_INT;
		return resp_int(p + 1, line - 1, &el->n) < 0 ? RESP_EPROTO : RESP_OK;
	case '$': return resp_bulk(r, p, avail, line, el, used);
	case '*': return resp_array(r, p, line, el);
	default: return RESP_EPROTO;
	}
}

/* Counts the element against the array it belongs to, opens it when it is
 * a non-empty array, and closes every array it completes. */
static void resp_account(struct resp_reader *r, struct resp_elem *el)
{
	el->depth = r->depth;
	if (r->depth > 0)
		r->left[r->depth - 1]--;
	if (el->type == RESP_ARRAY && el->n > 0) {
		r->left[r->depth++] = el->n;
		el->last = false;
		return;
	}
	while (r->depth > 0 && r->left[r->depth - 1] == 0)
		r->depth--;
	el->last = r->depth == 0;
}

/* Reads one element (see resp.h). */
enum resp_status resp_next(struct resp_reader *r, const char *buf, size_t len,
			   struct resp_elem *el)
{
	size_t used = 0;
	enum resp_status st;

	if (r->pos >= len)
		return RESP_MORE;
	memset(el, 0, sizeof(*el));
	st = resp_decode(r, buf + r->pos, len - r->pos, el, &used);
	if (st != RESP_OK)
		return st;
	r->pos += used;
	resp_account(r, el);
	return RESP_OK;
}

/* Reads elements until the one started here is complete, members included. */
enum resp_status resp_skip(struct resp_reader *r, const char *buf, size_t len)
{
	struct resp_reader save = *r;
	unsigned depth = r->depth;
	struct resp_elem el;
	enum resp_status st;

	do {
		st = resp_next(r, buf, len, &el);
		if (st != RESP_OK) {
			*r = save;
			return st;
		}
	} while (r->depth > depth);
	return RESP_OK;
}

/* Appends "$len\r\nbytes\r\n" (or, with hdr, "*len\r\n") when it fits;
 * returns the length it takes either way. */
static size_t resp_put(char *out, size_t cap, size_t at, char hdr,
		       const char *p, size_t n)
{
	char head[32];
	int h = snprintf(head, sizeof(head), "%c%zu\r\n", hdr ? hdr : '$', n);
	size_t need = (size_t)h + (hdr ? 0 : n + 2);

	if (at <= cap && need <= cap - at) {
		memcpy(out + at, head, (size_t)h);
		if (!hdr) {
			if (n)
				memcpy(out + at + h, p, n);
			memcpy(out + at + h + n, "\r\n", 2);
		}
	}
	return need;
}

/* Writes a command: an array of bulk strings (see resp.h). */
size_t resp_cmd(char *out, size_t cap, const struct resp_arg *argv, size_t argc)
{
	size_t at = resp_put(out, cap, 0, '*', NULL, argc);

	for (size_t i = 0; i < argc; i++)
		at += resp_put(out, cap, at, 0, argv[i].p, argv[i].len);
	return at;
}

/* A string argument. */
#define RESP_S(s) { (s), sizeof(s) - 1 }

/* Formats an unsigned number into buf and returns the argument for it. */
static struct resp_arg resp_num(char *buf, size_t len, uint64_t v)
{
	int n = snprintf(buf, len, "%" PRIu64, v);

	return (struct resp_arg){ buf, (size_t)n };
}

/* XREAD BLOCK ms COUNT count STREAMS key id */
size_t resp_cmd_xread(char *out, size_t cap, uint64_t block_ms, uint64_t count,
		      const char *key, size_t keylen, const char *id)
{
	char ms[24], cnt[24];
	struct resp_arg argv[] = {
		RESP_S("XREAD"), RESP_S("BLOCK"), resp_num(ms, sizeof(ms), block_ms),
		RESP_S("COUNT"), resp_num(cnt, sizeof(cnt), count),
		RESP_S("STREAMS"), { key, keylen }, { id, strlen(id) },
	};

	return resp_cmd(out, cap, argv, sizeof(argv) / sizeof(argv[0]));
}

/* NAME key from to COUNT count: XRANGE and XREVRANGE. */
static size_t resp_cmd_range(char *out, size_t cap, struct resp_arg name, const char *key,
			     size_t keylen, const char *from, const char *to, uint64_t count)
{
	char cnt[24];
	struct resp_arg argv[] = {
		name, { key, keylen }, { from, strlen(from) }, { to, strlen(to) },
		RESP_S("COUNT"), resp_num(cnt, sizeof(cnt), count),
	};

	return resp_cmd(out, cap, argv, sizeof(argv) / sizeof(argv[0]));
}

/* XRANGE key start end COUNT count */
size_t resp_cmd_xrange(char *out, size_t cap, const char *key, size_t keylen,
		       const char *start, const char *end, uint64_t count)
{
	return resp_cmd_range(out, cap, (struct resp_arg)RESP_S("XRANGE"), key, keylen,
			      start, end, count);
}

/* XREVRANGE key end start COUNT count */
size_t resp_cmd_xrevrange(char *out, size_t cap, const char *key, size_t keylen,
			  const char *end, const char *start, uint64_t count)
{
	return resp_cmd_range(out, cap, (struct resp_arg)RESP_S("XREVRANGE"), key, keylen,
			      end, start, count);
}

/* XINFO STREAM key */
size_t resp_cmd_xinfo_stream(char *out, size_t cap, const char *key, size_t keylen)
{
	struct resp_arg argv[] = { RESP_S("XINFO"), RESP_S("STREAM"), { key, keylen } };

	return resp_cmd(out, cap, argv, 3);
}

/* XADD key [MAXLEN ~ maxlen] * data VALUE */
size_t resp_cmd_xadd(char *out, size_t cap, const char *key, size_t keylen,
		     uint64_t maxlen, const char *data, size_t datalen)
{
	char max[24];
	struct resp_arg argv[] = {
		RESP_S("XADD"), { key, keylen }, RESP_S("MAXLEN"), RESP_S("~"),
		resp_num(max, sizeof(max), maxlen), RESP_S("*"), RESP_S("data"),
		{ data, datalen },
	};
	struct resp_arg plain[] = { argv[0], argv[1], argv[5], argv[6], argv[7] };

	if (maxlen > 0)
		return resp_cmd(out, cap, argv, 8);
	return resp_cmd(out, cap, plain, 5);
}

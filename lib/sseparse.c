/* sseparse.c: the upstream event stream reader (see sseparse.h). */
#include "sseparse.h"

#include <string.h>

/* Where the parser stands in a line. */
enum {
	L_START,    /* at a line's first byte */
	L_NAME,     /* in a field's name */
	L_VALUE0,   /* right after the ':' (one blank is dropped) */
	L_VALUE,    /* in a field's value */
	L_SKIP,     /* in a comment */
};

enum { F_DATA, F_ID, F_EVENT, F_RETRY, F_OTHER };

/* The UTF-8 byte order mark. */
static const char sseparse_bom[3] = { '\xef', '\xbb', '\xbf' };

/* Forgets the event being read (its bytes stay until overwritten, so an
 * event just handed out stays readable until the next feed). */
static void sseparse_clear_event(struct sseparse *p)
{
	p->len = 0;
	p->ndata = 0;
	p->too_long = false;
	p->has_id = false;
	p->type_len = 0;
}

/* Starts a parser (see sseparse.h). */
void sseparse_init(struct sseparse *p, char *buf, size_t cap)
{
	memset(p, 0, sizeof(*p));
	p->buf = buf;
	p->cap = cap;
}

/* A new connection: a new stream start, a BOM may come again. */
void sseparse_restart(struct sseparse *p)
{
	sseparse_clear_event(p);
	p->state = L_START;
	p->after_cr = false;
	p->bom = 0;
}

/* Where the first line end in s[0, n) is; n when there is none. */
static size_t sseparse_eol(const char *s, size_t n)
{
	const char *lf = memchr(s, '\n', n);
	size_t lim = lf ? (size_t)(lf - s) : n;
	const char *cr = memchr(s, '\r', lim);

	return cr ? (size_t)(cr - s) : lim;
}

/* Which field a name names. */
static int sseparse_field(const struct sseparse *p)
{
	static const struct { const char *name; int field; } fields[] = {
		{ "data", F_DATA }, { "id", F_ID }, { "event", F_EVENT }, { "retry", F_RETRY },
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (p->name_len == strlen(fields[i].name) &&
		    memcmp(p->name, fields[i].name, p->name_len) == 0)
			return fields[i].field;
	return F_OTHER;
}

/* A field's value starts: data lines after the first get a '\r' first. */
static void sseparse_value_begin(struct sseparse *p)
{
	p->field = sseparse_field(p);
	p->value_len = 0;
	p->retry_acc = 0;
	p->retry_bad = false;
	p->id_nul = false;
	if (p->field != F_DATA)
		return;
	if (p->ndata++ > 0) {
		if (p->len < p->cap)
			p->buf[p->len++] = '\r';
		else
			p->too_long = true;
	}
}

/* Appends to a small fixed field (id, event name); too long drops the event. */
static void sseparse_small(struct sseparse *p, char *dst, size_t max,
			   const char *s, size_t n)
{
	if (p->value_len + n > max) {
		p->too_long = true;
		p->value_len = max + 1;
		return;
	}
	memcpy(dst + p->value_len, s, n);
	p->value_len += n;
}

/* Takes the digits of a retry: value. */
static void sseparse_retry(struct sseparse *p, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || p->retry_acc > (UINT64_MAX - d) / 10)
			p->retry_bad = true;
		else
			p->retry_acc = p->retry_acc * 10 + d;
	}
	p->value_len += n;
}

/* Adds a run of value bytes to the field they belong to. */
static void sseparse_value(struct sseparse *p, const char *s, size_t n)
{
	switch (p->field) {
	case F_DATA:
		if (p->too_long || n > p->cap - p->len) {
			p->too_long = true;
			return;
		}
		memcpy(p->buf + p->len, s, n);
		p->len += n;
		return;
	case F_ID:
		if (memchr(s, '\0', n))
			p->id_nul = true;
		sseparse_small(p, p->id, SSEPARSE_ID_MAX, s, n);
		return;
	case F_EVENT:
		sseparse_small(p, p->type, SSEPARSE_TYPE_MAX, s, n);
		return;
	case F_RETRY:
		sseparse_retry(p, s, n);
		return;
	default:
		return;
	}
}

/* A field's line ended: the id, name or retry hint takes effect. */
static void sseparse_value_end(struct sseparse *p)
{
	switch (p->field) {
	case F_ID:
		if (p->value_len > SSEPARSE_ID_MAX)
			return;
		if (p->id_nul) {   /* ignored: the event keeps an id it had */
			memcpy(p->id, p->last_id, p->last_id_len);
			return;
		}
		p->has_id = true;
		memcpy(p->last_id, p->id, p->value_len);
		p->last_id_len = p->id_len = p->value_len;
		return;
	case F_EVENT:
		if (p->value_len <= SSEPARSE_TYPE_MAX)
			p->type_len = p->value_len;
		return;
	case F_RETRY:
		if (!p->retry_bad && p->value_len > 0)
			p->retry_ms = p->retry_acc;
		return;
	default:
		return;
	}
}

/* An empty line: the event ends. */
static enum sseparse_status sseparse_dispatch(struct sseparse *p, struct sse_event *ev)
{
	enum sseparse_status st = SSEPARSE_MORE;

	if (p->too_long) {
		p->dropped++;
		st = SSEPARSE_DROPPED;
	} else if (p->ndata > 0) {
		ev->data = p->buf;
		ev->len = p->len;
		ev->id = p->id;
		ev->id_len = p->has_id ? p->id_len : 0;
		ev->has_id = p->has_id;
		ev->type = p->type;
		ev->type_len = p->type_len;
		st = SSEPARSE_EVENT;
	}
	sseparse_clear_event(p);
	return st;
}

/* The line ends at in[i] ('\r' or '\n'); an empty line ends the event. */
static enum sseparse_status sseparse_line_end(struct sseparse *p, char c,
					      struct sse_event *ev)
{
	int state = p->state;

	p->after_cr = c == '\r';
	p->state = L_START;
	if (state == L_START)
		return sseparse_dispatch(p, ev);
	if (state == L_SKIP) {
		p->comments++;
		return SSEPARSE_MORE;
	}
	if (state == L_NAME)
		sseparse_value_begin(p);
	sseparse_value_end(p);
	return SSEPARSE_MORE;
}

/* Adds a byte to a field's name (longer names are no field we keep). */
static void sseparse_name(struct sseparse *p, char c)
{
	if (p->name_len < SSEPARSE_NAME_MAX)
		p->name[p->name_len] = c;
	if (p->name_len <= SSEPARSE_NAME_MAX)
		p->name_len++;
}

/* Reads the bytes that are not line ends at in[i...]; returns how many. */
static size_t sseparse_run(struct sseparse *p, const char *in, size_t n)
{
	size_t k;

	switch (p->state) {
	case L_START:
		if (in[0] == ':') {
			p->state = L_SKIP;
			return 1;
		}
		p->name_len = 0;
		p->state = L_NAME;
		return 0;
	case L_NAME:
		if (in[0] == ':') {
			sseparse_value_begin(p);
			p->state = L_VALUE0;
		} else {
			sseparse_name(p, in[0]);
		}
		return 1;
	case L_VALUE0:
		p->state = L_VALUE;
		return in[0] == ' ';
	default:
		k = sseparse_eol(in, n);
		if (p->state == L_VALUE)
			sseparse_value(p, in, k);
		return k;
	}
}

/* Reads bytes after the BOM check (see sseparse_feed). */
static enum sseparse_status sseparse_bytes(struct sseparse *p, const char *in, size_t n,
					   size_t *used, struct sse_event *ev)
{
	enum sseparse_status st;
	size_t i = 0;

	while (i < n) {
		char c = in[i];

		if (p->after_cr) {
			p->after_cr = false;
			if (c == '\n') {
				i++;
				continue;
			}
		}
		if (c == '\r' || c == '\n') {
			i++;
			st = sseparse_line_end(p, c, ev);
			if (st != SSEPARSE_MORE) {
				*used = i;
				return st;
			}
			continue;
		}
		i += sseparse_run(p, in + i, n - i);
	}
	*used = n;
	return SSEPARSE_MORE;
}

/* Skips a BOM at the stream's start; bytes that only began like one are
 * read as ordinary bytes. */
static size_t sseparse_skip_bom(struct sseparse *p, const char *in, size_t n)
{
	size_t i = 0, dummy;
	struct sse_event ev;

	while (p->bom < 3 && i < n) {
		unsigned had = p->bom;

		if (in[i] == sseparse_bom[p->bom]) {
			p->bom++;
			i++;
			continue;
		}
		p->bom = 3;
		/* neither 0xef nor 0xbb ends a line: no event can end here */
		sseparse_bytes(p, sseparse_bom, had, &dummy, &ev);
	}
	return i;
}

/* Reads bytes until an event ends (see sseparse.h). */
enum sseparse_status sseparse_feed(struct sseparse *p, const char *in, size_t n,
				   size_t *used, struct sse_event *ev)
{
	size_t skipped = sseparse_skip_bom(p, in, n);
	enum sseparse_status st = sseparse_bytes(p, in + skipped, n - skipped, used, ev);

	*used += skipped;
	return st;
}

/* Skips blanks. */
static size_t sseparse_blanks(const char *s, size_t i, size_t n)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* Matches a literal at s[i]; the index after it, or 0. */
static size_t sseparse_lit(const char *s, size_t i, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	i = sseparse_blanks(s, i, n);
	if (n - i < l || memcmp(s + i, lit, l) != 0)
		return 0;
	return sseparse_blanks(s, i + l, n);
}

/* Parses {"missed":N} or {"missed":null}. */
int sseparse_gap(const char *data, size_t len, int64_t *missed)
{
	size_t i, j;
	int64_t v = 0;

	if (!(i = sseparse_lit(data, 0, len, "{")) ||
	    !(i = sseparse_lit(data, i, len, "\"missed\"")) ||
	    !(i = sseparse_lit(data, i, len, ":")))
		return -1;
	if ((j = sseparse_lit(data, i, len, "null")) != 0) {
		v = -1;
	} else {
		for (j = i; j < len && data[j] >= '0' && data[j] <= '9'; j++) {
			if (v > (INT64_MAX - (data[j] - '0')) / 10)
				return -1;
			v = v * 10 + (data[j] - '0');
		}
		if (j == i)
			return -1;
	}
	if (!(j = sseparse_lit(data, j, len, "}")) || j != len)
		return -1;
	*missed = v;
	return 0;
}

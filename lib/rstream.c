/* rstream.c: Redis stream replies (see rstream.h). */
#include "rstream.h"
#include "units.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define RSTREAM_SEQ_SCALE 1000000u
/* A step of the walk that read a header element: go on walking. */
#define RSTREAM_GO ((enum rstream_status)-1)

/* Where a walk stands: what the next element must be. */
enum {
	W_REPLY,     /* a reply's first element */
	W_STREAM,    /* XREAD: a [key, entries] pair, or the reply's end */
	W_KEY,       /* XREAD: the stream's key */
	W_ENTRIES,   /* XREAD: the array of entries */
	W_ENTRY,     /* an entry, or the end of the entries */
};

/* Starts a walk (see rstream.h). */
void rstream_walk_init(struct rstream_walk *w, struct resp_reader *r,
		       enum rstream_kind kind)
{
	memset(w, 0, sizeof(*w));
	w->r = r;
	w->kind = kind;
	w->state = W_REPLY;
}

/* Turns a reader status that is not OK into the walk's. */
static enum rstream_status rstream_err(enum resp_status st)
{
	switch (st) {
	case RESP_MORE: return RSTREAM_MORE;
	case RESP_ELIMIT: return RSTREAM_ELIMIT;
	default: return RSTREAM_EPROTO;
	}
}

/* Reads one element that must be of the given type: RSTREAM_ENTRY when it
 * is (the walk's "ok"), RSTREAM_EPROTO with *el filled when it is not. */
static enum rstream_status rstream_expect(struct resp_reader *r, const char *buf,
					  size_t len, enum resp_type type,
					  struct resp_elem *el)
{
	enum resp_status st = resp_next(r, buf, len, el);

	if (st != RESP_OK)
		return rstream_err(st);
	return el->type == type ? RSTREAM_ENTRY : RSTREAM_EPROTO;
}

/* Reads the field/value pairs of an entry, keeping the first `data`. */
static enum rstream_status rstream_fields(struct resp_reader *r, const char *buf,
					  size_t len, int64_t n, struct rstream_entry *e)
{
	struct resp_elem f, v;
	enum rstream_status st;

	if (n % 2)
		return RSTREAM_EPROTO;
	for (int64_t i = 0; i < n; i += 2) {
		if ((st = rstream_expect(r, buf, len, RESP_BULK, &f)) != RSTREAM_ENTRY ||
		    (st = rstream_expect(r, buf, len, RESP_BULK, &v)) != RSTREAM_ENTRY)
			return st;
		if (!e->has_data && f.len == 4 && memcmp(f.str, "data", 4) == 0) {
			e->data = v.str;
			e->data_len = v.len;
			e->has_data = true;
		}
	}
	return RSTREAM_ENTRY;
}

/* Reads one whole entry, [id, [field, value, ...]] (fields may be nil). */
static enum rstream_status rstream_entry(struct resp_reader *r, const char *buf,
					 size_t len, struct rstream_entry *e)
{
	struct resp_elem el;
	enum rstream_status st;

	memset(e, 0, sizeof(*e));
	if ((st = rstream_expect(r, buf, len, RESP_ARRAY, &el)) != RSTREAM_ENTRY)
		return st;
	if (el.n != 2)
		return RSTREAM_EPROTO;
	if ((st = rstream_expect(r, buf, len, RESP_BULK, &el)) != RSTREAM_ENTRY)
		return st;
	e->id = el.str;
	e->id_len = el.len;
	if (rstream_id_parse(el.str, el.len, &e->ms, &e->seq) < 0)
		return RSTREAM_EPROTO;
	if ((st = rstream_expect(r, buf, len, RESP_ARRAY, &el)) == RSTREAM_EPROTO &&
	    el.type == RESP_NIL)
		return RSTREAM_ENTRY;
	if (st != RSTREAM_ENTRY)
		return st;
	return rstream_fields(r, buf, len, el.n, e);
}

/* The reply's first element: an error, nil, or the outer array. */
static enum rstream_status rstream_reply(struct rstream_walk *w, const char *buf,
					 size_t len, struct rstream_entry *e)
{
	struct resp_elem el;
	enum resp_status st = resp_next(w->r, buf, len, &el);

	if (st != RESP_OK)
		return rstream_err(st);
	if (el.type == RESP_ERROR) {
		memset(e, 0, sizeof(*e));
		e->data = el.str;
		e->data_len = el.len;
		return RSTREAM_REPLY_ERROR;
	}
	if (el.type == RESP_NIL && w->kind == RSTREAM_XREAD)
		return RSTREAM_NIL;
	if (el.type != RESP_ARRAY)
		return RSTREAM_EPROTO;
	if (w->kind == RSTREAM_XREAD) {
		w->streams_left = el.n;
		w->state = W_STREAM;
	} else {
		w->entries_left = el.n;
		w->state = W_ENTRY;
	}
	return RSTREAM_GO;
}

/* One step of the walk: a header element (RSTREAM_GO), or an entry, or
 * the end of the reply. */
static enum rstream_status rstream_step(struct rstream_walk *w, const char *buf,
					size_t len, struct rstream_entry *e)
{
	struct resp_elem el;
	enum rstream_status st;

	switch (w->state) {
	case W_REPLY:
		return rstream_reply(w, buf, len, e);
	case W_STREAM:
		if (w->streams_left == 0)
			return RSTREAM_END;
		if ((st = rstream_expect(w->r, buf, len, RESP_ARRAY, &el)) != RSTREAM_ENTRY)
			return st;
		if (el.n != 2)
			return RSTREAM_EPROTO;
		w->streams_left--;
		w->state = W_KEY;
		return RSTREAM_GO;
	case W_KEY:
		if ((st = rstream_expect(w->r, buf, len, RESP_BULK, &el)) != RSTREAM_ENTRY)
			return st;
		w->state = W_ENTRIES;
		return RSTREAM_GO;
	case W_ENTRIES:
		if ((st = rstream_expect(w->r, buf, len, RESP_ARRAY, &el)) != RSTREAM_ENTRY)
			return st;
		w->entries_left = el.n;
		w->state = W_ENTRY;
		return RSTREAM_GO;
	default:
		if (w->entries_left == 0) {
			w->state = W_STREAM;
			return w->kind == RSTREAM_XREAD ? RSTREAM_GO : RSTREAM_END;
		}
		st = rstream_entry(w->r, buf, len, e);
		if (st == RSTREAM_ENTRY)
			w->entries_left--;
		return st;
	}
}

/* Walks header elements until an entry, the reply's end or a stop. */
enum rstream_status rstream_next(struct rstream_walk *w, const char *buf, size_t len,
				 struct rstream_entry *e)
{
	for (;;) {
		struct resp_reader save = *w->r;
		int state = w->state;
		enum rstream_status st = rstream_step(w, buf, len, e);

		if (st == RSTREAM_GO)
			continue;
		if (st == RSTREAM_MORE || st == RSTREAM_EPROTO || st == RSTREAM_ELIMIT) {
			*w->r = save;
			w->state = state;
			return st;
		}
		if (st != RSTREAM_ENTRY)
			w->state = W_REPLY;
		return st;
	}
}

/* The head of the entry at the walk's place (see rstream.h). */
int rstream_peek_id(const struct rstream_walk *w, const char *buf, size_t len,
		    uint64_t *ms, uint64_t *seq)
{
	struct resp_reader r = *w->r;
	struct resp_elem el;

	if (w->state != W_ENTRY || w->entries_left == 0)
		return -1;
	if (resp_next(&r, buf, len, &el) != RESP_OK || el.type != RESP_ARRAY || el.n != 2 ||
	    resp_next(&r, buf, len, &el) != RESP_OK || el.type != RESP_BULK)
		return -1;
	return rstream_id_parse(el.str, el.len, ms, seq);
}

/* Orders ids as Redis does: by MS, then SEQ. */
int rstream_id_cmp(uint64_t ams, uint64_t aseq, uint64_t bms, uint64_t bseq)
{
	if (ams != bms)
		return ams < bms ? -1 : 1;
	return aseq < bseq ? -1 : aseq > bseq;
}

/* Parses "MS-SEQ". */
int rstream_id_parse(const char *p, size_t n, uint64_t *ms, uint64_t *seq)
{
	const char *dash = memchr(p, '-', n);

	if (!dash)
		return -1;
	return units_parse_uint_n(p, (size_t)(dash - p), ms) < 0 ||
	       units_parse_uint_n(dash + 1, n - (size_t)(dash - p) - 1, seq) < 0 ? -1 : 0;
}

/* Formats "MS-SEQ". */
size_t rstream_id_format(char *buf, uint64_t ms, uint64_t seq)
{
	return (size_t)snprintf(buf, RSTREAM_ID_MAX + 1, "%" PRIu64 "-%" PRIu64, ms, seq);
}

/* MS * 1000000 + SEQ (see rstream.h). */
int rstream_id_to_seq(uint64_t ms, uint64_t seq, uint64_t *out)
{
	if (seq >= RSTREAM_SEQ_SCALE || ms > (UINT64_MAX - seq) / RSTREAM_SEQ_SCALE ||
	    (ms == 0 && seq == 0))
		return -1;
	*out = ms * RSTREAM_SEQ_SCALE + seq;
	return 0;
}

/* The inverse of rstream_id_to_seq. */
void rstream_seq_to_id(uint64_t s, uint64_t *ms, uint64_t *seq)
{
	*ms = s / RSTREAM_SEQ_SCALE;
	*seq = s % RSTREAM_SEQ_SCALE;
}

/* What XINFO STREAM's fields are and where they go. */
enum info_field { F_LENGTH, F_ADDED, F_LAST, F_FIRST, F_OTHER };

/* Which field a key names. */
static enum info_field rstream_info_key(const struct resp_elem *k)
{
	static const struct { const char *name; enum info_field f; } keys[] = {
		{ "length", F_LENGTH }, { "entries-added", F_ADDED },
		{ "last-generated-id", F_LAST }, { "first-entry", F_FIRST },
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (k->len == strlen(keys[i].name) && memcmp(k->str, keys[i].name, k->len) == 0)
			return keys[i].f;
	return F_OTHER;
}

/* Reads one field's value into info (skips the fields not needed). */
static enum rstream_status rstream_info_value(struct resp_reader *r, const char *buf,
					      size_t len, enum info_field f,
					      struct rstream_info *info)
{
	struct resp_elem el;
	struct rstream_entry e;
	enum resp_status st;

	if (f == F_OTHER || f == F_FIRST) {
		struct resp_reader peek = *r;

		if ((st = resp_next(&peek, buf, len, &el)) != RESP_OK)
			return rstream_err(st);
		if (f == F_FIRST && el.type == RESP_ARRAY) {
			enum rstream_status es = rstream_entry(r, buf, len, &e);

			info->has_first = es == RSTREAM_ENTRY;
			info->first_ms = e.ms;
			info->first_seq = e.seq;
			return es;
		}
		st = resp_skip(r, buf, len);
		return st == RESP_OK ? RSTREAM_ENTRY : rstream_err(st);
	}
	if ((st = resp_next(r, buf, len, &el)) != RESP_OK)
		return rstream_err(st);
	if (f == F_LAST)
		return el.type == RESP_BULK &&
		       rstream_id_parse(el.str, el.len, &info->last_ms, &info->last_seq) == 0
		       ? RSTREAM_ENTRY : RSTREAM_EPROTO;
	if (el.type != RESP_INT)
		return RSTREAM_EPROTO;
	*(f == F_LENGTH ? &info->length : &info->entries_added) = el.n;
	return RSTREAM_ENTRY;
}

/* Walks the key/value pairs of the reply's outer array. */
static enum rstream_status rstream_info_pairs(struct resp_reader *r, const char *buf,
					      size_t len, int64_t n,
					      struct rstream_info *info, unsigned *seen)
{
	struct resp_elem k;
	enum resp_status st;
	enum rstream_status rs;

	if (n % 2)
		return RSTREAM_EPROTO;
	for (int64_t i = 0; i < n; i += 2) {
		enum info_field f;

		if ((st = resp_next(r, buf, len, &k)) != RESP_OK)
			return rstream_err(st);
		if (k.type != RESP_BULK && k.type != RESP_SIMPLE)
			return RSTREAM_EPROTO;
		f = rstream_info_key(&k);
		if ((rs = rstream_info_value(r, buf, len, f, info)) != RSTREAM_ENTRY)
			return rs;
		*seen |= 1u << f;
	}
	return RSTREAM_END;
}

/* Reads a whole XINFO STREAM reply (see rstream.h). */
enum rstream_status rstream_info_read(struct resp_reader *r, const char *buf, size_t len,
				      struct rstream_info *info,
				      const char **msg, size_t *msglen)
{
	const unsigned need = 1u << F_LENGTH | 1u << F_LAST;
	struct resp_reader save = *r;
	struct resp_elem el;
	enum resp_status st;
	enum rstream_status rs;
	unsigned seen = 0;

	memset(info, 0, sizeof(*info));
	info->entries_added = -1;
	if ((st = resp_next(r, buf, len, &el)) != RESP_OK)
		return rstream_err(st);
	if (el.type == RESP_ERROR) {
		*msg = el.str;
		*msglen = el.len;
		return RSTREAM_REPLY_ERROR;
	}
	rs = el.type == RESP_ARRAY ? rstream_info_pairs(r, buf, len, el.n, info, &seen)
				   : RSTREAM_EPROTO;
	if (rs == RSTREAM_END && (seen & need) != need)
		rs = RSTREAM_EPROTO;
	if (rs != RSTREAM_END)
		*r = save;
	return rs;
}

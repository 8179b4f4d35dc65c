/* cursor.c: a reader of the ring, with the drop and skip policies. */
#include "cursor.h"
#include "alloc.h"

#include <string.h>

/* Starts a reader; nothing is stashed. */
void cursor_init(struct cursor *c, uint64_t pos)
{
	c->pos = pos;
	c->at_boundary = true;
	c->stash = NULL;
}

/* Releases the stash, if a skip ever needed one. */
void cursor_free(struct cursor *c)
{
	pc_free(c->stash);
	c->stash = NULL;
}

/* Bytes of the stash still to send. */
static size_t cursor_stashed(const struct cursor *c)
{
	return c->stash ? c->stash->len - c->stash->off : 0;
}

/* The stash, allocated once, at the reader's first need: max_line bytes of
 * a record and the notices after it. */
static struct cursor_stash *cursor_stash_get(struct cursor *c, size_t max_line)
{
	if (!c->stash) {
		c->stash = pc_malloc(sizeof(*c->stash) + max_line + CURSOR_NOTE_MAX);
		if (c->stash)
			c->stash->off = c->stash->len = 0;
	}
	return c->stash;
}

/* Copies the rest of the current record out of the ring before it is
 * overwritten. It holds max_line bytes whatever the ring holds: a rest
 * longer than that (a record the configuration should have kept within
 * max_line) is cut and ended with '\n', as the framer cuts a long line, so
 * the reader still ends a record before it jumps. */
static int cursor_stash_record(struct cursor *c, const struct ring *r, size_t max_line)
{
	uint64_t end = ring_line_end(r, c->pos, max_line);
	bool whole = end > c->pos && *ring_at(r, end - 1) == '\n';
	struct cursor_stash *st;

	if (!whole && end - c->pos == max_line)
		end--;                   /* room for the '\n' that ends the cut */
	if (!(st = cursor_stash_get(c, max_line)))
		return -1;
	st->off = 0;
	st->len = end - c->pos;
	ring_copy(r, c->pos, end, st->buf);
	if (!whole)
		st->buf[st->len++] = '\n';
	c->pos = end;
	return 0;
}

/* A notice goes after what is queued; the queue moves to the front of the
 * stash first. */
int cursor_note(struct cursor *c, const char *line, size_t n, size_t max_line)
{
	size_t queued = cursor_stashed(c);
	struct cursor_stash *st;

	if (n > CURSOR_NOTE_MAX || queued + n > max_line + CURSOR_NOTE_MAX)
		return -1;
	if (!(st = cursor_stash_get(c, max_line)))
		return -1;
	memmove(st->buf, st->buf + st->off, queued);
	memcpy(st->buf + queued, line, n);
	st->off = 0;
	st->len = queued + n;
	return 0;
}

/* Applies the overflow policy to a reader that n more bytes would overrun. */
enum cursor_verdict cursor_make_room(struct cursor *c, const struct ring *r, size_t n,
				     const struct cursor_policy *p, uint64_t *missed)
{
	*missed = 0;
	if (r->head - c->pos + n <= r->window)
		return CURSOR_KEEP;
	if (!p->skip)
		return CURSOR_DROP;
	if (p->lines && !c->at_boundary && cursor_stashed(c) == 0 &&
	    cursor_stash_record(c, r, p->max_line) < 0)
		return CURSOR_DROP;
	*missed = r->head - c->pos;
	c->pos = r->head;
	c->at_boundary = true;
	return CURSOR_SKIPPED;
}

/* The stash first, then the ring from pos to head. */
int cursor_iov(const struct cursor *c, const struct ring *r, struct iovec iov[3])
{
	int n = 0;

	if (cursor_stashed(c)) {
		iov[0].iov_base = c->stash->buf + c->stash->off;
		iov[0].iov_len = cursor_stashed(c);
		n = 1;
	}
	return n + ring_iov(r, c->pos, iov + n);
}

/* Consumes the stash, then the ring; remembers whether a record just ended. */
void cursor_advance(struct cursor *c, const struct ring *r, size_t n)
{
	size_t from_stash = cursor_stashed(c);

	if (from_stash > n)
		from_stash = n;
	if (from_stash)
		c->stash->off += from_stash;
	if (n == from_stash)
		return;
	c->pos += n - from_stash;
	c->at_boundary = *ring_at(r, c->pos - 1) == '\n';
}

/* For a close notice: on a line of its own only after a newline. */
bool cursor_mid_record(const struct cursor *c)
{
	return !c->at_boundary || cursor_stashed(c) > 0;
}

/* How far behind the head the reader is. */
uint64_t cursor_lag(const struct cursor *c, const struct ring *r)
{
	return r->head - c->pos;
}

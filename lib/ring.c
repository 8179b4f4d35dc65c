/* ring.c: a byte ring addressed by absolute cursors. */
#include "ring.h"
#include "alloc.h"

#include <errno.h>
#include <string.h>

/* Allocates the ring and faults every page in now rather than on first fill. */
int ring_init(struct ring *r, uint64_t size)
{
	r->buf = pc_malloc(size);
	if (!r->buf) {
		errno = ENOMEM;
		return -1;
	}
	memset(r->buf, 0, size);
	r->size = size;
	r->head = 0;
	return 0;
}

/* Releases the ring's memory. */
void ring_free(struct ring *r)
{
	pc_free(r->buf);
	r->buf = NULL;
}

/* Index in buf of an absolute cursor. */
static uint64_t ring_idx(const struct ring *r, uint64_t pos)
{
	return pos % r->size;
}

/* Appends, splitting the copy where the buffer wraps. */
void ring_write(struct ring *r, const void *data, size_t n)
{
	uint64_t at = ring_idx(r, r->head);
	uint64_t first = r->size - at;

	if (first > n)
		first = n;
	memcpy(r->buf + at, data, first);
	memcpy(r->buf, (const char *)data + first, n - first);
	r->head += n;
}

/* Oldest readable cursor. */
uint64_t ring_tail(const struct ring *r)
{
	return r->head > r->size ? r->head - r->size : 0;
}

/* A cursor is overrun once the bytes it would read next were overwritten. */
bool ring_overrun(const struct ring *r, uint64_t cursor)
{
	return cursor < ring_tail(r);
}

/* The contiguous pieces between a cursor and the head. */
int ring_iov(const struct ring *r, uint64_t from, struct iovec iov[2])
{
	uint64_t n = r->head - from;
	uint64_t at, first;

	if (n == 0)
		return 0;
	at = ring_idx(r, from);
	first = r->size - at;
	iov[0].iov_base = r->buf + at;
	if (first >= n) {
		iov[0].iov_len = n;
		return 1;
	}
	iov[0].iov_len = first;
	iov[1].iov_base = r->buf;
	iov[1].iov_len = n - first;
	return 2;
}

/* Finds the first '\n' in [from, to), wrapping; returns to when none. */
static uint64_t ring_find_nl(const struct ring *r, uint64_t from, uint64_t to)
{
	while (from < to) {
		uint64_t at = ring_idx(r, from);
		uint64_t len = r->size - at;
		const char *p;

		if (len > to - from)
			len = to - from;
		p = memchr(r->buf + at, '\n', len);
		if (p)
			return from + (uint64_t)(p - (r->buf + at));
		from += len;
	}
	return to;
}

/* Aligns a cursor forward to a record boundary (line framing). */
uint64_t ring_line_start(const struct ring *r, uint64_t from)
{
	uint64_t tail = ring_tail(r);

	if (from < tail)
		from = tail;
	if (from == 0 || from >= r->head)
		return from == 0 ? 0 : r->head;
	if (from > tail && r->buf[ring_idx(r, from - 1)] == '\n')
		return from;
	from = ring_find_nl(r, from, r->head);
	return from < r->head ? from + 1 : r->head;
}

/* End of the line that pos lies in, never more than max bytes on. */
uint64_t ring_line_end(const struct ring *r, uint64_t pos, uint64_t max)
{
	uint64_t to = r->head - pos > max ? pos + max : r->head;
	uint64_t nl = ring_find_nl(r, pos, to);

	return nl < to ? nl + 1 : to;
}

/* Copies a range out, splitting where the buffer wraps. */
void ring_copy(const struct ring *r, uint64_t from, uint64_t to, void *dst)
{
	char *d = dst;

	while (from < to) {
		uint64_t at = ring_idx(r, from);
		uint64_t len = r->size - at;

		if (len > to - from)
			len = to - from;
		memcpy(d, r->buf + at, len);
		d += len;
		from += len;
	}
}

/* ring.c: a byte ring addressed by absolute cursors, mapped twice. */
#include "ring.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Rounds n up to a whole number of pages. */
static uint64_t ring_page_round(uint64_t n)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	return (n + page - 1) / page * page;
}

/* Maps the memfd over [at, at + size), replacing what is reserved there. */
static int ring_map_half(struct ring *r, char *at)
{
	void *p = mmap(at, r->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, r->fd, 0);

	return p == MAP_FAILED ? -1 : 0;
}

/* Writes to every page of both mappings: each mapping counts its resident
 * pages in RSS, so both are made resident now rather than as the ring wraps. */
static void ring_touch(struct ring *r)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	memset(r->buf, 0, r->size);
	for (uint64_t at = 0; at < r->size; at += page)
		((volatile char *)r->buf)[r->size + at] = 0;
}

/* Reserves twice the size of address space, then maps the same memfd into
 * both halves, so that the second half mirrors the first. */
int ring_init(struct ring *r, uint64_t window, uint64_t reserve)
{
	void *base;
	int saved;

	memset(r, 0, sizeof(*r));
	r->window = window;
	r->reserve = reserve;
	r->size = ring_page_round(window + reserve);
	r->fd = memfd_create("pipecast-ring", MFD_CLOEXEC);
	if (r->fd < 0)
		return -1;
	if (ftruncate(r->fd, (off_t)r->size) < 0)
		goto fail;
	base = mmap(NULL, 2 * r->size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		goto fail;
	r->buf = base;
	if (ring_map_half(r, r->buf) < 0 || ring_map_half(r, r->buf + r->size) < 0)
		goto fail;
	ring_touch(r);
	return 0;
fail:
	saved = errno;
	ring_free(r);
	errno = saved;
	return -1;
}

/* Unmaps both halves and closes the memfd. */
void ring_free(struct ring *r)
{
	if (r->buf)
		munmap(r->buf, 2 * r->size);
	if (r->fd >= 0)
		close(r->fd);
	r->buf = NULL;
	r->fd = -1;
}

/* Copies in at the head; the held bytes move up behind the new ones. */
void ring_write(struct ring *r, const void *data, size_t n)
{
	char *at = ring_at(r, r->head);

	if (r->held)
		memmove(at + n, at, r->held);
	memcpy(at, data, n);
	r->head += n;
}

/* Bytes in place at the head join the stream. */
void ring_commit(struct ring *r, size_t n, size_t held)
{
	r->head += n;
	r->held = held;
}

/* Oldest readable cursor. */
uint64_t ring_tail(const struct ring *r)
{
	return r->head > r->window ? r->head - r->window : 0;
}

/* A cursor is overrun once the bytes it would read next may be overwritten. */
bool ring_overrun(const struct ring *r, uint64_t cursor)
{
	return cursor < ring_tail(r);
}

/* Stream bytes between two cursors: one piece thanks to the mirror. */
int ring_span(const struct ring *r, uint64_t from, uint64_t to, struct iovec *iov)
{
	if (to == from)
		return 0;
	iov->iov_base = ring_at(r, from);
	iov->iov_len = (size_t)(to - from);
	return 1;
}

/* The bytes between a cursor and the head. */
int ring_iov(const struct ring *r, uint64_t from, struct iovec *iov)
{
	return ring_span(r, from, r->head, iov);
}

/* Finds the first '\n' in [from, to); returns to when none. */
static uint64_t ring_find_nl(const struct ring *r, uint64_t from, uint64_t to)
{
	const char *at = ring_at(r, from);
	const char *p = from < to ? memchr(at, '\n', to - from) : NULL;

	return p ? from + (uint64_t)(p - at) : to;
}

/* Aligns a cursor forward to a record boundary (line framing). */
uint64_t ring_line_start(const struct ring *r, uint64_t from)
{
	uint64_t tail = ring_tail(r);

	if (from < tail)
		from = tail;
	if (from == 0 || from >= r->head)
		return from == 0 ? 0 : r->head;
	if (from > tail && *ring_at(r, from - 1) == '\n')
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

/* Copies a range out in one piece; an empty one touches nothing (dst may
 * then be NULL). */
void ring_copy(const struct ring *r, uint64_t from, uint64_t to, void *dst)
{
	if (to > from)
		memcpy(dst, ring_at(r, from), to - from);
}

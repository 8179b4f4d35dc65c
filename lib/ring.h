/* ring.h: the one buffer that every client reads from. A record is written
 * once whatever the number of clients; a reader is just an absolute byte
 * offset (a cursor) into the stream of everything ever written.
 *
 * The memory is one memfd mapped twice, back to back, so that any `size`
 * bytes starting anywhere in the first mapping are contiguous: a read from
 * the producer and a writev to a client never split where the ring wraps.
 * Beyond the head lies the writer's reserve: the source reads straight into
 * it, and what it holds there (the start of an unfinished line, `held`
 * bytes) is not yet part of the stream. Readers may lag by up to `window`
 * bytes; the reserve never overwrites those. A ring may have no reserve: its
 * appends then overwrite its oldest bytes, as in any ring. */
#ifndef PIPECAST_RING_H
#define PIPECAST_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct ring {
	char *buf;        /* first of the two mappings of the same pages */
	uint64_t size;    /* bytes of one mapping: window + reserve, rounded up to a page */
	uint64_t window;  /* bytes of history kept for readers */
	uint64_t reserve; /* bytes beyond the head the writer may use */
	uint64_t head;    /* bytes ever written: the cursor of the newest byte + 1 */
	size_t held;      /* bytes after head that a writer holds back (not yet stream) */
	int fd;           /* the memfd, -1 when unmapped */
};

/* Maps a ring keeping `window` bytes for readers and `reserve` bytes beyond
 * the head for the writer, and touches every page of both mappings, so that
 * RSS does not grow as the ring first fills or wraps. Returns 0, or -1 with
 * errno set. */
int ring_init(struct ring *r, uint64_t window, uint64_t reserve);
void ring_free(struct ring *r);

/* Where the stream byte at cursor pos lives; `size` bytes from there are
 * contiguous. */
static inline char *ring_at(const struct ring *r, uint64_t pos)
{
	return r->buf + pos % r->size;
}

/* Appends n bytes ahead of the bytes the writer holds, which move up behind
 * them. With n + held <= reserve the window is untouched; a ring without a
 * reserve (the encoded forms of the stream) overwrites its oldest n bytes
 * instead (n <= window), which readers must have left first. */
void ring_write(struct ring *r, const void *data, size_t n);

/* n bytes already in place at the head become part of the stream; the
 * writer then holds the `held` bytes that follow them. */
void ring_commit(struct ring *r, size_t n, size_t held);

/* Oldest cursor whose byte is kept for readers. */
uint64_t ring_tail(const struct ring *r);

/* Whether a reader at cursor has lost bytes (is more than window behind).
 * Tests only: the daemon asks cursor_make_room. */
bool ring_overrun(const struct ring *r, uint64_t cursor);

/* Describes the bytes [from, to) as one iovec; returns 1, or 0 when from ==
 * to. from must not be overrun, to not beyond the head. */
int ring_span(const struct ring *r, uint64_t from, uint64_t to, struct iovec *iov);

/* Describes the bytes [from, head) as one iovec; returns 1, or 0 when from ==
 * head. from must not be overrun. */
int ring_iov(const struct ring *r, uint64_t from, struct iovec *iov);

/* The first record start at or after from, for line framing: a position that
 * is 0 or follows a '\n' still in the ring. Returns head when there is none.
 * from is clamped to the ring's tail. */
uint64_t ring_line_start(const struct ring *r, uint64_t from);

/* The end (one past the '\n') of the line containing pos, searching at most
 * max bytes; when no '\n' is found in range, the end of the range
 * (min(pos + max, head)): the result is never more than max bytes on. */
uint64_t ring_line_end(const struct ring *r, uint64_t pos, uint64_t max);

/* Copies [from, to) out of the ring into dst; both must be in the ring. */
void ring_copy(const struct ring *r, uint64_t from, uint64_t to, void *dst);

#endif

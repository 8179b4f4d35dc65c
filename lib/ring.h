/* ring.h: the one buffer that every client reads from. A record is written
 * once whatever the number of clients; a reader is just an absolute byte
 * offset (a cursor) into the stream of everything ever written. */
#ifndef PIPECAST_RING_H
#define PIPECAST_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct ring {
	char *buf;
	uint64_t size;  /* bytes of buf */
	uint64_t head;  /* bytes ever written: the cursor of the newest byte + 1 */
};

/* Allocates size bytes and touches every page, so that RSS does not grow as
 * the ring first fills. Returns 0, or -1 with errno set. */
int ring_init(struct ring *r, uint64_t size);
void ring_free(struct ring *r);

/* Appends n bytes (n <= size); the oldest bytes are overwritten. */
void ring_write(struct ring *r, const void *data, size_t n);

/* Oldest cursor whose byte is still in the ring. */
uint64_t ring_tail(const struct ring *r);

/* Whether a reader at cursor has lost bytes (is more than size behind).
 * Tests only: the daemon asks cursor_make_room. */
bool ring_overrun(const struct ring *r, uint64_t cursor);

/* Describes the bytes [from, head) as at most two iovecs; returns how many
 * (0 when from == head). from must not be overrun. */
int ring_iov(const struct ring *r, uint64_t from, struct iovec iov[2]);

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

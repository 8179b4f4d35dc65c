/* cursor.h: one reader's position in the ring, and the overflow policy that
 * applies when the ring is about to overwrite bytes it has not sent. */
#ifndef PIPECAST_CURSOR_H
#define PIPECAST_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ring.h"

/* The rest of a record cut off by a skip, and notices after it: out of
 * line, allocated at the reader's first need (most readers never skip). */
struct cursor_stash {
	size_t off, len;
	char buf[];
};

/* Embedded in every raw client: 16 bytes. */
struct cursor {
	uint64_t pos : 63;       /* absolute ring offset of the next byte to send */
	uint64_t at_boundary : 1; /* the last byte sent ended a record */
	struct cursor_stash *stash; /* NULL until a skip or a notice needs it */
};

enum cursor_verdict { CURSOR_KEEP, CURSOR_DROP, CURSOR_SKIPPED };

struct cursor_policy {
	bool skip;               /* overflow = skip (else drop) */
	bool lines;              /* line framing: keep records whole */
	size_t max_line;
};

/* A new reader at pos (a record start in line framing). */
void cursor_init(struct cursor *c, uint64_t pos);
void cursor_free(struct cursor *c);

/* Before n bytes are appended to r: CURSOR_KEEP when the reader keeps all it
 * has not sent; otherwise CURSOR_DROP, or with skip CURSOR_SKIPPED: the
 * reader jumps to the head, keeping the rest of a record it is in the middle
 * of (line framing) so that it still receives whole records only. *missed
 * is the number of bytes it will never receive. */
enum cursor_verdict cursor_make_room(struct cursor *c, const struct ring *r, size_t n,
				     const struct cursor_policy *p, uint64_t *missed);

/* Longest notice cursor_note takes, newline included. */
#define CURSOR_NOTE_MAX 320

/* Queues a line (a notice of [clients] notices) after the rest of a record
 * kept by a skip and before the ring, in the memory of that record (one
 * allocation per reader, at its first need). Returns 0, or -1 when it is
 * too long, does not fit beside what is still queued, or memory is out. */
int cursor_note(struct cursor *c, const char *line, size_t n, size_t max_line);

/* What the reader has to send, as at most two iovecs (the stash with its
 * notices, then the ring); returns how many. iov has room for three. */
int cursor_iov(const struct cursor *c, const struct ring *r, struct iovec iov[3]);
/* n bytes of cursor_iov() were sent. */
void cursor_advance(struct cursor *c, const struct ring *r, size_t n);
/* Bytes between the reader and the ring's head (its lag). */
uint64_t cursor_lag(const struct cursor *c, const struct ring *r);
/* Whether the reader is in the middle of a record: the last byte sent did
 * not end one, or stashed bytes are still unsent. */
bool cursor_mid_record(const struct cursor *c);

#endif

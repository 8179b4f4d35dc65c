/* framer.h: cuts the producer's byte stream into records (pipecast.conf(5)
 * "RECORDS"), in place in the ring: the source reads straight into the
 * ring's reserve (framer_space), and the framer commits the whole records
 * among what was read, scanning each byte once. The start of an unfinished
 * line stays held beyond the ring's head until its end arrives. */
#ifndef PIPECAST_FRAMER_H
#define PIPECAST_FRAMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ring.h"

/* The one place where records join the stream: n bytes at ring cursor pos,
 * holding `records` whole records (line framing: every append ends with a
 * record's '\n', so the ring's head is at a record start after it). The
 * records are numbered consecutively from 1: they are f->seq - records + 1
 * ... f->seq. */
typedef void (*framer_emit_fn)(void *ctx, uint64_t pos, size_t n, uint64_t records);

struct framer {
	struct ring *ring;
	size_t max_line;     /* longest record, newline included (line framing) */
	size_t room;         /* most bytes one read may bring */
	bool raw;
	bool wide;           /* scan with AVX2: set from the CPU at init
			      * (tests clear it to check the SSE2 scan) */
	bool in_long;        /* the held line has already been cut */
	uint64_t long_lines; /* lines cut because they exceeded max_line */
	uint64_t seq;        /* records framed so far: the number of the newest */
	char *scratch;       /* the rest of a read in which a long line is cut */
	framer_emit_fn emit;
	void *ctx;
};

/* The ring reserve a framer needs: the longest held line, one read, the
 * newlines its cuts may insert and the one a finish appends. */
size_t framer_reserve(bool raw, size_t max_line, size_t room);

/* Sets up a framer on a ring whose reserve is at least framer_reserve();
 * reads bring at most room bytes. Returns 0, or -1 when out of memory. */
int framer_init(struct framer *f, struct ring *r, bool raw, size_t max_line, size_t room,
		framer_emit_fn emit, void *ctx);
void framer_free(struct framer *f);

/* Where the next read may put its bytes, and how many it may put. */
char *framer_space(struct framer *f, size_t *room);
/* Frames n bytes that were just read into framer_space(). */
void framer_commit(struct framer *f, size_t n);
/* The end of the source: a last line without '\n' is completed and emitted. */
void framer_finish(struct framer *f);
/* Bytes of an unfinished line held beyond the ring's head. */
size_t framer_held(const struct framer *f);

#endif

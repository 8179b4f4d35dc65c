/* framer.h: cuts the producer's byte stream into records (pipecast.conf(5) "RECORDS").
 * The source reads straight into the framer's buffer; the framer hands out
 * whole records in as few contiguous pieces as it can. */
#ifndef PIPECAST_FRAMER_H
#define PIPECAST_FRAMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Receives output: n bytes holding `records` whole records. In line
 * framing every piece ends with a record's '\n' (records >= 1), so the
 * ring's head is at a record start after every emit. data is only valid
 * during the call. */
typedef void (*framer_emit_fn)(void *ctx, const char *data, size_t n, uint64_t records);

struct framer {
	char *buf;
	size_t cap;
	size_t len;          /* bytes held: the start of an unfinished line */
	size_t max_line;     /* longest record, newline included (line framing) */
	bool raw;
	bool in_long;        /* the unfinished line has already been cut */
	uint64_t long_lines; /* lines cut because they exceeded max_line */
	framer_emit_fn emit;
	void *ctx;
};

/* Sets up a framer whose buffer holds cap bytes (cap > max_line).
 * Returns 0, or -1 when out of memory. */
int framer_init(struct framer *f, bool raw, size_t max_line, size_t cap,
		framer_emit_fn emit, void *ctx);
void framer_free(struct framer *f);

/* Where the next read may put its bytes, and how many it may put. */
char *framer_space(struct framer *f, size_t *room);
/* Frames n bytes that were just read into framer_space(). */
void framer_commit(struct framer *f, size_t n);
/* The end of the source: a last line without '\n' is completed and emitted. */
void framer_finish(struct framer *f);

#endif

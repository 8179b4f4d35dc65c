/* sbuf.h: a growable output buffer for stats replies. Memory comes from the
 * daemon's counting allocator. An allocation failure sets a sticky flag:
 * every later append is a no-op that returns -1, so a caller may build a
 * whole reply and check sbuf_failed() once at the end. The contents are
 * always NUL-terminated (when anything was allocated). */
#ifndef PIPECAST_SBUF_H
#define PIPECAST_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char *buf;      /* NULL until the first append */
	size_t len;     /* bytes held, without the terminating NUL */
	size_t cap;     /* bytes allocated */
	bool failed;    /* an allocation failed since the last reset */
};

#define SBUF_INIT { NULL, 0, 0, false }

/* An empty buffer that owns no memory (same as SBUF_INIT). */
void sbuf_init(struct sbuf *b);
/* Appends n bytes; 0, or -1 when the buffer has failed. */
int sbuf_append(struct sbuf *b, const void *data, size_t n);
/* Appends a NUL-terminated string; 0 or -1 as sbuf_append. */
int sbuf_puts(struct sbuf *b, const char *s);
/* Appends printf-formatted text; 0 or -1 as sbuf_append. */
int sbuf_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Removes the first n bytes (those written to a socket), keeping the rest. */
void sbuf_consume(struct sbuf *b, size_t n);
/* Empties the buffer and clears the failure flag; keeps the memory.
 * Tests only. */
void sbuf_reset(struct sbuf *b);
/* Releases the memory; the buffer is then as after sbuf_init. */
void sbuf_free(struct sbuf *b);
/* True when an append was lost to an allocation failure since the reset. */
bool sbuf_failed(const struct sbuf *b);

#endif

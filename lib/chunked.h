/* chunked.h: decodes HTTP/1.1 chunked transfer coding (RFC 9112, 7.1) in
 * place and incrementally: chunk sizes, extensions and trailers are
 * dropped, the body's bytes are moved to the front of the buffer. Size
 * lines and trailer lines are bounded by CHUNKED_LINE_MAX. */
#ifndef PIPECAST_CHUNKED_H
#define PIPECAST_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

#define CHUNKED_LINE_MAX 4096

struct chunked {
	int state;
	uint64_t left;        /* bytes of the current chunk still to come */
	unsigned digits;      /* hex digits of the size read so far */
	size_t line;          /* bytes of the size or trailer line so far */
	const char *err;      /* why CHUNKED_ERROR, a static string */
};

enum chunked_status {
	CHUNKED_MORE,    /* every byte was read; the body goes on */
	CHUNKED_END,     /* the last chunk and the trailers were read */
	CHUNKED_ERROR,   /* not chunked coding: c->err */
};

void chunked_init(struct chunked *c);
/* Decodes buf[0, n) in place: the body's bytes land in buf[0, *out).
 * *used is the number of input bytes read: n, except at CHUNKED_END
 * (bytes after the body are not the body's). After CHUNKED_END or
 * CHUNKED_ERROR, later calls read nothing and return the same. */
enum chunked_status chunked_decode(struct chunked *c, char *buf, size_t n,
				   size_t *out, size_t *used);

#endif

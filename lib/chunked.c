/* chunked.c: the chunked transfer coding decoder (see chunked.h). */
#include "chunked.h"
#include "units.h"

#include <string.h>

/* Where the decoder stands. */
enum {
	C_SIZE,        /* the first hex digit of a chunk size */
	C_SIZE_MORE,   /* more hex digits, or what follows them */
	C_SIZE_WS,     /* blanks after the size */
	C_EXT,         /* a chunk extension, up to the line end */
	C_SIZE_LF,     /* the size line's '\r' was read: its '\n' */
	C_DATA,        /* chunk data */
	C_DATA_CR,     /* the line end after a chunk's data */
	C_DATA_LF,
	C_TRAILER,     /* a trailer line's first byte, or the final empty line */
	C_TRAILER_SKIP,
	C_TRAILER_LF,  /* the final empty line's '\n' */
	C_END,
	C_ERROR,
};

/* A size of more hex digits than this could overflow. */
#define CHUNKED_DIGITS_MAX 15

/* Starts at a body's first byte. */
void chunked_init(struct chunked *c)
{
	memset(c, 0, sizeof(*c));
	c->state = C_SIZE;
}

/* Stops with a reason. */
static int chunked_fail(struct chunked *c, const char *why)
{
	c->err = why;
	c->state = C_ERROR;
	return C_ERROR;
}

/* The size line ended: data follows, or the trailers after the last chunk. */
static int chunked_size_done(struct chunked *c)
{
	c->line = 0;
	c->state = c->left ? C_DATA : C_TRAILER;
	return c->state;
}

/* Bounds a size or trailer line's length. */
static int chunked_line(struct chunked *c, int state)
{
	if (++c->line > CHUNKED_LINE_MAX)
		return chunked_fail(c, "chunk size or trailer line too long");
	return state;
}

/* The size line: hex digits, blanks, an extension, a line end. */
static int chunked_size(struct chunked *c, char ch)
{
	int d = units_hex_digit(ch);

	if (ch == '\n' && c->state != C_SIZE)
		return chunked_size_done(c);
	if (ch == '\r' && c->state != C_SIZE)
		return C_SIZE_LF;
	switch (c->state) {
	case C_SIZE:
		if (d < 0)
			return chunked_fail(c, "malformed chunk size");
		c->left = (uint64_t)d;
		c->digits = 1;
		return chunked_line(c, C_SIZE_MORE);
	case C_SIZE_MORE:
		if (d >= 0) {
			if (++c->digits > CHUNKED_DIGITS_MAX)
				return chunked_fail(c, "chunk size too large");
			c->left = c->left << 4 | (uint64_t)d;
			return chunked_line(c, C_SIZE_MORE);
		}
		/* fall through */
	case C_SIZE_WS:
		if (ch == ' ' || ch == '\t')
			return chunked_line(c, C_SIZE_WS);
		if (ch == ';')
			return chunked_line(c, C_EXT);
		return chunked_fail(c, "malformed chunk size");
	default:
		return chunked_line(c, C_EXT);
	}
}

/* One byte outside chunk data: the decoder's next state. */
static int chunked_byte(struct chunked *c, char ch)
{
	switch (c->state) {
	case C_SIZE:
	case C_SIZE_MORE:
	case C_SIZE_WS:
	case C_EXT:
		return chunked_size(c, ch);
	case C_SIZE_LF:
		return ch == '\n' ? chunked_size_done(c) : chunked_fail(c, "bare CR in a chunk size line");
	case C_DATA_CR:
		if (ch == '\n')
			return C_SIZE;
		return ch == '\r' ? C_DATA_LF : chunked_fail(c, "chunk data longer than its size");
	case C_DATA_LF:
		return ch == '\n' ? C_SIZE : chunked_fail(c, "bare CR after chunk data");
	case C_TRAILER:
		if (ch == '\n')
			return C_END;
		if (ch == '\r')
			return C_TRAILER_LF;
		c->line = 0;
		return chunked_line(c, C_TRAILER_SKIP);
	case C_TRAILER_SKIP:
		return ch == '\n' ? C_TRAILER : chunked_line(c, C_TRAILER_SKIP);
	case C_TRAILER_LF:
		return ch == '\n' ? C_END : chunked_fail(c, "bare CR in the trailers");
	default:
		return c->state;
	}
}

/* Decodes in place (see chunked.h). */
enum chunked_status chunked_decode(struct chunked *c, char *buf, size_t n,
				   size_t *out, size_t *used)
{
	size_t i = 0, o = 0;

	while (i < n && c->state != C_END && c->state != C_ERROR) {
		if (c->state == C_DATA) {
			size_t m = n - i < c->left ? n - i : (size_t)c->left;

			memmove(buf + o, buf + i, m);
			o += m;
			i += m;
			c->left -= m;
			if (c->left == 0)
				c->state = C_DATA_CR;
			continue;
		}
		c->state = chunked_byte(c, buf[i++]);
	}
	*out = o;
	*used = i;
	if (c->state == C_ERROR)
		return CHUNKED_ERROR;
	return c->state == C_END ? CHUNKED_END : CHUNKED_MORE;
}

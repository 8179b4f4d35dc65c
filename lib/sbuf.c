/* sbuf.c: growable output buffer with a sticky allocation-failure flag. */
#include "sbuf.h"
#include "alloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SBUF_MIN_CAP 256

/* Starts a buffer that owns nothing yet. */
void sbuf_init(struct sbuf *b)
{
	*b = (struct sbuf)SBUF_INIT;
}

/* Next capacity for `need` bytes: doubling, so n appends cost O(n). */
static size_t sbuf_grown_cap(size_t cap, size_t need)
{
	size_t c = cap ? cap : SBUF_MIN_CAP;

	while (c < need && c <= SIZE_MAX / 2)
		c *= 2;
	return c < need ? need : c;
}

/* Makes room for n more bytes plus the NUL; sets the sticky flag on failure. */
static int sbuf_reserve(struct sbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->failed)
		return -1;
	if (n >= SIZE_MAX - b->len) {
		b->failed = true;
		return -1;
	}
	if (b->len + n + 1 <= b->cap)
		return 0;
	cap = sbuf_grown_cap(b->cap, b->len + n + 1);
	p = pc_realloc(b->buf, cap);
	if (!p) {
		b->failed = true;
		return -1;
	}
	b->buf = p;
	b->cap = cap;
	return 0;
}

/* Copies raw bytes to the end. */
int sbuf_append(struct sbuf *b, const void *data, size_t n)
{
	if (sbuf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->buf + b->len, data, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return 0;
}

/* Copies a C string to the end. */
int sbuf_puts(struct sbuf *b, const char *s)
{
	return sbuf_append(b, s, strlen(s));
}

/* Formats at the end: tries the free space first, grows once if needed. */
int sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap, again;
	int n;

	if (sbuf_reserve(b, 0) < 0)
		return -1;
	va_start(ap, fmt);
	va_copy(again, ap);
	n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n >= b->cap - b->len && sbuf_reserve(b, (size_t)n) == 0)
		n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, again);
	va_end(again);
	if (n < 0 || b->failed) {
		b->failed = true;
		b->buf[b->len] = '\0';
		return -1;
	}
	b->len += (size_t)n;
	return 0;
}

/* Drops what the caller has already sent from the front. */
void sbuf_consume(struct sbuf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->buf, b->buf + n, b->len - n);
		b->len -= n;
	}
	if (b->buf)
		b->buf[b->len] = '\0';
}

/* Reuses the memory for the next reply. */
void sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->buf)
		b->buf[0] = '\0';
}

/* Gives the memory back to the allocator. */
void sbuf_free(struct sbuf *b)
{
	pc_free(b->buf);
	sbuf_init(b);
}

/* Lets the caller check a whole reply once. */
bool sbuf_failed(const struct sbuf *b)
{
	return b->failed;
}

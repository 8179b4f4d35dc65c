/* framer.c: line and raw framing of the producer's stream. */
#include "framer.h"
#include "alloc.h"

#include <string.h>

/* Allocates the read buffer once; it is reused for the daemon's whole life. */
int framer_init(struct framer *f, bool raw, size_t max_line, size_t cap,
		framer_emit_fn emit, void *ctx)
{
	memset(f, 0, sizeof(*f));
	f->buf = pc_malloc(cap);
	if (!f->buf)
		return -1;
	f->cap = cap;
	f->raw = raw;
	f->max_line = max_line;
	f->emit = emit;
	f->ctx = ctx;
	return 0;
}

/* Releases the read buffer. */
void framer_free(struct framer *f)
{
	pc_free(f->buf);
	f->buf = NULL;
}

/* The free tail of the buffer. */
char *framer_space(struct framer *f, size_t *room)
{
	*room = f->cap - f->len;
	return f->buf + f->len;
}

/* Emits one piece of an over-long line, max_line - 1 bytes and a '\n', as
 * one record in one call: the byte after the piece is replaced by the '\n'
 * for the call, so that no emit ever ends inside a record (a reader skipped
 * to the ring's head between two halves would start mid-record). */
static void framer_cut(struct framer *f, char *p)
{
	char keep = p[f->max_line - 1];

	if (!f->in_long)
		f->long_lines++;
	f->in_long = true;
	p[f->max_line - 1] = '\n';
	f->emit(f->ctx, p, f->max_line, 1);
	p[f->max_line - 1] = keep;
}

/* Walks the complete lines in [p, end) and emits runs of well-sized lines
 * in one piece each; returns where the unfinished line starts. */
static char *framer_lines(struct framer *f, char *p, const char *end)
{
	const char *run = p;
	uint64_t records = 0;
	char *nl;

	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		while ((size_t)(nl + 1 - p) > f->max_line) {
			if (p > run)
				f->emit(f->ctx, run, (size_t)(p - run), records);
			records = 0;
			framer_cut(f, p);
			p += f->max_line - 1;
			run = p;
		}
		f->in_long = false;
		records++;
		p = nl + 1;
	}
	if (p > run)
		f->emit(f->ctx, run, (size_t)(p - run), records);
	return p;
}

/* Cuts an unfinished line that already exceeds max_line; keeps the rest. */
static char *framer_long_tail(struct framer *f, char *p, const char *end)
{
	while ((size_t)(end - p) >= f->max_line) {
		framer_cut(f, p);
		p += f->max_line - 1;
	}
	return p;
}

/* Frames freshly read bytes: in raw framing one read is one record. */
void framer_commit(struct framer *f, size_t n)
{
	const char *end;
	char *p;

	if (n == 0)
		return;
	if (f->raw) {
		f->emit(f->ctx, f->buf, n, 1);
		return;
	}
	end = f->buf + f->len + n;
	p = framer_lines(f, f->buf, end);
	p = framer_long_tail(f, p, end);
	f->len = (size_t)(end - p);
	memmove(f->buf, p, f->len);
}

/* Completes a last unterminated line with '\n'. */
void framer_finish(struct framer *f)
{
	if (f->raw || f->len == 0)
		return;
	f->buf[f->len] = '\n';
	f->emit(f->ctx, f->buf, f->len + 1, 1);
	f->len = 0;
	f->in_long = false;
}

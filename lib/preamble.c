/* preamble.c: the first records of each run of the source, for late
 * joiners. */
#include "preamble.h"
#include "alloc.h"

#include <string.h>

/* The one allocation: the records, their ring offsets and their ends. */
int preamble_init(struct preamble *p, size_t max, size_t max_line)
{
	memset(p, 0, sizeof(*p));
	if (max == 0)
		return 0;
	p->buf = pc_malloc(max * max_line);
	p->at = pc_calloc(max, sizeof(*p->at));
	p->end = pc_calloc(max, sizeof(*p->end));
	if (!p->buf || !p->at || !p->end) {
		preamble_free(p);
		return -1;
	}
	p->max = max;
	return 0;
}

/* Releases the memory at exit. */
void preamble_free(struct preamble *p)
{
	pc_free(p->buf);
	pc_free(p->at);
	pc_free(p->end);
	memset(p, 0, sizeof(*p));
}

/* Copies whole lines while there is room for records; stops at once when
 * the preamble is full (so a full one costs one comparison per emit). */
void preamble_offer(struct preamble *p, const char *data, size_t len, uint64_t at)
{
	size_t off = 0;

	while (p->n < p->max && off < len) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (data + off)) + 1 : len - off;

		memcpy(p->buf + p->len, data + off, n);
		p->len += n;
		p->at[p->n] = at + off;
		p->end[p->n++] = p->len;
		off += n;
	}
}

/* The next records start a new preamble. */
void preamble_reset(struct preamble *p)
{
	p->n = 0;
	p->len = 0;
	p->gen++;
}

/* Kept records that a client starting at ring offset start has not got. */
size_t preamble_for(const struct preamble *p, uint64_t start)
{
	size_t len = 0;

	for (size_t i = 0; i < p->n && p->at[i] < start; i++)
		len = p->end[i];
	return len;
}

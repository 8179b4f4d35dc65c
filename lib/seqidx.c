/* seqidx.c: a sparse, circular index of record starts. */
#include "seqidx.h"
#include "alloc.h"

/* Allocates the entries once. */
int seqidx_init(struct seqidx *x, size_t cap)
{
	x->e = pc_calloc(cap, sizeof(*x->e));
	x->cap = cap;
	x->added = 0;
	return x->e ? 0 : -1;
}

/* Releases the entries. */
void seqidx_free(struct seqidx *x)
{
	pc_free(x->e);
	x->e = NULL;
}

/* Overwrites the oldest slot once the array is full. */
void seqidx_add(struct seqidx *x, uint64_t seq, uint64_t off, uint64_t src)
{
	struct seqidx_entry *e = &x->e[x->added % x->cap];

	e->seq = seq;
	e->off = off;
	e->src = src;
	x->added++;
}

/* Entry number i (counted over all ever added). */
static const struct seqidx_entry *seqidx_at(const struct seqidx *x, uint64_t i)
{
	return &x->e[i % x->cap];
}

/* The key k of an entry. */
static uint64_t seqidx_key(const struct seqidx_entry *e, enum seqidx_key k)
{
	return k == SEQIDX_SEQ ? e->seq : k == SEQIDX_OFF ? e->off : e->src;
}

/* The first entry number, among those kept, whose key k is > v (binary
 * search over [lo, added)). */
static uint64_t seqidx_upper(const struct seqidx *x, enum seqidx_key k, uint64_t v, uint64_t lo)
{
	uint64_t hi = x->added;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (seqidx_key(seqidx_at(x, mid), k) > v)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* The first kept entry number whose offset is inside the ring. */
static uint64_t seqidx_first_held(const struct seqidx *x, uint64_t tail)
{
	uint64_t lo = x->added > x->cap ? x->added - x->cap : 0;

	return tail == 0 ? lo : seqidx_upper(x, SEQIDX_OFF, tail - 1, lo);
}

/* Binary search for the newest entry with key <= v. */
const struct seqidx_entry *seqidx_floor(const struct seqidx *x, enum seqidx_key k,
					uint64_t v, uint64_t tail)
{
	uint64_t lo = seqidx_first_held(x, tail);
	uint64_t up = seqidx_upper(x, k, v, lo);

	return up > lo ? seqidx_at(x, up - 1) : NULL;
}

/* The oldest entry still inside the ring. */
const struct seqidx_entry *seqidx_oldest(const struct seqidx *x, uint64_t tail)
{
	uint64_t lo = seqidx_first_held(x, tail);

	return lo < x->added ? seqidx_at(x, lo) : NULL;
}

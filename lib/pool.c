/* pool.c: fixed-size objects in blocks (see pool.h). A block holds its
 * free slots on a list threaded through them, and hands out slots never
 * used before in order, so that a new block's memory is only touched as
 * its objects are. Freed slots are poisoned under AddressSanitizer, which
 * then still reports a use after pool_free(). */
#include "pool.h"
#include "alloc.h"

#include <stdbool.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POOL_POISON(p, n) ((void)(p), (void)(n))
#define POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

struct pool_block {
	struct pool_block *prev, *next; /* on the partial list */
	void *free;                     /* a freed slot: the next is in its first bytes */
	unsigned used;                  /* objects live in this block */
	unsigned fresh;                 /* slots handed out at least once */
	char slots[];
};

/* An empty pool. */
void pool_init(struct pool *p, size_t size)
{
	memset(p, 0, sizeof(*p));
	p->size = (size + 7) & ~(size_t)7;
	if (p->size < sizeof(void *))
		p->size = sizeof(void *);
}

/* At exit. */
void pool_free_all(struct pool *p)
{
	for (size_t i = 0; i < p->n_blocks; i++)
		pc_free(p->blocks[i]);
	pc_free(p->blocks);
	pool_init(p, p->size);
}

/* Puts a block at the head of the partial list. */
static void pool_partial_add(struct pool *p, struct pool_block *b)
{
	b->prev = NULL;
	b->next = p->partial;
	if (p->partial)
		p->partial->prev = b;
	p->partial = b;
}

/* Takes a block off the partial list. */
static void pool_partial_remove(struct pool *p, struct pool_block *b)
{
	if (b->prev)
		b->prev->next = b->next;
	else
		p->partial = b->next;
	if (b->next)
		b->next->prev = b->prev;
	b->prev = b->next = NULL;
}

/* Where the block that starts at or before obj is in the sorted table
 * (or would be inserted). */
static size_t pool_find(const struct pool *p, const void *obj)
{
	size_t lo = 0, hi = p->n_blocks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((const char *)p->blocks[mid] <= (const char *)obj)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;                  /* blocks[lo - 1] is the candidate */
}

/* A new block, in the table and on the partial list; NULL when memory is
 * out. */
static struct pool_block *pool_block_new(struct pool *p)
{
	struct pool_block *b, **t;
	size_t at;

	if (p->n_blocks == p->cap_blocks) {
		size_t cap = p->cap_blocks ? 2 * p->cap_blocks : 16;

		if (!(t = pc_realloc(p->blocks, cap * sizeof(*t))))
			return NULL;
		p->blocks = t;
		p->cap_blocks = cap;
	}
	if (!(b = pc_malloc(sizeof(*b) + POOL_PER_BLOCK * p->size)))
		return NULL;
	memset(b, 0, sizeof(*b));
	POOL_POISON(b->slots, POOL_PER_BLOCK * p->size);
	at = pool_find(p, b);
	memmove(p->blocks + at + 1, p->blocks + at, (p->n_blocks - at) * sizeof(*p->blocks));
	p->blocks[at] = b;
	p->n_blocks++;
	pool_partial_add(p, b);
	return b;
}

/* A slot of the first block with room; a new block when none has. */
void *pool_alloc(struct pool *p)
{
	struct pool_block *b = p->partial ? p->partial : pool_block_new(p);
	char *obj;

	if (!b)
		return NULL;
	if (b->free) {
		obj = b->free;
		POOL_UNPOISON(obj, p->size);
		memcpy(&b->free, obj, sizeof(b->free));
	} else {
		obj = b->slots + (size_t)b->fresh++ * p->size;
		POOL_UNPOISON(obj, p->size);
	}
	if (++b->used == POOL_PER_BLOCK)
		pool_partial_remove(p, b);
	p->live++;
	memset(obj, 0, p->size);
	return obj;
}

/* The slot goes back to its block; an empty block goes back to the heap. */
void pool_free(struct pool *p, void *obj)
{
	size_t at;
	struct pool_block *b;

	if (!obj)
		return;
	at = pool_find(p, obj);
	b = p->blocks[at - 1];
	if (b->used-- == POOL_PER_BLOCK)
		pool_partial_add(p, b);
	p->live--;
	if (b->used == 0) {
		pool_partial_remove(p, b);
		memmove(p->blocks + at - 1, p->blocks + at, (p->n_blocks - at) * sizeof(*p->blocks));
		p->n_blocks--;
		pc_free(b);
		return;
	}
	memcpy(obj, &b->free, sizeof(b->free));
	b->free = obj;
	POOL_POISON(obj, p->size);
}

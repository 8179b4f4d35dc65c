/* pool.h: objects of one fixed size carved from blocks of POOL_PER_BLOCK,
 * so that each costs its size and nothing more: no allocator header, no
 * rounding. A block is one allocation of lib/alloc.c (the stats count it
 * as such); it is freed as soon as its last object is. The daemon keeps
 * its connections here, the one structure every idle client has. Nothing
 * here logs or exits. */
#ifndef PIPECAST_POOL_H
#define PIPECAST_POOL_H

#include <stddef.h>
#include <stdint.h>

#define POOL_PER_BLOCK 64

struct pool_block;

struct pool {
	size_t size;                /* of one object, a multiple of 8 */
	struct pool_block *partial; /* blocks with a free slot (a list) */
	struct pool_block **blocks; /* every block, by address: for pool_free */
	size_t n_blocks, cap_blocks;
	uint64_t live;              /* objects allocated and not freed */
};

/* A pool of objects of size bytes (rounded up to a multiple of 8). */
void pool_init(struct pool *p, size_t size);
/* Frees every block; objects still live are gone with them. */
void pool_free_all(struct pool *p);

/* A zeroed object, or NULL when memory is out. */
void *pool_alloc(struct pool *p);
/* Gives an object of this pool back (NULL is ignored). */
void pool_free(struct pool *p, void *obj);

#endif

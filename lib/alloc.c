/* alloc.c: counting wrappers around the C allocator. */
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

static uint64_t live_count;
static uint64_t total_count;
static enum alloc_owner owner;
static uint64_t owner_count[ALLOC_OWNERS];

/* Counts one allocation that succeeded. */
static void *alloc_note(void *p)
{
	if (p) {
		live_count++;
		total_count++;
		owner_count[owner]++;
	}
	return p;
}

/* malloc that counts. */
void *pc_malloc(size_t n)
{
	return alloc_note(malloc(n ? n : 1));
}

/* calloc that counts. */
void *pc_calloc(size_t n, size_t size)
{
	return alloc_note(calloc(n ? n : 1, size ? size : 1));
}

/* realloc that counts a fresh block as an allocation and n == 0 as a free. */
void *pc_realloc(void *p, size_t n)
{
	if (!p)
		return n ? pc_malloc(n) : NULL;
	if (n == 0) {
		pc_free(p);
		return NULL;
	}
	return realloc(p, n);
}

/* free that counts; NULL is a no-op like free(3). */
void pc_free(void *p)
{
	if (!p)
		return;
	live_count--;
	free(p);
}

/* strdup through the counting allocator. */
char *pc_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = pc_malloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

/* Allocations live right now. */
uint64_t alloc_live(void)
{
	return live_count;
}

/* Allocations ever made. */
uint64_t alloc_total(void)
{
	return total_count;
}

/* Switches the owner that allocations are counted for. */
enum alloc_owner alloc_owner_set(enum alloc_owner o)
{
	enum alloc_owner before = owner;

	owner = o < ALLOC_OWNERS ? o : ALLOC_OTHER;
	return before;
}

/* Allocations ever made for one owner. */
uint64_t alloc_total_of(enum alloc_owner o)
{
	return o < ALLOC_OWNERS ? owner_count[o] : 0;
}

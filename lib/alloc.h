/* alloc.h: the daemon's one allocator. Every heap allocation of the daemon and
 * of libev (through ev_set_allocator) goes through here, so that the stats can
 * show allocations that are live now and ever made (pipecastd(8): allocations_live,
 * allocations_total). Failure returns NULL; nothing here logs or exits. */
#ifndef PIPECAST_ALLOC_H
#define PIPECAST_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *pc_malloc(size_t n);
void *pc_calloc(size_t n, size_t size);
/* realloc semantics: p == NULL allocates, n == 0 frees and returns NULL. */
void *pc_realloc(void *p, size_t n);
void pc_free(void *p);
char *pc_strdup(const char *s);

uint64_t alloc_live(void);
uint64_t alloc_total(void);

/* Who allocations are made for (show info allocations_OWNER_total), so
 * that the stats connections of a query do not hide what streaming costs. */
enum alloc_owner { ALLOC_OTHER, ALLOC_CLIENTS, ALLOC_STATS, ALLOC_OWNERS };

/* Counts the following allocations for o; returns the owner before, for
 * the caller to put back. */
enum alloc_owner alloc_owner_set(enum alloc_owner o);
/* Allocations ever made for o. */
uint64_t alloc_total_of(enum alloc_owner o);

#endif

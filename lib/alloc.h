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

#endif

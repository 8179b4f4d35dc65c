/* list.h: the BSD <sys/queue.h> macros that glibc's copy lacks. */
#ifndef PIPECAST_LIST_H
#define PIPECAST_LIST_H

#include <sys/queue.h>

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)                  \
	for ((var) = TAILQ_FIRST((head));                           \
	     (var) && ((tvar) = TAILQ_NEXT((var), field), 1);       \
	     (var) = (tvar))
#endif

/* The struct that embeds member `m` at address p (libev's watchers are
 * embedded in the objects that own them). */
#define container_of(p, type, m) ((type *)(void *)((char *)(p) - offsetof(type, m)))

#endif

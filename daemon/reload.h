/* reload.h: SIGHUP and the stats socket's `reload`: re-read the same file
 * with the same -o overrides and apply what can change at once. */
#ifndef PIPECAST_RELOAD_H
#define PIPECAST_RELOAD_H

#include <stddef.h>

/* Remembers where the configuration came from (main, at start-up). */
void reload_setup(const char *file, const char *const *overrides, size_t n);
struct sbuf;

/* Reloads. Returns 0, or -1 with the reason in err (nothing changed; the
 * cause is logged once). Every changed key that needs a restart is logged
 * and, when notes is not NULL, appended to it as one line
 * "warning: KEY needs a restart; kept VALUE". */
int reload_run(char *err, size_t errlen, struct sbuf *notes);
/* Releases what reload_setup kept. */
void reload_free(void);

#endif

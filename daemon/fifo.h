/* fifo.h: the FIFO input's file: created with fifo_mode, opened without
 * following a link, checked through its descriptor; an existing FIFO that
 * another user owns or that allows more than fifo_mode is refused, and a
 * reopen takes only the FIFO first opened (pipecast.conf(5), fifo_mode;
 * pipecastd(8), SECURITY). */
#ifndef PIPECAST_FIFO_H
#define PIPECAST_FIFO_H

#include <stdbool.h>

#include "fileid.h"

/* Creates the FIFO at path with exactly mode, or takes an acceptable one
 * that exists (a refused one is replaced only inside a directory of the
 * daemon's user that nobody else can write). Returns a non-blocking
 * read descriptor and records the FIFO in *id, or -1 after logging why
 * start-up cannot go on. *created: this call made the FIFO. */
int fifo_open(const char *path, unsigned mode, struct fileid *id, bool *created);
/* Opens path again for the next writer: only if it is still the FIFO in
 * *id. Returns the descriptor, or -1 with *why set to a static description
 * (and errno set). */
int fifo_reopen(const char *path, const struct fileid *id, const char **why);

#endif

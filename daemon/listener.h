/* listener.h: the client listeners of [clients] listen. */
#ifndef PIPECAST_LISTENER_H
#define PIPECAST_LISTENER_H

#include <stdbool.h>

/* Binds every configured listener. Returns 0, or -1 after logging the
 * failure (nothing is left bound then). */
int listeners_open(void);
struct config;

/* Reload in two steps: listeners_prepare binds what `next` adds (returns -1
 * after logging, with nothing changed, when one cannot be bound); once conf
 * is `next`, listeners_commit closes what it dropped and starts the new
 * ones. Clients of a closed listener stay connected. */
int listeners_prepare(const struct config *next);
void listeners_commit(void);

/* Stops accepting, closes the sockets and removes the Unix socket files
 * this daemon created. */
void listeners_close(void);
/* listeners_close, and the accept pause timer is stopped too (at exit). */
void listeners_finish(void);
/* The one "out of descriptors" check of accept() for the listeners and
 * the stats socket: when err is EMFILE, ENFILE, ENOBUFS or ENOMEM, every
 * listener and the stats socket pause, one timer resumes them, and it
 * returns true. */
bool listeners_pause_if_exhausted(int err);

#endif

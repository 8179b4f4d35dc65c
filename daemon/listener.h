/* listener.h: the client listeners of [clients] listen. */
#ifndef PIPECAST_LISTENER_H
#define PIPECAST_LISTENER_H

/* Binds every configured listener. Returns 0, or -1 after logging the
 * failure (nothing is left bound then). */
int listeners_open(void);
struct config;

/* Reload in two steps: listeners_prepare binds what `next` adds (returns -1
 * after logging, with nothing changed, when one cannot be bound); once conf
 * is `next`, listeners_commit closes what it dropped and starts the new
 * ones; listeners_abort drops the prepared ones instead. Clients of a
 * closed listener stay connected. */
int listeners_prepare(const struct config *next);
void listeners_commit(void);
void listeners_abort(void);

/* Stops accepting, closes the sockets and removes the Unix socket files
 * this daemon created. */
void listeners_close(void);
/* listeners_close, and the accept pause timer is stopped too (at exit). */
void listeners_finish(void);
/* accept() ran out of descriptors (EMFILE, ENFILE, ENOBUFS, ENOMEM): every
 * listener and the stats socket pause, one timer resumes them. */
void listeners_pause(int err);

#endif

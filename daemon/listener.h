/* listener.h: the client listeners of [clients] listen. */
#ifndef PIPECAST_LISTENER_H
#define PIPECAST_LISTENER_H

/* Binds every configured listener. Returns 0, or -1 after logging the
 * failure (nothing is left bound then). */
int listeners_open(void);
/* Stops accepting, closes the sockets and removes the Unix socket files
 * this daemon created. */
void listeners_close(void);

#endif

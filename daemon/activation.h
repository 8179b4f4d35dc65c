/* activation.h: descriptors passed by systemd socket activation
 * (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES), claimed by name. */
#ifndef PIPECAST_ACTIVATION_H
#define PIPECAST_ACTIVATION_H

/* Reads and unsets the variables; makes the descriptors non-blocking and
 * close-on-exec. */
void activation_init(void);
/* Claims every passed descriptor named name (a socket unit gives all its
 * sockets one name); stores up to max of them, returns how many. */
int activation_take(const char *name, int *fds, int max);
/* Logs and closes the descriptors nobody claimed. */
void activation_close_unclaimed(void);

#endif

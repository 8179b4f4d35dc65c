/* notify.h: systemd's notify protocol, spoken directly (no libsystemd):
 * READY, STATUS, WATCHDOG, RELOADING, STOPPING. Without NOTIFY_SOCKET, or
 * when it cannot be reached, every call is a harmless no-op. */
#ifndef PIPECAST_NOTIFY_H
#define PIPECAST_NOTIFY_H

/* Reads (and removes from the environment, so a producer command does not
 * inherit them) NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID. */
void notify_init(void);
/* READY=1, then the STATUS= and watchdog timers start. */
void notify_ready(void);
/* RELOADING=1 with MONOTONIC_USEC=, before a reload. */
void notify_reloading(void);
/* READY=1 after a reload. */
void notify_reloaded(void);
/* STOPPING=1; the STATUS= and watchdog timers stop. */
void notify_stopping(void);
void notify_free(void);

#endif

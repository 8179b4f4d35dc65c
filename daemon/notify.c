/* notify.c: datagrams to $NOTIFY_SOCKET, a path or an abstract ("@") name.
 * Two timers: STATUS= every few seconds, WATCHDOG=1 at half the interval
 * systemd asked for. */
#include "notify.h"
#include "compat.h"
#include "counters.h"
#include "daemon.h"
#include "log.h"
#include "timers.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define STATUS_PERIOD_S 2.0

static struct sockaddr_un addr;
static socklen_t addr_len;           /* 0: no notify socket */
static int fd = -1;
static double watchdog_s;            /* interval between WATCHDOG=1, 0 = off */
static bool warned;
static ev_timer status_timer, watchdog_timer;
static uint64_t last_records;
static int64_t last_status_ns;

/* Sends one message; a failure is logged once and otherwise ignored. */
static void notify_send(const char *msg)
{
	if (addr_len == 0)
		return;
	if (fd < 0)
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0 && sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
			      (struct sockaddr *)&addr, addr_len) >= 0)
		return;
	if (!warned)
		log_warn("notify: cannot send to NOTIFY_SOCKET");
	warned = true;
}

/* Builds the socket address; '@' means the abstract namespace, whose
 * length counts only the bytes of the name. */
static void notify_parse_socket(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(addr.sun_path) || (s[0] != '/' && s[0] != '@')) {
		log_warning("notify: ignoring NOTIFY_SOCKET '%s'", s);
		return;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, s, n);
	if (s[0] == '@')
		addr.sun_path[0] = '\0';
	addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (s[0] == '/'));
}

/* The watchdog applies when WATCHDOG_USEC is set and WATCHDOG_PID is unset
 * or names this process. */
static void notify_parse_watchdog(const char *usec, const char *pid)
{
	char *end;
	unsigned long long us;

	if (!usec || (pid && strtol(pid, NULL, 10) != (long)getpid()))
		return;
	us = strtoull(usec, &end, 10);
	if (*end || us == 0) {
		log_warning("notify: ignoring WATCHDOG_USEC '%s'", usec);
		return;
	}
	watchdog_s = (double)us / 2e6;
}

/* Sends STATUS= with the client count and the record rate since the last. */
static void notify_status(void)
{
	char msg[160];
	int64_t now = mono_ns();
	double secs = NS_TO_S(now - last_status_ns);
	double rate = secs > 0 ? (double)(counters.source_records_total - last_records) / secs : 0;

	snprintf(msg, sizeof(msg), "STATUS=%llu clients, %.0f records/s",
		 (unsigned long long)counters.clients_connected, rate);
	notify_send(msg);
	last_records = counters.source_records_total;
	last_status_ns = now;
}

/* The STATUS= timer. */
static void notify_status_cb(__unused struct ev_loop *l, ev_timer *w, __unused int revents)
{
	timer_fired(TK_STATUS, w);
	notify_status();
	timer_arm(TK_STATUS, w, STATUS_PERIOD_S);
}

/* WATCHDOG=1: the loop is alive. */
static void notify_watchdog_cb(__unused struct ev_loop *l, ev_timer *w, __unused int revents)
{
	timer_fired(TK_WATCHDOG, w);
	notify_send("WATCHDOG=1");
	timer_arm(TK_WATCHDOG, w, watchdog_s);
}

/* Takes the protocol's variables out of the environment. */
void notify_init(void)
{
	const char *s = getenv("NOTIFY_SOCKET");

	if (s)
		notify_parse_socket(s);
	notify_parse_watchdog(getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"));
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	timer_setup(TK_STATUS, &status_timer, notify_status_cb);
	timer_setup(TK_WATCHDOG, &watchdog_timer, notify_watchdog_cb);
}

/* Start-up is complete. */
void notify_ready(void)
{
	notify_send("READY=1");
	if (addr_len == 0)
		return;
	last_status_ns = mono_ns();
	last_records = counters.source_records_total;
	notify_status();
	timer_arm(TK_STATUS, &status_timer, STATUS_PERIOD_S);
	if (watchdog_s > 0) {
		notify_send("WATCHDOG=1");
		timer_arm(TK_WATCHDOG, &watchdog_timer, watchdog_s);
	}
}

/* A reload begins (systemd wants the monotonic time with it). */
void notify_reloading(void)
{
	char msg[80];

	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%lld",
		 (long long)(mono_ns() / 1000));
	notify_send(msg);
}

/* A reload is over (it worked or changed nothing). */
void notify_reloaded(void)
{
	notify_send("READY=1");
}

/* The stop sequence begins; the watchdog keeps running until the end. */
void notify_stopping(void)
{
	notify_send("STOPPING=1");
	timer_disarm(TK_STATUS, &status_timer);
}

/* Exit. */
void notify_free(void)
{
	timer_disarm(TK_STATUS, &status_timer);
	timer_disarm(TK_WATCHDOG, &watchdog_timer);
	if (fd >= 0)
		close(fd);
	fd = -1;
}

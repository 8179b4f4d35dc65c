/* log.c: one line per message on standard error, never blocking the loop
 * (pipecastd(8), FAILURE MODES): a line that cannot be written at once
 * waits in a small buffer, written as standard error drains; when the
 * buffer is full lines are dropped, counted in log_lines_dropped_total,
 * and "N log lines dropped" follows once writing works again.
 *
 * Descriptor 2 itself is never made non-blocking: its open file description
 * is shared with whoever started the daemon (a shell, a terminal). A pipe,
 * a terminal or a file is reopened through /proc/self/fd/2 with O_NONBLOCK
 * (a new open file description of the same object); a socket (the journal's
 * stream) cannot be reopened and takes send(2) with MSG_DONTWAIT instead. */
#include "log.h"
#include "compat.h"
#include "counters.h"
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_BUF_SIZE  (64 * 1024)   /* lines waiting for standard error */
#define LOG_DRAIN_MS  200           /* what a fatal error waits for them */

enum log_sink { SINK_REOPENED, SINK_SOCKET, SINK_POLL };

static enum log_level log_level = LL_INFO;
static bool log_journal;
static struct {
	enum log_sink sink;
	int fd;                  /* where lines go: the reopened fd, or 2 */
	ev_io io;                /* writability, while lines wait */
	char buf[LOG_BUF_SIZE];
	size_t len;
	uint64_t dropped;        /* since writing last worked */
} out = { .fd = STDERR_FILENO };


/* syslog priorities of our levels, for the journal's <N> prefix. */
static const int level_prio[] = {
	[LL_ERROR] = 3, [LL_WARNING] = 4, [LL_NOTICE] = 5, [LL_INFO] = 6, [LL_DEBUG] = 7,
};

/* Chooses how to write without blocking: see the top of this file. */
static void log_open_sink(void)
{
	struct stat st;
	int fd;

	if (fstat(STDERR_FILENO, &st) == 0 && S_ISSOCK(st.st_mode)) {
		out.sink = SINK_SOCKET;
		return;
	}
	fd = open("/proc/self/fd/2", O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		out.sink = SINK_REOPENED;
		out.fd = fd;
		return;
	}
	out.sink = SINK_POLL;    /* no /proc: write only when poll says so */
}

/* Detects whether standard error is the journal stream systemd announced,
 * and opens the non-blocking way to it. */
void log_init(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	log_journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
		      fstat(STDERR_FILENO, &st) == 0 &&
		      (unsigned long long)st.st_dev == dev &&
		      (unsigned long long)st.st_ino == ino;
	log_open_sink();
}

/* One attempt to write, never waiting; bytes written, or -1 (EAGAIN: the
 * reader is not taking any). */
static ssize_t log_try_write(const char *p, size_t n)
{
	struct pollfd pfd = { .fd = out.fd, .events = POLLOUT };

	switch (out.sink) {
	case SINK_SOCKET:
		return send(out.fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	case SINK_POLL:
		if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLOUT)) {
			errno = EAGAIN;
			return -1;
		}
		return write(out.fd, p, n > 4096 ? 4096 : n);
	case SINK_REOPENED:
		break;
	}
	return write(out.fd, p, n);
}

/* Writes what waits, as far as it goes; false when some is left. A
 * standard error that is gone for good (EPIPE, EBADF) discards it. */
static bool log_drain_some(void)
{
	size_t done = 0;

	while (done < out.len) {
		ssize_t n = log_try_write(out.buf + done, out.len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			done = out.len;   /* nowhere left to report it */
			break;
		}
		done += (size_t)n;
	}
	memmove(out.buf, out.buf + done, out.len - done);
	out.len -= done;
	return out.len == 0;
}

/* Says how many lines were dropped, once everything before could go. */
static void log_report_dropped(void)
{
	uint64_t n = out.dropped;

	if (n == 0 || out.len > 0)
		return;
	out.dropped = 0;
	log_msg(LL_WARNING, "log: %llu lines dropped while standard error could not "
		"take them", (unsigned long long)n);
}

/* Standard error can take more. */
static void log_writable_cb(__unused struct ev_loop *l, ev_io *w, __unused int revents)
{
	if (log_drain_some())
		ev_io_stop(loop, w);
	log_report_dropped();
}

/* Watches for writability while lines wait (once there is a loop). */
static void log_watch(void)
{
	if (!loop || ev_is_active(&out.io))
		return;
	ev_io_init(&out.io, log_writable_cb, out.fd, EV_WRITE);
	ev_io_start(loop, &out.io);
}

/* Queues one line behind those waiting, or drops it when there is no room,
 * then writes what it can. */
static void log_put(const char *line, size_t n)
{
	if (out.len + n > sizeof(out.buf)) {
		out.dropped++;
		counters.log_lines_dropped_total++;
		log_watch();
		return;
	}
	memcpy(out.buf + out.len, line, n);
	out.len += n;
	if (!log_drain_some())
		log_watch();
	else
		log_report_dropped();
}

/* Exit: gives waiting lines up to ms to go, then stops the watcher. */
void log_finish(int ms)
{
	struct pollfd pfd = { .fd = out.fd, .events = POLLOUT };
	struct timespec t0, t;
	int left;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!log_drain_some()) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = ms - (int)((t.tv_sec - t0.tv_sec) * 1000 +
				  (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			break;
	}
	if (loop && ev_is_active(&out.io))
		ev_io_stop(loop, &out.io);
}

/* Applies [daemon] log_level. */
void log_set_level(enum log_level level)
{
	log_level = level;
}

/* Formats the line prefix: "<N>" for the journal, else time and level. */
static int log_prefix(char *buf, size_t len, enum log_level level)
{
	struct timespec ts;
	struct tm tm;
	char when[32];

	if (log_journal)
		return snprintf(buf, len, "<%d>", level_prio[level]);
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	return snprintf(buf, len, "%s.%03ld %s: ", when, ts.tv_nsec / 1000000,
			config_log_level_name(level));
}

/* Writes one message if its level is enabled: lead, the message, then
 * ": strerror(errnum)" when errnum is not 0; long messages are cut. */
static void log_vmsg(enum log_level level, const char *lead, int errnum,
		     const char *fmt, va_list ap)
{
	char line[2048];
	int n, m;

	if (level > log_level)
		return;
	n = log_prefix(line, sizeof(line), level);
	n += snprintf(line + n, sizeof(line) - (size_t)n, "%s", lead);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	n += m < 0 ? 0 : m;
	if (errnum && n < (int)sizeof(line) - 2)
		n += snprintf(line + n, sizeof(line) - (size_t)n - 1, ": %s", strerror(errnum));
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	log_put(line, (size_t)n);
}

/* A message as given. */
void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, "", 0, fmt, ap);
	va_end(ap);
}

/* A message about a failed call: strerror(errno) is appended. */
void log_msg_errno(enum log_level level, const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, "", errnum, fmt, ap);
	va_end(ap);
}

/* An error the daemon cannot serve on after, caused by a failed call:
 * logged with strerror(errno), exit 3 (pipecastd(8), EXIT STATUS). */
void fatal(const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LL_ERROR, "fatal: ", errnum, fmt, ap);
	va_end(ap);
	log_finish(LOG_DRAIN_MS);
	exit(EXIT_FATAL);
}

/* Like fatal(), for a cause that is no failed call. */
void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LL_ERROR, "fatal: ", 0, fmt, ap);
	va_end(ap);
	log_finish(LOG_DRAIN_MS);
	exit(EXIT_FATAL);
}

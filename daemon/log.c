/* log.c: one line per message on standard error, written with one write(2). */
#include "log.h"
#include "daemon.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static enum log_level log_level = LL_INFO;
static bool log_journal;

/* syslog priorities of our levels, for the journal's <N> prefix. */
static const int level_prio[] = {
	[LL_ERROR] = 3, [LL_WARNING] = 4, [LL_NOTICE] = 5, [LL_INFO] = 6, [LL_DEBUG] = 7,
};

/* Detects whether standard error is the journal stream systemd announced. */
void log_init(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	log_journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
		      fstat(STDERR_FILENO, &st) == 0 &&
		      (unsigned long long)st.st_dev == dev &&
		      (unsigned long long)st.st_ino == ino;
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
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
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
	exit(EXIT_FATAL);
}

/* Like fatal(), for a cause that is no failed call. */
void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LL_ERROR, "fatal: ", 0, fmt, ap);
	va_end(ap);
	exit(EXIT_FATAL);
}

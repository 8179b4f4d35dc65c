/* log.h: the daemon's log on standard error, with a timestamp, or with a
 * <N> priority prefix when standard error is the journal (JOURNAL_STREAM). */
#ifndef PIPECAST_LOG_H
#define PIPECAST_LOG_H

#include "config.h"

void log_init(void);
/* Exit: gives lines still waiting for standard error up to ms to go. */
void log_finish(int ms);
void log_set_level(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_msg_errno(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Log, then exit 3 (pipecastd(8)): fatal() appends strerror(errno). */
void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#define log_error(...)   log_msg(LL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LL_WARNING, __VA_ARGS__)
#define log_notice(...)  log_msg(LL_NOTICE, __VA_ARGS__)
#define log_info(...)    log_msg(LL_INFO, __VA_ARGS__)
#define log_debug(...)   log_msg(LL_DEBUG, __VA_ARGS__)
/* As log_error and log_warning, with ": strerror(errno)" appended. */
#define log_syserr(...)  log_msg_errno(LL_ERROR, __VA_ARGS__)
#define log_warn(...)    log_msg_errno(LL_WARNING, __VA_ARGS__)

#endif

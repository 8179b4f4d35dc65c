/* log.h: the daemon's log on standard error, with a timestamp, or with a
 * <N> priority prefix when standard error is the journal (JOURNAL_STREAM). */
#ifndef PIPECAST_LOG_H
#define PIPECAST_LOG_H

#include "config.h"

void log_init(void);
void log_set_level(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...)   log_msg(LL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LL_WARNING, __VA_ARGS__)
#define log_notice(...)  log_msg(LL_NOTICE, __VA_ARGS__)
#define log_info(...)    log_msg(LL_INFO, __VA_ARGS__)
#define log_debug(...)   log_msg(LL_DEBUG, __VA_ARGS__)

#endif

/* statcmd.h: the stats socket's command language (pipecastd(8), STATS
 * SOCKET). One line in, one parsed command or one error message out.
 *
 * Words are separated by any run of spaces or tabs; leading and trailing
 * blanks and one trailing '\r' are ignored. Words are case-sensitive (the
 * protocol is lower case). A line that is empty or blank is an error,
 * "empty command", so that every line a client sends gets exactly one reply
 * and an interactive user who presses Enter sees that nothing ran. */
#ifndef PIPECAST_STATCMD_H
#define PIPECAST_STATCMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum statcmd_kind {
	STATCMD_SHOW_INFO,
	STATCMD_SHOW_CLIENTS,
	STATCMD_SHOW_TIMERS,
	STATCMD_SHOW_CLOSED,
	STATCMD_SHOW_METRICS,
	STATCMD_SHOW_CONFIG,
	STATCMD_KILL_CLIENT,
	STATCMD_RELOAD,
	STATCMD_HELP,
	STATCMD_QUIT,
	STATCMD_COUNT
};

struct statcmd {
	enum statcmd_kind kind;
	bool json;      /* "show ... json" */
	bool admin;     /* only for root or the daemon's own uid */
	uint64_t id;    /* STATCMD_KILL_CLIENT: the client id */
};

/* Longest error message statcmd_parse writes, NUL included. */
#define STATCMD_ERR_MAX 256

/* Parses one line of len bytes (without its '\n'; may hold NUL bytes, which
 * are not blanks). Returns 0 and fills *cmd, or -1 and writes into err a
 * message for "error: <message>" (one line, printable ASCII, truncated to
 * errlen). Messages: "empty command", "unknown command 'WORD'",
 * "usage: USAGE" (wrong arguments; for a bad subcommand the usages of every
 * command sharing the first word, joined by " | "), and
 * "invalid client id 'WORD'" (not a decimal uint64). */
int statcmd_parse(const char *line, size_t len, struct statcmd *cmd,
		  char *err, size_t errlen);

/* The reply body of "help": one line per command, each ending in '\n',
 * no empty line. */
const char *statcmd_help(void);

/* The command's spelling, e.g. "show info [json]". Tests only. */
const char *statcmd_usage(enum statcmd_kind kind);

#endif

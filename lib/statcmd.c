/* statcmd.c: table-driven parser of stats socket command lines. */
#include "statcmd.h"
#include "units.h"

#include <stdio.h>
#include <string.h>

/* What may follow a command's fixed words. */
enum statcmd_args { ARGS_NONE, ARGS_JSON, ARGS_ID };

/* The one list of commands: kind, first word, second word (or NULL), what
 * follows, admin, usage, and the description that "help" shows. The help
 * text is built from it at compile time. */
#define STATCMD_TABLE(X) \
	X(STATCMD_SHOW_INFO, "show", "info", ARGS_JSON, false, \
	  "show info [json]", "all counters and gauges") \
	X(STATCMD_SHOW_CLIENTS, "show", "clients", ARGS_JSON, false, \
	  "show clients [json]", "one row per connected client") \
	X(STATCMD_SHOW_TIMERS, "show", "timers", ARGS_JSON, false, \
	  "show timers [json]", "live timers by kind") \
	X(STATCMD_SHOW_CLOSED, "show", "closed", ARGS_JSON, false, \
	  "show closed [json]", "the last 100 closed clients, oldest first") \
	X(STATCMD_SHOW_METRICS, "show", "metrics", ARGS_NONE, false, \
	  "show metrics", "Prometheus text format") \
	X(STATCMD_SHOW_CONFIG, "show", "config", ARGS_JSON, true, \
	  "show config [json]", "every key, where it was set, its value (admin)") \
	X(STATCMD_KILL_CLIENT, "kill", "client", ARGS_ID, true, \
	  "kill client ID", "close one client (admin)") \
	X(STATCMD_RELOAD, "reload", NULL, ARGS_NONE, true, \
	  "reload", "reload the configuration (admin)") \
	X(STATCMD_HELP, "help", NULL, ARGS_NONE, false, \
	  "help", "this list") \
	X(STATCMD_QUIT, "quit", NULL, ARGS_NONE, false, \
	  "quit", "close the connection")

struct statcmd_def {
	enum statcmd_kind kind;
	const char *verb;
	const char *sub;
	enum statcmd_args args;
	bool admin;
	const char *usage;
};

#define STATCMD_DEF(k, v, s, a, adm, u, d) { k, v, s, a, adm, u },
static const struct statcmd_def statcmd_defs[] = { STATCMD_TABLE(STATCMD_DEF) };
#undef STATCMD_DEF

#define STATCMD_HELP_LINE(k, v, s, a, adm, u, d) u " - " d "\n"
static const char statcmd_help_text[] = STATCMD_TABLE(STATCMD_HELP_LINE);
#undef STATCMD_HELP_LINE

#define STATCMD_NDEFS (sizeof(statcmd_defs) / sizeof(statcmd_defs[0]))
#define STATCMD_MAX_WORDS 4     /* more than any command takes */
#define STATCMD_QUOTE_MAX 64    /* longest word echoed in a message */
#define STATCMD_ID_DIGITS 20    /* digits of UINT64_MAX */

struct word {
	const char *p;
	size_t n;
};

/* The words of one line; n counts them all, w keeps the first few. */
struct words {
	struct word w[STATCMD_MAX_WORDS];
	size_t n;
};

/* Blanks that separate words. */
static bool statcmd_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Splits the line into words after dropping one trailing '\r'. */
static void statcmd_split(const char *line, size_t len, struct words *ws)
{
	size_t i = 0;

	if (len && line[len - 1] == '\r')
		len--;
	ws->n = 0;
	while (i < len) {
		size_t start;

		while (i < len && statcmd_blank(line[i]))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && !statcmd_blank(line[i]))
			i++;
		if (ws->n < STATCMD_MAX_WORDS)
			ws->w[ws->n] = (struct word){ line + start, i - start };
		ws->n++;
	}
}

/* Compares a word of the line with a word of the table. */
static bool statcmd_is(const struct word *w, const char *s)
{
	return w->n == strlen(s) && memcmp(w->p, s, w->n) == 0;
}

/* Copies a word for a message: printable ASCII only, cut at a sane length. */
static void statcmd_quote(char *dst, size_t size, const struct word *w)
{
	size_t n = w->n < size - 4 ? w->n : size - 4;
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = (w->p[i] > 0x20 && w->p[i] < 0x7f) ? w->p[i] : '?';
	if (n < w->n) {
		memcpy(dst + i, "...", 3);
		i += 3;
	}
	dst[i] = '\0';
}

/* Writes "unknown command 'WORD'". */
static int statcmd_unknown(const struct word *w, char *err, size_t errlen)
{
	char q[STATCMD_QUOTE_MAX + 4];

	statcmd_quote(q, sizeof(q), w);
	snprintf(err, errlen, "unknown command '%s'", q);
	return -1;
}

/* Writes "usage: ..." for every command sharing the verb of the line. */
static int statcmd_usage_of_verb(const struct word *verb, char *err, size_t errlen)
{
	size_t used = (size_t)snprintf(err, errlen, "usage: ");
	const char *sep = "";

	for (size_t i = 0; i < STATCMD_NDEFS && used < errlen; i++) {
		if (!statcmd_is(verb, statcmd_defs[i].verb))
			continue;
		used += (size_t)snprintf(err + used, errlen - used, "%s%s", sep,
					 statcmd_defs[i].usage);
		sep = " | ";
	}
	return -1;
}

/* The command whose fixed words begin the line; sets *known when at least
 * the first word names some command. */
static const struct statcmd_def *statcmd_find(const struct words *ws, bool *known)
{
	*known = false;
	for (size_t i = 0; i < STATCMD_NDEFS; i++) {
		const struct statcmd_def *d = &statcmd_defs[i];

		if (!statcmd_is(&ws->w[0], d->verb))
			continue;
		*known = true;
		if (!d->sub || (ws->n > 1 && statcmd_is(&ws->w[1], d->sub)))
			return d;
	}
	return NULL;
}

/* Parses a client id: decimal digits only, within uint64_t. */
static int statcmd_id(const struct word *w, uint64_t *id, char *err, size_t errlen)
{
	char digits[STATCMD_ID_DIGITS + 1];
	char q[STATCMD_QUOTE_MAX + 4];

	if (w->n <= STATCMD_ID_DIGITS) {
		memcpy(digits, w->p, w->n);
		digits[w->n] = '\0';
		if (strlen(digits) == w->n && units_parse_uint(digits, id) == 0)
			return 0;
	}
	statcmd_quote(q, sizeof(q), w);
	snprintf(err, errlen, "invalid client id '%s'", q);
	return -1;
}

/* Checks what follows the fixed words against the command's arguments. */
static int statcmd_args(const struct statcmd_def *d, const struct words *ws,
			struct statcmd *cmd, char *err, size_t errlen)
{
	size_t first = d->sub ? 2 : 1;
	size_t nargs = ws->n - first;

	if (d->args == ARGS_JSON && nargs == 1 && statcmd_is(&ws->w[first], "json")) {
		cmd->json = true;
		return 0;
	}
	if (d->args == ARGS_ID && nargs == 1)
		return statcmd_id(&ws->w[first], &cmd->id, err, errlen);
	if (nargs == 0 && d->args != ARGS_ID)
		return 0;
	snprintf(err, errlen, "usage: %s", d->usage);
	return -1;
}

/* Parses one command line; see statcmd.h for the messages. */
int statcmd_parse(const char *line, size_t len, struct statcmd *cmd,
		  char *err, size_t errlen)
{
	struct words ws;
	const struct statcmd_def *d;
	bool known;

	statcmd_split(line, len, &ws);
	if (ws.n == 0) {
		snprintf(err, errlen, "empty command");
		return -1;
	}
	d = statcmd_find(&ws, &known);
	if (!d)
		return known ? statcmd_usage_of_verb(&ws.w[0], err, errlen)
			     : statcmd_unknown(&ws.w[0], err, errlen);
	*cmd = (struct statcmd){ .kind = d->kind, .admin = d->admin };
	return statcmd_args(d, &ws, cmd, err, errlen);
}

/* The help reply body, built from the command table. */
const char *statcmd_help(void)
{
	return statcmd_help_text;
}

/* A command's spelling, from the table. */
const char *statcmd_usage(enum statcmd_kind kind)
{
	for (size_t i = 0; i < STATCMD_NDEFS; i++)
		if (statcmd_defs[i].kind == kind)
			return statcmd_defs[i].usage;
	return "?";
}

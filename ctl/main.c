/* main.c: pipecastctl's command line, the command table and the one-shot
 * commands (one connection, one command, half-close, one reply). */
#include "ctl.h"

#include "alloc.h"
#include "units.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_DEFAULT_MS 10000
#define SECONDS_MIN_MS 100
#define SECONDS_MAX_MS 3600000

/* What a command takes after its name. */
enum arg_kind {
	ARG_NONE,
	ARG_ID,      /* a client id: digits */
	ARG_WATCH,   /* no ARG; -i and -n apply */
	ARG_LIST,    /* no ARG; every instance, so neither -s nor -n NAME */
	ARG_PUBLISH, /* redis:HOST:PORT/KEY [MAXLEN]; no daemon involved */
};

/* One pipecastctl command and the daemon command it sends (pipecastctl(1)). */
struct command {
	const char *name;
	const char *argname;   /* for the usage, or "" */
	const char *sent;
	enum arg_kind arg;
	bool json;             /* accepts --json (appends " json") */
	const char *help;
	bool table;            /* a table reply: aligned on a terminal */
};

static const struct command commands[] = {
	{ "info", "", "show info", ARG_NONE, true, "all counters and gauges", false },
	{ "clients", "", "show clients", ARG_NONE, true, "one row per connected client", true },
	{ "timers", "", "show timers", ARG_NONE, true, "live timers by kind", true },
	{ "closed", "", "show closed", ARG_NONE, true,
	  "recently closed clients with the reason", true },
	{ "metrics", "", "show metrics", ARG_NONE, false, "Prometheus text format", false },
	{ "config", "", "show config", ARG_NONE, true,
	  "the configuration in force: each key, where it was set, its value", false },
	{ "watch", "", "show info", ARG_WATCH, false,
	  "live view with rates, redrawn in place; q or Ctrl-C exits 0", false },
	{ "kill", " ID", "kill client", ARG_ID, false,
	  "close one client (ID as shown by 'clients')", false },
	{ "reload", "", "reload", ARG_NONE, false, "reload the daemon's configuration", false },
	{ "list", "", "show info", ARG_LIST, false,
	  "every template instance that answers: clients, records/s, source", false },
	{ "publish", "", NULL, ARG_PUBLISH, false,
	  "XADD standard input's lines to a Redis stream (usage above)", false },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Everything the command line says. */
struct args {
	const char *socket;
	const char *instance;     /* -n NAME before the command */
	bool json;
	int64_t timeout_ms;
	bool watch_only;          /* -i or -n was given */
	struct watch_opts watch;
	const struct command *cmd;
	const char *arg;
	const char *arg2;         /* publish: MAXLEN */
	int nrest;                /* words after the command */
	struct upurl url;         /* publish: the stream */
	uint64_t maxlen;          /* publish: 0 = no trimming */
	char line[64];            /* the daemon command line */
};

static const char usage_head[] =
	"usage: pipecastctl [-s SOCKET | -n NAME] [-t SECONDS] [--json] COMMAND [ARG]\n"
	"       pipecastctl [-s SOCKET | -n NAME] [-t SECONDS] watch [-i SECONDS] [-n COUNT]\n"
	"       pipecastctl [-t SECONDS] list\n"
	"       pipecastctl [-t SECONDS] publish redis:HOST:PORT/KEY [MAXLEN]\n"
	"       pipecastctl -h | -V\n"
	"commands:\n";

static const char usage_tail[] =
	"options:\n"
	"  -s SOCKET   the stats socket; default $PIPECAST_SOCKET, else the first\n"
	"              that answers of /run/pipecast/stats.sock,\n"
	"              $XDG_RUNTIME_DIR/pipecast/stats.sock and\n"
	"              /tmp/pipecast-UID/stats.sock\n"
	"  -n NAME     (before the command) the template instance NAME:\n"
	"              /run/pipecast/NAME/stats.sock\n"
	"  --json      JSON output for info, timers (an object), clients and closed\n"
	"              (an array of objects); a usage error with other commands\n"
	"  -t SECONDS  give up on a daemon (publish: Redis) that does not answer\n"
	"              (default 10)\n"
	"  -i SECONDS  watch: refresh interval, 0.1 to 3600 (default 1)\n"
	"  -n COUNT    (after watch) stop after COUNT frames (default: until Ctrl-C)\n"
	"  -V          print the version and exit\n"
	"  -h, --help  print this help and exit\n"
	"SECONDS take up to three decimals (0.5). When standard output is not a\n"
	"terminal, watch prints successive frames separated by an empty line.\n"
	"Exit status: 0 success, 1 the daemon (publish: Redis) answered an error or\n"
	"could not be reached, 2 usage error. See pipecastctl(1).\n";

/* Prints "pipecastctl: MESSAGE" on standard error. */
void ctl_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("pipecastctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Rates and deadlines must not jump with the wall clock. */
int64_t ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* -h: usage, with the command list generated from the table. */
static void usage(FILE *f)
{
	fputs(usage_head, f);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "%s%s", commands[i].name,
			 commands[i].argname);
		fprintf(f, "  %-10s  %s\n", name, commands[i].help);
	}
	fputs(usage_tail, f);
}

/* A usage error: one line saying what, a hint, exit status 2. */
__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("pipecastctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'pipecastctl -h'.\n", stderr);
	return CTL_EXIT_USAGE;
}

/* Finds a command by name. */
static const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* -i, -t: decimal seconds in the range every such option shares. */
static int parse_seconds_opt(char opt, const char *s, uint64_t *ms)
{
	if (ctl_parse_seconds(s, SECONDS_MIN_MS, SECONDS_MAX_MS, ms) == 0)
		return 0;
	return usage_error("-%c '%s': expected seconds from 0.1 to 3600 "
			   "with at most three decimals", opt, s);
}

/* -n: a positive frame count. */
static int parse_count_opt(const char *s, uint64_t *n)
{
	if (units_parse_uint(s, n) == 0 && *n > 0)
		return 0;
	return usage_error("-n '%s': expected a positive integer", s);
}

/* Handles one option getopt returned; -1 to go on, else an exit status.
 * Before the command, -n names an instance; after it, -n is watch's COUNT. */
static int parse_option(int opt, const char *val, const char *bad, bool before,
			struct args *a)
{
	uint64_t ms;

	switch (opt) {
	case 's': a->socket = val; return -1;
	case 'j': a->json = true; return -1;
	case 't':
		if (parse_seconds_opt('t', val, &ms))
			return CTL_EXIT_USAGE;
		a->timeout_ms = (int64_t)ms;
		return -1;
	case 'i':
		a->watch_only = true;
		return parse_seconds_opt('i', val, &a->watch.interval_ms) ? CTL_EXIT_USAGE : -1;
	case 'n':
		if (before) {
			a->instance = val;
			return -1;
		}
		a->watch_only = true;
		return parse_count_opt(val, &a->watch.count) ? CTL_EXIT_USAGE : -1;
	case 'h': usage(stdout); return CTL_EXIT_OK;
	case 'V': printf("pipecastctl %s\n", PIPECAST_VERSION); return CTL_EXIT_OK;
	case ':': return usage_error("option '%s' needs a value", bad);
	default: return usage_error("unknown option '%s'", bad);
	}
}

/* The text of the option getopt choked on. */
static const char *bad_option(char **argv, char *buf, size_t len)
{
	if (optopt)
		snprintf(buf, len, "-%c", optopt);
	else
		snprintf(buf, len, "%s", argv[optind - 1]);
	return buf;
}

/* One getopt pass over argv; -1 when every option was taken. */
static int parse_pass(int argc, char **argv, const char *optstring, bool before,
		      struct args *a)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char bad[64];
	int opt, rc;

	opterr = 0;
	optind = 0;
	while ((opt = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		rc = parse_option(opt, optarg,
				  opt == '?' || opt == ':' ? bad_option(argv, bad, sizeof(bad)) : "",
				  before, a);
		if (rc >= 0)
			return rc;
	}
	return -1;
}

/* Options up to the command word, then the command's own, which may come
 * in any order after it (GNU argument order); argv then holds the command
 * at *cmd and its arguments after it. */
static int parse_options(int argc, char **argv, struct args *a, int *cmd)
{
	int rc = parse_pass(argc, argv, "+:s:t:i:n:hV", true, a);

	*cmd = optind;
	if (rc >= 0 || *cmd >= argc)
		return rc;
	rc = parse_pass(argc - *cmd, argv + *cmd, ":s:t:i:n:hV", false, a);
	a->nrest = argc - *cmd - optind;
	if (rc < 0 && a->nrest > 0)   /* the arguments, moved after the options */
		a->arg = argv[*cmd + optind];
	if (rc < 0 && a->nrest > 1)
		a->arg2 = argv[*cmd + optind + 1];
	return rc;
}

/* Where the command goes: -s, -n NAME, or the discovery list. */
static int parse_target(const struct args *a)
{
	if (a->cmd->arg == ARG_LIST && (a->socket || a->instance))
		return usage_error("'list' reads every instance; -s and -n NAME do not apply");
	if (a->socket && a->instance)
		return usage_error("-s and -n NAME exclude each other");
	if (a->instance && !statspath_instance_ok(a->instance))
		return usage_error("-n '%s': not an instance name", a->instance);
	return -1;
}

/* publish: the redis: target and the optional MAXLEN. */
static int parse_publish(struct args *a)
{
	const char *why;

	if (a->nrest > 2)
		return usage_error("too many arguments for 'publish'");
	if (a->json || a->watch_only || a->socket || a->instance)
		return usage_error("--json, -s, -i and -n are not for 'publish'");
	if (!a->arg)
		return usage_error("'publish' needs redis:HOST:PORT/KEY");
	if (strncmp(a->arg, "redis:", 6) != 0)
		return usage_error("'%s': publish writes to redis:HOST:PORT/KEY", a->arg);
	if (upurl_parse(a->arg, &a->url, &why) < 0)
		return usage_error("'%s': %s", a->arg, why);
	if (a->url.history)
		return usage_error("'%s': ?history is for reading, not for publish", a->arg);
	if (a->arg2 && (units_parse_uint(a->arg2, &a->maxlen) < 0 || a->maxlen == 0))
		return usage_error("MAXLEN '%s': expected a positive integer", a->arg2);
	return -1;
}

/* Checks the command, its ARG and the options that depend on it. */
static int parse_command(int argc, char **argv, int cmd, struct args *a)
{
	if (cmd >= argc)
		return usage_error("no command given");
	a->cmd = command_find(argv[cmd]);
	if (!a->cmd)
		return usage_error("unknown command '%s'", argv[cmd]);
	if (a->cmd->arg == ARG_PUBLISH)
		return parse_publish(a);
	if (a->nrest > (a->cmd->arg == ARG_ID))
		return usage_error("too many arguments for '%s'", a->cmd->name);
	if (a->json && !a->cmd->json)
		return usage_error("--json is not available for '%s'", a->cmd->name);
	if (a->watch_only && a->cmd->arg != ARG_WATCH)
		return usage_error("-i and -n COUNT are only for 'watch'");
	return parse_target(a);
}

/* Builds the daemon command line from the table entry and the ARG. */
static int build_line(struct args *a)
{
	uint64_t id;

	if (a->cmd->arg == ARG_PUBLISH)
		return -1;
	if (a->cmd->arg != ARG_ID) {
		snprintf(a->line, sizeof(a->line), "%s%s", a->cmd->sent,
			 a->json ? " json" : "");
		return -1;
	}
	if (!a->arg)
		return usage_error("'%s' needs a client ID", a->cmd->name);
	if (units_parse_uint(a->arg, &id) < 0)
		return usage_error("'%s' is not a client ID (digits only)", a->arg);
	snprintf(a->line, sizeof(a->line), "%s %llu", a->cmd->sent,
		 (unsigned long long)id);
	return -1;
}

/* Writes bytes; on a terminal, a control character (an escape sequence
 * from whatever answers on the socket) is shown as \xHH instead. */
static void print_safe(FILE *f, const char *p, size_t len)
{
	if (!isatty(fileno(f))) {
		fwrite(p, 1, len, f);
		return;
	}
	while (len > 0) {
		size_t n = ctl_safe_span(p, len);

		fwrite(p, 1, n, f);
		p += n;
		len -= n;
		if (len > 0) {
			fprintf(f, "\\x%02x", (unsigned char)*p);
			p++;
			len--;
		}
	}
}

/* Writes a reply body, adding the newline a truncated one may lack. */
static void print_body(FILE *f, const char *prefix, const char *body, size_t len)
{
	fputs(prefix, f);
	print_safe(f, body, len);
	if (len > 0 && body[len - 1] != '\n')
		fputc('\n', f);
}

/* A reply on stdout; a table's columns are aligned for a terminal (the
 * protocol and a pipe keep single spaces). */
static void print_reply(const struct args *a, const char *body, size_t len)
{
	char *aligned = NULL;

	if (a->cmd->table && !a->json && isatty(STDOUT_FILENO))
		aligned = ctl_align_columns(body, len);
	if (aligned)
		print_body(stdout, "", aligned, strlen(aligned));
	else
		print_body(stdout, "", body, len);
	pc_free(aligned);
}

/* One command, its reply on stdout, or its error on stderr. */
static int run_once(const struct statspath_list *paths, const struct args *a)
{
	char err[4 * STATSPATH_LEN];
	struct conn *c = conn_open(paths, a->timeout_ms, err, sizeof(err));
	enum conn_status st;
	const char *body;
	size_t len;
	int rc = CTL_EXIT_FAIL;

	if (!c) {
		ctl_warn("%s", err);
		return CTL_EXIT_FAIL;
	}
	st = conn_request(c, a->line, true, &body, &len, err, sizeof(err));
	if (st == CONN_CLOSED)
		ctl_warn("%s closed the connection without a reply", conn_path(c));
	else if (st != CONN_OK)
		ctl_warn("%s", err);
	else if (ctl_reply_is_error(body, len))
		print_body(stderr, "pipecastctl: ", body, len);
	else {
		print_reply(a, body, len);
		rc = CTL_EXIT_OK;
	}
	conn_close(c);
	return rc;
}

/* Output that could not be written is a failure, not a success. */
static int finish_stdout(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_warn("standard output: %s", strerror(errno));
		return CTL_EXIT_FAIL;
	}
	return rc;
}

/* The socket paths to try: the instance's, or the discovery list. */
static int find_paths(const struct args *a, struct statspath_list *paths)
{
	int rc;

	if (a->instance) {
		paths->n = 1;
		rc = statspath_instance(STATSPATH_RUNDIR, a->instance, paths->path[0],
					STATSPATH_LEN);
	} else
		rc = statspath_candidates(a->socket, getenv("PIPECAST_SOCKET"),
					  getenv("XDG_RUNTIME_DIR"),
					  (unsigned long)getuid(), paths);
	if (rc < 0)
		ctl_warn("socket path too long");
	return rc;
}

/* Parses, then runs a one-shot command, watch or list; exit status 0, 1 or 2. */
int main(int argc, char **argv)
{
	struct args a = {
		.timeout_ms = TIMEOUT_DEFAULT_MS,
		.watch = { .interval_ms = 1000 },
	};
	struct statspath_list paths;
	int rc, cmd;

	if ((rc = parse_options(argc, argv, &a, &cmd)) >= 0 ||
	    (rc = parse_command(argc, argv, cmd, &a)) >= 0 ||
	    (rc = build_line(&a)) >= 0)
		return finish_stdout(rc);
	if (a.cmd->arg == ARG_PUBLISH)
		return publish_run(a.arg, &a.url, a.maxlen, a.timeout_ms);
	if (a.cmd->arg == ARG_LIST)
		return finish_stdout(list_run(a.timeout_ms));
	if (find_paths(&a, &paths) < 0)
		return CTL_EXIT_FAIL;
	a.watch.timeout_ms = a.timeout_ms;
	rc = a.cmd->arg == ARG_WATCH ? watch_run(&paths, &a.watch)
				     : run_once(&paths, &a);
	return finish_stdout(rc);
}

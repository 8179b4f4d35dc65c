/* config.h: the configuration as pipecast.conf(5) defines it: defaults, the ini file, the
 * -o overrides, and every validation rule. Pure library: errors are collected
 * into a list for the caller to print; nothing here logs or exits. */
#ifndef PIPECAST_CONFIG_H
#define PIPECAST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "tokens.h"
#include "unixallow.h"

enum src_input { SRC_STDIN, SRC_FIFO, SRC_EXEC, SRC_SSE, SRC_REDIS };
enum src_framing { FRAMING_LINE, FRAMING_RAW };
enum src_on_idle { ON_IDLE_LOG, ON_IDLE_EXIT, ON_IDLE_RESTART };
enum src_on_eof { ON_EOF_EXIT, ON_EOF_REOPEN, ON_EOF_RESTART };
enum overflow_policy { OVERFLOW_DROP, OVERFLOW_SKIP };
/* Ordered from most to least severe: a message is shown when its level is
 * <= the configured one. */
enum log_level { LL_ERROR, LL_WARNING, LL_NOTICE, LL_INFO, LL_DEBUG };

#define CONFIG_LINE_MAX 4096      /* longest accepted file line, newline excluded */
#define HEARTBEAT_LINE_MAX 1024
#define NOTICE_PREFIX_MAX 256
#define PREAMBLE_MAX 64
/* [source] idle_timeout's default for the upstreams (sse:, redis:). */
#define UPSTREAM_IDLE_MS (60 * 1000)

struct config_source {
	enum src_input input;
	char *input_arg;          /* FIFO path or command; NULL for stdin; the
				   * whole value for sse: and redis: */
	enum src_framing framing;
	uint64_t max_line;        /* bytes, newline included */
	uint64_t idle_timeout_ms; /* 0 = off; resolved like on_eof */
	enum src_on_idle on_idle; /* resolved like on_eof */
	enum src_on_eof on_eof;   /* resolved: the input's default when not set */
	bool on_eof_given;        /* set by the file or -o, else it follows input */
	bool on_idle_given;       /* the same for on_idle */
	bool idle_timeout_given;  /* the same for idle_timeout */
	uint64_t restart_delay_ms;
	unsigned fifo_mode;
};

struct config_clients {
	char **listen;            /* "tcp:HOST:PORT", "tcp:[V6]:PORT", "unix:PATH", "systemd:NAME" */
	size_t n_listen;
	unsigned unix_mode;
	uint64_t max_clients;
	uint64_t idle_timeout_ms; /* 0 = off */
	uint64_t send_timeout_ms; /* 0 = off */
	uint64_t buffer;          /* ring size in bytes */
	enum overflow_policy overflow;
	uint64_t backlog;         /* bytes */
	uint64_t heartbeat_ms;    /* 0 = off */
	char *heartbeat_line;     /* never NULL; "" means a bare newline */
	uint64_t tcp_keepalive_ms; /* 0 = off; probes after this much quiet */
	uint64_t preamble;        /* records kept for new clients; 0 = off */
	unsigned notices;         /* 1: notice lines in the stream */
	char *notice_prefix;      /* never NULL */
};

/* [http]: HTTP/1.1 listeners (pipecast.conf(5)). listen and n_listen are
 * laid out as in struct config_clients: the list keys share their code. */
enum onoff { ONOFF_ON, ONOFF_OFF };
#define CORS_ORIGIN_MAX 256

struct config_http {
	char **listen;            /* as clients.listen; none by default */
	size_t n_listen;
	enum onoff page;
	enum onoff metrics;
	uint64_t keepalive_ms;    /* 0 = off */
	uint64_t retry_ms;
	char *cors_origin;        /* never NULL; "" sends none */
	uint64_t request_timeout_ms;
};

struct config_stats {
	char *socket;             /* NULL: the default path order of pipecast.conf(5), resolved by the daemon */
	unsigned mode;
	uint64_t idle_timeout_ms; /* 0 = off */
	uint64_t max_connections;
};

struct config_daemon {
	enum log_level log_level;
	uint64_t shutdown_timeout_ms;
};

/* [access]. Each list is kept as written (char **X; size_t n_X, the count
 * right after its list) and parsed once the file and the overrides are
 * read: X_rules[i] is the rule of X[i]. */
struct config_access {
	char **allow;             /* default: all */
	size_t n_allow;
	char **deny;
	size_t n_deny;
	char **unix_allow;        /* default: all */
	size_t n_unix_allow;
	char **metrics_allow;     /* default: 127.0.0.0/8, ::1/128 */
	size_t n_metrics_allow;
	char **trusted_proxies;
	size_t n_trusted_proxies;
	uint64_t max_per_ip;      /* 0 = off */
	char *tokens_file;        /* NULL: no tokens needed */
	uint64_t auth_timeout_ms;
	/* Parsed when loaded; names resolved, the tokens file read. */
	struct cidr *allow_rules, *deny_rules, *metrics_allow_rules, *trusted_proxies_rules;
	struct unixallow *unix_allow_rules;
	struct tokens tokens;     /* n == 0 when tokens_file is NULL */
};

struct config {
	struct config_source source;
	struct config_clients clients;
	struct config_http http;
	struct config_stats stats;
	struct config_daemon daemon;
	struct config_access access;
	char **origin;            /* per key: "FILE:LINE" or "-o"; NULL: default */
};

/* Problems found while loading, one message each, in the order found.
 * Messages have no program prefix and no newline:
 *   "FILE:LINE: [clients] unknown key 'idel_timeout'"
 *   "-o clients.idel_timeout=2s: unknown key 'idel_timeout'"
 *   "FILE: cannot open: No such file or directory" */
struct config_errors {
	char **msg;
	size_t n;
};

/* Fills c with the built-in defaults (needs config_free afterwards).
 * Returns 0, or -1 when out of memory. */
int config_defaults(struct config *c);

/* Builds a configuration: defaults, then FILE (NULL: no file), then each
 * override "SECTION.KEY=VALUE" in order, then the rules that span several
 * keys. On success returns 0 and *out holds the result (config_free it);
 * otherwise returns -1, *out is left zeroed, and errs lists every problem
 * (config_errors_free it either way). errs is overwritten, not appended to;
 * it may be NULL when only success matters. Each call builds a fresh
 * struct (reload calls it again). Sets libinih's process-global switches,
 * so it must not run concurrently with other inih users. */
int config_load(struct config *out, const char *file,
		const char *const *overrides, size_t n_overrides,
		struct config_errors *errs);

void config_free(struct config *c);

/* The first rule spanning several keys that c breaks, as
 * "[section] key: words" in buf, or NULL when c is consistent. */
const char *config_violation(const struct config *c, char *buf, size_t len);
void config_errors_free(struct config_errors *e);

/* A warning about a valid but risky combination (tcp_keepalive not shorter
 * than idle_timeout), in buf, or NULL. */
const char *config_liveness_warning(const struct config *c, char *buf, size_t len);

/* The keys of pipecast.conf(5) in table order, for listings and reload:
 * i runs from 0 to config_key_count() - 1. */
size_t config_key_count(void);
const char *config_key_section(size_t i);
const char *config_key_name(size_t i);
/* Where key i's value in c came from: "default", "FILE:LINE" or "-o". */
const char *config_key_origin(const struct config *c, size_t i);
/* Whether a reload keeps the key's old value until a restart (the unit
 * tests check the table against the manual; reload uses
 * config_keep_restart). Tests only. */
bool config_key_restart(size_t i);
/* Spells key i's value in c as the file would (a list joined by ", ");
 * returns buf. */
const char *config_key_format(const struct config *c, size_t i, char *buf, size_t len);

/* Reload's rule for the keys that need a restart: every such key whose value
 * differs between next and old gets old's value back in next (the two are
 * swapped, so freeing old frees next's discarded values); the defaults that
 * follow another key (on_eof follows input) are then derived again from
 * the values kept. Stores the first
 * max of their indexes in kept and returns how many there were. */
size_t config_keep_restart(struct config *next, struct config *old,
			   size_t *kept, size_t max);

/* Name of a log level as the file spells it ("info"); "?" when invalid. */
const char *config_log_level_name(enum log_level l);

#endif

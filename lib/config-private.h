/* config-private.h: what the three parts of the configuration code share.
 * config-table.c knows every key (its setter, field, range, and whether a
 * reload can apply it), config-rules.c ties keys together, config.c reads
 * the file and the overrides. Nothing outside lib/config*.c includes this. */
#ifndef PIPECAST_CONFIG_PRIVATE_H
#define PIPECAST_CONFIG_PRIVATE_H

#include <stdio.h>

#include "config.h"

enum section_id { SEC_SOURCE, SEC_CLIENTS, SEC_STATS, SEC_DAEMON, SEC_ACCESS, SEC_HTTP,
		  N_SECTIONS,
		  SEC_NONE = -1, SEC_UNKNOWN = -2 };

enum key_id {
	K_INPUT, K_FRAMING, K_MAX_LINE, K_SRC_IDLE, K_ON_IDLE, K_ON_EOF,
	K_RESTART_DELAY, K_FIFO_MODE,
	K_LISTEN, K_UNIX_MODE, K_MAX_CLIENTS, K_CL_IDLE, K_SEND_TIMEOUT,
	K_BUFFER, K_OVERFLOW, K_BACKLOG, K_HEARTBEAT, K_HEARTBEAT_LINE,
	K_TCP_KEEPALIVE, K_PREAMBLE, K_NOTICES, K_NOTICE_PREFIX,
	K_SOCKET, K_STATS_MODE, K_STATS_IDLE, K_MAX_CONNECTIONS,
	K_LOG_LEVEL, K_SHUTDOWN,
	K_ALLOW, K_DENY, K_MAX_PER_IP, K_UNIX_ALLOW, K_TOKENS_FILE, K_AUTH_TIMEOUT,
	K_METRICS_ALLOW, K_TRUSTED_PROXIES,
	K_HTTP_LISTEN, K_PAGE, K_METRICS, K_KEEPALIVE, K_RETRY, K_CORS_ORIGIN,
	K_REQUEST_TIMEOUT,
	N_KEYS
};

/* Where a value came from: a file line or an override. */
struct place {
	const char *file;          /* NULL for an override */
	unsigned line;
	const char *opt;           /* the override as given */
	unsigned long long seq;    /* 0: default; later places are larger */
};

/* State of one config_load run. */
struct loader {
	struct config cfg;
	struct config_errors errs;
	bool oom;
	FILE *fp;
	const char *file;
	unsigned lineno;
	int section;               /* enum section_id */
	int read_errno;
	bool list_fresh[N_KEYS];   /* the next value of a list key replaces the list */
	struct place set_at[N_KEYS];
	char buf[CONFIG_LINE_MAX + 2];
};

struct key_def;

typedef int (*key_setter)(struct loader *l, const struct key_def *k,
			  const char *v, const struct place *p);

/* How a numeric kind is parsed, spelled and named in messages. */
struct num_kind {
	int (*parse)(const char *s, uint64_t *v);
	char *(*format)(uint64_t v, char *buf, size_t len);
	const char *noun;
	const char *hint;          /* the accepted forms, with examples */
};

/* How a key's value is stored in struct config, for comparing, keeping
 * and spelling it without knowing the key. */
enum field_type {
	FT_NUMBER,                 /* uint64_t, spelled by the num_kind */
	FT_ENUM,                   /* unsigned index into names */
	FT_OCTAL,                  /* unsigned mode */
	FT_STRING,                 /* char *, NULL allowed */
	FT_INPUT,                  /* source.input and source.input_arg */
	FT_LIST,                   /* char **X, then size_t n_X right after it */
};

struct key_def {
	int section;
	const char *name;
	key_setter set;
	size_t off;                /* field in struct config */
	enum field_type type;
	const struct num_kind *kind;
	uint64_t min, max;
	bool zero_off;             /* 0 is accepted besides min..max */
	const char *const *names;  /* enum spellings, NULL-terminated */
	bool restart;              /* a reload keeps the old value */
};

extern const char *const config_section_names[N_SECTIONS];
extern const struct key_def config_keys[N_KEYS];
extern const char *const config_on_idle_names[];
extern const char *const config_on_eof_names[];

/* config.c: messages at a place ("FILE:LINE: [sec] key: body"). */
void config_err_at(struct loader *l, const struct place *p,
		   const char *sec, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int config_bad(struct loader *l, const struct place *p,
	       const struct key_def *k, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* config-table.c: lists of strings (FT_LIST fields), shared with the
 * defaults, config-access.c and config_free. */
void config_list_clear(char ***v, size_t *n);
int config_list_append(char ***v, size_t *n, const char *s);
/* Appends v to k's list, replacing the list first when this is the first
 * value of the file (or of the overrides). */
int config_list_add(struct loader *l, const struct key_def *k, const char *v);
/* The next value of every list key replaces its list. */
void config_lists_fresh(struct loader *l);

/* config-access.c: [access] setters, defaults, and what is built once all
 * values are known (rules parsed, the tokens file read and checked). */
int config_set_cidr(struct loader *l, const struct key_def *k, const char *v,
		    const struct place *p);
int config_set_unix_allow(struct loader *l, const struct key_def *k, const char *v,
			  const struct place *p);
int config_set_tokens_file(struct loader *l, const struct key_def *k, const char *v,
			   const struct place *p);
int config_access_defaults(struct config_access *a);
void config_resolve_access(struct loader *l);
void config_access_free(struct config_access *a);

/* config-rules.c: defaults that depend on other keys, and the rules. */
void config_resolve_max_line(struct loader *l);
void config_resolve_on_eof(struct loader *l);
void config_derive_defaults(struct config *c);
void config_check_rules(struct loader *l);

#endif

/* config-table.c: every key of pipecast.conf(5) in one table (section,
 * name, setter, field, range, whether a reload applies it), the setters that
 * parse and check one value each, and the built-in defaults. The reader is
 * config.c, the rules that tie keys together config-rules.c. */
#include "config-private.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "listen.h"
#include "units.h"
#include "upurl.h"

_Static_assert(sizeof(enum src_framing) == sizeof(unsigned),
	       "enum fields are stored through unsigned *");

const char *const config_section_names[N_SECTIONS] = {
	"source", "clients", "stats", "daemon", "access", "http",
};

/* The struct config field a key describes. */
static void *config_field(struct loader *l, const struct key_def *k)
{
	return (char *)&l->cfg + k->off;
}

/* Plain integers in messages, with the signature of the units formatters. */
static char *config_format_uint(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

static const struct num_kind kind_duration = {
	units_parse_duration, units_format_duration, "duration",
	"durations look like 250ms, 30s, 5m, 2h (no fractions, no spaces)" };
static const struct num_kind kind_size = {
	units_parse_size, units_format_size, "size", "sizes look like 64KiB, 4MiB, 1GiB" };
static const struct num_kind kind_uint = {
	units_parse_uint, config_format_uint, "integer", "a whole number such as 100" };

/* Whether v is acceptable for k: in min..max, or 0 where 0 means off. */
static bool config_in_range(const struct key_def *k, uint64_t v)
{
	return (k->zero_off && v == 0) || (v >= k->min && v <= k->max);
}

/* Reports v out of k's range, spelling the range in k's units. */
static int config_out_of_range(struct loader *l, const struct place *p,
			       const struct key_def *k, const char *v)
{
	char lo[32], hi[32];

	k->kind->format(k->min, lo, sizeof(lo));
	k->kind->format(k->max, hi, sizeof(hi));
	return config_bad(l, p, k, "%s out of range (%s%s..%s)", v,
			  k->zero_off ? "0 or " : "", lo, hi);
}

/* Durations, sizes and integers: parse, check the range, store. */
static int config_set_number(struct loader *l, const struct key_def *k,
			     const char *v, const struct place *p)
{
	uint64_t n;
	int rc = k->kind->parse(v, &n);

	if (rc == UNITS_RANGE)
		return config_out_of_range(l, p, k, v);
	if (rc < 0)
		return config_bad(l, p, k, "invalid %s '%s'; %s", k->kind->noun, v,
				  k->kind->hint);
	if (!config_in_range(k, n))
		return config_out_of_range(l, p, k, v);
	*(uint64_t *)config_field(l, k) = n;
	return 0;
}

/* Permission modes such as fifo_mode. */
static int config_set_octal(struct loader *l, const struct key_def *k,
			    const char *v, const struct place *p)
{
	unsigned m;

	if (units_parse_octal(v, &m) < 0)
		return config_bad(l, p, k, "invalid octal mode '%s'", v);
	*(unsigned *)config_field(l, k) = m;
	return 0;
}

/* Keys whose value is one word of a fixed list; stores its index. */
static int config_set_enum(struct loader *l, const struct key_def *k,
			   const char *v, const struct place *p)
{
	char expected[96] = "";

	for (unsigned i = 0; k->names[i]; i++) {
		if (strcmp(v, k->names[i]) == 0) {
			*(unsigned *)config_field(l, k) = i;
			return 0;
		}
	}
	for (unsigned i = 0; k->names[i]; i++)
		snprintf(expected + strlen(expected),
			 sizeof(expected) - strlen(expected), "%s%s",
			 i ? ", " : "", k->names[i]);
	return config_bad(l, p, k, "invalid value '%s' (expected %s)", v,
			  expected);
}

/* Replaces an owned string field; the old value stays on allocation failure. */
static int config_replace_str(struct loader *l, char **field, const char *v)
{
	char *s = NULL;

	if (v && !(s = pc_strdup(v))) {
		l->oom = true;
		return -1;
	}
	pc_free(*field);
	*field = s;
	return 0;
}

/* source.input = sse:... or redis:...: the whole value is kept, checked by
 * the parser the daemon uses (pipecast.conf(5), "Upstream sources"). */
static int config_set_upstream(struct loader *l, const struct key_def *k,
			       const char *v, const struct place *p)
{
	struct upurl u;
	const char *why;

	if (upurl_parse(v, &u, &why) < 0)
		return config_bad(l, p, k, "invalid input '%s': %s", v, why);
	if (u.history)
		return config_bad(l, p, k, "invalid input '%s': ?history= is not supported by "
				  "this version (a client resuming past the ring gets a gap "
				  "notice)", v);
	if (config_replace_str(l, &l->cfg.source.input_arg, v) < 0)
		return -1;
	l->cfg.source.input = u.kind == UPURL_SSE ? SRC_SSE : SRC_REDIS;
	return 0;
}

/* source.input: stdin, fifo:PATH or exec:COMMAND. */
static int config_set_input(struct loader *l, const struct key_def *k,
			    const char *v, const struct place *p)
{
	static const struct { const char *prefix; enum src_input in; } forms[] = {
		{ "fifo:", SRC_FIFO }, { "exec:", SRC_EXEC },
	};

	if (strcmp(v, "stdin") == 0) {
		l->cfg.source.input = SRC_STDIN;
		return config_replace_str(l, &l->cfg.source.input_arg, NULL);
	}
	if (upurl_is(v))
		return config_set_upstream(l, k, v, p);
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		size_t n = strlen(forms[i].prefix);

		if (strncmp(v, forms[i].prefix, n) != 0 || !v[n])
			continue;
		if (config_replace_str(l, &l->cfg.source.input_arg, v + n) < 0)
			return -1;
		l->cfg.source.input = forms[i].in;
		return 0;
	}
	return config_bad(l, p, k, "invalid input '%s' (expected stdin, "
			  "fifo:PATH, exec:COMMAND, sse:http://HOST:PORT/PATH or "
			  "redis:HOST:PORT/KEY)", v);
}

/* Checks one clients.listen value; returns why it is bad, or NULL. */
static const char *config_check_listen(const char *v)
{
	struct listen_spec spec;
	const char *why;

	return listen_parse(v, &spec, &why) < 0 ? why : NULL;
}

/* Empties a list of strings. */
void config_list_clear(char ***v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		pc_free((*v)[i]);
	pc_free(*v);
	*v = NULL;
	*n = 0;
}

/* Appends a copy of s to a list of strings. */
int config_list_append(char ***v, size_t *n, const char *s)
{
	char *copy = pc_strdup(s);
	char **list = copy ? pc_realloc(*v, (*n + 1) * sizeof(*list)) : NULL;

	if (!list) {
		pc_free(copy);
		return -1;
	}
	list[(*n)++] = copy;
	*v = list;
	return 0;
}

/* The list and count fields of an FT_LIST key (the count follows the list). */
static void config_list_fields(const struct config *c, const struct key_def *k,
			       char ****v, size_t **n)
{
	char *base = (char *)c + k->off;

	*v = (char ***)(void *)base;
	*n = (size_t *)(void *)(base + sizeof(char **));
}

/* Repeatable keys: the first value of the file replaces the default, the
 * first override replaces the file's list. */
int config_list_add(struct loader *l, const struct key_def *k, const char *v)
{
	char ***list;
	size_t *n;

	config_list_fields(&l->cfg, k, &list, &n);
	if (l->list_fresh[k - config_keys])
		config_list_clear(list, n);
	l->list_fresh[k - config_keys] = false;
	if (config_list_append(list, n, v) < 0) {
		l->oom = true;
		return -1;
	}
	return 0;
}

/* Before the file, and again before the overrides. */
void config_lists_fresh(struct loader *l)
{
	for (size_t i = 0; i < N_KEYS; i++)
		l->list_fresh[i] = true;
}

/* clients.listen and http.listen: repeatable; the first one of the file
 * replaces the default, the first override replaces the file's list.
 * clients.listen = none empties the list (allowed with an HTTP listener). */
static int config_set_listen(struct loader *l, const struct key_def *k,
			     const char *v, const struct place *p)
{
	bool none = strcmp(v, "none") == 0 && k == &config_keys[K_LISTEN];
	const char *why = none ? NULL : config_check_listen(v);

	if (why)
		return config_bad(l, p, k, "invalid address '%s': %s", v, why);
	if (none) {
		char ***list;
		size_t *n;

		config_list_fields(&l->cfg, k, &list, &n);
		config_list_clear(list, n);
		l->list_fresh[k - config_keys] = false;
		return 0;
	}
	return config_list_add(l, k, v);
}

/* http.cors_origin: free text on one line, at most 256 bytes. */
static int config_set_cors_origin(struct loader *l, const struct key_def *k,
				  const char *v, const struct place *p)
{
	size_t n = strlen(v);

	if (n > CORS_ORIGIN_MAX)
		return config_bad(l, p, k, "%zu bytes, more than %d", n, CORS_ORIGIN_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return config_bad(l, p, k, "must not contain control characters");
	return config_replace_str(l, &l->cfg.http.cors_origin, v);
}

/* Text keys (heartbeat_line, notice_prefix): one line, possibly empty, at
 * most k->max bytes. */
static int config_set_text(struct loader *l, const struct key_def *k,
			   const char *v, const struct place *p)
{
	size_t n = strlen(v);
	char quoted[NOTICE_PREFIX_MAX + 1];

	/* notice_prefix may be quoted to keep its trailing blank */
	if (k == &config_keys[K_NOTICE_PREFIX] && n >= 2 && v[0] == '"' && v[n - 1] == '"' &&
	    n - 2 <= NOTICE_PREFIX_MAX) {
		snprintf(quoted, sizeof(quoted), "%.*s", (int)(n - 2), v + 1);
		v = quoted;
		n -= 2;
	}

	if (n > k->max)
		return config_bad(l, p, k, "%zu bytes, more than %llu", n,
				  (unsigned long long)k->max);
	if (strchr(v, '\n'))
		return config_bad(l, p, k, "must not contain a newline");
	return config_replace_str(l, config_field(l, k), v);
}

/* stats.socket: a Unix socket path or systemd:NAME. */
static int config_set_socket(struct loader *l, const struct key_def *k,
			     const char *v, const struct place *p)
{
	const char *why = strncmp(v, "systemd:", 8) == 0 ?
		listen_check_name(v + 8) : listen_check_path(v);

	if (why)
		return config_bad(l, p, k, "invalid socket '%s': %s", v, why);
	return config_replace_str(l, &l->cfg.stats.socket, v);
}

#define MS(x) ((uint64_t)(x))
#define SEC(x) (MS(x) * 1000)
#define DAY(x) (SEC(x) * 86400)
#define KIB(x) ((uint64_t)(x) * 1024)
#define MIB(x) (KIB(x) * 1024)
#define GIB(x) (MIB(x) * 1024)
#define F(field) offsetof(struct config, field)
#define NUM(field, kd, lo, hi, off0) \
	config_set_number, F(field), FT_NUMBER, &kd, lo, hi, off0, NULL
#define ENUM(field, names) config_set_enum, F(field), FT_ENUM, NULL, 0, 0, false, names
#define OCTAL(field) config_set_octal, F(field), FT_OCTAL, NULL, 0, 0, false, NULL
#define CUSTOM(setter, field, type) setter, F(field), type, NULL, 0, 0, false, NULL
#define LIST(setter, field) setter, F(field), FT_LIST, NULL, 0, 0, false, NULL
#define TEXT(field, most) config_set_text, F(field), FT_STRING, NULL, 0, most, false, NULL
#define RESTART .restart = true
#define APPLIED .restart = false

/* How show config spells an input before its argument (an upstream's
 * argument is the whole value). */
static const char *const input_prefixes[] = {
	[SRC_STDIN] = "stdin", [SRC_FIFO] = "fifo:", [SRC_EXEC] = "exec:",
	[SRC_SSE] = "", [SRC_REDIS] = "",
};
static const char *const framing_names[] = { "line", "raw", NULL };
const char *const config_on_idle_names[] = { "log", "exit", "restart", NULL };
const char *const config_on_eof_names[] = { "exit", "reopen", "restart", NULL };
static const char *const overflow_names[] = { "drop", "skip", NULL };
static const char *const off_on_names[] = { "off", "on", NULL };
static const char *const onoff_names[] = { "on", "off", NULL };
static const char *const log_level_names[] = {
	"error", "warning", "notice", "info", "debug", NULL };

/* Every key of pipecast.conf(5): its setter, field, range, and whether a
 * reload applies it (RESTART: the old value stays until a restart). */
const struct key_def config_keys[N_KEYS] = {
	[K_INPUT] = { SEC_SOURCE, "input",
		CUSTOM(config_set_input, source.input, FT_INPUT), RESTART },
	[K_FRAMING] = { SEC_SOURCE, "framing",
		ENUM(source.framing, framing_names), RESTART },
	[K_MAX_LINE] = { SEC_SOURCE, "max_line",
		NUM(source.max_line, kind_size, 16, MIB(16), false),
		RESTART },
	[K_SRC_IDLE] = { SEC_SOURCE, "idle_timeout",
		NUM(source.idle_timeout_ms, kind_duration, MS(10), DAY(30), true), APPLIED },
	[K_ON_IDLE] = { SEC_SOURCE, "on_idle",
		ENUM(source.on_idle, config_on_idle_names), APPLIED },
	[K_ON_EOF] = { SEC_SOURCE, "on_eof", ENUM(source.on_eof, config_on_eof_names), APPLIED },
	[K_RESTART_DELAY] = { SEC_SOURCE, "restart_delay",
		NUM(source.restart_delay_ms, kind_duration, MS(10), SEC(3600), false), APPLIED },
	[K_FIFO_MODE] = { SEC_SOURCE, "fifo_mode",
		OCTAL(source.fifo_mode), RESTART },
	[K_LISTEN] = { SEC_CLIENTS, "listen",
		LIST(config_set_listen, clients.listen), APPLIED },
	[K_UNIX_MODE] = { SEC_CLIENTS, "unix_mode", OCTAL(clients.unix_mode), APPLIED },
	[K_MAX_CLIENTS] = { SEC_CLIENTS, "max_clients",
		NUM(clients.max_clients, kind_uint, 1, 1000000, false), APPLIED },
	[K_CL_IDLE] = { SEC_CLIENTS, "idle_timeout",
		NUM(clients.idle_timeout_ms, kind_duration, MS(10), DAY(30), true), APPLIED },
	[K_SEND_TIMEOUT] = { SEC_CLIENTS, "send_timeout",
		NUM(clients.send_timeout_ms, kind_duration, MS(10), DAY(30), true), APPLIED },
	[K_BUFFER] = { SEC_CLIENTS, "buffer",
		NUM(clients.buffer, kind_size, KIB(64), GIB(1), false),
		RESTART },
	[K_OVERFLOW] = { SEC_CLIENTS, "overflow",
		ENUM(clients.overflow, overflow_names), APPLIED },
	[K_BACKLOG] = { SEC_CLIENTS, "backlog", /* upper bound: config_rules */
		NUM(clients.backlog, kind_size, 0, UINT64_MAX, false), APPLIED },
	[K_HEARTBEAT] = { SEC_CLIENTS, "heartbeat",
		NUM(clients.heartbeat_ms, kind_duration, MS(10), DAY(1), true), APPLIED },
	[K_HEARTBEAT_LINE] = { SEC_CLIENTS, "heartbeat_line",
		TEXT(clients.heartbeat_line, HEARTBEAT_LINE_MAX), APPLIED },
	[K_TCP_KEEPALIVE] = { SEC_CLIENTS, "tcp_keepalive",
		NUM(clients.tcp_keepalive_ms, kind_duration, SEC(1), SEC(7200), true), APPLIED },
	[K_PREAMBLE] = { SEC_CLIENTS, "preamble",   /* allocated at start-up */
		NUM(clients.preamble, kind_uint, 1, PREAMBLE_MAX, true), RESTART },
	[K_NOTICES] = { SEC_CLIENTS, "notices", ENUM(clients.notices, off_on_names), APPLIED },
	[K_NOTICE_PREFIX] = { SEC_CLIENTS, "notice_prefix",
		TEXT(clients.notice_prefix, NOTICE_PREFIX_MAX), APPLIED },
	[K_SOCKET] = { SEC_STATS, "socket",
		CUSTOM(config_set_socket, stats.socket, FT_STRING), RESTART },
	[K_STATS_MODE] = { SEC_STATS, "mode", OCTAL(stats.mode), APPLIED },
	[K_STATS_IDLE] = { SEC_STATS, "idle_timeout",
		NUM(stats.idle_timeout_ms, kind_duration, MS(100), DAY(1), true), APPLIED },
	[K_MAX_CONNECTIONS] = { SEC_STATS, "max_connections",
		NUM(stats.max_connections, kind_uint, 1, 10000, false), APPLIED },
	[K_LOG_LEVEL] = { SEC_DAEMON, "log_level",
		ENUM(daemon.log_level, log_level_names), APPLIED },
	[K_SHUTDOWN] = { SEC_DAEMON, "shutdown_timeout",
		NUM(daemon.shutdown_timeout_ms, kind_duration, 0, SEC(3600), false), APPLIED },
	[K_ALLOW] = { SEC_ACCESS, "allow", LIST(config_set_cidr, access.allow), APPLIED },
	[K_DENY] = { SEC_ACCESS, "deny", LIST(config_set_cidr, access.deny), APPLIED },
	[K_MAX_PER_IP] = { SEC_ACCESS, "max_per_ip",
		NUM(access.max_per_ip, kind_uint, 1, 100000, true), APPLIED },
	[K_UNIX_ALLOW] = { SEC_ACCESS, "unix_allow",
		LIST(config_set_unix_allow, access.unix_allow), APPLIED },
	[K_TOKENS_FILE] = { SEC_ACCESS, "tokens_file",
		CUSTOM(config_set_tokens_file, access.tokens_file, FT_STRING), APPLIED },
	[K_AUTH_TIMEOUT] = { SEC_ACCESS, "auth_timeout",
		NUM(access.auth_timeout_ms, kind_duration, MS(100), SEC(60), false), APPLIED },
	[K_METRICS_ALLOW] = { SEC_ACCESS, "metrics_allow",
		LIST(config_set_cidr, access.metrics_allow), APPLIED },
	[K_TRUSTED_PROXIES] = { SEC_ACCESS, "trusted_proxies",
		LIST(config_set_cidr, access.trusted_proxies), APPLIED },
	[K_HTTP_LISTEN] = { SEC_HTTP, "listen", LIST(config_set_listen, http.listen), APPLIED },
	[K_PAGE] = { SEC_HTTP, "page", ENUM(http.page, onoff_names), APPLIED },
	[K_METRICS] = { SEC_HTTP, "metrics", ENUM(http.metrics, onoff_names), APPLIED },
	[K_KEEPALIVE] = { SEC_HTTP, "keepalive",
		NUM(http.keepalive_ms, kind_duration, SEC(1), SEC(3600), true), APPLIED },
	[K_RETRY] = { SEC_HTTP, "retry",
		NUM(http.retry_ms, kind_duration, MS(100), SEC(3600), false), APPLIED },
	[K_CORS_ORIGIN] = { SEC_HTTP, "cors_origin",
		CUSTOM(config_set_cors_origin, http.cors_origin, FT_STRING), APPLIED },
	[K_REQUEST_TIMEOUT] = { SEC_HTTP, "request_timeout",
		NUM(http.request_timeout_ms, kind_duration, MS(100), SEC(300), false), APPLIED },
};

/* Every list's count follows the list (config_list_fields relies on it). */
#define LIST_PAIR(list, count) _Static_assert(offsetof(struct config, count) == \
	offsetof(struct config, list) + sizeof(char **), #count " must follow " #list)
LIST_PAIR(clients.listen, clients.n_listen);
LIST_PAIR(access.allow, access.n_allow);
LIST_PAIR(access.deny, access.n_deny);
LIST_PAIR(access.unix_allow, access.n_unix_allow);
LIST_PAIR(access.metrics_allow, access.n_metrics_allow);
LIST_PAIR(access.trusted_proxies, access.n_trusted_proxies);
LIST_PAIR(http.listen, http.n_listen);

/* The built-in defaults of pipecast.conf(5). */
int config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->source = (struct config_source){
		.input = SRC_STDIN, .framing = FRAMING_LINE, .max_line = KIB(64),
		.on_idle = ON_IDLE_LOG, .on_eof = ON_EOF_EXIT,
		.restart_delay_ms = SEC(1), .fifo_mode = 0620,
	};
	c->clients = (struct config_clients){
		.unix_mode = 0666, .max_clients = 10000,
		.idle_timeout_ms = SEC(300), .send_timeout_ms = SEC(30),
		.buffer = MIB(4), .overflow = OVERFLOW_DROP,
		.heartbeat_line = pc_strdup(""), .tcp_keepalive_ms = SEC(60),
		.notice_prefix = pc_strdup("# pipecast: "),
	};
	c->http = (struct config_http){
		.page = ONOFF_ON, .metrics = ONOFF_ON, .keepalive_ms = SEC(15),
		.retry_ms = SEC(2), .cors_origin = pc_strdup(""),
		.request_timeout_ms = SEC(10),
	};
	c->stats = (struct config_stats){
		.mode = 0660, .idle_timeout_ms = SEC(60), .max_connections = 64,
	};
	c->daemon = (struct config_daemon){
		.log_level = LL_INFO, .shutdown_timeout_ms = SEC(5),
	};
	c->access.auth_timeout_ms = SEC(5);
	if (c->clients.heartbeat_line && c->clients.notice_prefix && c->http.cors_origin &&
	    config_list_append(&c->clients.listen, &c->clients.n_listen,
			       "tcp:127.0.0.1:7070") == 0 &&
	    config_access_defaults(&c->access) == 0)
		return 0;
	config_free(c);
	return -1;
}

/* For logs and `-t` output: the file's spelling of a log level. */
const char *config_log_level_name(enum log_level lv)
{
	if ((unsigned)lv >= sizeof(log_level_names) / sizeof(log_level_names[0]) - 1)
		return "?";
	return log_level_names[lv];
}

/* ---- keys as data: listing, spelling, keeping -------------------------- */

/* For callers that walk every key (reload, listings). */
size_t config_key_count(void)
{
	return N_KEYS;
}

/* The section a key belongs to, as the file spells it. */
const char *config_key_section(size_t i)
{
	return i < N_KEYS ? config_section_names[config_keys[i].section] : NULL;
}

/* The key's name, as the file spells it. */
const char *config_key_name(size_t i)
{
	return i < N_KEYS ? config_keys[i].name : NULL;
}

/* Where a key's value came from. */
const char *config_key_origin(const struct config *c, size_t i)
{
	return i < N_KEYS && c->origin && c->origin[i] ? c->origin[i] : "default";
}

/* Whether a reload keeps the old value of the key. */
bool config_key_restart(size_t i)
{
	return i < N_KEYS && config_keys[i].restart;
}

/* A key's field in a configuration, read-only. */
static const void *config_field_in(const struct config *c, const struct key_def *k)
{
	return (const char *)c + k->off;
}

/* Appends one formatted piece to buf, cutting at len. */
static void config_buf_add(char *buf, size_t len, const char *a, const char *b)
{
	size_t n = strlen(buf);

	if (n < len)
		snprintf(buf + n, len - n, "%s%s", a, b ? b : "");
}

/* Spells a key's value as the file would (a list joined by ", "). */
const char *config_key_format(const struct config *c, size_t i, char *buf, size_t len)
{
	const struct key_def *k = &config_keys[i];
	const void *f = config_field_in(c, k);

	buf[0] = '\0';
	switch (k->type) {
	case FT_NUMBER:
		return k->kind->format(*(const uint64_t *)f, buf, len);
	case FT_ENUM:
		config_buf_add(buf, len, k->names[*(const unsigned *)f], NULL);
		break;
	case FT_OCTAL:
		snprintf(buf, len, "%04o", *(const unsigned *)f);
		break;
	case FT_STRING:
		config_buf_add(buf, len, "", *(char *const *)f);
		break;
	case FT_INPUT:
		config_buf_add(buf, len, input_prefixes[c->source.input], c->source.input_arg);
		break;
	case FT_LIST: {
		char ***v;
		size_t *n;

		config_list_fields(c, k, &v, &n);
		for (size_t j = 0; j < *n; j++)
			config_buf_add(buf, len, j ? ", " : "", (*v)[j]);
		break;
	}
	}
	return buf;
}

/* Whether two strings differ (NULL is a value of its own). */
static bool config_str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

/* Whether a key has different values in a and b. */
static bool config_key_differs(const struct config *a, const struct config *b,
			       const struct key_def *k)
{
	const void *fa = config_field_in(a, k), *fb = config_field_in(b, k);

	switch (k->type) {
	case FT_NUMBER:
		return *(const uint64_t *)fa != *(const uint64_t *)fb;
	case FT_ENUM:
	case FT_OCTAL:
		return *(const unsigned *)fa != *(const unsigned *)fb;
	case FT_STRING:
		return config_str_differs(*(char *const *)fa, *(char *const *)fb);
	case FT_INPUT:
		return a->source.input != b->source.input ||
		       config_str_differs(a->source.input_arg, b->source.input_arg);
	case FT_LIST: {
		char ***va, ***vb;
		size_t *na, *nb;

		config_list_fields(a, k, &va, &na);
		config_list_fields(b, k, &vb, &nb);
		if (*na != *nb)
			return true;
		for (size_t j = 0; j < *na; j++)
			if (strcmp((*va)[j], (*vb)[j]) != 0)
				return true;
		return false;
	}
	}
	return false;
}

/* Exchanges n bytes at two places. */
static void config_swap_bytes(void *a, void *b, size_t n)
{
	unsigned char *x = a, *y = b, t;

	for (size_t i = 0; i < n; i++) {
		t = x[i];
		x[i] = y[i];
		y[i] = t;
	}
}

/* Exchanges a key's value between a and b (owned strings move along). */
static void config_key_swap(struct config *a, struct config *b, const struct key_def *k)
{
	static const size_t size[] = {
		[FT_NUMBER] = sizeof(uint64_t), [FT_ENUM] = sizeof(unsigned),
		[FT_OCTAL] = sizeof(unsigned), [FT_STRING] = sizeof(char *),
	};

	switch (k->type) {
	case FT_INPUT:
		config_swap_bytes(&a->source.input, &b->source.input, sizeof(a->source.input));
		config_swap_bytes(&a->source.input_arg, &b->source.input_arg, sizeof(char *));
		break;
	case FT_LIST:
		config_swap_bytes((char *)a + k->off, (char *)b + k->off,
				  sizeof(char **) + sizeof(size_t));
		break;
	default:
		config_swap_bytes((char *)a + k->off, (char *)b + k->off, size[k->type]);
	}
}

/* Puts back old's value of every restart-only key that next changes: see
 * config.h. */
size_t config_keep_restart(struct config *next, struct config *old,
			   size_t *kept, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key_def *k = &config_keys[i];

		if (!k->restart || !config_key_differs(next, old, k))
			continue;
		config_key_swap(next, old, k);
		if (next->origin && old->origin)
			config_swap_bytes(&next->origin[i], &old->origin[i], sizeof(char *));
		if (n < max)
			kept[n] = i;
		n++;
	}
	config_derive_defaults(next);
	return n;
}

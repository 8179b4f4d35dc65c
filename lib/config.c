/* config.c: defaults, the ini file, the -o overrides and every validation
 * rule of SPEC "Configuration file". Errors are collected, never logged.
 *
 * How the file is read. Debian's libinih (r55) is used through
 * ini_parse_stream() with a reader of our own, because on its own it
 *  - cuts lines at its fixed 200-byte stack buffer (whatever ini_max_line
 *    says) and carries the rest over as further lines, shifting later line
 *    numbers;
 *  - reads indented lines as continuations and " ;" as an inline comment
 *    (both switched off below through its runtime globals);
 *  - accepts "key: value";
 *  - never calls the handler for an empty section.
 * The reader (config_reader_next) therefore takes each raw line of the file
 * itself, counts lines, strips "\n" and "\r", rejects lines over
 * CONFIG_LINE_MAX bytes, NUL bytes and colon syntax, and handles every
 * section header itself, so an empty unknown section is still reported and
 * the current section is always known (the handler's section argument is
 * ignored). It hands inih exactly one string per file line so inih's line
 * numbers stay the file's: a well-formed "key = value" line that fits inih's
 * buffer is passed on and inih calls config_ini_handler(); every other line
 * (blank, comment, header, error, or a key line too long for inih's buffer,
 * which the reader splits and dispatches to the same setter) becomes "".
 *
 * Keys are one table (config_keys): section, name, setter, field offset and
 * range. Rules that span several keys are a second table (config_rules);
 * they run after the file and the overrides, and each problem is reported at
 * the place of whichever key of the combination was set last. */
#define INI_HANDLER_LINENO 1
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "listen.h"
#include "units.h"

/* Order of places: file lines count from 1, overrides come after them. */
#define OVERRIDE_SEQ (1ULL << 32)

_Static_assert(sizeof(enum src_framing) == sizeof(unsigned),
	       "enum fields are stored through unsigned *");

enum section_id { SEC_SOURCE, SEC_CLIENTS, SEC_STATS, SEC_DAEMON, N_SECTIONS,
		  SEC_NONE = -1, SEC_UNKNOWN = -2 };

static const char *const section_names[N_SECTIONS] = {
	"source", "clients", "stats", "daemon",
};

enum key_id {
	K_INPUT, K_FRAMING, K_MAX_LINE, K_SRC_IDLE, K_ON_IDLE, K_ON_EOF,
	K_RESTART_DELAY, K_FIFO_MODE,
	K_LISTEN, K_UNIX_MODE, K_MAX_CLIENTS, K_CL_IDLE, K_SEND_TIMEOUT,
	K_BUFFER, K_OVERFLOW, K_BACKLOG, K_HEARTBEAT, K_HEARTBEAT_LINE,
	K_SOCKET, K_STATS_MODE, K_STATS_IDLE, K_MAX_CONNECTIONS,
	K_LOG_LEVEL, K_SHUTDOWN,
	N_KEYS
};

/* Where a value came from: a file line or an override. */
struct place {
	const char *file;          /* NULL for an override */
	unsigned line;
	const char *opt;           /* the override as given */
	unsigned long long seq;    /* 0: default; later places are larger */
};

struct key_def;

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
	bool listen_replace;       /* the next listen replaces the list */
	struct place set_at[N_KEYS];
	char buf[CONFIG_LINE_MAX + 2];
};

typedef int (*key_setter)(struct loader *l, const struct key_def *k,
			  const char *v, const struct place *p);

/* How a numeric kind is parsed, spelled and named in messages. */
struct num_kind {
	int (*parse)(const char *s, uint64_t *v);
	char *(*format)(uint64_t v, char *buf, size_t len);
	const char *noun;
};

struct key_def {
	int section;
	const char *name;
	key_setter set;
	size_t off;                /* field in struct config */
	const struct num_kind *kind;
	uint64_t min, max;
	bool zero_off;             /* 0 is accepted besides min..max */
	const char *const *names;  /* enum spellings, NULL-terminated */
};

/* ---- messages ---------------------------------------------------------- */

/* vsnprintf into a fresh counted allocation. */
static char *config_vfmt(const char *fmt, va_list ap)
{
	va_list aq;
	int n;
	char *s;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return NULL;
	s = pc_malloc((size_t)n + 1);
	if (s)
		vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

/* Appends a message (ownership taken) to the error list. */
static void config_err_push(struct loader *l, char *msg)
{
	char **v;

	if (!msg) {
		l->oom = true;
		return;
	}
	v = pc_realloc(l->errs.msg, (l->errs.n + 1) * sizeof(*v));
	if (!v) {
		pc_free(msg);
		l->oom = true;
		return;
	}
	v[l->errs.n++] = msg;
	l->errs.msg = v;
}

/* Records a message that is complete as formatted. */
__attribute__((format(printf, 2, 3)))
static void config_err(struct loader *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_err_push(l, config_vfmt(fmt, ap));
	va_end(ap);
}

/* Records a message at a place: "FILE:LINE: [sec] key: body" for the file
 * (sec and key optional), "-o TEXT: body" for an override, whose text
 * already names section and key. */
__attribute__((format(printf, 5, 6)))
static void config_err_at(struct loader *l, const struct place *p,
			  const char *sec, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *body;

	va_start(ap, fmt);
	body = config_vfmt(fmt, ap);
	va_end(ap);
	if (!body) {
		l->oom = true;
		return;
	}
	if (!p->file && !p->opt)   /* defaults alone never break a rule */
		config_err(l, "built-in defaults: %s", body);
	else if (!p->file)
		config_err(l, "-o %s: %s", p->opt, body);
	else
		config_err(l, "%s:%u: %s%s%s%s%s%s", p->file, p->line,
			   sec ? "[" : "", sec ? sec : "", sec ? "] " : "",
			   key ? key : "", key ? ": " : "", body);
	pc_free(body);
}

/* Reports a problem with one key's value; always returns -1 for setters. */
__attribute__((format(printf, 4, 5)))
static int config_bad(struct loader *l, const struct place *p,
		      const struct key_def *k, const char *fmt, ...)
{
	va_list ap;
	char *body;

	va_start(ap, fmt);
	body = config_vfmt(fmt, ap);
	va_end(ap);
	if (!body) {
		l->oom = true;
		return -1;
	}
	config_err_at(l, p, section_names[k->section], k->name, "%s", body);
	pc_free(body);
	return -1;
}

/* ---- setters ----------------------------------------------------------- */

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
	units_parse_duration, units_format_duration, "duration" };
static const struct num_kind kind_size = {
	units_parse_size, units_format_size, "size" };
static const struct num_kind kind_uint = {
	units_parse_uint, config_format_uint, "integer" };

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

	if (k->kind->parse(v, &n) < 0)
		return config_bad(l, p, k, "invalid %s '%s'", k->kind->noun, v);
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
			  "fifo:PATH or exec:COMMAND)", v);
}

/* Checks one clients.listen value; returns why it is bad, or NULL. */
static const char *config_check_listen(const char *v)
{
	struct listen_spec spec;
	const char *why;

	return listen_parse(v, &spec, &why) < 0 ? why : NULL;
}

/* Empties the listen list. */
static void config_clear_listen(struct config_clients *c)
{
	for (size_t i = 0; i < c->n_listen; i++)
		pc_free(c->listen[i]);
	pc_free(c->listen);
	c->listen = NULL;
	c->n_listen = 0;
}

/* Appends one entry to the listen list. */
static int config_append_listen(struct config_clients *c, const char *v)
{
	char *s = pc_strdup(v);
	char **list = s ? pc_realloc(c->listen, (c->n_listen + 1) * sizeof(*list))
			: NULL;

	if (!list) {
		pc_free(s);
		return -1;
	}
	list[c->n_listen++] = s;
	c->listen = list;
	return 0;
}

/* clients.listen: repeatable; the first one of the file replaces the
 * default, the first override replaces the file's list. */
static int config_set_listen(struct loader *l, const struct key_def *k,
			     const char *v, const struct place *p)
{
	const char *why = config_check_listen(v);

	if (why)
		return config_bad(l, p, k, "invalid address '%s': %s", v, why);
	if (l->listen_replace)
		config_clear_listen(&l->cfg.clients);
	l->listen_replace = false;
	if (config_append_listen(&l->cfg.clients, v) < 0) {
		l->oom = true;
		return -1;
	}
	return 0;
}

/* clients.heartbeat_line: free text, possibly empty, at most 1 KiB. */
static int config_set_heartbeat_line(struct loader *l, const struct key_def *k,
				     const char *v, const struct place *p)
{
	size_t n = strlen(v);

	if (n > HEARTBEAT_LINE_MAX)
		return config_bad(l, p, k, "%zu bytes, more than %d", n,
				  HEARTBEAT_LINE_MAX);
	if (strchr(v, '\n'))
		return config_bad(l, p, k, "must not contain a newline");
	return config_replace_str(l, &l->cfg.clients.heartbeat_line, v);
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

/* ---- the key table ----------------------------------------------------- */

#define MS(x) ((uint64_t)(x))
#define SEC(x) (MS(x) * 1000)
#define DAY(x) (SEC(x) * 86400)
#define KIB(x) ((uint64_t)(x) * 1024)
#define MIB(x) (KIB(x) * 1024)
#define GIB(x) (MIB(x) * 1024)
#define F(field) offsetof(struct config, field)
#define NUM(field, kd, lo, hi, off0) \
	config_set_number, F(field), &kd, lo, hi, off0, NULL
#define ENUM(field, names) config_set_enum, F(field), NULL, 0, 0, false, names
#define OCTAL(field) config_set_octal, F(field), NULL, 0, 0, false, NULL
#define CUSTOM(setter) setter, 0, NULL, 0, 0, false, NULL

static const char *const framing_names[] = { "line", "raw", NULL };
static const char *const on_idle_names[] = { "log", "exit", "restart", NULL };
static const char *const on_eof_names[] = { "exit", "reopen", "restart", NULL };
static const char *const overflow_names[] = { "drop", "skip", NULL };
static const char *const log_level_names[] = {
	"error", "warning", "notice", "info", "debug", NULL };

/* Every key of SPEC's tables with its setter, field and range. */
static const struct key_def config_keys[N_KEYS] = {
	[K_INPUT] = { SEC_SOURCE, "input", CUSTOM(config_set_input) },
	[K_FRAMING] = { SEC_SOURCE, "framing",
		ENUM(source.framing, framing_names) },
	[K_MAX_LINE] = { SEC_SOURCE, "max_line",
		NUM(source.max_line, kind_size, 16, MIB(16), false) },
	[K_SRC_IDLE] = { SEC_SOURCE, "idle_timeout",
		NUM(source.idle_timeout_ms, kind_duration, MS(10), DAY(30), true) },
	[K_ON_IDLE] = { SEC_SOURCE, "on_idle",
		ENUM(source.on_idle, on_idle_names) },
	[K_ON_EOF] = { SEC_SOURCE, "on_eof", ENUM(source.on_eof, on_eof_names) },
	[K_RESTART_DELAY] = { SEC_SOURCE, "restart_delay",
		NUM(source.restart_delay_ms, kind_duration, MS(10), SEC(3600), false) },
	[K_FIFO_MODE] = { SEC_SOURCE, "fifo_mode", OCTAL(source.fifo_mode) },
	[K_LISTEN] = { SEC_CLIENTS, "listen", CUSTOM(config_set_listen) },
	[K_UNIX_MODE] = { SEC_CLIENTS, "unix_mode", OCTAL(clients.unix_mode) },
	[K_MAX_CLIENTS] = { SEC_CLIENTS, "max_clients",
		NUM(clients.max_clients, kind_uint, 1, 1000000, false) },
	[K_CL_IDLE] = { SEC_CLIENTS, "idle_timeout",
		NUM(clients.idle_timeout_ms, kind_duration, MS(10), DAY(30), true) },
	[K_SEND_TIMEOUT] = { SEC_CLIENTS, "send_timeout",
		NUM(clients.send_timeout_ms, kind_duration, MS(10), DAY(30), true) },
	[K_BUFFER] = { SEC_CLIENTS, "buffer",
		NUM(clients.buffer, kind_size, KIB(64), GIB(1), false) },
	[K_OVERFLOW] = { SEC_CLIENTS, "overflow",
		ENUM(clients.overflow, overflow_names) },
	[K_BACKLOG] = { SEC_CLIENTS, "backlog", /* upper bound: config_rules */
		NUM(clients.backlog, kind_size, 0, UINT64_MAX, false) },
	[K_HEARTBEAT] = { SEC_CLIENTS, "heartbeat",
		NUM(clients.heartbeat_ms, kind_duration, MS(10), DAY(1), true) },
	[K_HEARTBEAT_LINE] = { SEC_CLIENTS, "heartbeat_line",
		CUSTOM(config_set_heartbeat_line) },
	[K_SOCKET] = { SEC_STATS, "socket", CUSTOM(config_set_socket) },
	[K_STATS_MODE] = { SEC_STATS, "mode", OCTAL(stats.mode) },
	[K_STATS_IDLE] = { SEC_STATS, "idle_timeout",
		NUM(stats.idle_timeout_ms, kind_duration, MS(100), DAY(1), true) },
	[K_MAX_CONNECTIONS] = { SEC_STATS, "max_connections",
		NUM(stats.max_connections, kind_uint, 1, 10000, false) },
	[K_LOG_LEVEL] = { SEC_DAEMON, "log_level",
		ENUM(daemon.log_level, log_level_names) },
	[K_SHUTDOWN] = { SEC_DAEMON, "shutdown_timeout",
		NUM(daemon.shutdown_timeout_ms, kind_duration, 0, SEC(3600), false) },
};

/* ---- rules spanning several keys --------------------------------------- */

/* One rule: the keys it ties, whether the configuration breaks it, and what
 * to say at the place of the key set last (last_a: that key is a). */
struct rule {
	enum key_id a, b;
	bool (*broken)(const struct config *c, const void *arg);
	void (*explain)(const struct config *c, const void *arg, bool last_a,
			char *buf, size_t len);
	const void *arg;
};

/* A size key that must stay within a fraction of the ring. */
struct cap {
	size_t off;          /* the uint64_t field in struct config */
	uint64_t div;
	const char *name;
};

static const struct cap cap_max_line = {
	offsetof(struct config, source.max_line), 4, "max_line" };  /* four lines fit */
static const struct cap cap_backlog = {
	offsetof(struct config, clients.backlog), 2, "backlog" };   /* half the ring */

/* The capped value of a configuration. */
static uint64_t rule_cap_value(const struct config *c, const struct cap *cap)
{
	return *(const uint64_t *)(const void *)((const char *)c + cap->off);
}

/* The key exceeds buffer / div. */
static bool rule_cap_broken(const struct config *c, const void *arg)
{
	const struct cap *cap = arg;

	return rule_cap_value(c, cap) > c->clients.buffer / cap->div;
}

/* Words for a size/buffer conflict, from either key's side. */
static void rule_cap_explain(const struct config *c, const void *arg, bool last_a,
			     char *buf, size_t len)
{
	const struct cap *cap = arg;
	char v[32], q[32];

	units_format_size(rule_cap_value(c, cap), v, sizeof(v));
	units_format_size(c->clients.buffer / cap->div, q, sizeof(q));
	if (last_a)
		snprintf(buf, len, "%s exceeds buffer/%llu (%s)", v,
			 (unsigned long long)cap->div, q);
	else
		snprintf(buf, len, "leaves %s (%s) above buffer/%llu (%s)", cap->name, v,
			 (unsigned long long)cap->div, q);
}

/* Heartbeats are records, so they need line framing. */
static bool rule_heartbeat_broken(const struct config *c, const void *arg)
{
	(void)arg;
	return c->clients.heartbeat_ms && c->source.framing == FRAMING_RAW;
}

/* Words for a heartbeat/framing conflict. */
static void rule_heartbeat_explain(const struct config *c, const void *arg,
				   bool last_a, char *buf, size_t len)
{
	(void)c;
	(void)arg;
	snprintf(buf, len, "%s", last_a ? "needs framing = line (framing is raw)"
		 : "heartbeat needs framing = line");
}

/* What input a value of on_eof/on_idle needs; SRC_STDIN: any. */
static enum src_input rule_needed_input(bool is_eof, unsigned v)
{
	if (is_eof)
		return v == ON_EOF_REOPEN ? SRC_FIFO :
		       v == ON_EOF_RESTART ? SRC_EXEC : SRC_STDIN;
	return v == ON_IDLE_RESTART ? SRC_EXEC : SRC_STDIN;
}

/* on_eof must suit the input (an unset one is "exit" until it is resolved
 * to the input's default, so only an explicit one can break this). */
static bool rule_on_eof_broken(const struct config *c, const void *arg)
{
	(void)arg;
	enum src_input need = rule_needed_input(true, c->source.on_eof);

	return need != SRC_STDIN && need != c->source.input;
}

/* on_idle = restart only makes sense for a command. */
static bool rule_on_idle_broken(const struct config *c, const void *arg)
{
	(void)arg;
	enum src_input need = rule_needed_input(false, c->source.on_idle);

	return need != SRC_STDIN && need != c->source.input;
}

/* Spelling of the input form a value needs. */
static const char *rule_input_form(enum src_input in)
{
	return in == SRC_FIFO ? "fifo:PATH" : "exec:COMMAND";
}

/* Words for an on_eof/input conflict. */
static void rule_on_eof_explain(const struct config *c, const void *arg, bool last_a,
				char *buf, size_t len)
{
	(void)arg;
	const char *v = on_eof_names[c->source.on_eof];

	snprintf(buf, len, "%s%s needs input = %s", last_a ? "" : "on_eof = ",
		 v, rule_input_form(rule_needed_input(true, c->source.on_eof)));
}

/* Words for an on_idle/input conflict. */
static void rule_on_idle_explain(const struct config *c, const void *arg, bool last_a,
				 char *buf, size_t len)
{
	(void)arg;
	const char *v = on_idle_names[c->source.on_idle];

	snprintf(buf, len, "%s%s needs input = %s", last_a ? "" : "on_idle = ",
		 v, rule_input_form(rule_needed_input(false, c->source.on_idle)));
}

static const struct rule config_rules[] = {
	{ K_MAX_LINE, K_BUFFER, rule_cap_broken, rule_cap_explain, &cap_max_line },
	{ K_BACKLOG, K_BUFFER, rule_cap_broken, rule_cap_explain, &cap_backlog },
	{ K_HEARTBEAT, K_FRAMING, rule_heartbeat_broken, rule_heartbeat_explain, NULL },
	{ K_ON_EOF, K_INPUT, rule_on_eof_broken, rule_on_eof_explain, NULL },
	{ K_ON_IDLE, K_INPUT, rule_on_idle_broken, rule_on_idle_explain, NULL },
};

/* Checks every rule, reporting at the place of the key set last. */
static void config_check_rules(struct loader *l)
{
	for (size_t i = 0; i < sizeof(config_rules) / sizeof(config_rules[0]); i++) {
		const struct rule *r = &config_rules[i];
		bool last_a = l->set_at[r->a].seq >= l->set_at[r->b].seq;
		enum key_id last = last_a ? r->a : r->b;
		char body[160];

		if (!r->broken(&l->cfg, r->arg))
			continue;
		r->explain(&l->cfg, r->arg, last_a, body, sizeof(body));
		config_err_at(l, &l->set_at[last],
			      section_names[config_keys[last].section],
			      config_keys[last].name, "%s", body);
	}
}

/* Checks the rules spanning several keys on a finished configuration (a
 * reload that keeps some old values builds one); describes the first one
 * broken, or returns NULL. */
const char *config_violation(const struct config *c, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(config_rules) / sizeof(config_rules[0]); i++) {
		const struct rule *r = &config_rules[i];
		char body[160];

		if (!r->broken(c, r->arg))
			continue;
		r->explain(c, r->arg, true, body, sizeof(body));
		snprintf(buf, len, "[%s] %s: %s", section_names[config_keys[r->a].section],
			 config_keys[r->a].name, body);
		return buf;
	}
	return NULL;
}

/* on_eof's default depends on the input, so it is chosen after all keys. */
static void config_resolve_on_eof(struct loader *l)
{
	static const enum src_on_eof by_input[] = {
		[SRC_STDIN] = ON_EOF_EXIT, [SRC_FIFO] = ON_EOF_REOPEN,
		[SRC_EXEC] = ON_EOF_RESTART,
	};

	if (!l->set_at[K_ON_EOF].seq)
		l->cfg.source.on_eof = by_input[l->cfg.source.input];
}

/* An unset max_line follows a small buffer down (64KiB at most, buffer/4 at
 * most), so that every buffer in range works with the defaults. */
static void config_resolve_max_line(struct loader *l)
{
	if (!l->set_at[K_MAX_LINE].seq && l->cfg.source.max_line > l->cfg.clients.buffer / 4)
		l->cfg.source.max_line = l->cfg.clients.buffer / 4;
}

/* ---- keys, sections, overrides ----------------------------------------- */

/* Index of a section name, or SEC_UNKNOWN. */
static int config_section_find(const char *name, size_t n)
{
	for (int i = 0; i < N_SECTIONS; i++)
		if (strlen(section_names[i]) == n &&
		    memcmp(section_names[i], name, n) == 0)
			return i;
	return SEC_UNKNOWN;
}

/* Sets one key of a known section from a trimmed value. */
static void config_set_key(struct loader *l, const struct place *p,
			   int section, const char *name, const char *value)
{
	for (int i = 0; i < N_KEYS; i++) {
		const struct key_def *k = &config_keys[i];

		if (k->section != section || strcmp(k->name, name) != 0)
			continue;
		if (k->set(l, k, value, p) == 0)
			l->set_at[i] = *p;
		return;
	}
	config_err_at(l, p, section_names[section], NULL, "unknown key '%s'",
		      name);
}

/* Strips leading and trailing blanks (isspace, as inih does) in place. */
static char *config_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Applies one "SECTION.KEY=VALUE" override. */
static void config_apply_override(struct loader *l, const char *opt, size_t i)
{
	struct place p = { .opt = opt, .seq = OVERRIDE_SEQ + i };
	char *copy = pc_strdup(opt);
	char *eq, *dot, *sec, *key;
	int section;

	if (!copy) {
		l->oom = true;
		return;
	}
	eq = strchr(copy, '=');
	dot = eq ? memchr(copy, '.', (size_t)(eq - copy)) : NULL;
	if (dot) {
		*eq = *dot = '\0';
		sec = config_trim(copy);
		key = config_trim(dot + 1);
	}
	if (!dot || !*sec || !*key) {
		config_err_at(l, &p, NULL, NULL, "expected SECTION.KEY=VALUE");
	} else if ((section = config_section_find(sec, strlen(sec))) < 0) {
		config_err_at(l, &p, NULL, NULL, "unknown section [%s]", sec);
	} else {
		config_set_key(l, &p, section, key, config_trim(eq + 1));
	}
	pc_free(copy);
}

/* ---- the file ---------------------------------------------------------- */

/* The place of a line of the file being read. */
static struct place config_file_place(const struct loader *l, unsigned line)
{
	return (struct place){ .file = l->file, .line = line, .seq = line };
}

/* Records a problem of the current line that belongs to no key. */
__attribute__((format(printf, 2, 3)))
static void config_line_err(struct loader *l, const char *fmt, ...)
{
	struct place p = config_file_place(l, l->lineno);
	va_list ap;
	char *body;

	va_start(ap, fmt);
	body = config_vfmt(fmt, ap);
	va_end(ap);
	if (!body) {
		l->oom = true;
		return;
	}
	config_err_at(l, &p, NULL, NULL, "%s", body);
	pc_free(body);
}

/* Reads the next raw line into l->buf without "\n" or a final "\r" and
 * counts it. Returns its length, CONFIG_LINE_MAX + 1 for a longer line
 * (whose rest is consumed), or -1 at the end of the file. */
static long config_read_line(struct loader *l)
{
	size_t n = 0;
	bool any = false, over = false;
	int ch;

	while ((ch = getc(l->fp)) != EOF) {
		any = true;
		if (ch == '\n')
			break;
		if (n < sizeof(l->buf) - 1)
			l->buf[n++] = (char)ch;
		else
			over = true;
	}
	if (ch == EOF && ferror(l->fp))
		l->read_errno = errno;
	if (!any)
		return -1;
	l->lineno++;
	if (n && l->buf[n - 1] == '\r')
		n--;
	l->buf[n] = '\0';
	if (l->lineno == 1 && n >= 3 && memcmp(l->buf, "\xEF\xBB\xBF", 3) == 0) {
		n -= 3;   /* a UTF-8 byte order mark */
		memmove(l->buf, l->buf + 3, n + 1);
	}
	return over || n > CONFIG_LINE_MAX ? CONFIG_LINE_MAX + 1 : (long)n;
}

/* Handles a "[section]" line; s starts at '[' and is trimmed. */
static void config_read_section(struct loader *l, const char *s)
{
	size_t n = strlen(s);

	if (n < 2 || s[n - 1] != ']') {
		l->section = SEC_UNKNOWN;
		config_line_err(l, "malformed section header '%s'", s);
		return;
	}
	l->section = config_section_find(s + 1, n - 2);
	if (l->section == SEC_UNKNOWN)
		config_line_err(l, "unknown section %s", s);
}

/* Splits a key line in l->buf at its '=' and sets the key; used for lines
 * that do not fit inih's buffer. */
static void config_dispatch_long(struct loader *l, char *s)
{
	struct place p = config_file_place(l, l->lineno);
	char *eq = strchr(s, '=');

	*eq = '\0';
	config_set_key(l, &p, l->section, config_trim(s), config_trim(eq + 1));
}

/* Checks a "key = value" line; returns whether it may be set. */
static bool config_check_key_line(struct loader *l, const char *s)
{
	size_t name_end = strcspn(s, "=:");

	if (s[name_end] != '=') {
		config_line_err(l, s[name_end] == ':' ?
				"expected 'key = value', not 'key: value'" :
				"expected 'key = value' or '[section]'");
		return false;
	}
	while (name_end && isspace((unsigned char)s[name_end - 1]))
		name_end--;
	if (name_end == 0) {
		config_line_err(l, "missing key name before '='");
		return false;
	}
	if (l->section == SEC_NONE)
		config_line_err(l, "key '%.*s' outside any section",
				(int)name_end, s);
	return l->section >= 0;
}

/* inih's reader: classifies one file line (see the top of this file) and
 * gives inih the line itself or "". */
static char *config_reader_next(char *str, int num, void *stream)
{
	struct loader *l = stream;
	long n = config_read_line(l);
	char *s;

	if (n < 0)
		return NULL;
	str[0] = '\0';
	if (n > CONFIG_LINE_MAX) {
		config_line_err(l, "line longer than %d bytes", CONFIG_LINE_MAX);
		return str;
	}
	if (memchr(l->buf, '\0', (size_t)n)) {
		config_line_err(l, "line contains a NUL byte");
		return str;
	}
	s = config_trim(l->buf);
	if (*s == '\0' || *s == ';' || *s == '#')
		return str;
	if (*s == '[') {
		config_read_section(l, s);
		return str;
	}
	if (!config_check_key_line(l, s))
		return str;
	if (strlen(s) + 2 <= (size_t)num)   /* inih's fgets-style limit */
		memcpy(str, s, strlen(s) + 1);
	else
		config_dispatch_long(l, s);
	return str;
}

/* inih's handler: a key line the reader passed on; the reader's section is
 * used because inih only sees the lines we give it. */
static int config_ini_handler(void *user, const char *section,
			      const char *name, const char *value, int lineno)
{
	struct loader *l = user;
	struct place p = config_file_place(l, (unsigned)lineno);

	(void)section;
	config_set_key(l, &p, l->section, name, value);
	return 1;
}

/* Reads the file into l->cfg, collecting its problems. */
static void config_read_file(struct loader *l, const char *file)
{
	int r;

	l->fp = fopen(file, "r");
	if (!l->fp) {
		config_err(l, "%s: cannot open: %s", file, strerror(errno));
		return;
	}
	l->file = file;
	l->section = SEC_NONE;
	/* inih's switches are process globals: set them for every parse. */
	ini_allow_multiline = false;
	ini_allow_inline_comments = false;
	ini_allow_bom = false;
	ini_allow_no_value = false;
	ini_stop_on_first_error = false;
	r = ini_parse_stream(config_reader_next, l, config_ini_handler, l);
	if (ferror(l->fp))
		config_err(l, "%s: cannot read: %s", file,
			   strerror(l->read_errno));
	else if (r == -2)
		l->oom = true;
	else if (r != 0)
		config_err(l, "%s:%d: cannot parse", file, r);
	fclose(l->fp);
	l->fp = NULL;
}

/* ---- public API -------------------------------------------------------- */

/* The built-in defaults of SPEC's tables. */
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
		.heartbeat_line = pc_strdup(""),
	};
	c->stats = (struct config_stats){
		.mode = 0660, .idle_timeout_ms = SEC(60), .max_connections = 64,
	};
	c->daemon = (struct config_daemon){
		.log_level = LL_INFO, .shutdown_timeout_ms = SEC(5),
	};
	if (c->clients.heartbeat_line &&
	    config_append_listen(&c->clients, "tcp:127.0.0.1:7070") == 0)
		return 0;
	config_free(c);
	return -1;
}

/* Moves the collected errors to the caller, or drops them. */
static void config_errors_hand_over(struct loader *l, struct config_errors *errs)
{
	if (errs)
		*errs = l->errs;
	else
		config_errors_free(&l->errs);
}

/* Defaults, file, overrides, rules: see config.h. */
int config_load(struct config *out, const char *file,
		const char *const *overrides, size_t n_overrides,
		struct config_errors *errs)
{
	struct loader *l = pc_calloc(1, sizeof(*l));
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (errs)
		*errs = (struct config_errors){ NULL, 0 };
	if (!l)
		return -1;
	if (config_defaults(&l->cfg) < 0) {
		l->oom = true;
	} else {
		l->listen_replace = true;
		if (file)
			config_read_file(l, file);
		l->listen_replace = true;
		for (size_t i = 0; i < n_overrides; i++)
			config_apply_override(l, overrides[i], i);
		config_resolve_max_line(l);
		config_check_rules(l);
		config_resolve_on_eof(l);
	}
	if (l->oom)
		config_err(l, "out of memory");
	if (l->errs.n == 0 && !l->oom) {
		*out = l->cfg;
		rc = 0;
	} else {
		config_free(&l->cfg);
	}
	config_errors_hand_over(l, errs);
	pc_free(l);
	return rc;
}

/* Frees everything a loaded or defaulted configuration owns. */
void config_free(struct config *c)
{
	if (!c)
		return;
	config_clear_listen(&c->clients);
	pc_free(c->source.input_arg);
	pc_free(c->clients.heartbeat_line);
	pc_free(c->stats.socket);
	memset(c, 0, sizeof(*c));
}

/* Frees the error list. */
void config_errors_free(struct config_errors *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++)
		pc_free(e->msg[i]);
	pc_free(e->msg);
	e->msg = NULL;
	e->n = 0;
}

/* For logs and `-t` output: the file's spelling of a log level. */
const char *config_log_level_name(enum log_level lv)
{
	if ((unsigned)lv >= sizeof(log_level_names) / sizeof(log_level_names[0]) - 1)
		return "?";
	return log_level_names[lv];
}

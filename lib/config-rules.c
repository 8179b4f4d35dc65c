/* config-rules.c: what ties keys together. The rules that span several
 * keys (a table: the two keys, the test, the words), checked after the file
 * and the overrides and reported at the place of whichever key of the pair
 * was set last, and the defaults that follow other keys (max_line follows a
 * small buffer, on_eof follows the input). See pipecast.conf(5). */
#include "config-private.h"
#include "compat.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "units.h"

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

/* A key that only works on records (heartbeat, preamble, notices): its
 * field and name. */
struct line_only {
	size_t off;          /* the field in struct config; non-zero: in use */
	size_t size;         /* sizeof the field */
	const char *name;
};

static const struct line_only lo_heartbeat = {
	offsetof(struct config, clients.heartbeat_ms), sizeof(uint64_t), "heartbeat" };
static const struct line_only lo_preamble = {
	offsetof(struct config, clients.preamble), sizeof(uint64_t), "preamble" };
static const struct line_only lo_notices = {
	offsetof(struct config, clients.notices), sizeof(unsigned), "notices" };

/* The key is in use while framing is raw. */
static bool rule_line_only_broken(const struct config *c, const void *arg)
{
	const struct line_only *lo = arg;
	uint64_t v = 0;

	memcpy(&v, (const char *)c + lo->off, lo->size);   /* little or big: 0 is 0 */
	return v != 0 && c->source.framing == FRAMING_RAW;
}

/* Words for a line-only key with raw framing. */
static void rule_line_only_explain(__unused const struct config *c, const void *arg,
				   bool last_a, char *buf, size_t len)
{
	const struct line_only *lo = arg;

	if (last_a)
		snprintf(buf, len, "needs framing = line (framing is raw)");
	else
		snprintf(buf, len, "%s needs framing = line", lo->name);
}

/* The heartbeat is a record the daemon writes itself: with its newline it
 * must fit max_line, like every record (line framing). */
static bool rule_heartbeat_line_broken(const struct config *c, __unused const void *arg)
{
	return c->source.framing == FRAMING_LINE &&
	       strlen(c->clients.heartbeat_line) + 1 > c->source.max_line;
}

/* Words for a heartbeat_line/max_line conflict. */
static void rule_heartbeat_line_explain(const struct config *c, __unused const void *arg,
					bool last_a, char *buf, size_t len)
{
	char m[32];

	units_format_size(c->source.max_line, m, sizeof(m));
	if (last_a)
		snprintf(buf, len, "%zu bytes and a newline exceed max_line (%s)",
			 strlen(c->clients.heartbeat_line), m);
	else
		snprintf(buf, len, "%s leaves no room for heartbeat_line (%zu bytes and a newline)",
			 m, strlen(c->clients.heartbeat_line));
}

/* What input a value of on_eof/on_idle needs; SRC_STDIN: any. Restart
 * suits a command and the upstreams (sse:, redis:), named by SRC_EXEC. */
static enum src_input rule_needed_input(bool is_eof, unsigned v)
{
	if (is_eof)
		return v == ON_EOF_REOPEN ? SRC_FIFO :
		       v == ON_EOF_RESTART ? SRC_EXEC : SRC_STDIN;
	return v == ON_IDLE_RESTART ? SRC_EXEC : SRC_STDIN;
}

/* Whether the configured input is of the kind a value needs. */
static bool rule_input_fits(enum src_input need, enum src_input in)
{
	static const enum src_input kind[] = {
		[SRC_STDIN] = SRC_STDIN, [SRC_FIFO] = SRC_FIFO, [SRC_EXEC] = SRC_EXEC,
		[SRC_SSE] = SRC_EXEC, [SRC_REDIS] = SRC_EXEC,
	};

	return need == SRC_STDIN || need == kind[in];
}

/* on_eof must suit the input (an unset one is "exit" until it is resolved
 * to the input's default, so only an explicit one can break this). */
static bool rule_on_eof_broken(const struct config *c, __unused const void *arg)
{
	return !rule_input_fits(rule_needed_input(true, c->source.on_eof), c->source.input);
}

/* on_idle = restart only makes sense for a command or an upstream. */
static bool rule_on_idle_broken(const struct config *c, __unused const void *arg)
{
	return !rule_input_fits(rule_needed_input(false, c->source.on_idle), c->source.input);
}

/* Spelling of the input form a value needs. */
static const char *rule_input_form(enum src_input in)
{
	return in == SRC_FIFO ? "fifo:PATH" : "exec:COMMAND, sse:URL or redis:URL";
}

/* Words for an on_eof/input conflict. */
static void rule_on_eof_explain(const struct config *c, __unused const void *arg, bool last_a,
				char *buf, size_t len)
{
	const char *v = config_on_eof_names[c->source.on_eof];

	snprintf(buf, len, "%s%s needs input = %s", last_a ? "" : "on_eof = ",
		 v, rule_input_form(rule_needed_input(true, c->source.on_eof)));
}

/* Words for an on_idle/input conflict. */
static void rule_on_idle_explain(const struct config *c, __unused const void *arg, bool last_a,
				 char *buf, size_t len)
{
	const char *v = config_on_idle_names[c->source.on_idle];

	snprintf(buf, len, "%s%s needs input = %s", last_a ? "" : "on_idle = ",
		 v, rule_input_form(rule_needed_input(false, c->source.on_idle)));
}

/* An upstream hands out records, which raw framing does not have. */
static bool rule_upstream_raw_broken(const struct config *c, __unused const void *arg)
{
	return (c->source.input == SRC_SSE || c->source.input == SRC_REDIS) &&
	       c->source.framing == FRAMING_RAW;
}

/* Words for an upstream with raw framing. */
static void rule_upstream_raw_explain(__unused const struct config *c, __unused const void *arg,
				      bool last_a, char *buf, size_t len)
{
	snprintf(buf, len, "%s", last_a ? "raw needs input = stdin, fifo:PATH or exec:COMMAND"
		 : "an upstream (sse:, redis:) needs framing = line");
}

/* clients.listen = none leaves only HTTP listeners: there must be one. */
static bool rule_listen_broken(const struct config *c, __unused const void *arg)
{
	return c->clients.n_listen == 0 && c->http.n_listen == 0;
}

/* Words for a daemon without any listener. */
static void rule_listen_explain(__unused const struct config *c, __unused const void *arg,
				bool last_a, char *buf, size_t len)
{
	snprintf(buf, len, "%s", last_a ? "none needs an [http] listen"
		 : "needed: [clients] listen is none");
}

static const struct rule config_rules[] = {
	{ K_MAX_LINE, K_BUFFER, rule_cap_broken, rule_cap_explain, &cap_max_line },
	{ K_BACKLOG, K_BUFFER, rule_cap_broken, rule_cap_explain, &cap_backlog },
	{ K_HEARTBEAT, K_FRAMING, rule_line_only_broken, rule_line_only_explain, &lo_heartbeat },
	{ K_PREAMBLE, K_FRAMING, rule_line_only_broken, rule_line_only_explain, &lo_preamble },
	{ K_NOTICES, K_FRAMING, rule_line_only_broken, rule_line_only_explain, &lo_notices },
	{ K_HEARTBEAT_LINE, K_MAX_LINE, rule_heartbeat_line_broken,
	  rule_heartbeat_line_explain, NULL },
	{ K_ON_EOF, K_INPUT, rule_on_eof_broken, rule_on_eof_explain, NULL },
	{ K_ON_IDLE, K_INPUT, rule_on_idle_broken, rule_on_idle_explain, NULL },
	{ K_LISTEN, K_HTTP_LISTEN, rule_listen_broken, rule_listen_explain, NULL },
	{ K_FRAMING, K_INPUT, rule_upstream_raw_broken, rule_upstream_raw_explain, NULL },
};

/* Checks every rule, reporting at the place of the key set last. */
void config_check_rules(struct loader *l)
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
			      config_section_names[config_keys[last].section],
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
		snprintf(buf, len, "[%s] %s: %s", config_section_names[config_keys[r->a].section],
			 config_keys[r->a].name, body);
		return buf;
	}
	return NULL;
}

/* on_eof's default depends on the input, so it is chosen after all keys,
 * and again by a reload once it has put back a kept input. */
void config_derive_defaults(struct config *c)
{
	static const enum src_on_eof by_input[] = {
		[SRC_STDIN] = ON_EOF_EXIT, [SRC_FIFO] = ON_EOF_REOPEN,
		[SRC_EXEC] = ON_EOF_RESTART, [SRC_SSE] = ON_EOF_RESTART,
		[SRC_REDIS] = ON_EOF_RESTART,
	};
	bool upstream = c->source.input == SRC_SSE || c->source.input == SRC_REDIS;

	if (!c->source.on_eof_given)
		c->source.on_eof = by_input[c->source.input];
	if (!c->source.on_idle_given)
		c->source.on_idle = upstream ? ON_IDLE_RESTART : ON_IDLE_LOG;
	if (!c->source.idle_timeout_given)
		c->source.idle_timeout_ms = upstream ? UPSTREAM_IDLE_MS : 0;
}

/* Resolves on_eof after the file and the overrides. */
void config_resolve_on_eof(struct loader *l)
{
	l->cfg.source.on_eof_given = l->set_at[K_ON_EOF].seq != 0;
	l->cfg.source.on_idle_given = l->set_at[K_ON_IDLE].seq != 0;
	l->cfg.source.idle_timeout_given = l->set_at[K_SRC_IDLE].seq != 0;
	config_derive_defaults(&l->cfg);
}

/* An unset max_line follows a small buffer down (64KiB at most, buffer/4 at
 * most), so that every buffer in range works with the defaults. */
void config_resolve_max_line(struct loader *l)
{
	if (!l->set_at[K_MAX_LINE].seq && l->cfg.source.max_line > l->cfg.clients.buffer / 4)
		l->cfg.source.max_line = l->cfg.clients.buffer / 4;
}

/* A quiet live reader is kept only when keepalive probes come before the
 * idle timeout (pipecast.conf(5), "Client liveness"): words for the warning
 * of -t and the start-up log, or NULL. */
const char *config_liveness_warning(const struct config *c, char *buf, size_t len)
{
	char ka[32], idle[32];

	if (c->clients.idle_timeout_ms == 0 ||
	    (c->clients.tcp_keepalive_ms != 0 &&
	     c->clients.tcp_keepalive_ms < c->clients.idle_timeout_ms))
		return NULL;
	units_format_duration(c->clients.idle_timeout_ms, idle, sizeof(idle));
	if (c->clients.tcp_keepalive_ms == 0)
		snprintf(buf, len, "[clients] tcp_keepalive is off: a TCP reader of a quiet "
			 "stream is closed after idle_timeout (%s)", idle);
	else
		snprintf(buf, len, "[clients] tcp_keepalive (%s) is not shorter than "
			 "idle_timeout (%s): a TCP reader of a quiet stream may be closed",
			 units_format_duration(c->clients.tcp_keepalive_ms, ka, sizeof(ka)),
			 idle);
	return buf;
}

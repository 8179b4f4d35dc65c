/* config.c: the ini file, the -o overrides and the public API around them;
 * the keys are config-table.c's, the rules config-rules.c's, both described
 * in pipecast.conf(5). Errors are collected, never logged.
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
 * Keys are one table (config_keys, config-table.c): section, name, setter,
 * field, range and whether a reload applies it. Rules that span several keys
 * are a second table (config_rules, config-rules.c); they run after the file
 * and the overrides. */
#define INI_HANDLER_LINENO 1
#include "config-private.h"
#include "compat.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"

/* Order of places: file lines count from 1, overrides come after them. */
#define OVERRIDE_SEQ (1ULL << 32)

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

/* A fresh counted copy of a and b joined. */
static char *config_fmt_join(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	char *s = pc_malloc(na + nb + 1);

	if (s) {
		memcpy(s, a, na);
		memcpy(s + na, b, nb + 1);
	}
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
void config_err_at(struct loader *l, const struct place *p,
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
int config_bad(struct loader *l, const struct place *p,
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
	config_err_at(l, p, config_section_names[k->section], k->name, "%s", body);
	pc_free(body);
	return -1;
}

/* ---- keys, sections, overrides ----------------------------------------- */

/* Index of a section name, or SEC_UNKNOWN. */
static int config_section_find(const char *name, size_t n)
{
	for (int i = 0; i < N_SECTIONS; i++)
		if (strlen(config_section_names[i]) == n &&
		    memcmp(config_section_names[i], name, n) == 0)
			return i;
	return SEC_UNKNOWN;
}

/* ---- hints ------------------------------------------------------------- */

/* Edit distance (insertions, deletions, substitutions, adjacent swaps) of
 * two short names, capped at 9. */
static unsigned config_distance(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	unsigned d[33][33];

	if (na > 32 || nb > 32)
		return 9;
	for (size_t i = 0; i <= na; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= nb; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= na; i++)
		for (size_t j = 1; j <= nb; j++) {
			unsigned best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[na][nb] > 9 ? 9 : d[na][nb];
}

/* Whether a typo of want could be got: at most 2 edits, fewer for short
 * names. */
static bool config_near(const char *got, const char *want)
{
	unsigned limit = strlen(want) <= 4 ? 1 : 2;

	return config_distance(got, want) <= limit;
}

/* The section nearest to an unknown name, or NULL. */
static const char *config_near_section(const char *name)
{
	for (int i = 0; i < N_SECTIONS; i++)
		if (config_near(name, config_section_names[i]))
			return config_section_names[i];
	return NULL;
}

/* Says what an unknown key in a section may have meant: the section where
 * a key of that name lives, or the nearest key of this section. */
static void config_unknown_key(struct loader *l, const struct place *p, int section,
			       const char *name)
{
	const char *sec = config_section_names[section];

	for (int i = 0; i < N_KEYS; i++)
		if (strcmp(config_keys[i].name, name) == 0) {
			config_err_at(l, p, sec, NULL, "unknown key '%s'; it belongs in [%s]",
				      name, config_section_names[config_keys[i].section]);
			return;
		}
	for (int i = 0; i < N_KEYS; i++)
		if (config_keys[i].section == section && config_near(name, config_keys[i].name)) {
			config_err_at(l, p, sec, NULL, "unknown key '%s'; did you mean %s?",
				      name, config_keys[i].name);
			return;
		}
	config_err_at(l, p, sec, NULL, "unknown key '%s'", name);
}

/* Whether a value holds what a reader may take for an inline comment. */
static bool config_looks_commented(const char *v)
{
	return strstr(v, " ;") || strstr(v, " #") || strstr(v, "\t;") || strstr(v, "\t#");
}

/* Adds a sentence to the message recorded last. */
static void config_err_amend(struct loader *l, const char *more)
{
	char *m;

	if (l->errs.n == 0)
		return;
	m = config_fmt_join(l->errs.msg[l->errs.n - 1], more);
	if (!m) {
		l->oom = true;
		return;
	}
	pc_free(l->errs.msg[l->errs.n - 1]);
	l->errs.msg[l->errs.n - 1] = m;
}

/* A key that is not repeatable (every key but listen) given twice in the
 * file is an error at the second place (pipecast.conf(5)); the -o overrides
 * apply in order after the file, each replacing what came before. */
static bool config_duplicate(struct loader *l, const struct key_def *k,
			     const struct place *first, const struct place *p)
{
	if (k->type == FT_LIST || !first->file || !p->file)
		return false;
	config_bad(l, p, k, "given twice (first at line %u)", first->line);
	return true;
}

/* Sets one key of a known section from a trimmed value. */
static void config_set_key(struct loader *l, const struct place *p,
			   int section, const char *name, const char *value)
{
	for (int i = 0; i < N_KEYS; i++) {
		const struct key_def *k = &config_keys[i];

		if (k->section != section || strcmp(k->name, name) != 0)
			continue;
		if (config_duplicate(l, k, &l->set_at[i], p))
			return;
		if (k->set(l, k, value, p) == 0)
			l->set_at[i] = *p;
		else if (config_looks_commented(value))
			config_err_amend(l, "; inline comments are not supported "
					 "(put a comment on a line of its own)");
		return;
	}
	config_unknown_key(l, p, section, name);
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
		config_err_at(l, &p, NULL, NULL, "unknown section [%s]%s%s%s", sec,
			      config_near_section(sec) ? "; did you mean [" : "",
			      config_near_section(sec) ? config_near_section(sec) : "",
			      config_near_section(sec) ? "]?" : "");
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

/* Reports an unknown section header, with the nearest known one. */
static void config_unknown_section(struct loader *l, const char *name, size_t n)
{
	char want[64];
	const char *near;

	snprintf(want, sizeof(want), "%.*s", (int)n, name);
	near = n < sizeof(want) ? config_near_section(want) : NULL;
	if (near)
		config_line_err(l, "unknown section [%.*s]; did you mean [%s]?", (int)n, name,
				near);
	else
		config_line_err(l, "unknown section [%.*s]", (int)n, name);
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
		config_unknown_section(l, s + 1, n - 2);
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
static int config_ini_handler(void *user, __unused const char *section,
			      const char *name, const char *value, int lineno)
{
	struct loader *l = user;
	struct place p = config_file_place(l, (unsigned)lineno);

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

/* Moves the collected errors to the caller, or drops them. */
static void config_errors_hand_over(struct loader *l, struct config_errors *errs)
{
	if (errs)
		*errs = l->errs;
	else
		config_errors_free(&l->errs);
}

/* Keeps where each key was set last, for show config. */
static int config_record_origins(struct loader *l)
{
	char buf[CONFIG_LINE_MAX];

	l->cfg.origin = pc_calloc(N_KEYS, sizeof(*l->cfg.origin));
	if (!l->cfg.origin)
		return -1;
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct place *p = &l->set_at[i];

		if (!p->seq)
			continue;
		if (p->file)
			snprintf(buf, sizeof(buf), "%s:%u", p->file, p->line);
		else
			snprintf(buf, sizeof(buf), "-o");
		if (!(l->cfg.origin[i] = pc_strdup(buf)))
			return -1;
	}
	return 0;
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
		config_lists_fresh(l);
		if (file)
			config_read_file(l, file);
		config_lists_fresh(l);
		for (size_t i = 0; i < n_overrides; i++)
			config_apply_override(l, overrides[i], i);
		config_resolve_max_line(l);
		config_check_rules(l);
		config_resolve_on_eof(l);
		if (l->errs.n == 0 && !l->oom)
			config_resolve_access(l);
	}
	if (!l->oom && config_record_origins(l) < 0)
		l->oom = true;
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
	config_list_clear(&c->clients.listen, &c->clients.n_listen);
	config_list_clear(&c->http.listen, &c->http.n_listen);
	pc_free(c->http.cors_origin);
	config_access_free(&c->access);
	pc_free(c->source.input_arg);
	pc_free(c->clients.heartbeat_line);
	pc_free(c->clients.notice_prefix);
	pc_free(c->stats.socket);
	for (size_t i = 0; c->origin && i < N_KEYS; i++)
		pc_free(c->origin[i]);
	pc_free(c->origin);
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

/* config-access.c: the [access] keys of pipecast.conf(5): address rules,
 * unix_allow, and the tokens file, which is read and checked (mode, syntax)
 * with the rest of the configuration, so that -t and a reload report its
 * problems at the line that names it. */
#include "config-private.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"

/* allow, deny, metrics_allow, trusted_proxies: one CIDR rule each. */
int config_set_cidr(struct loader *l, const struct key_def *k, const char *v,
		    const struct place *p)
{
	struct cidr c;
	char err[160];

	if (cidr_parse(v, &c, err, sizeof(err)) < 0)
		return config_bad(l, p, k, "%s", err);
	return config_list_add(l, k, v);
}

/* unix_allow: all, uid:N, user:NAME or group:NAME (names must exist). */
int config_set_unix_allow(struct loader *l, const struct key_def *k, const char *v,
			  const struct place *p)
{
	struct unixallow r;
	char err[160];

	if (unixallow_parse(v, &r, err, sizeof(err)) < 0)
		return config_bad(l, p, k, "'%s': %s", v, err);
	return config_list_add(l, k, v);
}

/* tokens_file: a path; empty means none. The file is read once every key
 * is known (config_resolve_access). */
int config_set_tokens_file(struct loader *l, const struct key_def *k, const char *v,
			   const struct place *p)
{
	char *s = NULL;

	if (strlen(v) >= PATH_MAX)
		return config_bad(l, p, k, "path longer than %d bytes", PATH_MAX - 1);
	if (*v && !(s = pc_strdup(v))) {
		l->oom = true;
		return -1;
	}
	pc_free(l->cfg.access.tokens_file);
	l->cfg.access.tokens_file = s;
	return 0;
}

/* allow = all, unix_allow = all, metrics_allow = loopback. */
int config_access_defaults(struct config_access *a)
{
	return config_list_append(&a->allow, &a->n_allow, "all") |
	       config_list_append(&a->unix_allow, &a->n_unix_allow, "all") |
	       config_list_append(&a->metrics_allow, &a->n_metrics_allow, "127.0.0.0/8") |
	       config_list_append(&a->metrics_allow, &a->n_metrics_allow, "::1/128");
}

/* Parses a checked list of CIDR rules into an array. */
static struct cidr *config_cidr_rules(struct loader *l, char **v, size_t n)
{
	struct cidr *rules = n ? pc_calloc(n, sizeof(*rules)) : NULL;
	char err[160];

	if (n && !rules)
		l->oom = true;
	for (size_t i = 0; rules && i < n; i++)
		(void)cidr_parse(v[i], &rules[i], err, sizeof(err));   /* checked when set */
	return rules;
}

/* Resolves unix_allow again (a name may have gone since it was set). */
static void config_unix_rules(struct loader *l)
{
	struct config_access *a = &l->cfg.access;
	char err[160];

	a->unix_allow_rules = a->n_unix_allow ? pc_calloc(a->n_unix_allow, sizeof(struct unixallow))
					      : NULL;
	if (a->n_unix_allow && !a->unix_allow_rules)
		l->oom = true;
	for (size_t i = 0; a->unix_allow_rules && i < a->n_unix_allow; i++)
		if (unixallow_parse(a->unix_allow[i], &a->unix_allow_rules[i], err, sizeof(err)) < 0)
			config_err_at(l, &l->set_at[K_UNIX_ALLOW], "access", "unix_allow",
				      "'%s': %s", a->unix_allow[i], err);
}

/* Whether path is a file directly inside $CREDENTIALS_DIRECTORY, where
 * systemd's LoadCredential= puts it: such a file may show group bits (an
 * ACL for the service's user) in a directory only the service can open. */
static bool config_is_credential(const char *path)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char rd[PATH_MAX], rp[PATH_MAX];
	size_t n;

	if (!dir || !*dir || !realpath(dir, rd) || !realpath(path, rp))
		return false;
	n = strlen(rd);
	return strncmp(rp, rd, n) == 0 && rp[n] == '/' && !strchr(rp + n + 1, '/');
}

/* Why the file's mode lets others near the tokens, or NULL. */
static const char *config_tokens_mode(const char *path, mode_t mode)
{
	if (!S_ISREG(mode))
		return "not a regular file";
	if (mode & S_IRWXO)
		return "others can read or write it";
	if ((mode & S_IRWXG) && !config_is_credential(path))
		return "its group can read or write it";
	return NULL;
}

/* Reads up to TOKENS_FILE_MAX + 1 bytes of fd into buf. */
static ssize_t config_read_all(int fd, char *buf, size_t max)
{
	size_t got = 0;

	while (got < max) {
		ssize_t n = read(fd, buf + got, max - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Reports a tokens file problem at the line that names the file. */
#define TOKENS_ERR(l, fmt, ...) config_err_at(l, &(l)->set_at[K_TOKENS_FILE], "access", \
	"tokens_file", fmt, __VA_ARGS__)

/* Opens, checks and parses the tokens file into c->access.tokens. */
static void config_read_tokens(struct loader *l)
{
	const char *path = l->cfg.access.tokens_file;
	char *buf = pc_malloc(TOKENS_FILE_MAX + 1), err[160];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	const char *why;
	struct stat st;
	ssize_t n;

	if (!buf)
		l->oom = true;
	else if (fd < 0 || fstat(fd, &st) < 0)
		TOKENS_ERR(l, "%s: cannot open: %s", path, strerror(errno));
	else if ((why = config_tokens_mode(path, st.st_mode)) != NULL)
		TOKENS_ERR(l, "%s: %s (mode %04o); make it 0600 or 0400, or pass it "
			   "with LoadCredential= (see pipecastd(8))", path, why,
			   (unsigned)(st.st_mode & 07777));
	else if ((n = config_read_all(fd, buf, TOKENS_FILE_MAX + 1)) < 0)
		TOKENS_ERR(l, "%s: cannot read: %s", path, strerror(errno));
	else if (tokens_parse(&l->cfg.access.tokens, buf, (size_t)n, err, sizeof(err)) < 0)
		TOKENS_ERR(l, "%s: %s", path, err);
	if (fd >= 0)
		close(fd);
	if (buf)
		memset(buf, 0, TOKENS_FILE_MAX + 1);
	pc_free(buf);
}

/* Once every value is known: the rules in parsed form, the tokens read. */
void config_resolve_access(struct loader *l)
{
	struct config_access *a = &l->cfg.access;

	a->allow_rules = config_cidr_rules(l, a->allow, a->n_allow);
	a->deny_rules = config_cidr_rules(l, a->deny, a->n_deny);
	a->metrics_allow_rules = config_cidr_rules(l, a->metrics_allow, a->n_metrics_allow);
	a->trusted_proxies_rules = config_cidr_rules(l, a->trusted_proxies, a->n_trusted_proxies);
	config_unix_rules(l);
	if (a->tokens_file)
		config_read_tokens(l);
}

/* Frees what [access] owns. */
void config_access_free(struct config_access *a)
{
	config_list_clear(&a->allow, &a->n_allow);
	config_list_clear(&a->deny, &a->n_deny);
	config_list_clear(&a->unix_allow, &a->n_unix_allow);
	config_list_clear(&a->metrics_allow, &a->n_metrics_allow);
	config_list_clear(&a->trusted_proxies, &a->n_trusted_proxies);
	pc_free(a->tokens_file);
	pc_free(a->allow_rules);
	pc_free(a->deny_rules);
	pc_free(a->metrics_allow_rules);
	pc_free(a->trusted_proxies_rules);
	pc_free(a->unix_allow_rules);
	tokens_free(&a->tokens);
}

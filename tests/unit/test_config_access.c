/* test_config_access.c: the [access] keys of pipecast.conf(5): defaults,
 * repeatable lists, rules parsed once loaded, ranges, and the tokens file
 * (read with the configuration; its mode checked, LoadCredential= files
 * accepted). Files live in a mkdtemp directory that teardown removes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include "alloc.h"
#include "testaddr.h"
#include "config.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct fx {
	char dir[64], conf[96], tokens[96];
	struct config c;
	struct config_errors e;
	uint64_t live0;
};

/* A fresh directory; the allocation baseline. */
static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/pipecast-test-access-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->conf, sizeof(f->conf), "%s/pipecast.conf", f->dir);
	snprintf(f->tokens, sizeof(f->tokens), "%s/tokens", f->dir);
	f->live0 = alloc_live();
	*state = f;
	return 0;
}

/* Frees, removes the files, fails on a leaked allocation. */
static int fx_teardown(void **state)
{
	struct fx *f = *state;
	bool leak;

	config_free(&f->c);
	config_errors_free(&f->e);
	leak = alloc_live() != f->live0;
	unlink(f->conf);
	unlink(f->tokens);
	rmdir(f->dir);
	free(f);
	unsetenv("CREDENTIALS_DIRECTORY");
	return leak ? -1 : 0;
}

/* Writes a file with a mode. */
static void put(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Loads a configuration file text with overrides; returns config_load's result. */
static int load(struct fx *f, const char *text, const char *const *ov, size_t n)
{
	config_free(&f->c);
	config_errors_free(&f->e);
	if (text)
		put(f->conf, text, 0644);
	return config_load(&f->c, text ? f->conf : NULL, ov, n, &f->e);
}

/* Loads and asserts success. */
static void load_ok(struct fx *f, const char *text, const char *const *ov, size_t n)
{
	if (load(f, text, ov, n) != 0)
		fail_msg("load failed: %s", f->e.n ? f->e.msg[0] : "?");
}

/* Loads and asserts one error containing want. */
static void load_err(struct fx *f, const char *text, const char *want)
{
	assert_int_equal(load(f, text, NULL, 0), -1);
	assert_int_equal(f->e.n, 1);
	if (!strstr(f->e.msg[0], want))
		fail_msg("error '%s' lacks '%s'", f->e.msg[0], want);
}


static void defaults_match_the_manual(void **state)
{
	struct fx *f = *state;
	const struct config_access *a;
	struct cidr_addr lo = test_addr("127.0.0.5"), lo6 = test_addr("::1"), far = test_addr("192.0.2.1");

	load_ok(f, NULL, NULL, 0);
	a = &f->c.access;
	assert_int_equal(a->n_allow, 1);
	assert_string_equal(a->allow[0], "all");
	assert_true(cidr_match_any(a->allow_rules, a->n_allow, &far));
	assert_int_equal(a->n_deny, 0);
	assert_int_equal(a->max_per_ip, 0);
	assert_int_equal(a->n_unix_allow, 1);
	assert_int_equal(a->unix_allow_rules[0].kind, UNIXALLOW_ALL);
	assert_null(a->tokens_file);
	assert_int_equal(a->tokens.n, 0);
	assert_int_equal(a->auth_timeout_ms, 5000);
	assert_int_equal(a->n_metrics_allow, 2);
	assert_true(cidr_match_any(a->metrics_allow_rules, 2, &lo));
	assert_true(cidr_match_any(a->metrics_allow_rules, 2, &lo6));
	assert_false(cidr_match_any(a->metrics_allow_rules, 2, &far));
	assert_int_equal(a->n_trusted_proxies, 0);
}

static void lists_replace_the_default_then_grow(void **state)
{
	struct fx *f = *state;
	const struct config_access *a = &f->c.access;
	struct cidr_addr x = test_addr("10.1.2.3"), y = test_addr("::1"), z = test_addr("127.0.0.2");

	load_ok(f, "[access]\nallow = 10.0.0.0/8\nallow = ::1\ndeny = 10.1.0.0/16\n"
		"trusted_proxies = 127.0.0.1\nmetrics_allow = 10.9.0.0/16\n", NULL, 0);
	assert_int_equal(a->n_allow, 2);
	assert_true(cidr_match_any(a->allow_rules, 2, &x));
	assert_true(cidr_match_any(a->allow_rules, 2, &y));
	assert_false(cidr_match_any(a->allow_rules, 2, &z));
	assert_true(cidr_match_any(a->deny_rules, a->n_deny, &x));
	assert_int_equal(a->n_metrics_allow, 1);
	assert_int_equal(a->n_trusted_proxies, 1);
	/* the first override replaces the file's list, later ones add */
	load_ok(f, "[access]\nallow = 10.0.0.0/8\n",
		(const char *const[]){ "access.allow=127.0.0.2", "access.allow=::1" }, 2);
	assert_int_equal(a->n_allow, 2);
	assert_string_equal(a->allow[0], "127.0.0.2");
	assert_true(cidr_match_any(a->allow_rules, 2, &z));
	assert_false(cidr_match_any(a->allow_rules, 2, &x));
}

static void bad_values_name_the_line(void **state)
{
	struct fx *f = *state;

	load_err(f, "[access]\n\nallow = 10.0.0.1/8\n",
		 ":3: [access] allow: '10.0.0.1/8': bits set past the prefix "
		 "(did you mean 10.0.0.0/8?)");
	load_err(f, "[access]\ndeny = example.org\n", "[access] deny: 'example.org': not an IPv4");
	load_err(f, "[access]\ntrusted_proxies = ::/129\n", "prefix length must be 0 to 128");
	load_err(f, "[access]\nunix_allow = user:no-such-user-pipecast\n",
		 "[access] unix_allow: 'user:no-such-user-pipecast': no user named");
	load_err(f, "[access]\nunix_allow = 0\n", "expected all, uid:N, user:NAME or group:NAME");
	load_err(f, "[access]\nmax_per_ip = 100001\n", "out of range (0 or 1..100000)");
	load_err(f, "[access]\nauth_timeout = 50ms\n", "out of range (100ms..1m)");
	load_err(f, "[access]\nauth_timeout = 0\n", "out of range");
	load_err(f, "[access]\nauth_timeout = 61s\n", "out of range");
	load_err(f, "[access]\nallow_from = all\n", "unknown key 'allow_from'");
}

static void unix_allow_names_are_resolved(void **state)
{
	struct fx *f = *state;
	const struct config_access *a = &f->c.access;

	load_ok(f, "[access]\nunix_allow = user:root\nunix_allow = group:root\n"
		"unix_allow = uid:65534\n", NULL, 0);
	assert_int_equal(a->n_unix_allow, 3);
	assert_int_equal(a->unix_allow_rules[0].kind, UNIXALLOW_UID);
	assert_int_equal(a->unix_allow_rules[0].id, 0);
	assert_int_equal(a->unix_allow_rules[1].kind, UNIXALLOW_GID);
	assert_int_equal(a->unix_allow_rules[2].id, 65534);
}

/* The configuration line that names the fixture's tokens file. */
static const char *tokens_conf(const struct fx *f)
{
	static char text[256];

	snprintf(text, sizeof(text), "[access]\ntokens_file = %s\n", f->tokens);
	return text;
}

static void a_private_tokens_file_is_read(void **state)
{
	struct fx *f = *state;

	put(f->tokens, "# readers\nalpha\nbeta\n", 0600);
	load_ok(f, tokens_conf(f), NULL, 0);
	assert_string_equal(f->c.access.tokens_file, f->tokens);
	assert_int_equal(f->c.access.tokens.n, 2);
	assert_true(tokens_match(&f->c.access.tokens, "beta", 4));
	chmod(f->tokens, 0400);
	load_ok(f, tokens_conf(f), NULL, 0);
	/* an empty value turns tokens off again */
	load_ok(f, tokens_conf(f), (const char *const[]){ "access.tokens_file=" }, 1);
	assert_null(f->c.access.tokens_file);
	assert_int_equal(f->c.access.tokens.n, 0);
}

static void a_tokens_file_others_can_read_is_an_error(void **state)
{
	struct fx *f = *state;

	put(f->tokens, "alpha\n", 0640);
	load_err(f, tokens_conf(f), ":2: [access] tokens_file: ");
	assert_non_null(strstr(f->e.msg[0], "its group can read or write it (mode 0640); "
			       "make it 0600 or 0400, or pass it with LoadCredential="));
	chmod(f->tokens, 0604);
	load_err(f, tokens_conf(f), "others can read or write it (mode 0604)");
	chmod(f->tokens, 0620);
	load_err(f, tokens_conf(f), "its group can read or write it (mode 0620)");
}

static void a_credential_may_show_group_bits(void **state)
{
	struct fx *f = *state;

	/* LoadCredential= files show the ACL mask in their group bits */
	put(f->tokens, "alpha\n", 0440);
	setenv("CREDENTIALS_DIRECTORY", f->dir, 1);
	load_ok(f, tokens_conf(f), NULL, 0);
	assert_int_equal(f->c.access.tokens.n, 1);
	chmod(f->tokens, 0444);                 /* others: still an error */
	load_err(f, tokens_conf(f), "others can read or write it");
	chmod(f->tokens, 0440);
	setenv("CREDENTIALS_DIRECTORY", "/nonexistent", 1);
	load_err(f, tokens_conf(f), "its group can read or write it");
}

static void tokens_file_problems_never_show_a_token(void **state)
{
	struct fx *f = *state;

	put(f->tokens, "good-one\nsecret with blank\n", 0600);
	load_err(f, tokens_conf(f), "line 2: token holds a character other than visible ASCII");
	assert_null(strstr(f->e.msg[0], "secret"));
	assert_null(strstr(f->e.msg[0], "good-one"));
	put(f->tokens, "# none\n", 0600);
	load_err(f, tokens_conf(f), ": no token in the file");
	unlink(f->tokens);
	load_err(f, tokens_conf(f), ": cannot open: No such file or directory");
	assert_int_equal(mkdir(f->tokens, 0700), 0);
	load_err(f, tokens_conf(f), ": not a regular file");
	rmdir(f->tokens);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)
		T(defaults_match_the_manual),
		T(lists_replace_the_default_then_grow),
		T(bad_values_name_the_line),
		T(unix_allow_names_are_resolved),
		T(a_private_tokens_file_is_read),
		T(a_tokens_file_others_can_read_is_an_error),
		T(a_credential_may_show_group_bits),
		T(tokens_file_problems_never_show_a_token),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

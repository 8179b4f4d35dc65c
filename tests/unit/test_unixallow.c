/* test_unixallow.c: unix_allow rules, with names resolved from the user and
 * group databases (root exists on every system). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "unixallow.h"

/* Parses a rule that must be valid. */
static struct unixallow rule(const char *s)
{
	struct unixallow r;
	char err[128] = "";

	if (unixallow_parse(s, &r, err, sizeof(err)) != 0)
		fail_msg("'%s' rejected: %s", s, err);
	return r;
}

static void rules_and_names(void **state)
{
	(void)state;
	assert_int_equal(rule("all").kind, UNIXALLOW_ALL);
	assert_int_equal(rule("uid:0").kind, UNIXALLOW_UID);
	assert_int_equal(rule("uid:65534").id, 65534);
	assert_int_equal(rule("user:root").kind, UNIXALLOW_UID);
	assert_int_equal(rule("user:root").id, 0);
	assert_int_equal(rule("group:root").kind, UNIXALLOW_GID);
	assert_int_equal(rule("group:root").id, 0);
}

/* A rule that must fail with err containing want. */
static void bad(const char *s, const char *want)
{
	struct unixallow r;
	char err[128] = "";

	assert_int_equal(unixallow_parse(s, &r, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("'%s': error '%s' lacks '%s'", s, err, want);
}

static void bad_rules(void **state)
{
	(void)state;
	bad("uid:", "number");
	bad("uid:-1", "number");
	bad("uid:4294967295", "number");
	bad("uid:12a", "number");
	bad("user:no-such-user-pipecast", "no user named 'no-such-user-pipecast'");
	bad("group:no-such-group-pipecast", "no group named");
	bad("user:", "no user named");
	bad("root", "expected all, uid:N");
	bad("gid:0", "expected all, uid:N");
}

static void matching_by_uid_and_groups(void **state)
{
	struct unixallow root_only[] = { rule("uid:0") };
	struct unixallow grp[] = { rule("uid:0"), { UNIXALLOW_GID, 4242 } };
	gid_t extra[] = { 100, 4242 };
	struct unixallow_peer nobody = { 65534, 65534, NULL, 0 };
	struct unixallow_peer root = { 0, 0, NULL, 0 };
	struct unixallow_peer member = { 1000, 1000, extra, 2 };
	struct unixallow_peer primary = { 1001, 4242, NULL, 0 };

	(void)state;
	assert_false(unixallow_match(root_only, 1, &nobody));
	assert_true(unixallow_match(root_only, 1, &root));
	assert_false(unixallow_needs_groups(root_only, 1));
	assert_true(unixallow_needs_groups(grp, 2));
	assert_true(unixallow_match(grp, 2, &member));
	assert_true(unixallow_match(grp, 2, &primary));
	assert_false(unixallow_match(grp, 2, &nobody));
	assert_false(unixallow_match(grp, 0, &root));     /* no rule: nobody */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rules_and_names),
		cmocka_unit_test(bad_rules),
		cmocka_unit_test(matching_by_uid_and_groups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_statspath.c: where the stats socket lives: the daemon's default,
 * pipecastctl's discovery list, the private directory and the socket of a
 * template instance. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "compat.h"
#include "statspath.h"

/* -s alone, whatever the environment says. */
static void candidates_option_alone(__unused void **state)
{
	struct statspath_list p;

	assert_int_equal(statspath_candidates("/x.sock", "/env.sock", "/xdg", 0, &p), 0);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.path[0], "/x.sock");
}

/* $PIPECAST_SOCKET alone when there is no -s; "" counts as unset. */
static void candidates_env_alone(__unused void **state)
{
	struct statspath_list p;

	assert_int_equal(statspath_candidates(NULL, "/env.sock", "/xdg", 0, &p), 0);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.path[0], "/env.sock");
	assert_int_equal(statspath_candidates("", "/env.sock", NULL, 0, &p), 0);
	assert_string_equal(p.path[0], "/env.sock");
}

/* The default order, with and without XDG_RUNTIME_DIR. */
static void candidates_default_list(__unused void **state)
{
	struct statspath_list p;

	assert_int_equal(statspath_candidates(NULL, NULL, "/run/user/1000", 1000, &p), 0);
	assert_int_equal(p.n, 3);
	assert_string_equal(p.path[0], "/run/pipecast/stats.sock");
	assert_string_equal(p.path[1], "/run/user/1000/pipecast/stats.sock");
	assert_string_equal(p.path[2], "/tmp/pipecast-1000/stats.sock");
	assert_int_equal(statspath_candidates("", "", "", 0, &p), 0);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.path[1], "/tmp/pipecast-0/stats.sock");
}

/* A path that does not fit is refused, not truncated. */
static void candidates_too_long(__unused void **state)
{
	static char huge[STATSPATH_LEN + 10];
	struct statspath_list p;

	memset(huge, 'a', sizeof(huge) - 1);
	assert_int_equal(statspath_candidates(huge, NULL, NULL, 0, &p), -1);
	huge[STATSPATH_LEN - 10] = '\0';
	assert_int_equal(statspath_candidates(NULL, NULL, huge, 0, &p), -1);
}

/* The daemon's default: the first RuntimeDirectory=, then the user's
 * runtime directory, then the private directory; "" counts as unset. */
static void default_order(__unused void **state)
{
	char buf[128];

	assert_int_equal(statspath_default("/run/pipecast/web", "/run/user/5", 5,
					   buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/pipecast/web/stats.sock");
	assert_int_equal(statspath_default("/run/a:/run/b", NULL, 5, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/a/stats.sock");
	assert_int_equal(statspath_default("", "/run/user/5", 5, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/user/5/pipecast/stats.sock");
	assert_int_equal(statspath_default(NULL, "", 4294967295ul, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp/pipecast-4294967295/stats.sock");
}

/* The daemon and pipecastctl agree on the last candidate. */
static void default_matches_last_candidate(__unused void **state)
{
	struct statspath_list p;
	char buf[STATSPATH_LEN];

	assert_int_equal(statspath_candidates(NULL, NULL, NULL, 77, &p), 0);
	assert_int_equal(statspath_default(NULL, NULL, 77, buf, sizeof(buf)), 0);
	assert_string_equal(p.path[p.n - 1], buf);
}

/* Too small a buffer fails instead of truncating. */
static void default_too_small(__unused void **state)
{
	char buf[20], dir[20];

	assert_int_equal(statspath_default("/run/pipecast/web", NULL, 0, buf, sizeof(buf)), -1);
	assert_int_equal(statspath_default(NULL, NULL, 1000, buf, sizeof(buf)), -1);
	assert_int_equal(statspath_private_dir(1000, dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/tmp/pipecast-1000");
	assert_int_equal(statspath_private_dir(100000, dir, sizeof(dir)), -1);
}

/* Instance names: what systemd's escaping produces, nothing that leaves
 * the run directory. */
static void instance_names(__unused void **state)
{
	static const char *const good[] = { "web", "a", "log-1", "x_y", "a.b",
					    "foo\\x2dbar", "a:b", "u@h" };
	static const char *const bad[] = { "", ".", "..", ".hidden", "a/b", "../x",
					   "a b", "a\n", "é" };
	char longest[STATSPATH_NAME_MAX + 2];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(statspath_instance_ok(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(statspath_instance_ok(bad[i]));
	memset(longest, 'n', sizeof(longest));
	longest[STATSPATH_NAME_MAX] = '\0';
	assert_true(statspath_instance_ok(longest));
	longest[STATSPATH_NAME_MAX] = 'n';
	longest[STATSPATH_NAME_MAX + 1] = '\0';
	assert_false(statspath_instance_ok(longest));
}

/* An instance's socket sits in its own runtime directory. */
static void instance_path(__unused void **state)
{
	char buf[64];

	assert_int_equal(statspath_instance(STATSPATH_RUNDIR, "web", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/pipecast/web/stats.sock");
	assert_int_equal(statspath_instance("/r", "..", buf, sizeof(buf)), -1);
	assert_int_equal(statspath_instance("/r", "a/b", buf, sizeof(buf)), -1);
	assert_int_equal(statspath_instance("/a-much-longer-run-directory-name-here",
					    "an-instance-name", buf, sizeof(buf)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(candidates_option_alone),
		cmocka_unit_test(candidates_env_alone),
		cmocka_unit_test(candidates_default_list),
		cmocka_unit_test(candidates_too_long),
		cmocka_unit_test(default_order),
		cmocka_unit_test(default_matches_last_candidate),
		cmocka_unit_test(default_too_small),
		cmocka_unit_test(instance_names),
		cmocka_unit_test(instance_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

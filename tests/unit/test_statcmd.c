/* test_statcmd.c: the stats command parser: every command, its json form,
 * blanks and '\r', admin flags, client ids, and every error message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "statcmd.h"

/* Parses a C string; the error text lands in err. */
static int parse(const char *line, struct statcmd *cmd, char *err)
{
	memset(cmd, 0xa5, sizeof(*cmd));
	return statcmd_parse(line, strlen(line), cmd, err, STATCMD_ERR_MAX);
}

/* Asserts that line parses to kind, json and admin. */
static void expect_cmd(const char *line, enum statcmd_kind kind, bool json, bool admin)
{
	struct statcmd cmd;
	char err[STATCMD_ERR_MAX] = "";

	if (parse(line, &cmd, err) != 0)
		fail_msg("'%s' rejected: %s", line, err);
	assert_int_equal(cmd.kind, kind);
	assert_int_equal(cmd.json, json);
	assert_int_equal(cmd.admin, admin);
}

/* Asserts that line is rejected with exactly msg. */
static void expect_err(const char *line, const char *msg)
{
	struct statcmd cmd;
	char err[STATCMD_ERR_MAX] = "";

	assert_int_equal(parse(line, &cmd, err), -1);
	assert_string_equal(err, msg);
}

static void every_command(void **state)
{
	(void)state;
	expect_cmd("show info", STATCMD_SHOW_INFO, false, false);
	expect_cmd("show clients", STATCMD_SHOW_CLIENTS, false, false);
	expect_cmd("show timers", STATCMD_SHOW_TIMERS, false, false);
	expect_cmd("show closed", STATCMD_SHOW_CLOSED, false, false);
	expect_cmd("show metrics", STATCMD_SHOW_METRICS, false, false);
	expect_cmd("show config", STATCMD_SHOW_CONFIG, false, true);
	expect_cmd("reload", STATCMD_RELOAD, false, true);
	expect_cmd("help", STATCMD_HELP, false, false);
	expect_cmd("quit", STATCMD_QUIT, false, false);
}

static void json_variants(void **state)
{
	(void)state;
	expect_cmd("show info json", STATCMD_SHOW_INFO, true, false);
	expect_cmd("show clients json", STATCMD_SHOW_CLIENTS, true, false);
	expect_cmd("show timers json", STATCMD_SHOW_TIMERS, true, false);
	expect_cmd("show config json", STATCMD_SHOW_CONFIG, true, true);
	expect_cmd("show closed json", STATCMD_SHOW_CLOSED, true, false);
}

static void blanks_and_carriage_return(void **state)
{
	(void)state;
	expect_cmd("  show \t info\t\tjson  ", STATCMD_SHOW_INFO, true, false);
	expect_cmd("show info\r", STATCMD_SHOW_INFO, false, false);
	expect_cmd("\tquit \r", STATCMD_QUIT, false, false);
	expect_cmd("show timers json\r", STATCMD_SHOW_TIMERS, true, false);
	/* only one trailing '\r' is a line ending; another is part of a word */
	expect_err("quit\r\r", "unknown command 'quit?'");
}

static void kill_client_ids(void **state)
{
	struct statcmd cmd;
	char err[STATCMD_ERR_MAX];

	(void)state;
	assert_int_equal(parse("kill client 42", &cmd, err), 0);
	assert_int_equal(cmd.kind, STATCMD_KILL_CLIENT);
	assert_true(cmd.admin);
	assert_false(cmd.json);
	assert_int_equal(cmd.id, 42);
	assert_int_equal(parse(" kill  client\t0 ", &cmd, err), 0);
	assert_int_equal(cmd.id, 0);
	assert_int_equal(parse("kill client 18446744073709551615\r", &cmd, err), 0);
	assert_true(cmd.id == UINT64_MAX);
	assert_int_equal(parse("kill client 007", &cmd, err), 0);
	assert_int_equal(cmd.id, 7);
}

static void kill_client_bad_ids(void **state)
{
	(void)state;
	expect_err("kill client 18446744073709551616",
		   "invalid client id '18446744073709551616'");
	expect_err("kill client 99999999999999999999999",
		   "invalid client id '99999999999999999999999'");
	expect_err("kill client 12a", "invalid client id '12a'");
	expect_err("kill client -1", "invalid client id '-1'");
	expect_err("kill client +1", "invalid client id '+1'");
	expect_err("kill client 0x10", "invalid client id '0x10'");
	expect_err("kill client", "usage: kill client ID");
	expect_err("kill client 1 2", "usage: kill client ID");
	expect_err("kill", "usage: kill client ID");
	expect_err("kill 12", "usage: kill client ID");
	expect_err("kill clients 12", "usage: kill client ID");
}

static void id_with_nul_byte_is_invalid(void **state)
{
	static const char line[] = "kill client 1\0002";
	struct statcmd cmd;
	char err[STATCMD_ERR_MAX];

	(void)state;
	assert_int_equal(statcmd_parse(line, sizeof(line) - 1, &cmd, err, sizeof(err)), -1);
	assert_string_equal(err, "invalid client id '1?2'");
}

static void empty_and_blank_lines(void **state)
{
	(void)state;
	expect_err("", "empty command");
	expect_err("   \t ", "empty command");
	expect_err("\r", "empty command");
	expect_err(" \t\r", "empty command");
}

static void unknown_commands(void **state)
{
	(void)state;
	expect_err("foo", "unknown command 'foo'");
	expect_err("foo bar baz", "unknown command 'foo'");
	expect_err("SHOW INFO", "unknown command 'SHOW'");
	expect_err("sh\x1b[2Jow", "unknown command 'sh?[2Jow'");
	expect_err("info", "unknown command 'info'");
}

static void wrong_arguments(void **state)
{
	(void)state;
	expect_err("show info xml", "usage: show info [json]");
	expect_err("show info json json", "usage: show info [json]");
	expect_err("show info JSON", "usage: show info [json]");
	expect_err("show clients json 1", "usage: show clients [json]");
	expect_err("show timers all", "usage: show timers [json]");
	expect_err("show closed 5", "usage: show closed [json]");
	expect_err("show metrics json", "usage: show metrics");
	expect_err("reload now", "usage: reload");
	expect_err("help me", "usage: help");
	expect_err("quit now", "usage: quit");
}

static void bad_subcommand_lists_the_verb(void **state)
{
	static const char show_usage[] =
		"usage: show info [json] | show clients [json] | show timers [json]"
		" | show closed [json] | show metrics | show config [json]";

	(void)state;
	expect_err("show", show_usage);
	expect_err("show foo", show_usage);
	expect_err("  show   \t", show_usage);
	expect_err("show json", show_usage);
}

static void long_word_is_cut_in_message(void **state)
{
	char line[300];
	struct statcmd cmd;
	char err[STATCMD_ERR_MAX];

	(void)state;
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	assert_int_equal(parse(line, &cmd, err), -1);
	assert_true(strlen(err) < 100);
	assert_non_null(strstr(err, "xxx...'"));
	assert_memory_equal(err, "unknown command 'xxx", 20);
}

static void small_error_buffer_is_truncated(void **state)
{
	struct statcmd cmd;
	char err[8];

	(void)state;
	assert_int_equal(statcmd_parse("show", 4, &cmd, err, sizeof(err)), -1);
	assert_string_equal(err, "usage: ");
	assert_int_equal(statcmd_parse("foo", 3, &cmd, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown");
}

static void many_words_do_not_overflow(void **state)
{
	(void)state;
	expect_err("show info json a b c d e f g h", "usage: show info [json]");
	expect_err("kill client 1 2 3 4 5 6", "usage: kill client ID");
}

static void help_text(void **state)
{
	static const char expected[] =
		"show info [json] - all counters and gauges\n"
		"show clients [json] - one row per connected client\n"
		"show timers [json] - live timers by kind\n"
		"show closed [json] - the last 100 closed clients, oldest first\n"
		"show metrics - Prometheus text format\n"
		"show config [json] - every key, where it was set, its value (admin)\n"
		"kill client ID - close one client (admin)\n"
		"reload - reload the configuration (admin)\n"
		"help - this list\n"
		"quit - close the connection\n";
	const char *h = statcmd_help();

	(void)state;
	assert_string_equal(h, expected);
	assert_null(strstr(h, "\n\n"));
	assert_true(h[0] != '\n');
}

static void usage_per_kind(void **state)
{
	(void)state;
	assert_string_equal(statcmd_usage(STATCMD_SHOW_INFO), "show info [json]");
	assert_string_equal(statcmd_usage(STATCMD_KILL_CLIENT), "kill client ID");
	assert_string_equal(statcmd_usage(STATCMD_QUIT), "quit");
	assert_string_equal(statcmd_usage(STATCMD_COUNT), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_command),
		cmocka_unit_test(json_variants),
		cmocka_unit_test(blanks_and_carriage_return),
		cmocka_unit_test(kill_client_ids),
		cmocka_unit_test(kill_client_bad_ids),
		cmocka_unit_test(id_with_nul_byte_is_invalid),
		cmocka_unit_test(empty_and_blank_lines),
		cmocka_unit_test(unknown_commands),
		cmocka_unit_test(wrong_arguments),
		cmocka_unit_test(bad_subcommand_lists_the_verb),
		cmocka_unit_test(long_word_is_cut_in_message),
		cmocka_unit_test(small_error_buffer_is_truncated),
		cmocka_unit_test(many_words_do_not_overflow),
		cmocka_unit_test(help_text),
		cmocka_unit_test(usage_per_kind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

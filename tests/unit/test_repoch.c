/* test_repoch.c: the epoch group of a Redis stream: its names, the EVAL
 * command of the script (read back argument by argument), and the
 * script's reply inside EXEC's answer as redis-server 7.0 sends it, read
 * at every split point, with the XREAD entries after it; missing streams,
 * errors and wrong shapes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "repoch.h"
#include "resp_fixture.h"

static const struct resp_limits lim = {
	.max_bulk = 4096, .max_line = 64, .max_array = 64, .max_depth = 6,
};

/* {group, last-generated-id, max-deleted-entry-id, entries-added,
 * length}, then the XREAD of the same transaction (EXEC's array). */
static const char reply[] =
	"*2\r\n"
	"*5\r\n$31\r\npipecast-epoch-0123456789abcdef\r\n$3\r\n2-0\r\n$3\r\n0-7\r\n"
	":12\r\n:3\r\n"
	FIXTURE_XREAD;

/* Names go both ways; anything but the prefix and 16 lowercase hex
 * digits is not ours. */
static void names(__unused void **state)
{
	char buf[REPOCH_NAME_LEN + 1];
	uint64_t e = 0;

	repoch_name(buf, 0xfedcba9876543210ULL);
	assert_string_equal(buf, "pipecast-epoch-fedcba9876543210");
	assert_int_equal(repoch_name_parse(buf, strlen(buf), &e), 0);
	assert_true(e == 0xfedcba9876543210ULL);
	repoch_name(buf, 1);
	assert_string_equal(buf, "pipecast-epoch-0000000000000001");
	assert_int_equal(repoch_name_parse("pipecast-epoch-FEDCBA9876543210", 31, &e), -1);
	assert_int_equal(repoch_name_parse("pipecast-epoch-fedcba987654321", 30, &e), -1);
	assert_int_equal(repoch_name_parse("pipecast-epoch-fedcba98765432100", 32, &e), -1);
	assert_int_equal(repoch_name_parse("pipecast-epocx-fedcba9876543210", 31, &e), -1);
	assert_int_equal(repoch_name_parse("pipecast-epoch-fedcba987654321g", 31, &e), -1);
}

/* Reads one bulk argument of a command and compares it. */
static void arg_is(struct resp_reader *r, const char *cmd, size_t len, const char *want)
{
	struct resp_elem el;

	assert_int_equal(resp_next(r, cmd, len, &el), RESP_OK);
	assert_int_equal(el.type, RESP_BULK);
	assert_int_equal(el.len, strlen(want));
	assert_memory_equal(el.str, want, el.len);
}

/* The command: EVAL, the script, one key, then fresh and renew; too
 * small a buffer is told the length it needs. */
static void command(__unused void **state)
{
	static char cmd[8192];
	const struct resp_limits big = { 8192, 64, 64, 2 };
	struct resp_reader r;
	struct resp_elem el;
	size_t n = repoch_cmd(cmd, sizeof(cmd), "k:1", 3, 0xaa, 0xbb);

	assert_true(n > 500 && n < sizeof(cmd));
	resp_reader_init(&r, &big);
	assert_int_equal(resp_next(&r, cmd, n, &el), RESP_OK);
	assert_true(el.type == RESP_ARRAY && el.n == 6);
	arg_is(&r, cmd, n, "EVAL");
	assert_int_equal(resp_next(&r, cmd, n, &el), RESP_OK);
	assert_non_null(memmem(el.str, el.len, "XGROUP', 'CREATE'", 17));
	arg_is(&r, cmd, n, "1");
	arg_is(&r, cmd, n, "k:1");
	arg_is(&r, cmd, n, "pipecast-epoch-00000000000000aa");
	arg_is(&r, cmd, n, "pipecast-epoch-00000000000000bb");
	assert_int_equal(r.pos, n);
	assert_int_equal(repoch_cmd(cmd, 100, "k:1", 3, 0xaa, 0xbb), n);
	n = repoch_cmd(cmd, sizeof(cmd), "k", 1, 0xaa, 0);
	resp_reader_init(&r, &big);
	assert_int_equal(resp_next(&r, cmd, n, &el), RESP_OK);
	for (int i = 0; i < 5; i++)
		assert_int_equal(resp_skip(&r, cmd, n), RESP_OK);
	arg_is(&r, cmd, n, "");
	assert_int_equal(r.pos, n);
}

/* In EXEC's answer: the figures, then the entries of XREAD. Cut anywhere
 * before the figures end: MORE, the reader unmoved. */
static void reply_every_split(__unused void **state)
{
	size_t len = strlen(reply), headlen = strstr(reply, "*1\r\n*2") - reply;

	for (size_t cut = 4; cut <= len; cut++) {
		struct resp_reader r;
		struct resp_elem el;
		struct repoch_reply rep;
		struct rstream_walk w;
		struct seen seen;
		const char *msg;
		size_t msglen;
		enum rstream_status st;

		resp_reader_init(&r, &lim);
		assert_int_equal(resp_next(&r, reply, cut, &el), RESP_OK);
		st = repoch_read(&r, reply, cut, &rep, &msg, &msglen);
		if (cut < headlen) {
			assert_int_equal(st, RSTREAM_MORE);
			assert_int_equal(r.pos, 4);
			continue;
		}
		assert_int_equal(st, RSTREAM_END);
		assert_true(rep.exists && rep.epoch == 0x0123456789abcdefULL);
		assert_true(rep.last_ms == 2 && rep.last_seq == 0);
		assert_true(rep.deleted_ms == 0 && rep.deleted_seq == 7);
		assert_true(rep.added == 12 && rep.length == 3);
		if (cut < len)
			continue;
		rstream_walk_init(&w, &r, RSTREAM_XREAD);
		assert_int_equal(seen_rest(&seen, &w, reply, len), RSTREAM_END);
		assert_string_equal(seen.text, FIXTURE_SEEN);
		assert_int_equal(r.pos, len);
		assert_true(resp_reader_idle(&r));
	}
}

/* A reply with these members. */
#define HEAD(name, last, del, added, length) \
	"*5\r\n$31\r\n" name "\r\n$3\r\n" last "\r\n$3\r\n" del "\r\n:" added "\r\n:" \
	length "\r\n"

/* Reads a reply that is not a stream's figures. */
static enum rstream_status read_one(const char *text, struct repoch_reply *rep,
				    const char **msg, size_t *msglen)
{
	struct resp_reader r;
	enum rstream_status st;

	resp_reader_init(&r, &lim);
	st = repoch_read(&r, text, strlen(text), rep, msg, msglen);
	if (st != RSTREAM_END && st != RSTREAM_REPLY_ERROR)
		assert_int_equal(r.pos, 0);
	return st;
}

/* No such stream, errors, and replies of the wrong shape. */
static void other_replies(__unused void **state)
{
	struct repoch_reply rep;
	const char *msg = NULL;
	size_t msglen = 0;

	assert_int_equal(read_one("*0\r\n", &rep, &msg, &msglen), RSTREAM_END);
	assert_false(rep.exists);
	assert_int_equal(read_one("-NOPERM this user has no permissions\r\n", &rep, &msg,
				  &msglen), RSTREAM_REPLY_ERROR);
	assert_int_equal(msglen, strlen("NOPERM this user has no permissions"));
	assert_memory_equal(msg, "NOPERM", 6);
	assert_int_equal(read_one("*2\r\n$1\r\na\r\n$3\r\n1-0\r\n", &rep, &msg, &msglen),
			 RSTREAM_EPROTO);
	assert_int_equal(read_one("*4\r\n$31\r\npipecast-epoch-0123456789abcdef\r\n$3\r\n1-0\r\n"
				  "$3\r\n0-0\r\n:1\r\n", &rep, &msg, &msglen), RSTREAM_EPROTO);
	assert_int_equal(read_one(HEAD("pipecast-epoch-0123456789abcdeF", "1-0", "0-0", "1", "1"),
				  &rep, &msg, &msglen), RSTREAM_EPROTO);
	assert_int_equal(read_one(HEAD("pipecast-epoch-0123456789abcdef", "1_0", "0-0", "1", "1"),
				  &rep, &msg, &msglen), RSTREAM_EPROTO);
	assert_int_equal(read_one(HEAD("pipecast-epoch-0123456789abcdef", "1-0", "0-0", "-2", "1"),
				  &rep, &msg, &msglen), RSTREAM_EPROTO);
	assert_int_equal(read_one(HEAD("pipecast-epoch-0123456789abcdef", "1-0", "0-0", "-1", "-1"),
				  &rep, &msg, &msglen), RSTREAM_EPROTO);
	assert_int_equal(read_one("*5\r\n$31\r\npipecast-epoch-0123456789abcdef\r\n$3\r\n1-0\r\n"
				  "$-1\r\n:1\r\n:1\r\n", &rep, &msg, &msglen), RSTREAM_EPROTO);
	assert_int_equal(read_one("*5\r\n$31\r\npipecast-epoch-0123456789abcdef\r\n$3\r\n1-0\r\n"
				  "$3\r\n0-0\r\n$1\r\n1\r\n:1\r\n", &rep, &msg, &msglen),
			 RSTREAM_EPROTO);
	assert_int_equal(read_one("*5\r\n:1\r\n$3\r\n1-0\r\n$3\r\n0-0\r\n:1\r\n:1\r\n",
				  &rep, &msg, &msglen), RSTREAM_EPROTO);
	assert_int_equal(read_one(HEAD("pipecast-epoch-0123456789abcdef", "1-0", "0-0", "-1", "0"),
				  &rep, &msg, &msglen), RSTREAM_END);
	assert_true(rep.exists && rep.added == -1 && rep.length == 0);
	assert_int_equal(read_one("+OK\r\n", &rep, &msg, &msglen), RSTREAM_EPROTO);
	assert_int_equal(read_one("$99999\r\n", &rep, &msg, &msglen), RSTREAM_ELIMIT);
	assert_int_equal(read_one("!garbage\r\n", &rep, &msg, &msglen), RSTREAM_EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names),
		cmocka_unit_test(command),
		cmocka_unit_test(reply_every_split),
		cmocka_unit_test(other_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_rstream.c: walking XREAD and XRANGE replies (bytes as Redis 7.0
 * sends them) entry by entry at every split point with the buffer
 * compacted as the daemon would, nil and error replies, wrong shapes, the
 * XINFO STREAM figures, and entry ids with their sequence mapping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "resp_fixture.h"
#include "rstream.h"

static const struct resp_limits lim = {
	.max_bulk = 1024, .max_line = 64, .max_array = 64, .max_depth = 5,
};

static const char xread_reply[] = FIXTURE_XREAD;
static const char xrange_reply[] = FIXTURE_XRANGE;

/* XINFO STREAM s, as redis-server 7.0 answered it. */
static const char xinfo_reply[] =
	"*20\r\n$6\r\nlength\r\n:3\r\n$15\r\nradix-tree-keys\r\n:1\r\n"
	"$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n2-0\r\n"
	"$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:3\r\n"
	"$23\r\nrecorded-first-entry-id\r\n$3\r\n1-1\r\n$6\r\ngroups\r\n:0\r\n"
	"$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-1\r\n*4\r\n$4\r\ndata\r\n$5\r\nhello\r\n"
	"$5\r\nother\r\n$1\r\nx\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n2-0\r\n*2\r\n"
	"$4\r\ndata\r\n$3\r\na\nb\r\n";

/* Walks text fed `step` bytes at a time into a buffer of `cap` bytes,
 * discarding consumed bytes whenever more are needed. */
static void walk(const char *text, size_t step, size_t cap, enum rstream_kind kind,
		 int replies, struct seen *s)
{
	char buf[1024];
	size_t have = 0, fed = 0, total = strlen(text);
	struct resp_reader r;
	struct rstream_walk w;
	struct rstream_entry e;

	assert_true(cap <= sizeof(buf));
	memset(s, 0, sizeof(*s));
	resp_reader_init(&r, &lim);
	rstream_walk_init(&w, &r, kind);
	while (s->ends < replies) {
		enum rstream_status st = rstream_next(&w, buf, have, &e);

		if (st == RSTREAM_ENTRY) {
			seen_entry(s, &e);
		} else if (st == RSTREAM_END || st == RSTREAM_NIL) {
			s->ends++;
		} else {
			size_t n;

			assert_int_equal(st, RSTREAM_MORE);
			memmove(buf, buf + r.pos, have - r.pos);
			have -= r.pos;
			resp_reader_shift(&r, r.pos);
			assert_true(fed < total);
			assert_true(have < cap);
			n = total - fed < step ? total - fed : step;
			n = n < cap - have ? n : cap - have;
			memcpy(buf + have, text + fed, n);
			have += n;
			fed += n;
		}
	}
	assert_int_equal(fed, total);
	assert_int_equal(r.pos, have);
	assert_true(resp_reader_idle(&r));
}

/* Walks a reply fed in steps of every size: the same entries each time. */
static void every_split(const char *text, enum rstream_kind kind)
{
	struct seen s;

	for (size_t step = 1; step <= strlen(text); step++) {
		walk(text, step, strlen(text) + 1, kind, 1, &s);
		assert_string_equal(s.text, FIXTURE_SEEN);
	}
}

static void xread_every_split(void **state __unused)
{
	every_split(xread_reply, RSTREAM_XREAD);
}

/* A buffer that only holds the largest entry (63 bytes) and a header
 * still gets every entry: the walk never needs the whole reply at once. */
static void xread_small_buffer(void **state __unused)
{
	struct seen s;

	walk(xread_reply, 7, 64, RSTREAM_XREAD, 1, &s);
	assert_string_equal(s.text, FIXTURE_SEEN);
}

static void xrange_every_split(void **state __unused)
{
	every_split(xrange_reply, RSTREAM_XRANGE);
}

/* Replies follow one another on one connection: nil (BLOCK timed out),
 * an empty reply, entries. */
static void successive_replies(void **state __unused)
{
	char text[1024];
	struct seen s;

	snprintf(text, sizeof(text), "*-1\r\n*0\r\n%s*-1\r\n%s", xread_reply, xread_reply);
	walk(text, 5, sizeof(text), RSTREAM_XREAD, 5, &s);
	assert_string_equal(s.text, "1-1=hello;1-2!;2-0=a\nb;1-1=hello;1-2!;2-0=a\nb;");
}

/* Reads a complete reply with a fresh walk; returns the first answer. */
static enum rstream_status first(const char *text, enum rstream_kind kind,
				 struct rstream_entry *e)
{
	static struct resp_reader r;
	static struct rstream_walk w;

	resp_reader_init(&r, &lim);
	rstream_walk_init(&w, &r, kind);
	return rstream_next(&w, text, strlen(text), e);
}

static void errors_and_nil(void **state __unused)
{
	struct rstream_entry e;

	assert_int_equal(first("-WRONGTYPE Operation against a key\r\n", RSTREAM_XREAD, &e),
			 RSTREAM_REPLY_ERROR);
	assert_int_equal(e.data_len, strlen("WRONGTYPE Operation against a key"));
	assert_memory_equal(e.data, "WRONGTYPE", 9);
	assert_int_equal(first("*-1\r\n", RSTREAM_XREAD, &e), RSTREAM_NIL);
	assert_int_equal(first("*0\r\n", RSTREAM_XRANGE, &e), RSTREAM_END);
	/* an entry whose fields are nil (deleted entry) has no data */
	assert_int_equal(first("*1\r\n*2\r\n$3\r\n5-1\r\n*-1\r\n", RSTREAM_XRANGE, &e),
			 RSTREAM_ENTRY);
	assert_false(e.has_data);
	assert_int_equal(e.ms, 5);
	assert_int_equal(e.seq, 1);
	/* the first `data` field counts */
	assert_int_equal(first("*1\r\n*2\r\n$3\r\n5-1\r\n*4\r\n$4\r\ndata\r\n$1\r\nA\r\n"
			       "$4\r\ndata\r\n$1\r\nB\r\n", RSTREAM_XRANGE, &e), RSTREAM_ENTRY);
	assert_memory_equal(e.data, "A", 1);
}

static void wrong_shapes(void **state __unused)
{
	static const struct { const char *text; enum rstream_kind kind; } bad[] = {
		{ "+OK\r\n", RSTREAM_XREAD },
		{ ":1\r\n", RSTREAM_XRANGE },
		{ "*-1\r\n", RSTREAM_XRANGE },
		{ "*1\r\n*3\r\n", RSTREAM_XREAD },
		{ "*1\r\n*2\r\n:1\r\n", RSTREAM_XREAD },
		{ "*1\r\n*2\r\n$1\r\ns\r\n$1\r\nx\r\n", RSTREAM_XREAD },
		{ "*1\r\n*3\r\n$3\r\n1-1\r\n", RSTREAM_XRANGE },
		{ "*1\r\n*2\r\n$3\r\n1x1\r\n*0\r\n", RSTREAM_XRANGE },
		{ "*1\r\n*2\r\n$3\r\n1-1\r\n:0\r\n", RSTREAM_XRANGE },
		{ "*1\r\n*2\r\n$3\r\n1-1\r\n*1\r\n$1\r\nx\r\n", RSTREAM_XRANGE },
		{ "*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n:1\r\n$1\r\nx\r\n", RSTREAM_XRANGE },
		{ "*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nx\r\n*0\r\n", RSTREAM_XRANGE },
		{ "*1\r\n$1\r\nx\r\n", RSTREAM_XRANGE },
		{ "#garbage\r\n", RSTREAM_XREAD },
	};
	struct rstream_entry e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum rstream_status st = first(bad[i].text, bad[i].kind, &e);

		if (st != RSTREAM_EPROTO)
			fail_msg("case %zu: status %d, not EPROTO", i, st);
	}
	assert_int_equal(first("*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$4\r\ndata\r\n$2000\r\n",
			       RSTREAM_XRANGE, &e), RSTREAM_ELIMIT);
}

/* XREAD's entries' fields sit 5 arrays deep: a reader allowing 4 refuses. */
static void xread_needs_depth_5(void **state __unused)
{
	struct resp_limits shallow = lim;
	struct resp_reader r;
	struct rstream_walk w;
	struct rstream_entry e;

	shallow.max_depth = 4;
	resp_reader_init(&r, &shallow);
	rstream_walk_init(&w, &r, RSTREAM_XREAD);
	assert_int_equal(rstream_next(&w, xread_reply, strlen(xread_reply), &e),
			 RSTREAM_ELIMIT);
}

static void xinfo_figures(void **state __unused)
{
	struct resp_reader r;
	struct rstream_info info;
	const char *msg = NULL;
	size_t msglen = 0, n = strlen(xinfo_reply);

	resp_reader_init(&r, &lim);
	for (size_t cut = 0; cut < n; cut++) {
		assert_int_equal(rstream_info_read(&r, xinfo_reply, cut, &info, &msg, &msglen),
				 RSTREAM_MORE);
		assert_int_equal(r.pos, 0);
	}
	assert_int_equal(rstream_info_read(&r, xinfo_reply, n, &info, &msg, &msglen),
			 RSTREAM_END);
	assert_int_equal(r.pos, n);
	assert_true(resp_reader_idle(&r));
	assert_int_equal(info.length, 3);
	assert_int_equal(info.entries_added, 3);
	assert_int_equal(info.last_ms, 2);
	assert_int_equal(info.last_seq, 0);
	assert_true(info.has_first);
	assert_int_equal(info.first_ms, 1);
	assert_int_equal(info.first_seq, 1);

	resp_reader_init(&r, &lim);
	assert_int_equal(rstream_info_read(&r, "-ERR no such key\r\n", 18, &info, &msg, &msglen),
			 RSTREAM_REPLY_ERROR);
	assert_int_equal(msglen, 15);
	assert_memory_equal(msg, "ERR no such key", 15);
}

static void xinfo_old_and_broken(void **state __unused)
{
	/* Redis 6: no entries-added; an empty stream: first-entry nil */
	static const char old[] =
		"*6\r\n$6\r\nlength\r\n:0\r\n$17\r\nlast-generated-id\r\n$3\r\n0-0\r\n"
		"$11\r\nfirst-entry\r\n$-1\r\n";
	static const char *const bad[] = {
		"*2\r\n$6\r\nlength\r\n:0\r\n",
		"*4\r\n$6\r\nlength\r\n$1\r\n0\r\n$17\r\nlast-generated-id\r\n$3\r\n0-0\r\n",
		"*4\r\n$6\r\nlength\r\n:0\r\n$17\r\nlast-generated-id\r\n$3\r\n0x0\r\n",
		"*3\r\n$6\r\nlength\r\n:0\r\n$1\r\nx\r\n",
		"$5\r\nhello\r\n",
	};
	struct resp_reader r;
	struct rstream_info info;
	const char *msg;
	size_t msglen;

	resp_reader_init(&r, &lim);
	assert_int_equal(rstream_info_read(&r, old, strlen(old), &info, &msg, &msglen),
			 RSTREAM_END);
	assert_int_equal(info.entries_added, -1);
	assert_false(info.has_first);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		resp_reader_init(&r, &lim);
		if (rstream_info_read(&r, bad[i], strlen(bad[i]), &info, &msg, &msglen) !=
		    RSTREAM_EPROTO)
			fail_msg("case %zu not refused", i);
	}
}

static void ids_and_seq(void **state __unused)
{
	char buf[RSTREAM_ID_MAX + 1];
	uint64_t ms, seq, s;

	assert_int_equal(rstream_id_parse("1732960000123-5", 15, &ms, &seq), 0);
	assert_true(ms == 1732960000123ULL && seq == 5);
	assert_int_equal(rstream_id_parse("18446744073709551615-18446744073709551615", 41,
					  &ms, &seq), 0);
	assert_true(ms == UINT64_MAX && seq == UINT64_MAX);
	assert_int_equal(rstream_id_format(buf, ms, seq), 41);
	assert_string_equal(buf, "18446744073709551615-18446744073709551615");
	assert_int_equal(rstream_id_parse("18446744073709551616-0", 22, &ms, &seq), -1);
	assert_int_equal(rstream_id_parse("1-", 2, &ms, &seq), -1);
	assert_int_equal(rstream_id_parse("-1", 2, &ms, &seq), -1);
	assert_int_equal(rstream_id_parse("12", 2, &ms, &seq), -1);
	assert_int_equal(rstream_id_parse("1-2-3", 5, &ms, &seq), -1);
	assert_int_equal(rstream_id_parse("1-+2", 4, &ms, &seq), -1);

	assert_int_equal(rstream_id_to_seq(1732960000123ULL, 5, &s), 0);
	assert_true(s == 1732960000123000005ULL);
	rstream_seq_to_id(s, &ms, &seq);
	assert_true(ms == 1732960000123ULL && seq == 5);
	assert_int_equal(rstream_id_to_seq(0, 1, &s), 0);
	assert_true(s == 1);
	assert_int_equal(rstream_id_to_seq(0, 0, &s), -1);
	assert_int_equal(rstream_id_to_seq(7, 1000000, &s), -1);
	assert_int_equal(rstream_id_to_seq(18446744073709ULL, 551615, &s), 0);
	assert_true(s == UINT64_MAX);
	assert_int_equal(rstream_id_to_seq(18446744073709ULL, 551616, &s), -1);
	assert_int_equal(rstream_id_to_seq(18446744073710ULL, 0, &s), -1);
	/* order is kept across a millisecond boundary */
	{
		uint64_t a, b;

		assert_int_equal(rstream_id_to_seq(100, 999999, &a), 0);
		assert_int_equal(rstream_id_to_seq(101, 0, &b), 0);
		assert_true(a < b);
	}
}

/* An entry too large to read is named by its id: after the entries
 * before it, and at any point once its head is held; not elsewhere. */
static void peek_oversized_entry(__unused void **state)
{
	static const char reply[] =
		"*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$4\r\ndata\r\n$1\r\na\r\n"
		"*2\r\n$5\r\n7-123\r\n*2\r\n$4\r\ndata\r\n$2000\r\n";
	struct resp_reader r;
	struct rstream_walk w;
	struct rstream_entry e;
	uint64_t ms = 0, seq = 0;
	size_t head = strlen(reply) - strlen("*2\r\n$4\r\ndata\r\n$2000\r\n");

	resp_reader_init(&r, &lim);
	rstream_walk_init(&w, &r, RSTREAM_XRANGE);
	assert_int_equal(rstream_peek_id(&w, reply, strlen(reply), &ms, &seq), -1);
	assert_int_equal(rstream_next(&w, reply, strlen(reply), &e), RSTREAM_ENTRY);
	assert_int_equal(rstream_next(&w, reply, strlen(reply), &e), RSTREAM_ELIMIT);
	assert_int_equal(rstream_peek_id(&w, reply, strlen(reply), &ms, &seq), 0);
	assert_true(ms == 7 && seq == 123);
	assert_int_equal(rstream_peek_id(&w, reply, head - 1, &ms, &seq), -1);
	assert_int_equal(rstream_peek_id(&w, reply, head, &ms, &seq), 0);
}

/* Ids compare as Redis orders them. */
static void id_order(__unused void **state)
{
	assert_true(rstream_id_cmp(1, 9, 2, 0) < 0);
	assert_true(rstream_id_cmp(2, 0, 1, 9) > 0);
	assert_true(rstream_id_cmp(2, 1, 2, 0) > 0);
	assert_int_equal(rstream_id_cmp(3, 3, 3, 3), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(xread_every_split),
		cmocka_unit_test(xread_small_buffer),
		cmocka_unit_test(xrange_every_split),
		cmocka_unit_test(successive_replies),
		cmocka_unit_test(errors_and_nil),
		cmocka_unit_test(wrong_shapes),
		cmocka_unit_test(xread_needs_depth_5),
		cmocka_unit_test(xinfo_figures),
		cmocka_unit_test(xinfo_old_and_broken),
		cmocka_unit_test(ids_and_seq),
		cmocka_unit_test(peek_oversized_entry),
		cmocka_unit_test(id_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_cursor.c: a reader of the ring under the drop and skip policies; a
 * skipped reader of line-framed data still receives whole records only. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cursor.h"

/* Sends everything the cursor has, as a client's writev would. */
static size_t drain(struct cursor *c, const struct ring *r, char *out, size_t limit)
{
	struct iovec iov[3];
	int n = cursor_iov(c, r, iov);
	size_t len = 0;

	for (int i = 0; i < n && len < limit; i++) {
		size_t take = iov[i].iov_len < limit - len ? iov[i].iov_len : limit - len;

		memcpy(out + len, iov[i].iov_base, take);
		len += take;
	}
	cursor_advance(c, r, len);
	out[len] = '\0';
	return len;
}

static const struct cursor_policy drop = { .skip = false, .lines = true, .max_line = 16 };
static const struct cursor_policy skip = { .skip = true, .lines = true, .max_line = 16 };
static const struct cursor_policy skip_raw = { .skip = true, .lines = false, .max_line = 16 };

static void keep_while_the_append_fits(void **state)
{
	struct ring r;
	struct cursor c;
	uint64_t missed;

	(void)state;
	ring_init(&r, 16, 64);
	cursor_init(&c, 0);
	ring_write(&r, "aaa\nbbb\n", 8);
	assert_int_equal(cursor_make_room(&c, &r, 8, &drop, &missed), CURSOR_KEEP);
	assert_int_equal(cursor_lag(&c, &r), 8);
	ring_free(&r);
}

static void drop_once_more_than_buffer_behind(void **state)
{
	struct ring r;
	struct cursor c;
	uint64_t missed;

	(void)state;
	ring_init(&r, 16, 64);
	cursor_init(&c, 0);
	ring_write(&r, "aaa\nbbb\n", 8);
	assert_int_equal(cursor_make_room(&c, &r, 9, &drop, &missed), CURSOR_DROP);
	ring_free(&r);
}

static void skip_at_a_boundary_jumps_to_the_head(void **state)
{
	struct ring r;
	struct cursor c;
	uint64_t missed;
	char out[64];

	(void)state;
	ring_init(&r, 16, 64);
	cursor_init(&c, 0);
	ring_write(&r, "aaa\nbbb\nccc\n", 12);
	assert_int_equal(cursor_make_room(&c, &r, 8, &skip, &missed), CURSOR_SKIPPED);
	assert_int_equal(missed, 12);
	assert_int_equal(c.pos, 12);
	ring_write(&r, "ddd\neee\n", 8);
	drain(&c, &r, out, sizeof(out));
	assert_string_equal(out, "ddd\neee\n");
	cursor_free(&c);
	ring_free(&r);
}

static void skip_mid_record_finishes_the_record_first(void **state)
{
	struct ring r;
	struct cursor c;
	uint64_t missed;
	char out[64];

	(void)state;
	ring_init(&r, 16, 64);
	cursor_init(&c, 0);
	ring_write(&r, "aaaa\nbbbbbb\n", 12);
	assert_int_equal(drain(&c, &r, out, 7), 7);      /* "aaaa\nbb" */
	assert_false(c.at_boundary);
	assert_int_equal(cursor_make_room(&c, &r, 12, &skip, &missed), CURSOR_SKIPPED);
	assert_int_equal(missed, 0);                     /* the rest of bbbbbb is kept */
	ring_write(&r, "ccccccccccc\n", 12);             /* overwrites bbbb */
	drain(&c, &r, out, sizeof(out));
	assert_string_equal(out, "bbbb\nccccccccccc\n");
	cursor_free(&c);
	ring_free(&r);
}

/* A reader skipped mid-record, then again while "bb\n" of the kept
 * record is still queued; the c record is lost whole. */
static void skip_twice(struct ring *r, struct cursor *c)
{
	uint64_t missed;
	char out[64];

	ring_init(r, 16, 64);
	cursor_init(c, 0);
	ring_write(r, "aaaa\nbbbbbb\n", 12);
	drain(c, r, out, 7);
	assert_int_equal(cursor_make_room(c, r, 12, &skip, &missed), CURSOR_SKIPPED);
	ring_write(r, "ccccccccccc\n", 12);
	drain(c, r, out, 2);                             /* "bb" of the stash */
	assert_int_equal(cursor_make_room(c, r, 16, &skip, &missed), CURSOR_SKIPPED);
	assert_int_equal(missed, 12);
}

static void skip_again_while_the_stash_drains(void **state)
{
	struct ring r;
	struct cursor c;
	char out[64];

	(void)state;
	skip_twice(&r, &c);
	ring_write(&r, "ddddddddddddddd\n", 16);
	drain(&c, &r, out, sizeof(out));
	assert_string_equal(out, "bb\nddddddddddddddd\n");
	cursor_free(&c);
	ring_free(&r);
}

/* A notice comes after the kept rest of a record and before the ring;
 * too long a notice is refused. */
static void notice_after_the_kept_record(void **state)
{
	struct ring r;
	struct cursor c;
	char out[64], big[CURSOR_NOTE_MAX + 1];

	(void)state;
	skip_twice(&r, &c);
	assert_int_equal(cursor_note(&c, "# skipped 12\n", 13, skip.max_line), 0);
	memset(big, 'x', sizeof(big));
	assert_int_equal(cursor_note(&c, big, sizeof(big), skip.max_line), -1);
	ring_write(&r, "ddddddddddddddd\n", 16);
	drain(&c, &r, out, sizeof(out));
	assert_string_equal(out, "bb\n# skipped 12\nddddddddddddddd\n");
	/* At a boundary the notice alone goes before the ring. */
	assert_int_equal(cursor_note(&c, "# n\n", 4, skip.max_line), 0);
	ring_write(&r, "e\n", 2);
	drain(&c, &r, out, sizeof(out));
	assert_string_equal(out, "# n\ne\n");
	cursor_free(&c);
	ring_free(&r);
}

static void skip_raw_counts_every_byte_missed(void **state)
{
	struct ring r;
	struct cursor c;
	uint64_t missed;
	char out[64];

	(void)state;
	ring_init(&r, 16, 64);
	cursor_init(&c, 0);
	ring_write(&r, "0123456789", 10);
	drain(&c, &r, out, 3);
	assert_int_equal(cursor_make_room(&c, &r, 10, &skip_raw, &missed), CURSOR_SKIPPED);
	assert_int_equal(missed, 7);
	assert_null(c.stash);
	ring_free(&r);
}

/* A record longer than the stash (a heartbeat_line above max_line in an
 * older configuration) is cut at max_line and ended with '\n', as the
 * framer cuts a long line: the stash never holds more than max_line bytes
 * (issue: a heap overflow in the skip stash). */
static void skip_mid_record_longer_than_the_stash_is_cut(void **state)
{
	static const struct cursor_policy small = { .skip = true, .lines = true, .max_line = 8 };
	struct ring r;
	struct cursor c;
	uint64_t missed;
	char out[128], rec[41];

	(void)state;
	memset(rec, 'x', 40);
	rec[40] = '\n';
	ring_init(&r, 64, 64);
	cursor_init(&c, 0);
	ring_write(&r, "ab\n", 3);
	ring_write(&r, rec, sizeof(rec));
	assert_int_equal(drain(&c, &r, out, 6), 6);          /* "ab\nxxx" */
	assert_int_equal(cursor_make_room(&c, &r, 60, &small, &missed), CURSOR_SKIPPED);
	assert_true(c.stash->len <= small.max_line);
	assert_int_equal(drain(&c, &r, out, sizeof(out) - 1), 8);
	assert_string_equal(out, "xxxxxxx\n");
	assert_int_equal(missed, 44 - 13);                    /* the rest of the record */
	ring_write(&r, "new\n", 4);
	drain(&c, &r, out, sizeof(out) - 1);
	assert_string_equal(out, "new\n");
	cursor_free(&c);
	ring_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keep_while_the_append_fits),
		cmocka_unit_test(drop_once_more_than_buffer_behind),
		cmocka_unit_test(skip_at_a_boundary_jumps_to_the_head),
		cmocka_unit_test(skip_mid_record_finishes_the_record_first),
		cmocka_unit_test(skip_again_while_the_stash_drains),
		cmocka_unit_test(skip_raw_counts_every_byte_missed),
		cmocka_unit_test(notice_after_the_kept_record),
		cmocka_unit_test(skip_mid_record_longer_than_the_stash_is_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

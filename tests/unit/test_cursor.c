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

static void skip_again_while_the_stash_drains(void **state)
{
	struct ring r;
	struct cursor c;
	uint64_t missed;
	char out[64];

	(void)state;
	ring_init(&r, 16, 64);
	cursor_init(&c, 0);
	ring_write(&r, "aaaa\nbbbbbb\n", 12);
	drain(&c, &r, out, 7);
	assert_int_equal(cursor_make_room(&c, &r, 12, &skip, &missed), CURSOR_SKIPPED);
	ring_write(&r, "ccccccccccc\n", 12);
	drain(&c, &r, out, 2);                           /* "bb" of the stash */
	assert_int_equal(cursor_make_room(&c, &r, 16, &skip, &missed), CURSOR_SKIPPED);
	assert_int_equal(missed, 12);                    /* the c record is lost whole */
	ring_write(&r, "ddddddddddddddd\n", 16);
	drain(&c, &r, out, sizeof(out));
	assert_string_equal(out, "bb\nddddddddddddddd\n");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keep_while_the_append_fits),
		cmocka_unit_test(drop_once_more_than_buffer_behind),
		cmocka_unit_test(skip_at_a_boundary_jumps_to_the_head),
		cmocka_unit_test(skip_mid_record_finishes_the_record_first),
		cmocka_unit_test(skip_again_while_the_stash_drains),
		cmocka_unit_test(skip_raw_counts_every_byte_missed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_ring.c: the shared ring: wrap-around, overrun detection, iovecs,
 * record alignment for backlog and skip. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ring.h"

/* Concatenates a ring_iov result into a string. */
static size_t gather(const struct ring *r, uint64_t from, char *out)
{
	struct iovec iov[2];
	int n = ring_iov(r, from, iov);
	size_t len = 0;

	for (int i = 0; i < n; i++) {
		memcpy(out + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	out[len] = '\0';
	return len;
}

static void init_touches_and_starts_empty(void **state)
{
	struct ring r;
	struct iovec iov[2];

	(void)state;
	assert_int_equal(ring_init(&r, 16), 0);
	assert_int_equal(r.head, 0);
	assert_int_equal(ring_tail(&r), 0);
	assert_int_equal(ring_iov(&r, 0, iov), 0);
	ring_free(&r);
}

static void write_wraps_and_iov_splits_in_two(void **state)
{
	struct ring r;
	struct iovec iov[2];
	char out[64];

	(void)state;
	ring_init(&r, 8);
	ring_write(&r, "abcdef", 6);
	ring_write(&r, "ghij", 4);              /* wraps: ij at the start */
	assert_int_equal(r.head, 10);
	assert_int_equal(ring_tail(&r), 2);
	assert_int_equal(ring_iov(&r, 4, iov), 2);
	assert_int_equal(iov[0].iov_len, 4);    /* efgh */
	assert_int_equal(iov[1].iov_len, 2);    /* ij */
	assert_int_equal(gather(&r, 2, out), 8);
	assert_string_equal(out, "cdefghij");
	ring_free(&r);
}

static void overrun_once_more_than_size_behind(void **state)
{
	struct ring r;

	(void)state;
	ring_init(&r, 8);
	ring_write(&r, "12345678", 8);
	assert_false(ring_overrun(&r, 0));      /* exactly size behind: intact */
	ring_write(&r, "9", 1);
	assert_true(ring_overrun(&r, 0));
	assert_false(ring_overrun(&r, 1));
	ring_free(&r);
}

static void copy_across_the_wrap(void **state)
{
	struct ring r;
	char out[8] = { 0 };

	(void)state;
	ring_init(&r, 8);
	ring_write(&r, "abcdefgh", 8);
	ring_write(&r, "XYZ", 3);
	ring_copy(&r, 6, 11, out);
	assert_memory_equal(out, "ghXYZ", 5);
	ring_free(&r);
}

static void line_start_aligns_forward_to_a_record(void **state)
{
	struct ring r;

	(void)state;
	ring_init(&r, 64);
	ring_write(&r, "one\ntwo\nthree\n", 14);
	assert_int_equal(ring_line_start(&r, 0), 0);
	assert_int_equal(ring_line_start(&r, 4), 4);   /* after "one\n" */
	assert_int_equal(ring_line_start(&r, 5), 8);   /* inside "two" */
	assert_int_equal(ring_line_start(&r, 13), 14); /* inside "three": none left */
	assert_int_equal(ring_line_start(&r, 14), 14);
	ring_free(&r);
}

static void line_start_never_trusts_overwritten_bytes(void **state)
{
	struct ring r;

	(void)state;
	ring_init(&r, 8);
	ring_write(&r, "aaa\nbbb\n", 8);
	ring_write(&r, "cc\n", 3);                 /* tail is now 3: "\nbbb\ncc\n" */
	/* Position 3 is the tail; the byte before it is gone, so the first
	 * provable record start is after the '\n' at 3. */
	assert_int_equal(ring_line_start(&r, 0), 4);
	assert_int_equal(ring_line_start(&r, 3), 4);
	assert_int_equal(ring_line_start(&r, 8), 8);
	ring_free(&r);
}

static void line_start_across_the_wrap(void **state)
{
	struct ring r;

	(void)state;
	ring_init(&r, 8);
	ring_write(&r, "xxxxxx", 6);
	ring_write(&r, "long\nab\n", 8);         /* '\n' at 10 is stored at index 2 */
	assert_int_equal(ring_line_start(&r, 7), 11);
	ring_free(&r);
}

static void line_end_finds_the_end_of_the_current_record(void **state)
{
	struct ring r;

	(void)state;
	ring_init(&r, 8);
	ring_write(&r, "abcdef", 6);
	ring_write(&r, "gh\nij", 5);               /* "\n" at 8, index 0 */
	assert_int_equal(ring_line_end(&r, 6, 16), 9);
	assert_int_equal(ring_line_end(&r, 9, 16), 11); /* no '\n': head */
	assert_int_equal(ring_line_end(&r, 4, 2), 6);   /* not within max: pos + max */
	ring_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_touches_and_starts_empty),
		cmocka_unit_test(write_wraps_and_iov_splits_in_two),
		cmocka_unit_test(overrun_once_more_than_size_behind),
		cmocka_unit_test(copy_across_the_wrap),
		cmocka_unit_test(line_start_aligns_forward_to_a_record),
		cmocka_unit_test(line_start_never_trusts_overwritten_bytes),
		cmocka_unit_test(line_start_across_the_wrap),
		cmocka_unit_test(line_end_finds_the_end_of_the_current_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_ring.c: the shared ring: page rounding, the mirrored second mapping
 * (one iovec across the wrap), held bytes behind a write, overrun detection,
 * record alignment for backlog and skip, a ring without a reserve. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "compat.h"
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

/* Writes n filler bytes (no newline). */
static void fill(struct ring *r, size_t n)
{
	static char x[8192];

	memset(x, 'x', sizeof(x));
	while (n) {
		size_t k = n < sizeof(x) ? n : sizeof(x);

		ring_write(r, x, k);
		n -= k;
	}
}

static void init_rounds_to_a_page_and_starts_empty(void **state)
{
	struct ring r;
	struct iovec iov[2];

	(void)state;
	assert_int_equal(ring_init(&r, 16, 100), 0);
	assert_int_equal(r.head, 0);
	assert_int_equal(r.window, 16);
	assert_true(r.size >= 116);
	assert_int_equal(r.size % 4096, 0);
	assert_int_equal(ring_tail(&r), 0);
	assert_int_equal(ring_iov(&r, 0, iov), 0);
	ring_free(&r);
}

static void the_second_mapping_mirrors_the_first(void **state)
{
	struct ring r;
	struct iovec iov[2];
	char out[64];

	(void)state;
	ring_init(&r, 64, 64);
	fill(&r, r.size - 4);
	ring_write(&r, "abcdefgh", 8);       /* wraps: efgh at the start */
	assert_memory_equal(r.buf, "efgh", 4);
	assert_int_equal(ring_iov(&r, r.size - 4, iov), 1);
	assert_int_equal(iov[0].iov_len, 8);  /* one piece across the wrap */
	assert_int_equal(gather(&r, r.size - 6, out), 10);
	assert_string_equal(out, "xxabcdefgh");
	r.buf[1] = 'F';                        /* writes show in both halves */
	assert_int_equal(r.buf[r.size + 1], 'F');
	ring_free(&r);
}

static void overrun_once_more_than_window_behind(void **state)
{
	struct ring r;

	(void)state;
	ring_init(&r, 8, 8);
	ring_write(&r, "12345678", 8);
	assert_false(ring_overrun(&r, 0));      /* exactly window behind: intact */
	ring_write(&r, "9", 1);
	assert_true(ring_overrun(&r, 0));
	assert_false(ring_overrun(&r, 1));
	ring_free(&r);
}

static void held_bytes_move_up_behind_a_write(void **state)
{
	struct ring r;

	(void)state;
	ring_init(&r, 64, 64);
	ring_write(&r, "one\n", 4);
	memcpy(ring_at(&r, r.head), "par", 3);  /* a writer holds "par" */
	r.held = 3;
	ring_write(&r, "HB\n", 3);
	assert_int_equal(r.head, 7);
	assert_int_equal(r.held, 3);
	assert_memory_equal(ring_at(&r, 0), "one\nHB\npar", 10);
	ring_commit(&r, 3, 0);
	assert_int_equal(r.head, 10);
	assert_int_equal(r.held, 0);
	ring_free(&r);
}

static void copy_across_the_wrap(void **state)
{
	struct ring r;
	char out[8] = { 0 };

	(void)state;
	ring_init(&r, 8, 8);
	fill(&r, r.size - 2);
	ring_write(&r, "ghXYZ", 5);
	ring_copy(&r, r.size - 2, r.size + 3, out);
	assert_memory_equal(out, "ghXYZ", 5);
	ring_free(&r);
}

/* The encoded forms of the stream: no reserve, appends overwrite the
 * oldest bytes of the window; a span is one piece even across the wrap, and
 * an empty copy touches nothing. */
static void no_reserve_span_and_empty_copy(__unused void **state)
{
	struct ring r;
	struct iovec iov;

	assert_int_equal(ring_init(&r, 8, 0), 0);
	assert_int_equal(r.window, 8);
	fill(&r, r.size - 3);
	ring_write(&r, "abcdef", 6);
	assert_int_equal(ring_tail(&r), r.head - 8);
	assert_int_equal(ring_span(&r, r.size - 2, r.size + 2, &iov), 1);
	assert_int_equal(iov.iov_len, 4);
	assert_memory_equal(iov.iov_base, "bcde", 4);
	assert_int_equal(ring_span(&r, r.head, r.head, &iov), 0);
	ring_copy(&r, r.head, r.head, NULL);
	ring_free(&r);
}

static void line_start_aligns_forward_to_a_record(void **state)
{
	struct ring r;

	(void)state;
	ring_init(&r, 64, 64);
	ring_write(&r, "one\ntwo\nthree\n", 14);
	assert_int_equal(ring_line_start(&r, 0), 0);
	assert_int_equal(ring_line_start(&r, 4), 4);   /* after "one\n" */
	assert_int_equal(ring_line_start(&r, 5), 8);   /* inside "two" */
	assert_int_equal(ring_line_start(&r, 13), 14); /* inside "three": none left */
	assert_int_equal(ring_line_start(&r, 14), 14);
	ring_free(&r);
}

static void line_start_never_trusts_bytes_out_of_the_window(void **state)
{
	struct ring r;

	(void)state;
	ring_init(&r, 8, 8);
	ring_write(&r, "aaa\nbbb\n", 8);
	ring_write(&r, "cc\n", 3);                 /* tail is now 3: "\nbbb\ncc\n" */
	/* Position 3 is the tail; the byte before it is out of the window, so
	 * the first provable record start is after the '\n' at 3. */
	assert_int_equal(ring_line_start(&r, 0), 4);
	assert_int_equal(ring_line_start(&r, 3), 4);
	assert_int_equal(ring_line_start(&r, 8), 8);
	ring_free(&r);
}

static void line_start_across_the_wrap(void **state)
{
	struct ring r;
	uint64_t end;

	(void)state;
	ring_init(&r, 8, 8);
	fill(&r, r.size - 2);
	ring_write(&r, "long\nab\n", 8);         /* '\n' at size + 2 is stored at 2 */
	end = r.size - 2;
	assert_int_equal(ring_line_start(&r, end + 1), end + 5);
	ring_free(&r);
}

static void line_end_finds_the_end_of_the_current_record(void **state)
{
	struct ring r;
	uint64_t at;

	(void)state;
	ring_init(&r, 8, 8);
	fill(&r, r.size - 2);
	at = r.head;
	ring_write(&r, "gh\nij", 5);               /* "\n" at size, index 0 */
	assert_int_equal(ring_line_end(&r, at, 16), at + 3);
	assert_int_equal(ring_line_end(&r, at + 3, 16), at + 5); /* no '\n': head */
	assert_int_equal(ring_line_end(&r, at - 2, 2), at);      /* not within max: pos + max */
	ring_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_rounds_to_a_page_and_starts_empty),
		cmocka_unit_test(the_second_mapping_mirrors_the_first),
		cmocka_unit_test(overrun_once_more_than_window_behind),
		cmocka_unit_test(held_bytes_move_up_behind_a_write),
		cmocka_unit_test(copy_across_the_wrap),
		cmocka_unit_test(no_reserve_span_and_empty_copy),
		cmocka_unit_test(line_start_aligns_forward_to_a_record),
		cmocka_unit_test(line_start_never_trusts_bytes_out_of_the_window),
		cmocka_unit_test(line_start_across_the_wrap),
		cmocka_unit_test(line_end_finds_the_end_of_the_current_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

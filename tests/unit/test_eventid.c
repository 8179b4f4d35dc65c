/* test_eventid.c: the hand-written formatter of EPOCH-SEQ ids and the
 * cached text an encoder numbers its records with, against printf's
 * "%016llx-%llu": across powers of ten, jumps, new epochs and the ends of
 * the 64-bit range. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "eventid.h"

#define EPOCH 0x00c0ffee12345678ULL

/* printf's form of the id, the reference. */
static size_t reference(char *out, uint64_t epoch, uint64_t seq)
{
	return (size_t)snprintf(out, EVENTID_MAX, "%016llx-%llu", (unsigned long long)epoch,
				(unsigned long long)seq);
}

/* eventid_format() and the cache's text both equal the reference. */
static void check_id(struct eventid_text *t, uint64_t epoch, uint64_t seq)
{
	char want[EVENTID_MAX], got[EVENTID_MAX];
	size_t n = reference(want, epoch, seq), len;
	const char *text;

	assert_int_equal(eventid_format(got, epoch, seq), n);
	assert_string_equal(got, want);
	text = eventid_text(t, epoch, seq, &len);
	assert_int_equal(len, n);
	assert_string_equal(text, want);
}

static void format_matches_printf_at_the_edges(void **state __unused)
{
	static const uint64_t epochs[] = { 0, 1, EPOCH, 0xfedcba9876543210ULL, UINT64_MAX };
	static const uint64_t seqs[] = { 0, 1, 9, 10, 99, 100, 12345678901234567890ULL,
					 9999999999999999999ULL, UINT64_MAX - 1, UINT64_MAX };
	char out[17];

	for (size_t e = 0; e < sizeof(epochs) / sizeof(epochs[0]); e++) {
		struct eventid_text t = { 0 };

		for (size_t s = 0; s < sizeof(seqs) / sizeof(seqs[0]); s++)
			check_id(&t, epochs[e], seqs[s]);
	}
	eventid_epoch(out, 0xfedcba9876543210ULL);
	assert_string_equal(out, "fedcba9876543210");
}

/* One by one, as an encoder numbers records: every carry, up to 10^6. */
static void text_counts_up_through_every_carry(void **state __unused)
{
	struct eventid_text t = { 0 };

	for (uint64_t seq = 0; seq <= 1000001; seq++)
		check_id(&t, EPOCH, seq);
}

/* Counting up from where the digits grow to 20, and past UINT64_MAX: the
 * wrap to 0 is formatted anew, never incremented into a 21st digit. */
static void text_counts_up_at_the_top_of_the_range(void **state __unused)
{
	struct eventid_text t = { 0 };

	for (uint64_t seq = 9999999999999999990ULL; seq != 10000000000000000010ULL; seq++)
		check_id(&t, EPOCH, seq);
	for (uint64_t seq = UINT64_MAX - 12; seq != 3; seq++)
		check_id(&t, EPOCH, seq);
}

/* Asked again, jumping forward or back, or in another epoch: the same
 * text as printf's each time. */
static void text_follows_jumps_repeats_and_epochs(void **state __unused)
{
	static const struct { uint64_t epoch, seq; } steps[] = {
		{ EPOCH, 5 }, { EPOCH, 5 }, { EPOCH, 6 }, { EPOCH, 1000 }, { EPOCH, 999 },
		{ EPOCH, 1000 }, { 1, 1001 }, { 1, 1002 }, { EPOCH, 1003 }, { EPOCH, 0 },
		{ EPOCH, 1 }, { 0, 1 }, { 0, 2 }, { 0, 10 }, { 0, 11 },
	};
	struct eventid_text t = { 0 };

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		check_id(&t, steps[i].epoch, steps[i].seq);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format_matches_printf_at_the_edges),
		cmocka_unit_test(text_counts_up_through_every_carry),
		cmocka_unit_test(text_counts_up_at_the_top_of_the_range),
		cmocka_unit_test(text_follows_jumps_repeats_and_epochs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

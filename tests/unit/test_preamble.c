/* test_preamble.c: the first records of each run, kept for late joiners. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "alloc.h"
#include "compat.h"
#include "preamble.h"

/* Off: nothing allocated, nothing kept. */
static void zero_keeps_nothing(__unused void **state)
{
	struct preamble p;
	uint64_t before = alloc_total();

	assert_int_equal(preamble_init(&p, 0, 64), 0);
	preamble_offer(&p, "a\n", 2, 0);
	assert_int_equal(preamble_for(&p, 100), 0);
	assert_int_equal(alloc_total(), before);
	preamble_free(&p);
}

/* The first N records are kept, from one emit or several; later ones not;
 * no allocation after start-up. */
static void keeps_the_first_records(__unused void **state)
{
	struct preamble p;
	uint64_t allocs;

	assert_int_equal(preamble_init(&p, 2, 16), 0);
	allocs = alloc_total();
	preamble_offer(&p, "procs\nr b\n1 0\n", 14, 0);
	preamble_offer(&p, "2 0\n", 4, 14);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.len, 10);
	assert_memory_equal(p.buf, "procs\nr b\n", 10);
	assert_int_equal(alloc_total(), allocs);
	/* A client starting at the head gets both; one whose backlog starts at
	 * the second record gets the first only; one at 0 none. */
	assert_int_equal(preamble_for(&p, 18), 10);
	assert_int_equal(preamble_for(&p, 6), 6);
	assert_int_equal(preamble_for(&p, 0), 0);
	preamble_free(&p);
}

/* A new run starts a new preamble, one record at a time too. */
static void reset_starts_over(__unused void **state)
{
	struct preamble p;
	uint64_t gen;

	assert_int_equal(preamble_init(&p, 2, 16), 0);
	preamble_offer(&p, "h1\nx\n", 5, 0);
	gen = p.gen;
	preamble_reset(&p);
	assert_int_not_equal(p.gen, gen);
	assert_int_equal(preamble_for(&p, 100), 0);
	preamble_offer(&p, "H1\n", 3, 100);
	preamble_offer(&p, "H2\n", 3, 103);
	preamble_offer(&p, "y\n", 2, 106);
	assert_int_equal(preamble_for(&p, 108), 6);
	assert_memory_equal(p.buf, "H1\nH2\n", 6);
	preamble_free(&p);
}

/* Records as long as max_line fill the memory exactly. */
static void full_length_records_fit(__unused void **state)
{
	struct preamble p;
	char line[8];

	memset(line, 'x', 7);
	line[7] = '\n';
	assert_int_equal(preamble_init(&p, 3, sizeof(line)), 0);
	for (int i = 0; i < 5; i++)
		preamble_offer(&p, line, sizeof(line), (uint64_t)i * sizeof(line));
	assert_int_equal(p.len, 3 * sizeof(line));
	assert_int_equal(preamble_for(&p, 1000), 3 * sizeof(line));
	preamble_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(zero_keeps_nothing),
		cmocka_unit_test(keeps_the_first_records),
		cmocka_unit_test(reset_starts_over),
		cmocka_unit_test(full_length_records_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

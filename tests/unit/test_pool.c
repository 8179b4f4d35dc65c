/* test_pool.c: fixed-size objects in blocks: zeroed, distinct, exactly
 * their size apart, slots reused, and a block back to the heap as soon as
 * its last object is freed (the allocation counters see blocks). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "alloc.h"
#include "pool.h"

#define N (3 * POOL_PER_BLOCK + 5)

/* Objects are zeroed, do not overlap, and the pool costs one allocation
 * per block of POOL_PER_BLOCK (plus its table). */
static void objects_zeroed_distinct_one_allocation_per_block(void **state)
{
	static unsigned char *obj[N];
	struct pool p;
	uint64_t live0 = alloc_live();

	(void)state;
	pool_init(&p, 197);
	assert_int_equal(p.size, 200);
	for (int i = 0; i < N; i++) {
		obj[i] = pool_alloc(&p);
		assert_non_null(obj[i]);
		for (size_t k = 0; k < p.size; k++)
			assert_int_equal(obj[i][k], 0);
		memset(obj[i], i & 0xff, p.size);
	}
	for (int i = 0; i < N; i++)
		for (size_t k = 0; k < p.size; k++)
			assert_int_equal(obj[i][k], i & 0xff);
	assert_int_equal(p.live, N);
	assert_int_equal(p.n_blocks, (N + POOL_PER_BLOCK - 1) / POOL_PER_BLOCK);
	assert_int_equal(alloc_live() - live0, p.n_blocks + 1);
	/* within a block, objects lie exactly their size apart */
	assert_int_equal(obj[1] - obj[0], 200);
	for (int i = 0; i < N; i++)
		pool_free(&p, obj[i]);
	assert_int_equal(p.live, 0);
	assert_int_equal(p.n_blocks, 0);
	assert_int_equal(alloc_live() - live0, 1);    /* the empty table */
	pool_free_all(&p);
	assert_int_equal(alloc_live(), live0);
}

/* Freed slots are handed out again before a new block is taken, also from
 * a block that was full; freeing in any order empties every block. */
static void slots_reused_blocks_returned(void **state)
{
	static void *obj[N];
	struct pool p;
	uint64_t total0;
	void *again;

	(void)state;
	pool_init(&p, 64);
	for (int i = 0; i < N; i++)
		obj[i] = pool_alloc(&p);
	total0 = alloc_total();
	pool_free(&p, obj[10]);           /* the first block was full */
	again = pool_alloc(&p);
	assert_ptr_equal(again, obj[10]);
	assert_int_equal(alloc_total(), total0);
	for (int i = N - 1; i >= 0; i -= 2)
		pool_free(&p, obj[i]);
	for (int i = N - 2; i >= 0; i -= 2)
		pool_free(&p, obj[i]);
	assert_int_equal(p.n_blocks, 0);
	assert_null(p.partial);
	pool_free(&p, NULL);
	pool_free_all(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(objects_zeroed_distinct_one_allocation_per_block),
		cmocka_unit_test(slots_reused_blocks_returned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

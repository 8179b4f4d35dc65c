/* test_perip.c: connections per address (IPv4) and per /64 (IPv6), limits,
 * a full table, deletion inside probe runs, and resizing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "alloc.h"
#include "testaddr.h"
#include "perip.h"

static const uint64_t seed[2] = { 1, 2 };


static void the_limit_applies_per_address(void **state)
{
	struct perip p;
	struct cidr_addr a = test_addr("10.0.0.1"), b = test_addr("10.0.0.2");

	(void)state;
	assert_int_equal(perip_init(&p, 100, seed), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(perip_add(&p, &a, 10), PERIP_OK);
	assert_int_equal(perip_add(&p, &a, 10), PERIP_LIMIT);
	assert_int_equal(perip_count(&p, &a), 10);
	assert_int_equal(perip_add(&p, &b, 10), PERIP_OK);
	perip_remove(&p, &a);
	assert_int_equal(perip_add(&p, &a, 10), PERIP_OK);
	assert_int_equal(perip_add(&p, &a, 0), PERIP_OK);    /* 0: no limit */
	assert_int_equal(perip_count(&p, &a), 11);
	perip_free(&p);
}

static void ipv6_counts_per_64(void **state)
{
	struct perip p;
	struct cidr_addr a = test_addr("2001:db8:0:1::1"), b = test_addr("2001:db8:0:1:ffff::2"),
			 c = test_addr("2001:db8:0:2::1"), z = test_addr("::1"), v4 = test_addr("0.0.0.0");

	(void)state;
	assert_int_equal(perip_init(&p, 100, seed), 0);
	assert_int_equal(perip_add(&p, &a, 2), PERIP_OK);
	assert_int_equal(perip_add(&p, &b, 2), PERIP_OK);
	assert_int_equal(perip_add(&p, &a, 2), PERIP_LIMIT);
	assert_int_equal(perip_add(&p, &c, 2), PERIP_OK);
	/* ::1 and 0.0.0.0 both have zero key bits but different families */
	assert_int_equal(perip_add(&p, &z, 1), PERIP_OK);
	assert_int_equal(perip_add(&p, &v4, 1), PERIP_OK);
	assert_int_equal(perip_count(&p, &b), 2);
	perip_free(&p);
}

static void a_full_table_refuses_new_addresses_only(void **state)
{
	struct perip p;
	struct cidr_addr a = test_addr("10.0.0.1"), b = test_addr("10.0.0.2"), c = test_addr("10.0.0.3");

	(void)state;
	assert_int_equal(perip_init(&p, 2, seed), 0);
	assert_int_equal(perip_add(&p, &a, 0), PERIP_OK);
	assert_int_equal(perip_add(&p, &b, 0), PERIP_OK);
	assert_int_equal(perip_add(&p, &c, 0), PERIP_FULL);
	assert_int_equal(perip_count(&p, &c), 0);
	assert_int_equal(perip_add(&p, &a, 0), PERIP_OK);
	perip_remove(&p, &b);
	assert_int_equal(perip_add(&p, &c, 0), PERIP_OK);
	perip_free(&p);
}

/* Many addresses added and removed in a mixed order: every count stays
 * right, which exercises deletion inside probe runs. */
static void churn_keeps_every_count(void **state)
{
	enum { N = 3000 };
	static uint32_t want[N];
	struct perip p;
	uint64_t live = alloc_live();
	uint32_t x = 12345;

	(void)state;
	assert_int_equal(perip_init(&p, N, seed), 0);
	memset(want, 0, sizeof(want));
	for (int step = 0; step < 200000; step++) {
		struct cidr_addr a = { .family = CIDR_V4 };
		uint32_t i;

		x = x * 1103515245 + 12345;
		i = (x >> 8) % N;
		a.b[0] = (uint8_t)(i >> 8);
		a.b[1] = (uint8_t)i;
		if ((x >> 28) & 1 && want[i]) {
			perip_remove(&p, &a);
			want[i]--;
		} else {
			assert_int_equal(perip_add(&p, &a, 0), PERIP_OK);
			want[i]++;
		}
	}
	for (uint32_t i = 0; i < N; i++) {
		struct cidr_addr a = { .family = CIDR_V4, .b = { (uint8_t)(i >> 8), (uint8_t)i } };

		assert_int_equal(perip_count(&p, &a), want[i]);
	}
	assert_int_equal(perip_resize(&p, 1), -1);       /* too small: unchanged */
	assert_int_equal(perip_resize(&p, 5 * N), 0);
	for (uint32_t i = 0; i < N; i++) {
		struct cidr_addr a = { .family = CIDR_V4, .b = { (uint8_t)(i >> 8), (uint8_t)i } };

		assert_int_equal(perip_count(&p, &a), want[i]);
		while (want[i]--)
			perip_remove(&p, &a);
	}
	assert_int_equal(p.used, 0);
	perip_free(&p);
	assert_int_equal(alloc_live(), live);
}

static void removing_an_unknown_address_changes_nothing(void **state)
{
	struct perip p;
	struct cidr_addr a = test_addr("10.0.0.1"), b = test_addr("10.0.0.2");

	(void)state;
	assert_int_equal(perip_init(&p, 4, seed), 0);
	assert_int_equal(perip_add(&p, &a, 0), PERIP_OK);
	perip_remove(&p, &b);
	assert_int_equal(perip_count(&p, &a), 1);
	assert_int_equal(p.used, 1);
	perip_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_limit_applies_per_address),
		cmocka_unit_test(ipv6_counts_per_64),
		cmocka_unit_test(a_full_table_refuses_new_addresses_only),
		cmocka_unit_test(churn_keeps_every_count),
		cmocka_unit_test(removing_an_unknown_address_changes_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

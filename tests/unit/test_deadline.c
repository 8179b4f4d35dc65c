/* test_deadline.c: the arithmetic of a connection's one timer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "deadline.h"

#define MS 1000000LL

static void nothing_applies_when_both_are_off(void **state)
{
	struct deadline d = { .last_activity = 0, .pending = true, .send_since = 0 };
	struct deadline_limits l = { 0, 0, 0 };
	int64_t wait;

	(void)state;
	assert_int_equal(deadline_due(&d, &l), DEADLINE_NONE);
	assert_int_equal(deadline_check(&d, &l, 1000 * MS, &wait), DEADLINE_OK);
	assert_int_equal(wait, DEADLINE_NONE);
}

static void idle_sleeps_for_the_time_left(void **state)
{
	struct deadline d = { .last_activity = 100 * MS };
	struct deadline_limits l = { .idle_ns = 300 * MS };
	int64_t wait;

	(void)state;
	assert_int_equal(deadline_check(&d, &l, 250 * MS, &wait), DEADLINE_OK);
	assert_int_equal(wait, 150 * MS);
}

static void idle_passes_exactly_at_the_deadline(void **state)
{
	struct deadline d = { .last_activity = 100 * MS };
	struct deadline_limits l = { .idle_ns = 300 * MS };
	int64_t wait;

	(void)state;
	assert_int_equal(deadline_check(&d, &l, 399 * MS, &wait), DEADLINE_OK);
	assert_int_equal(deadline_check(&d, &l, 400 * MS, &wait), DEADLINE_IDLE);
}

static void activity_moves_the_idle_deadline(void **state)
{
	struct deadline d = { .last_activity = 0 };
	struct deadline_limits l = { .idle_ns = 300 * MS };
	int64_t wait;

	(void)state;
	d.last_activity = 250 * MS;             /* a byte moved; no timer call */
	assert_int_equal(deadline_check(&d, &l, 300 * MS, &wait), DEADLINE_OK);
	assert_int_equal(wait, 250 * MS);
}

static void send_applies_only_while_output_is_pending(void **state)
{
	struct deadline d = { .last_activity = 0, .send_since = 0 };
	struct deadline_limits l = { .send_ns = 100 * MS };
	int64_t wait;

	(void)state;
	assert_int_equal(deadline_check(&d, &l, 500 * MS, &wait), DEADLINE_OK);
	assert_int_equal(wait, DEADLINE_NONE);
	d.pending = true;
	d.send_since = 450 * MS;
	assert_int_equal(deadline_check(&d, &l, 500 * MS, &wait), DEADLINE_OK);
	assert_int_equal(wait, 50 * MS);
	assert_int_equal(deadline_check(&d, &l, 550 * MS, &wait), DEADLINE_SEND);
}

static void the_earlier_deadline_wins(void **state)
{
	struct deadline d = { .last_activity = 0, .pending = true, .send_since = 0 };
	struct deadline_limits l = { .idle_ns = 300 * MS, .send_ns = 100 * MS };
	int64_t wait;

	(void)state;
	assert_int_equal(deadline_due(&d, &l), 100 * MS);
	assert_int_equal(deadline_check(&d, &l, 1000 * MS, &wait), DEADLINE_SEND);
	l.send_ns = 500 * MS;
	assert_int_equal(deadline_check(&d, &l, 1000 * MS, &wait), DEADLINE_IDLE);
}

static void sooner_only_when_the_deadline_precedes_the_timer(void **state)
{
	struct deadline d = { .last_activity = 0, .pending = true, .send_since = 0 };
	struct deadline_limits l = { .idle_ns = 300 * MS, .send_ns = 100 * MS };

	(void)state;
	assert_true(deadline_sooner(&d, &l, 300 * MS));
	assert_false(deadline_sooner(&d, &l, 100 * MS));
	assert_false(deadline_sooner(&d, &l, 50 * MS));
}

static void request_head_deadline_comes_first(void **state)
{
	struct deadline d = { .by = 200 * MS };
	struct deadline_limits l = { .idle_ns = 100 * MS };
	int64_t wait;

	(void)state;
	assert_int_equal(deadline_due(&d, &l), 100 * MS);
	assert_int_equal(deadline_check(&d, &l, 150 * MS, &wait), DEADLINE_IDLE);
	l.idle_ns = 0;
	assert_int_equal(deadline_check(&d, &l, 150 * MS, &wait), DEADLINE_OK);
	assert_int_equal(wait, 50 * MS);
	l.idle_ns = 100 * MS;
	assert_int_equal(deadline_check(&d, &l, 250 * MS, &wait), DEADLINE_BY);
}

static void keepalive_while_nothing_is_pending(void **state)
{
	struct deadline d = { .last_activity = 0, .last_sent = 0 };
	struct deadline_limits l = { .idle_ns = 300 * MS, .keepalive_ns = 100 * MS };
	int64_t wait;

	(void)state;
	assert_int_equal(deadline_check(&d, &l, 50 * MS, &wait), DEADLINE_OK);
	assert_int_equal(wait, 50 * MS);
	assert_int_equal(deadline_check(&d, &l, 100 * MS, &wait), DEADLINE_KEEPALIVE);
	/* a keepalive sent counts as activity: the idle deadline moves too */
	d.last_sent = d.last_activity = 100 * MS;
	assert_int_equal(deadline_check(&d, &l, 150 * MS, &wait), DEADLINE_OK);
	assert_int_equal(wait, 50 * MS);
	d.pending = true;
	assert_int_equal(deadline_due(&d, &l), 400 * MS);
	assert_int_equal(deadline_check(&d, &l, 450 * MS, &wait), DEADLINE_IDLE);
}

static void a_proxy_or_auth_deadline_is_by_on_the_same_timer(void **state)
{
	struct deadline d = { .last_activity = 0, .by = 500 * MS };
	struct deadline_limits l = { .idle_ns = 300 * MS };
	int64_t wait;

	(void)state;
	/* idle comes first while the peer is silent */
	assert_int_equal(deadline_check(&d, &l, 300 * MS, &wait), DEADLINE_IDLE);
	/* activity moves idle, never by */
	d.last_activity = 400 * MS;
	assert_int_equal(deadline_due(&d, &l), 500 * MS);
	assert_int_equal(deadline_check(&d, &l, 450 * MS, &wait), DEADLINE_OK);
	assert_int_equal(wait, 50 * MS);
	assert_int_equal(deadline_check(&d, &l, 500 * MS, &wait), DEADLINE_BY);
	/* with no other deadline, by alone arms the timer */
	l.idle_ns = 0;
	assert_int_equal(deadline_check(&d, &l, 100 * MS, &wait), DEADLINE_OK);
	assert_int_equal(wait, 400 * MS);
	/* let in: 0 means no hard deadline */
	d.by = 0;
	assert_int_equal(deadline_due(&d, &l), DEADLINE_NONE);
	assert_true(deadline_sooner(&(struct deadline){ .by = 5 }, &l, 6));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nothing_applies_when_both_are_off),
		cmocka_unit_test(idle_sleeps_for_the_time_left),
		cmocka_unit_test(idle_passes_exactly_at_the_deadline),
		cmocka_unit_test(activity_moves_the_idle_deadline),
		cmocka_unit_test(send_applies_only_while_output_is_pending),
		cmocka_unit_test(the_earlier_deadline_wins),
		cmocka_unit_test(sooner_only_when_the_deadline_precedes_the_timer),
		cmocka_unit_test(request_head_deadline_comes_first),
		cmocka_unit_test(keepalive_while_nothing_is_pending),
		cmocka_unit_test(a_proxy_or_auth_deadline_is_by_on_the_same_timer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

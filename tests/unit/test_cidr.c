/* test_cidr.c: address rules: parsing, errors, IPv4/IPv6 and mapped matching. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "cidr.h"

/* The cidr_addr of a textual IPv4 or IPv6 address, via a real sockaddr. */
static struct cidr_addr addr_of(const char *s)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
	struct cidr_addr a;

	if (inet_pton(AF_INET, s, &in.sin_addr) == 1)
		assert_int_equal(cidr_addr_from((struct sockaddr *)&in, sizeof(in), &a), 0);
	else {
		assert_int_equal(inet_pton(AF_INET6, s, &in6.sin6_addr), 1);
		assert_int_equal(cidr_addr_from((struct sockaddr *)&in6, sizeof(in6), &a), 0);
	}
	return a;
}

/* Parses a rule that must be valid. */
static struct cidr rule(const char *s)
{
	struct cidr c;
	char err[128] = "";

	if (cidr_parse(s, &c, err, sizeof(err)) != 0)
		fail_msg("'%s' rejected: %s", s, err);
	return c;
}

/* Whether rule s matches address a. */
static bool matches(const char *s, const char *a)
{
	struct cidr c = rule(s);
	struct cidr_addr x = addr_of(a);

	return cidr_match(&c, &x);
}

static void ipv4_prefixes_match_inside_only(void **state)
{
	(void)state;
	assert_true(matches("10.0.0.0/8", "10.255.3.4"));
	assert_false(matches("10.0.0.0/8", "11.0.0.0"));
	assert_true(matches("192.168.1.0/25", "192.168.1.127"));
	assert_false(matches("192.168.1.0/25", "192.168.1.128"));
	assert_true(matches("0.0.0.0/0", "203.0.113.9"));
	assert_false(matches("0.0.0.0/0", "::1"));
}

static void a_bare_address_is_a_host_rule(void **state)
{
	(void)state;
	assert_true(matches("127.0.0.2", "127.0.0.2"));
	assert_false(matches("127.0.0.2", "127.0.0.1"));
	assert_true(matches("::1", "::1"));
	assert_false(matches("::1", "::2"));
	assert_int_equal(rule("127.0.0.2").bits, 32);
	assert_int_equal(rule("::1").bits, 128);
}

static void ipv6_prefixes_match(void **state)
{
	(void)state;
	assert_true(matches("2001:db8::/32", "2001:db8:1:2::5"));
	assert_false(matches("2001:db8::/32", "2001:db9::"));
	assert_true(matches("fe80::/10", "febf::1"));
	assert_false(matches("fe80::/10", "fec0::1"));
	assert_false(matches("::/0", "10.0.0.1"));
}

static void mapped_ipv6_peers_match_ipv4_rules(void **state)
{
	(void)state;
	assert_true(matches("127.0.0.0/8", "::ffff:127.0.0.2"));
	assert_false(matches("127.0.0.0/8", "::ffff:128.0.0.2"));
	assert_int_equal(addr_of("::ffff:1.2.3.4").family, CIDR_V4);
	/* a mapped rule is an IPv4 rule too */
	assert_true(matches("::ffff:10.0.0.0/104", "10.9.9.9"));
	assert_int_equal(rule("::ffff:10.0.0.0/104").family, CIDR_V4);
	assert_int_equal(rule("::ffff:10.0.0.0/104").bits, 8);
}

static void all_matches_everything(void **state)
{
	(void)state;
	assert_true(matches("all", "1.2.3.4"));
	assert_true(matches("all", "2001:db8::1"));
	assert_true(matches("all", "::ffff:1.2.3.4"));
}

/* Parses a rule that must fail, with err containing want. */
static void bad(const char *s, const char *want)
{
	struct cidr c;
	char err[128] = "";

	assert_int_equal(cidr_parse(s, &c, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("'%s': error '%s' lacks '%s'", s, err, want);
}

static void bad_input_gets_a_clear_message(void **state)
{
	(void)state;
	bad("", "expected an address");
	bad("/8", "expected an address");
	bad("10.0.0.0/33", "0 to 32");
	bad("::/129", "0 to 128");
	bad("10.0.0.0/", "0 to 32");
	bad("10.0.0.0/08", "0 to 32");
	bad("10.0.0.0/-1", "0 to 32");
	bad("10.0.0/8", "not an IPv4 or IPv6 address");
	bad("localhost", "not an IPv4 or IPv6 address");
	bad("fe80::1%eth0", "not an IPv4 or IPv6 address");
	bad("10.0.0.1/8", "did you mean 10.0.0.0/8?");
	bad("2001:db8::1/32", "did you mean 2001:db8::/32?");
	bad("1.2.3.4 ", "not an IPv4");
}

static void the_message_never_quotes_odd_input(void **state)
{
	struct cidr c;
	char err[128];

	(void)state;
	assert_int_equal(cidr_parse("a\nb", &c, err, sizeof(err)), -1);
	assert_null(strchr(err, '\n'));
	assert_int_equal(cidr_parse("x", &c, err, 8), -1);  /* cut, terminated */
	assert_true(strlen(err) < 8);
}

static void other_families_have_no_address(void **state)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr sa = { .sa_family = AF_UNIX };
	struct cidr_addr a;

	(void)state;
	assert_int_equal(cidr_addr_from(&sa, sizeof(sa), &a), -1);
	assert_int_equal(cidr_addr_from((struct sockaddr *)&in, 4, &a), -1);
}

static void a_list_matches_when_one_rule_does(void **state)
{
	struct cidr list[2] = { rule("10.0.0.0/8"), rule("::1") };
	struct cidr_addr a = addr_of("::1"), b = addr_of("11.0.0.1");

	(void)state;
	assert_true(cidr_match_any(list, 2, &a));
	assert_false(cidr_match_any(list, 2, &b));
	assert_false(cidr_match_any(list, 0, &a));
}

static void rules_format_as_written(void **state)
{
	char buf[CIDR_TEXT_MAX];
	struct cidr c = rule("10.1.0.0/16");

	(void)state;
	assert_string_equal(cidr_format(&c, buf, sizeof(buf)), "10.1.0.0/16");
	c = rule("all");
	assert_string_equal(cidr_format(&c, buf, sizeof(buf)), "all");
	c = rule("2001:db8::");
	assert_string_equal(cidr_format(&c, buf, sizeof(buf)), "2001:db8::/128");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_prefixes_match_inside_only),
		cmocka_unit_test(a_bare_address_is_a_host_rule),
		cmocka_unit_test(ipv6_prefixes_match),
		cmocka_unit_test(mapped_ipv6_peers_match_ipv4_rules),
		cmocka_unit_test(all_matches_everything),
		cmocka_unit_test(bad_input_gets_a_clear_message),
		cmocka_unit_test(the_message_never_quotes_odd_input),
		cmocka_unit_test(other_families_have_no_address),
		cmocka_unit_test(a_list_matches_when_one_rule_does),
		cmocka_unit_test(rules_format_as_written),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

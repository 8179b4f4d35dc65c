/* test_tokens.c: the tokens file, constant-time matching, fingerprints, the
 * AUTH line, and the SipHash they rest on. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "siphash.h"
#include "tokens.h"

#define S(lit) lit, sizeof(lit) - 1

static void siphash_matches_the_reference_vectors(void **state)
{
	const uint64_t k[2] = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
	uint8_t msg[64];

	(void)state;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	/* vectors.h of the reference implementation: lengths 0, 7, 8, 15, 63 */
	assert_true(siphash(k, msg, 0) == 0x726fdb47dd0e0e31ULL);
	assert_true(siphash(k, msg, 7) == 0xab0200f58b01d137ULL);
	assert_true(siphash(k, msg, 8) == 0x93f5f5799a932462ULL);
	assert_true(siphash(k, msg, 15) == 0xa129ca6149be45e5ULL);
	assert_true(siphash(k, msg, 63) == 0x958a324ceb064572ULL);
}

/* Parses text that must be a valid tokens file. */
static void parse_ok(struct tokens *t, const char *text)
{
	char err[128] = "";

	if (tokens_parse(t, text, strlen(text), err, sizeof(err)) != 0)
		fail_msg("rejected: %s", err);
}

static void lines_comments_blanks_and_cr(void **state)
{
	struct tokens t;
	uint64_t live = alloc_live();

	(void)state;
	parse_ok(&t, "# the readers\n\n  alpha-1 \r\n\t\r\nbeta/2=\r\n#gamma\nlast");
	assert_int_equal(t.n, 3);
	assert_true(tokens_match(&t, S("alpha-1")));
	assert_true(tokens_match(&t, S("beta/2=")));
	assert_true(tokens_match(&t, S("last")));
	assert_false(tokens_match(&t, S("gamma")));
	assert_false(tokens_match(&t, S("#gamma")));
	tokens_free(&t);
	assert_int_equal(alloc_live(), live);
}

static void near_misses_do_not_match(void **state)
{
	struct tokens t;

	(void)state;
	parse_ok(&t, "secret\n");
	assert_false(tokens_match(&t, S("secre")));
	assert_false(tokens_match(&t, S("secret ")));
	assert_false(tokens_match(&t, S("secreT")));
	assert_false(tokens_match(&t, S("secret\0")));   /* padding is not a wildcard */
	assert_false(tokens_match(&t, "", 0));
	assert_true(tokens_match(&t, S("secret")));
	tokens_free(&t);
}

static void a_token_of_the_longest_length_matches_exactly(void **state)
{
	char text[TOKENS_LEN_MAX + 2], cand[TOKENS_LEN_MAX + 1];
	struct tokens t;

	(void)state;
	memset(text, 'x', TOKENS_LEN_MAX);
	text[TOKENS_LEN_MAX] = '\n';
	text[TOKENS_LEN_MAX + 1] = '\0';
	parse_ok(&t, text);
	memset(cand, 'x', sizeof(cand));
	assert_true(tokens_match(&t, cand, TOKENS_LEN_MAX));
	assert_false(tokens_match(&t, cand, TOKENS_LEN_MAX + 1));  /* longer: no */
	assert_false(tokens_match(&t, cand, TOKENS_LEN_MAX - 1));
	tokens_free(&t);
}

/* A file that must fail with err containing want, and never the secret. */
static void bad_file(const char *text, size_t len, const char *want)
{
	struct tokens t;
	char err[128] = "";
	uint64_t live = alloc_live();

	assert_int_equal(tokens_parse(&t, text, len, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("error '%s' lacks '%s'", err, want);
	assert_null(strstr(err, "s3cr3t"));
	assert_int_equal(t.n, 0);
	assert_int_equal(alloc_live(), live);
}

static void bad_files_name_the_line_never_the_token(void **state)
{
	static char big[TOKENS_FILE_MAX + 1];
	char longline[TOKENS_LEN_MAX + 16];

	(void)state;
	bad_file(S("ok\ns3cr3t with space\n"), "line 2: token holds a character");
	bad_file(S("s3cr3t\x01\n"), "line 1:");
	bad_file(S("s3cr3t\xc3\xa9\n"), "line 1:");
	bad_file(S("# only a comment\n\n"), "no token");
	bad_file("", 0, "no token");
	bad_file(S("s3cr3t\0x\n"), "NUL");
	memset(longline, 'a', sizeof(longline));
	memcpy(longline, "s3cr3t", 6);
	bad_file(longline, sizeof(longline), "line 1: token longer than 256 bytes");
	memset(big, '\n', sizeof(big));
	bad_file(big, sizeof(big), "larger than 1 MiB");
}

static void at_most_1024_tokens(void **state)
{
	static char text[1025 * 8];
	struct tokens t;
	char err[128];
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 1025; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "t%05d\n", i);
	assert_int_equal(tokens_parse(&t, text, n, err, sizeof(err)), -1);
	assert_string_equal(err, "line 1025: more than 1024 tokens");
	assert_int_equal(tokens_parse(&t, text, n - 7, err, sizeof(err)), 0);
	assert_int_equal(t.n, 1024);
	assert_true(tokens_match(&t, S("t01023")));
	tokens_free(&t);
}

static void fingerprints_find_the_tokens_still_listed(void **state)
{
	struct tokens t;

	(void)state;
	parse_ok(&t, "one\ntwo\nthree\nfour\n");
	assert_true(tokens_has_fingerprint(&t, tokens_fingerprint(S("one"))));
	assert_true(tokens_has_fingerprint(&t, tokens_fingerprint(S("four"))));
	assert_false(tokens_has_fingerprint(&t, tokens_fingerprint(S("five"))));
	assert_true(tokens_fingerprint(S("one")) == tokens_fingerprint(S("one")));
	assert_true(tokens_fingerprint(S("one")) != tokens_fingerprint(S("two")));
	tokens_free(&t);
}

/* The AUTH parser on a C string. */
static enum tokens_auth auth(const char *s, const char **tok, size_t *n, size_t *used)
{
	return tokens_auth_line(s, strlen(s), tok, n, used);
}

static void the_auth_line(void **state)
{
	const char *tok;
	size_t n, used;

	(void)state;
	assert_int_equal(auth("AUTH abc\nrest", &tok, &n, &used), TOKENS_AUTH_LINE);
	assert_int_equal(n, 3);
	assert_memory_equal(tok, "abc", 3);
	assert_int_equal(used, 9);
	assert_int_equal(auth("AUTH abc\r\n", &tok, &n, &used), TOKENS_AUTH_LINE);
	assert_int_equal(n, 3);
	assert_int_equal(used, 10);
	assert_int_equal(auth("", &tok, &n, &used), TOKENS_AUTH_MORE);
	assert_int_equal(auth("AU", &tok, &n, &used), TOKENS_AUTH_MORE);
	assert_int_equal(auth("AUTH abc", &tok, &n, &used), TOKENS_AUTH_MORE);
	assert_int_equal(auth("GET / HTTP/1.1\r\n", &tok, &n, &used), TOKENS_AUTH_BAD);
	assert_int_equal(auth("AUX", &tok, &n, &used), TOKENS_AUTH_BAD);
	assert_int_equal(auth("auth abc\n", &tok, &n, &used), TOKENS_AUTH_BAD);
	assert_int_equal(auth("AUTH \n", &tok, &n, &used), TOKENS_AUTH_BAD);
	assert_int_equal(auth("AUTH\n", &tok, &n, &used), TOKENS_AUTH_BAD);
	assert_int_equal(auth("AUTH a b\n", &tok, &n, &used), TOKENS_AUTH_BAD);
	assert_int_equal(auth("AUTH  ab\n", &tok, &n, &used), TOKENS_AUTH_BAD);
	assert_int_equal(auth("AUTH ab\r\r\n", &tok, &n, &used), TOKENS_AUTH_BAD);
}

static void the_auth_line_is_at_most_512_bytes(void **state)
{
	char line[TOKENS_AUTH_MAX + 8];
	const char *tok;
	size_t n, used;

	(void)state;
	memset(line, 'x', sizeof(line));
	memcpy(line, "AUTH ", 5);
	/* 511 bytes then \n: 512 in all, but the token is over 256 bytes */
	line[511] = '\n';
	assert_int_equal(tokens_auth_line(line, 512, &tok, &n, &used), TOKENS_AUTH_BAD);
	/* no newline within 512 bytes: refused without waiting for more */
	memset(line + 5, 'x', sizeof(line) - 5);
	assert_int_equal(tokens_auth_line(line, 511, &tok, &n, &used), TOKENS_AUTH_MORE);
	assert_int_equal(tokens_auth_line(line, 512, &tok, &n, &used), TOKENS_AUTH_BAD);
	line[512] = '\n';
	assert_int_equal(tokens_auth_line(line, 513, &tok, &n, &used), TOKENS_AUTH_BAD);
	/* a 256-byte token with \r\n: 263 bytes, fine */
	line[5 + 256] = '\r';
	line[5 + 257] = '\n';
	assert_int_equal(tokens_auth_line(line, 263, &tok, &n, &used), TOKENS_AUTH_LINE);
	assert_int_equal(n, 256);
	assert_int_equal(used, 263);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(siphash_matches_the_reference_vectors),
		cmocka_unit_test(lines_comments_blanks_and_cr),
		cmocka_unit_test(near_misses_do_not_match),
		cmocka_unit_test(a_token_of_the_longest_length_matches_exactly),
		cmocka_unit_test(bad_files_name_the_line_never_the_token),
		cmocka_unit_test(at_most_1024_tokens),
		cmocka_unit_test(fingerprints_find_the_tokens_still_listed),
		cmocka_unit_test(the_auth_line),
		cmocka_unit_test(the_auth_line_is_at_most_512_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

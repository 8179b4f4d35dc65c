/* fuzz_tokens.c: libFuzzer target for the tokens file parser and the AUTH
 * line parser (lib/tokens.c).
 *
 * Input: split at the first "\n--\n": the part before is a tokens file,
 * the part after is what a raw client sends first (when there is no
 * separator, the whole input is used as both). Each is given in an
 * allocation of exactly its length.
 *
 * Invariants checked (any failure aborts):
 *  - tokens_parse returns 0 with 1 to TOKENS_MAX tokens of 1 to
 *    TOKENS_LEN_MAX visible ASCII bytes, each matching itself and found by
 *    its fingerprint; or -1 with one of the fixed messages (after an
 *    optional "line N: "), so that no text of the file, and no token, can
 *    appear in it, and no memory held;
 *  - tokens_auth_line: LINE gives a token inside the input, a used length
 *    within TOKENS_AUTH_MAX that ends at a newline; MORE only while fewer
 *    than TOKENS_AUTH_MAX bytes and no newline; a LINE's token matches the
 *    file exactly when it is one of the parsed tokens;
 *  - no allocation is left behind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "alloc.h"
#include "tokens.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks a parsed set. */
static void fuzz_check_tokens(const struct tokens *t)
{
	if (t->n == 0 || t->n > TOKENS_MAX)
		fuzz_fail("token count out of range");
	for (size_t i = 0; i < t->n; i++) {
		if (t->len[i] == 0 || t->len[i] > TOKENS_LEN_MAX)
			fuzz_fail("token length out of range");
		for (size_t j = 0; j < t->len[i]; j++)
			if (t->tok[i][j] <= ' ' || t->tok[i][j] >= 0x7f)
				fuzz_fail("token holds a blank or non-ASCII byte");
		if (!tokens_match(t, (const char *)t->tok[i], t->len[i]))
			fuzz_fail("a token does not match itself");
		if (!tokens_has_fingerprint(t, tokens_fingerprint((const char *)t->tok[i], t->len[i])))
			fuzz_fail("a token's fingerprint is not found");
	}
}

/* Every message tokens_parse can give, after an optional "line N: ": none
 * of them is built from the file's text. */
static const char *const known_errors[] = {
	"file larger than 1 MiB", "file holds a NUL byte", "out of memory",
	"no token in the file", "token longer than 256 bytes",
	"token holds a character other than visible ASCII (no blanks inside)",
	"more than 1024 tokens",
};

/* Checks an error message: one of the known ones, so it never quotes the
 * file (and a token in it). */
static void fuzz_check_error(const char *err)
{
	const char *p = err;

	if (strncmp(p, "line ", 5) == 0) {
		p += 5;
		if (*p < '1' || *p > '9')
			fuzz_fail("line number missing");
		while (*p >= '0' && *p <= '9')
			p++;
		if (strncmp(p, ": ", 2) != 0)
			fuzz_fail("line number not followed by ': '");
		p += 2;
	}
	for (size_t i = 0; i < sizeof(known_errors) / sizeof(known_errors[0]); i++)
		if (strcmp(p, known_errors[i]) == 0)
			return;
	fuzz_fail("an error message other than the known ones");
}

/* Checks the AUTH parser on the client's first bytes. */
static void fuzz_check_auth(const char *in, size_t len, const struct tokens *t, bool have)
{
	const char *tok = NULL;
	size_t n = 0, used = 0;
	enum tokens_auth a = tokens_auth_line(in, len, &tok, &n, &used);

	if (a == TOKENS_AUTH_MORE &&
	    (len >= TOKENS_AUTH_MAX || memchr(in, '\n', len)))
		fuzz_fail("MORE with a newline or a full line's bytes");
	if (a != TOKENS_AUTH_LINE)
		return;
	if (used == 0 || used > TOKENS_AUTH_MAX || used > len || in[used - 1] != '\n')
		fuzz_fail("used length out of bounds");
	if (tok != in + 5 || n == 0 || n > TOKENS_LEN_MAX || 5 + n > used)
		fuzz_fail("token out of the line");
	if (have) {
		bool listed = false;

		for (size_t i = 0; i < t->n; i++)
			listed |= t->len[i] == n && memcmp(t->tok[i], tok, n) == 0;
		if (tokens_match(t, tok, n) != listed)
			fuzz_fail("tokens_match disagrees with a plain search");
	}
}

/* One input: see the top of this file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep = memmem(data, size, "\n--\n", 4);
	size_t flen = sep ? (size_t)(sep - data) : size;
	size_t alen = sep ? size - flen - 4 : size;
	char *file = malloc(flen ? flen : 1), *auth = malloc(alen ? alen : 1), err[128];
	uint64_t live = alloc_live();
	struct tokens t;
	int rc;

	if (!file || !auth)
		abort();
	memcpy(file, data, flen);
	memcpy(auth, sep ? sep + 4 : data, alen);
	memset(err, 0, sizeof(err));
	rc = tokens_parse(&t, file, flen, err, sizeof(err));
	if (rc == 0)
		fuzz_check_tokens(&t);
	else if (rc == -1) {
		fuzz_check_error(err);
		if (alloc_live() != live)
			fuzz_fail("a failed parse holds memory");
	} else
		fuzz_fail("tokens_parse returned neither 0 nor -1");
	fuzz_check_auth(auth, alen, &t, rc == 0);
	if (rc == 0)
		tokens_free(&t);
	if (alloc_live() != live)
		fuzz_fail("memory left behind");
	free(file);
	free(auth);
	return 0;
}

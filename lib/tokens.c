/* tokens.c: the tokens file, constant-time comparison and the AUTH line
 * (see tokens.h). No message here ever quotes a token. */
#include "tokens.h"
#include "alloc.h"
#include "siphash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* A character a token may hold: visible ASCII. */
static bool tokens_char_ok(unsigned char c)
{
	return c > ' ' && c < 0x7f;
}

/* Whether every byte of s[0..n) is a token character. */
static bool tokens_text_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!tokens_char_ok((unsigned char)s[i]))
			return false;
	return true;
}

/* Trims blanks and a trailing \r from the line s[*from..*to). */
static void tokens_trim(const char *s, size_t *from, size_t *to)
{
	while (*to > *from && (s[*to - 1] == '\r' || s[*to - 1] == ' ' || s[*to - 1] == '\t'))
		(*to)--;
	while (*from < *to && (s[*from] == ' ' || s[*from] == '\t'))
		(*from)++;
}

/* Why a trimmed, non-comment line is not a token; NULL when it is one. */
static const char *tokens_line_problem(const char *s, size_t n, size_t count)
{
	if (n > TOKENS_LEN_MAX)
		return "token longer than 256 bytes";
	if (!tokens_text_ok(s, n))
		return "token holds a character other than visible ASCII (no blanks inside)";
	if (count >= TOKENS_MAX)
		return "more than 1024 tokens";
	return NULL;
}

/* Counts the lines and allocates room for as many tokens, padded. */
static int tokens_alloc(struct tokens *t, const char *buf, size_t len)
{
	size_t lines = 1;

	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	if (lines > TOKENS_MAX + 1)
		lines = TOKENS_MAX + 1;
	t->tok = pc_calloc(lines, sizeof(*t->tok));
	t->len = pc_calloc(lines, sizeof(*t->len));
	t->fp = pc_calloc(lines, sizeof(*t->fp));
	return t->tok && t->len && t->fp ? 0 : -1;
}

/* Fails the parse: the message names a line, never its text. */
static int tokens_fail(struct tokens *t, size_t line, const char *why, char *err, size_t errlen)
{
	tokens_free(t);
	if (line)
		snprintf(err, errlen, "line %zu: %s", line, why);
	else
		snprintf(err, errlen, "%s", why);
	return -1;
}

/* Orders fingerprints for the binary search. */
static int tokens_fp_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Splits buf into lines and keeps every token. */
int tokens_parse(struct tokens *t, const char *buf, size_t len, char *err, size_t errlen)
{
	size_t line = 0, pos = 0;

	memset(t, 0, sizeof(*t));
	if (len > TOKENS_FILE_MAX)
		return tokens_fail(t, 0, "file larger than 1 MiB", err, errlen);
	if (memchr(buf, '\0', len))
		return tokens_fail(t, 0, "file holds a NUL byte", err, errlen);
	if (tokens_alloc(t, buf, len) < 0)
		return tokens_fail(t, 0, "out of memory", err, errlen);
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len, from = pos, to = end;
		const char *why;

		line++;
		pos = end + 1;
		tokens_trim(buf, &from, &to);
		if (from == to || buf[from] == '#')
			continue;
		if ((why = tokens_line_problem(buf + from, to - from, t->n)) != NULL)
			return tokens_fail(t, line, why, err, errlen);
		memcpy(t->tok[t->n], buf + from, to - from);
		t->len[t->n++] = (uint16_t)(to - from);
	}
	if (t->n == 0)
		return tokens_fail(t, 0, "no token in the file", err, errlen);
	for (size_t i = 0; i < t->n; i++)
		t->fp[i] = tokens_fingerprint((const char *)t->tok[i], t->len[i]);
	qsort(t->fp, t->n, sizeof(*t->fp), tokens_fp_cmp);
	return 0;
}

/* Releases the tokens, wiping them first. */
void tokens_free(struct tokens *t)
{
	if (t->tok)
		memset(t->tok, 0, t->n * sizeof(*t->tok));
	pc_free(t->tok);
	pc_free(t->len);
	pc_free(t->fp);
	memset(t, 0, sizeof(*t));
}

/* Compares cand, padded, with every token over the full padded length and
 * with no early exit: the work is the same for any input. */
bool tokens_match(const struct tokens *t, const char *cand, size_t len)
{
	unsigned char pad[TOKENS_LEN_MAX] = { 0 };
	unsigned found = 0;
	size_t n = len < TOKENS_LEN_MAX ? len : TOKENS_LEN_MAX;

	memcpy(pad, cand, n);
	for (size_t i = 0; i < t->n; i++) {
		unsigned diff = (unsigned)(t->len[i] ^ len);
		const volatile unsigned char *a = t->tok[i];

		for (size_t j = 0; j < TOKENS_LEN_MAX; j++)
			diff |= a[j] ^ pad[j];
		found |= diff == 0;
	}
	memset(pad, 0, sizeof(pad));
	return found != 0;
}

/* The process's fingerprint key, drawn once (time and pid only when the
 * kernel has no randomness to give, which merely weakens the hash). */
static const uint64_t *tokens_key(void)
{
	static uint64_t key[2];
	static bool drawn;

	if (!drawn) {
		if (getrandom(key, sizeof(key), GRND_NONBLOCK) != (ssize_t)sizeof(key)) {
			key[0] = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL;
			key[1] = (uint64_t)getpid() * 0xc2b2ae3d27d4eb4fULL;
		}
		drawn = true;
	}
	return key;
}

/* SipHash of the token under the process's key. */
uint64_t tokens_fingerprint(const char *tok, size_t len)
{
	return siphash(tokens_key(), tok, len);
}

/* Binary search among the sorted fingerprints. */
bool tokens_has_fingerprint(const struct tokens *t, uint64_t fp)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->fp[mid] == fp)
			return true;
		if (t->fp[mid] < fp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Recognises "AUTH TOKEN\n" within the first TOKENS_AUTH_MAX bytes. */
enum tokens_auth tokens_auth_line(const char *buf, size_t len, const char **tok,
				  size_t *toklen, size_t *used)
{
	size_t look = len < TOKENS_AUTH_MAX ? len : TOKENS_AUTH_MAX;
	const char *nl = memchr(buf, '\n', look);
	size_t end, n;

	if (look && memcmp(buf, "AUTH ", look < 5 ? look : 5) != 0)
		return TOKENS_AUTH_BAD;
	if (!nl)
		return len >= TOKENS_AUTH_MAX ? TOKENS_AUTH_BAD : TOKENS_AUTH_MORE;
	end = (size_t)(nl - buf);
	if (end > 0 && buf[end - 1] == '\r')
		end--;
	if (end < 5)
		return TOKENS_AUTH_BAD;
	n = end - 5;
	if (n == 0 || n > TOKENS_LEN_MAX || !tokens_text_ok(buf + 5, n))
		return TOKENS_AUTH_BAD;
	*tok = buf + 5;
	*toklen = n;
	*used = (size_t)(nl - buf) + 1;
	return TOKENS_AUTH_LINE;
}

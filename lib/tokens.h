/* tokens.h: [access] tokens_file and the raw client's AUTH line
 * (pipecast.conf(5)). The file holds one token per line; blank lines and
 * lines starting with '#' are skipped, blanks around a token and a trailing
 * \r are ignored. A token is 1 to TOKENS_LEN_MAX visible ASCII characters.
 * Tokens are compared in constant time and never appear in an error
 * message. */
#ifndef PIPECAST_TOKENS_H
#define PIPECAST_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKENS_LEN_MAX      256          /* bytes in one token */
#define TOKENS_MAX          1024         /* tokens in one file */
#define TOKENS_FILE_MAX     (1 << 20)    /* bytes in the file */
#define TOKENS_AUTH_MAX     512          /* the AUTH line, "\n" included */

struct tokens {
	size_t n;
	unsigned char (*tok)[TOKENS_LEN_MAX];   /* zero-padded */
	uint16_t *len;
	uint64_t *fp;           /* the tokens' fingerprints, sorted */
};

/* Parses a tokens file held in buf. Returns 0 (t owns memory then:
 * tokens_free), or -1 with "line N: problem" in err and t empty. */
int tokens_parse(struct tokens *t, const char *buf, size_t len, char *err, size_t errlen);
void tokens_free(struct tokens *t);

/* Whether cand is one of the tokens. The time taken depends only on the
 * number of tokens, never on their contents or lengths or on cand's. */
bool tokens_match(const struct tokens *t, const char *cand, size_t len);

/* The fingerprint of a token (SipHash under a key drawn at random once per
 * process): what a connection keeps, instead of the token, to be checked
 * again when the tokens change. */
uint64_t tokens_fingerprint(const char *tok, size_t len);
/* Whether one of t's tokens has this fingerprint (a binary search). */
bool tokens_has_fingerprint(const struct tokens *t, uint64_t fp);

enum tokens_auth {
	TOKENS_AUTH_MORE,       /* no newline yet, and room for one */
	TOKENS_AUTH_LINE,       /* a well-formed line: *tok, *toklen, *used set */
	TOKENS_AUTH_BAD,        /* not "AUTH TOKEN", or longer than TOKENS_AUTH_MAX */
};

/* Looks for the first line "AUTH TOKEN\n" (a \r before the \n ignored) at
 * the start of buf. *used is the line's length, newline included. The
 * token is any 1 to TOKENS_LEN_MAX visible ASCII bytes; whether it is a
 * valid one is for tokens_match. */
enum tokens_auth tokens_auth_line(const char *buf, size_t len, const char **tok,
				  size_t *toklen, size_t *used);

#endif

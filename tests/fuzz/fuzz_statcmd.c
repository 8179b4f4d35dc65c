/* fuzz_statcmd.c: libFuzzer target for the stats socket's command parser
 * (lib/statcmd.c) and its error reply (statfmt_error in lib/statfmt.c).
 *
 * Input: the whole input is one command line (any bytes, NULs included),
 * given to statcmd_parse in an allocation of exactly its length so that
 * any read past it is caught.
 *
 * Invariants checked (any failure aborts):
 *  - statcmd_parse returns 0 or -1;
 *  - on 0: kind < STATCMD_COUNT, admin exactly for kill, reload and show
 *    config, json only for the show commands that take it;
 *  - on -1: err is non-empty, NUL-terminated within STATCMD_ERR_MAX,
 *    printable ASCII, no newline; a second parse with a shorter err buffer
 *    (length from the input) gives the same result and a prefix of it;
 *  - statfmt_error's reply for that message, and for the raw line itself,
 *    starts with "error: ", ends with "\n\n" and has no other empty line;
 *  - no allocation is left behind. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "alloc.h"
#include "sbuf.h"
#include "statcmd.h"
#include "statfmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks an error message: non-empty, terminated, printable, one line. */
static void fuzz_check_msg(const char *err, size_t errlen, bool may_be_empty)
{
	size_t n = strnlen(err, errlen);

	if (n == errlen)
		fuzz_fail("error message not NUL-terminated");
	if (n == 0 && !may_be_empty)
		fuzz_fail("empty error message");
	for (size_t i = 0; i < n; i++)
		if (err[i] < 0x20 || err[i] > 0x7e)
			fuzz_fail("unprintable byte in the error message");
}

/* Checks a parsed command against the protocol's table. */
static void fuzz_check_cmd(const struct statcmd *cmd)
{
	bool admin = cmd->kind == STATCMD_KILL_CLIENT || cmd->kind == STATCMD_RELOAD ||
		     cmd->kind == STATCMD_SHOW_CONFIG;
	bool json_ok = cmd->kind <= STATCMD_SHOW_CLOSED || cmd->kind == STATCMD_SHOW_CONFIG;

	if ((unsigned)cmd->kind >= STATCMD_COUNT)
		fuzz_fail("command kind out of range");
	if (cmd->admin != admin)
		fuzz_fail("admin flag does not match the command");
	if (cmd->json && !json_ok)
		fuzz_fail("json on a command without it");
	if (cmd->id && cmd->kind != STATCMD_KILL_CLIENT)
		fuzz_fail("client id on a command without one");
}

/* Checks an error reply: "error: ", one body line, then the empty line. */
static void fuzz_check_reply(const char *msg)
{
	struct sbuf b = SBUF_INIT;
	uint64_t live0 = alloc_live();
	const char *first;

	if (statfmt_error(&b, msg) < 0)
		fuzz_fail("statfmt_error failed");
	if (b.len < 9 || memcmp(b.buf, "error: ", 7) != 0)
		fuzz_fail("reply does not start with 'error: '");
	if (memcmp(b.buf + b.len - 2, "\n\n", 2) != 0)
		fuzz_fail("reply does not end with an empty line");
	first = strstr(b.buf, "\n\n");
	if (first != b.buf + b.len - 2)
		fuzz_fail("reply has an empty line before its end");
	if (memchr(b.buf, '\n', b.len - 2) != NULL)
		fuzz_fail("error reply body is more than one line");
	if (strlen(b.buf) != b.len)
		fuzz_fail("reply holds a NUL byte");
	sbuf_free(&b);
	if (alloc_live() != live0)
		fuzz_fail("reply leaked an allocation");
}

/* Parses again into a shorter buffer; the message must be a prefix. */
static void fuzz_check_short(const char *line, size_t len, int rc, const char *err,
			     size_t errlen)
{
	char small[STATCMD_ERR_MAX];
	struct statcmd cmd;

	memset(small, 'X', sizeof(small));
	if (statcmd_parse(line, len, &cmd, small, errlen) != rc)
		fuzz_fail("result depends on the error buffer's length");
	if (rc == 0)
		return;
	fuzz_check_msg(small, errlen, errlen == 1);
	if (strncmp(small, err, strlen(small)) != 0)
		fuzz_fail("short message is not a prefix of the full one");
	for (size_t i = errlen; i < sizeof(small); i++)
		if (small[i] != 'X')
			fuzz_fail("wrote past the error buffer's length");
}

/* One input: see the top of this file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size ? size : 1);
	char *text = malloc(size + 1);
	char err[STATCMD_ERR_MAX];
	struct statcmd cmd;
	int rc;

	if (!line || !text)
		abort();
	memcpy(line, data, size);
	memcpy(text, data, size);
	text[size] = '\0';
	memset(err, 'X', sizeof(err));
	memset(&cmd, 0, sizeof(cmd));
	rc = statcmd_parse(line, size, &cmd, err, sizeof(err));
	if (rc != 0 && rc != -1)
		fuzz_fail("statcmd_parse returned neither 0 nor -1");
	if (rc == 0) {
		fuzz_check_cmd(&cmd);
	} else {
		fuzz_check_msg(err, sizeof(err), false);
		fuzz_check_reply(err);
	}
	fuzz_check_short(line, size, rc, err, 1 + (size ? data[0] : 0) % sizeof(err));
	fuzz_check_reply(text);
	free(line);
	free(text);
	return 0;
}

/* fuzz_ctlalign.c: libFuzzer target for pipecastctl's column alignment of
 * table replies (ctl_align_columns in lib/ctlutil.c), which reads what a
 * daemon (or anything at the socket path) sent.
 *
 * Input: the whole input is one reply body (any bytes, NULs included), in
 * an allocation of exactly its length so that any read past it is caught.
 *
 * Invariants checked (any failure aborts):
 *  - the result is not NULL (no allocation fails here);
 *  - only spaces are added: without its spaces the result equals the input
 *    without its spaces (so lines and the bytes of every cell are kept),
 *    and it is at least as long;
 *  - no allocation is left behind. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "alloc.h"
#include "ctlutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The bytes of s[0..n) without spaces, into out; returns their number. */
static size_t fuzz_squeeze(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ')
			out[o++] = s[i];
	return o;
}

/* Only spaces were added. */
static void fuzz_check(const char *in, size_t n, const char *out, size_t m)
{
	char *a = malloc(n + 1), *b = malloc(m + 1);
	size_t na, nb;

	if (!a || !b)
		abort();
	na = fuzz_squeeze(in, n, a);
	nb = fuzz_squeeze(out, m, b);
	if (m < n)
		fuzz_fail("result shorter than the input");
	if (na != nb || memcmp(a, b, na) != 0)
		fuzz_fail("more than spaces changed");
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size ? size : 1);
	uint64_t live0 = alloc_live();
	char *out;

	if (!in)
		return 0;
	memcpy(in, data, size);
	out = ctl_align_columns(in, size);
	if (!out)
		fuzz_fail("NULL result");
	/* NUL bytes in the input end strlen early; the check uses the prefix
	 * the result shows. */
	if (!memchr(in, '\0', size))
		fuzz_check(in, size, out, strlen(out));
	pc_free(out);
	if (alloc_live() != live0)
		fuzz_fail("allocation left behind");
	free(in);
	return 0;
}

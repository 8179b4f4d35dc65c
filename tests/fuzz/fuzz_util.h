/* fuzz_util.h: what every libFuzzer target here shares: stopping the run
 * on a broken invariant, the generator that picks chunk sizes from a
 * seed, and the digest two parses of one input are compared by. Included
 * by the target's one .c file (static inline: a target uses what it needs). */
#ifndef PIPECAST_FUZZ_UTIL_H
#define PIPECAST_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Stops the run with a message naming the target; libFuzzer saves the
 * input as a crash. */
__attribute__((noreturn)) static inline void fuzz_fail(const char *what)
{
	fprintf(stderr, "%s: invariant broken: %s\n", __BASE_FILE__, what);
	abort();
}

/* A small deterministic generator (xorshift32; a nonzero state stays
 * nonzero). */
static inline uint32_t fuzz_next(uint32_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 17;
	*st ^= *st << 5;
	return *st;
}

/* The next chunk's size, 1..most but no more than the left bytes; all of
 * them when *seed is 0 (the whole input at once). */
static inline size_t fuzz_chunk(uint32_t *seed, uint32_t most, size_t left)
{
	size_t k = *seed ? 1 + fuzz_next(seed) % most : left;

	return k < left ? k : left;
}

/* The FNV-1a offset basis and one step over n bytes. */
#define FUZZ_FNV_BASIS 0xcbf29ce484222325ULL
static inline uint64_t fuzz_fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

#endif

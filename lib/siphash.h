/* siphash.h: SipHash-2-4, a keyed hash: with a secret key, nobody outside
 * can choose inputs that collide (per-address table, token fingerprints). */
#ifndef PIPECAST_SIPHASH_H
#define PIPECAST_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* The 64-bit SipHash-2-4 of n bytes under the 128-bit key k[0], k[1]
 * (k[0] from key bytes 0..7, little-endian, as the reference code reads it). */
uint64_t siphash(const uint64_t k[2], const void *data, size_t n);

#endif

/* perip.h: concurrent connections per address for [access] max_per_ip
 * (pipecast.conf(5)): IPv4 per address, IPv6 per /64. An open-addressing
 * hash table (linear probing, backward-shift deletion, no tombstones) sized
 * once for a maximum number of distinct addresses: adding or removing a
 * connection never allocates and costs the same however many clients are
 * connected. Keys are hashed with SipHash under a secret seed, so peers
 * cannot pick addresses that collide. */
#ifndef PIPECAST_PERIP_H
#define PIPECAST_PERIP_H

#include <stddef.h>
#include <stdint.h>

#include "cidr.h"

struct perip_slot {
	uint64_t key;           /* IPv4 address, or the top 64 bits of IPv6 */
	uint32_t count;         /* connections; 0 = empty slot */
	uint8_t family;
};

struct perip {
	struct perip_slot *slots;
	size_t mask;            /* slots - 1 (a power of two) */
	size_t used;            /* distinct addresses held */
	size_t max_used;        /* at most half the slots */
	uint64_t seed[2];
};

enum perip_result { PERIP_OK, PERIP_LIMIT, PERIP_FULL };

/* An empty table for up to max_keys distinct addresses (allocated once).
 * Returns 0, or -1 when out of memory. */
int perip_init(struct perip *p, size_t max_keys, const uint64_t seed[2]);
/* The same table moved into one for max_keys (at reload); every count is
 * kept. Returns 0, or -1 (out of memory, or fewer slots than addresses held)
 * with p unchanged. */
int perip_resize(struct perip *p, size_t max_keys);
void perip_free(struct perip *p);

/* Counts one more connection from a, unless it already has `limit`
 * (0 = no limit: PERIP_LIMIT never happens). PERIP_FULL: a new address
 * and no room; nothing was counted. */
enum perip_result perip_add(struct perip *p, const struct cidr_addr *a, uint32_t limit);
/* One connection from a is gone (an address not held is ignored). */
void perip_remove(struct perip *p, const struct cidr_addr *a);
/* Connections counted for a. */
uint32_t perip_count(const struct perip *p, const struct cidr_addr *a);

#endif

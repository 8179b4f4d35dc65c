/* perip.c: the per-address connection count (see perip.h). */
#include "perip.h"
#include "alloc.h"
#include "siphash.h"

#include <string.h>

/* The table key of an address: IPv4 whole, IPv6 its /64. */
static uint64_t perip_key(const struct cidr_addr *a)
{
	uint64_t k = 0;
	int n = a->family == CIDR_V4 ? 4 : 8;

	for (int i = 0; i < n; i++)
		k = (k << 8) | a->b[i];
	return k;
}

/* Home slot of a key. */
static size_t perip_home(const struct perip *p, uint8_t family, uint64_t key)
{
	uint8_t in[9];

	in[0] = family;
	memcpy(in + 1, &key, sizeof(key));
	return (size_t)siphash(p->seed, in, sizeof(in)) & p->mask;
}

/* The slot holding the key, or the empty slot where it would go. */
static size_t perip_find(const struct perip *p, uint8_t family, uint64_t key)
{
	size_t i = perip_home(p, family, key);

	while (p->slots[i].count != 0 &&
	       (p->slots[i].key != key || p->slots[i].family != family))
		i = (i + 1) & p->mask;
	return i;
}

/* Slots for max_keys at a load of at most one half. */
static size_t perip_slots_for(size_t max_keys)
{
	size_t n = 16;

	while (n / 2 < max_keys && n < ((size_t)1 << 40))
		n <<= 1;
	return n;
}

/* Allocates the table once. */
int perip_init(struct perip *p, size_t max_keys, const uint64_t seed[2])
{
	size_t n = perip_slots_for(max_keys);

	memset(p, 0, sizeof(*p));
	p->slots = pc_calloc(n, sizeof(*p->slots));
	if (!p->slots)
		return -1;
	p->mask = n - 1;
	p->max_used = max_keys;
	p->seed[0] = seed[0];
	p->seed[1] = seed[1];
	return 0;
}

/* Rehashes every held address into a table of the new size. */
int perip_resize(struct perip *p, size_t max_keys)
{
	struct perip next;

	if (max_keys < p->used || perip_init(&next, max_keys, p->seed) < 0)
		return -1;
	for (size_t i = 0; i <= p->mask; i++) {
		const struct perip_slot *s = &p->slots[i];

		if (s->count)
			next.slots[perip_find(&next, s->family, s->key)] = *s;
	}
	next.used = p->used;
	pc_free(p->slots);
	*p = next;
	return 0;
}

/* Releases the table. */
void perip_free(struct perip *p)
{
	pc_free(p->slots);
	memset(p, 0, sizeof(*p));
}

/* Counts a connection unless the address is at its limit. */
enum perip_result perip_add(struct perip *p, const struct cidr_addr *a, uint32_t limit)
{
	uint64_t key = perip_key(a);
	size_t i = perip_find(p, a->family, key);
	struct perip_slot *s = &p->slots[i];

	if (s->count == 0) {
		if (p->used >= p->max_used)
			return PERIP_FULL;
		s->key = key;
		s->family = a->family;
		p->used++;
	} else if (limit && s->count >= limit) {
		return PERIP_LIMIT;
	}
	s->count++;
	return PERIP_OK;
}

/* Whether slot i lies cyclically in (from, to]. */
static bool perip_between(size_t from, size_t i, size_t to)
{
	return from <= to ? from < i && i <= to : from < i || i <= to;
}

/* Empties slot `hole` and moves later entries of its run back into it
 * (Knuth's algorithm R), so lookups never need tombstones. */
static void perip_delete(struct perip *p, size_t hole)
{
	size_t j = hole;

	for (;;) {
		j = (j + 1) & p->mask;
		if (p->slots[j].count == 0)
			break;
		size_t home = perip_home(p, p->slots[j].family, p->slots[j].key);

		if (perip_between(hole, home, j))
			continue;
		p->slots[hole] = p->slots[j];
		hole = j;
	}
	memset(&p->slots[hole], 0, sizeof(p->slots[hole]));
	p->used--;
}

/* Uncounts a connection; the address goes when its last one does. */
void perip_remove(struct perip *p, const struct cidr_addr *a)
{
	size_t i = perip_find(p, a->family, perip_key(a));

	if (p->slots[i].count == 0)
		return;
	if (--p->slots[i].count == 0)
		perip_delete(p, i);
}

/* The count for an address (0 when not held). */
uint32_t perip_count(const struct perip *p, const struct cidr_addr *a)
{
	return p->slots[perip_find(p, a->family, perip_key(a))].count;
}

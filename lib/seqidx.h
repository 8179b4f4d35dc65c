/* seqidx.h: where records start in a ring, by sequence number, without
 * scanning the ring from its tail. Entries (seq, ring offset, source bytes
 * before the record) are added for some records only (every SEQIDX_STRIDE-th
 * record of an encoded stream, say) into a fixed array used circularly;
 * lookups binary-search the entries still inside the ring, and the caller
 * walks forward from the entry found, at most a stride of records. All three
 * keys increase from one entry to the next. */
#ifndef PIPECAST_SEQIDX_H
#define PIPECAST_SEQIDX_H

#include <stddef.h>
#include <stdint.h>

struct seqidx_entry {
	uint64_t seq;   /* the record's sequence number */
	uint64_t off;   /* ring offset of its first byte */
	uint64_t src;   /* source bytes of all records before it */
};

struct seqidx {
	struct seqidx_entry *e;
	size_t cap;
	uint64_t added;  /* entries ever added; the newest cap of them are kept */
};

/* The key a lookup searches by. */
enum seqidx_key { SEQIDX_SEQ, SEQIDX_OFF, SEQIDX_SRC };

/* Allocates room for cap entries (cap >= 1). Returns 0, or -1. */
int seqidx_init(struct seqidx *x, size_t cap);
void seqidx_free(struct seqidx *x);
/* Adds an entry; keys must not decrease. The oldest is forgotten when full. */
void seqidx_add(struct seqidx *x, uint64_t seq, uint64_t off, uint64_t src);
/* The newest entry whose key is <= v among those with off >= tail, or NULL
 * when none is. */
const struct seqidx_entry *seqidx_floor(const struct seqidx *x, enum seqidx_key k,
					uint64_t v, uint64_t tail);
/* The oldest entry with off >= tail, or NULL. */
const struct seqidx_entry *seqidx_oldest(const struct seqidx *x, uint64_t tail);

#endif

/* eventid.h: the id of a record, EPOCH-SEQ (pipecast.conf(5), "EVENT IDS"):
 * EPOCH is 16 lowercase hex digits chosen at each start, SEQ a decimal
 * number that strictly increases within an epoch. */
#ifndef PIPECAST_EVENTID_H
#define PIPECAST_EVENTID_H

#include <stddef.h>
#include <stdint.h>

/* 16 hex digits, '-', up to 20 decimal digits, NUL. */
#define EVENTID_MAX 38

struct eventid {
	uint64_t epoch;
	uint64_t seq;
};

/* Parses exactly n bytes of s. Returns 0, or -1 when they are not a
 * well-formed id (uppercase hex, signs, spaces and overflow included). */
int eventid_parse(const char *s, size_t n, struct eventid *id);

/* Writes "EPOCH-SEQ" and a NUL into out (EVENTID_MAX bytes); returns the
 * length without the NUL. */
size_t eventid_format(char *out, uint64_t epoch, uint64_t seq);

/* Writes the 16 hex digits of an epoch and a NUL into out (17 bytes). */
void eventid_epoch(char *out, uint64_t epoch);

/* The text of the last id asked for, kept to make the next one cheap: an
 * encoder numbers its records one by one within an epoch, so the epoch's
 * hex digits stay as they are and the decimal SEQ is incremented in place.
 * Zeroed memory is an empty cache. */
struct eventid_text {
	uint64_t epoch;
	uint64_t seq;
	size_t len;                /* 0: nothing formatted yet */
	char text[EVENTID_MAX];    /* "EPOCH-SEQ", NUL-terminated */
};

/* The text of (epoch, seq), as eventid_format() writes it; *len is its
 * length. The pointer is into t, valid until the next call. */
const char *eventid_text(struct eventid_text *t, uint64_t epoch, uint64_t seq, size_t *len);

#endif

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

#endif

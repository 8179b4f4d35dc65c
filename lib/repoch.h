/* repoch.h: the epoch of a Redis stream (pipecastd(8), "A Redis stream
 * as the backbone"). It lives with the stream itself, as a consumer group
 * named pipecast-epoch-<16 hex digits> on KEY: every edge reading the
 * stream finds the same one, and it dies with the stream, so a deleted
 * and re-created stream has a new one. One Lua script, run atomically by
 * Redis, finds it (the smallest such name when there are several) or
 * creates it, and returns it with the stream's last-generated-id, its
 * newest deleted entry id, and how many entries were ever added and are
 * held (so trimmed ones can be told). Sent in one MULTI with the XREAD
 * that reads entries, it tells the epoch of exactly those entries. */
#ifndef PIPECAST_REPOCH_H
#define PIPECAST_REPOCH_H

#include "rstream.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REPOCH_PREFIX "pipecast-epoch-"
/* The length of a group's name: the prefix and 16 hex digits. */
#define REPOCH_NAME_LEN (sizeof(REPOCH_PREFIX) - 1 + 16)

/* What the script answered. */
struct repoch_reply {
	bool exists;                 /* false: KEY does not exist */
	uint64_t epoch;              /* the group's 16 hex digits */
	uint64_t last_ms, last_seq;  /* the stream's last-generated-id */
	uint64_t deleted_ms, deleted_seq;  /* its max-deleted-entry-id */
	int64_t added;               /* entries-added; -1 before Redis 7 */
	int64_t length;              /* entries held */
};

/* Writes the group's name of an epoch into buf (REPOCH_NAME_LEN + 1
 * bytes, NUL-terminated). */
void repoch_name(char *buf, uint64_t epoch);
/* Reads a group's name; 0, or -1 when it is not one of ours. */
int repoch_name_parse(const char *p, size_t n, uint64_t *epoch);
/* Writes the EVAL command of the script for KEY into out[0, cap); its
 * length (like resp_cmd: larger than cap when it did not fit). fresh is
 * the epoch a group created now gets. With renew (not 0) equal to the
 * stream's current epoch, the script drops the stream's epoch groups and
 * creates fresh: the caller saw the stream go back in time. */
size_t repoch_cmd(char *out, size_t cap, const char *key, size_t keylen,
		  uint64_t fresh, uint64_t renew);
/* Reads the script's whole reply (as rstream_info_read: RSTREAM_END with
 * *rep filled, RSTREAM_REPLY_ERROR with the text in *msg, RSTREAM_MORE
 * leaving the reader at the reply's start, RSTREAM_EPROTO or
 * RSTREAM_ELIMIT). */
enum rstream_status repoch_read(struct resp_reader *r, const char *buf, size_t len,
				struct repoch_reply *rep, const char **msg, size_t *msglen);

#endif

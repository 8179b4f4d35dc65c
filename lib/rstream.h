/* rstream.h: Redis stream replies read with the RESP reader, without
 * allocating: the entries of an XREAD or XRANGE reply (each entry's id and
 * its field `data`, as pointers into the read buffer), the figures of an
 * XINFO STREAM reply, and entry ids ("MS-SEQ") with their mapping to the
 * decimal sequence numbers of pipecast's event ids (pipecastd(8)). */
#ifndef PIPECAST_RSTREAM_H
#define PIPECAST_RSTREAM_H

#include "resp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest entry id as text: two 20-digit numbers and a '-'. */
#define RSTREAM_ID_MAX 41

enum rstream_kind {
	RSTREAM_XREAD,    /* [[key, [entry...]]...] or nil (BLOCK timed out) */
	RSTREAM_XRANGE,   /* [entry...] */
};

enum rstream_status {
	RSTREAM_ENTRY,        /* one entry in *e */
	RSTREAM_END,          /* the reply is complete; the next call reads the next reply */
	RSTREAM_NIL,          /* a nil reply: XREAD BLOCK timed out */
	RSTREAM_REPLY_ERROR,  /* the server answered an error: its text in e->data */
	RSTREAM_MORE,         /* read more bytes (keep those from r->pos on) */
	RSTREAM_EPROTO,       /* not RESP2, or not the shape of such a reply */
	RSTREAM_ELIMIT,       /* a RESP limit is exceeded */
};

/* One stream entry; id and data point into the read buffer. */
struct rstream_entry {
	const char *id;
	size_t id_len;
	uint64_t ms, seq;    /* the id's two parts */
	const char *data;    /* the value of the first field named `data` */
	size_t data_len;
	bool has_data;       /* false: the entry has no `data` field */
};

/* Where a walk through one reply stands. */
struct rstream_walk {
	struct resp_reader *r;
	enum rstream_kind kind;
	int state;
	int64_t streams_left;
	int64_t entries_left;
};

/* Starts walking replies of one kind read by r (one walk per command kind;
 * after END, NIL or REPLY_ERROR it is ready for the next reply). */
void rstream_walk_init(struct rstream_walk *w, struct resp_reader *r,
		       enum rstream_kind kind);
/* Hands out the next entry of the reply in buf[0, len). An entry comes
 * whole or not at all: on RSTREAM_MORE the reader is back at the entry's
 * start, so its bytes must be kept; bytes before r->pos may be discarded
 * after each ENTRY. A buffer that fills up while MORE is returned holds an
 * entry larger than the caller allows: a protocol limit, not a wait. */
enum rstream_status rstream_next(struct rstream_walk *w, const char *buf, size_t len,
				 struct rstream_entry *e);

/* What XINFO STREAM tells about a stream (RESP2 reply of Redis 5 to 7). */
struct rstream_info {
	int64_t length;            /* entries held */
	int64_t entries_added;     /* entries ever added; -1 before Redis 7 */
	uint64_t last_ms, last_seq;    /* last-generated-id */
	bool has_first;            /* first-entry is not nil */
	uint64_t first_ms, first_seq;  /* first-entry's id */
};

/* Reads a whole XINFO STREAM reply. RSTREAM_END with *info filled;
 * RSTREAM_REPLY_ERROR (no such key: "ERR no such key", or WRONGTYPE) with
 * its text in *msg and *msglen; RSTREAM_MORE leaves the reader at the reply's
 * start; RSTREAM_EPROTO when a field is missing or malformed. */
enum rstream_status rstream_info_read(struct resp_reader *r, const char *buf, size_t len,
				      struct rstream_info *info,
				      const char **msg, size_t *msglen);

/* The id of the entry the walk stands at, when the entry's head (its
 * array and its id) is in buf[0, len): used to name, and step over, an
 * entry too large to read (RSTREAM_ELIMIT, or MORE with a full buffer).
 * 0, or -1 when the walk is not at an entry or its id is not there. */
int rstream_peek_id(const struct rstream_walk *w, const char *buf, size_t len,
		    uint64_t *ms, uint64_t *seq);
/* Compares two entry ids: <0, 0 or >0. */
int rstream_id_cmp(uint64_t ams, uint64_t aseq, uint64_t bms, uint64_t bseq);
/* Parses an entry id "MS-SEQ" (two decimal numbers); 0 or -1. */
int rstream_id_parse(const char *p, size_t n, uint64_t *ms, uint64_t *seq);
/* Formats an entry id into buf (RSTREAM_ID_MAX + 1 bytes); its length. */
size_t rstream_id_format(char *buf, uint64_t ms, uint64_t seq);
/* An event id's SEQ for an entry id: MS * 1000000 + SEQ, so that the order
 * of ids is kept and the entry id can be found again; -1 when SEQ is not
 * below 1000000 or the product overflows (ids Redis never generates by
 * itself), and for 0-0. */
int rstream_id_to_seq(uint64_t ms, uint64_t seq, uint64_t *out);
/* The entry id an event id's SEQ came from (the inverse of the above). */
void rstream_seq_to_id(uint64_t s, uint64_t *ms, uint64_t *seq);

#endif

/* sseparse.h: reads an upstream's Server-Sent Events stream (the event
 * stream format of the HTML standard) incrementally, without allocating:
 * a BOM at the start is skipped; lines end in "\n", "\r\n" or "\r"; lines
 * starting with ':' are comments; `data:` lines of one event are joined
 * with '\r' (pipecastd(8): a record's '\r'-separated pieces travel as
 * data lines); `id:`, `event:` and `retry:` are kept; an empty line ends
 * an event. Events without a data line are not handed out (as a browser
 * does), but their id still becomes the last id seen.
 *
 * Bounds: an event's data is kept in the caller's buffer of `cap` bytes,
 * an id in SSEPARSE_ID_MAX bytes, an event name in SSEPARSE_TYPE_MAX. An
 * event whose data or id or name does not fit is dropped whole: its bytes
 * are read and discarded up to the empty line that ends it (so a 10 MiB
 * line takes no more memory than any other), it is counted in `dropped`
 * and SSEPARSE_DROPPED is returned in its place. Comment lines of any
 * length are skipped without being kept. */
#ifndef PIPECAST_SSEPARSE_H
#define PIPECAST_SSEPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SSEPARSE_ID_MAX 128
#define SSEPARSE_TYPE_MAX 32
/* The field names we keep: data, event, id, retry. */
#define SSEPARSE_NAME_MAX 8

/* One event, valid until the next sseparse_feed() call. */
struct sse_event {
	const char *data;     /* the data lines joined with '\r' */
	size_t len;
	const char *id;       /* this event's id: line, when has_id */
	size_t id_len;
	bool has_id;
	const char *type;     /* the event: name; "" means "message" */
	size_t type_len;
};

enum sseparse_status {
	SSEPARSE_MORE,      /* every byte given was read; no event ended */
	SSEPARSE_EVENT,     /* an event ended: *ev */
	SSEPARSE_DROPPED,   /* an event ended that did not fit: dropped */
};

struct sseparse {
	char *buf;                 /* the caller's buffer for an event's data */
	size_t cap;
	size_t len;                /* data bytes of the event being read */
	unsigned ndata;            /* data lines of the event being read */
	bool too_long;             /* the event being read does not fit */
	char id[SSEPARSE_ID_MAX];  /* the event's id line */
	size_t id_len;
	bool has_id;
	char type[SSEPARSE_TYPE_MAX];
	size_t type_len;
	char last_id[SSEPARSE_ID_MAX];   /* the last id seen (Last-Event-ID) */
	size_t last_id_len;
	uint64_t retry_ms;         /* the last retry: hint; 0 = none */
	uint64_t dropped;          /* events dropped for their size */
	uint64_t comments;         /* comment lines seen (counted at their end) */
	/* line state */
	int state;
	int field;
	char name[SSEPARSE_NAME_MAX];
	size_t name_len;
	size_t value_len;          /* bytes of the current field's value */
	uint64_t retry_acc;
	bool retry_bad;
	bool id_nul;
	bool after_cr;             /* the last line ended in '\r' */
	unsigned bom;              /* BOM bytes matched; 3 = past the start */
};

/* Sets up a parser keeping event data in buf[0, cap). */
void sseparse_init(struct sseparse *p, char *buf, size_t cap);
/* Reads in[0, n): stops after the first event that ends (*used says
 * how far it read) or when every byte was read (SSEPARSE_MORE). */
enum sseparse_status sseparse_feed(struct sseparse *p, const char *in, size_t n,
				   size_t *used, struct sse_event *ev);
/* Forgets a partly read event and starts over at a stream's start (a new
 * connection); keeps the last id, the retry hint and the counters. */
void sseparse_restart(struct sseparse *p);

/* A gap notice's data: {"missed":N} or {"missed":null} (blanks allowed
 * between tokens). *missed is N, or -1 for null. 0 or -1. */
int sseparse_gap(const char *data, size_t len, int64_t *missed);

#endif

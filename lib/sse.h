/* sse.h: the Server-Sent Events form of the stream, encoded once for every
 * /events client (pipecast.conf(5), "[http]" and "EVENT IDS").
 *
 * Design: a second ring holds the encoded stream. Each record is written to
 * it once, as "id: EPOCH-SEQ\n", one "data: PIECE\n" per '\r'-separated
 * piece of the record (its '\n' removed) and an empty line; a heartbeat
 * record becomes a comment line ": TEXT\n". Every SSE client is an absolute
 * cursor into this ring, exactly as raw clients are into the raw ring, so
 * writing to N clients stays one writev each. Only four kinds of line exist
 * in the ring (starting "id: ", "data: ", ": ", or empty; and "event: gap"
 * where a relay passes an upstream's gap notice on), so an event start is
 * any line that starts with 'i', and its sequence number is written in it.
 *
 * A client is overrun when it is more than `buffer` bytes behind (as raw
 * clients are). With overflow = skip it first finishes the event it is in
 * the middle of, then gets a gap notice, then continues at the head, so it
 * never receives a torn event: the rest of that event is copied into the
 * client's own stash (memory it already has) when it fits there, and is
 * otherwise read from the ring, which is larger than the configured buffer
 * by the longest event (see sse_ring_size()) for that purpose.
 *
 * A sparse index (seqidx) holds every SSE_STRIDE-th event's offset: a resume
 * finds its event by a binary search and a walk over fewer than SSE_STRIDE
 * events, never a scan from the ring's tail. */
#ifndef PIPECAST_SSE_H
#define PIPECAST_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "eventid.h"
#include "ring.h"
#include "seqidx.h"

#define SSE_STRIDE 64
#define SSE_NO_CUT UINT64_MAX
/* The longest gap notice or keepalive a cursor holds inline. */
#define SSE_NOTE_MAX 48

struct sse {
	struct ring ring;
	struct seqidx idx;
	uint64_t limit;   /* how far behind a client may be: `buffer` */
	uint64_t epoch;
	uint64_t seq;     /* the newest record's sequence number, 0 before any */
	uint64_t src;     /* source bytes of every record encoded so far */
	uint64_t events;  /* records encoded so far (every SSE_STRIDE-th indexed) */
	uint64_t since;   /* where this epoch's events start in the ring */
	bool sparse;      /* ids came from outside and jumped: gap counts null */
	struct eventid_text id;   /* the newest event's id, as text */
};

/* The ring's size for a given buffer and max_line: buffer plus the longest
 * encoding of one record. */
uint64_t sse_ring_size(uint64_t buffer, uint64_t max_line);
/* Allocates the ring and its index. Returns 0, or -1. */
int sse_init(struct sse *s, uint64_t buffer, uint64_t max_line, uint64_t epoch);
void sse_free(struct sse *s);

/* Bytes that sse_records() will write for these whole records (line
 * framing: each ends in '\n'). */
uint64_t sse_records_len(const struct sse *s, const char *data, size_t n);
/* Encodes whole records, numbering them from seq + 1. */
void sse_records(struct sse *s, const char *data, size_t n);
/* The next record's id comes from outside (a relay's upstream): epoch and
 * seq, seq greater than the last one's when the epoch is the same. A new
 * epoch starts a new run of ids: resumes look at its events only. Once
 * an id skips numbers, gap counts are null (pipecast.conf(5), "EVENT
 * IDS"). */
void sse_number_next(struct sse *s, uint64_t epoch, uint64_t seq);
/* Bytes that sse_gap() will write. */
uint64_t sse_gap_len(bool known, uint64_t missed);
/* Passes a gap notice on to every reader (an upstream's): an event with
 * no id, "event: gap" and its count. */
void sse_gap(struct sse *s, bool known, uint64_t missed);
/* Bytes that sse_comment() will write. */
uint64_t sse_comment_len(const char *text, size_t n);
/* Appends a heartbeat as a comment line (one per '\r'-separated piece). */
void sse_comment(struct sse *s, const char *text, size_t n);

/* The oldest record still held whole in the ring (0 when none), and where
 * its event starts. */
uint64_t sse_first_seq(const struct sse *s, uint64_t *off);

/* Where a client starts, and the gap notice it gets first. */
struct sse_start {
	uint64_t pos;
	bool gap;         /* send a gap notice first */
	bool known;       /* missed is known (else null) */
	uint64_t missed;
};
/* A client resuming after record `after` of our epoch (the resume table of
 * pipecast.conf(5)). */
void sse_resume(const struct sse *s, uint64_t after, struct sse_start *st);
/* A client resuming from another epoch: a gap of unknown size, then every
 * record still held. */
void sse_resume_foreign(const struct sse *s, struct sse_start *st);
/* A new client: the newest whole records within `backlog` source bytes. */
uint64_t sse_backlog(const struct sse *s, uint64_t backlog);

/* The gap notice, "event: gap\ndata: {"missed":N}\n\n" (null when not
 * known), into out (SSE_NOTE_MAX bytes); returns its length. */
size_t sse_gap_note(char *out, bool known, uint64_t missed);
/* The sequence number of the last event that starts before off (0 when
 * none is held): what a client at off has been sent whole. */
uint64_t sse_seq_before(const struct sse *s, uint64_t off);

/* One SSE client's position: ring bytes from pos, with a note (response
 * head, gap notice or keepalive) sent before them, and before the note the
 * stashed rest of an event a skip cut; or, when that rest did not fit the
 * stash: ring bytes up to cut, the note, then from jump. */
struct sse_cursor {
	uint64_t pos;
	uint64_t cut;             /* SSE_NO_CUT unless a skip is pending */
	uint64_t jump;
	char *stash;              /* given, or allocated at the first need */
	const char *note;         /* not owned */
	uint64_t gap_after;       /* last seq delivered before a skip's gap */
	uint32_t stash_cap, stash_len, stash_off;
	uint32_t note_len, note_off;
	uint32_t note_fixed;      /* inline note: bytes before the gap notice
				   * (the unsent rest of an earlier note) */
	bool gap_open;            /* inline note: its gap notice is unsent and
				   * may still be counted again */
	bool stash_owned;         /* stash is the cursor's (sse_cursor_free) */
	char inline_note[2 * SSE_NOTE_MAX];
};

enum sse_verdict { SSE_KEEP, SSE_DROP, SSE_SKIPPED };

/* A cursor at pos whose first bytes are note (may be NULL), with stash_cap
 * bytes of stash (may be none): given, or with stash NULL allocated at the
 * first skip that needs it (most readers never skip) and freed by
 * sse_cursor_free(). The stash must not be the note's memory while the
 * note is pending. */
void sse_cursor_init(struct sse_cursor *c, uint64_t pos, const char *note, size_t len,
		     char *stash, size_t stash_cap);
/* Frees what the cursor allocated. */
void sse_cursor_free(struct sse_cursor *c);
/* Whether nothing at all is waiting to be sent. */
bool sse_cursor_idle(const struct sse_cursor *c, const struct sse *s);
/* Whether the note is still (partly) unsent. */
bool sse_cursor_note_pending(const struct sse_cursor *c);
/* Sets the inline note (a keepalive, say); only when no note is pending. */
void sse_cursor_set_note(struct sse_cursor *c, const char *text, size_t n);
/* Before n bytes are appended: whether the cursor keeps everything, is
 * dropped, or (skip) skips to the head with a gap notice; *missed_bytes is
 * what it will never receive. */
enum sse_verdict sse_cursor_make_room(struct sse_cursor *c, const struct sse *s, uint64_t n,
				      bool skip, uint64_t *missed_bytes);
/* What to send, as at most five iovecs; returns how many. */
int sse_cursor_iov(const struct sse_cursor *c, const struct sse *s, struct iovec iov[5]);
/* n bytes of sse_cursor_iov() were sent. */
void sse_cursor_advance(struct sse_cursor *c, uint64_t n);
/* Ring bytes between the cursor and the head. */
uint64_t sse_cursor_lag(const struct sse_cursor *c, const struct sse *s);

#endif

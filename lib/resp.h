/* resp.h: RESP2, the protocol Redis speaks. An incremental reader that
 * hands out one reply element at a time as pointers into the caller's
 * buffer, never allocating and never copying, with strict limits on bulk
 * lengths, array lengths and nesting; and a writer for the commands that
 * pipecast sends (XREAD, XRANGE, XREVRANGE, XINFO STREAM, XADD).
 *
 * Buffer discipline: the caller owns one buffer holding `len` bytes read
 * from the server. resp_next() reads the element that starts at r->pos.
 * When it returns RESP_MORE the element is incomplete: read more bytes
 * after the `len` already held and call again. Bytes before r->pos are
 * consumed; the caller may discard them (move the rest to the front) and
 * then tells the reader with resp_reader_shift(). Pointers handed out stay
 * valid until the bytes they point into are discarded or overwritten. */
#ifndef PIPECAST_RESP_H
#define PIPECAST_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nesting the reader can track: the deepest reply pipecast reads (XREAD:
 * reply, stream, entries, entry, fields) is 5 arrays deep. */
#define RESP_DEPTH_MAX 8

enum resp_type {
	RESP_SIMPLE,   /* +text */
	RESP_ERROR,    /* -text */
	RESP_INT,      /* :n */
	RESP_BULK,     /* $len bytes */
	RESP_ARRAY,    /* *n: the next n elements are its members */
	RESP_NIL,      /* $-1 or *-1 */
};

enum resp_status {
	RESP_OK = 0,   /* one element in *el, r->pos moved past it */
	RESP_MORE,     /* the element at r->pos is incomplete; nothing moved */
	RESP_EPROTO,   /* the bytes at r->pos are not RESP2 */
	RESP_ELIMIT,   /* a limit below is exceeded */
};

struct resp_limits {
	size_t max_bulk;    /* longest bulk string payload */
	size_t max_line;    /* longest +, -, :, $ or * line, type byte and CRLF excluded */
	int64_t max_array;  /* most members of one array */
	unsigned max_depth; /* most arrays open at once, 1 .. RESP_DEPTH_MAX */
};

struct resp_reader {
	struct resp_limits lim;
	size_t pos;                    /* offset of the next element */
	unsigned depth;                /* arrays open */
	int64_t left[RESP_DEPTH_MAX];  /* members not yet read, per open array */
};

/* One element. str/len point into the caller's buffer. */
struct resp_elem {
	enum resp_type type;
	const char *str;   /* SIMPLE, ERROR, BULK: the text (not NUL-terminated) */
	size_t len;
	int64_t n;         /* INT: the value; ARRAY: the member count */
	unsigned depth;    /* arrays around it: 0 for a whole reply's first element */
	bool last;         /* it completes a top-level reply */
};

/* A reader at the start of a reply stream; lim is copied (max_depth is
 * clamped to RESP_DEPTH_MAX). */
void resp_reader_init(struct resp_reader *r, const struct resp_limits *lim);
/* Reads the element at r->pos of buf[0, len); see the status codes. After
 * RESP_EPROTO or RESP_ELIMIT the stream cannot be resynchronised: the
 * caller drops the connection (later calls return the same error). */
enum resp_status resp_next(struct resp_reader *r, const char *buf, size_t len,
			   struct resp_elem *el);
/* Reads and drops one whole element, members included (an array is
 * skipped to its end). RESP_MORE leaves r as it was. */
enum resp_status resp_skip(struct resp_reader *r, const char *buf, size_t len);
/* The caller removed the first n (<= r->pos) bytes of its buffer. */
void resp_reader_shift(struct resp_reader *r, size_t n);
/* True between replies: no array is open. */
bool resp_reader_idle(const struct resp_reader *r);

/* One command argument. */
struct resp_arg {
	const char *p;
	size_t len;
};

/* Writes a command as an array of bulk strings into out[0, cap). Returns
 * the command's length; when that exceeds cap nothing usable was written
 * (like snprintf, call again with room for it). */
size_t resp_cmd(char *out, size_t cap, const struct resp_arg *argv, size_t argc);
/* XREAD BLOCK ms COUNT count STREAMS key id */
size_t resp_cmd_xread(char *out, size_t cap, uint64_t block_ms, uint64_t count,
		      const char *key, size_t keylen, const char *id);
/* XRANGE key start end COUNT count */
size_t resp_cmd_xrange(char *out, size_t cap, const char *key, size_t keylen,
		       const char *start, const char *end, uint64_t count);
/* XREVRANGE key end start COUNT count */
size_t resp_cmd_xrevrange(char *out, size_t cap, const char *key, size_t keylen,
			  const char *end, const char *start, uint64_t count);
/* XINFO STREAM key */
size_t resp_cmd_xinfo_stream(char *out, size_t cap, const char *key, size_t keylen);
/* XADD key [MAXLEN ~ maxlen] * data VALUE; maxlen 0 adds no MAXLEN. */
size_t resp_cmd_xadd(char *out, size_t cap, const char *key, size_t keylen,
		     uint64_t maxlen, const char *data, size_t datalen);

#endif

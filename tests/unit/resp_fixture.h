/* resp_fixture.h: three stream entries as redis-server 7.0 sends them in
 * XREAD and XRANGE replies, and a flat record of what a walk of them saw,
 * for the unit tests of lib/rstream.c and lib/repoch.c. */
#ifndef PIPECAST_RESP_FIXTURE_H
#define PIPECAST_RESP_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "rstream.h"

/* 1-1 (data hello, other x), 1-2 (no data field), 2-0 (data "a\nb"). */
#define FIXTURE_ENTRIES \
	"*2\r\n$3\r\n1-1\r\n*4\r\n$4\r\ndata\r\n$5\r\nhello\r\n$5\r\nother\r\n$1\r\nx\r\n" \
	"*2\r\n$3\r\n1-2\r\n*2\r\n$6\r\nnodata\r\n$1\r\ny\r\n" \
	"*2\r\n$3\r\n2-0\r\n*2\r\n$4\r\ndata\r\n$3\r\na\nb\r\n"
/* XREAD COUNT 10 STREAMS s 0, as redis-server 7.0 answered it. */
#define FIXTURE_XREAD "*1\r\n*2\r\n$1\r\ns\r\n*3\r\n" FIXTURE_ENTRIES
/* XRANGE s - +, as redis-server 7.0 answered it. */
#define FIXTURE_XRANGE "*3\r\n" FIXTURE_ENTRIES
/* What a walk of FIXTURE_ENTRIES sees (struct seen's text). */
#define FIXTURE_SEEN "1-1=hello;1-2!;2-0=a\nb;"

/* What a walk saw, flattened to text: "ID=DATA;" or "ID!;" per entry. */
struct seen {
	char text[512];
	size_t len;
	int ends;
};

/* Records one entry (copied: its bytes may move afterwards). */
static inline void seen_entry(struct seen *s, const struct rstream_entry *e)
{
	int n = snprintf(s->text + s->len, sizeof(s->text) - s->len, "%.*s%s%.*s;",
			 (int)e->id_len, e->id, e->has_data ? "=" : "!",
			 (int)e->data_len, e->has_data ? e->data : "");

	s->len += (size_t)n;
}

/* Records every entry of a reply held whole up to its end; returns the
 * status that ended the walk (RSTREAM_END when all went well). */
static inline enum rstream_status seen_rest(struct seen *s, struct rstream_walk *w,
					    const char *text, size_t len)
{
	struct rstream_entry e;
	enum rstream_status st;

	memset(s, 0, sizeof(*s));
	while ((st = rstream_next(w, text, len, &e)) == RSTREAM_ENTRY)
		seen_entry(s, &e);
	return st;
}

#endif

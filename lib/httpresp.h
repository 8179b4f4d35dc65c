/* httpresp.h: the head of an upstream's HTTP/1.x response (pipecastd(8),
 * "sse:" sources): status line and the headers a relay acts on, found
 * without allocating in the bytes read so far, with a bound on the head's
 * size so that an endless header cannot grow memory. */
#ifndef PIPECAST_HTTPRESP_H
#define PIPECAST_HTTPRESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct httpresp {
	int status;            /* 100 .. 999 */
	int minor;             /* HTTP/1.minor */
	bool event_stream;     /* Content-Type: text/event-stream (parameters ignored) */
	bool chunked;          /* Transfer-Encoding ends in chunked */
	bool has_length;       /* Content-Length given */
	uint64_t length;
	bool close;            /* Connection: close, or HTTP/1.0 */
	size_t head_len;       /* bytes of the head, its empty line included */
	size_t scanned;        /* where the search for the head's end resumes */
};

enum httpresp_status {
	HTTPRESP_MORE,     /* the head is not complete yet */
	HTTPRESP_OK,       /* *r describes it; the body starts at head_len */
	HTTPRESP_ERROR,    /* *err says why (a static string) */
};

/* Starts looking for a head at the start of a response. */
void httpresp_init(struct httpresp *r);
/* Looks at buf[0, len), the response's bytes so far; a head that is not
 * complete within max_head bytes is an error. Lines may end in "\r\n"
 * or "\n". Call again with more bytes after HTTPRESP_MORE. */
enum httpresp_status httpresp_parse(struct httpresp *r, const char *buf, size_t len,
				    size_t max_head, const char **err);

#endif

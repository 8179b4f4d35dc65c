/* upsse.c: the sse: kind of upstream (pipecast.conf(5), "Upstream
 * sources"): another pipecastd's /events, or any SSE server's, over the
 * connection of upstream.c. The handshake is the GET request and the
 * response head; then each event becomes one record that keeps its
 * upstream id, and a reconnect resumes with Last-Event-ID. The event
 * buffer is allocated once, at start: nothing is allocated per record. */
#include "upstream.h"
#include "alloc.h"
#include "chunked.h"
#include "counters.h"
#include "daemon.h"
#include "eventid.h"
#include "fanout.h"
#include "httpresp.h"
#include "log.h"
#include "sseparse.h"

#include <stdio.h>
#include <string.h>

#define UPSSE_READ_BUF (64 * 1024)
#define UPSSE_HEAD_MAX (16 * 1024)       /* a longer head is refused */

static struct {
	const struct upurl *url;
	char *event;             /* an event's data and its '\n': max_line bytes */
	struct httpresp resp;
	struct chunked chunked;
	bool chunked_on;
	struct sseparse parser;
} sse_up;

/* One event of the upstream: a gap notice passed on, or a record that
 * keeps the upstream's id (one of this node's epoch when it has none of
 * the form EPOCH-SEQ). The data lies in sse_up.event, with room for '\n'. */
static void upsse_event(const struct sse_event *ev)
{
	struct eventid id;
	int64_t missed;

	if (ev->type_len == 3 && memcmp(ev->type, "gap", 3) == 0 &&
	    sseparse_gap(ev->data, ev->len, &missed) == 0) {
		log_notice("upstream %s: gap notice (missed %lld)", upstream_name(),
			   (long long)missed);
		fanout_gap(missed >= 0, missed >= 0 ? (uint64_t)missed : 0);
		return;
	}
	sse_up.event[ev->len] = '\n';
	if (ev->has_id && eventid_parse(ev->id, ev->id_len, &id) == 0) {
		if (!fanout_append_id(sse_up.event, ev->len + 1, id.epoch, id.seq))
			return;
	} else {
		fanout_append_own(sse_up.event, ev->len + 1);
	}
	counters.source_records_total++;
}

/* Hands body bytes to the event parser. */
static void upsse_feed(const char *p, size_t n)
{
	struct sse_event ev;
	size_t used;

	while (n > 0) {
		switch (sseparse_feed(&sse_up.parser, p, n, &used, &ev)) {
		case SSEPARSE_EVENT:
			upsse_event(&ev);
			break;
		case SSEPARSE_DROPPED:
			log_warning("upstream %s: an event longer than max_line (%llu) dropped",
				    upstream_name(), (unsigned long long)conf->source.max_line);
			break;
		case SSEPARSE_MORE:
			break;
		}
		p += used;
		n -= used;
	}
}

/* The body bytes read so far: decoded from chunked coding when the
 * response uses it, then parsed. Returns false when the stream ended. */
static bool upsse_body(char *buf, size_t *len)
{
	size_t out = *len, used = *len;
	enum chunked_status st = CHUNKED_MORE;

	if (sse_up.chunked_on)
		st = chunked_decode(&sse_up.chunked, buf, *len, &out, &used);
	upsse_feed(buf, out);
	*len = 0;
	if (st == CHUNKED_ERROR) {
		upstream_retry(sse_up.chunked.err);
		return false;
	}
	if (st == CHUNKED_END) {
		upstream_ended("the stream ended");
		return false;
	}
	return true;
}

/* The whole head is read: a 200 event stream starts the records. */
static bool upsse_head_done(char *buf, size_t *len)
{
	char why[64 + UPURL_LAST_ID_MAX];

	if (sse_up.resp.status != 200 || !sse_up.resp.event_stream) {
		if (sse_up.resp.status != 200)
			snprintf(why, sizeof(why), "answered %d", sse_up.resp.status);
		else
			snprintf(why, sizeof(why), "answered with no text/event-stream");
		upstream_retry(why);
		return false;
	}
	*len -= sse_up.resp.head_len;
	memmove(buf, buf + sse_up.resp.head_len, *len);
	sse_up.chunked_on = sse_up.resp.chunked;
	chunked_init(&sse_up.chunked);
	sseparse_restart(&sse_up.parser);
	snprintf(why, sizeof(why), "%s%.*s", sse_up.parser.last_id_len ? ", resuming after " : "",
		 (int)sse_up.parser.last_id_len, sse_up.parser.last_id);
	upstream_streaming(why);
	return true;
}

/* The response head, then the body. */
static bool upsse_input(char *buf, size_t *len)
{
	const char *err;

	if (upstream_is_streaming())
		return upsse_body(buf, len);
	switch (httpresp_parse(&sse_up.resp, buf, *len, UPSSE_HEAD_MAX, &err)) {
	case HTTPRESP_MORE:
		return true;
	case HTTPRESP_ERROR:
		upstream_retry(err);
		return false;
	case HTTPRESP_OK:
		break;
	}
	return upsse_head_done(buf, len) && upsse_body(buf, len);
}

/* The GET request, resuming after the last id received. */
static void upsse_connected(void)
{
	char req[UPURL_PATH_MAX + UPURL_LAST_ID_MAX + 512];
	size_t n = upurl_sse_request(sse_up.url, sse_up.parser.last_id,
				     sse_up.parser.last_id_len, req, sizeof(req));

	httpresp_init(&sse_up.resp);
	upstream_send(req, n);
}

/* The event buffer, once. */
static size_t upsse_open(const struct upurl *u)
{
	sse_up.url = u;
	sse_up.event = pc_malloc(conf->source.max_line);
	if (!sse_up.event) {
		log_error("source: out of memory");
		return 0;
	}
	sseparse_init(&sse_up.parser, sse_up.event, conf->source.max_line - 1);
	return UPSSE_READ_BUF;
}

/* Exit. */
static void upsse_free(void)
{
	pc_free(sse_up.event);
	sse_up.event = NULL;
}

const struct upstream_kind upsse_kind = {
	.open = upsse_open,
	.free = upsse_free,
	.connected = upsse_connected,
	.input = upsse_input,
};

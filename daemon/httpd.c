/* httpd.c: routes HTTP requests (pipecast.conf(5), "[http]"; the paths and
 * status codes are listed in pipecastd(8), "HTTP"). Every answer closes the
 * connection; /events becomes a client of the SSE ring. */
#include "httpd.h"
#include "access.h"
#include "client.h"
#include "counters.h"
#include "daemon.h"
#include "eventid.h"
#include "fanout.h"
#include "http.h"
#include "log.h"
#include "websocket.h"
#include "page.h"
#include "report.h"
#include "sbuf.h"
#include "source.h"
#include "sse.h"
#include "tokens.h"

#include <stdio.h>
#include <string.h>

/* Room for a stream's response head, retry line and gap notice. */
#define HTTPD_STREAM_HEAD_MAX 1024

typedef void (*httpd_handler)(struct client *c, const struct http_request *r);

static void httpd_events(struct client *c, const struct http_request *r);
static void httpd_ws(struct client *c, const struct http_request *r);
static void httpd_page(struct client *c, const struct http_request *r);
static void httpd_metrics(struct client *c, const struct http_request *r);
static void httpd_healthz(struct client *c, const struct http_request *r);
static void httpd_info(struct client *c, const struct http_request *r);

/* The paths served; `stream` ones take CORS preflights, `metrics` ones
 * exist only with [http] metrics = on. */
static const struct httpd_route {
	const char *path;
	httpd_handler get;
	bool stream;
	bool metrics;
} httpd_routes[] = {
	{ "/events", httpd_events, true, false },
	{ "/ws", httpd_ws, true, false },
	{ "/", httpd_page, false, false },
	{ "/metrics", httpd_metrics, false, true },
	{ "/healthz", httpd_healthz, false, true },
	{ "/info.json", httpd_info, false, false },
};

static const struct {
	int status;
	const char *reason;
} httpd_reasons[] = {
	{ 200, "OK" }, { 204, "No Content" }, { 400, "Bad Request" },
	{ 401, "Unauthorized" }, { 403, "Forbidden" }, { 404, "Not Found" },
	{ 405, "Method Not Allowed" }, { 408, "Request Timeout" }, { 426, "Upgrade Required" },
	{ 431, "Request Header Fields Too Large" }, { 503, "Service Unavailable" },
};

/* The reason phrase of a status. */
static const char *httpd_reason(int status)
{
	for (size_t i = 0; i < sizeof(httpd_reasons) / sizeof(httpd_reasons[0]); i++)
		if (httpd_reasons[i].status == status)
			return httpd_reasons[i].reason;
	return "Unknown";
}

/* The method's name, for the debug log. */
static const char *httpd_method(const struct http_request *r)
{
	static const char *const names[] = {
		[HTTP_GET] = "GET", [HTTP_HEAD] = "HEAD", [HTTP_OPTIONS] = "OPTIONS",
		[HTTP_OTHER] = "other",
	};
	return r ? names[r->method] : "-";
}

/* Logs a request at debug: method and path only (never the query, which
 * may hold a token). */
static void httpd_log(const struct client *c, const struct http_request *r, int status)
{
	int n = r && r->path.n < 128 ? (int)r->path.n : r ? 128 : 1;

	log_debug("http %s %s %.*s %d", client_addr(c), httpd_method(r), n,
		  r ? r->path.p : "-", status);
}

/* The CORS header of /events and /info.json, when cors_origin is set. */
static void httpd_cors(struct sbuf *b)
{
	if (conf->http.cors_origin[0])
		sbuf_printf(b, "Access-Control-Allow-Origin: %s\r\n", conf->http.cors_origin);
}

/* A complete answer: status line, headers, and the body unless `head`. */
static void httpd_reply(struct client *c, const struct http_request *r, int status,
			const char *type, const char *headers, const char *body, size_t n)
{
	struct sbuf b = SBUF_INIT;

	sbuf_printf(&b, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		    "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
		    status, httpd_reason(status), type, n, headers ? headers : "");
	if (!r || r->method != HTTP_HEAD)
		sbuf_append(&b, body, n);
	httpd_log(c, r, status);
	client_answer(c, &b, status);
}

/* An error: a one-line text body saying why. */
static void httpd_error(struct client *c, const struct http_request *r, int status,
			const char *headers, const char *why)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "%s\n", why);

	httpd_reply(c, r, status, "text/plain; charset=utf-8", headers, body, (size_t)n);
}

/* The Retry-After of a 503: the retry hint, in whole seconds. */
static void httpd_busy(struct client *c, const struct http_request *r)
{
	char h[64];

	snprintf(h, sizeof(h), "Retry-After: %llu\r\n",
		 (unsigned long long)(conf->http.retry_ms + 999) / 1000);
	httpd_error(c, r, 503, h, "too many clients");
}

/* The resume id of a stream request: Last-Event-ID, else ?last_event_id=.
 * Returns 1 with *id set, 0 when there is none, -1 when it is malformed. */
static int httpd_resume_id(const struct http_request *r, struct eventid *id)
{
	char q[EVENTID_MAX + 1];
	struct http_str v = r->last_event_id;
	int n;

	if (!v.p) {
		n = http_query(r, "last_event_id", q, sizeof(q));
		if (n == -2)
			return -1;
		if (n >= 0)
			v = (struct http_str){ q, (size_t)n };
	}
	if (!v.p || v.n == 0)
		return 0;
	return eventid_parse(v.p, v.n, id) == 0 ? 1 : -1;
}

/* Where the stream starts (the resume table of pipecast.conf(5)). */
static void httpd_start(const struct sse *s, int has_id, const struct eventid *id,
			struct sse_start *st)
{
	if (!has_id) {
		*st = (struct sse_start){ .pos = sse_backlog(s, conf->clients.backlog) };
		return;
	}
	if (id->epoch == s->epoch)
		sse_resume(s, id->seq, st);
	else
		sse_resume_foreign(s, st);
}

/* The response head of a stream, the retry hint, and a gap notice. */
static size_t httpd_stream_head(char *out, const struct sse_start *st)
{
	struct sbuf b = SBUF_INIT;
	size_t n;

	sbuf_puts(&b, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
		  "Cache-Control: no-store\r\nConnection: close\r\n");
	httpd_cors(&b);
	sbuf_printf(&b, "\r\nretry: %llu\n\n", (unsigned long long)conf->http.retry_ms);
	n = b.len < HTTPD_STREAM_HEAD_MAX - SSE_NOTE_MAX ? b.len : 0;
	memcpy(out, b.buf, n);
	sbuf_free(&b);
	if (st->gap)
		n += sse_gap_note(out + n, st->known, st->missed);
	return n;
}

/* GET /events: an event stream from the resume point, or an error. */
static void httpd_events(struct client *c, const struct http_request *r)
{
	const struct sse *s = fanout_sse();
	char head[HTTPD_STREAM_HEAD_MAX];
	struct sse_start st;
	struct eventid id;
	int has_id;
	size_t n;

	if (conf->source.framing == FRAMING_RAW) {
		httpd_error(c, r, 404, NULL, "no event stream: the source's framing is raw");
		return;
	}
	if (!s) {
		httpd_error(c, r, 503, NULL, "no event stream: out of memory");
		return;
	}
	has_id = httpd_resume_id(r, &id);
	if (has_id < 0) {
		httpd_error(c, r, 400, NULL, "malformed event id");
		return;
	}
	httpd_start(s, has_id, &id, &st);
	n = httpd_stream_head(head, &st);
	if (r->method == HTTP_HEAD) {
		struct sbuf b = SBUF_INIT;

		sbuf_append(&b, head, (size_t)((char *)memmem(head, n, "\r\n\r\n", 4) + 4 - head));
		httpd_log(c, r, 200);
		client_answer(c, &b, 200);
		return;
	}
	if (counters.clients_connected < conf->clients.max_clients)
		httpd_log(c, r, 200);   /* before the head's memory takes the answer */
	if (client_start_sse(c, head, n, st.pos) < 0) {
		httpd_busy(c, r);
		return;
	}
	counters.resumes_total += (uint64_t)has_id;
	counters.resume_gaps_total += (uint64_t)(has_id && st.gap);
}

/* The encoding a /ws request asks for; -1 (and a 400 sent) when it asks
 * for something this stream cannot give. */
static int httpd_ws_kind(struct client *c, const struct http_request *r, int has_id)
{
	char q[8];
	int env = http_query(r, "envelope", q, sizeof(q));

	if (env == -2 || (env >= 0 && strcmp(q, "json") != 0)) {
		httpd_error(c, r, 400, NULL, "envelope must be json");
		return -1;
	}
	if (has_id < 0) {
		httpd_error(c, r, 400, NULL, "malformed event id");
		return -1;
	}
	if (conf->source.framing == FRAMING_RAW && (env >= 0 || has_id)) {
		httpd_error(c, r, 400, NULL, "no ids or envelope with framing = raw");
		return -1;
	}
	return conf->source.framing == FRAMING_RAW ? WSRING_BINARY :
	       env >= 0 ? WSRING_JSON : WSRING_TEXT;
}

/* The 101 answer, then the gap message of a resume (envelope=json only:
 * a bare text message could not be told from a record). */
static size_t httpd_ws_head(uint8_t *out, const struct http_request *r,
			    const struct wsring *ring, const struct wsring_start *st)
{
	size_t n = ws_upgrade_response((char *)out, WS_RESPONSE_MAX, r->sec_websocket_key.p,
				       r->sec_websocket_key.n);

	if (n && st->gap && ring->kind == WSRING_JSON)
		n += ws_encode_gap(out + n, st->known, st->missed);
	return n;
}

/* GET /ws: the WebSocket handshake (RFC 6455), then a stream client of
 * the ring of its encoding, from its resume point or backlog. Access
 * control (a token; a cookie only with an allowed Origin) was applied
 * before, as for every stream path (pipecastd(8)). */
static void httpd_ws(struct client *c, const struct http_request *r)
{
	enum ws_upgrade u = ws_upgrade_check(r->upgrade.p, r->upgrade.n, r->connection.p,
					     r->connection.n, r->sec_websocket_version.p,
					     r->sec_websocket_version.n, r->sec_websocket_key.p,
					     r->sec_websocket_key.n);
	uint8_t head[WSRING_NOTE_MAX];
	struct wsring_start st = { 0 };
	struct wsring *ring;
	struct eventid id;
	int has_id, kind;
	size_t n;

	if (u == WS_UPGRADE_VERSION) {
		httpd_error(c, r, 426, "Sec-WebSocket-Version: 13\r\n", "WebSocket version 13 only");
		return;
	}
	if (u != WS_UPGRADE_OK || r->method != HTTP_GET || r->minor < 1) {
		httpd_error(c, r, 400, NULL, "not a WebSocket handshake");
		return;
	}
	has_id = httpd_resume_id(r, &id);
	if ((kind = httpd_ws_kind(c, r, has_id)) < 0)
		return;
	if (!(ring = websocket_ring((enum wsring_kind)kind))) {
		httpd_error(c, r, 503, NULL, "no WebSocket stream: out of memory");
		return;
	}
	if (!has_id)
		st.pos = wsring_backlog(ring, conf->clients.backlog);
	else if (id.epoch == ring->epoch)
		wsring_resume(ring, id.seq, &st);
	else
		wsring_resume_foreign(ring, &st);
	n = httpd_ws_head(head, r, ring, &st);
	if (counters.clients_connected < conf->clients.max_clients)
		httpd_log(c, r, 101);
	if (n == 0 || client_start_ws(c, ring, st.pos, head, n) < 0) {
		httpd_busy(c, r);
		return;
	}
	counters.resumes_total += (uint64_t)has_id;
	counters.resume_gaps_total += (uint64_t)(has_id && st.gap);
}

/* GET /: the live page built into the daemon, under its
 * Content-Security-Policy (pipecastd(8), "HTTP"); 404 with page = off. */
static void httpd_page(struct client *c, const struct http_request *r)
{
	struct sbuf h = SBUF_INIT;

	if (conf->http.page != ONOFF_ON) {
		httpd_error(c, r, 404, NULL, "the live page is off ([http] page)");
		return;
	}
	sbuf_printf(&h, "Content-Security-Policy: %s\r\nX-Content-Type-Options: nosniff\r\n"
		    "Referrer-Policy: no-referrer\r\n", page_csp);
	httpd_reply(c, r, 200, "text/html; charset=utf-8", h.buf, (const char *)page_html,
		    page_html_len);
	sbuf_free(&h);
}

/* A stats reply as a body: without the stats protocol's closing empty line. */
static void httpd_stats(struct client *c, const struct http_request *r, bool metrics,
			const char *type, const char *headers)
{
	struct sbuf body = SBUF_INIT;

	report_show_info(&body, metrics, !metrics);
	if (sbuf_failed(&body) || body.len < 1) {
		sbuf_free(&body);
		httpd_error(c, r, 503, NULL, "out of memory");
		return;
	}
	httpd_reply(c, r, 200, type, headers, body.buf, body.len - 1);
	sbuf_free(&body);
}

/* GET /metrics: the show metrics text. */
static void httpd_metrics(struct client *c, const struct http_request *r)
{
	httpd_stats(c, r, true, "text/plain; version=0.0.4", NULL);
}

/* GET /info.json: the show info json object. */
static void httpd_info(struct client *c, const struct http_request *r)
{
	struct sbuf h = SBUF_INIT;

	httpd_cors(&h);
	httpd_stats(c, r, false, "application/json", h.buf);
	sbuf_free(&h);
}

/* GET /healthz: ok while the source is open or waiting. */
static void httpd_healthz(struct client *c, const struct http_request *r)
{
	const char *state = source_state_name();
	bool ok = strcmp(state, "open") == 0 || strcmp(state, "waiting") == 0;

	httpd_error(c, r, ok ? 200 : 503, NULL, ok ? "ok" : state);
}

/* OPTIONS on a stream path: the CORS preflight, when cors_origin is set. */
static void httpd_preflight(struct client *c, const struct http_request *r)
{
	struct sbuf h = SBUF_INIT;

	httpd_cors(&h);
	sbuf_puts(&h, "Access-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"
		  "Access-Control-Allow-Headers: Last-Event-ID, Authorization\r\n"
		  "Access-Control-Max-Age: 600\r\n");
	httpd_reply(c, r, 204, "text/plain; charset=utf-8", h.buf, "", 0);
	sbuf_free(&h);
}

/* The route of a path, if it is served with this configuration. */
static const struct httpd_route *httpd_find(const struct http_request *r)
{
	for (size_t i = 0; i < sizeof(httpd_routes) / sizeof(httpd_routes[0]); i++) {
		const struct httpd_route *rt = &httpd_routes[i];

		if (strlen(rt->path) == r->path.n && memcmp(rt->path, r->path.p, r->path.n) == 0)
			return rt->metrics && conf->http.metrics != ONOFF_ON ? NULL : rt;
	}
	return NULL;
}

/* Access control refused the request: 401 for a token, else 403. */
void httpd_refused(struct client *c, const struct http_request *r, enum refusal why)
{
	if (why == REFUSED_TOKEN)
		httpd_error(c, r, 401, "WWW-Authenticate: Bearer\r\n", "a valid token is needed");
	else
		httpd_error(c, r, 403, NULL, "forbidden");
}

/* [access] for a path (pipecast.conf(5)): metrics_allow for /metrics and
 * /healthz, a token (when tokens_file is set) for the others. Returns
 * false after answering a refusal. The token is never logged. */
static bool httpd_allowed(struct client *c, const struct http_request *r,
			  const struct httpd_route *rt)
{
	struct access_conn *ac = client_access(c);
	char tok[TOKENS_LEN_MAX + 1];
	enum refusal why = REFUSED_ADDRESS;
	bool ok;
	int n;

	if (rt->metrics) {
		ok = access_metrics_ok(ac);
	} else if (!access_tokens_required()) {
		ok = true;
	} else {
		n = http_token(r, conf->http.cors_origin, tok, sizeof(tok));
		ok = n > 0 && access_token_ok(ac, tok, (size_t)n);
		explicit_bzero(tok, sizeof(tok));
		why = REFUSED_TOKEN;
	}
	if (!ok) {
		access_refused(why, client_addr(c));
		httpd_refused(c, r, why);
	}
	return ok;
}

/* Path first (404), then method (405), then access (403, 401). */
static void httpd_route(struct client *c, const struct http_request *r)
{
	const struct httpd_route *rt = httpd_find(r);
	bool cors = rt && rt->stream && conf->http.cors_origin[0];

	if (!rt) {
		httpd_error(c, r, 404, NULL, "not found");
		return;
	}
	switch (r->method) {
	case HTTP_GET:
	case HTTP_HEAD:
		if (httpd_allowed(c, r, rt))
			rt->get(c, r);
		return;
	case HTTP_OPTIONS:
		if (cors) {
			httpd_preflight(c, r);
			return;
		}
		break;
	case HTTP_OTHER:
		break;
	}
	httpd_error(c, r, 405, cors ? "Allow: GET, HEAD, OPTIONS\r\n" : "Allow: GET, HEAD\r\n",
		    "method not allowed");
}

/* Waits for the whole head, then answers it. */
void httpd_head(struct client *c, const char *buf, size_t len)
{
	struct http_request r;

	switch (http_parse(buf, len, &r)) {
	case HTTP_INCOMPLETE:
		return;
	case HTTP_BAD:
		httpd_error(c, NULL, 400, NULL, "bad request");
		return;
	case HTTP_TOO_LARGE:
		httpd_error(c, NULL, 431, NULL, "request head too large");
		return;
	case HTTP_OK:
		httpd_route(c, &r);
		return;
	}
}

/* request_timeout passed before the head was whole. */
void httpd_timeout(struct client *c)
{
	httpd_error(c, NULL, 408, NULL, "request timeout");
}

/* fuzz_ws.c: libFuzzer target for lib/ws.c: the client frame parser and
 * the UTF-8 sanitiser and JSON escaper (pipecastd(8), GET /ws).
 *
 * Input: byte 0 picks the message limit (bits 0..3: 2^bits bytes) and
 * bytes 1..2 seed the chunk sizes; the rest is what a client sends, and
 * also the text a record could hold.
 *
 * Invariants checked (any failure aborts):
 *  - parser: every call consumes at most what it was given, and all of it
 *    when it reports nothing; after a close or an error it consumes
 *    nothing; errors are 1002, 1007 or 1009; a close's code is valid or
 *    1005 and its reason valid UTF-8 of at most 123 bytes; ping and pong
 *    payloads are at most 125 bytes; a message is within the limit;
 *  - the events are the same whether the bytes come in one piece or in
 *    random chunks (the parser keeps no state it should not);
 *  - sanitiser: the output is valid UTF-8, of ws_utf8_sanitized_len()
 *    bytes, at most 3 per input byte, equal to the input when the input
 *    is valid, and unchanged by a second pass;
 *  - the validator and the sanitiser (an ASCII fast path a word at a
 *    time) agree with a byte-by-byte reference written here from
 *    Unicode's Table 3-7, on the input from each of its first 8 bytes on
 *    (every alignment of its runs against the 8-byte words);
 *  - JSON: the escaped text holds no byte below 0x20 and no bare '"',
 *    is valid UTF-8, at most 6 bytes per input byte, and unescapes to the
 *    sanitised text;
 *  - ws_encode_text(): a text frame whose header announces exactly the
 *    payload that follows it; for valid UTF-8, the same frame as
 *    ws_encode_text_utf8();
 *  - a text ring: the input's whole lines framed at once, after one UTF-8
 *    check of them all (wsring_add_lines), give the frames, numbers and
 *    source bytes that framing each line alone (wsring_add) gives;
 *  - the handshake: the input cut at its first three '\n' gives Upgrade,
 *    Connection, Sec-WebSocket-Version and Sec-WebSocket-Key; a request
 *    found acceptable has a 24-byte key and version "13", and gets a 101
 *    response with a 28-byte accept key. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "units.h"
#include "ws.h"
#include "wsring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER 3
#define MAX_EVENTS 4096

/* One event as reported, with a copy of its payload. */
struct rec {
	int type;
	unsigned code;
	uint64_t message_len;
	size_t len;
	uint8_t data[WS_CONTROL_MAX];
};

struct trace {
	struct rec ev[MAX_EVENTS];
	size_t n;
};

/* Checks one event against the rules above and appends it to the trace. */
static void fuzz_event(struct trace *t, const struct ws_event *ev, uint64_t limit)
{
	struct rec *r;

	if (ev->type == WS_EV_ERROR && ev->code != 1002 && ev->code != 1007 && ev->code != 1009)
		fuzz_fail("error with an unexpected close code");
	if (ev->type == WS_EV_CLOSE && ev->code != 1005 && !ws_close_code_valid(ev->code))
		fuzz_fail("close with an invalid code");
	if (ev->type == WS_EV_CLOSE && (ev->len > 123 || !ws_utf8_valid(ev->data, ev->len)))
		fuzz_fail("close reason too long or not UTF-8");
	if ((ev->type == WS_EV_PING || ev->type == WS_EV_PONG) && ev->len > WS_CONTROL_MAX)
		fuzz_fail("control payload over 125 bytes");
	if (ev->type == WS_EV_MESSAGE && ev->message_len > limit)
		fuzz_fail("message over the limit");
	if (t->n == MAX_EVENTS)
		return;
	r = &t->ev[t->n++];
	memset(r, 0, sizeof(*r));
	r->type = ev->type;
	r->code = ev->code;
	r->message_len = ev->message_len;
	r->len = ev->len;
	if (ev->len)
		memcpy(r->data, ev->data, ev->len);
}

/* Feeds the bytes in chunks (all at once when seed is 0); records events. */
static void fuzz_parse(const uint8_t *in, size_t n, uint64_t limit, uint32_t seed,
		       struct trace *t)
{
	struct ws_parser p;
	struct ws_event ev;
	size_t off = 0;
	bool ended = false;

	ws_parser_init(&p, limit);
	t->n = 0;
	while (off < n) {
		size_t chunk = fuzz_chunk(&seed, 64, n - off);

		while (chunk > 0) {
			size_t used = ws_parse(&p, in + off, chunk, &ev);

			if (used > chunk)
				fuzz_fail("consumed more than given");
			if (ended && (used || ev.type != WS_EV_NONE))
				fuzz_fail("parsed after a close or an error");
			if (ev.type == WS_EV_NONE && used != chunk && !ended)
				fuzz_fail("stopped early without an event");
			if (ev.type != WS_EV_NONE)
				fuzz_event(t, &ev, limit);
			if (ev.type == WS_EV_CLOSE || ev.type == WS_EV_ERROR)
				ended = true;
			if (ended && used == 0)
				goto out;
			off += used;
			chunk -= used;
		}
	}
out:
	ws_parser_free(&p);
}

/* Compares two traces event by event. */
static void fuzz_same(const struct trace *a, const struct trace *b)
{
	if (a->n != b->n)
		fuzz_fail("chunking changed the number of events");
	for (size_t i = 0; i < a->n; i++) {
		const struct rec *x = &a->ev[i], *y = &b->ev[i];

		if (x->type != y->type || x->code != y->code ||
		    x->message_len != y->message_len || x->len != y->len ||
		    memcmp(x->data, y->data, x->len) != 0)
			fuzz_fail("chunking changed an event");
	}
}

/* Undoes ws_json_escape(); returns the length, or fails on a bad escape. */
static size_t fuzz_unescape(uint8_t *out, const char *in, size_t n)
{
	static const char from[] = "\"\\bfnrt", to[] = "\"\\\b\f\n\r\t";
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		const char *p;

		if (in[i] != '\\') {
			out[len++] = (uint8_t)in[i];
			continue;
		}
		if (++i == n)
			fuzz_fail("escape cut at the end");
		if (in[i] == 'u') {
			if (i + 4 >= n || in[i + 1] != '0' || in[i + 2] != '0' ||
			    units_hex_digit(in[i + 3]) < 0 || units_hex_digit(in[i + 4]) < 0)
				fuzz_fail("bad \\u escape");
			out[len++] = (uint8_t)(units_hex_digit(in[i + 3]) << 4 |
					       units_hex_digit(in[i + 4]));
			i += 4;
			continue;
		}
		if ((p = memchr(from, in[i], sizeof(from) - 1)) == NULL)
			fuzz_fail("unknown escape");
		out[len++] = (uint8_t)to[p - from];
	}
	return len;
}

/* Checks the escaped text's bytes: no control byte, no bare quote. */
static void fuzz_check_json(const char *j, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((uint8_t)j[i] < 0x20)
			fuzz_fail("control byte left in JSON");
		if (j[i] == '\\')
			i++;
		else if (j[i] == '"')
			fuzz_fail("bare quote in JSON");
	}
	if (!ws_utf8_valid((const uint8_t *)j, n))
		fuzz_fail("JSON text is not UTF-8");
}

/* Unicode's Table 3-7 as data: for each range of lead bytes, the length
 * of its sequences and the range of their second byte. */
static const struct {
	uint8_t lead_lo, lead_hi, need, lo, hi;
} fuzz_utf8_table[] = {
	{ 0xC2, 0xDF, 2, 0x80, 0xBF }, { 0xE0, 0xE0, 3, 0xA0, 0xBF },
	{ 0xE1, 0xEC, 3, 0x80, 0xBF }, { 0xED, 0xED, 3, 0x80, 0x9F },
	{ 0xEE, 0xEF, 3, 0x80, 0xBF }, { 0xF0, 0xF0, 4, 0x90, 0xBF },
	{ 0xF1, 0xF3, 4, 0x80, 0xBF }, { 0xF4, 0xF4, 4, 0x80, 0x8F },
};

/* The reference, one byte at a time: the bytes of the well-formed
 * sequence at in (*ok set), or of its maximal ill-formed subpart. */
static size_t fuzz_utf8_ref_seq(const uint8_t *in, size_t n, bool *ok)
{
	size_t t, i;

	*ok = true;
	if (in[0] < 0x80)
		return 1;
	for (t = 0; t < sizeof(fuzz_utf8_table) / sizeof(fuzz_utf8_table[0]); t++)
		if (in[0] >= fuzz_utf8_table[t].lead_lo && in[0] <= fuzz_utf8_table[t].lead_hi)
			break;
	*ok = false;
	if (t == sizeof(fuzz_utf8_table) / sizeof(fuzz_utf8_table[0]))
		return 1;
	for (i = 1; i < fuzz_utf8_table[t].need && i < n; i++) {
		uint8_t lo = i == 1 ? fuzz_utf8_table[t].lo : 0x80;
		uint8_t hi = i == 1 ? fuzz_utf8_table[t].hi : 0xBF;

		if (in[i] < lo || in[i] > hi)
			return i;
	}
	*ok = i == fuzz_utf8_table[t].need;
	return i;
}

/* The reference sanitiser; returns the size written, *valid whether no
 * sequence was ill-formed. */
static size_t fuzz_utf8_ref(uint8_t *out, const uint8_t *in, size_t n, bool *valid)
{
	size_t i = 0, len = 0;
	bool ok;

	*valid = true;
	while (i < n) {
		size_t k = fuzz_utf8_ref_seq(in + i, n - i, &ok);

		if (ok)
			memcpy(out + len, in + i, k);
		else
			memcpy(out + len, "\xEF\xBF\xBD", 3);
		len += ok ? k : 3;
		*valid = *valid && ok;
		i += k;
	}
	return len;
}

/* The fast validator and sanitiser against the reference, from each of
 * the first 8 bytes of the input on; the sanitiser gets exactly the room
 * it announced (it stores whole words: the sanitizers see any overrun). */
static void fuzz_utf8_against_reference(const uint8_t *in, size_t n)
{
	uint8_t *want = malloc(3 * n + 1);

	if (!want)
		abort();
	for (size_t off = 0; off < 8 && off <= n; off++) {
		bool valid;
		size_t wl = fuzz_utf8_ref(want, in + off, n - off, &valid), gl;
		uint8_t *got = malloc(wl ? wl : 1);

		if (!got)
			abort();
		if (ws_utf8_sanitized_len(in + off, n - off) != wl)
			fuzz_fail("sanitised length disagrees with the byte-by-byte reference");
		gl = ws_utf8_sanitize(got, in + off, n - off);
		if (ws_utf8_valid(in + off, n - off) != valid)
			fuzz_fail("validator disagrees with the byte-by-byte reference");
		if (gl != wl || memcmp(got, want, wl) != 0)
			fuzz_fail("sanitiser disagrees with the byte-by-byte reference");
		free(got);
	}
	free(want);
}

/* The sanitiser's, the escaper's and the text encoder's invariants. */
static void fuzz_text(const uint8_t *in, size_t n)
{
	uint8_t *s = malloc(3 * n + 1), *s2 = malloc(3 * n + 1), *u = malloc(3 * n + 1);
	char *j = malloc(6 * n + 1);
	uint8_t *f = malloc(ws_encode_text_max(n)), *f2 = malloc(ws_encode_text_max(n));
	size_t sl, sl2, jl, ul, fl, body, hl;

	if (!s || !s2 || !j || !u || !f || !f2)
		abort();
	sl = ws_utf8_sanitize(s, in, n);
	if (sl != ws_utf8_sanitized_len(in, n) || sl > 3 * n || !ws_utf8_valid(s, sl))
		fuzz_fail("sanitised text is not valid or not of the announced size");
	if (ws_utf8_valid(in, n) && (sl != n || memcmp(s, in, n) != 0))
		fuzz_fail("valid text changed by sanitising");
	sl2 = ws_utf8_sanitize(s2, s, sl);
	if (sl2 != sl || memcmp(s, s2, sl) != 0)
		fuzz_fail("sanitising is not idempotent");
	jl = ws_json_escape(j, in, n);
	if (jl > 6 * n)
		fuzz_fail("JSON text over 6 bytes per byte");
	fuzz_check_json(j, jl);
	ul = fuzz_unescape(u, j, jl);
	if (ul != sl || memcmp(u, s, sl) != 0)
		fuzz_fail("JSON text does not unescape to the sanitised text");
	fl = ws_encode_text(f, in, n);
	body = ws_utf8_sanitized_len(in, n && in[n - 1] == '\n' ? n - 1 : n);
	hl = body < 126 ? 2 : body <= 0xFFFF ? 4 : 10;
	if (fl != hl + body || f[0] != 0x81 || memcmp(f + hl, s, body) != 0)
		fuzz_fail("text frame differs from header + sanitised line");
	if (ws_utf8_valid(in, n) &&
	    (ws_encode_text_utf8(f2, in, n) != fl || memcmp(f2, f, fl) != 0))
		fuzz_fail("text frame of valid UTF-8 differs from the sanitising one");
	free(s);
	free(s2);
	free(j);
	free(u);
	free(f);
	free(f2);
}

/* The handshake checks on four header values cut from the input. */
static void fuzz_upgrade(const uint8_t *in, size_t n)
{
	const char *f[4] = { NULL, NULL, NULL, NULL };
	size_t len[4] = { 0, 0, 0, 0 }, k = 0, start = 0;
	char resp[WS_RESPONSE_MAX];

	for (size_t i = 0; i <= n && k < 4; i++) {
		if (i < n && (in[i] != '\n' || k == 3))
			continue;
		f[k] = (const char *)in + start;
		len[k++] = i - start;
		start = i + 1;
	}
	if (ws_upgrade_check(f[0], len[0], f[1], len[1], f[2], len[2], f[3], len[3]) != WS_UPGRADE_OK)
		return;
	if (len[3] != WS_KEY_LEN || len[2] != 2 || memcmp(f[2], "13", 2) != 0)
		fuzz_fail("accepted a handshake with a bad key or version");
	if (ws_upgrade_response(resp, sizeof(resp), f[3], len[3]) == 0 ||
	    !strstr(resp, "\r\nSec-WebSocket-Accept: ") ||
	    strlen(strstr(resp, "Accept: ") + 8) != WS_ACCEPT_LEN + 4)
		fuzz_fail("no 101 response for an accepted handshake");
}

/* A fresh cursor's view of the whole ring (it never wrapped): its bytes. */
static size_t fuzz_ring_bytes(const struct wsring *r, uint8_t *out)
{
	struct wsring_cursor c;
	struct iovec iov[5];
	size_t got = 0;
	int k;

	wsring_cursor_init(&c, r, 0, NULL, 0, NULL, 0);
	while ((k = wsring_cursor_iov(&c, r, iov)) > 0) {
		size_t take = 0;

		for (int i = 0; i < k; i++) {
			memcpy(out + got + take, iov[i].iov_base, iov[i].iov_len);
			take += iov[i].iov_len;
		}
		wsring_cursor_advance(&c, take);
		got += take;
	}
	wsring_cursor_free(&c);
	return got;
}

/* The input's whole lines into a text ring at once, as websocket.c frames
 * a chunk of records (wsring_add_lines, after one ws_utf8_valid), and one
 * wsring_add each: the same frames, numbers and source bytes. */
static void fuzz_lines(const uint8_t *in, size_t n)
{
	const uint8_t *last = memrchr(in, '\n', n), *nl;
	struct wsring a, b;
	uint8_t *oa, *ob;
	size_t la, lb;
	bool utf8;

	if (!last)
		return;
	n = (size_t)(last + 1 - in);
	utf8 = ws_utf8_valid(in, n);
	if (wsring_init(&a, WSRING_TEXT, 4 * n + 4096, n, 1, 0, 0) < 0 ||
	    wsring_init(&b, WSRING_TEXT, 4 * n + 4096, n, 1, 0, 0) < 0 ||
	    !(oa = malloc(4 * n + 4096)) || !(ob = malloc(4 * n + 4096)))
		abort();
	for (size_t at = 0, k; at < n; at += k, wsring_flush(&a))
		if ((k = wsring_add_lines(&a, in + at, n - at, utf8)) == 0 && wsring_pending(&a) == 0)
			fuzz_fail("a line does not fit an empty batch");
	for (size_t at = 0; at < n; at = (size_t)(nl + 1 - in)) {
		nl = memchr(in + at, '\n', n - at);
		if (wsring_add(&b, in + at, (size_t)(nl + 1 - (in + at))) < 0) {
			wsring_flush(&b);
			if (wsring_add(&b, in + at, (size_t)(nl + 1 - (in + at))) < 0)
				fuzz_fail("a line does not fit an empty batch");
		}
	}
	wsring_flush(&b);
	la = fuzz_ring_bytes(&a, oa);
	lb = fuzz_ring_bytes(&b, ob);
	if (a.seq != b.seq || a.src != b.src || a.src != n || la != lb || memcmp(oa, ob, la) != 0)
		fuzz_fail("a chunk's lines framed at once differ from one by one");
	wsring_free(&a);
	wsring_free(&b);
	free(oa);
	free(ob);
}

/* One input: see the top of this file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct trace whole, chunked;
	uint64_t limit;
	uint32_t seed;

	if (size < HEADER)
		return 0;
	limit = (uint64_t)1 << (data[0] & 15);
	seed = ((uint32_t)data[1] << 8 | data[2]) + 1;
	fuzz_parse(data + HEADER, size - HEADER, limit, 0, &whole);
	fuzz_parse(data + HEADER, size - HEADER, limit, seed, &chunked);
	fuzz_same(&whole, &chunked);
	fuzz_text(data + HEADER, size - HEADER);
	fuzz_lines(data + HEADER, size - HEADER);
	fuzz_utf8_against_reference(data + HEADER, size - HEADER);
	fuzz_upgrade(data + HEADER, size - HEADER);
	return 0;
}

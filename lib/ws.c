/* ws.c: the WebSocket protocol (RFC 6455) as pure functions: handshake,
 * client frame parser, server frame encoders, UTF-8 and JSON. */
#include "ws.h"
#include "alloc.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* Whether c is a character of the base64 alphabet (RFC 4648 section 4). */
static bool ws_b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* Whether key is the base64 of 16 bytes: 22 characters, then "==", the last
 * of them with its 4 low bits clear (RFC 6455 section 4.1, item 7). */
static bool ws_key_valid(const char *key, size_t len)
{
	if (len != WS_KEY_LEN || key[22] != '=' || key[23] != '=')
		return false;
	for (size_t i = 0; i < 22; i++)
		if (!ws_b64_char(key[i]))
			return false;
	return strchr("AQgw", key[21]) != NULL;
}

/* Sec-WebSocket-Accept from Sec-WebSocket-Key, with libcrypto's SHA-1 and
 * base64 (RFC 6455 section 4.2.2, item 5.4). */
int ws_accept_key(const char *key, size_t len, char out[WS_ACCEPT_LEN + 1])
{
	char buf[WS_KEY_LEN + sizeof(ws_guid)];
	unsigned char sha[SHA_DIGEST_LENGTH];

	if (!ws_key_valid(key, len))
		return -1;
	memcpy(buf, key, WS_KEY_LEN);
	memcpy(buf + WS_KEY_LEN, ws_guid, sizeof(ws_guid) - 1);
	SHA1((const unsigned char *)buf, WS_KEY_LEN + sizeof(ws_guid) - 1, sha);
	if (EVP_EncodeBlock((unsigned char *)out, sha, sizeof(sha)) != WS_ACCEPT_LEN)
		return -1;
	return 0;
}

/* Splits the list at commas, trims each element, compares it with token. */
bool ws_has_token(const char *list, size_t n, const char *token)
{
	size_t tlen = strlen(token), i = 0;

	while (list && i < n) {
		size_t start, end;

		while (i < n && (list[i] == ' ' || list[i] == '\t' || list[i] == ','))
			i++;
		start = i;
		while (i < n && list[i] != ',')
			i++;
		end = i;
		while (end > start && (list[end - 1] == ' ' || list[end - 1] == '\t'))
			end--;
		if (end - start == tlen && strncasecmp(list + start, token, tlen) == 0)
			return true;
	}
	return false;
}

/* The handshake's header checks, in the order RFC 6455 section 4.2.1 lists
 * them; a wrong version is told apart so that it gets 426. */
enum ws_upgrade ws_upgrade_check(const char *upgrade, size_t ulen,
				 const char *connection, size_t clen,
				 const char *version, size_t vlen,
				 const char *key, size_t klen)
{
	if (!ws_has_token(upgrade, ulen, "websocket") ||
	    !ws_has_token(connection, clen, "upgrade") || !key || !ws_key_valid(key, klen))
		return WS_UPGRADE_BAD;
	if (!version || vlen != 2 || memcmp(version, "13", 2) != 0)
		return WS_UPGRADE_VERSION;
	return WS_UPGRADE_OK;
}

/* "101 Switching Protocols" with the accept key (RFC 6455 section 4.2.2). */
size_t ws_upgrade_response(char *out, size_t cap, const char *key, size_t klen)
{
	char accept[WS_ACCEPT_LEN + 1];
	int n;

	if (ws_accept_key(key, klen, accept) < 0)
		return 0;
	n = snprintf(out, cap, "HTTP/1.1 101 Switching Protocols\r\n"
		     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		     "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* ---- the client's frames ------------------------------------------------- */

/* Starts a parser with nothing received. */
void ws_parser_init(struct ws_parser *p, uint64_t max_message)
{
	memset(p, 0, sizeof(*p));
	p->max_message = max_message < UINT32_MAX ? (uint32_t)max_message : UINT32_MAX;
}

/* Frees the control payload buffer, if a control frame ever needed it. */
void ws_parser_free(struct ws_parser *p)
{
	pc_free(p->ctl);
	p->ctl = NULL;
}

/* Close codes a peer may send: 1000-1003, 1007-1014, 3000-4999 (1004-1006
 * and 1015 are reserved or never sent on the wire). */
bool ws_close_code_valid(unsigned code)
{
	if (code >= 3000 && code <= 4999)
		return true;
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

/* Ends parsing with a protocol error to answer with code. */
static void ws_fail(struct ws_parser *p, struct ws_event *ev, uint16_t code)
{
	p->done = true;
	ev->type = WS_EV_ERROR;
	ev->code = code;
}

/* The header size that its first two bytes announce: 2 + 2 or 8 bytes of
 * extended length + 4 of masking key (when the mask bit is set). */
static size_t ws_header_size(const uint8_t *h)
{
	size_t n = 2 + ((h[1] & 0x80) ? 4 : 0);
	uint8_t l = h[1] & 0x7F;

	return n + (l == 126 ? 2 : l == 127 ? 8 : 0);
}

/* The payload length the complete header holds. */
static uint64_t ws_header_len(const uint8_t *h)
{
	uint8_t l = h[1] & 0x7F;
	uint64_t v = 0;

	if (l < 126)
		return l;
	for (int i = 0; i < (l == 126 ? 2 : 8); i++)
		v = v << 8 | h[2 + i];
	return v;
}

/* Checks a complete header against RFC 6455 section 5 and the message size
 * limit; returns 0 or the close code to fail with. */
static uint16_t ws_header_check(struct ws_parser *p, uint64_t len)
{
	uint8_t op = p->hdr[0] & 0x0F;
	bool fin = p->hdr[0] & 0x80;

	if ((p->hdr[0] & 0x70) || !(p->hdr[1] & 0x80))
		return WS_CLOSE_PROTOCOL;       /* RSV bits without extension, unmasked */
	if ((p->hdr[1] & 0x7F) == 127 && (p->hdr[2] & 0x80))
		return WS_CLOSE_PROTOCOL;       /* 64-bit length with its top bit set */
	if (op & 0x8) {
		if (op > WS_OP_PONG || !fin || len > WS_CONTROL_MAX)
			return WS_CLOSE_PROTOCOL;
		return 0;
	}
	if (op > WS_OP_BINARY || (op == WS_OP_CONT) != p->in_message)
		return WS_CLOSE_PROTOCOL;       /* bad opcode, or fragments out of order */
	if (len > p->max_message - p->message_len)
		return WS_CLOSE_TOO_BIG;
	return 0;
}

/* Gathers header bytes; once the header is complete, checks it and starts
 * its payload. Returns bytes consumed. */
static size_t ws_parse_header(struct ws_parser *p, const uint8_t *buf, size_t n,
			      struct ws_event *ev)
{
	size_t used = 0, want = p->hdr_len >= 2 ? ws_header_size(p->hdr) : 2;
	uint16_t code;

	while (used < n && p->hdr_len < want) {
		p->hdr[p->hdr_len++] = buf[used++];
		if (p->hdr_len >= 2)
			want = ws_header_size(p->hdr);
	}
	if (p->hdr_len < want)
		return used;
	p->left = ws_header_len(p->hdr);
	code = ws_header_check(p, p->left);
	if (code) {
		ws_fail(p, ev, code);
		return used;
	}
	p->in_payload = true;
	p->mask_pos = 0;
	p->ctl_len = 0;
	if ((p->hdr[0] & 0x08) == 0)
		p->in_message = true;
	return used;
}

/* The masking key of the current frame: the header's last four bytes. */
static const uint8_t *ws_mask(const struct ws_parser *p)
{
	return p->hdr + ws_header_size(p->hdr) - 4;
}

/* Validates a close frame's payload and reports it (RFC 6455 section
 * 5.5.1: a code of two bytes, then a UTF-8 reason). */
static void ws_close_event(struct ws_parser *p, struct ws_event *ev)
{
	unsigned code;

	if (p->ctl_len == 0) {
		ev->type = WS_EV_CLOSE;
		ev->code = WS_CLOSE_NO_STATUS;
		p->done = true;
		return;
	}
	code = (unsigned)p->ctl[0] << 8 | p->ctl[1];
	if (p->ctl_len == 1 || !ws_close_code_valid(code)) {
		ws_fail(p, ev, WS_CLOSE_PROTOCOL);
		return;
	}
	if (!ws_utf8_valid(p->ctl + 2, p->ctl_len - 2u)) {
		ws_fail(p, ev, WS_CLOSE_BAD_DATA);
		return;
	}
	p->done = true;
	ev->type = WS_EV_CLOSE;
	ev->code = (uint16_t)code;
	ev->data = p->ctl + 2;
	ev->len = p->ctl_len - 2u;
}

/* The current frame's payload is complete: reports what it finished. */
static void ws_frame_end(struct ws_parser *p, struct ws_event *ev)
{
	uint8_t op = p->hdr[0] & 0x0F;

	p->in_payload = false;
	p->hdr_len = 0;
	if (op == WS_OP_CLOSE) {
		ws_close_event(p, ev);
		return;
	}
	if (op & 0x8) {
		ev->type = op == WS_OP_PING ? WS_EV_PING : WS_EV_PONG;
		ev->data = p->ctl;
		ev->len = p->ctl_len;
		return;
	}
	if (!(p->hdr[0] & 0x80))
		return;                 /* more fragments of this message follow */
	ev->type = WS_EV_MESSAGE;
	ev->message_len = p->message_len;
	p->message_len = 0;
	p->in_message = false;
}

/* Takes payload bytes: a control frame's are unmasked and kept, a data
 * frame's are counted and skipped. Returns bytes consumed. */
static size_t ws_parse_payload(struct ws_parser *p, const uint8_t *buf, size_t n,
			       struct ws_event *ev)
{
	size_t take = n < p->left ? n : (size_t)p->left;
	const uint8_t *mask = ws_mask(p);

	if (p->hdr[0] & 0x08) {
		if (take && !p->ctl && !(p->ctl = pc_malloc(WS_CONTROL_MAX))) {
			ws_fail(p, ev, WS_CLOSE_INTERNAL);
			return take;
		}
		for (size_t i = 0; i < take; i++)
			p->ctl[p->ctl_len++] = buf[i] ^ mask[p->mask_pos++ & 3];
	} else {
		p->message_len += take;
	}
	p->left -= take;
	if (p->left == 0)
		ws_frame_end(p, ev);
	return take;
}

/* Runs the frame machine until an event or the end of the bytes. */
size_t ws_parse(struct ws_parser *p, const uint8_t *buf, size_t n, struct ws_event *ev)
{
	size_t used = 0;

	memset(ev, 0, sizeof(*ev));
	while (!p->done && ev->type == WS_EV_NONE) {
		if (!p->in_payload) {
			if (used == n)
				break;
			used += ws_parse_header(p, buf + used, n - used, ev);
			if (!p->in_payload)
				continue;
		}
		if (p->left > 0 && used == n)
			break;
		used += ws_parse_payload(p, buf + used, n - used, ev);
	}
	return used;
}

/* ---- the server's frames ------------------------------------------------- */

/* The size of the header of a frame of len payload bytes. */
static size_t ws_frame_header_len(uint64_t len)
{
	return len < 126 ? 2 : len <= 0xFFFF ? 4 : 10;
}

/* FIN set, no mask, the shortest length encoding (RFC 6455 section 5.2). */
size_t ws_frame_header(uint8_t out[WS_HEADER_MAX], enum ws_opcode op, uint64_t len)
{
	size_t ext = ws_frame_header_len(len) - 2;

	out[0] = (uint8_t)(0x80 | op);
	out[1] = (uint8_t)(ext == 0 ? len : ext == 2 ? 126 : 127);
	for (size_t i = 0; i < ext; i++)
		out[2 + i] = (uint8_t)(len >> (8 * (ext - 1 - i)));
	return 2 + ext;
}

/* A ping or pong: header and payload in one buffer. */
size_t ws_control_frame(uint8_t out[WS_CONTROL_FRAME_MAX], enum ws_opcode op,
			const uint8_t *data, size_t len)
{
	if (len > WS_CONTROL_MAX)
		len = WS_CONTROL_MAX;
	out[0] = (uint8_t)(0x80 | op);
	out[1] = (uint8_t)len;
	if (len)
		memcpy(out + 2, data, len);
	return 2 + len;
}

/* A close frame: the code, then as much of the reason as fits, never
 * ending inside a UTF-8 sequence. */
size_t ws_close_frame(uint8_t out[WS_CONTROL_FRAME_MAX], uint16_t code, const char *reason)
{
	size_t len = reason ? strlen(reason) : 0;

	if (len > WS_CONTROL_MAX - 2) {
		len = WS_CONTROL_MAX - 2;
		while (len > 0 && ((uint8_t)reason[len] & 0xC0) == 0x80)
			len--;
	}
	out[0] = 0x80 | WS_OP_CLOSE;
	out[1] = (uint8_t)(2 + len);
	out[2] = (uint8_t)(code >> 8);
	out[3] = (uint8_t)code;
	if (len)
		memcpy(out + 4, reason, len);
	return 4 + len;
}

/* ---- UTF-8 and JSON ------------------------------------------------------ */

/* The length of the well-formed sequence at in (1 to 4), or 0 with *bad
 * set to the length of its maximal ill-formed subpart (at least 1), per
 * Unicode's Table 3-7 of well-formed byte sequences. */
static size_t ws_utf8_seq(const uint8_t *in, size_t n, size_t *bad)
{
	uint8_t c = in[0], lo = 0x80, hi = 0xBF;
	size_t need;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		need = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		need = 4;
	else {
		*bad = 1;
		return 0;
	}
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	for (size_t i = 1; i < need; i++) {
		if (i >= n || in[i] < lo || in[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	return need;
}

/* The high bit of each byte of a word: a word of ASCII has none. */
#define WS_HIGH_BITS 0x8080808080808080ULL

/* 8 bytes as a word, by memcpy: no alignment or aliasing assumption. */
static uint64_t ws_word(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return w;
}

/* How many bytes at the start of the word w (as ws_word() loaded it) are
 * ASCII: 8, or the index of the first with its high bit set. */
static size_t ws_ascii_prefix(uint64_t w)
{
	uint64_t hi = w & WS_HIGH_BITS;

	if (hi == 0)
		return 8;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (size_t)__builtin_ctzll(hi) >> 3;
#else
	return (size_t)__builtin_clzll(hi) >> 3;
#endif
}

/* Whether any of the 4 words at p has a byte with its high bit set. */
static bool ws_high_in_32(const uint8_t *p)
{
	return ((ws_word(p) | ws_word(p + 8) | ws_word(p + 16) | ws_word(p + 24)) &
		WS_HIGH_BITS) != 0;
}

/* The ASCII bytes at in (at most n): 32 bytes at a time while they are all
 * ASCII, then a word of 8 at a time, then byte by byte in the last 7. */
static size_t ws_ascii_run(const uint8_t *in, size_t n)
{
	size_t i = 0, k;

	while (i + 32 <= n && !ws_high_in_32(in + i))
		i += 32;
	for (; i + 8 <= n; i += 8)
		if ((k = ws_ascii_prefix(ws_word(in + i))) < 8)
			return i + k;
	while (i < n && in[i] < 0x80)
		i++;
	return i;
}

/* ws_ascii_run() that copies the run to out as it tests it, a whole word
 * at a time: the bytes stored past the run (in its last word) lie within
 * the output, which is never shorter than the input left, and are written
 * again after it. Fewer than 8 bytes left after whole words of ASCII: the
 * last 8 bytes, overlapping ASCII already copied, as one more word. */
static size_t ws_ascii_copy(uint8_t *out, const uint8_t *in, size_t n)
{
	size_t i = 0, k = 8;
	uint64_t w;

	for (; k == 8 && i + 8 <= n; i += k) {
		w = ws_word(in + i);
		memcpy(out + i, &w, 8);
		k = ws_ascii_prefix(w);
	}
	if (k == 8 && i >= 8 && i < n) {
		w = ws_word(in + n - 8);
		memcpy(out + n - 8, &w, 8);
		return n - 8 + ws_ascii_prefix(w);
	}
	for (; i < n && in[i] < 0x80; i++)
		out[i] = in[i];
	return i;
}

/* Walks ASCII runs a word at a time, anything else sequence by sequence;
 * true when no sequence is ill-formed. */
bool ws_utf8_valid(const uint8_t *in, size_t n)
{
	size_t i = 0, bad;

	while (i < n) {
		size_t k;

		i += ws_ascii_run(in + i, n - i);
		if (i == n)
			break;
		k = ws_utf8_seq(in + i, n - i, &bad);
		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

/* Sums the output of ws_utf8_sanitize() without writing it. */
size_t ws_utf8_sanitized_len(const uint8_t *in, size_t n)
{
	size_t i = 0, len = 0, bad;

	while (i < n) {
		size_t run = ws_ascii_run(in + i, n - i), k;

		i += run;
		len += run;
		if (i == n)
			break;
		k = ws_utf8_seq(in + i, n - i, &bad);
		len += k ? k : 3;
		i += k ? k : bad;
	}
	return len;
}

/* Copies ASCII runs (a word at a time) and well-formed sequences, writes
 * EF BF BD for each ill-formed subpart. */
size_t ws_utf8_sanitize(uint8_t *out, const uint8_t *in, size_t n)
{
	size_t i = 0, len = 0, bad;

	while (i < n) {
		size_t run = ws_ascii_copy(out + len, in + i, n - i), k;

		i += run;
		len += run;
		if (i == n)
			break;
		k = ws_utf8_seq(in + i, n - i, &bad);
		if (k) {
			memcpy(out + len, in + i, k);
			len += k;
			i += k;
			continue;
		}
		memcpy(out + len, "\xEF\xBF\xBD", 3);
		len += 3;
		i += bad;
	}
	return len;
}

/* The short JSON escape of a byte, or 0 when it has none (RFC 8259 s. 7). */
static char ws_json_short(uint8_t c)
{
	static const char from[] = "\"\\\b\f\n\r\t", to[] = "\"\\bfnrt";
	const char *p = c ? memchr(from, c, sizeof(from) - 1) : NULL;

	return p ? to[p - from] : 0;
}

/* Sanitises and escapes in one pass: ASCII is escaped where JSON needs it,
 * longer sequences are copied or replaced like ws_utf8_sanitize(). */
size_t ws_json_escape(char *out, const uint8_t *in, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, len = 0, bad;

	while (i < n) {
		uint8_t c = in[i];
		size_t k;
		char s;

		if (c >= 0x80) {
			k = ws_utf8_seq(in + i, n - i, &bad);
			memcpy(out + len, k ? (const char *)in + i : "\xEF\xBF\xBD", k ? k : 3);
			len += k ? k : 3;
			i += k ? k : bad;
			continue;
		}
		i++;
		if ((s = ws_json_short(c)) != 0) {
			out[len++] = '\\';
			out[len++] = s;
		} else if (c < 0x20) {
			memcpy(out + len, "\\u00", 4);
			out[len + 4] = hex[c >> 4];
			out[len + 5] = hex[c & 15];
			len += 6;
		} else {
			out[len++] = (char)c;
		}
	}
	return len;
}

/* ---- a record's frame, built once for every client ---------------------- */

/* Header room plus a sanitised payload of at most 3 bytes per byte. */
size_t ws_encode_text_max(size_t n)
{
	return WS_HEADER_MAX + 3 * n;
}

/* Header room, the envelope's fixed text, and 6 bytes per escaped byte. */
size_t ws_encode_json_max(size_t idlen, size_t n)
{
	return WS_HEADER_MAX + sizeof("{\"id\":\"\",\"data\":\"\"}") + 6 * (idlen + n);
}

/* The record without its final '\n' (line framing). */
static size_t ws_line_len(const uint8_t *rec, size_t n)
{
	return n && rec[n - 1] == '\n' ? n - 1 : n;
}

/* Puts the header in front of a payload written at out + at (at <=
 * WS_HEADER_MAX), moving the payload only when its header's size is not
 * at; returns the frame's size. */
static size_t ws_frame_close_up(uint8_t *out, size_t at, enum ws_opcode op, size_t len)
{
	uint8_t h[WS_HEADER_MAX];
	size_t hl = ws_frame_header(h, op, len);

	if (hl != at)
		memmove(out + hl, out + at, len);
	memcpy(out, h, hl);
	return hl + len;
}

/* The sanitised line as one text frame, written where the header of a
 * payload as long as the line ends: a line that is valid UTF-8 (the
 * sanitised form is as long) never moves. */
size_t ws_encode_text(uint8_t *out, const uint8_t *rec, size_t n)
{
	size_t at, len;

	n = ws_line_len(rec, n);
	at = ws_frame_header_len(n);
	len = ws_utf8_sanitize(out + at, rec, n);
	return ws_frame_close_up(out, at, WS_OP_TEXT, len);
}

/* ws_encode_text() of a record the caller knows to be valid UTF-8: the
 * header and a copy of the line. */
size_t ws_encode_text_utf8(uint8_t *out, const uint8_t *rec, size_t n)
{
	size_t hl;

	n = ws_line_len(rec, n);
	hl = ws_frame_header(out, WS_OP_TEXT, n);
	memcpy(out + hl, rec, n);
	return hl + n;
}

/* The raw record as one binary frame. */
size_t ws_encode_binary(uint8_t *out, const uint8_t *rec, size_t n)
{
	size_t hl = ws_frame_header(out, WS_OP_BINARY, n);

	memcpy(out + hl, rec, n);
	return hl + n;
}

/* Appends a NUL-terminated piece of fixed text; returns its length. */
static size_t ws_put(uint8_t *out, const char *s)
{
	size_t n = strlen(s);

	memcpy(out, s, n);
	return n;
}

/* {"id":"ID","data":"…"} as one text frame. */
size_t ws_encode_json(uint8_t *out, const char *id, size_t idlen,
		      const uint8_t *rec, size_t n)
{
	/* where the payload of an id and data needing no escape would start */
	size_t at = ws_frame_header_len(sizeof("{\"id\":\"\",\"data\":\"\"}") - 1 + idlen +
				  ws_line_len(rec, n));
	uint8_t *p = out + at;
	size_t len = 0;

	len += ws_put(p + len, "{\"id\":\"");
	len += ws_json_escape((char *)p + len, (const uint8_t *)id, idlen);
	len += ws_put(p + len, "\",\"data\":\"");
	len += ws_json_escape((char *)p + len, rec, ws_line_len(rec, n));
	len += ws_put(p + len, "\"}");
	return ws_frame_close_up(out, at, WS_OP_TEXT, len);
}

/* {"gap":N} or {"gap":null} as one text frame. */
size_t ws_encode_gap(uint8_t out[WS_GAP_FRAME_MAX], bool known, uint64_t missed)
{
	char body[32];
	int len;

	if (known)
		len = snprintf(body, sizeof(body), "{\"gap\":%llu}", (unsigned long long)missed);
	else
		len = snprintf(body, sizeof(body), "{\"gap\":null}");
	size_t hl = ws_frame_header(out, WS_OP_TEXT, (size_t)len);
	memcpy(out + hl, body, (size_t)len);
	return hl + (size_t)len;
}

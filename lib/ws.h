/* ws.h: the WebSocket protocol (RFC 6455) as pure functions, for GET /ws
 * (pipecastd(8)): the handshake's accept key, an incremental parser of the
 * frames a client sends, and encoders of the frames the server sends.
 *
 * Encode once: a record's whole frame (header and payload) is built one
 * time by ws_encode_text(), ws_encode_binary() or ws_encode_json() into
 * memory every WebSocket client then writes from; nothing here is per
 * client except the parser. Nothing here allocates, logs or exits. */
#ifndef PIPECAST_WS_H
#define PIPECAST_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Opcodes (RFC 6455 section 5.2). */
enum ws_opcode {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xA,
};

/* Close codes the server sends (RFC 6455 section 7.4.1). */
enum ws_close_code {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_PROTOCOL = 1002,
	WS_CLOSE_NO_STATUS = 1005,   /* received only: a close frame without a code */
	WS_CLOSE_BAD_DATA = 1007,
	WS_CLOSE_TOO_BIG = 1009,
	WS_CLOSE_INTERNAL = 1011,
};

#define WS_KEY_LEN 24          /* Sec-WebSocket-Key: base64 of 16 bytes */
#define WS_ACCEPT_LEN 28       /* Sec-WebSocket-Accept: base64 of a SHA-1 */
#define WS_HEADER_MAX 10       /* a server frame's header: no mask */
#define WS_CONTROL_MAX 125     /* a control frame's payload */
#define WS_CONTROL_FRAME_MAX (2 + WS_CONTROL_MAX)

/* Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 section
 * 4.2.2): base64(SHA-1(key + GUID)), NUL-terminated in out. The key must
 * be the base64 of 16 bytes (24 characters, "==" at the end); returns 0,
 * or -1 for a malformed key (the request then gets 400). */
int ws_accept_key(const char *key, size_t len, char out[WS_ACCEPT_LEN + 1]);

/* What an upgrade request's headers ask for (RFC 6455 section 4.2.1). */
enum ws_upgrade {
	WS_UPGRADE_OK,       /* answer with ws_upgrade_response() */
	WS_UPGRADE_BAD,      /* not a valid WebSocket handshake: 400 */
	WS_UPGRADE_VERSION,  /* a version other than 13: 426 with
			      * "Sec-WebSocket-Version: 13" */
};

/* Checks the handshake's headers, each given as bytes and a length (NULL
 * when absent): Upgrade must list "websocket" and Connection "Upgrade"
 * (tokens, any case), Sec-WebSocket-Version be 13, Sec-WebSocket-Key be
 * the base64 of 16 bytes. The method (GET) and HTTP/1.1 are the caller's. */
enum ws_upgrade ws_upgrade_check(const char *upgrade, size_t ulen,
				 const char *connection, size_t clen,
				 const char *version, size_t vlen,
				 const char *key, size_t klen);

/* Whether the comma-separated list of n bytes holds token, ignoring ASCII
 * case and the spaces and tabs around each element (RFC 9110 5.6.1). */
bool ws_has_token(const char *list, size_t n, const char *token);

/* The 101 response head for a checked key, into out (cap bytes, at least
 * WS_RESPONSE_MAX); returns its length, or 0 when the key is malformed. */
#define WS_RESPONSE_MAX 160
size_t ws_upgrade_response(char *out, size_t cap, const char *key, size_t klen);

/* ---- the client's frames ------------------------------------------------- */

/* What ws_parse() found. */
enum ws_event_type {
	WS_EV_NONE,     /* every byte given was consumed; more are needed */
	WS_EV_MESSAGE,  /* a whole data message arrived (its bytes are skipped) */
	WS_EV_PING,     /* answer with a pong carrying data/len */
	WS_EV_PONG,
	WS_EV_CLOSE,    /* the peer's close: code (1005 when none), reason */
	WS_EV_ERROR,    /* a protocol error: close with code; parse no further */
};

struct ws_event {
	enum ws_event_type type;
	uint16_t code;          /* WS_EV_CLOSE: the peer's; WS_EV_ERROR: ours */
	const uint8_t *data;    /* ping/pong payload, close reason (unmasked) */
	size_t len;
	uint64_t message_len;   /* WS_EV_MESSAGE: the payload bytes of all fragments */
};

/* The parser's state; its fields belong to ws.c. */
struct ws_parser {
	uint64_t left;          /* payload bytes of the current frame still due */
	uint64_t message_len;   /* data bytes of the current message so far */
	uint8_t *ctl;           /* a control frame's payload, unmasked: WS_CONTROL_MAX
				 * bytes allocated at the first that has one */
	uint32_t max_message;   /* a data message beyond this closes with 1009 */
	uint8_t hdr[14];        /* the current frame's header, as it arrives */
	uint8_t hdr_len;
	uint8_t ctl_len;
	uint8_t mask_pos;       /* masking key index of the next payload byte */
	bool in_payload;        /* the header is complete */
	bool in_message;        /* a fragmented data message is under way */
	bool done;              /* a close or an error was reported */
};

/* A parser that closes data messages over max_message bytes with 1009
 * (and with 1011 when memory for a control frame's payload is out). */
void ws_parser_init(struct ws_parser *p, uint64_t max_message);
/* Frees what the parser allocated. */
void ws_parser_free(struct ws_parser *p);

/* Parses up to n bytes; returns how many it consumed and fills *ev. It
 * stops after each event other than WS_EV_NONE, so call it again with the
 * rest. ev->data points into the parser and is valid until the next call.
 * After WS_EV_CLOSE or WS_EV_ERROR it consumes nothing more. */
size_t ws_parse(struct ws_parser *p, const uint8_t *buf, size_t n, struct ws_event *ev);

/* Whether a close code received from a peer is one a peer may send
 * (RFC 6455 section 7.4 and the IANA registry). */
bool ws_close_code_valid(unsigned code);

/* ---- the server's frames ------------------------------------------------- */

/* Writes the header of an unfragmented, unmasked frame of len payload
 * bytes; returns its size (2, 4 or 10). */
size_t ws_frame_header(uint8_t out[WS_HEADER_MAX], enum ws_opcode op, uint64_t len);

/* A whole ping or pong frame with len <= 125 payload bytes; returns its size. */
size_t ws_control_frame(uint8_t out[WS_CONTROL_FRAME_MAX], enum ws_opcode op,
			const uint8_t *data, size_t len);

/* A whole close frame with code and a reason (cut to fit at a character
 * boundary, so it stays valid UTF-8 if it was); returns its size. */
size_t ws_close_frame(uint8_t out[WS_CONTROL_FRAME_MAX], uint16_t code, const char *reason);

/* ---- UTF-8 and JSON ------------------------------------------------------ */

/* Whether n bytes are valid UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
bool ws_utf8_valid(const uint8_t *in, size_t n);

/* The size of in once sanitised: each maximal ill-formed subpart (Unicode
 * section 3.9, as browsers' decoders do) replaced by U+FFFD (3 bytes). */
size_t ws_utf8_sanitized_len(const uint8_t *in, size_t n);

/* Writes the sanitised form of in to out, which holds at least
 * ws_utf8_sanitized_len(in, n) bytes (3 * n always suffices); returns its
 * size. */
size_t ws_utf8_sanitize(uint8_t *out, const uint8_t *in, size_t n);

/* Writes in as the inside of a JSON string: sanitised as above, '"' and
 * '\\' escaped, every byte below 0x20 escaped (\n, \r, \t, \b, \f, else
 * \u00XX). out holds at least 6 * n bytes; returns the size written. */
size_t ws_json_escape(char *out, const uint8_t *in, size_t n);

/* ---- a record's frame, built once for every client ---------------------- */

/* The most bytes ws_encode_text() or ws_encode_binary() writes for a
 * record of n bytes, and ws_encode_json() for an id of idlen bytes. */
size_t ws_encode_text_max(size_t n);
size_t ws_encode_json_max(size_t idlen, size_t n);
#define WS_GAP_FRAME_MAX (WS_HEADER_MAX + 32)

/* A text frame of a line record: its final '\n' removed, sanitised.
 * Returns the frame's size. */
size_t ws_encode_text(uint8_t *out, const uint8_t *rec, size_t n);
/* The same frame for a record known to be valid UTF-8 (a piece, cut after a
 * '\n', of bytes ws_utf8_valid() passed): copied, not sanitised. Writes at
 * most WS_HEADER_MAX + n bytes. */
size_t ws_encode_text_utf8(uint8_t *out, const uint8_t *rec, size_t n);
/* A binary frame of a raw record, bytes unchanged. */
size_t ws_encode_binary(uint8_t *out, const uint8_t *rec, size_t n);
/* A text frame {"id":"ID","data":"…"} (?envelope=json): the record's final
 * '\n' removed, the data sanitised and escaped; id is an EPOCH-SEQ id and
 * is escaped too. */
size_t ws_encode_json(uint8_t *out, const char *id, size_t idlen,
		      const uint8_t *rec, size_t n);
/* A text frame {"gap":N} ({"gap":null} when the count is unknown). */
size_t ws_encode_gap(uint8_t out[WS_GAP_FRAME_MAX], bool known, uint64_t missed);

#endif

/* test_wsring.c: the WebSocket rings: frames encoded once, resumes (the
 * resume table of pipecast.conf(5)) through the index, backlog, control
 * frames queued between whole frames only, and readers dropped or skipped
 * to the head after finishing their frame, with a gap message (json). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "wsring.h"

#define EPOCH 0x00c0ffee12345678ULL

/* Appends records "rec-N\n" for N in first..last and flushes. */
static void put(struct wsring *r, unsigned first, unsigned last)
{
	char line[32];

	for (unsigned i = first; i <= last; i++) {
		int n = snprintf(line, sizeof(line), "rec-%u\n", i);

		if (wsring_add(r, (const uint8_t *)line, (size_t)n) < 0) {
			wsring_flush(r);
			assert_int_equal(wsring_add(r, (const uint8_t *)line, (size_t)n), 0);
		}
	}
	wsring_flush(r);
}

/* Everything the cursor would send, consumed k bytes at a time. */
static size_t drain(struct wsring_cursor *c, const struct wsring *r, uint8_t *out,
		    size_t cap, size_t k)
{
	size_t got = 0;
	struct iovec iov[5];
	int n;

	while ((n = wsring_cursor_iov(c, r, iov)) > 0) {
		size_t take = 0;

		for (int i = 0; i < n && take < k; i++) {
			size_t m = iov[i].iov_len < k - take ? iov[i].iov_len : k - take;

			assert_true(got + m <= cap);
			memcpy(out + got, iov[i].iov_base, m);
			got += m;
			take += m;
		}
		wsring_cursor_advance(c, take);
	}
	return got;
}

/* Splits frames: their payloads joined by '|', control frames as <OP>. */
static void frames(const uint8_t *b, size_t n, char *out, size_t cap)
{
	size_t at = 0, o = 0;

	out[0] = 0;
	while (at + 2 <= n) {
		size_t len = b[at + 1] & 0x7f, h = 2;

		assert_true(len < 126);
		if ((b[at] & 0x0f) >= 8)
			o += (size_t)snprintf(out + o, cap - o, "<%x>|", b[at] & 0x0f);
		else
			o += (size_t)snprintf(out + o, cap - o, "%.*s|", (int)len, b + at + h);
		at += h + len;
	}
	assert_int_equal(at, n);
}

static void text_frames_and_resume(void **state)
{
	struct wsring r;
	struct wsring_start st;
	struct wsring_cursor c;
	static uint8_t buf[1 << 18];
	char txt[4096];

	(void)state;
	assert_int_equal(wsring_init(&r, WSRING_JSON, 65536, 64, EPOCH, 0, 0), 0);
	put(&r, 1, 100);
	wsring_resume(&r, 97, &st);
	assert_false(st.gap);
	wsring_cursor_init(&c, &r, st.pos, "HEAD", 4, NULL, 0);
	assert_int_equal(drain(&c, &r, buf, sizeof(buf), 3), 4 + 46 + 46 + 48);
	frames(buf + 4, 140, txt, sizeof(txt));
	assert_string_equal(txt, "{\"id\":\"00c0ffee12345678-98\",\"data\":\"rec-98\"}|"
			    "{\"id\":\"00c0ffee12345678-99\",\"data\":\"rec-99\"}|"
			    "{\"id\":\"00c0ffee12345678-100\",\"data\":\"rec-100\"}|");
	wsring_resume(&r, 100, &st);
	assert_true(st.pos == r.ring.head && !st.gap);
	wsring_resume_foreign(&r, &st);
	assert_true(st.gap && !st.known && st.pos == 0);
	put(&r, 101, 3000);           /* the first records are overwritten */
	wsring_resume(&r, 5, &st);
	assert_true(st.gap && st.known);
	assert_true(st.missed > 0 && st.missed < 2990);
	wsring_cursor_init(&c, &r, st.pos, NULL, 0, NULL, 0);
	assert_true(drain(&c, &r, buf, sizeof(buf), 48) > 48);
	snprintf(txt, sizeof(txt), "{\"id\":\"00c0ffee12345678-%llu\",\"data\":\"rec-%llu\"}",
		 (unsigned long long)(5 + st.missed + 1), (unsigned long long)(5 + st.missed + 1));
	assert_memory_equal(buf + 2, txt, strlen(txt));
	wsring_free(&r);
}

static void control_frames_between_whole_frames(void **state)
{
	struct wsring r;
	struct wsring_cursor c;
	uint8_t buf[4096], ping[WS_CONTROL_FRAME_MAX];
	char txt[4096];
	size_t n;

	(void)state;
	assert_int_equal(wsring_init(&r, WSRING_TEXT, 65536, 64, EPOCH, 0, 0), 0);
	wsring_cursor_init(&c, &r, r.ring.head, NULL, 0, NULL, 0);
	put(&r, 1, 3);
	wsring_cursor_advance(&c, 3);     /* in the middle of the first frame */
	n = ws_control_frame(ping, WS_OP_PONG, NULL, 0);
	assert_int_equal(wsring_cursor_note(&c, &r, ping, n), 0);
	assert_int_equal(wsring_cursor_note(&c, &r, ping, n), -1);   /* one at a time */
	memcpy(buf, "\x81\x05r", 3);
	n = 3 + drain(&c, &r, buf + 3, sizeof(buf) - 3, 1);
	frames(buf, n, txt, sizeof(txt));
	assert_string_equal(txt, "rec-1|<a>|rec-2|rec-3|");
	assert_true(wsring_cursor_idle(&c, &r));
	wsring_free(&r);
}

/* A pong with a payload longer than the inline note goes out whole from
 * the note's out-of-line buffer, which wsring_cursor_free() releases. */
static void long_note_moves_out_of_line(void **state)
{
	struct wsring r;
	struct wsring_cursor c;
	uint8_t buf[4096], pong[WS_CONTROL_FRAME_MAX], data[100];
	size_t n, got;

	(void)state;
	memset(data, 'p', sizeof(data));
	assert_int_equal(wsring_init(&r, WSRING_TEXT, 65536, 64, EPOCH, 0, 0), 0);
	wsring_cursor_init(&c, &r, r.ring.head, NULL, 0, NULL, 0);
	put(&r, 1, 1);
	wsring_cursor_advance(&c, 3);
	n = ws_control_frame(pong, WS_OP_PONG, data, sizeof(data));
	assert_true(n > WSRING_NOTE_INLINE);
	assert_int_equal(wsring_cursor_note(&c, &r, pong, n), 0);
	assert_non_null(c.note_big);
	got = drain(&c, &r, buf, sizeof(buf), 7);
	assert_int_equal(got, 4 + n);           /* "ec-1" of the frame, the pong */
	assert_memory_equal(buf + 4, pong, n);
	wsring_cursor_free(&c);
	assert_null(c.note_big);
	wsring_free(&r);
}

static void drop_and_skip(void **state)
{
	struct wsring r;
	struct wsring_cursor a, b;
	uint64_t missed;
	uint8_t buf[8192];
	char txt[8192];
	size_t n;

	(void)state;
	assert_int_equal(wsring_init(&r, WSRING_JSON, 65536, 64, EPOCH, 0, 0), 0);
	wsring_cursor_init(&a, &r, r.ring.head, NULL, 0, NULL, 0);
	wsring_cursor_init(&b, &r, r.ring.head, NULL, 0, NULL, 0);
	put(&r, 1, 10);
	memcpy(buf, r.ring.buf, 5);
	wsring_cursor_advance(&b, 5);     /* b is inside record 1's frame */
	assert_int_equal(wsring_cursor_make_room(&a, &r, 100, false, &missed), WSRING_KEEP);
	assert_int_equal(wsring_cursor_make_room(&a, &r, 70000, false, &missed), WSRING_DROP);
	assert_int_equal(wsring_cursor_make_room(&b, &r, 70000, true, &missed), WSRING_SKIPPED);
	assert_true(missed > 0);
	put(&r, 11, 11);
	n = 5 + drain(&b, &r, buf + 5, sizeof(buf) - 5, 7);
	frames(buf, n, txt, sizeof(txt));
	/* the rest of record 1's frame, the gap, then record 11 */
	assert_non_null(strstr(txt, "|{\"gap\":9}|{\"id\":\"00c0ffee12345678-11\""));
	wsring_free(&r);
}

static void skip_keeps_the_frame_rest_in_the_stash(void **state)
{
	struct wsring r;
	struct wsring_cursor a, b;
	uint8_t stash[64], first[64];
	struct iovec iov[5];
	uint64_t missed;
	size_t flen;

	(void)state;
	assert_int_equal(wsring_init(&r, WSRING_TEXT, 65536, 64, EPOCH, 0, 0), 0);
	wsring_cursor_init(&a, &r, r.ring.head, NULL, 0, NULL, 0);
	wsring_cursor_init(&b, &r, r.ring.head, NULL, 0, stash, sizeof(stash));
	put(&r, 1, 2);
	flen = 2 + 5;                     /* "rec-1" */
	memcpy(first, r.ring.buf, flen);
	wsring_cursor_advance(&a, 3);
	wsring_cursor_advance(&b, 3);
	/* an append that would overwrite the rest of record 1's frame */
	assert_int_equal(wsring_cursor_make_room(&a, &r, r.ring.size, true, &missed), WSRING_DROP);
	assert_int_equal(wsring_cursor_make_room(&b, &r, r.ring.size, true, &missed), WSRING_SKIPPED);
	assert_true(b.stashed);
	memset(r.ring.buf, '#', (size_t)r.ring.size);   /* the ring moved on */
	assert_true(wsring_cursor_iov(&b, &r, iov) >= 1);
	assert_int_equal(iov[0].iov_len, flen - 3);
	assert_memory_equal(iov[0].iov_base, first + 3, flen - 3);
	wsring_cursor_advance(&b, flen - 3);
	assert_false(b.stashed);
	assert_true(b.pos == b.jump);
	wsring_free(&r);
}

static void backlog_within_bytes(void **state)
{
	struct wsring r;

	(void)state;
	assert_int_equal(wsring_init(&r, WSRING_TEXT, 65536, 64, EPOCH, 0, 0), 0);
	put(&r, 1, 1000);
	assert_true(wsring_backlog(&r, 0) == r.ring.head);
	assert_true(wsring_backlog(&r, 1u << 30) == 0);
	assert_true(wsring_backlog(&r, 400) > 0 && wsring_backlog(&r, 400) < r.ring.head);
	assert_true(r.ring.head - wsring_backlog(&r, 400) <= 400);
	wsring_free(&r);
}

/* Encodes a chunk of lines with wsring_add_lines(), flushing when it
 * stops, as websocket.c does; utf8 as ws_utf8_valid() finds the chunk. */
static void add_chunk(struct wsring *r, const uint8_t *p, size_t n)
{
	bool utf8 = ws_utf8_valid(p, n);
	size_t at = 0;

	while (at < n) {
		size_t k = wsring_add_lines(r, p + at, n - at, utf8);

		assert_true(k > 0 || wsring_pending(r) > 0);
		at += k;
		wsring_flush(r);
	}
}

/* The same lines one wsring_add() each, as the reference. */
static void add_each(struct wsring *r, const uint8_t *p, size_t n)
{
	const uint8_t *nl;

	for (size_t at = 0; at < n; at = (size_t)(nl + 1 - p)) {
		nl = memchr(p + at, '\n', n - at);
		if (wsring_add(r, p + at, (size_t)(nl + 1 - (p + at))) < 0) {
			wsring_flush(r);
			assert_int_equal(wsring_add(r, p + at, (size_t)(nl + 1 - (p + at))), 0);
		}
	}
	wsring_flush(r);
}

/* A chunk of short, empty, 2-byte-length and 8-byte-length lines, UTF-8
 * sequences, and (bad) a byte that is no UTF-8, in about 300 KB. */
static size_t chunk_of_lines(uint8_t *b, size_t cap, bool bad)
{
	size_t n = 0;

	for (unsigned i = 0; n + 71000 < cap && i < 3000; i++) {
		n += (size_t)snprintf((char *)b + n, cap - n, "rec-%u h\xc3\xa9llo\n\n", i);
		if (i % 100 == 7) {
			memset(b + n, 'x', 200);
			b[n + 200] = '\n';
			n += 201;
		}
	}
	memset(b + n, 'y', 70000);
	b[n + 70000] = '\n';
	n += 70001;
	if (bad)
		b[5] = 0xff;
	return n;
}

/* Framing a chunk's lines at once writes the ring, the numbers and the
 * index that framing them one by one writes, valid UTF-8 or not. */
static void lines_frame_like_records(void **state)
{
	static uint8_t chunk[400000], a_out[600000], b_out[600000];
	struct wsring a, b;
	struct wsring_start sa, sb;
	struct wsring_cursor ca, cb;

	(void)state;
	for (int bad = 0; bad <= 1; bad++) {
		size_t n = chunk_of_lines(chunk, sizeof(chunk), bad);

		assert_int_equal(ws_utf8_valid(chunk, n), !bad);
		assert_int_equal(wsring_init(&a, WSRING_TEXT, 1 << 20, 80000, EPOCH, 0, 0), 0);
		assert_int_equal(wsring_init(&b, WSRING_TEXT, 1 << 20, 80000, EPOCH, 0, 0), 0);
		add_chunk(&a, chunk, n);
		add_each(&b, chunk, n);
		assert_true(a.seq == b.seq && a.src == b.src && a.src == n);
		assert_true(a.ring.head == b.ring.head);
		wsring_cursor_init(&ca, &a, 0, NULL, 0, NULL, 0);
		wsring_cursor_init(&cb, &b, 0, NULL, 0, NULL, 0);
		assert_true(drain(&ca, &a, a_out, sizeof(a_out), 1 << 20) == a.ring.head);
		assert_true(drain(&cb, &b, b_out, sizeof(b_out), 1 << 20) == b.ring.head);
		assert_memory_equal(a_out, b_out, a.ring.head);
		for (uint64_t after = 0; after < a.seq; after += 97) {
			wsring_resume(&a, after, &sa);
			wsring_resume(&b, after, &sb);
			assert_true(sa.pos == sb.pos && sa.gap == sb.gap);
		}
		wsring_free(&a);
		wsring_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_frames_and_resume),
		cmocka_unit_test(control_frames_between_whole_frames),
		cmocka_unit_test(long_note_moves_out_of_line),
		cmocka_unit_test(drop_and_skip),
		cmocka_unit_test(skip_keeps_the_frame_rest_in_the_stash),
		cmocka_unit_test(backlog_within_bytes),
		cmocka_unit_test(lines_frame_like_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

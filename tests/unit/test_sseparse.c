/* test_sseparse.c: the upstream event stream reader: fields, data lines
 * joined with '\r', ids (kept, last id, NUL), event names, retry, comments,
 * every line end, a BOM, events at every split point, over-long lines
 * dropped with bounded memory; gap notices and EPOCH-SEQ ids. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "sseparse.h"

/* What came out, as text: "{type|id|data}" per event, with '\r' shown as
 * "\r" escaped and no id as "-"; "{DROPPED}" per dropped event. */
struct out {
	char text[2048];
	size_t len;
};

/* Appends printf output to the record. */
static void out_add(struct out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	o->len += (size_t)vsnprintf(o->text + o->len, sizeof(o->text) - o->len, fmt, ap);
	va_end(ap);
	assert_true(o->len < sizeof(o->text));
}

/* Records one event. */
static void out_event(struct out *o, const struct sse_event *ev)
{
	out_add(o, "{%.*s|", (int)ev->type_len, ev->type);
	if (ev->has_id)
		out_add(o, "%.*s|", (int)ev->id_len, ev->id);
	else
		out_add(o, "-|");
	for (size_t i = 0; i < ev->len; i++)
		out_add(o, ev->data[i] == '\r' ? "\\r" : "%c", ev->data[i]);
	out_add(o, "}");
}

/* Feeds n bytes in steps of `step` into p; records what comes out. */
static void feed_n(struct sseparse *p, const char *s, size_t n, size_t step, struct out *o)
{
	for (size_t off = 0; off < n;) {
		size_t chunk = n - off < step ? n - off : step, used = 0;

		while (chunk > 0) {
			struct sse_event ev;
			enum sseparse_status st = sseparse_feed(p, s + off, chunk, &used, &ev);

			assert_true(used <= chunk);
			if (st == SSEPARSE_EVENT)
				out_event(o, &ev);
			else if (st == SSEPARSE_DROPPED)
				out_add(o, "{DROPPED}");
			else
				assert_int_equal(used, chunk);
			off += used;
			chunk -= used;
		}
	}
}

/* Parses s with a data buffer of cap bytes at every step size; every run
 * must give `want`. */
static void expect(const char *s, size_t cap, const char *want)
{
	char buf[256];

	assert_true(cap <= sizeof(buf));
	for (size_t step = 1; step <= strlen(s) + 1; step++) {
		struct sseparse p;
		struct out o = { .len = 0 };

		o.text[0] = '\0';
		sseparse_init(&p, buf, cap);
		feed_n(&p, s, strlen(s), step, &o);
		if (strcmp(o.text, want) != 0)
			fail_msg("step %zu: got %s, want %s", step, o.text, want);
	}
}

static void basic_events(void **state __unused)
{
	expect("id: 1\ndata: hello\n\n", 64, "{|1|hello}");
	expect("data:hello\n\ndata: world\n\n", 64, "{|-|hello}{|-|world}");
	/* only one blank after the colon is dropped */
	expect("data:  two\n\n", 64, "{|-| two}");
	/* several data lines are joined with '\r' */
	expect("data: a\ndata: b\ndata:\ndata: c\n\n", 64, "{|-|a\\rb\\r\\rc}");
	/* "data" alone is an empty data line */
	expect("data\n\n", 64, "{|-|}");
	expect("data\ndata\n\n", 64, "{|-|\\r}");
	/* no data line: nothing handed out */
	expect("id: 5\n\nevent: x\n\n", 64, "");
	/* unknown fields and comments are ignored */
	expect(": keepalive\nfoo: bar\ndata: x\nDATA: y\n\n", 64, "{|-|x}");
	/* an unfinished event at the end is not handed out */
	expect("data: a\n\ndata: b\n", 64, "{|-|a}");
}

static void line_ends(void **state __unused)
{
	expect("data: a\r\ndata: b\r\n\r\n", 64, "{|-|a\\rb}");
	expect("data: a\rdata: b\r\r", 64, "{|-|a\\rb}");
	expect("data: a\r\n\rdata: b\n\r\n", 64, "{|-|a}{|-|b}");
	/* "\r\r" is two line ends, "\r\n" one */
	expect("data: a\r\rdata: b\r\n\r\n", 64, "{|-|a}{|-|b}");
	expect("data: a\n\r\n", 64, "{|-|a}");
	expect("\n\n\r\r\n", 64, "");
}

static void ids_and_types(void **state __unused)
{
	struct sseparse p;
	char buf[64];
	struct out o = { .len = 0 };
	static const char text[] =
		"id: E-1\nevent: gap\ndata: {\"missed\":3}\n\n"
		"data: no id\n\n"
		"id\ndata: empty id\n\n"
		"id: a\0b\ndata: nul\n\n"
		"id: 7\nid: 8\nretry: 2500\ndata: two ids\n\n"
		"retry: 12x\nid: 9\n\n";

	o.text[0] = '\0';
	sseparse_init(&p, buf, sizeof(buf));
	feed_n(&p, text, sizeof(text) - 1, 3, &o);
	assert_string_equal(o.text, "{gap|E-1|{\"missed\":3}}{|-|no id}{||empty id}"
			    "{|-|nul}{|8|two ids}");
	/* the last id seen survives events without one, and an id-only event */
	assert_int_equal(p.last_id_len, 1);
	assert_memory_equal(p.last_id, "9", 1);
	assert_int_equal(p.retry_ms, 2500);
	assert_int_equal(p.comments, 0);
}

static void bom_at_start_only(void **state __unused)
{
	expect("\xef\xbb\xbf" "data: x\n\n", 64, "{|-|x}");
	/* a second BOM is data, not skipped */
	expect("\xef\xbb\xbf\xef\xbb\xbf" "data: x\n\n", 64, "");
	expect("\xef\xbb\xbf" "data: \xef\xbb\xbf\n\n", 64, "{|-|\xef\xbb\xbf}");
	/* bytes that only start like a BOM are kept */
	expect("\xef\xbb" "data: x\n\ndata: y\n\n", 64, "{|-|y}");
	expect("\xef" ":c\ndata: y\n\n", 64, "{|-|y}");
}

static void restart_clears_event(void **state __unused)
{
	struct sseparse p;
	char buf[64];
	struct out o = { .len = 0 };

	o.text[0] = '\0';
	sseparse_init(&p, buf, sizeof(buf));
	feed_n(&p, "id: 4\ndata: half", 16, 16, &o);
	sseparse_restart(&p);
	feed_n(&p, "\xef\xbb\xbf" "data: new\n\n", 14, 14, &o);
	assert_string_equal(o.text, "{|-|new}");
	assert_memory_equal(p.last_id, "4", 1);
}

/* An event whose data does not fit is dropped whole; the next one comes. */
static void long_events_dropped(void **state __unused)
{
	expect("data: 0123456789\n\ndata: ok\n\n", 10, "{|-|0123456789}{|-|ok}");
	expect("data: 0123456789A\n\ndata: ok\n\n", 10, "{DROPPED}{|-|ok}");
	/* the '\r' between data lines counts */
	expect("data: 01234\ndata: 6789\n\n", 10, "{|-|01234\\r6789}");
	expect("data: 01234\ndata: 67890\n\n", 10, "{DROPPED}");
	expect("data: 0123456789\ndata:\n\nid: 3\ndata: x\n\n", 10, "{DROPPED}{|3|x}");
	/* long comments and unknown fields are fine */
	expect(": 0123456789012345678901234567890\nxyzzyxyzzy: 0123456789012345678901\n"
	       "data: ok\n\n", 10, "{|-|ok}");
}

static void long_id_and_type_dropped(void **state __unused)
{
	char text[512];

	snprintf(text, sizeof(text), "id: %0*d\ndata: x\n\ndata: y\n\n", SSEPARSE_ID_MAX + 1, 0);
	expect(text, 64, "{DROPPED}{|-|y}");
	snprintf(text, sizeof(text), "id: %0*d\ndata: x\n\n", SSEPARSE_ID_MAX, 0);
	{
		char want[512];

		snprintf(want, sizeof(want), "{|%0*d|x}", SSEPARSE_ID_MAX, 0);
		expect(text, 64, want);
	}
	snprintf(text, sizeof(text), "event: %0*d\ndata: x\n\n", SSEPARSE_TYPE_MAX + 1, 0);
	expect(text, 64, "{DROPPED}");
}

/* A 10 MiB data line goes through a 64-byte buffer: dropped, counted, and
 * the stream goes on. */
static void ten_mib_line(void **state __unused)
{
	static char chunk[65536];
	struct sseparse p;
	char buf[64];
	struct out o = { .len = 0 };

	o.text[0] = '\0';
	memset(chunk, 'x', sizeof(chunk));
	sseparse_init(&p, buf, sizeof(buf));
	feed_n(&p, "id: 1\ndata: ", 12, 12, &o);
	for (int i = 0; i < 160; i++)
		feed_n(&p, chunk, sizeof(chunk), sizeof(chunk), &o);
	feed_n(&p, "\n\nid: 2\ndata: after\n\n", 21, 21, &o);
	assert_string_equal(o.text, "{DROPPED}{|2|after}");
	assert_int_equal(p.dropped, 1);
}

static void comments_counted(void **state __unused)
{
	struct sseparse p;
	char buf[8];
	struct out o = { .len = 0 };

	sseparse_init(&p, buf, sizeof(buf));
	feed_n(&p, ":\n: keepalive\n:x\r\n", 18, 1, &o);
	assert_int_equal(p.comments, 3);
	assert_int_equal(o.len, 0);
}

static void gap_notices(void **state __unused)
{
	int64_t m;

	assert_int_equal(sseparse_gap("{\"missed\":12}", 13, &m), 0);
	assert_int_equal(m, 12);
	assert_int_equal(sseparse_gap("{\"missed\":null}", 15, &m), 0);
	assert_int_equal(m, -1);
	assert_int_equal(sseparse_gap(" { \"missed\" : 0 } ", 18, &m), 0);
	assert_int_equal(m, 0);
	assert_int_equal(sseparse_gap("{\"missed\":9223372036854775807}", 30, &m), 0);
	assert_true(m == INT64_MAX);
	assert_int_equal(sseparse_gap("{\"missed\":9223372036854775808}", 30, &m), -1);
	assert_int_equal(sseparse_gap("{\"missed\":-1}", 13, &m), -1);
	assert_int_equal(sseparse_gap("{\"missed\":}", 11, &m), -1);
	assert_int_equal(sseparse_gap("{\"missed\":1", 11, &m), -1);
	assert_int_equal(sseparse_gap("{\"missed\":1}x", 13, &m), -1);
	assert_int_equal(sseparse_gap("{\"gone\":1}", 10, &m), -1);
	assert_int_equal(sseparse_gap("", 0, &m), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(basic_events),
		cmocka_unit_test(line_ends),
		cmocka_unit_test(ids_and_types),
		cmocka_unit_test(bom_at_start_only),
		cmocka_unit_test(restart_clears_event),
		cmocka_unit_test(long_events_dropped),
		cmocka_unit_test(long_id_and_type_dropped),
		cmocka_unit_test(ten_mib_line),
		cmocka_unit_test(comments_counted),
		cmocka_unit_test(gap_notices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

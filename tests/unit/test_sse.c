/* test_sse.c: event ids, the sparse sequence index, and the SSE form of the
 * stream: encoding, resume (the resume table of pipecast.conf(5)), backlog,
 * and readers that are dropped or skip without ever getting a torn event. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eventid.h"
#include "seqidx.h"
#include "sse.h"

#define EPOCH 0x00c0ffee12345678ULL

static void ids_parse_and_format(void **state)
{
	struct eventid id;
	char out[EVENTID_MAX];

	(void)state;
	assert_int_equal(eventid_format(out, EPOCH, 42), 19);
	assert_string_equal(out, "00c0ffee12345678-42");
	assert_int_equal(eventid_parse(out, strlen(out), &id), 0);
	assert_true(id.epoch == EPOCH && id.seq == 42);
	assert_int_equal(eventid_parse("ffffffffffffffff-18446744073709551615", 37, &id), 0);
	assert_true(id.seq == UINT64_MAX);
	assert_int_equal(eventid_parse("ffffffffffffffff-18446744073709551616", 37, &id), -1);
	assert_int_equal(eventid_parse("00C0FFEE12345678-1", 18, &id), -1);
	assert_int_equal(eventid_parse("00c0ffee1234567-12", 18, &id), -1);
	assert_int_equal(eventid_parse("00c0ffee12345678-", 17, &id), -1);
	assert_int_equal(eventid_parse("00c0ffee12345678-+1", 19, &id), -1);
	assert_int_equal(eventid_parse("00c0ffee12345678-1 ", 19, &id), -1);
	assert_int_equal(eventid_parse("00c0ffee12345678:1", 18, &id), -1);
	assert_int_equal(eventid_parse("00c0ffee12345678-4x", 19, &id), -1);
	assert_int_equal(eventid_parse("00c0ffeg12345678-1", 18, &id), -1);
	assert_int_equal(eventid_parse("1796032081:0", 12, &id), -1);   /* an older form */
	assert_int_equal(eventid_parse("00c0ffee12345678-000000000000000000001", 38, &id), -1);
	assert_int_equal(eventid_parse("00c0ffee12345678-00000000000000000001", 37, &id), 0);
	assert_true(id.epoch == EPOCH && id.seq == 1);
	eventid_epoch(out, EPOCH);
	assert_string_equal(out, "00c0ffee12345678");
}

static void index_floor_and_oldest(void **state)
{
	struct seqidx x;

	(void)state;
	assert_int_equal(seqidx_init(&x, 4), 0);
	assert_null(seqidx_floor(&x, SEQIDX_SEQ, 10, 0));
	for (uint64_t i = 0; i < 6; i++)
		seqidx_add(&x, 1 + 10 * i, 100 * i, 1000 * i);
	/* kept: seq 21, 31, 41, 51 at offsets 200..500 */
	assert_true(seqidx_floor(&x, SEQIDX_SEQ, 35, 0)->seq == 31);
	assert_true(seqidx_floor(&x, SEQIDX_SEQ, 51, 0)->seq == 51);
	assert_true(seqidx_floor(&x, SEQIDX_SEQ, 1000, 0)->seq == 51);
	assert_null(seqidx_floor(&x, SEQIDX_SEQ, 11, 0));
	assert_true(seqidx_floor(&x, SEQIDX_OFF, 399, 0)->seq == 31);
	assert_true(seqidx_floor(&x, SEQIDX_SRC, 4000, 0)->seq == 41);
	/* entries whose offset left the ring do not count */
	assert_null(seqidx_floor(&x, SEQIDX_SEQ, 35, 301));
	assert_true(seqidx_floor(&x, SEQIDX_SEQ, 45, 301)->seq == 41);
	assert_true(seqidx_oldest(&x, 0)->seq == 21);
	assert_true(seqidx_oldest(&x, 301)->seq == 41);
	assert_null(seqidx_oldest(&x, 501));
	seqidx_free(&x);
}

/* Appends n records "rec-SEQ\n" (with a '\r' in every seventh). */
static void feed(struct sse *s, uint64_t n)
{
	char line[64];

	for (uint64_t i = 0; i < n; i++) {
		uint64_t seq = s->seq + 1;
		int len = seq % 7 == 0 ? snprintf(line, sizeof(line), "rec\r%llu\n", (unsigned long long)seq)
				       : snprintf(line, sizeof(line), "rec-%llu\n", (unsigned long long)seq);
		uint64_t before = s->ring.head, want = sse_records_len(s, line, (size_t)len);

		sse_records(s, line, (size_t)len);
		assert_true(s->ring.head - before == want);
	}
}

/* Everything from pos to the head, as text. */
static char *dump(const struct sse *s, uint64_t pos)
{
	char *out = malloc(s->ring.head - pos + 1);

	ring_copy(&s->ring, pos, s->ring.head, out);
	out[s->ring.head - pos] = '\0';
	return out;
}

/* The id of the first event in text. */
static unsigned long long first_id(const char *text)
{
	const char *p = strstr(text, "id: ");

	return p ? strtoull(p + 4 + 17, NULL, 10) : 0;
}

static void encoding(void **state)
{
	struct sse s;
	char *t;

	(void)state;
	assert_int_equal(sse_init(&s, 65536, 64, EPOCH), 0);
	sse_records(&s, "hello\na\rb\r\n\n", 12);
	sse_comment(&s, "hb", 2);
	sse_comment(&s, "", 0);
	t = dump(&s, 0);
	assert_string_equal(t, "id: 00c0ffee12345678-1\ndata: hello\n\n"
			       "id: 00c0ffee12345678-2\ndata: a\ndata: b\ndata: \n\n"
			       "id: 00c0ffee12345678-3\ndata: \n\n"
			       ": hb\n: \n");
	assert_int_equal(sse_comment_len("a\rb", 3), 8);
	assert_true(s.seq == 3 && s.src == 12);
	free(t);
	sse_free(&s);
}

/* A chunk of `count` records numbered from first: varied lengths (a
 * '\r' in every eleventh when with_cr), empty ones only when dense (every
 * byte a newline), then a piece of a line. */
static size_t chunk_of(char *out, uint64_t first, uint64_t count, bool with_cr, bool dense,
		       size_t pad)
{
	size_t n = 0;

	if (dense) {
		memset(out, '\n', count);
		n = count;
	}
	for (uint64_t i = first; !dense && i < first + count; i++) {
		n += (size_t)sprintf(out + n, with_cr && i % 11 == 0 ? "x\ry%llu" : "r%llu",
				     (unsigned long long)i);
		memset(out + n, 'a', (size_t)(i % 23) + pad);
		n += (size_t)(i % 23) + pad;
		out[n++] = '\n';
	}
	memcpy(out + n, "no newline", 10);
	return n + 10;
}

/* A chunk's length, counted without a call per record, is what encoding
 * it writes, and encoding it whole writes what encoding it record by
 * record does: across 9 -> 10, 99 -> 100 and 999 -> 1000, with and
 * without '\r', over more than 255 words of 8, with every byte a
 * newline, and with lines long enough to be counted one by one. */
static void chunk_length_and_bytes(void **state)
{
	static char chunk[96 * 3000];
	struct sse a, b;
	bool with_cr[] = { true, false, false, true };
	size_t pad[] = { 0, 0, 0, 40 };

	(void)state;
	for (size_t k = 0; k < 4; k++) {
		assert_int_equal(sse_init(&a, 1 << 20, 64, EPOCH), 0);
		assert_int_equal(sse_init(&b, 1 << 20, 64, EPOCH), 0);
		feed(&a, 4);
		feed(&b, 4);
		size_t n = chunk_of(chunk, 5, 3000, with_cr[k], k == 2, pad[k]);
		uint64_t want = sse_records_len(&a, chunk, n), from = a.ring.head;

		sse_records(&a, chunk, n);
		assert_true(a.ring.head - from == want);
		for (const char *p = chunk, *nl; (nl = memchr(p, '\n', (size_t)(chunk + n - p))); p = nl + 1)
			sse_records(&b, p, (size_t)(nl + 1 - p));
		assert_true(a.seq == 3004 && b.seq == 3004 && a.ring.head == b.ring.head);
		char *ta = dump(&a, from), *tb = dump(&b, from);
		assert_string_equal(ta, tb);
		assert_non_null(strstr(ta, k == 2 ? "id: 00c0ffee12345678-1000\ndata: \n\n"
						  : "id: 00c0ffee12345678-1000\ndata: r1000"));
		assert_int_equal(sse_records_len(&a, "", 0), 0);
		assert_int_equal(sse_records_len(&a, "no newline", 10), 0);
		free(ta);
		free(tb);
		sse_free(&a);
		sse_free(&b);
	}
}

static void resume_table(void **state)
{
	struct sse s;
	struct sse_start st;
	uint64_t off, first;
	char *t;

	(void)state;
	/* small enough to wrap: ~30 bytes per event, 4 KiB held */
	assert_int_equal(sse_init(&s, 4096, 16, EPOCH), 0);
	feed(&s, 50);
	/* nothing lost yet: resume after 10 gives 11..50 */
	sse_resume(&s, 10, &st);
	assert_false(st.gap);
	t = dump(&s, st.pos);
	assert_int_equal(first_id(t), 11);
	free(t);
	/* newer than the newest: live only */
	sse_resume(&s, 50, &st);
	assert_true(st.pos == s.ring.head && !st.gap);
	sse_resume(&s, 99, &st);
	assert_true(st.pos == s.ring.head && !st.gap);
	feed(&s, 2000);
	first = sse_first_seq(&s, &off);
	assert_true(first > 1000 && first < 2050);
	t = dump(&s, off);
	assert_int_equal(first_id(t), first);
	free(t);
	/* past the ring: a gap with the count, then the oldest held */
	sse_resume(&s, 5, &st);
	assert_true(st.gap && st.known && st.missed == first - 6 && st.pos == off);
	/* inside the ring, far from any index entry's start */
	for (uint64_t after = first; after < 2050; after += 37) {
		sse_resume(&s, after, &st);
		t = dump(&s, st.pos);
		assert_false(st.gap);
		assert_int_equal(first_id(t), after + 1);
		free(t);
	}
	sse_resume(&s, first - 1, &st);
	assert_true(!st.gap && st.pos == off);
	sse_resume_foreign(&s, &st);
	assert_true(st.gap && !st.known && st.pos == off);
	assert_true(sse_seq_before(&s, s.ring.head) == 2050);
	assert_true(sse_seq_before(&s, off) == first - 1);
	assert_true(sse_seq_before(&s, off + 1) == first);
	sse_free(&s);
}

/* A relay numbers records from outside: ids that jump make gap counts
 * null, a new epoch starts a new run that resumes search alone, and an
 * upstream's gap notice sits between events without being one. */
static void ids_from_outside(void **state)
{
	struct sse s;
	struct sse_start st;
	uint64_t off, mark;
	char *t;

	(void)state;
	assert_int_equal(sse_init(&s, 65536, 64, EPOCH), 0);
	for (uint64_t i = 1; i <= 200; i++) {
		sse_number_next(&s, EPOCH, 10 * i);
		sse_records(&s, "r\n", 2);
	}
	assert_true(s.seq == 2000 && s.sparse);
	sse_resume(&s, 1234, &st);
	t = dump(&s, st.pos);
	assert_false(st.gap);
	assert_int_equal(first_id(t), 1240);
	free(t);
	assert_true(sse_first_seq(&s, &off) == 10 && off == 0);
	sse_resume(&s, 3, &st);
	assert_true(st.gap && !st.known && st.pos == 0);
	mark = s.ring.head;
	assert_int_equal(sse_gap_len(false, 0), strlen("event: gap\ndata: {\"missed\":null}\n\n"));
	sse_gap(&s, false, 0);
	sse_number_next(&s, EPOCH + 1, 5);
	sse_records(&s, "n\nm\n", 4);
	t = dump(&s, mark);
	assert_string_equal(t, "event: gap\ndata: {\"missed\":null}\n\n"
			       "id: 00c0ffee12345679-5\ndata: n\n\nid: 00c0ffee12345679-6\ndata: m\n\n");
	free(t);
	/* the new epoch's records alone answer its resumes */
	assert_true(sse_first_seq(&s, &off) == 5 && off > mark);
	sse_resume(&s, 5, &st);
	t = dump(&s, st.pos);
	assert_int_equal(first_id(t), 6);
	free(t);
	sse_resume(&s, 1, &st);
	assert_true(st.gap && !st.known && st.pos == off);
	sse_free(&s);
}

static void backlog_in_source_bytes(void **state)
{
	struct sse s;
	char *t;

	(void)state;
	assert_int_equal(sse_init(&s, 4096, 16, EPOCH), 0);
	feed(&s, 500);   /* records "rec-NNN\n": 8 bytes each from 100 to 999 */
	assert_true(sse_backlog(&s, 0) == s.ring.head);
	t = dump(&s, sse_backlog(&s, 80));
	assert_int_equal(first_id(t), 491);
	free(t);
	t = dump(&s, sse_backlog(&s, 83));
	assert_int_equal(first_id(t), 491);
	free(t);
	t = dump(&s, sse_backlog(&s, 79));
	assert_int_equal(first_id(t), 492);
	free(t);
	sse_free(&s);
}

/* Sends everything the reader has (at most limit bytes) into out. */
static size_t drain(struct sse_cursor *c, const struct sse *s, char *out, size_t limit)
{
	struct iovec iov[5];
	int n = sse_cursor_iov(c, s, iov);
	size_t len = 0;

	for (int i = 0; i < n && len < limit; i++) {
		size_t take = iov[i].iov_len < limit - len ? iov[i].iov_len : limit - len;

		memcpy(out + len, iov[i].iov_base, take);
		len += take;
	}
	sse_cursor_advance(c, len);
	out[len] = '\0';
	return len;
}

/* Checks that text is whole events and notices only; returns the number of
 * gap notices and sets the ids seen, in order. */
static int check_whole(const char *text, uint64_t *ids, size_t *nids)
{
	int gaps = 0;

	*nids = 0;
	while (*text) {
		const char *end = strstr(text, "\n\n");

		if (*text == ':') {     /* a comment line (keepalive) */
			text = strchr(text, '\n') + 1;
			continue;
		}

		assert_non_null(end);
		if (strncmp(text, "event: gap\n", 11) == 0)
			gaps++;
		else {
			assert_memory_equal(text, "id: ", 4);
			ids[(*nids)++] = strtoull(text + 4 + 17, NULL, 10);
		}
		text = end + 2;
	}
	return gaps;
}

/* What a reader was sent, and the ids in it. */
static char out[1 << 16];
static uint64_t ids[4096];

static void reader_drop_and_skip(void **state)
{
	struct sse s;
	struct sse_cursor c;
	uint64_t missed;
	size_t nids;

	(void)state;
	assert_int_equal(sse_init(&s, 1024, 16, EPOCH), 0);
	sse_cursor_init(&c, 0, "HEAD\n", 5, NULL, 0);
	feed(&s, 10);
	assert_int_equal(sse_cursor_make_room(&c, &s, 64, false, &missed), SSE_KEEP);
	drain(&c, &s, out, 7);   /* the note and a bit of the first event */
	assert_string_equal(out, "HEAD\nid");
	feed(&s, 18);
	assert_int_equal(sse_cursor_make_room(&c, &s, 400, false, &missed), SSE_DROP);
	/* skip in the middle of event 1: it is finished, then a gap notice */
	assert_int_equal(sse_cursor_make_room(&c, &s, 60, true, &missed), SSE_SKIPPED);
	assert_true(missed > 0);
	feed(&s, 1);
	drain(&c, &s, out + 2, sizeof(out) - 2);
	memcpy(out, "id", 2);
	assert_int_equal(check_whole(out, ids, &nids), 1);
	assert_true(strstr(out, "{\"missed\":27}") != NULL);
	assert_int_equal(nids, 2);
	assert_true(ids[0] == 1 && ids[1] == 29);
	assert_true(sse_cursor_idle(&c, &s));
	/* skip at an event boundary: straight to the head */
	feed(&s, 26);
	assert_int_equal(sse_cursor_make_room(&c, &s, 40, true, &missed), SSE_SKIPPED);
	feed(&s, 1);
	drain(&c, &s, out, sizeof(out));
	assert_int_equal(check_whole(out, ids, &nids), 1);
	assert_true(strstr(out, "{\"missed\":26}") != NULL);
	assert_true(nids == 1 && ids[0] == 56);
	/* a reader that cannot take the rest of its event in time is dropped */
	feed(&s, 20);
	drain(&c, &s, out, 10);
	assert_int_equal(sse_cursor_make_room(&c, &s, 500, true, &missed), SSE_DROP);
	sse_free(&s);
}

/* Appends n records one by one to a reader that does not read, applying
 * the skip policy before each; returns how many times it skipped. */
static int stall(struct sse *s, struct sse_cursor *c, int n)
{
	uint64_t missed;
	int skips = 0;

	for (int i = 0; i < n; i++) {
		enum sse_verdict v = sse_cursor_make_room(c, s, 40, true, &missed);

		assert_int_not_equal(v, SSE_DROP);
		skips += v == SSE_SKIPPED;
		feed(s, 1);
	}
	return skips;
}

static void reader_skips_twice_in_one_cut(void **state)
{
	struct sse s;
	struct sse_cursor c;
	size_t nids;
	char *gap;

	(void)state;
	/* long lines allowed: room to finish an event long after the skip */
	assert_int_equal(sse_init(&s, 1024, 256, EPOCH), 0);
	sse_cursor_init(&c, 0, NULL, 0, NULL, 0);
	feed(&s, 30);
	drain(&c, &s, out, 10);
	assert_int_equal(stall(&s, &c, 40), 2);
	drain(&c, &s, out + 10, sizeof(out) - 10);
	memcpy(out, "id: 00c0ff", 10);
	assert_int_equal(check_whole(out, ids, &nids), 1);
	gap = strstr(out, "{\"missed\":");
	assert_non_null(gap);
	assert_true(ids[0] == 1 && nids > 2);
	assert_int_equal(strtoull(gap + 10, NULL, 10), ids[1] - 2);
	for (size_t i = 2; i < nids; i++)
		assert_true(ids[i] == ids[i - 1] + 1);
	assert_true(ids[nids - 1] == 70);
	sse_free(&s);
}

/* A stalled reader with a stash (given, or NULL: allocated at its first
 * skip): skipped at every overrun, never dropped, and what it finally
 * reads is whole events and one gap notice whose count matches the ids
 * around it. */
static void stalled_reader(char *given)
{
	struct sse s;
	struct sse_cursor c;
	uint64_t missed;
	size_t nids;
	char *gap;

	assert_int_equal(sse_init(&s, 1024, 16, EPOCH), 0);
	sse_cursor_init(&c, 0, NULL, 0, given, 256);
	feed(&s, 5);
	drain(&c, &s, out, 50);            /* stalls in the middle of event 2 */
	assert_true(stall(&s, &c, 400) > 5);
	drain(&c, &s, out + 50, sizeof(out) - 50);
	assert_int_equal(check_whole(out, ids, &nids), 1);
	gap = strstr(out, "{\"missed\":");
	assert_non_null(gap);
	assert_true(ids[0] == 1 && ids[1] == 2 && nids > 3);
	assert_int_equal(strtoull(gap + 10, NULL, 10), ids[2] - 3);
	for (size_t i = 3; i < nids; i++)
		assert_true(ids[i] == ids[i - 1] + 1);
	assert_true(ids[nids - 1] == 405);
	/* a keepalive waiting to be sent becomes the gap notice */
	sse_cursor_set_note(&c, ":\n", 2);
	feed(&s, 25);
	assert_int_equal(sse_cursor_make_room(&c, &s, 40, true, &missed), SSE_SKIPPED);
	feed(&s, 1);
	drain(&c, &s, out, sizeof(out));
	assert_int_equal(check_whole(out, ids, &nids), 1);
	assert_non_null(strstr(out, "{\"missed\":25}"));
	assert_true(nids == 1 && ids[0] == 431);
	assert_true(given ? c.stash == given : c.stash != NULL);
	sse_cursor_free(&c);
	sse_free(&s);
}

static void stalled_reader_with_a_stash(void **state)
{
	static char stash[256];

	(void)state;
	stalled_reader(stash);
}

static void stalled_reader_with_a_stash_at_need(void **state)
{
	(void)state;
	stalled_reader(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ids_parse_and_format),
		cmocka_unit_test(index_floor_and_oldest),
		cmocka_unit_test(encoding),
		cmocka_unit_test(chunk_length_and_bytes),
		cmocka_unit_test(resume_table),
		cmocka_unit_test(ids_from_outside),
		cmocka_unit_test(backlog_in_source_bytes),
		cmocka_unit_test(reader_drop_and_skip),
		cmocka_unit_test(reader_skips_twice_in_one_cut),
		cmocka_unit_test(stalled_reader_with_a_stash),
		cmocka_unit_test(stalled_reader_with_a_stash_at_need),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

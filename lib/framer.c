/* framer.c: line and raw framing of the producer's stream, in place in the
 * ring. Each byte read is scanned once (64 bytes per step, with AVX2 where
 * the CPU has it, else SSE2; memchr elsewhere) and, unless a line must be
 * cut, never copied: the bytes clients writev from are the bytes read. */
#include "framer.h"
#include "alloc.h"

#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define FRAMER_AVX2 1
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The scan's verdict on the bytes read. */
enum framer_scan { SCAN_DONE, SCAN_CUT };

/* The longest held line, one read, one '\n' per cut of the two (a cut
 * comes at most every max_line - 1 bytes), and the '\n' of a finish. */
size_t framer_reserve(bool raw, size_t max_line, size_t room)
{
	size_t in = max_line - 1 + room;

	return raw ? room : in + in / (max_line - 1) + 2;
}

/* Whether this CPU scans with AVX2. */
static bool framer_wide_cpu(void)
{
#ifdef FRAMER_AVX2
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
#else
	return false;
#endif
}

/* Binds the framer to its ring; line framing gets its cutting buffer now,
 * touched once, so that the first long line does not grow RSS. */
int framer_init(struct framer *f, struct ring *r, bool raw, size_t max_line, size_t room,
		framer_emit_fn emit, void *ctx)
{
	memset(f, 0, sizeof(*f));
	f->ring = r;
	f->raw = raw;
	f->max_line = max_line;
	f->room = room;
	f->emit = emit;
	f->ctx = ctx;
	f->wide = framer_wide_cpu();
	if (raw)
		return 0;
	f->scratch = pc_malloc(max_line - 1 + room);
	if (!f->scratch)
		return -1;
	memset(f->scratch, 0, max_line - 1 + room);
	return 0;
}

/* Releases the cutting buffer. */
void framer_free(struct framer *f)
{
	pc_free(f->scratch);
	f->scratch = NULL;
}

/* Room after the held bytes, in the ring's reserve. */
char *framer_space(struct framer *f, size_t *room)
{
	*room = f->room;
	return ring_at(f->ring, f->ring->head) + f->ring->held;
}

/* Bytes of the unfinished line. */
size_t framer_held(const struct framer *f)
{
	return f->ring->held;
}

/* n bytes at the head, `records` whole records, join the stream; `held`
 * bytes of an unfinished line stay behind them. */
static void framer_append(struct framer *f, size_t n, uint64_t records, size_t held)
{
	uint64_t pos = f->ring->head;

	ring_commit(f->ring, n, held);
	if (n == 0)
		return;
	f->seq += records;
	f->emit(f->ctx, pos, n, records);
}

/* The slow path, from the first line that must be cut to the end of what
 * was read: that part is copied out and back with a '\n' inserted before
 * the max_line-th byte of every over-long segment (pipecast.conf(5)). The
 * ring's reserve has room for the inserted bytes. */
static void framer_cut_rest(struct framer *f, char *line, const char *end, uint64_t records)
{
	char *base = ring_at(f->ring, f->ring->head);
	size_t max = f->max_line, rest = (size_t)(end - line);
	const char *s = f->scratch, *se = f->scratch + rest;
	char *w = line;

	memcpy(f->scratch, line, rest);
	while (s < se) {
		size_t look = (size_t)(se - s) < max ? (size_t)(se - s) : max;
		const char *nl = memchr(s, '\n', look);
		size_t len = nl ? (size_t)(nl + 1 - s) : max - 1;

		if (!nl && look < max)
			break;                   /* a short unfinished line: held */
		records++;
		memcpy(w, s, len);
		w += len;
		s += len;
		if (nl) {
			f->in_long = false;
			continue;
		}
		*w++ = '\n';
		if (!f->in_long)
			f->long_lines++;
		f->in_long = true;
	}
	memmove(w, s, (size_t)(se - s));
	framer_append(f, (size_t)(w - base), records, (size_t)(se - s));
}

/* One scan's state, in locals rather than in the framer so that the
 * compiler keeps it in registers. */
struct framer_pass {
	char *line;              /* where the current line starts */
	uint64_t records;        /* records ended in this pass */
	size_t max_line;
};

/* A newline at nl ends the current line: a record, unless the line is too
 * long (then the caller cuts from its start on). */
static inline enum framer_scan framer_newline(struct framer_pass *ps, char *nl)
{
	if ((size_t)(nl - ps->line) >= ps->max_line)
		return SCAN_CUT;
	ps->records++;
	ps->line = nl + 1;
	return SCAN_DONE;
}

/* The rest, under 64 bytes, or everything where there is no SIMD. */
static enum framer_scan framer_scan_tail(struct framer_pass *ps, char *p, const char *end)
{
	char *nl;

	for (; (nl = memchr(p, '\n', (size_t)(end - p))) != NULL; p = nl + 1)
		if (framer_newline(ps, nl) == SCAN_CUT)
			return SCAN_CUT;
	return SCAN_DONE;
}

#if defined(FRAMER_AVX2) || defined(__SSE2__)
/* The newlines of a 64-byte block (one bit each in mask) end records, one
 * by one: no call per record, which counts with short records. The scans
 * pass a copy of their state that the compiler keeps in registers. */
static inline __attribute__((always_inline)) enum framer_scan
framer_bits(struct framer_pass *reg, char *p, uint64_t mask)
{
	for (; mask; mask &= mask - 1)
		if (framer_newline(reg, p + __builtin_ctzll(mask)) == SCAN_CUT)
			return SCAN_CUT;
	return SCAN_DONE;
}

/* Where each of 16 bytes is a newline, one bit each (SSE2). */
static inline uint64_t framer_block16(const char *p)
{
	return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)p),
							  _mm_set1_epi8('\n')));
}

/* The same for 64 bytes, written out: compilers at -O2 keep a loop. */
static inline uint64_t framer_block(const char *p)
{
	return framer_block16(p) | framer_block16(p + 16) << 16 |
	       framer_block16(p + 32) << 32 | framer_block16(p + 48) << 48;
}

/* Finds every newline in [p, end), 64 bytes at a time (four compares per
 * block), memchr for the rest. */
static enum framer_scan framer_scan_sse2(struct framer_pass *ps, char *p, const char *end)
{
	struct framer_pass reg = *ps;
	enum framer_scan scan = SCAN_DONE;

	for (; scan == SCAN_DONE && end - p >= 64; p += 64)
		scan = framer_bits(&reg, p, framer_block(p));
	*ps = reg;
	return scan == SCAN_CUT ? SCAN_CUT : framer_scan_tail(ps, p, end);
}
#endif

#ifdef FRAMER_AVX2
/* The newlines of 64 bytes in two AVX2 compares. */
__attribute__((target("avx2"))) static inline uint64_t framer_block_avx2(const char *p)
{
	__m256i nl = _mm256_set1_epi8('\n');
	uint32_t lo = (uint32_t)_mm256_movemask_epi8(
		_mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)p), nl));
	uint32_t hi = (uint32_t)_mm256_movemask_epi8(
		_mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + 32)), nl));

	return (uint64_t)hi << 32 | lo;
}

/* framer_scan_sse2 with AVX2 compares: about 40 % less time and 26
 * instructions instead of 39 per 64-byte record. */
__attribute__((target("avx2"))) static enum framer_scan
framer_scan_avx2(struct framer_pass *ps, char *p, const char *end)
{
	struct framer_pass reg = *ps;
	enum framer_scan scan = SCAN_DONE;

	for (; scan == SCAN_DONE && end - p >= 64; p += 64)
		scan = framer_bits(&reg, p, framer_block_avx2(p));
	*ps = reg;
	return scan == SCAN_CUT ? SCAN_CUT : framer_scan_tail(ps, p, end);
}
#endif

/* Every newline in [p, end), with the widest scan this CPU has (wide:
 * AVX2). */
static enum framer_scan framer_scan(struct framer_pass *ps, char *p, const char *end, bool wide)
{
#ifdef FRAMER_AVX2
	if (wide)
		return framer_scan_avx2(ps, p, end);
#endif
#if defined(FRAMER_AVX2) || defined(__SSE2__)
	return framer_scan_sse2(ps, p, end);
#else
	return framer_scan_tail(ps, p, end);
#endif
}

/* Frames freshly read bytes in one pass: every newline found ends a record
 * (counted), and the bytes up to the last one join the
 * stream where they lie. In raw framing one read is one record. */
void framer_commit(struct framer *f, size_t n)
{
	struct ring *r = f->ring;
	char *base = ring_at(r, r->head);
	const char *end = base + r->held + n;
	struct framer_pass ps = {
		.line = base, .max_line = f->max_line,
	};
	enum framer_scan scan;

	if (n == 0)
		return;
	if (f->raw) {
		framer_append(f, n, 1, 0);
		return;
	}
	scan = framer_scan(&ps, base + r->held, end, f->wide);
	if (ps.line != base)
		f->in_long = false;      /* the held line (if it was cut) ended */
	if (scan == SCAN_CUT || (size_t)(end - ps.line) >= f->max_line) {
		framer_cut_rest(f, ps.line, end, ps.records);
		return;
	}
	framer_append(f, (size_t)(ps.line - base), ps.records, (size_t)(end - ps.line));
}

/* Completes a last unterminated line with '\n'. */
void framer_finish(struct framer *f)
{
	struct ring *r = f->ring;
	char *base = ring_at(r, r->head);

	if (f->raw || r->held == 0)
		return;
	base[r->held] = '\n';
	f->in_long = false;
	framer_append(f, r->held + 1, 1, 0);
}

/* eventid.c: parsing and formatting of EPOCH-SEQ ids. */
#include "eventid.h"
#include "units.h"

#include <stdbool.h>

/* 16 lowercase hex digits, a '-', then 1 to 20 decimal digits. */
int eventid_parse(const char *s, size_t n, struct eventid *id)
{
	uint64_t epoch = 0, seq = 0;

	if (n < 18 || n > EVENTID_MAX - 1 || s[16] != '-')
		return -1;
	for (size_t i = 0; i < 16; i++) {
		int d = units_hex_digit(s[i]);

		if (d < 0 || (s[i] >= 'A' && s[i] <= 'F'))   /* lowercase only */
			return -1;
		epoch = epoch << 4 | (uint64_t)d;
	}
	for (size_t i = 17; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (d > 9 || seq > (UINT64_MAX - d) / 10)
			return -1;
		seq = seq * 10 + d;
	}
	id->epoch = epoch;
	id->seq = seq;
	return 0;
}

/* 16 lowercase hex digits, no NUL: an epoch is always written whole. */
static void eventid_hex(char *out, uint64_t epoch)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 15; i >= 0; i--) {
		out[i] = hex[epoch & 15];
		epoch >>= 4;
	}
}

/* The decimal digits of v, no NUL; returns how many (1 to 20). */
static size_t eventid_decimal(char *out, uint64_t v)
{
	char rev[20];
	size_t n = 0;

	do {
		rev[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = rev[n - 1 - i];
	return n;
}

/* The id as sent on the wire. */
size_t eventid_format(char *out, uint64_t epoch, uint64_t seq)
{
	size_t n;

	eventid_hex(out, epoch);
	out[16] = '-';
	n = 17 + eventid_decimal(out + 17, seq);
	out[n] = '\0';
	return n;
}

/* The epoch alone, for show info and metrics. */
void eventid_epoch(char *out, uint64_t epoch)
{
	eventid_hex(out, epoch);
	out[16] = '\0';
}

/* Adds one to the decimal SEQ at the end of the text: trailing nines
 * become zeros, and all nines grow by a digit ("99" -> "100"). */
static void eventid_increment(struct eventid_text *t)
{
	size_t i = t->len;

	while (i > 17 && t->text[i - 1] == '9')
		t->text[--i] = '0';
	if (i > 17) {
		t->text[i - 1]++;
		return;
	}
	t->text[17] = '1';
	t->text[t->len++] = '0';
	t->text[t->len] = '\0';
}

/* The cached text when it is the id asked for, one increment when it is
 * the one before (seq 0 after UINT64_MAX is not), else formatted anew. */
const char *eventid_text(struct eventid_text *t, uint64_t epoch, uint64_t seq, size_t *len)
{
	bool same_epoch = t->len != 0 && t->epoch == epoch;

	if (same_epoch && seq == t->seq + 1 && seq != 0)
		eventid_increment(t);
	else if (!same_epoch || seq != t->seq)
		t->len = eventid_format(t->text, epoch, seq);
	t->epoch = epoch;
	t->seq = seq;
	*len = t->len;
	return t->text;
}

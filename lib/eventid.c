/* eventid.c: parsing and formatting of EPOCH-SEQ ids. */
#include "eventid.h"
#include "units.h"

#include <stdio.h>

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

/* The id as sent on the wire. */
size_t eventid_format(char *out, uint64_t epoch, uint64_t seq)
{
	return (size_t)snprintf(out, EVENTID_MAX, "%016llx-%llu", (unsigned long long)epoch,
				(unsigned long long)seq);
}

/* The epoch alone, for show info and metrics. */
void eventid_epoch(char *out, uint64_t epoch)
{
	snprintf(out, 17, "%016llx", (unsigned long long)epoch);
}

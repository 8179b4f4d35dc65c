/* counters.h: the one registry of counters that every part of the daemon
 * updates in place and that the stats socket, STATUS= and pipecastctl read.
 * Names follow pipecastd(8) "SHOW INFO NAMES"; the documentation of each is in
 * pipecastd(8). */
#ifndef PIPECAST_COUNTERS_H
#define PIPECAST_COUNTERS_H

#include <stdint.h>

/* Why a client connection ended (pipecastd(8) "STATS SOCKET"). */
enum close_reason {
	CLOSE_IDLE,
	CLOSE_SEND_TIMEOUT,
	CLOSE_OVERFLOW,
	CLOSE_PEER,
	CLOSE_ERROR,
	CLOSE_KILL,
	CLOSE_SHUTDOWN,
	CLOSE_REJECTED,
	CLOSE_DENIED,           /* no longer allowed after a reload, or refused
				 * after its PROXY header or AUTH line */
	CLOSE_AUTH_TIMEOUT,     /* no AUTH line (or PROXY header) in time */
	CLOSE_REASON_COUNT
};

/* Classes of HTTP answers, for http_requests_total{class}. */
enum http_class { HTTP_2XX, HTTP_3XX, HTTP_4XX, HTTP_5XX, HTTP_CLASS_COUNT };

/* Why [access] refused a connection (pipecastd(8), access_refused_total). */
enum refusal {
	REFUSED_ADDRESS,        /* allow / deny, or a malformed PROXY header */
	REFUSED_PER_IP,         /* max_per_ip */
	REFUSED_TOKEN,          /* no AUTH line, or a token not in tokens_file */
	REFUSED_UID,            /* unix_allow */
	REFUSED_AUTH_TIMEOUT,   /* auth_timeout */
	REFUSAL_COUNT
};

struct counters {
	uint64_t source_records_total;
	uint64_t source_bytes_total;
	uint64_t source_restarts_total;
	uint64_t source_long_lines_total;
	uint64_t heartbeats_total;
	uint64_t clients_connected;
	uint64_t clients_accepted_total;
	uint64_t clients_closed_total[CLOSE_REASON_COUNT]; /* [CLOSE_REJECTED]: rejected */
	uint64_t clients_skipped_bytes_total;
	uint64_t bytes_sent_total;
	uint64_t source_fifo_refused_total;
	uint64_t log_lines_dropped_total;
	uint64_t http_requests_total[HTTP_CLASS_COUNT];
	uint64_t resumes_total;
	uint64_t resume_gaps_total;
	uint64_t access_refused_total[REFUSAL_COUNT];
};

extern struct counters counters;

/* "idle", "send_timeout", ... as pipecastd(8) spells a close reason. */
const char *close_reason_name(enum close_reason r);
/* "address", "per_ip", ... as access_refused_total{reason} spells it. */
const char *refusal_name(enum refusal r);

#endif

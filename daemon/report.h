/* report.h: runs one stats command and writes its reply, gathering the
 * figures from every part of the daemon. */
#ifndef PIPECAST_REPORT_H
#define PIPECAST_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "client.h"
#include "sbuf.h"

enum report_result { REPORT_OK, REPORT_QUIT, REPORT_MORE };

/* A reply that goes on over several turns of the loop (show clients). */
struct report_cont {
	struct clients_walk walk;
};

/* Parses and runs one command line (without its '\n'); admin tells whether
 * the peer may run admin commands. The reply is appended to out. With a
 * cont, a long table is only begun (REPORT_MORE): report_continue appends
 * the rest; without one, it is written whole. */
enum report_result report_command(struct sbuf *out, const char *line, size_t len,
				  bool admin, struct report_cont *cont);
/* Appends the next slice of a REPORT_MORE reply: REPORT_MORE until it is
 * complete, then REPORT_OK. */
enum report_result report_continue(struct sbuf *out, struct report_cont *cont);
/* Appends an "error: msg" reply. */
void report_error(struct sbuf *out, const char *msg);

#endif

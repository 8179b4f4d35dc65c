/* preamble.h: the first records of each run of the source ([clients]
 * preamble in pipecast.conf(5)), kept for clients that join later: a
 * command's header lines, a CSV header. Memory is allocated once, at
 * start-up (preamble x max_line bytes); keeping a record copies it, nothing
 * else is allocated. Line framing only. */
#ifndef PIPECAST_PREAMBLE_H
#define PIPECAST_PREAMBLE_H

#include <stddef.h>
#include <stdint.h>

struct preamble {
	char *buf;
	size_t len;
	uint64_t *at;          /* ring offset of each kept record */
	size_t *end;           /* len after each kept record */
	size_t n, max;
	uint64_t gen;          /* changes at each reset */
};

/* Room for max records of at most max_line bytes; max 0 keeps nothing and
 * allocates nothing. Returns 0, or -1 when out of memory. */
int preamble_init(struct preamble *p, size_t max, size_t max_line);
void preamble_free(struct preamble *p);
/* Offers records just emitted (whole lines, each at most max_line bytes)
 * that start at ring offset at; keeps them while fewer than max are kept. */
void preamble_offer(struct preamble *p, const char *data, size_t len, uint64_t at);
/* A new run of the source (a command restarted, a new FIFO writer): the
 * next records are the preamble. */
void preamble_reset(struct preamble *p);
/* How many bytes of the preamble a client whose ring cursor starts at
 * start receives first: the kept records that come before start. */
size_t preamble_for(const struct preamble *p, uint64_t start);

#endif

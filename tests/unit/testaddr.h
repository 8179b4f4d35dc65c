/* testaddr.h: the cidr_addr of a textual address, for unit tests. */
#ifndef PIPECAST_TESTADDR_H
#define PIPECAST_TESTADDR_H

#include <arpa/inet.h>

#include "cidr.h"

/* "10.0.0.1" or "2001:db8::1" as the daemon would see the peer. */
static inline struct cidr_addr test_addr(const char *s)
{
	struct cidr_addr a = { 0 };

	if (inet_pton(AF_INET, s, a.b) == 1)
		a.family = CIDR_V4;
	else {
		assert_int_equal(inet_pton(AF_INET6, s, a.b), 1);
		a.family = CIDR_V6;
	}
	return a;
}

#endif

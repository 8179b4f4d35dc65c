/* proxyproto.h: the PROXY protocol header (HAProxy's proxy-protocol.txt,
 * versions 1 and 2) that connections from [access] trusted_proxies begin
 * with (pipecast.conf(5)). Incremental: the caller offers what it has read
 * so far, from the connection's first byte. */
#ifndef PIPECAST_PROXYPROTO_H
#define PIPECAST_PROXYPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define PROXYPROTO_V1_MAX   107     /* "PROXY ... \r\n" at most, CRLF included */
#define PROXYPROTO_V2_HEAD  16      /* signature, version/command, family, length */
/* Bytes the parser may need at once: the v2 head and its largest address
 * block (AF_UNIX, 216 bytes); TLVs after it are skipped, never read here. */
#define PROXYPROTO_NEED_MAX (PROXYPROTO_V2_HEAD + 216)

enum proxyproto_status {
	PROXYPROTO_MORE,        /* a valid start: offer more bytes */
	PROXYPROTO_DONE,        /* a whole header: see the result */
	PROXYPROTO_ERROR,       /* not a valid header */
};

struct proxyproto_result {
	int version;            /* 1 or 2 */
	/* The header's full length in bytes. For v2 it may exceed what was
	 * offered (TLVs not read yet): the caller skips that many in all. */
	size_t length;
	/* No address to use (v1 UNKNOWN, v2 LOCAL, AF_UNSPEC or AF_UNIX):
	 * the connection's own peer address stands. */
	bool local;
	struct sockaddr_storage src;    /* AF_INET or AF_INET6, unless local */
	socklen_t src_len;
};

/* Parses buf[0..len). On PROXYPROTO_ERROR, *why (when not NULL) is a
 * static description of the problem. */
enum proxyproto_status proxyproto_parse(const void *buf, size_t len,
					struct proxyproto_result *r, const char **why);

#endif

/*
 * ssecheck: many raw, SSE and WebSocket clients of one pipecastd at once,
 * each checking that it receives the canonical records in order
 * (tests/integration).
 *
 *   ssecheck -p RAWPORT -P HTTPPORT -n RAW -N SSE [-W WS] -r RECORDS -e EPOCH
 *            [-t SECS]
 *
 * Records are b"%08d\n" for i in 0..RECORDS-1, written after every client is
 * connected (the checker prints "ready" once they are). A raw client must
 * receive exactly them; an SSE client an HTTP 200 head, "retry: MS\n\n",
 * then for each record "id: EPOCH-(i+1)\ndata: %08d\n\n"; a WebSocket
 * client (/ws) the 101 head, then for each record exactly the text frame
 * 0x81 0x08 and the 8 digits (no control frame). Every byte is
 * compared as it arrives; nothing is stored but one expected record per
 * client. When every client has everything (or one went wrong, or SECS
 * passed) it prints "ok=N bad=N eof=N short=N seconds=S" (S: from the first
 * record byte received to the last client done), keeps the connections open
 * until its standard input ends (so that the daemon's figures can be read
 * with every client still connected), and exits 0 only when all are ok.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum state { ST_HEAD, ST_RETRY, ST_BODY, ST_DONE, ST_BAD, ST_EOF };

struct conn {
	int fd;
	int sse;
	int ws;
	enum state st;
	uint64_t next;          /* index of the record expected next */
	char want[80];          /* its expected bytes */
	size_t want_len, at;    /* and how many of them matched so far */
	char head[4];           /* the last bytes of the HTTP head */
};

static const char *epoch = "";
static uint64_t records;
static double first_byte;       /* when the first record byte arrived */

/* Monotonic seconds. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Writes v in decimal, at least `width` digits; returns the length. */
static size_t put_u64(char *out, uint64_t v, size_t width)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v || n < width);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/* What the client must receive next: the record, or its event (formatted
 * by hand: this runs once per record and client). */
static void conn_expect(struct conn *c)
{
	size_t n = 0, e = strlen(epoch);

	if (c->next >= records) {
		c->st = ST_DONE;
		return;
	}
	if (c->ws) {
		c->want[n++] = (char)0x81;
		c->want[n++] = 8;
	}
	if (c->sse) {
		memcpy(c->want, "id: ", 4);
		memcpy(c->want + 4, epoch, e);
		c->want[4 + e] = '-';
		n = 5 + e + put_u64(c->want + 5 + e, c->next + 1, 1);
		memcpy(c->want + n, "\ndata: ", 7);
		n += 7;
	}
	n += put_u64(c->want + n, c->next, 8);
	if (!c->ws)
		c->want[n++] = '\n';
	if (c->sse)
		c->want[n++] = '\n';
	c->want_len = n;
	c->at = 0;
}

/* The end of the HTTP head: the last four bytes are CR LF CR LF. */
static void conn_head_byte(struct conn *c, char b)
{
	memmove(c->head, c->head + 1, 3);
	c->head[3] = b;
	if (memcmp(c->head, "\r\n\r\n", 4) == 0) {
		c->st = c->ws ? ST_BODY : ST_RETRY;
		c->at = 0;
		if (c->ws)
			conn_expect(c);
	}
}

/* "retry: DIGITS\n\n" after the head. */
static void conn_retry_byte(struct conn *c, char b)
{
	static const char pre[] = "retry: ";

	if (c->at < sizeof(pre) - 1) {
		if (b != pre[c->at++])
			c->st = ST_BAD;
		return;
	}
	if (b >= '0' && b <= '9' && c->head[0] != '\n')
		return;
	if (b == '\n' && c->head[0] == '\n') {
		c->st = ST_BODY;
		conn_expect(c);
		return;
	}
	if (b == '\n')
		c->head[0] = '\n';
	else
		c->st = ST_BAD;
}

/* Compares received bytes with the expected record, as many at once as
 * it has left; returns how many were used. */
static size_t conn_body(struct conn *c, const char *p, size_t n)
{
	size_t k = c->want_len - c->at < n ? c->want_len - c->at : n;

	if (memcmp(p, c->want + c->at, k) != 0) {
		fprintf(stderr, "ssecheck: client %d record %llu: want \"%.*s\" got \"%.*s\"\n",
			c->fd, (unsigned long long)c->next, (int)(c->want_len - c->at),
			c->want + c->at, (int)(n < 60 ? n : 60), p);
		c->st = ST_BAD;
		return n;
	}
	c->at += k;
	if (c->at == c->want_len) {
		c->next++;
		conn_expect(c);
	}
	return k;
}

/* Compares n received bytes with what is expected. */
static void conn_feed(struct conn *c, const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && c->st != ST_BAD) {
		switch (c->st) {
		case ST_HEAD:
			conn_head_byte(c, p[i++]);
			break;
		case ST_RETRY:
			conn_retry_byte(c, p[i++]);
			break;
		case ST_BODY:
			if (first_byte == 0)
				first_byte = now_s();
			i += conn_body(c, p + i, n - i);
			break;
		default:
			c->st = ST_BAD;   /* bytes after the last record */
		}
	}
}

/* A connected, non-blocking TCP socket to 127.0.0.1:port. */
static int conn_open(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("ssecheck: connect");
		exit(2);
	}
	return fd;
}

/* Reads what one client has; 1 when it is finished (whatever the result). */
static int conn_read(struct conn *c)
{
	static char buf[1 << 16];
	ssize_t n = read(c->fd, buf, sizeof(buf));

	if (n > 0) {
		conn_feed(c, buf, (size_t)n);
		return c->st == ST_BAD;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (c->st != ST_DONE)
		c->st = ST_EOF;
	return 1;
}

/* Connects every client, then checks what each receives. */
int main(int argc, char **argv)
{
	int rawport = 0, httpport = 0, nraw = 0, nsse = 0, nws = 0, opt, ep, open_n, all;
	double secs = 60, deadline, last_done = 0;
	struct rlimit rl;
	struct conn *cs;
	int counts[ST_EOF + 1] = { 0 };

	while ((opt = getopt(argc, argv, "p:P:n:N:W:r:e:t:")) != -1) {
		switch (opt) {
		case 'p': rawport = atoi(optarg); break;
		case 'P': httpport = atoi(optarg); break;
		case 'n': nraw = atoi(optarg); break;
		case 'N': nsse = atoi(optarg); break;
		case 'W': nws = atoi(optarg); break;
		case 'r': records = strtoull(optarg, NULL, 10); break;
		case 'e': epoch = optarg; break;
		case 't': secs = atof(optarg); break;
		default:
			fprintf(stderr, "usage: ssecheck -p RAWPORT -P HTTPPORT -n RAW -N SSE "
				"[-W WS] -r RECORDS -e EPOCH [-t SECS]\n");
			return 2;
		}
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	all = nraw + nsse + nws;
	cs = calloc((size_t)all, sizeof(*cs));
	ep = epoll_create1(0);
	if (!cs || ep < 0)
		return 2;
	for (int i = 0; i < all; i++) {
		static const char req[] = "GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n";
		static const char wsreq[] = "GET /ws HTTP/1.1\r\nHost: localhost\r\n"
			"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &cs[i] };
		struct conn *c = &cs[i];
		const char *r;

		c->ws = i >= nraw + nsse;
		c->sse = i >= nraw && !c->ws;
		r = c->ws ? wsreq : req;
		c->fd = conn_open(c->sse || c->ws ? httpport : rawport);
		if ((c->sse || c->ws) && write(c->fd, r, strlen(r)) != (ssize_t)strlen(r))
			return 2;
		c->st = c->sse || c->ws ? ST_HEAD : ST_BODY;
		if (!c->sse && !c->ws)
			conn_expect(c);
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
			return 2;
	}
	printf("ready\n");
	fflush(stdout);
	deadline = now_s() + secs;
	open_n = all;
	while (open_n > 0 && now_s() < deadline) {
		struct epoll_event evs[256];
		int n = epoll_wait(ep, evs, 256, 200);

		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (c->fd >= 0 && (conn_read(c) || c->st == ST_DONE)) {
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				open_n--;
				last_done = now_s();
			}
		}
	}
	for (int i = 0; i < all; i++)
		counts[cs[i].st]++;
	printf("ok=%d bad=%d eof=%d short=%d seconds=%.3f\n", counts[ST_DONE], counts[ST_BAD],
	       counts[ST_EOF], counts[ST_HEAD] + counts[ST_RETRY] + counts[ST_BODY],
	       first_byte > 0 ? last_done - first_byte : 0.0);
	fflush(stdout);
	while (getchar() != EOF)
		;
	return counts[ST_DONE] == all ? 0 : 1;
}

/*
 * loadgen: the load generator of pipecast's benchmarks.
 *
 *   loadgen produce  [-m seed|ts] [-r RATE] [-n COUNT] [-t SECS] [-w FILE] [-R PORT]
 *   loadgen sub      -p PORT [-n CONNS] [-t SECS] [-F FRAME] [-O TSOFF] [-L full|sample]
 *                    [-x redis|ws] [-u PATH] [-w READYFILE] [-S PERSECFILE] [-H HISTFILE]
 *                    [-I IDLE_SECS]
 *   loadgen idle     -p PORT [-n CONNS] [-t SECS] [-x redis|ws] [-u PATH] [-w READYFILE]
 *   loadgen churn    -p PORT [-n CONNS] [-t SECS] [-e EXPECT_MS] [-w READYFILE] [-H HISTFILE]
 *   loadgen probe    -s SOCKET [-t SECS] [-i MS] [-H HISTFILE]
 *   loadgen stat     -s SOCKET NAME...
 *   loadgen rss      -P PID [-t SECS] [-c CAPBYTES] [-o FILE]
 *   loadgen hist     FILE...
 *
 * Everything is loopback (127.0.0.1) and every loop is bounded in time.
 * Records of the "ts" mode are 64 bytes: '@', 19 digits of CLOCK_MONOTONIC
 * nanoseconds, a space, padding, '\n'. Receivers count bytes and parse the
 * timestamps at the known offsets (fixed frame size), so that no record is
 * scanned byte by byte and nothing is allocated per record.
 *
 * -x ws: each connection is a WebSocket (RFC 6455) client of PATH (default
 * /ws): an upgrade request, the 101 response head skipped, then text frames
 * of one record each without its '\n': a 2-byte header and 63 bytes, so the
 * stream is again of fixed frames (65 bytes, the marker at offset 2). Both
 * pipecastd's /ws and websocketd --binary=false serving a producer of such
 * records send exactly that.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define REC 64
#define TS_DIGITS 19
#define REDIS_CH "c"
/* "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$64\r\n" + 64 bytes + "\r\n" */
#define REDIS_HDR 29
#define REDIS_FRAME (REDIS_HDR + REC + 2)
/* "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n" */
#define REDIS_SUBREPLY 30
/* A text frame of a record without its '\n': FIN + text, length 63. */
#define WS_HDR 2
#define WS_FRAME (WS_HDR + REC - 1)

/* What a receiving connection speaks. */
enum proto { PROTO_RAW, PROTO_REDIS, PROTO_WS };

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: see the comment at the top of bench/loadgen.c\n");
	exit(2);
}

/* ---- histogram: 32 sub-buckets per power of two (about 3 % precision) ---- */

#define HBUCKETS 1920
struct hist {
	uint64_t b[HBUCKETS];
	uint64_t n, max;
};

static int hist_idx(uint64_t v)
{
	if (v < 64)
		return (int)v;
	int msb = 63 - __builtin_clzll(v);
	int shift = msb - 5;
	return 64 + (shift - 1) * 32 + (int)((v >> shift) - 32);
}

static uint64_t hist_val(int idx)
{
	if (idx < 64)
		return (uint64_t)idx;
	int k = idx - 64, shift = k / 32 + 1;
	uint64_t top = (uint64_t)(k % 32 + 32);
	return (top << shift) + ((1ull << shift) >> 1);
}

static void hist_add(struct hist *h, uint64_t v)
{
	h->b[hist_idx(v)]++;
	h->n++;
	if (v > h->max)
		h->max = v;
}

static uint64_t hist_pct(const struct hist *h, double p)
{
	if (!h->n)
		return 0;
	uint64_t want = (uint64_t)(p * (double)h->n);
	if (want >= h->n)
		want = h->n - 1;
	uint64_t acc = 0;
	for (int i = 0; i < HBUCKETS; i++) {
		acc += h->b[i];
		if (acc > want) {
			uint64_t v = hist_val(i);
			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}

static void hist_save(const struct hist *h, const char *path)
{
	if (!path)
		return;
	FILE *f = fopen(path, "w");
	if (!f)
		die(path);
	fprintf(f, "max %llu\n", (unsigned long long)h->max);
	for (int i = 0; i < HBUCKETS; i++)
		if (h->b[i])
			fprintf(f, "%d %llu\n", i, (unsigned long long)h->b[i]);
	fclose(f);
}

/* Prints samples, p50, p99 and max in microseconds. */
static void hist_print(const struct hist *h)
{
	printf("samples=%llu p50_us=%.1f p99_us=%.1f max_us=%.1f",
	       (unsigned long long)h->n, hist_pct(h, 0.50) / 1e3,
	       hist_pct(h, 0.99) / 1e3, h->max / 1e3);
}

static int cmd_hist(int argc, char **argv)
{
	static struct hist h;
	for (int a = 1; a < argc; a++) {
		FILE *f = fopen(argv[a], "r");
		if (!f)
			continue;
		char line[128];
		while (fgets(line, sizeof(line), f)) {
			unsigned long long x, y;
			if (sscanf(line, "max %llu", &x) == 1) {
				if (x > h.max)
					h.max = x;
			} else if (sscanf(line, "%llu %llu", &x, &y) == 2 && x < HBUCKETS) {
				h.b[x] += y;
				h.n += y;
			}
		}
		fclose(f);
	}
	hist_print(&h);
	printf("\n");
	return 0;
}

/* ---- sockets ---- */

static int tcp_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int attempt = 0; attempt < 50; attempt++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die("socket");
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			return fd;
		}
		close(fd);
		if (errno != ECONNREFUSED && errno != EAGAIN && errno != ETIMEDOUT)
			die("connect");
		usleep(100000);
	}
	die("connect (gave up)");
	return -1;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR && !stop_flag)
				continue;
			if (errno == EPIPE || errno == EINTR)
				exit(0);
			die("write");
		}
		p += w;
		n -= (size_t)w;
	}
}

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void touch(const char *path)
{
	if (!path)
		return;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0)
		close(fd);
}

/* Waits (at most 120 s) for a file to exist. */
static void wait_file(const char *path)
{
	struct stat st;
	for (int i = 0; path && i < 120000 && !stop_flag; i++) {
		if (stat(path, &st) == 0)
			return;
		usleep(1000);
	}
	if (path && !stop_flag) {
		fprintf(stderr, "loadgen: %s never appeared\n", path);
		exit(1);
	}
}

static void signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* ---- produce ---- */

static void put_digits(char *p, uint64_t v)
{
	for (int i = TS_DIGITS - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

static void stamp(char *buf, size_t nrec, size_t frame, size_t off)
{
	char d[TS_DIGITS];
	put_digits(d, now_ns());
	for (size_t i = 0; i < nrec; i++)
		memcpy(buf + i * frame + off, d, TS_DIGITS);
}

static void fill_records(char *buf, size_t nrec, size_t frame, size_t off)
{
	for (size_t i = 0; i < nrec; i++) {
		char *r = buf + i * frame + off;
		r[0] = '@';
		memset(r + 1, '0', TS_DIGITS);
		r[1 + TS_DIGITS] = ' ';
		memset(r + 2 + TS_DIGITS, 'x', REC - 3 - TS_DIGITS);
		r[REC - 1] = '\n';
	}
}

/* Reads PUBLISH replies (":N\r\n"): returns how many arrived. */
static uint64_t redis_replies(int fd, int block)
{
	static char rb[65536];
	uint64_t got = 0;
	for (;;) {
		ssize_t r = recv(fd, rb, sizeof(rb), block ? 0 : MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return got;
		if (r <= 0)
			die("redis reply");
		for (char *p = rb; (p = memchr(p, '\n', (size_t)(rb + r - p))); p++)
			got++;
		block = 0;
	}
}

static int cmd_produce(int argc, char **argv)
{
	const char *mode = "ts", *waitf = NULL;
	double rate = 0, secs = 30;
	uint64_t count = 0;
	int rport = 0, counted = 0, opt;
	while ((opt = getopt(argc, argv, "m:r:n:t:w:R:")) != -1) {
		switch (opt) {
		case 'm': mode = optarg; break;
		case 'r': rate = atof(optarg); break;
		case 'n': count = strtoull(optarg, NULL, 10); counted = 1; break;
		case 't': secs = atof(optarg); break;
		case 'w': waitf = optarg; break;
		case 'R': rport = atoi(optarg); break;
		default: usage();
		}
	}
	signals();
	static char buf[1024 * REDIS_FRAME];
	size_t frame = REC, off = 0, nbuf;
	int fd = 1;
	if (!strcmp(mode, "seed")) {
		/* Fixed-width small integers, 6 bytes each: 00000..99999, repeated. */
		nbuf = 10000;
		for (size_t i = 0; i < nbuf; i++)
			snprintf(buf + i * 6, 7, "%05zu\n", i * 7 % 100000);
		frame = 6;
	} else {
		if (rport) {
			static const char h[] = "*3\r\n$7\r\nPUBLISH\r\n$1\r\n" REDIS_CH "\r\n$64\r\n";
			frame = REDIS_HDR + REC + 2;
			off = sizeof(h) - 1;
			for (size_t i = 0; i < 1024; i++) {
				memcpy(buf + i * frame, h, off);
				memcpy(buf + i * frame + off + REC, "\r\n", 2);
			}
			fd = tcp_connect(rport);
		}
		nbuf = 1024;
		fill_records(buf, nbuf, frame, off);
	}
	wait_file(waitf);
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)(secs * 1e9), sent = 0, acked = 0;
	const uint64_t window = 8192;
	while (!stop_flag && (!counted || sent < count)) {
		uint64_t t = now_ns();
		if (t >= end)
			break;
		uint64_t n = nbuf;
		if (rate > 0) {
			uint64_t due = (uint64_t)((double)(t - t0) * rate / 1e9) + 1;
			if (due <= sent) {
				uint64_t next = t0 + (uint64_t)((double)sent * 1e9 / rate);
				struct timespec ts = { (time_t)(next / 1000000000ull), (long)(next % 1000000000ull) };
				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
				continue;
			}
			n = due - sent < n ? due - sent : n;
		}
		if (counted && count - sent < n)
			n = count - sent;
		if (rport) {
			if (sent - acked + n > window) {
				acked += redis_replies(fd, 1);
				continue;
			}
		}
		if (strcmp(mode, "seed"))
			stamp(buf, n, frame, off + 1);
		write_all(fd, buf, n * frame);
		sent += n;
		if (rport)
			acked += redis_replies(fd, 0);
	}
	for (int i = 0; rport && acked < sent && i < 1000; i++)
		acked += redis_replies(fd, 1);
	double el = (now_ns() - t0) / 1e9;
	fprintf(stderr, "produce sent=%llu secs=%.3f rate=%.0f\n", (unsigned long long)sent,
		el, sent / (el > 0 ? el : 1));
	return 0;
}

/* ---- receivers ---- */

struct conn {
	int fd;
	int closed;
	uint64_t skip;     /* bytes to discard first (Redis subscribe reply) */
	uint64_t off;      /* stream offset after the skip */
	uint64_t bytes;
	uint32_t ndig;     /* digits of a timestamp cut by a read */
	uint64_t acc;
	int bad;           /* frame alignment lost: no more latency samples */
	uint64_t t_conn, t_close;
};

/* The protocol named by -x. */
static enum proto proto_of(const char *name)
{
	if (!strcmp(name, "redis"))
		return PROTO_REDIS;
	if (!strcmp(name, "ws"))
		return PROTO_WS;
	usage();
	return PROTO_RAW;
}

/* Connects n clients and sends each its subscription or upgrade request. */
static struct conn *conns_open(int port, int n, enum proto proto, const char *path)
{
	struct conn *c = calloc((size_t)n, sizeof(*c));
	if (!c)
		die("calloc");
	static const char sub[] = "*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\n" REDIS_CH "\r\n";
	char up[512];
	int uplen = snprintf(up, sizeof(up), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
			     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
			     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			     "Sec-WebSocket-Version: 13\r\n\r\n", path, port);
	for (int i = 0; i < n && !stop_flag; i++) {
		c[i].fd = tcp_connect(port);
		c[i].t_conn = now_ns();
		if (proto == PROTO_REDIS) {
			write_all(c[i].fd, sub, sizeof(sub) - 1);
			c[i].skip = REDIS_SUBREPLY;
		} else if (proto == PROTO_WS) {
			write_all(c[i].fd, up, (size_t)uplen);
		}
	}
	return c;
}

/* Waits (at most 60 s) until fd is readable; exits saying what for. */
static void wait_readable(int fd, const char *what)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 60000) <= 0) {
		fprintf(stderr, "loadgen: no %s\n", what);
		exit(1);
	}
}

/* Blocks until every Redis subscription is confirmed (at most 60 s). */
static void redis_confirm(struct conn *c, int n)
{
	char b[REDIS_SUBREPLY];
	for (int i = 0; i < n; i++) {
		while (c[i].skip && !stop_flag) {
			wait_readable(c[i].fd, "subscribe reply");
			ssize_t r = read(c[i].fd, b, c[i].skip);
			if (r <= 0)
				die("subscribe reply");
			c[i].skip -= (uint64_t)r;
		}
	}
}

/* Reads every upgrade's response head, a byte at a time so that no frame
 * byte is taken with it; exits unless each is "HTTP/1.1 101". */
static void ws_confirm(struct conn *c, int n)
{
	for (int i = 0; i < n && !stop_flag; i++) {
		char head[4096];
		size_t len = 0;
		while (len < 4 || memcmp(head + len - 4, "\r\n\r\n", 4) != 0) {
			wait_readable(c[i].fd, "WebSocket upgrade response");
			if (len == sizeof(head) || read(c[i].fd, head + len, 1) != 1)
				die("WebSocket upgrade response");
			len++;
		}
		if (len < 12 || memcmp(head, "HTTP/1.1 101", 12) != 0) {
			head[len - 1] = '\0';
			fprintf(stderr, "loadgen: upgrade refused: %.*s\n", (int)strcspn(head, "\r"), head);
			exit(1);
		}
	}
}

/* Finishes what conns_open() started: subscriptions or upgrades. */
static void conns_confirm(struct conn *c, int n, enum proto proto)
{
	if (proto == PROTO_REDIS)
		redis_confirm(c, n);
	else if (proto == PROTO_WS)
		ws_confirm(c, n);
}

/* Takes in one chunk of a connection's stream: counts it and parses the
 * timestamps of the records (or of the first record) that start in it. */
static void chunk(struct conn *c, const char *p, size_t n, size_t frame, size_t tsoff,
		  int full, struct hist *h, uint64_t now)
{
	uint64_t start = c->off, endo = c->off + n;
	c->off = endo;
	c->bytes += n;
	if (c->bad || !frame)
		return;
	if (c->ndig) { /* finish a timestamp cut by the previous read */
		uint64_t pos = start;
		while (c->ndig < TS_DIGITS && pos < endo) {
			c->acc = c->acc * 10 + (uint64_t)(p[pos - start] - '0');
			c->ndig++;
			pos++;
		}
		if (c->ndig == TS_DIGITS) {
			hist_add(h, now > c->acc ? now - c->acc : 0);
			c->ndig = 0;
		}
	}
	/* first record whose marker starts at or after `start` */
	uint64_t k = start <= tsoff ? 0 : (start - tsoff + frame - 1) / frame;
	for (uint64_t m = k * frame + tsoff; m < endo; m += frame) {
		const char *q = p + (m - start);
		if (*q != '@') {
			c->bad = 1;
			return;
		}
		uint64_t v = 0;
		uint32_t d = 0;
		for (uint64_t pos = m + 1; d < TS_DIGITS && pos < endo; pos++, d++)
			v = v * 10 + (uint64_t)(p[pos - start] - '0');
		if (d == TS_DIGITS) {
			hist_add(h, now > v ? now - v : 0);
		} else {
			c->ndig = d;
			c->acc = v;
		}
		if (!full)
			break;
	}
}

static int cmd_sub(int argc, char **argv)
{
	int port = 0, n = 1, full = 1, lat = 1, opt;
	enum proto proto = PROTO_RAW;
	double secs = 10, idle_secs = 0;
	size_t frame = REC, tsoff = 0;
	const char *readyf = NULL, *persec = NULL, *histf = NULL, *path = "/ws";
	while ((opt = getopt(argc, argv, "p:n:t:F:O:L:x:u:w:S:H:I:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'F': frame = (size_t)atoi(optarg); break;
		case 'O': tsoff = (size_t)atoi(optarg); break;
		case 'L': full = !strcmp(optarg, "full"); lat = strcmp(optarg, "none") != 0; break;
		case 'x': proto = proto_of(optarg); break;
		case 'u': path = optarg; break;
		case 'w': readyf = optarg; break;
		case 'S': persec = optarg; break;
		case 'H': histf = optarg; break;
		case 'I': idle_secs = atof(optarg); break;
		default: usage();
		}
	}
	if (!port || n < 1)
		usage();
	if (proto == PROTO_REDIS) {
		frame = REDIS_FRAME;
		tsoff = REDIS_HDR;
	} else if (proto == PROTO_WS) {
		frame = WS_FRAME;
		tsoff = WS_HDR;
	}
	signals();
	static struct hist h;
	struct conn *c = conns_open(port, n, proto, path);
	conns_confirm(c, n, proto);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	for (int i = 0; i < n; i++) {
		set_nonblock(c[i].fd);
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev) < 0)
			die("epoll_ctl");
	}
	touch(readyf);
	FILE *ps = persec ? fopen(persec, "w") : NULL;
	static char buf[256 * 1024];
	struct epoll_event evs[256];
	uint64_t t_start = now_ns(), t_first = 0, t_last = 0, bytes = 0, sec_bytes = 0;
	uint64_t hard_end = t_start + (uint64_t)((secs + 15) * 1e9), end = 0, next_sec = 0;
	int open = n, sec = 0;
	while (!stop_flag && open > 0) {
		uint64_t t = now_ns();
		if (t >= hard_end || (end && t >= end))
			break;
		/* nothing for idle_secs after data flowed: the stream is over */
		if (idle_secs > 0 && t_last && t - t_last > (uint64_t)(idle_secs * 1e9))
			break;
		if (ps && t_first && t >= next_sec) {
			fprintf(ps, "%d %llu\n", ++sec, (unsigned long long)(sec_bytes / (frame ? frame : 1)));
			fflush(ps);
			sec_bytes = 0;
			next_sec += 1000000000ull;
		}
		int k = epoll_wait(ep, evs, 256, 50);
		if (k < 0 && errno != EINTR)
			die("epoll_wait");
		t = now_ns();
		for (int e = 0; e < k; e++) {
			struct conn *cc = &c[evs[e].data.u32];
			ssize_t r = read(cc->fd, buf, sizeof(buf));
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0) {
				cc->closed = 1;
				cc->t_close = t;
				epoll_ctl(ep, EPOLL_CTL_DEL, cc->fd, NULL);
				open--;
				continue;
			}
			if (!t_first) {
				t_first = t;
				end = t + (uint64_t)(secs * 1e9);
				next_sec = t + 1000000000ull;
			}
			t_last = t;
			bytes += (uint64_t)r;
			sec_bytes += (uint64_t)r;
			chunk(cc, buf, (size_t)r, lat ? frame : 0, tsoff, full, &h, t);
		}
	}
	/* the window: from the first byte to its planned end, or to the last
	 * byte when every connection ended (or went quiet) before that */
	uint64_t t_end = now_ns();
	if (end && t_end > end)
		t_end = end;
	if (open == 0 || (idle_secs > 0 && t_last && t_end - t_last > (uint64_t)(idle_secs * 1e9)))
		t_end = t_last;
	double el = t_first ? (t_end - t_first) / 1e9 : 0;
	uint64_t bad = 0, closed = 0, recs = 0;
	size_t fr = frame ? frame : REC;
	for (int i = 0; i < n; i++) {
		bad += (uint64_t)c[i].bad;
		closed += (uint64_t)c[i].closed;
		recs += c[i].bytes / fr;
	}
	printf("records=%llu bytes=%llu secs=%.3f rate=%.0f closed=%llu misaligned=%llu ",
	       (unsigned long long)recs, (unsigned long long)bytes, el, el > 0 ? recs / el : 0,
	       (unsigned long long)closed, (unsigned long long)bad);
	hist_print(&h);
	printf("\n");
	hist_save(&h, histf);
	if (ps)
		fclose(ps);
	return 0;
}

/* ---- idle: connect and hold ---- */

static int cmd_idle(int argc, char **argv)
{
	int port = 0, n = 1, opt;
	enum proto proto = PROTO_RAW;
	double secs = 60;
	const char *readyf = NULL, *path = "/ws";
	while ((opt = getopt(argc, argv, "p:n:t:x:u:w:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'x': proto = proto_of(optarg); break;
		case 'u': path = optarg; break;
		case 'w': readyf = optarg; break;
		default: usage();
		}
	}
	if (!port)
		usage();
	signals();
	struct conn *c = conns_open(port, n, proto, path);
	conns_confirm(c, n, proto);
	touch(readyf);
	uint64_t end = now_ns() + (uint64_t)(secs * 1e9);
	while (!stop_flag && now_ns() < end)
		usleep(20000);
	int alive = 0;
	for (int i = 0; i < n; i++) {
		char b;
		ssize_t r = recv(c[i].fd, &b, 1, MSG_DONTWAIT | MSG_PEEK);
		alive += r > 0 || (r < 0 && errno == EAGAIN);
	}
	printf("idle conns=%d alive=%d\n", n, alive);
	return 0;
}

/* ---- churn: connect, wait for the server to close each connection ---- */

static int cmd_churn(int argc, char **argv)
{
	int port = 0, n = 1, opt;
	double secs = 30, expect_ms = 1000;
	const char *readyf = NULL, *histf = NULL;
	while ((opt = getopt(argc, argv, "p:n:t:e:w:H:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'e': expect_ms = atof(optarg); break;
		case 'w': readyf = optarg; break;
		case 'H': histf = optarg; break;
		default: usage();
		}
	}
	if (!port)
		usage();
	signals();
	static struct hist h;
	struct conn *c = conns_open(port, n, PROTO_RAW, NULL);
	touch(readyf);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	for (int i = 0; i < n; i++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)i };
		set_nonblock(c[i].fd);
		epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
	}
	uint64_t end = now_ns() + (uint64_t)(secs * 1e9);
	int open = n;
	struct epoll_event evs[256];
	char buf[4096];
	while (!stop_flag && open > 0 && now_ns() < end) {
		int k = epoll_wait(ep, evs, 256, 50);
		uint64_t t = now_ns();
		for (int e = 0; e < k; e++) {
			struct conn *cc = &c[evs[e].data.u32];
			ssize_t r = read(cc->fd, buf, sizeof(buf));
			if (r > 0 || (r < 0 && errno == EAGAIN))
				continue;
			cc->closed = 1;
			cc->t_close = t;
			epoll_ctl(ep, EPOLL_CTL_DEL, cc->fd, NULL);
			close(cc->fd);
			open--;
			uint64_t life = t - cc->t_conn, ex = (uint64_t)(expect_ms * 1e6);
			hist_add(&h, life > ex ? life - ex : 0);
		}
	}
	uint64_t fc = UINT64_MAX, lc = 0, fx = UINT64_MAX, lx = 0;
	for (int i = 0; i < n; i++) {
		fc = c[i].t_conn < fc ? c[i].t_conn : fc;
		lc = c[i].t_conn > lc ? c[i].t_conn : lc;
		if (c[i].closed) {
			fx = c[i].t_close < fx ? c[i].t_close : fx;
			lx = c[i].t_close > lx ? c[i].t_close : lx;
		}
	}
	printf("conns=%d closed=%d first_conn=%llu last_conn=%llu first_close=%llu last_close=%llu lateness_",
	       n, n - open, (unsigned long long)fc, (unsigned long long)lc,
	       (unsigned long long)(fx == UINT64_MAX ? 0 : fx), (unsigned long long)lx);
	hist_print(&h);
	printf("\n");
	hist_save(&h, histf);
	return 0;
}

/* ---- stats socket ---- */

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die(path);
	return fd;
}

/* Sends one command and reads its reply (up to the empty line) into buf. */
static size_t stats_cmd(int fd, const char *cmd, char *buf, size_t cap)
{
	write_all(fd, cmd, strlen(cmd));
	size_t len = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	while (len + 1 < cap) {
		if (poll(&p, 1, 5000) <= 0) {
			fprintf(stderr, "loadgen: stats reply timeout\n");
			exit(1);
		}
		ssize_t r = read(fd, buf + len, cap - 1 - len);
		if (r <= 0)
			die("stats read");
		len += (size_t)r;
		buf[len] = 0;
		if (len >= 2 && buf[len - 1] == '\n' && buf[len - 2] == '\n')
			break;
	}
	return len;
}

static int cmd_stat(int argc, char **argv)
{
	int opt;
	const char *sock = NULL;
	while ((opt = getopt(argc, argv, "s:")) != -1) {
		if (opt == 's')
			sock = optarg;
		else
			usage();
	}
	if (!sock)
		usage();
	static char buf[65536];
	int fd = unix_connect(sock);
	stats_cmd(fd, "show info\n", buf, sizeof(buf));
	for (int a = optind; a < argc; a++) {
		size_t l = strlen(argv[a]);
		const char *v = "-";
		for (char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
			if (!strncmp(p, argv[a], l) && p[l] == ':') {
				v = p + l + 2;
				break;
			}
		printf("%.*s%s", (int)strcspn(v, "\n"), v, a + 1 < argc ? " " : "\n");
	}
	close(fd);
	return 0;
}

static int cmd_probe(int argc, char **argv)
{
	int opt;
	const char *sock = NULL, *histf = NULL;
	double secs = 10, ms = 10;
	while ((opt = getopt(argc, argv, "s:t:i:H:")) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 't': secs = atof(optarg); break;
		case 'i': ms = atof(optarg); break;
		case 'H': histf = optarg; break;
		default: usage();
		}
	}
	if (!sock)
		usage();
	signals();
	static struct hist h;
	static char buf[65536];
	int fd = unix_connect(sock);
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)(secs * 1e9), iv = (uint64_t)(ms * 1e6);
	uint64_t maxat = 0;
	for (uint64_t i = 1; !stop_flag && now_ns() < end; i++) {
		uint64_t a = now_ns();
		stats_cmd(fd, "show info\n", buf, sizeof(buf));
		uint64_t rtt = now_ns() - a;
		if (rtt > h.max)
			maxat = a;
		hist_add(&h, rtt);
		uint64_t next = t0 + i * iv;
		struct timespec ts = { (time_t)(next / 1000000000ull), (long)(next % 1000000000ull) };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	printf("probe max_at=%llu ", (unsigned long long)maxat);
	hist_print(&h);
	printf("\n");
	hist_save(&h, histf);
	return 0;
}

/* ---- rss: sample a process's resident set every second ---- */

static long long rss_of(int pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long long kb = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

static int cmd_rss(int argc, char **argv)
{
	int pid = 0, opt;
	double secs = 30;
	long long cap = 0;
	const char *out = NULL;
	while ((opt = getopt(argc, argv, "P:t:c:o:")) != -1) {
		switch (opt) {
		case 'P': pid = atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'c': cap = atoll(optarg); break;
		case 'o': out = optarg; break;
		default: usage();
		}
	}
	if (!pid)
		usage();
	signals();
	FILE *f = out ? fopen(out, "w") : stdout;
	if (!f)
		die(out);
	uint64_t t0 = now_ns();
	for (int i = 0; i <= (int)secs && !stop_flag; i++) {
		long long r = rss_of(pid);
		if (r < 0)
			break;
		fprintf(f, "%d %lld\n", i, r);
		fflush(f);
		if (cap && r > cap) {
			fprintf(f, "# killed: RSS over cap %lld\n", cap);
			kill(pid, SIGKILL);
			break;
		}
		uint64_t next = t0 + (uint64_t)(i + 1) * 1000000000ull;
		struct timespec ts = { (time_t)(next / 1000000000ull), (long)(next % 1000000000ull) };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	if (out)
		fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	const char *c = argv[1];
	argc--;
	argv++;
	if (!strcmp(c, "produce"))
		return cmd_produce(argc, argv);
	if (!strcmp(c, "sub"))
		return cmd_sub(argc, argv);
	if (!strcmp(c, "idle"))
		return cmd_idle(argc, argv);
	if (!strcmp(c, "churn"))
		return cmd_churn(argc, argv);
	if (!strcmp(c, "probe"))
		return cmd_probe(argc, argv);
	if (!strcmp(c, "stat"))
		return cmd_stat(argc, argv);
	if (!strcmp(c, "rss"))
		return cmd_rss(argc, argv);
	if (!strcmp(c, "hist"))
		return cmd_hist(argc, argv);
	usage();
	return 2;
}

/*
 * raw_ceiling: the simplest possible fan-out, as a ceiling for the benchmarks.
 *
 *   raw_ceiling PORT N
 *
 * Listens on 127.0.0.1:PORT, accepts N connections, then copies standard
 * input to every one of them in large blocking writes, with no bookkeeping:
 * no framing, no buffering per client, no timers. A client that stops reading
 * therefore stops everybody (as with `ncat -l -k`). Exits at end of input, on
 * SIGTERM, or when every client is gone.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: raw_ceiling PORT N\n");
		return 2;
	}
	int port = atoi(argv[1]), n = atoi(argv[2]), one = 1;
	signal(SIGPIPE, SIG_IGN);
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 4096) < 0) {
		perror("raw_ceiling: listen");
		return 1;
	}
	int *fds = calloc((size_t)n, sizeof(int));
	if (!fds)
		return 1;
	for (int i = 0; i < n; i++) {
		fds[i] = accept(ls, NULL, NULL);
		if (fds[i] < 0) {
			perror("raw_ceiling: accept");
			return 1;
		}
		setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	static char buf[65536];
	int live = n;
	while (live > 0) {
		ssize_t r = read(0, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (int i = 0; i < n; i++) {
			for (ssize_t off = 0; fds[i] >= 0 && off < r;) {
				ssize_t w = write(fds[i], buf + off, (size_t)(r - off));
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0) {
					close(fds[i]);
					fds[i] = -1;
					live--;
					break;
				}
				off += w;
			}
		}
	}
	return 0;
}

/*
 * pipe_relay: the pipe relay ceiling. What any program that relays a pipe
 * to sockets must pay, with nothing else:
 *
 *   pipe_relay PORT N
 *
 * Listens on 127.0.0.1:PORT, accepts N connections, enlarges its standard
 * input's pipe as pipecastd does (F_SETPIPE_SZ up to pipe-max-size), then
 * reads it in 256 KiB reads and writes each read, blocking, to every client
 * in turn. No framing, no ring, no per-client state, no timers: a client
 * that stops reading stops everybody, and the slowest client sets the pace
 * of all. Exits at end of input, on SIGTERM, or when every client is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_SIZE (256 * 1024)

/* The same pipe as pipecastd reads: as large as the kernel allows. */
static void relay_grow_pipe(int fd)
{
	FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");
	long max = 1024 * 1024;

	if (f) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 1024 * 1024;
		fclose(f);
	}
	while (max > 4096 && fcntl(fd, F_SETPIPE_SZ, (int)max) < 0 && errno == EPERM)
		max /= 2;
}

/* Listens on loopback and accepts n clients. */
static int *relay_accept(int port, int n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, ls = socket(AF_INET, SOCK_STREAM, 0);
	int *fds = calloc((size_t)n, sizeof(int));

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (!fds || ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(ls, 4096) < 0) {
		perror("pipe_relay: listen");
		exit(1);
	}
	for (int i = 0; i < n; i++) {
		fds[i] = accept(ls, NULL, NULL);
		if (fds[i] < 0) {
			perror("pipe_relay: accept");
			exit(1);
		}
		setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	close(ls);
	return fds;
}

/* Writes all of buf to fd, blocking; closes fd (-1) when the client is gone. */
static int relay_write_all(int *fd, const char *buf, size_t len)
{
	for (size_t off = 0; *fd >= 0 && off < len;) {
		ssize_t w = write(*fd, buf + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(*fd);
			*fd = -1;
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char buf[READ_SIZE];
	int *fds, n, live;

	if (argc != 3) {
		fprintf(stderr, "usage: pipe_relay PORT N\n");
		return 2;
	}
	n = atoi(argv[2]);
	signal(SIGPIPE, SIG_IGN);
	relay_grow_pipe(0);
	fds = relay_accept(atoi(argv[1]), n);
	for (live = n; live > 0;) {
		ssize_t r = read(0, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (int i = 0; i < n; i++)
			if (fds[i] >= 0 && relay_write_all(&fds[i], buf, (size_t)r) < 0)
				live--;
	}
	return 0;
}

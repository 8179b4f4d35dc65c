/* stats.c: the stats socket server. Each connection reads command lines,
 * answers them in order through report.c, and owns exactly one ev_timer for
 * its idle deadline, like a client connection. */
#include "stats.h"
#include "compat.h"
#include "activation.h"
#include "alloc.h"
#include "daemon.h"
#include "deadline.h"
#include "list.h"
#include "listener.h"
#include "log.h"
#include "net.h"
#include "report.h"
#include "sbuf.h"
#include "timers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATS_LINE_MAX 1024            /* longest command line, '\n' excluded */
#define STATS_OUT_HIGH (1024 * 1024)   /* stop reading while this much is unsent */

struct stats_conn {
	TAILQ_ENTRY(stats_conn) entry;
	ev_io rio, wio;
	ev_timer timer;           /* the one timer: [stats] idle_timeout */
	struct deadline dl;
	int fd;
	bool admin;               /* peer uid is 0 or ours (SO_PEERCRED) */
	bool eof;                 /* the peer half-closed: close once answered */
	bool done;                /* quit, or a fatal error: close once flushed */
	bool closed;
	size_t inlen;
	char in[STATS_LINE_MAX + 1];
	struct sbuf out;
};

TAILQ_HEAD(stats_list, stats_conn);
static struct stats_list conns = TAILQ_HEAD_INITIALIZER(conns);
static struct stats_list dead = TAILQ_HEAD_INITIALIZER(dead);
static unsigned long n_conns;
static ev_io listen_io;
static int listen_fd = -1;
static char *sock_path;       /* the socket file we created, removed at exit */

static void stats_flush(struct stats_conn *s);

/* Closes a connection now; its memory goes at the next safe point. */
static void stats_conn_close(struct stats_conn *s)
{
	if (s->closed)
		return;
	s->closed = true;
	ev_io_stop(loop, &s->rio);
	ev_io_stop(loop, &s->wio);
	timer_disarm(TK_STATS, &s->timer);
	close(s->fd);
	n_conns--;
	TAILQ_REMOVE(&conns, s, entry);
	TAILQ_INSERT_TAIL(&dead, s, entry);
}

/* The idle deadline as the shared deadline arithmetic sees it. */
static struct deadline_limits stats_limits(void)
{
	struct deadline_limits l = { .idle_ns = MS_TO_NS(conf->stats.idle_timeout_ms) };

	return l;
}

/* Arms the one timer for the idle deadline, or stops it when off. */
static void stats_timer_update(struct stats_conn *s)
{
	struct deadline_limits l = stats_limits();
	int64_t due = deadline_due(&s->dl, &l), now = mono_ns();

	if (due == DEADLINE_NONE)
		timer_disarm(TK_STATS, &s->timer);
	else
		timer_arm(TK_STATS, &s->timer, NS_TO_S(due > now ? due - now : 0));
}

/* Idle too long: close; otherwise sleep until the deadline. */
static void stats_timer_cb(__unused struct ev_loop *l, ev_timer *w, __unused int revents)
{
	struct stats_conn *s = container_of(w, struct stats_conn, timer);
	struct deadline_limits lim = stats_limits();
	int64_t wait;

	timer_fired(TK_STATS, w);
	if (deadline_check(&s->dl, &lim, mono_ns(), &wait) != DEADLINE_OK)
		stats_conn_close(s);
	else if (wait == DEADLINE_NONE)
		timer_disarm(TK_STATS, w);
	else
		timer_arm(TK_STATS, w, NS_TO_S(wait));
}

/* Runs every complete line in the input buffer. */
static void stats_run_lines(struct stats_conn *s)
{
	char *p = s->in, *nl;

	while (!s->done && (nl = memchr(p, '\n', s->inlen - (size_t)(p - s->in))) != NULL) {
		if (report_command(&s->out, p, (size_t)(nl - p), s->admin) == REPORT_QUIT)
			s->done = true;
		p = nl + 1;
	}
	s->inlen -= (size_t)(p - s->in);
	memmove(s->in, p, s->inlen);
	if (!s->done && s->inlen > STATS_LINE_MAX) {
		report_error(&s->out, "line too long");
		s->done = true;
	}
	if (!s->done && s->eof && s->inlen > 0) {
		(void)report_command(&s->out, s->in, s->inlen, s->admin);
		s->inlen = 0;
	}
}

/* Reads commands; a half-close means "answer, then close". */
static void stats_read(struct stats_conn *s)
{
	ssize_t n = read(s->fd, s->in + s->inlen, sizeof(s->in) - s->inlen);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		stats_conn_close(s);
		return;
	}
	s->dl.last_activity = mono_ns();
	s->inlen += (size_t)n;
	if (n == 0) {
		s->eof = true;
		ev_io_stop(loop, &s->rio);
	}
	stats_run_lines(s);
	if (s->done)
		ev_io_stop(loop, &s->rio);
	stats_flush(s);
}

/* The connection's input; what it allocates counts for the stats. */
static void stats_read_cb(__unused struct ev_loop *l, ev_io *w, __unused int revents)
{
	enum alloc_owner was = alloc_owner_set(ALLOC_STATS);

	stats_read(container_of(w, struct stats_conn, rio));
	alloc_owner_set(was);
}

/* The socket can take more of the replies. */
static void stats_write_cb(__unused struct ev_loop *l, ev_io *w, __unused int revents)
{
	enum alloc_owner was = alloc_owner_set(ALLOC_STATS);

	stats_flush(container_of(w, struct stats_conn, wio));
	alloc_owner_set(was);
}

/* Writes what is pending; closes when the conversation is over. */
static void stats_flush(struct stats_conn *s)
{
	while (s->out.len > 0) {
		ssize_t n = write(s->fd, s->out.buf, s->out.len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			stats_conn_close(s);
			return;
		}
		sbuf_consume(&s->out, (size_t)n);
		s->dl.last_activity = mono_ns();
	}
	if (s->out.len == 0 && (s->done || s->eof)) {
		stats_conn_close(s);
		return;
	}
	if (s->out.len > 0)
		ev_io_start(loop, &s->wio);
	else
		ev_io_stop(loop, &s->wio);
	if (!s->done && !s->eof && s->out.len < STATS_OUT_HIGH)
		ev_io_start(loop, &s->rio);
	else
		ev_io_stop(loop, &s->rio);
}

/* Whether the peer may run admin commands: root or our own uid. */
static bool stats_peer_admin(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

/* Sets up one accepted connection with its watchers and its one timer. */
static void stats_conn_new(int fd)
{
	struct stats_conn *s = pc_calloc(1, sizeof(*s));

	if (!s) {
		close(fd);
		return;
	}
	s->fd = fd;
	s->admin = stats_peer_admin(fd);
	s->dl.last_activity = mono_ns();
	sbuf_init(&s->out);
	ev_io_init(&s->rio, stats_read_cb, fd, EV_READ);
	ev_io_init(&s->wio, stats_write_cb, fd, EV_WRITE);
	timer_setup(TK_STATS, &s->timer, stats_timer_cb);
	TAILQ_INSERT_TAIL(&conns, s, entry);
	n_conns++;
	ev_io_start(loop, &s->rio);
	stats_timer_update(s);
}

/* Accepts stats connections; beyond max_connections they are closed. */
static void stats_accept(ev_io *w)
{
	for (int i = 0; i < 16; i++) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			(void)listeners_pause_if_exhausted(errno);
			return;
		}
		if (n_conns >= conf->stats.max_connections) {
			log_debug("stats: max_connections reached; connection closed");
			close(fd);
			continue;
		}
		stats_conn_new(fd);
	}
}

/* New stats connections; what they allocate counts for the stats. */
static void stats_accept_cb(__unused struct ev_loop *l, ev_io *w, __unused int revents)
{
	enum alloc_owner was = alloc_owner_set(ALLOC_STATS);

	stats_accept(w);
	alloc_owner_set(was);
}

/* Creates a missing directory and its missing parents with mode 0755. */
static int stats_mkdirs(char *dir)
{
	char *slash = strrchr(dir, '/');

	if (mkdir(dir, 0755) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT || !slash || slash == dir)
		return -1;
	*slash = '\0';
	if (stats_mkdirs(dir) < 0) {
		*slash = '/';
		return -1;
	}
	*slash = '/';
	return mkdir(dir, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* The per-user directory under /tmp: 0700, ours, and not a link. */
static int stats_private_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -1;
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* Makes the directory of the socket path: 0755 (parents too), except the
 * per-user /tmp/pipecast-UID. */
static int stats_make_dir(const char *path)
{
	char dir[600], private_dir[64];
	const char *slash = strrchr(path, '/');
	int rc;

	if (!slash || slash == path)
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	snprintf(private_dir, sizeof(private_dir), "/tmp/pipecast-%u", (unsigned)geteuid());
	rc = strcmp(dir, private_dir) == 0 ? stats_private_dir(dir) : stats_mkdirs(dir);
	if (rc < 0)
		log_error("stats: %s: %s", dir, errno == EPERM ?
			  "not a directory of this user; refusing it" : strerror(errno));
	return rc;
}

/* The default path order of [stats] socket in pipecast.conf(5). */
static void stats_default_path(char *buf, size_t len)
{
	const char *rt = getenv("RUNTIME_DIRECTORY"), *xdg = getenv("XDG_RUNTIME_DIR");

	if (rt && *rt)
		snprintf(buf, len, "%.*s/stats.sock", (int)strcspn(rt, ":"), rt);
	else if (xdg && *xdg)
		snprintf(buf, len, "%s/pipecast/stats.sock", xdg);
	else
		snprintf(buf, len, "/tmp/pipecast-%u/stats.sock", (unsigned)geteuid());
}

/* Starts accepting on the listening socket. */
static void stats_watch(int fd)
{
	listen_fd = fd;
	ev_io_init(&listen_io, stats_accept_cb, listen_fd, EV_READ);
	ev_io_start(loop, &listen_io);
}

/* Takes the socket systemd passed under this name; its file belongs to the
 * socket unit and is never removed here. */
static int stats_open_activated(const char *name)
{
	int fd;

	if (activation_take(name, &fd, 1) != 1) {
		log_error("stats: no socket-activated descriptor named '%s'", name);
		return -1;
	}
	stats_watch(fd);
	log_info("stats socket: socket-activated descriptor '%s'", name);
	return 0;
}

/* A second daemon on the same stats socket: says how to run it beside
 * the first. */
static void stats_in_use_hint(const char *path)
{
	size_t n = strlen(path);
	bool sock = n > 5 && strcmp(path + n - 5, ".sock") == 0;

	log_error("stats: another pipecastd serves its stats there; give this one its "
		  "own socket, e.g. -o stats.socket=%.*s-2%s", (int)(sock ? n - 5 : n), path,
		  sock ? ".sock" : "");
}

/* Binds the stats socket. */
int stats_open(void)
{
	char path[600], err[700];

	if (conf->stats.socket && strncmp(conf->stats.socket, "systemd:", 8) == 0)
		return stats_open_activated(conf->stats.socket + 8);
	if (conf->stats.socket)
		snprintf(path, sizeof(path), "%s", conf->stats.socket);
	else
		stats_default_path(path, sizeof(path));
	if (stats_make_dir(path) < 0)
		return -1;
	listen_fd = net_unix_listen(path, conf->stats.mode, err, sizeof(err));
	if (listen_fd < 0) {
		log_error("stats: %s", err);
		if (errno == EADDRINUSE)
			stats_in_use_hint(path);
		return -1;
	}
	sock_path = pc_strdup(path);
	stats_watch(listen_fd);
	log_info("stats socket %s", path);
	return 0;
}

/* Starts or stops the accepting watcher (listener.c pauses it on EMFILE). */
void stats_accepting(bool on)
{
	if (listen_fd < 0)
		return;
	if (on)
		ev_io_start(loop, &listen_io);
	else
		ev_io_stop(loop, &listen_io);
}

/* Frees the connections closed since the last safe point. */
void stats_reap(void)
{
	struct stats_conn *s;

	while ((s = TAILQ_FIRST(&dead)) != NULL) {
		TAILQ_REMOVE(&dead, s, entry);
		sbuf_free(&s->out);
		pc_free(s);
	}
}

/* Stop: no more stats; the socket file goes too. */
void stats_close(void)
{
	struct stats_conn *s;

	if (listen_fd >= 0) {
		ev_io_stop(loop, &listen_io);
		close(listen_fd);
		listen_fd = -1;
	}
	while ((s = TAILQ_FIRST(&conns)) != NULL)
		stats_conn_close(s);
	stats_reap();
	if (sock_path) {
		unlink(sock_path);
		pc_free(sock_path);
		sock_path = NULL;
	}
}

/* A reload may change the idle timeout and the socket file's mode. */
void stats_apply_config(void)
{
	struct stats_conn *s;

	if (sock_path)
		(void)chmod(sock_path, (mode_t)conf->stats.mode);
	TAILQ_FOREACH(s, &conns, entry)
		stats_timer_update(s);
}

/* The path the stats socket was bound at, or NULL. */
const char *stats_socket_path(void)
{
	return sock_path;
}

/* For "show timers": the soonest stats-connection timer. */
double stats_next_due(void)
{
	struct stats_conn *s;
	double best = -1;

	TAILQ_FOREACH(s, &conns, entry)
		best = timer_sooner(best, &s->timer);
	return best;
}

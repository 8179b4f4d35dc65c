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
#include "statspath.h"
#include "timers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATS_LINE_MAX 1024            /* longest command line, '\n' excluded */
#define STATS_OUT_HIGH (64 * 1024)     /* no further command while this much is
					* unsent (checked before each command) */

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
	bool more;                /* cont holds a reply still being written */
	struct report_cont cont;
	size_t inlen;
	char in[STATS_LINE_MAX + 2];  /* the longest line, its '\n', and the
				       * '\n' a half-close adds to a last line */
	struct sbuf out;
};

TAILQ_HEAD(stats_list, stats_conn);
static struct stats_list conns = TAILQ_HEAD_INITIALIZER(conns);
static struct stats_list dead = TAILQ_HEAD_INITIALIZER(dead);
static unsigned long n_conns;
static ev_io listen_io;
static int listen_fd = -1;
static char *sock_path;       /* the socket file we created, removed at exit */
static struct fileid sock_id; /* that file, changed and removed by identity */

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

/* Runs the first complete line of the input buffer, if there is one. */
static bool stats_run_line(struct stats_conn *s)
{
	char *nl = memchr(s->in, '\n', s->inlen);
	enum report_result r;
	size_t used;

	if (!nl)
		return false;
	r = report_command(&s->out, s->in, (size_t)(nl - s->in), s->admin, &s->cont);
	s->done = r == REPORT_QUIT;
	s->more = r == REPORT_MORE;
	used = (size_t)(nl - s->in) + 1;
	s->inlen -= used;
	memmove(s->in, s->in + used, s->inlen);
	return true;
}

/* Whether the input holds a command still to run (a complete line, or the
 * unterminated last one after a half-close). */
static bool stats_has_work(const struct stats_conn *s)
{
	return !s->done && (s->more || memchr(s->in, '\n', s->inlen) ||
			    (s->eof && s->inlen > 0));
}

/* Runs commands one at a time while the unsent reply is under the
 * high-water mark, and continues a long reply first: what one peer's
 * pipelined commands cost is bounded by what it reads (pipecastd(8),
 * FAILURE MODES). A reply in slices gives the loop back after each slice. */
static void stats_run_lines(struct stats_conn *s)
{
	while (!s->done && s->out.len < STATS_OUT_HIGH) {
		if (s->more) {
			enum report_result r = report_continue(&s->out, &s->cont);

			s->more = r == REPORT_MORE;
			s->done = r == REPORT_QUIT;
			return;
		}
		if (!stats_run_line(s))
			break;
	}
	if (s->done || s->more || s->out.len >= STATS_OUT_HIGH || memchr(s->in, '\n', s->inlen))
		return;
	if (s->inlen > STATS_LINE_MAX) {
		report_error(&s->out, "line too long");
		s->done = true;
	} else if (s->eof && s->inlen > 0) {
		s->in[s->inlen++] = '\n';     /* the room of the longest line's '\n' */
		stats_run_line(s);
	}
}

/* Reads commands; a half-close means "answer, then close". */
static void stats_read(struct stats_conn *s)
{
	ssize_t n = read(s->fd, s->in + s->inlen, sizeof(s->in) - 1 - s->inlen);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		stats_conn_close(s);
		return;
	}
	s->dl.last_activity = mono_ns();
	s->inlen += (size_t)n;
	if (n == 0)
		s->eof = true;
	stats_run_lines(s);
	stats_flush(s);
}

/* The connection's input; what it allocates counts for the stats. */
static void stats_read_cb(__unused struct ev_loop *l, ev_io *w, __unused int revents)
{
	enum alloc_owner was = alloc_owner_set(ALLOC_STATS);

	stats_read(container_of(w, struct stats_conn, rio));
	alloc_owner_set(was);
}

/* The socket can take more: the next commands or slice, then the write;
 * what it allocates counts for the stats. */
static void stats_write_cb(__unused struct ev_loop *l, ev_io *w, __unused int revents)
{
	enum alloc_owner was = alloc_owner_set(ALLOC_STATS);
	struct stats_conn *s = container_of(w, struct stats_conn, wio);

	stats_run_lines(s);
	stats_flush(s);
	alloc_owner_set(was);
}

/* Writes what is pending; closes when the conversation is over. Reading
 * goes on only while the reply is under the high-water mark, no long reply
 * is being written and the input has room; commands already read wait for
 * the socket to drain (the write watcher runs them). */
static void stats_flush(struct stats_conn *s)
{
	bool work;

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
	work = stats_has_work(s);
	if (s->out.len == 0 && !work && (s->done || s->eof)) {
		stats_conn_close(s);
		return;
	}
	if (s->out.len > 0 || work)
		ev_io_start(loop, &s->wio);
	else
		ev_io_stop(loop, &s->wio);
	if (!s->done && !s->eof && !work && s->out.len < STATS_OUT_HIGH &&
	    s->inlen < sizeof(s->in) - 1)
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
static void stats_conn_new(int fd, bool admin)
{
	struct stats_conn *s = pc_calloc(1, sizeof(*s));

	if (!s) {
		close(fd);
		return;
	}
	s->fd = fd;
	s->admin = admin;
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

/* The read-only connection that has been quiet longest, or NULL. */
static struct stats_conn *stats_quietest_reader(void)
{
	struct stats_conn *s, *best = NULL;

	TAILQ_FOREACH(s, &conns, entry)
		if (!s->admin && (!best || s->dl.last_activity < best->dl.last_activity))
			best = s;
	return best;
}

/* At max_connections an admin peer (root or the daemon's user) still gets
 * in: the read-only connection quiet longest makes room for it, so readers
 * cannot lock the admin out (pipecastd(8), SECURITY). Whether fd may stay. */
static bool stats_make_room(int fd, bool admin)
{
	struct stats_conn *victim;

	if (n_conns < conf->stats.max_connections)
		return true;
	victim = admin ? stats_quietest_reader() : NULL;
	if (!victim) {
		log_debug("stats: max_connections reached; connection closed");
		close(fd);
		return false;
	}
	log_info("stats: max_connections reached; closed the read-only connection "
		 "quiet longest to let an admin in");
	stats_conn_close(victim);
	return true;
}

/* Accepts stats connections; beyond max_connections they are closed. */
static void stats_accept(ev_io *w)
{
	for (int i = 0; i < 16; i++) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		bool admin;

		if (fd < 0) {
			(void)listeners_pause_if_exhausted(errno);
			return;
		}
		admin = stats_peer_admin(fd);
		if (stats_make_room(fd, admin))
			stats_conn_new(fd, admin);
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
 * per-user private directory (pipecast.conf(5), "[stats] socket"). */
static int stats_make_dir(const char *path)
{
	char dir[600], private_dir[64];
	const char *slash = strrchr(path, '/');
	int rc;

	if (!slash || slash == path)
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	statspath_private_dir((unsigned long)geteuid(), private_dir, sizeof(private_dir));
	rc = strcmp(dir, private_dir) == 0 ? stats_private_dir(dir) : stats_mkdirs(dir);
	if (rc < 0)
		log_error("stats: %s: %s", dir, errno == EPERM ?
			  "not a directory of this user; refusing it" : strerror(errno));
	return rc;
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
	else if (statspath_default(getenv("RUNTIME_DIRECTORY"), getenv("XDG_RUNTIME_DIR"),
				   (unsigned long)geteuid(), path, sizeof(path)) < 0) {
		log_error("stats: the default socket path is too long");
		return -1;
	}
	if (stats_make_dir(path) < 0)
		return -1;
	listen_fd = net_unix_listen(path, conf->stats.mode, &sock_id, err, sizeof(err));
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
		fileid_unlink(sock_path, &sock_id);
		pc_free(sock_path);
		sock_path = NULL;
	}
}

/* A reload may change the idle timeout and the socket file's mode. */
void stats_apply_config(void)
{
	struct stats_conn *s;

	if (sock_path && fileid_chmod(sock_path, &sock_id, conf->stats.mode) < 0)
		log_warn("stats: %s: mode not applied", sock_path);
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

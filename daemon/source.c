/* source.c: reads the producer in large chunks straight into the ring,
 * where the framer commits the whole records, and runs the source's
 * timers: silence (source_idle), the restart delay, and the SIGKILL that
 * follows a SIGTERM to the command's process group by 2 s, whether or not
 * the group's leader is still there (the last two are of the kind
 * source_restart in show timers). */
#include "source.h"
#include "compat.h"
#include "counters.h"
#include "daemon.h"
#include "fanout.h"
#include "fifo.h"
#include "framer.h"
#include "log.h"
#include "timers.h"
#include "upstream.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define KILL_GRACE_S      2.0            /* SIGTERM, then SIGKILL after this */
#define LONG_RUN_NS       (10LL * 1000000000)  /* a run this long resets the backoff */
#define BACKOFF_CAP_MS    (30 * 1000)
#define READ_MAX          (256 * 1024)   /* most bytes one read() may bring */
#define BUDGET_MAX        (1024 * 1024)  /* most bytes read before clients write */
#define TURN_BYTES        (16 * 1024 * 1024)  /* about what a turn writes to all clients */
#define PIPE_MAX_FILE     "/proc/sys/fs/pipe-max-size"
#define PIPE_MAX_DEFAULT  (1024 * 1024)  /* the kernel's default pipe-max-size */
#define STDERR_LINE_MAX   1024

enum source_state { SS_OPEN, SS_WAITING, SS_RESTARTING, SS_CLOSED };

static const char *const state_names[] = {
	[SS_OPEN] = "open", [SS_WAITING] = "waiting",
	[SS_RESTARTING] = "restarting", [SS_CLOSED] = "closed",
};

static struct {
	ev_io io;                /* the data: stdin, the FIFO or the command's stdout */
	ev_io err_io;            /* the command's standard error */
	ev_child child;
	ev_timer idle_timer;
	ev_timer restart_timer;
	ev_timer kill_timer;     /* SIGKILL to the group 2 s after SIGTERM */
	struct framer framer;
	int fd, err_fd;
	pid_t pid;               /* the command, until it is reaped */
	pid_t pgid;              /* its process group (the leader's pid) */
	pid_t kill_pgid;         /* the group SIGTERM was sent to, until it is
				  * seen empty or sent SIGKILL */
	enum source_state state;
	int64_t last_data;
	int64_t run_started;
	uint64_t delay_ms;       /* the next restart delay (backoff) */
	bool silent;             /* this silent spell was already acted upon */
	bool restart_wanted;     /* on_idle = restart asked for a new run */
	bool stopping;
	bool killing;            /* kill_timer is armed: SIGTERM was sent */
	bool fifo_created;
	bool fifo_refusing;      /* the FIFO's path names something else now */
	struct fileid fifo_id;   /* the FIFO opened at start-up */
	char errline[STDERR_LINE_MAX];
	size_t errlen;
} src = { .fd = -1, .err_fd = -1 };

static void source_spawn(void);

/* Whether the input is an upstream (sse:, redis:), which upstream.c runs. */
static bool source_upstream(void)
{
	return conf->source.input == SRC_SSE || conf->source.input == SRC_REDIS;
}

/* Whole records joined the stream at ring cursor pos: records number
 * src.framer.seq - records + 1 to src.framer.seq, so that numbers stay
 * equal to source_records_total. This is the one place where the source's
 * records reach the clients' rings and their numbering (event ids, the
 * index of numbers to offsets, the SSE and WebSocket forms). */
static void source_emit(__unused void *ctx, uint64_t pos, size_t n, uint64_t records)
{
	fanout_appended_source(pos, n, records);
	counters.source_records_total += records;
}

/* The most one read() brings: large, but at most a quarter of the ring. */
size_t source_read_room(void)
{
	size_t quarter = conf->clients.buffer / 4;

	return quarter < READ_MAX ? quarter : READ_MAX;
}

/* The largest pipe an unprivileged process may ask for; the file may be
 * hidden (ProcSubset=pid in the unit), then the kernel's default. */
static long source_pipe_max(void)
{
	FILE *f = fopen(PIPE_MAX_FILE, "re");
	long max = PIPE_MAX_DEFAULT;

	if (f) {
		if (fscanf(f, "%ld", &max) != 1 || max <= 0)
			max = PIPE_MAX_DEFAULT;
		fclose(f);
	}
	return max;
}

/* Enlarges the producer's pipe so that each read() brings more and the
 * producer blocks less; on EPERM (over the limit, or the user's pipe pages
 * spent) tries half as much, down to what the pipe already has. Not a pipe
 * (standard input from a file): nothing to do. */
static void source_pipe_grow(int fd)
{
	int have = fcntl(fd, F_GETPIPE_SZ);
	long want = source_pipe_max();

	if (have < 0)
		return;
	while (want > have && fcntl(fd, F_SETPIPE_SZ, (int)want) < 0 && errno == EPERM)
		want /= 2;
	log_debug("source: pipe buffer %d bytes (asked for up to %ld)",
		  fcntl(fd, F_GETPIPE_SZ), source_pipe_max());
}

/* (Re)starts the silence timer for a full idle_timeout. */
static void source_idle_restart(void)
{
	src.last_data = mono_ns();
	src.silent = false;
	if (conf->source.idle_timeout_ms && !src.stopping)
		timer_arm(TK_SOURCE_IDLE, &src.idle_timer, conf->source.idle_timeout_ms / 1e3);
	else
		timer_disarm(TK_SOURCE_IDLE, &src.idle_timer);
}

/* Whether a command's process group still has a member: the group may
 * outlive its leader (pipecastd(8), FAILURE MODES). */
static bool source_group_alive(pid_t pgid)
{
	return pgid > 0 && (kill(-pgid, 0) == 0 || errno != ESRCH);
}

/* Sends a signal to the command's whole process group, and to a group
 * still being terminated. */
static void source_signal(int sig)
{
	if (src.pgid > 0)
		(void)kill(-src.pgid, sig);
	if (src.kill_pgid > 0 && src.kill_pgid != src.pgid)
		(void)kill(-src.kill_pgid, sig);
}

/* The escalation is over: the group is empty or was sent SIGKILL. */
static void source_kill_done(void)
{
	src.killing = false;
	src.kill_pgid = 0;
	timer_disarm(TK_SOURCE_RESTART, &src.kill_timer);
}

/* SIGTERM to the group now, SIGKILL in 2 s unless the group is seen empty
 * first: reaping the leader alone does not cancel it. */
static void source_terminate(void)
{
	if (src.killing || !source_group_alive(src.pgid))
		return;
	(void)kill(-src.pgid, SIGTERM);
	src.kill_pgid = src.pgid;
	src.killing = true;
	timer_arm(TK_SOURCE_RESTART, &src.kill_timer, KILL_GRACE_S);
}

/* Stops watching and closes the data descriptor (standard input stays). */
static void source_close_fd(void)
{
	ev_io_stop(loop, &src.io);
	if (src.fd >= 0 && conf->source.input != SRC_STDIN)
		close(src.fd);
	src.fd = -1;
}

/* Watches a FIFO descriptor: the loop hears of the next writer's first
 * bytes. The new descriptor is opened before the old one is closed: a FIFO
 * with no reader and no writer drops its buffer, so a writer that came and
 * went meanwhile would otherwise lose what it wrote. */
static void source_fifo_watch(int fd)
{
	source_close_fd();
	src.fd = fd;
	source_pipe_grow(src.fd);
	ev_io_set(&src.io, src.fd, EV_READ);
	ev_io_start(loop, &src.io);
	src.state = SS_WAITING;
}

/* The FIFO's path no longer names the FIFO opened at start-up: counted,
 * logged once per spell and tried again after restart_delay; clients stay
 * connected meanwhile (pipecastd(8), SECURITY). */
static void source_fifo_refused(const char *why)
{
	source_close_fd();
	counters.source_fifo_refused_total++;
	if (!src.fifo_refusing)
		log_error("source %s: %s; refusing it, trying again every %.3f s",
			  conf->source.input_arg, why, conf->source.restart_delay_ms / 1e3);
	src.fifo_refusing = true;
	src.state = SS_WAITING;
	timer_arm(TK_SOURCE_RESTART, &src.restart_timer, conf->source.restart_delay_ms / 1e3);
}

/* Opens the FIFO again for the next writer, only if it is still the same
 * FIFO; otherwise refuses it. */
static void source_fifo_reopen(void)
{
	const char *why;
	int fd = fifo_reopen(conf->source.input_arg, &src.fifo_id, &why);

	if (fd < 0) {
		source_fifo_refused(why);
		return;
	}
	if (src.fifo_refusing)
		log_notice("source %s: the FIFO is back", conf->source.input_arg);
	src.fifo_refusing = false;
	source_fifo_watch(fd);
}

/* Logs one line of the command's standard error. */
static void source_log_stderr(const char *p, size_t n)
{
	if (n > 0)
		log_notice("command: %.*s", (int)n, p);
}

/* Closes the command's standard error, logging an unfinished last line. */
static void source_close_stderr(void)
{
	if (src.err_fd < 0)
		return;
	source_log_stderr(src.errline, src.errlen);
	src.errlen = 0;
	ev_io_stop(loop, &src.err_io);
	close(src.err_fd);
	src.err_fd = -1;
}

/* A command has ended (output closed and process reaped): what is left of
 * its group is terminated, then it restarts with backoff, or the daemon
 * stops when on_eof = exit. */
static void source_command_ended(void)
{
	int64_t run = mono_ns() - src.run_started;
	uint64_t cap = conf->source.restart_delay_ms > BACKOFF_CAP_MS ?
		       conf->source.restart_delay_ms : BACKOFF_CAP_MS;
	uint64_t delay;

	source_terminate();
	if (src.stopping)
		return;
	if (!src.restart_wanted && conf->source.on_eof != ON_EOF_RESTART) {
		src.state = SS_CLOSED;
		daemon_stop("the command ended");
		return;
	}
	if (run >= LONG_RUN_NS)
		src.delay_ms = conf->source.restart_delay_ms;
	delay = src.delay_ms;
	if (run < LONG_RUN_NS)
		src.delay_ms = delay * 2 < cap ? delay * 2 : cap;
	src.state = SS_RESTARTING;
	timer_disarm(TK_SOURCE_IDLE, &src.idle_timer);
	log_notice("restarting the command in %.3f s", delay / 1e3);
	timer_arm(TK_SOURCE_RESTART, &src.restart_timer, delay / 1e3);
}

/* The end of the source: complete the last line, then on_eof decides. */
static void source_eof(void)
{
	fanout_prepare(0);
	framer_finish(&src.framer);
	fanout_flush();
	fanout_new_run();
	if (conf->source.input == SRC_FIFO && conf->source.on_eof == ON_EOF_REOPEN &&
	    !src.stopping) {
		log_info("source: the writer closed the FIFO; waiting for the next");
		source_fifo_reopen();
		return;
	}
	source_close_fd();
	switch (conf->source.input) {
	case SRC_FIFO:
		break;
	case SRC_EXEC:
		if (src.pid > 0) {
			source_terminate();
			return;          /* the child watcher finishes the job */
		}
		source_command_ended();
		return;
	case SRC_STDIN:
	case SRC_SSE:
	case SRC_REDIS:
		break;
	}
	src.state = SS_CLOSED;
	daemon_stop("end of input");
}

/* How much to read before the clients write: each client then writes
 * about that much, so a turn of the loop copies budget x clients bytes.
 * Few clients: large batches save turns. Many: one read (256 KiB) a turn,
 * because the kernel copies a socket write of 1 MiB at a higher cost per
 * byte than one of 256 KiB (a minimal relay measured at 100 clients loses
 * a quarter of its rate with 1 MiB writes, pipecastd gains as much with
 * 256 KiB ones), and a short turn makes records wait less. So 1 MiB up to
 * 16 clients, 256 KiB from 64 on, never over a quarter of the ring. */
static size_t source_budget(void)
{
	uint64_t n = counters.clients_connected ? counters.clients_connected : 1;
	size_t quarter = conf->clients.buffer / 4;
	size_t b = TURN_BYTES / n;

	b = b < READ_MAX ? READ_MAX : b > BUDGET_MAX ? BUDGET_MAX : b;
	return quarter < b ? quarter : b;
}

/* Reads until the pipe is drained or the turn's budget has come in, each
 * read straight into the ring's reserve, then lets clients write it all in
 * one go: larger batches would leave the clients' sockets idle while the
 * source is read. A short read ends the loop,
 * except on a FIFO: a writer that came and went while the FIFO was being
 * reopened raises no hang-up on the new descriptor, so its end is only seen
 * by reading on to the end of file. */
static void source_read_cb(__unused struct ev_loop *l, __unused ev_io *w, __unused int revents)
{
	size_t budget = source_budget();
	size_t got = 0;

	while (got < budget) {
		size_t room;
		char *p = framer_space(&src.framer, &room);
		ssize_t n;

		fanout_prepare(room);
		n = read(src.fd, p, room);
		if (n > 0) {
			got += (size_t)n;
			counters.source_bytes_total += (uint64_t)n;
			framer_commit(&src.framer, (size_t)n);
			if ((size_t)n < room && conf->source.input != SRC_FIFO)
				break;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			log_warn("source: read (treated as the end)");
		counters.source_long_lines_total = src.framer.long_lines;
		source_eof();
		return;
	}
	counters.source_long_lines_total = src.framer.long_lines;
	if (got == 0)
		return;
	src.state = SS_OPEN;
	src.last_data = mono_ns();
	if (src.silent)
		source_idle_restart();
	fanout_flush();
}

/* Splits the command's standard error into lines and logs them. */
static void source_stderr_cb(__unused struct ev_loop *l, __unused ev_io *w, __unused int revents)
{
	ssize_t n = read(src.err_fd, src.errline + src.errlen, sizeof(src.errline) - src.errlen);
	char *p, *nl;

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			source_close_stderr();
		return;
	}
	src.errlen += (size_t)n;
	p = src.errline;
	while ((nl = memchr(p, '\n', src.errlen - (size_t)(p - src.errline))) != NULL) {
		source_log_stderr(p, (size_t)(nl - p));
		p = nl + 1;
	}
	src.errlen -= (size_t)(p - src.errline);
	memmove(src.errline, p, src.errlen);
	if (src.errlen == sizeof(src.errline)) {
		source_log_stderr(src.errline, src.errlen);
		src.errlen = 0;
	}
}

/* The command was reaped. */
static void source_child_cb(__unused struct ev_loop *l, ev_child *w, __unused int revents)
{
	int st = w->rstatus;

	ev_child_stop(loop, w);
	if (WIFSIGNALED(st))
		log_notice("command %d killed by signal %d", (int)src.pid, WTERMSIG(st));
	else
		log_notice("command %d exited with status %d", (int)src.pid, WEXITSTATUS(st));
	src.pid = 0;
	if (src.killing && !source_group_alive(src.kill_pgid))
		source_kill_done();
	if (src.fd < 0)
		source_command_ended();
}

/* SIGTERM was ignored for 2 s by the leader or any member of its group. */
static void source_kill_cb(__unused struct ev_loop *l, ev_timer *w, __unused int revents)
{
	timer_fired(TK_SOURCE_RESTART, w);
	if (source_group_alive(src.kill_pgid)) {
		log_warning("command %d (process group) ignored SIGTERM; sending SIGKILL",
			    (int)src.kill_pgid);
		(void)kill(-src.kill_pgid, SIGKILL);
	}
	source_kill_done();
}

/* Restart delay over. */
static void source_restart_cb(__unused struct ev_loop *l, ev_timer *w, __unused int revents)
{
	timer_fired(TK_SOURCE_RESTART, w);
	timer_disarm(TK_SOURCE_RESTART, w);
	if (!src.stopping && conf->source.input == SRC_FIFO) {
		source_fifo_reopen();
	} else if (!src.stopping) {
		counters.source_restarts_total++;
		source_spawn();
	}
}

/* The source has been silent: act once per silent spell (on_idle). */
static void source_idle_cb(__unused struct ev_loop *l, ev_timer *w, __unused int revents)
{
	int64_t limit = MS_TO_NS(conf->source.idle_timeout_ms);
	int64_t quiet = mono_ns() - src.last_data;

	timer_fired(TK_SOURCE_IDLE, w);
	if (limit == 0) {
		timer_disarm(TK_SOURCE_IDLE, w);
		return;
	}
	if (quiet < limit) {
		timer_arm(TK_SOURCE_IDLE, w, NS_TO_S(limit - quiet));
		return;
	}
	timer_disarm(TK_SOURCE_IDLE, w);
	src.silent = true;
	log_notice("source silent for %.3f s", NS_TO_S(quiet));
	if (conf->source.on_idle == ON_IDLE_EXIT) {
		daemon_stop("the source is silent");
	} else if (conf->source.on_idle == ON_IDLE_RESTART && source_group_alive(src.pgid) &&
		   !src.restart_wanted) {
		src.restart_wanted = true;
		source_terminate();
	}
}

/* Starts the command with /bin/sh -c in its own process group, standard
 * output and error on pipes, standard input on /dev/null, default signals. */
static void source_spawn(void)
{
	char *argv[] = { "sh", "-c", conf->source.input_arg, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, rc;

	source_close_stderr();
	src.run_started = mono_ns();
	src.restart_wanted = false;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		rc = errno;
		goto fail;
	}
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					      POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	rc = posix_spawn(&src.pid, "/bin/sh", &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0)
		goto fail;
	src.pgid = src.pid;
	close(out[1]);
	close(err[1]);
	src.fd = out[0];
	src.err_fd = err[0];
	source_pipe_grow(src.fd);
	fcntl(src.fd, F_SETFL, O_NONBLOCK);
	fcntl(src.err_fd, F_SETFL, O_NONBLOCK);
	ev_io_set(&src.io, src.fd, EV_READ);
	ev_io_start(loop, &src.io);
	ev_io_set(&src.err_io, src.err_fd, EV_READ);
	ev_io_start(loop, &src.err_io);
	ev_child_set(&src.child, src.pid, 0);
	ev_child_start(loop, &src.child);
	src.state = SS_OPEN;
	log_info("command %d started: %s", (int)src.pid, conf->source.input_arg);
	source_idle_restart();
	return;
fail:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	src.pid = 0;
	log_error("cannot start the command: %s", strerror(rc));
	source_command_ended();
}

/* Creates (if needed) and opens the FIFO at start-up; refuses a path that
 * is something else, or a FIFO another user planted (fifo.c). */
static int source_fifo_open(void)
{
	int fd = fifo_open(conf->source.input_arg, conf->source.fifo_mode, &src.fifo_id,
			   &src.fifo_created);

	if (fd < 0)
		return -1;
	source_fifo_watch(fd);
	return 0;
}

/* Sets up the framer on the ring and the timers, and opens the configured
 * input. */
int source_open(void)
{
	if (source_upstream())
		return upstream_open();
	if (framer_init(&src.framer, fanout_ring_writer(), conf->source.framing == FRAMING_RAW,
			conf->source.max_line, source_read_room(), source_emit, NULL) < 0) {
		log_error("source: out of memory");
		return -1;
	}
	timer_setup(TK_SOURCE_IDLE, &src.idle_timer, source_idle_cb);
	timer_setup(TK_SOURCE_RESTART, &src.restart_timer, source_restart_cb);
	timer_setup(TK_SOURCE_RESTART, &src.kill_timer, source_kill_cb);
	ev_init(&src.io, source_read_cb);
	ev_init(&src.err_io, source_stderr_cb);
	ev_child_init(&src.child, source_child_cb, 0, 0);
	src.delay_ms = conf->source.restart_delay_ms;
	switch (conf->source.input) {
	case SRC_STDIN:
		src.fd = STDIN_FILENO;
		fcntl(src.fd, F_SETFL, fcntl(src.fd, F_GETFL) | O_NONBLOCK);
		source_pipe_grow(src.fd);
		src.state = SS_OPEN;
		ev_io_set(&src.io, src.fd, EV_READ);
		ev_io_start(loop, &src.io);
		break;
	case SRC_FIFO:
		if (source_fifo_open() < 0)
			return -1;
		break;
	case SRC_EXEC:
		source_spawn();
		return 0;
	case SRC_SSE:
	case SRC_REDIS:
		break;
	}
	source_idle_restart();
	return 0;
}

/* Graceful stop of the source. */
void source_stop(void)
{
	if (src.stopping)
		return;
	src.stopping = true;
	if (source_upstream()) {
		upstream_stop();
		return;
	}
	if (framer_held(&src.framer))
		log_notice("source: discarding %zu bytes of an unfinished line",
			   framer_held(&src.framer));
	timer_disarm(TK_SOURCE_IDLE, &src.idle_timer);
	timer_disarm(TK_SOURCE_RESTART, &src.restart_timer);
	source_close_fd();
	source_terminate();
}

/* Immediate stop: nothing of the command may outlive the daemon. */
void source_kill(void)
{
	source_stop();
	source_signal(SIGKILL);
}

/* Whether the stop may complete: the command is reaped and its group is
 * empty or has been sent SIGKILL. */
bool source_finished(void)
{
	return src.pid <= 0 && !src.killing;
}

/* Takes a new idle_timeout or restart_delay into account. */
void source_apply_config(void)
{
	if (source_upstream()) {
		upstream_apply_config();
		return;
	}
	if (src.stopping || src.state == SS_RESTARTING)
		return;
	src.silent = false;
	if (conf->source.idle_timeout_ms) {
		int64_t left = src.last_data + MS_TO_NS(conf->source.idle_timeout_ms) - mono_ns();

		timer_arm(TK_SOURCE_IDLE, &src.idle_timer, NS_TO_S(left > 0 ? left : 0));
	} else {
		timer_disarm(TK_SOURCE_IDLE, &src.idle_timer);
	}
}

/* Exit: release descriptors and memory; remove the FIFO we made. */
void source_free(void)
{
	if (source_upstream()) {
		upstream_free();
		return;
	}
	source_close_fd();
	source_close_stderr();
	if (ev_is_active(&src.child))
		ev_child_stop(loop, &src.child);
	timer_disarm(TK_SOURCE_IDLE, &src.idle_timer);
	timer_disarm(TK_SOURCE_RESTART, &src.restart_timer);
	timer_disarm(TK_SOURCE_RESTART, &src.kill_timer);
	if (src.fifo_created)
		fileid_unlink(conf->source.input_arg, &src.fifo_id);
	framer_free(&src.framer);
}

/* How long the source has been silent. */
double source_idle_seconds(void)
{
	if (source_upstream())
		return upstream_idle_seconds();
	return NS_TO_S(mono_ns() - src.last_data);
}

/* source_state, as pipecastd(8) spells it. */
const char *source_state_name(void)
{
	if (source_upstream())
		return upstream_state_name();
	return state_names[src.state];
}

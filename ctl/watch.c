/* watch.c: `pipecastctl watch`: one connection kept open, `show info` every
 * interval, rates from the deltas between samples, redrawn in place on a
 * terminal and printed as successive frames otherwise. */
#include "ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* One `show info` reply and when it arrived. */
struct sample {
	struct ctl_info info;
	int64_t at_ms;
	bool ok;
};

/* The live view's state. */
struct watch {
	struct conn *conn;
	bool tty;
	bool keys;               /* stdin is a terminal: q quits */
	struct termios saved;    /* its settings, restored at the end */
	struct sample prev, cur;
	char err[2 * STATSPATH_LEN];
};

/* A rate shown in the view: a counter (or a sum of counters) per second. */
struct rate {
	const char *const *names;
	bool bytes;
};

static const char *const records_names[] = { "source_records_total", NULL };
static const char *const source_bytes_names[] = { "source_bytes_total", NULL };
static const char *const sent_names[] = { "bytes_sent_total", NULL };
static const char *const accepted_names[] = { "clients_accepted_total", NULL };
static const char *const closed_names[] = {
	"clients_closed_idle_total", "clients_closed_send_timeout_total",
	"clients_dropped_overflow_total", "clients_closed_peer_total",
	"clients_closed_error_total", "clients_closed_kill_total",
	"clients_closed_shutdown_total", NULL,
};

static volatile sig_atomic_t stop_signal;

/* SIGINT and SIGTERM end the view cleanly; the waits notice the flag. */
static void watch_on_signal(int sig)
{
	stop_signal = sig;
}

/* Blocks SIGINT/SIGTERM except inside ppoll, so that no signal slips in
 * between checking the flag and starting to wait. */
static void watch_signals(sigset_t *wait_mask)
{
	struct sigaction sa = { .sa_handler = watch_on_signal };
	sigset_t block;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, wait_mask);
	sigdelset(wait_mask, SIGINT);
	sigdelset(wait_mask, SIGTERM);
	conn_wait_mask(wait_mask);
}

/* Whether the key pressed (if any) is q. */
static bool watch_quit_key(void)
{
	char k;

	return read(STDIN_FILENO, &k, 1) == 1 && (k == 'q' || k == 'Q');
}

/* Sleeps until deadline; false when a signal or the q key asked us to
 * stop. */
static bool watch_sleep(const struct watch *w, int64_t deadline, const sigset_t *mask)
{
	struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
	int64_t left;

	while (!stop_signal && (left = deadline - ctl_now_ms()) > 0) {
		struct timespec ts = { .tv_sec = left / 1000,
				       .tv_nsec = left % 1000 * 1000000 };

		if (ppoll(&in, w->keys ? 1 : 0, &ts, mask) > 0 && (in.revents & POLLIN) &&
		    watch_quit_key())
			return false;
	}
	return !stop_signal;
}

/* On a terminal, keys are read one at a time and not echoed. */
static void watch_keys_on(struct watch *w)
{
	struct termios t;

	if (!w->tty || !isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &w->saved) < 0)
		return;
	t = w->saved;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	w->keys = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
}

/* Gives the terminal its settings back. */
static void watch_keys_off(struct watch *w)
{
	if (w->keys)
		tcsetattr(STDIN_FILENO, TCSANOW, &w->saved);
}

/* Turns an `error:` reply into the message to print. */
static enum conn_status watch_daemon_error(struct watch *w, const char *body,
					   size_t len)
{
	while (len > 0 && body[len - 1] == '\n')
		len--;
	snprintf(w->err, sizeof(w->err), "%.*s", (int)len, body);
	return CONN_ERROR;
}

/* Sends `show info`, reconnecting once if the daemon closed the idle
 * connection in between (stats idle_timeout). */
static enum conn_status watch_ask(struct watch *w, const char **body, size_t *len)
{
	enum conn_status st;

	st = conn_request(w->conn, "show info", false, body, len, w->err, sizeof(w->err));
	if (st != CONN_CLOSED)
		return st;
	st = conn_reopen(w->conn, w->err, sizeof(w->err));
	if (st == CONN_OK)
		st = conn_request(w->conn, "show info", false, body, len,
				  w->err, sizeof(w->err));
	if (st == CONN_CLOSED)
		snprintf(w->err, sizeof(w->err), "daemon went away: %s closed the connection",
			 conn_path(w->conn));
	return st == CONN_CLOSED ? CONN_ERROR : st;
}

/* Takes one sample into w->cur, keeping the previous one for the rates. */
static enum conn_status watch_sample(struct watch *w)
{
	const char *body;
	size_t len;
	enum conn_status st = watch_ask(w, &body, &len);

	if (st != CONN_OK)
		return st;
	if (ctl_reply_is_error(body, len))
		return watch_daemon_error(w, body, len);
	ctl_info_free(&w->prev.info);
	w->prev = w->cur;
	memset(&w->cur, 0, sizeof(w->cur));
	if (ctl_info_parse(body, len, &w->cur.info) < 0) {
		snprintf(w->err, sizeof(w->err), "out of memory");
		return CONN_ERROR;
	}
	w->cur.at_ms = ctl_now_ms();
	w->cur.ok = true;
	return CONN_OK;
}

/* Whether the previous sample is from the same daemon process. */
static bool watch_comparable(const struct watch *w)
{
	const char *a, *b;

	if (!w->prev.ok)
		return false;
	a = ctl_info_get(&w->prev.info, "pid");
	b = ctl_info_get(&w->cur.info, "pid");
	return a && b && strcmp(a, b) == 0;
}

/* One rate, human-readable, or "-" when it cannot be computed yet. */
static const char *watch_rate(const struct watch *w, const struct rate *r,
			      char *buf, size_t len)
{
	uint64_t a, b;
	double per_s;

	if (!watch_comparable(w) ||
	    ctl_info_sum(&w->prev.info, r->names, &a) < 0 ||
	    ctl_info_sum(&w->cur.info, r->names, &b) < 0 ||
	    ctl_rate(a, b, (double)(w->cur.at_ms - w->prev.at_ms) / 1000, &per_s) < 0)
		return "-";
	if (r->bytes)
		ctl_human_byte_rate(per_s, buf, len);
	else
		ctl_human_count(per_s, buf, len);
	return buf;
}

/* A value as the daemon sent it, or "?" when it is missing. */
static const char *watch_value(const struct watch *w, const char *name)
{
	const char *v = ctl_info_get(&w->cur.info, name);

	return v ? v : "?";
}

/* A byte count made human-readable, or "?". */
static const char *watch_bytes(const struct watch *w, const char *name,
			       char *buf, size_t len)
{
	uint64_t v;

	if (ctl_info_u64(&w->cur.info, name, &v) < 0)
		return "?";
	return ctl_human_bytes((double)v, buf, len);
}

/* The uptime as 1h02m03s; the daemon may send decimals. */
static const char *watch_uptime(const struct watch *w, char *buf, size_t len)
{
	const char *s = ctl_info_get(&w->cur.info, "uptime_seconds");
	char *end;
	double v = s ? strtod(s, &end) : -1;

	if (!s || end == s || *end || !(v >= 0))
		return "?";
	return ctl_human_duration((uint64_t)v, buf, len);
}

/* Ends one line of the frame; on a terminal, clears what an older, longer
 * line left there. */
static void watch_eol(const struct watch *w)
{
	fputs(w->tty ? "\033[K\n" : "\n", stdout);
}

/* The header and the client figures. */
static void watch_draw_top(const struct watch *w)
{
	static const struct rate accepted = { accepted_names, false };
	static const struct rate closed = { closed_names, false };
	char b1[32], b2[32], b3[32];

	printf("pipecast %s  pid %s  up %s  source %s", watch_value(w, "version"),
	       watch_value(w, "pid"), watch_uptime(w, b1, sizeof(b1)),
	       watch_value(w, "source_state"));
	watch_eol(w);
	printf("clients  %s connected  accepted %s/s  closed %s/s",
	       watch_value(w, "clients_connected"),
	       watch_rate(w, &accepted, b2, sizeof(b2)),
	       watch_rate(w, &closed, b3, sizeof(b3)));
	watch_eol(w);
}

/* Throughput, timers, memory and the ring. */
static void watch_draw_rest(const struct watch *w)
{
	static const struct rate records = { records_names, false };
	static const struct rate source = { source_bytes_names, true };
	static const struct rate sent = { sent_names, true };
	char b1[32], b2[32], b3[32];

	printf("records  %s/s  source %s/s  sent %s/s",
	       watch_rate(w, &records, b1, sizeof(b1)),
	       watch_rate(w, &source, b2, sizeof(b2)),
	       watch_rate(w, &sent, b3, sizeof(b3)));
	watch_eol(w);
	printf("timers   %s live  %s client", watch_value(w, "timers_live"),
	       watch_value(w, "timers_client_live"));
	watch_eol(w);
	printf("memory   rss %s  allocations %s live",
	       watch_bytes(w, "memory_rss_bytes", b1, sizeof(b1)),
	       watch_value(w, "allocations_live"));
	watch_eol(w);
	printf("ring     %s used of %s", watch_bytes(w, "ring_used_bytes", b2, sizeof(b2)),
	       watch_bytes(w, "ring_size_bytes", b3, sizeof(b3)));
	watch_eol(w);
	if (w->tty) {
		printf("%s", w->keys ? "q or Ctrl-C quits" : "Ctrl-C quits");
		watch_eol(w);
	}
}

/* One frame: in place on a terminal, after an empty line otherwise. */
static void watch_draw(const struct watch *w, uint64_t frame)
{
	if (w->tty)
		fputs(frame == 0 ? "\033[2J\033[H" : "\033[H", stdout);
	else if (frame > 0)
		putchar('\n');
	watch_draw_top(w);
	watch_draw_rest(w);
	if (w->tty)
		fputs("\033[J", stdout);
	fflush(stdout);
}

/* Samples and draws until COUNT frames, a signal, or an error. */
static int watch_loop(struct watch *w, const struct watch_opts *o,
		      const sigset_t *mask)
{
	int64_t next = ctl_now_ms();

	for (uint64_t frame = 0; o->count == 0 || frame < o->count; frame++) {
		enum conn_status st;

		if (frame > 0 && !watch_sleep(w, next, mask))
			return CTL_EXIT_OK;
		st = watch_sample(w);
		if (st == CONN_INTR || stop_signal)
			return CTL_EXIT_OK;
		if (st != CONN_OK) {
			ctl_warn("%s", w->err);
			return CTL_EXIT_FAIL;
		}
		watch_draw(w, frame);
		next += (int64_t)o->interval_ms;
		if (next < ctl_now_ms())  /* a slow daemon: do not try to catch up */
			next = ctl_now_ms() + (int64_t)o->interval_ms;
	}
	return CTL_EXIT_OK;
}

/* `watch`: the live view until q, Ctrl-C, SIGTERM or -n frames. */
int watch_run(const struct statspath_list *paths, const struct watch_opts *o)
{
	struct watch w = { .tty = isatty(STDOUT_FILENO) == 1 };
	sigset_t mask;
	int rc;

	watch_signals(&mask);
	w.conn = conn_open(paths, o->timeout_ms, w.err, sizeof(w.err));
	if (!w.conn) {
		ctl_warn("%s", w.err);
		return CTL_EXIT_FAIL;
	}
	if (w.tty)
		fputs("\033[?25l", stdout);
	watch_keys_on(&w);
	rc = watch_loop(&w, o, &mask);
	watch_keys_off(&w);
	if (w.tty)
		fputs("\033[?25h", stdout);
	fflush(stdout);
	ctl_info_free(&w.prev.info);
	ctl_info_free(&w.cur.info);
	conn_close(w.conn);
	return rc;
}

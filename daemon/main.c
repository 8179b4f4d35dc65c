/* main.c: pipecastd's command line, start-up, signals and the stop sequence. */
#include "compat.h"
#include "access.h"
#include "activation.h"
#include "alloc.h"
#include "client.h"
#include "config.h"
#include "counters.h"
#include "daemon.h"
#include "fanout.h"
#include "listener.h"
#include "log.h"
#include "notify.h"
#include "reload.h"
#include "source.h"
#include "stats.h"
#include "timers.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define FD_RESERVE 64   /* descriptors the daemon needs besides its clients */

struct ev_loop *loop;
const struct config *conf;

static struct config config;
static bool stopping;
static int64_t start_ns;
static ev_timer shutdown_timer;
static ev_signal sig_term, sig_int, sig_hup;
static ev_prepare safe_point;

static const char usage[] =
	"usage: pipecastd [-c FILE] [-o SECTION.KEY=VALUE]... [-t] [-V] [-h]\n"
	"  -c FILE   read the configuration from FILE (default: built-in defaults)\n"
	"  -o S.K=V  set one key after the file is read (repeatable); quote values\n"
	"            with spaces: -o 'source.input=exec:vmstat 1'\n"
	"  -t        check the configuration, print the listen addresses, exit\n"
	"  -V        print the version and exit\n"
	"  -h, --help  print this help and exit\n"
	"  --sizes   print the size of each per-connection structure and exit\n"
	"Example: vmstat 1 | pipecastd      then, elsewhere: nc 127.0.0.1 7070\n"
	"See pipecastd(8) and pipecast.conf(5).\n";

/* The configuration in force (reload.c replaces its contents). */
struct config *daemon_config(void)
{
	return &config;
}

/* Monotonic clock for every activity timestamp. */
int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* For uptime_seconds. */
int64_t daemon_started(void)
{
	return start_ns;
}

/* Whether the stop sequence has begun. */
bool daemon_stopping(void)
{
	return stopping;
}

/* libev's allocations go through the counting allocator too. */
static void *ev_alloc(void *ptr, long size)
{
	void *p = pc_realloc(ptr, (size_t)size);

	if (!p && size > 0)
		fatalx("out of memory in the event loop");
	return p;
}

/* Graceful stop: no more accepting or reading; clients get what they have
 * pending for up to shutdown_timeout. */
void daemon_stop(const char *why)
{
	if (stopping)
		return;
	stopping = true;
	log_notice("stopping: %s", why);
	notify_stopping();
	listeners_close();
	source_stop();
	fanout_stop();
	if (conf->daemon.shutdown_timeout_ms == 0) {
		clients_close_all(CLOSE_SHUTDOWN);
		return;
	}
	clients_shutdown();
	if (counters.clients_connected > 0)
		timer_arm(TK_SHUTDOWN, &shutdown_timer, conf->daemon.shutdown_timeout_ms / 1e3);
}

/* Ends at once: closes everything still open and leaves the loop. */
static void daemon_stop_now(const char *why)
{
	log_notice("stopping now: %s", why);
	if (!stopping)
		notify_stopping();
	stopping = true;
	listeners_close();
	clients_close_all(CLOSE_SHUTDOWN);
	source_kill();
	ev_break(loop, EVBREAK_ALL);
}

/* shutdown_timeout is over: whoever is still draining is closed. */
static void shutdown_cb(__unused struct ev_loop *l, ev_timer *w, __unused int revents)
{
	timer_fired(TK_SHUTDOWN, w);
	timer_disarm(TK_SHUTDOWN, w);
	clients_close_all(CLOSE_SHUTDOWN);
}

/* Each loop turn, after the callbacks: free what was closed, and leave the
 * loop once a stop has nothing left to wait for. */
static void safe_point_cb(struct ev_loop *l, __unused ev_prepare *w, __unused int revents)
{
	clients_reap();
	stats_reap();
	access_safe_point();
	if (stopping && counters.clients_connected == 0 && source_finished())
		ev_break(l, EVBREAK_ALL);
}

/* SIGTERM and SIGINT: the first stops gracefully, the second at once. */
static void stop_signal_cb(__unused struct ev_loop *l, ev_signal *w, __unused int revents)
{
	if (stopping)
		daemon_stop_now(strsignal(w->signum));
	else
		daemon_stop(strsignal(w->signum));
}

/* SIGHUP: reload; a failure is logged and changes nothing. */
static void hup_signal_cb(__unused struct ev_loop *l, __unused ev_signal *w, __unused int revents)
{
	char err[512];

	log_notice("SIGHUP: reloading the configuration");
	if (reload_run(err, sizeof(err), NULL) < 0)   /* the cause is logged already */
		log_error("reload failed; nothing changed");
}

/* Raises the soft descriptor limit to the hard one; warns when max_clients
 * cannot be reached with it. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("cannot raise the descriptor limit");
	}
	if (rl.rlim_cur != RLIM_INFINITY && conf->clients.max_clients + FD_RESERVE > rl.rlim_cur)
		log_warning("max_clients %llu needs about %llu descriptors; the limit is %llu",
			    (unsigned long long)conf->clients.max_clients,
			    (unsigned long long)(conf->clients.max_clients + FD_RESERVE),
			    (unsigned long long)rl.rlim_cur);
}

/* Loads the configuration; on failure prints every problem. */
static int load_config(const char *file, const char **overrides, size_t n)
{
	struct config_errors errs = { 0 };
	int rc = config_load(&config, file, overrides, n, &errs);

	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "pipecastd: %s\n", errs.msg[i]);
	config_errors_free(&errs);
	if (rc == 0)
		conf = &config;
	return rc;
}

/* Installs the signal watchers; SIGPIPE becomes a write error instead. */
static void setup_signals(void)
{
	signal(SIGPIPE, SIG_IGN);
	ev_signal_init(&sig_term, stop_signal_cb, SIGTERM);
	ev_signal_init(&sig_int, stop_signal_cb, SIGINT);
	ev_signal_init(&sig_hup, hup_signal_cb, SIGHUP);
	ev_signal_start(loop, &sig_term);
	ev_signal_start(loop, &sig_int);
	ev_signal_start(loop, &sig_hup);
}

/* Everything from the loop to the source; exit status 2 on failure. */
static int start(void)
{
	char w[300];

	start_ns = mono_ns();
	activation_init();
	ev_set_allocator(ev_alloc);
	loop = ev_default_loop(EVFLAG_AUTO);
	if (!loop) {
		log_error("cannot initialise the event loop");
		return EXIT_STARTUP;
	}
	setup_signals();
	raise_fd_limit();
	notify_init();
	timer_setup(TK_SHUTDOWN, &shutdown_timer, shutdown_cb);
	ev_prepare_init(&safe_point, safe_point_cb);
	ev_prepare_start(loop, &safe_point);
	if (access_init() < 0)
		return EXIT_STARTUP;
	if (fanout_init() < 0) {
		log_syserr("cannot allocate the %llu-byte buffer",
			   (unsigned long long)conf->clients.buffer);
		return EXIT_STARTUP;
	}
	if (listeners_open() < 0)
		return EXIT_STARTUP;
	if (stats_open() < 0 || source_open() < 0) {
		stats_close();
		listeners_close();
		return EXIT_STARTUP;
	}
	activation_close_unclaimed();
	if (config_liveness_warning(conf, w, sizeof(w)))
		log_warning("%s", w);
	log_notice("ready: pid %d, %zu listen address(es), %zu HTTP, source %s", (int)getpid(),
		   conf->clients.n_listen, conf->http.n_listen, source_state_name());
	notify_ready();
	return EXIT_OK;
}

/* Releases everything so that leak checkers see a clean exit. */
static void finish(void)
{
	listeners_finish();
	stats_close();
	clients_close_all(CLOSE_SHUTDOWN);
	clients_reap();
	source_free();
	fanout_free();
	access_free();
	timer_disarm(TK_SHUTDOWN, &shutdown_timer);
	notify_free();
	ev_prepare_stop(loop, &safe_point);
	ev_signal_stop(loop, &sig_term);
	ev_signal_stop(loop, &sig_int);
	ev_signal_stop(loop, &sig_hup);
	log_finish(200);
	ev_loop_destroy(loop);
	loop = NULL;
	config_free(&config);
	reload_free();
}

/* -t: the verdict, then the listen addresses the daemon would use. */
static void check_report(void)
{
	char w[300];

	if (config_liveness_warning(conf, w, sizeof(w)))
		fprintf(stderr, "pipecastd: warning: %s\n", w);
	printf("pipecastd: configuration OK\n");
	for (size_t i = 0; i < conf->clients.n_listen; i++)
		printf("listen %s\n", conf->clients.listen[i]);
}

/* A stray word, most often the rest of an -o value the shell split
 * (`-o source.input=exec:vmstat 1`): says how to quote it. */
static void unexpected_arg(char **rest, int n, const char *last_o)
{
	fprintf(stderr, "pipecastd: unexpected argument '%s'\n", rest[0]);
	if (last_o) {
		fprintf(stderr, "pipecastd: hint: a value with spaces must be quoted: -o '%s",
			last_o);
		for (int i = 0; i < n; i++)
			fprintf(stderr, " %s", rest[i]);
		fputs("'\n", stderr);
	}
	fputs(usage, stderr);
}

/* --sizes: one line per per-connection structure: name, bytes, where. */
static void print_sizes(void)
{
	size_t n;
	const struct client_size *s = client_sizes(&n);

	for (size_t i = 0; i < n; i++)
		printf("%s\t%zu\t%s\n", s[i].name, s[i].bytes, s[i].what);
}

/* Parses the command line; returns -1 to exit with *status. */
static int parse_args(int argc, char **argv, const char **file, const char ***ov,
		      size_t *n_ov, bool *check, int *status)
{
	int opt;

	static const struct option longs[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "sizes", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};

	*ov = pc_calloc((size_t)argc, sizeof(**ov));
	while ((opt = getopt_long(argc, argv, "c:o:tVh", longs, NULL)) != -1) {
		switch (opt) {
		case 'c': *file = optarg; break;
		case 'o': (*ov)[(*n_ov)++] = optarg; break;
		case 't': *check = true; break;
		case 'V': printf("pipecastd %s\n", PIPECAST_VERSION); *status = EXIT_OK; return -1;
		case 'h': fputs(usage, stdout); *status = EXIT_OK; return -1;
		case 'S': print_sizes(); *status = EXIT_OK; return -1;
		default: fputs(usage, stderr); *status = EXIT_USAGE; return -1;
		}
	}
	if (optind < argc) {
		unexpected_arg(argv + optind, argc - optind, *n_ov ? (*ov)[*n_ov - 1] : NULL);
		*status = EXIT_USAGE;
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *file = NULL, **ov = NULL;
	size_t n_ov = 0;
	bool check = false;
	int status = EXIT_OK;

	if (parse_args(argc, argv, &file, &ov, &n_ov, &check, &status) < 0 ||
	    (status = load_config(file, ov, n_ov) < 0 ? EXIT_USAGE : EXIT_OK) != EXIT_OK) {
		pc_free(ov);
		return status;
	}
	reload_setup(file, ov, n_ov);
	pc_free(ov);
	if (check) {
		check_report();
		config_free(&config);
		reload_free();
		return EXIT_OK;
	}
	log_init();
	log_set_level(conf->daemon.log_level);
	status = start();
	if (status == EXIT_OK)
		ev_run(loop, 0);
	log_notice("exiting");
	finish();
	return status;
}

/* listener.c: accepting clients ([clients] listen) and HTTP connections
 * ([http] listen). On EMFILE/ENFILE every listener, the stats
 * socket's included, pauses and one timer resumes them, so a full descriptor
 * table never spins the CPU. */
#include "listener.h"
#include "compat.h"
#include "access.h"
#include "activation.h"
#include "alloc.h"
#include "client.h"
#include "daemon.h"
#include "list.h"
#include "listen.h"
#include "log.h"
#include "net.h"
#include "stats.h"
#include "timers.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define ACCEPT_PAUSE_S  0.25   /* how long accepting rests after EMFILE */
#define ACCEPT_BATCH    64     /* connections taken per readiness event */
#define TCP_ADDRS_MAX   8      /* addresses one tcp: name may resolve to */

struct listener {
	TAILQ_ENTRY(listener) entry;
	ev_io io;
	int fd;
	bool tcp;
	bool http;             /* an [http] listener */
	char *unix_path;       /* set when this daemon created the socket file */
	struct fileid unix_id; /* that file, changed and removed by identity */
	char *spec;
};

TAILQ_HEAD(listener_list, listener);
static struct listener_list listeners = TAILQ_HEAD_INITIALIZER(listeners);
static struct listener_list staged = TAILQ_HEAD_INITIALIZER(staged);  /* reload */
static ev_timer pause_timer;
static bool pause_setup;

/* Starts or stops every listener's watcher. */
static void listeners_watch(bool on)
{
	struct listener *l;

	TAILQ_FOREACH(l, &listeners, entry) {
		if (on)
			ev_io_start(loop, &l->io);
		else
			ev_io_stop(loop, &l->io);
	}
}

/* Out of descriptors: every listener and the stats socket rest, then try
 * again (tmux does the same). */
bool listeners_pause_if_exhausted(int err)
{
	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
		return false;
	log_warning("accept: %s; pausing accepts for %.0f ms", strerror(err),
		    ACCEPT_PAUSE_S * 1000);
	listeners_watch(false);
	stats_accepting(false);
	timer_arm(TK_ACCEPT_PAUSE, &pause_timer, ACCEPT_PAUSE_S);
	return true;
}

/* The pause is over; the stats socket serves during a stop too. */
static void listeners_resume_cb(__unused struct ev_loop *lp, ev_timer *w, __unused int revents)
{
	timer_fired(TK_ACCEPT_PAUSE, w);
	timer_disarm(TK_ACCEPT_PAUSE, w);
	if (!daemon_stopping())
		listeners_watch(true);
	stats_accepting(true);
}

/* Accepts a batch of connections and hands them to the client layer. */
static void listener_accept_cb(__unused struct ev_loop *lp, ev_io *w, __unused int revents)
{
	struct listener *l = container_of(w, struct listener, io);

	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		struct access_conn ac;
		char addr[64];
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (listeners_pause_if_exhausted(errno))
				return;
			if (errno == ECONNABORTED || errno == EINTR || errno == EPROTO)
				continue;
			if (errno != EAGAIN)
				log_warn("accept on %s", l->spec);
			return;
		}
		net_peer_name((struct sockaddr *)&ss, len, addr, sizeof(addr));
		if (l->http) {
			enum refusal why = access_admit(fd, (struct sockaddr *)&ss, len, l->tcp, &ac);

			client_http_accept(fd, addr, l->tcp, &ac, why);
		} else if (access_accept(fd, (struct sockaddr *)&ss, len, l->tcp, addr, &ac) == 0) {
			client_accept(fd, addr, l->tcp, &ac);
		}
	}
}

/* Wraps one bound socket into a listener on the given list. */
static int listener_add(struct listener_list *to, int fd, const char *spec, bool http,
			bool tcp, const char *unix_path, const struct fileid *id)
{
	struct listener *l = pc_calloc(1, sizeof(*l));

	if (!l || !(l->spec = pc_strdup(spec)) ||
	    (unix_path && !(l->unix_path = pc_strdup(unix_path)))) {
		if (l)
			pc_free(l->spec);
		pc_free(l);
		close(fd);
		log_error("listen %s: out of memory", spec);
		return -1;
	}
	l->fd = fd;
	l->tcp = tcp;
	l->http = http;
	if (id)
		l->unix_id = *id;
	ev_io_init(&l->io, listener_accept_cb, fd, EV_READ);
	TAILQ_INSERT_TAIL(to, l, entry);
	return 0;
}

/* Whether a passed socket is TCP (it then gets TCP_NODELAY per client). */
static bool listener_is_tcp(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	return getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	       (ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
}

/* Binds one listen value onto a list. */
static int listener_open(struct listener_list *to, const char *spec, bool http)
{
	struct listen_spec ls;
	struct fileid id;
	char err[512];
	const char *why;
	int fds[TCP_ADDRS_MAX], n;

	if (listen_parse(spec, &ls, &why) < 0) {
		log_error("listen %s: %s", spec, why);
		return -1;
	}
	switch (ls.kind) {
	case LISTEN_TCP:
		n = net_tcp_listen(ls.host, ls.port, fds, TCP_ADDRS_MAX, err, sizeof(err));
		if (n < 0)
			break;
		for (int i = 0; i < n; i++)
			if (listener_add(to, fds[i], spec, http, true, NULL, NULL) < 0)
				return -1;
		return 0;
	case LISTEN_UNIX:
		n = net_unix_listen(ls.path, conf->clients.unix_mode, &id, err, sizeof(err));
		if (n < 0)
			break;
		return listener_add(to, n, spec, http, false, ls.path, &id);
	case LISTEN_SYSTEMD:
		n = activation_take(ls.name, fds, TCP_ADDRS_MAX);
		for (int i = 0; i < n; i++)
			if (listener_add(to, fds[i], spec, http, listener_is_tcp(fds[i]), NULL,
					 NULL) < 0)
				return -1;
		if (n > 0)
			return 0;
		snprintf(err, sizeof(err), "no socket-activated descriptor named '%s'", ls.name);
		break;
	}
	log_error("listen %s: %s", spec, err);
	return -1;
}

/* Stops accepting on one listener: watcher first, then the fd, then the
 * file; its clients stay connected. */
static void listener_free(struct listener *l)
{
	ev_io_stop(loop, &l->io);
	close(l->fd);
	if (l->unix_path)
		fileid_unlink(l->unix_path, &l->unix_id);
	pc_free(l->unix_path);
	pc_free(l->spec);
	pc_free(l);
}

/* Closes every listener of a list. */
static void listeners_free(struct listener_list *list)
{
	struct listener *l;

	while ((l = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, l, entry);
		listener_free(l);
	}
}

/* Whether a listen value is bound now. */
static bool listener_bound(const char *spec)
{
	struct listener *l;

	TAILQ_FOREACH(l, &listeners, entry)
		if (strcmp(l->spec, spec) == 0)
			return true;
	return false;
}

/* The listen values of one kind: [clients] or [http]. */
static char *const *listener_specs(const struct config *c, bool http, size_t *n)
{
	*n = http ? c->http.n_listen : c->clients.n_listen;
	return http ? c->http.listen : c->clients.listen;
}

/* Whether one of the first n listen values of a kind in c is spec. */
static bool listener_listed(const struct config *c, const char *spec, bool http, size_t n)
{
	size_t all;
	char *const *v = listener_specs(c, http, &all);

	for (size_t i = 0; i < n && i < all; i++)
		if (strcmp(v[i], spec) == 0)
			return true;
	return false;
}

/* Binds the values of c that are not bound yet onto `fresh`, all or none. */
static int listeners_bind_new(const struct config *c, struct listener_list *fresh)
{
	for (int http = 0; http < 2; http++) {
		size_t n;
		char *const *v = listener_specs(c, http, &n);

		for (size_t i = 0; i < n; i++) {
			if (listener_bound(v[i]) || listener_listed(c, v[i], http, i))  /* once only */
				continue;
			if (listener_open(fresh, v[i], http) < 0) {
				listeners_free(fresh);
				return -1;
			}
		}
	}
	return 0;
}

/* The start-up log names every address clients can connect to: the bound
 * address of a TCP socket (a name may resolve to several), the path of a
 * Unix one. */
static void listener_log(const struct listener *l)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char addr[80];

	if (!l->tcp || getsockname(l->fd, (struct sockaddr *)&ss, &len) < 0) {
		log_notice("listening on %s", l->spec);
		return;
	}
	net_peer_name((struct sockaddr *)&ss, len, addr, sizeof(addr));
	log_notice("listening on tcp:%s (%s)", addr, l->spec);
}

/* Binds all listeners, or none. */
int listeners_open(void)
{
	struct listener *l;

	if (!pause_setup) {
		timer_setup(TK_ACCEPT_PAUSE, &pause_timer, listeners_resume_cb);
		pause_setup = true;
	}
	if (listeners_bind_new(conf, &listeners) < 0)
		return -1;
	TAILQ_FOREACH(l, &listeners, entry)
		listener_log(l);
	listeners_watch(true);
	return 0;
}

/* Reload, first step: binds what the new configuration adds; nothing else
 * changes if one fails. */
int listeners_prepare(const struct config *next)
{
	return listeners_bind_new(next, &staged);
}

/* Reload, second step (once conf is the new configuration): closes what it
 * dropped, starts what was staged, applies unix_mode to the socket files. */
void listeners_commit(void)
{
	struct listener *l, *next;

	TAILQ_FOREACH_SAFE(l, &listeners, entry, next) {
		if (listener_listed(conf, l->spec, l->http, SIZE_MAX))
			continue;
		log_info("listen %s: closed by reload", l->spec);
		TAILQ_REMOVE(&listeners, l, entry);
		listener_free(l);
	}
	while ((l = TAILQ_FIRST(&staged)) != NULL) {
		TAILQ_REMOVE(&staged, l, entry);
		TAILQ_INSERT_TAIL(&listeners, l, entry);
		log_info("listen %s: opened by reload", l->spec);
	}
	TAILQ_FOREACH(l, &listeners, entry)
		if (l->unix_path && fileid_chmod(l->unix_path, &l->unix_id,
						 conf->clients.unix_mode) < 0)
			log_warn("listen %s: unix_mode not applied", l->spec);
	if (!ev_is_active(&pause_timer) && !daemon_stopping())
		listeners_watch(true);
}

/* Stops accepting clients for good; a running pause still ends, for the
 * stats socket. */
void listeners_close(void)
{
	listeners_free(&staged);
	listeners_free(&listeners);
}

/* Exit: the listeners and the pause timer go. */
void listeners_finish(void)
{
	listeners_close();
	timer_disarm(TK_ACCEPT_PAUSE, &pause_timer);
}

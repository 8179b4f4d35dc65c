/* list.c: `pipecastctl list`: every template instance under /run/pipecast
 * that answers, one line each: name, clients, records/s and source state.
 * The rate comes from two `show info` readings LIST_GAP_MS apart on one
 * connection per instance, all instances read in the same second
 * (pipecastctl(1), "list"). */
#include "ctl.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIST_GAP_MS 1000
#define LIST_MAX 256

/* One instance that answered its first reading. */
struct list_entry {
	char name[STATSPATH_NAME_MAX + 1];
	struct conn *conn;
	uint64_t records;     /* source_records_total at the first reading */
	char pid[32];
	int64_t at_ms;
};

/* The instances found, in name order. */
struct list {
	struct list_entry e[LIST_MAX];
	size_t n;
};

/* scandir filter: instance names only (a directory's name is its instance). */
static int list_is_instance(const struct dirent *d)
{
	return (d->d_type == DT_DIR || d->d_type == DT_UNKNOWN) &&
	       statspath_instance_ok(d->d_name);
}

/* One `show info` on an open connection; 0 with the reply parsed. */
static int list_info(struct conn *c, int64_t *at_ms, struct ctl_info *info)
{
	char err[2 * STATSPATH_LEN];
	const char *body;
	size_t len;

	if (conn_request(c, "show info", false, &body, &len, err, sizeof(err)) != CONN_OK ||
	    ctl_reply_is_error(body, len))
		return -1;
	*at_ms = ctl_now_ms();
	return ctl_info_parse(body, len, info);
}

/* Connects to one instance and takes its first reading; false when it
 * does not answer (a stopped instance leaves its directory behind). */
static bool list_first(struct list_entry *e, const char *name, int64_t timeout_ms)
{
	struct statspath_list path = { .n = 1 };
	char err[2 * STATSPATH_LEN];
	struct ctl_info info;
	const char *pid;
	bool ok;

	if (statspath_instance(STATSPATH_RUNDIR, name, path.path[0], STATSPATH_LEN) < 0)
		return false;
	e->conn = conn_open(&path, timeout_ms, err, sizeof(err));
	if (!e->conn)
		return false;
	ok = list_info(e->conn, &e->at_ms, &info) == 0 &&
	     ctl_info_u64(&info, "source_records_total", &e->records) == 0;
	pid = ok ? ctl_info_get(&info, "pid") : NULL;
	snprintf(e->pid, sizeof(e->pid), "%s", pid ? pid : "");
	snprintf(e->name, sizeof(e->name), "%s", name);
	ctl_info_free(&info);
	if (!ok)
		conn_close(e->conn);
	return ok;
}

/* Reads the run directory and takes every instance's first reading. */
static int list_scan(struct list *l, int64_t timeout_ms)
{
	struct dirent **names;
	int n = scandir(STATSPATH_RUNDIR, &names, list_is_instance, alphasort);

	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (l->n < LIST_MAX && list_first(&l->e[l->n], names[i]->d_name, timeout_ms))
			l->n++;
		free(names[i]);
	}
	free(names);
	return 0;
}

/* Sleeps until deadline (monotonic ms). */
static void list_sleep_until(int64_t deadline)
{
	int64_t left;

	while ((left = deadline - ctl_now_ms()) > 0) {
		struct timespec ts = { .tv_sec = left / 1000,
				       .tv_nsec = left % 1000 * 1000000 };

		nanosleep(&ts, NULL);
	}
}

/* The second reading and the instance's line; nothing when it went away. */
static void list_print(struct list_entry *e)
{
	struct ctl_info info;
	const char *pid, *clients, *state;
	uint64_t records;
	int64_t at_ms;
	double rate;
	char buf[32];

	if (list_info(e->conn, &at_ms, &info) < 0)
		return;
	pid = ctl_info_get(&info, "pid");
	clients = ctl_info_get(&info, "clients_connected");
	state = ctl_info_get(&info, "source_state");
	if (pid && strcmp(pid, e->pid) == 0 &&
	    ctl_info_u64(&info, "source_records_total", &records) == 0 &&
	    ctl_rate(e->records, records, (double)(at_ms - e->at_ms) / 1000, &rate) == 0)
		snprintf(buf, sizeof(buf), "%.1f", rate);
	else
		snprintf(buf, sizeof(buf), "-");
	printf("%-20s %8s %10s  %s\n", e->name, clients ? clients : "?", buf,
	       state ? state : "?");
	ctl_info_free(&info);
}

/* `list`: exit 0 with one line per instance that answers, 1 when none does. */
int list_run(int64_t timeout_ms)
{
	static struct list l;
	int64_t last = 0;

	if (list_scan(&l, timeout_ms) < 0 || l.n == 0) {
		ctl_warn("no instance answers under %s", STATSPATH_RUNDIR);
		return CTL_EXIT_FAIL;
	}
	for (size_t i = 0; i < l.n; i++)
		last = l.e[i].at_ms > last ? l.e[i].at_ms : last;
	list_sleep_until(last + LIST_GAP_MS);
	printf("%-20s %8s %10s  %s\n", "NAME", "CLIENTS", "RECORDS/S", "SOURCE");
	for (size_t i = 0; i < l.n; i++) {
		list_print(&l.e[i]);
		conn_close(l.e[i].conn);
	}
	return CTL_EXIT_OK;
}

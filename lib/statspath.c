/* statspath.c: the stats socket's paths (see statspath.h), one place for
 * the daemon's default, pipecastctl's discovery and template instances. */
#include "statspath.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* snprintf that reports truncation as -1. */
__attribute__((format(printf, 3, 4)))
static int statspath_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Whether an environment-style value counts as set. */
static bool statspath_set(const char *s)
{
	return s && *s;
}

/* The private directory of a user without a runtime directory. */
int statspath_private_dir(unsigned long uid, char *buf, size_t len)
{
	return statspath_fmt(buf, len, "/tmp/pipecast-%lu", uid);
}

/* $RUNTIME_DIRECTORY lists every RuntimeDirectory= of the unit; the first
 * is the daemon's own. */
int statspath_default(const char *runtime_dir, const char *xdg_runtime,
		      unsigned long uid, char *buf, size_t len)
{
	if (statspath_set(runtime_dir))
		return statspath_fmt(buf, len, "%.*s/stats.sock",
				     (int)strcspn(runtime_dir, ":"), runtime_dir);
	if (statspath_set(xdg_runtime))
		return statspath_fmt(buf, len, "%s/pipecast/stats.sock", xdg_runtime);
	if (statspath_private_dir(uid, buf, len) < 0)
		return -1;
	return statspath_fmt(buf + strlen(buf), len - strlen(buf), "/stats.sock");
}

/* Takes the next slot of the list; NULL when it is full. */
static char *statspath_slot(struct statspath_list *out)
{
	return out->n < STATSPATH_MAX ? out->path[out->n++] : NULL;
}

/* An explicit path alone, else the system service, the user's runtime
 * directory and the private directory, in that order. */
int statspath_candidates(const char *opt, const char *env_socket,
			 const char *xdg_runtime, unsigned long uid,
			 struct statspath_list *out)
{
	const char *only = statspath_set(opt) ? opt : env_socket;
	char *p;

	out->n = 0;
	if (statspath_set(only))
		return statspath_fmt(statspath_slot(out), STATSPATH_LEN, "%s", only);
	p = statspath_slot(out);
	if (statspath_fmt(p, STATSPATH_LEN, "%s/stats.sock", STATSPATH_RUNDIR) < 0)
		return -1;
	if (statspath_set(xdg_runtime) &&
	    statspath_fmt(statspath_slot(out), STATSPATH_LEN, "%s/pipecast/stats.sock",
			  xdg_runtime) < 0)
		return -1;
	return statspath_default(NULL, NULL, uid, statspath_slot(out), STATSPATH_LEN);
}

/* systemd's escaped instance names use these bytes; none of them can
 * leave the run directory, and a leading dot would name "." or "..". */
bool statspath_instance_ok(const char *name)
{
	static const char extra[] = "_-.:@\\";
	size_t n = strlen(name);

	if (n == 0 || n > STATSPATH_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr(extra, c)))
			return false;
	}
	return true;
}

/* RuntimeDirectory=pipecast/%i puts instance NAME's socket here. */
int statspath_instance(const char *rundir, const char *name, char *buf,
		       size_t len)
{
	if (!statspath_instance_ok(name))
		return -1;
	return statspath_fmt(buf, len, "%s/%s/stats.sock", rundir, name);
}

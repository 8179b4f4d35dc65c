/* activation.c: the sd_listen_fds protocol without libsystemd. */
#include "activation.h"
#include "alloc.h"
#include "log.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FIRST_FD 3          /* SD_LISTEN_FDS_START */
#define MAX_FDS  256

struct passed {
	int fd;
	bool claimed;
	char *name;
};

static struct passed passed[MAX_FDS];
static int n_passed;

/* Non-blocking and close-on-exec: systemd passes neither. */
static void activation_prepare_fd(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* Splits LISTEN_FDNAMES; a missing name is "unknown", as systemd says. */
static void activation_names(const char *names)
{
	const char *p = names;

	for (int i = 0; i < n_passed; i++) {
		size_t len = p ? strcspn(p, ":") : 0;
		char *name = pc_malloc(len + 8);

		if (name) {
			if (p && len)
				memcpy(name, p, len), name[len] = '\0';
			else
				strcpy(name, "unknown");
		}
		passed[i].name = name;
		if (p)
			p = p[len] == ':' ? p + len + 1 : NULL;
	}
}

/* Takes the passed descriptors if they are meant for this process. */
void activation_init(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	long n = fds ? strtol(fds, NULL, 10) : 0;

	if (pid && strtol(pid, NULL, 10) == (long)getpid() && n > 0) {
		n_passed = n > MAX_FDS ? MAX_FDS : (int)n;
		for (int i = 0; i < n_passed; i++) {
			passed[i].fd = FIRST_FD + i;
			activation_prepare_fd(passed[i].fd);
		}
		activation_names(getenv("LISTEN_FDNAMES"));
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

/* Hands out the descriptors of one name. */
int activation_take(const char *name, int *fds, int max)
{
	int n = 0;

	for (int i = 0; i < n_passed && n < max; i++) {
		if (passed[i].claimed || !passed[i].name || strcmp(passed[i].name, name) != 0)
			continue;
		passed[i].claimed = true;
		fds[n++] = passed[i].fd;
	}
	return n;
}

/* What the configuration did not ask for is closed, and said so. */
void activation_close_unclaimed(void)
{
	for (int i = 0; i < n_passed; i++) {
		if (!passed[i].claimed) {
			log_warning("socket activation: descriptor %d named '%s' is not used "
				    "by the configuration; closing it", passed[i].fd,
				    passed[i].name ? passed[i].name : "unknown");
			close(passed[i].fd);
		}
		pc_free(passed[i].name);
		passed[i].name = NULL;
		passed[i].claimed = true;
	}
}

/* fifo.c: the FIFO input's file. A producer who can write the FIFO's
 * directory must not be able to make the daemon read anything else (a
 * regular file, a link to a file only root reads), and a FIFO another user
 * planted first must not be adopted (pipecastd(8), SECURITY). */
#include "fifo.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIFO_OPEN_FLAGS (O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW)
#define FIFO_OTHERS     0077u   /* the group's and other users' bits */

/* mkfifo(3) with exactly mode: under a umask of 0, so no chmod follows. */
static int fifo_make(const char *path, unsigned mode)
{
	mode_t old = umask(0);
	int rc = mkfifo(path, (mode_t)mode);

	umask(old);
	return rc;
}

/* Opens path without following a link and stats the descriptor. */
static int fifo_open_stat(const char *path, struct stat *st)
{
	int fd = open(path, FIFO_OPEN_FLAGS);

	if (fd >= 0 && fstat(fd, st) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Why an existing FIFO may not be adopted as it is, or NULL: owned by
 * another user than root and the daemon's, or open to the group or others
 * beyond mode. */
static const char *fifo_foreign(const struct stat *st, unsigned mode, char *buf, size_t len)
{
	unsigned extra = (unsigned)st->st_mode & FIFO_OTHERS & ~mode;

	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		snprintf(buf, len, "is owned by uid %u, not by this daemon's user",
			 (unsigned)st->st_uid);
		return buf;
	}
	if (extra) {
		snprintf(buf, len, "has mode %04o, which allows more than fifo_mode %04o",
			 (unsigned)st->st_mode & 07777, mode);
		return buf;
	}
	return NULL;
}

/* Whether path's directory belongs to the daemon's user and nobody else
 * may write it (a runtime directory such as /run/pipecast): a FIFO there
 * was left by an earlier run, perhaps under another DynamicUser= uid. */
static bool fifo_dir_private(const char *path)
{
	char copy[4096];
	struct stat st;
	int fd;
	bool ok;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	ok = fstat(fd, &st) == 0 && st.st_uid == geteuid() && !(st.st_mode & 022);
	close(fd);
	return ok;
}

/* Says why path cannot be used; the caller exits with status 2. */
static int fifo_refuse(const char *path, const char *why)
{
	log_error("source %s: %s; refusing it (remove it, or give it this daemon's "
		  "user and at most fifo_mode)", path, why);
	return -1;
}

/* Checks what was opened at path; returns fd, or -1 (fd closed). */
static int fifo_check(const char *path, int fd, const struct stat *st, unsigned mode,
		      bool created, bool *replace)
{
	char buf[128];
	const char *why = NULL;

	*replace = false;
	if (!S_ISFIFO(st->st_mode))
		why = "exists and is not a FIFO";
	else if (created && st->st_uid != geteuid())
		why = "was replaced right after it was created";
	else if (!created)
		why = fifo_foreign(st, mode, buf, sizeof(buf));
	if (!why) {
		if (st->st_uid == geteuid() && ((unsigned)st->st_mode & 07777) != mode)
			(void)fchmod(fd, (mode_t)mode);   /* our own FIFO gets fifo_mode */
		return fd;
	}
	close(fd);
	if (S_ISFIFO(st->st_mode) && !created && fifo_dir_private(path)) {
		log_notice("source %s: %s; replacing it (left by an earlier run in "
			   "this daemon's own directory)", path, why);
		*replace = true;
		return -1;
	}
	return fifo_refuse(path, why);
}

/* One attempt: create or find, open, check. */
static int fifo_try(const char *path, unsigned mode, bool *created, bool *replace)
{
	struct stat st;
	int fd;

	*replace = false;
	*created = fifo_make(path, mode) == 0;
	if (!*created && errno != EEXIST) {
		log_syserr("source %s", path);
		return -1;
	}
	fd = fifo_open_stat(path, &st);
	if (fd < 0 && errno == ELOOP)
		return fifo_refuse(path, "is a symbolic link");
	if (fd < 0) {
		log_syserr("source %s", path);
		return -1;
	}
	return fifo_check(path, fd, &st, mode, *created, replace);
}

/* Start-up: see fifo.h. */
int fifo_open(const char *path, unsigned mode, struct fileid *id, bool *created)
{
	struct stat st;
	bool replace;
	int fd = fifo_try(path, mode, created, &replace);

	if (fd < 0 && replace) {
		if (unlink(path) < 0) {
			log_syserr("source %s: cannot remove it", path);
			return -1;
		}
		fd = fifo_try(path, mode, created, &replace);
		if (fd < 0 && replace)
			fd = fifo_refuse(path, "was replaced again at once");
	}
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		log_syserr("source %s", path);
		close(fd);
		return -1;
	}
	*id = (struct fileid){ .dev = st.st_dev, .ino = st.st_ino, .set = true };
	return fd;
}

/* Each writer's close: the path must still name the very FIFO opened at
 * start-up. */
int fifo_reopen(const char *path, const struct fileid *id, const char **why)
{
	struct stat st;
	int fd = fifo_open_stat(path, &st);

	if (fd < 0) {
		*why = errno == ELOOP ? "is now a symbolic link" : strerror(errno);
		return -1;
	}
	if (S_ISFIFO(st.st_mode) && fileid_same(id, st.st_dev, st.st_ino))
		return fd;
	close(fd);
	*why = S_ISFIFO(st.st_mode) ? "is now another FIFO than the one opened at start-up"
				     : "is no longer a FIFO";
	errno = ESTALE;
	return -1;
}

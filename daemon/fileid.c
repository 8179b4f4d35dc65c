/* fileid.c: changing and removing the daemon's own files by identity, not
 * by name: a user who can write the directory may swap the name for a
 * symbolic link to any file, which chmod(2) or a later open would follow. */
#include "fileid.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* Records the file path names, the link itself if it is one. */
int fileid_lstat(const char *path, struct fileid *id)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return -1;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->set = true;
	return 0;
}

/* Compares a stat result with the recorded identity. */
bool fileid_same(const struct fileid *id, dev_t dev, ino_t ino)
{
	return id->set && id->dev == dev && id->ino == ino;
}

/* Opens the path itself (O_PATH | O_NOFOLLOW: a link is not followed),
 * checks it, then changes the mode of that inode through /proc: chmod(2)
 * of /proc/self/fd/N reaches the opened file, whatever the name names by
 * then. Unix sockets have no descriptor of their file to fchmod(2). */
int fileid_chmod(const char *path, const struct fileid *id, unsigned mode)
{
	char proc[64];
	struct stat st;
	int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	int rc = -1;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto out;
	if (S_ISLNK(st.st_mode) || !fileid_same(id, st.st_dev, st.st_ino)) {
		errno = ESTALE;
		goto out;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	rc = chmod(proc, (mode_t)mode);
out:
	if (fd >= 0) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return rc;
}

/* Removes the name only while it still names the recorded file. */
void fileid_unlink(const char *path, const struct fileid *id)
{
	struct stat st;

	if (lstat(path, &st) == 0 && fileid_same(id, st.st_dev, st.st_ino))
		(void)unlink(path);
}

/* fileid.h: a file the daemon created (a Unix socket, the FIFO), known by
 * its device and inode, so that it is changed or removed only while its
 * path still names that very file and never through a symbolic link that
 * replaced it (pipecastd(8), SECURITY). */
#ifndef PIPECAST_FILEID_H
#define PIPECAST_FILEID_H

#include <stdbool.h>
#include <sys/types.h>

struct fileid {
	dev_t dev;
	ino_t ino;
	bool set;
};

/* Records what path names now without following a link; 0, or -1 with
 * errno set. */
int fileid_lstat(const char *path, struct fileid *id);
/* Whether a stat result is the recorded file. */
bool fileid_same(const struct fileid *id, dev_t dev, ino_t ino);
/* Sets the mode of the recorded file through a descriptor opened with
 * O_PATH | O_NOFOLLOW, after checking it is still the same file. Returns 0,
 * or -1 with errno set (ESTALE: the path names another file now). */
int fileid_chmod(const char *path, const struct fileid *id, unsigned mode);
/* Removes path if it still names the recorded file; otherwise leaves it. */
void fileid_unlink(const char *path, const struct fileid *id);

#endif

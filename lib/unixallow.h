/* unixallow.h: [access] unix_allow rules (pipecast.conf(5)): "all",
 * "uid:N", "user:NAME", "group:NAME". Names are resolved to ids when the
 * rule is parsed (when the file is read); the daemon matches a Unix peer's
 * SO_PEERCRED uid and gid and its SO_PEERGROUPS groups. */
#ifndef PIPECAST_UNIXALLOW_H
#define PIPECAST_UNIXALLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum unixallow_kind { UNIXALLOW_ALL, UNIXALLOW_UID, UNIXALLOW_GID };

struct unixallow {
	enum unixallow_kind kind;
	unsigned id;            /* uid or gid */
};

/* A peer's credentials. */
struct unixallow_peer {
	uid_t uid;
	gid_t gid;
	const gid_t *groups;    /* supplementary groups, may be NULL */
	size_t n_groups;
};

/* Parses one rule, resolving a name through the user and group databases.
 * Returns 0, or -1 with a one-line message in err. */
int unixallow_parse(const char *s, struct unixallow *out, char *err, size_t errlen);
/* Whether one of n rules lets the peer in: its uid, or its primary or a
 * supplementary group. */
bool unixallow_match(const struct unixallow *rules, size_t n, const struct unixallow_peer *p);
/* Whether some rule needs the peer's groups (so SO_PEERGROUPS is asked). */
bool unixallow_needs_groups(const struct unixallow *rules, size_t n);

#endif

/* unixallow.c: rules for peers of Unix listeners (see unixallow.h). */
#include "unixallow.h"
#include "units.h"

#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Resolves a user or group name; one that is not found is an error. */
static int unixallow_name(enum unixallow_kind kind, const char *name, unsigned *id,
			  char *err, size_t errlen)
{
	struct passwd *pw = NULL;
	struct group *gr = NULL;

	if (*name && kind == UNIXALLOW_UID)
		pw = getpwnam(name);
	else if (*name)
		gr = getgrnam(name);
	if (!pw && !gr) {
		snprintf(err, errlen, "no %s named '%.64s'",
			 kind == UNIXALLOW_UID ? "user" : "group", name);
		return -1;
	}
	*id = pw ? (unsigned)pw->pw_uid : (unsigned)gr->gr_gid;
	return 0;
}

/* "all", "uid:N", "user:NAME" or "group:NAME". */
int unixallow_parse(const char *s, struct unixallow *out, char *err, size_t errlen)
{
	if (strcmp(s, "all") == 0) {
		*out = (struct unixallow){ UNIXALLOW_ALL, 0 };
		return 0;
	}
	if (strncmp(s, "uid:", 4) == 0) {
		uint64_t v;

		out->kind = UNIXALLOW_UID;
		out->id = 0;
		if (units_parse_decimal(s + 4, strlen(s + 4), UINT32_MAX - 1, &v) == 0) {
			out->id = (unsigned)v;
			return 0;
		}
		snprintf(err, errlen, "uid must be a number below 4294967295");
		return -1;
	}
	if (strncmp(s, "user:", 5) == 0) {
		out->kind = UNIXALLOW_UID;
		return unixallow_name(UNIXALLOW_UID, s + 5, &out->id, err, errlen);
	}
	if (strncmp(s, "group:", 6) == 0) {
		out->kind = UNIXALLOW_GID;
		return unixallow_name(UNIXALLOW_GID, s + 6, &out->id, err, errlen);
	}
	snprintf(err, errlen, "expected all, uid:N, user:NAME or group:NAME");
	return -1;
}

/* Whether the peer belongs to group gid. */
static bool unixallow_in_group(const struct unixallow_peer *p, unsigned gid)
{
	if ((unsigned)p->gid == gid)
		return true;
	for (size_t i = 0; i < p->n_groups; i++)
		if ((unsigned)p->groups[i] == gid)
			return true;
	return false;
}

/* The first rule that fits lets the peer in. */
bool unixallow_match(const struct unixallow *rules, size_t n, const struct unixallow_peer *p)
{
	for (size_t i = 0; i < n; i++) {
		const struct unixallow *r = &rules[i];

		if (r->kind == UNIXALLOW_ALL ||
		    (r->kind == UNIXALLOW_UID && (unsigned)p->uid == r->id) ||
		    (r->kind == UNIXALLOW_GID && unixallow_in_group(p, r->id)))
			return true;
	}
	return false;
}

/* Group rules are the only ones that need SO_PEERGROUPS. */
bool unixallow_needs_groups(const struct unixallow *rules, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (rules[i].kind == UNIXALLOW_GID)
			return true;
	return false;
}

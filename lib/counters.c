/* counters.c: the counter registry and the names of close reasons. */
#include "counters.h"

struct counters counters;

static const char *const reason_names[CLOSE_REASON_COUNT] = {
	[CLOSE_IDLE] = "idle",
	[CLOSE_SEND_TIMEOUT] = "send_timeout",
	[CLOSE_OVERFLOW] = "overflow",
	[CLOSE_PEER] = "peer",
	[CLOSE_ERROR] = "error",
	[CLOSE_KILL] = "kill",
	[CLOSE_SHUTDOWN] = "shutdown",
	[CLOSE_REJECTED] = "rejected",
	[CLOSE_DENIED] = "denied",
	[CLOSE_AUTH_TIMEOUT] = "auth_timeout",
};

static const char *const refusal_names[REFUSAL_COUNT] = {
	[REFUSED_ADDRESS] = "address",
	[REFUSED_PER_IP] = "per_ip",
	[REFUSED_TOKEN] = "token",
	[REFUSED_UID] = "uid",
	[REFUSED_AUTH_TIMEOUT] = "auth_timeout",
};

/* Maps a close reason to its name in logs and stats. */
const char *close_reason_name(enum close_reason r)
{
	return r < CLOSE_REASON_COUNT ? reason_names[r] : "?";
}

/* Maps a refusal to its label in stats and logs. */
const char *refusal_name(enum refusal r)
{
	return r < REFUSAL_COUNT ? refusal_names[r] : "?";
}

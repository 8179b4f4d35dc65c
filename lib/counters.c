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
};

/* Maps a close reason to its name in logs and stats. */
const char *close_reason_name(enum close_reason r)
{
	return r < CLOSE_REASON_COUNT ? reason_names[r] : "?";
}

/* access.c: [access] for connections (pipecast.conf(5)). The per-address
 * table is allocated once (sized from max_clients) and never per
 * connection; rules come parsed in the configuration. */
#include "access.h"
#include "daemon.h"
#include "log.h"
#include "net.h"
#include "perip.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* Distinct addresses beyond max_clients that the table holds: HTTP
 * requests that are not streams, and margin. */
#define PERIP_SPARE 1024
#define LOG_EVERY_NS 1000000000LL

static struct perip perip;
static size_t perip_keys;

/* The refusals counted since the last log line. */
static struct {
	uint64_t n[REFUSAL_COUNT];
	uint64_t total;
	int64_t last_line;       /* when the last line was written */
	bool logged_once;
	char last_peer[64];
	enum refusal last_why;
} pending;

static void access_log_line(int64_t now);

/* The table's size for the configured max_clients. */
static size_t access_table_keys(void)
{
	return (size_t)conf->clients.max_clients + PERIP_SPARE;
}

/* Allocates the table once, with a secret hash seed. */
int access_init(void)
{
	uint64_t seed[2] = { (uint64_t)mono_ns(), (uint64_t)getpid() };

	if (getrandom(seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		log_warning("access: no randomness for the per-address table's seed");
	perip_keys = access_table_keys();
	if (perip_init(&perip, perip_keys, seed) < 0) {
		log_error("access: cannot allocate the per-address table");
		return -1;
	}
	return 0;
}

/* Exit: the last refusals get their line; the table goes. */
void access_free(void)
{
	access_log_line(mono_ns());
	perip_free(&perip);
}

/* A new max_clients resizes the table (once, at reload). */
void access_apply_config(void)
{
	size_t want = access_table_keys();

	if (want == perip_keys)
		return;
	if (perip_resize(&perip, want) < 0) {
		log_warning("access: cannot resize the per-address table; it keeps %zu addresses",
			    perip_keys);
		return;
	}
	perip_keys = want;
}

/* Writes one line for the refusals counted since the last one. */
static void access_log_line(int64_t now)
{
	char by[160] = "";
	size_t o = 0;

	if (pending.total == 0)
		return;
	if (pending.total == 1) {
		log_notice("access: refused %s reason=%s", pending.last_peer,
			   refusal_name(pending.last_why));
	} else {
		for (int r = 0; r < REFUSAL_COUNT; r++)
			if (pending.n[r] && o < sizeof(by))
				o += (size_t)snprintf(by + o, sizeof(by) - o, " %s=%llu",
						      refusal_name(r), (unsigned long long)pending.n[r]);
		log_notice("access: refused %llu connections since the last line (%s ), "
			   "the latest %s reason=%s", (unsigned long long)pending.total, by,
			   pending.last_peer, refusal_name(pending.last_why));
	}
	memset(pending.n, 0, sizeof(pending.n));
	pending.total = 0;
	pending.last_line = now;
	pending.logged_once = true;
}

/* Counts, and logs when the last line is a second old. */
void access_refused(enum refusal why, const char *name)
{
	int64_t now = mono_ns();

	counters.access_refused_total[why]++;
	pending.n[why]++;
	pending.total++;
	pending.last_why = why;
	snprintf(pending.last_peer, sizeof(pending.last_peer), "%s", name);
	if (!pending.logged_once || now - pending.last_line >= LOG_EVERY_NS)
		access_log_line(now);
}

/* The refusals of the last second get their line once it is over. */
void access_safe_point(void)
{
	int64_t now;

	if (pending.total == 0)
		return;
	now = mono_ns();
	if (now - pending.last_line >= LOG_EVERY_NS)
		access_log_line(now);
}

/* allow and deny. */
bool access_check_addr(const struct cidr_addr *a)
{
	const struct config_access *c = &conf->access;

	return cidr_match_any(c->allow_rules, c->n_allow, a) &&
	       !cidr_match_any(c->deny_rules, c->n_deny, a);
}

/* Counts the connection for max_per_ip; a full table only refuses when a
 * limit is set. */
static int access_count(struct access_conn *ac, enum refusal *why)
{
	uint32_t limit = (uint32_t)conf->access.max_per_ip;

	switch (perip_add(&perip, &ac->addr, limit)) {
	case PERIP_OK:
		ac->counted = true;
		return 0;
	case PERIP_LIMIT:
		*why = REFUSED_PER_IP;
		return -1;
	case PERIP_FULL:
		break;
	}
	if (!limit)
		return 0;
	*why = REFUSED_PER_IP;
	return -1;
}

/* Address rules then the per-address count. */
static int access_check_tcp(struct access_conn *ac, enum refusal *why)
{
	if (!access_check_addr(&ac->addr)) {
		*why = REFUSED_ADDRESS;
		return -1;
	}
	return access_count(ac, why);
}

/* unix_allow against the peer's credentials and, when a rule needs them,
 * its groups. */
static bool access_unix_allowed(int fd)
{
	static gid_t groups[NGROUPS_MAX];
	const struct config_access *c = &conf->access;
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct unixallow_peer p;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	p = (struct unixallow_peer){ cr.uid, cr.gid, NULL, 0 };
	if (unixallow_needs_groups(c->unix_allow_rules, c->n_unix_allow)) {
		len = sizeof(groups);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0) {
			p.groups = groups;
			p.n_groups = len / sizeof(gid_t);
		}
	}
	return unixallow_match(c->unix_allow_rules, c->n_unix_allow, &p);
}

/* The address of a TCP peer, with its port and whether it came mapped
 * (the name shows it as it came). Returns 0, or -1 for another family. */
static int access_conn_addr(struct access_conn *ac, const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

	if (cidr_addr_from(sa, len, &ac->addr) < 0)
		return -1;
	ac->port = ntohs(sa->sa_family == AF_INET ? in4->sin_port : in6->sin6_port);
	ac->mapped = sa->sa_family == AF_INET6 && ac->addr.family == CIDR_V4;
	return 0;
}

/* Formats what access_conn_addr() kept, as net_peer_name() would. */
const char *access_conn_name(const struct access_conn *ac, char *buf)
{
	char host[INET6_ADDRSTRLEN];

	if (!ac->tcp) {
		snprintf(buf, ACCESS_NAME_MAX, "unix");
		return buf;
	}
	inet_ntop(ac->addr.family == CIDR_V4 ? AF_INET : AF_INET6, ac->addr.b, host, sizeof(host));
	snprintf(buf, ACCESS_NAME_MAX, ac->addr.family == CIDR_V4 && !ac->mapped ? "%s:%u" :
		 ac->mapped ? "[::ffff:%s]:%u" : "[%s]:%u", host, (unsigned)ac->port);
	return buf;
}

/* The verdict at accept time, nothing closed (see access.h). */
enum refusal access_admit(int fd, const struct sockaddr *sa, socklen_t len, bool tcp,
			  struct access_conn *ac)
{
	const struct config_access *c = &conf->access;
	enum refusal why = REFUSED_UID;

	memset(ac, 0, sizeof(*ac));
	ac->tcp = tcp && access_conn_addr(ac, sa, len) == 0;
	if (ac->tcp && cidr_match_any(c->trusted_proxies_rules, c->n_trusted_proxies, &ac->addr)) {
		ac->proxied = true;
		return REFUSAL_COUNT;
	}
	if (ac->tcp ? access_check_tcp(ac, &why) == 0 : tcp || access_unix_allowed(fd))
		return REFUSAL_COUNT;
	return why;
}

/* The verdict at accept time for a raw client: a refused one is closed. */
int access_accept(int fd, const struct sockaddr *sa, socklen_t len, bool tcp,
		  const char *name, struct access_conn *ac)
{
	enum refusal why = access_admit(fd, sa, len, tcp, ac);

	if (why == REFUSAL_COUNT)
		return 0;
	close(fd);
	access_refused(why, name);
	return -1;
}

/* The proxy's header named the client: rules apply to it now. */
int access_proxied(struct access_conn *ac, const struct sockaddr *src, socklen_t len,
		   enum refusal *why)
{
	if (src && access_conn_addr(ac, src, len) < 0) {
		*why = REFUSED_ADDRESS;
		return -1;
	}
	return access_check_tcp(ac, why);
}

/* Releases the per-address count, once. */
void access_release(struct access_conn *ac)
{
	if (ac->counted)
		perip_remove(&perip, &ac->addr);
	ac->counted = false;
}

/* Tokens are needed when a tokens file is configured. */
bool access_tokens_required(void)
{
	return conf->access.tokens.n > 0;
}

/* Compares in constant time; keeps only the fingerprint. */
bool access_token_ok(struct access_conn *ac, const char *tok, size_t len)
{
	if (!tokens_match(&conf->access.tokens, tok, len))
		return false;
	ac->authed = true;
	ac->token_fp = tokens_fingerprint(tok, len);
	return true;
}

/* metrics_allow, for the HTTP side. */
bool access_metrics_ok(const struct access_conn *ac)
{
	const struct config_access *c = &conf->access;

	return !ac->tcp || cidr_match_any(c->metrics_allow_rules, c->n_metrics_allow, &ac->addr);
}

/* The rules of a reloaded configuration against a connected client. */
enum refusal access_recheck(const struct access_conn *ac, int fd, bool streaming)
{
	if (ac->tcp && !access_check_addr(&ac->addr))
		return REFUSED_ADDRESS;
	if (!ac->tcp && fd >= 0 && !access_unix_allowed(fd))
		return REFUSED_UID;
	if (streaming && access_tokens_required() &&
	    (!ac->authed || !tokens_has_fingerprint(&conf->access.tokens, ac->token_fp)))
		return REFUSED_TOKEN;
	return REFUSAL_COUNT;
}

/* listen.c: parsing of listen values; the one place that knows their
 * syntax, used to validate the configuration and to bind the listeners. */
#include "listen.h"
#include "units.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <string.h>

/* Checks a systemd FileDescriptorName; returns why it is bad, or NULL. */
const char *listen_check_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return "empty systemd name";
	if (n > LISTEN_NAME_MAX)
		return "systemd name longer than 255 bytes";
	for (; *s; s++)
		if (*s == ':' || *s < 0x20 || *s > 0x7e)
			return "systemd name must be printable ASCII without ':'";
	return NULL;
}

/* Checks a Unix socket path against sun_path; returns why, or NULL. */
const char *listen_check_path(const char *s)
{
	if (!*s)
		return "empty path";
	if (strlen(s) >= LISTEN_PATH_MAX)
		return "path longer than 107 bytes";
	return NULL;
}

/* Checks and stores a decimal TCP port 1..65535. */
static const char *listen_port(const char *s, struct listen_spec *out)
{
	uint64_t port;

	if (units_parse_uint(s, &port) < 0 || port < 1 || port > 65535)
		return "port must be a number 1..65535";
	strcpy(out->port, s);
	return NULL;
}

/* Stores the host part, checked for length. */
static const char *listen_host(const char *h, size_t n, struct listen_spec *out)
{
	if (n == 0)
		return "empty host";
	if (n >= sizeof(out->host))
		return "host too long";
	memcpy(out->host, h, n);
	out->host[n] = '\0';
	return NULL;
}

/* "[V6]:PORT", with an optional %zone. */
static const char *listen_tcp6(const char *s, struct listen_spec *out)
{
	const char *close = strchr(s, ']');
	char addr[INET6_ADDRSTRLEN];
	struct in6_addr a;
	size_t n;

	if (!close)
		return "missing ']'";
	n = strcspn(s + 1, "%]");
	if (n == 0 || n >= sizeof(addr))
		return "invalid IPv6 address";
	memcpy(addr, s + 1, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET6, addr, &a) != 1)
		return "invalid IPv6 address";
	if (s[1 + n] == '%' && s + 2 + n == close)
		return "empty IPv6 zone";
	if (close[1] != ':')
		return "expected ':PORT' after ']'";
	return listen_host(s + 1, (size_t)(close - s - 1), out) ?: listen_port(close + 2, out);
}

/* A listener's host is a numeric IPv4 address or localhost: a name lookup
 * could stall the loop at start-up or on reload (pipecast.conf(5)). */
static const char *listen_numeric(const struct listen_spec *out)
{
	struct in_addr a;

	if (strcmp(out->host, "localhost") == 0 || inet_pton(AF_INET, out->host, &a) == 1)
		return NULL;
	return "host must be a numeric address or localhost (names are not looked up)";
}

/* "HOST:PORT" or "[V6]:PORT". */
static const char *listen_tcp(const char *s, struct listen_spec *out)
{
	const char *colon = strrchr(s, ':');

	out->kind = LISTEN_TCP;
	if (*s == '[')
		return listen_tcp6(s, out);
	if (!colon)
		return "missing ':PORT'";
	if (memchr(s, ':', (size_t)(colon - s)))
		return "an IPv6 address needs brackets";
	for (const char *h = s; h < colon; h++)
		if (isspace((unsigned char)*h) || *h == '[' || *h == ']')
			return "invalid host";
	return listen_host(s, (size_t)(colon - s), out) ?: listen_port(colon + 1, out) ?:
	       listen_numeric(out);
}

/* "unix:PATH". */
static const char *listen_unix(const char *s, struct listen_spec *out)
{
	const char *why = listen_check_path(s);

	out->kind = LISTEN_UNIX;
	if (!why)
		strcpy(out->path, s);
	return why;
}

/* "systemd:NAME". */
static const char *listen_systemd(const char *s, struct listen_spec *out)
{
	const char *why = listen_check_name(s);

	out->kind = LISTEN_SYSTEMD;
	if (!why)
		strcpy(out->name, s);
	return why;
}

static const struct {
	const char *prefix;
	const char *(*parse)(const char *, struct listen_spec *);
} listen_forms[] = {
	{ "tcp:", listen_tcp },
	{ "unix:", listen_unix },
	{ "systemd:", listen_systemd },
};

/* Dispatches on the prefix. */
int listen_parse(const char *s, struct listen_spec *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(listen_forms) / sizeof(listen_forms[0]); i++) {
		size_t n = strlen(listen_forms[i].prefix);

		if (strncmp(s, listen_forms[i].prefix, n) == 0) {
			*why = listen_forms[i].parse(s + n, out);
			return *why ? -1 : 0;
		}
	}
	*why = "expected tcp:HOST:PORT, tcp:[V6]:PORT, unix:PATH or systemd:NAME";
	return -1;
}

/* listen.c: parsing of listen values. */
#include "listen.h"

#include <stdlib.h>
#include <string.h>

/* Checks a decimal port in 1..65535. */
static int listen_port(const char *p, struct listen_spec *out)
{
	char *end;
	unsigned long v;

	if (*p < '0' || *p > '9' || strlen(p) > 5)
		return -1;
	v = strtoul(p, &end, 10);
	if (*end || v < 1 || v > 65535)
		return -1;
	strcpy(out->port, p);
	return 0;
}

/* tcp:HOST:PORT or tcp:[V6]:PORT. */
static int listen_tcp(const char *s, struct listen_spec *out, const char **why)
{
	const char *colon, *host = s;
	size_t hlen;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':') {
			*why = "expected tcp:[ADDRESS]:PORT";
			return -1;
		}
		host = s + 1;
		hlen = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			*why = "expected tcp:HOST:PORT";
			return -1;
		}
		hlen = (size_t)(colon - s);
		if (memchr(s, ':', hlen)) {
			*why = "an IPv6 address must be in brackets: tcp:[ADDRESS]:PORT";
			return -1;
		}
	}
	if (hlen == 0 || hlen >= sizeof(out->host)) {
		*why = "missing or too long host";
		return -1;
	}
	memcpy(out->host, host, hlen);
	out->host[hlen] = '\0';
	if (listen_port(colon + 1, out) < 0) {
		*why = "port must be 1..65535";
		return -1;
	}
	out->kind = LISTEN_TCP;
	return 0;
}

/* unix:PATH, short enough for sun_path. */
static int listen_unix(const char *s, struct listen_spec *out, const char **why)
{
	if (*s == '\0' || strlen(s) >= sizeof(out->path)) {
		*why = "unix path must be 1..107 bytes";
		return -1;
	}
	strcpy(out->path, s);
	out->kind = LISTEN_UNIX;
	return 0;
}

/* systemd:NAME, a FileDescriptorName. */
static int listen_systemd(const char *s, struct listen_spec *out, const char **why)
{
	size_t n = strlen(s);

	if (n == 0 || n > LISTEN_NAME_MAX || strchr(s, ':')) {
		*why = "systemd name must be 1..255 bytes without ':'";
		return -1;
	}
	strcpy(out->name, s);
	out->kind = LISTEN_SYSTEMD;
	return 0;
}

static const struct {
	const char *prefix;
	int (*parse)(const char *, struct listen_spec *, const char **);
} listen_kinds[] = {
	{ "tcp:", listen_tcp },
	{ "unix:", listen_unix },
	{ "systemd:", listen_systemd },
};

/* Dispatches on the prefix. */
int listen_parse(const char *s, struct listen_spec *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(listen_kinds) / sizeof(listen_kinds[0]); i++) {
		size_t n = strlen(listen_kinds[i].prefix);

		if (strncmp(s, listen_kinds[i].prefix, n) == 0)
			return listen_kinds[i].parse(s + n, out, why);
	}
	*why = "expected tcp:HOST:PORT, tcp:[V6]:PORT, unix:PATH or systemd:NAME";
	return -1;
}

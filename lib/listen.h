/* listen.h: the syntax of a [clients] listen value (pipecast.conf(5)): tcp:HOST:PORT,
 * tcp:[V6]:PORT, unix:PATH and systemd:NAME. */
#ifndef PIPECAST_LISTEN_H
#define PIPECAST_LISTEN_H

enum listen_kind { LISTEN_TCP, LISTEN_UNIX, LISTEN_SYSTEMD };

#define LISTEN_PATH_MAX 108   /* sizeof(sun_path), terminator included */
#define LISTEN_NAME_MAX 255   /* systemd's limit for a FileDescriptorName */

struct listen_spec {
	enum listen_kind kind;
	char host[256];       /* TCP: without brackets */
	char port[6];         /* TCP: 1..65535 */
	char path[LISTEN_PATH_MAX];
	char name[LISTEN_NAME_MAX + 1];
};

/* Checks a systemd FileDescriptorName / a Unix socket path; returns a
 * static description of the problem, or NULL when it is fine. */
const char *listen_check_name(const char *s);
const char *listen_check_path(const char *s);

/* Splits and checks a listen value. Returns 0, or -1 with *why set to a
 * static description of the problem. */
int listen_parse(const char *s, struct listen_spec *out, const char **why);

#endif

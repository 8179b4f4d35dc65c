/* fuzz_config.c: libFuzzer target for the configuration loader
 * (lib/config.c: the ini file through libinih and our reader, the -o
 * overrides, every range and every rule spanning several keys).
 *
 * Input: FILE "\n%%\n" OVERRIDES, where FILE is written to a temporary file
 * (created once per process in /dev/shm, or /tmp, and rewritten for each
 * input) and OVERRIDES is split on '\n' into at most MAX_OVERRIDES "-o"
 * values (a NUL byte ends one early). Without the separator the whole input
 * is FILE and there is no override. An input that starts with "%%\n" loads
 * no file at all: only defaults and overrides.
 *
 * Invariants checked (any failure aborts):
 *  - config_load returns 0 or -1;
 *  - on -1: at least one message, each non-empty and without '\n', and the
 *    output struct is all zero;
 *  - on 0: no message; config_violation() finds nothing and every value is
 *    within pipecast.conf(5)'s ranges (see fuzz_check_config);
 *  - config_free and config_errors_free bring alloc_live() back to where it
 *    was before config_load: nothing leaks, on success or failure. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "alloc.h"
#include "config.h"
#include "listen.h"
#include "upurl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEP "\n%%\n"
#define SEP_LEN 4
#define NO_FILE "%%\n"
#define MAX_OVERRIDES 32

#define KIB(x) ((uint64_t)(x) * 1024)
#define MIB(x) (KIB(x) * 1024)
#define GIB(x) (MIB(x) * 1024)
#define SEC(x) ((uint64_t)(x) * 1000)
#define DAY(x) (SEC(x) * 86400)

static char tmp_path[64];
static int tmp_fd = -1;

/* Removes the temporary file when the fuzzer exits. */
static void fuzz_cleanup(void)
{
	if (tmp_fd >= 0)
		unlink(tmp_path);
}

/* Creates the temporary file once per process, in memory when possible. */
static void fuzz_tmp_open(void)
{
	static const char *const dirs[] = { "/dev/shm", "/tmp" };

	for (size_t i = 0; i < 2 && tmp_fd < 0; i++) {
		snprintf(tmp_path, sizeof(tmp_path), "%s/pipecast-fuzz-XXXXXX", dirs[i]);
		tmp_fd = mkstemp(tmp_path);
	}
	if (tmp_fd < 0)
		fuzz_fail("cannot create a temporary file");
	atexit(fuzz_cleanup);
}

/* Replaces the temporary file's content with n bytes. */
static void fuzz_tmp_write(const uint8_t *p, size_t n)
{
	if (tmp_fd < 0)
		fuzz_tmp_open();
	if (ftruncate(tmp_fd, 0) < 0 ||
	    (n && pwrite(tmp_fd, p, n, 0) != (ssize_t)n))
		fuzz_fail("cannot write the temporary file");
}

/* Finds the separator; returns its offset or size when there is none. */
static size_t fuzz_find_sep(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i + SEP_LEN <= size; i++)
		if (memcmp(data + i, SEP, SEP_LEN) == 0)
			return i;
	return size;
}

/* Splits the overrides part on '\n' into fresh NUL-terminated strings. */
static size_t fuzz_split(const uint8_t *p, size_t n, char *ov[MAX_OVERRIDES])
{
	size_t k = 0, start = 0;

	for (size_t i = 0; i <= n && k < MAX_OVERRIDES; i++) {
		if (i < n && p[i] != '\n')
			continue;
		ov[k] = malloc(i - start + 1);
		if (!ov[k])
			abort();
		memcpy(ov[k], p + start, i - start);
		ov[k][i - start] = '\0';
		k++;
		start = i + 1;
	}
	return k;
}

/* Whether v is 0 (off) or within lo..hi. */
static bool fuzz_off_or(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v == 0 || (v >= lo && v <= hi);
}

/* Checks the keys of [source] against pipecast.conf(5)'s table. */
static void fuzz_check_source(const struct config_source *s)
{
	bool restartable = s->input == SRC_EXEC || s->input == SRC_SSE || s->input == SRC_REDIS;

	if (s->input > SRC_REDIS || s->framing > FRAMING_RAW ||
	    s->on_idle > ON_IDLE_RESTART || s->on_eof > ON_EOF_RESTART)
		fuzz_fail("[source] enum out of range");
	if ((s->input == SRC_STDIN) != (s->input_arg == NULL) ||
	    (s->input_arg && !*s->input_arg))
		fuzz_fail("[source] input argument does not match the input");
	if (s->max_line < 16 || s->max_line > MIB(16))
		fuzz_fail("[source] max_line out of range");
	if (!fuzz_off_or(s->idle_timeout_ms, 10, DAY(30)))
		fuzz_fail("[source] idle_timeout out of range");
	if (s->restart_delay_ms < 10 || s->restart_delay_ms > SEC(3600))
		fuzz_fail("[source] restart_delay out of range");
	if (s->fifo_mode > 0777)
		fuzz_fail("[source] fifo_mode out of range");
	if ((s->on_eof == ON_EOF_REOPEN && s->input != SRC_FIFO) ||
	    (s->on_eof == ON_EOF_RESTART && !restartable) ||
	    (s->on_idle == ON_IDLE_RESTART && !restartable))
		fuzz_fail("[source] on_eof/on_idle does not suit the input");
	if (!restartable && s->input != SRC_STDIN && s->input != SRC_FIFO)
		fuzz_fail("[source] unknown input");
	if ((s->input == SRC_SSE || s->input == SRC_REDIS) &&
	    (!upurl_is(s->input_arg) || s->framing != FRAMING_LINE))
		fuzz_fail("[source] an upstream input that is not sse:/redis: with line framing");
}

/* Checks the keys of [clients] against pipecast.conf(5)'s table. */
static void fuzz_check_clients(const struct config *c)
{
	const struct config_clients *k = &c->clients;
	struct listen_spec spec;
	const char *why;

	if (k->n_listen < 1 || !k->listen)
		fuzz_fail("[clients] no listener");
	for (size_t i = 0; i < k->n_listen; i++)
		if (!k->listen[i] || listen_parse(k->listen[i], &spec, &why) < 0)
			fuzz_fail("[clients] invalid listen value kept");
	if (k->unix_mode > 0777 || k->overflow > OVERFLOW_SKIP)
		fuzz_fail("[clients] unix_mode or overflow out of range");
	if (k->max_clients < 1 || k->max_clients > 1000000)
		fuzz_fail("[clients] max_clients out of range");
	if (!fuzz_off_or(k->idle_timeout_ms, 10, DAY(30)) ||
	    !fuzz_off_or(k->send_timeout_ms, 10, DAY(30)) ||
	    !fuzz_off_or(k->heartbeat_ms, 10, DAY(1)))
		fuzz_fail("[clients] a duration is out of range");
	if (k->buffer < KIB(64) || k->buffer > GIB(1))
		fuzz_fail("[clients] buffer out of range");
	if (c->source.max_line > k->buffer / 4)
		fuzz_fail("max_line above buffer/4");
	if (k->backlog > k->buffer / 2)
		fuzz_fail("backlog above buffer/2");
	if (!k->heartbeat_line || strlen(k->heartbeat_line) > HEARTBEAT_LINE_MAX ||
	    strchr(k->heartbeat_line, '\n'))
		fuzz_fail("[clients] heartbeat_line invalid");
	if (k->heartbeat_ms && c->source.framing != FRAMING_LINE)
		fuzz_fail("heartbeat with raw framing");
}

/* Checks [stats] and [daemon] against pipecast.conf(5)'s tables. */
static void fuzz_check_stats_daemon(const struct config *c)
{
	const struct config_stats *s = &c->stats;

	if (s->socket && (strncmp(s->socket, "systemd:", 8) == 0 ?
			  listen_check_name(s->socket + 8) :
			  listen_check_path(s->socket)))
		fuzz_fail("[stats] invalid socket kept");
	if (s->mode > 0777)
		fuzz_fail("[stats] mode out of range");
	if (!fuzz_off_or(s->idle_timeout_ms, 100, DAY(1)))
		fuzz_fail("[stats] idle_timeout out of range");
	if (s->max_connections < 1 || s->max_connections > 10000)
		fuzz_fail("[stats] max_connections out of range");
	if (c->daemon.log_level > LL_DEBUG ||
	    c->daemon.shutdown_timeout_ms > SEC(3600))
		fuzz_fail("[daemon] value out of range");
	if (strcmp(config_log_level_name(c->daemon.log_level), "?") == 0)
		fuzz_fail("[daemon] log_level has no name");
}

/* Every documented range and rule that a loaded configuration must satisfy. */
static void fuzz_check_config(const struct config *c)
{
	char buf[256];

	if (config_violation(c, buf, sizeof(buf)) != NULL)
		fuzz_fail("config_violation on a loaded configuration");
	fuzz_check_source(&c->source);
	fuzz_check_clients(c);
	fuzz_check_stats_daemon(c);
}

/* Checks the messages of a failed load, and the zeroed output. */
static void fuzz_check_errors(const struct config *c, const struct config_errors *e)
{
	static const struct config zero;

	if (e->n == 0 || !e->msg)
		fuzz_fail("failure without a message");
	for (size_t i = 0; i < e->n; i++) {
		if (!e->msg[i] || !e->msg[i][0])
			fuzz_fail("empty error message");
		if (strchr(e->msg[i], '\n'))
			fuzz_fail("error message with a newline");
	}
	if (memcmp(c, &zero, sizeof(zero)) != 0)
		fuzz_fail("failed load left the output non-zero");
}

/* One input: see the top of this file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *ov[MAX_OVERRIDES];
	size_t n_ov = 0, sep;
	const char *file = tmp_path;
	struct config c;
	struct config_errors e;
	uint64_t live0;
	int rc;

	if (size >= 3 && memcmp(data, NO_FILE, 3) == 0) {
		file = NULL;
		n_ov = fuzz_split(data + 3, size - 3, ov);
	} else {
		sep = fuzz_find_sep(data, size);
		fuzz_tmp_write(data, sep);
		if (sep < size)
			n_ov = fuzz_split(data + sep + SEP_LEN, size - sep - SEP_LEN, ov);
	}
	live0 = alloc_live();
	rc = config_load(&c, file, (const char *const *)ov, n_ov, &e);
	if (rc == 0) {
		if (e.n != 0)
			fuzz_fail("success with messages");
		fuzz_check_config(&c);
	} else if (rc == -1) {
		fuzz_check_errors(&c, &e);
	} else {
		fuzz_fail("config_load returned neither 0 nor -1");
	}
	config_free(&c);
	config_errors_free(&e);
	if (alloc_live() != live0)
		fuzz_fail("config_load leaked an allocation");
	for (size_t i = 0; i < n_ov; i++)
		free(ov[i]);
	return 0;
}

/* test_config.c: defaults, the ini file, -o overrides and every validation
 * rule of pipecast.conf(5) "Value syntax", with the exact error texts. Each test
 * writes its file into a mkstemp file under /tmp that teardown removes;
 * teardown also checks that every counted allocation was freed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "alloc.h"
#include "config.h"

#define MS(x) ((uint64_t)(x))
#define SEC(x) (MS(x) * 1000)
#define KIB(x) ((uint64_t)(x) * 1024)
#define MIB(x) (KIB(x) * 1024)
#define N(a) (sizeof(a) / sizeof((a)[0]))
/* An override list and its length, for fx_load. */
#define OV(...) (const char *const[]){ __VA_ARGS__ }, \
	N(((const char *const[]){ __VA_ARGS__ }))
#define NO_OV NULL, 0

/* One test's file, result and errors. */
struct fx {
	char path[64];
	struct config c;
	struct config_errors e;
	uint64_t live0;
	int rc;
};

/* Creates the fixture and the temp file; records the allocation baseline. */
static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int fd;

	if (!f)
		return -1;
	snprintf(f->path, sizeof(f->path), "/tmp/pipecast-test-config-XXXXXX");
	fd = mkstemp(f->path);
	if (fd < 0) {
		free(f);
		return -1;
	}
	close(fd);
	f->live0 = alloc_live();
	*state = f;
	return 0;
}

/* Frees the result, removes the file and fails on a leaked allocation. */
static int fx_teardown(void **state)
{
	struct fx *f = *state;
	bool leak;

	config_free(&f->c);
	config_errors_free(&f->e);
	leak = alloc_live() != f->live0;
	unlink(f->path);
	free(f);
	if (leak)
		fprintf(stderr, "allocations leaked\n");
	return leak ? -1 : 0;
}

/* Replaces the temp file's content with len bytes of text. */
static void fx_write(struct fx *f, const char *text, size_t len)
{
	FILE *fp = fopen(f->path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* Loads len bytes of file text (NULL: no file) with overrides. */
static int fx_load_n(struct fx *f, const char *text, size_t len,
		     const char *const *ov, size_t n)
{
	config_free(&f->c);
	config_errors_free(&f->e);
	if (text)
		fx_write(f, text, len);
	f->rc = config_load(&f->c, text ? f->path : NULL, ov, n, &f->e);
	return f->rc;
}

/* Loads a NUL-terminated file text (NULL: no file) with overrides. */
static int fx_load(struct fx *f, const char *text, const char *const *ov,
		   size_t n)
{
	return fx_load_n(f, text, text ? strlen(text) : 0, ov, n);
}

/* Prints the errors a failed expectation got. */
static void fx_dump(const struct fx *f)
{
	for (size_t i = 0; i < f->e.n; i++)
		print_error("  got: %s\n", f->e.msg[i]);
}

/* Asserts the last load succeeded with no message. */
static void fx_assert_ok(struct fx *f)
{
	if (f->rc != 0 || f->e.n != 0) {
		fx_dump(f);
		fail_msg("load failed (rc %d, %zu errors)", f->rc, f->e.n);
	}
}

/* Loads text with overrides and asserts success. */
static void fx_ok(struct fx *f, const char *text, const char *const *ov,
		  size_t n)
{
	fx_load(f, text, ov, n);
	fx_assert_ok(f);
}

/* Writes want into buf with every '@' replaced by the temp file's path. */
static const char *fx_expand(const struct fx *f, const char *want, char *buf,
			     size_t len)
{
	size_t o = 0;

	for (; *want && o + sizeof(f->path) + 1 < len; want++) {
		if (*want == '@')
			o += (size_t)snprintf(buf + o, len - o, "%s", f->path);
		else
			buf[o++] = *want;
	}
	buf[o] = '\0';
	return buf;
}

/* Asserts the last load failed with exactly these messages (NULL-ended
 * list; '@' stands for the file's path) and left the config zeroed. */
static void fx_assert_errs(struct fx *f, ...)
{
	static const struct config zero;
	char buf[8192];
	const char *want;
	size_t i = 0;
	va_list ap;

	assert_int_equal(f->rc, -1);
	assert_memory_equal(&f->c, &zero, sizeof(zero));
	va_start(ap, f);
	while ((want = va_arg(ap, const char *))) {
		fx_expand(f, want, buf, sizeof(buf));
		if (i >= f->e.n || strcmp(f->e.msg[i], buf) != 0) {
			fx_dump(f);
			fail_msg("error %zu: want '%s'", i, buf);
		}
		i++;
	}
	va_end(ap);
	if (i != f->e.n) {
		fx_dump(f);
		fail_msg("%zu errors, want %zu", f->e.n, i);
	}
}

/* Loads a file that must fail with one message. */
static void fx_err1(struct fx *f, const char *text, const char *want)
{
	fx_load(f, text, NO_OV);
	fx_assert_errs(f, want, NULL);
}

/* A string of n copies of ch, in a static buffer. */
static const char *fill(char ch, size_t n)
{
	static char buf[2][16384];
	static int which;
	char *b = buf[which ^= 1];

	assert_true(n < sizeof(buf[0]));
	memset(b, ch, n);
	b[n] = '\0';
	return b;
}

/* ---- defaults ---------------------------------------------------------- */

/* Asserts every field holds the documented default. */
static void assert_defaults(const struct config *c)
{
	assert_int_equal(c->source.input, SRC_STDIN);
	assert_null(c->source.input_arg);
	assert_int_equal(c->source.framing, FRAMING_LINE);
	assert_int_equal(c->source.max_line, KIB(64));
	assert_int_equal(c->source.idle_timeout_ms, 0);
	assert_int_equal(c->source.on_idle, ON_IDLE_LOG);
	assert_int_equal(c->source.on_eof, ON_EOF_EXIT);
	assert_int_equal(c->source.restart_delay_ms, SEC(1));
	assert_int_equal(c->source.fifo_mode, 0620);
	assert_int_equal(c->clients.n_listen, 1);
	assert_string_equal(c->clients.listen[0], "tcp:127.0.0.1:7070");
	assert_int_equal(c->clients.unix_mode, 0666);
	assert_int_equal(c->clients.max_clients, 10000);
	assert_int_equal(c->clients.idle_timeout_ms, SEC(300));
	assert_int_equal(c->clients.send_timeout_ms, SEC(30));
	assert_int_equal(c->clients.buffer, MIB(4));
	assert_int_equal(c->clients.overflow, OVERFLOW_DROP);
	assert_int_equal(c->clients.backlog, 0);
	assert_int_equal(c->clients.heartbeat_ms, 0);
	assert_string_equal(c->clients.heartbeat_line, "");
	assert_null(c->stats.socket);
	assert_int_equal(c->stats.mode, 0660);
	assert_int_equal(c->stats.idle_timeout_ms, SEC(60));
	assert_int_equal(c->stats.max_connections, 64);
	assert_int_equal(c->daemon.log_level, LL_INFO);
	assert_int_equal(c->daemon.shutdown_timeout_ms, SEC(5));
}

/* Without a file or overrides every key has the documented default. */
static void defaults_without_file_match_spec(void **state)
{
	struct fx *f = *state;

	fx_ok(f, NULL, NO_OV);
	assert_defaults(&f->c);
}

/* config_defaults alone fills the same defaults and config_free frees them. */
static void config_defaults_fills_every_key(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(config_defaults(&c), 0);
	assert_defaults(&c);
	config_free(&c);
}

/* An empty file and a file of comments and blank lines change nothing. */
static void empty_and_comment_only_files_keep_defaults(void **state)
{
	struct fx *f = *state;

	fx_ok(f, "", NO_OV);
	assert_defaults(&f->c);
	fx_ok(f, "; one\n# two\n\n   \n\t; three\n", NO_OV);
	assert_defaults(&f->c);
}

/* ---- every key from a file --------------------------------------------- */

/* Every key of every section is read from the file into its field. */
static void every_key_set_from_file(void **state)
{
	struct fx *f = *state;
	const struct config *c = &f->c;

	fx_ok(f,
	      "[source]\n"
	      "input = exec:my-producer --fast\n"
	      "framing = line\n"
	      "max_line = 1MiB\n"
	      "idle_timeout = 90s\n"
	      "on_idle = restart\n"
	      "on_eof = exit\n"
	      "restart_delay = 250ms\n"
	      "fifo_mode = 0600\n"
	      "[clients]\n"
	      "listen = tcp:0.0.0.0:9000\n"
	      "listen = unix:/run/pipecast/clients.sock\n"
	      "unix_mode = 0660\n"
	      "max_clients = 500\n"
	      "idle_timeout = 0\n"
	      "send_timeout = 2m\n"
	      "buffer = 16MiB\n"
	      "overflow = skip\n"
	      "backlog = 1MiB\n"
	      "heartbeat = 15s\n"
	      "heartbeat_line = {\"hb\":1}\n"
	      "[stats]\n"
	      "socket = /run/pipecast/other.sock\n"
	      "mode = 0600\n"
	      "idle_timeout = 500ms\n"
	      "max_connections = 8\n"
	      "[daemon]\n"
	      "log_level = debug\n"
	      "shutdown_timeout = 0\n",
	      NO_OV);
	assert_int_equal(c->source.input, SRC_EXEC);
	assert_string_equal(c->source.input_arg, "my-producer --fast");
	assert_int_equal(c->source.framing, FRAMING_LINE);
	assert_int_equal(c->source.max_line, MIB(1));
	assert_int_equal(c->source.idle_timeout_ms, SEC(90));
	assert_int_equal(c->source.on_idle, ON_IDLE_RESTART);
	assert_int_equal(c->source.on_eof, ON_EOF_EXIT);
	assert_int_equal(c->source.restart_delay_ms, 250);
	assert_int_equal(c->source.fifo_mode, 0600);
	assert_int_equal(c->clients.n_listen, 2);
	assert_string_equal(c->clients.listen[0], "tcp:0.0.0.0:9000");
	assert_string_equal(c->clients.listen[1], "unix:/run/pipecast/clients.sock");
	assert_int_equal(c->clients.unix_mode, 0660);
	assert_int_equal(c->clients.max_clients, 500);
	assert_int_equal(c->clients.idle_timeout_ms, 0);
	assert_int_equal(c->clients.send_timeout_ms, SEC(120));
	assert_int_equal(c->clients.buffer, MIB(16));
	assert_int_equal(c->clients.overflow, OVERFLOW_SKIP);
	assert_int_equal(c->clients.backlog, MIB(1));
	assert_int_equal(c->clients.heartbeat_ms, SEC(15));
	assert_string_equal(c->clients.heartbeat_line, "{\"hb\":1}");
	assert_string_equal(c->stats.socket, "/run/pipecast/other.sock");
	assert_int_equal(c->stats.mode, 0600);
	assert_int_equal(c->stats.idle_timeout_ms, 500);
	assert_int_equal(c->stats.max_connections, 8);
	assert_int_equal(c->daemon.log_level, LL_DEBUG);
	assert_int_equal(c->daemon.shutdown_timeout_ms, 0);
}

/* Every spelling of every enum key maps to its value. */
static void every_enum_spelling_accepted(void **state)
{
	static const struct { const char *text; size_t off; unsigned v; } t[] = {
		{ "[source]\nframing = raw\n", offsetof(struct config, source.framing), FRAMING_RAW },
		{ "[source]\nframing = line\n", offsetof(struct config, source.framing), FRAMING_LINE },
		{ "[source]\non_idle = log\n", offsetof(struct config, source.on_idle), ON_IDLE_LOG },
		{ "[source]\non_idle = exit\n", offsetof(struct config, source.on_idle), ON_IDLE_EXIT },
		{ "[source]\non_eof = exit\n", offsetof(struct config, source.on_eof), ON_EOF_EXIT },
		{ "[clients]\noverflow = drop\n", offsetof(struct config, clients.overflow), OVERFLOW_DROP },
		{ "[clients]\noverflow = skip\n", offsetof(struct config, clients.overflow), OVERFLOW_SKIP },
		{ "[daemon]\nlog_level = error\n", offsetof(struct config, daemon.log_level), LL_ERROR },
		{ "[daemon]\nlog_level = warning\n", offsetof(struct config, daemon.log_level), LL_WARNING },
		{ "[daemon]\nlog_level = notice\n", offsetof(struct config, daemon.log_level), LL_NOTICE },
		{ "[daemon]\nlog_level = info\n", offsetof(struct config, daemon.log_level), LL_INFO },
		{ "[daemon]\nlog_level = debug\n", offsetof(struct config, daemon.log_level), LL_DEBUG },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < N(t); i++) {
		unsigned got;

		fx_ok(f, t[i].text, NO_OV);
		memcpy(&got, (const char *)&f->c + t[i].off, sizeof(got));
		assert_int_equal(got, t[i].v);
	}
}

/* on_eof follows the input when not set: exit, reopen, restart. */
static void on_eof_default_depends_on_input(void **state)
{
	struct fx *f = *state;

	fx_ok(f, "[source]\ninput = stdin\n", NO_OV);
	assert_int_equal(f->c.source.on_eof, ON_EOF_EXIT);
	fx_ok(f, "[source]\ninput = fifo:/run/pipecast/in\n", NO_OV);
	assert_int_equal(f->c.source.input, SRC_FIFO);
	assert_string_equal(f->c.source.input_arg, "/run/pipecast/in");
	assert_int_equal(f->c.source.on_eof, ON_EOF_REOPEN);
	fx_ok(f, "[source]\ninput = exec:date\n", NO_OV);
	assert_int_equal(f->c.source.on_eof, ON_EOF_RESTART);
	fx_ok(f, NULL, OV("source.input=fifo:/x"));
	assert_int_equal(f->c.source.on_eof, ON_EOF_REOPEN);
	fx_ok(f, "[source]\non_eof = exit\ninput = fifo:/x\n", NO_OV);
	assert_int_equal(f->c.source.on_eof, ON_EOF_EXIT);
	fx_ok(f, "[source]\ninput = exec:date\n", OV("source.input=stdin"));
	assert_null(f->c.source.input_arg);
	assert_int_equal(f->c.source.on_eof, ON_EOF_EXIT);
}

/* A key that is not repeatable given twice in the file is an error at the
 * second place, naming the first (pipecast.conf(5): nothing is silently
 * ignored); an override still replaces the file's value, and listen may
 * repeat. */
static void duplicate_key_is_an_error(void **state)
{
	struct fx *f = *state;

	fx_load(f, "[clients]\nmax_clients = 5\nmax_clients = 7\n"
		"[stats]\nsocket = /a\n[clients]\nmax_clients = 9\n"
		"[stats]\nsocket = /b\n", NO_OV);
	fx_assert_errs(f, "@:3: [clients] max_clients: given twice (first at line 2)",
		       "@:7: [clients] max_clients: given twice (first at line 2)",
		       "@:9: [stats] socket: given twice (first at line 5)", NULL);
	fx_ok(f, "[clients]\nmax_clients = 5\n", OV("clients.max_clients=6",
						    "clients.max_clients=7"));
	assert_int_equal(f->c.clients.max_clients, 7);
	fx_ok(f, "[clients]\nmax_clients = 5\nlisten = tcp:127.0.0.1:1\n"
	      "listen = tcp:127.0.0.1:2\n", OV("clients.max_clients=9"));
	assert_int_equal(f->c.clients.max_clients, 9);
	assert_int_equal(f->c.clients.n_listen, 2);
}

/* A record the daemon writes itself (the heartbeat) must fit max_line with
 * its newline, reported at whichever of the two keys was set last. */
static void heartbeat_line_must_fit_max_line(void **state)
{
	struct fx *f = *state;
	char text[200];

	snprintf(text, sizeof(text), "[source]\nmax_line = 16\n[clients]\nheartbeat_line = %s\n",
		 fill('h', 15));
	fx_ok(f, text, NO_OV);
	snprintf(text, sizeof(text), "[source]\nmax_line = 16\n[clients]\nheartbeat_line = %s\n",
		 fill('h', 16));
	fx_err1(f, text, "@:4: [clients] heartbeat_line: 16 bytes and a newline exceed "
		"max_line (16B)");
	snprintf(text, sizeof(text), "[clients]\nheartbeat_line = %s\n[source]\nmax_line = 16\n",
		 fill('h', 20));
	fx_err1(f, text, "@:4: [source] max_line: 16B leaves no room for heartbeat_line "
		"(20 bytes and a newline)");
	snprintf(text, sizeof(text), "[source]\nframing = raw\n[clients]\nheartbeat_line = %s\n",
		 fill('h', 20));
	fx_ok(f, text, OV("source.max_line=16"));
}

/* A bare number too large for 64 bits is out of range, not malformed. */
static void huge_number_is_out_of_range(void **state)
{
	struct fx *f = *state;

	fx_err1(f, "[daemon]\nshutdown_timeout = 9999999999999999999\n",
		"@:2: [daemon] shutdown_timeout: 9999999999999999999 out of range (0..1h)");
	fx_err1(f, "[clients]\nbuffer = 99999999999999999999999G\n",
		"@:2: [clients] buffer: 99999999999999999999999G out of range (64KiB..1GiB)");
	fx_err1(f, "[clients]\nmax_clients = 99999999999999999999999\n",
		"@:2: [clients] max_clients: 99999999999999999999999 out of range (1..1000000)");
}

/* Listeners take numeric addresses and localhost only: no name lookup may
 * stall the loop at start-up or on reload (pipecast.conf(5), listen). */
static void listen_host_names_rejected(void **state)
{
	struct fx *f = *state;

	fx_err1(f, "[clients]\nlisten = tcp:example.invalid:7070\n",
		"@:2: [clients] listen: invalid address 'tcp:example.invalid:7070': host must "
		"be a numeric address or localhost (names are not looked up)");
	fx_err1(f, "[clients]\nlisten = tcp:127.1:7070\n",
		"@:2: [clients] listen: invalid address 'tcp:127.1:7070': host must "
		"be a numeric address or localhost (names are not looked up)");
	fx_ok(f, "[clients]\nlisten = tcp:localhost:7070\nlisten = tcp:10.1.2.3:7\n", NO_OV);
}

/* heartbeat_line may be empty, keeps inner blanks, and 1 KiB fits. */
static void heartbeat_line_empty_inner_blanks_and_1kib(void **state)
{
	struct fx *f = *state;
	char text[1200];

	fx_ok(f, "[clients]\nheartbeat_line = x\n", OV("clients.heartbeat_line="));
	assert_string_equal(f->c.clients.heartbeat_line, "");
	fx_ok(f, "[clients]\nheartbeat_line =   a  b   \n", NO_OV);
	assert_string_equal(f->c.clients.heartbeat_line, "a  b");
	snprintf(text, sizeof(text), "[clients]\nheartbeat_line = %s\n",
		 fill('h', 1024));
	fx_ok(f, text, NO_OV);
	assert_int_equal(strlen(f->c.clients.heartbeat_line), 1024);
}

/* stats.socket takes a path or systemd:NAME. */
static void stats_socket_path_or_systemd(void **state)
{
	struct fx *f = *state;

	fx_ok(f, "[stats]\nsocket = systemd:pipecast-stats\n", NO_OV);
	assert_string_equal(f->c.stats.socket, "systemd:pipecast-stats");
	fx_ok(f, NULL, OV("stats.socket=/run/x.sock"));
	assert_string_equal(f->c.stats.socket, "/run/x.sock");
}

/* ---- listen ------------------------------------------------------------ */

/* Every listen form pipecast.conf(5) names is accepted, up to the length limits. */
static void listen_valid_forms_accepted(void **state)
{
	struct fx *f = *state;
	char unix107[160], sd255[300];
	const char *forms[] = {
		"tcp:127.0.0.1:1", "tcp:localhost:65535", "tcp:0.0.0.0:7070",
		"tcp:[::1]:7070", "tcp:[::]:80", "tcp:[fe80::1%eth0]:80",
		"tcp:[::ffff:127.0.0.1]:80", "unix:/run/pipecast/c.sock",
		"unix:relative.sock", "systemd:pipecast", "systemd:a b", unix107,
		sd255,
	};

	snprintf(unix107, sizeof(unix107), "unix:%s", fill('u', 107));
	snprintf(sd255, sizeof(sd255), "systemd:%s", fill('n', 255));
	for (size_t i = 0; i < N(forms); i++) {
		char ov[400];

		snprintf(ov, sizeof(ov), "clients.listen=%s", forms[i]);
		fx_ok(f, NULL, OV(ov));
		assert_int_equal(f->c.clients.n_listen, 1);
		assert_string_equal(f->c.clients.listen[0], forms[i]);
	}
}

/* Each malformed listen is reported with the value and the reason. */
static void listen_malformed_reported(void **state)
{
	static const struct { const char *v, *why; } t[] = {
		{ "tcp:127.0.0.1:0", "port must be a number 1..65535" },
		{ "tcp:host:65536", "port must be a number 1..65535" },
		{ "tcp:host:+80", "port must be a number 1..65535" },
		{ "tcp:host:80x", "port must be a number 1..65535" },
		{ "tcp:host:", "port must be a number 1..65535" },
		{ "tcp::80", "empty host" },
		{ "tcp:host", "missing ':PORT'" },
		{ "tcp:", "missing ':PORT'" },
		{ "tcp:::1:80", "an IPv6 address needs brackets" },
		{ "tcp:[::1]", "expected ':PORT' after ']'" },
		{ "tcp:[::1]80", "expected ':PORT' after ']'" },
		{ "tcp:[::1", "missing ']'" },
		{ "tcp:[]:80", "invalid IPv6 address" },
		{ "tcp:[zz::1]:80", "invalid IPv6 address" },
		{ "tcp:[127.0.0.1]:80", "invalid IPv6 address" },
		{ "tcp:[fe80::1%]:80", "empty IPv6 zone" },
		{ "tcp:[::1]:0", "port must be a number 1..65535" },
		{ "unix:", "empty path" },
		{ "systemd:", "empty systemd name" },
		{ "systemd:a:b", "systemd name must be printable ASCII without ':'" },
		{ "udp:1.2.3.4:5", "expected tcp:HOST:PORT, tcp:[V6]:PORT, unix:PATH or systemd:NAME" },
		{ "127.0.0.1:7070", "expected tcp:HOST:PORT, tcp:[V6]:PORT, unix:PATH or systemd:NAME" },
		{ "", "expected tcp:HOST:PORT, tcp:[V6]:PORT, unix:PATH or systemd:NAME" },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < N(t); i++) {
		char text[200], want[300];

		snprintf(text, sizeof(text), "[clients]\nlisten = %s\n", t[i].v);
		snprintf(want, sizeof(want),
			 "@:2: [clients] listen: invalid address '%s': %s",
			 t[i].v, t[i].why);
		fx_err1(f, text, want);
	}
}

/* A unix path must fit sun_path (107 bytes) and a systemd name 255. */
static void listen_length_limits_rejected(void **state)
{
	struct fx *f = *state;
	char text[400], want[600];

	snprintf(text, sizeof(text), "[clients]\nlisten = unix:%s\n",
		 fill('u', 108));
	snprintf(want, sizeof(want), "@:2: [clients] listen: invalid address "
		 "'unix:%s': path longer than 107 bytes", fill('u', 108));
	fx_err1(f, text, want);
	snprintf(text, sizeof(text), "[clients]\nlisten = systemd:%s\n",
		 fill('n', 256));
	snprintf(want, sizeof(want), "@:2: [clients] listen: invalid address "
		 "'systemd:%s': systemd name longer than 255 bytes", fill('n', 256));
	fx_err1(f, text, want);
}

/* In the file the first listen replaces the default; later ones append. */
static void listen_file_replaces_default_then_appends(void **state)
{
	struct fx *f = *state;

	fx_ok(f, "[clients]\nlisten = tcp:[::1]:1\nlisten = unix:/a\n"
	      "[stats]\n[clients]\nlisten = systemd:c\n", NO_OV);
	assert_int_equal(f->c.clients.n_listen, 3);
	assert_string_equal(f->c.clients.listen[0], "tcp:[::1]:1");
	assert_string_equal(f->c.clients.listen[1], "unix:/a");
	assert_string_equal(f->c.clients.listen[2], "systemd:c");
}

/* The first -o listen replaces the file's list, later ones append. */
static void listen_override_replaces_file_list_then_appends(void **state)
{
	struct fx *f = *state;

	fx_ok(f, "[clients]\nlisten = tcp:10.0.0.1:1\nlisten = tcp:10.0.0.1:2\n",
	      OV("clients.listen=unix:/o1", "clients.max_clients=3",
		 "clients.listen=unix:/o2"));
	assert_int_equal(f->c.clients.n_listen, 2);
	assert_string_equal(f->c.clients.listen[0], "unix:/o1");
	assert_string_equal(f->c.clients.listen[1], "unix:/o2");
	fx_ok(f, "[clients]\nlisten = tcp:10.0.0.1:1\n", NO_OV);
	assert_int_equal(f->c.clients.n_listen, 1);
	assert_string_equal(f->c.clients.listen[0], "tcp:10.0.0.1:1");
	fx_ok(f, NULL, OV("clients.listen=tcp:10.0.0.1:5", "clients.listen=tcp:10.0.0.1:6"));
	assert_int_equal(f->c.clients.n_listen, 2);
	assert_string_equal(f->c.clients.listen[0], "tcp:10.0.0.1:5");
	assert_string_equal(f->c.clients.listen[1], "tcp:10.0.0.1:6");
}

/* ---- syntax ------------------------------------------------------------ */

/* [http]: defaults, every key, and its own listen list. */
static void http_section_keys(void **state)
{
	struct fx *f = *state;

	fx_ok(f, NULL, NO_OV);
	assert_int_equal(f->c.http.n_listen, 0);
	assert_int_equal(f->c.http.page, ONOFF_ON);
	assert_int_equal(f->c.http.metrics, ONOFF_ON);
	assert_int_equal(f->c.http.keepalive_ms, SEC(15));
	assert_int_equal(f->c.http.retry_ms, SEC(2));
	assert_string_equal(f->c.http.cors_origin, "");
	assert_int_equal(f->c.http.request_timeout_ms, SEC(10));
	fx_ok(f, "[http]\nlisten = tcp:127.0.0.1:8080\nlisten = unix:/h\npage = off\n"
	      "metrics = off\nkeepalive = 0\nretry = 100ms\ncors_origin = https://a.example\n"
	      "request_timeout = 5m\n", OV("http.listen=tcp:[::1]:8081", "http.listen=unix:/i"));
	assert_int_equal(f->c.http.n_listen, 2);
	assert_string_equal(f->c.http.listen[0], "tcp:[::1]:8081");
	assert_string_equal(f->c.http.listen[1], "unix:/i");
	assert_int_equal(f->c.clients.n_listen, 1);
	assert_int_equal(f->c.http.page, ONOFF_OFF);
	assert_int_equal(f->c.http.metrics, ONOFF_OFF);
	assert_int_equal(f->c.http.keepalive_ms, 0);
	assert_int_equal(f->c.http.retry_ms, 100);
	assert_string_equal(f->c.http.cors_origin, "https://a.example");
	assert_int_equal(f->c.http.request_timeout_ms, SEC(300));
	fx_err1(f, "[http]\nkeepalive = 500ms\n",
		"@:2: [http] keepalive: 500ms out of range (0 or 1s..1h)");
	fx_err1(f, "[http]\nrequest_timeout = 6m\n",
		"@:2: [http] request_timeout: 6m out of range (100ms..5m)");
	fx_err1(f, "[http]\nlisten = none\n",
		"@:2: [http] listen: invalid address 'none': expected tcp:HOST:PORT, tcp:[V6]:PORT, "
		"unix:PATH or systemd:NAME");
	fx_err1(f, "[http]\ncors_origin = a\tb\n",
		"@:2: [http] cors_origin: must not contain control characters");
}

/* [clients] listen = none turns the raw listener off, with an HTTP one. */
static void clients_listen_none_needs_http(void **state)
{
	struct fx *f = *state;

	fx_ok(f, "[clients]\nlisten = none\n[http]\nlisten = tcp:127.0.0.1:8080\n", NO_OV);
	assert_int_equal(f->c.clients.n_listen, 0);
	assert_int_equal(f->c.http.n_listen, 1);
	fx_err1(f, "[clients]\nlisten = none\n",
		"@:2: [clients] listen: none needs an [http] listen");
	fx_ok(f, "[clients]\nlisten = none\nlisten = tcp:127.0.0.1:1\n", NO_OV);
	assert_int_equal(f->c.clients.n_listen, 1);
}

/* Indented keys are keys, not continuations of the previous value. */
static void indented_keys_are_not_continuations(void **state)
{
	struct fx *f = *state;

	fx_ok(f, "[source]\ninput = exec:date\n    framing = raw\n"
	      "\t  on_idle = exit\n  [clients]\n  max_clients = 4\n", NO_OV);
	assert_string_equal(f->c.source.input_arg, "date");
	assert_int_equal(f->c.source.framing, FRAMING_RAW);
	assert_int_equal(f->c.source.on_idle, ON_IDLE_EXIT);
	assert_int_equal(f->c.clients.max_clients, 4);
}

/* ';' and '#' start comments, also indented, also inside a section. */
static void comments_with_semicolon_and_hash_also_indented(void **state)
{
	struct fx *f = *state;

	fx_ok(f, "; top\n# top\n[source]\n  ; input = fifo:/x\n\t# framing = raw\n"
	      "#[nosuch]\n;nosuch = 1\ninput = exec:a\n", NO_OV);
	assert_string_equal(f->c.source.input_arg, "a");
	assert_int_equal(f->c.source.framing, FRAMING_LINE);
}

/* There are no inline comments: " ; " and " # " stay in the value. */
static void value_with_semicolon_kept_whole(void **state)
{
	struct fx *f = *state;

	fx_ok(f, "[source]\ninput = exec:date ; sleep 1 # not a comment\n", NO_OV);
	assert_string_equal(f->c.source.input_arg, "date ; sleep 1 # not a comment");
	fx_ok(f, "[clients]\nheartbeat_line = ; hb\n", NO_OV);
	assert_string_equal(f->c.clients.heartbeat_line, "; hb");
}

/* CRLF line endings are read like LF ones. */
static void crlf_line_endings_stripped(void **state)
{
	struct fx *f = *state;

	fx_ok(f, "[source]\r\ninput = fifo:/x\r\n; c\r\n\r\n[clients]\r\n"
	      "heartbeat_line = hb\r\n", NO_OV);
	assert_string_equal(f->c.source.input_arg, "/x");
	assert_string_equal(f->c.clients.heartbeat_line, "hb");
	fx_load(f, "[source]\r\nnope = 1\r\n", NO_OV);
	fx_assert_errs(f, "@:2: [source] unknown key 'nope'", NULL);
}

/* A last line without a newline is read. */
static void last_line_without_newline_read(void **state)
{
	struct fx *f = *state;

	fx_ok(f, "[daemon]\nlog_level = debug", NO_OV);
	assert_int_equal(f->c.daemon.log_level, LL_DEBUG);
}

/* A UTF-8 byte order mark before the first line is skipped. */
static void utf8_bom_skipped(void **state)
{
	struct fx *f = *state;

	fx_ok(f, "\xEF\xBB\xBF[daemon]\nlog_level = error\n", NO_OV);
	assert_int_equal(f->c.daemon.log_level, LL_ERROR);
}

/* Blanks around names and values are trimmed; values may contain ':'. */
static void blanks_trimmed_and_colons_in_values_kept(void **state)
{
	struct fx *f = *state;

	fx_ok(f, "[clients]\n \t listen\t=\t tcp:127.0.0.1:8080 \t\n", NO_OV);
	assert_string_equal(f->c.clients.listen[0], "tcp:127.0.0.1:8080");
}

/* "key: value" is rejected even where inih would accept it. */
static void colon_syntax_rejected(void **state)
{
	struct fx *f = *state;

	fx_err1(f, "[source]\ninput: stdin\n",
		"@:2: expected 'key = value', not 'key: value'");
	fx_err1(f, "[source]\ninput: exec:a=b\n",
		"@:2: expected 'key = value', not 'key: value'");
}

/* A line that is neither a header, a comment nor key = value is an error. */
static void line_without_equals_rejected(void **state)
{
	struct fx *f = *state;

	fx_err1(f, "[source]\ninput\n", "@:2: expected 'key = value' or '[section]'");
	fx_err1(f, "[source]\n= stdin\n", "@:2: missing key name before '='");
}

/* A section header must be "[name]" alone. */
static void malformed_section_header_rejected(void **state)
{
	struct fx *f = *state;

	fx_err1(f, "[source\ninput = stdin\n",
		"@:1: malformed section header '[source'");
	fx_err1(f, "[source] x\n", "@:1: malformed section header '[source] x'");
}

/* A NUL byte inside a line is an error, and line numbers stay right. */
static void nul_byte_rejected(void **state)
{
	static const char text[] = "[source]\ninput = std\0in\nnope = 1\n";
	struct fx *f = *state;

	fx_load_n(f, text, sizeof(text) - 1, NO_OV);
	fx_assert_errs(f, "@:2: line contains a NUL byte",
		       "@:3: [source] unknown key 'nope'", NULL);
}

/* ---- line lengths ------------------------------------------------------ */

/* Writes "[source]\ninput = exec:" padded so line 2 is len bytes long,
 * then suffix. */
static void long_input_text(char *buf, size_t size, size_t len,
			    const char *suffix)
{
	snprintf(buf, size, "[source]\ninput = exec:%s\n%s",
		 fill('x', len - strlen("input = exec:")), suffix);
}

/* A line of exactly 4096 bytes is accepted, also with CRLF. */
static void line_of_4096_bytes_accepted(void **state)
{
	struct fx *f = *state;
	static char text[9000];
	size_t vlen = CONFIG_LINE_MAX - strlen("input = exec:");

	long_input_text(text, sizeof(text), CONFIG_LINE_MAX, "");
	fx_ok(f, text, NO_OV);
	assert_int_equal(strlen(f->c.source.input_arg), vlen);
	snprintf(text, sizeof(text), "[source]\r\ninput = exec:%s\r\n",
		 fill('y', vlen));
	fx_ok(f, text, NO_OV);
	assert_string_equal(f->c.source.input_arg, fill('y', vlen));
}

/* A line over 4096 bytes is an error and later line numbers are unchanged. */
static void line_over_4096_bytes_rejected_numbers_kept(void **state)
{
	struct fx *f = *state;
	static char text[30000];

	long_input_text(text, sizeof(text), CONFIG_LINE_MAX + 1, "nope = 1\n");
	fx_load(f, text, NO_OV);
	fx_assert_errs(f, "@:2: line longer than 4096 bytes",
		       "@:3: [source] unknown key 'nope'", NULL);
	snprintf(text, sizeof(text), "[source]\n%s\n\n%s\nnope = 1\n",
		 fill(';', 10000), fill('a', 4097));
	fx_load(f, text, NO_OV);
	fx_assert_errs(f, "@:2: line longer than 4096 bytes",
		       "@:4: line longer than 4096 bytes",
		       "@:5: [source] unknown key 'nope'", NULL);
}

/* Values longer than inih's 200-byte buffer (300 bytes here) are read
 * whole, and the lines after them keep their numbers. */
static void value_of_300_bytes_accepted_numbers_kept(void **state)
{
	struct fx *f = *state;
	char text[1000];

	snprintf(text, sizeof(text), "[source]\ninput = fifo:%s\nnope = 1\n",
		 fill('p', 300));
	fx_load(f, text, NO_OV);
	fx_assert_errs(f, "@:3: [source] unknown key 'nope'", NULL);
	snprintf(text, sizeof(text), "[source]\n   input   =   fifo:%s   \n",
		 fill('p', 300));
	fx_ok(f, text, NO_OV);
	assert_string_equal(f->c.source.input_arg, fill('p', 300));
}

/* Lines around inih's buffer size (196..201 bytes) all read the same. */
static void lines_around_inih_buffer_size_read_whole(void **state)
{
	struct fx *f = *state;
	char text[1000];

	for (size_t len = 196; len <= 201; len++) {
		long_input_text(text, sizeof(text), len, "");
		fx_ok(f, text, NO_OV);
		assert_int_equal(strlen(f->c.source.input_arg),
				 len - strlen("input = exec:"));
		long_input_text(text, sizeof(text), len, "[nosuch]\n");
		fx_err1(f, text, "@:3: unknown section [nosuch]");
	}
}

/* A long line with an error is reported at its own line number. */
static void error_on_long_line_reports_its_line(void **state)
{
	struct fx *f = *state;
	char text[1000], want[1000];

	snprintf(text, sizeof(text), "[clients]\n\n\nidle_timeout = %sx\n",
		 fill('9', 250));
	snprintf(want, sizeof(want),
		 "@:4: [clients] idle_timeout: invalid duration '%sx'; durations look like 250ms, 30s, 5m, 2h (no fractions, no spaces)", fill('9', 250));
	fx_err1(f, text, want);
}

/* ---- sections and keys ------------------------------------------------- */

/* An unknown section is an error, also when it is empty. */
static void unknown_section_reported_even_when_empty(void **state)
{
	struct fx *f = *state;

	fx_err1(f, "[source]\n[foo]\n[clients]\n", "@:2: unknown section [foo]");
	fx_err1(f, "[foo]\n", "@:1: unknown section [foo]");
	fx_err1(f, "[]\n", "@:1: unknown section []");
}

/* Keys of an unknown section are not reported again one by one. */
static void keys_in_unknown_section_not_reported_again(void **state)
{
	struct fx *f = *state;

	fx_load(f, "[foo]\na = 1\nb = 2\n[source]\nc = 3\n", NO_OV);
	fx_assert_errs(f, "@:1: unknown section [foo]",
		       "@:5: [source] unknown key 'c'", NULL);
}

/* An unknown key names its section and itself. */
static void unknown_key_names_section_and_key(void **state)
{
	struct fx *f = *state;

	fx_err1(f, "[clients]\n\nidel_timeout = 5m\n",
		"@:3: [clients] unknown key 'idel_timeout'; did you mean idle_timeout?");
	fx_err1(f, "[stats]\nlisten = tcp:h:1\n", "@:2: [stats] unknown key 'listen'; it belongs in [clients]");
}

/* Names are lower case: upper-case sections and keys are unknown. */
static void upper_case_names_unknown(void **state)
{
	struct fx *f = *state;

	fx_err1(f, "[Source]\n", "@:1: unknown section [Source]; did you mean [source]?");
	fx_err1(f, "[source]\nInput = stdin\n", "@:2: [source] unknown key 'Input'; did you mean input?");
}

/* A key before any section header is an error. */
static void key_outside_section_rejected(void **state)
{
	struct fx *f = *state;

	fx_load(f, "; c\ninput = stdin\nframing=raw\n[source]\n", NO_OV);
	fx_assert_errs(f, "@:2: key 'input' outside any section",
		       "@:3: key 'framing' outside any section", NULL);
}

/* ---- malformed values -------------------------------------------------- */

/* Each kind of malformed value names the key and the value. */
static void malformed_values_name_key_and_value(void **state)
{
	static const struct { const char *text, *want; } t[] = {
		{ "[clients]\nidle_timeout = 5x\n", "@:2: [clients] idle_timeout: invalid duration '5x'; durations look like 250ms, 30s, 5m, 2h (no fractions, no spaces)" },
		{ "[clients]\nidle_timeout = 1.5s\n", "@:2: [clients] idle_timeout: invalid duration '1.5s'; durations look like 250ms, 30s, 5m, 2h (no fractions, no spaces)" },
		{ "[clients]\nidle_timeout = 1m30s\n", "@:2: [clients] idle_timeout: invalid duration '1m30s'; durations look like 250ms, 30s, 5m, 2h (no fractions, no spaces)" },
		{ "[clients]\nidle_timeout = -1s\n", "@:2: [clients] idle_timeout: invalid duration '-1s'; durations look like 250ms, 30s, 5m, 2h (no fractions, no spaces)" },
		{ "[clients]\nidle_timeout = 5 s\n", "@:2: [clients] idle_timeout: invalid duration '5 s'; durations look like 250ms, 30s, 5m, 2h (no fractions, no spaces)" },
		{ "[clients]\nidle_timeout =\n", "@:2: [clients] idle_timeout: invalid duration ''; durations look like 250ms, 30s, 5m, 2h (no fractions, no spaces)" },
		{ "[clients]\nbuffer = 4MB\n", "@:2: [clients] buffer: invalid size '4MB'; sizes look like 64KiB, 4MiB, 1GiB" },
		{ "[source]\nmax_line = 1.5K\n", "@:2: [source] max_line: invalid size '1.5K'; sizes look like 64KiB, 4MiB, 1GiB" },
		{ "[clients]\nbacklog = 64k\n", "@:2: [clients] backlog: invalid size '64k'; sizes look like 64KiB, 4MiB, 1GiB" },
		{ "[source]\nfifo_mode = 660\n", "@:2: [source] fifo_mode: invalid octal mode '660'" },
		{ "[clients]\nunix_mode = 0999\n", "@:2: [clients] unix_mode: invalid octal mode '0999'" },
		{ "[stats]\nmode = 06600\n", "@:2: [stats] mode: invalid octal mode '06600'" },
		{ "[clients]\nmax_clients = 10k\n", "@:2: [clients] max_clients: invalid integer '10k'; a whole number such as 100" },
		{ "[stats]\nmax_connections = -1\n", "@:2: [stats] max_connections: invalid integer '-1'; a whole number such as 100" },
		{ "[source]\nframing = Line\n", "@:2: [source] framing: invalid value 'Line' (expected line, raw)" },
		{ "[source]\non_idle = stop\n", "@:2: [source] on_idle: invalid value 'stop' (expected log, exit, restart)" },
		{ "[source]\non_eof = close\n", "@:2: [source] on_eof: invalid value 'close' (expected exit, reopen, restart)" },
		{ "[clients]\noverflow = block\n", "@:2: [clients] overflow: invalid value 'block' (expected drop, skip)" },
		{ "[daemon]\nlog_level = warn\n", "@:2: [daemon] log_level: invalid value 'warn' (expected error, warning, notice, info, debug)" },
		{ "[source]\ninput = file:/x\n", "@:2: [source] input: invalid input 'file:/x' (expected stdin, fifo:PATH, exec:COMMAND, sse:http://HOST:PORT/PATH or redis:HOST:PORT/KEY)" },
		{ "[source]\ninput = fifo:\n", "@:2: [source] input: invalid input 'fifo:' (expected stdin, fifo:PATH, exec:COMMAND, sse:http://HOST:PORT/PATH or redis:HOST:PORT/KEY)" },
		{ "[source]\ninput = exec:\n", "@:2: [source] input: invalid input 'exec:' (expected stdin, fifo:PATH, exec:COMMAND, sse:http://HOST:PORT/PATH or redis:HOST:PORT/KEY)" },
		{ "[source]\ninput =\n", "@:2: [source] input: invalid input '' (expected stdin, fifo:PATH, exec:COMMAND, sse:http://HOST:PORT/PATH or redis:HOST:PORT/KEY)" },
		{ "[stats]\nsocket =\n", "@:2: [stats] socket: invalid socket '': empty path" },
		{ "[stats]\nsocket = systemd:\n", "@:2: [stats] socket: invalid socket 'systemd:': empty systemd name" },
		{ "[stats]\nsocket = systemd:a:b\n", "@:2: [stats] socket: invalid socket 'systemd:a:b': systemd name must be printable ASCII without ':'" },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < N(t); i++)
		fx_err1(f, t[i].text, t[i].want);
}

/* A stats socket path must fit sun_path; heartbeat_line at most 1 KiB. */
static void socket_path_and_heartbeat_line_length_limits(void **state)
{
	struct fx *f = *state;
	char text[2000], want[2000];

	snprintf(text, sizeof(text), "[stats]\nsocket = /%s\n", fill('s', 107));
	snprintf(want, sizeof(want), "@:2: [stats] socket: invalid socket "
		 "'/%s': path longer than 107 bytes", fill('s', 107));
	fx_err1(f, text, want);
	snprintf(text, sizeof(text), "[stats]\nsocket = /%s\n", fill('s', 106));
	fx_ok(f, text, NO_OV);
	snprintf(text, sizeof(text), "[clients]\nheartbeat_line = %s\n",
		 fill('h', 1025));
	fx_err1(f, text, "@:2: [clients] heartbeat_line: 1025 bytes, more than 1024");
}

/* ---- ranges ------------------------------------------------------------ */

/* Accepted and rejected values at each bound of each range. */
static const struct { const char *sec, *key, *v, *range; } range_cases[] = {
	{ "source", "max_line", "15", "16B..16MiB" },
	{ "source", "max_line", "16", NULL },
	{ "source", "max_line", "17MiB", "16B..16MiB" },
	{ "source", "idle_timeout", "0", NULL },
	{ "source", "idle_timeout", "1ms", "0 or 10ms..30d" },
	{ "source", "idle_timeout", "9ms", "0 or 10ms..30d" },
	{ "source", "idle_timeout", "10ms", NULL },
	{ "source", "idle_timeout", "30d", NULL },
	{ "source", "idle_timeout", "2592000001ms", "0 or 10ms..30d" },
	{ "source", "restart_delay", "0", "10ms..1h" },
	{ "source", "restart_delay", "9ms", "10ms..1h" },
	{ "source", "restart_delay", "10ms", NULL },
	{ "source", "restart_delay", "1h", NULL },
	{ "source", "restart_delay", "3601", "10ms..1h" },
	{ "clients", "max_clients", "0", "1..1000000" },
	{ "clients", "max_clients", "1", NULL },
	{ "clients", "max_clients", "1000000", NULL },
	{ "clients", "max_clients", "1000001", "1..1000000" },
	{ "clients", "idle_timeout", "0", NULL },
	{ "clients", "idle_timeout", "5ms", "0 or 10ms..30d" },
	{ "clients", "idle_timeout", "10ms", NULL },
	{ "clients", "idle_timeout", "720h", NULL },
	{ "clients", "idle_timeout", "31d", "0 or 10ms..30d" },
	{ "clients", "send_timeout", "0", NULL },
	{ "clients", "send_timeout", "9ms", "0 or 10ms..30d" },
	{ "clients", "send_timeout", "10ms", NULL },
	{ "clients", "send_timeout", "30d", NULL },
	{ "clients", "send_timeout", "43201m", "0 or 10ms..30d" },
	{ "clients", "buffer", "65535", "64KiB..1GiB" },
	{ "clients", "buffer", "1GiB", NULL },
	{ "clients", "buffer", "1025M", "64KiB..1GiB" },
	{ "clients", "heartbeat", "0", NULL },
	{ "clients", "heartbeat", "9ms", "0 or 10ms..1d" },
	{ "clients", "heartbeat", "10ms", NULL },
	{ "clients", "heartbeat", "1d", NULL },
	{ "clients", "heartbeat", "86401s", "0 or 10ms..1d" },
	{ "stats", "idle_timeout", "0", NULL },
	{ "stats", "idle_timeout", "99ms", "0 or 100ms..1d" },
	{ "stats", "idle_timeout", "100ms", NULL },
	{ "stats", "idle_timeout", "1d", NULL },
	{ "stats", "idle_timeout", "25h", "0 or 100ms..1d" },
	{ "stats", "max_connections", "0", "1..10000" },
	{ "stats", "max_connections", "1", NULL },
	{ "stats", "max_connections", "10000", NULL },
	{ "stats", "max_connections", "10001", "1..10000" },
	{ "daemon", "shutdown_timeout", "0", NULL },
	{ "daemon", "shutdown_timeout", "1h", NULL },
	{ "daemon", "shutdown_timeout", "3601s", "0..1h" },
};

/* Every range bound of pipecast.conf(5)'s tables, on both sides. */
static void every_range_bound_both_sides(void **state)
{
	struct fx *f = *state;

	for (size_t i = 0; i < N(range_cases); i++) {
		char text[200], want[300];

		snprintf(text, sizeof(text), "[%s]\n%s = %s\n", range_cases[i].sec,
			 range_cases[i].key, range_cases[i].v);
		if (!range_cases[i].range) {
			fx_ok(f, text, NO_OV);
			continue;
		}
		snprintf(want, sizeof(want), "@:2: [%s] %s: %s out of range (%s)",
			 range_cases[i].sec, range_cases[i].key, range_cases[i].v,
			 range_cases[i].range);
		fx_err1(f, text, want);
	}
}

/* The smallest ring and the largest max_line are accepted when they fit
 * each other; backlog may be exactly half the ring. */
static void size_bounds_accepted_when_consistent(void **state)
{
	struct fx *f = *state;

	fx_ok(f, "[clients]\nbuffer = 64KiB\nbacklog = 32KiB\n"
	      "[source]\nmax_line = 16KiB\n", NO_OV);
	assert_int_equal(f->c.clients.buffer, KIB(64));
	assert_int_equal(f->c.source.max_line, KIB(16));
	assert_int_equal(f->c.clients.backlog, KIB(32));
	fx_ok(f, "[clients]\nbuffer = 64MiB\n[source]\nmax_line = 16MiB\n", NO_OV);
	assert_int_equal(f->c.source.max_line, MIB(16));
}

/* ---- rules spanning keys ----------------------------------------------- */

/* max_line over buffer/4 is reported at whichever key came last. */
static void max_line_over_quarter_buffer_reported_at_last_key(void **state)
{
	struct fx *f = *state;

	fx_err1(f, "[clients]\nbuffer = 4MiB\n\n[source]\n\n\nmax_line = 2MiB\n",
		"@:7: [source] max_line: 2MiB exceeds buffer/4 (1MiB)");
	fx_err1(f, "[source]\nmax_line = 64KiB\n[clients]\nbuffer = 128KiB\n",
		"@:4: [clients] buffer: leaves max_line (64KiB) above buffer/4 (32KiB)");
}

/* An unset max_line follows a small buffer down instead of breaking it. */
static void default_max_line_follows_a_small_buffer(void **state)
{
	struct fx *f = *state;

	fx_ok(f, "[clients]\nbuffer = 64KiB\n", NO_OV);
	assert_int_equal(f->c.source.max_line, KIB(16));
	fx_ok(f, "[clients]\nbuffer = 1GiB\n", NO_OV);
	assert_int_equal(f->c.source.max_line, KIB(64));
}

/* A finished configuration is checked against the same rules (reload). */
static void violation_checks_a_finished_configuration(void **state)
{
	struct fx *f = *state;
	char buf[200];

	fx_ok(f, "[source]\ninput = fifo:/x\n", NO_OV);
	assert_null(config_violation(&f->c, buf, sizeof(buf)));
	f->c.source.on_eof = ON_EOF_RESTART;
	assert_string_equal(config_violation(&f->c, buf, sizeof(buf)),
			    "[source] on_eof: restart needs input = exec:COMMAND, sse:URL or redis:URL");
	f->c.source.on_eof = ON_EOF_REOPEN;
	f->c.clients.backlog = f->c.clients.buffer;
	assert_non_null(strstr(config_violation(&f->c, buf, sizeof(buf)),
			       "[clients] backlog: "));
	f->c.clients.backlog = 0;
}

/* backlog over buffer/2 is reported at whichever key came last. */
static void backlog_over_half_buffer_reported_at_last_key(void **state)
{
	struct fx *f = *state;

	fx_err1(f, "[clients]\nbuffer = 4MiB\nbacklog = 2049KiB\n",
		"@:3: [clients] backlog: 2049KiB exceeds buffer/2 (2MiB)");
	fx_err1(f, "[clients]\nbacklog = 3MiB\n[source]\nmax_line=16K\n"
		"[clients]\nbuffer = 64KiB\n",
		"@:6: [clients] buffer: leaves backlog (3MiB) above buffer/2 (32KiB)");
}

/* heartbeat with framing = raw is reported at whichever key came last. */
static void heartbeat_with_raw_framing_reported_at_last_key(void **state)
{
	struct fx *f = *state;

	fx_err1(f, "[source]\nframing = raw\n[clients]\nheartbeat = 5s\n",
		"@:4: [clients] heartbeat: needs framing = line (framing is raw)");
	fx_err1(f, "[clients]\nheartbeat = 5s\n[source]\nframing = raw\n",
		"@:4: [source] framing: heartbeat needs framing = line");
	fx_load(f, "[clients]\nheartbeat = 5s\n", OV("source.framing=raw"));
	fx_assert_errs(f, "-o source.framing=raw: heartbeat needs framing = line",
		       NULL);
	fx_ok(f, "[source]\nframing = raw\n[clients]\nheartbeat = 0\n", NO_OV);
}

/* on_eof and on_idle values that need another input are reported at
 * whichever key came last. */
static void on_eof_and_on_idle_need_matching_input(void **state)
{
	struct fx *f = *state;

	fx_err1(f, "[source]\non_eof = reopen\n",
		"@:2: [source] on_eof: reopen needs input = fifo:PATH");
	fx_err1(f, "[source]\ninput = fifo:/x\non_eof = restart\n",
		"@:3: [source] on_eof: restart needs input = exec:COMMAND, sse:URL or redis:URL");
	fx_err1(f, "[source]\non_eof = reopen\ninput = exec:a\n",
		"@:3: [source] input: on_eof = reopen needs input = fifo:PATH");
	fx_err1(f, "[source]\non_idle = restart\n",
		"@:2: [source] on_idle: restart needs input = exec:COMMAND, sse:URL or redis:URL");
	fx_err1(f, "[source]\non_idle = restart\ninput = fifo:/f\n",
		"@:3: [source] input: on_idle = restart needs input = exec:COMMAND, sse:URL or redis:URL");
	fx_ok(f, "[source]\ninput = fifo:/x\non_eof = reopen\non_idle = exit\n", NO_OV);
	fx_ok(f, "[source]\non_idle = restart\non_eof = restart\ninput = exec:a\n", NO_OV);
	fx_ok(f, "[source]\non_eof = exit\ninput = exec:a\n", NO_OV);
}

/* sse: and redis: inputs keep their whole value; restart is their default
 * for on_eof and on_idle, 60 s for idle_timeout, unless given; https: is
 * refused with a pointer to the TLS recipe. */
static void upstream_inputs_and_their_defaults(void **state)
{
	struct fx *f = *state;

	fx_ok(f, "[source]\ninput = sse:http://127.0.0.1:8080/events\n", NO_OV);
	assert_int_equal(f->c.source.input, SRC_SSE);
	assert_string_equal(f->c.source.input_arg, "sse:http://127.0.0.1:8080/events");
	assert_int_equal(f->c.source.on_eof, ON_EOF_RESTART);
	assert_int_equal(f->c.source.on_idle, ON_IDLE_RESTART);
	assert_int_equal(f->c.source.idle_timeout_ms, 60000);
	fx_ok(f, "[source]\ninput = redis:localhost:6379/app\nidle_timeout = 0\n"
	      "on_idle = log\non_eof = exit\n", NO_OV);
	assert_int_equal(f->c.source.input, SRC_REDIS);
	assert_int_equal(f->c.source.idle_timeout_ms, 0);
	assert_int_equal(f->c.source.on_idle, ON_IDLE_LOG);
	assert_int_equal(f->c.source.on_eof, ON_EOF_EXIT);
	fx_ok(f, "[source]\ninput = exec:date\n", NO_OV);
	assert_int_equal(f->c.source.on_idle, ON_IDLE_LOG);
	assert_int_equal(f->c.source.idle_timeout_ms, 0);
	fx_err1(f, "[source]\ninput = sse:http://127.0.0.1:8080/events\non_eof = reopen\n",
		"@:3: [source] on_eof: reopen needs input = fifo:PATH");
	fx_err1(f, "[source]\ninput = sse:http://example.org/events\n",
		"@:2: [source] input: invalid input 'sse:http://example.org/events': "
		"HOST must be a numeric IPv4 address, [IPv6] or localhost (no name is looked up)");
	fx_err1(f, "[source]\ninput = sse:http://127.0.0.1:1/e\nframing = raw\n",
		"@:3: [source] framing: raw needs input = stdin, fifo:PATH or exec:COMMAND");
	fx_err1(f, "[source]\nframing = raw\ninput = sse:http://127.0.0.1:1/e\n",
		"@:3: [source] input: an upstream (sse:, redis:) needs framing = line");
	fx_load(f, "[source]\ninput = sse:https://127.0.0.1/events\n", NO_OV);
	assert_int_equal(f->e.n, 1);
	assert_non_null(strstr(f->e.msg[0], "https: is not supported"));
	assert_non_null(strstr(f->e.msg[0], "pipecastd(8), TLS"));
	fx_err1(f, "[source]\ninput = redis:127.0.0.1:6379/app?history=100\n",
		"@:2: [source] input: invalid input 'redis:127.0.0.1:6379/app?history=100': "
		"?history= is not supported by this version (a client resuming past the "
		"ring gets a gap notice)");
}

/* An override that completes a bad combination is the place reported. */
static void override_completing_combination_is_reported(void **state)
{
	struct fx *f = *state;

	fx_load(f, "[source]\nmax_line = 1MiB\n", OV("clients.buffer=2MiB"));
	fx_assert_errs(f, "-o clients.buffer=2MiB: leaves max_line (1MiB) above "
		       "buffer/4 (512KiB)", NULL);
	fx_load(f, "[clients]\nbuffer = 2MiB\n", OV("source.max_line=1MiB"));
	fx_assert_errs(f, "-o source.max_line=1MiB: 1MiB exceeds buffer/4 (512KiB)",
		       NULL);
	fx_load(f, NULL, OV("source.input=exec:a", "source.on_eof=reopen"));
	fx_assert_errs(f, "-o source.on_eof=reopen: reopen needs input = fifo:PATH",
		       NULL);
}

/* ---- overrides --------------------------------------------------------- */

/* Overrides apply after the file, in order, the later one winning. */
static void overrides_apply_after_file_in_order(void **state)
{
	struct fx *f = *state;

	fx_ok(f, "[clients]\nidle_timeout = 1m\n[daemon]\nlog_level = error\n",
	      OV("clients.idle_timeout=2s", "daemon.log_level=notice",
		 "daemon.log_level=debug", "source.input = exec:a ; b",
		 "clients.heartbeat_line="));
	assert_int_equal(f->c.clients.idle_timeout_ms, SEC(2));
	assert_int_equal(f->c.daemon.log_level, LL_DEBUG);
	assert_string_equal(f->c.source.input_arg, "a ; b");
	assert_string_equal(f->c.clients.heartbeat_line, "");
}

/* Errors teach: the nearest section or key, the section a key belongs
 * in, the accepted forms of a value, and no inline comments. */
static void errors_give_hints(void **state)
{
	struct fx *f = *state;

	fx_err1(f, "[client]\n", "@:1: unknown section [client]; did you mean [clients]?");
	fx_err1(f, "[sources]\n", "@:1: unknown section [sources]; did you mean [source]?");
	fx_err1(f, "[clients]\nmax_client = 3\n",
		"@:2: [clients] unknown key 'max_client'; did you mean max_clients?");
	fx_err1(f, "[source]\nbuffer = 4MiB\n",
		"@:2: [source] unknown key 'buffer'; it belongs in [clients]");
	fx_err1(f, "[clients]\nzzz = 1\n", "@:2: [clients] unknown key 'zzz'");
	fx_err1(f, "[clients]\nbuffer = 4MiB ; the ring\n",
		"@:2: [clients] buffer: invalid size '4MiB ; the ring'; sizes look like "
		"64KiB, 4MiB, 1GiB; inline comments are not supported (put a comment "
		"on a line of its own)");
	fx_err1(f, "[daemon]\nlog_level = info # quiet\n",
		"@:2: [daemon] log_level: invalid value 'info # quiet' (expected error, "
		"warning, notice, info, debug); inline comments are not supported (put a "
		"comment on a line of its own)");
	/* a valid value with a ';' in it is no comment */
	fx_ok(f, "[source]\ninput = exec:date ; sleep 1\n", NO_OV);
}

/* Override problems name the -o text; validation is the file's. */
static void override_errors_name_the_option(void **state)
{
	struct fx *f = *state;

	fx_load(f, NULL, OV("clients.idel_timeout=2s", "foo.bar=1",
			    "clients.idle_timeout=5x", "clients.idle_timeout=5ms",
			    "clients.listen=tcp:h:0", "nodot=1", "clients.max_clients",
			    ".x=1", "clients.=1", "", "Clients.max_clients=1"));
	fx_assert_errs(f,
		       "-o clients.idel_timeout=2s: unknown key 'idel_timeout'; did you mean idle_timeout?",
		       "-o foo.bar=1: unknown section [foo]",
		       "-o clients.idle_timeout=5x: invalid duration '5x'; durations look like 250ms, 30s, 5m, 2h (no fractions, no spaces)",
		       "-o clients.idle_timeout=5ms: 5ms out of range (0 or 10ms..30d)",
		       "-o clients.listen=tcp:h:0: invalid address 'tcp:h:0': "
		       "port must be a number 1..65535",
		       "-o nodot=1: expected SECTION.KEY=VALUE",
		       "-o clients.max_clients: expected SECTION.KEY=VALUE",
		       "-o .x=1: expected SECTION.KEY=VALUE",
		       "-o clients.=1: expected SECTION.KEY=VALUE",
		       "-o : expected SECTION.KEY=VALUE",
		       "-o Clients.max_clients=1: unknown section [Clients]; did you mean [clients]?", NULL);
}

/* A key in a value's text ("a.b=c.d=e") splits at the first '=' and '.'. */
static void override_splits_at_first_equals(void **state)
{
	struct fx *f = *state;

	fx_ok(f, NULL, OV("source.input=exec:x.y=z"));
	assert_string_equal(f->c.source.input_arg, "x.y=z");
}

/* ---- collecting, files, API -------------------------------------------- */

/* Every problem is collected, file lines first in order, then overrides,
 * then rules; the result stays zeroed. */
static void all_errors_collected_in_order(void **state)
{
	struct fx *f = *state;

	fx_load(f, "x = 1\n[foo]\n[source]\nmax_line = 2MiB\nbogus = 1\n"
		"input: stdin\n[clients]\nbuffer = 1x\nmax_clients = 0\n",
		OV("daemon.log_level=loud", "clients.buffer=4MiB"));
	fx_assert_errs(f,
		       "@:1: key 'x' outside any section",
		       "@:2: unknown section [foo]",
		       "@:5: [source] unknown key 'bogus'",
		       "@:6: expected 'key = value', not 'key: value'",
		       "@:8: [clients] buffer: invalid size '1x'; sizes look like 64KiB, 4MiB, 1GiB",
		       "@:9: [clients] max_clients: 0 out of range (1..1000000)",
		       "-o daemon.log_level=loud: invalid value 'loud' "
		       "(expected error, warning, notice, info, debug)",
		       "-o clients.buffer=4MiB: leaves max_line (2MiB) above "
		       "buffer/4 (1MiB)", NULL);
}

/* A missing file is one error naming it and the system's reason. */
static void missing_file_reported(void **state)
{
	struct fx *f = *state;
	struct config c;
	struct config_errors e;
	char want[128];

	unlink(f->path);
	assert_int_equal(config_load(&c, f->path, NULL, 0, &e), -1);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory",
		 f->path);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0], want);
	config_errors_free(&e);
	assert_int_equal(config_load(&c, "/nonexistent-dir/x.conf", NULL, 0, &e), -1);
	assert_string_equal(e.msg[0],
			    "/nonexistent-dir/x.conf: cannot open: No such file or directory");
	config_errors_free(&e);
}

/* A directory given as the file is an error, not a crash. */
static void directory_as_file_reported(void **state)
{
	struct config c;
	struct config_errors e;

	(void)state;
	assert_int_equal(config_load(&c, "/tmp", NULL, 0, &e), -1);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0], "/tmp: cannot read: Is a directory");
	config_errors_free(&e);
}

/* Each load gives a fresh, independent struct (reload), and a NULL error
 * list is allowed. */
static void each_load_gives_fresh_config(void **state)
{
	struct fx *f = *state;
	struct config a, b;

	fx_write(f, "[clients]\nlisten = unix:/a\n", strlen("[clients]\nlisten = unix:/a\n"));
	assert_int_equal(config_load(&a, f->path, NULL, 0, NULL), 0);
	assert_int_equal(config_load(&b, f->path, NULL, 0, NULL), 0);
	assert_ptr_not_equal(a.clients.listen, b.clients.listen);
	assert_int_equal(b.clients.n_listen, 1);
	config_free(&a);
	assert_string_equal(b.clients.listen[0], "unix:/a");
	config_free(&b);
	config_free(&b);
	fx_write(f, "[x]\n", 4);
	assert_int_equal(config_load(&a, f->path, NULL, 0, NULL), -1);
}

/* Log level names are the file's spellings. */
static void log_level_names_match_file(void **state)
{
	(void)state;
	assert_string_equal(config_log_level_name(LL_ERROR), "error");
	assert_string_equal(config_log_level_name(LL_WARNING), "warning");
	assert_string_equal(config_log_level_name(LL_NOTICE), "notice");
	assert_string_equal(config_log_level_name(LL_INFO), "info");
	assert_string_equal(config_log_level_name(LL_DEBUG), "debug");
	assert_string_equal(config_log_level_name((enum log_level)99), "?");
}

/* The index of a key in the table, by section and name. */
static size_t key_index(const char *section, const char *name)
{
	for (size_t i = 0; i < config_key_count(); i++)
		if (strcmp(config_key_section(i), section) == 0 &&
		    strcmp(config_key_name(i), name) == 0)
			return i;
	fail_msg("no key [%s] %s", section, name);
	return 0;
}

/* The restart-only keys are exactly those pipecast.conf(5) lists. */
static void restart_flags_match_the_manual(void **state)
{
	static const char *const want[] = {
		"source.input", "source.framing", "source.max_line",
		"source.fifo_mode", "clients.buffer", "clients.preamble", "stats.socket",
	};
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < config_key_count(); i++)
		n += config_key_restart(i);
	assert_int_equal(n, N(want));
	for (size_t i = 0; i < N(want); i++) {
		char sec[16];
		const char *dot = strchr(want[i], '.');

		snprintf(sec, sizeof(sec), "%.*s", (int)(dot - want[i]), want[i]);
		assert_true(config_key_restart(key_index(sec, dot + 1)));
	}
}

/* Reload keeps the old value of a changed restart-only key, swapping owned
 * strings so that freeing either configuration frees what it holds, and
 * leaves every other key with its new value. */
static void keep_restart_puts_back_old_values(void **state)
{
	struct fx *f = *state;
	struct config old;
	size_t kept[8], n;
	char v[64];

	fx_ok(f, NULL, OV("source.input=exec:date", "clients.buffer=8MiB",
			  "clients.idle_timeout=7s"));
	old = f->c;
	f->c = (struct config){ 0 };
	fx_ok(f, NULL, OV("source.input=fifo:/tmp/x", "clients.buffer=4MiB",
			  "clients.idle_timeout=9s", "source.on_eof=exit"));
	n = config_keep_restart(&f->c, &old, kept, N(kept));
	assert_int_equal(n, 2);
	assert_string_equal(config_key_name(kept[0]), "input");
	assert_string_equal(config_key_name(kept[1]), "buffer");
	assert_int_equal(f->c.source.input, SRC_EXEC);
	assert_string_equal(f->c.source.input_arg, "date");
	assert_string_equal(old.source.input_arg, "/tmp/x");
	assert_int_equal(f->c.clients.buffer, MIB(8));
	assert_int_equal(f->c.clients.idle_timeout_ms, SEC(9));
	assert_string_equal(config_key_format(&f->c, kept[1], v, sizeof(v)), "8MiB");
	assert_int_equal(config_keep_restart(&f->c, &f->c, kept, N(kept)), 0);
	config_free(&old);
}

/* A reload that keeps the old input re-derives the defaults that follow the
 * input (on_eof) from the input kept, for every pair of input kinds; an
 * on_eof given in the file stays as given. */
static void keep_restart_rederives_on_eof(void **state)
{
	static const char *const inputs[] = { "source.input=stdin", "source.input=fifo:/tmp/x",
					      "source.input=exec:date" };
	static const enum src_on_eof want[] = { ON_EOF_EXIT, ON_EOF_REOPEN, ON_EOF_RESTART };
	struct fx *f = *state;
	char why[200];
	size_t kept[8];

	for (size_t o = 0; o < N(inputs); o++) {
		for (size_t n = 0; n < N(inputs); n++) {
			struct config old;

			fx_ok(f, NULL, &inputs[o], 1);
			old = f->c;
			f->c = (struct config){ 0 };
			fx_ok(f, NULL, &inputs[n], 1);
			config_keep_restart(&f->c, &old, kept, N(kept));
			assert_int_equal(f->c.source.on_eof, want[o]);
			assert_null(config_violation(&f->c, why, sizeof(why)));
			config_free(&old);
		}
	}
	fx_ok(f, NULL, OV("source.input=exec:date"));
	{
		struct config old = f->c;

		f->c = (struct config){ 0 };
		fx_ok(f, NULL, OV("source.input=stdin", "source.on_eof=exit"));
		config_keep_restart(&f->c, &old, kept, N(kept));
		assert_int_equal(f->c.source.on_eof, ON_EOF_EXIT);
		config_free(&old);
	}
}

/* Every key can be spelled as the file would, lists joined. */
static void key_format_spells_every_kind(void **state)
{
	struct fx *f = *state;
	char v[128];

	fx_ok(f, NULL, OV("clients.listen=unix:/a", "clients.listen=tcp:127.0.0.1:9",
			  "source.input=exec:vmstat 1", "clients.unix_mode=0600"));
	assert_string_equal(config_key_format(&f->c, key_index("clients", "listen"), v,
					      sizeof(v)), "unix:/a, tcp:127.0.0.1:9");
	assert_string_equal(config_key_format(&f->c, key_index("source", "input"), v,
					      sizeof(v)), "exec:vmstat 1");
	assert_string_equal(config_key_format(&f->c, key_index("clients", "unix_mode"), v,
					      sizeof(v)), "0600");
	assert_string_equal(config_key_format(&f->c, key_index("clients", "overflow"), v,
					      sizeof(v)), "drop");
	assert_string_equal(config_key_format(&f->c, key_index("clients", "send_timeout"), v,
					      sizeof(v)), "30s");
	assert_string_equal(config_key_format(&f->c, key_index("stats", "max_connections"), v,
					      sizeof(v)), "64");
	for (size_t i = 0; i < config_key_count(); i++)
		assert_non_null(config_key_format(&f->c, i, v, 4));
	fx_ok(f, NULL, OV("source.input=sse:http://[::1]:8080/events"));
	assert_string_equal(config_key_format(&f->c, key_index("source", "input"), v,
					      sizeof(v)), "sse:http://[::1]:8080/events");
	fx_ok(f, NULL, NO_OV);
	assert_string_equal(config_key_format(&f->c, key_index("source", "input"), v,
					      sizeof(v)), "stdin");
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

/* Runs every test of this file; the exit status is the number of failures. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		T(defaults_without_file_match_spec),
		T(config_defaults_fills_every_key),
		T(empty_and_comment_only_files_keep_defaults),
		T(every_key_set_from_file),
		T(every_enum_spelling_accepted),
		T(on_eof_default_depends_on_input),
		T(duplicate_key_is_an_error),
		T(heartbeat_line_must_fit_max_line),
		T(huge_number_is_out_of_range),
		T(listen_host_names_rejected),
		T(heartbeat_line_empty_inner_blanks_and_1kib),
		T(stats_socket_path_or_systemd),
		T(listen_valid_forms_accepted),
		T(listen_malformed_reported),
		T(listen_length_limits_rejected),
		T(listen_file_replaces_default_then_appends),
		T(listen_override_replaces_file_list_then_appends),
		T(http_section_keys),
		T(clients_listen_none_needs_http),
		T(indented_keys_are_not_continuations),
		T(comments_with_semicolon_and_hash_also_indented),
		T(value_with_semicolon_kept_whole),
		T(crlf_line_endings_stripped),
		T(last_line_without_newline_read),
		T(utf8_bom_skipped),
		T(blanks_trimmed_and_colons_in_values_kept),
		T(colon_syntax_rejected),
		T(line_without_equals_rejected),
		T(malformed_section_header_rejected),
		T(nul_byte_rejected),
		T(line_of_4096_bytes_accepted),
		T(line_over_4096_bytes_rejected_numbers_kept),
		T(value_of_300_bytes_accepted_numbers_kept),
		T(lines_around_inih_buffer_size_read_whole),
		T(error_on_long_line_reports_its_line),
		T(unknown_section_reported_even_when_empty),
		T(keys_in_unknown_section_not_reported_again),
		T(unknown_key_names_section_and_key),
		T(upper_case_names_unknown),
		T(key_outside_section_rejected),
		T(malformed_values_name_key_and_value),
		T(socket_path_and_heartbeat_line_length_limits),
		T(every_range_bound_both_sides),
		T(size_bounds_accepted_when_consistent),
		T(default_max_line_follows_a_small_buffer),
		T(violation_checks_a_finished_configuration),
		T(max_line_over_quarter_buffer_reported_at_last_key),
		T(backlog_over_half_buffer_reported_at_last_key),
		T(heartbeat_with_raw_framing_reported_at_last_key),
		T(on_eof_and_on_idle_need_matching_input),
		T(upstream_inputs_and_their_defaults),
		T(override_completing_combination_is_reported),
		T(overrides_apply_after_file_in_order),
		T(override_errors_name_the_option),
		T(override_splits_at_first_equals),
		T(all_errors_collected_in_order),
		T(missing_file_reported),
		T(directory_as_file_reported),
		T(each_load_gives_fresh_config),
		T(log_level_names_match_file),
		T(restart_flags_match_the_manual),
		T(errors_give_hints),
		T(keep_restart_puts_back_old_values),
		T(keep_restart_rederives_on_eof),
		T(key_format_spells_every_kind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

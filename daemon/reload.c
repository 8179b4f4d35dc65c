/* reload.c: builds the next configuration, keeps the values that need a
 * restart, binds new listeners before anything changes, then swaps. */
#include "reload.h"
#include "access.h"
#include "alloc.h"
#include "client.h"
#include "daemon.h"
#include "fanout.h"
#include "listener.h"
#include "log.h"
#include "notify.h"
#include "sbuf.h"
#include "source.h"
#include "stats.h"

#include <stdio.h>
#include <string.h>

static const char *conf_file;
static const char **conf_overrides;
static size_t conf_n_overrides;

/* Keeps the -o list for later reloads. */
void reload_setup(const char *file, const char *const *overrides, size_t n)
{
	conf_file = file;
	conf_overrides = pc_calloc(n ? n : 1, sizeof(*conf_overrides));
	if (conf_overrides)
		memcpy(conf_overrides, overrides, n * sizeof(*overrides));
	conf_n_overrides = conf_overrides ? n : 0;
}

/* Releases the kept -o list. */
void reload_free(void)
{
	pc_free(conf_overrides);
	conf_overrides = NULL;
}

/* Puts back the old value of every key that needs a restart (the key
 * table says which, pipecast.conf(5) lists them), logs each one kept and
 * tells the reload command's caller in notes. */
static void reload_keep_restart_keys(struct config *next, struct config *old,
				     struct sbuf *notes)
{
	size_t kept[32];
	size_t n = config_keep_restart(next, old, kept, sizeof(kept) / sizeof(kept[0]));
	char v[256];

	for (size_t i = 0; i < n && i < sizeof(kept) / sizeof(kept[0]); i++) {
		config_key_format(next, kept[i], v, sizeof(v));
		log_warning("reload: [%s] %s changed; it needs a restart, kept %s",
			    config_key_section(kept[i]), config_key_name(kept[i]), v);
		if (notes)
			sbuf_printf(notes, "warning: %s needs a restart; kept %s\n",
				    config_key_name(kept[i]), v);
	}
}

/* Loads the file again into next; the first error is returned in err. */
static int reload_load(struct config *next, char *err, size_t errlen)
{
	struct config_errors errs = { 0 };
	int rc = config_load(next, conf_file, conf_overrides, conf_n_overrides, &errs);

	for (size_t i = 0; i < errs.n; i++)
		log_error("reload: %s", errs.msg[i]);
	if (rc < 0)
		snprintf(err, errlen, "%s", errs.n ? errs.msg[0] : "configuration error");
	config_errors_free(&errs);
	return rc;
}

/* Everything that takes effect at once sees the new configuration. */
static void reload_apply(void)
{
	log_set_level(conf->daemon.log_level);
	listeners_commit();
	access_apply_config();
	clients_apply_config();
	fanout_apply_config();
	if (fanout_sse_enable() < 0)
		log_warning("reload: no memory for the event stream; /events answers 503");
	source_apply_config();
	stats_apply_config();
}

/* Loads, checks and binds; swaps only when all of that worked. */
static int reload_try(struct config *cur, char *err, size_t errlen, struct sbuf *notes)
{
	struct config next;
	char why[200];

	if (reload_load(&next, err, errlen) < 0)
		return -1;
	reload_keep_restart_keys(&next, cur, notes);
	if (config_violation(&next, why, sizeof(why))) {
		snprintf(err, errlen, "with the values kept until a restart: %s", why);
		log_error("reload: %s", err);
		config_free(&next);
		return -1;
	}
	if (listeners_prepare(&next) < 0) {
		snprintf(err, errlen, "a new listener cannot be bound (see the log)");
		config_free(&next);
		return -1;
	}
	config_free(cur);
	*cur = next;
	reload_apply();
	log_notice("reloaded %s", conf_file ? conf_file : "(built-in defaults)");
	return 0;
}

/* The whole reload, framed by RELOADING=1 and READY=1; on any failure the
 * daemon keeps serving unchanged. */
int reload_run(char *err, size_t errlen, struct sbuf *notes)
{
	struct config *cur = daemon_config();
	int rc;

	if (daemon_stopping()) {
		snprintf(err, errlen, "the daemon is stopping");
		log_error("reload: %s", err);
		return -1;
	}
	notify_reloading();
	rc = reload_try(cur, err, errlen, notes);
	notify_reloaded();
	return rc;
}

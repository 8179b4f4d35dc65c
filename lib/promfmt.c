/* promfmt.c: "show metrics" and GET /metrics, the Prometheus text
 * exposition format 0.0.4 (pipecastd(8) "STATS SOCKET"), written from the
 * same field table as "show info" (statfmt.c), so names cannot drift. */
#include "promfmt.h"
#include "compat.h"
#include "statfmt-private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const prom_types[] = {
	[STATFMT_COUNTER] = "counter",
	[STATFMT_GAUGE] = "gauge",
	[STATFMT_STRING] = "gauge",
};

/* Escapes of the exposition format: [0] in HELP texts, [1] in label values. */
static const char *const prom_esc[2][128] = {
	{ ['\\'] = "\\\\", ['\n'] = "\\n" },
	{ ['\\'] = "\\\\", ['\n'] = "\\n", ['"'] = "\\\"" },
};

/* Appends s escaped for a HELP text (label false) or a label value. */
static void prom_escaped(struct sbuf *b, const char *s, bool label)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		const char *e = c < 128 ? prom_esc[label][c] : NULL;

		if (e)
			sbuf_puts(b, e);
		else
			sbuf_append(b, s, 1);
	}
}

/* The HELP and TYPE lines that open every family. */
static void prom_family(struct sbuf *b, const char *name, enum statfmt_type type,
			const char *help)
{
	sbuf_printf(b, "# HELP pipecast_%s ", name);
	prom_escaped(b, help, false);
	sbuf_printf(b, "\n# TYPE pipecast_%s %s\n", name, prom_types[type]);
}

/* One sample with one label: pipecast_NAME{LABEL="VALUE"} then the value. */
static void prom_labelled(struct sbuf *b, const char *name, const char *label,
			  const char *value)
{
	sbuf_printf(b, "pipecast_%s{%s=\"", name, label);
	prom_escaped(b, value ? value : "", true);
	sbuf_puts(b, "\"} ");
}

/* A sample value: integers exact, seconds with three decimals. */
static void prom_value(struct sbuf *b, const void *base, const struct field *f)
{
	double v;

	if (f->type == F_U64) {
		sbuf_printf(b, "%llu", (unsigned long long)statfmt_field_u64(base, f));
		return;
	}
	v = statfmt_field_f64(base, f);
	if (isnan(v))
		sbuf_puts(b, "NaN");
	else if (isinf(v))
		sbuf_puts(b, v > 0 ? "+Inf" : "-Inf");
	else
		sbuf_printf(b, "%.3f", v);
}

/* pipecast_NAME VALUE. */
static void metric_plain(struct sbuf *b, const struct field *f,
			 const struct statfmt_info *in,
			 __unused const struct statfmt_timer_row *rows, __unused size_t n)
{
	prom_family(b, f->name, f->stat, f->help);
	sbuf_printf(b, "pipecast_%s ", f->name);
	prom_value(b, in, f);
	sbuf_puts(b, "\n");
}

/* pipecast_NAME{kind="K"} VALUE for every timer kind; the family has no
 * unlabelled sample, the kinds add up to the show-info total. */
static void metric_by_kind(struct sbuf *b, const struct field *f,
			   __unused const struct statfmt_info *in,
			   const struct statfmt_timer_row *rows, size_t n)
{
	struct field col = { .type = F_U64, .off = f->kind_off };

	prom_family(b, f->name, f->stat, f->help);
	for (size_t i = 0; i < n; i++) {
		prom_labelled(b, f->name, "kind", rows[i].kind);
		prom_value(b, &rows[i], &col);
		sbuf_puts(b, "\n");
	}
}

/* pipecast_FAMILY{LABEL="V"} 1: a string (build_info's version,
 * stream_info's epoch) as the one label of a gauge. */
static void metric_info(struct sbuf *b, const struct field *f,
			const struct statfmt_info *in,
			__unused const struct statfmt_timer_row *rows, __unused size_t n)
{
	prom_family(b, f->family, STATFMT_GAUGE, f->help);
	prom_labelled(b, f->family, f->label, statfmt_field_str(in, f));
	sbuf_puts(b, "1\n");
}

/* pipecast_source_state{state="S"} 1 for the current state, 0 for the
 * others; a state outside the known four still shows, as 1. */
static void metric_state(struct sbuf *b, const struct field *f,
			 const struct statfmt_info *in,
			 __unused const struct statfmt_timer_row *rows, __unused size_t n)
{
	const char *cur = statfmt_field_str(in, f);
	bool known = false;

	prom_family(b, f->name, STATFMT_GAUGE, f->help);
	for (size_t i = 0; i < statfmt_nsource_states; i++) {
		bool is = cur && strcmp(cur, statfmt_source_states[i]) == 0;

		prom_labelled(b, f->name, "state", statfmt_source_states[i]);
		sbuf_puts(b, is ? "1\n" : "0\n");
		known = known || is;
	}
	if (cur && !known) {
		prom_labelled(b, f->name, "state", cur);
		sbuf_puts(b, "1\n");
	}
}

/* pipecast_FAMILY{LABEL="V"} VALUE; the family's HELP and TYPE come with
 * its first name (f points into statfmt_info_fields, where they are consecutive). */
static void metric_labelled(struct sbuf *b, const struct field *f,
			  const struct statfmt_info *in,
			  __unused const struct statfmt_timer_row *rows, __unused size_t n)
{
	const struct field *prev = f > statfmt_info_fields ? f - 1 : NULL;

	if (!prev || prev->how != MX_LABELLED || strcmp(prev->family, f->family) != 0)
		prom_family(b, f->family, f->stat, f->help);
	prom_labelled(b, f->family, f->label, f->value);
	prom_value(b, in, f);
	sbuf_puts(b, "\n");
}

typedef void (*metric_fn)(struct sbuf *b, const struct field *f,
			  const struct statfmt_info *in,
			  const struct statfmt_timer_row *rows, size_t n);

static const metric_fn metric_fns[] = {
	[MX_PLAIN] = metric_plain,
	[MX_BY_KIND] = metric_by_kind,
	[MX_INFO] = metric_info,
	[MX_STATE] = metric_state,
	[MX_LABELLED] = metric_labelled,
};

/* pipecast_timer_next_due_seconds{kind="K"}, only for kinds with a timer
 * armed; no family at all when none is. */
static void metric_next_due(struct sbuf *b, const struct statfmt_timer_row *rows,
			    size_t n)
{
	static const struct field due = { .type = F_SEC,
		.off = offsetof(struct statfmt_timer_row, next_due_s) };
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		if (rows[i].next_due_s < 0)
			continue;
		if (!any)
			prom_family(b, "timer_next_due_seconds", STATFMT_GAUGE,
				    "Seconds until the soonest armed timer of the kind expires.");
		any = true;
		prom_labelled(b, "timer_next_due_seconds", "kind", rows[i].kind);
		prom_value(b, &rows[i], &due);
		sbuf_puts(b, "\n");
	}
}

/* Every show-info name as a metric family, then the next-due family. */
int promfmt_metrics(struct sbuf *b, const struct statfmt_info *in,
		    const struct statfmt_timer_row *rows, size_t n)
{
	for (size_t i = 0; i < statfmt_info_nfields; i++)
		metric_fns[statfmt_info_fields[i].how](b, &statfmt_info_fields[i], in, rows, n);
	metric_next_due(b, rows, n);
	return statfmt_reply_end(b);
}

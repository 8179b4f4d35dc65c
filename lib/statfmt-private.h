/* statfmt-private.h: what statfmt.c (text and JSON replies) shares with
 * promfmt.c (the Prometheus exposition): the field tables that spell every
 * "show info" name once, and the readers of a field. Nothing outside those
 * two files includes it. */
#ifndef PIPECAST_STATFMT_PRIVATE_H
#define PIPECAST_STATFMT_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "statfmt.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* How a field's value is stored and shown. */
enum field_type {
	F_U64,          /* uint64_t */
	F_SEC,          /* double seconds, three decimals */
	F_DUE,          /* double seconds, or < 0 for none: "-" / null */
	F_STR,          /* const char *, may be NULL */
	F_CHARS,        /* char array inside the row */
	F_TEXT,         /* const char *, the last cell: blanks kept */
};

/* What "show metrics" makes of a show-info name. */
enum metric_how {
	MX_PLAIN,       /* pipecast_NAME VALUE */
	MX_BY_KIND,     /* pipecast_NAME{kind="..."}, one sample per timer kind */
	MX_INFO,        /* pipecast_FAMILY{LABEL="..."} 1: build_info's version,
			 * stream_info's epoch */
	MX_STATE,       /* pipecast_source_state{state="..."} 0 or 1 */
	MX_LABELLED,    /* pipecast_FAMILY{LABEL="..."}: one sample of a family
			 * whose samples are consecutive names */
};

struct field {
	const char *name;
	enum field_type type;
	size_t off;             /* in the row or in struct statfmt_info */
	enum statfmt_type stat;   /* show info only */
	enum metric_how how;    /* show info only */
	size_t kind_off;        /* MX_BY_KIND: field of struct statfmt_timer_row */
	const char *help;       /* show info only */
	const char *family;     /* MX_LABELLED, MX_INFO: the family, its label, */
	const char *label;      /* and (MX_LABELLED) this name's value of the */
	const char *value;      /* label */
};

/* The documented "show info" names, in order (statfmt.c). */
extern const struct field statfmt_info_fields[];
extern const size_t statfmt_info_nfields;
/* The values source_state takes; metrics show each as 0 or 1. */
extern const char *const statfmt_source_states[];
extern const size_t statfmt_nsource_states;

/* The uint64_t, double or string (may be NULL) at a field's offset. */
uint64_t statfmt_field_u64(const void *base, const struct field *f);
double statfmt_field_f64(const void *base, const struct field *f);
const char *statfmt_field_str(const void *base, const struct field *f);
/* The protocol's closing empty line; 0, or -1 when the sbuf failed. */
int statfmt_reply_end(struct sbuf *b);

#endif

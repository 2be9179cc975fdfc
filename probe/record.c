/*
 * record.c - the session record: allocation, names of its enums, and
 * the map from result to exit code (documented in smtprobe(1)).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "record.h"

static const char *const outcome_names[OUT__COUNT] = {
	[OUT_OK] = "ok",
	[OUT_TEMPFAIL] = "tempfail",
	[OUT_PERMFAIL] = "permfail",
	[OUT_TIMEOUT] = "timeout",
	[OUT_CLOSED] = "closed",
	[OUT_ERROR] = "error",
	[OUT_SKIPPED] = "skipped",
};

static const struct {
	const char	*name;
	int		 exit_code;
} status_table[] = {
	[RES_OK] = { "accepted", 0 },
	[RES_PERMFAIL] = { "permfail", 1 },
	[RES_TEMPFAIL] = { "tempfail", 2 },
	[RES_ERROR] = { "error", 3 },
};

const char *
record_outcome_name(enum step_outcome o)
{
	return o < OUT__COUNT ? outcome_names[o] : "?";
}

const char *
record_status_name(enum result_status s)
{
	return status_table[s].name;
}

int
record_exit_code(const struct record *r)
{
	return status_table[r->status].exit_code;
}

const char *
record_level_name(enum finding_level l)
{
	switch (l) {
	case FIND_INFO:
		return "info";
	case FIND_WARN:
		return "warning";
	default:
		return "error";
	}
}

struct record *
record_new(void)
{
	return xcalloc(1, sizeof(struct record));
}

void
record_tls_clear(struct tls_info *t)
{
	size_t	 i, j;

	free(t->version);
	free(t->cipher);
	free(t->group);
	free(t->sni);
	free(t->verify_name);
	free(t->verify_error);
	for (i = 0; i < t->nchain; i++) {
		free(t->chain[i].subject);
		free(t->chain[i].issuer);
		for (j = 0; j < t->chain[i].nsan; j++)
			free(t->chain[i].san[j]);
		free(t->chain[i].san);
		free(t->chain[i].not_before);
		free(t->chain[i].not_after);
		free(t->chain[i].sha256);
	}
	free(t->chain);
	memset(t, 0, sizeof(*t));
}

void
record_free(struct record *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nsteps; i++) {
		free(r->steps[i].command);
		free(r->steps[i].detail);
		reply_free(r->steps[i].reply);
	}
	free(r->steps);
	for (i = 0; i < r->nfindings; i++) {
		free(r->findings[i].kind);
		free(r->findings[i].detail);
	}
	free(r->findings);
	reply_ehlo_free(r->ehlo);
	record_tls_clear(&r->tls);
	free(r->host);
	free(r->port);
	free(r->address);
	free(r->source);
	free(r->helo);
	free(r->message);
	free(r);
}

struct step *
record_add_step(struct record *r, enum smtp_stage stage, int64_t now)
{
	struct step	*s;

	r->steps = xreallocarray(r->steps, r->nsteps + 1, sizeof(*r->steps));
	s = &r->steps[r->nsteps++];
	memset(s, 0, sizeof(*s));
	s->stage = stage;
	s->t_sent = now;
	s->t_first = -1;
	s->t_done = -1;
	return s;
}

void
record_add_finding(struct record *r, enum finding_level level,
    const char *kind, enum smtp_stage stage, const char *fmt, ...)
{
	struct finding	*f;
	va_list		 ap;

	r->findings = xreallocarray(r->findings, r->nfindings + 1,
	    sizeof(*r->findings));
	f = &r->findings[r->nfindings++];
	f->level = level;
	f->kind = xstrdup(kind);
	f->stage = stage;
	va_start(ap, fmt);
	if (vasprintf(&f->detail, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
}

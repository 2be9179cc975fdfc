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
	[RES_EXPECT] = { "expectation-failed", 1 },
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
	int	 c = status_table[r->status].exit_code;

	/* a scenario's failed check is a failed check, whatever ended it */
	if (r->concl != NULL && r->concl->level == FIND_ERROR)
		return 1;
	return c == 0 && r->findings_fail ? 1 : c;
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

static const char *const fail_kind_names[FAIL__COUNT] = {
	[FAIL_NONE] = "none",
	[FAIL_RESOLVE] = "resolve",
	[FAIL_CONNECT] = "connect",
	[FAIL_TIMEOUT] = "timeout",
	[FAIL_CLOSED] = "closed",
	[FAIL_TLS] = "tls",
	[FAIL_AUTH] = "auth",
	[FAIL_PROTOCOL] = "protocol",
	[FAIL_DESYNC] = "desync",
	[FAIL_LOCAL] = "local",
};

const char *
record_fail_kind_name(enum fail_kind k)
{
	return k >= 0 && k < FAIL__COUNT ? fail_kind_names[k] : "none";
}

struct record *
record_new(void)
{
	return xcalloc(1, sizeof(struct record));
}

static const struct tls_info record_no_tls;

const struct tls_info *
record_tls_of(const struct record *r)
{
	return r->tls != NULL ? r->tls : &record_no_tls;
}

struct tls_info *
record_tls(struct record *r)
{
	if (r->tls == NULL)
		r->tls = xcalloc(1, sizeof(*r->tls));
	return r->tls;
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
		free(r->steps[i].expect_text);
		free(r->steps[i].rcpt);
		free(r->steps[i].expect_class);
		reply_free(r->steps[i].reply);
	}
	free(r->steps);
	for (i = 0; i < r->nfindings; i++) {
		free(r->findings[i].kind);
		free(r->findings[i].detail);
	}
	free(r->findings);
	if (r->concl != NULL) {
		free(r->concl->name);
		free(r->concl->class);
		free(r->concl->title);
		free(r->concl->advice);
		free(r->concl);
	}
	reply_ehlo_free(r->ehlo);
	if (r->tls != NULL) {
		tls_info_clear(r->tls);
		free(r->tls);
	}
	free(r->host);
	free(r->port);
	free(r->address);
	free(r->source);
	free(r->helo);
	for (i = 0; i < r->nresolution; i++)
		free(r->resolution[i]);
	free(r->resolution);
	for (i = 0; i < r->nchecks; i++) {
		free(r->checks[i].name);
		free(r->checks[i].subject);
		free(r->checks[i].zone);
		free(r->checks[i].answer);
		free(r->checks[i].status);
		free(r->checks[i].evidence);
	}
	free(r->checks);
	free(r->check_ip);
	free(r->message);
	free(r->error);
	free(r->retry_first);
	free(r);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void
record_add_check(struct record *r, const char *name, const char *subject,
    const char *zone, const char *answer, const char *status,
    const char *evidence)
{
	struct record_check *c;

	r->checks = xreallocarray(r->checks, r->nchecks + 1,
	    sizeof(*r->checks));
	c = &r->checks[r->nchecks++];
	c->name = xstrdup(name);
	c->subject = dup_or_null(subject);
	c->zone = dup_or_null(zone);
	c->answer = dup_or_null(answer);
	c->status = xstrdup(status);
	c->evidence = dup_or_null(evidence);
	r->checked = 1;
}

const struct record_check *
record_check_find(const struct record *r, const char *name,
    const char *status)
{
	size_t	 i;

	for (i = 0; i < r->nchecks; i++)
		if (strcmp(r->checks[i].name, name) == 0 && (status == NULL ||
		    strcmp(r->checks[i].status, status) == 0))
			return &r->checks[i];
	return NULL;
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
record_trim_findings(struct record *r, size_t n)
{
	while (r->nfindings > n) {
		r->nfindings--;
		free(r->findings[r->nfindings].kind);
		free(r->findings[r->nfindings].detail);
	}
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

void
record_conclude(struct record *r, const struct record_concl *c)
{
	if (r->concl != NULL && r->concl->level >= c->level)
		return;
	if (r->concl != NULL) {
		free(r->concl->name);
		free(r->concl->class);
		free(r->concl->title);
		free(r->concl->advice);
	} else
		r->concl = xcalloc(1, sizeof(*r->concl));
	*r->concl = *c;
	r->concl->name = xstrdup(c->name);
	r->concl->class = xstrdup(c->class);
	r->concl->title = xstrdup(c->title);
	r->concl->advice = xstrdup(c->advice != NULL ? c->advice : "");
}

void
record_set_error(struct record *r, enum smtp_stage stage, enum fail_kind k,
    const char *msg)
{
	if (r->error != NULL && (k != FAIL_DESYNC ||
	    r->fail_kind == FAIL_DESYNC))
		return;
	free(r->error);
	r->error = xstrdup(msg);
	r->error_stage = stage;
	r->fail_kind = k;
}

void
record_settle(struct record *r)
{
	struct step	*perm = NULL, *temp = NULL, *err = NULL, *exp = NULL;
	const char	*what;
	int		 eod_ok = 0;
	size_t		 i;

	free(r->message);
	r->message = NULL;
	for (i = 0; i < r->nsteps; i++) {
		struct step *st = &r->steps[i];

		if (st->stage == STAGE_EOD && st->outcome == OUT_OK)
			eod_ok = 1;
		if (st->expect < 0 && exp == NULL)
			exp = st;
		if (st->expect != 0 || st->stage == STAGE_QUIT)
			continue;
		switch (st->outcome) {
		case OUT_PERMFAIL:
			if (perm == NULL)
				perm = st;
			break;
		case OUT_TEMPFAIL:
			if (temp == NULL)
				temp = st;
			break;
		case OUT_TIMEOUT:
		case OUT_CLOSED:
		case OUT_ERROR:
			if (err == NULL)
				err = st;
			break;
		default:
			break;
		}
	}
	if (r->error != NULL || err != NULL) {
		r->status = RES_ERROR;
		r->fail_stage = r->error != NULL ? r->error_stage : err->stage;
		r->message = xasprintf("error at %s: %s",
		    stage_name(r->fail_stage), r->error != NULL ?
		    r->error : err->detail != NULL ? err->detail :
		    record_outcome_name(err->outcome));
		return;
	}
	if (exp != NULL) {
		r->status = RES_EXPECT;
		r->fail_stage = exp->stage;
		if (exp->line > 0)
			r->message = xasprintf("expectation failed at %s "
			    "(scenario line %d): %s",
			    stage_name(exp->stage), exp->line,
			    exp->expect_text != NULL ? exp->expect_text :
			    "not met");
		else
			r->message = xasprintf("expectation failed at %s: %s",
			    stage_name(exp->stage),
			    exp->expect_text != NULL ? exp->expect_text :
			    "not met");
		return;
	}
	if (perm != NULL || temp != NULL) {
		struct step *st = perm != NULL ? perm : temp;

		r->status = perm != NULL ? RES_PERMFAIL : RES_TEMPFAIL;
		r->fail_stage = st->stage;
		what = st->reply != NULL && st->reply->nlines > 0 ?
		    st->reply->lines[0] : st->detail != NULL ? st->detail :
		    "(no reply)";
		if (r->rcpt_rejected > 0 && r->rcpt_ok > 0)
			r->message = xasprintf("%s at %s: %s (%d of %d "
			    "recipients rejected)", record_status_name(
			    r->status), stage_name(st->stage), what,
			    r->rcpt_rejected, r->rcpt_ok + r->rcpt_rejected);
		else
			r->message = xasprintf("%s at %s: %s",
			    record_status_name(r->status),
			    stage_name(st->stage), what);
		return;
	}
	r->status = RES_OK;
	r->fail_stage = STAGE_DONE;
	if (eod_ok)
		r->message = xasprintf("accepted: message accepted for %d "
		    "recipient%s", r->rcpt_ok, r->rcpt_ok == 1 ? "" : "s");
	else if (r->rcpt_ok > 0)
		r->message = xasprintf("accepted: %d recipient%s accepted "
		    "(envelope only, no message sent)", r->rcpt_ok,
		    r->rcpt_ok == 1 ? "" : "s");
	else
		r->message = xstrdup("accepted: every step done was accepted");
}

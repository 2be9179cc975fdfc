/*
 * scn_expect.c - judging a scenario step once the engine reports it:
 * its expectation (scn_expect_match(), also for the shell's "expect"
 * typed after a step), or the default policy of scn.c's header; the
 * findings an expectation not met reaches; and, as a session ends, the
 * expectations failed after the fact and the scenario's "pass"
 * finding. Part of the runner (scn_run.c; struct scn_exec in
 * scn_int.h).
 */
#include "config.h"

#include <sys/types.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "scn.h"
#include "verdict.h"
#include "scn_int.h"

static int	exec_soft(const struct scn_exec *, const struct scn_step *);
static void	exec_finding(struct scn_exec *, struct record *,
		    const struct scn_step *, struct step *, const char *);

int
scn_expect_match(const struct scn_expect *e, const struct record *r,
    const struct step *st, char *got, size_t gotlen)
{
	const struct reply *rp = st != NULL ? st->reply : NULL;
	const char	*oc = st != NULL ? record_outcome_name(st->outcome) :
	    "ok";
	char		 code[4] = "";
	size_t		 i, k;
	int		 ok = 0;

	if (rp != NULL && rp->code >= 100 && rp->code <= 999 && gotlen >
	    4 + strlen(rp->enhanced)) {
		/* a parsed reply's code: three digits (no printf: a batch
		   judges every step) */
		code[0] = (char)('0' + rp->code / 100);
		code[1] = (char)('0' + rp->code / 10 % 10);
		code[2] = (char)('0' + rp->code % 10);
		code[3] = '\0';
		memcpy(got, code, 4);
		if (rp->enhanced[0]) {
			got[3] = ' ';
			memcpy(got + 4, rp->enhanced, strlen(rp->enhanced) + 1);
		}
	} else if (rp != NULL) {
		snprintf(code, sizeof(code), "%d", rp->code);
		snprintf(got, gotlen, "%d%s%s", rp->code,
		    rp->enhanced[0] ? " " : "", rp->enhanced);
	}
	if (rp != NULL) {
		if (st->outcome != OUT_OK && st->outcome != OUT_TEMPFAIL &&
		    st->outcome != OUT_PERMFAIL)
			snprintf(got + strlen(got), gotlen - strlen(got),
			    " (%s)", oc);
	} else
		snprintf(got, gotlen, "%s%s%s", oc, st != NULL &&
		    st->detail != NULL ? ": " : "", st != NULL &&
		    st->detail != NULL ? st->detail : "");
	for (i = 0; i < e->nmatch && !ok; i++) {
		const char *m = e->match[i];
		int	    one = 0;

		if (strcmp(m, "any") == 0 || strcmp(m, oc) == 0)
			one = 1;
		else if (strlen(m) == 3 && code[0] != '\0') {
			for (k = 0; k < 3; k++)
				if (m[k] != 'x' && m[k] != code[k])
					break;
			one = k == 3;
		} else if (strchr(m, '.') != NULL && rp != NULL &&
		    rp->enhanced[0] != '\0') {
			const char *a = m, *b = rp->enhanced;

			/* compare part by part; "x" takes any part */
			while (*a != '\0' && *b != '\0') {
				size_t la = strcspn(a, "."), lb = strcspn(b,
				    ".");

				if (!(la == 1 && *a == 'x') && (la != lb ||
				    strncmp(a, b, la) != 0))
					break;
				a += la;
				b += lb;
				if (*a == '.' && *b == '.') {
					a++;
					b++;
				} else
					break;
			}
			one = *a == '\0' && *b == '\0';
		}
		/* an alternative holds when all of its matches do */
		if (!one) {
			while (i + 1 < e->nmatch &&
			    e->group[i + 1] == e->group[i])
				i++;
			continue;
		}
		if (i + 1 == e->nmatch || e->group[i + 1] != e->group[i])
			ok = 1;
	}
	if (ok && (e->text != NULL || e->re != NULL)) {
		int	 hit = 0;

		for (i = 0; rp != NULL && i < rp->nlines && !hit; i++) {
			if (e->text != NULL)
				hit = strcasestr(rp->lines[i], e->text) != NULL;
			else
				hit = regexec(e->re, rp->lines[i], 0, NULL,
				    0) == 0;
		}
		if (!hit && rp == NULL && st != NULL && st->detail != NULL)
			hit = e->text != NULL ? strcasestr(st->detail,
			    e->text) != NULL : regexec(e->re, st->detail, 0,
			    NULL, 0) == 0;
		if (e->without && hit) {
			ok = 0;
			snprintf(got + strlen(got), gotlen - strlen(got),
			    " with the text");
		} else if (!e->without && !hit) {
			ok = 0;
			snprintf(got + strlen(got), gotlen - strlen(got),
			    " without the text");
		}
	}
	if (ok && e->vclass != NULL) {
		struct verdict	 v;

		if (st != NULL && st->outcome != OUT_OK)
			verdict_step(r, st, &v);
		else
			v.class = "accepted";
		if (strcmp(v.class, e->vclass) != 0) {
			ok = 0;
			snprintf(got + strlen(got), gotlen - strlen(got),
			    ", verdict %s", v.class);
		}
	}
	return ok;
}

/* expect_mark - the record's step says whether e was met, and how */
static void
expect_mark(struct step *ps, const struct scn_expect *e, int met,
    const char *got)
{
	size_t	 i;

	ps->expect = met ? 1 : -1;
	free(ps->expect_text);
	ps->expect_text = met ? xstrdup(e->want) : xasprintf("expected %s, "
	    "got %s", e->want, got);
	free(ps->expect_class);
	ps->expect_class = e->vclass != NULL ? xstrdup(e->vclass) : NULL;
	/* a refusal was wanted when every alternative asks for 4xx or 5xx */
	ps->expect_refusal = e->nmatch > 0;
	for (i = 0; i < e->nmatch; i++)
		if (e->match[i][0] != '4' && e->match[i][0] != '5' &&
		    strcmp(e->match[i], "permfail") != 0 &&
		    strcmp(e->match[i], "tempfail") != 0)
			ps->expect_refusal = 0;
}

int
scn_exec_expect(struct scn_exec *x, const struct scn_expect *e, char *got,
    size_t gotlen)
{
	struct scn_result *r;
	struct record	*rec;
	struct step	*ps = NULL, stand;
	int		 met;

	if (x->scn->nsteps == 0 || x->nsess == 0)
		return -1;
	r = &x->res[x->scn->nsteps - 1];
	rec = smtp_session_record_mut(x->sess[r->session >= 0 ?
	    (size_t)r->session : x->nsess - 1]);
	if (r->rstep >= 0)
		ps = &rec->steps[r->rstep];
	else if (x->scn->steps[x->scn->nsteps - 1].op == SCN_QUIT &&
	    rec->nsteps > 0 && rec->steps[rec->nsteps - 1].stage ==
	    STAGE_QUIT)
		ps = &rec->steps[rec->nsteps - 1];
	if (ps == NULL) {
		/* the step recorded nothing: its result stands in */
		memset(&stand, 0, sizeof(stand));
		stand.stage = STAGE_DONE;
		stand.outcome = r->status == SCN_PASS ? OUT_OK :
		    r->status == SCN_FAIL ? OUT_ERROR : OUT_SKIPPED;
		stand.detail = r->detail;
		stand.t_sent = stand.t_first = stand.t_done = -1;
		return scn_expect_match(e, rec, &stand, got, gotlen);
	}
	met = scn_expect_match(e, rec, ps, got, gotlen);
	expect_mark(ps, e, met, got);
	r->status = met ? SCN_PASS : SCN_FAIL;
	free(r->detail);
	r->detail = met ? NULL : xstrdup(ps->expect_text);
	record_settle(rec);
	return met;
}

/* exec_judge - settle step i from its primary step (NULL: none) */
void
exec_judge(struct scn_exec *x, size_t i, const struct step *primary,
    int ended)
{
	const struct scn_step *st = &x->scn->steps[i];
	struct scn_result *res = &x->res[i];
	struct smtp_session *s = x->sess[x->nsess - 1];
	struct record	*rec = smtp_session_record_mut(s);
	struct step	*ps = NULL;
	char		 got[512];
	int		 failed, met;

	res->session = (int)x->nsess - 1;
	if (primary != NULL) {
		ps = &rec->steps[primary - rec->steps];
		res->rstep = primary - rec->steps;
		ps->line = st->line;
	}
	failed = ps != NULL && ps->outcome != OUT_OK &&
	    !(ps->outcome == OUT_SKIPPED && (st->flags & SMTP_F_OPTIONAL));
	/* the transaction's state follows the server, expected or not */
	if (st->op == SCN_MAIL && failed)
		x->txn_failed = 1;
	if (st->op == SCN_RCPT && !failed && ps != NULL)
		x->txn_rcpt_ok++;
	if (st->op == SCN_RSET && !failed)
		exec_txn_clear(x);
	if (st->expect != NULL) {
		met = scn_expect_match(st->expect, rec, ps, got, sizeof(got));
		if (ps != NULL) {
			expect_mark(ps, st->expect, met, got);
		}
		if (met && ps != NULL && (ps->outcome == OUT_TIMEOUT ||
		    ps->outcome == OUT_CLOSED || ps->outcome == OUT_ERROR) &&
		    rec->error != NULL) {
			/* the failure was the point of the step */
			free(rec->error);
			rec->error = NULL;
		}
		if (!met && ps != NULL && exec_soft(x, st)) {
			/* a warning or a note: the finding, not a failure */
			ps->expect = 0;
			res->status = SCN_PASS;
			exec_finding(x, rec, st, ps, got);
		} else if (met) {
			res->status = SCN_PASS;
			/* line 0: a built-in probe's (scn_classic) */
			if (st->expect->line > 0)
				exec_note(x, WIRE_INFO, "expect %s: ok (line "
				    "%d)", st->expect->spec, st->expect->line);
		} else {
			res->status = SCN_FAIL;
			exec_skip(x, i, SCN_FAIL, "expected %s, got %s",
			    st->expect->want, got);
			exec_note(x, WIRE_ERROR, "expectation not met (line "
			    "%d): expected %s, got %s%s", st->expect->line,
			    st->expect->want, got, st->expect->cont ? "" :
			    "; stopping");
			if (st->expect->finding != NULL)
				exec_finding(x, rec, st, ps, got);
			if (!st->expect->cont)
				exec_stop(x);
		}
		if (ps == NULL && !met) {
			/* nothing recorded the step: the run says so */
			exec_stop(x);
		}
		if (ended)
			record_settle(rec);
		return;
	}
	if (!failed) {
		res->status = SCN_PASS;
		return;
	}
	res->status = SCN_FAIL;
	free(res->detail);
	res->detail = xstrdup(ps->detail != NULL ? ps->detail :
	    ps->reply != NULL && ps->reply->nlines > 0 ? ps->reply->lines[0] :
	    record_outcome_name(ps->outcome));
	if (ended)
		return;
	switch (st->op) {
	case SCN_CONNECT:
	case SCN_EHLO:
	case SCN_HELO:
	case SCN_STARTTLS:
	case SCN_AUTH:
	case SCN_RSET:
		/* the session cannot usefully go on */
		x->wait = WAIT_NONE;
		exec_end_session(x);
		break;
	default:
		break;
	}
}

/* exec_soft - st's expectation names a finding below severity error */
static int
exec_soft(const struct scn_exec *x, const struct scn_step *st)
{
	const struct scn_finding *f;

	return st->expect->finding != NULL && (f = scn_finding_find(x->scn,
	    st->expect->finding)) != NULL && f->level != FIND_ERROR;
}

/*
 * exec_finding - expectation e of step st (recorded as ps, or NULL) was
 * not met and names a finding: conclude it, and say so
 */
static void
exec_finding(struct scn_exec *x, struct record *rec,
    const struct scn_step *st, struct step *ps, const char *got)
{
	const struct scn_finding *f;
	char	*what;

	if ((f = scn_finding_find(x->scn, st->expect->finding)) == NULL)
		return;
	what = xasprintf("%s%s%s: got %s (line %d)", st->expect->label !=
	    NULL ? st->expect->label : "", st->expect->label != NULL ?
	    ", " : "", ps != NULL && ps->command != NULL &&
	    ps->stage != STAGE_EOD ? ps->command : scn_op_name(st->op), got,
	    st->expect->line);
	scn_conclude(rec, f, ps, op_last(st->op), what);
	exec_note(x, f->level == FIND_ERROR ? WIRE_ERROR : f->level ==
	    FIND_WARN ? WIRE_WARN : WIRE_INFO, "finding %s (%s, %s): %s: %s",
	    f->name, f->class, record_level_name((enum finding_level)f->level),
	    f->title, what);
	free(what);
}

/*
 * exec_all_passed - the session that ends is the run's last (no
 * "connect" follows, or the run stops), and every session passed with
 * no conclusion of severity error: the time for the "pass" finding
 */
static int
exec_all_passed(const struct scn_exec *x)
{
	const struct record *r;
	size_t	 k;

	for (k = x->pc; !x->stopping && k < x->scn->nsteps; k++)
		if (x->scn->steps[k].op == SCN_CONNECT)
			return 0;
	for (k = 0; k < x->nsess; k++) {
		r = smtp_session_record(x->sess[k]);
		if (r->status != RES_OK || (r->concl != NULL &&
		    r->concl->level != FIND_INFO))
			return 0;
	}
	return 1;
}

/*
 * exec_session_end - before a session's record is settled: a smuggling
 * probe answered twice (the engine's finding eod-early) fails its data
 * step's expectation after the fact, so its "else finding" holds; a
 * session that passed whole reaches the scenario's "pass" finding
 */
void
exec_session_end(struct scn_exec *x, struct record *rec)
{
	const struct scn_finding *f;
	const struct scn_step *st;
	struct step	*ps;
	size_t		 i, k;
	int		 early = 0;

	for (k = 0; k < rec->nfindings; k++)
		if (strcmp(rec->findings[k].kind, "eod-early") == 0)
			early = 1;
	for (i = 0; early && i < x->scn->nsteps; i++) {
		st = &x->scn->steps[i];
		if (x->res[i].session != (int)x->nsess - 1 ||
		    st->op != SCN_DATA || !(st->flags & SMTP_F_SMUGGLING) ||
		    st->expect == NULL || st->expect->finding == NULL ||
		    x->res[i].rstep < 0)
			continue;
		ps = &rec->steps[x->res[i].rstep];
		ps->expect = -1;
		free(ps->expect_text);
		ps->expect_text = xasprintf("expected %s, got a second reply "
		    "after the end of data (eod-early)", st->expect->want);
		x->res[i].status = SCN_FAIL;
		free(x->res[i].detail);
		x->res[i].detail = xstrdup(ps->expect_text);
		exec_finding(x, rec, st, ps, "a second reply after the end "
		    "of data (eod-early)");
	}
	record_settle(rec);
	if (!exec_all_passed(x))
		return;
	for (k = 0; k < x->scn->nfindings; k++) {
		f = &x->scn->findings[k];
		if (!f->pass)
			continue;
		scn_conclude(rec, f, NULL, STAGE_DONE, "every expectation of "
		    "the session was met");
		exec_note(x, WIRE_INFO, "finding %s (%s, %s): %s", f->name,
		    f->class, record_level_name((enum finding_level)f->level),
		    f->title);
		break;
	}
}

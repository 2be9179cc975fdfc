/*
 * scn_retry.c - "retry after SECS" (greylisting): a session refused
 * for now is ended, and after the wait the scenario runs again from
 * its last connect on a new connection; the step, reached again,
 * judges the second try. Part of the runner (scn_run.c; struct
 * scn_exec in scn_int.h).
 */
#include "config.h"

#include <sys/types.h>

#include <stdlib.h>

#include "io.h"
#include "log.h"
#include "scn.h"
#include "scn_int.h"

/* exec_refused - the first step refused for now in a session, or NULL */
static struct step *
exec_refused(struct record *r)
{
	size_t	 i;

	for (i = 0; r != NULL && i < r->nsteps; i++)
		if (r->steps[i].outcome == OUT_TEMPFAIL &&
		    r->steps[i].expect == 0 && r->steps[i].stage != STAGE_QUIT)
			return &r->steps[i];
	return NULL;
}

static void
exec_retry_wake(void *arg)
{
	struct scn_exec	*x = arg;
	size_t		 i;

	io_after_free(x->timer);
	x->timer = NULL;
	x->running = RUN_NONE;
	x->wait = WAIT_NONE;
	x->retry_phase = 3;
	/* from the last connect before the retry step (or the start) */
	for (i = x->retry_step; i > 0 && x->scn->steps[i].op != SCN_CONNECT;
	    i--)
		;
	x->pc = i;
	exec_advance(x);
}

/*
 * exec_retry_judge - the second try is done up to the retry step: when
 * it was not refused, the first try's temporary refusals were
 * greylisting (they become neutral, as expected, and the verdict says
 * so: record.retry); otherwise a finding says it was not
 */
static void
exec_retry_judge(struct scn_exec *x, size_t i)
{
	struct record	*r1 = smtp_session_record_mut(x->sess[x->retry_sess]);
	struct record	*r2 = smtp_session_record_mut(x->sess[x->nsess - 1]);
	struct step	*s1 = exec_refused(r1), *s2 = exec_refused(r2);
	const char	*why;
	size_t		 k;

	x->retry_phase = 4;
	x->res[i].status = SCN_PASS;
	if (s1 == NULL || r2 == r1)
		return;
	why = s1->reply != NULL && s1->reply->nlines > 0 ?
	    s1->reply->lines[0] : record_outcome_name(s1->outcome);
	free(r2->retry_first);
	r2->retry_first = xasprintf("%s at %s", why, stage_name(s1->stage));
	r2->retry_stage = (int)s1->stage;
	if (s2 != NULL || r2->status == RES_PERMFAIL ||
	    r2->error != NULL) {
		r2->retry = s2 != NULL ? -1 : -2;
		record_add_finding(r2, FIND_WARN, "greylist-not-confirmed",
		    s1->stage, "the first try was refused for now (%s); "
		    "%.3g s later on a new connection it was %s (scenario "
		    "line %d)", r2->retry_first, (double)x->scn->steps[i].ms /
		    1000.0, s2 != NULL ? "refused for now again: not simple "
		    "greylisting (rate limiting, a longer delay)" :
		    "refused otherwise", x->scn->steps[i].line);
		return;
	}
	r2->retry = 1;
	record_add_finding(r2, FIND_INFO, "greylist-confirmed", s1->stage,
	    "the first try was refused for now (%s); %.3g s later on a new "
	    "connection it was accepted: greylisting, confirmed (scenario "
	    "line %d)", r2->retry_first, (double)x->scn->steps[i].ms /
	    1000.0, x->scn->steps[i].line);
	for (k = 0; k < r1->nsteps; k++)
		if (r1->steps[k].outcome == OUT_TEMPFAIL &&
		    r1->steps[k].expect == 0 &&
		    r1->steps[k].stage != STAGE_QUIT) {
			r1->steps[k].expect = 1;
			free(r1->steps[k].expect_text);
			r1->steps[k].expect_text = xstrdup("refused for now, "
			    "accepted when retried: greylisting");
		}
	record_settle(r1);
}

/*
 * exec_retry - "retry after SECS": when the session so far was refused
 * for now (a 4xx without an expectation), end it, wait, and run the
 * scenario again from its last connect line on a new connection; this
 * step, reached again, judges the second try (exec_retry_judge). Once
 * per run; not in the shell.
 */
void
exec_retry(struct scn_exec *x, size_t i)
{
	const struct scn_step *st = &x->scn->steps[i];

	x->res[i].status = SCN_PASS;
	if (x->retry_phase == 3 && x->retry_step == i) {
		exec_retry_judge(x, i);
		return;
	}
	if (x->retry_phase == 1 && x->retry_step == i) {
		/* the first session is over: wait, then again */
		x->retry_phase = 2;
		x->running = (ssize_t)i;
		x->wait = WAIT_STEP;
		x->timer = io_after(x->base, st->ms, exec_retry_wake, x);
		return;
	}
	if (x->retry_phase != 0 || x->nsess == 0 || x->p->interactive ||
	    exec_refused(smtp_session_record_mut(x->sess[x->nsess - 1])) ==
	    NULL) {
		exec_note(x, WIRE_INFO, "retry after %.3g s: %s",
		    (double)st->ms / 1000.0, x->p->interactive ? "not in the "
		    "shell" : x->retry_phase != 0 ? "retried once already" :
		    "nothing was refused for now");
		return;
	}
	exec_note(x, WIRE_INFO, "refused for now: trying again in %.3g s on "
	    "a new connection (retry after, line %d)",
	    (double)st->ms / 1000.0, st->line);
	x->retry_step = i;
	x->retry_sess = x->nsess - 1;
	x->retry_phase = 1;
	x->pc = i;		/* back here once the session is over */
	if (x->cur != NULL && !smtp_is_over(x->cur))
		exec_end_session(x);
}

/*
 * scn_run.c - the scenario runner: an exec walks the steps with a
 * program counter. Each step becomes one engine command; the engine's
 * ready or done callback judges it (its expectation, or the default
 * policy of scn.c's header) and moves on. Callbacks may come from
 * inside smtp_do(), so exec_advance() is a trampoline: a nested call
 * only asks the outer loop to go round again.
 *
 * This is the core: the exec's life, the steps in order, the stop
 * points, the engine's callbacks. What the commands send is in
 * scn_txn.c, pipelined groups in scn_group.c, "retry after" in
 * scn_retry.c, judging a step in scn_expect.c, the command line's
 * default scenario in scn_classic.c; struct scn_exec is in scn_int.h.
 */
#include "config.h"

#include <sys/types.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "io.h"
#include "log.h"
#include "scn.h"
#include "scn_int.h"

static void	exec_run(struct scn_exec *, size_t);
static void	exec_finish(struct scn_exec *);
static void	exec_wire(void *, enum smtp_wire, int, int64_t,
		    const char *);
static void	exec_step_cb(void *, const struct record *,
		    const struct step *);
static void	exec_ready(void *, const struct record *,
		    const struct step *);
static void	exec_done(void *, const struct record *);

static const struct smtp_callbacks exec_cb = {
	exec_wire, exec_step_cb, exec_ready, exec_done
};
/* the same without a transcript: the engine formats no wire lines */
static const struct smtp_callbacks exec_cb_quiet = {
	NULL, exec_step_cb, exec_ready, exec_done
};

/* exec_callbacks - what the engine reports to, by what the caller reads */
static const struct smtp_callbacks *
exec_callbacks(const struct scn_exec *x)
{
	return x->p->out != NULL && x->p->out->wire != NULL ? &exec_cb :
	    &exec_cb_quiet;
}

/* the stage a step starts with, and the stage it ends with */
enum smtp_stage
op_first(enum scn_op op)
{
	static const enum smtp_stage first[SCN__COUNT] = {
		[SCN_CONNECT] = STAGE_CONNECT, [SCN_EHLO] = STAGE_EHLO,
		[SCN_HELO] = STAGE_EHLO, [SCN_STARTTLS] = STAGE_STARTTLS,
		[SCN_AUTH] = STAGE_AUTH, [SCN_MAIL] = STAGE_MAIL,
		[SCN_RCPT] = STAGE_RCPT, [SCN_DATA] = STAGE_DATA,
		[SCN_RSET] = STAGE_RSET, [SCN_NOOP] = STAGE_NOOP,
		[SCN_VRFY] = STAGE_VRFY, [SCN_SEND] = STAGE_RAW,
		[SCN_SLEEP] = STAGE_SLEEP, [SCN_QUIT] = STAGE_QUIT,
		[SCN_DROP] = STAGE_DONE, [SCN_RETRY] = STAGE_SLEEP,
	};

	return first[op];
}

enum smtp_stage
op_last(enum scn_op op)
{
	switch (op) {
	case SCN_CONNECT:
		return STAGE_BANNER;
	case SCN_STARTTLS:
		return STAGE_EHLO;
	case SCN_DATA:
		return STAGE_EOD;
	default:
		return op_first(op);
	}
}

static void
exec_wire(void *arg, enum smtp_wire dir, int tls, int64_t t, const char *s)
{
	struct scn_exec	*x = arg;

	if (x->p->out != NULL && x->p->out->wire != NULL)
		x->p->out->wire(x->p->arg, dir, tls, t, s);
}

static void
exec_step_cb(void *arg, const struct record *r, const struct step *st)
{
	struct scn_exec	*x = arg;

	if (x->p->out != NULL && x->p->out->step != NULL)
		x->p->out->step(x->p->arg, r, st);
}

void
exec_note(struct scn_exec *x, enum smtp_wire dir, const char *fmt, ...)
{
	va_list	 ap;
	char	*text;

	if (x->p->out == NULL || x->p->out->wire == NULL)
		return;		/* nobody reads the transcript */
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	if (x->cur != NULL)
		smtp_note(x->cur, dir, "%s", text);
	else
		exec_wire(x, dir, 0, 0, text);
	free(text);
}

struct scn_exec *
scn_exec_new(struct event_base *base, const struct scn *s,
    const struct scn_params *p, scn_done_cb done, void *arg)
{
	struct scn_exec	*x;
	size_t		 i;

	x = xcalloc(1, sizeof(*x));
	x->base = base;
	x->p = p;
	x->conn = p->conn;
	x->done = done;
	x->arg = arg;
	x->running = RUN_NONE;
	/* a scenario is read, never changed: a batch of thousands of
	   sessions shares one (no per-session copy) */
	if (s != NULL)
		x->scn = s;
	else
		x->scn = x->own = scn_new("shell");
	x->res = xcalloc(x->scn->nsteps + 1, sizeof(*x->res));
	for (i = 0; i < x->scn->nsteps; i++) {
		x->res[i].session = -1;
		x->res[i].rstep = -1;
	}
	return x;
}

struct scn_exec *
scn_exec_new_own(struct event_base *base, struct scn *s,
    const struct scn_params *p, scn_done_cb done, void *arg)
{
	struct scn_exec	*x;

	x = scn_exec_new(base, s, p, done, arg);
	x->own = s;
	return x;
}

void
scn_exec_set_conn(struct scn_exec *x, const struct smtp_params *conn)
{
	x->conn = conn;
}

void
scn_exec_free(struct scn_exec *x)
{
	size_t	 i;

	if (x == NULL)
		return;
	for (i = 0; i < x->nsess; i++)
		smtp_session_free(x->sess[i]);
	free(x->sess);
	for (i = 0; i < x->scn->nsteps; i++)
		free(x->res[i].detail);
	free(x->res);
	scn_free(x->own);
	exec_txn_clear(x);
	free(x->msg);
	free(x->grp_text);
	if (x->secret != NULL) {
		OPENSSL_cleanse(x->secret, strlen(x->secret));
		free(x->secret);
	}
	io_after_free(x->timer);
	free(x);
}

void
scn_exec_start(struct scn_exec *x)
{
	exec_advance(x);
}

int
scn_exec_push(struct scn_exec *x, const struct scn_step *st)
{
	return scn_exec_push_n(x, st, 1);
}

int
scn_exec_push_n(struct scn_exec *x, const struct scn_step *st, size_t n)
{
	size_t	 i;

	if (x->finished || n == 0 || x->scn->nsteps + n > SCN_MAX_STEPS)
		return -1;
	if (x->own == NULL) {
		/* the caller's scenario is borrowed: grow a copy */
		x->own = scn_new(x->scn->name);
		if (x->scn->desc != NULL)
			x->own->desc = xstrdup(x->scn->desc);
		for (i = 0; i < x->scn->nsteps; i++)
			scn_add(x->own, &x->scn->steps[i]);
		scn_findings_copy(x->own, x->scn);
		x->scn = x->own;
	}
	/* all of them before the runner looks: a group goes as one */
	for (i = 0; i < n; i++) {
		scn_add(x->own, &st[i]);
		x->res = xreallocarray(x->res, x->scn->nsteps + 1,
		    sizeof(*x->res));
		memset(&x->res[x->scn->nsteps - 1], 0, sizeof(*x->res));
		x->res[x->scn->nsteps - 1].session = -1;
		x->res[x->scn->nsteps - 1].rstep = -1;
	}
	exec_advance(x);
	return 0;
}

int
scn_exec_idle(const struct scn_exec *x)
{
	return x->finished || (x->wait == WAIT_NONE &&
	    x->pc >= x->scn->nsteps);
}

int
scn_exec_session_open(const struct scn_exec *x)
{
	return x->cur != NULL && !smtp_is_over(x->cur);
}

void
scn_exec_finish(struct scn_exec *x)
{
	x->stopping = 1;
	exec_advance(x);
}

const struct record *
scn_exec_record(const struct scn_exec *x, size_t i)
{
	return i < x->nsess ? smtp_session_record(x->sess[i]) : NULL;
}

struct record *
scn_exec_record_mut(struct scn_exec *x, size_t i)
{
	return i < x->nsess ? smtp_session_record_mut(x->sess[i]) : NULL;
}

size_t
scn_exec_nrecords(const struct scn_exec *x)
{
	return x->nsess;
}

const struct scn_result *
scn_exec_results(const struct scn_exec *x, size_t *n)
{
	size_t	 i;

	for (i = 0; i < x->scn->nsteps; i++)
		x->res[i].step = &x->scn->steps[i];
	*n = x->scn->nsteps;
	return x->res;
}

int
scn_exec_exit(const struct scn_exec *x)
{
	static const int rank[] = { 0, 2, 3, 4 };	/* 0 < 2 < 1 < 3 */
	int	 worst = 0, code, i;
	size_t	 k;

	for (k = 0; k < x->nsess; k++) {
		code = record_exit_code(smtp_session_record(x->sess[k]));
		for (i = 0; i < 4; i++)
			if ((code == 0 && i == 0) || (code == 2 && i == 1) ||
			    (code == 1 && i == 2) || (code == 3 && i == 3))
				break;
		if (i < 4 && rank[i] > rank[worst])
			worst = i;
	}
	/*
	 * A step that could not run while a session was open is in that
	 * session's record (exec_local_fail); only without any session
	 * does a failed step decide here.
	 */
	for (k = 0; x->nsess == 0 && k < x->scn->nsteps; k++)
		if (x->res[k].status == SCN_FAIL && x->res[k].rstep < 0 &&
		    worst < 2)
			worst = 2;
	return worst == 0 ? 0 : worst == 1 ? 2 : worst == 2 ? 1 : 3;
}

/*
 * exec_advance - run steps until one is under way. Callbacks that come
 * from inside (a step that needs no round trip) call it again; the
 * nested call returns at once and this loop goes on.
 */
void
exec_advance(struct scn_exec *x)
{
	if (x->in_advance)
		return;
	x->in_advance = 1;
	for (;;) {
		if (x->finished || x->wait != WAIT_NONE)
			break;
		if (x->stopping || (x->pc >= x->scn->nsteps &&
		    !x->p->interactive)) {
			/* the end: QUIT the open session, then done */
			if (x->cur != NULL && !smtp_is_over(x->cur))
				exec_end_session(x);
			else
				exec_finish(x);
			continue;
		}
		if (x->pc >= x->scn->nsteps)
			break;
		exec_run(x, x->pc++);
	}
	x->in_advance = 0;
}

static void
exec_finish(struct scn_exec *x)
{
	if (x->finished)
		return;
	x->finished = 1;
	if (x->done != NULL)
		x->done(x, x->arg);
}

/* exec_end_session - QUIT the open session; done follows */
void
exec_end_session(struct scn_exec *x)
{
	x->wait = WAIT_END;
	smtp_quit(x->cur);
}

void
exec_stop(struct scn_exec *x)
{
	x->stopping = 1;
}

static void
exec_sleep_done(void *arg)
{
	struct scn_exec	*x = arg;
	ssize_t		 i = x->running;

	io_after_free(x->timer);
	x->timer = NULL;
	x->running = RUN_NONE;
	x->wait = WAIT_NONE;
	if (i >= 0)
		x->res[i].status = SCN_PASS;
	exec_after(x, (size_t)i);
	exec_advance(x);
}

static void
exec_new_session(struct scn_exec *x, ssize_t i, unsigned flags)
{
	struct smtp_cmd	 c;

	exec_txn_clear(x);
	x->sess = xreallocarray(x->sess, x->nsess + 1, sizeof(*x->sess));
	x->cur = x->sess[x->nsess++] = smtp_session_new(x->base,
	    x->conn, exec_callbacks(x), x);
	memset(&c, 0, sizeof(c));
	c.stage = STAGE_CONNECT;
	c.flags = flags;
	x->running = i;
	x->wait = WAIT_STEP;
	smtp_do(x->cur, &c);
}

/* exec_echo - the findings added since n, as notes in the transcript */
void
exec_echo(struct scn_exec *x, size_t n)
{
	const struct record *r = smtp_session_record(x->cur);

	if (x->no_echo)
		return;
	for (; n < r->nfindings; n++)
		if (r->findings[n].level != FIND_ERROR)
			exec_note(x, r->findings[n].level == FIND_WARN ?
			    WIRE_WARN : WIRE_INFO, "%s: %s",
			    r->findings[n].kind, r->findings[n].detail);
}

void
exec_skip(struct scn_exec *x, size_t i, enum scn_status status,
    const char *fmt, ...)
{
	va_list	 ap;

	x->res[i].status = status;
	free(x->res[i].detail);
	va_start(ap, fmt);
	if (vasprintf(&x->res[i].detail, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
}

/*
 * exec_local_fail - step i could not be sent (its file or secret could
 * not be read once the session was open). The session record says so,
 * as the error that ended the session: the result line and the exit
 * status are both read from the record, so they cannot disagree. A
 * shell goes on and lets the user fix it.
 */
static void
exec_local_fail(struct scn_exec *x, size_t i, enum smtp_stage stage,
    const char *why)
{
	exec_note(x, WIRE_ERROR, "%s: %s", stage_name(stage), why);
	exec_skip(x, i, SCN_FAIL, "%s", why);
	if (x->p->interactive)
		return;
	if (x->cur != NULL)
		record_set_error(smtp_session_record_mut(x->cur), stage,
		    FAIL_LOCAL, why);
	exec_stop(x);
}

/*
 * exec_passed - a stop point is a place in the conversation, kept even
 * when its own stage never comes (no STARTTLS step, no AUTH): the point
 * that a step starting at stage first has gone past, or -1. Stages out
 * of the conversation's order (RSET, NOOP, raw lines) pass nothing.
 */
int
exec_passed(const struct scn_params *p, enum smtp_stage first)
{
	if (first < STAGE_CONNECT || first > STAGE_EOD)
		return -1;
	if (p->stop_before >= 0 && (int)first > p->stop_before)
		return p->stop_before;
	if (p->quit_after >= 0 && (int)first > p->quit_after)
		return p->quit_after;
	return -1;
}

/*
 * exec_gate - the runner's rules for whether step st may be sent now,
 * in the order it applies them (scn_exec_may_run())
 */
static enum scn_gate
exec_gate(struct scn_exec *x, const struct scn_step *st, char *why,
    size_t whylen)
{
	char	*secret;

	why[0] = '\0';
	if (st->op != SCN_CONNECT && st->op != SCN_SLEEP &&
	    (x->cur == NULL || smtp_is_over(x->cur))) {
		snprintf(why, whylen, "no open session (the session ended "
		    "before this step)");
		return SCN_GATE_NO_SESSION;
	}
	if (st->expect == NULL && ((st->op == SCN_RCPT && x->txn_failed) ||
	    (st->op == SCN_DATA && (x->txn_failed || x->txn_rcpt_ok == 0)))) {
		snprintf(why, whylen, "%s", x->txn_failed ? "MAIL was refused" :
		    "no recipient was accepted");
		return SCN_GATE_SKIP;
	}
	if (st->op == SCN_AUTH) {
		if ((secret = exec_secret(x, st, why, whylen)) == NULL)
			return SCN_GATE_INPUT;
		OPENSSL_cleanse(secret, strlen(secret));
		free(secret);
	}
	return SCN_GATE_OK;
}

enum scn_gate
scn_exec_may_run(struct scn_exec *x, const struct scn_step *st, char *why,
    size_t whylen)
{
	return exec_gate(x, st, why, whylen);
}

static void
exec_run(struct scn_exec *x, size_t i)
{
	const struct scn_step *st = &x->scn->steps[i];
	const struct scn_params *p = x->p;
	enum smtp_stage	 first = op_first(st->op), last = op_last(st->op);
	struct smtp_cmd	 c;
	char		 why[512];
	unsigned	 flags = st->flags;
	int		 passed = -1;

	x->stop_after = 0;
	if (st->op == SCN_RETRY) {
		exec_retry(x, i);
		return;
	}
	if ((p->stop_before >= 0 && (int)first == p->stop_before) ||
	    (passed = exec_passed(p, first)) >= 0) {
		if (passed >= 0)
			exec_note(x, WIRE_INFO, "stopping where %s would "
			    "have been, as asked: %s is next, %s did not "
			    "happen", stage_name(passed), stage_name(first),
			    stage_name(passed));
		else
			exec_note(x, WIRE_INFO, "stopping before %s as asked",
			    stage_name(first));
		if (x->nsess == 0) {
			/* nothing was opened; the record says so */
			x->sess = xreallocarray(x->sess, 1, sizeof(*x->sess));
			x->cur = x->sess[x->nsess++] = smtp_session_new(
			    x->base, x->conn, exec_callbacks(x), x);
		}
		exec_stop(x);
		return;
	}
	if (first != last && ((p->stop_before >= 0 &&
	    (int)last == p->stop_before) || (p->quit_after >= 0 &&
	    (int)first == p->quit_after))) {
		flags |= SMTP_F_STOP;
		x->stop_after = 1;
	}
	if (st->op != SCN_CONNECT && st->op != SCN_SLEEP && x->nsess == 0) {
		/* a scenario that does not start with connect */
		x->pc--;
		exec_new_session(x, RUN_IMPLICIT, 0);
		return;
	}
	if (st->op == SCN_CONNECT) {
		if (x->cur != NULL && !smtp_is_over(x->cur)) {
			/* end the session first, then come back here */
			x->pc--;
			exec_end_session(x);
			return;
		}
		exec_new_session(x, (ssize_t)i, flags);
		return;
	}
	if (st->op == SCN_SLEEP && (x->cur == NULL ||
	    smtp_is_over(x->cur))) {
		exec_note(x, WIRE_INFO, "waiting %.3g s",
		    (double)st->ms / 1000.0);
		x->running = (ssize_t)i;
		x->wait = WAIT_STEP;
		x->timer = io_after(x->base, st->ms, exec_sleep_done, x);
		return;
	}
	switch (exec_gate(x, st, why, sizeof(why))) {
	case SCN_GATE_NO_SESSION:
		exec_skip(x, i, SCN_NOTRUN, "%s", why);
		return;
	case SCN_GATE_SKIP:
		if (st->op == SCN_RCPT)
			exec_note(x, WIRE_INFO, "skipping rcpt %s: %s",
			    st->arg, why);
		else
			exec_note(x, WIRE_INFO, "skipping data: %s", why);
		exec_skip(x, i, SCN_SKIP, "%s", why);
		return;
	default:	/* a secret that cannot be read: at its turn below */
		break;
	}
	if (exec_group(x, i) || exec_send_lines(x, i))
		return;
	memset(&c, 0, sizeof(c));
	c.chunk = p->bdat_chunk;
	c.stage = first;
	c.arg = st->arg;
	c.params = st->params;
	c.flags = flags;
	switch (st->op) {
	case SCN_AUTH:
		if (x->secret != NULL) {
			OPENSSL_cleanse(x->secret, strlen(x->secret));
			free(x->secret);
		}
		if ((x->secret = exec_secret(x, st, why, sizeof(why))) ==
		    NULL) {
			exec_local_fail(x, i, STAGE_AUTH, why);
			return;
		}
		c.mech = st->mech;
		c.secret = x->secret;
		break;
	case SCN_MAIL:
		exec_txn_clear(x);
		if (exec_mail(x, i, &c, why, sizeof(why)) == -1) {
			exec_local_fail(x, i, STAGE_MAIL, why);
			return;
		}
		break;
	case SCN_RCPT:
		if (exec_rcpt(x, st, &c, why, sizeof(why)) == -1) {
			exec_local_fail(x, i, STAGE_RCPT, why);
			return;
		}
		break;
	case SCN_DATA:
		free(x->msg);
		x->msg = NULL;
		exec_data_8bit(x, st);
		if (!(flags & SMTP_F_STOP) && (x->msg = exec_message(x, st,
		    &c.message_len, why, sizeof(why))) == NULL) {
			exec_local_fail(x, i, STAGE_DATA, why);
			return;
		}
		c.message = x->msg;
		break;
	case SCN_SLEEP:
		c.ms = st->ms;
		break;
	case SCN_QUIT:
	case SCN_DROP:
		x->running = (ssize_t)i;
		x->wait = WAIT_STEP;
		if (st->op == SCN_QUIT)
			smtp_quit(x->cur);
		else
			smtp_drop(x->cur);
		return;
	default:
		break;
	}
	x->running = (ssize_t)i;
	x->wait = WAIT_STEP;
	if (smtp_do(x->cur, &c) == -1) {
		x->running = RUN_NONE;
		x->wait = WAIT_NONE;
		exec_local_fail(x, i, first, "the session could not take this "
		    "command");
	}
}

void
exec_after(struct scn_exec *x, size_t i)
{
	const struct scn_step *st = &x->scn->steps[i];
	const struct scn_params *p = x->p;
	enum smtp_stage	 last = op_last(st->op), first = op_first(st->op);

	if (x->stopping || x->finished)
		return;
	if (x->stop_after) {
		x->stop_after = 0;
		if (p->stop_before >= 0 && (int)last == p->stop_before)
			exec_note(x, WIRE_INFO, "stopping before %s as asked",
			    stage_name(last));
		else
			exec_note(x, WIRE_INFO, "stopping after %s as asked",
			    stage_name(first));
		exec_stop(x);
		return;
	}
	if (p->quit_after >= 0 && (int)last == p->quit_after &&
	    x->pc < x->scn->nsteps) {
		const struct scn_step *next = &x->scn->steps[x->pc];

		if (op_first(next->op) != last && next->op != SCN_QUIT &&
		    next->op != SCN_DROP) {
			exec_note(x, WIRE_INFO, "stopping after %s as asked",
			    stage_name(last));
			exec_stop(x);
		}
	}
}

static void
exec_ready(void *arg, const struct record *r, const struct step *primary)
{
	struct scn_exec	*x = arg;
	ssize_t		 i = x->running;
	int		 nested = x->in_advance;

	x->in_advance = 1;
	x->running = RUN_NONE;
	x->wait = WAIT_NONE;
	if (i == RUN_IMPLICIT) {
		if (primary != NULL && primary->outcome != OUT_OK)
			exec_end_session(x);
	} else if (x->grp_n > 0)
		exec_group_judge(x, primary, 0);
	else if (i >= 0) {
		exec_judge(x, (size_t)i, primary, 0);
		exec_after(x, (size_t)i);
	}
	x->in_advance = nested;
	exec_advance(x);
}

static void
exec_done(void *arg, const struct record *r)
{
	struct scn_exec	*x = arg;
	ssize_t		 i = x->running;
	const struct step *last;
	int		 nested = x->in_advance;

	x->in_advance = 1;
	x->running = RUN_NONE;
	x->wait = WAIT_NONE;
	last = r->nsteps > 0 ? &r->steps[r->nsteps - 1] : NULL;
	if (x->grp_n > 0) {
		size_t	 k, first = x->grp_first, n = x->grp_n;

		exec_group_judge(x, NULL, 1);
		for (k = first; k < first + n; k++)
			if (x->res[k].status == SCN_FAIL &&
			    x->res[k].detail == NULL)
				x->res[k].detail = xstrdup(r->error != NULL ?
				    r->error : "the session ended");
	} else if (i >= 0) {
		const struct scn_step *st = &x->scn->steps[i];

		if (st->op == SCN_DROP || (st->op == SCN_QUIT &&
		    st->expect == NULL))
			x->res[i].status = SCN_PASS;
		else
			exec_judge(x, (size_t)i, st->op == SCN_SLEEP ? NULL :
			    last, 1);
		/*
		 * a server that closes the connection in a pause after a
		 * refusal the scenario expected has ended the session
		 * itself (OpenSMTPD after a smuggling probe it refused)
		 */
		if (st->op == SCN_SLEEP && r->fail_kind == FAIL_CLOSED &&
		    last != NULL && last->expect > 0 &&
		    last->outcome == OUT_PERMFAIL && r->error != NULL) {
			struct record *mr = smtp_session_record_mut(
			    x->sess[x->nsess - 1]);

			exec_note(x, WIRE_INFO, "the server closed the "
			    "connection after the refusal expected (line %d)",
			    last->line);
			free(mr->error);
			mr->error = NULL;
			x->res[i].status = SCN_PASS;
		}
		/* the session ended under this step: that is its failure */
		if (st->expect == NULL && st->op != SCN_QUIT &&
		    st->op != SCN_DROP && r->error != NULL)
			x->res[i].status = SCN_FAIL;
		if (x->res[i].status == SCN_FAIL && st->expect == NULL &&
		    x->res[i].detail == NULL)
			x->res[i].detail = xstrdup(r->error != NULL ?
			    r->error : "the session ended");
	}
	exec_session_end(x, smtp_session_record_mut(x->sess[x->nsess - 1]));
	x->cur = NULL;
	if (x->p->out != NULL && x->p->out->done != NULL)
		x->p->out->done(x->p->arg, r);
	x->in_advance = nested;
	exec_advance(x);
}

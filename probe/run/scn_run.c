/*
 * scn_run.c - the scenario runner: an exec walks the steps with a
 * program counter. Each step becomes one engine command; the engine's
 * ready or done callback judges it (its expectation, or the default
 * policy of scn.c's header) and moves on. Callbacks may come from
 * inside smtp_do(), so exec_advance() is a trampoline: a nested call
 * only asks the outer loop to go round again.
 */
#include "config.h"

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "esmtp.h"
#include "io.h"
#include "log.h"
#include "msg.h"
#include "scn.h"
#include "srvcheck.h"
#include "util.h"
#include "valid.h"
#include "verdict.h"
#include "scn_int.h"

/* ---- running ---- */

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

	if (rp != NULL) {
		snprintf(code, sizeof(code), "%d", rp->code);
		snprintf(got, gotlen, "%d%s%s", rp->code,
		    rp->enhanced[0] ? " " : "", rp->enhanced);
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

#define RUN_NONE	(-1)
#define RUN_IMPLICIT	(-2)	/* the connect a scenario did not write */

enum exec_wait {
	WAIT_NONE,
	WAIT_STEP,	/* a command is under way */
	WAIT_END	/* the session is being ended */
};

struct scn_exec {
	struct event_base	*base;
	const struct scn	*scn;		/* the steps: the caller's, or own */
	struct scn		*own;		/* scn when it is ours (interactive:
					   grown by scn_exec_push), else NULL */
	const struct scn_params	*p;
	scn_done_cb		 done;
	void			*arg;
	struct smtp_session	**sess;
	size_t			 nsess;
	struct smtp_session	*cur;		/* open session or NULL */
	struct scn_result	*res;		/* one per step */
	size_t			 pc;		/* next step */
	ssize_t			 running;	/* step under way */
	enum exec_wait		 wait;
	int			 stop_after;	/* stop once this step is done */
	int			 in_advance;
	int			 no_echo;	/* a group being prepared: its
					   findings are echoed once it goes */
	int			 stopping;
	int			 finished;
	struct io_after		*timer;		/* sleep without a session */
	/* the transaction under way */
	int			 txn_failed;
	int			 txn_rcpt_ok;
	char			*txn_from;
	char			**txn_rcpt;
	size_t			 ntxn_rcpt;
	char			*txn_params;	/* MAIL's, as sent */
	char			**rcpt_params;	/* per txn_rcpt, as sent */
	int			 txn_utf8;	/* SMTPUTF8 on MAIL */
	int			 txn_8bit;	/* BODY=8BITMIME on MAIL */
	char			*msg;		/* wire form being sent */
	size_t			 grp_first;	/* a pipelined group under way: */
	size_t			 grp_n;		/* its steps, 0 none */
	size_t			 grp_base;	/* its first record step */
	size_t			 grp_lines;	/* a "send" of several lines:
						   how many (one step, one
						   reply per line) */
	char			*grp_text;	/* their copy, cut at CRLF */
	char			*secret;	/* AUTH being sent */
	/* retry after: 0 none, 1 ending the session, 2 waiting, 3 the
	   second try runs; retry_step is its step, retry_sess the first
	   try's session */
	int			 retry_phase;
	size_t			 retry_step;
	size_t			 retry_sess;
};

static void	exec_advance(struct scn_exec *);
static void	exec_run(struct scn_exec *, size_t);
static int	exec_group(struct scn_exec *, size_t);
static int	exec_send_lines(struct scn_exec *, size_t);
static void	exec_group_judge(struct scn_exec *, const struct step *,
		    int);
static void	exec_stop(struct scn_exec *);
static void	exec_after(struct scn_exec *, size_t);
static void	exec_end_session(struct scn_exec *);
static void	exec_finish(struct scn_exec *);
static void	exec_retry(struct scn_exec *, size_t);
static void	exec_session_end(struct scn_exec *, struct record *);
static int	exec_all_passed(const struct scn_exec *);
static void	exec_judge(struct scn_exec *, size_t, const struct step *,
		    int);
static void	exec_wire(void *, enum smtp_wire, int, int64_t,
		    const char *);
static void	exec_step_cb(void *, const struct record *,
		    const struct step *);
static void	exec_ready(void *, const struct record *,
		    const struct step *);
static void	exec_done(void *, const struct record *);
static int	exec_soft(const struct scn_exec *, const struct scn_step *);
static void	exec_finding(struct scn_exec *, struct record *,
		    const struct scn_step *, struct step *, const char *);
static char	*exec_message(struct scn_exec *, const struct scn_step *,
		    size_t *, char *, size_t);
static void	exec_note(struct scn_exec *, enum smtp_wire, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

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
static enum smtp_stage
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

static enum smtp_stage
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

static void
exec_note(struct scn_exec *x, enum smtp_wire dir, const char *fmt, ...)
{
	va_list	 ap;
	char	*text;

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

static void
exec_txn_clear(struct scn_exec *x)
{
	size_t	 i;

	for (i = 0; i < x->ntxn_rcpt; i++) {
		free(x->txn_rcpt[i]);
		free(x->rcpt_params[i]);
	}
	free(x->txn_rcpt);
	x->txn_rcpt = NULL;
	x->ntxn_rcpt = 0;
	free(x->txn_from);
	x->txn_from = NULL;
	free(x->rcpt_params);
	x->rcpt_params = NULL;
	free(x->txn_params);
	x->txn_params = NULL;
	x->txn_utf8 = x->txn_8bit = 0;
	x->txn_failed = 0;
	x->txn_rcpt_ok = 0;
}

/* exec_txn_trim - forget the recipients after the first n */
static void
exec_txn_trim(struct scn_exec *x, size_t n)
{
	while (x->ntxn_rcpt > n) {
		x->ntxn_rcpt--;
		free(x->txn_rcpt[x->ntxn_rcpt]);
		if (x->rcpt_params != NULL)
			free(x->rcpt_params[x->ntxn_rcpt]);
	}
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
	size_t	 i;

	if (x->finished || x->scn->nsteps >= SCN_MAX_STEPS)
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
	scn_add(x->own, st);
	x->res = xreallocarray(x->res, x->scn->nsteps + 1, sizeof(*x->res));
	memset(&x->res[x->scn->nsteps - 1], 0, sizeof(*x->res));
	x->res[x->scn->nsteps - 1].session = -1;
	x->res[x->scn->nsteps - 1].rstep = -1;
	exec_advance(x);
	return 0;
}

int
scn_exec_idle(const struct scn_exec *x)
{
	return x->finished || (x->wait == WAIT_NONE &&
	    x->pc >= x->scn->nsteps);
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
static void
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
static void
exec_end_session(struct scn_exec *x)
{
	x->wait = WAIT_END;
	smtp_quit(x->cur);
}

static void
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
static void
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

static void
exec_new_session(struct scn_exec *x, ssize_t i, unsigned flags)
{
	struct smtp_cmd	 c;

	exec_txn_clear(x);
	x->sess = xreallocarray(x->sess, x->nsess + 1, sizeof(*x->sess));
	x->cur = x->sess[x->nsess++] = smtp_session_new(x->base,
	    x->p->conn, exec_callbacks(x), x);
	memset(&c, 0, sizeof(c));
	c.stage = STAGE_CONNECT;
	c.flags = flags;
	x->running = i;
	x->wait = WAIT_STEP;
	smtp_do(x->cur, &c);
}

/* exec_secret - the AUTH secret for step st, or NULL with why */
static char *
exec_secret(struct scn_exec *x, const struct scn_step *st, char *why,
    size_t whylen)
{
	char	*buf, *nl;
	size_t	 len;
	const char *v;

	if (st->secret_env != NULL) {
		if ((v = getenv(st->secret_env)) == NULL) {
			snprintf(why, whylen, "environment variable %s is not "
			    "set", st->secret_env);
			return NULL;
		}
		return xstrdup(v);
	}
	if (st->secret_file != NULL) {
		if (msg_read(st->secret_file, &buf, &len, why, whylen) == -1)
			return NULL;
		if (valid_secret(buf, len, why, whylen) == -1) {
			OPENSSL_cleanse(buf, len);
			free(buf);
			return NULL;
		}
		/* the first line is the secret; wipe the rest */
		if ((nl = strpbrk(buf, "\r\n")) != NULL)
			explicit_bzero(nl, len - (size_t)(nl - buf));
		return buf;
	}
	if (x->p->secret != NULL)
		return xstrdup(x->p->secret);
	snprintf(why, whylen, "no secret given (use --auth-secret-env, "
	    "--auth-secret-file, or secret-env/secret-file in the "
	    "scenario)");
	return NULL;
}

/* exec_echo - the findings added since n, as notes in the transcript */
static void
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

/*
 * exec_data_8bit - data typed in the shell after its MAIL (no look-ahead
 * there) with 8-bit bytes given as they are, to a server without
 * 8BITMIME: typed by hand, it goes on the user's word, with the
 * warning eightbit-raw-sent that --raw-message gives
 */
static void
exec_data_8bit(struct scn_exec *x, const struct scn_step *st)
{
	const struct ehlo *e = smtp_ehlo(x->cur);
	size_t		 n = smtp_session_record(x->cur)->nfindings;

	if (!x->p->interactive || x->txn_8bit ||
	    (e != NULL && reply_ehlo_has(e, "8BITMIME")))
		return;
	if (((st->data == SCN_DATA_INLINE || st->data == SCN_DATA_RAW) &&
	    esmtp_has8bit(st->body, st->bodylen)) || (st->data ==
	    SCN_DATA_DEFAULT && esmtp_has8bit(x->p->message,
	    x->p->messagelen))) {
		record_add_finding(smtp_session_record_mut(x->cur), FIND_WARN,
		    "eightbit-raw-sent", STAGE_DATA, "the message has 8-bit "
		    "bytes and the server does not offer 8BITMIME; sent as "
		    "typed");
		exec_echo(x, n);
	}
}

/*
 * exec_auto_size - --size auto: the size of the message that the
 * transaction step i opens will send (RFC 1870: its octets with CR LF,
 * less the final dot), built now as its data step will build it, with
 * the paths MAIL and RCPT will send; no data step: no SIZE
 */
static void
exec_auto_size(struct scn_exec *x, size_t i, struct esmtp_mail *m,
    const char *uparams, struct record *rec)
{
	const struct scn_step *d = NULL;
	const char	**rs;
	char		**rcpt, *msg, why[256];
	size_t		 j, n, len;

	for (j = i + 1; j < x->scn->nsteps; j++) {
		d = &x->scn->steps[j];
		if (d->op == SCN_MAIL || d->op == SCN_RSET ||
		    d->op == SCN_CONNECT || d->op == SCN_QUIT)
			return;
		if (d->op == SCN_DATA)
			break;
	}
	if (j == x->scn->nsteps || d == NULL)
		return;
	rs = esmtp_scn_rcpts(x->scn, i, &n);
	rcpt = xcalloc(n + 1, sizeof(*rcpt));
	for (j = 0; j < n; j++)
		if ((rcpt[j] = esmtp_path(rs[j], m->utf8, why,
		    sizeof(why))) == NULL)
			rcpt[j] = xstrdup(rs[j]);
	/* the transaction as it will be, for exec_message(), then back */
	x->txn_from = m->from;
	x->txn_rcpt = rcpt;
	x->ntxn_rcpt = n;
	x->txn_8bit = m->eightbit;
	x->txn_utf8 = m->utf8;
	msg = exec_message(x, d, &len, why, sizeof(why));
	x->txn_from = NULL;
	x->txn_rcpt = NULL;
	x->ntxn_rcpt = 0;
	for (j = 0; j < n; j++)
		free(rcpt[j]);
	free(rcpt);
	free(rs);
	if (msg != NULL && len >= 3)
		esmtp_mail_size(m, smtp_ehlo(x->cur), uparams,
		    (long long)len - 3, rec);
	free(msg);
}

/*
 * exec_mail - MAIL's path and ESMTP parameters (esmtp.h), with the
 * RCPTs and the message that follow in the scenario; -1 with why
 */
static int
exec_mail(struct scn_exec *x, size_t i, struct smtp_cmd *c, char *why,
    size_t whylen)
{
	const struct scn_step *st = &x->scn->steps[i];
	struct record	*rec = smtp_session_record_mut(x->cur);
	struct esmtp_txn t;
	struct esmtp_mail m;
	const char	**rcpt;
	size_t		 n = rec->nfindings;
	int		 rc;

	memset(&t, 0, sizeof(t));
	t.from = st->arg != NULL ? st->arg : "";
	t.params = st->params;
	t.rcpt = rcpt = esmtp_scn_rcpts(x->scn, i, &t.nrcpt);
	t.body = esmtp_scn_body(x->scn, i, x->p);
	rc = esmtp_mail(x->p->esmtp, smtp_ehlo(x->cur),
	    smtp_tls_active(x->cur), &t, rec, &m, why, whylen);
	free(rcpt);
	if (rc == 0 && x->p->esmtp != NULL &&
	    x->p->esmtp->size == ESMTP_SIZE_AUTO)
		exec_auto_size(x, i, &m, st->params, rec);
	exec_echo(x, n);
	if (rc == -1)
		return -1;
	x->txn_from = m.from;
	x->txn_params = m.params;
	x->txn_utf8 = m.utf8;
	x->txn_8bit = m.eightbit;
	c->arg = x->txn_from;
	c->params = x->txn_params;
	return 0;
}

/* exec_rcpt - a RCPT's path and parameters; -1 with why */
static int
exec_rcpt(struct scn_exec *x, const struct scn_step *st, struct smtp_cmd *c,
    char *why, size_t whylen)
{
	struct record	*rec = smtp_session_record_mut(x->cur);
	char		*path, *params;
	size_t		 n = rec->nfindings;

	if (esmtp_rcpt(x->p->esmtp, smtp_ehlo(x->cur), x->txn_utf8,
	    st->arg != NULL ? st->arg : "", st->params, rec, &path,
	    &params, why, whylen) == -1)
		return -1;
	exec_echo(x, n);
	x->txn_rcpt = xreallocarray(x->txn_rcpt, x->ntxn_rcpt + 1,
	    sizeof(char *));
	x->rcpt_params = xreallocarray(x->rcpt_params, x->ntxn_rcpt + 1,
	    sizeof(char *));
	x->rcpt_params[x->ntxn_rcpt] = params;
	x->txn_rcpt[x->ntxn_rcpt++] = path;
	c->arg = path;
	c->params = params;
	return 0;
}

/* exec_message - the wire form for a data step, or NULL with why */
static char *
exec_message(struct scn_exec *x, const struct scn_step *st, size_t *len,
    char *why, size_t whylen)
{
	struct msg_params mp;
	char	*raw, *out = NULL;
	size_t	 rawlen;

	switch (st->data) {
	case SCN_DATA_RAW:
		out = xmalloc(st->bodylen + 6);
		memcpy(out, st->body, st->bodylen);
		memcpy(out + st->bodylen, "\r\n.\r\n", 6);
		*len = st->bodylen + 5;
		return out;
	case SCN_DATA_FILE:
		if (msg_read(st->body, &raw, &rawlen, why, whylen) == -1)
			return NULL;
		if (msg_wire(raw, rawlen, &out, len, why, whylen) == -1)
			out = NULL;
		free(raw);
		return out;
	case SCN_DATA_INLINE:
		if (msg_wire(st->body, st->bodylen, &out, len, why,
		    whylen) == -1)
			return NULL;
		return out;
	default:
		memset(&mp, 0, sizeof(mp));
		mp.from = x->txn_from != NULL ? x->txn_from : "";
		mp.to = (const char **)x->txn_rcpt;
		mp.nto = x->ntxn_rcpt;
		mp.domain = x->p->helo_domain;
		mp.headers = x->p->headers;
		mp.nheaders = x->p->nheaders;
		mp.body = x->p->body;
		mp.bodylen = x->p->bodylen;
		mp.message = x->p->message;
		mp.messagelen = x->p->messagelen;
		mp.version = x->p->version;
		mp.mime = x->p->mime;
		mp.eightbit = x->txn_8bit;
		mp.utf8 = x->txn_utf8;
		if (msg_build(&mp, &out, len, why, whylen) == -1)
			return NULL;
		return out;
	}
}

static void
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
static int
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
			    x->base, p->conn, exec_callbacks(x), x);
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

/*
 * exec_group_len - how many steps from i go as one pipelined group: the
 * steps of one group, MAIL RCPT RSET NOOP and sent lines, DATA last;
 * never one past a stop point (--stop-before, --quit-after), nor a DATA
 * that stops after 354
 */
static size_t
exec_group_len(struct scn_exec *x, size_t i)
{
	const struct scn_params *p = x->p;
	const struct scn_step *m, *prev;
	enum smtp_stage	 f;
	size_t		 n;

	for (n = 0; i + n < x->scn->nsteps; n++) {
		m = &x->scn->steps[i + n];
		f = op_first(m->op);
		if (m->group != x->scn->steps[i].group)
			break;
		if (m->op != SCN_MAIL && m->op != SCN_RCPT &&
		    m->op != SCN_DATA && m->op != SCN_RSET &&
		    m->op != SCN_NOOP && m->op != SCN_SEND)
			break;
		if (m->op == SCN_SEND && ((m->flags & SMTP_F_NOREPLY) ||
		    (m->arg != NULL && strstr(m->arg, "\r\n") != NULL)))
			break;	/* lines of their own: exec_send_lines() */
		if (m->op == SCN_DATA && (p->stop_before == STAGE_EOD ||
		    p->quit_after == STAGE_DATA))
			break;
		if (n == 0)
			continue;
		prev = &x->scn->steps[i + n - 1];
		if (prev->op == SCN_DATA || (p->quit_after >= 0 &&
		    (int)op_last(prev->op) == p->quit_after) ||
		    (p->stop_before >= 0 && (int)f == p->stop_before) ||
		    exec_passed(p, f) >= 0)
			break;
	}
	return n;
}

/*
 * exec_group - run steps i... as one pipelined group (RFC 2920) when
 * they are one and may be: 1 when sent, 0 to run step i alone
 */
static int
exec_group(struct scn_exec *x, size_t i)
{
	const struct scn_params *p = x->p;
	const struct scn_step *st = &x->scn->steps[i], *m;
	struct smtp_cmd	*c;
	size_t		 n, k, nf, nrcpt = x->ntxn_rcpt;
	char		 why[512];
	int		 offered, rc;

	if (st->group == 0 || p->no_pipelining || x->cur == NULL ||
	    smtp_is_over(x->cur) || smtp_asif_waiting(x->cur))
		return 0;
	offered = reply_ehlo_has(smtp_ehlo(x->cur), "PIPELINING");
	if ((st->group < 0 && !offered) || (n = exec_group_len(x, i)) < 2)
		return 0;
	if (!offered)
		exec_note(x, WIRE_WARN, "the server does not offer "
		    "PIPELINING; sending the group as the scenario asks");
	/*
	 * Each command gets its path and ESMTP parameters as it would
	 * alone (exec_mail, exec_rcpt: esmtp.h); one that cannot go makes
	 * the group go one command at a time, where that step fails as it
	 * would have without the group (its findings said once, there).
	 */
	nf = smtp_session_record(x->cur)->nfindings;
	x->no_echo = 1;
	c = xcalloc(n, sizeof(*c));
	for (k = 0; k < n; k++) {
		m = &x->scn->steps[i + k];
		c[k].stage = op_first(m->op);
		c[k].arg = m->arg;
		c[k].params = m->params;
		c[k].flags = m->flags;
		c[k].chunk = p->bdat_chunk;
		rc = 0;
		if (m->op == SCN_MAIL) {
			exec_txn_clear(x);
			nrcpt = 0;
			rc = exec_mail(x, i + k, &c[k], why, sizeof(why));
		} else if (m->op == SCN_RCPT)
			rc = exec_rcpt(x, m, &c[k], why, sizeof(why));
		else if (m->op == SCN_DATA) {
			free(x->msg);
			if ((x->msg = exec_message(x, m, &c[k].message_len,
			    why, sizeof(why))) == NULL)
				rc = -1;
			c[k].message = x->msg;
		}
		if (rc == -1)
			break;
	}
	x->no_echo = 0;
	if (k < n) {
		record_trim_findings(smtp_session_record_mut(x->cur), nf);
		exec_txn_trim(x, nrcpt);
		free(x->msg);
		x->msg = NULL;
		free(c);
		return 0;
	}
	exec_echo(x, nf);
	x->grp_first = i;
	x->grp_n = n;
	x->grp_base = smtp_session_record(x->cur)->nsteps;
	x->pc = i + n;
	x->running = (ssize_t)i;
	x->wait = WAIT_STEP;
	if (smtp_do_group(x->cur, c, n) == -1) {
		/* not taken: one at a time, as if never grouped */
		exec_txn_trim(x, nrcpt);
		x->grp_n = 0;
		x->pc = i + 1;
		x->running = RUN_NONE;
		x->wait = WAIT_NONE;
		free(c);
		return 0;
	}
	free(c);
	return 1;
}

/*
 * exec_send_lines - a "send" whose text holds several lines (CR LF
 * inside) goes as a pipelined group of them, one reply awaited per
 * line; the step is judged by the worst reply. 1 when sent that way.
 */
static int
exec_send_lines(struct scn_exec *x, size_t i)
{
	const struct scn_step *st = &x->scn->steps[i];
	struct smtp_cmd	*c = NULL;
	char		*p, *e;
	size_t		 n = 0;

	if (st->op != SCN_SEND || (st->flags & SMTP_F_NOREPLY) ||
	    st->arg == NULL || strstr(st->arg, "\r\n") == NULL)
		return 0;
	free(x->grp_text);
	x->grp_text = xstrdup(st->arg);
	/* the bytes on the wire stay as written: a CR LF at the end is
	   an empty line of its own, as the engine adds one after each */
	for (p = x->grp_text;; p = e + 2) {
		if ((e = strstr(p, "\r\n")) != NULL)
			*e = '\0';
		c = xreallocarray(c, n + 1, sizeof(*c));
		memset(&c[n], 0, sizeof(*c));
		c[n].stage = STAGE_RAW;
		c[n].arg = p;
		c[n].flags = st->flags;
		n++;
		if (e == NULL)
			break;
	}
	if (n < 2) {
		free(c);
		return 0;
	}
	x->grp_first = i;
	x->grp_n = 1;
	x->grp_lines = n;
	x->grp_base = smtp_session_record(x->cur)->nsteps;
	x->running = (ssize_t)i;
	x->wait = WAIT_STEP;
	if (smtp_do_group(x->cur, c, n) == -1) {
		x->grp_n = x->grp_lines = 0;
		x->running = RUN_NONE;
		x->wait = WAIT_NONE;
		free(c);
		return 0;
	}
	free(c);
	return 1;
}

/* exec_worst - of n record steps from first, the first that failed */
static const struct step *
exec_worst(const struct record *rec, size_t first, size_t n)
{
	size_t	 k;

	for (k = first; k < first + n && k < rec->nsteps; k++)
		if (rec->steps[k].outcome != OUT_OK)
			return &rec->steps[k];
	return first + n <= rec->nsteps ? &rec->steps[first + n - 1] : NULL;
}

/*
 * exec_group_judge - settle every step of the group that ended, each
 * from its own record step (DATA from primary, the end of data)
 */
static void
exec_group_judge(struct scn_exec *x, const struct step *primary, int ended)
{
	const struct record *rec = smtp_session_record(x->sess[x->nsess - 1]);
	size_t		 k, n = x->grp_n, first = x->grp_first;
	const struct step *ps;

	x->grp_n = 0;
	if (x->grp_lines > 0) {
		/* one "send" of several lines: its worst reply */
		ps = exec_worst(rec, x->grp_base, x->grp_lines);
		x->grp_lines = 0;
		if (ps == NULL)
			exec_skip(x, first, SCN_NOTRUN, "the session ended "
			    "before this step");
		else
			exec_judge(x, first, ps, ended);
		if (!ended)
			exec_after(x, first);
		return;
	}
	for (k = 0; k < n; k++) {
		ps = x->grp_base + k < rec->nsteps ?
		    &rec->steps[x->grp_base + k] : NULL;
		if (k + 1 == n && x->scn->steps[first + k].op == SCN_DATA &&
		    primary != NULL)
			ps = primary;
		if (ps == NULL || (ended && ps->t_done < 0 &&
		    ps->reply == NULL && ps->outcome == OUT_OK)) {
			exec_skip(x, first + k, SCN_NOTRUN, "the session "
			    "ended before this step");
			continue;
		}
		if (ps->outcome == OUT_SKIPPED &&
		    x->scn->steps[first + k].expect == NULL) {
			/* refused only because of an earlier refusal */
			exec_skip(x, first + k, SCN_SKIP, "%s", ps->detail !=
			    NULL ? ps->detail : "skipped");
			continue;
		}
		exec_judge(x, first + k, ps, ended);
	}
	if (!ended)
		exec_after(x, first + n - 1);
}

/* exec_judge - settle step i from its primary step (NULL: none) */
static void
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

static void
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
static void
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

/*
 * classic_harvest - --server-check's address harvesting probes: VRFY
 * of a made-up user and of postmaster, EXPN of a made-up list, each
 * expecting any reply (the judge reads them, srvcheck.h), so that a
 * refusal neither stops the run nor decides its result
 */
static void
classic_harvest(struct scn *s)
{
	static const char *const args[] = { SRVCHECK_FAKE_USER, "postmaster",
	    ("EXPN " SRVCHECK_FAKE_LIST) };
	struct scn_expect e;
	struct scn_step	 st;
	size_t		 i;

	memset(&e, 0, sizeof(e));
	e.spec = (char *)"2xx or 4xx or 5xx else continue";
	e.want = (char *)"2xx or 4xx or 5xx";
	snprintf(e.match[0], sizeof(e.match[0]), "2xx");
	snprintf(e.match[1], sizeof(e.match[1]), "4xx");
	snprintf(e.match[2], sizeof(e.match[2]), "5xx");
	e.group[1] = 1;
	e.group[2] = 2;
	e.nmatch = 3;
	e.cont = 1;
	for (i = 0; i < nitems(args); i++) {
		memset(&st, 0, sizeof(st));
		st.op = i < 2 ? SCN_VRFY : SCN_SEND;
		st.arg = (char *)args[i];
		st.expect = &e;
		scn_add(s, &st);	/* copies arg and the expectation */
	}
}

struct scn *
scn_classic(const struct scn_classic *c)
{
	struct scn	*s = scn_new("default");
	struct scn_step	 st;
	size_t		 i, j;

#define ADD(o) do {						\
	memset(&st, 0, sizeof(st));				\
	st.op = (o);						\
} while (0)
	ADD(SCN_CONNECT);
	scn_add(s, &st);
	ADD(SCN_EHLO);
	scn_add(s, &st);
	if (c->tls_mode == SMTP_TLS_REQUIRE ||
	    c->tls_mode == SMTP_TLS_OPTIONAL) {
		ADD(SCN_STARTTLS);
		if (c->tls_mode == SMTP_TLS_OPTIONAL)
			st.flags = SMTP_F_OPTIONAL;
		scn_add(s, &st);
	}
	if (c->auth_mech >= 0) {
		ADD(SCN_AUTH);
		st.mech = c->auth_mech;
		st.arg = (char *)c->auth_user;
		st.flags = c->auth_insecure ? SMTP_F_INSECURE : 0;
		scn_add(s, &st);
	}
	if (c->server_check)
		classic_harvest(s);
	for (i = 0; i < c->ntxn; i++) {
		if (i > 0) {
			ADD(SCN_RSET);
			scn_add(s, &st);
		}
		ADD(SCN_MAIL);
		st.arg = (char *)c->txn[i].from;
		st.group = -1 - (int)i;
		scn_add(s, &st);
		for (j = 0; j < c->txn[i].nrcpt; j++) {
			ADD(SCN_RCPT);
			st.arg = (char *)c->txn[i].rcpt[j];
			st.group = -1 - (int)i;
			scn_add(s, &st);
		}
		if (c->data) {
			ADD(SCN_DATA);
			st.group = -1 - (int)i;
			st.flags = c->bdat ? SMTP_F_BDAT : 0;
			scn_add(s, &st);
		}
	}
	ADD(SCN_QUIT);
	scn_add(s, &st);
#undef ADD
	return s;
}


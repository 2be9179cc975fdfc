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
#include "util.h"
#include "valid.h"
#include "verdict.h"

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
		if (!hit) {
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
	struct scn		*scn;		/* steps (own copy) */
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
	char			*secret;	/* AUTH being sent */
};

static void	exec_advance(struct scn_exec *);
static void	exec_run(struct scn_exec *, size_t);
static void	exec_stop(struct scn_exec *);
static void	exec_after(struct scn_exec *, size_t);
static void	exec_end_session(struct scn_exec *);
static void	exec_finish(struct scn_exec *);
static void	exec_judge(struct scn_exec *, size_t, const struct step *,
		    int);
static void	exec_wire(void *, enum smtp_wire, int, int64_t,
		    const char *);
static void	exec_step_cb(void *, const struct record *,
		    const struct step *);
static void	exec_ready(void *, const struct record *,
		    const struct step *);
static void	exec_done(void *, const struct record *);
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
		[SCN_DROP] = STAGE_DONE,
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
	x->scn = scn_new(s != NULL ? s->name : "shell");
	if (s != NULL && s->desc != NULL)
		x->scn->desc = xstrdup(s->desc);
	for (i = 0; s != NULL && i < s->nsteps; i++)
		scn_add(x->scn, &s->steps[i]);
	x->res = xcalloc(x->scn->nsteps + 1, sizeof(*x->res));
	for (i = 0; i < x->scn->nsteps; i++) {
		x->res[i].session = -1;
		x->res[i].rstep = -1;
	}
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
	scn_free(x->scn);
	exec_txn_clear(x);
	free(x->msg);
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
	if (x->finished || x->scn->nsteps >= SCN_MAX_STEPS)
		return -1;
	scn_add(x->scn, st);
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
	memset(&c, 0, sizeof(c));
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
		if (met) {
			res->status = SCN_PASS;
			exec_note(x, WIRE_INFO, "expect %s: ok (line %d)",
			    st->expect->spec, st->expect->line);
		} else {
			res->status = SCN_FAIL;
			exec_skip(x, i, SCN_FAIL, "expected %s, got %s",
			    st->expect->want, got);
			exec_note(x, WIRE_ERROR, "expectation not met (line "
			    "%d): expected %s, got %s%s", st->expect->line,
			    st->expect->want, got, st->expect->cont ? "" :
			    "; stopping");
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
	} else if (i >= 0) {
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
	if (i >= 0) {
		const struct scn_step *st = &x->scn->steps[i];

		if (st->op == SCN_DROP || (st->op == SCN_QUIT &&
		    st->expect == NULL))
			x->res[i].status = SCN_PASS;
		else
			exec_judge(x, (size_t)i, st->op == SCN_SLEEP ? NULL :
			    last, 1);
		/* the session ended under this step: that is its failure */
		if (st->expect == NULL && st->op != SCN_QUIT &&
		    st->op != SCN_DROP && r->error != NULL)
			x->res[i].status = SCN_FAIL;
		if (x->res[i].status == SCN_FAIL && st->expect == NULL &&
		    x->res[i].detail == NULL)
			x->res[i].detail = xstrdup(r->error != NULL ?
			    r->error : "the session ended");
	}
	record_settle(smtp_session_record_mut(x->sess[x->nsess - 1]));
	x->cur = NULL;
	if (x->p->out != NULL && x->p->out->done != NULL)
		x->p->out->done(x->p->arg, r);
	x->in_advance = nested;
	exec_advance(x);
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
	for (i = 0; i < c->ntxn; i++) {
		if (i > 0) {
			ADD(SCN_RSET);
			scn_add(s, &st);
		}
		ADD(SCN_MAIL);
		st.arg = (char *)c->txn[i].from;
		scn_add(s, &st);
		for (j = 0; j < c->txn[i].nrcpt; j++) {
			ADD(SCN_RCPT);
			st.arg = (char *)c->txn[i].rcpt[j];
			scn_add(s, &st);
		}
		if (c->data) {
			ADD(SCN_DATA);
			scn_add(s, &st);
		}
	}
	ADD(SCN_QUIT);
	scn_add(s, &st);
#undef ADD
	return s;
}


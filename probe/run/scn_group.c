/*
 * scn_group.c - pipelined groups (RFC 2920): the steps a scenario
 * groups (or the command line's transactions, when the server offers
 * PIPELINING) go to the engine as one group, and a "send" of several
 * lines goes as a group of them; once the group ends, each step is
 * judged from its own record step. Part of the runner (scn_run.c;
 * struct scn_exec in scn_int.h).
 */
#include "config.h"

#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "scn.h"
#include "scn_int.h"

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
int
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
int
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
void
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

/*
 * shell_step.c - the lines of "smtprobe shell" that reach the server
 * (see shell.c for the whole): a scenario step parsed and checked
 * before it is sent (a data message, an AUTH secret, AUTH without TLS),
 * a raw line, a "pipeline ... end" block sent as one group, an
 * "expect" line checked at once against the step above, and "save",
 * which writes the session as a scenario file that replays it.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "report.h"
#include "scn.h"
#include "shell_int.h"
#include "smtp.h"
#include "util.h"
#include "verdict.h"

static int	 shell_op(const char *, size_t);
static int	 shell_session_tls(const struct shell *);
static void	 shell_parse_error(const char *, const char *, int);
static void	 shell_ent_add(struct shell *, char *, char *, size_t);
static void	 shell_push(struct shell *, struct scn_step *, char *, char *,
		    size_t);
static int	 shell_step_data(struct shell *, struct scn_step *, char **,
		    size_t *);
static int	 shell_step_auth(struct shell *, const struct scn_step *,
		    char **);

/* shell_op - the step op of keyword w (n bytes, any case), or -1 */
static int
shell_op(const char *w, size_t n)
{
	int	 op;

	for (op = 0; op < SCN__COUNT; op++)
		if (strlen(scn_op_name(op)) == n &&
		    strncasecmp(scn_op_name(op), w, n) == 0)
			return op;
	return -1;
}

/* shell_session_tls - the open session is under TLS */
static int
shell_session_tls(const struct shell *sh)
{
	size_t		 n = scn_exec_nrecords(sh->x);
	const struct record *r = n > 0 ? scn_exec_record(sh->x, n - 1) : NULL;

	return r != NULL && record_tls_of(r)->done &&
	    scn_exec_session_open(sh->x);
}

/*
 * shell_parse_error - show a parse error under the text that was
 * parsed: its first line with a caret at the column when the error is
 * on line first (1, or 2 for an expect line parsed after a stand-in).
 */
static void
shell_parse_error(const char *text, const char *err, int first)
{
	const char	*p = err;
	char		*end;
	long		 line = 0, col = 0;
	size_t		 i, n;

	if (strncmp(p, "shell:", 6) == 0) {
		p += 6;
		line = strtol(p, &end, 10);
		p = end;
		if (*p == ':' && isdigit((unsigned char)p[1])) {
			col = strtol(p + 1, &end, 10);
			p = end;
		}
		if (*p == ':')
			p++;
		while (*p == ' ')
			p++;
	}
	if (line == first && col > 0) {
		n = strcspn(text, "\n");
		fputs("   ", stderr);
		for (i = 0; i < n; i++)
			fputc(text[i] == '\t' || isprint((unsigned char)
			    text[i]) ? text[i] : '?', stderr);
		fputs("\n   ", stderr);
		for (i = 0; i + 1 < (size_t)col && i < n; i++)
			fputc(text[i] == '\t' ? '\t' : ' ', stderr);
		fprintf(stderr, "^\n!! column %ld: %s; nothing was sent\n",
		    col, p);
	} else if (line > first)
		fprintf(stderr, "!! line %ld of the message: %s; nothing was "
		    "sent\n", line - first, p);
	else
		fprintf(stderr, "!! %s; nothing was sent\n", p);
}

/* shell_ent_add - a line for "save" (line and body are taken over) */
static void
shell_ent_add(struct shell *sh, char *line, char *body, size_t bodylen)
{
	sh->ent = xreallocarray(sh->ent, sh->nent + 1, sizeof(*sh->ent));
	sh->ent[sh->nent].line = line;
	sh->ent[sh->nent].body = body;
	sh->ent[sh->nent].bodylen = bodylen;
	sh->nent++;
}

/*
 * shell_push - run one step now; line (and the message read for it)
 * go to the lines "save" writes
 */
static void
shell_push(struct shell *sh, struct scn_step *st, char *line, char *body,
    size_t bodylen)
{
	int	 was_open = scn_exec_session_open(sh->x);

	st->line = (int)sh->nhist;
	if (scn_exec_push(sh->x, st) == -1) {
		fprintf(stderr, "!! the session runner is over, or this "
		    "shell has run %d steps (its limit); nothing was sent\n",
		    SCN_MAX_STEPS);
		free(line);
		free(body);
		sh->last_ent = -1;
		return;
	}
	shell_ent_add(sh, line, body, bodylen);
	sh->last_ent = (ssize_t)sh->nent - 1;
	sh->last_expect = 0;
	shell_run(sh);
	if (!sh->done && !scn_exec_session_open(sh->x) &&
	    st->op != SCN_QUIT && st->op != SCN_DROP &&
	    (was_open || st->op == SCN_CONNECT))
		printf("** the session is over; connect opens a new one\n");
}

/* shell_raw - a line with no keyword: sent as it is ("send") */
void
shell_raw(struct shell *sh, const char *line)
{
	struct scn_step	 st;
	char		*q;

	if (!scn_exec_session_open(sh->x)) {
		fprintf(stderr, "!! not sent: no session is open (connect "
		    "opens one)\n");
		sh->last_ent = -1;
		return;
	}
	memset(&st, 0, sizeof(st));
	st.op = SCN_SEND;
	st.arg = (char *)line;
	q = shell_quote(line, strlen(line));
	shell_push(sh, &st, xasprintf("send %s", q), NULL, 0);
	free(q);
}

/*
 * shell_step_data - "data" typed: the message read up to "." (taken into
 * *ebody for "save"); "data file": the file must be readable and hold no
 * NUL. -1 after a message.
 */
static int
shell_step_data(struct shell *sh, struct scn_step *st, char **ebody,
    size_t *bodylen)
{
	char	 err[512], *buf, *body;
	size_t	 blen;
	int	 nul;

	if (st->op == SCN_DATA && st->data == SCN_DATA_DEFAULT) {
		/* in the shell, "data" reads the message: up to "." */
		if (sh->tty)
			printf("** the message, then a line with only "
			    "\".\"\n");
		if ((body = shell_read_body(sh, ".", "the message",
		    bodylen)) == NULL)
			return -1;
		st->data = SCN_DATA_INLINE;
		st->body = xmalloc(*bodylen + 1);
		memcpy(st->body, body, *bodylen + 1);
		st->bodylen = *bodylen;
		*ebody = body;
	}
	if (st->op == SCN_DATA && st->data == SCN_DATA_FILE) {
		if (msg_read(st->body, &buf, &blen, err, sizeof(err)) == -1) {
			fprintf(stderr, "!! data not sent: %s\n", err);
			return -1;
		}
		nul = memchr(buf, '\0', blen) != NULL;
		free(buf);
		if (nul) {
			fprintf(stderr, "!! data not sent: %s holds a NUL "
			    "byte\n", st->body);
			return -1;
		}
	}
	return 0;
}

/*
 * shell_step_auth - "auth": refused in plaintext unless "insecure" (the
 * engine's rule, asked before a password is typed), and the password
 * asked for when no secret was given (*pw, the caller wipes it). -1
 * after a message.
 */
static int
shell_step_auth(struct shell *sh, const struct scn_step *st, char **pw)
{
	if (st->op != SCN_AUTH)
		return 0;
	if (!(st->flags & SMTP_F_INSECURE) && !shell_session_tls(sh)) {
		fprintf(stderr, "!! auth not sent: the session is not under "
		    "TLS, and AUTH in plaintext shows the password to anyone "
		    "on the path (starttls first, or add \"insecure\" to the "
		    "line)\n");
		return -1;
	}
	if (st->secret_env == NULL && st->secret_file == NULL &&
	    sh->secret == NULL) {
		sh->prompted = 1;
		if ((*pw = shell_getpass(sh, st->arg)) == NULL) {
			fprintf(stderr, "!! auth cancelled; nothing was "
			    "sent\n");
			sh->eof = !sh->tty;
			return -1;
		}
		sh->sp.secret = *pw;
	}
	return 0;
}

/*
 * shell_step - a line that starts with a keyword: parse it (reading the
 * message of a data step first or after), check what the runner would
 * refuse, ask for a password, and run it
 */
void
shell_step(struct shell *sh, const char *line)
{
	struct scn	*s = NULL;
	struct scn_step	*st;
	char		 err[512], *text, *body = NULL, *hword = NULL;
	char		*buf, *ebody = NULL, *pw = NULL;
	const char	*rest, *p;
	size_t		 wl, ml, bodylen = 0, i;
	int		 op;

	wl = strcspn(line, " \t");
	op = shell_op(line, wl);
	for (rest = line + wl; *rest == ' ' || *rest == '\t'; rest++)
		;
	ml = strcspn(rest, " \t");
	for (p = rest + ml; *p == ' ' || *p == '\t'; p++)
		;
	if ((op == SCN_MAIL && strncasecmp(rest, "from:", 5) == 0) ||
	    (op == SCN_RCPT && strncasecmp(rest, "to:", 3) == 0)) {
		/* the habit of telnet: MAIL FROM:<a>, RCPT TO:<a> */
		for (p = rest + (op == SCN_MAIL ? 5 : 3); *p == ' ' ||
		    *p == '\t'; p++)
			;
		text = xasprintf("%.*s %s", (int)wl, line, p);
	} else if (op == SCN_AUTH && sh->auth_user != NULL && ml > 0 &&
	    *p == '\0')
		text = xasprintf("%.*s ${user}", (int)(rest + ml - line),
		    line);
	else
		text = xstrdup(line);
	if (op == SCN_DATA && strncmp(rest, "<<", 2) == 0 && ml > 2 &&
	    *p == '\0')
		hword = xstrndup(rest + 2, ml - 2);

	if (op < 0) {
		/* set: a variable of the command line keeps its value */
		for (i = 0; i < sh->vars.nlocked; i++)
			if (strlen(sh->vars.name[i]) == ml &&
			    strncmp(sh->vars.name[i], rest, ml) == 0) {
				fprintf(stderr, "!! set: ${%s} comes from the "
				    "command line and keeps its value\n",
				    sh->vars.name[i]);
				goto refused;
			}
	}
	if (op >= 0) {
		/* before a body is read: the runner's session and
		   transaction rules (the secret is asked for below) */
		struct scn_step	 probe;

		memset(&probe, 0, sizeof(probe));
		probe.op = op;
		switch (scn_exec_may_run(sh->x, &probe, err, sizeof(err))) {
		case SCN_GATE_NO_SESSION:
			fprintf(stderr, "!! not sent: %s; connect opens one\n",
			    err);
			goto refused;
		case SCN_GATE_SKIP:
			fprintf(stderr, "!! %s not sent: %s (a scenario skips "
			    "it too)\n", scn_op_name(op), err);
			goto refused;
		default:
			break;
		}
	}
	if (hword != NULL) {
		/* a here-document typed: the lines, then parse it whole */
		if ((body = shell_read_body(sh, hword, "the message",
		    &bodylen)) == NULL)
			goto refused;
		buf = xasprintf("%s\n%s%s", text, body, hword);
		free(text);
		free(body);
		body = NULL;
		text = buf;
	}
	if ((s = scn_parse("shell", text, strlen(text), &sh->vars, err,
	    sizeof(err))) == NULL) {
		shell_parse_error(text, err, 1);
		goto refused;
	}
	if (scn_check_inputs(s, err, sizeof(err)) == -1) {
		fprintf(stderr, "!! %s; nothing was sent\n", err);
		goto refused;	/* frees s */
	}
	if (s->nsteps == 0) {
		/* set: the variable is in sh->vars now */
		shell_ent_add(sh, text, NULL, 0);
		scn_free(s);
		return;
	}
	st = &s->steps[0];
	if (shell_step_data(sh, st, &ebody, &bodylen) == -1 ||
	    shell_step_auth(sh, st, &pw) == -1)
		goto refused;
	switch (scn_exec_may_run(sh->x, st, err, sizeof(err))) {
	case SCN_GATE_OK:
		break;
	case SCN_GATE_SKIP:
		fprintf(stderr, "!! %s not sent: %s (a scenario skips it "
		    "too)\n", scn_op_name(st->op), err);
		goto refused;
	default:
		fprintf(stderr, "!! %s not sent: %s\n", scn_op_name(st->op),
		    err);
		goto refused;
	}
	shell_push(sh, st, text, ebody, bodylen);
	sh->sp.secret = sh->secret;
	if (pw != NULL) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	scn_free(s);
	free(hword);
	return;
refused:
	if (op >= 0)
		sh->last_ent = -1;	/* an expect has no step to check */
	scn_free(s);
	free(text);
	free(body);
	free(ebody);
	free(hword);
}

/*
 * shell_pipeline - "pipeline" typed: the lines up to "end" are read
 * first (so that none of them runs alone), parsed as a scenario's
 * pipeline block, the message of its "data" read, and the steps go to
 * the runner together, as one group (RFC 2920). "save" writes the block
 * back as typed.
 */
void
shell_pipeline(struct shell *sh)
{
	struct scn	*s = NULL;
	struct scn_step	*st;
	char		 err[512], *block, *text, *ebody = NULL;
	const char	*l, *nl, *msg;
	size_t		 len, bodylen = 0, i;
	long		 line;
	int		 k, dline = 0;

	block = NULL;
	if (sh->tty)
		printf("** the commands, one a line (mail, rcpt, data, rset, "
		    "noop, send, expect), then a line with only \"end\"\n");
	if ((block = shell_read_body(sh, "end", "the pipeline block",
	    &len)) == NULL)
		goto refused;
	text = xasprintf("pipeline\n%send\n", block);
	s = scn_parse("shell", text, strlen(text), &sh->vars, err,
	    sizeof(err));
	free(text);
	if (s == NULL) {
		/* "shell:LINE:..." counts the "pipeline" line */
		msg = err;
		line = 0;
		if (strncmp(msg, "shell:", 6) == 0) {
			line = strtol(msg + 6, (char **)&msg, 10) - 1;
			msg += strspn(msg, ":0123456789 ");
		}
		fprintf(stderr, "!! line %ld of the pipeline block: %s; "
		    "nothing was sent\n", line, msg);
		goto refused;
	}
	if (scn_check_inputs(s, err, sizeof(err)) == -1) {
		fprintf(stderr, "!! %s; nothing was sent\n", err);
		goto refused;
	}
	if (s->nsteps == 0) {
		fprintf(stderr, "!! an empty pipeline block; nothing was "
		    "sent\n");
		goto refused;
	}
	sh->groups++;
	for (i = 0; i < s->nsteps; i++) {
		st = &s->steps[i];
		st->group = sh->groups;
		if (shell_step_data(sh, st, &ebody, &bodylen) == -1)
			goto refused;
		if (ebody != NULL && dline == 0)
			dline = st->line;	/* "data": its message read */
	}
	if (!scn_exec_session_open(sh->x)) {
		fprintf(stderr, "!! not sent: no session is open (connect "
		    "opens one)\n");
		goto refused;
	}
	switch (scn_exec_may_run(sh->x, &s->steps[0], err, sizeof(err))) {
	case SCN_GATE_OK:
		break;
	default:
		fprintf(stderr, "!! the pipeline was not sent: %s\n", err);
		goto refused;
	}
	for (i = 0; i < s->nsteps; i++)
		s->steps[i].line = (int)sh->nhist;
	if (scn_exec_push_n(sh->x, s->steps, s->nsteps) == -1) {
		fprintf(stderr, "!! the session runner is over, or this "
		    "shell would run more than %d steps (its limit); nothing "
		    "was sent\n", SCN_MAX_STEPS);
		goto refused;
	}
	/* for "save": the block's lines, the message under its "data" */
	shell_ent_add(sh, xstrdup("pipeline"), NULL, 0);
	for (l = block, k = 2; l < block + len; l = nl + 1, k++) {
		nl = memchr(l, '\n', (size_t)(block + len - l));
		if (ebody != NULL && k == dline) {
			shell_ent_add(sh, xstrndup(l, (size_t)(nl - l)), ebody,
			    bodylen);
			ebody = NULL;
		} else
			shell_ent_add(sh, xstrndup(l, (size_t)(nl - l)), NULL,
			    0);
	}
	shell_ent_add(sh, xstrdup("end"), NULL, 0);
	sh->last_ent = (ssize_t)sh->nent - 1;
	sh->last_expect = s->steps[s->nsteps - 1].expect != NULL;
	free(block);
	scn_free(s);
	shell_run(sh);
	if (!sh->done && !scn_exec_session_open(sh->x))
		printf("** the session is over; connect opens a new one\n");
	return;
refused:
	sh->last_ent = -1;
	free(block);
	free(ebody);
	scn_free(s);
}

/*
 * shell_expect - check the reply of the step above at once; the line is
 * saved after that step, where a scenario checks it
 */
void
shell_expect(struct shell *sh, const char *line)
{
	const struct scn_expect *e;
	struct scn	*s;
	char		*text, err[512], got[512];
	int		 met;

	/* parsed after a stand-in step, so that it has one to check */
	text = xasprintf("noop\n%s", line);
	s = scn_parse("shell", text, strlen(text), &sh->vars, err,
	    sizeof(err));
	free(text);
	if (s == NULL) {
		shell_parse_error(line, err, 2);
		return;
	}
	e = s->steps[0].expect;
	if (sh->last_ent < 0) {
		fprintf(stderr, "!! expect checks the step above, and the "
		    "line above sent nothing\n");
		goto out;
	}
	if (sh->last_expect) {
		fprintf(stderr, "!! the step above has an expect line "
		    "already (join the matches with \"or\")\n");
		goto out;
	}
	if ((met = scn_exec_expect(sh->x, e, got, sizeof(got))) == -1) {
		fprintf(stderr, "!! expect: no session yet\n");
		goto out;
	}
	if (met)
		printf("** expect %s: ok\n", e->spec);
	else {
		printf("!! error: expectation not met: expected %s, got %s\n",
		    e->spec, got);
		sh->expect_failed = 1;
	}
	shell_ent_add(sh, xstrdup(line), NULL, 0);
	sh->last_expect = 1;
out:
	scn_free(s);
}

/*
 * shell_save - the lines so far as a scenario file: connection steps,
 * set and expect lines as typed, a raw line as send "...", a message
 * read up to "." as a here-document (with "${" written "$${", so that
 * it reads back as typed).
 */
void
shell_save(struct shell *sh, const char *path)
{
	FILE		*fp;
	const struct shell_ent *e;
	char		 when[40], word[32], *q, *v;
	const char	*l, *nl;
	size_t		 i, k, n;
	int		 clash;

	if ((fp = fopen(path, "w")) == NULL) {
		fprintf(stderr, "!! save: %s: %s\n", path, strerror(errno));
		return;
	}
	util_utc_iso(when, sizeof(when));
	q = shell_shquote(path);
	v = shell_shquote(sh->server);
	fprintf(fp, "# desc: smtprobe shell session with %s\n"
	    "# saved by smtprobe %s shell on %s\n"
	    "# replay: smtprobe -s %s%s --scenario %s\n", sh->server,
	    PACKAGE_VERSION, when, v, sh->replay, q);
	free(q);
	free(v);
	if (sh->prompted)
		fprintf(fp, "# (the password was typed: give it to the replay "
		    "with --auth-secret-env VAR\n# or --auth-secret-file "
		    "FILE)\n");
	for (i = 0; i < sh->nsetvars; i++) {
		const char *eq = strchr(sh->setvars[i], '=');

		q = shell_quote(eq + 1, strlen(eq + 1));
		fprintf(fp, "set %.*s %s\n", (int)(eq - sh->setvars[i]),
		    sh->setvars[i], q);
		free(q);
	}
	for (i = 0; i < sh->nent; i++) {
		e = &sh->ent[i];
		if (e->body == NULL) {
			fprintf(fp, "%s\n", e->line);
			continue;
		}
		/* a word that no line of the message is */
		for (k = 0;; k++) {
			if (k == 0)
				snprintf(word, sizeof(word), "END");
			else
				snprintf(word, sizeof(word), "END%zu", k);
			clash = 0;
			for (l = e->body; l < e->body + e->bodylen && !clash;
			    l = nl + 1) {
				nl = memchr(l, '\n', (size_t)(e->body +
				    e->bodylen - l));
				n = (size_t)(nl - l);
				clash = n == strlen(word) && memcmp(l, word,
				    n) == 0;
			}
			if (!clash)
				break;
		}
		/* "data bdat" typed: the saved step keeps BDAT */
		fprintf(fp, "data %s<<%s\n", strncasecmp(e->line,
		    "data bdat", 9) == 0 ? "bdat " : "", word);
		for (k = 0; k < e->bodylen; k++) {
			if (e->body[k] == '$' && k + 1 < e->bodylen &&
			    e->body[k + 1] == '{')
				fputc('$', fp);
			fputc(e->body[k], fp);
		}
		fprintf(fp, "%s\n", word);
	}
	if (ferror(fp) | (fclose(fp) != 0)) {
		fprintf(stderr, "!! save: %s: %s\n", path, strerror(errno));
		return;
	}
	printf("** saved %zu line%s to %s\n", sh->nent, sh->nent == 1 ? "" :
	    "s", path);
}

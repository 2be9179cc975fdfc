/*
 * scn.c - the scenario parser (see include/scn.h and
 * smtprobe-scenario(5)).
 *
 * Parsing is line by line: scn_lex.c cuts a line into tokens and
 * expands their ${variables}; the first token picks a row of
 * keywords[] (scn_kw.c: the keywords and their arguments), whose parse
 * function checks the rest. This file is the driver: the lines, "set",
 * "pipeline", here-documents, the scenario object. Errors name file,
 * line and column. The runner is scn_run.c.
 *
 * Running: an exec walks the steps with a program counter. Each step
 * becomes one engine command; the engine's ready or done callback
 * judges it (its expectation, or the default policy below) and moves
 * on. Callbacks may come from inside smtp_do(), so exec_advance() is a
 * trampoline: a nested call only asks the outer loop to go round again.
 *
 * Default policy for a step without an expectation: a refused greeting,
 * EHLO/HELO, STARTTLS (unless optional), AUTH or RSET ends the session
 * politely (QUIT) and the run goes on at the next "connect"; a refused
 * MAIL skips the rest of its transaction; DATA is skipped when no
 * recipient of the transaction was accepted. A step with an expectation
 * is always sent, and only its expectation decides: met, the run goes
 * on; not met, it stops (QUIT) unless the line says "else continue".
 */
#include "config.h"

#include <sys/types.h>

#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "log.h"
#include "msg.h"
#include "scn.h"
#include "util.h"
#include "valid.h"
#include "scn_int.h"

void
expect_free(struct scn_expect *e)
{
	if (e == NULL)
		return;
	free(e->spec);
	free(e->want);
	free(e->text);
	if (e->re != NULL) {
		regfree(e->re);
		free(e->re);
	}
	free(e->vclass);
	free(e->finding);
	free(e->label);
	free(e);
}

void
scn_step_clear(struct scn_step *st)
{
	free(st->arg);
	free(st->params);
	free(st->body);
	free(st->secret_env);
	free(st->secret_file);
	expect_free(st->expect);
	memset(st, 0, sizeof(*st));
}

struct scn *
scn_new(const char *name)
{
	struct scn	*s = xcalloc(1, sizeof(*s));

	s->name = xstrdup(name);
	return s;
}

void
scn_free(struct scn *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nsteps; i++)
		scn_step_clear(&s->steps[i]);
	free(s->steps);
	for (i = 0; i < s->nfindings; i++)
		scn_finding_clear(&s->findings[i]);
	free(s->findings);
	free(s->name);
	free(s->desc);
	free(s);
}

/* expect_copy - deep copy (the regex is compiled again from spec) */
static struct scn_expect *
expect_copy(const struct scn_expect *e)
{
	struct scn_expect *c;

	if (e == NULL)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	*c = *e;
	c->spec = e->spec != NULL ? xstrdup(e->spec) : NULL;
	c->want = e->want != NULL ? xstrdup(e->want) : NULL;
	c->text = e->text != NULL ? xstrdup(e->text) : NULL;
	c->vclass = e->vclass != NULL ? xstrdup(e->vclass) : NULL;
	c->finding = e->finding != NULL ? xstrdup(e->finding) : NULL;
	c->label = e->label != NULL ? xstrdup(e->label) : NULL;
	c->re = NULL;
	if (e->re != NULL) {
		/* share nothing: recompile from the spec's regex text */
		struct lex	 lx = { "", 0, NULL, NULL, 0, 0, 0 };
		struct tok	 toks[SCN_MAX_TOKENS];
		char		 err[8];
		ssize_t		 nt, i;
		struct scn_expect tmp;

		lx.err = err;
		lx.errlen = sizeof(err);
		memset(&tmp, 0, sizeof(tmp));
		nt = lex_line(&lx, e->spec, strlen(e->spec), toks, 1);
		for (i = 0; i < nt; i++)
			if (toks[i].kind == TOK_REGEX && c->re == NULL) {
				c->re = xcalloc(1, sizeof(regex_t));
				if (regcomp(c->re, toks[i].s, REG_EXTENDED |
				    REG_ICASE | REG_NOSUB) != 0)
					fatalx("regex copy failed");
			}
		for (i = 0; i < nt; i++)
			free(toks[i].s);
	}
	return c;
}

struct scn_step *
scn_add(struct scn *s, const struct scn_step *st)
{
	struct scn_step	*n;

	if (s->nsteps >= SCN_MAX_STEPS)
		fatalx("scenario too long");
	s->steps = xreallocarray(s->steps, s->nsteps + 1, sizeof(*s->steps));
	n = &s->steps[s->nsteps++];
	*n = *st;
	n->arg = st->arg != NULL ? xstrdup(st->arg) : NULL;
	n->params = st->params != NULL ? xstrdup(st->params) : NULL;
	if (st->body != NULL) {
		/* bodylen counts the bytes; a NUL always follows them */
		n->body = xmalloc(st->bodylen + 1);
		memcpy(n->body, st->body, st->bodylen + 1);
	}
	n->secret_env = st->secret_env != NULL ? xstrdup(st->secret_env) :
	    NULL;
	n->secret_file = st->secret_file != NULL ?
	    xstrdup(st->secret_file) : NULL;
	n->expect = expect_copy(st->expect);
	return n;
}

/* heredoc_line - one here-document line with ${NAME} expanded ("$${" is
   a literal "${") */
static int
heredoc_line(struct lex *lx, const char *s, size_t n, struct util_buf *b)
{
	size_t	 i, k;

	lx->base = b->len;
	if (b->len + n > SCN_MAX_MESSAGE) {
		lex_error(lx, 0, "the here-document is longer than %d bytes",
		    SCN_MAX_MESSAGE);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (s[i] == '$' && i + 2 < n && s[i + 1] == '$' &&
		    s[i + 2] == '{') {
			util_buf_add(b, "${", 2);
			i += 2;
			continue;
		}
		if (s[i] == '$' && i + 1 < n && s[i + 1] == '{') {
			if ((k = lex_var(lx, s + i, n - i, (int)i + 1,
			    b)) == 0)
				return -1;
			i += k - 1;
			continue;
		}
		util_buf_add(b, s + i, 1);
	}
	util_buf_add(b, "\n", 1);
	return 0;
}

/* next_line - the line at *pos (without its end); advances *pos */
static const char *
next_line(const char *text, size_t len, size_t *pos, size_t *n)
{
	const char	*l = text + *pos, *nl;

	nl = memchr(l, '\n', len - *pos);
	*n = nl != NULL ? (size_t)(nl - l) : len - *pos;
	*pos += *n + (nl != NULL ? 1 : 0);
	if (*n > 0 && l[*n - 1] == '\r')
		(*n)--;
	return l;
}

/* parse_set - "set NAME VALUE": the variable, for the lines after it */
static int
parse_set(struct lex *lx, struct scn_vars *vars, struct tok *toks, size_t nt)
{
	size_t	 k;

	if (nt != 3) {
		lex_error(lx, toks[0].col, "expected: set NAME VALUE (quote a "
		    "value with spaces)");
		return -1;
	}
	for (k = 0; k < toks[1].len; k++)
		if (!isalnum((unsigned char)toks[1].s[k]) &&
		    toks[1].s[k] != '_' && toks[1].s[k] != '-')
			break;
	if (k < toks[1].len || k == 0 || k >= 64) {
		lex_error(lx, toks[1].col, "bad variable name (letters, "
		    "digits, _ and -)");
		return -1;
	}
	if (memchr(toks[2].s, '\0', toks[2].len) != NULL) {
		lex_error(lx, toks[2].col, "the value contains a NUL byte");
		return -1;
	}
	if (vars->bytes + toks[1].len + toks[2].len > SCN_MAX_VARS) {
		lex_error(lx, toks[2].col, "the variables together pass %d "
		    "bytes", SCN_MAX_VARS);
		return -1;
	}
	scn_vars_set(vars, toks[1].s, toks[2].s);
	return 0;
}

/*
 * parse_heredoc - the lines of "data << WORD" up to WORD, into the
 * step's body (st->body holds WORD on entry)
 */
int
parse_heredoc(struct lex *lx, struct scn_step *st, const char *text,
    size_t len, size_t *pos)
{
	struct util_buf	 b;
	int		 start = lx->line, ended = 0;
	char		*word = st->body;
	const char	*l;
	size_t		 n;

	memset(&b, 0, sizeof(b));
	util_buf_add(&b, "", 0);
	while (*pos < len) {
		l = next_line(text, len, pos, &n);
		lx->line++;
		if (n == strlen(word) && memcmp(l, word, n) == 0) {
			ended = 1;
			break;
		}
		if (heredoc_line(lx, l, n, &b) == -1)
			break;
	}
	if (!ended && !lx->failed) {
		lx->line = start;
		lex_error(lx, 0, "here-document not ended (expected a line "
		    "\"%s\")", word);
	}
	free(word);
	st->body = b.p;
	st->bodylen = b.len;
	return lx->failed ? -1 : 0;
}

/*
 * parse_pipeline - "pipeline" opens a group (*group its number, *open
 * its line), "end" closes it; a step inside is checked and marked
 */
static int
parse_pipeline(struct lex *lx, struct scn *s, struct tok *toks, size_t nt,
    int *group, int *open, size_t first)
{
	struct scn_step	*st;
	size_t		 i;

	if (nt > 1) {
		lex_error(lx, toks[1].col, "%s takes nothing after it",
		    toks[0].s);
		return -1;
	}
	if (strcasecmp(toks[0].s, "pipeline") == 0) {
		if (*open > 0) {
			lex_error(lx, toks[0].col, "pipeline inside the "
			    "pipeline of line %d (end it first)", *open);
			return -1;
		}
		(*group)++;
		*open = lx->line;
		return 0;
	}
	if (*open == 0) {
		lex_error(lx, toks[0].col, "end without a pipeline line "
		    "before it");
		return -1;
	}
	for (i = first; i < s->nsteps; i++) {
		st = &s->steps[i];
		if (st->op != SCN_MAIL && st->op != SCN_RCPT &&
		    st->op != SCN_DATA && st->op != SCN_RSET &&
		    st->op != SCN_NOOP && (st->op != SCN_SEND ||
		    (st->flags & SMTP_F_NOREPLY))) {
			lx->line = st->line;
			lex_error(lx, 0, "%s cannot be pipelined (in a "
			    "pipeline: mail, rcpt, data, rset, noop, send "
			    "with a reply)", scn_op_name(st->op));
			return -1;
		}
		if (st->op == SCN_DATA && i + 1 < s->nsteps) {
			lx->line = s->steps[i + 1].line;
			lex_error(lx, 0, "data ends a pipeline: nothing may "
			    "follow it before end");
			return -1;
		}
		st->group = *group;
	}
	*open = 0;
	return 0;
}

struct scn *
scn_parse(const char *name, const char *text, size_t len,
    struct scn_vars *vars, char *err, size_t errlen)
{
	struct lex	 lx;
	struct scn	*s;
	struct tok	 toks[SCN_MAX_TOKENS];
	size_t		 pos = 0, n, i, k;
	ssize_t		 nt = 0;
	const char	*l;
	int		 r, group = 0, open = 0;
	size_t		 pipe_first = 0;

	memset(&lx, 0, sizeof(lx));
	lx.file = name;
	lx.vars = vars;
	lx.err = err;
	lx.errlen = errlen;
	s = scn_new(name);
	while (pos < len && !lx.failed) {
		l = next_line(text, len, &pos, &n);
		lx.line++;
		nt = 0;
		if (n > SCN_MAX_LINE) {
			lex_error(&lx, 0, "line longer than %d bytes",
			    SCN_MAX_LINE);
			break;
		}
		if (memchr(l, '\0', n) != NULL) {
			lex_error(&lx, (int)((const char *)memchr(l, '\0', n) -
			    l) + 1, "NUL byte in the scenario");
			break;
		}
		for (i = 0; i < n && (l[i] == ' ' || l[i] == '\t'); i++)
			;
		if (i == n)
			continue;
		if (l[i] == '#') {
			if (s->desc == NULL && n - i > 7 &&
			    strncmp(l + i, "# desc:", 7) == 0) {
				for (k = i + 7; k < n && l[k] == ' '; k++)
					;
				s->desc = xstrndup(l + k, n - k);
			}
			continue;
		}
		nt = lex_line(&lx, l, n, toks, n - i >= 6 &&
		    strncasecmp(l + i, "expect", 6) == 0 && (n - i == 6 ||
		    l[i + 6] == ' ' || l[i + 6] == '\t'));
		if (nt <= 0) {
			nt = 0;
			break;
		}
		if (toks[0].kind != TOK_WORD) {
			lex_error(&lx, toks[0].col, "expected a keyword, not "
			    "a string");
			break;
		}
		if (strcasecmp(toks[0].s, "set") == 0)
			r = parse_set(&lx, vars, toks, (size_t)nt);
		else if (strcasecmp(toks[0].s, "finding") == 0)
			r = scn_parse_finding(&lx, s, toks, (size_t)nt);
		else if (strcasecmp(toks[0].s, "advice") == 0)
			r = scn_parse_advice(&lx, s, toks, (size_t)nt);
		else if (strcasecmp(toks[0].s, "pipeline") == 0 ||
		    strcasecmp(toks[0].s, "end") == 0) {
			r = parse_pipeline(&lx, s, toks, (size_t)nt, &group,
			    &open, pipe_first);
			if (r == 0 && open > 0)
				pipe_first = s->nsteps;
		}
		else if (strcasecmp(toks[0].s, "expect") == 0)
			r = parse_expect_line(&lx, s, toks, (size_t)nt, l + i,
			    n - i);
		else
			r = parse_step(&lx, s, toks, (size_t)nt, text, len,
			    &pos);
		if (r == -1)
			break;
		for (k = 0; k < (size_t)nt; k++)
			free(toks[k].s);
		nt = 0;
	}
	for (k = 0; k < (size_t)nt; k++)
		free(toks[k].s);
	if (!lx.failed && open > 0) {
		lx.line = open;
		lex_error(&lx, 0, "pipeline not ended (expected a line "
		    "\"end\")");
	}
	if (lx.failed) {
		scn_free(s);
		return NULL;
	}
	return s;
}

struct scn *
scn_load(const char *path, struct scn_vars *vars, char *err, size_t errlen)
{
	struct scn	*s;
	char		*text;
	size_t		 len;

	if (msg_read(path, &text, &len, err, errlen) == -1)
		return NULL;
	if (len > SCN_MAX_FILE) {
		snprintf(err, errlen, "%s: the scenario is larger than %d "
		    "bytes", path, SCN_MAX_FILE);
		free(text);
		return NULL;
	}
	s = scn_parse(strcmp(path, "-") == 0 ? "(stdin)" : path, text, len,
	    vars, err, errlen);
	free(text);
	if (s != NULL && scn_check_inputs(s, err, errlen) == -1) {
		scn_free(s);
		return NULL;
	}
	return s;
}

/*
 * check_secret - the secret a secret-file or secret-env names, read and
 * checked, then wiped; 0, or -1 with err (never holding the secret)
 */
static int
check_secret(const struct scn_step *st, char *err, size_t errlen)
{
	char		 why[200], *buf = NULL;
	const char	*v;
	size_t		 len = 0;
	int		 rc;

	if (st->secret_file != NULL) {
		if ((rc = msg_read(st->secret_file, &buf, &len, why,
		    sizeof(why))) == 0) {
			rc = valid_secret(buf, len, why, sizeof(why));
			OPENSSL_cleanse(buf, len);
			free(buf);
		}
		if (rc == -1)
			snprintf(err, errlen, "secret-file: %s", why);
		return rc;
	}
	if (st->secret_env == NULL)
		return 0;
	if ((v = getenv(st->secret_env)) == NULL) {
		snprintf(err, errlen, "secret-env: environment variable %.60s "
		    "is not set", st->secret_env);
		return -1;
	}
	if (valid_secret(v, strlen(v), why, sizeof(why)) == -1) {
		snprintf(err, errlen, "secret-env %.40s: %.150s", st->secret_env,
		    why);
		return -1;
	}
	return 0;
}

int
scn_check_inputs(const struct scn *s, char *err, size_t errlen)
{
	const struct scn_step *st;
	char	 why[256], *buf;
	size_t	 i, len;
	int	 rc;

	for (i = 0; i < s->nsteps; i++) {
		st = &s->steps[i];
		rc = 0;
		if (st->op == SCN_DATA && st->data == SCN_DATA_FILE) {
			buf = NULL;
			len = 0;
			if ((rc = msg_read(st->body, &buf, &len, why,
			    sizeof(why))) == 0)
				rc = valid_message(buf, len, "the data file",
				    why, sizeof(why));
			free(buf);
		} else if (st->op == SCN_AUTH)
			rc = check_secret(st, why, sizeof(why));
		if (rc == -1) {
			snprintf(err, errlen, "%s:%d: %s", s->name, st->line,
			    why);
			return -1;
		}
	}
	return 0;
}

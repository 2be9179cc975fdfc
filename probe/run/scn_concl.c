/*
 * scn_concl.c - a scenario's named conclusions (the "finding" and
 * "advice" lines of smtprobe-scenario(5)): their parsing, which server
 * answered, the advice for it, and the finding and conclusion a
 * session's record gets.
 *
 * The runner (scn_run.c) calls scn_conclude() when an expectation with
 * "else finding NAME" is not met, or after the fact when a smuggling
 * probe's step turns out to have been answered twice, and
 * scn_conclude_pass() when a session ends with everything met.
 */
#include "config.h"

#include <sys/types.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "record.h"
#include "scn.h"
#include "util.h"
#include "scn_int.h"

static const char *const server_names[SCN_SRV__COUNT] = {
	[SCN_SRV_ANY] = "",
	[SCN_SRV_POSTFIX] = "postfix",
	[SCN_SRV_EXIM] = "exim",
	[SCN_SRV_OPENSMTPD] = "opensmtpd",
	[SCN_SRV_SENDMAIL] = "sendmail",
	[SCN_SRV_EXCHANGE] = "exchange",
};

const char *
scn_server_name(enum scn_server srv)
{
	return srv >= 0 && srv < SCN_SRV__COUNT ? server_names[srv] : "";
}

/* finding_get - the finding named name, to add advice to, or NULL */
static struct scn_finding *
finding_get(struct scn *s, const char *name)
{
	size_t	 i;

	for (i = 0; i < s->nfindings; i++)
		if (strcmp(s->findings[i].name, name) == 0)
			return &s->findings[i];
	return NULL;
}

const struct scn_finding *
scn_finding_find(const struct scn *s, const char *name)
{
	size_t	 i;

	for (i = 0; i < s->nfindings; i++)
		if (strcmp(s->findings[i].name, name) == 0)
			return &s->findings[i];
	return NULL;
}

void
scn_finding_clear(struct scn_finding *f)
{
	size_t	 k;

	free(f->name);
	free(f->class);
	free(f->title);
	for (k = 0; k < SCN_SRV__COUNT; k++)
		free(f->advice[k]);
	memset(f, 0, sizeof(*f));
}

void
scn_findings_copy(struct scn *dst, const struct scn *src)
{
	const struct scn_finding *f;
	struct scn_finding *n;
	size_t	 i, k;

	for (i = 0; i < src->nfindings; i++) {
		f = &src->findings[i];
		dst->findings = xreallocarray(dst->findings,
		    dst->nfindings + 1, sizeof(*dst->findings));
		n = &dst->findings[dst->nfindings++];
		*n = *f;
		n->name = xstrdup(f->name);
		n->class = xstrdup(f->class);
		n->title = xstrdup(f->title);
		for (k = 0; k < SCN_SRV__COUNT; k++)
			n->advice[k] = f->advice[k] != NULL ?
			    xstrdup(f->advice[k]) : NULL;
	}
}


/* finding_name_ok - a finding's name: letters, digits and "-", 1-40 */
static int
finding_name_ok(const struct tok *t)
{
	size_t	 k;

	if (t->kind != TOK_WORD || t->len == 0 || t->len > 40)
		return 0;
	for (k = 0; k < t->len; k++)
		if (!isalnum((unsigned char)t->s[k]) && t->s[k] != '-')
			return 0;
	return 1;
}

/*
 * scn_parse_finding - "finding NAME CLASS SEVERITY "TITLE" [pass]": a named
 * conclusion that "expect ... else finding NAME" (or, with pass, a
 * session that passed) reaches
 */
int
scn_parse_finding(struct lex *lx, struct scn *s, struct tok *t, size_t n)
{
	static const char *const levels[] = { "info", "warning", "error" };
	struct scn_finding f;
	size_t	 k, lv;

	const struct scn_finding *like = NULL;
	const char	*cls;

	if (n == 7 && strcasecmp(t[5].s, "like") == 0) {
		if ((like = scn_finding_find(s, t[6].s)) == NULL) {
			lex_error(lx, t[6].col, "no finding \"%.40s\" above",
			    t[6].s);
			return -1;
		}
		n = 5;
	}
	if (n != 5 && n != 6) {
		lex_error(lx, t[0].col, "expected: finding NAME CLASS "
		    "SEVERITY \"TITLE\" [pass | like NAME]");
		return -1;
	}
	if (!finding_name_ok(&t[1])) {
		lex_error(lx, t[1].col, "bad finding name (letters, digits "
		    "and -, at most 40)");
		return -1;
	}
	if (scn_finding_find(s, t[1].s) != NULL) {
		lex_error(lx, t[1].col, "finding \"%s\" is declared twice",
		    t[1].s);
		return -1;
	}
	cls = scn_class_word(t[2].s);
	if (cls == NULL && strcasecmp(t[2].s, "reply") != 0) {
		lex_error(lx, t[2].col, "unknown class \"%.40s\" (expected "
		    "reply, or accepted ip helo sender recipient relay content "
		    "auth tls "
		    "rate greylist policy server network protocol)", t[2].s);
		return -1;
	}
	for (lv = 0; lv < nitems(levels); lv++)
		if (strcasecmp(t[3].s, levels[lv]) == 0)
			break;
	if (lv == nitems(levels)) {
		lex_error(lx, t[3].col, "unknown severity \"%.40s\" "
		    "(expected info, warning or error)", t[3].s);
		return -1;
	}
	if (t[4].kind != TOK_STRING || t[4].len == 0 ||
	    tok_text(lx, &t[4], "the title") == -1) {
		if (!lx->failed)
			lex_error(lx, t[4].col, "the title is a non-empty "
			    "\"quoted string\"");
		return -1;
	}
	if (n == 6 && strcasecmp(t[5].s, "pass") != 0) {
		lex_error(lx, t[5].col, "unexpected \"%.40s\" (expected "
		    "pass)", t[5].s);
		return -1;
	}
	memset(&f, 0, sizeof(f));
	f.name = xstrdup(t[1].s);
	f.class = xstrdup(cls != NULL ? cls : "reply");
	f.level = (int)lv;
	f.title = xstrdup(t[4].s);
	f.pass = n == 6;
	f.line = lx->line;
	for (k = 0; like != NULL && k < SCN_SRV__COUNT; k++)
		f.advice[k] = like->advice[k] != NULL ?
		    xstrdup(like->advice[k]) : NULL;
	s->findings = xreallocarray(s->findings, s->nfindings + 1,
	    sizeof(*s->findings));
	s->findings[s->nfindings++] = f;
	return 0;
}

/* scn_parse_advice - "advice NAME [SERVER] "TEXT"": a declared finding's */
int
scn_parse_advice(struct lex *lx, struct scn *s, struct tok *t, size_t n)
{
	struct scn_finding *f;
	size_t	 srv = SCN_SRV_ANY;

	if (n != 3 && n != 4) {
		lex_error(lx, t[0].col, "expected: advice NAME [postfix | "
		    "exim | opensmtpd | sendmail | exchange] \"TEXT\"");
		return -1;
	}
	f = finding_get(s, t[1].s);
	if (f == NULL) {
		lex_error(lx, t[1].col, "no finding \"%.40s\" above", t[1].s);
		return -1;
	}
	if (n == 4) {
		for (srv = 1; srv < SCN_SRV__COUNT; srv++)
			if (strcasecmp(t[2].s, server_names[srv]) == 0)
				break;
		if (srv == SCN_SRV__COUNT || t[2].kind != TOK_WORD) {
			lex_error(lx, t[2].col, "unknown server \"%.40s\" "
			    "(expected postfix, exim, opensmtpd, sendmail or "
			    "exchange)", t[2].s);
			return -1;
		}
	}
	if (t[n - 1].kind != TOK_STRING || t[n - 1].len == 0 ||
	    tok_text(lx, &t[n - 1], "the advice") == -1) {
		if (!lx->failed)
			lex_error(lx, t[n - 1].col, "the advice is a "
			    "non-empty \"quoted string\"");
		return -1;
	}
	if (f->advice[srv] != NULL) {
		lex_error(lx, t[0].col, "a second advice for \"%s\"%s%s",
		    f->name, srv ? " and " : "", server_names[srv]);
		return -1;
	}
	f->advice[srv] = xstrdup(t[n - 1].s);
	return 0;
}

/* words in the greeting or EHLO reply that name the server software */
static const struct {
	const char	*word;
	enum scn_server	 srv;
} server_words[] = {
	{ "postfix", SCN_SRV_POSTFIX },
	{ "exim", SCN_SRV_EXIM },
	{ "opensmtpd", SCN_SRV_OPENSMTPD },
	{ "sendmail", SCN_SRV_SENDMAIL },
	{ "microsoft esmtp", SCN_SRV_EXCHANGE },
	{ "exchange", SCN_SRV_EXCHANGE },
};

static const char *const server_labels[SCN_SRV__COUNT] = {
	[SCN_SRV_ANY] = "",
	[SCN_SRV_POSTFIX] = "Postfix",
	[SCN_SRV_EXIM] = "Exim",
	[SCN_SRV_OPENSMTPD] = "OpenSMTPD",
	[SCN_SRV_SENDMAIL] = "Sendmail",
	[SCN_SRV_EXCHANGE] = "Exchange",
};

enum scn_server
scn_server_of(const struct record *r)
{
	const struct step *st;
	size_t	 i, k, w;

	for (i = 0; i < r->nsteps; i++) {
		st = &r->steps[i];
		if ((st->stage != STAGE_BANNER && st->stage != STAGE_EHLO) ||
		    st->reply == NULL)
			continue;
		for (k = 0; k < st->reply->nlines; k++)
			for (w = 0; w < nitems(server_words); w++)
				if (strcasestr(st->reply->lines[k],
				    server_words[w].word) != NULL)
					return server_words[w].srv;
	}
	return SCN_SRV_ANY;
}

char *
scn_advice(const struct scn_finding *f, enum scn_server srv)
{
	struct util_buf	 b;
	size_t		 k;

	memset(&b, 0, sizeof(b));
	util_buf_add(&b, "", 0);
	if (f->advice[SCN_SRV_ANY] != NULL)
		util_buf_str(&b, f->advice[SCN_SRV_ANY]);
	for (k = 1; k < SCN_SRV__COUNT; k++) {
		/* the server that answered, or every one when unknown */
		if (f->advice[k] == NULL || (srv != SCN_SRV_ANY && k != srv))
			continue;
		if (b.len > 0)
			util_buf_str(&b, " ");
		util_buf_str(&b, server_labels[k]);
		if (srv != SCN_SRV_ANY)
			util_buf_str(&b, " (the server says it is)");
		util_buf_str(&b, ": ");
		util_buf_str(&b, f->advice[k]);
	}
	util_buf_add(&b, "", 1);
	return b.p;
}

void
scn_conclude(struct record *r, const struct scn_finding *f,
    const struct step *ps, enum smtp_stage stage, const char *what)
{
	struct record_concl c;
	size_t		 k;

	record_add_finding(r, (enum finding_level)f->level, f->name,
	    ps != NULL ? ps->stage : stage, "%s: %s", f->title, what);
	memset(&c, 0, sizeof(c));
	c.name = f->name;
	c.class = f->class;
	c.level = (enum finding_level)f->level;
	c.title = f->title;
	c.stage = ps != NULL ? ps->stage : stage;
	if (ps != NULL && ps->reply != NULL) {
		c.code = ps->reply->code;
		snprintf(c.enhanced, sizeof(c.enhanced), "%s",
		    ps->reply->enhanced);
	}
	/* the greeting is searched only when some advice names a server */
	for (k = 1; k < SCN_SRV__COUNT && f->advice[k] == NULL; k++)
		;
	c.advice = scn_advice(f, k < SCN_SRV__COUNT ? scn_server_of(r) :
	    SCN_SRV_ANY);
	record_conclude(r, &c);
	free(c.advice);
}

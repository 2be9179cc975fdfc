/*
 * scn_concl.c - a scenario's named conclusions (the "finding" lines of
 * smtprobe-scenario(5)): which server answered, the advice for it, and
 * the finding and conclusion a session's record gets.
 *
 * The runner (scn_run.c) calls scn_conclude() when an expectation with
 * "else finding NAME" is not met, or after the fact when a smuggling
 * probe's step turns out to have been answered twice, and
 * scn_conclude_pass() when a session ends with everything met.
 */
#include "config.h"

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "scn.h"
#include "util.h"
#include "scn_int.h"

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
	c.advice = scn_advice(f, scn_server_of(r));
	record_conclude(r, &c);
	free(c.advice);
}

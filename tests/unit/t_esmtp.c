/*
 * t_esmtp.c - the ESMTP parameters of MAIL and RCPT against an EHLO
 * reply: what is sent, what is left out with a warning, what stops the
 * transaction (REQUIRETLS, a non-ASCII local part, 8-bit bytes given
 * as they are), A-labels, xtext and the option checks.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "esmtp.h"
#include "record.h"
#include "tap.h"
#include "util.h"

/* ehlo_of - an EHLO reply with the keywords of kw (NULL-terminated) */
static struct ehlo *
ehlo_of(const char *const *kw, const char *const *params)
{
	struct ehlo	*e = calloc(1, sizeof(*e));
	size_t		 i;

	for (i = 0; kw[i] != NULL; i++)
		;
	e->domain = strdup("mx.test");
	e->ext = calloc(i + 1, sizeof(*e->ext));
	for (e->next = 0; kw[e->next] != NULL; e->next++) {
		e->ext[e->next].keyword = strdup(kw[e->next]);
		e->ext[e->next].params = strdup(params[e->next]);
	}
	return e;
}

/* has_finding - 1 if rec holds a finding of kind */
static int
has_finding(const struct record *rec, const char *kind)
{
	size_t	 i;

	for (i = 0; i < rec->nfindings; i++)
		if (strcmp(rec->findings[i].kind, kind) == 0)
			return 1;
	return 0;
}

int
main(void)
{
	static const char *const allkw[] = { "SIZE", "8BITMIME", "DSN",
	    "SMTPUTF8", "REQUIRETLS", NULL };
	static const char *const allpa[] = { "1000", "", "", "", "" };
	static const char *const nonekw[] = { "PIPELINING", NULL };
	static const char *const nonepa[] = { "" };
	struct ehlo	*all = ehlo_of(allkw, allpa);
	struct ehlo	*none = ehlo_of(nonekw, nonepa);
	const char	*rcpt[] = { "u@b\xc3\xbc" "cher.test" };
	const char	*jrcpt[] = { "j\xc3\xb6@y.test" };
	struct esmtp_opts o;
	struct esmtp_txn t;
	struct esmtp_mail m;
	struct record	*rec;
	char		 err[512] = "", *path, *params, *x;
	int		 rc;

	/* everything offered, everything asked for */
	memset(&o, 0, sizeof(o));
	o.size = 5000;
	o.notify = ESMTP_N_SUCCESS | ESMTP_N_FAILURE;
	o.ret = 2;
	o.envid = "a+b=c d";
	o.orcpt = 1;
	o.requiretls = 1;
	memset(&t, 0, sizeof(t));
	t.from = "a@x.test";
	t.rcpt = rcpt;
	t.nrcpt = 1;
	t.body = ESMTP_BODY_BUILT8;
	rec = record_new();
	rc = esmtp_mail(&o, all, 1, &t, rec, &m, err, sizeof(err));
	ok(rc == 0 && strcmp(m.params,
	    "BODY=8BITMIME SMTPUTF8 SIZE=5000 RET=HDRS "
	    "ENVID=a+2Bb+3Dc+20d REQUIRETLS") == 0 && m.utf8 && m.eightbit &&
	    !m.qp, "MAIL: every parameter when offered (%s)",
	    m.params != NULL ? m.params : err);
	ok(has_finding(rec, "size-over-limit"), "SIZE over the EHLO limit "
	    "is sent, with size-over-limit");
	esmtp_mail_clear(&m);
	ok(esmtp_rcpt(&o, all, 1, rcpt[0], NULL, rec, &path, &params, err,
	    sizeof(err)) == 0 && strcmp(path, rcpt[0]) == 0 &&
	    strcmp(params, "NOTIFY=SUCCESS,FAILURE ORCPT=utf-8;u@b\xc3\xbc"
	    "cher.test") == 0, "RCPT with SMTPUTF8: NOTIFY, utf-8 ORCPT");
	free(path);
	free(params);
	ok(esmtp_rcpt(&o, all, 0, "x+1@y.test", "NOTIFY=NEVER", rec, &path,
	    &params, err, sizeof(err)) == 0 && strcmp(params,
	    "NOTIFY=NEVER ORCPT=rfc822;x+2B1@y.test") == 0,
	    "RCPT: the user's NOTIFY kept, not doubled; ORCPT xtext");
	free(path);
	free(params);
	record_free(rec);

	/* REQUIRETLS: never in plaintext, never when not offered */
	rec = record_new();
	ok(esmtp_mail(&o, all, 0, &t, rec, &m, err, sizeof(err)) == -1 &&
	    has_finding(rec, "requiretls-no-tls"),
	    "REQUIRETLS without TLS: refused before MAIL");
	ok(esmtp_mail(&o, none, 1, &t, rec, &m, err, sizeof(err)) == -1 &&
	    has_finding(rec, "requiretls-not-offered"),
	    "REQUIRETLS not offered: refused before MAIL");
	record_free(rec);

	/* nothing offered: left out with warnings, A-labels, QP */
	o.requiretls = 0;
	o.eightbit = 1;
	rec = record_new();
	ok(esmtp_mail(&o, none, 0, &t, rec, &m, err, sizeof(err)) == 0 &&
	    strcmp(m.params, "") == 0 && m.qp && !m.utf8,
	    "nothing offered: no parameter, the body goes quoted-printable");
	ok(has_finding(rec, "esmtp-not-offered") &&
	    has_finding(rec, "idn-a-label") &&
	    has_finding(rec, "body-quoted-printable"),
	    "esmtp-not-offered, idn-a-label, body-quoted-printable");
	esmtp_mail_clear(&m);
	ok(esmtp_rcpt(&o, none, 0, rcpt[0], NULL, rec, &path, &params, err,
	    sizeof(err)) == 0 && strcmp(path, "u@xn--bcher-kva.test") == 0 &&
	    strcmp(params, "") == 0, "RCPT: A-label, no DSN parameter");
	free(path);
	free(params);
	record_free(rec);

	/* a non-ASCII local part cannot go without SMTPUTF8 */
	rec = record_new();
	t.rcpt = jrcpt;
	rc = esmtp_mail(&o, none, 0, &t, rec, &m, err, sizeof(err));
	ok(rc == -1 && has_finding(rec, "smtputf8-not-offered") &&
	    strstr(err, "SMTPUTF8") != NULL,
	    "non-ASCII local part, no SMTPUTF8: refused (%s)", err);
	ok(esmtp_rcpt(&o, all, 0, jrcpt[0], NULL, rec, &path, &params, err,
	    sizeof(err)) == -1, "RCPT: a non-ASCII local part after a MAIL "
	    "without SMTPUTF8 is refused");
	record_free(rec);

	/* 8-bit bytes given as they are */
	rec = record_new();
	memset(&o, 0, sizeof(o));
	t.rcpt = NULL;
	t.nrcpt = 0;
	t.body = ESMTP_BODY_RAW8;
	ok(esmtp_mail(&o, none, 0, &t, rec, &m, err, sizeof(err)) == -1 &&
	    has_finding(rec, "eightbit-not-offered") &&
	    strstr(err, "--raw-message") != NULL,
	    "raw 8-bit message, no 8BITMIME: refused, --raw-message named");
	o.raw_message = 1;
	ok(esmtp_mail(&o, none, 0, &t, rec, &m, err, sizeof(err)) == 0 &&
	    has_finding(rec, "eightbit-raw-sent") && strcmp(m.params, "") == 0,
	    "with --raw-message: sent, with a warning");
	esmtp_mail_clear(&m);
	t.params = "BODY=7BIT SIZE=10";
	o.size = 20;
	ok(esmtp_mail(&o, all, 0, &t, rec, &m, err, sizeof(err)) == 0 &&
	    strcmp(m.params, "BODY=7BIT SIZE=10") == 0,
	    "the user's own BODY and SIZE are sent as written, not doubled");
	esmtp_mail_clear(&m);
	record_free(rec);

	/* --size auto: added once known, only when offered */
	rec = record_new();
	memset(&m, 0, sizeof(m));
	m.params = strdup("BODY=8BITMIME");
	esmtp_mail_size(&m, all, NULL, 4000, rec);
	ok(strcmp(m.params, "BODY=8BITMIME SIZE=4000") == 0 &&
	    has_finding(rec, "size-over-limit"),
	    "auto size appended, over the limit noted");
	esmtp_mail_size(&m, none, NULL, 10, rec);
	ok(strcmp(m.params, "BODY=8BITMIME SIZE=4000") == 0 &&
	    !has_finding(rec, "esmtp-not-offered"),
	    "auto size not offered: nothing, no warning");
	esmtp_mail_clear(&m);
	m.params = strdup("SIZE=1");
	esmtp_mail_size(&m, all, "SIZE=1", 10, rec);
	ok(strcmp(m.params, "SIZE=1") == 0, "the user's SIZE wins");
	esmtp_mail_clear(&m);
	record_free(rec);

	/* option checks */
	ok(esmtp_notify_parse("success,Failure,DELAY", err, sizeof(err)) ==
	    (ESMTP_N_SUCCESS | ESMTP_N_FAILURE | ESMTP_N_DELAY),
	    "NOTIFY list, any case");
	ok(esmtp_notify_parse("never,success", err, sizeof(err)) == 0 &&
	    strstr(err, "NEVER") != NULL, "NEVER with another value refused");
	ok(esmtp_notify_parse("sometimes", err, sizeof(err)) == 0 &&
	    strstr(err, "SUCCESS") != NULL, "unknown NOTIFY value refused");
	ok(esmtp_envid_check("abc", err, sizeof(err)) == 0 &&
	    esmtp_envid_check("a\xc3\xa9", err, sizeof(err)) == -1 &&
	    esmtp_envid_check("", err, sizeof(err)) == -1,
	    "ENVID: printable ASCII, not empty");
	x = util_xtext("a=b+c\x01");
	ok(strcmp(x, "a+3Db+2Bc+01") == 0, "xtext");
	free(x);
	reply_ehlo_free(all);
	reply_ehlo_free(none);
	return tap_done();
}

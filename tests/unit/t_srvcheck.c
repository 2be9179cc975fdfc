/*
 * t_srvcheck.c - the server-check and timing findings (srvcheck.h) on
 * records built by hand: replies, DNS facts and step times are made up,
 * so that RFC 5321's minutes and a slow greeting need no waiting.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "log.h"
#include "record.h"
#include "reply.h"
#include "srvcheck.h"
#include "tap.h"

/* step - a step of stage with reply lines (NULL-terminated), times in ms */
static struct step *
step(struct record *r, enum smtp_stage stage, const char *cmd, int tls,
    int64_t sent_ms, int64_t first_ms, ...)
{
	struct step	*st = record_add_step(r, stage, sent_ms * 1000);
	const char	*line, *err;
	va_list		 ap;

	st->command = cmd != NULL ? xstrdup(cmd) : NULL;
	st->tls = tls;
	st->t_first = first_ms * 1000;
	st->t_done = first_ms * 1000;
	st->reply = reply_new();
	va_start(ap, first_ms);
	while ((line = va_arg(ap, const char *)) != NULL)
		reply_feed(st->reply, line, strlen(line), 0, &err);
	va_end(ap);
	st->outcome = st->reply->code / 100 == 2 ? OUT_OK :
	    st->reply->code / 100 == 4 ? OUT_TEMPFAIL : OUT_PERMFAIL;
	return st;
}

/* has - the finding of kind, or NULL */
static const struct finding *
has(const struct record *r, const char *kind)
{
	size_t	 i;

	for (i = 0; i < r->nfindings; i++)
		if (strcmp(r->findings[i].kind, kind) == 0)
			return &r->findings[i];
	return NULL;
}

/* item - add a check item to c */
static void
item(struct check_result *c, const char *name, const char *zone,
    const char *answer, enum check_status st)
{
	struct check_item *it;

	c->items = xreallocarray(c->items, c->nitems + 1, sizeof(*c->items));
	it = &c->items[c->nitems++];
	memset(it, 0, sizeof(*it));
	it->name = name;
	it->subject = xstrdup("192.0.2.10");
	it->zone = zone != NULL ? xstrdup(zone) : NULL;
	it->answer = answer != NULL ? xstrdup(answer) : NULL;
	it->status = st;
	it->evidence = xstrdup("evidence");
}

static void
test_leaky(void)
{
	struct record	*r = record_new();
	struct check_result *c = xcalloc(1, sizeof(*c));
	struct srvcheck_params p = { "25", "192.0.2.10", 0, c };
	const struct finding *f;

	step(r, STAGE_BANNER, NULL, 0, 0, 5,
	    "220 mx.example.org ESMTP Exim 4.96 Thu, 3 Dec 2026", NULL);
	step(r, STAGE_EHLO, "EHLO probe.test", 0, 5, 6,
	    "250-other.example.org Hello", "250-PIPELINING",
	    "250 AUTH PLAIN LOGIN", NULL);
	step(r, STAGE_VRFY, "VRFY " SRVCHECK_FAKE_USER, 0, 6, 7,
	    "550 5.1.1 unknown user", NULL);
	step(r, STAGE_VRFY, "VRFY postmaster", 0, 7, 8,
	    "252 2.0.0 postmaster", NULL);
	step(r, STAGE_RAW, "EXPN " SRVCHECK_FAKE_LIST, 0, 8, 9,
	    "250 2.1.5 <a@example.org>", NULL);
	item(c, "ptr", NULL, "mx.example.org", CHECK_PASS);
	item(c, "fcrdns", NULL, "mx.example.org", CHECK_PASS);
	item(c, "dnsbl", "zen.dnsbl.test", "127.0.0.2", CHECK_FAIL);
	item(c, "dnsbl", "bl.dnsbl.test", "127.255.255.254", CHECK_ERROR);

	ok(srvcheck_judge(r, &p) == 3, "listed, AUTH in the clear, no "
	    "STARTTLS on port 25: three errors");
	ok((f = has(r, "server-dnsbl-listed")) != NULL &&
	    f->level == FIND_ERROR && strstr(f->detail, "zen.dnsbl.test") !=
	    NULL, "a listing is an error naming the list");
	ok((f = has(r, "server-dnsbl-unusable")) != NULL &&
	    f->level == FIND_INFO, "an error answer is never a listing");
	ok(has(r, "banner-name") == NULL, "the greeting's name is the PTR");
	ok((f = has(r, "ehlo-name")) != NULL && f->level == FIND_WARN &&
	    strstr(f->detail, "other.example.org") != NULL,
	    "the EHLO name is not the PTR: warning");
	ok((f = has(r, "version-leak")) != NULL && f->level == FIND_WARN &&
	    strstr(f->detail, "Exim 4.96") != NULL,
	    "Exim 4.96 in the greeting is a version leak");
	ok((f = has(r, "vrfy-harvest")) != NULL && f->level == FIND_WARN,
	    "VRFY: unknown user 550, postmaster 252: real ones told apart");
	ok((f = has(r, "expn-enabled")) != NULL, "EXPN answered 250");
	ok((f = has(r, "auth-plaintext")) != NULL &&
	    f->level == FIND_ERROR && strstr(f->detail, "PLAIN LOGIN") !=
	    NULL, "AUTH before STARTTLS is an error");
	ok((f = has(r, "starttls-missing")) != NULL &&
	    f->level == FIND_ERROR, "port 25 without STARTTLS is an error");
	ok(has(r, "server-ptr-missing") == NULL &&
	    has(r, "server-fcrdns") == NULL, "PTR and FCrDNS fine: silent");
	record_free(r);
	check_result_free(c);
}

static void
test_clean(void)
{
	struct record	*r = record_new();
	struct check_result *c = xcalloc(1, sizeof(*c));
	struct srvcheck_params p = { "25", "203.0.113.7", 0, c };
	const struct finding *f;

	step(r, STAGE_BANNER, NULL, 0, 0, 5, "220 mx.example.org ESMTP",
	    NULL);
	step(r, STAGE_EHLO, "EHLO probe.test", 0, 5, 6,
	    "250-mx.example.org", "250 STARTTLS", NULL);
	step(r, STAGE_EHLO, "EHLO probe.test", 1, 7, 8,
	    "250-mx.example.org", "250 AUTH PLAIN", NULL);
	step(r, STAGE_VRFY, "VRFY " SRVCHECK_FAKE_USER, 1, 8, 9,
	    "252 2.0.0 Cannot VRFY user", NULL);
	step(r, STAGE_VRFY, "VRFY postmaster", 1, 9, 10,
	    "252 2.0.0 Cannot VRFY user", NULL);
	step(r, STAGE_RAW, "EXPN " SRVCHECK_FAKE_LIST, 1, 10, 11,
	    "502 5.5.1 EXPN not available", NULL);
	item(c, "ptr", NULL, NULL, CHECK_FAIL);
	item(c, "fcrdns", NULL, NULL, CHECK_FAIL);

	ok(srvcheck_judge(r, &p) == 0, "STARTTLS, AUTH only under TLS, "
	    "VRFY 252, EXPN 502: no error");
	ok(has(r, "auth-plaintext") == NULL && has(r, "starttls-missing") ==
	    NULL && has(r, "vrfy-harvest") == NULL && has(r,
	    "expn-enabled") == NULL, "nothing about AUTH, STARTTLS, VRFY, "
	    "EXPN");
	ok((f = has(r, "server-ptr-missing")) != NULL &&
	    f->level == FIND_WARN, "no PTR: warning");
	ok(has(r, "server-fcrdns") == NULL, "no PTR: nothing to confirm");
	ok((f = has(r, "software-named")) == NULL && has(r,
	    "version-leak") == NULL, "\"ESMTP\" names no software");
	record_free(r);
	check_result_free(c);

	r = record_new();
	p = (struct srvcheck_params){ "2525", "127.0.0.1", 1, NULL };
	step(r, STAGE_BANNER, NULL, 0, 0, 5, "220 localhost ESMTP Postfix",
	    NULL);
	step(r, STAGE_EHLO, "EHLO probe.test", 0, 5, 6, "250 localhost",
	    NULL);
	ok(srvcheck_judge(r, &p) == 0, "another port without STARTTLS: "
	    "not an error");
	ok((f = has(r, "starttls-missing")) != NULL && f->level == FIND_WARN,
	    "but a warning");
	ok(has(r, "server-ip-private") != NULL, "a private address: said, "
	    "no lookups");
	ok((f = has(r, "banner-name")) != NULL && strstr(f->detail,
	    "localhost") != NULL, "a greeting without an FQDN");
	ok((f = has(r, "software-named")) != NULL && f->level == FIND_INFO,
	    "\"Postfix\" without a version: info only");
	record_free(r);
}

static void
test_versions(void)
{
	static const struct {
		const char	*text;
		int		 want;
		const char	*what;
	} t[] = {
		{ "mx.example.org ESMTP Postfix (Debian/GNU)", 1,
		    "Postfix (Debian/GNU)" },
		{ "mx.example.org ESMTP Postfix (Ubuntu)", 1,
		    "Postfix (Ubuntu)" },
		{ "mx.example.org ESMTP Exim 4.96 Thu, 03 Dec 2026", 1,
		    "Exim 4.96" },
		{ "mx.example.org ESMTP Sendmail 8.17.1/8.17.1; Thu", 1,
		    "Sendmail 8.17.1/8.17.1" },
		{ "ex.example.org Microsoft ESMTP MAIL Service, Version: "
		    "10.0.17763.1697 ready", 1,
		    "Microsoft ESMTP MAIL Service 10.0.17763.1697" },
		{ "mx.example.org ESMTP Postfix", 0, "Postfix" },
		{ "mx.example.org ESMTP Postfix (smtprobe interop)", 0,
		    "Postfix" },
		{ "mx.example.org ESMTP OpenSMTPD", 0, "OpenSMTPD" },
		{ "mx.example.org ESMTP ready", -1, "" },
		{ "mx.example.org ESMTP Postfixed 3.1", -1, "" },
		{ "mx.example.org Haraka/2.8.28 ready", 1, "Haraka 2.8.28" }
	};
	char	 what[128];
	size_t	 i;
	int	 v;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		what[0] = '\0';
		v = srvcheck_version(t[i].text, what, sizeof(what));
		ok(v == t[i].want && (v < 0 || strcmp(what, t[i].what) == 0),
		    "\"%s\": %d \"%s\" (want %d \"%s\")", t[i].text, v, what,
		    t[i].want, t[i].what);
	}
}

static void
test_timing(void)
{
	struct record	*r = record_new();
	const struct finding *f;

	step(r, STAGE_BANNER, NULL, 0, 0, 12500, "220 mx.example.org", NULL);
	step(r, STAGE_EHLO, "EHLO probe.test", 0, 12500, 12600,
	    "250 mx.example.org", NULL);
	step(r, STAGE_MAIL, "MAIL FROM:<>", 0, 12600, 12700, "250 ok",
	    NULL);
	step(r, STAGE_RCPT, "RCPT TO:<a@b.example>", 0, 12700,
	    12700 + 6 * 60 * 1000, "250 ok", NULL);
	step(r, STAGE_DATA, "DATA", 0, 400000, 400000 + 119 * 1000,
	    "354 go", NULL);
	srvcheck_timing(r, 10000);
	ok((f = has(r, "slow-banner")) != NULL && f->level == FIND_WARN &&
	    strstr(f->detail, "12.5 s") != NULL,
	    "a greeting after 12.5 s with --slow-banner 10: warning");
	ok((f = has(r, "rfc-timeout")) != NULL && f->stage == STAGE_RCPT &&
	    strstr(f->detail, "5 minutes") != NULL,
	    "RCPT answered after 6 minutes: past RFC 5321's 5");
	ok(r->nfindings == 2, "DATA after 119 s is within 2 minutes");
	record_free(r);

	r = record_new();
	step(r, STAGE_BANNER, NULL, 0, 0, 12500, "220 mx.example.org", NULL);
	srvcheck_timing(r, 0);
	ok(r->nfindings == 0, "--slow-banner 0: never");
	record_free(r);
	r = record_new();
	step(r, STAGE_BANNER, NULL, 0, 0, 9900, "220 mx.example.org", NULL);
	srvcheck_timing(r, 10000);
	ok(r->nfindings == 0, "9.9 s is not slower than 10 s");
	record_free(r);
}

int
main(void)
{
	log_init("t_srvcheck", 0);
	test_leaky();
	test_clean();
	test_versions();
	test_timing();
	return tap_done();
}

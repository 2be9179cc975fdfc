/*
 * t_reply.c - reply parsing and EHLO keyword tests, table-driven.
 * Each case feeds raw lines and states the expected status, code,
 * enhanced code and number of lines.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "tap.h"

struct rcase {
	const char	*name;
	const char	*lines[6];	/* raw lines, NULL ends */
	int		 bare_lf;
	enum reply_status want;
	int		 code;
	const char	*enhanced;
	size_t		 nlines;
};

static const struct rcase cases[] = {
	{ "single line", { "250 OK" }, 0, REPLY_DONE, 250, "", 1 },
	{ "bare code", { "250" }, 0, REPLY_DONE, 250, "", 1 },
	{ "enhanced code", { "550 5.1.1 <a@b>: User unknown" }, 0,
	    REPLY_DONE, 550, "5.1.1", 1 },
	{ "enhanced 3-digit parts", { "550 5.7.606 Access denied" }, 0,
	    REPLY_DONE, 550, "5.7.606", 1 },
	{ "enhanced class mismatch ignored", { "550 2.1.0 odd" }, 0,
	    REPLY_DONE, 550, "", 1 },
	{ "not enhanced: version number", { "220 mx ESMTP Postfix 3.7.1" },
	    0, REPLY_DONE, 220, "", 1 },
	{ "not enhanced: 4 digit part", { "550 5.1.1234 x" }, 0, REPLY_DONE,
	    550, "", 1 },
	{ "multi-line", { "250-mx.test", "250-PIPELINING", "250 SIZE 100" },
	    0, REPLY_DONE, 250, "", 3 },
	{ "multi-line enhanced", { "554-5.7.1 blocked", "554 5.7.1 see url" },
	    0, REPLY_DONE, 554, "5.7.1", 2 },
	{ "continuation pending", { "250-a", "250-b" }, 0, REPLY_MORE, 250,
	    "", 2 },
	{ "garbage code 2x0", { "2x0 hello" }, 0, REPLY_ERROR, 0, "", 1 },
	{ "two digits", { "99" }, 0, REPLY_ERROR, 0, "", 1 },
	{ "code 1yz refused", { "199 nope" }, 0, REPLY_ERROR, 0, "", 1 },
	{ "code 260 refused", { "260 nope" }, 0, REPLY_ERROR, 0, "", 1 },
	{ "code 600 refused", { "600 nope" }, 0, REPLY_ERROR, 0, "", 1 },
	{ "bad separator", { "250xOK" }, 0, REPLY_ERROR, 0, "", 1 },
	{ "code change on the last line (postscreen teaser)",
	    { "220-mx.test ESMTP", "521 5.7.1 Service unavailable; client "
	    "[192.0.2.1] blocked using zen.spamhaus.org" }, 0, REPLY_DONE,
	    521, "5.7.1", 2 },
	{ "code change on a continuation line", { "250-a", "550-b",
	    "550 c" }, 0, REPLY_ERROR, 250, "", 2 },
	{ "empty line", { "" }, 0, REPLY_ERROR, 0, "", 1 },
	{ "bare LF accepted", { "220 hi" }, 1, REPLY_DONE, 220, "", 1 },
};

static void
run_case(const struct rcase *c)
{
	struct reply	*r = reply_new();
	enum reply_status st = REPLY_MORE;
	const char	*err = NULL;
	size_t		 i;

	for (i = 0; c->lines[i] != NULL && st == REPLY_MORE; i++)
		st = reply_feed(r, c->lines[i], strlen(c->lines[i]),
		    c->bare_lf, &err);
	ok(st == c->want, "%s: status %d (want %d)%s%s", c->name, st,
	    c->want, err ? ": " : "", err ? err : "");
	if (c->want != REPLY_ERROR || c->code != 0)
		ok(r->code == c->code, "%s: code %d", c->name, r->code);
	ok(strcmp(r->enhanced, c->enhanced) == 0, "%s: enhanced \"%s\"",
	    c->name, r->enhanced);
	ok(r->nlines == c->nlines, "%s: %zu lines", c->name, r->nlines);
	if (c->bare_lf)
		ok(r->bare_lf == 1, "%s: bare LF recorded", c->name);
	reply_free(r);
}

static void
test_limits(void)
{
	struct reply	*r = reply_new();
	const char	*err = NULL;
	enum reply_status st = REPLY_MORE;
	size_t		 i;
	char		 big[2000];

	for (i = 0; i < REPLY_MAX_LINES + 5 && st == REPLY_MORE; i++)
		st = reply_feed(r, "250-x", 5, 0, &err);
	ok(st == REPLY_ERROR && i == REPLY_MAX_LINES + 1,
	    "endless continuation stops at %d lines (%zu)", REPLY_MAX_LINES,
	    i);
	ok(err != NULL && strstr(err, "too many lines") != NULL,
	    "too many lines is named");
	reply_free(r);

	r = reply_new();
	memset(big, 'a', sizeof(big));
	memcpy(big, "250-", 4);
	st = REPLY_MORE;
	for (i = 0; i < 100 && st == REPLY_MORE; i++)
		st = reply_feed(r, big, sizeof(big), 0, &err);
	ok(st == REPLY_ERROR && strstr(err, "too large") != NULL,
	    "reply bytes capped at %d", REPLY_MAX_BYTES);
	reply_free(r);

	r = reply_new();
	st = reply_feed(r, "250 a\0b\x1b[31m", 12, 0, &err);
	ok(st == REPLY_DONE && r->binary, "NUL and ESC flagged as binary");
	ok(strcmp(r->lines[0], "250 a\\x00b\\x1b[31m") == 0,
	    "control bytes escaped: %s", r->lines[0]);
	reply_free(r);
}

static void
test_ehlo(void)
{
	static const char *lines[] = { "250-mx.example.net Hello [1.2.3.4]",
	    "250-PIPELINING", "250-SIZE 52428800", "250-starttls",
	    "250-AUTH PLAIN LOGIN", "250-AUTH=LOGIN", "250-8BITMIME",
	    "250-ENHANCEDSTATUSCODES", "250-CHUNKING", "250-SMTPUTF8",
	    "250-DSN", "250-REQUIRETLS", "250- bad line", "250 X-EXPS=LOGIN" };
	struct reply	*r = reply_new();
	struct ehlo	*e;
	const char	*err;
	size_t		 i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		reply_feed(r, lines[i], strlen(lines[i]), 0, &err);
	e = reply_ehlo_parse(r);
	ok(strcmp(e->domain, "mx.example.net") == 0, "EHLO domain %s",
	    e->domain);
	ok(reply_ehlo_has(e, "STARTTLS"), "STARTTLS (lower case on wire)");
	ok(reply_ehlo_has(e, "pipelining"), "PIPELINING, any case asked");
	ok(strcmp(reply_ehlo_param(e, "SIZE"), "52428800") == 0, "SIZE param");
	ok(strcmp(reply_ehlo_param(e, "AUTH"), "PLAIN LOGIN") == 0,
	    "AUTH params from the first AUTH line");
	ok(reply_ehlo_has(e, "8BITMIME") && reply_ehlo_has(e, "CHUNKING") &&
	    reply_ehlo_has(e, "SMTPUTF8") && reply_ehlo_has(e, "DSN") &&
	    reply_ehlo_has(e, "REQUIRETLS") &&
	    reply_ehlo_has(e, "ENHANCEDSTATUSCODES"), "the other keywords");
	ok(strcmp(reply_ehlo_param(e, "X-EXPS"), "LOGIN") == 0,
	    "KEY=VALUE form");
	ok(!reply_ehlo_has(e, "VRFY"), "absent keyword absent");
	ok(e->invalid == 1, "one invalid line counted (%zu)", e->invalid);
	reply_ehlo_free(e);
	reply_free(r);
}

int
main(void)
{
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	test_limits();
	test_ehlo();
	return tap_done();
}

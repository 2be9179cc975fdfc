/*
 * t_scn.c - the scenario parser: every keyword in its forms, every
 * class of parse error (with its line and column), variables, and the
 * expectation matcher; and that every keyword is documented in
 * man/smtprobe-scenario.5 (found through $top_srcdir).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "msg.h"
#include "reply.h"
#include "scn.h"
#include "srvcheck.h"
#include "tap.h"

struct bad {
	const char	*text;
	const char	*where;		/* "t.scn:L:C" or "t.scn:L" */
	const char	*what;		/* part of the message */
};

static const struct bad bads[] = {
	{ "bogus\n", "t.scn:1:1", "unknown keyword" },
	{ "connect\n  fly away\n", "t.scn:2:3", "unknown keyword" },
	{ "\"connect\"\n", "t.scn:1:1", "expected a keyword" },
	{ "vrfy \"abc\n", "t.scn:1:6", "unterminated string" },
	{ "vrfy \"a\\qb\"\n", "t.scn:1:8", "unknown escape" },
	{ "vrfy ab\"c\"\n", "t.scn:1:8", "a quote inside a word" },
	{ "mail ${nope}\n", "t.scn:1:6", "undefined variable ${nope}" },
	{ "mail ${a b}\n", "t.scn:1:6", "bad character in variable" },
	{ "mail ${from\n", "t.scn:1:6", "unterminated or empty variable" },
	{ "set 1+2 x\n", "t.scn:1:5", "bad variable name" },
	{ "set x\n", "t.scn:1:1", "expected: set NAME VALUE" },
	{ "expect 250\n", "t.scn:1:1", "expect before any step" },
	{ "noop\nexpect 250\nexpect 251\n", "t.scn:3:1", "a second expect" },
	{ "noop\nexpect 99\n", "t.scn:2:8", "not a reply code" },
	{ "noop\nexpect 2x5\n", "t.scn:2:8", "not a reply code" },
	{ "noop\nexpect 6xx\n", "t.scn:2:8", "not a reply code" },
	{ "noop\nexpect 5.7\n", "t.scn:2:8", "not a reply code" },
	{ "noop\nexpect 250 or\n", "t.scn:2:12", "after \"or\"" },
	{ "noop\nexpect\n", "t.scn:2", "expect needs a code" },
	{ "noop\nexpect 250 /a(/\n", "t.scn:2:12", "bad regular expression" },
	{ "noop\nexpect 250 /abc\n", "t.scn:2:12",
	    "unterminated regular expression" },
	{ "noop\nexpect 550 verdict dns\n", "t.scn:2:20",
	    "unknown verdict class" },
	{ "noop\nexpect 550 else maybe\n", "t.scn:2:12", "else stop" },
	{ "noop\nexpect 550 \"a\" \"b\"\n", "t.scn:2:16", "one text" },
	{ "noop\nexpect 550 \"a\" or 551\n", "t.scn:2:16", "codes come first" },
	{ "noop\nexpect 550 maybe\n", "t.scn:2:12", "unexpected \"maybe\"" },
	{ "mail\n", "t.scn:1", "needs an address" },
	{ "mail a@b\x01\n", "t.scn:1:6", "control character" },
	{ "mail \"a@b\\r\\nRSET\"\n", "t.scn:1:6", "carriage return" },
	{ "rcpt <>\n", "t.scn:1:6", "null path" },
	{ "mail <a<b>\n", "t.scn:1:6", "contains \"<\"" },
	{ "mail a@b S!ZE=1\n", "t.scn:1:11", "bad character in ESMTP" },
	{ "mail a@b =1\n", "t.scn:1:10", "bad ESMTP parameter" },
	{ "ehlo a b\n", "t.scn:1:8", "unexpected \"b\"" },
	{ "ehlo \"\"\n", "t.scn:1:6", "empty name" },
	{ "ehlo \"a\\nb\"\n", "t.scn:1:6", "line feed" },
	{ "ehlo \"a b\"\n", "t.scn:1:6", "contains a space" },
	{ "ehlo bad_*_name\n", "t.scn:1:6", "helo raw NAME" },
	{ "ehlo raw \"a\\rb\"\n", "t.scn:1:10", "carriage return" },
	{ "rcpt host!user\n", "t.scn:1:6", "rcpt raw ADDRESS" },
	{ "rcpt raw \"a@b\\r\\nRSET\"\n", "t.scn:1:10", "carriage return" },
	{ "mail raw \"a\\x00b\"\n", "t.scn:1:10", "address contains a" },
	{ "sleep nan\n", "t.scn:1:7", "decimal seconds" },
	{ "sleep 0x10\n", "t.scn:1:7", "decimal seconds" },
	{ "sleep 1e1\n", "t.scn:1:7", "decimal seconds" },
	{ "set a \"\\x00\"\n", "t.scn:1:7", "value contains a" },
	{ "starttls maybe\n", "t.scn:1:10", "required or optional" },
	{ "auth\n", "t.scn:1", "needs a mechanism" },
	{ "auth plian u\n", "t.scn:1:6", "unknown mechanism" },
	{ "auth plain u hunter2\n", "t.scn:1:14", "a secret itself never" },
	{ "auth plain u secret-env\n", "t.scn:1:14", "needs a value" },
	{ "data file\n", "t.scn:1:6", "needs one path" },
	{ "data raw\n", "t.scn:1:6", "data raw needs one" },
	{ "data foo\n", "t.scn:1:6", "unexpected \"foo\"" },
	{ "data <<END\nline\n", "t.scn:1", "here-document not ended" },
	{ "data <<\n", "t.scn:1:6", "expected data <<WORD" },
	{ "data <<END\n${nope}\nEND\n", "t.scn:2:1", "undefined variable" },
	{ "vrfy\n", "t.scn:1", "expected: vrfy" },
	{ "send\n", "t.scn:1", "expected: send" },
	{ "send \"x\" now\n", "t.scn:1:10", "expected noreply" },
	{ "sleep\n", "t.scn:1", "expected: sleep" },
	{ "sleep soon\n", "t.scn:1:7", "bad duration" },
	{ "sleep 3601\n", "t.scn:1:7", "bad duration" },
	{ "sleep -1\n", "t.scn:1:7", "bad duration" },
	{ "quit now\n", "t.scn:1:6", "unexpected \"now\"" },
	{ "noop\0x\n", "t.scn:1:5", "NUL byte" },
	{ "noop\nexpect 250 else finding nope\n", "t.scn:2:25",
	    "no finding \"nope\" above" },
	{ "finding f relay error \"t\"\nnoop\nexpect 250 else finding f "
	    "later\n", "t.scn:3:27", "[stop|continue]\" at the end" },
	{ "finding f nosuch error \"t\"\n", "t.scn:1:11", "unknown class" },
	{ "finding f relay fatal \"t\"\n", "t.scn:1:17", "unknown severity" },
	{ "finding f relay error t\n", "t.scn:1:23", "quoted string" },
	{ "finding f relay error \"\"\n", "t.scn:1:23", "quoted string" },
	{ "finding f_g relay error \"t\"\n", "t.scn:1:9", "bad finding name" },
	{ "finding f relay error \"t\"\nfinding f tls info \"u\"\n",
	    "t.scn:2:9", "declared twice" },
	{ "finding f relay error \"t\" pass x\n", "t.scn:1", "expected: "
	    "finding NAME" },
	{ "finding g relay error \"t\" like f\n", "t.scn:1:32",
	    "no finding \"f\" above" },
	{ "advice f \"t\"\n", "t.scn:1:8", "no finding \"f\" above" },
	{ "finding f relay error \"t\"\nadvice f qmail \"t\"\n",
	    "t.scn:2:10", "unknown server" },
	{ "finding f relay error \"t\"\nadvice f \"a\"\nadvice f \"b\"\n",
	    "t.scn:3:1", "a second advice" },
	{ "finding f relay error \"t\"\nadvice f \"a\\nb\"\n", "t.scn:2:10",
	    "line feed" },
	{ "noop\nexpect 250 without\n", "t.scn:2:12", "without needs" },
	{ "finding f relay error \"t\"\nnoop\nexpect 250 else finding f "
	    "\"\" continue\n", "t.scn:3:27", "empty label" },
	{ "finding f relay error \"t\"\nnoop\nexpect 250 else finding f "
	    "\"a\" \"b\"\n", "t.scn:3:31", "[\"LABEL\"] [stop|continue]" },
};

static struct scn *
parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct scn_vars	 v;
	struct scn	*s;

	memset(&v, 0, sizeof(v));
	scn_vars_set(&v, "from", "a@probe.test");
	scn_vars_set(&v, "to", "b@fake.test");
	scn_vars_set(&v, "helo", "probe.test");
	s = scn_parse("t.scn", text, len, &v, err, errlen);
	scn_vars_clear(&v);
	return s;
}

static void
test_errors(void)
{
	char		 err[512];
	struct scn	*s;
	size_t		 i, len;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		len = strlen(bads[i].text);
		if (strstr(bads[i].what, "NUL") != NULL)
			len = 7;
		err[0] = '\0';
		s = parse(bads[i].text, len, err, sizeof(err));
		ok(s == NULL, "refused: %s", bads[i].what);
		ok(strncmp(err, bads[i].where, strlen(bads[i].where)) == 0 &&
		    (err[strlen(bads[i].where)] == ':') &&
		    strstr(err, bads[i].what) != NULL,
		    "error at %s says \"%s\" (got: %s)", bads[i].where,
		    bads[i].what, err);
		scn_free(s);
	}
	{
		char	*big = xmalloc(9000);

		memset(big, 'a', 8999);
		memcpy(big, "vrfy ", 5);
		big[8999] = '\0';
		s = parse(big, 8999, err, sizeof(err));
		ok(s == NULL && strstr(err, "longer than") != NULL,
		    "an overlong line is refused (%s)", err);
		scn_free(s);
		free(big);
	}
	{
		char	 many[400] = "vrfy";

		for (i = 0; i < 70; i++)
			strncat(many, " x", sizeof(many) - strlen(many) - 1);
		s = parse(many, strlen(many), err, sizeof(err));
		ok(s == NULL && strstr(err, "too many words") != NULL,
		    "too many words are refused (%s)", err);
		scn_free(s);
	}
}

static void
test_forms(void)
{
	static const char text[] =
	    "# desc: every keyword\n"
	    "connect\n"
	    "expect 220\n"
	    "ehlo\n"
	    "ehlo ${helo}\n"
	    "helo other.test\n"
	    "starttls\n"
	    "starttls optional\n"
	    "auth plain ${from} secret-env PW insecure\n"
	    "auth CRAM-MD5 u secret-file /tmp/pw\n"
	    "set who \"x y\"\n"
	    "mail <> SIZE=100 BODY=8BITMIME\n"
	    "mail \"\\\"${who}\\\"@probe.test\"   # quoted local part\n"
	    "rcpt ${to} NOTIFY=NEVER\n"
	    "expect 2xx or 5.1.x or tempfail \"ok\" verdict recipient "
	    "else continue\n"
	    "data\n"
	    "data file /tmp/msg\n"
	    "data raw \"Subject: x\\r\\n\\r\\nbody\\n.\\n\"\n"
	    "data <<END\n"
	    "From: <${from}>\n"
	    "cost: $5 and $${literal}\n"
	    "END\n"
	    "expect 250 /queued as [A-Z0-9]+/\n"
	    "rset\n"
	    "noop\n"
	    "vrfy \"postmaster\"\n"
	    "send \"XCLIENT \\x41\\r\\nNOOP\" noreply\n"
	    "sleep 1.5\n"
	    "quit\n"
	    "drop\n";
	char		 err[512] = "";
	struct scn	*s = parse(text, sizeof(text) - 1, err, sizeof(err));
	const struct scn_step *st;

	ok(s != NULL, "the all-keyword scenario parses (%s)", err);
	if (s == NULL)
		return;
	ok(s->desc != NULL && strcmp(s->desc, "every keyword") == 0,
	    "desc line read");
	ok(s->nsteps == 22, "22 steps (got %zu)", s->nsteps);
	st = s->steps;
	ok(st[0].op == SCN_CONNECT && st[0].line == 2 &&
	    st[0].expect != NULL && strcmp(st[0].expect->spec, "220") == 0,
	    "connect with expect on line 2");
	ok(st[1].op == SCN_EHLO && st[1].arg == NULL, "ehlo without name");
	ok(st[2].arg != NULL && strcmp(st[2].arg, "probe.test") == 0,
	    "ehlo ${helo} expanded");
	ok(st[3].op == SCN_HELO && (st[3].flags & SMTP_F_HELO),
	    "helo sets SMTP_F_HELO");
	ok(st[4].op == SCN_STARTTLS && !(st[4].flags & SMTP_F_OPTIONAL) &&
	    (st[5].flags & SMTP_F_OPTIONAL), "starttls required/optional");
	ok(st[6].op == SCN_AUTH && st[6].mech == AUTH_PLAIN &&
	    strcmp(st[6].arg, "a@probe.test") == 0 &&
	    strcmp(st[6].secret_env, "PW") == 0 &&
	    (st[6].flags & SMTP_F_INSECURE), "auth plain with secret-env");
	ok(st[7].mech == AUTH_CRAM_MD5 && st[7].secret_file != NULL,
	    "auth cram-md5 with secret-file, any case");
	ok(st[8].op == SCN_MAIL && st[8].arg[0] == '\0' &&
	    strcmp(st[8].params, "SIZE=100 BODY=8BITMIME") == 0,
	    "null sender with two parameters");
	ok(strcmp(st[9].arg, "\"x y\"@probe.test") == 0,
	    "a value with a space stays in one word (%s)", st[9].arg);
	ok(st[10].op == SCN_RCPT && strcmp(st[10].arg, "b@fake.test") == 0 &&
	    strcmp(st[10].params, "NOTIFY=NEVER") == 0, "rcpt ${to} param");
	ok(st[10].expect != NULL && st[10].expect->nmatch == 3 &&
	    strcmp(st[10].expect->match[1], "5.1.x") == 0 &&
	    strcmp(st[10].expect->text, "ok") == 0 &&
	    strcmp(st[10].expect->vclass, "recipient") == 0 &&
	    st[10].expect->cont, "expect with alternatives, text, verdict, "
	    "else continue");
	ok(st[11].op == SCN_DATA && st[11].data == SCN_DATA_DEFAULT,
	    "data");
	ok(st[12].data == SCN_DATA_FILE && strcmp(st[12].body, "/tmp/msg") ==
	    0, "data file");
	ok(st[13].data == SCN_DATA_RAW && st[13].bodylen == 21 &&
	    memcmp(st[13].body, "Subject: x\r\n\r\nbody\n.\n", 21) == 0,
	    "data raw keeps bare LFs");
	ok(st[14].data == SCN_DATA_INLINE && strcmp(st[14].body,
	    "From: <a@probe.test>\ncost: $5 and ${literal}\n") == 0 &&
	    st[14].expect != NULL && st[14].expect->re != NULL,
	    "here-document with variables and a regex expect");
	ok(st[15].op == SCN_RSET && st[16].op == SCN_NOOP, "rset, noop");
	ok(st[17].op == SCN_VRFY && strcmp(st[17].arg, "postmaster") == 0,
	    "vrfy");
	ok(st[18].op == SCN_SEND && strcmp(st[18].arg,
	    "XCLIENT A\r\nNOOP") == 0 && (st[18].flags & SMTP_F_NOREPLY),
	    "send keeps its CR LF, noreply");
	ok(st[19].op == SCN_SLEEP && st[19].ms == 1500, "sleep 1.5 s");
	ok(st[20].op == SCN_QUIT && st[21].op == SCN_DROP, "quit, drop");
	scn_free(s);
}

/* step - a fake recorded step with a reply */
static struct step *
mkstep(int code, const char *text, enum step_outcome o)
{
	struct step	*st = xcalloc(1, sizeof(*st));
	const char	*err;

	st->outcome = o;
	st->stage = STAGE_RCPT;
	if (code > 0) {
		st->reply = reply_new();
		reply_feed(st->reply, text, strlen(text), 0, &err);
	}
	return st;
}

static void
test_match(void)
{
	static const struct {
		const char	*expect;
		int		 code;
		const char	*reply;
		enum step_outcome o;
		int		 want;
	} m[] = {
		{ "250", 250, "250 ok", OUT_OK, 1 },
		{ "250", 251, "251 ok", OUT_OK, 0 },
		{ "2xx", 251, "251 ok", OUT_OK, 1 },
		{ "25x", 252, "252 ok", OUT_OK, 1 },
		{ "25x", 262, "262 ok", OUT_OK, 0 },
		{ "4xx or 5xx", 451, "451 later", OUT_TEMPFAIL, 1 },
		{ "5.1.1", 550, "550 5.1.1 no", OUT_PERMFAIL, 1 },
		{ "5.1.1", 550, "550 5.1.10 no", OUT_PERMFAIL, 0 },
		{ "5.7.x", 554, "554 5.7.606 banned", OUT_PERMFAIL, 1 },
		{ "5.x.x", 550, "550 no code", OUT_PERMFAIL, 0 },
		{ "550 5.1.1", 550, "550 5.1.1 no", OUT_PERMFAIL, 1 },
		{ "550 5.1.1", 550, "550 5.7.1 no", OUT_PERMFAIL, 0 },
		{ "550 5.1.1", 551, "551 5.1.1 no", OUT_PERMFAIL, 0 },
		{ "250 or 550 5.1.1", 550, "550 5.1.1 no", OUT_PERMFAIL, 1 },
		{ "550 5.7.1 or 450 4.7.1", 450, "450 4.7.1 later",
		    OUT_TEMPFAIL, 1 },
		{ "550 5.7.1 or 450 4.7.1", 450, "450 4.2.1 later",
		    OUT_TEMPFAIL, 0 },
		{ "permfail", 550, "550 no", OUT_PERMFAIL, 1 },
		{ "tempfail", 550, "550 no", OUT_PERMFAIL, 0 },
		{ "timeout", 0, NULL, OUT_TIMEOUT, 1 },
		{ "closed or error", 0, NULL, OUT_TIMEOUT, 0 },
		{ "any", 0, NULL, OUT_ERROR, 1 },
		{ "550 \"USER UNKNOWN\"", 550, "550 5.1.1 User unknown",
		    OUT_PERMFAIL, 1 },
		{ "550 \"mailbox full\"", 550, "550 5.1.1 User unknown",
		    OUT_PERMFAIL, 0 },
		{ "550 /user (unknown|gone)/", 550, "550 5.1.1 User Gone",
		    OUT_PERMFAIL, 1 },
		{ "5xx verdict recipient", 550,
		    "550 5.1.1 <x@y>: Recipient address rejected: User unknown",
		    OUT_PERMFAIL, 1 },
		{ "5xx verdict ip", 550,
		    "550 5.1.1 <x@y>: Recipient address rejected: User unknown",
		    OUT_PERMFAIL, 0 },
		{ "5xx verdict ip", 554,
		    "554 5.7.1 Service unavailable; Client host [192.0.2.1] "
		    "blocked using zen.spamhaus.org", OUT_PERMFAIL, 1 },
		{ "250 without \"AUTH\"", 250, "250 AUTH PLAIN", OUT_OK, 0 },
		{ "250 without \"AUTH\"", 250, "250 SIZE 100", OUT_OK, 1 },
		{ "250 without /^250[- ]X{6,}A?$/", 250, "250 XXXXXXXA",
		    OUT_OK, 0 },
		{ "250 without /^250[- ]X{6,}A?$/", 250, "250 STARTTLS",
		    OUT_OK, 1 },
		{ "4xx or 5xx else finding f continue", 550, "550 Invalid "
		    "recipient", OUT_PERMFAIL, 1 },
		{ "4xx or 5xx else finding f", 250, "250 2.1.5 Ok", OUT_OK, 0 },
		{ "4xx or 5xx else finding f \"the %-hack\" continue", 550,
		    "550 5.7.1 Relay access denied", OUT_PERMFAIL, 1 },
	};
	struct record	 rec;
	size_t		 i;
	char		 text[256], err[256], got[256];

	memset(&rec, 0, sizeof(rec));
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		struct scn	*s;
		struct step	*st;
		int		 r;

		snprintf(text, sizeof(text), "finding f relay error \"t\"\n"
		    "noop\nexpect %s\n", m[i].expect);
		s = parse(text, strlen(text), err, sizeof(err));
		if (!ok(s != NULL, "expect %s parses (%s)", m[i].expect,
		    s == NULL ? err : "ok"))
			continue;
		st = mkstep(m[i].code, m[i].reply, m[i].o);
		rec.steps = st;
		rec.nsteps = 1;
		r = scn_expect_match(s->steps[0].expect, &rec, st, got,
		    sizeof(got));
		ok(r == m[i].want, "expect %s %s %s (got %s)", m[i].expect,
		    m[i].want ? "matches" : "does not match",
		    m[i].reply != NULL ? m[i].reply :
		    record_outcome_name(m[i].o), got);
		reply_free(st->reply);
		free(st);
		scn_free(s);
	}
}

static void
test_classic(void)
{
	static const char *rcpt[] = { "x@fake.test", "y@fake.test" };
	struct smtp_txn	 txn[2] = { { "a@probe.test", rcpt, 2 },
			    { "", rcpt, 1 } };
	struct scn_classic c = { SMTP_TLS_OPTIONAL, AUTH_LOGIN, "u", 0, txn,
			    2, 1, 0, 0 };
	struct scn	*s = scn_classic(&c);
	static const enum scn_op want[] = { SCN_CONNECT, SCN_EHLO,
	    SCN_STARTTLS, SCN_AUTH, SCN_MAIL, SCN_RCPT, SCN_RCPT, SCN_DATA,
	    SCN_RSET, SCN_MAIL, SCN_RCPT, SCN_DATA, SCN_QUIT };
	size_t		 i;
	int		 same = s->nsteps == sizeof(want) / sizeof(want[0]);

	for (i = 0; same && i < s->nsteps; i++)
		same = s->steps[i].op == want[i];
	ok(same, "the default scenario: connect ehlo starttls auth, two "
	    "transactions with rset between, quit");
	ok(s->steps[2].flags & SMTP_F_OPTIONAL, "--starttls-optional is "
	    "starttls optional");
	scn_free(s);

	/* --server-check: VRFY, VRFY, EXPN after AUTH, before MAIL */
	c.server_check = 1;
	s = scn_classic(&c);
	ok(s->nsteps == sizeof(want) / sizeof(want[0]) + 3 &&
	    s->steps[4].op == SCN_VRFY && s->steps[5].op == SCN_VRFY &&
	    s->steps[6].op == SCN_SEND && s->steps[7].op == SCN_MAIL,
	    "--server-check: two VRFY and a sent line between AUTH and "
	    "MAIL");
	ok(s->nsteps > 6 && strcmp(s->steps[4].arg, SRVCHECK_FAKE_USER) == 0 &&
	    strcmp(s->steps[5].arg, "postmaster") == 0 &&
	    strcmp(s->steps[6].arg, "EXPN " SRVCHECK_FAKE_LIST) == 0,
	    "VRFY of a made-up user, of postmaster, EXPN of a made-up list");
	ok(s->nsteps > 6 && s->steps[4].expect != NULL &&
	    s->steps[6].expect != NULL && s->steps[6].expect->cont &&
	    s->steps[6].expect->nmatch == 3,
	    "each expects any 2xx, 4xx or 5xx and continues");
	scn_free(s);
}

static void
test_documented(void)
{
	const char *const *kw = scn_keywords();
	const char	*top = getenv("top_srcdir");
	char		 path[1024], *man, err[256], needle[64];
	size_t		 len;

	snprintf(path, sizeof(path), "%s/man/smtprobe-scenario.5",
	    top != NULL ? top : "..");
	if (!ok(msg_read(path, &man, &len, err, sizeof(err)) == 0,
	    "read %s", path))
		return;
	for (; *kw != NULL; kw++) {
		snprintf(needle, sizeof(needle), ".It Ic %s", *kw);
		ok(strstr(man, needle) != NULL, "keyword %s is documented "
		    "in smtprobe-scenario(5)", *kw);
	}
	free(man);
}

int
main(void)
{
	log_init("t_scn", 0);
	test_errors();
	test_forms();
	test_match();
	test_classic();
	test_documented();
	/* the variable table: many names, updates, locked names */
	{
		struct scn_vars	 v;
		char		 name[32], val[32];
		size_t		 k, bad = 0;

		memset(&v, 0, sizeof(v));
		scn_vars_set(&v, "locked", "cli");
		v.nlocked = v.n;
		for (k = 0; k < 20000; k++) {
			snprintf(name, sizeof(name), "v%zu", k);
			snprintf(val, sizeof(val), "x%zu", k);
			scn_vars_set(&v, name, val);
		}
		scn_vars_set(&v, "v7", "seven");
		scn_vars_set(&v, "locked", "scenario");
		for (k = 0; k < 20000; k++) {
			const char *got;

			snprintf(name, sizeof(name), "v%zu", k);
			snprintf(val, sizeof(val), "x%zu", k);
			got = scn_vars_get(&v, name);
			if (got == NULL || (k != 7 && strcmp(got, val) != 0))
				bad++;
		}
		ok(bad == 0 && v.n == 20001 &&
		    strcmp(scn_vars_get(&v, "v7"), "seven") == 0 &&
		    strcmp(scn_vars_get(&v, "locked"), "cli") == 0 &&
		    scn_vars_get(&v, "v20000") == NULL,
		    "20000 variables: found, updated, a locked one kept");
		scn_vars_clear(&v);
	}
	return tap_done();
}

/*
 * t_report.c - the session's JSON written without a tree
 * (report_jw_doc(), probe/out/report_jw.c) is byte for byte what the
 * tree of report_json_doc() gives through json_dumps() and through
 * jw_value(), with and without the "schema" and "tool" head, on
 * generated records: every optional part present or not, strings with
 * escapes, controls, UTF-8, invalid UTF-8 (escaped), long texts,
 * repeated EHLO keywords, every stage, outcome, status and failure.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonw.h"
#include "log.h"
#include "record.h"
#include "reply.h"
#include "report.h"
#include "tap.h"
#include "util.h"
#include "verdict.h"

static uint64_t	 seed = 0x9e3779b97f4a7c15ULL;

/* rnd - a number below n (xorshift64*) */
static unsigned
rnd(unsigned n)
{
	seed ^= seed >> 12;
	seed ^= seed << 25;
	seed ^= seed >> 27;
	return (unsigned)((seed * 0x2545f4914f6cdd1dULL) >> 33) % n;
}

/*
 * gen - a string of one of many kinds (caller frees). utf8 1: only
 * what jansson accepts (for fields packed with "s:s"); nul 1: may be
 * NULL.
 */
static char *
gen(int utf8, int nul)
{
	static const char *const pieces[] = {
		"250 OK", "\"quoted\"", "back\\slash", "tab\there", "\x01\x1f",
		"\x7f", "caf\xc3\xa9", "\xe4\xb8\xad\xe6\x96\x87",
		"\xf0\x9f\x98\x80", "<a@b.example>", "5.7.1", "/slash/", "",
		" ", "{}[],:", "\r\n", "\\u0041",
	};
	static const char *const bad[] = {
		"\x80", "\xc0\x80", "\xed\xa0\x80", "\xf5\x80\x80\x80", "\xc3",
		"\xe4\xb8", "\xf0\x8f\xbf\xbf", "\xff",
	};
	char	*s;
	size_t	 len = 0, cap = 64, n, k, parts;

	if (nul && rnd(5) == 0)
		return NULL;
	s = xmalloc(cap);
	s[0] = '\0';
	parts = rnd(8) == 0 ? 200 + rnd(400) : rnd(6);
	for (k = 0; k < parts; k++) {
		const char *p = !utf8 && rnd(10) == 0 ?
		    bad[rnd(sizeof(bad) / sizeof(bad[0]))] :
		    pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];

		n = strlen(p);
		while (len + n + 1 > cap)
			cap *= 2;
		s = xreallocarray(s, cap, 1);
		memcpy(s + len, p, n + 1);
		len += n;
	}
	return s;
}

/* gen_reply - a reply of a few lines, or NULL */
static struct reply *
gen_reply(void)
{
	struct reply	*rp;
	size_t		 i;

	if (rnd(4) == 0)
		return NULL;
	rp = reply_new();
	rp->code = 200 + (int)rnd(360);
	if (rnd(2))
		snprintf(rp->enhanced, sizeof(rp->enhanced), "%u.%u.%u",
		    2 + rnd(4), rnd(8), rnd(10));
	rp->nlines = rnd(4);
	rp->lines = xcalloc(rp->nlines + 1, sizeof(char *));
	for (i = 0; i < rp->nlines; i++)
		rp->lines[i] = gen(0, 0);
	return rp;
}

/* gen_tls - a handshake with a chain, DANE or not */
static void
gen_tls(struct tls_info *t)
{
	size_t	 i, k;

	t->done = 1;
	t->version = xstrdup(rnd(2) ? "TLSv1.3" : "TLSv1.2");
	t->cipher = gen(1, 0);
	t->bits = (int)rnd(512);
	t->group = gen(0, 1);
	t->sni = gen(0, 1);
	t->verify_name = gen(0, 1);
	t->verify_code = rnd(3) == 0 ? 0 : (long)rnd(100);
	t->verify_error = gen(1, 0);
	t->pkix_code = rnd(2) ? 0 : (long)rnd(100) - 50;
	t->pkix_error = gen(1, 1);
	t->name_match = (int)rnd(3) - 1;
	t->nchain = rnd(4);
	t->chain = xcalloc(t->nchain + 1, sizeof(*t->chain));
	for (i = 0; i < t->nchain; i++) {
		struct tls_cert *c = &t->chain[i];

		c->subject = gen(0, 1);
		c->issuer = gen(0, 1);
		c->nsan = rnd(3);
		c->san = xcalloc(c->nsan + 1, sizeof(char *));
		for (k = 0; k < c->nsan; k++)
			c->san[k] = gen(0, 0);
		c->not_before = gen(1, 0);
		c->not_after = gen(1, 0);
		c->expired = (int)rnd(3);
		c->days_left = (long)rnd(2000) - 1000;
		c->sha256 = gen(1, 0);
		c->spki = gen(0, 1);
		c->pem = rnd(2) ? gen(0, 0) : NULL;
		c->tlsa = gen(0, 1);
	}
	if (rnd(2) == 0)
		return;
	t->dane.checked = 1;
	t->dane.status = gen(1, 0);
	t->dane.lookup = gen(1, 0);
	t->dane.qname = gen(1, 0);
	t->dane.ad = (int)rnd(2);
	t->dane.resolver = gen(0, 1);
	t->dane.nrecords = rnd(3);
	t->dane.records = xcalloc(t->dane.nrecords + 1, sizeof(char *));
	t->dane.notes = xcalloc(t->dane.nrecords + 1, sizeof(char *));
	for (i = 0; i < t->dane.nrecords; i++) {
		t->dane.records[i] = gen(1, 0);
		t->dane.notes[i] = gen(0, 1);
	}
	t->dane.depth = (int)rnd(4) - 1;
	t->dane.matched = gen(0, 1);
	t->dane.result_type = gen(0, 1);
	t->dane.detail = gen(1, 0);
}

/* gen_ehlo - EHLO capabilities, keywords sometimes repeated */
static struct ehlo *
gen_ehlo(void)
{
	static const char *const kw[] = {
		"SIZE", "PIPELINING", "8BITMIME", "STARTTLS", "AUTH", "X-\"Q\"",
		"", "BAD\xc3",
	};
	struct ehlo	*e = xcalloc(1, sizeof(*e));
	size_t		 i;

	e->domain = gen(0, 1);
	e->next = rnd(7);
	e->ext = xcalloc(e->next + 1, sizeof(*e->ext));
	for (i = 0; i < e->next; i++) {
		e->ext[i].keyword = xstrdup(kw[rnd(sizeof(kw) /
		    sizeof(kw[0]))]);
		e->ext[i].params = gen(0, 0);
	}
	return e;
}

/* gen_record - one record with any mix of its parts */
static struct record *
gen_record(void)
{
	static const char *const modes[] = { "none", "starttls", "tls" };
	struct record	*r = record_new();
	struct step	*st;
	struct record_concl c;
	char		*a[6], *s;
	size_t		 i, k, n;

	snprintf(r->started, sizeof(r->started), "2026-12-03T16:%02u:%02uZ",
	    rnd(60), rnd(60));
	r->t_end = rnd(5) == 0 ? -1 : (int64_t)rnd(2000000000);
	r->host = gen(1, 0);
	r->port = xstrdup(rnd(2) ? "25" : "587");
	r->address = gen(0, 1);
	r->source = gen(0, 1);
	r->helo = gen(0, 1);
	r->tls_mode = modes[rnd(3)];
	n = rnd(8);
	for (i = 0; i < n; i++) {
		st = record_add_step(r, (enum smtp_stage)rnd(STAGE__COUNT),
		    rnd(5) == 0 ? -1 : (int64_t)rnd(100000000));
		st->command = gen(0, 1);
		st->tls = (int)rnd(2);
		st->txn = (int)rnd(3);
		st->reply = gen_reply();
		st->outcome = (enum step_outcome)rnd(OUT__COUNT);
		st->detail = gen(0, 1);
		st->t_first = rnd(4) == 0 ? -1 : (int64_t)rnd(100000000);
		st->t_done = rnd(4) == 0 ? -1 : (int64_t)rnd(1000000000);
		st->expect = (int)rnd(3) - 1;
		st->expect_text = gen(0, 1);
		st->expect_class = rnd(3) == 0 ? xstrdup("relay") : NULL;
		st->expect_refusal = (int)rnd(2);
		st->line = rnd(2) ? (int)rnd(300) : 0;
		st->rcpt = rnd(3) == 0 ? gen(0, 0) : NULL;
	}
	if (rnd(3))
		r->ehlo = gen_ehlo();
	if (rnd(3) == 0)
		gen_tls(record_tls(r));
	n = rnd(4);
	for (i = 0; i < n; i++) {
		s = gen(0, 0);
		record_add_finding(r, (enum finding_level)rnd(3),
		    rnd(2) ? "bare-lf" : "x\"y", (enum smtp_stage)rnd(
		    STAGE__COUNT), "%s", s);
		free(s);
	}
	r->rcpt_ok = (int)rnd(5);
	r->rcpt_rejected = (int)rnd(5);
	r->status = (enum result_status)rnd(5);
	r->fail_stage = (enum smtp_stage)rnd(STAGE__COUNT);
	r->message = gen(0, 1);
	r->fail_kind = (enum fail_kind)rnd(FAIL__COUNT);
	if (rnd(3) == 0) {
		r->checked = 1;
		r->check_ip = gen(0, 1);
		n = rnd(4);
		for (i = 0; i < n; i++) {
			for (k = 0; k < 6; k++)
				a[k] = gen(k == 0 || k == 4, k == 2 || k == 3);
			record_add_check(r, a[0], a[1], a[2], a[3], a[4], a[5]);
			for (k = 0; k < 6; k++)
				free(a[k]);
		}
	}
	if (rnd(3) == 0) {
		r->nresolution = 1 + rnd(3);
		r->resolution = xcalloc(r->nresolution, sizeof(char *));
		for (i = 0; i < r->nresolution; i++)
			r->resolution[i] = gen(0, 0);
	}
	if (rnd(4) == 0) {
		memset(&c, 0, sizeof(c));
		c.name = "open-relay";
		c.class = rnd(2) ? "relay" : "reply";
		c.level = (enum finding_level)rnd(3);
		c.title = "open relay";
		c.advice = "close it";
		c.stage = STAGE_RCPT;
		c.code = 250;
		record_conclude(r, &c);
	}
	return r;
}

/* check - the two writers agree on r, head or not */
static int
check(const struct record *r, int head, int with_verdict)
{
	struct jw_buf	 a = { NULL, 0, 0 }, b = { NULL, 0, 0 };
	struct verdict	 v;
	json_t		*doc;
	char		*want;
	int		 eq;

	doc = report_json_doc(r, "1.2.3-\"x\"");
	if (!head) {
		json_object_del(doc, "schema");
		json_object_del(doc, "tool");
	}
	want = json_dumps(doc, JW_FLAGS);
	jw_value(&a, doc);
	if (with_verdict)
		verdict_record(r, &v);
	report_jw_doc(&b, r, "1.2.3-\"x\"", head, with_verdict ? &v : NULL);
	eq = want != NULL && a.len == strlen(want) && b.len == a.len &&
	    memcmp(a.p, want, a.len) == 0 && memcmp(b.p, want, b.len) == 0;
	if (!eq)
		printf("# want %s\n# got  %.*s\n", want, (int)b.len, b.p);
	free(want);
	free(a.p);
	free(b.p);
	json_decref(doc);
	return eq;
}

int
main(void)
{
	struct record	*r;
	struct jw_buf	 o = { NULL, 0, 0 };
	int		 i, bad = 0, n = 4000;

	for (i = 0; i < n && bad < 5; i++) {
		r = gen_record();
		if (!check(r, i % 2, i % 3 == 0)) {
			printf("# record %d differs\n", i);
			bad++;
		}
		record_free(r);
	}
	ok(bad == 0, "%d generated records: the streamed JSON is the tree's "
	    "(json_dumps and jw_value)", n);

	r = record_new();
	r->host = xstrdup("mx.example");
	r->port = xstrdup("25");
	r->tls_mode = "none";
	r->message = xstrdup("bad \xc3(");
	report_jw_doc(&o, r, "1", 0, NULL);
	jw_need(&o, 1);
	o.p[o.len] = '\0';
	ok(o.len > 0 && jw_utf8(o.p, o.len) &&
	    strstr(o.p, "\"message\":\"bad \\\\xc3(\"") != NULL,
	    "invalid UTF-8 is written escaped: %.*s", (int)o.len, o.p);
	ok(check(r, 1, 0), "and the tree escapes it the same");
	record_free(r);
	free(o.p);

	for (i = 0, bad = 0; i < 400000; i++) {
		int64_t	 c = i < 200000 ? i : (int64_t)(seed = seed *
		    6364136223846793005ULL + 1) % 1000000000000LL;
		struct jw_buf	 x = { NULL, 0, 0 }, y = { NULL, 0, 0 };

		if (c < 0)
			c = -c;
		jw_cent(&x, c);
		jw_real(&y, (double)c / 100.0);
		if (x.len != y.len || memcmp(x.p, y.p, x.len) != 0) {
			if (bad++ < 3)
				printf("# %lld: %.*s, not %.*s\n", (long long)c,
				    (int)x.len, x.p, (int)y.len, y.p);
		}
		free(x.p);
		free(y.p);
	}
	ok(bad == 0, "jw_cent(n) is jw_real(n / 100.0): 0..199999 and "
	    "200,000 up to 10^12");

	ok(jw_utf8("caf\xc3\xa9 \xf0\x9f\x98\x80", 10) &&
	    !jw_utf8("\xed\xa0\x80", 3) && !jw_utf8("\xe0\x80\x80", 3) &&
	    !jw_utf8("\xf4\x90\x80\x80", 4) && !jw_utf8("\xc3", 1),
	    "jw_utf8 accepts UTF-8 and refuses surrogates, overlong "
	    "forms, code points above U+10FFFF and cut sequences");
	return tap_done();
}

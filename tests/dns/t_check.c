/*
 * t_check.c - the pre-flight checks (check.c) against the test zones
 * of tests/dns/servers.sh: PTR and FCrDNS, HELO, DNSBL listings and
 * error answers (v4 and v6), sender domain MX/SPF/DMARC, links in a
 * body with a domain list. Prints TAP; every item's evidence is shown
 * as a comment.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "check.h"
#include "dns.h"
#include "tap.h"
#include "dnstest.h"

static struct event_base	*base;
static struct dns_ctx		*dns;

static const char *const test_lists[] = { "zen.dnsbl.test", "bl.dnsbl.test",
    "broken.dnsbl.test", "odd.dnsbl.test", NULL };
static const char *const zen_only[] = { "zen.dnsbl.test", NULL };
static const char *const broken_only[] = { "broken.dnsbl.test", NULL };
static const char *const dbl_lists[] = { "dbl.dnsbl.test", NULL };

struct got {
	int			 done;
	int			 calls;
	struct check_result	*r;
};

static void
got_cb(struct check_result *r, void *arg)
{
	struct got	*g = arg;

	g->calls++;
	g->done = 1;
	g->r = r;
}

/* run - run the checks p asks for; the caller frees the result */
static struct check_result *
run(const struct check_params *p)
{
	struct got	 g;
	size_t		 i;

	memset(&g, 0, sizeof(g));
	check_run(base, dns, p, got_cb, &g);
	if (g.calls != 0)
		dt_bail("check_run called back synchronously");
	dt_loop(base, &g.done, 20000);
	if (g.r == NULL)
		dt_bail("check_run: no result");
	for (i = 0; i < g.r->nitems; i++)
		printf("#   %-10s %-5s %s%s%s: %s\n", g.r->items[i].name,
		    check_status_name(g.r->items[i].status),
		    g.r->items[i].subject, g.r->items[i].zone ? " @ " : "",
		    g.r->items[i].zone ? g.r->items[i].zone : "",
		    g.r->items[i].evidence);
	return g.r;
}

/* is - item name/subject exists with status st and evidence has s */
static void
is(const struct check_result *r, const char *name, const char *subject,
    enum check_status st, const char *s, const char *what)
{
	const struct check_item	*it = check_find(r, name, subject);

	ok(it != NULL && it->status == st && (s == NULL ||
	    strstr(it->evidence, s) != NULL), "%s: %s %s is %s%s%s", what,
	    name, subject ? subject : "", check_status_name(st),
	    it == NULL ? " (missing)" : "", it != NULL && it->status != st ?
	    " (wrong status)" : "");
}

/* zone_is - the dnsbl item for one zone */
static const struct check_item *
zone_item(const struct check_result *r, const char *zone)
{
	size_t	 i;

	for (i = 0; i < r->nitems; i++)
		if (strcmp(r->items[i].name, "dnsbl") == 0 &&
		    strcmp(r->items[i].zone, zone) == 0)
			return &r->items[i];
	return NULL;
}

static void
zone_is(const struct check_result *r, const char *zone,
    enum check_status st, const char *s, const char *what)
{
	const struct check_item	*it = zone_item(r, zone);

	ok(it != NULL && it->status == st && (s == NULL ||
	    strstr(it->evidence, s) != NULL), "%s: %s is %s", what, zone,
	    check_status_name(st));
}

static void
test_good(void)
{
	struct check_params	 p;
	struct check_result	*r;
	static const char	 body[] =
	    "Subject: offer\r\n\r\nVisit http://www.insecure.test/ and "
	    "https://promo.insecure.test/buy or "
	    "http://gone.insecure.test/x,\r\n"
	    "http://intranet/wiki and http://192.0.2.1/img.png\r\n";
	size_t			 i;
	int			 ordered = 1;

	memset(&p, 0, sizeof(p));
	p.ip = "203.0.113.5";
	p.helo = "mail.insecure.test";
	p.sender_domain = "sender-ok.insecure.test";
	p.dnsbl = test_lists;
	p.dbl = dbl_lists;
	p.body = body;
	p.body_len = sizeof(body) - 1;
	r = run(&p);
	is(r, "ptr", "203.0.113.5", CHECK_PASS, "mail.insecure.test",
	    "good host");
	is(r, "fcrdns", "203.0.113.5", CHECK_PASS, "forward-confirmed",
	    "good host");
	is(r, "helo-fqdn", "mail.insecure.test", CHECK_PASS, NULL,
	    "good host");
	is(r, "helo-dns", "mail.insecure.test", CHECK_PASS, "our address",
	    "good host");
	zone_is(r, "zen.dnsbl.test", CHECK_PASS, "not listed",
	    "not listed");
	zone_is(r, "bl.dnsbl.test", CHECK_ERROR, "public or open resolver",
	    "127.255.255.254 is an error, not a listing");
	ok(zone_item(r, "bl.dnsbl.test") != NULL &&
	    strstr(zone_item(r, "bl.dnsbl.test")->evidence, "not a listing") !=
	    NULL, "error evidence says it is not a listing");
	zone_is(r, "broken.dnsbl.test", CHECK_ERROR, "127.0.0.1",
	    "list that lists 127.0.0.1 is unusable");
	zone_is(r, "odd.dnsbl.test", CHECK_ERROR, "outside 127.0.0.0/8",
	    "answer outside 127/8 is an error");
	is(r, "sender-dns", NULL, CHECK_PASS, "mx1.insecure.test",
	    "good sender");
	is(r, "spf", NULL, CHECK_PASS, "v=spf1 ip4:203.0.113.0/24 -all",
	    "good sender");
	is(r, "dmarc", NULL, CHECK_PASS, "p=reject", "good sender");
	is(r, "url-hosts", NULL, CHECK_PASS, "5 links to 5 hosts", "body");
	is(r, "url-host", "www.insecure.test", CHECK_PASS, "192.0.2.80",
	    "body");
	is(r, "url-host", "promo.insecure.test", CHECK_PASS, NULL, "body");
	is(r, "url-host", "gone.insecure.test", CHECK_FAIL, "does not exist",
	    "body");
	is(r, "url-host", "intranet", CHECK_FAIL, "not a fully-qualified",
	    "body");
	is(r, "url-host", "192.0.2.1", CHECK_WARN, "bare IP", "body");
	is(r, "dbl", "www.insecure.test", CHECK_PASS, "not listed", "DBL");
	is(r, "dbl", "promo.insecure.test", CHECK_FAIL, "127.0.1.2", "DBL");
	ok(check_find(r, "dbl", "intranet") == NULL &&
	    check_find(r, "dbl", "192.0.2.1") == NULL,
	    "DBL asked only for FQDN hosts");
	ok(r->resolver != NULL && strcmp(r->resolver, dt_resolver) == 0,
	    "result names the resolver (%s)", r->resolver);
	/* fixed order: ptr, fcrdns, helo-*, dnsbl..., sender, urls */
	for (i = 0; i + 1 < r->nitems; i++)
		if (strcmp(r->items[i].name, "url-host") == 0 &&
		    strcmp(r->items[i + 1].name, "dnsbl") == 0)
			ordered = 0;
	ok(ordered && r->nitems > 2 && strcmp(r->items[0].name, "ptr") == 0 &&
	    strcmp(r->items[1].name, "fcrdns") == 0, "items in fixed order");
	ok(check_worst(r) == CHECK_FAIL, "worst status: fail");
	check_result_free(r);
}

static void
test_rdns(void)
{
	struct check_params	 p;
	struct check_result	*r;

	memset(&p, 0, sizeof(p));
	p.no_dnsbl = 1;
	p.ip = "203.0.113.6";
	r = run(&p);
	is(r, "ptr", "203.0.113.6", CHECK_WARN, "generic", "dynamic PTR");
	is(r, "fcrdns", "203.0.113.6", CHECK_FAIL, "does not lead back",
	    "PTR name without A");
	ok(zone_item(r, "zen.dnsbl.test") == NULL, "no_dnsbl: no lists");
	check_result_free(r);

	p.ip = "203.0.113.7";
	r = run(&p);
	is(r, "ptr", "203.0.113.7", CHECK_FAIL, "no PTR", "no PTR");
	is(r, "fcrdns", "203.0.113.7", CHECK_FAIL, NULL, "no PTR");
	check_result_free(r);

	p.ip = "203.0.113.8";
	r = run(&p);
	is(r, "ptr", "203.0.113.8", CHECK_PASS, "wrong.insecure.test",
	    "PTR to a name elsewhere");
	is(r, "fcrdns", "203.0.113.8", CHECK_FAIL, "203.0.113.99",
	    "PTR to a name elsewhere");
	check_result_free(r);

	p.ip = "2001:db8::25";
	p.no_dnsbl = 0;
	p.dnsbl = zen_only;
	r = run(&p);
	is(r, "ptr", "2001:db8::25", CHECK_PASS, "mail6.insecure.test",
	    "IPv6 PTR (ip6.arpa)");
	is(r, "fcrdns", "2001:db8::25", CHECK_PASS, NULL, "IPv6 FCrDNS");
	zone_is(r, "zen.dnsbl.test", CHECK_PASS, "not listed",
	    "IPv6 not listed, test entry ::ffff:7f00:2 listed");
	check_result_free(r);

	p.ip = "::ffff:203.0.113.5";
	p.no_dnsbl = 1;
	r = run(&p);
	is(r, "fcrdns", "203.0.113.5", CHECK_PASS, NULL,
	    "v4-mapped IPv6 taken as IPv4");
	check_result_free(r);

	p.ip = "192.168.1.10";
	p.no_dnsbl = 0;
	r = run(&p);
	is(r, "source-ip", "192.168.1.10", CHECK_WARN, "private",
	    "private address");
	ok(r->nitems == 1, "private address: no PTR or DNSBL lookups");
	check_result_free(r);

	p.ip = "not-an-ip";
	r = run(&p);
	is(r, "source-ip", "not-an-ip", CHECK_ERROR, NULL, "bad address");
	check_result_free(r);
}

static void
test_dnsbl(void)
{
	static const struct {
		const char		*ip;
		enum check_status	 st;
		const char		*evidence;
		const char		*what;
	} cases[] = {
		{ "192.0.2.20", CHECK_FAIL, "XBL/CBL-like listing for "
		    "192.0.2.20", "listed, TXT reason fetched" },
		{ "192.0.2.10", CHECK_FAIL, "127.0.0.10", "listed twice "
		    "(SBL and PBL datasets)" },
		{ "192.0.2.200", CHECK_FAIL, "127.0.0.11", "listed by range" },
		{ "198.51.100.1", CHECK_ERROR, "public or open resolver",
		    "127.255.255.254: error" },
		{ "198.51.100.2", CHECK_ERROR, "excessive", "127.255.255.255: "
		    "error" },
		{ "198.51.100.3", CHECK_ERROR, "typing error",
		    "127.255.255.252: error" },
		{ "198.51.100.4", CHECK_PASS, "not listed", "not listed" },
		{ "2001:db8:bad::25", CHECK_FAIL, "127.0.0.2", "IPv6 listed "
		    "(nibble query)" },
	};
	struct check_params	 p;
	struct check_result	*r;
	const struct check_item	*it;
	size_t			 i;

	memset(&p, 0, sizeof(p));
	p.dnsbl = zen_only;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p.ip = cases[i].ip;
		r = run(&p);
		zone_is(r, "zen.dnsbl.test", cases[i].st, cases[i].evidence,
		    cases[i].what);
		it = zone_item(r, "zen.dnsbl.test");
		if (cases[i].st == CHECK_ERROR)
			ok(it != NULL && strstr(it->evidence, "listed in") ==
			    NULL, "%s: error never reported as listed",
			    cases[i].ip);
		if (i == 1)
			ok(it != NULL && it->answer != NULL &&
			    strstr(it->answer, "127.0.0.2") != NULL &&
			    strstr(it->answer, "127.0.0.10") != NULL,
			    "both A records kept: %s", it && it->answer ?
			    it->answer : "-");
		check_result_free(r);
	}

	/* the RFC 5782 self-test is what exposes the broken list */
	p.dnsbl = broken_only;
	p.ip = "203.0.113.5";
	p.no_selftest = 1;
	r = run(&p);
	zone_is(r, "broken.dnsbl.test", CHECK_PASS, NULL,
	    "without self-test a broken list looks fine");
	check_result_free(r);
	p.no_selftest = 0;
	r = run(&p);
	zone_is(r, "broken.dnsbl.test", CHECK_ERROR, "RFC 5782",
	    "with self-test it is unusable");
	check_result_free(r);
}

static void
test_helo(void)
{
	static const struct {
		const char		*helo;
		const char		*item;
		enum check_status	 st;
		const char		*evidence;
	} cases[] = {
		{ "other.insecure.test", "helo-dns", CHECK_WARN,
		    "not to our address" },
		{ "mxonly.insecure.test", "helo-dns", CHECK_WARN, "MX but no" },
		{ "nosuch.insecure.test", "helo-dns", CHECK_FAIL,
		    "does not exist" },
		{ "localhost", "helo-fqdn", CHECK_FAIL, "504 5.5.2" },
		{ "mail", "helo-fqdn", CHECK_FAIL, "not a fully-qualified" },
		{ "[203.0.113.5]", "helo-fqdn", CHECK_WARN, "address literal" },
		{ "[203.0.113.5]", "helo-dns", CHECK_PASS, "matches" },
		{ "[203.0.113.9]", "helo-dns", CHECK_FAIL, "not our address" },
	};
	struct check_params	 p;
	struct check_result	*r;
	size_t			 i;

	memset(&p, 0, sizeof(p));
	p.ip = "203.0.113.5";
	p.no_dnsbl = 1;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p.helo = cases[i].helo;
		r = run(&p);
		is(r, cases[i].item, cases[i].helo, cases[i].st,
		    cases[i].evidence, "HELO");
		check_result_free(r);
	}
	p.ip = NULL;
	p.helo = "other.insecure.test";
	r = run(&p);
	is(r, "helo-dns", p.helo, CHECK_PASS, "198.51.100.77",
	    "HELO without our IP: resolving is enough");
	ok(check_find(r, "ptr", NULL) == NULL, "no IP: no PTR check");
	check_result_free(r);
}

static void
test_sender(void)
{
	static const struct {
		const char		*domain;
		const char		*item;
		enum check_status	 st;
		const char		*evidence;
	} cases[] = {
		{ "sender-a.insecure.test", "sender-dns", CHECK_PASS,
		    "implicit MX" },
		{ "sender-a.insecure.test", "spf", CHECK_WARN, "no SPF" },
		{ "sender-a.insecure.test", "dmarc", CHECK_PASS,
		    "organizational domain" },
		{ "sender-twospf.insecure.test", "spf", CHECK_FAIL,
		    "2 SPF records" },
		{ "sender-null.insecure.test", "sender-dns", CHECK_FAIL,
		    "null MX" },
		{ "nosuch.insecure.test", "sender-dns", CHECK_FAIL,
		    "does not exist" },
		{ "implicit.secure.test", "dmarc", CHECK_WARN,
		    "no DMARC record" },
		{ "nothing.secure.test", "sender-dns", CHECK_FAIL,
		    "neither MX nor A" },
		{ "txt.secure.test", "spf", CHECK_PASS, "-all" },
		{ "@sender-ok.insecure.test", "dmarc", CHECK_PASS, "p=reject" },
	};
	struct check_params	 p;
	struct check_result	*r;
	size_t			 i;

	memset(&p, 0, sizeof(p));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p.sender_domain = cases[i].domain;
		r = run(&p);
		is(r, cases[i].item, NULL, cases[i].st, cases[i].evidence,
		    cases[i].domain);
		check_result_free(r);
	}
}

static void
test_misc(void)
{
	struct check_params	 p;
	struct check_result	*r;
	struct check_run	*cr;
	struct got		 g;
	struct dns_params	 dp;
	struct dns_ctx		*dead_dns, *keep;
	char			 dead[80], err[200];
	int			 never = 0;

	memset(&p, 0, sizeof(p));
	r = run(&p);
	ok(r->nitems == 0, "nothing asked: empty result, delivered later");
	check_result_free(r);

	p.body = "plain text";
	p.body_len = 10;
	r = run(&p);
	is(r, "url-hosts", NULL, CHECK_PASS, "no http", "body without links");
	check_result_free(r);

	memset(&p, 0, sizeof(p));
	p.ip = "203.0.113.5";
	p.helo = "mail.insecure.test";
	p.sender_domain = "sender-ok.insecure.test";
	p.dnsbl = test_lists;
	memset(&g, 0, sizeof(g));
	cr = check_run(base, dns, &p, got_cb, &g);
	check_cancel(cr);
	dt_loop(base, &never, 300);
	ok(g.calls == 0, "cancelled run: no callback");

	dt_fake_start("dead", "-d", dead, sizeof(dead));
	memset(&dp, 0, sizeof(dp));
	dp.resolver = dead;
	dp.timeout_ms = 200;
	dp.attempts = 1;
	if ((dead_dns = dns_ctx_new(base, &dp, err, sizeof(err))) == NULL)
		dt_bail("dns_ctx_new: %s", err);
	keep = dns;
	dns = dead_dns;
	p.dnsbl = zen_only;
	r = run(&p);
	is(r, "ptr", "203.0.113.5", CHECK_ERROR, "timeout", "dead resolver");
	is(r, "fcrdns", "203.0.113.5", CHECK_ERROR, NULL, "dead resolver");
	zone_is(r, "zen.dnsbl.test", CHECK_ERROR, "timeout",
	    "dead resolver: DNSBL unknown, not \"not listed\"");
	is(r, "helo-dns", NULL, CHECK_ERROR, NULL, "dead resolver");
	is(r, "sender-dns", NULL, CHECK_ERROR, NULL, "dead resolver");
	is(r, "spf", NULL, CHECK_ERROR, NULL, "dead resolver");
	check_result_free(r);
	dns = keep;
	dns_ctx_free(dead_dns);
}

int
main(void)
{
	struct dns_params	 dp;
	char			 err[200];

	dt_init("t_check");
	if ((base = event_base_new()) == NULL)
		dt_bail("event_base_new");
	dt_servers_start();
	memset(&dp, 0, sizeof(dp));
	dp.resolver = dt_resolver;
	dp.timeout_ms = 2000;
	if ((dns = dns_ctx_new(base, &dp, err, sizeof(err))) == NULL)
		dt_bail("dns_ctx_new: %s", err);

	test_good();
	test_rdns();
	test_dnsbl();
	test_helo();
	test_sender();
	test_misc();

	dns_ctx_free(dns);
	event_base_free(base);
	dt_stop();
	return tap_done();
}

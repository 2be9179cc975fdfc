/*
 * t_dns.c - dns.c against real servers on loopback (unbound with the
 * test zones, rbldnsd behind it; tests/dns/servers.sh) and against
 * tests/dnsfake for what a real server will not do on demand:
 * truncation, SERVFAIL, silence, spoofed answers. Prints TAP.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "dns.h"
#include "log.h"
#include "tap.h"
#include "dnstest.h"

struct got {
	int		 done;
	int		 calls;
	enum dns_status	 status;
	char		 error[32];
	char		 detail[512];
	int		 ad, tcp, rcode, ede, tries;
	long		 ms;
	char		 canon[256];
	char		 server[80];
	char		 addrs[8][46];
	size_t		 naddrs;
	char		 names[8][256];
	size_t		 nnames;
	char		 txt[512];
	size_t		 ntxts;
	struct {
		unsigned pref;
		char	 host[256];
	}		 mx[8];
	size_t		 nmx;
	int		 tlsa_usage, tlsa_sel, tlsa_mtype;
	size_t		 tlsa_len;
	unsigned char	 tlsa_first;
	size_t		 ntlsa;
};

struct mxgot {
	int		 done;
	struct dns_mxset *set;
};

static struct event_base	*base;
static char			 fake[80], dead[80], closed[80];

static void
got_cb(const struct dns_result *r, void *arg)
{
	struct got	*g = arg;
	size_t		 i;

	g->calls++;
	g->done = 1;
	g->status = r->status;
	snprintf(g->error, sizeof(g->error), "%s", r->error ? r->error : "");
	snprintf(g->detail, sizeof(g->detail), "%s", r->detail);
	g->ad = r->ad;
	g->tcp = r->tcp;
	g->rcode = r->rcode;
	g->ede = r->ede;
	g->tries = r->tries;
	g->ms = r->ms;
	snprintf(g->canon, sizeof(g->canon), "%s", r->canon);
	snprintf(g->server, sizeof(g->server), "%s", r->server);
	for (i = 0; i < r->naddrs && i < 8; i++)
		snprintf(g->addrs[i], sizeof(g->addrs[i]), "%s",
		    r->addrs[i].text);
	g->naddrs = r->naddrs;
	for (i = 0; i < r->nnames && i < 8; i++)
		snprintf(g->names[i], sizeof(g->names[i]), "%s", r->names[i]);
	g->nnames = r->nnames;
	if (r->ntxts > 0)
		snprintf(g->txt, sizeof(g->txt), "%s", r->txts[0]);
	g->ntxts = r->ntxts;
	for (i = 0; i < r->nmx && i < 8; i++) {
		g->mx[i].pref = r->mx[i].pref;
		snprintf(g->mx[i].host, sizeof(g->mx[i].host), "%s",
		    r->mx[i].host);
	}
	g->nmx = r->nmx;
	g->ntlsa = r->ntlsa;
	if (r->ntlsa > 0) {
		g->tlsa_usage = r->tlsa[0].usage;
		g->tlsa_sel = r->tlsa[0].selector;
		g->tlsa_mtype = r->tlsa[0].mtype;
		g->tlsa_len = r->tlsa[0].len;
		g->tlsa_first = r->tlsa[0].len > 0 ? r->tlsa[0].data[0] : 0;
	}
}

static struct dns_ctx *
ctx_new(const char *resolver, long timeout_ms, int attempts)
{
	struct dns_params	 p;
	struct dns_ctx		*ctx;
	char			 err[256];

	memset(&p, 0, sizeof(p));
	p.resolver = resolver;
	p.timeout_ms = timeout_ms;
	p.attempts = attempts;
	if ((ctx = dns_ctx_new(base, &p, err, sizeof(err))) == NULL)
		dt_bail("dns_ctx_new(%s): %s", resolver, err);
	return ctx;
}

/* q1 - one query, run to completion */
static void
q1(struct dns_ctx *ctx, const char *name, uint16_t type, struct got *g)
{
	memset(g, 0, sizeof(*g));
	dns_query(ctx, name, type, got_cb, g);
	ok(g->calls == 0, "%s: no callback before dns_query returns", name);
	dt_loop(base, &g->done, 15000);
}

static void
mx_cb(struct dns_mxset *set, void *arg)
{
	struct mxgot	*m = arg;

	m->set = set;
	m->done = 1;
}

static struct dns_mxset *
mx1(struct dns_ctx *ctx, const char *domain)
{
	struct mxgot	 m;

	memset(&m, 0, sizeof(m));
	dns_mx_resolve(ctx, domain, mx_cb, &m);
	dt_loop(base, &m.done, 15000);
	if (m.set == NULL)
		dt_bail("MX %s: no result", domain);
	return m.set;
}

static void
print_notes(const struct dns_mxset *s)
{
	size_t	 i;

	for (i = 0; i < s->nnotes; i++)
		printf("#   %s\n", s->notes[i]);
}

static int
host_has(const struct dns_mxhost *h, const char *addr)
{
	size_t	 i;

	for (i = 0; i < h->naddrs; i++)
		if (strcmp(h->addrs[i].text, addr) == 0)
			return 1;
	return 0;
}

static void
test_mx(void)
{
	struct dns_ctx		*ctx = ctx_new(dt_resolver, 2000, 2);
	struct dns_mxset	*s;

	s = mx1(ctx, "secure.test");
	print_notes(s);
	ok(s->kind == DNS_MX_EXPLICIT && s->status == DNS_OK &&
	    s->error == NULL, "MX secure.test: explicit, usable");
	ok(s->nhosts == 3, "MX secure.test: 3 hosts (%zu)", s->nhosts);
	if (s->nhosts == 3) {
		ok(s->hosts[0].pref == 10 && s->hosts[1].pref == 10 &&
		    s->hosts[2].pref == 20, "MX ordered by preference");
		ok(strcmp(s->hosts[2].name, "mx3.secure.test") == 0,
		    "MX preference 20 comes last");
		ok((strcmp(s->hosts[0].name, "mx1.secure.test") == 0) !=
		    (strcmp(s->hosts[1].name, "mx1.secure.test") == 0),
		    "MX mx1 among the preference-10 hosts");
	}
	ok(s->ad == 1, "MX answer of a signed zone has AD");
	{
		size_t	 i;
		int	 mx1ok = 0, mx3ok = 0, noself = 1;

		for (i = 0; i < s->nhosts; i++) {
			if (strcmp(s->hosts[i].name, "mx1.secure.test") == 0)
				mx1ok = host_has(&s->hosts[i], "127.0.0.1") &&
				    host_has(&s->hosts[i], "::1") &&
				    s->hosts[i].addrs[0].family == AF_INET;
			if (strcmp(s->hosts[i].name, "mx3.secure.test") == 0)
				mx3ok = host_has(&s->hosts[i], "127.0.0.3") &&
				    host_has(&s->hosts[i], "2001:db8::3");
			if (host_has(&s->hosts[i], "192.0.2.99"))
				noself = 0;
		}
		ok(mx1ok, "MX host mx1: A then AAAA (127.0.0.1, ::1)");
		ok(mx3ok, "MX host mx3: A and AAAA");
		ok(noself, "domain's own A record not used when MX exist");
	}
	ok(s->nnotes >= 4, "MX resolution path noted (%zu lines)", s->nnotes);
	dns_mxset_free(s);

	s = mx1(ctx, "implicit.secure.test");
	print_notes(s);
	ok(s->kind == DNS_MX_IMPLICIT && s->error == NULL && s->nhosts == 1 &&
	    strcmp(s->hosts[0].name, "implicit.secure.test") == 0 &&
	    s->hosts[0].pref == 0, "implicit MX: the domain at pref 0");
	ok(s->nhosts == 1 && host_has(&s->hosts[0], "127.0.0.1") &&
	    host_has(&s->hosts[0], "::1"), "implicit MX: A and AAAA");
	dns_mxset_free(s);

	s = mx1(ctx, "nullmx.secure.test");
	print_notes(s);
	ok(s->kind == DNS_MX_NULL && s->nhosts == 0 && s->error != NULL &&
	    strcmp(s->error, "nullmx") == 0, "null MX reported as such");
	dns_mxset_free(s);

	s = mx1(ctx, "badnull.secure.test");
	print_notes(s);
	ok(s->kind == DNS_MX_EXPLICIT && s->bad_null_mx && s->nhosts == 1 &&
	    strcmp(s->hosts[0].name, "mx1.secure.test") == 0,
	    "null MX mixed with real MX: flagged, real MX kept");
	dns_mxset_free(s);

	s = mx1(ctx, "nosuch.secure.test");
	print_notes(s);
	ok(s->kind == DNS_MX_NONE && s->status == DNS_NXDOMAIN &&
	    s->nhosts == 0 && strcmp(s->error, "nxdomain") == 0,
	    "NXDOMAIN: an error, no implicit MX");
	dns_mxset_free(s);

	s = mx1(ctx, "nothing.secure.test");
	print_notes(s);
	ok(s->kind == DNS_MX_IMPLICIT && s->status == DNS_NODATA &&
	    s->error != NULL && strcmp(s->error, "noaddress") == 0,
	    "no MX and no address: noaddress");
	dns_mxset_free(s);

	s = mx1(ctx, "noaddr.secure.test");
	print_notes(s);
	ok(s->kind == DNS_MX_EXPLICIT && s->status == DNS_NODATA &&
	    s->error != NULL && strcmp(s->error, "noaddress") == 0 &&
	    s->nhosts == 1 && s->hosts[0].a_status == DNS_NXDOMAIN,
	    "MX host without address: noaddress");
	dns_mxset_free(s);

	s = mx1(ctx, "cnamed.secure.test");
	print_notes(s);
	ok(s->nhosts == 1 && s->hosts[0].canon != NULL &&
	    strcmp(s->hosts[0].canon, "mx1.secure.test") == 0 &&
	    host_has(&s->hosts[0], "127.0.0.1"),
	    "MX host that is a CNAME: followed and noted");
	dns_mxset_free(s);

	s = mx1(ctx, "Secure.Test.");
	ok(s->nhosts == 3 && strcmp(s->domain, "Secure.Test") == 0,
	    "MX: trailing dot and case accepted");
	dns_mxset_free(s);
	dns_ctx_free(ctx);
}

/* first_mx - name of the first host of secure.test with seed (or none) */
static char *
first_mx(int seeded, uint64_t seed)
{
	struct dns_ctx		*ctx = ctx_new(dt_resolver, 2000, 2);
	struct dns_mxset	*s;
	char			*name;

	if (seeded)
		dns_ctx_set_seed(ctx, seed);
	s = mx1(ctx, "secure.test");
	name = xstrdup(s->nhosts > 0 ? s->hosts[0].name : "-");
	dns_mxset_free(s);
	dns_ctx_free(ctx);
	return name;
}

static void
test_mx_random(void)
{
	char		*a, *b;
	int		 seen1 = 0, seen2 = 0, same = 1, i;
	uint64_t	 seed;
	int		 s1 = 0, s2 = 0;

	for (i = 0; i < 40; i++) {
		a = first_mx(0, 0);
		seen1 += strcmp(a, "mx1.secure.test") == 0;
		seen2 += strcmp(a, "mx2.secure.test") == 0;
		free(a);
	}
	ok(seen1 > 0 && seen2 > 0 && seen1 + seen2 == 40,
	    "equal preference randomised: mx1 first %d times, mx2 %d of 40",
	    seen1, seen2);
	for (seed = 1; seed <= 16; seed++) {
		a = first_mx(1, seed);
		for (i = 0; i < 3; i++) {
			b = first_mx(1, seed);
			same = same && strcmp(a, b) == 0;
			free(b);
		}
		s1 += strcmp(a, "mx1.secure.test") == 0;
		s2 += strcmp(a, "mx2.secure.test") == 0;
		free(a);
	}
	ok(same, "same seed, same order (16 seeds x 4 runs; answer order "
	    "from unbound rotates)");
	ok(s1 > 0 && s2 > 0, "different seeds give both orders (%d/%d)", s1,
	    s2);
}

static void
test_records(void)
{
	struct dns_ctx	*ctx = ctx_new(dt_resolver, 2000, 2);
	struct got	 g;
	char		 name[200];

	q1(ctx, "mx1.secure.test", DNS_T_A, &g);
	ok(g.status == DNS_OK && g.naddrs == 1 &&
	    strcmp(g.addrs[0], "127.0.0.1") == 0 && g.ad == 1 &&
	    g.rcode == 0, "A mx1.secure.test: 127.0.0.1, AD");
	q1(ctx, "mx1.secure.test", DNS_T_AAAA, &g);
	ok(g.status == DNS_OK && g.naddrs == 1 &&
	    strcmp(g.addrs[0], "::1") == 0, "AAAA mx1.secure.test: ::1");
	q1(ctx, "mail.insecure.test", DNS_T_A, &g);
	ok(g.status == DNS_OK && g.ad == 0, "unsigned zone: no AD");
	q1(ctx, "mx2.secure.test", DNS_T_AAAA, &g);
	ok(g.status == DNS_NODATA && strcmp(g.error, "nodata") == 0 &&
	    g.naddrs == 0, "AAAA without records: nodata (%s)", g.detail);
	q1(ctx, "nosuch.secure.test", DNS_T_A, &g);
	ok(g.status == DNS_NXDOMAIN && strcmp(g.error, "nxdomain") == 0 &&
	    g.rcode == 3 && g.ad == 1, "NXDOMAIN, with AD (%s)", g.detail);
	q1(ctx, "www.bogus.test", DNS_T_A, &g);
	ok(g.status == DNS_SERVFAIL && strcmp(g.error, "servfail") == 0,
	    "bogus DNSSEC: SERVFAIL (%s)", g.detail);
	ok(g.ede == 6 || g.ede == 9 || g.ede >= 0,
	    "SERVFAIL carries an EDE code (%d)", g.ede);
	q1(ctx, "alias.secure.test", DNS_T_A, &g);
	ok(g.status == DNS_OK && strcmp(g.canon, "mx1.secure.test") == 0 &&
	    g.naddrs == 1, "CNAME followed: canon %s", g.canon);
	q1(ctx, "txt.secure.test", DNS_T_TXT, &g);
	ok(g.status == DNS_OK && g.ntxts == 1 &&
	    strcmp(g.txt, "v=spf1 ip4:192.0.2.0/24 -all") == 0,
	    "TXT strings joined: \"%s\"", g.txt);
	q1(ctx, "_25._tcp.mx1.secure.test", DNS_T_TLSA, &g);
	ok(g.status == DNS_OK && g.ntlsa == 1 && g.tlsa_usage == 3 &&
	    g.tlsa_sel == 1 && g.tlsa_mtype == 1 && g.tlsa_len == 32 &&
	    g.tlsa_first == 0x0f && g.ad == 1, "TLSA 3 1 1, 32 bytes, AD");
	q1(ctx, "secure.test", DNS_T_MX, &g);
	ok(g.status == DNS_OK && g.nmx == 3, "raw MX query: 3 records");

	dns_query_ptr(ctx, "203.0.113.5", got_cb, memset(&g, 0, sizeof(g)));
	dt_loop(base, &g.done, 15000);
	ok(g.status == DNS_OK && g.nnames == 1 &&
	    strcmp(g.names[0], "mail.insecure.test") == 0,
	    "PTR 203.0.113.5: mail.insecure.test");
	dns_query_ptr(ctx, "2001:db8::25", got_cb, memset(&g, 0, sizeof(g)));
	dt_loop(base, &g.done, 15000);
	ok(g.status == DNS_OK && g.nnames == 1 &&
	    strcmp(g.names[0], "mail6.insecure.test") == 0,
	    "PTR 2001:db8::25 (ip6.arpa): mail6.insecure.test");
	dns_query_ptr(ctx, "203.0.113.7", got_cb, memset(&g, 0, sizeof(g)));
	dt_loop(base, &g.done, 15000);
	ok(g.status == DNS_NXDOMAIN, "PTR 203.0.113.7: none");
	dns_query_ptr(ctx, "not-an-ip", got_cb, memset(&g, 0, sizeof(g)));
	ok(g.calls == 0, "bad PTR address: no synchronous callback");
	dt_loop(base, &g.done, 15000);
	ok(g.status == DNS_INVALID && g.tries == 0,
	    "bad PTR address: invalid, nothing sent (%s)", g.detail);

	ok(dns_reverse_name("2001:db8:bad::25", "zen.dnsbl.test", name,
	    sizeof(name)) == 6, "v6 DNSBL name built");
	q1(ctx, name, DNS_T_A, &g);
	ok(g.status == DNS_OK && g.naddrs == 1 &&
	    strcmp(g.addrs[0], "127.0.0.2") == 0,
	    "v6 DNSBL query via rbldnsd: 127.0.0.2");
	q1(ctx, "10.2.0.192.zen.dnsbl.test", DNS_T_A, &g);
	ok(g.status == DNS_OK && g.naddrs == 2, "v4 DNSBL: two A records");

	q1(ctx, "bad name", DNS_T_A, &g);
	ok(g.status == DNS_INVALID && strcmp(g.error, "invalid") == 0,
	    "name with a space: invalid");
	q1(ctx, "a..b", DNS_T_A, &g);
	ok(g.status == DNS_INVALID, "empty label: invalid");
	dns_ctx_free(ctx);

	if (dt_resolver6[0] != '\0') {
		ctx = ctx_new(dt_resolver6, 2000, 2);
		q1(ctx, "mx1.secure.test", DNS_T_AAAA, &g);
		ok(g.status == DNS_OK && g.naddrs == 1 &&
		    strncmp(g.server, "[::1]:", 6) == 0,
		    "resolver on [::1]: answer from %s", g.server);
		dns_ctx_free(ctx);
	} else
		ok(1, "resolver on [::1] # SKIP no IPv6 loopback");
}

static void
test_fake(void)
{
	struct dns_ctx	*ctx = ctx_new(fake, 1000, 2);
	struct got	 g;
	char		 two[200];

	q1(ctx, "tc.example", DNS_T_MX, &g);
	ok(g.status == DNS_OK && g.tcp == 1 && g.nmx == 2 && g.tries == 2,
	    "TC=1 over UDP: retried over TCP (%zu MX, %d packets)", g.nmx,
	    g.tries);
	ok(dt_fake_log_has("fake", "tcp tc.example. MX"),
	    "the server saw the TCP query");
	q1(ctx, "tcpbad.example", DNS_T_A, &g);
	ok(g.status == DNS_NETWORK && strcmp(g.error, "network") == 0,
	    "TCP closed without answer: network (%s)", g.detail);
	q1(ctx, "servfail.example", DNS_T_A, &g);
	ok(g.status == DNS_SERVFAIL && g.tries == 1,
	    "SERVFAIL from the only server: delivered, not retried");
	q1(ctx, "refused.example", DNS_T_A, &g);
	ok(g.status == DNS_REFUSED && strcmp(g.error, "refused") == 0,
	    "REFUSED (%s)", g.detail);
	q1(ctx, "nx.example", DNS_T_A, &g);
	ok(g.status == DNS_NXDOMAIN, "NXDOMAIN from the fake");
	q1(ctx, "spoof.example", DNS_T_A, &g);
	ok(g.status == DNS_OK && g.naddrs == 1 &&
	    strcmp(g.addrs[0], "192.0.2.1") == 0,
	    "wrong ID, wrong question and garbage ignored (%s)",
	    g.naddrs ? g.addrs[0] : "none");
	q1(ctx, "x.example", DNS_T_TXT, &g);
	ok(g.status == DNS_OK && strcmp(g.txt, "hello world") == 0,
	    "TXT joined without separator: \"%s\"", g.txt);
	dns_ctx_free(ctx);

	/* SERVFAIL from the first server: the second one answers */
	snprintf(two, sizeof(two), "%s,%s", fake, dt_resolver);
	ctx = ctx_new(two, 1000, 1);
	q1(ctx, "servfail.secure.test", DNS_T_A, &g);
	ok(g.status == DNS_NXDOMAIN && strcmp(g.server, dt_resolver) == 0,
	    "SERVFAIL, next server asked: %s from %s", g.error, g.server);
	dns_ctx_free(ctx);

	ctx = ctx_new(fake, 700, 1);
	q1(ctx, "slow.example", DNS_T_A, &g);
	ok(g.status == DNS_TIMEOUT, "slow answer after the timeout: timeout");
	dns_ctx_free(ctx);
	ctx = ctx_new(fake, 3000, 1);
	q1(ctx, "slow.example", DNS_T_A, &g);
	ok(g.status == DNS_OK && g.ms >= 1400,
	    "slow answer within the timeout: ok after %ld ms", g.ms);
	dns_ctx_free(ctx);
}

static void
test_dead(void)
{
	struct dns_ctx		*ctx;
	struct dns_mxset	*s;
	struct got		 g;
	char			 two[200];

	ctx = ctx_new(dead, 300, 2);
	q1(ctx, "a.example", DNS_T_A, &g);
	ok(g.status == DNS_TIMEOUT && strcmp(g.error, "timeout") == 0 &&
	    g.tries == 2, "dead resolver: timeout after 2 tries (%s)",
	    g.detail);
	ok(g.ms >= 550 && g.ms < 3000,
	    "dead resolver: gave up in %ld ms (2 x 300 ms)", g.ms);
	s = mx1(ctx, "secure.test");
	ok(s->kind == DNS_MX_NONE && s->status == DNS_TIMEOUT,
	    "MX via dead resolver: timeout, no hosts");
	dns_mxset_free(s);
	dns_ctx_free(ctx);

	snprintf(two, sizeof(two), "%s,%s", dead, dt_resolver);
	ctx = ctx_new(two, 300, 2);
	q1(ctx, "mx2.secure.test", DNS_T_A, &g);
	ok(g.status == DNS_OK && g.ms >= 250 &&
	    strcmp(g.server, dt_resolver) == 0,
	    "dead first server: second answers after %ld ms", g.ms);
	dns_ctx_free(ctx);

	ctx = ctx_new(closed, 300, 2);
	q1(ctx, "a.example", DNS_T_A, &g);
	ok(g.status == DNS_NETWORK && g.ms < 300,
	    "closed port (ICMP refused): network error at once (%s, %ld ms)",
	    g.detail, g.ms);
	dns_ctx_free(ctx);
}

static void
free_in_cb(const struct dns_result *r, void *arg)
{
	struct dns_ctx	**ctx = arg;

	dns_ctx_free(*ctx);
	*ctx = NULL;
}

static void
mx_never(struct dns_mxset *set, void *arg)
{
	int	*calls = arg;

	(*calls)++;
	dns_mxset_free(set);
}

static void
test_cancel(void)
{
	struct dns_ctx		*ctx, *c2;
	struct dns_query	*q;
	struct dns_mxq		*m;
	struct got		 g;
	int			 never = 0, calls = 0;

	ctx = ctx_new(dead, 200, 1);
	memset(&g, 0, sizeof(g));
	q = dns_query(ctx, "a.example", DNS_T_A, got_cb, &g);
	dns_cancel(q);
	dt_loop(base, &never, 500);
	ok(g.calls == 0, "cancelled query: no callback");

	memset(&g, 0, sizeof(g));
	dns_query(ctx, "a.example", DNS_T_A, got_cb, &g);
	dns_query(ctx, "b.example", DNS_T_A, got_cb, &g);
	m = dns_mx_resolve(ctx, "c.example", mx_never, &calls);
	(void)m;
	dns_ctx_free(ctx);
	dt_loop(base, &never, 400);
	ok(g.calls == 0 && calls == 0,
	    "context freed with pending queries: no callbacks");

	ctx = ctx_new(fake, 3000, 1);
	m = dns_mx_resolve(ctx, "secure.test", mx_never, &calls);
	dns_mx_cancel(m);
	m = dns_mx_resolve(ctx, "slowmx.example", mx_never, &calls);
	dt_loop(base, &never, 700);
	ok(dt_fake_log_has("fake", "udp slow.mx2.slowmx.example. AAAA"),
	    "MX answered, address lookups under way");
	dns_mx_cancel(m);
	dt_loop(base, &never, 1500);
	ok(calls == 0, "cancelled MX resolution: no callback");

	c2 = ctx_new(dt_resolver, 2000, 2);
	dns_query(c2, "mx1.secure.test", DNS_T_A, free_in_cb, &c2);
	dns_query(c2, "mx2.secure.test", DNS_T_A, got_cb, memset(&g, 0,
	    sizeof(g)));
	dns_mx_resolve(c2, "secure.test", mx_never, &calls);
	dt_loop(base, &never, 500);
	ok(c2 == NULL && calls == 0,
	    "context freed from a callback: other queries dropped");
	dns_ctx_free(ctx);
}

/* closed_port - a UDP port on 127.0.0.1 with nobody behind it */
static void
closed_port(char *buf, size_t len)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	int			 fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ==
	    -1 || getsockname(fd, (struct sockaddr *)&sin, &sl) == -1)
		dt_bail("closed_port");
	close(fd);
	snprintf(buf, len, "127.0.0.1:%u", ntohs(sin.sin_port));
}

int
main(void)
{
	dt_init("t_dns");
	if ((base = event_base_new()) == NULL)
		dt_bail("event_base_new");
	dt_servers_start();
	dt_fake_start("fake", NULL, fake, sizeof(fake));
	dt_fake_start("dead", "-d", dead, sizeof(dead));
	closed_port(closed, sizeof(closed));

	test_mx();
	test_mx_random();
	test_records();
	test_fake();
	test_dead();
	test_cancel();

	event_base_free(base);
	dt_stop();
	return tap_done();
}

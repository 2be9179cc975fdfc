/*
 * check_items.c - the verdicts of a check run: when its last lookup is
 * done, check_finish() turns the run's state into items (pass, warn,
 * fail, error, with evidence), always in the same order, and hands
 * them to the caller (see include/check.h; the run's state is in
 * check_int.h).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "check_int.h"
#include "dns.h"
#include "log.h"
#include "util.h"

static void	check_add(struct check_result *, const char *, const char *,
		    const char *, const char *, enum check_status,
		    const char *, ...) __attribute__((format(printf, 7, 8)));

/*
 * ---- verdicts ----
 */

static void
check_add(struct check_result *res, const char *name, const char *subject,
    const char *zone, const char *answer, enum check_status st,
    const char *fmt, ...)
{
	struct check_item	*it;
	va_list			 ap;

	res->items = xreallocarray(res->items, res->nitems + 1,
	    sizeof(*res->items));
	it = &res->items[res->nitems++];
	it->name = name;
	it->subject = xstrdup(subject != NULL ? subject : "");
	it->zone = zone != NULL ? xstrdup(zone) : NULL;
	it->answer = answer != NULL ? xstrdup(answer) : NULL;
	it->status = st;
	va_start(ap, fmt);
	if (vasprintf(&it->evidence, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
}

/* check_temp - 1 for failures that say nothing about the data */
static int
check_temp(enum dns_status s)
{
	return s == DNS_TIMEOUT || s == DNS_SERVFAIL || s == DNS_NETWORK ||
	    s == DNS_REFUSED || s == DNS_INVALID;
}

static void
check_items_ip(struct check_run *run, struct check_result *res)
{
	const char	*ip = run->ip.text;
	size_t		 i;
	char		*names = NULL, *seen = NULL;
	int		 match = -1, temp = 0;

	if (run->ip.family == -1) {
		check_add(res, "source-ip", ip, NULL, NULL, CHECK_ERROR,
		    "\"%s\" is not an IP address", ip);
		return;
	}
	if (run->ip.family == 0)
		return;
	if (run->ip_private) {
		check_add(res, "source-ip", ip, NULL, NULL, CHECK_WARN,
		    "%s is a private address: servers see the public address "
		    "of your NAT; give that one (--public-ip) to check its "
		    "PTR and DNSBL listings", ip);
		return;
	}
	if (!run->ptr_done)
		return;
	if (run->ptr_st == DNS_OK) {
		for (i = 0; i < run->nfwd; i++)
			check_append(&names, ", ", "%s", run->fwd[i].name);
		if (run->nfwd == 1 && check_ptr_generic(names, ip))
			check_add(res, "ptr", ip, NULL, names, CHECK_WARN,
			    "%s has PTR %s, which looks generic or dynamic; "
			    "many servers treat that like no PTR: ask your "
			    "provider for a name of your own", ip, names);
		else
			check_add(res, "ptr", ip, NULL, names, CHECK_PASS,
			    "%s has PTR %s%s", ip, names, run->nptr > 1 ?
			    " (several PTR records; one is usual)" : "");
		for (i = 0; i < run->nfwd; i++) {
			struct check_fwd *f = &run->fwd[i];

			if (f->match) {
				match = (int)i;
				break;
			}
			if (check_temp(f->st))
				temp = 1;
			check_append(&seen, "; ", "%s -> %s", f->name,
			    f->addrs != NULL ? f->addrs :
			    dns_status_name(f->st));
		}
		if (match >= 0)
			check_add(res, "fcrdns", ip, NULL,
			    run->fwd[match].name, CHECK_PASS,
			    "%s -> %s -> %s: forward-confirmed", ip,
			    run->fwd[match].name, ip);
		else if (temp)
			check_add(res, "fcrdns", ip, NULL, NULL, CHECK_ERROR,
			    "could not confirm %s: %s", ip, seen);
		else
			check_add(res, "fcrdns", ip, NULL, NULL, CHECK_FAIL,
			    "PTR of %s does not lead back to it (%s); servers "
			    "say \"cannot find your hostname\": add an %s "
			    "record for the name", ip, seen,
			    run->ip.family == AF_INET ? "A" : "AAAA");
		free(names);
		free(seen);
		return;
	}
	if (check_temp(run->ptr_st)) {
		check_add(res, "ptr", ip, NULL, NULL, CHECK_ERROR,
		    "PTR lookup of %s failed (%s): %s", ip,
		    dns_status_name(run->ptr_st), run->ptr_detail);
		check_add(res, "fcrdns", ip, NULL, NULL, CHECK_ERROR,
		    "no PTR answer to follow");
		return;
	}
	check_add(res, "ptr", ip, NULL, NULL, CHECK_FAIL, "%s has no PTR "
	    "record (%s); servers say \"cannot find your reverse hostname\": "
	    "ask the owner of the address (your provider) to set one",
	    ip, dns_status_name(run->ptr_st));
	check_add(res, "fcrdns", ip, NULL, NULL, CHECK_FAIL,
	    "no PTR, so nothing to confirm");
}

static void
check_items_helo(struct check_run *run, struct check_result *res)
{
	const char	*h = run->helo;
	int		 temp, nx;

	if (h == NULL)
		return;
	if (run->helo_literal) {
		char	 lit[64];
		size_t	 l = strlen(h);

		snprintf(lit, sizeof(lit), "%.*s", (int)(l - 2), h + 1);
		if (strncasecmp(lit, "IPv6:", 5) == 0)
			memmove(lit, lit + 5, strlen(lit + 5) + 1);
		check_add(res, "helo-fqdn", h, NULL, NULL, CHECK_WARN,
		    "HELO %s is an address literal: allowed (RFC 5321 "
		    "4.1.1.1) but often refused or scored; use the FQDN that "
		    "your PTR names", h);
		if (run->ip.family > 0) {
			struct check_ip	 a;

			if (check_parse_ip(lit, &a) == 0 &&
			    a.family == run->ip.family &&
			    memcmp(a.bin, run->ip.bin, 16) == 0)
				check_add(res, "helo-dns", h, NULL, NULL,
				    CHECK_PASS, "literal matches our address");
			else
				check_add(res, "helo-dns", h, NULL, NULL,
				    CHECK_FAIL, "literal %s is not our "
				    "address %s", h, run->ip.text);
		}
		return;
	}
	if (!run->helo_fqdn) {
		check_add(res, "helo-fqdn", h, NULL, NULL, CHECK_FAIL,
		    "HELO %s is not a fully-qualified domain name; servers "
		    "answer \"504 5.5.2 need fully-qualified hostname\": "
		    "use your host's FQDN (the name your PTR gives)", h);
		return;
	}
	check_add(res, "helo-fqdn", h, NULL, NULL, CHECK_PASS,
	    "HELO %s is a fully-qualified domain name", h);
	temp = check_temp(run->helo_st[TAG_A]) ||
	    check_temp(run->helo_st[TAG_AAAA]);
	nx = run->helo_st[TAG_A] == DNS_NXDOMAIN;
	if (run->helo_addrs != NULL) {
		if (run->ip.family <= 0 || run->helo_match)
			check_add(res, "helo-dns", h, NULL, NULL, CHECK_PASS,
			    "%s resolves to %s%s", h, run->helo_addrs,
			    run->helo_match ? ", our address" : "");
		else
			check_add(res, "helo-dns", h, NULL, NULL, CHECK_WARN,
			    "%s resolves to %s, not to our address %s; some "
			    "servers require a match", h, run->helo_addrs,
			    run->ip.text);
	} else if (temp)
		check_add(res, "helo-dns", h, NULL, NULL, CHECK_ERROR,
		    "could not resolve %s (%s/%s)", h,
		    dns_status_name(run->helo_st[TAG_A]),
		    dns_status_name(run->helo_st[TAG_AAAA]));
	else if (run->helo_nmx > 0)
		check_add(res, "helo-dns", h, NULL, NULL, CHECK_WARN,
		    "%s has an MX but no A/AAAA record; Postfix accepts "
		    "that, others check for an address", h);
	else
		check_add(res, "helo-dns", h, NULL, NULL, CHECK_FAIL,
		    "%s %s; servers answer \"450 4.7.1 Helo command "
		    "rejected: Host not found\": publish an A/AAAA record",
		    h, nx ? "does not exist" : "has no A, AAAA or MX record");
}

static void
check_items_bl(struct check_run *run, struct check_bl *b,
    struct check_result *res)
{
	const char	*what = strcmp(b->name, "dbl") == 0 ? "host" :
			    "address";
	const char	*srv = b->server != NULL ? b->server : "?";

	if (b->main.error) {
		check_add(res, b->name, b->subject, b->zone, b->main.addrs,
		    CHECK_ERROR, "%s answered %s for %s: an error code, not a "
		    "listing; the list refuses or cannot serve this resolver "
		    "(%s): query it through your own resolver", b->zone,
		    b->main.meanings, b->subject, srv);
		return;
	}
	if (check_temp(b->main.st)) {
		check_add(res, b->name, b->subject, b->zone, NULL, CHECK_ERROR,
		    "%s: lookup failed (%s): %s", b->zone,
		    dns_status_name(b->main.st), b->main.detail);
		return;
	}
	if (b->selftest && b->neg.done && b->neg.listed) {
		check_add(res, b->name, b->subject, b->zone, b->main.addrs,
		    CHECK_ERROR, "%s lists its RFC 5782 test address "
		    "127.0.0.1, which no list may: its answers are not "
		    "usable (wildcard, or the resolver %s is blocked)%s%s",
		    b->zone, srv, b->main.listed ? "; it also answered " : "",
		    b->main.listed ? b->main.meanings : "");
		return;
	}
	if (b->main.listed) {
		check_add(res, b->name, b->subject, b->zone, b->main.addrs,
		    CHECK_FAIL, "%s is listed in %s: %s%s%s%s", b->subject,
		    b->zone, b->main.meanings, b->txt != NULL ? "; reason: \"" :
		    "", b->txt != NULL ? b->txt : "", b->txt != NULL ? "\"" :
		    "");
		return;
	}
	if (b->selftest && b->pos.done && (!b->pos.listed || b->pos.error)) {
		check_add(res, b->name, b->subject, b->zone, NULL, CHECK_WARN,
		    "%s not listed in %s, but the list does not list its RFC "
		    "5782 test entry %s either (%s): the answer may mean "
		    "nothing", b->subject, b->zone, run->ip.family == AF_INET ?
		    "127.0.0.2" : "::ffff:127.0.0.2", b->pos.meanings != NULL ?
		    b->pos.meanings : dns_status_name(b->pos.st));
		return;
	}
	check_add(res, b->name, b->subject, b->zone, NULL, CHECK_PASS,
	    "%s %s not listed in %s", what, b->subject, b->zone);
}

/* check_spf_allows_all - 1 if an SPF record ends in "+all" or "all" */
static int
check_spf_allows_all(const char *rec)
{
	char	*copy = xstrdup(rec), *s = copy, *tok;
	int	 yes = 0;

	while ((tok = strsep(&s, " \t")) != NULL)
		if (strcasecmp(tok, "all") == 0 || strcasecmp(tok, "+all") == 0)
			yes = 1;
	free(copy);
	return yes;
}

static void
check_items_sender(struct check_run *run, struct check_result *res)
{
	struct dns_mxset	*m = run->mxset;
	const char		*d = run->sender;
	struct check_txt	*t;
	char			*pol;

	if (d == NULL)
		return;
	if (m == NULL)
		check_add(res, "sender-dns", d, NULL, NULL, CHECK_ERROR,
		    "no answer");
	else if (m->kind == DNS_MX_NULL)
		check_add(res, "sender-dns", d, NULL, NULL, CHECK_FAIL,
		    "%s publishes a null MX (RFC 7505): it sends no mail, and "
		    "servers refuse it as a sender (550 5.7.27)", d);
	else if (m->kind == DNS_MX_NONE && m->status == DNS_NXDOMAIN)
		check_add(res, "sender-dns", d, NULL, NULL, CHECK_FAIL,
		    "%s does not exist; servers answer \"450 4.1.8 Sender "
		    "address rejected: Domain not found\"", d);
	else if (m->error != NULL && check_temp(m->status))
		check_add(res, "sender-dns", d, NULL, NULL, CHECK_ERROR,
		    "lookups for %s failed (%s)", d, m->error);
	else if (m->kind == DNS_MX_IMPLICIT && m->error != NULL)
		check_add(res, "sender-dns", d, NULL, NULL, CHECK_FAIL,
		    "%s has neither MX nor A/AAAA; servers answer \"450 4.1.8 "
		    "Domain not found\"", d);
	else if (m->error != NULL)
		check_add(res, "sender-dns", d, NULL, NULL, CHECK_WARN,
		    "%s has MX records but no MX host has an address: bounces "
		    "cannot reach it", d);
	else if (m->kind == DNS_MX_IMPLICIT)
		check_add(res, "sender-dns", d, NULL, NULL, CHECK_PASS,
		    "%s has no MX but an address (implicit MX): %s", d,
		    m->nhosts > 0 && m->hosts[0].naddrs > 0 ?
		    m->hosts[0].addrs[0].text : "?");
	else
		check_add(res, "sender-dns", d, NULL, NULL, CHECK_PASS,
		    "%s has %zu MX host%s, first %s", d, m->nhosts,
		    m->nhosts == 1 ? "" : "s", m->hosts[0].name);

	t = &run->spf;
	if (check_temp(t->st))
		check_add(res, "spf", d, NULL, NULL, CHECK_ERROR,
		    "TXT lookup of %s failed (%s): %s", d,
		    dns_status_name(t->st), t->detail);
	else if (t->nrecs == 0)
		check_add(res, "spf", d, NULL, NULL, CHECK_WARN,
		    "%s has no SPF record (TXT \"v=spf1 ...\"); large "
		    "providers reject or junk unauthenticated mail: publish "
		    "one", d);
	else if (t->nrecs > 1)
		check_add(res, "spf", d, NULL, NULL, CHECK_FAIL,
		    "%s has %zu SPF records: a permanent error for every "
		    "receiver (RFC 7208 4.5): merge them into one", d,
		    t->nrecs);
	else if (check_spf_allows_all(t->recs[0]))
		check_add(res, "spf", d, NULL, NULL, CHECK_WARN,
		    "SPF of %s allows every host (+all): \"%s\"", d,
		    t->recs[0]);
	else
		check_add(res, "spf", d, NULL, NULL, CHECK_PASS, "\"%s\"",
		    t->recs[0]);

	t = run->dmarc.nrecs > 0 || !run->dmarc_org.done ? &run->dmarc :
	    &run->dmarc_org;
	if (check_temp(t->st))
		check_add(res, "dmarc", d, NULL, NULL, CHECK_ERROR,
		    "TXT lookup of %s failed (%s): %s", t->where,
		    dns_status_name(t->st), t->detail);
	else if (t->nrecs == 0)
		check_add(res, "dmarc", d, NULL, NULL, CHECK_WARN,
		    "no DMARC record at %s%s%s; Gmail and Yahoo require one "
		    "from bulk senders", run->dmarc.where,
		    run->dmarc_org.done ? " or " : "",
		    run->dmarc_org.done ? run->dmarc_org.where : "");
	else if (t->nrecs > 1)
		check_add(res, "dmarc", d, NULL, NULL, CHECK_FAIL,
		    "%zu DMARC records at %s: receivers ignore them all "
		    "(RFC 7489 6.6.3)", t->nrecs, t->where);
	else if ((pol = strstr(t->recs[0], "p=")) == NULL ||
	    (pol != t->recs[0] && pol[-1] != ' ' && pol[-1] != ';'))
		check_add(res, "dmarc", d, NULL, NULL, CHECK_WARN,
		    "DMARC record at %s has no p= policy: \"%s\"", t->where,
		    t->recs[0]);
	else
		check_add(res, "dmarc", d, NULL, NULL, CHECK_PASS,
		    "\"%s\" at %s%s", t->recs[0], t->where, t == &run->dmarc ?
		    "" : " (organizational domain, guessed as the last two "
		    "labels)");
}

static void
check_items_urls(struct check_run *run, struct check_result *res)
{
	size_t	 i;

	if (!run->urls_on)
		return;
	if (run->nlinks == 0)
		check_add(res, "url-hosts", "", NULL, NULL, CHECK_PASS,
		    "no http/https links in the body");
	else
		check_add(res, "url-hosts", "", NULL, NULL, CHECK_PASS,
		    "%zu link%s to %zu host%s%s", run->nlinks,
		    run->nlinks == 1 ? "" : "s", run->nurls + run->urls_more,
		    run->nurls + run->urls_more == 1 ? "" : "s",
		    run->urls_more > 0 ? " (only the first ones checked)" :
		    "");
	for (i = 0; i < run->nurls; i++) {
		struct check_url	*u = &run->urls[i];

		if (u->kind == URL_IP)
			check_add(res, "url-host", u->host, NULL, NULL,
			    CHECK_WARN, "link to a bare IP address %s; spam "
			    "filters score such links", u->host);
		else if (u->kind == URL_BAD)
			check_add(res, "url-host", u->host, NULL, NULL,
			    CHECK_FAIL, "link host \"%s\" is not a fully-"
			    "qualified name; such links are a known cause of "
			    "rejections after DATA: use full URLs", u->host);
		else if (u->addrs != NULL)
			check_add(res, "url-host", u->host, NULL, NULL,
			    CHECK_PASS, "%s resolves to %s", u->host, u->addrs);
		else if (check_temp(u->a) || check_temp(u->aaaa))
			check_add(res, "url-host", u->host, NULL, NULL,
			    CHECK_ERROR, "could not resolve %s (%s/%s)",
			    u->host, dns_status_name(u->a),
			    dns_status_name(u->aaaa));
		else
			check_add(res, "url-host", u->host, NULL, NULL,
			    CHECK_FAIL, "link host %s %s", u->host,
			    u->a == DNS_NXDOMAIN ? "does not exist" :
			    "has no address");
	}
	for (i = 0; i < run->nbls; i++)
		if (strcmp(run->bls[i].name, "dbl") == 0)
			check_items_bl(run, &run->bls[i], res);
}

/* check_finish - state to items, in a fixed order; callback; free */
void
check_finish(struct check_run *run)
{
	struct check_result	*res;
	size_t			 i;

	res = xcalloc(1, sizeof(*res));
	if (dns_ctx_nservers(run->dns) > 0)
		res->resolver = xstrdup(dns_ctx_server(run->dns, 0));
	check_items_ip(run, res);
	check_items_helo(run, res);
	for (i = 0; i < run->nbls; i++)
		if (strcmp(run->bls[i].name, "dnsbl") == 0)
			check_items_bl(run, &run->bls[i], res);
	check_items_sender(run, res);
	check_items_urls(run, res);
	run->cb(res, run->arg);
	check_run_free(run);
}

void
check_result_free(struct check_result *res)
{
	size_t	 i;

	if (res == NULL)
		return;
	for (i = 0; i < res->nitems; i++) {
		free(res->items[i].subject);
		free(res->items[i].zone);
		free(res->items[i].answer);
		free(res->items[i].evidence);
	}
	free(res->items);
	free(res->resolver);
	free(res);
}

const struct check_item *
check_find(const struct check_result *res, const char *name,
    const char *subject)
{
	size_t	 i;

	for (i = 0; i < res->nitems; i++)
		if (strcmp(res->items[i].name, name) == 0 && (subject == NULL ||
		    strcasecmp(res->items[i].subject, subject) == 0))
			return &res->items[i];
	return NULL;
}

enum check_status
check_worst(const struct check_result *res)
{
	static const int	 rank[] = { [CHECK_PASS] = 0, [CHECK_WARN] = 1,
				    [CHECK_ERROR] = 2, [CHECK_FAIL] = 3 };
	enum check_status	 w = CHECK_PASS;
	size_t			 i;

	for (i = 0; i < res->nitems; i++)
		if (rank[res->items[i].status] > rank[w])
			w = res->items[i].status;
	return w;
}

/*
 * tlsa.c - the TLSA lookup of DANE for SMTP (RFC 7672) on the event loop
 * (see include/tlsa.h): asks the configured resolver for
 * _PORT._tcp.HOST and classifies the answer by rcode and AD bit into a
 * dane_policy (dane.h).
 *
 * The AD bit is taken as proof of DNSSEC only because the user chose
 * the resolver (--resolver, or resolv.conf): dns.c asks for AD (RFC 6840
 * 5.7) and records it; this module trusts it and says from where it
 * came. A resolver that does not validate never sets AD, so its answers
 * read as "insecure": DANE then silently never applies, which is why the
 * transcript names the resolver.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dane.h"
#include "dns.h"
#include "log.h"
#include "tlsa.h"

struct tlsa_req {
	struct dns_query	*q;
	struct dane_policy	*p;
	tlsa_cb			 cb;
	void			*arg;
};

static void	tlsa_answer(const struct dns_result *, void *);
static const char *tlsa_trust(const struct dane_policy *, char *, size_t);

struct tlsa_req *
tlsa_lookup(struct dns_ctx *ctx, const char *host, const char *port,
    tlsa_cb cb, void *arg)
{
	struct tlsa_req	*r;

	r = xcalloc(1, sizeof(*r));
	r->p = dane_policy_new(host, port);
	r->cb = cb;
	r->arg = arg;
	r->q = dns_query(ctx, r->p->qname, DNS_T_TLSA, tlsa_answer, r);
	return r;
}

void
tlsa_cancel(struct tlsa_req *r)
{
	if (r == NULL)
		return;
	dns_cancel(r->q);
	dane_policy_free(r->p);
	free(r);
}

/* tlsa_trust - where the AD bit came from, and how far to trust it */
static const char *
tlsa_trust(const struct dane_policy *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s, the configured resolver%s",
	    p->resolver != NULL ? p->resolver : "?", p->loopback ?
	    ", on loopback" : "; it is not on loopback, so its AD bit is "
	    "only as trustworthy as the path to it");
	return buf;
}

/* tlsa_answer - the TLSA answer: classify it by rcode and AD bit */
static void
tlsa_answer(const struct dns_result *r, void *arg)
{
	struct tlsa_req		*q = arg;
	struct dane_policy	*p = q->p;
	char			 trust[256];
	size_t			 i;

	p->ad = r->ad;
	p->rcode = r->rcode;
	p->ede = r->ede;
	p->resolver = r->server != NULL ? xstrdup(r->server) : NULL;
	p->loopback = r->server != NULL && (strncmp(r->server, "127.",
	    4) == 0 || strncmp(r->server, "[::1]", 5) == 0);
	for (i = 0; i < r->ntlsa; i++)
		dane_add_rr(p, r->tlsa[i].usage, r->tlsa[i].selector,
		    r->tlsa[i].mtype, r->tlsa[i].data, r->tlsa[i].len);
	tlsa_trust(p, trust, sizeof(trust));
	switch (r->status) {
	case DNS_OK:
		if (r->ad) {
			p->dns = DANE_DNS_SECURE;
			p->detail = xasprintf("%s: %zu TLSA record%s, "
			    "validated (AD from %s); %zu usable for SMTP",
			    p->qname, p->nrrs, p->nrrs == 1 ? "" : "s", trust,
			    p->nusable);
		} else {
			p->dns = DANE_DNS_INSECURE;
			p->detail = xasprintf("%s: %zu TLSA record%s without "
			    "the AD bit (%s): not validated (an unsigned zone, "
			    "or a resolver that does not validate), so not "
			    "used", p->qname, p->nrrs, p->nrrs == 1 ? "" : "s",
			    trust);
		}
		break;
	case DNS_NODATA:
	case DNS_NXDOMAIN:
		p->dns = r->ad ? DANE_DNS_NONE : DANE_DNS_NONE_INSECURE;
		p->detail = xasprintf("%s: no TLSA record (%s%s%s): no DANE "
		    "for this host", p->qname, dns_status_name(r->status),
		    r->ad ? ", the denial validated, AD from " : ", no AD, "
		    "from ",
		    trust);
		break;
	case DNS_SERVFAIL:
		p->dns = DANE_DNS_BOGUS;
		p->detail = xasprintf("%s: %s; a validating resolver answers "
		    "SERVFAIL when DNSSEC validation fails (bogus)%s",
		    p->qname, r->detail, r->ede == 6 ? ", and its extended "
		    "error says so" : "");
		break;
	default:
		p->dns = DANE_DNS_ERROR;
		p->detail = xasprintf("%s: the TLSA lookup failed: %s",
		    p->qname, r->detail);
		break;
	}
	q->p = NULL;
	q->cb(p, q->arg);
	free(q);
}


/*
 * dane.c - DANE for SMTP (RFC 7672): the TLSA lookup on the event loop
 * and what its answer means (see include/dane.h).
 *
 * The AD bit is taken as proof of DNSSEC only because the user chose
 * the resolver (--resolver, or resolv.conf): dns.c asks for AD (RFC 6840
 * 5.7) and records it; this module trusts it and says from where it
 * came. A resolver that does not validate never sets AD, so its answers
 * read as "insecure": DANE then silently never applies, which is why the
 * transcript names the resolver.
 *
 * Which records SMTP may use (RFC 7672 3.1): DANE-TA(2) and DANE-EE(3),
 * selector 0 or 1, matching type 0, 1 (SHA-256, 32 bytes) or 2
 * (SHA-512, 64 bytes). PKIX-TA(0) and PKIX-EE(1) are kept, to be shown,
 * and never given to OpenSSL.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dane.h"
#include "dns.h"
#include "log.h"
#include "record.h"
#include "tls.h"

struct dane_req {
	struct dns_query	*q;
	struct dane_policy	*p;
	dane_cb			 cb;
	void			*arg;
};

static void	dane_on_tlsa(const struct dns_result *, void *);
static struct dane_policy *dane_policy_new(const char *, const char *);
static const char *dane_trust(const struct dane_policy *, char *, size_t);

static const char *const dns_names[] = {
	[DANE_DNS_SKIPPED] = "skipped",
	[DANE_DNS_SECURE] = "secure",
	[DANE_DNS_INSECURE] = "insecure",
	[DANE_DNS_NONE] = "none",
	[DANE_DNS_NONE_INSECURE] = "none-insecure",
	[DANE_DNS_BOGUS] = "bogus",
	[DANE_DNS_ERROR] = "error",
};

static const char *const status_names[] = {
	[DANE_ST_SKIPPED] = "skipped",
	[DANE_ST_SECURE] = "secure",
	[DANE_ST_INSECURE] = "insecure",
	[DANE_ST_BOGUS] = "bogus",
	[DANE_ST_MISMATCH] = "mismatch",
	[DANE_ST_UNUSABLE] = "unusable",
	[DANE_ST_INDETERMINATE] = "indeterminate",
	[DANE_ST_NOTLS] = "no-tls",
};

const char *
dane_dns_name(enum dane_dns d)
{
	return (size_t)d < sizeof(dns_names) / sizeof(dns_names[0]) ?
	    dns_names[d] : "?";
}

const char *
dane_status_name(enum dane_status s)
{
	return (size_t)s < sizeof(status_names) / sizeof(status_names[0]) ?
	    status_names[s] : "?";
}

const char *
dane_usage_name(uint8_t u)
{
	static const char *const names[] = { "PKIX-TA", "PKIX-EE", "DANE-TA",
	    "DANE-EE" };

	return u < 4 ? names[u] : "?";
}

static struct dane_policy *
dane_policy_new(const char *host, const char *port)
{
	struct dane_policy	*p;
	size_t			 len;

	p = xcalloc(1, sizeof(*p));
	p->base = xstrdup(host);
	len = strlen(p->base);
	if (len > 1 && p->base[len - 1] == '.')
		p->base[len - 1] = '\0';
	p->port = xstrdup(port);
	p->qname = xasprintf("_%s._tcp.%s", port, p->base);
	p->rcode = -1;
	p->ede = -1;
	return p;
}

struct dane_policy *
dane_skipped(const char *host, const char *port, const char *why)
{
	struct dane_policy	*p = dane_policy_new(host, port);

	p->dns = DANE_DNS_SKIPPED;
	p->detail = xstrdup(why);
	return p;
}

void
dane_policy_free(struct dane_policy *p)
{
	size_t	 i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nrrs; i++) {
		free(p->rrs[i].data);
		free(p->rrs[i].text);
	}
	free(p->rrs);
	free(p->base);
	free(p->port);
	free(p->qname);
	free(p->resolver);
	free(p->detail);
	free(p);
}

void
dane_add_rr(struct dane_policy *p, uint8_t usage, uint8_t selector,
    uint8_t mtype, const unsigned char *data, size_t len)
{
	struct dane_rr	*rr;
	char		*o;
	size_t		 i;

	p->rrs = xreallocarray(p->rrs, p->nrrs + 1, sizeof(*p->rrs));
	rr = &p->rrs[p->nrrs++];
	memset(rr, 0, sizeof(*rr));
	rr->usage = usage;
	rr->selector = selector;
	rr->mtype = mtype;
	rr->data = xmalloc(len > 0 ? len : 1);
	memcpy(rr->data, data, len);
	rr->len = len;
	o = rr->text = xmalloc(16 + len * 2);
	snprintf(o, 16, "%u %u %u ", usage, selector, mtype);
	o += strlen(o);
	for (i = 0; i < len; i++, o += 2)
		snprintf(o, 3, "%02x", data[i]);
	*o = '\0';
	if (usage == 0 || usage == 1)
		rr->note = "PKIX-TA(0) and PKIX-EE(1) are not for SMTP; "
		    "ignored (RFC 7672 3.1.3)";
	else if (usage > 3)
		rr->note = "unknown certificate usage";
	else if (selector > 1)
		rr->note = "unknown selector";
	else if (mtype > 2)
		rr->note = "unknown matching type";
	else if (mtype == 1 && len != 32)
		rr->note = "a SHA-256 digest is 32 bytes";
	else if (mtype == 2 && len != 64)
		rr->note = "a SHA-512 digest is 64 bytes";
	else if (len == 0)
		rr->note = "no certificate data";
	if (rr->note == NULL)
		p->nusable++;
}

int
dane_enabled(const struct dane_policy *p)
{
	return p != NULL && p->dns == DANE_DNS_SECURE && p->nusable > 0;
}

struct dane_req *
dane_lookup(struct dns_ctx *ctx, const char *host, const char *port,
    dane_cb cb, void *arg)
{
	struct dane_req	*r;

	r = xcalloc(1, sizeof(*r));
	r->p = dane_policy_new(host, port);
	r->cb = cb;
	r->arg = arg;
	r->q = dns_query(ctx, r->p->qname, DNS_T_TLSA, dane_on_tlsa, r);
	return r;
}

void
dane_cancel(struct dane_req *r)
{
	if (r == NULL)
		return;
	dns_cancel(r->q);
	dane_policy_free(r->p);
	free(r);
}

/* dane_trust - where the AD bit came from, and how far to trust it */
static const char *
dane_trust(const struct dane_policy *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s, the configured resolver%s",
	    p->resolver != NULL ? p->resolver : "?", p->loopback ?
	    ", on loopback" : "; it is not on loopback, so its AD bit is "
	    "only as trustworthy as the path to it");
	return buf;
}

/* dane_on_tlsa - the TLSA answer: classify it by rcode and AD bit */
static void
dane_on_tlsa(const struct dns_result *r, void *arg)
{
	struct dane_req		*q = arg;
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
	dane_trust(p, trust, sizeof(trust));
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

void
dane_judge(const struct dane_policy *p, int tls_done, int depth,
    const char *matched, long verify_code, const char *verify_error,
    struct dane_outcome *o)
{
	memset(o, 0, sizeof(*o));
	if (p == NULL || p->dns == DANE_DNS_SKIPPED) {
		o->status = DANE_ST_SKIPPED;
		snprintf(o->detail, sizeof(o->detail), "no TLSA lookup%s%s",
		    p != NULL ? ": " : "", p != NULL ? p->detail : "");
		return;
	}
	switch (p->dns) {
	case DANE_DNS_BOGUS:
		o->status = DANE_ST_BOGUS;
		o->finding = "dane-bogus";
		o->result_type = "dnssec-invalid";
		o->fatal = 1;
		snprintf(o->detail, sizeof(o->detail), "%s; a DANE MTA does "
		    "not deliver to this host (RFC 7672 2.2.3)", p->detail);
		return;
	case DANE_DNS_ERROR:
		o->status = DANE_ST_INDETERMINATE;
		o->finding = "dane-indeterminate";
		o->result_type = "dnssec-invalid";
		o->fatal = 1;
		snprintf(o->detail, sizeof(o->detail), "%s; a DANE MTA "
		    "defers rather than take that as \"no TLSA\" (RFC 7672 "
		    "2.2.3)", p->detail);
		return;
	case DANE_DNS_SECURE:
		break;
	default:
		o->status = DANE_ST_INSECURE;
		snprintf(o->detail, sizeof(o->detail), "%s", p->detail);
		return;
	}
	if (!tls_done) {
		o->status = DANE_ST_NOTLS;
		o->finding = "dane-no-tls";
		o->result_type = "starttls-not-supported";
		o->fatal = 1;
		snprintf(o->detail, sizeof(o->detail), "%s has validated TLSA "
		    "records, so TLS is mandatory (RFC 7672 2.2), but no TLS "
		    "session was made", p->base);
		return;
	}
	if (p->nusable == 0) {
		o->status = DANE_ST_UNUSABLE;
		o->finding = "dane-unusable";
		o->result_type = "tlsa-invalid";
		snprintf(o->detail, sizeof(o->detail), "%s: %zu validated TLSA "
		    "record%s, none usable for SMTP (only DANE-TA(2) and "
		    "DANE-EE(3) are); TLS is still required, without "
		    "authentication (RFC 7672 3.1.3)", p->qname, p->nrrs,
		    p->nrrs == 1 ? "" : "s");
		return;
	}
	if (depth >= 0 && verify_code == 0) {
		o->status = DANE_ST_SECURE;
		snprintf(o->detail, sizeof(o->detail), "TLSA %s matched %s "
		    "(depth %d)%s", matched != NULL ? matched : "record",
		    depth == 0 ? "the server certificate" : "a trust anchor "
		    "in the chain", depth, depth == 0 && matched != NULL &&
		    matched[0] == '3' ? "; DANE-EE needs no name match and "
		    "no expiry check (RFC 7672 3.1.1)" : "");
		return;
	}
	o->status = DANE_ST_MISMATCH;
	o->finding = "dane-mismatch";
	o->result_type = tls_rpt_type(verify_code);
	if (o->result_type == NULL)
		o->result_type = "validation-failure";
	o->fatal = 1;
	snprintf(o->detail, sizeof(o->detail), "%s: %zu usable TLSA record%s, "
	    "and the certificate chain does not pass with them: %s (%ld)",
	    p->qname, p->nusable, p->nusable == 1 ? "" : "s",
	    verify_error != NULL ? verify_error : "no match", verify_code);
}

int
dane_session_end(struct record *r, const struct dane_policy *p,
    int tls_verify)
{
	struct dane_outcome	 o;
	size_t			 i;
	int			 reached = 0;

	if (r == NULL || p == NULL || r->tls.done)
		return 0;
	for (i = 0; i < r->nsteps; i++)
		if ((r->steps[i].stage == STAGE_EHLO &&
		    r->steps[i].outcome == OUT_OK) ||
		    r->steps[i].stage == STAGE_STARTTLS)
			reached = 1;
	dane_judge(p, 0, -1, NULL, 0, NULL, &o);
	if (o.finding == NULL || (o.status == DANE_ST_NOTLS && !reached))
		return 0;
	record_add_finding(r, tls_verify && o.fatal ? FIND_ERROR : FIND_WARN,
	    o.finding, o.status == DANE_ST_NOTLS ? STAGE_STARTTLS :
	    STAGE_RESOLVE, "%s", o.detail);
	if (tls_verify && o.fatal) {
		char	*e = xasprintf("DANE: %s", o.detail);

		record_set_error(r, o.status == DANE_ST_NOTLS ?
		    STAGE_STARTTLS : STAGE_RESOLVE, FAIL_TLS, e);
		free(e);
	}
	return 1;
}

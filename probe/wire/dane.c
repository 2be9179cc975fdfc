/*
 * dane.c - DANE for SMTP (RFC 7672): the policy a TLSA answer makes,
 * which records SMTP may use, and what the lookup and a handshake add up
 * to (see include/dane.h). Pure: no I/O; tls.c hands the usable records
 * to OpenSSL, tlsa.c fills the policy from DNS.
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

#include <openssl/x509_vfy.h>

#include "dane.h"
#include "log.h"
#include "util.h"


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
	return (size_t)d < nitems(dns_names) ?
	    dns_names[d] : "?";
}

const char *
dane_status_name(enum dane_status s)
{
	return (size_t)s < nitems(status_names) ?
	    status_names[s] : "?";
}

const char *
dane_usage_name(uint8_t u)
{
	static const char *const names[] = { "PKIX-TA", "PKIX-EE", "DANE-TA",
	    "DANE-EE" };

	return u < 4 ? names[u] : "?";
}

struct dane_policy *
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
	o->result_type = dane_rpt_type(verify_code);
	if (o->result_type == NULL)
		o->result_type = "validation-failure";
	o->fatal = 1;
	snprintf(o->detail, sizeof(o->detail), "%s: %zu usable TLSA record%s, "
	    "and the certificate chain does not pass with them: %s (%ld)",
	    p->qname, p->nusable, p->nusable == 1 ? "" : "s",
	    verify_error != NULL ? verify_error : "no match", verify_code);
}

/* dane_rpt_type - the RFC 8460 4.3 result type of a verify code */
const char *
dane_rpt_type(long code)
{
	switch (code) {
	case X509_V_OK:
		return NULL;
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return "certificate-expired";
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return "certificate-host-mismatch";
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_REJECTED:
		return "certificate-not-trusted";
	default:
		return "validation-failure";
	}
}

/*
 * dane.h - DANE for SMTP (RFC 7672): the policy of one MX host and what
 * it means. Pure data and judgement, no I/O: tlsa.h fills a policy from
 * DNS, tls.c gives its usable records to OpenSSL.
 *
 * tlsa_lookup() asks the configured resolver (dns.h) for the TLSA
 * records of _PORT._tcp.HOST on the event loop, before the connection,
 * and classifies the answer by its rcode and AD bit. The AD bit is the
 * only proof of DNSSEC the probe has: it is trusted because the user
 * configured that resolver (RFC 7672 2.1.3, RFC 6840 5.8), and the
 * policy says which server answered and whether it is on loopback.
 * An answer without AD is never used.
 *
 * The policy goes to the engine through struct smtp_params; tls.c hands
 * its usable records to OpenSSL (SSL_dane_*) and reads back the match;
 * dane_judge() turns the lookup and the handshake into one status:
 *   secure        TLSA records with AD, and one matched the chain
 *   insecure      no TLSA records, or records without AD: no DANE
 *   bogus         SERVFAIL from the validating resolver
 *   mismatch      secure, usable records, and none matched
 *   unusable      secure records, none usable for SMTP (PKIX-TA/EE,
 *                 unknown parameters): TLS still required, no
 *                 authentication (RFC 7672 3.1.3, 6)
 *   indeterminate the lookup failed (timeout, REFUSED, network)
 *   no-tls        secure records, but no TLS happened
 *   skipped       no lookup (the server is an address literal)
 *
 * Ownership: a policy passed to a dane_cb belongs to the caller
 * (dane_policy_free()). Callbacks are never called from inside
 * dane_lookup(); a cancelled lookup calls nothing.
 */
#ifndef SMTPROBE_DANE_H
#define SMTPROBE_DANE_H

#include <stddef.h>
#include <stdint.h>


enum dane_dns {
	DANE_DNS_SKIPPED,	/* not looked up */
	DANE_DNS_SECURE,	/* TLSA records, AD set: DANE applies */
	DANE_DNS_INSECURE,	/* TLSA records without AD: ignored */
	DANE_DNS_NONE,		/* no TLSA, the denial validated (AD) */
	DANE_DNS_NONE_INSECURE,	/* no TLSA, no AD */
	DANE_DNS_BOGUS,		/* SERVFAIL from the validating resolver */
	DANE_DNS_ERROR		/* timeout, REFUSED, network: unknown */
};

enum dane_status {
	DANE_ST_SKIPPED,
	DANE_ST_SECURE,
	DANE_ST_INSECURE,
	DANE_ST_BOGUS,
	DANE_ST_MISMATCH,
	DANE_ST_UNUSABLE,
	DANE_ST_INDETERMINATE,
	DANE_ST_NOTLS
};

struct dane_rr {
	uint8_t		 usage, selector, mtype;
	unsigned char	*data;
	size_t		 len;
	char		*text;		/* "3 1 1 hex" */
	const char	*note;		/* NULL: usable; else why not */
};

struct dane_policy {
	char		*base;		/* TLSA base domain: the MX host */
	char		*port;
	char		*qname;		/* "_25._tcp.mx.example" */
	enum dane_dns	 dns;
	int		 ad;		/* AD bit of the answer */
	int		 rcode;		/* -1 without an answer */
	int		 ede;		/* RFC 8914 info-code, -1 none */
	char		*resolver;	/* "ADDR:PORT" that answered, or NULL */
	int		 loopback;	/* that resolver is on loopback */
	char		*detail;	/* the lookup, one line */
	struct dane_rr	*rrs;		/* as received (also without AD) */
	size_t		 nrrs;
	size_t		 nusable;	/* DANE-TA/DANE-EE records usable */
};

/* What the lookup and the handshake add up to. */
struct dane_outcome {
	enum dane_status status;
	const char	*finding;	/* finding kind, NULL: nothing wrong */
	const char	*result_type;	/* RFC 8460 4.3 result type, or NULL */
	int		 fatal;		/* --tls-verify ends the session */
	char		 detail[640];
};

/* dane_policy_new - an empty policy for _PORT._tcp.HOST (caller frees) */
struct dane_policy *dane_policy_new(const char *host, const char *port);

/* dane_skipped - a policy for a host that gets no lookup (caller frees) */
struct dane_policy *dane_skipped(const char *host, const char *port,
		    const char *why);
void		 dane_policy_free(struct dane_policy *);

/* dane_add_rr - append a record, judge whether SMTP may use it */
void		 dane_add_rr(struct dane_policy *, uint8_t usage,
		    uint8_t selector, uint8_t mtype, const unsigned char *,
		    size_t);

/* dane_enabled - 1 when OpenSSL gets records: secure and usable ones */
int		 dane_enabled(const struct dane_policy *);

/*
 * dane_judge - the DANE status of one connection. tls_done: a
 * handshake completed; depth: what SSL_get0_dane_authority() said (-1
 * no match); matched: the record that matched ("3 1 1 hex") or NULL;
 * verify_code/verify_error: OpenSSL's verification (DANE's own when
 * dane_enabled()).
 */
void		 dane_judge(const struct dane_policy *, int tls_done,
		    int depth, const char *matched, long verify_code,
		    const char *verify_error, struct dane_outcome *);

/*
 * dane_rpt_type - the RFC 8460 4.3 result type for an X509_V_ERR_*
 * code (DANE's own included): certificate-expired,
 * certificate-host-mismatch, certificate-not-trusted or
 * validation-failure; NULL for X509_V_OK.
 */
const char	*dane_rpt_type(long);

const char	*dane_dns_name(enum dane_dns);
const char	*dane_status_name(enum dane_status);
/* dane_usage_name - "PKIX-TA" "PKIX-EE" "DANE-TA" "DANE-EE" or "?" */
const char	*dane_usage_name(uint8_t);

#endif

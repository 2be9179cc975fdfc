/*
 * tls.h - OpenSSL contexts for the probe and the TLS summary.
 *
 * The probe always completes the handshake (SSL_VERIFY_NONE) and then
 * judges: verification of the chain and of the name is recorded in
 * struct tls_info, and the caller decides whether a failure is fatal
 * (--tls-verify). SNI is sent by default when the target is a name.
 *
 * DANE (RFC 7672): given a policy from dane.c whose records are
 * validated and usable, tls_ssl_new() enables OpenSSL's DANE on the
 * connection (the TLSA base domain is the MX host; DANE-EE matches need
 * no name, RFC 7672 3.1.1), and tls_summarize() records what matched,
 * per certificate too, and judges it (dane_judge()). verify_code is
 * then DANE's result; pkix_code keeps the plain CA-and-name answer.
 */
#ifndef SMTPROBE_TLS_H
#define SMTPROBE_TLS_H

#include <stddef.h>

#include <stdint.h>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
struct dane_policy;

/* What a handshake showed, for the session record (record.h). */
struct tls_cert {
	char	 *subject;
	char	 *issuer;
	char	**san;		/* "DNS:name", "IP:addr" */
	size_t	  nsan;
	char	 *not_before;	/* "YYYY-MM-DDTHH:MM:SSZ" */
	char	 *not_after;
	int	  expired;	/* not_after lies in the past */
	long	  days_left;	/* whole days until not_after (< 0 past) */
	char	 *sha256;	/* certificate fingerprint, hex with colons */
	char	 *spki;		/* SHA-256 of the DER SubjectPublicKeyInfo,
				   lower-case hex: a TLSA 3 1 1 record's data */
	char	 *pem;		/* the certificate as PEM when the context
				   keeps it (--tls-show-chain pem), or NULL */
	char	 *tlsa;		/* --dane: the TLSA record whose data
				   matches this certificate, or NULL */
};

/*
 * The DANE outcome of one connection (--dane, --tls-check): the TLSA
 * lookup, made before the connection, and what OpenSSL matched. See
 * dane.h for the statuses.
 */
struct tls_dane {
	int	  checked;	/* a TLSA lookup was made */
	int	  enabled;	/* OpenSSL got usable, validated records */
	char	 *status;	/* "secure" "insecure" "bogus" "mismatch" ... */
	char	 *lookup;	/* how the lookup went: "secure" "none" ... */
	char	 *qname;	/* "_25._tcp.mx.example" */
	int	  ad;		/* AD bit of the TLSA answer */
	char	 *resolver;	/* "ADDR:PORT" that answered, or NULL */
	char	**records;	/* "3 1 1 hex", as received */
	char	**notes;	/* per record: NULL usable, else why not */
	size_t	  nrecords;
	int	  depth;	/* chain depth OpenSSL matched, -1 none */
	char	 *matched;	/* the record that matched, or NULL */
	char	 *result_type;	/* RFC 8460 result type, NULL: no failure */
	char	 *finding;	/* finding kind, NULL: no failure */
	int	  fatal;	/* a failure --tls-verify makes fatal */
	char	 *detail;
};

struct tls_info {
	int		 done;		/* a handshake completed */
	int		 bits;		/* (the ints in pairs: no padding) */
	char		*version;	/* "TLSv1.3" */
	char		*cipher;
	char		*group;		/* key exchange group, or NULL */
	char		*sni;		/* server name sent, NULL if none */
	char		*verify_name;	/* name (or IP) checked, NULL if none */
	long		 verify_code;	/* X509_V_OK (0) or X509_V_ERR_*; the
					   DANE result when dane.enabled */
	char		*verify_error;	/* text for verify_code */
	long		 pkix_code;	/* the chain against the CA store and
					   verify_name, DANE aside */
	char		*pkix_error;
	int		 name_match;	/* verify_name is in the certificate:
					   1, 0, or -1 (no name, no cert) */
	int		 expiry_warn;	/* the context's --tls-expiry-warn
					   days, 0: no warning */
	struct tls_cert	*chain;		/* as sent by the peer */
	size_t		 nchain;
	struct tls_dane	 dane;
};

/* tls_info_clear - free what info holds and zero it */
void	 tls_info_clear(struct tls_info *);

struct tls_params {
	const char	*cafile;	/* --tls-ca-file; NULL: system store */
	const char	*capath;	/* --tls-ca-path */
	const char	*min_version;	/* --tls-min-version: "1.0".."1.3" */
	const char	*ciphers;	/* --tls-ciphers (TLS 1.2 and lower) */
	const char	*cert;		/* --tls-cert: client certificate,
					   PEM, intermediates after it */
	const char	*key;		/* --tls-key; NULL: in cert's file */
	const char	*max_version;	/* --tls-max-version: "1.0".."1.3" */
	const char	*ciphersuites;	/* --tls-ciphersuites (TLS 1.3) */
	int		 show_chain;	/* --tls-show-chain pem: keep PEM */
	int		 expiry_warn;	/* --tls-expiry-warn DAYS, 0: off */
	const char	*bundle;	/* without cafile/capath: this CA
					   bundle, read whole when the first
					   connection needs it (batch: one
					   parse for thousands of chains);
					   NULL: the system's store */
};

/*
 * tls_params_check - the client certificate and key (readable, PEM, the
 * key unencrypted and matching), the version range and the TLS 1.3
 * suites of p, before anything is sent: 0, or -1 with err filled (a
 * file name at most, never key material)
 */
int	 tls_params_check(const struct tls_params *, char *err,
	    size_t errlen);

/* tls_ctx_new - client context, or NULL with err filled */
SSL_CTX	*tls_ctx_new(const struct tls_params *, char *err, size_t errlen);
void	 tls_ctx_free(SSL_CTX *);
/*
 * tls_ctx_trust - load the system's trust into a context made without
 * --tls-ca-file/--tls-ca-path, once, before its first connection
 * (tls_ssl_new() calls it; code that calls SSL_new() itself must too).
 * A probe that never reaches TLS reads no CA certificate at all.
 */
void	 tls_ctx_trust(SSL_CTX *);

/*
 * tls_ssl_new - one connection's SSL: sni (NULL: none) is sent as
 * server name; verify_name (a host name or an IP literal, NULL: no
 * name check) is matched against the certificate; dane (NULL: none,
 * borrowed) enables DANE when dane_enabled() says so, and then sends
 * its base domain as SNI when sni is NULL (RFC 7672 8.1).
 */
SSL	*tls_ssl_new(SSL_CTX *, const char *sni, const char *verify_name,
	    const struct dane_policy *dane);

/* tls_summarize - fill info from a completed handshake */
void	 tls_summarize(SSL *, const char *sni, const char *verify_name,
	    const struct dane_policy *dane, struct tls_info *);

/* tls_version_ok - 0 if s names a TLS version (1.0 .. 1.3) */
int	 tls_version_ok(const char *);

/*
 * tls_expiring - how many certificates of the chain, not yet expired,
 * have their not_after less than days away (days <= 0: none), with a
 * one-line detail naming them in buf (truncated to len)
 */
int	 tls_expiring(const struct tls_info *, int days, char *buf,
	    size_t len);

#endif

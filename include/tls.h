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

#include "record.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
struct dane_policy;

struct tls_params {
	const char	*cafile;	/* --tls-ca-file; NULL: system store */
	const char	*capath;	/* --tls-ca-path */
	const char	*min_version;	/* --tls-min-version: "1.0".."1.3" */
	const char	*ciphers;	/* --tls-ciphers (TLS 1.2 and lower) */
};

/* tls_ctx_new - client context, or NULL with err filled */
SSL_CTX	*tls_ctx_new(const struct tls_params *, char *err, size_t errlen);
void	 tls_ctx_free(SSL_CTX *);

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

/*
 * tls_rpt_type - the RFC 8460 4.3 result type for an X509_V_ERR_*
 * code: certificate-expired, certificate-host-mismatch,
 * certificate-not-trusted or validation-failure; NULL for X509_V_OK.
 */
const char *tls_rpt_type(long);

/* tls_version_ok - 0 if s names a TLS version (1.0 .. 1.3) */
int	 tls_version_ok(const char *);

#endif

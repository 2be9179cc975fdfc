/*
 * tls.h - OpenSSL contexts for the probe and the TLS summary.
 *
 * The probe always completes the handshake (SSL_VERIFY_NONE) and then
 * judges: verification of the chain and of the name is recorded in
 * struct tls_info, and the caller decides whether a failure is fatal
 * (--tls-verify). SNI is sent by default when the target is a name.
 */
#ifndef SMTPROBE_TLS_H
#define SMTPROBE_TLS_H

#include <stddef.h>

#include "record.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

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
 * name check) is matched against the certificate.
 */
SSL	*tls_ssl_new(SSL_CTX *, const char *sni, const char *verify_name);

/* tls_summarize - fill info from a completed handshake */
void	 tls_summarize(SSL *, const char *sni, const char *verify_name,
	    struct tls_info *);

/* tls_version_ok - 0 if s names a TLS version (1.0 .. 1.3) */
int	 tls_version_ok(const char *);

#endif

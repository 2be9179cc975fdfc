/*
 * tls.c - OpenSSL context, per-connection SSL, and the summary of a
 * completed handshake (version, cipher, group, verification, chain).
 */
#include "config.h"

#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "tls.h"

static const struct {
	const char	*name;
	int		 version;
} tls_versions[] = {
	{ "1.0", TLS1_VERSION },
	{ "1.1", TLS1_1_VERSION },
	{ "1.2", TLS1_2_VERSION },
	{ "1.3", TLS1_3_VERSION },
};

static char	*tls_name(const X509_NAME *);
static char	*tls_time(const ASN1_TIME *);
static void	 tls_cert(X509 *, struct tls_cert *);
static int	 tls_is_ip(const char *);

int
tls_version_ok(const char *s)
{
	size_t	 i;

	for (i = 0; i < sizeof(tls_versions) / sizeof(tls_versions[0]); i++)
		if (strcmp(s, tls_versions[i].name) == 0)
			return 0;
	return -1;
}

SSL_CTX *
tls_ctx_new(const struct tls_params *p, char *err, size_t errlen)
{
	SSL_CTX	*ctx;
	size_t	 i;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, errlen, "cannot create TLS context");
		return NULL;
	}
	/*
	 * A probe must see what the server offers: old versions stay
	 * possible unless --tls-min-version says otherwise.
	 */
	SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
	if (p->min_version != NULL)
		for (i = 0; i < sizeof(tls_versions) / sizeof(tls_versions[0]);
		    i++)
			if (strcmp(p->min_version, tls_versions[i].name) == 0)
				SSL_CTX_set_min_proto_version(ctx,
				    tls_versions[i].version);
	/* Servers often close after 221 without close_notify. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (p->ciphers != NULL &&
	    SSL_CTX_set_cipher_list(ctx, p->ciphers) != 1) {
		snprintf(err, errlen, "no usable cipher in \"%s\"", p->ciphers);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (p->cafile != NULL || p->capath != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, p->cafile,
		    p->capath) != 1) {
			snprintf(err, errlen, "cannot load CA certificates "
			    "from %s", p->cafile != NULL ? p->cafile :
			    p->capath);
			SSL_CTX_free(ctx);
			ERR_clear_error();
			return NULL;
		}
	} else
		SSL_CTX_set_default_verify_paths(ctx);
	ERR_clear_error();
	return ctx;
}

void
tls_ctx_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}

static int
tls_is_ip(const char *s)
{
	unsigned char	 buf[16];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

SSL *
tls_ssl_new(SSL_CTX *ctx, const char *sni, const char *verify_name)
{
	SSL	*ssl;

	if ((ssl = SSL_new(ctx)) == NULL)
		fatalx("SSL_new failed");
	if (sni != NULL)
		SSL_set_tlsext_host_name(ssl, sni);
	if (verify_name != NULL) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);

		if (tls_is_ip(verify_name))
			X509_VERIFY_PARAM_set1_ip_asc(vp, verify_name);
		else {
			SSL_set_hostflags(ssl,
			    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			SSL_set1_host(ssl, verify_name);
		}
	}
	return ssl;
}

/* tls_name - one-line RFC 2253 form of an X.509 name; caller frees */
static char *
tls_name(const X509_NAME *n)
{
	BIO	*b;
	char	*p, *s;
	long	 len;

	b = BIO_new(BIO_s_mem());
	X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	len = BIO_get_mem_data(b, &p);
	s = xstrndup(p, (size_t)len);
	BIO_free(b);
	return s;
}

/* tls_time - ISO 8601 UTC form of an ASN1 time; caller frees */
static char *
tls_time(const ASN1_TIME *t)
{
	struct tm	 tm;
	char		 buf[32];

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return xstrdup("?");
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

static void
tls_cert(X509 *x, struct tls_cert *c)
{
	GENERAL_NAMES	*names;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen, i;
	char		*o;
	int		 k;

	c->subject = tls_name(X509_get_subject_name(x));
	c->issuer = tls_name(X509_get_issuer_name(x));
	c->not_before = tls_time(X509_get0_notBefore(x));
	c->not_after = tls_time(X509_get0_notAfter(x));
	c->expired = X509_cmp_current_time(X509_get0_notAfter(x)) < 0;
	if (X509_digest(x, EVP_sha256(), md, &mdlen) == 1) {
		o = c->sha256 = xmalloc(mdlen * 3 + 1);
		for (i = 0; i < mdlen; i++)
			snprintf(o + i * 3, 4, i + 1 < mdlen ? "%02X:" : "%02X",
			    md[i]);
	} else
		c->sha256 = xstrdup("");
	names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (k = 0; names != NULL && k < sk_GENERAL_NAME_num(names); k++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, k);
		char		 ip[INET6_ADDRSTRLEN];
		char		*v = NULL;

		if (g->type == GEN_DNS) {
			const unsigned char *d =
			    ASN1_STRING_get0_data(g->d.dNSName);
			int		 n = ASN1_STRING_length(g->d.dNSName);
			char		*raw = xstrndup((const char *)d,
			    (size_t)n);

			v = xasprintf("DNS:%s", raw);
			free(raw);
		} else if (g->type == GEN_IPADD) {
			int n = ASN1_STRING_length(g->d.iPAddress);
			const unsigned char *d =
			    ASN1_STRING_get0_data(g->d.iPAddress);

			if (inet_ntop(n == 16 ? AF_INET6 : AF_INET, d, ip,
			    sizeof(ip)) != NULL && (n == 4 || n == 16))
				v = xasprintf("IP:%s", ip);
		}
		if (v == NULL)
			continue;
		c->san = xreallocarray(c->san, c->nsan + 1, sizeof(char *));
		c->san[c->nsan++] = v;
	}
	GENERAL_NAMES_free(names);
}

void
tls_summarize(SSL *ssl, const char *sni, const char *verify_name,
    struct tls_info *t)
{
	STACK_OF(X509)	*chain;
	int		 i, n, nid;
	const char	*g;

	record_tls_clear(t);
	t->done = 1;
	t->version = xstrdup(SSL_get_version(ssl));
	t->cipher = xstrdup(SSL_get_cipher_name(ssl));
	t->bits = SSL_get_cipher_bits(ssl, NULL);
	nid = SSL_get_negotiated_group(ssl);
	g = nid > 0 ? OBJ_nid2sn(nid) : NULL;
	t->group = g != NULL ? xstrdup(g) : NULL;
	t->sni = sni != NULL ? xstrdup(sni) : NULL;
	t->verify_name = verify_name != NULL ? xstrdup(verify_name) : NULL;
	t->verify_code = SSL_get_verify_result(ssl);
	t->verify_error = xstrdup(X509_verify_cert_error_string(
	    t->verify_code));
	chain = SSL_get_peer_cert_chain(ssl);
	n = chain != NULL ? sk_X509_num(chain) : 0;
	if (n == 0) {
		X509 *leaf = SSL_get1_peer_certificate(ssl);

		if (leaf != NULL) {
			t->chain = xcalloc(1, sizeof(*t->chain));
			tls_cert(leaf, &t->chain[0]);
			t->nchain = 1;
			X509_free(leaf);
		}
		return;
	}
	t->chain = xcalloc((size_t)n, sizeof(*t->chain));
	for (i = 0; i < n; i++)
		tls_cert(sk_X509_value(chain, i), &t->chain[i]);
	t->nchain = (size_t)n;
}

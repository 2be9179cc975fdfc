/*
 * tls.c - OpenSSL context, per-connection SSL, and the summary of a
 * completed handshake (version, cipher, group, verification, chain,
 * DANE). See include/tls.h.
 */
#include "config.h"

#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "dane.h"
#include "log.h"
#include "tls.h"
#include "util.h"

static const struct {
	const char	*name;
	int		 version;
} tls_versions[] = {
	{ "1.0", TLS1_VERSION },
	{ "1.1", TLS1_1_VERSION },
	{ "1.2", TLS1_2_VERSION },
	{ "1.3", TLS1_3_VERSION },
};

/* What a context keeps for the summaries of its connections. */
struct tls_ctx_opts {
	int	 show_chain;	/* each certificate's PEM */
	int	 expiry_warn;	/* days, 0: off */
};

static void	 tls_lib_init(void);
static int	 tls_version_of(const char *);
static int	 tls_no_passphrase(char *, int, int, void *);
static int	 tls_file_ok(const char *, const char *, char *, size_t);
static int	 tls_suites(SSL_CTX *, const char *, char *, size_t);
static int	 tls_client_key(SSL_CTX *, const struct tls_params *, char *,
		    size_t);
static int	 tls_ctx_client(SSL_CTX *, const struct tls_params *, char *,
		    size_t);
static void	 tls_opts_free(void *, void *, CRYPTO_EX_DATA *, int, long,
		    void *);
static int	 tls_opts_index(void);
static char	*tls_pem(X509 *);
static void	 tls_name_value(struct util_buf *, const ASN1_STRING *);
static char	*tls_name(const X509_NAME *);
static char	*tls_time(const ASN1_TIME *);
static void	 tls_cert(X509 *, int, struct tls_cert *);
static int	 tls_is_ip(const char *);
static int	 tls_hashed_dir(const char *);
static void	 tls_trust_default(SSL_CTX *);
static int	 tls_system_bundle(const char *);
static int	 tls_pending_index(void);
static long	 tls_pkix(SSL *, const char *);
static int	 tls_tlsa_match(X509 *, const struct dane_rr *);
static void	 tls_dane(SSL *, const struct dane_policy *, struct tls_info *);

int
tls_version_ok(const char *s)
{
	size_t	 i;

	for (i = 0; i < nitems(tls_versions); i++)
		if (strcmp(s, tls_versions[i].name) == 0)
			return 0;
	return -1;
}

/* tls_version_of - OpenSSL's number for a version name, 0 if none */
static int
tls_version_of(const char *s)
{
	size_t	 i;

	for (i = 0; i < nitems(tls_versions); i++)
		if (strcmp(s, tls_versions[i].name) == 0)
			return tls_versions[i].version;
	return 0;
}

/* tls_no_passphrase - never prompt: an encrypted key is refused */
static int
tls_no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return 0;
}

/* tls_file_ok - 0 if the file of an option can be opened for reading */
static int
tls_file_ok(const char *opt, const char *path, char *err, size_t errlen)
{
	FILE	*f;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "--%s %s: %s", opt, path,
		    strerror(errno));
		return -1;
	}
	fclose(f);
	return 0;
}

/*
 * tls_suites - set the TLS 1.3 suites. OpenSSL skips the names it does
 * not know, so each name of the list must be among the context's
 * ciphers afterwards, as a TLS 1.3 suite.
 */
static int
tls_suites(SSL_CTX *ctx, const char *list, char *err, size_t errlen)
{
	STACK_OF(SSL_CIPHER)	*sk;
	const SSL_CIPHER	*c;
	char			*copy, *name, *next;
	int			 i, found, rv = 0;

	if (*list == '\0' || SSL_CTX_set_ciphersuites(ctx, list) != 1) {
		snprintf(err, errlen, "--tls-ciphersuites: \"%s\" is not a "
		    "list of TLS 1.3 suites (see openssl ciphers -s "
		    "-tls1_3)", list);
		return -1;
	}
	sk = SSL_CTX_get_ciphers(ctx);
	copy = xstrdup(list);
	for (name = copy; rv == 0 && name != NULL; name = next) {
		if ((next = strchr(name, ':')) != NULL)
			*next++ = '\0';
		for (found = 0, i = 0; !found && i < sk_SSL_CIPHER_num(sk);
		    i++) {
			c = sk_SSL_CIPHER_value(sk, i);
			found = strcmp(SSL_CIPHER_get_version(c),
			    "TLSv1.3") == 0 &&
			    strcmp(SSL_CIPHER_standard_name(c), name) == 0;
		}
		if (!found) {
			snprintf(err, errlen, "--tls-ciphersuites: \"%.64s\" "
			    "is not a TLS 1.3 suite (see openssl ciphers -s "
			    "-tls1_3)", name);
			rv = -1;
		}
	}
	free(copy);
	return rv;
}

/*
 * tls_client_key - the client certificate (with its intermediates) and
 * its key, which must be PEM, unencrypted and the certificate's. The
 * messages name files only: no key material is ever printed.
 */
static int
tls_client_key(SSL_CTX *ctx, const struct tls_params *p, char *err,
    size_t errlen)
{
	const char	*key = p->key != NULL ? p->key : p->cert;
	const char	*kopt = p->key != NULL ? "tls-key" : "tls-cert";
	EVP_PKEY	*pk;
	FILE		*f;
	int		 ok;

	if (tls_file_ok("tls-cert", p->cert, err, errlen) == -1 ||
	    tls_file_ok(kopt, key, err, errlen) == -1)
		return -1;
	if (SSL_CTX_use_certificate_chain_file(ctx, p->cert) != 1) {
		snprintf(err, errlen, "--tls-cert %s: no PEM certificate in "
		    "it", p->cert);
		return -1;
	}
	if ((f = fopen(key, "r")) == NULL) {
		snprintf(err, errlen, "--%s %s: %s", kopt, key,
		    strerror(errno));
		return -1;
	}
	pk = PEM_read_PrivateKey(f, NULL, tls_no_passphrase, NULL);
	fclose(f);
	if (pk == NULL) {
		snprintf(err, errlen, "--%s %s: no PEM private key in it (an "
		    "encrypted key must be decrypted first)", kopt, key);
		return -1;
	}
	ok = X509_check_private_key(SSL_CTX_get0_certificate(ctx), pk) == 1;
	if (!ok)
		snprintf(err, errlen, "--%s %s: this key does not match the "
		    "certificate in %s", kopt, key, p->cert);
	else if ((ok = SSL_CTX_use_PrivateKey(ctx, pk) == 1) == 0)
		snprintf(err, errlen, "--%s %s: key not usable", kopt, key);
	EVP_PKEY_free(pk);
	return ok ? 0 : -1;
}

/*
 * tls_ctx_client - what the options add to a client context: version
 * range, TLS 1.3 suites, client certificate. A probe must see what the
 * server offers: old versions stay possible unless --tls-min-version
 * says otherwise.
 */
static int
tls_ctx_client(SSL_CTX *ctx, const struct tls_params *p, char *err,
    size_t errlen)
{
	int	 min = TLS1_VERSION, max = 0;
	int	 rv = 0;

	if (p->min_version != NULL && (min = tls_version_of(
	    p->min_version)) == 0) {
		snprintf(err, errlen, "--tls-min-version: \"%s\" is not one "
		    "of 1.0 1.1 1.2 1.3", p->min_version);
		return -1;
	}
	if (p->max_version != NULL && (max = tls_version_of(
	    p->max_version)) == 0) {
		snprintf(err, errlen, "--tls-max-version: \"%s\" is not one "
		    "of 1.0 1.1 1.2 1.3", p->max_version);
		return -1;
	}
	if (max != 0 && max < min) {
		snprintf(err, errlen, "--tls-max-version %s is below "
		    "--tls-min-version %s", p->max_version,
		    p->min_version != NULL ? p->min_version : "1.0");
		return -1;
	}
	SSL_CTX_set_min_proto_version(ctx, min);
	SSL_CTX_set_max_proto_version(ctx, max);
	if (p->ciphersuites != NULL)
		rv = tls_suites(ctx, p->ciphersuites, err, errlen);
	if (rv == 0 && p->cert != NULL)
		rv = tls_client_key(ctx, p, err, errlen);
	else if (rv == 0 && p->key != NULL) {
		snprintf(err, errlen, "--tls-key needs --tls-cert");
		rv = -1;
	}
	ERR_clear_error();
	return rv;
}

/*
 * tls_lib_init - OpenSSL without its exit handler. OPENSSL_cleanup()
 * at exit frees every table the library built (providers, algorithms,
 * names, error strings): 5 % of the instructions of a STARTTLS probe,
 * to give back memory the kernel takes back anyway. It must come before
 * OpenSSL's first initialisation; after it, it changes nothing.
 */
static void
tls_lib_init(void)
{
	static int	 done;

	if (done)
		return;
	done = 1;
	OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}

int
tls_params_check(const struct tls_params *p, char *err, size_t errlen)
{
	SSL_CTX	*ctx;
	int	 rv;

	tls_lib_init();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, errlen, "cannot create TLS context");
		return -1;
	}
	rv = tls_ctx_client(ctx, p, err, errlen);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return rv;
}

/* tls_opts_free - ex_data destructor of a context's tls_ctx_opts */
static void
tls_opts_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

/* tls_opts_index - the ex_data slot of a context's tls_ctx_opts */
static int
tls_opts_index(void)
{
	static int	 idx = -2;

	if (idx == -2)
		idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
		    tls_opts_free);
	return idx;
}

SSL_CTX *
tls_ctx_new(const struct tls_params *p, char *err, size_t errlen)
{
	struct tls_ctx_opts	*o;
	SSL_CTX			*ctx;

	tls_lib_init();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, errlen, "cannot create TLS context");
		return NULL;
	}
	if (tls_ctx_client(ctx, p, err, errlen) == -1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	if ((p->show_chain || p->expiry_warn > 0) && tls_opts_index() >= 0) {
		o = xcalloc(1, sizeof(*o));
		o->show_chain = p->show_chain;
		o->expiry_warn = p->expiry_warn;
		if (SSL_CTX_set_ex_data(ctx, tls_opts_index(), o) != 1)
			free(o);
	}
	/* Servers often close after 221 without close_notify. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	/* DANE is switched on per connection; the context must allow it */
	if (SSL_CTX_dane_enable(ctx) <= 0) {
		snprintf(err, errlen, "cannot enable DANE in the TLS context");
		SSL_CTX_free(ctx);
		ERR_clear_error();
		return NULL;
	}
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
	} else if (tls_pending_index() >= 0)
		/*
		 * the system's trust (or the bundle), when the first
		 * connection needs it; the slot holds what to load
		 */
		SSL_CTX_set_ex_data(ctx, tls_pending_index(), p->bundle !=
		    NULL ? (void *)p->bundle : (void *)ctx);
	else
		tls_trust_default(ctx);
	ERR_clear_error();
	return ctx;
}

/* tls_pending_index - the ex_data slot "system trust not loaded yet" */
static int
tls_pending_index(void)
{
	static int	 idx = -2;

	if (idx == -2)
		idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	return idx;
}

void
tls_ctx_trust(SSL_CTX *ctx)
{
	int	 idx = tls_pending_index();
	void	*what;

	if (idx < 0 || (what = SSL_CTX_get_ex_data(ctx, idx)) == NULL)
		return;
	SSL_CTX_set_ex_data(ctx, idx, NULL);
	if (what == (void *)ctx || SSL_CTX_load_verify_file(ctx,
	    (const char *)what) != 1)
		tls_trust_default(ctx);
	ERR_clear_error();
}

/*
 * tls_hashed_dir - 1 if dir holds a hash link (HHHHHHHH.N), the names
 * OpenSSL's directory lookup opens; 0 for a directory never rehashed
 */
static int
tls_hashed_dir(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	const char	*n;
	size_t		 i;
	int		 found = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while (!found && (e = readdir(d)) != NULL) {
		n = e->d_name;
		for (i = 0; i < 8 && isxdigit((unsigned char)n[i]); i++)
			;
		found = i == 8 && n[8] == '.' && isdigit((unsigned char)n[9]);
	}
	closedir(d);
	return found;
}

/*
 * tls_system_bundle - 1 if file (SSL_CERT_FILE) is unset or the system's
 * own bundle under another name: a desktop or CI environment often
 * exports it for tools that do not know the default
 */
static int
tls_system_bundle(const char *file)
{
	char	 a[PATH_MAX], b[PATH_MAX];

	if (file == NULL)
		return 1;
	return realpath(file, a) != NULL &&
	    realpath(X509_get_default_cert_file(), b) != NULL &&
	    strcmp(a, b) == 0;
}

/*
 * tls_trust_default - the system's trust, read on demand. OpenSSL's
 * default paths parse the whole CA bundle (some 140 certificates) when
 * the context is made: most of a STARTTLS probe's CPU, spent even when
 * no chain is ever verified. The hashed directory holds the same
 * certificates (update-ca-certificates writes both) and is read one
 * issuer at a time, only while a chain is verified; and nothing at all
 * is read before the first TLS connection (tls_ctx_trust()). An
 * SSL_CERT_FILE other than the system bundle is a choice, and a
 * directory that was never rehashed cannot be looked up: then the
 * default paths, as before.
 */
static void
tls_trust_default(SSL_CTX *ctx)
{
	const char	*dir;

	if (tls_system_bundle(getenv(X509_get_default_cert_file_env()))) {
		if ((dir = getenv(X509_get_default_cert_dir_env())) == NULL)
			dir = X509_get_default_cert_dir();
		if (tls_hashed_dir(dir) && SSL_CTX_load_verify_dir(ctx,
		    dir) == 1)
			return;
		ERR_clear_error();
	}
	SSL_CTX_set_default_verify_paths(ctx);
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
tls_ssl_new(SSL_CTX *ctx, const char *sni, const char *verify_name,
    const struct dane_policy *dane)
{
	SSL	*ssl;
	size_t	 i;

	tls_ctx_trust(ctx);
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
	if (!dane_enabled(dane))
		return ssl;
	/*
	 * RFC 7672: the base domain (the MX host) is the reference name
	 * for DANE-TA, and the SNI when none was chosen; DANE-EE matches
	 * the key alone, so OpenSSL's name check for it is switched off
	 * (3.1.1). A --tls-sni name is accepted as well.
	 */
	if (SSL_dane_enable(ssl, dane->base) <= 0) {
		log_warnx("%s: cannot enable DANE", dane->base);
		ERR_clear_error();
		return ssl;
	}
	SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	if (verify_name != NULL && !tls_is_ip(verify_name) &&
	    strcasecmp(verify_name, dane->base) != 0)
		SSL_add1_host(ssl, verify_name);
	for (i = 0; i < dane->nrrs; i++) {
		const struct dane_rr *rr = &dane->rrs[i];

		if (rr->note != NULL)
			continue;
		if (SSL_dane_tlsa_add(ssl, rr->usage, rr->selector,
		    rr->mtype, rr->data, rr->len) <= 0)
			log_warnx("%s: TLSA %s not taken by OpenSSL",
			    dane->qname, rr->text);
	}
	ERR_clear_error();
	return ssl;
}

/*
 * tls_pkix - verify the peer's chain against the context's CA store
 * and name, as if DANE were not there (the MTA-STS view, RFC 8461 4.2).
 */
static long
tls_pkix(SSL *ssl, const char *name)
{
	X509_STORE_CTX		*xs;
	X509_VERIFY_PARAM	*vp;
	X509			*leaf = SSL_get0_peer_certificate(ssl);
	long			 code;

	if (leaf == NULL)
		return X509_V_ERR_UNSPECIFIED;
	if ((xs = X509_STORE_CTX_new()) == NULL)
		fatalx("X509_STORE_CTX_new failed");
	if (X509_STORE_CTX_init(xs, SSL_CTX_get_cert_store(
	    SSL_get_SSL_CTX(ssl)), leaf, SSL_get_peer_cert_chain(ssl)) != 1) {
		X509_STORE_CTX_free(xs);
		ERR_clear_error();
		return X509_V_ERR_UNSPECIFIED;
	}
	X509_STORE_CTX_set_default(xs, "ssl_server");
	vp = X509_STORE_CTX_get0_param(xs);
	if (name != NULL && tls_is_ip(name))
		X509_VERIFY_PARAM_set1_ip_asc(vp, name);
	else if (name != NULL) {
		X509_VERIFY_PARAM_set_hostflags(vp,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		X509_VERIFY_PARAM_set1_host(vp, name, 0);
	}
	code = X509_verify_cert(xs) == 1 ? X509_V_OK :
	    X509_STORE_CTX_get_error(xs);
	X509_STORE_CTX_free(xs);
	ERR_clear_error();
	return code;
}

/* tls_tlsa_match - 1 if the record's data is this certificate's */
static int
tls_tlsa_match(X509 *x, const struct dane_rr *rr)
{
	unsigned char	*der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	int		 len, ok = 0;

	if (rr->selector == 0)
		len = i2d_X509(x, &der);
	else if (rr->selector == 1)
		len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	else
		return 0;
	if (len <= 0)
		return 0;
	if (rr->mtype == 0)
		ok = (size_t)len == rr->len && memcmp(der, rr->data,
		    rr->len) == 0;
	else if ((rr->mtype == 1 || rr->mtype == 2) && EVP_Digest(der,
	    (size_t)len, md, &mdlen, rr->mtype == 1 ? EVP_sha256() :
	    EVP_sha512(), NULL) == 1)
		ok = mdlen == rr->len && memcmp(md, rr->data, mdlen) == 0;
	OPENSSL_free(der);
	return ok;
}

/* tls_dane - the DANE part of the summary: lookup, match, judgement */
static void
tls_dane(SSL *ssl, const struct dane_policy *p, struct tls_info *t)
{
	STACK_OF(X509)		*chain = SSL_get_peer_cert_chain(ssl);
	struct dane_outcome	 o;
	const unsigned char	*data = NULL;
	const char		*matched = NULL;
	uint8_t			 u, sel, mt;
	size_t			 dlen = 0, i, k;
	int			 depth = -1;

	t->dane.checked = 1;
	t->dane.enabled = dane_enabled(p);
	t->dane.lookup = xstrdup(dane_dns_name(p->dns));
	t->dane.qname = xstrdup(p->qname);
	t->dane.ad = p->ad;
	t->dane.resolver = p->resolver != NULL ? xstrdup(p->resolver) : NULL;
	if (p->nrrs > 0) {
		t->dane.records = xcalloc(p->nrrs, sizeof(char *));
		t->dane.notes = xcalloc(p->nrrs, sizeof(char *));
	}
	for (i = 0; i < p->nrrs; i++) {
		t->dane.records[i] = xstrdup(p->rrs[i].text);
		t->dane.notes[i] = p->rrs[i].note != NULL ?
		    xstrdup(p->rrs[i].note) : NULL;
	}
	t->dane.nrecords = p->nrrs;
	/* the record each certificate matches, whatever its usage */
	for (k = 0; chain != NULL && k < t->nchain &&
	    k < (size_t)sk_X509_num(chain); k++)
		for (i = 0; i < p->nrrs && t->chain[k].tlsa == NULL; i++)
			if (tls_tlsa_match(sk_X509_value(chain, (int)k),
			    &p->rrs[i]))
				t->chain[k].tlsa = xstrdup(p->rrs[i].text);
	if (t->dane.enabled) {
		depth = SSL_get0_dane_authority(ssl, NULL, NULL);
		if (depth >= 0 && SSL_get0_dane_tlsa(ssl, &u, &sel, &mt, &data,
		    &dlen) >= 0)
			for (i = 0; i < p->nrrs && matched == NULL; i++)
				if (p->rrs[i].usage == u &&
				    p->rrs[i].selector == sel &&
				    p->rrs[i].mtype == mt &&
				    p->rrs[i].len == dlen &&
				    memcmp(p->rrs[i].data, data, dlen) == 0)
					matched = p->rrs[i].text;
	}
	t->dane.depth = depth;
	t->dane.matched = matched != NULL ? xstrdup(matched) : NULL;
	dane_judge(p, 1, depth, matched, t->verify_code, t->verify_error, &o);
	t->dane.status = xstrdup(dane_status_name(o.status));
	t->dane.result_type = o.result_type != NULL ?
	    xstrdup(o.result_type) : NULL;
	t->dane.finding = o.finding != NULL ? xstrdup(o.finding) : NULL;
	t->dane.fatal = o.fatal;
	t->dane.detail = xstrdup(o.detail);
}

/*
 * tls_name_value - append one attribute value of a name: the string's
 * bytes (BMP and Universal strings as UTF-8) through util_escape(), so
 * that no certificate text reaches an output raw, then the RFC 4514
 * specials (, + " < > ; a leading # or blank, a trailing blank) with a
 * backslash, as OpenSSL prints them. A value that is not a string type
 * is "#" and its bytes in hex.
 */
static void
tls_name_value(struct util_buf *b, const ASN1_STRING *v)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*d = ASN1_STRING_get0_data(v);
	unsigned char		*u8 = NULL;
	char			*esc, *p;
	int			 len = ASN1_STRING_length(v), i;

	switch (ASN1_STRING_type(v)) {
	case V_ASN1_BMPSTRING:
	case V_ASN1_UNIVERSALSTRING:
		if ((len = ASN1_STRING_to_UTF8(&u8, v)) < 0)
			goto dump;
		d = u8;
		break;
	case V_ASN1_UTF8STRING:
	case V_ASN1_PRINTABLESTRING:
	case V_ASN1_IA5STRING:
	case V_ASN1_T61STRING:
	case V_ASN1_NUMERICSTRING:
	case V_ASN1_VISIBLESTRING:
		break;
	default:
		goto dump;
	}
	esc = util_escape((const char *)d, (size_t)len);
	for (p = esc; *p != '\0'; p++) {
		if (strchr(",+\"<>;", *p) != NULL ||
		    (p == esc && (*p == '#' || *p == ' ')) ||
		    (p[1] == '\0' && *p == ' '))
			util_buf_add(b, "\\", 1);
		util_buf_add(b, p, 1);
	}
	free(esc);
	OPENSSL_free(u8);
	return;
dump:
	OPENSSL_free(u8);
	d = ASN1_STRING_get0_data(v);
	len = ASN1_STRING_length(v);
	util_buf_add(b, "#", 1);
	for (i = 0; i < len; i++) {
		util_buf_add(b, &hex[d[i] >> 4], 1);
		util_buf_add(b, &hex[d[i] & 0xf], 1);
	}
}

/*
 * tls_name - one-line RFC 4514 form of an X.509 name, most specific
 * attribute first ("CN=mx.example,O=Example"), "+" inside a multi-valued
 * RDN; values as tls_name_value() writes them. Caller frees.
 */
static char *
tls_name(const X509_NAME *n)
{
	struct util_buf		 b = { NULL, 0, 0 };
	const X509_NAME_ENTRY	*e;
	const ASN1_OBJECT	*obj;
	const char		*sn;
	char			 oid[128];
	int			 i, set = -1, nid;

	for (i = X509_NAME_entry_count(n) - 1; i >= 0; i--) {
		e = X509_NAME_get_entry(n, i);
		if (set != -1)
			util_buf_str(&b, X509_NAME_ENTRY_set(e) == set ?
			    "+" : ",");
		set = X509_NAME_ENTRY_set(e);
		obj = X509_NAME_ENTRY_get_object(e);
		nid = OBJ_obj2nid(obj);
		if (nid != NID_undef && (sn = OBJ_nid2sn(nid)) != NULL)
			util_buf_str(&b, sn);
		else if (OBJ_obj2txt(oid, sizeof(oid), obj, 1) > 0)
			util_buf_str(&b, oid);
		else
			util_buf_str(&b, "?");
		util_buf_str(&b, "=");
		tls_name_value(&b, X509_NAME_ENTRY_get_data(e));
	}
	return b.p != NULL ? b.p : xstrdup("");
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

/* tls_pem - the certificate in PEM, lines ending in LF; caller frees */
static char *
tls_pem(X509 *x)
{
	BIO	*b;
	char	*data, *pem = NULL;
	long	 len;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		fatalx("BIO_new failed");
	if (PEM_write_bio_X509(b, x) == 1 &&
	    (len = BIO_get_mem_data(b, &data)) > 0) {
		pem = xmalloc((size_t)len + 1);
		memcpy(pem, data, (size_t)len);
		pem[len] = '\0';
	}
	BIO_free(b);
	return pem;
}

/*
 * tls_cert - one certificate of the chain: names, dates, fingerprint,
 * the SHA-256 of its SubjectPublicKeyInfo (TLSA 3 1 1) and, with pem,
 * the PEM text
 */
static void
tls_cert(X509 *x, int pem, struct tls_cert *c)
{
	GENERAL_NAMES	*names;
	unsigned char	 md[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned int	 mdlen, i;
	char		*o;
	int		 k, len;

	c->subject = tls_name(X509_get_subject_name(x));
	c->issuer = tls_name(X509_get_issuer_name(x));
	c->not_before = tls_time(X509_get0_notBefore(x));
	c->not_after = tls_time(X509_get0_notAfter(x));
	c->expired = X509_cmp_current_time(X509_get0_notAfter(x)) < 0;
	{
		int	 days = 0, secs = 0;

		if (ASN1_TIME_diff(&days, &secs, NULL,
		    X509_get0_notAfter(x)) == 1)
			c->days_left = days;
	}
	if (X509_digest(x, EVP_sha256(), md, &mdlen) == 1) {
		o = c->sha256 = xmalloc(mdlen * 3 + 1);
		for (i = 0; i < mdlen; i++)
			snprintf(o + i * 3, 4, i + 1 < mdlen ? "%02X:" : "%02X",
			    md[i]);
	} else
		c->sha256 = xstrdup("");
	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	if (len > 0 && EVP_Digest(der, (size_t)len, md, &mdlen,
	    EVP_sha256(), NULL) == 1) {
		o = c->spki = xmalloc(mdlen * 2 + 1);
		for (i = 0; i < mdlen; i++)
			snprintf(o + i * 2, 3, "%02x", md[i]);
	} else
		c->spki = xstrdup("");
	OPENSSL_free(der);
	c->pem = pem ? tls_pem(x) : NULL;
	names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (k = 0; names != NULL && k < sk_GENERAL_NAME_num(names); k++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, k);
		char		 ip[INET6_ADDRSTRLEN];
		char		*v = NULL;

		if (g->type == GEN_DNS) {
			const unsigned char *d =
			    ASN1_STRING_get0_data(g->d.dNSName);
			int		 n = ASN1_STRING_length(g->d.dNSName);
			char		*esc = util_escape((const char *)d,
			    (size_t)n);

			v = xasprintf("DNS:%s", esc);
			free(esc);
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
    const struct dane_policy *dane, struct tls_info *t)
{
	STACK_OF(X509)		*chain;
	X509			*leaf;
	const struct tls_ctx_opts *o = NULL;
	int			 i, n, nid, pem;
	const char		*g;

	tls_info_clear(t);
	t->done = 1;
	if (tls_opts_index() >= 0)
		o = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl),
		    tls_opts_index());
	pem = o != NULL && o->show_chain;
	t->expiry_warn = o != NULL ? o->expiry_warn : 0;
	t->version = xstrdup(SSL_get_version(ssl));
	t->cipher = xstrdup(SSL_get_cipher_name(ssl));
	t->bits = SSL_get_cipher_bits(ssl, NULL);
	nid = SSL_get_negotiated_group(ssl);
	g = nid > 0 ? OBJ_nid2sn(nid) : NULL;
	t->group = g != NULL ? xstrdup(g) : NULL;
	if (sni == NULL && dane_enabled(dane))
		sni = dane->base;	/* SSL_dane_enable() sent it */
	t->sni = sni != NULL ? xstrdup(sni) : NULL;
	t->verify_name = verify_name != NULL ? xstrdup(verify_name) : NULL;
	t->verify_code = SSL_get_verify_result(ssl);
	t->verify_error = xstrdup(X509_verify_cert_error_string(
	    t->verify_code));
	t->pkix_code = dane_enabled(dane) ? tls_pkix(ssl, verify_name) :
	    t->verify_code;
	t->pkix_error = xstrdup(X509_verify_cert_error_string(t->pkix_code));
	leaf = SSL_get0_peer_certificate(ssl);
	t->name_match = -1;
	if (leaf != NULL && verify_name != NULL)
		t->name_match = tls_is_ip(verify_name) ?
		    X509_check_ip_asc(leaf, verify_name, 0) == 1 :
		    X509_check_host(leaf, verify_name, 0,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
	chain = SSL_get_peer_cert_chain(ssl);
	n = chain != NULL ? sk_X509_num(chain) : 0;
	if (n == 0 && leaf != NULL) {
		t->chain = xcalloc(1, sizeof(*t->chain));
		tls_cert(leaf, pem, &t->chain[0]);
		t->nchain = 1;
	} else if (n > 0) {
		t->chain = xcalloc((size_t)n, sizeof(*t->chain));
		for (i = 0; i < n; i++)
			tls_cert(sk_X509_value(chain, i), pem,
			    &t->chain[i]);
		t->nchain = (size_t)n;
	}
	if (dane != NULL)
		tls_dane(ssl, dane, t);
	ERR_clear_error();
}

int
tls_expiring(const struct tls_info *t, int days, char *buf, size_t len)
{
	const struct tls_cert	*c;
	size_t			 i, off = 0;
	int			 n = 0, w;

	if (days <= 0 || len == 0)
		return 0;
	buf[0] = '\0';
	for (i = 0; i < t->nchain; i++) {
		c = &t->chain[i];
		if (c->expired || c->days_left >= days)
			continue;
		w = snprintf(buf + off, len - off, "%scertificate %zu (%s) "
		    "expires %s, in %s%ld day%s", n > 0 ? "; " : "", i,
		    c->subject, c->not_after, c->days_left < 1 ?
		    "less than " : "", c->days_left < 1 ? 1 : c->days_left,
		    c->days_left == 1 || c->days_left < 1 ? "" : "s");
		n++;
		if (w > 0 && (size_t)w < len - off)
			off += (size_t)w;
		else
			off = len - 1;
	}
	if (n > 0 && off + 1 < len)
		snprintf(buf + off, len - off, " (warning within %d day%s)",
		    days, days == 1 ? "" : "s");
	return n;
}

void
tls_info_clear(struct tls_info *t)
{
	size_t	 i, j;

	free(t->version);
	free(t->cipher);
	free(t->group);
	free(t->sni);
	free(t->verify_name);
	free(t->verify_error);
	free(t->pkix_error);
	for (i = 0; i < t->dane.nrecords; i++) {
		free(t->dane.records[i]);
		free(t->dane.notes[i]);
	}
	free(t->dane.records);
	free(t->dane.notes);
	free(t->dane.status);
	free(t->dane.lookup);
	free(t->dane.qname);
	free(t->dane.resolver);
	free(t->dane.matched);
	free(t->dane.result_type);
	free(t->dane.finding);
	free(t->dane.detail);
	for (i = 0; i < t->nchain; i++) {
		free(t->chain[i].subject);
		free(t->chain[i].issuer);
		for (j = 0; j < t->chain[i].nsan; j++)
			free(t->chain[i].san[j]);
		free(t->chain[i].san);
		free(t->chain[i].not_before);
		free(t->chain[i].not_after);
		free(t->chain[i].sha256);
		free(t->chain[i].spki);
		free(t->chain[i].pem);
		free(t->chain[i].tlsa);
	}
	free(t->chain);
	memset(t, 0, sizeof(*t));
}

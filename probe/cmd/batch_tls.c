/*
 * batch_tls.c - the one TLS context of a batch, tuned for thousands of
 * sessions: the CA bundle read once into memory, and TLS buffers given
 * back by idle sessions.
 */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "batch_int.h"
#include "tls.h"

/*
 * btls_ctx_new - the context every session of the run shares; cafile
 * (--tls-ca-file) instead of the system's bundle when not NULL
 */
SSL_CTX *
btls_ctx_new(const char *cafile, char *err, size_t errlen)
{
	struct tls_params tp = { .cafile = NULL };
	const char	*bundle;
	SSL_CTX		*ctx;

	/*
	 * The system's CA bundle, loaded once into memory: the default
	 * store looks issuers up in the certificate directory, reading it
	 * anew for every chain checked, which cost a fifth of each
	 * STARTTLS session's CPU. Loaded when the first session starts
	 * TLS: a run that never does (a plaintext scenario) parses none
	 * of it (that was most of the CPU of a run of 300 deliveries).
	 */
	if ((bundle = getenv(X509_get_default_cert_file_env())) == NULL)
		bundle = X509_get_default_cert_file();
	if (cafile != NULL)
		tp.cafile = cafile;
	else if (access(bundle, R_OK) == 0)
		tp.bundle = bundle;
	if ((ctx = tls_ctx_new(&tp, err, errlen)) == NULL)
		return NULL;
	/* idle sessions hand their TLS buffers back (NOTES 5.2) */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return ctx;
}

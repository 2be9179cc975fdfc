/*
 * https.h - one HTTPS GET on the caller's event loop, small and strict,
 * for the MTA-STS policy (RFC 8461 3.3).
 *
 * The caller resolves the name (dns.h) and passes an address; https.c
 * connects, shakes hands with SNI = host, checks the certificate against
 * the context's trust store and host (DNS-ID only, a wildcard only as a
 * whole leftmost label) and sends nothing when it does not verify. Then
 * one HTTP/1.1 request with "Connection: close": no redirect is
 * followed, nothing is cached, no proxy is used. The response is read
 * with limits: the whole exchange within timeout_ms, a header of at
 * most 16 KiB, a body of at most max_body bytes (Content-Length,
 * chunked, or up to the close).
 *
 * The callback is called exactly once unless the request is cancelled,
 * never from inside https_get(); the result is valid only during the
 * callback, and the request is freed right after it returns (do not
 * cancel it from there).
 */
#ifndef SMTPROBE_HTTPS_H
#define SMTPROBE_HTTPS_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stddef.h>

struct event_base;
struct https_req;
typedef struct ssl_ctx_st SSL_CTX;

#define HTTPS_MAX_HEADER	16384

struct https_params {
	const char	*host;		/* Host:, SNI and the name checked */
	const char	*path;		/* "/.well-known/mta-sts.txt" */
	const struct sockaddr *addr;	/* where to connect */
	socklen_t	 addrlen;
	SSL_CTX		*ctx;		/* trust store, TLS versions */
	long		 timeout_ms;	/* the whole exchange */
	size_t		 max_body;	/* bytes; more is HTTPS_TOOBIG */
};

enum https_status {
	HTTPS_OK,		/* a complete response, whatever its code */
	HTTPS_CONNECT,		/* the TCP connection failed */
	HTTPS_TLS,		/* the TLS handshake failed */
	HTTPS_CERT,		/* the certificate is not valid for host */
	HTTPS_TIMEOUT,		/* timeout_ms passed */
	HTTPS_PROTOCOL,		/* not HTTP, malformed or cut short */
	HTTPS_TOOBIG		/* header or body over the limits */
};

struct https_result {
	enum https_status status;
	const char	*detail;	/* one line, never NULL */
	long		 verify_code;	/* X509_V_ERR_* (HTTPS_CERT), or 0 */
	const char	*tls_version;	/* or NULL before the handshake */
	int		 code;		/* HTTP status, 0 without one */
	const char	*content_type;	/* or NULL */
	const char	*location;	/* Location: of a 3xx, or NULL */
	const char	*body;		/* decoded, NUL-terminated, or NULL */
	size_t		 bodylen;
	long		 ms;		/* time taken */
};

typedef void	(*https_cb)(const struct https_result *, void *arg);

struct https_req *https_get(struct event_base *, const struct https_params *,
		    https_cb, void *arg);
void		 https_cancel(struct https_req *);
const char	*https_status_name(enum https_status);

/*
 * https_dechunk - decode a chunked body (RFC 9112 7.1) from in; out
 * gets at most max bytes. Returns 1 when the last chunk was seen, 0
 * when more input is needed, -1 when it is malformed, -2 when the
 * decoded body exceeds max.
 */
int		 https_dechunk(const char *in, size_t inlen, char *out,
		    size_t *outlen, size_t max);

#endif

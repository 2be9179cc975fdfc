/*
 * https.c - one HTTPS GET on io.c's connection (see include/https.h).
 *
 * io.c connects and reports IO_CONNECTED; then TLS is started on the
 * live connection (io_starttls), and IO_TLSREADY comes after the
 * handshake: the certificate is judged and, only if it verifies, the
 * request written. A connection that fails before IO_CONNECTED is a
 * connect failure, one that fails after it a TLS failure, so the two
 * can be told apart. io.c runs in raw mode: the response is collected
 * in one buffer from IO_DATA and parsed again after each read: first
 * the header (status line, Content-Length, Transfer-Encoding,
 * Content-Type, Location), then the body. io.c's deadline is the whole
 * exchange's.
 *
 * Every result is delivered from the request's own timer (a zero
 * timeout once the result is decided), never from inside an io
 * callback, so the io can be freed right after the caller's callback
 * returns (STYLE.md 9).
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "https.h"
#include "io.h"
#include "log.h"
#include "tls.h"
#include "util.h"

#define HTTPS_CHUNK_SLACK	8192	/* chunk framing allowed on top */

struct https_req {
	struct event_base	*base;
	struct io		*io;
	struct event		*timer;		/* delivery */
	SSL			*ssl;		/* until io owns it */
	int			 tcp;		/* TCP is up, TLS under way */
	https_cb		 cb;
	void			*arg;
	char			*host;
	char			*hostport;	/* Host: value */
	char			*path;
	size_t			 max_body;
	int64_t			 t0;
	int			 sent;		/* TLS up, request written */
	int			 finished;	/* result decided */
	struct util_buf		 in;		/* the response, raw */
	size_t			 hdrlen;	/* header size, 0 until whole */
	long long		 clen;		/* Content-Length, -1 none */
	int			 chunked;
	int			 code;
	char			*ctype;
	char			*location;
	char			*tlsver;
	char			*body;
	size_t			 bodylen;
	long			 verify_code;
	enum https_status	 status;
	char			 detail[512];
};

static void	https_io(struct io *, enum io_event, void *);
static void	https_read(struct https_req *);
static void	https_timercb(evutil_socket_t, short, void *);
static void	https_finish(struct https_req *, enum https_status,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static void	https_connected(struct https_req *);
static void	https_tcp_up(struct https_req *);
static void	https_parse(struct https_req *, int);
static int	https_header(struct https_req *);
static char	*https_field(const char *, size_t, const char *);
static void	https_body(struct https_req *, const char *, size_t);
static void	https_free(struct https_req *);

static const char *const status_names[] = {
	[HTTPS_OK] = "ok",
	[HTTPS_CONNECT] = "connect",
	[HTTPS_TLS] = "tls",
	[HTTPS_CERT] = "certificate",
	[HTTPS_TIMEOUT] = "timeout",
	[HTTPS_PROTOCOL] = "protocol",
	[HTTPS_TOOBIG] = "too-big",
};

const char *
https_status_name(enum https_status s)
{
	return (size_t)s < nitems(status_names) ? status_names[s] : "?";
}

struct https_req *
https_get(struct event_base *base, const struct https_params *p,
    https_cb cb, void *arg)
{
	struct https_req	*r;
	SSL			*ssl;
	unsigned		 port = 443;

	r = xcalloc(1, sizeof(*r));
	r->base = base;
	r->cb = cb;
	r->arg = arg;
	r->host = xstrdup(p->host);
	r->path = xstrdup(p->path);
	r->max_body = p->max_body;
	r->t0 = util_now_us();
	r->clen = -1;
	if (p->addr->sa_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)p->addr)->sin_port);
	else if (p->addr->sa_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)
		    p->addr)->sin6_port);
	r->hostport = port == 443 ? xstrdup(p->host) :
	    xasprintf("%s:%u", p->host, port);
	if ((r->timer = evtimer_new(base, https_timercb, r)) == NULL)
		fatalx("evtimer_new failed");

	tls_ctx_trust(p->ctx);
	if ((ssl = r->ssl = SSL_new(p->ctx)) == NULL)
		fatalx("SSL_new failed");
	/* RFC 8461 3.3: SNI, and a DNS-ID match for the policy host */
	SSL_set_tlsext_host_name(ssl, p->host);
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
	    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
	SSL_set1_host(ssl, p->host);
	r->io = io_new(base, https_io, r);
	io_set_raw(r->io);
	io_set_deadline(r->io, p->timeout_ms);
	if (io_connect(r->io, p->addr, p->addrlen, NULL, 0) == -1)
		https_finish(r, HTTPS_CONNECT, "cannot connect: %s",
		    io_error(r->io));
	return r;
}

void
https_cancel(struct https_req *r)
{
	https_free(r);
}

static void
https_free(struct https_req *r)
{
	if (r == NULL)
		return;
	io_free(r->io);
	SSL_free(r->ssl);
	if (r->timer != NULL)
		event_free(r->timer);
	free(r->host);
	free(r->hostport);
	free(r->path);
	free(r->in.p);
	free(r->ctype);
	free(r->location);
	free(r->tlsver);
	free(r->body);
	free(r);
}

/* https_finish - the result is decided: stop I/O, deliver from the timer */
static void
https_finish(struct https_req *r, enum https_status st, const char *fmt, ...)
{
	struct timeval	 tv = { 0, 0 };
	va_list		 ap;

	if (r->finished)
		return;
	r->finished = 1;
	r->status = st;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
	if (r->io != NULL)
		io_close(r->io);
	evtimer_add(r->timer, &tv);
}

static void
https_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct https_req	*r = arg;
	struct https_result	 res;

	if (!r->finished)
		return;
	memset(&res, 0, sizeof(res));
	res.status = r->status;
	res.detail = r->detail;
	res.verify_code = r->verify_code;
	res.tls_version = r->tlsver;
	res.code = r->code;
	res.content_type = r->ctype;
	res.location = r->location;
	res.body = r->body;
	res.bodylen = r->bodylen;
	res.ms = (long)((util_now_us() - r->t0) / 1000);
	r->cb(&res, r->arg);
	https_free(r);
}

/* https_tcp_up - TCP is up: put TLS on top and shake hands */
static void
https_tcp_up(struct https_req *r)
{
	SSL	*ssl = r->ssl;

	r->tcp = 1;
	r->ssl = NULL;		/* io owns it now, whatever happens */
	if (io_starttls(r->io, ssl) == -1)
		https_finish(r, HTTPS_TLS, "cannot set up TLS with %s: %s",
		    r->host, io_error(r->io));
}

/* https_connected - handshake done: judge the certificate, then ask */
static void
https_connected(struct https_req *r)
{
	SSL		*ssl = io_ssl(r->io);
	char		*req;
	long		 v;

	r->tlsver = xstrdup(SSL_get_version(ssl));
	if (SSL_get0_peer_certificate(ssl) == NULL) {
		r->verify_code = X509_V_ERR_UNSPECIFIED;
		https_finish(r, HTTPS_CERT, "%s sent no certificate", r->host);
		return;
	}
	if ((v = SSL_get_verify_result(ssl)) != X509_V_OK) {
		r->verify_code = v;
		https_finish(r, HTTPS_CERT, "the certificate of %s does not "
		    "verify: %s (%ld)", r->host,
		    X509_verify_cert_error_string(v), v);
		return;
	}
	req = xasprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: "
	    "smtprobe/%s\r\nAccept: text/plain\r\nConnection: close\r\n\r\n",
	    r->path, r->hostport, PACKAGE_VERSION);
	io_write(r->io, req, strlen(req));
	free(req);
	r->sent = 1;
}

/* https_io - what io.c reports, through the stages of the request */
static void
https_io(struct io *io, enum io_event ev, void *arg)
{
	struct https_req	*r = arg;

	if (r->finished)
		return;
	switch (ev) {
	case IO_CONNECTED:
		https_tcp_up(r);
		break;
	case IO_TLSREADY:
		https_connected(r);
		break;
	case IO_DATA:
		https_read(r);
		break;
	case IO_LINE:		/* raw mode: no lines */
		break;
	case IO_TIMEOUT:
		https_finish(r, HTTPS_TIMEOUT, "no complete response from %s "
		    "in time", r->host);
		break;
	case IO_EOF:
		if (!r->tcp)
			https_finish(r, HTTPS_CONNECT, "cannot connect to %s: "
			    "%s", r->host, io_error(io));
		else if (!r->sent)
			https_finish(r, HTTPS_TLS, "%s closed the connection "
			    "during the TLS handshake", r->host);
		else
			https_parse(r, 1);
		break;
	case IO_ERROR:
		if (!r->tcp)
			https_finish(r, HTTPS_CONNECT, "cannot connect to %s: "
			    "%s", r->host, io_error(io));
		else if (!r->sent)
			https_finish(r, HTTPS_TLS, "TLS handshake with %s "
			    "failed: %s", r->host, io_error(io));
		else
			https_finish(r, HTTPS_PROTOCOL, "connection error "
			    "while reading the response: %s", io_error(io));
		break;
	}
}

/* https_read - take what arrived, within the limits, and parse again */
static void
https_read(struct https_req *r)
{
	size_t	 cap, k;
	char	 buf[4096];

	cap = HTTPS_MAX_HEADER + r->max_body + HTTPS_CHUNK_SLACK;
	while (!r->finished && (k = io_read(r->io, buf, sizeof(buf))) > 0) {
		if (r->in.len + k > cap) {
			https_finish(r, HTTPS_TOOBIG, "the response from %s is "
			    "larger than %zu bytes", r->host, cap);
			return;
		}
		util_buf_add(&r->in, buf, k);
	}
	if (!r->finished)
		https_parse(r, 0);
}

/* https_field - a header field's value, trimmed and escaped; NULL */
static char *
https_field(const char *line, size_t len, const char *name)
{
	size_t	 nl = strlen(name), a, b;

	if (len <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
		return NULL;
	for (a = nl + 1; a < len && (line[a] == ' ' || line[a] == '\t'); a++)
		;
	for (b = len; b > a && (line[b - 1] == ' ' || line[b - 1] == '\t');
	    b--)
		;
	return util_escape(line + a, b - a);
}

/*
 * https_header - parse the complete header in r->in[0..hdrlen): status
 * line and the fields used. 0, or -1 with the request finished.
 */
static int
https_header(struct https_req *r)
{
	const char	*p = r->in.p, *end = r->in.p + r->hdrlen, *nl;
	size_t		 len;
	char		*v;
	int		 first = 1;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		len = (size_t)(nl - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (first) {
			first = 0;
			if (len < 12 || strncmp(p, "HTTP/1.", 7) != 0 ||
			    !isdigit((unsigned char)p[7]) || p[8] != ' ' ||
			    !isdigit((unsigned char)p[9]) ||
			    !isdigit((unsigned char)p[10]) ||
			    !isdigit((unsigned char)p[11]) ||
			    (len > 12 && p[12] != ' ')) {
				v = util_escape(p, len > 64 ? 64 : len);
				https_finish(r, HTTPS_PROTOCOL, "%s did not "
				    "answer with an HTTP/1.x status line: "
				    "\"%s\"", r->host, v);
				free(v);
				return -1;
			}
			r->code = (p[9] - '0') * 100 + (p[10] - '0') * 10 +
			    (p[11] - '0');
			continue;
		}
		if (len == 0)
			break;
		if ((v = https_field(p, len, "Content-Length")) != NULL) {
			char		*e;
			long long	 n;

			errno = 0;
			n = strtoll(v, &e, 10);
			if (v[0] == '\0' || *e != '\0' || errno != 0 ||
			    n < 0 || !isdigit((unsigned char)v[0]) ||
			    (r->clen >= 0 && r->clen != n)) {
				https_finish(r, HTTPS_PROTOCOL, "bad "
				    "Content-Length \"%s\"", v);
				free(v);
				return -1;
			}
			r->clen = n;
			free(v);
		} else if ((v = https_field(p, len,
		    "Transfer-Encoding")) != NULL) {
			size_t	 vl = strlen(v);

			r->chunked = vl >= 7 &&
			    strcasecmp(v + vl - 7, "chunked") == 0;
			if (!r->chunked) {
				https_finish(r, HTTPS_PROTOCOL, "unsupported "
				    "Transfer-Encoding \"%s\"", v);
				free(v);
				return -1;
			}
			free(v);
		} else if ((v = https_field(p, len, "Content-Type")) !=
		    NULL) {
			free(r->ctype);
			r->ctype = v;
		} else if ((v = https_field(p, len, "Location")) != NULL) {
			free(r->location);
			r->location = v;
		}
	}
	if (r->chunked)
		r->clen = -1;	/* RFC 9112 6.3: chunked wins */
	return 0;
}

/* https_body - the response is complete: keep its body */
static void
https_body(struct https_req *r, const char *b, size_t len)
{
	r->body = xmalloc(len + 1);
	memcpy(r->body, b, len);
	r->body[len] = '\0';
	r->bodylen = len;
	https_finish(r, HTTPS_OK, "HTTP %d from %s, %zu bytes", r->code,
	    r->host, len);
}

/* https_parse - look at what came so far; eof: the server closed */
static void
https_parse(struct https_req *r, int eof)
{
	const char	*p = r->in.p, *hit = NULL;
	size_t		 i, avail, outlen = 0;
	char		*out;
	int		 rc;

	if (r->hdrlen == 0) {
		for (i = 0; p != NULL && i < r->in.len; i++)
			if (p[i] == '\n' && ((i + 1 < r->in.len &&
			    p[i + 1] == '\n') || (i + 2 < r->in.len &&
			    p[i + 1] == '\r' && p[i + 2] == '\n'))) {
				hit = p + i + (p[i + 1] == '\n' ? 2 : 3);
				break;
			}
		if (hit == NULL || (size_t)(hit - p) > HTTPS_MAX_HEADER) {
			if (r->in.len > HTTPS_MAX_HEADER)
				https_finish(r, HTTPS_TOOBIG, "the response "
				    "header from %s is larger than %d bytes",
				    r->host, HTTPS_MAX_HEADER);
			else if (eof)
				https_finish(r, HTTPS_PROTOCOL, "%s closed the "
				    "connection before a complete response "
				    "header (%zu bytes)", r->host, r->in.len);
			return;
		}
		r->hdrlen = (size_t)(hit - p);
		if (https_header(r) == -1)
			return;
		if (r->code != 200) {
			/* no body needed: the status says it all */
			https_finish(r, HTTPS_OK, "HTTP %d from %s", r->code,
			    r->host);
			return;
		}
		if (r->clen > (long long)r->max_body) {
			https_finish(r, HTTPS_TOOBIG, "the body from %s is "
			    "%lld bytes, more than %zu", r->host, r->clen,
			    r->max_body);
			return;
		}
	}
	p = r->in.p + r->hdrlen;
	avail = r->in.len - r->hdrlen;
	if (r->chunked) {
		out = xmalloc(r->max_body + 1);
		rc = https_dechunk(p, avail, out, &outlen, r->max_body);
		if (rc == 1)
			https_body(r, out, outlen);
		else if (rc == -1)
			https_finish(r, HTTPS_PROTOCOL, "malformed chunked "
			    "body from %s", r->host);
		else if (rc == -2)
			https_finish(r, HTTPS_TOOBIG, "the body from %s is "
			    "larger than %zu bytes", r->host, r->max_body);
		else if (eof)
			https_finish(r, HTTPS_PROTOCOL, "the chunked body from "
			    "%s was cut short", r->host);
		free(out);
		return;
	}
	if (r->clen >= 0) {
		if (avail >= (size_t)r->clen)
			https_body(r, p, (size_t)r->clen);
		else if (eof)
			https_finish(r, HTTPS_PROTOCOL, "%s closed the "
			    "connection after %zu of %lld body bytes",
			    r->host, avail, r->clen);
		return;
	}
	if (avail > r->max_body)
		https_finish(r, HTTPS_TOOBIG, "the body from %s is larger than "
		    "%zu bytes", r->host, r->max_body);
	else if (eof)
		https_body(r, p, avail);
}

int
https_dechunk(const char *in, size_t inlen, char *out, size_t *outlen,
    size_t max)
{
	const char	*nl;
	size_t		 i = 0, o = 0, size, k;
	int		 digits;

	*outlen = 0;
	for (;;) {
		if ((nl = memchr(in + i, '\n', inlen - i)) == NULL)
			return inlen - i > 1024 ? -1 : 0;
		size = 0;
		digits = 0;
		for (k = i; in + k < nl && isxdigit((unsigned char)in[k]);
		    k++, digits++) {
			if (size > (SIZE_MAX >> 4))
				return -2;
			size = size * 16 + (size_t)(isdigit((unsigned char)
			    in[k]) ? in[k] - '0' : (tolower((unsigned char)
			    in[k]) - 'a' + 10));
		}
		if (digits == 0 || (in + k < nl && in[k] != ';' &&
		    in[k] != ' ' && in[k] != '\t' && in[k] != '\r'))
			return -1;
		if (in + k < nl && in[k] == '\r' && in + k + 1 != nl)
			return -1;
		i = (size_t)(nl - in) + 1;
		if (size == 0) {
			*outlen = o;
			return 1;	/* trailer fields are not needed */
		}
		if (size > max - o)
			return -2;
		if (inlen - i < size)
			return 0;
		memcpy(out + o, in + i, size);
		o += size;
		i += size;
		if (i >= inlen)
			return 0;
		if (in[i] == '\r') {
			if (i + 1 >= inlen)
				return 0;
			if (in[i + 1] != '\n')
				return -1;
			i += 2;
		} else if (in[i] == '\n')
			i++;
		else
			return -1;
	}
}

/*
 * peer.c - a scripted SMTP server over a bufferevent pair, with a
 * virtual clock (see peer.h).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "io.h"
#include "log.h"
#include "util.h"
#include "peer.h"

#define PEER_MAX_HEARD	(4u << 20)	/* keep at most 4 MiB of client bytes */

struct peer {
	struct event_base	*base;
	struct bufferevent	*srv;		/* server end (plain or TLS) */
	struct io		*io;		/* the client io holding a deadline */
	long			 due;		/* its deadline, virtual ms; -1 */
	long			 now;		/* virtual ms */
	int			 connected;
	char			*heard;
	size_t			 nheard;
	size_t			 nlines;
	size_t			 said_lines;
	int			 tls;		/* 1 handshaking, 2 TLS up */
	size_t			 held_lines;	/* said before the handshake
						   ended: not yet delivered */
	struct io_seams		 seams;
};

static struct peer	*current;	/* the one peer of this process */
static SSL_CTX		*server_ctx;	/* made once, kept for the process */
static SSL_CTX		*client_ctx;

static void	peer_readcb(struct bufferevent *, void *);
static void	peer_eventcb(struct bufferevent *, short, void *);

static int64_t
peer_clock(void)
{
	return current != NULL ? (int64_t)current->now * 1000 : 0;
}

/* peer_connect - the engine's connect: hand it one end of a pair */
static struct bufferevent *
peer_connect(void *arg, struct event_base *base, const struct sockaddr *sa,
    char *local, size_t len)
{
	struct peer		*p = arg;
	struct bufferevent	*pair[2];

	(void)sa;
	if (p->srv != NULL)
		return NULL;	/* one connection per peer */
	if (bufferevent_pair_new(base, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS, pair) == -1)
		return NULL;
	p->srv = pair[1];
	bufferevent_setcb(p->srv, peer_readcb, NULL, peer_eventcb, p);
	bufferevent_enable(p->srv, EV_READ | EV_WRITE);
	snprintf(local, len, "127.0.0.1:40000");
	p->connected = 1;
	return pair[0];
}

static void
peer_arm(void *arg, struct io *io, long ms)
{
	struct peer	*p = arg;

	p->io = io;
	p->due = ms > 0 ? p->now + ms : -1;
}

/* peer_cert - a fresh P-256 key and a self-signed certificate */
static SSL_CTX *
peer_server_ctx(void)
{
	SSL_CTX		*ctx;
	EVP_PKEY	*key;
	X509		*x;

	if ((key = EVP_EC_gen("P-256")) == NULL || (x = X509_new()) == NULL)
		fatalx("peer: cannot make a key");
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"mx.peer.test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, key);
	if (X509_sign(x, key, EVP_sha256()) == 0)
		fatalx("peer: cannot sign");
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    SSL_CTX_use_certificate(ctx, x) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, key) != 1)
		fatalx("peer: cannot set up TLS");
	X509_free(x);
	EVP_PKEY_free(key);
	return ctx;
}

struct peer *
peer_new(struct event_base *base)
{
	struct peer	*p = xcalloc(1, sizeof(*p));

	p->base = base;
	p->due = -1;
	p->heard = xmalloc(1);
	p->heard[0] = '\0';
	p->seams.connect = peer_connect;
	p->seams.arm = peer_arm;
	p->seams.arg = p;
	current = p;
	io_set_seams(&p->seams);
	util_set_clock(peer_clock);
	return p;
}

void
peer_free(struct peer *p)
{
	if (p == NULL)
		return;
	if (p->srv != NULL)
		bufferevent_free(p->srv);
	free(p->heard);
	io_set_seams(NULL);
	util_set_clock(NULL);
	current = NULL;
	free(p);
}

SSL_CTX *
peer_client_ctx(struct peer *p)
{
	(void)p;
	if (client_ctx == NULL) {
		if ((client_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
			fatalx("peer: SSL_CTX_new");
		SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL);
	}
	return client_ctx;
}

void
peer_say(struct peer *p, const char *b, ssize_t len)
{
	size_t	 n = len < 0 ? strlen(b) : (size_t)len, i;

	if (p->srv == NULL)
		return;
	for (i = 0; i < n; i++)
		if (b[i] == '\n') {
			if (p->tls == 1)
				p->held_lines++;
			else
				p->said_lines++;
		}
	bufferevent_write(p->srv, b, n);
}

void
peer_close(struct peer *p)
{
	if (p->srv != NULL) {
		bufferevent_flush(p->srv, EV_WRITE, BEV_FINISHED);
		bufferevent_free(p->srv);
		p->srv = NULL;
	}
}

void
peer_starttls(struct peer *p)
{
	struct bufferevent	*tls;
	SSL			*ssl;

	if (p->srv == NULL)
		return;
	if (server_ctx == NULL)
		server_ctx = peer_server_ctx();
	if ((ssl = SSL_new(server_ctx)) == NULL)
		fatalx("peer: SSL_new");
	tls = bufferevent_openssl_filter_new(p->base, p->srv, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS);
	if (tls == NULL)
		fatalx("peer: TLS filter");
	bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
	p->srv = tls;
	p->tls = 1;
	bufferevent_setcb(tls, peer_readcb, NULL, peer_eventcb, p);
	bufferevent_enable(tls, EV_READ | EV_WRITE);
}

void
peer_settle(struct peer *p)
{
	int	 i;

	for (i = 0; i < 10000; i++) {
		event_base_loop(p->base, EVLOOP_NONBLOCK);
		if (event_base_get_num_events(p->base,
		    EVENT_BASE_COUNT_ACTIVE) == 0)
			break;
	}
}

void
peer_advance(struct peer *p, long ms)
{
	long	 end = p->now + ms;

	peer_settle(p);
	while (p->due >= 0 && p->due <= end) {
		p->now = p->due;
		p->due = -1;
		io_expire(p->io);
		peer_settle(p);
	}
	p->now = end;
}

long
peer_now_ms(const struct peer *p)
{
	return p->now;
}

long
peer_deadline(const struct peer *p)
{
	return p->due < 0 ? -1 : p->due - p->now;
}

const char *
peer_heard(const struct peer *p)
{
	return p->heard;
}

size_t
peer_heard_len(const struct peer *p)
{
	return p->nheard;
}

size_t
peer_lines(const struct peer *p)
{
	return p->nlines;
}

size_t
peer_said_lines(const struct peer *p)
{
	return p->said_lines;
}

int
peer_connected(const struct peer *p)
{
	return p->connected;
}

static void
peer_readcb(struct bufferevent *bev, void *arg)
{
	struct peer	*p = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	size_t		 n, i;

	while ((n = evbuffer_get_length(in)) > 0) {
		char	 buf[4096];

		if (n > sizeof(buf))
			n = sizeof(buf);
		evbuffer_remove(in, buf, n);
		if (p->nheard + n <= PEER_MAX_HEARD) {
			p->heard = xreallocarray(p->heard, p->nheard + n + 1, 1);
			memcpy(p->heard + p->nheard, buf, n);
			p->nheard += n;
			p->heard[p->nheard] = '\0';
		}
		for (i = 0; i < n; i++)
			if (buf[i] == '\n')
				p->nlines++;
	}
}

static void
peer_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct peer	*p = arg;

	if ((what & BEV_EVENT_CONNECTED) && p->tls == 1) {
		/* what was said during the handshake goes out now */
		p->tls = 2;
		p->said_lines += p->held_lines;
		p->held_lines = 0;
	}
	if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) && p->srv == bev) {
		bufferevent_free(bev);
		p->srv = NULL;
	}
}

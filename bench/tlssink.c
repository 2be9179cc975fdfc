/*
 * tlssink.c - a minimal SMTP sink with STARTTLS and implicit TLS, for
 * bench/run.sh (Postfix's smtp-sink has no TLS). Not a test server:
 * tests/fakemx is that.
 *
 * usage: tlssink [-T] [-a addr] [-p port] [-P portfile] [-S statusfile]
 *	      [-c cert -k key] [-m serve|stall|stall-tls]
 *
 * serve (default) answers like a sink: 220, EHLO with STARTTLS (when it
 * has a certificate and TLS is not on yet), 250 to MAIL, RCPT, RSET and
 * NOOP, 354 to DATA then 250 after the dot, 221 and close to QUIT, 220
 * to STARTTLS and then the handshake. stall greets and then never
 * answers; stall-tls answers until TLS is up and never after (an idle
 * TLS session). -T is TLS from the first byte. -S writes "open N greeted
 * N tls N" to a file every 100 ms (for run.sh to wait on). Everything
 * runs on one libevent loop; SIGTERM or SIGINT ends it.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

enum mode {
	M_SERVE,
	M_STALL,
	M_STALL_TLS
};

struct conn {
	struct bufferevent	*bev;
	int			 tls;		/* TLS is up */
	int			 data;		/* in DATA */
	int			 counted_tls;
};

static struct event_base	*base;
static SSL_CTX			*ctx;
static enum mode		 mode = M_SERVE;
static int			 implicit;
static const char		*statusfile;
static long			 nopen, ngreeted, ntls;

static void	 usage(void);
static void	 conn_free(struct conn *);
static void	 conn_reply(struct conn *, const char *);
static void	 conn_line(struct conn *, char *);
static void	 readcb(struct bufferevent *, void *);
static void	 eventcb(struct bufferevent *, short, void *);
static void	 acceptcb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	 statuscb(evutil_socket_t, short, void *);
static void	 stopcb(evutil_socket_t, short, void *);

static void
usage(void)
{
	fprintf(stderr, "usage: tlssink [-T] [-a addr] [-p port] "
	    "[-P portfile] [-S statusfile]\n"
	    "               [-c cert -k key] [-m serve|stall|stall-tls]\n");
	exit(64);
}

static void
conn_free(struct conn *c)
{
	nopen--;
	if (c->counted_tls)
		ntls--;
	bufferevent_free(c->bev);
	free(c);
}

static void
conn_reply(struct conn *c, const char *s)
{
	bufferevent_write(c->bev, s, strlen(s));
}

/* conn_line - one command line (no line end) */
static void
conn_line(struct conn *c, char *line)
{
	struct bufferevent	*tls;

	if (c->data) {
		if (strcmp(line, ".") == 0) {
			c->data = 0;
			conn_reply(c, "250 2.0.0 Ok: queued\r\n");
		}
		return;
	}
	if (mode == M_STALL || (mode == M_STALL_TLS && c->tls))
		return;
	if (strncasecmp(line, "EHLO", 4) == 0) {
		if (ctx != NULL && !c->tls)
			conn_reply(c, "250-tlssink\r\n250-PIPELINING\r\n"
			    "250-STARTTLS\r\n250 8BITMIME\r\n");
		else
			conn_reply(c, "250-tlssink\r\n250-PIPELINING\r\n"
			    "250 8BITMIME\r\n");
	} else if (strncasecmp(line, "HELO", 4) == 0)
		conn_reply(c, "250 tlssink\r\n");
	else if (strncasecmp(line, "STARTTLS", 8) == 0 && ctx != NULL &&
	    !c->tls) {
		conn_reply(c, "220 2.0.0 Ready to start TLS\r\n");
		tls = bufferevent_openssl_filter_new(base, c->bev,
		    SSL_new(ctx), BUFFEREVENT_SSL_ACCEPTING,
		    BEV_OPT_CLOSE_ON_FREE);
		if (tls == NULL) {
			conn_free(c);
			return;
		}
		c->bev = tls;
		c->tls = 1;
		bufferevent_setcb(tls, readcb, NULL, eventcb, c);
		bufferevent_enable(tls, EV_READ | EV_WRITE);
	} else if (strncasecmp(line, "DATA", 4) == 0) {
		c->data = 1;
		conn_reply(c, "354 End data with <CR><LF>.<CR><LF>\r\n");
	} else if (strncasecmp(line, "QUIT", 4) == 0)
		/* the client closes after 221: the EOF frees the connection */
		conn_reply(c, "221 2.0.0 Bye\r\n");
	else if (strncasecmp(line, "MAIL", 4) == 0 ||
	    strncasecmp(line, "RCPT", 4) == 0 ||
	    strncasecmp(line, "RSET", 4) == 0 ||
	    strncasecmp(line, "NOOP", 4) == 0)
		conn_reply(c, "250 2.0.0 Ok\r\n");
	else
		conn_reply(c, "502 5.5.2 Error: command not recognized\r\n");
}

static void
readcb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;
	struct bufferevent *was = c->bev;
	char		*line;
	size_t		 n;

	while (c->bev == was && (line = evbuffer_readln(
	    bufferevent_get_input(bev), &n, EVBUFFER_EOL_CRLF)) != NULL) {
		conn_line(c, line);
		free(line);
		if (c->bev != was)	/* STARTTLS */
			return;
	}
}

static void
eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		/* a TLS handshake is done */
		c->tls = 1;
		if (!c->counted_tls) {
			c->counted_tls = 1;
			ntls++;
		}
		if (implicit && mode != M_STALL_TLS) {
			ngreeted++;
			conn_reply(c, "220 tlssink ESMTP\r\n");
		}
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(c);
}

static void
acceptcb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct conn	*c;
	int		 one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	if (implicit)
		c->bev = bufferevent_openssl_socket_new(base, fd, SSL_new(ctx),
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	else
		c->bev = bufferevent_socket_new(base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		free(c);
		return;
	}
	nopen++;
	bufferevent_setcb(c->bev, readcb, NULL, eventcb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (!implicit) {
		ngreeted++;
		conn_reply(c, "220 tlssink ESMTP\r\n");
	}
}

/* statuscb - the counters, written to a file and renamed into place */
static void
statuscb(evutil_socket_t fd, short what, void *arg)
{
	char	 tmp[4096];
	FILE	*f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", statusfile);
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	fprintf(f, "open %ld greeted %ld tls %ld\n", nopen, ngreeted, ntls);
	if (fclose(f) == 0)
		rename(tmp, statusfile);
}

static void
stopcb(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(base);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_storage	 ss;
	struct evconnlistener	*lev;
	struct event		*ev[3];
	struct timeval		 tv = { 0, 100000 };
	struct rlimit		 rl;
	const char		*addr = "127.0.0.1", *portfile = NULL;
	const char		*cert = NULL, *key = NULL;
	socklen_t		 len;
	int			 ch, port = 0, sl = sizeof(ss);
	char			 a[64];
	FILE			*f;

	while ((ch = getopt(argc, argv, "Ta:p:P:S:c:k:m:")) != -1) {
		switch (ch) {
		case 'T':
			implicit = 1;
			break;
		case 'a':
			addr = optarg;
			break;
		case 'p':
			port = (int)strtol(optarg, NULL, 10);
			break;
		case 'P':
			portfile = optarg;
			break;
		case 'S':
			statusfile = optarg;
			break;
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "serve") == 0)
				mode = M_SERVE;
			else if (strcmp(optarg, "stall") == 0)
				mode = M_STALL;
			else if (strcmp(optarg, "stall-tls") == 0)
				mode = M_STALL_TLS;
			else
				usage();
			break;
		default:
			usage();
		}
	}
	if ((cert == NULL) != (key == NULL) || (implicit && cert == NULL))
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (cert != NULL) {
		if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
		    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, key,
		    SSL_FILETYPE_PEM) != 1) {
			ERR_print_errors_fp(stderr);
			return 1;
		}
		SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
		SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF |
		    SSL_OP_NO_TICKET);
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	}
	snprintf(a, sizeof(a), "%s:%d", addr, port);
	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(a, (struct sockaddr *)&ss, &sl) == -1)
		usage();
	if ((base = event_base_new()) == NULL)
		return 1;
	lev = evconnlistener_new_bind(base, acceptcb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 4096,
	    (struct sockaddr *)&ss, sl);
	if (lev == NULL) {
		perror("tlssink: listen");
		return 1;
	}
	len = sizeof(ss);
	getsockname(evconnlistener_get_fd(lev), (struct sockaddr *)&ss, &len);
	port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (portfile != NULL && (f = fopen(portfile, "w")) != NULL) {
		fprintf(f, "%d\n", port);
		fclose(f);
	}
	ev[0] = evsignal_new(base, SIGTERM, stopcb, NULL);
	ev[1] = evsignal_new(base, SIGINT, stopcb, NULL);
	ev[2] = event_new(base, -1, EV_PERSIST, statuscb, NULL);
	evsignal_add(ev[0], NULL);
	evsignal_add(ev[1], NULL);
	if (statusfile != NULL)
		evtimer_add(ev[2], &tv);
	event_base_dispatch(base);
	evconnlistener_free(lev);
	return 0;
}

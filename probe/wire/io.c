/*
 * io.c - connections for the engine (see include/io.h).
 *
 * The io object, its lines and its TLS. A plain socket is io's own
 * (io_fd.c: the socket, its one event shared with the deadline, the
 * input buffer).
 *
 * A bufferevent carries the connection when libevent has to: TLS (an
 * OpenSSL filter on top of a plain socket bufferevent, made from io's
 * socket at io_starttls(); freeing the top frees both, and the
 * socket), a test seam's connection and --pipe. Its input is moved
 * into io's buffer as it arrives, so lines are cut in one place
 * whatever carries them.
 *
 * Lines are cut at LF. A CR before the LF is removed; its absence is
 * reported as a bare LF. Input that holds no LF within maxline bytes is
 * an error at once, before the rest of the line arrives, so a hostile
 * peer cannot make us buffer an endless line.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "io_int.h"
#include "log.h"
#include "util.h"

#define IO_TLS_READ	960	/* bytes per TLS read: a 1 KiB chain */
#define IO_TLS_SETTLE_MS 250	/* TLS quiet that long: buffers back */
#define IO_TLS_SETTLE_RUNS 4	/* then again after 2, 4 and 8 times as
				   long (io_tls_settle_cb) */

static void	io_readcb(struct bufferevent *, void *);
static void	io_eventcb(struct bufferevent *, short, void *);
static void	io_unbusy(struct io *);
static void	io_tls_error(struct io *, const char *, unsigned long);
static void	io_format_addr(const struct sockaddr *, char *, size_t);
static void	io_set_text(char **, const char *);
static void	io_lines(struct io *);
static void	io_kickcb(evutil_socket_t, short, void *);
static void	io_kick_later(struct io *);
static void	io_tls_settle_cb(evutil_socket_t, short, void *);
static void	io_seterr(struct io *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	io_bind_device(struct io *, int);
static int	io_pipe_wait(struct io *, int);
static void	io_pipe_reap(struct io *);
static void	io_pipe_eof(struct io *);

const struct io_seams *io_seams;	/* tests only: io_set_seams() */

void
io_set_seams(const struct io_seams *s)
{
	io_seams = s;
}

/* io_round - n rounded up to a multiple of 16 */
static size_t
io_round(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

struct io *
io_new(struct event_base *base, io_cb cb, void *arg)
{
	struct io	*io;
	size_t		 head;

	/* the io, then its event: one allocation */
	head = io_round(sizeof(*io));
	io = xcalloc(1, head + event_get_struct_event_size());
	io->ev = (struct event *)(void *)((char *)io + head);
	io->base = base;
	io->cb = cb;
	io->arg = arg;
	io->fd = -1;
	io->maxline = IO_MAX_LINE_DEFAULT;
	return io;
}

void
io_free(struct io *io)
{
	if (io == NULL)
		return;
	io_close(io);
	if (io->armed)
		event_del(io->ev);
	if (io->kick != NULL)
		event_free(io->kick);
	if (io->settle != NULL)
		event_free(io->settle);
	free(io->in);
	free(io->stale);
	free(io->errmsg);
	free(io->local);
	free(io->peer);
	free(io);
}

void
io_set_maxline(struct io *io, size_t n)
{
	io->maxline = n;
}

void
io_set_raw(struct io *io)
{
	io->raw = 1;
}

size_t
io_read(struct io *io, void *buf, size_t len)
{
	size_t	 n;

	if (io->bev == NULL && io->fd == -1)
		return 0;
	io_pull(io);
	n = io->inlen - io->inoff;
	if (n > len)
		n = len;
	if (n > 0)
		memcpy(buf, io->in + io->inoff, n);
	io->inoff += n;
	io_in_done(io);
	return n;
}

const char *
io_error(struct io *io)
{
	return io->errmsg != NULL ? io->errmsg : "";
}

/* io_seterr - the message io_error() gives from now on */
static void
io_seterr(struct io *io, const char *fmt, ...)
{
	va_list	 ap;
	char	*m;

	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	free(io->errmsg);
	io->errmsg = m;
}

enum io_err
io_error_kind(struct io *io)
{
	return io->err;
}

SSL *
io_ssl(struct io *io)
{
	if (io->bev == NULL || !io->tls_started)
		return NULL;
	return bufferevent_openssl_get_ssl(io->bev);
}

int
io_tls_active(struct io *io)
{
	return io->tls;
}

int
io_is_open(struct io *io)
{
	return io->bev != NULL || io->fd != -1;
}

const char *
io_local(struct io *io)
{
	return io->local != NULL ? io->local : "";
}

const char *
io_peer(struct io *io)
{
	return io->peer != NULL ? io->peer : "";
}

/* io_set_text - *dst becomes a copy of text (cut as the old fixed
   buffers of IO_ADDR_TEXT bytes did) */
static void
io_set_text(char **dst, const char *text)
{
	free(*dst);
	*dst = strndup(text, IO_ADDR_TEXT - 1);
	if (*dst == NULL)
		fatal("strndup");
}

/* io_set_addr - *dst becomes sa as text (io_format_addr) */
void
io_set_addr(char **dst, const struct sockaddr *sa)
{
	char	 a[IO_ADDR_TEXT];

	io_format_addr(sa, a, sizeof(a));
	io_set_text(dst, a);
}

/*
 * io_connected - report IO_CONNECTED; then the address texts go (the
 * owner copies what it keeps: an idle session holds them once), unless
 * the callback closed the io (and maybe connected it again)
 */
void
io_connected(struct io *io)
{
	unsigned	 gen = io->gen;

	io->cb(io, IO_CONNECTED, io->arg);
	if (io->gen != gen)
		return;
	free(io->local);
	free(io->peer);
	io->local = io->peer = NULL;
}

/* io_put_u - the decimal digits of v at d; returns the end */
static char *
io_put_u(char *d, unsigned v)
{
	char	 t[12];
	size_t	 n = 0;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n > 0)
		*d++ = t[--n];
	return d;
}

/*
 * io_format_addr - "ADDR:PORT" or "[ADDR]:PORT", cut to len as
 * snprintf() would; an IPv4 address without inet_ntop() and printf
 * (a batch formats two or three a session)
 */
static void
io_format_addr(const struct sockaddr *sa, char *buf, size_t len)
{
	char		 a[INET6_ADDRSTRLEN + 16], *d = a;
	const uint8_t	*b;
	size_t		 n;
	int		 i;

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		*d++ = '[';
		inet_ntop(AF_INET6, &s6->sin6_addr, d, INET6_ADDRSTRLEN);
		d += strlen(d);
		*d++ = ']';
		*d++ = ':';
		d = io_put_u(d, ntohs(s6->sin6_port));
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		b = (const uint8_t *)&s4->sin_addr;
		for (i = 0; i < 4; i++) {
			d = io_put_u(d, b[i]);
			*d++ = i < 3 ? '.' : ':';
		}
		d = io_put_u(d, ntohs(s4->sin_port));
	} else if (sa->sa_family == AF_UNIX) {
		/* a unix socket: its path ("unix:" for an unnamed one) */
		const struct sockaddr_un *su = (const void *)sa;

		snprintf(buf, len, "unix:%.*s", (int)sizeof(su->sun_path),
		    su->sun_path);
		return;
	} else
		*d++ = '?';
	if (len == 0)
		return;
	n = (size_t)(d - a);
	if (n >= len)
		n = len - 1;
	memcpy(buf, a, n);
	buf[n] = '\0';
}

/* io_fixed_port - 1 if sa names a source port, not "any" */
static int
io_fixed_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)sa)->sin_port
		    != 0;
	if (sa->sa_family == AF_INET6)
		return ((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_port != 0;
	return 0;
}

int
io_connect(struct io *io, const struct sockaddr *sa, socklen_t salen,
    const struct sockaddr *local, socklen_t locallen)
{
	int	 fd;

	io_set_addr(&io->peer, sa);
	io->err = IO_ERR_SOCKET;
	if (io_seams != NULL && io_seams->connect != NULL) {
		char	 a[IO_ADDR_TEXT];

		memset(a, 0, sizeof(a));
		io->bev = io_seams->connect(io_seams->arg, io->base, sa, a,
		    sizeof(a));
		io_set_text(&io->local, a);
		if (io->bev == NULL) {
			io_seterr(io, "connect to %s: refused by the test seam",
			    io->peer);
			return -1;
		}
		io_kick_later(io);
		return 0;
	}
	if (sa->sa_family == AF_UNIX) {
		/* a unix socket: say plainly what is wrong with the path */
		const struct sockaddr_un *su = (const void *)sa;
		struct stat	 sb;

		if (stat(su->sun_path, &sb) == -1) {
			io_seterr(io, "unix socket %s: %s", su->sun_path,
			    errno == ENOENT ? "no such file" : strerror(errno));
			return -1;
		}
		if (!S_ISSOCK(sb.st_mode)) {
			io_seterr(io, "%s is not a unix socket",
			    su->sun_path);
			return -1;
		}
	}
	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		io_seterr(io, "socket: %s", strerror(errno));
		return -1;
	}
	if (io->ifname != NULL && io_bind_device(io, fd) == -1) {
		close(fd);
		return -1;
	}
	if (local != NULL && io_fixed_port(local)) {
		/* a fixed source port again within TIME_WAIT: allowed */
		int	 on = 1;

		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on));
	}
	if (local != NULL && bind(fd, local, locallen) == -1) {
		char	 a[INET6_ADDRSTRLEN + 8];

		io_format_addr(local, a, sizeof(a));
		io_seterr(io, "bind to %s: %s", a, strerror(errno));
		close(fd);
		return -1;
	}
	if (connect(fd, sa, salen) == -1 && errno != EINPROGRESS &&
	    errno != EINTR) {
		if (errno != ECONNREFUSED) {
			io_seterr(io, "connect to %s: %s", io->peer,
			    strerror(errno));
			close(fd);
			return -1;
		}
		/*
		 * Refused at once (a closed port on this host): reported
		 * from the loop like any refusal, never from in here.
		 */
		io->fd = fd;
		io->kick_err = ECONNREFUSED;
		if (io->kick == NULL && (io->kick = event_new(io->base, -1, 0,
		    io_kickcb, io)) == NULL)
			fatalx("event_new failed");
		event_active(io->kick, EV_TIMEOUT, 0);
		return 0;
	}
	/*
	 * Connected or not yet: the socket turns writable when the
	 * connect is done either way. Reading starts at IO_CONNECTED:
	 * otherwise a greeting that arrives with the connect could be
	 * read before the connect is reported.
	 */
	io->fd = fd;
	io->connecting = 1;
	io_watch(io, EV_WRITE);
	return 0;
}

char *
io_pending(struct io *io, size_t *len)
{
	size_t	 n;

	*len = 0;
	if (io->bev == NULL && io->fd == -1)
		return xstrdup("");
	io_pull(io);
	n = io->inlen - io->inoff;
	*len = n;
	return util_escape(io->in != NULL ? io->in + io->inoff : "",
	    n > 512 ? 512 : n);
}

int
io_has_line(struct io *io)
{
	if (io->bev == NULL && io->fd == -1)
		return 0;
	io_pull(io);
	return io->inlen > io->inoff &&
	    memchr(io->in + io->inoff, '\n', io->inlen - io->inoff) != NULL;
}

int
io_starttls(struct io *io, SSL *ssl)
{
	struct bufferevent	*tls, *plain;

	if ((io->bev == NULL && io->fd == -1) || io->tls_started) {
		SSL_free(ssl);
		io_seterr(io, "TLS already started");
		return -1;
	}
	io_pull(io);
	if (io->inlen > io->inoff) {
		SSL_free(ssl);
		io_seterr(io, "plaintext received before the TLS handshake");
		return -1;
	}
	if (io->bev == NULL) {
		/*
		 * Our own socket: a socket bufferevent takes it over (and
		 * closes it when freed), with what it has not sent yet,
		 * and the filter goes on top of it as on any other.
		 */
		plain = bufferevent_socket_new(io->base, io->fd,
		    BEV_OPT_CLOSE_ON_FREE);
		if (plain == NULL) {
			SSL_free(ssl);
			io_seterr(io, "cannot set up the TLS layer");
			return -1;
		}
		io_watch(io, 0);
		io->fd = -1;
		if (io->outlen > io->outoff)
			bufferevent_write(plain, io->out + io->outoff,
			    io->outlen - io->outoff);
		free(io->out);
		io->out = NULL;
		io->outoff = io->outlen = 0;
		bufferevent_setcb(plain, io_readcb, NULL, io_eventcb, io);
		bufferevent_enable(plain, EV_READ | EV_WRITE);
		io->bev = plain;
	}
	/*
	 * The filter takes over the plain bufferevent and its callbacks;
	 * from here on only the filter is touched.
	 */
	tls = bufferevent_openssl_filter_new(io->base, io->bev, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (tls == NULL) {
		SSL_free(ssl);
		io_seterr(io, "cannot set up the TLS layer");
		return -1;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
	/*
	 * The filter reserves 4 KiB of input per read (an 8 KiB chain
	 * with its header) and keeps it while the session idles; SMTP
	 * replies are short, so read less at a time: about 5 KB less per
	 * idle TLS session (bench/run.sh).
	 */
	bufferevent_set_max_single_read(tls, IO_TLS_READ);
	io->bev = tls;
	io->tls_started = 1;
	io->gen++;
	bufferevent_setcb(tls, io_readcb, NULL, io_eventcb, io);
	bufferevent_enable(tls, EV_READ | EV_WRITE);
	return 0;
}

const char *
io_line(struct io *io, size_t *len, int *bare_lf)
{
	*len = io->linelen;
	*bare_lf = io->bare_lf;
	return io->line;
}

void
io_close(struct io *io)
{
	io->gen++;
	if (io->bev != NULL) {
		bufferevent_free(io->bev);
		io->bev = NULL;
	}
	if (io->fd != -1) {
		io_watch(io, 0);
		close(io->fd);
		io->fd = -1;
	}
	free(io->out);
	io->out = NULL;
	io->outoff = io->outlen = 0;
	/* a line being delivered stays readable until its callback ends */
	io->inoff = io->inlen;
	io_in_done(io);
	io->connected = 0;
	io->connecting = 0;
	io->kick_err = 0;
	if (io->kick != NULL)
		event_del(io->kick);
	if (io->settle != NULL)
		event_del(io->settle);
	io_set_deadline(io, 0);
	io_pipe_reap(io);
}

/*
 * io_kick_later - a connection that is up at once (a test seam's pair,
 * --pipe's socketpair): IO_CONNECTED comes from the loop, as a real
 * connect's would, never from inside io_connect()
 */
static void
io_kick_later(struct io *io)
{
	bufferevent_setcb(io->bev, io_readcb, NULL, io_eventcb, io);
	bufferevent_disable(io->bev, EV_READ);
	if (io->kick == NULL && (io->kick = event_new(io->base, -1, 0,
	    io_kickcb, io)) == NULL)
		fatalx("event_new failed");
	event_active(io->kick, EV_TIMEOUT, 0);
}

/*
 * io_kickcb - a seam's connection is up: report it from the loop; or
 * our own socket's connect() was refused at once: report that
 */
static void
io_kickcb(evutil_socket_t fd, short what, void *arg)
{
	struct io	*io = arg;
	int		 e;

	(void)fd;
	(void)what;
	if (io->kick_err != 0) {
		e = io->kick_err;
		io->kick_err = 0;
		if (io->fd != -1)
			io_sockfail(io, e);
		return;
	}
	if (io->bev == NULL)
		return;
	bufferevent_enable(io->bev, EV_READ | EV_WRITE);
	io_connected(io);
}

void
io_expire(struct io *io)
{
	io_seterr(io, "timed out");
	io->cb(io, IO_TIMEOUT, io->arg);
}

/*
 * io_lines - deliver every complete line, then enforce the length cap.
 * A line is NUL-terminated in place in the input buffer, which stays
 * (busy) until the callback returns, even if it closes the io.
 */
static void
io_lines(struct io *io)
{
	unsigned	 gen = io->gen;
	char		*p, *lf;
	size_t		 n;

	io->busy = 1;
	while (io->gen == gen && io->inlen > io->inoff) {
		p = io->in + io->inoff;
		if ((lf = memchr(p, '\n', io->inlen - io->inoff)) == NULL)
			break;
		n = (size_t)(lf - p);
		if (n > io->maxline + 1) {
			io_unbusy(io);
			io_seterr(io, "line too long (over %zu bytes)",
			    io->maxline);
			io->err = IO_ERR_LINE;
			io->cb(io, IO_ERROR, io->arg);
			io_in_done(io);
			return;
		}
		io->inoff += n + 1;
		io->bare_lf = !(n > 0 && p[n - 1] == '\r');
		if (!io->bare_lf)
			n--;
		p[n] = '\0';
		io->line = p;
		io->linelen = n;
		io->cb(io, IO_LINE, io->arg);
		io->line = NULL;
	}
	io_unbusy(io);
	if (io->gen == gen && io->inlen - io->inoff > io->maxline + 1) {
		io_seterr(io, "line too long (over %zu bytes)", io->maxline);
		io->err = IO_ERR_LINE;
		io->cb(io, IO_ERROR, io->arg);
	}
	io_in_done(io);
}

/* io_unbusy - delivery is over: the buffer may move or go */
static void
io_unbusy(struct io *io)
{
	io->busy = 0;
	free(io->stale);
	io->stale = NULL;
}

/* io_input - input is there: lines, or IO_DATA in raw mode */
void
io_input(struct io *io)
{
	if (!io->raw)
		io_lines(io);
	else if (io->inlen > io->inoff)
		io->cb(io, IO_DATA, io->arg);
}

static void
io_readcb(struct bufferevent *bev, void *arg)
{
	struct io	*io = arg;

	io_pull(io);
	io_input(io);
	if (io->tls && io->bev == bev)
		io_tls_settle(io);
}

/*
 * io_tls_settle - (re)start the wait after which a quiet TLS session
 * hands its OpenSSL buffers back. SSL_MODE_RELEASE_BUFFERS frees the
 * 16 KiB read buffer only once application data has been read from
 * it; the session tickets a TLS 1.3 server sends after the handshake
 * are not, so a session waiting for the reply to its first command
 * kept the buffer for as long as the server took (an idle STARTTLS
 * session of a batch: 36.8 -> 29.3 KB, bench/run.sh at 300/s).
 */
void
io_tls_settle(struct io *io)
{
	struct timeval	 tv = { 0, IO_TLS_SETTLE_MS * 1000 };

	if (io->settle == NULL && (io->settle = evtimer_new(io->base,
	    io_tls_settle_cb, io)) == NULL)
		fatalx("evtimer_new failed");
	io->settle_n = 0;
	evtimer_add(io->settle, &tv);
}

/*
 * io_tls_settle_cb - free the buffers unless a record is half read or
 * written (SSL_free_buffers() then leaves them), and look again later
 * a few times: a record that carries no application data (a session
 * ticket that arrives late, a key update) is read by the TLS filter
 * without a callback to io, and it allocates the read buffer anew. At
 * 2,000 handshakes a second under load, a third of the idle sessions
 * got a ticket after their buffers were freed and kept 16 KiB more.
 */
static void
io_tls_settle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct io	*io = arg;
	struct timeval	 tv;
	long		 ms;
	SSL		*ssl;

	(void)fd;
	(void)what;
	if (io->bev == NULL || !io->tls ||
	    (ssl = bufferevent_openssl_get_ssl(io->bev)) == NULL)
		return;
	(void)SSL_free_buffers(ssl);
	if (++io->settle_n >= IO_TLS_SETTLE_RUNS)
		return;
	ms = (long)IO_TLS_SETTLE_MS << io->settle_n;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(io->settle, &tv);
}

/* io_tls_error - describe the OpenSSL error queue of this connection */
static void
io_tls_error(struct io *io, const char *what, unsigned long e)
{
	char		 buf[256], msg[512];
	size_t		 off;

	off = (size_t)snprintf(msg, sizeof(msg), "%s", what);
	if (e == 0)
		e = bufferevent_get_openssl_error(io->bev);
	for (; e != 0; e = bufferevent_get_openssl_error(io->bev)) {
		if (ERR_GET_LIB(e) == 0)	/* libevent's own SSL_get_error code */
			continue;
		ERR_error_string_n(e, buf, sizeof(buf));
		if (off < sizeof(msg))
			off += (size_t)snprintf(msg + off, sizeof(msg) - off,
			    ": %s", ERR_reason_error_string(e) != NULL ?
			    ERR_reason_error_string(e) : buf);
	}
	ERR_clear_error();
	io_seterr(io, "%s", msg);
}

/* io_eof_report - the peer closed: say so (lines are delivered) */
void
io_eof_report(struct io *io)
{
	size_t	 n = io->inlen - io->inoff;

	if (n > 0)
		io_seterr(io, "connection closed in the middle of a "
		    "line (%zu bytes without line end)", n);
	else
		io_seterr(io, "connection closed by peer");
	if (io->child > 0)
		io_pipe_eof(io);
	io->cb(io, IO_EOF, io->arg);
}

/* io_plain_fail - a socket error (errno err) without TLS: IO_ERROR */
void
io_plain_fail(struct io *io, int err)
{
	io->err = err == ECONNREFUSED ? IO_ERR_REFUSED : IO_ERR_SOCKET;
	if (err == 0)
		io_seterr(io, "connection error");
	else
		io_seterr(io, "%s", strerror(err));
	io->cb(io, IO_ERROR, io->arg);
}

static void
io_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct io	*io = arg;
	struct sockaddr_storage ss;
	socklen_t	 sl = sizeof(ss);
	unsigned long	 first;
	unsigned	 gen = io->gen;
	int		 err;

	if (what & BEV_EVENT_CONNECTED) {
		if (io->tls_started) {
			io->tls = 1;
			io_tls_settle(io);
			io->cb(io, IO_TLSREADY, io->arg);
			return;
		}
		memset(&ss, 0, sizeof(ss));	/* an unnamed unix socket
						   fills only the family */
		if (getsockname(bufferevent_getfd(bev), (struct sockaddr *)&ss,
		    &sl) == 0)
			io_set_addr(&io->local, (struct sockaddr *)&ss);
		bufferevent_enable(bev, EV_READ);
		io->connected = 1;
		io_connected(io);
		return;
	}
	/* Lines (or data) that arrived with the close are still delivered. */
	if (io->bev == bev) {
		io_pull(io);
		io_input(io);
	}
	if (io->bev != bev || io->gen != gen)
		return;
	if (what & BEV_EVENT_EOF) {
		io_eof_report(io);
		return;
	}
	err = EVUTIL_SOCKET_ERROR();
	if (!io->tls_started) {
		io_plain_fail(io, err);
		return;
	}
	io->err = IO_ERR_TLS;
	first = bufferevent_get_openssl_error(bev);
	if (io->tls && err != 0 && first == 0) {
		/* TLS was up and no TLS error: the connection itself broke */
		io->err = IO_ERR_SOCKET;
		io_seterr(io, "%s", strerror(err));
	} else {
		io_tls_error(io, io->tls ? "TLS error" :
		    "TLS handshake failed", first);
		if (!io->tls && strcmp(io_error(io), "TLS handshake failed") == 0
		    && err != 0)
			io_seterr(io, "TLS handshake failed: %s", strerror(err));
	}
	io->cb(io, IO_ERROR, io->arg);
}

struct io_after {
	struct event	*ev;
	void		(*cb)(void *);
	void		*arg;
};

static void
io_after_cb(evutil_socket_t fd, short what, void *arg)
{
	struct io_after	*a = arg;

	a->cb(a->arg);
}

struct io_after *
io_after(struct event_base *base, long ms, void (*cb)(void *), void *arg)
{
	struct io_after	*a = xcalloc(1, sizeof(*a));
	struct timeval	 tv;

	a->cb = cb;
	a->arg = arg;
	if ((a->ev = evtimer_new(base, io_after_cb, a)) == NULL)
		fatalx("evtimer_new failed");
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(a->ev, &tv);
	return a;
}

void
io_after_free(struct io_after *a)
{
	if (a == NULL)
		return;
	event_free(a->ev);
	free(a);
}

void
io_addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	io_format_addr(sa, buf, len);
}

/* ---- --interface and --pipe ---- */

void
io_set_interface(struct io *io, const char *ifname)
{
	io->ifname = ifname;
}

/* io_bind_device - fd sends and receives through io->ifname only */
static int
io_bind_device(struct io *io, int fd)
{
#ifdef SO_BINDTODEVICE
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, io->ifname,
	    (socklen_t)strlen(io->ifname)) == 0)
		return 0;
	io_seterr(io, "--interface %s: %s%s",
	    io->ifname, strerror(errno), errno == ENODEV ? " (no network "
	    "interface of that name; see ip link)" : errno == EPERM ?
	    " (this kernel lets only a privileged process, with "
	    "CAP_NET_RAW, bind to an interface)" : "");
#else
	io_seterr(io, "--interface %s: binding to "
	    "an interface (SO_BINDTODEVICE) is not supported on this system",
	    io->ifname);
#endif
	return -1;
}

int
io_sockname(struct io *io, struct sockaddr_storage *ss, socklen_t *sl)
{
	int	 fd;

	*sl = sizeof(*ss);
	fd = io->fd != -1 ? io->fd : io->bev != NULL ?
	    bufferevent_getfd(io->bev) : -1;
	if (fd == -1 || io->child > 0 || getsockname(fd,
	    (struct sockaddr *)ss, sl) == -1)
		return -1;
	return 0;
}

int
io_pipe(struct io *io, const char *command)
{
	int	 sv[2];
	pid_t	 pid;

	io->err = IO_ERR_SOCKET;
	io_set_text(&io->peer, "pipe");
	io_set_text(&io->local, "pipe");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		io_seterr(io, "--pipe: socketpair: "
		    "%s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	if ((pid = fork()) == -1) {
		io_seterr(io, "--pipe: fork: %s",
		    strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		/* the child: its own process group, killed as one */
		(void)setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(sv[1], STDIN_FILENO) == -1 ||
		    dup2(sv[1], STDOUT_FILENO) == -1)
			_exit(127);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	(void)setpgid(pid, pid);	/* no race with the child's own */
	io->child = pid;
	io->child_reaped = 0;
	evutil_make_socket_nonblocking(sv[0]);
	io->bev = bufferevent_socket_new(io->base, sv[0],
	    BEV_OPT_CLOSE_ON_FREE);
	if (io->bev == NULL) {
		close(sv[0]);
		io_seterr(io, "bufferevent failed");
		return -1;
	}
	io_kick_later(io);
	return 0;
}

/* io_pipe_wait - reap the command within ms milliseconds: 0, or -1 */
static int
io_pipe_wait(struct io *io, int ms)
{
	struct timespec	 tick = { 0, 10 * 1000 * 1000 };
	pid_t		 r;
	int		 st;

	for (;;) {
		r = waitpid(io->child, &st, WNOHANG);
		if (r == io->child) {
			io->child_status = st;
			io->child_reaped = 1;
			io->child = 0;
			return 0;
		}
		if (r == -1 && errno != EINTR) {
			io->child = 0;	/* not ours any more */
			return 0;
		}
		if (ms <= 0)
			return -1;
		nanosleep(&tick, NULL);
		ms -= 10;
	}
}

/*
 * io_pipe_reap - the connection is closed, so the command read EOF:
 * half a second to end, then SIGTERM to its process group, then SIGKILL.
 * Never left behind.
 */
static void
io_pipe_reap(struct io *io)
{
	if (io->child <= 0)
		return;
	if (io_pipe_wait(io, 500) == 0)
		return;
	/* the group, or the command alone if it has none of its own */
	if (kill(-io->child, SIGTERM) == -1)
		(void)kill(io->child, SIGTERM);
	if (io_pipe_wait(io, 1000) == 0)
		return;
	if (kill(-io->child, SIGKILL) == -1)
		(void)kill(io->child, SIGKILL);
	(void)io_pipe_wait(io, 5000);
}

/* io_pipe_eof - the command closed its output: say how it ended */
static void
io_pipe_eof(struct io *io)
{
	char	 note[128];

	if (io_pipe_wait(io, 200) == -1)
		return;
	io_pipe_status(io, note, sizeof(note));
	/* io_seterr() formats before it frees the old message */
	io_seterr(io, "%s; the command %s", io_error(io), note);
}

int
io_pipe_status(struct io *io, char *buf, size_t len)
{
	int	 st = io->child_status;

	if (!io->child_reaped) {
		snprintf(buf, len, "is still running");
		return -1;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		snprintf(buf, len, "exited with status 127: the shell did not "
		    "find it, or could not run it");
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 126)
		snprintf(buf, len, "exited with status 126: not executable");
	else if (WIFEXITED(st))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "was killed by signal %d (%s)",
		    WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(buf, len, "ended (wait status %#x)", (unsigned)st);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ?
	    WTERMSIG(st) : 0);
}

long
io_pipe_pid(struct io *io)
{
	return io->child > 0 ? (long)io->child : 0;
}

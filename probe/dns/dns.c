/*
 * dns.c - asynchronous DNS on libevent, with ldns as packet codec
 * (see include/dns.h): the context and one query's tries. Server
 * configuration is in dns_conf.c, answer parsing in dns_parse.c, MX
 * resolution in dns_mx.c (shared state: dns_int.h).
 *
 * A query walks through its tries: try k goes to server k % nservers,
 * for attempts rounds (glibc's order). Each try is a fresh connected
 * UDP socket bound to a random port, with a fresh random ID, so a late
 * answer to an earlier try can never be taken for the current one. A
 * datagram whose ID, QR bit, opcode or question do not match is
 * dropped and we keep listening until the try's timer fires. TC=1
 * moves the same try to TCP. SERVFAIL, REFUSED and the like move on
 * to the next server of the round if there is one, else they are the
 * answer; NXDOMAIN and NODATA are answers at once.
 *
 * Invariants: a query is on ctx->queries from dns_query() until it is
 * delivered or cancelled; at most one socket (q->fd) and one I/O event
 * exist per query; q->timer is the try's deadline, or (with q->done
 * set) the zero timeout that delivers a result decided synchronously.
 *
 * Reentrancy: a callback may free the context. dns_ctx_free() then
 * only marks it dead (ctx->busy counts callbacks in progress) and the
 * delivering code frees it when the callback returns.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "dns_int.h"
#include "log.h"
#include "util.h"

static const char *const dns_status_names[] = {
	[DNS_OK] = "ok",
	[DNS_NODATA] = "nodata",
	[DNS_NXDOMAIN] = "nxdomain",
	[DNS_SERVFAIL] = "servfail",
	[DNS_REFUSED] = "refused",
	[DNS_TIMEOUT] = "timeout",
	[DNS_NETWORK] = "network",
	[DNS_INVALID] = "invalid"
};
_Static_assert(nitems(dns_status_names) == DNS_INVALID + 1,
    "dns_status_names out of step with enum dns_status");

static void	dns_ctx_destroy(struct dns_ctx *);
static uint16_t	dns_random16(void);
static void	dns_close(struct dns_query *);
static void	dns_next_try(struct dns_query *);
static int	dns_udp_send(struct dns_query *);
static void	dns_udp_readcb(evutil_socket_t, short, void *);
static void	dns_tcp_start(struct dns_query *);
static void	dns_tcp_cb(evutil_socket_t, short, void *);
static void	dns_timercb(evutil_socket_t, short, void *);
static int	dns_build(struct dns_query *, uint8_t **, size_t *);
static int	dns_match(struct dns_query *, ldns_pkt *);
static void	dns_answer(struct dns_query *, ldns_pkt *);
static void	dns_finish(struct dns_query *);
static void	dns_fail(struct dns_query *, enum dns_status, const char *,
		    ...) __attribute__((format(printf, 3, 4)));
static void	dns_deliver(struct dns_query *);
static void	dns_query_free(struct dns_query *);

const char *
dns_status_name(enum dns_status s)
{
	if ((unsigned)s > DNS_INVALID)
		return "?";
	return dns_status_names[s];
}

/*
 * ---- context and configuration ----
 */

struct dns_ctx *
dns_ctx_new(struct event_base *base, const struct dns_params *p,
    char *err, size_t errlen)
{
	static const struct dns_params	 none;
	struct dns_ctx			*ctx;
	uint64_t			 seed;

	if (p == NULL)
		p = &none;
	ctx = xcalloc(1, sizeof(*ctx));
	ctx->base = base;
	LIST_INIT(&ctx->queries);
	LIST_INIT(&ctx->mxqs);
	ctx->timeout_ms = 0;
	ctx->attempts = 0;
	if (p->resolver != NULL) {
		char	*list, *s, *tok;

		list = xstrdup(p->resolver);
		for (s = list; (tok = strsep(&s, ",")) != NULL;) {
			while (isspace((unsigned char)*tok))
				tok++;
			if (*tok == '\0')
				continue;
			if (ctx->nservers == DNS_MAXNS) {
				snprintf(err, errlen, "more than %d resolvers",
				    DNS_MAXNS);
				free(list);
				free(ctx);
				return NULL;
			}
			if (dns_add_server(ctx, tok, err, errlen) == -1) {
				free(list);
				free(ctx);
				return NULL;
			}
		}
		free(list);
		if (ctx->nservers == 0) {
			snprintf(err, errlen, "no resolver given");
			free(ctx);
			return NULL;
		}
	} else if (dns_conf_read(ctx, p->resolv_conf != NULL ?
	    p->resolv_conf : DNS_RESOLV_CONF, p->resolv_conf == NULL, err,
	    errlen) == -1) {
		free(ctx);
		return NULL;
	}
	if (p->timeout_ms > 0)
		ctx->timeout_ms = p->timeout_ms;
	if (p->attempts > 0)
		ctx->attempts = p->attempts;
	if (ctx->timeout_ms <= 0)
		ctx->timeout_ms = DNS_TIMEOUT_DEFAULT;
	if (ctx->attempts <= 0)
		ctx->attempts = DNS_ATTEMPTS_DEFAULT;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)util_now_us() ^ (uint64_t)getpid() << 32;
	ctx->rng = seed;
	ctx->buf = xmalloc(65536);
	return ctx;
}

void
dns_ctx_free(struct dns_ctx *ctx)
{
	struct dns_mxq		*m;
	struct dns_query	*q;

	if (ctx == NULL)
		return;
	while ((m = LIST_FIRST(&ctx->mxqs)) != NULL)
		dns_mx_cancel(m);
	while ((q = LIST_FIRST(&ctx->queries)) != NULL)
		dns_cancel(q);
	if (ctx->busy > 0) {
		ctx->dead = 1;
		return;
	}
	dns_ctx_destroy(ctx);
}

/* dns_ctx_destroy - free a context that has no queries left */
static void
dns_ctx_destroy(struct dns_ctx *ctx)
{
	free(ctx->buf);
	free(ctx);
}

void
dns_ctx_set_seed(struct dns_ctx *ctx, uint64_t seed)
{
	ctx->rng = seed;
}

size_t
dns_ctx_nservers(const struct dns_ctx *ctx)
{
	return ctx->nservers;
}

const char *
dns_ctx_server(const struct dns_ctx *ctx, size_t i)
{
	if (i >= ctx->nservers)
		return NULL;
	return ctx->servers[i].text;
}

long
dns_ctx_timeout(const struct dns_ctx *ctx)
{
	return ctx->timeout_ms;
}

int
dns_ctx_attempts(const struct dns_ctx *ctx)
{
	return ctx->attempts;
}


/*
 * ---- randomness ----
 */

/* dns_random16 - unpredictable 16 bits (IDs, ports) */
static uint16_t
dns_random16(void)
{
	uint16_t	 r;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		fatal("getrandom");
	return r;
}

/* dns_rng_next - splitmix64: reproducible from a seed (MX order only) */
uint64_t
dns_rng_next(struct dns_ctx *ctx)
{
	uint64_t	 z;

	z = (ctx->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * ---- one query ----
 */

/* dns_query_new - a query on ctx's list, not started yet */
static struct dns_query *
dns_query_new(struct dns_ctx *ctx, const char *name, uint16_t type,
    dns_cb cb, void *arg)
{
	struct dns_query	*q;

	q = xcalloc(1, sizeof(*q));
	q->ctx = ctx;
	q->qname = xstrdup(name);
	q->qtype = type;
	q->fd = -1;
	q->cb = cb;
	q->arg = arg;
	q->t0 = util_now_us();
	q->maxtries = ctx->attempts * (int)ctx->nservers;
	q->res.qname = q->qname;
	q->res.qtype = type;
	q->res.rcode = -1;
	q->res.ede = -1;
	q->res.canon = q->qname;
	if ((q->timer = evtimer_new(ctx->base, dns_timercb, q)) == NULL)
		fatalx("evtimer_new failed");
	LIST_INSERT_HEAD(&ctx->queries, q, entry);
	return q;
}

struct dns_query *
dns_query(struct dns_ctx *ctx, const char *name, uint16_t type, dns_cb cb,
    void *arg)
{
	struct dns_query	*q;
	const char		*why;
	size_t			 len;

	q = dns_query_new(ctx, name, type, cb, arg);
	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253 || util_check_text(name, 0, &why) == -1 ||
	    strchr(name, ' ') != NULL || strstr(name, "..") != NULL ||
	    name[0] == '.' ||
	    (q->qrdf = ldns_dname_new_frm_str(name)) == NULL) {
		char	*esc = util_escape(name, strlen(name));

		dns_fail(q, DNS_INVALID, "\"%s\" is not a domain name", esc);
		free(esc);
		return q;
	}
	dns_next_try(q);
	return q;
}

struct dns_query *
dns_query_ptr(struct dns_ctx *ctx, const char *ip, dns_cb cb, void *arg)
{
	char			 name[80];
	struct dns_query	*q;
	char			*esc;

	if (dns_reverse_name(ip, NULL, name, sizeof(name)) == -1) {
		q = dns_query_new(ctx, ip, DNS_T_PTR, cb, arg);
		esc = util_escape(ip, strlen(ip));
		dns_fail(q, DNS_INVALID, "\"%s\" is not an IP address", esc);
		free(esc);
		return q;
	}
	return dns_query(ctx, name, DNS_T_PTR, cb, arg);
}

void
dns_cancel(struct dns_query *q)
{
	if (q == NULL)
		return;
	LIST_REMOVE(q, entry);
	dns_query_free(q);
}

/* dns_close - drop the socket and I/O event of the current try */
static void
dns_close(struct dns_query *q)
{
	if (q->ev != NULL) {
		event_free(q->ev);
		q->ev = NULL;
	}
	if (q->fd != -1) {
		close(q->fd);
		q->fd = -1;
	}
	evtimer_del(q->timer);
	free(q->tcpbuf);
	q->tcpbuf = NULL;
	q->tcp = q->tcp_reading = 0;
	q->tcplen = q->tcpoff = 0;
}

static void
dns_query_free(struct dns_query *q)
{
	dns_close(q);
	event_free(q->timer);
	if (q->saved != NULL)
		ldns_pkt_free(q->saved);
	if (q->qrdf != NULL)
		ldns_rdf_deep_free(q->qrdf);
	dns_result_clear(&q->res);
	free(q->qname);
	free(q);
}

/*
 * dns_next_try - start the next try, skipping servers we cannot even
 * send to; when none is left, finish with the best we have.
 */
static void
dns_next_try(struct dns_query *q)
{
	struct timeval	 tv;

	dns_close(q);
	while (q->try < q->maxtries) {
		q->srv = (size_t)q->try % q->ctx->nservers;
		q->try++;
		if (dns_udp_send(q) == 0) {
			tv.tv_sec = q->ctx->timeout_ms / 1000;
			tv.tv_usec = (q->ctx->timeout_ms % 1000) * 1000;
			evtimer_add(q->timer, &tv);
			return;
		}
		q->saw_network = 1;
		dns_close(q);
	}
	dns_finish(q);
}

/* dns_build - wire form of the query with a fresh ID; caller frees */
static int
dns_build(struct dns_query *q, uint8_t **wire, size_t *len)
{
	ldns_pkt	*p;
	ldns_status	 st;

	p = ldns_pkt_query_new(ldns_rdf_clone(q->qrdf), (ldns_rr_type)q->qtype,
	    LDNS_RR_CLASS_IN, LDNS_RD | LDNS_AD);
	if (p == NULL)
		fatalx("ldns_pkt_query_new failed");
	q->id = dns_random16();
	ldns_pkt_set_id(p, q->id);
	ldns_pkt_set_edns_udp_size(p, DNS_EDNS_SIZE);
	st = ldns_pkt2wire(wire, p, len);
	ldns_pkt_free(p);
	if (st != LDNS_STATUS_OK) {
		snprintf(q->neterr, sizeof(q->neterr),
		    "cannot encode query: %s", ldns_get_errorstr_by_id(st));
		return -1;
	}
	return 0;
}

/* dns_udp_send - open a socket from a random port, connect, send */
static int
dns_udp_send(struct dns_query *q)
{
	struct dns_server	*sv = &q->ctx->servers[q->srv];
	struct sockaddr_storage	 local;
	uint8_t			*wire;
	size_t			 len;
	ssize_t			 n;
	int			 i;

	q->fd = socket(sv->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (q->fd == -1) {
		snprintf(q->neterr, sizeof(q->neterr), "%s: socket: %s",
		    sv->text, strerror(errno));
		return -1;
	}
	/* a random source port (the kernel's choice is guessable) */
	for (i = 0; i < 8; i++) {
		uint16_t	 port = 1024 + dns_random16() % (65536 - 1024);

		memset(&local, 0, sizeof(local));
		local.ss_family = sv->ss.ss_family;
		if (sv->ss.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&local)->sin6_port =
			    htons(port);
		else
			((struct sockaddr_in *)&local)->sin_port = htons(port);
		if (bind(q->fd, (struct sockaddr *)&local, sv->len) == 0)
			break;
		if (errno != EADDRINUSE)
			break;		/* fall back to the kernel's port */
	}
	if (connect(q->fd, (struct sockaddr *)&sv->ss, sv->len) == -1) {
		snprintf(q->neterr, sizeof(q->neterr), "%s: connect: %s",
		    sv->text, strerror(errno));
		return -1;
	}
	if (dns_build(q, &wire, &len) == -1)
		return -1;
	n = send(q->fd, wire, len, 0);
	free(wire);
	if (n != (ssize_t)len) {
		snprintf(q->neterr, sizeof(q->neterr), "%s: send: %s",
		    sv->text, n == -1 ? strerror(errno) : "short write");
		return -1;
	}
	q->npackets++;
	q->ev = event_new(q->ctx->base, q->fd, EV_READ | EV_PERSIST,
	    dns_udp_readcb, q);
	if (q->ev == NULL || event_add(q->ev, NULL) == -1)
		fatalx("event_new failed");
	return 0;
}

/* dns_udp_readcb - read every datagram queued; act on the first match */
static void
dns_udp_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_query	*q = arg;
	ldns_pkt		*p;
	ssize_t			 n;

	for (;;) {
		n = recv(fd, q->ctx->buf, 65536, 0);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return;
			/* ICMP unreachable and the like: this try is over */
			snprintf(q->neterr, sizeof(q->neterr), "%s: %s",
			    q->ctx->servers[q->srv].text, strerror(errno));
			q->saw_network = 1;
			dns_next_try(q);
			return;
		}
		if (ldns_wire2pkt(&p, q->ctx->buf, (size_t)n) !=
		    LDNS_STATUS_OK)
			continue;	/* garbage: keep waiting */
		if (dns_match(q, p) == -1) {
			ldns_pkt_free(p);
			continue;	/* not ours: keep waiting */
		}
		if (ldns_pkt_tc(p)) {
			ldns_pkt_free(p);
			dns_tcp_start(q);
			return;
		}
		dns_answer(q, p);
		return;
	}
}

/* dns_match - 0 if p answers the current try's question */
static int
dns_match(struct dns_query *q, ldns_pkt *p)
{
	ldns_rr		*rr;

	if (!ldns_pkt_qr(p) || ldns_pkt_id(p) != q->id ||
	    ldns_pkt_get_opcode(p) != LDNS_PACKET_QUERY ||
	    ldns_pkt_qdcount(p) != 1 ||
	    ldns_rr_list_rr_count(ldns_pkt_question(p)) != 1)
		return -1;
	rr = ldns_rr_list_rr(ldns_pkt_question(p), 0);
	if (ldns_rr_get_type(rr) != (ldns_rr_type)q->qtype ||
	    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
	    ldns_dname_compare(ldns_rr_owner(rr), q->qrdf) != 0)
		return -1;
	return 0;
}

/* dns_tcp_start - the answer was truncated: same server, over TCP */
static void
dns_tcp_start(struct dns_query *q)
{
	struct dns_server	*sv = &q->ctx->servers[q->srv];
	struct timeval		 tv;
	uint8_t			*wire;
	size_t			 len;

	dns_close(q);
	q->tcp = 1;
	q->fd = socket(sv->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (q->fd == -1) {
		snprintf(q->neterr, sizeof(q->neterr), "%s: TCP socket: %s",
		    sv->text, strerror(errno));
		q->saw_network = 1;
		dns_next_try(q);
		return;
	}
	if (connect(q->fd, (struct sockaddr *)&sv->ss, sv->len) == -1 &&
	    errno != EINPROGRESS) {
		snprintf(q->neterr, sizeof(q->neterr), "%s: TCP connect: %s",
		    sv->text, strerror(errno));
		q->saw_network = 1;
		dns_next_try(q);
		return;
	}
	if (dns_build(q, &wire, &len) == -1) {
		q->saw_network = 1;
		dns_next_try(q);
		return;
	}
	q->tcp = 1;
	q->tcpbuf = xmalloc(len + 2);
	q->tcpbuf[0] = (uint8_t)(len >> 8);
	q->tcpbuf[1] = (uint8_t)len;
	memcpy(q->tcpbuf + 2, wire, len);
	free(wire);
	q->tcplen = len + 2;
	q->tcpoff = 0;
	q->npackets++;
	q->ev = event_new(q->ctx->base, q->fd, EV_WRITE | EV_PERSIST,
	    dns_tcp_cb, q);
	if (q->ev == NULL || event_add(q->ev, NULL) == -1)
		fatalx("event_new failed");
	tv.tv_sec = q->ctx->timeout_ms / 1000;
	tv.tv_usec = (q->ctx->timeout_ms % 1000) * 1000;
	evtimer_add(q->timer, &tv);
}

/*
 * dns_tcp_cb - write the length-prefixed query, then read the 2-byte
 * length and the answer. Any failure ends this try.
 */
static void
dns_tcp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_query	*q = arg;
	const char		*srv = q->ctx->servers[q->srv].text;
	ldns_pkt		*p;
	ssize_t			 n;
	size_t			 alen;

	if (!q->tcp_reading) {
		n = send(fd, q->tcpbuf + q->tcpoff, q->tcplen - q->tcpoff,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == EINPROGRESS)
				return;
			goto neterr;
		}
		q->tcpoff += (size_t)n;
		if (q->tcpoff < q->tcplen)
			return;
		/* query sent; read the length first */
		free(q->tcpbuf);
		q->tcpbuf = xmalloc(2);
		q->tcplen = 2;
		q->tcpoff = 0;
		q->tcp_reading = 1;
		event_free(q->ev);
		q->ev = event_new(q->ctx->base, fd, EV_READ | EV_PERSIST,
		    dns_tcp_cb, q);
		if (q->ev == NULL || event_add(q->ev, NULL) == -1)
			fatalx("event_new failed");
		return;
	}
	n = recv(fd, q->tcpbuf + q->tcpoff, q->tcplen - q->tcpoff, 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		goto neterr;
	}
	if (n == 0) {
		snprintf(q->neterr, sizeof(q->neterr),
		    "%s: TCP connection closed before the answer", srv);
		q->saw_network = 1;
		dns_next_try(q);
		return;
	}
	q->tcpoff += (size_t)n;
	if (q->tcpoff < q->tcplen)
		return;
	if (q->tcplen == 2 && q->tcpbuf != NULL && q->tcp_reading == 1) {
		alen = (size_t)q->tcpbuf[0] << 8 | q->tcpbuf[1];
		if (alen < 12) {
			snprintf(q->neterr, sizeof(q->neterr),
			    "%s: TCP answer of %zu bytes", srv, alen);
			q->saw_network = 1;
			dns_next_try(q);
			return;
		}
		free(q->tcpbuf);
		q->tcpbuf = xmalloc(alen);
		q->tcplen = alen;
		q->tcpoff = 0;
		q->tcp_reading = 2;
		return;
	}
	if (ldns_wire2pkt(&p, q->tcpbuf, q->tcplen) != LDNS_STATUS_OK) {
		snprintf(q->neterr, sizeof(q->neterr),
		    "%s: malformed TCP answer", srv);
		q->saw_network = 1;
		dns_next_try(q);
		return;
	}
	if (dns_match(q, p) == -1) {
		ldns_pkt_free(p);
		snprintf(q->neterr, sizeof(q->neterr),
		    "%s: TCP answer does not match the question", srv);
		q->saw_network = 1;
		dns_next_try(q);
		return;
	}
	dns_answer(q, p);
	return;
neterr:
	snprintf(q->neterr, sizeof(q->neterr), "%s: TCP: %s", srv,
	    strerror(errno));
	q->saw_network = 1;
	dns_next_try(q);
}

/* dns_timercb - a try timed out, or a synchronous result is due */
static void
dns_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_query	*q = arg;

	if (q->done) {
		dns_deliver(q);
		return;
	}
	q->saw_timeout = 1;
	dns_next_try(q);
}

/*
 * dns_answer - a matching answer arrived. A server failure moves on
 * to the next server of this round, if any, keeping the answer in
 * case nobody does better.
 */
static void
dns_answer(struct dns_query *q, ldns_pkt *p)
{
	ldns_pkt_rcode	 rc = ldns_pkt_get_rcode(p);
	int		 last_in_round;

	last_in_round = q->srv + 1 == q->ctx->nservers ||
	    q->try >= q->maxtries;
	if (rc != LDNS_RCODE_NOERROR && rc != LDNS_RCODE_NXDOMAIN &&
	    !last_in_round) {
		if (q->saved != NULL)
			ldns_pkt_free(q->saved);
		q->saved = p;
		q->saved_srv = q->srv;
		q->saved_tcp = q->tcp;
		dns_next_try(q);
		return;
	}
	dns_result_fill(q, p);
	ldns_pkt_free(p);
	dns_close(q);
	q->done = 1;
	dns_deliver(q);
}

/* dns_finish - no try left: a saved answer, else timeout or network */
static void
dns_finish(struct dns_query *q)
{
	struct dns_ctx	*ctx = q->ctx;

	if (q->saved != NULL) {
		q->srv = q->saved_srv;
		q->tcp = q->saved_tcp;
		dns_result_fill(q, q->saved);
		q->tcp = 0;
		q->done = 1;
		dns_deliver(q);
		return;
	}
	if (q->saw_timeout || !q->saw_network)
		dns_fail(q, DNS_TIMEOUT, "no answer from %s%s in %d tries of "
		    "%ld ms%s%s", ctx->servers[0].text, ctx->nservers > 1 ?
		    " and the other servers" : "", q->npackets,
		    ctx->timeout_ms, q->neterr[0] ? "; last error: " : "",
		    q->neterr);
	else
		dns_fail(q, DNS_NETWORK, "%s", q->neterr);
}

/* dns_fail - decide an error now, deliver it from the loop */
static void
dns_fail(struct dns_query *q, enum dns_status st, const char *fmt, ...)
{
	static const struct timeval	 zero = { 0, 0 };
	va_list				 ap;

	dns_close(q);
	q->res.status = st;
	va_start(ap, fmt);
	vsnprintf(q->detail, sizeof(q->detail), fmt, ap);
	va_end(ap);
	q->done = 1;
	evtimer_add(q->timer, &zero);
}

/* dns_deliver - run the callback once, then free the query */
static void
dns_deliver(struct dns_query *q)
{
	struct dns_ctx	*ctx = q->ctx;
	struct dns_result *r = &q->res;

	dns_close(q);
	LIST_REMOVE(q, entry);
	if (q->try > 0)
		r->server = ctx->servers[q->srv].text;
	else
		r->server = ctx->servers[0].text;
	r->tries = q->npackets;
	r->ms = (long)((util_now_us() - q->t0) / 1000);
	r->error = r->status == DNS_OK ? NULL : dns_status_name(r->status);
	r->detail = q->detail;
	ctx->busy++;
	q->cb(r, q->arg);
	ctx->busy--;
	dns_query_free(q);
	if (ctx->dead && ctx->busy == 0)
		dns_ctx_destroy(ctx);
}

/*
 * dns_parse_answer - what a live query would make of this packet as
 * the answer to (name, type): the same checks and the same result,
 * delivered to cb at once. For the fuzzer and the unit tests; the ID
 * is taken from the packet, the server is the context's first.
 */
int
dns_parse_answer(struct dns_ctx *ctx, const uint8_t *wire, size_t len,
    const char *name, uint16_t type, dns_cb cb, void *arg)
{
	struct dns_query	*q;
	ldns_pkt		*p = NULL;

	if (len < 12 || ldns_wire2pkt(&p, wire, len) != LDNS_STATUS_OK)
		return -1;
	q = dns_query_new(ctx, name, type, cb, arg);
	q->id = ldns_pkt_id(p);
	if ((q->qrdf = ldns_dname_new_frm_str(name)) == NULL ||
	    dns_match(q, p) == -1) {
		ldns_pkt_free(p);
		LIST_REMOVE(q, entry);
		dns_query_free(q);
		return -1;
	}
	dns_result_fill(q, p);
	ldns_pkt_free(p);
	q->done = 1;
	dns_deliver(q);
	return 0;
}

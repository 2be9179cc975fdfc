/*
 * dns.c - asynchronous DNS on libevent, with ldns as packet codec
 * (see include/dns.h).
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

#include "dns.h"
#include "log.h"
#include "util.h"

#define DNS_EDNS_SIZE		1232	/* RFC 9715 / DNS flag day 2020 */
#define DNS_MAXNS_CONF		3	/* resolv.conf servers, as libc */
#define DNS_TIMEOUT_DEFAULT	5000
#define DNS_ATTEMPTS_DEFAULT	2
#define DNS_CNAME_HOPS		16
#define DNS_RESOLV_CONF		"/etc/resolv.conf"

struct dns_server {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 text[INET6_ADDRSTRLEN + 16];
};

struct dns_ctx {
	struct event_base	*base;
	struct dns_server	 servers[DNS_MAXNS];
	size_t			 nservers;
	long			 timeout_ms;
	int			 attempts;
	uint64_t		 rng;		/* MX shuffle state */
	LIST_HEAD(, dns_query)	 queries;
	LIST_HEAD(, dns_mxq)	 mxqs;
	int			 busy;		/* callbacks running */
	int			 dead;		/* freed during a callback */
	uint8_t			*buf;		/* UDP receive buffer */
};

struct dns_query {
	struct dns_ctx		*ctx;
	LIST_ENTRY(dns_query)	 entry;
	ldns_rdf		*qrdf;		/* NULL: invalid name */
	char			*qname;
	uint16_t		 qtype;
	uint16_t		 id;		/* of the current try */
	int			 try;		/* tries started */
	int			 maxtries;
	size_t			 srv;		/* server of the current try */
	int			 fd;
	int			 tcp;		/* current try is on TCP */
	struct event		*ev;
	struct event		*timer;
	int			 done;		/* result decided, to deliver */
	int64_t			 t0;
	int			 npackets;
	int			 saw_timeout;
	int			 saw_network;
	ldns_pkt		*saved;		/* SERVFAIL and such, kept */
	size_t			 saved_srv;
	int			 saved_tcp;
	uint8_t			*tcpbuf;	/* out: len+query; in: answer */
	size_t			 tcplen;	/* bytes expected */
	size_t			 tcpoff;	/* bytes done */
	int			 tcp_reading;
	dns_cb			 cb;
	void			*arg;
	struct dns_result	 res;
	char			 detail[512];
	char			 neterr[256];
};

struct dns_mxsub {
	struct dns_mxq		*m;
	size_t			 host;
	uint16_t		 type;
	struct dns_query	*q;
};

struct dns_mxq {
	struct dns_ctx		*ctx;
	LIST_ENTRY(dns_mxq)	 entry;
	struct dns_mxset	*set;
	struct dns_query	*mxquery;
	struct dns_mxsub	*subs;
	size_t			 nsubs;
	size_t			 pending;
	dns_mx_cb		 cb;
	void			*arg;
};

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
_Static_assert(sizeof(dns_status_names) / sizeof(dns_status_names[0]) ==
    DNS_INVALID + 1, "dns_status_names out of step with enum dns_status");

static void	dns_ctx_destroy(struct dns_ctx *);
static int	dns_conf_read(struct dns_ctx *, const char *, int, char *,
		    size_t);
static int	dns_add_server(struct dns_ctx *, const char *, char *, size_t);
static void	dns_format_sa(const struct sockaddr *, char *, size_t);
static uint16_t	dns_random16(void);
static uint64_t	dns_rng_next(struct dns_ctx *);
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
static void	dns_result_fill(struct dns_query *, ldns_pkt *);
static void	dns_result_clear(struct dns_result *);
static char	*dns_rdf_name(const ldns_rdf *);
static void	dns_mx_on_mx(const struct dns_result *, void *);
static void	dns_mx_on_addr(const struct dns_result *, void *);
static void	dns_mx_finish(struct dns_mxq *);
static void	dns_mx_free(struct dns_mxq *);
static void	dns_mx_note(struct dns_mxset *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

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

/* dns_format_sa - "ADDR:PORT" or "[V6ADDR]:PORT" */
static void
dns_format_sa(const struct sockaddr *sa, char *buf, size_t len)
{
	char	 a[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6	*s6 = (const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in	*s4 = (const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	}
}

/* dns_parse_addr - an address literal, with an optional %scope (v6) */
static int
dns_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len,
    unsigned port)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;
	char			 tmp[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	char			*scope;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return 0;
	}
	if (strlen(s) >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, strlen(s) + 1);
	if ((scope = strchr(tmp, '%')) != NULL)
		*scope++ = '\0';
	if (inet_pton(AF_INET6, tmp, &s6->sin6_addr) != 1)
		return -1;
	if (scope != NULL) {
		unsigned	 idx = if_nametoindex(scope);
		char		*end;

		if (idx == 0) {
			errno = 0;
			idx = (unsigned)strtoul(scope, &end, 10);
			if (*scope == '\0' || *end != '\0' || errno != 0 ||
			    idx == 0)
				return -1;
		}
		s6->sin6_scope_id = idx;
	}
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons((uint16_t)port);
	*len = sizeof(*s6);
	return 0;
}

int
dns_parse_server(const char *s, struct sockaddr_storage *ss,
    socklen_t *sslen, char *err, size_t errlen)
{
	char		 host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	const char	*h, *port = NULL, *colon, *close;
	size_t		 hlen;
	unsigned long	 pn = 53;
	char		*end;

	if (s[0] == '[') {
		if ((close = strchr(s, ']')) == NULL) {
			snprintf(err, errlen, "%s: missing ]", s);
			return -1;
		}
		h = s + 1;
		hlen = (size_t)(close - h);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0') {
			snprintf(err, errlen, "%s: junk after ]", s);
			return -1;
		}
	} else {
		h = s;
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			hlen = (size_t)(colon - s);
			port = colon + 1;
		} else
			hlen = strlen(s);	/* bare IPv6 or no port */
	}
	if (hlen == 0 || hlen >= sizeof(host)) {
		snprintf(err, errlen, "%s: not an address", s);
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (port != NULL) {
		errno = 0;
		pn = strtoul(port, &end, 10);
		if (*port == '\0' || *end != '\0' || errno != 0 || pn == 0 ||
		    pn > 65535 || !isdigit((unsigned char)*port)) {
			snprintf(err, errlen, "%s: bad port", s);
			return -1;
		}
	}
	if (dns_parse_addr(host, ss, sslen, (unsigned)pn) == -1) {
		snprintf(err, errlen, "%s: not an IP address (a resolver "
		    "must be given as an address)", s);
		return -1;
	}
	if (s[0] == '[' && ss->ss_family != AF_INET6) {
		snprintf(err, errlen, "%s: [] around an IPv4 address", s);
		return -1;
	}
	return 0;
}

/* dns_add_server - append one "HOST[:PORT]" to ctx */
static int
dns_add_server(struct dns_ctx *ctx, const char *s, char *err, size_t errlen)
{
	struct dns_server	*sv = &ctx->servers[ctx->nservers];

	if (dns_parse_server(s, &sv->ss, &sv->len, err, errlen) == -1)
		return -1;
	dns_format_sa((struct sockaddr *)&sv->ss, sv->text, sizeof(sv->text));
	ctx->nservers++;
	return 0;
}

/* dns_token - next whitespace-separated word of *sp, or NULL */
static char *
dns_token(char **sp)
{
	char	*t;

	while ((t = strsep(sp, " \t\r\n")) != NULL)
		if (*t != '\0')
			return t;
	return NULL;
}

/*
 * dns_conf_read - servers and options from a resolv.conf. Lines that
 * do not parse are ignored, as libc does; only the first three
 * nameservers count (MAXNS). A missing default file, or one without
 * nameservers, means 127.0.0.1 (libc's rule); a missing file named
 * explicitly is an error.
 */
static int
dns_conf_read(struct dns_ctx *ctx, const char *path, int is_default,
    char *err, size_t errlen)
{
	FILE		*f;
	char		*line = NULL, *s, *tok, *v, *end;
	size_t		 cap = 0;
	long		 n;
	char		 e[128];

	if ((f = fopen(path, "r")) == NULL) {
		if (!is_default || errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
	} else {
		while (getline(&line, &cap, f) != -1) {
			s = line;
			tok = dns_token(&s);
			if (tok == NULL || *tok == '#' || *tok == ';')
				continue;
			if (strcmp(tok, "nameserver") == 0) {
				struct dns_server *sv =
				    &ctx->servers[ctx->nservers];

				if ((v = dns_token(&s)) == NULL ||
				    ctx->nservers == DNS_MAXNS_CONF ||
				    dns_parse_addr(v, &sv->ss, &sv->len,
				    53) == -1)
					continue;
				dns_format_sa((struct sockaddr *)&sv->ss,
				    sv->text, sizeof(sv->text));
				ctx->nservers++;
				continue;
			}
			if (strcmp(tok, "options") != 0)
				continue;
			while ((v = dns_token(&s)) != NULL) {
				if (strncmp(v, "timeout:", 8) == 0) {
					n = strtol(v + 8, &end, 10);
					if (*end == '\0' && n >= 1)
						ctx->timeout_ms =
						    (n > 30 ? 30 : n) * 1000;
				} else if (strncmp(v, "attempts:", 9) == 0) {
					n = strtol(v + 9, &end, 10);
					if (*end == '\0' && n >= 1)
						ctx->attempts =
						    (int)(n > 5 ? 5 : n);
				}
			}
		}
		free(line);
		fclose(f);
	}
	if (ctx->nservers == 0)
		(void)dns_add_server(ctx, "127.0.0.1", e, sizeof(e));
	return 0;
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
static uint64_t
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

/*
 * ---- answers ----
 */

/* dns_rdf_name - printable domain name without the trailing dot */
static char *
dns_rdf_name(const ldns_rdf *rdf)
{
	char	*s, *out;
	size_t	 n;

	if ((s = ldns_rdf2str(rdf)) == NULL)
		fatalx("ldns_rdf2str failed");
	n = strlen(s);
	if (n > 1 && s[n - 1] == '.')
		s[--n] = '\0';
	out = util_escape(s, n);
	LDNS_FREE(s);
	return out;
}

static void
dns_result_clear(struct dns_result *r)
{
	size_t	 i;

	for (i = 0; i < r->nrrs; i++)
		free(r->rrs[i]);
	free(r->rrs);
	free(r->addrs);
	for (i = 0; i < r->nnames; i++)
		free(r->names[i]);
	free(r->names);
	for (i = 0; i < r->ntxts; i++)
		free(r->txts[i]);
	free(r->txts);
	for (i = 0; i < r->nmx; i++)
		free(r->mx[i].host);
	free(r->mx);
	for (i = 0; i < r->ntlsa; i++)
		free(r->tlsa[i].data);
	free(r->tlsa);
	if (r->canon != r->qname)
		free((char *)r->canon);
	r->canon = r->qname;
	r->rrs = NULL;
	r->addrs = NULL;
	r->names = r->txts = NULL;
	r->mx = NULL;
	r->tlsa = NULL;
	r->nrrs = r->naddrs = r->nnames = r->ntxts = r->nmx = r->ntlsa = 0;
}

/* dns_add_rr - one record of the asked type into the result arrays */
static void
dns_add_rr(struct dns_result *r, ldns_rr *rr)
{
	ldns_rdf	*rd;
	size_t		 i, n, len;

	switch (ldns_rr_get_type(rr)) {
	case LDNS_RR_TYPE_A:
	case LDNS_RR_TYPE_AAAA:
		rd = ldns_rr_rdf(rr, 0);
		len = rd != NULL ? ldns_rdf_size(rd) : 0;
		if (len != 4 && len != 16)
			return;
		r->addrs = xreallocarray(r->addrs, r->naddrs + 1,
		    sizeof(*r->addrs));
		memset(&r->addrs[r->naddrs], 0, sizeof(*r->addrs));
		r->addrs[r->naddrs].family = len == 4 ? AF_INET : AF_INET6;
		memcpy(r->addrs[r->naddrs].addr, ldns_rdf_data(rd), len);
		inet_ntop(r->addrs[r->naddrs].family, ldns_rdf_data(rd),
		    r->addrs[r->naddrs].text, sizeof(r->addrs[0].text));
		r->naddrs++;
		break;
	case LDNS_RR_TYPE_PTR:
	case LDNS_RR_TYPE_NS:
	case LDNS_RR_TYPE_CNAME:
		if ((rd = ldns_rr_rdf(rr, 0)) == NULL)
			return;
		r->names = xreallocarray(r->names, r->nnames + 1,
		    sizeof(*r->names));
		r->names[r->nnames++] = dns_rdf_name(rd);
		break;
	case LDNS_RR_TYPE_MX:
		if (ldns_rr_rd_count(rr) < 2)
			return;
		r->mx = xreallocarray(r->mx, r->nmx + 1, sizeof(*r->mx));
		r->mx[r->nmx].pref = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
		r->mx[r->nmx].host = dns_rdf_name(ldns_rr_rdf(rr, 1));
		r->nmx++;
		break;
	case LDNS_RR_TYPE_TXT: {
		char	*buf = NULL;
		size_t	 blen = 0;

		for (i = 0; i < ldns_rr_rd_count(rr); i++) {
			const uint8_t	*d;

			rd = ldns_rr_rdf(rr, i);
			d = ldns_rdf_data(rd);
			n = ldns_rdf_size(rd);
			if (n == 0)
				continue;
			len = d[0] < n - 1 ? d[0] : n - 1;
			buf = xreallocarray(buf, blen + len + 1, 1);
			memcpy(buf + blen, d + 1, len);
			blen += len;
		}
		r->txts = xreallocarray(r->txts, r->ntxts + 1,
		    sizeof(*r->txts));
		r->txts[r->ntxts++] = util_escape(buf != NULL ? buf : "", blen);
		free(buf);
		break;
	}
	case LDNS_RR_TYPE_TLSA:
		if (ldns_rr_rd_count(rr) < 4)
			return;
		r->tlsa = xreallocarray(r->tlsa, r->ntlsa + 1,
		    sizeof(*r->tlsa));
		r->tlsa[r->ntlsa].usage =
		    ldns_rdf2native_int8(ldns_rr_rdf(rr, 0));
		r->tlsa[r->ntlsa].selector =
		    ldns_rdf2native_int8(ldns_rr_rdf(rr, 1));
		r->tlsa[r->ntlsa].mtype =
		    ldns_rdf2native_int8(ldns_rr_rdf(rr, 2));
		rd = ldns_rr_rdf(rr, 3);
		r->tlsa[r->ntlsa].len = ldns_rdf_size(rd);
		r->tlsa[r->ntlsa].data = xmalloc(ldns_rdf_size(rd));
		memcpy(r->tlsa[r->ntlsa].data, ldns_rdf_data(rd),
		    ldns_rdf_size(rd));
		r->ntlsa++;
		break;
	default:
		break;
	}
}

/* dns_ede - RFC 8914 extended error: info-code, text into buf */
static int
dns_ede(ldns_pkt *p, char *buf, size_t len)
{
	ldns_edns_option_list	*ol;
	ldns_edns_option	*o;
	const uint8_t		*d;
	size_t			 i, n;
	char			*esc;

	buf[0] = '\0';
	if ((ol = ldns_pkt_edns_get_option_list(p)) == NULL)
		return -1;
	for (i = 0; i < ldns_edns_option_list_get_count(ol); i++) {
		o = ldns_edns_option_list_get_option(ol, i);
		if (o == NULL || ldns_edns_get_code(o) != LDNS_EDNS_EDE ||
		    (n = ldns_edns_get_size(o)) < 2)
			continue;
		d = ldns_edns_get_data(o);
		if (n > 2) {
			esc = util_escape((const char *)d + 2, n - 2);
			snprintf(buf, len, "%s", esc);
			free(esc);
		}
		return d[0] << 8 | d[1];
	}
	return -1;
}

/*
 * dns_result_fill - status, flags and records from an answer: follow
 * the CNAME chain from the question, then take the records of the
 * asked type owned by the last name.
 */
static void
dns_result_fill(struct dns_query *q, ldns_pkt *p)
{
	struct dns_result	*r = &q->res;
	ldns_rr_list		*an = ldns_pkt_answer(p);
	ldns_rdf		*name = q->qrdf;
	ldns_rr			*rr;
	size_t			 i, n = ldns_rr_list_rr_count(an);
	int			 hop, found;
	char			*s, ede[200];
	const char		*rcname;
	ldns_lookup_table	*lt;

	dns_result_clear(r);
	r->rcode = ldns_pkt_get_rcode(p);
	r->ad = ldns_pkt_ad(p);
	r->tcp = q->tcp;
	r->ede = dns_ede(p, ede, sizeof(ede));
	for (i = 0; i < n; i++) {
		rr = ldns_rr_list_rr(an, i);
		if ((s = ldns_rr2str(rr)) == NULL)
			continue;
		s[strcspn(s, "\n")] = '\0';
		r->rrs = xreallocarray(r->rrs, r->nrrs + 1, sizeof(*r->rrs));
		r->rrs[r->nrrs++] = util_escape(s, strlen(s));
		LDNS_FREE(s);
	}
	for (hop = 0; hop < DNS_CNAME_HOPS; hop++) {
		ldns_rdf	*next = NULL;

		found = 0;
		for (i = 0; i < n; i++) {
			rr = ldns_rr_list_rr(an, i);
			if (ldns_dname_compare(ldns_rr_owner(rr), name) != 0 ||
			    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN)
				continue;
			if (ldns_rr_get_type(rr) == (ldns_rr_type)q->qtype)
				found = 1;
			else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
			    next == NULL)
				next = ldns_rr_rdf(rr, 0);
		}
		if (found || next == NULL)
			break;
		name = next;
	}
	if (name != q->qrdf)
		r->canon = dns_rdf_name(name);
	found = 0;
	for (i = 0; i < n; i++) {
		rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) == (ldns_rr_type)q->qtype &&
		    ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
		    ldns_dname_compare(ldns_rr_owner(rr), name) == 0) {
			dns_add_rr(r, rr);
			found++;
		}
	}
	lt = ldns_lookup_by_id(ldns_rcodes, r->rcode);
	rcname = lt != NULL ? lt->name : "?";
	switch (r->rcode) {
	case LDNS_RCODE_NOERROR:
		r->status = found ? DNS_OK : DNS_NODATA;
		if (found)
			snprintf(q->detail, sizeof(q->detail), "%zu record%s "
			    "from %s%s", r->nrrs, r->nrrs == 1 ? "" : "s",
			    q->ctx->servers[q->srv].text, r->ad ?
			    " (AD)" : "");
		else
			snprintf(q->detail, sizeof(q->detail),
			    "%s has no %s record", q->qname,
			    ldns_rr_descript(q->qtype) != NULL ?
			    ldns_rr_descript(q->qtype)->_name : "such");
		break;
	case LDNS_RCODE_NXDOMAIN:
		r->status = DNS_NXDOMAIN;
		snprintf(q->detail, sizeof(q->detail), "%s does not exist "
		    "(NXDOMAIN%s)", r->canon, r->ad ? ", AD" : "");
		break;
	case LDNS_RCODE_SERVFAIL:
		r->status = DNS_SERVFAIL;
		if (r->ede >= 0)
			snprintf(q->detail, sizeof(q->detail), "SERVFAIL from "
			    "%s (EDE %d%s%s)", q->ctx->servers[q->srv].text,
			    r->ede, ede[0] != '\0' ? ": " : "", ede);
		else
			snprintf(q->detail, sizeof(q->detail),
			    "SERVFAIL from %s", q->ctx->servers[q->srv].text);
		break;
	default:
		r->status = DNS_REFUSED;
		snprintf(q->detail, sizeof(q->detail), "%s from %s", rcname,
		    q->ctx->servers[q->srv].text);
		break;
	}
}

/*
 * ---- names ----
 */

int
dns_reverse_name(const char *ip, const char *zone, char *buf, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 a[16];
	char			*o = buf;
	size_t			 need;
	int			 i;

	if (ip == NULL)
		return -1;
	if (inet_pton(AF_INET, ip, a) == 1) {
		if (zone == NULL)
			zone = "in-addr.arpa";
		need = 16 + strlen(zone) + 1;
		if (need > len)
			return -1;
		snprintf(buf, len, "%u.%u.%u.%u.%s", a[3], a[2], a[1], a[0],
		    zone);
		return 4;
	}
	if (inet_pton(AF_INET6, ip, a) != 1)
		return -1;
	if (zone == NULL)
		zone = "ip6.arpa";
	need = 64 + strlen(zone) + 1;
	if (need > len)
		return -1;
	for (i = 15; i >= 0; i--) {
		*o++ = hex[a[i] & 0xf];
		*o++ = '.';
		*o++ = hex[a[i] >> 4];
		*o++ = '.';
	}
	snprintf(o, len - 64, "%s", zone);
	return 6;
}

/*
 * ---- MX resolution ----
 */

/* dns_mx_note - append a line to the resolution path */
static void
dns_mx_note(struct dns_mxset *set, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	util_list_vaddf(&set->notes, &set->nnotes, fmt, ap);
	va_end(ap);
}

struct dns_mxq *
dns_mx_resolve(struct dns_ctx *ctx, const char *domain, dns_mx_cb cb,
    void *arg)
{
	struct dns_mxq	*m;
	size_t		 len;

	m = xcalloc(1, sizeof(*m));
	m->ctx = ctx;
	m->cb = cb;
	m->arg = arg;
	m->set = xcalloc(1, sizeof(*m->set));
	m->set->domain = xstrdup(domain);
	len = strlen(m->set->domain);
	if (len > 1 && m->set->domain[len - 1] == '.')
		m->set->domain[len - 1] = '\0';
	m->set->kind = DNS_MX_NONE;
	LIST_INSERT_HEAD(&ctx->mxqs, m, entry);
	m->mxquery = dns_query(ctx, m->set->domain, DNS_T_MX, dns_mx_on_mx, m);
	return m;
}

void
dns_mx_cancel(struct dns_mxq *m)
{
	size_t	 i;

	if (m == NULL)
		return;
	if (m->mxquery != NULL)
		dns_cancel(m->mxquery);
	for (i = 0; i < m->nsubs; i++)
		if (m->subs[i].q != NULL)
			dns_cancel(m->subs[i].q);
	dns_mxset_free(m->set);
	m->set = NULL;
	LIST_REMOVE(m, entry);
	dns_mx_free(m);
}

static void
dns_mx_free(struct dns_mxq *m)
{
	free(m->subs);
	free(m);
}

void
dns_mxset_free(struct dns_mxset *set)
{
	size_t	 i;

	if (set == NULL)
		return;
	for (i = 0; i < set->nhosts; i++) {
		free(set->hosts[i].name);
		free(set->hosts[i].addrs);
		free(set->hosts[i].canon);
	}
	free(set->hosts);
	for (i = 0; i < set->nnotes; i++)
		free(set->notes[i]);
	free(set->notes);
	free(set->domain);
	free(set);
}

/* dns_mx_cmp - by preference, then name (so shuffling is input-blind) */
static int
dns_mx_cmp(const void *a, const void *b)
{
	const struct dns_mxhost	*x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return strcasecmp(x->name, y->name);
}

/* dns_mx_order - sort, then shuffle each run of equal preference */
static void
dns_mx_order(struct dns_ctx *ctx, struct dns_mxhost *h, size_t n)
{
	struct dns_mxhost	 t;
	size_t			 i, j, k, run;

	qsort(h, n, sizeof(*h), dns_mx_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && h[j].pref == h[i].pref; j++)
			;
		run = j - i;
		for (k = run - 1; k > 0; k--) {
			size_t	 r = (size_t)(dns_rng_next(ctx) % (k + 1));

			t = h[i + k];
			h[i + k] = h[i + r];
			h[i + r] = t;
		}
	}
}

/* dns_mx_on_mx - the MX answer: decide the host list, look up addresses */
static void
dns_mx_on_mx(const struct dns_result *r, void *arg)
{
	struct dns_mxq		*m = arg;
	struct dns_mxset	*set = m->set;
	char			*list = NULL, *tmp;
	size_t			 i, j, nnull = 0;

	m->mxquery = NULL;
	set->ad = r->ad;
	if (r->status == DNS_OK) {
		for (i = 0; i < r->nmx; i++) {
			tmp = list;
			list = xasprintf("%s%s%u %s", tmp ? tmp : "",
			    i ? ", " : "", r->mx[i].pref, r->mx[i].host);
			free(tmp);
			if (strcmp(r->mx[i].host, ".") == 0)
				nnull++;
		}
		dns_mx_note(set, "MX %s: %s (from %s%s)", set->domain, list,
		    r->server, r->ad ? ", AD" : "");
		free(list);
		list = NULL;
		if (strcmp(r->canon, set->domain) != 0)
			dns_mx_note(set, "%s is an alias (CNAME) for %s",
			    set->domain, r->canon);
		if (nnull == 1 && r->nmx == 1) {
			set->kind = DNS_MX_NULL;
			set->status = DNS_OK;
			set->error = "nullmx";
			dns_mx_note(set, "null MX (RFC 7505): %s accepts no "
			    "mail%s", set->domain, r->mx[0].pref != 0 ?
			    " (preference should be 0)" : "");
			dns_mx_finish(m);
			return;
		}
		if (nnull > 0) {
			set->bad_null_mx = 1;
			dns_mx_note(set, "invalid null MX: \".\" is mixed with "
			    "other MX records (RFC 7505 3); \".\" ignored");
		}
		set->kind = DNS_MX_EXPLICIT;
		set->hosts = xcalloc(r->nmx, sizeof(*set->hosts));
		for (i = 0; i < r->nmx; i++) {
			if (strcmp(r->mx[i].host, ".") == 0)
				continue;
			for (j = 0; j < set->nhosts; j++)
				if (strcasecmp(set->hosts[j].name,
				    r->mx[i].host) == 0)
					break;
			if (j < set->nhosts) {
				if (r->mx[i].pref < set->hosts[j].pref)
					set->hosts[j].pref = r->mx[i].pref;
				continue;
			}
			if (set->nhosts == DNS_MX_MAX) {
				dns_mx_note(set, "more than %d MX hosts; the "
				    "rest ignored", DNS_MX_MAX);
				break;
			}
			set->hosts[set->nhosts].name = xstrdup(r->mx[i].host);
			set->hosts[set->nhosts].pref = r->mx[i].pref;
			set->nhosts++;
		}
		dns_mx_order(m->ctx, set->hosts, set->nhosts);
		for (i = 0; i < set->nhosts; i++) {
			tmp = list;
			list = xasprintf("%s%s%s (%u)", tmp ? tmp : "",
			    i ? ", " : "", set->hosts[i].name,
			    set->hosts[i].pref);
			free(tmp);
		}
		dns_mx_note(set, "order: %s%s", list != NULL ? list : "none",
		    set->nhosts > 1 ? " (sorted by preference, equal "
		    "preferences shuffled)" : "");
		free(list);
	} else if (r->status == DNS_NODATA) {
		set->kind = DNS_MX_IMPLICIT;
		dns_mx_note(set, "no MX for %s (from %s%s): implicit MX, the "
		    "domain itself at preference 0 (RFC 5321 5.1)",
		    set->domain, r->server, r->ad ? ", AD" : "");
		set->hosts = xcalloc(1, sizeof(*set->hosts));
		set->hosts[0].name = xstrdup(set->domain);
		set->nhosts = 1;
	} else {
		set->kind = DNS_MX_NONE;
		set->status = r->status;
		set->error = dns_status_name(r->status);
		dns_mx_note(set, "MX %s: %s: %s", set->domain, set->error,
		    r->detail);
		dns_mx_finish(m);
		return;
	}
	if (set->nhosts == 0) {
		dns_mx_finish(m);
		return;
	}
	m->nsubs = set->nhosts * 2;
	m->subs = xcalloc(m->nsubs, sizeof(*m->subs));
	m->pending = m->nsubs;
	for (i = 0; i < m->nsubs; i++) {
		m->subs[i].m = m;
		m->subs[i].host = i / 2;
		m->subs[i].type = i % 2 == 0 ? DNS_T_A : DNS_T_AAAA;
	}
	/* start after filling the table: no callback runs before return */
	for (i = 0; i < m->nsubs; i++)
		m->subs[i].q = dns_query(m->ctx, set->hosts[i / 2].name,
		    m->subs[i].type, dns_mx_on_addr, &m->subs[i]);
}

/* dns_mx_on_addr - A or AAAA of one host */
static void
dns_mx_on_addr(const struct dns_result *r, void *arg)
{
	struct dns_mxsub	*sub = arg;
	struct dns_mxq		*m = sub->m;
	struct dns_mxhost	*h = &m->set->hosts[sub->host];
	size_t			 i;

	sub->q = NULL;
	if (sub->type == DNS_T_A) {
		h->a_status = r->status;
		h->ad = r->ad;
	} else {
		h->aaaa_status = r->status;
		h->ad = h->ad && r->ad;
	}
	if (r->naddrs > 0) {
		h->addrs = xreallocarray(h->addrs, h->naddrs + r->naddrs,
		    sizeof(*h->addrs));
		/* A first, then AAAA, whatever order the answers came in */
		if (sub->type == DNS_T_A && h->naddrs > 0)
			memmove(h->addrs + r->naddrs, h->addrs,
			    h->naddrs * sizeof(*h->addrs));
		for (i = 0; i < r->naddrs; i++)
			h->addrs[(sub->type == DNS_T_A ? 0 : h->naddrs) + i] =
			    r->addrs[i];
		h->naddrs += r->naddrs;
	}
	if (r->status == DNS_OK && h->canon == NULL &&
	    strcasecmp(r->canon, h->name) != 0)
		h->canon = xstrdup(r->canon);
	if (--m->pending == 0)
		dns_mx_finish(m);
}

/* dns_mx_finish - notes per host, the overall status, the callback */
static void
dns_mx_finish(struct dns_mxq *m)
{
	struct dns_mxset	*set = m->set;
	struct dns_mxhost	*h;
	enum dns_status		 temp = DNS_OK;
	size_t			 i, j, usable = 0, naddr = 0;
	char			*a4, *a6, *tmp;

	for (i = 0; i < set->nhosts && m->nsubs > 0; i++) {
		h = &set->hosts[i];
		a4 = a6 = NULL;
		for (j = 0; j < h->naddrs; j++) {
			char	**dst = h->addrs[j].family == AF_INET ?
			    &a4 : &a6;

			tmp = *dst;
			*dst = xasprintf("%s%s%s", tmp ? tmp : "",
			    tmp ? " " : "", h->addrs[j].text);
			free(tmp);
		}
		dns_mx_note(set, "%s: A %s, AAAA %s%s%s%s", h->name,
		    a4 != NULL ? a4 : dns_status_name(h->a_status),
		    a6 != NULL ? a6 : dns_status_name(h->aaaa_status),
		    h->ad ? " (AD)" : "",
		    h->canon != NULL ? "; alias (CNAME) for " : "",
		    h->canon != NULL ? h->canon : "");
		free(a4);
		free(a6);
		if (h->naddrs > 0)
			usable++;
		naddr += h->naddrs;
		for (j = 0; j < 2; j++) {
			enum dns_status s = j ? h->aaaa_status : h->a_status;

			if (s == DNS_TIMEOUT || s == DNS_SERVFAIL ||
			    s == DNS_NETWORK || s == DNS_REFUSED)
				temp = s;
		}
	}
	if (set->kind == DNS_MX_EXPLICIT || set->kind == DNS_MX_IMPLICIT) {
		if (usable > 0) {
			set->status = DNS_OK;
			set->error = NULL;
			dns_mx_note(set, "%zu of %zu host%s usable, %zu "
			    "address%s", usable, set->nhosts,
			    set->nhosts == 1 ? "" : "s", naddr,
			    naddr == 1 ? "" : "es");
		} else if (temp != DNS_OK) {
			set->status = temp;
			set->error = dns_status_name(temp);
			dns_mx_note(set, "no address found, lookups failed "
			    "(%s): try again later", set->error);
		} else {
			set->status = DNS_NODATA;
			set->error = "noaddress";
			dns_mx_note(set, set->kind == DNS_MX_IMPLICIT ?
			    "no MX and no address: %s does not receive mail" :
			    "no MX host of %s has an address (RFC 5321 5.1: "
			    "an error)", set->domain);
		}
	}
	LIST_REMOVE(m, entry);
	set = m->set;
	m->set = NULL;
	m->cb(set, m->arg);
	dns_mx_free(m);
}

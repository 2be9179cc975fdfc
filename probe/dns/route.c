/*
 * route.c - where to connect (see include/route.h).
 *
 * A host name gets an A and an AAAA query at once (only one of them
 * with -4 or -6); a mail domain goes through dns_mx_resolve(), which
 * already orders the hosts (RFC 5321 5.1) and looks up their addresses.
 * An address literal needs no DNS; its callback still comes from the
 * loop, never from inside route_start().
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "io.h"
#include "log.h"
#include "route.h"
#include "util.h"

struct route_req {
	struct event_base	*base;
	struct dns_ctx		*dns;
	struct route		*r;
	int			 family;
	route_cb		 cb;
	void			*arg;
	struct dns_query	*q[2];		/* A, AAAA */
	int			 pending;
	struct dns_mxq		*mxq;
	struct io_after		*later;
	enum dns_status		 st[2];
	struct dns_addr		*found[2];	/* A, AAAA answers */
	size_t			 nfound[2];
	char			*why;		/* last failure */
};

static void	route_note(struct route *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

int
route_literal(const char *name)
{
	unsigned char	 buf[16];

	return inet_pton(AF_INET, name, buf) == 1 ||
	    inet_pton(AF_INET6, name, buf) == 1;
}

static void
route_note(struct route *r, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	util_list_vaddf(&r->notes, &r->nnotes, fmt, ap);
	va_end(ap);
}

static void
route_add(struct route *r, const char *host, int pref,
    const struct dns_addr *a)
{
	struct route_addr *ra;

	r->addrs = xreallocarray(r->addrs, r->naddrs + 1, sizeof(*r->addrs));
	ra = &r->addrs[r->naddrs++];
	ra->host = xstrdup(host);
	ra->pref = pref;
	ra->addr = *a;
}

void
route_free(struct route *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	for (i = 0; i < r->naddrs; i++)
		free(r->addrs[i].host);
	free(r->addrs);
	for (i = 0; i < r->nhosts; i++)
		free(r->hosts[i]);
	free(r->hosts);
	for (i = 0; i < r->nnotes; i++)
		free(r->notes[i]);
	free(r->notes);
	free(r->name);
	free(r->error);
	free(r);
}

/* route_done - hand the route over; the request is freed */
static void
route_done(struct route_req *q)
{
	struct route	*r = q->r;
	route_cb	 cb = q->cb;
	void		*arg = q->arg;

	q->r = NULL;
	io_after_free(q->later);
	free(q->found[0]);
	free(q->found[1]);
	free(q->why);
	free(q);
	cb(r, arg);
}

static void
route_literal_cb(void *arg)
{
	struct route_req *q = arg;

	route_done(q);
}

static int
route_temporary(enum dns_status s)
{
	return s == DNS_SERVFAIL || s == DNS_TIMEOUT || s == DNS_NETWORK ||
	    s == DNS_REFUSED;
}

static void
route_addr_cb(const struct dns_result *res, void *arg)
{
	struct route_req *q = arg;
	struct route	*r = q->r;
	int		 k = res->qtype == DNS_T_AAAA;
	size_t		 i;
	char		 list[512] = "";

	q->q[k] = NULL;
	q->st[k] = res->status;
	if (!res->ad)
		r->ad = 0;
	if (res->status == DNS_OK) {
		for (i = 0; i < res->naddrs && i < 8; i++)
			snprintf(list + strlen(list), sizeof(list) -
			    strlen(list), "%s%s", i > 0 ? " " : "",
			    res->addrs[i].text);
		route_note(r, "%s %s: %s%s (%ld ms, %s%s)", k ? "AAAA" : "A",
		    res->qname, list, res->naddrs > 8 ? " ..." : "", res->ms,
		    res->server, res->ad ? ", AD" : "");
		q->found[k] = xreallocarray(NULL, res->naddrs,
		    sizeof(struct dns_addr));
		memcpy(q->found[k], res->addrs, res->naddrs *
		    sizeof(struct dns_addr));
		q->nfound[k] = res->naddrs;
	} else {
		route_note(r, "%s %s: %s", k ? "AAAA" : "A", res->qname,
		    res->detail);
		free(q->why);
		q->why = xstrdup(res->detail);
	}
	if (--q->pending > 0)
		return;
	/* IPv4 first, whichever answer came first */
	for (k = 0; k < 2; k++)
		for (i = 0; i < q->nfound[k]; i++)
			route_add(r, r->name, -1, &q->found[k][i]);
	if (r->naddrs == 0) {
		r->temporary = route_temporary(q->st[0]) ||
		    route_temporary(q->st[1]);
		r->error = xasprintf("cannot resolve %s: %s", r->name,
		    q->why != NULL ? q->why : "no address");
	}
	route_done(q);
}

static void
route_mx_cb(struct dns_mxset *set, void *arg)
{
	struct route_req *q = arg;
	struct route	*r = q->r;
	size_t		 i, j;

	q->mxq = NULL;
	r->kind = set->kind;
	r->status = set->status;
	r->ad = set->ad;
	for (i = 0; i < set->nnotes; i++)
		route_note(r, "%s", set->notes[i]);
	for (i = 0; i < set->nhosts; i++) {
		const struct dns_mxhost *h = &set->hosts[i];

		r->hosts = xreallocarray(r->hosts, r->nhosts + 1,
		    sizeof(char *));
		r->hosts[r->nhosts++] = xstrdup(h->name);
		if (!h->ad)
			r->ad = 0;
		/* IPv4 first, then IPv6, each as received */
		for (j = 0; j < h->naddrs; j++)
			if (h->addrs[j].family == AF_INET &&
			    q->family != AF_INET6)
				route_add(r, h->name, h->pref, &h->addrs[j]);
		for (j = 0; j < h->naddrs; j++)
			if (h->addrs[j].family == AF_INET6 &&
			    q->family != AF_INET)
				route_add(r, h->name, h->pref, &h->addrs[j]);
	}
	if (set->kind == DNS_MX_NULL)
		r->error = xasprintf("%s accepts no mail: null MX (RFC 7505)",
		    r->name);
	else if (set->kind == DNS_MX_NONE) {
		/* the last note says what went wrong, with the server */
		r->error = xasprintf("cannot find where %s takes mail: %s",
		    r->name, set->nnotes > 0 ? set->notes[set->nnotes - 1] :
		    set->error != NULL ? set->error :
		    dns_status_name(set->status));
		r->temporary = route_temporary(set->status);
	} else if (r->naddrs == 0) {
		r->error = xasprintf("no MX host of %s has an %saddress",
		    r->name, q->family == AF_INET ? "IPv4 " :
		    q->family == AF_INET6 ? "IPv6 " : "");
		r->temporary = route_temporary(set->status);
	}
	dns_mxset_free(set);
	route_done(q);
}

/*
 * The hosts file, read once per process (the first host name asked
 * for) and kept as lines: a file read on every lookup would be a
 * blocking call on the loop for each target of a batch.
 */
static char	**hosts_lines;
static size_t	  hosts_n;
static int	  hosts_read;

static void
route_hosts_load(void)
{
	FILE	*fp;
	char	 line[1024], *p;

	hosts_read = 1;
	if ((fp = fopen("/etc/hosts", "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL && hosts_n < 100000) {
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		if (line[strspn(line, " \t")] == '\0')
			continue;
		hosts_lines = xreallocarray(hosts_lines, hosts_n + 1,
		    sizeof(char *));
		hosts_lines[hosts_n++] = xstrdup(line);
	}
	fclose(fp);
}

/*
 * route_hosts - the addresses of name in /etc/hosts, as the system
 * resolver would give them before DNS. Returns how many were added;
 * other gets the first address of the family not asked for (-4, -6),
 * or "".
 */
static size_t
route_hosts(struct route *r, const char *name, int family, char *other,
    size_t otherlen)
{
	char		 line[1024], *p, *tok, *ip;
	struct dns_addr	 a;
	size_t		 i, n = 0;

	other[0] = '\0';

	if (!hosts_read)
		route_hosts_load();
	for (i = 0; i < hosts_n; i++) {
		snprintf(line, sizeof(line), "%s", hosts_lines[i]);
		if ((ip = strtok_r(line, " \t", &p)) == NULL)
			continue;
		while ((tok = strtok_r(NULL, " \t", &p)) != NULL) {
			if (strcasecmp(tok, name) != 0)
				continue;
			memset(&a, 0, sizeof(a));
			a.family = strchr(ip, ':') != NULL ? AF_INET6 :
			    AF_INET;
			if (inet_pton(a.family, ip, a.addr) != 1)
				break;
			if (family != 0 && family != a.family) {
				if (other[0] == '\0')
					snprintf(other, otherlen, "%s", ip);
				break;
			}
			inet_ntop(a.family, a.addr, a.text, sizeof(a.text));
			route_add(r, name, -1, &a);
			route_note(r, "/etc/hosts: %s is %s", name, a.text);
			n++;
			break;
		}
	}
	return n;
}

struct route_req *
route_start(struct event_base *base, struct dns_ctx *dns, const char *name,
    int by_mx, int family, route_cb cb, void *arg)
{
	struct route_req *q = xcalloc(1, sizeof(*q));
	struct route	*r = xcalloc(1, sizeof(*r));
	struct dns_addr	 a;
	char		 other[INET6_ADDRSTRLEN];

	q->base = base;
	q->dns = dns;
	q->r = r;
	q->family = family;
	q->cb = cb;
	q->arg = arg;
	r->name = xstrdup(name);
	r->by_mx = by_mx;
	r->ad = 1;
	if (!by_mx && route_literal(name)) {
		memset(&a, 0, sizeof(a));
		a.family = strchr(name, ':') != NULL ? AF_INET6 : AF_INET;
		inet_pton(a.family, name, a.addr);
		inet_ntop(a.family, a.addr, a.text, sizeof(a.text));
		r->ad = 0;
		if (family != 0 && family != a.family)
			r->error = xasprintf("%s is an IPv%d address, and "
			    "-%d asks for IPv%d", name, a.family == AF_INET ?
			    4 : 6, family == AF_INET ? 4 : 6, family ==
			    AF_INET ? 4 : 6);
		else
			route_add(r, name, -1, &a);
		q->later = io_after(base, 0, route_literal_cb, q);
		return q;
	}
	if (!by_mx && route_hosts(r, name, family, other, sizeof(other)) > 0) {
		r->ad = 0;
		q->later = io_after(base, 0, route_literal_cb, q);
		return q;
	}
	if (!by_mx && other[0] != '\0') {
		/* the name is a local one: DNS would only say NXDOMAIN */
		r->ad = 0;
		r->error = xasprintf("%s is in /etc/hosts only as IPv%d "
		    "address %s, and -%d asks for IPv%d", name,
		    family == AF_INET ? 6 : 4, other, family == AF_INET ? 4 :
		    6, family == AF_INET ? 4 : 6);
		q->later = io_after(base, 0, route_literal_cb, q);
		return q;
	}
	if (by_mx) {
		route_note(r, "looking up the MX of %s", name);
		q->mxq = dns_mx_resolve(dns, name, route_mx_cb, q);
		return q;
	}
	if (family != AF_INET6) {
		q->pending++;
		q->q[0] = dns_query(dns, name, DNS_T_A, route_addr_cb, q);
	}
	if (family != AF_INET) {
		q->pending++;
		q->q[1] = dns_query(dns, name, DNS_T_AAAA, route_addr_cb, q);
	}
	return q;
}

void
route_cancel(struct route_req *q)
{
	if (q == NULL)
		return;
	if (q->q[0] != NULL)
		dns_cancel(q->q[0]);
	if (q->q[1] != NULL)
		dns_cancel(q->q[1]);
	if (q->mxq != NULL)
		dns_mx_cancel(q->mxq);
	io_after_free(q->later);
	route_free(q->r);
	free(q->found[0]);
	free(q->found[1]);
	free(q->why);
	free(q);
}

socklen_t
route_sockaddr(const struct route_addr *ra, const char *port,
    struct sockaddr_storage *ss)
{
	uint16_t	 pn = (uint16_t)strtol(port, NULL, 10);

	memset(ss, 0, sizeof(*ss));
	if (ra->addr.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, ra->addr.addr, 4);
		sin->sin_port = htons(pn);
		return sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, ra->addr.addr, 16);
		sin6->sin6_port = htons(pn);
		return sizeof(*sin6);
	}
}

static void
route_sync_cb(struct route *r, void *arg)
{
	*(struct route **)arg = r;
}

struct route *
route_resolve(struct event_base *base, const char *resolver,
    const char *name, int by_mx, int family, long timeout_ms)
{
	struct dns_params p = { resolver, NULL, 0, 0 };
	struct dns_ctx	*dns = NULL;
	struct route	*r = NULL;
	char		 err[256];

	if (timeout_ms > 0) {
		p.timeout_ms = timeout_ms / 2 > 0 ? timeout_ms / 2 : 1;
		p.attempts = 2;
	}
	if (!route_literal(name) && (dns = dns_ctx_new(base, &p, err,
	    sizeof(err))) == NULL) {
		r = xcalloc(1, sizeof(*r));
		r->name = xstrdup(name);
		r->by_mx = by_mx;
		r->error = xstrdup(err);
		return r;
	}
	route_start(base, dns, name, by_mx, family, route_sync_cb, &r);
	while (r == NULL)
		if (event_base_loop(base, EVLOOP_ONCE) == -1)
			fatalx("event loop failed");
	dns_ctx_free(dns);
	return r;
}

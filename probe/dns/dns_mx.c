/*
 * dns_mx.c - MX resolution on dns.c: the MX records of a domain (null
 * MX and the implicit MX included), then the addresses of every host,
 * ordered by preference with ties shuffled (see include/dns.h; shared
 * state in dns_int.h).
 *
 * Invariant: a resolution is on ctx->mxqs from dns_mx_resolve() until
 * it is delivered or cancelled; pending counts the address lookups
 * still in flight. */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "dns_int.h"
#include "log.h"
#include "util.h"

static void	dns_mx_on_mx(const struct dns_result *, void *);
static void	dns_mx_on_addr(const struct dns_result *, void *);
static void	dns_mx_finish(struct dns_mxq *);
static void	dns_mx_free(struct dns_mxq *);
static void	dns_mx_note(struct dns_mxset *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

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

/*
 * batch_dns.c - names of a batch resolved through route.h, at most
 * dns_max at once, each name once however many targets use it; a
 * resolved target becomes its jobs (one address, or every address with
 * --all-mx), queued at their destinations.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "batch_int.h"
#include "log.h"
#include "record.h"
#include "report.h"
#include "util.h"
#include "valid.h"

static uint64_t	 bdns_hash(const char *name, int by_mx);
static struct bt_name	 *bdns_find(struct batch *b, const char *name,
	    int by_mx);
static struct bt_name	 *bdns_new(struct batch *b, const char *name,
	    int by_mx);
static void	 bdns_done(struct route *r, void *arg);
static size_t	 bdns_first(const struct route *r);
static void	 bdns_resolved(struct batch *b, struct bt_target *t);

/* bdns_hash - the hash of a name and how it is looked up */
static uint64_t
bdns_hash(const char *name, int by_mx)
{
	return batch_hash((uint64_t)by_mx, name, strlen(name));
}

/* bdns_find - the entry of name, or NULL */
static struct bt_name *
bdns_find(struct batch *b, const char *name, int by_mx)
{
	struct bt_name	*n;

	if (b->ncap == 0)
		return NULL;
	for (n = b->ntab[bdns_hash(name, by_mx) & (b->ncap - 1)];
	    n != NULL; n = n->next)
		if (n->by_mx == by_mx && strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

/* bdns_new - an entry for name, resolving it (or queued to) */
static struct bt_name *
bdns_new(struct batch *b, const char *name, int by_mx)
{
	struct bt_name	*n, *next, **old;
	size_t		 i, oldcap;

	if (b->nnames >= b->ncap) {
		old = b->ntab;
		oldcap = b->ncap;
		b->ncap = b->ncap == 0 ? 256 : b->ncap * 2;
		b->ntab = xcalloc(b->ncap, sizeof(*b->ntab));
		for (i = 0; i < oldcap; i++)
			for (n = old[i]; n != NULL; n = next) {
				size_t	 h = bdns_hash(n->name, n->by_mx) &
				    (b->ncap - 1);

				next = n->next;
				n->next = b->ntab[h];
				b->ntab[h] = n;
			}
		free(old);
	}
	n = xcalloc(1, sizeof(*n));
	n->b = b;
	n->name = xstrdup(name);
	n->by_mx = by_mx;
	TAILQ_INIT(&n->waiters);
	i = bdns_hash(name, by_mx) & (b->ncap - 1);
	n->next = b->ntab[i];
	b->ntab[i] = n;
	b->nnames++;
	return n;
}

/* bdns_unref - drop a reference; the last one frees the route */
void
bdns_unref(struct batch *b, struct bt_name *n)
{
	struct bt_name	**pp;

	if (--n->refs > 0 || n->req != NULL)
		return;
	for (pp = &b->ntab[bdns_hash(n->name, n->by_mx) & (b->ncap - 1)];
	    *pp != n; pp = &(*pp)->next)
		;
	*pp = n->next;
	b->nnames--;
	route_free(n->route);
	free(n->name);
	free(n);
}

/*
 * bdns_pump - hand waiting targets to their names: a name already
 * resolved (or being resolved) serves them at once; a new one takes a
 * slot of --dns-concurrency.
 */
void
bdns_pump(struct batch *b)
{
	struct bt_target	*t;
	struct bt_name		*n;
	int			 by_mx;

	while (!b->stopping && (t = TAILQ_FIRST(&b->dnsq)) != NULL) {
		by_mx = t->kind == BT_DOMAIN;
		if ((n = bdns_find(b, t->host, by_mx)) == NULL) {
			if (b->nresolving >= b->dns_max)
				break;
			n = bdns_new(b, t->host, by_mx);
			b->nresolving++;
			n->refs++;	/* the request's own */
			n->req = route_start(b->base, b->dns, t->host, by_mx,
			    b->o.family, bdns_done, n);
		}
		TAILQ_REMOVE(&b->dnsq, t, dq);
		n->refs++;
		t->name = n;
		if (n->route == NULL)
			TAILQ_INSERT_TAIL(&n->waiters, t, dq);
		else
			bdns_resolved(b, t);
	}
}

/* bdns_done - a name is resolved: its waiting targets become jobs */
static void
bdns_done(struct route *r, void *arg)
{
	struct bt_name	*n = arg;
	struct batch	*b = n->b;
	struct bt_target *t;

	n->req = NULL;
	n->route = r;
	b->nresolving--;
	log_debug("batch: %s resolved: %zu addresses%s%s", r->name,
	    r->naddrs, r->error != NULL ? ", " : "",
	    r->error != NULL ? r->error : "");
	n->refs++;	/* held while the waiters are served */
	while ((t = TAILQ_FIRST(&n->waiters)) != NULL) {
		TAILQ_REMOVE(&n->waiters, t, dq);
		bdns_resolved(b, t);
	}
	n->refs--;		/* the request's: the hold keeps n */
	bdns_unref(b, n);	/* the hold: may free n */
	bdns_pump(b);
	bsched_pump(b);
}

/*
 * bdns_first - the address probed without --all-mx: of the most preferred
 * MX hosts (or of the host), IPv4 before IPv6, the lowest address. Not
 * simply the first of the route: resolvers rotate the addresses of a
 * name and the order of equal MX preferences is random, and every shard
 * must pick the same address for --shard to split by destination.
 */
static size_t
bdns_first(const struct route *r)
{
	const struct route_addr	*a, *best = &r->addrs[0];
	size_t			 i, k = 0;

	for (i = 1; i < r->naddrs; i++) {
		a = &r->addrs[i];
		if (a->pref != best->pref)
			break;
		if (a->addr.family != best->addr.family ?
		    a->addr.family == AF_INET :
		    memcmp(a->addr.addr, best->addr.addr,
		    a->addr.family == AF_INET6 ? 16 : 4) < 0) {
			best = a;
			k = i;
		}
	}
	return k;
}

/*
 * bdns_resolved - t's name is resolved: pick the address (bdns_first(), or
 * with --all-mx every address) in this shard and not done before, then
 * report the blocklisted ones and queue the others. A name without an
 * address runs a session anyway: the engine records the DNS failure.
 */
static void
bdns_resolved(struct batch *b, struct bt_target *t)
{
	struct bt_name	*n = t->name;
	struct route	*r = n->route;
	struct bt_job	*j;
	const char	*why;
	char		 key[96], net[80], *msg;
	size_t		 i, k, count, *pick, npick = 0, nshard = 0;

	t->name = NULL;
	if (r->naddrs == 0) {
		if (!b->o.shard_by_name && !bselect_mine(b, t->host)) {
			b->nother++;
			bout_target_dropped(b, t);
		} else {
			t->pending = 1;
			bsess_start(b, bsched_job_new(t, NULL, n, NULL, 0, 0));
		}
		bdns_unref(b, n);
		return;
	}
	count = b->o.all_mx ? r->naddrs : 1;
	pick = xcalloc(count, sizeof(*pick));
	for (i = 0; i < count; i++) {
		k = b->o.all_mx ? i : bdns_first(r);
		if (!b->o.shard_by_name &&
		    !bselect_mine(b, r->addrs[k].addr.text)) {
			nshard++;
			continue;
		}
		if (b->o.all_mx) {
			snprintf(key, sizeof(key), "%zu/%s", t->index,
			    r->addrs[k].addr.text);
			if (bselect_set_has(&b->done_keys, key))
				continue;
		}
		pick[npick++] = k;
	}
	if (npick == 0) {
		/* every address is another shard's, or done before */
		if (nshard > 0)
			b->nother++;
		else
			b->nresumed++;
		bout_target_dropped(b, t);
	}
	t->pending = (unsigned)npick;
	for (i = 0; i < npick; i++) {
		const struct route_addr *ra = &r->addrs[pick[i]];

		j = bsched_job_new(t, bsched_dest_get(b, &ra->addr), n, ra,
		    b->o.all_mx ? (int)pick[i] : 0, b->o.all_mx ? (int)count : 0);
		if ((why = bselect_blocked_name(b, ra->host)) != NULL ||
		    (why = bselect_blocked_addr(b, &ra->addr, net,
		    sizeof(net))) != NULL) {
			msg = xasprintf("blocklisted: %s", why);
			bout_report(b, t, j, ST_BLOCKLISTED, -1, NULL, NULL, NULL,
			    msg, NULL, NULL);
			free(msg);
			bout_job_reported(b, j);
			bsched_job_free(b, j);
			continue;
		}
		bsched_enqueue(b, j);
	}
	free(pick);
	bdns_unref(b, n);
}

/*
 * batch_sched.c - admission of sessions (see batch.c's header comment).
 * A destination (one IP address) is on the ready list while it has
 * jobs waiting, fewer than --per-ip sessions running and its last
 * connection started at least --per-ip-gap ago; bsched_pump() admits
 * from the head of that list while fewer than cap sessions run and the
 * --rate bucket has a token, and hands each job to b->start.
 *
 * Time comes from b->now (bsched_clock(): util_now_us()), so that
 * tests/unit/t_sched.c checks caps, gaps and the rate on a fake clock,
 * without sleeping and without sockets: it calls the timer callbacks
 * itself once it has moved the clock.
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

static uint64_t	 bsched_addr_hash(const struct dns_addr *a);
static int	 bsched_rate_take(struct batch *b);

/* bsched_clock - the clock of a real run: monotonic, microseconds */
int64_t
bsched_clock(void *arg)
{
	(void)arg;
	return util_now_us();
}

/* bsched_addr_hash - the hash of a destination address */
static uint64_t
bsched_addr_hash(const struct dns_addr *a)
{
	return batch_hash((uint64_t)a->family, (const char *)a->addr,
	    a->family == AF_INET6 ? 16 : 4);
}

/* bsched_dest_get - the destination of address a, created on first use */
struct bt_dest *
bsched_dest_get(struct batch *b, const struct dns_addr *a)
{
	struct bt_dest	*d, *next, **old;
	size_t		 i, oldcap, nb = a->family == AF_INET6 ? 16 : 4;

	if (b->dcap > 0)
		for (d = b->dtab[bsched_addr_hash(a) & (b->dcap - 1)]; d != NULL;
		    d = d->next)
			if (d->a.family == a->family &&
			    memcmp(d->a.addr, a->addr, nb) == 0)
				return d;
	if (b->ndest >= b->dcap) {
		old = b->dtab;
		oldcap = b->dcap;
		b->dcap = b->dcap == 0 ? 256 : b->dcap * 2;
		b->dtab = xcalloc(b->dcap, sizeof(*b->dtab));
		for (i = 0; i < oldcap; i++)
			for (d = old[i]; d != NULL; d = next) {
				next = d->next;
				d->next = b->dtab[bsched_addr_hash(&d->a) &
				    (b->dcap - 1)];
				b->dtab[bsched_addr_hash(&d->a) & (b->dcap - 1)] =
				    d;
			}
		free(old);
	}
	d = xcalloc(1, sizeof(*d));
	d->b = b;
	d->a = *a;
	d->state = D_IDLE;
	TAILQ_INIT(&d->wait);
	i = bsched_addr_hash(a) & (b->dcap - 1);
	d->next = b->dtab[i];
	b->dtab[i] = d;
	b->ndest++;
	return d;
}

/*
 * bsched_dest_check - put d on the ready list when it may take one more
 * session now, or arm its gap timer when it may later. A destination
 * at its --per-ip cap waits for one of its sessions to be reaped.
 */
void
bsched_dest_check(struct batch *b, struct bt_dest *d)
{
	struct timeval	 tv;
	int64_t		 now, due;

	if (d->state != D_IDLE || d->nwait == 0 ||
	    d->active >= (unsigned)b->o.per_ip || b->stopping)
		return;
	now = b->now(b->now_arg);
	due = d->last_us + (int64_t)b->o.gap_ms * 1000;
	if (d->last_us == 0 || due <= now) {
		TAILQ_INSERT_TAIL(&b->ready, d, ready);
		d->state = D_READY;
		return;
	}
	if (d->gap == NULL && (d->gap = evtimer_new(b->base, bsched_gap_cb,
	    d)) == NULL)
		fatalx("evtimer_new failed");
	tv.tv_sec = (time_t)((due - now) / 1000000);
	tv.tv_usec = (suseconds_t)((due - now) % 1000000);
	evtimer_add(d->gap, &tv);
	d->state = D_TIMER;
}

/* bsched_gap_cb - the gap of a destination is over */
void
bsched_gap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bt_dest	*d = arg;

	d->state = D_IDLE;
	bsched_dest_check(d->b, d);
	bsched_pump(d->b);
}

/* bsched_job_new - a job for target t at destination d (or none) */
struct bt_job *
bsched_job_new(struct bt_target *t, struct bt_dest *d, struct bt_name *n,
    const struct route_addr *ra, int mx_index, int mx_count)
{
	struct bt_job	*j = xcalloc(1, sizeof(*j));

	j->t = t;
	j->dest = d;
	j->ra = ra;
	j->name = n;
	if (n != NULL)
		n->refs++;
	j->mx_index = mx_index;
	j->mx_count = mx_count;
	return j;
}

/* bsched_job_free - free a job, releasing its name */
void
bsched_job_free(struct batch *b, struct bt_job *j)
{
	if (j == NULL)
		return;
	if (j->name != NULL)
		bdns_unref(b, j->name);
	free(j);
}

/* bsched_enqueue - a job waits on its destination */
void
bsched_enqueue(struct batch *b, struct bt_job *j)
{
	struct bt_dest	*d = j->dest;

	TAILQ_INSERT_TAIL(&d->wait, j, q);
	d->nwait++;
	bsched_dest_check(b, d);
}

/* bsched_rate_take - a token of the --rate bucket, or arm its timer */
static int
bsched_rate_take(struct batch *b)
{
	struct timeval	 tv;
	int64_t		 now, wait;

	if (b->o.rate <= 0)
		return 1;
	now = b->now(b->now_arg);
	b->tokens += (double)(now - b->tok_us) * b->o.rate / 1e6;
	if (b->tokens > b->burst)
		b->tokens = b->burst;
	b->tok_us = now;
	if (b->tokens >= 1) {
		b->tokens -= 1;
		return 1;
	}
	if (!evtimer_pending(b->rate_ev, NULL)) {
		wait = (int64_t)((1 - b->tokens) * 1e6 / b->o.rate) + 1;
		tv.tv_sec = (time_t)(wait / 1000000);
		tv.tv_usec = (suseconds_t)(wait % 1000000);
		evtimer_add(b->rate_ev, &tv);
	}
	return 0;
}

/* bsched_rate_cb - the --rate bucket has a token again */
void
bsched_rate_cb(evutil_socket_t fd, short what, void *arg)
{
	bsched_pump(arg);
}

/* bsched_release - a session (to d, or to no address) is over */
void
bsched_release(struct batch *b, struct bt_dest *d)
{
	b->nactive--;
	if (d != NULL) {
		d->active--;
		bsched_dest_check(b, d);
	}
}

/*
 * bsched_pump - admit sessions: the destination at the head of the ready
 * list gives its oldest job, while the global cap and the rate allow.
 */
void
bsched_pump(struct batch *b)
{
	struct bt_dest	*d;
	struct bt_job	*j;

	while (!b->stopping && b->nactive < b->cap &&
	    (d = TAILQ_FIRST(&b->ready)) != NULL) {
		if (!bsched_rate_take(b))
			break;
		TAILQ_REMOVE(&b->ready, d, ready);
		d->state = D_IDLE;
		j = TAILQ_FIRST(&d->wait);
		TAILQ_REMOVE(&d->wait, j, q);
		d->nwait--;
		d->active++;
		d->last_us = b->now(b->now_arg);
		bsched_dest_check(b, d);
		b->start(b, j);
	}
}

/* bsched_dests_free - every destination, with the jobs still waiting */
void
bsched_dests_free(struct batch *b)
{
	struct bt_dest	*d, *dn;
	struct bt_job	*j;
	size_t		 i;

	for (i = 0; i < b->dcap; i++)
		for (d = b->dtab[i]; d != NULL; d = dn) {
			dn = d->next;
			while ((j = TAILQ_FIRST(&d->wait)) != NULL) {
				TAILQ_REMOVE(&d->wait, j, q);
				bsched_job_free(b, j);
			}
			if (d->gap != NULL)
				event_free(d->gap);
			free(d);
		}
	free(b->dtab);
	b->dtab = NULL;
}

/*
 * t_sched.c - unit tests of batch admission (probe/cmd/batch_sched.c) on a
 * fake clock, with no socket and no sleep: the per-IP cap, the global
 * cap, the per-IP gap and the --rate bucket. The timers the scheduler
 * arms are never dispatched: the test moves the clock and calls their
 * callbacks itself, as the loop would once they are due. And batch's
 * stage timeouts, read from the engine's stage table, are the ones its
 * --help gives.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "batch_int.h"
#include "tap.h"

#define NT	16

static int64_t		 clock_us;
static struct bt_target	 targets[NT];
static struct bt_job	*started[NT * 2];
static size_t		 nstarted;

/* fake_now - the test's clock */
static int64_t
fake_now(void *arg)
{
	(void)arg;
	return clock_us;
}

/* fake_start - an admitted job "runs": remembered, counted */
static void
fake_start(struct batch *b, struct bt_job *j)
{
	if (++b->nactive > b->peak_active)
		b->peak_active = b->nactive;
	started[nstarted++] = j;
}

/* addr - 127.0.0.N */
static struct dns_addr
addr(int n)
{
	struct dns_addr	 a;

	memset(&a, 0, sizeof(a));
	a.family = AF_INET;
	snprintf(a.text, sizeof(a.text), "127.0.0.%d", n);
	inet_pton(AF_INET, a.text, a.addr);
	return a;
}

/* setup - a fresh run: per-IP cap, gap (ms), global cap, rate/s */
static void
setup(struct batch *b, long per_ip, long gap_ms, size_t cap, double rate)
{
	memset(b, 0, sizeof(*b));
	TAILQ_INIT(&b->ready);
	TAILQ_INIT(&b->active);
	if ((b->base = event_base_new()) == NULL ||
	    (b->rate_ev = evtimer_new(b->base, bsched_rate_cb, b)) == NULL)
		abort();
	b->now = fake_now;
	b->start = fake_start;
	b->o.per_ip = per_ip;
	b->o.gap_ms = gap_ms;
	b->o.rate = rate;
	b->cap = cap;
	if (rate > 0) {		/* as batch.c sets the bucket up */
		b->burst = rate / 20 > 1 ? rate / 20 : 1;
		b->tokens = 1;
		b->tok_us = clock_us;
	}
	nstarted = 0;
}

/* job - one more job for destination 127.0.0.n */
static struct bt_dest *
job(struct batch *b, int n)
{
	struct dns_addr	 a = addr(n);
	struct bt_dest	*d = bsched_dest_get(b, &a);

	bsched_enqueue(b, bsched_job_new(&targets[n % NT], d, NULL, NULL, 0,
	    0));
	return d;
}

/* end - the started job k is over, as the reap timer would say */
static void
end(struct batch *b, size_t k)
{
	bsched_release(b, started[k]->dest);
	bsched_pump(b);
}

/* teardown - free jobs, destinations, timers and the base */
static void
teardown(struct batch *b)
{
	size_t		 i;

	for (i = 0; i < nstarted; i++)
		bsched_job_free(b, started[i]);
	bsched_dests_free(b);
	event_free(b->rate_ev);
	event_base_free(b->base);
}

int
main(void)
{
	struct batch	 b;
	struct bt_dest	*a, *d;
	int		 i, bad;

	clock_us = 1000000;

	/* per-IP cap 1: one session per address, the next when it ends */
	setup(&b, 1, 0, 100, 0);
	a = job(&b, 1);
	job(&b, 1);
	job(&b, 1);
	job(&b, 2);
	job(&b, 2);
	bsched_pump(&b);
	ok(nstarted == 2 && started[0]->dest == a && started[1]->dest != a &&
	    a->active == 1 && a->nwait == 2, "per-ip 1: one session per "
	    "address at once");
	end(&b, 0);
	ok(nstarted == 3 && started[2]->dest == a && a->nwait == 1,
	    "per-ip 1: the address's next job starts when its session ends");
	teardown(&b);

	/* per-IP cap 2 */
	setup(&b, 2, 0, 100, 0);
	for (i = 0; i < 5; i++)
		a = job(&b, 1);
	bsched_pump(&b);
	ok(nstarted == 2 && a->active == 2, "per-ip 2: two at once");
	teardown(&b);

	/* the global cap */
	setup(&b, 1, 0, 3, 0);
	for (i = 1; i <= 8; i++)
		job(&b, i);
	bsched_pump(&b);
	ok(nstarted == 3 && b.nactive == 3, "global cap 3: three sessions of "
	    "eight destinations");
	end(&b, 1);
	ok(nstarted == 4 && b.nactive == 3, "global cap: one ends, one more "
	    "starts");
	for (i = 0; i < 4; i++)
		end(&b, (size_t)i == 1 ? 0 : (size_t)i);
	ok(b.peak_active == 3, "global cap: never more than 3 at once");
	teardown(&b);

	/* the per-IP gap: 2 s between two connections to one address */
	setup(&b, 2, 2000, 100, 0);
	a = job(&b, 1);
	job(&b, 1);
	d = job(&b, 2);
	bsched_pump(&b);
	ok(nstarted == 2 && a->state == D_TIMER && evtimer_pending(a->gap,
	    NULL) && d->nwait == 0, "gap: the second job to an address "
	    "waits on its timer, another address does not");
	clock_us += 1999000;
	bsched_gap_cb(-1, 0, a);
	ok(nstarted == 2 && a->state == D_TIMER, "gap: not at 1.999 s");
	clock_us += 1000;
	bsched_gap_cb(-1, 0, a);
	ok(nstarted == 3 && started[2]->dest == a && a->last_us == clock_us,
	    "gap: at 2 s");
	teardown(&b);

	/* --rate 10/s: burst 1, then one every 100 ms */
	setup(&b, 1, 0, 100, 10);
	for (i = 1; i <= 10; i++)
		job(&b, i);
	bsched_pump(&b);
	ok(nstarted == 1 && evtimer_pending(b.rate_ev, NULL),
	    "rate 10/s: one at once, the rest wait for the bucket");
	clock_us += 50000;
	bsched_rate_cb(-1, 0, &b);
	ok(nstarted == 1, "rate 10/s: none after 50 ms");
	clock_us += 50000;
	bsched_rate_cb(-1, 0, &b);
	ok(nstarted == 2, "rate 10/s: the second at 100 ms");
	clock_us += 10000000;
	bsched_rate_cb(-1, 0, &b);
	ok(nstarted == 3, "rate 10/s: the bucket holds one token, not ten "
	    "seconds' worth");
	teardown(&b);

	/* --rate 100/s: a burst of 5 after a pause */
	setup(&b, 1, 0, 100, 100);
	for (i = 1; i <= 12; i++)
		job(&b, i);
	bsched_pump(&b);
	ok(nstarted == 1, "rate 100/s: one at the start");
	clock_us += 1000000;
	bsched_rate_cb(-1, 0, &b);
	ok(nstarted == 6, "rate 100/s: a burst of 5 after a second");
	clock_us += 30000;
	bsched_rate_cb(-1, 0, &b);
	ok(nstarted == 9, "rate 100/s: 3 more in 30 ms");
	teardown(&b);

	/* batch's stage timeouts, from the stage table, as --help says */
	bad = 0;
	for (i = 0; i < STAGE__COUNT; i++) {
		long want = i == STAGE_CONNECT || i == STAGE_QUIT ? 10000 :
		    i == STAGE_EOD ? 60000 : i == STAGE_RESOLVE ||
		    i == STAGE_SLEEP || i == STAGE_DONE ? 0 : 30000;

		bad += stage_timeout_bulk((enum smtp_stage)i) != want;
	}
	ok(bad == 0, "batch timeouts: connect 10, quit 10, eod 60, others "
	    "30 (batch --help)");

	/* stopping admits nothing */
	setup(&b, 1, 0, 100, 0);
	b.stopping = 1;
	job(&b, 1);
	bsched_pump(&b);
	ok(nstarted == 0, "stopping: nothing admitted");
	teardown(&b);
	return tap_done();
}

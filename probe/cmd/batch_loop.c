/*
 * batch_loop.c - the run's life on the loop: SIGTERM and SIGINT stop
 * admission and give sessions under way --drain-timeout to end (a
 * second signal, or the timer, abandons them as "interrupted"), the
 * progress line, and the summary on stderr.
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

static void	 bloop_abandon(struct batch *b);

/* bloop_stop_now - stop everything at once (output error) */
void
bloop_stop_now(struct batch *b)
{
	b->stopping = 1;
	if (b->base != NULL)
		event_base_loopbreak(b->base);
}

/*
 * bloop_abandon - end every session under way without waiting, each with
 * an "interrupted" record. Called from the loop, never from inside a
 * session's callback.
 */
static void
bloop_abandon(struct batch *b)
{
	struct bt_sess		*s;
	const struct record	*r;
	char			 ended[32], *msg;
	size_t			 n;

	while ((s = TAILQ_FIRST(&b->active)) != NULL) {
		TAILQ_REMOVE(&b->active, s, entry);
		n = s->x != NULL ? scn_exec_nrecords(s->x) : 0;
		r = n > 0 ? scn_exec_record(s->x, n - 1) : NULL;
		msg = xasprintf("interrupted%s%s", r != NULL && r->nsteps > 0 ?
		    " during " : "", r != NULL && r->nsteps > 0 ?
		    stage_name(r->steps[r->nsteps - 1].stage) : "");
		util_utc_iso(ended, sizeof(ended));
		bout_report(b, s->job->t, s->job, ST_INTERRUPTED, -1, NULL,
		    n > 0 ? scn_exec_record(s->x, 0)->started : NULL, ended, msg,
		    NULL, NULL);
		free(msg);
		b->nactive--;
		bout_job_reported(b, s->job);
		bsess_free(b, s);
	}
	event_base_loopbreak(b->base);
}

/*
 * bloop_signal_cb - SIGTERM or SIGINT: admit nothing more, stop DNS, let
 * the sessions under way end within --drain-timeout. A second signal
 * abandons them at once.
 */
void
bloop_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct batch	*b = arg;
	struct bt_name	*n;
	struct bt_target *t;
	struct timeval	 tv;
	size_t		 i;

	if (b->stopping) {
		log_warnx("batch: signal %d again: abandoning %zu sessions",
		    (int)sig, b->nactive);
		bloop_abandon(b);
		return;
	}
	b->stopping = 1;
	b->interrupted = 1;
	if (b->progress)
		fputc('\n', stderr);
	log_warnx("batch: signal %d: no new sessions; waiting up to %.3g s "
	    "for %zu under way", (int)sig, (double)b->o.drain_ms / 1000,
	    b->nactive);
	/* names being resolved: cancel; their targets stay unreported */
	for (i = 0; i < b->ncap; i++)
		for (n = b->ntab[i]; n != NULL; n = n->next) {
			if (n->req == NULL)
				continue;
			route_cancel(n->req);
			n->req = NULL;
			b->nresolving--;
			while ((t = TAILQ_FIRST(&n->waiters)) != NULL) {
				TAILQ_REMOVE(&n->waiters, t, dq);
				t->name = NULL;
				n->refs--;
			}
			n->refs--;	/* the request's */
		}
	if (b->nactive == 0) {
		event_base_loopbreak(b->base);
		return;
	}
	tv.tv_sec = b->o.drain_ms / 1000;
	tv.tv_usec = (b->o.drain_ms % 1000) * 1000;
	evtimer_add(b->drain_ev, &tv);
}

/* bloop_drain_cb - --drain-timeout is over: abandon what still runs */
void
bloop_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct batch	*b = arg;

	log_warnx("batch: --drain-timeout: abandoning %zu sessions",
	    b->nactive);
	bloop_abandon(b);
}

/* bloop_progress_cb - once a second: the progress line */
void
bloop_progress_cb(evutil_socket_t fd, short what, void *arg)
{
	bloop_progress(arg, 0);
}

/* bloop_progress - "done/total, rate, errors, ETA" on one terminal line */
void
bloop_progress(struct batch *b, int final)
{
	double	 el = (double)(util_now_us() - b->t0) / 1e6;
	double	 rate = el > 0 ? (double)b->ndone / el : 0;
	size_t	 errs = 0, left = b->nselected - b->ndone;
	long	 eta;
	int	 i;

	for (i = ST_TIMEOUT; i <= ST_ERROR; i++)
		errs += b->count[i];
	eta = rate > 0 ? (long)((double)left / rate + 0.5) : -1;
	fprintf(stderr, "\r\033[K%zu/%zu done, %.0f/s, %zu active, %zu "
	    "errors", b->ndone, b->nselected, rate, b->nactive, errs);
	if (!final && eta >= 0)
		fprintf(stderr, ", ETA %ld:%02ld:%02ld", eta / 3600,
		    eta / 60 % 60, eta % 60);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

/* bloop_summary - the run in one paragraph on stderr */
void
bloop_summary(struct batch *b, double wall, int rc)
{
	int	 i, first = 1;

	fprintf(stderr, "smtprobe batch: %zu of %zu targets reported in "
	    "%.2f s (%.0f/s)%s\n ", b->ndone, b->nselected, wall,
	    wall > 0 ? (double)b->ndone / wall : 0,
	    rc == BATCH_EXIT_INTERRUPTED ? ", interrupted" :
	    rc == BATCH_EXIT_OUTPUT ? ", output error" : "");
	for (i = 0; i < ST__COUNT; i++) {
		if (b->count[i] == 0)
			continue;
		fprintf(stderr, "%s %s %zu", first ? "" : ",",
		    bt_status_names[i], b->count[i]);
		first = 0;
	}
	if (first)
		fprintf(stderr, " no records");
	fprintf(stderr, "\n  concurrency cap %zu (fd limit %zu, peak %zu), "
	    "%ld per IP, gap %.3g s, rate ", b->cap, b->fd_limit,
	    b->peak_active, b->o.per_ip, (double)b->o.gap_ms / 1000);
	if (b->o.rate > 0)
		fprintf(stderr, "%.3g/s\n", b->o.rate);
	else
		fprintf(stderr, "unlimited\n");
	if (b->nresumed > 0 || b->nother > 0 || b->shard_n > 1)
		fprintf(stderr, "  skipped: %zu done before (--resume), %zu "
		    "of other shards (shard %lu of %lu)\n", b->nresumed,
		    b->nother, b->shard_i, b->shard_n);
	if (b->outstanding > 0)
		fprintf(stderr, "  not reported: %zu (run again with --resume "
		    "to finish)\n", b->outstanding);
}

/* bloop_start - the run's timers, signals and progress line */
void
bloop_start(struct batch *b)
{
	struct timeval	 sec = { 1, 0 };

	if ((b->reap_ev = evtimer_new(b->base, bsess_reap_cb, b)) == NULL ||
	    (b->rate_ev = evtimer_new(b->base, bsched_rate_cb, b)) == NULL ||
	    (b->drain_ev = evtimer_new(b->base, bloop_drain_cb, b)) == NULL ||
	    (b->sig_ev[0] = evsignal_new(b->base, SIGTERM, bloop_signal_cb,
	    b)) == NULL || (b->sig_ev[1] = evsignal_new(b->base, SIGINT,
	    bloop_signal_cb, b)) == NULL)
		fatalx("cannot create events");
	evsignal_add(b->sig_ev[0], NULL);
	evsignal_add(b->sig_ev[1], NULL);
	b->progress = !b->o.quiet && (b->o.progress || isatty(STDERR_FILENO));
	if (b->progress) {
		if ((b->progress_ev = event_new(b->base, -1, EV_PERSIST,
		    bloop_progress_cb, b)) == NULL)
			fatalx("cannot create events");
		evtimer_add(b->progress_ev, &sec);
	}
}

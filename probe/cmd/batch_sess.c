/*
 * batch_sess.c - one session of a batch: the engine's parameters for a
 * job, the record's status from the session's failure kind (record.h,
 * never from its text), and the reaping of ended sessions in two
 * phases (see batch.c's header comment).
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
#include <netdb.h>
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
#include "check.h"
#include "jsonw.h"
#include "log.h"
#include "metrics.h"
#include "record.h"
#include "report.h"
#include "srvcheck.h"
#include "target.h"
#include "tlscheck.h"
#include "util.h"
#include "valid.h"
#include "verdict.h"

static struct scn	 *bsess_scn(struct batch *b, const struct bt_job *j,
	    int *own, char *err, size_t errlen);
static enum bt_status	 bsess_status(const struct record *r);
static enum bt_status	 bsess_classify(const struct scn_exec *x, int *code);
static void	 bsess_exec_done(struct scn_exec *x, void *arg);
static void	 bsess_tree_done(struct bt_sess *s, struct scn_exec *x,
		    enum bt_status st, int code, const char *ended);
static void	 bsess_tail(struct jw_buf *o, void *arg);
static void	 bsess_end(struct bt_sess *s);
static const char *bsess_domain(const struct batch *b,
	    const struct bt_target *t);
static void	 bsess_tls_done(struct target_tls *tt, void *arg);
static void	 bsess_run(struct bt_sess *s);
static int	 bsess_srv_start(struct bt_sess *s);
static void	 bsess_srv_done(struct check_result *r, void *arg);
static void	 bsess_srv_judge(struct bt_sess *s, struct scn_exec *x);

/* bsess_port - the port of target t: its own, or the run's */
uint16_t
bsess_port(const struct batch *b, const struct bt_target *t)
{
	return t->port != 0 ? t->port : b->port;
}

/*
 * bsess_scn - the scenario for job: the shared default probe, one built
 * for the target's own sender and recipients, or --scenario parsed with
 * the target's variables. *own says whether the caller frees it.
 */
static struct scn *
bsess_scn(struct batch *b, const struct bt_job *j, int *own, char *err,
    size_t errlen)
{
	const struct bt_target *t = j->t;
	struct scn_classic	 c;
	struct smtp_txn		 txn;
	struct scn_vars		 v;
	struct scn		*s;
	const char		*host;
	size_t			 i;

	*own = 0;
	if (b->scn_text != NULL) {
		if (b->scn_shared != NULL)
			return b->scn_shared;
		host = j->ra != NULL ? j->ra->host : t->host;
		if (b->scn_common != NULL && t->from == NULL && t->nto == 0 &&
		    strlen(host) <= BT_SERVER_MAX)
			return b->scn_common;
		/* the target's values, then --var (which wins); all locked */
		memset(&v, 0, sizeof(v));
		scn_vars_set(&v, "server", host);
		if (t->from != NULL || b->from != NULL)
			scn_vars_set(&v, "from", t->from != NULL ? t->from :
			    b->from);
		if (t->nto > 0 || b->nto > 0)
			scn_vars_set(&v, "to", t->nto > 0 ? t->to[0] :
			    b->to[0]);
		for (i = 0; i < b->vars.n; i++)
			scn_vars_set(&v, b->vars.name[i], b->vars.value[i]);
		v.nlocked = v.n;
		s = scn_parse(b->o.scenario, b->scn_text, b->scn_len, &v, err,
		    errlen);
		scn_vars_clear(&v);
		if (s != NULL && scn_check_inputs(s, err, errlen) == -1) {
			scn_free(s);
			s = NULL;
		}
		*own = s != NULL;
		return s;
	}
	if (t->from == NULL && t->nto == 0)
		return b->scn_default;
	memset(&txn, 0, sizeof(txn));
	txn.from = t->from != NULL ? t->from : b->from != NULL ? b->from : "";
	txn.rcpt = (const char **)(t->nto > 0 ? t->to : b->to);
	txn.nrcpt = t->nto > 0 ? t->nto : b->nto;
	memset(&c, 0, sizeof(c));
	c.tls_mode = b->o.tls_mode;
	c.auth_mech = -1;
	c.server_check = b->o.server_check;
	c.txn = &txn;
	c.ntxn = 1;
	*own = 1;
	return scn_classic(&c);
}

/*
 * bsess_domain - the mail domain of a job for --tls-check: the target's
 * when it is one, else the domain of its first recipient, or NULL
 */
static const char *
bsess_domain(const struct batch *b, const struct bt_target *t)
{
	const char	*rcpt, *at;

	if (t->kind == BT_DOMAIN)
		return t->host;
	rcpt = t->nto > 0 ? t->to[0] : b->nto > 0 ? b->to[0] : NULL;
	if (rcpt == NULL || (at = strrchr(rcpt, '@')) == NULL ||
	    at[1] == '\0')
		return NULL;
	return at + 1;
}

/*
 * bsess_start - job's session: its parameters now (target.h), then with
 * --dane its TLS pre-flight on the loop, then the session (bsess_run)
 */
void
bsess_start(struct batch *b, struct bt_job *j)
{
	struct bt_target	*t = j->t;
	struct bt_sess		*s;
	struct target_conn	 c;
	struct target_tls_params tp;
	struct route		*r = j->name != NULL ? j->name->route : NULL;
	const char		*host = j->ra != NULL ? j->ra->host : t->host;

	s = xcalloc(1, sizeof(*s));
	s->b = b;
	s->job = j;
	TAILQ_INSERT_TAIL(&b->active, s, entry);
	if (++b->nactive > b->peak_active)
		b->peak_active = b->nactive;
	snprintf(s->port, sizeof(s->port), "%u", bsess_port(b, t));
	memset(&c, 0, sizeof(c));
	c.port = s->port;
	c.helo = b->helo;
	c.tls_mode = b->o.tls_mode;
	c.tls_ctx = b->ctx;
	c.timeout_ms = b->timeout_ms;
	target_init(&s->tg, &c, r, host, j->ra != NULL ? j->ra->pref : -1,
	    j->dest != NULL ? &j->dest->a : NULL);
	/* a scan reports a domain's own DNS answer as status "dns" */
	s->tg.p.resolve_answer = 0;
	if (!b->o.dane) {
		bsess_run(s);
		return;
	}
	memset(&tp, 0, sizeof(tp));
	tp.base = b->base;
	tp.dns = b->dns;
	tp.port = s->port;
	tp.family = b->o.family;
	tp.tls_check = b->o.tls_check;
	tp.domain = bsess_domain(b, t);
	tp.cafile = b->o.cafile;
	tp.timeout_ms = b->timeout_ms[STAGE_CONNECT];
	s->tls = target_tls_new(&tp);
	target_tls_host(s->tls, host, j->dest != NULL);
	if (target_tls_start(s->tls, bsess_tls_done, s) == 0)
		bsess_run(s);
}

/* bsess_tls_done - the pre-flight of a session is done: run it */
static void
bsess_tls_done(struct target_tls *tt, void *arg)
{
	struct bt_sess	*s = arg;

	(void)tt;
	bsess_run(s);
}

/* bsess_run - the session of s, its parameters ready */
static void
bsess_run(struct bt_sess *s)
{
	struct batch	*b = s->b;
	struct bt_job	*j = s->job;
	struct scn	*scn;
	char		 err[512];
	int		 own;

	s->tg.p.dane = target_tls_dane(s->tls, s->tg.host);
	if ((scn = bsess_scn(b, j, &own, err, sizeof(err))) == NULL) {
		bout_report(b, j->t, j, ST_INVALID, -1, NULL, NULL, NULL, err,
		    NULL, NULL);
		bsess_end(s);
		bout_job_reported(b, j);
		return;
	}
	if (own)
		s->x = scn_exec_new_own(b->base, scn, &b->sp, bsess_exec_done,
		    s);
	else
		s->x = scn_exec_new(b->base, scn, &b->sp, bsess_exec_done, s);
	scn_exec_set_conn(s->x, &s->tg.p);
	scn_exec_start(s->x);
}

/*
 * bsess_status - the status of a session that ended in error, from the
 * failure kind the engine recorded (record.h) and the stage it failed
 * in, never from the error's text: no address (or a resolve step) is
 * dns, a deadline timeout, anything at STARTTLS and a TLS failure at
 * connect (implicit TLS) tls, other connect failures refused or
 * unreachable; the rest (closed, reset, protocol) error.
 */
static enum bt_status
bsess_status(const struct record *r)
{
	if (r->error == NULL)
		return ST_ERROR;
	if (r->fail_kind == FAIL_RESOLVE || r->error_stage == STAGE_RESOLVE)
		return ST_DNS;
	if (r->fail_kind == FAIL_TIMEOUT)
		return ST_TIMEOUT;
	if (r->error_stage == STAGE_STARTTLS)
		return ST_TLS;
	if (r->error_stage == STAGE_CONNECT) {
		if (r->fail_kind == FAIL_TLS)
			return ST_TLS;
		return r->connect_refused ? ST_REFUSED : ST_UNREACHABLE;
	}
	return ST_ERROR;
}

/* bsess_classify - the record's status and the run's exit code */
static enum bt_status
bsess_classify(const struct scn_exec *x, int *code)
{
	const struct record	*r = NULL;
	size_t			 i, n = scn_exec_nrecords(x);

	*code = scn_exec_exit(x);
	for (i = 0; i < n; i++) {
		r = scn_exec_record(x, i);
		if (record_exit_code(r) == *code)
			break;
		r = NULL;
	}
	if (r == NULL)
		return *code == 0 ? ST_OK : *code == 2 ? ST_TEMPFAIL :
		    *code == 1 ? ST_EXPECT : ST_ERROR;
	switch (r->status) {
	case RES_OK:
		return ST_OK;
	case RES_PERMFAIL:
		return ST_PERMFAIL;
	case RES_TEMPFAIL:
		return ST_TEMPFAIL;
	case RES_EXPECT:
		return ST_EXPECT;
	default:
		return bsess_status(r);
	}
}

/* The sessions of a record, for bsess_tail(). */
struct bsess_out {
	struct bt_sess		*s;
	struct scn_exec		*x;
	size_t			 n;
	const struct verdict	*v0;	/* the first session's verdict */
};

/*
 * bsess_exec_done - a session is over: its record now, the rest later.
 * The sessions are written from their records (report_jw_doc()), not
 * through trees, unless the baseline needs the tree.
 */
static void
bsess_exec_done(struct scn_exec *x, void *arg)
{
	struct bt_sess	*s = arg;
	struct batch	*b = s->b;
	struct bsess_out so;
	struct verdict	 v;
	json_t		*verdict = NULL;
	enum bt_status	 st;
	char		 ended[32];
	size_t		 i, n = scn_exec_nrecords(x);
	int		 code;

	/* --server-check: the DNS facts about its address first */
	if (b->o.server_check && s->srv_ip == NULL) {
		s->x = x;
		if (bsess_srv_start(s) == 1)
			return;		/* bsess_srv_done() comes back */
	}
	if (b->o.server_check)
		bsess_srv_judge(s, x);
	/* --dane, --tls-check: the findings known after the session */
	for (i = 0; s->tls != NULL && i < n; i++)
		target_tls_settle(s->tls, &s->tg, s->job->name != NULL ?
		    s->job->name->route : NULL, scn_exec_record_mut(x, i),
		    i == 0);
	st = bsess_classify(x, &code);
	util_utc_iso(ended, sizeof(ended));
	if (b->bl_base != NULL || b->o.baseline_save != NULL) {
		bsess_tree_done(s, x, st, code, ended);
		return;
	}
	for (i = 0; b->metrics != NULL && i < n; i++)
		metrics_add(b->metrics, scn_exec_record(x, i),
		    s->job->t->text);
	jw_arena_begin();
	if (n > 0) {
		verdict_record(scn_exec_record(x, 0), &v);
		verdict = json_pack("{s:s, s:s, s:i}", "class", v.class,
		    "reason", v.reason, "confidence", v.confidence);
	}
	so.s = s;
	so.x = x;
	so.n = n;
	so.v0 = &v;
	bout_report_tail(b, s->job->t, s->job, st, code, verdict, n > 0 ?
	    scn_exec_record(x, 0)->started : NULL, ended, bsess_tail, &so);
	bsess_end(s);
	bout_job_reported(b, s->job);
}

/*
 * bsess_srv_start - --server-check: look the server's address up (PTR,
 * FCrDNS, --server-dnsbl) once its session is over. 1 when the lookups
 * run (bsess_srv_done() finishes the session), 0 when there is nothing
 * to look up (no address, a private one, no DNS).
 */
static int
bsess_srv_start(struct bt_sess *s)
{
	struct batch		*b = s->b;
	struct check_params	 cp;
	char			 buf[NI_MAXHOST];

	if (b->o.srv_ip != NULL)
		s->srv_ip = xstrdup(b->o.srv_ip);	/* behind one NAT */
	else if (s->tg.p.addr == NULL || getnameinfo(s->tg.p.addr,
	    s->tg.p.addrlen, buf, sizeof(buf), NULL, 0, NI_NUMERICHOST) != 0) {
		s->srv_ip = xstrdup("");
		return 0;
	} else
		s->srv_ip = xstrdup(buf);
	if (check_private(s->srv_ip) != 0 || b->dns == NULL)
		return 0;
	memset(&cp, 0, sizeof(cp));
	cp.ip = s->srv_ip;
	cp.dnsbl = (const char *const *)b->o.srv_dnsbl;
	cp.no_dnsbl = cp.dnsbl != NULL && cp.dnsbl[0] == NULL;
	s->srv_run = check_run(b->base, b->dns, &cp, bsess_srv_done, s);
	return 1;
}

/* bsess_srv_done - the DNS facts are in: the session's record now */
static void
bsess_srv_done(struct check_result *r, void *arg)
{
	struct bt_sess	*s = arg;

	s->srv_run = NULL;
	s->srv = r;
	bsess_exec_done(s->x, s);
}

/*
 * bsess_srv_judge - the server-check findings into the first session's
 * record (srvcheck.h); the record's status stays the session's, the
 * findings carry their severity
 */
static void
bsess_srv_judge(struct bt_sess *s, struct scn_exec *x)
{
	struct srvcheck_params	 sp;
	struct record		*r;

	if (scn_exec_nrecords(x) == 0 ||
	    (r = scn_exec_record_mut(x, 0)) == NULL)
		return;
	sp = (struct srvcheck_params){ .port = s->port,
	    .ip = s->srv_ip[0] != '\0' ? s->srv_ip : NULL,
	    .ip_private = s->srv_ip[0] != '\0' &&
	    check_private(s->srv_ip) != 0, .dns = s->srv };
	srvcheck_judge(r, &sp);
}

/*
 * bsess_free - a session and its job: the runner, what --server-check
 * held (a lookup under way cancelled), the TLS pre-flight, the target
 */
void
bsess_free(struct batch *b, struct bt_sess *s)
{
	scn_exec_free(s->x);
	if (s->srv_run != NULL)
		check_cancel(s->srv_run);
	check_result_free(s->srv);
	free(s->srv_ip);
	target_tls_free(s->tls);
	target_clear(&s->tg);
	bsched_job_free(b, s->job);
	free(s);
}

/*
 * bsess_tail - the record's "session" and "more_sessions", as the trees
 * of bsess_tree_done() would write them
 */
static void
bsess_tail(struct jw_buf *o, void *arg)
{
	struct bsess_out *so = arg;
	struct bt_sess	*s = so->s;
	struct tlscheck_target tv;
	json_t		*tc;
	size_t		 i;

	JW_LIT(o, ",\"session\":");
	if (so->n == 0) {
		JW_LIT(o, "null");
		return;
	}
	report_jw_doc(o, scn_exec_record(so->x, 0), PACKAGE_VERSION, 0,
	    so->v0);
	if (s->b->o.tls_check) {
		target_tls_view(s->tls, &s->tg, s->job->name != NULL ?
		    s->job->name->route : NULL, scn_exec_record(so->x, 0),
		    &tv);
		tc = tlscheck_json(&tv);
		o->len--;	/* the session's closing brace */
		JW_LIT(o, ",\"tls_check\":");
		jw_value(o, tc);
		JW_LIT(o, "}");
		json_decref(tc);
	}
	if (so->n == 1)
		return;
	JW_LIT(o, ",\"more_sessions\":[");
	for (i = 1; i < so->n; i++) {
		if (i > 1)
			JW_LIT(o, ",");
		report_jw_doc(o, scn_exec_record(so->x, i), PACKAGE_VERSION,
		    0, NULL);
	}
	JW_LIT(o, "]");
}

/*
 * bsess_tree_done - bsess_exec_done() through the sessions' trees, for
 * the baseline (--baseline, --baseline-save), which reads them
 */
static void
bsess_tree_done(struct bt_sess *s, struct scn_exec *x, enum bt_status st,
    int code, const char *ended)
{
	struct batch	*b = s->b;
	json_t		*doc = NULL, *more = NULL, *verdict = NULL, *v, *d;
	size_t		 i, n = scn_exec_nrecords(x);

	jw_arena_begin();
	for (i = 0; i < n; i++) {
		if (b->metrics != NULL)
			metrics_add(b->metrics, scn_exec_record(x, i),
			    s->job->t->text);
		d = report_json_doc(scn_exec_record(x, i), PACKAGE_VERSION);
		json_object_del(d, "schema");
		json_object_del(d, "tool");
		if (i == 0 && b->o.tls_check) {
			struct tlscheck_target tv;

			target_tls_view(s->tls, &s->tg, s->job->name !=
			    NULL ? s->job->name->route : NULL,
			    scn_exec_record(x, 0), &tv);
			json_object_set_new(d, "tls_check", tlscheck_json(&tv));
		}
		if (i == 0)
			doc = d;
		else {
			if (more == NULL)
				more = json_array();
			json_array_append_new(more, d);
		}
	}
	if (doc != NULL && json_is_object(v = json_object_get(doc,
	    "verdict")))
		verdict = json_pack("{s:O?, s:O?, s:O?}",
		    "class", json_object_get(v, "class"),
		    "reason", json_object_get(v, "reason"),
		    "confidence", json_object_get(v, "confidence"));
	/* the session's own start time (record.h) */
	bout_report(b, s->job->t, s->job, st, code, verdict, n > 0 ?
	    scn_exec_record(x, 0)->started : NULL, ended, NULL, doc, more);
	bsess_end(s);
	bout_job_reported(b, s->job);
}

/*
 * bsess_end - the session's record is written: free it (and admit
 * the next) from the reap timer, never from inside the engine.
 */
static void
bsess_end(struct bt_sess *s)
{
	struct batch	*b = s->b;
	struct timeval	 tv = { 0, 0 };

	TAILQ_REMOVE(&b->active, s, entry);
	TAILQ_INSERT_TAIL(&b->reap, s, entry);
	if (!evtimer_pending(b->reap_ev, NULL))
		evtimer_add(b->reap_ev, &tv);
}

/* bsess_reap_cb - free the sessions that ended, admit the next */
void
bsess_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct batch	*b = arg;
	struct bt_sess	*s;

	struct timeval	 tv = { 0, 0 };

	while ((s = TAILQ_FIRST(&b->reaped)) != NULL) {
		TAILQ_REMOVE(&b->reaped, s, entry);
		bsched_release(b, s->job->dest);
		bsess_free(b, s);
	}
	TAILQ_CONCAT(&b->reaped, &b->reap, entry);
	if (!TAILQ_EMPTY(&b->reaped))
		evtimer_add(b->reap_ev, &tv);
	if (b->stopping) {
		if (b->nactive == 0)
			event_base_loopbreak(b->base);
		return;
	}
	bdns_pump(b);
	bsched_pump(b);
}

/*
 * target.c - one target of a probe (include/target.h): the engine's
 * parameters from the options, in one place for the probe, batch and
 * the shell, and the TLS pre-flight (TLSA per host, MTA-STS and TLS-RPT
 * per domain) on the caller's event loop.
 *
 * target_init() and target_tls_*() never exit; allocation failure is
 * fatal (util.h). A target_tls owns its results; the policies it hands
 * out live until target_tls_free().
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netdb.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dane.h"
#include "log.h"
#include "mtasts.h"
#include "proxy.h"
#include "record.h"
#include "route.h"
#include "smtp.h"
#include "target.h"
#include "tls.h"
#include "tlsa.h"
#include "tlscheck.h"
#include "tlsrpt.h"
#include "util.h"

#define TARGET_STS_TIMEOUT_MS	60000	/* the policy fetch, default */

struct target_dane {
	struct target_tls *tt;
	char		*host;
	struct dane_policy *policy;
	struct tlsa_req	*req;		/* while looking up */
};

struct target_tls {
	struct target_tls_params p;
	char		*port;
	char		*domain;	/* the policy domain, or NULL */
	struct target_dane *danes;	/* one per host */
	size_t		 ndanes;
	struct mtasts_req *sts_req;
	struct mtasts_result *sts;
	struct tlsrpt_req *rpt_req;
	struct tlsrpt_result *rpt;
	SSL_CTX		*httpctx;	/* the MTA-STS fetch's */
	size_t		 pending;
	target_tls_cb	 cb;
	void		*arg;
};

static void	target_asif(struct target *, const struct target_conn *);
static void	target_tls_step(struct target_tls *);
static void	target_dane_done(struct dane_policy *, void *);
static void	target_sts_done(struct mtasts_result *, void *);
static void	target_rpt_done(struct tlsrpt_result *, void *);
static void	target_sts_start(struct target_tls *);

/* target_init - the engine's parameters for host at addr */
void
target_init(struct target *t, const struct target_conn *c,
    const struct route *r, const char *host, int pref,
    const struct dns_addr *addr)
{
	struct route_addr	 ra;
	const char		*name = r != NULL ? r->name : host;

	memset(t, 0, sizeof(*t));
	t->host = host;
	t->pref = pref;
	if (addr != NULL) {
		ra.host = (char *)host;
		ra.pref = pref;
		ra.addr = *addr;
		t->p.addrlen = route_sockaddr(&ra, c->port, &t->ss);
		t->p.addr = (struct sockaddr *)&t->ss;
		t->address = addr->text;
		if (pref >= 0)
			t->note = xasprintf("MX %s (preference %d) at %s",
			    host, pref, addr->text);
		else if (strcmp(addr->text, name) != 0)
			t->note = xasprintf("resolved %s to %s", name,
			    addr->text);
		t->label = xasprintf("%s%s%s:%s", addr->family == AF_INET6 ?
		    "[" : "", addr->text, addr->family == AF_INET6 ? "]" : "",
		    c->port);
	} else {
		if (r != NULL && r->error != NULL)
			t->note = xstrdup(r->error);
		else if (c->no_addr_note != NULL)
			t->note = xstrdup(c->no_addr_note);
		t->label = xasprintf("%s:%s", name, c->port);
		/*
		 * a mail domain's own answer decides for its addresses
		 * (RFC 7505 null MX, NXDOMAIN: refused; SERVFAIL: later);
		 * a server name that does not resolve stays an error
		 */
		if (r != NULL && r->by_mx && r->error != NULL)
			t->p.resolve_answer = r->kind == DNS_MX_NULL ||
			    (r->kind == DNS_MX_NONE && r->status ==
			    DNS_NXDOMAIN) ? OUT_PERMFAIL : r->kind ==
			    DNS_MX_NONE && r->status == DNS_SERVFAIL ?
			    OUT_TEMPFAIL : 0;
	}
	if (r != NULL) {
		t->p.resolution = (const char *const *)r->notes;
		t->p.nresolution = r->nnotes;
	}
	t->p.host = host;
	t->p.port = c->port;
	t->p.resolve_note = t->note;
	t->p.local = c->local;
	t->p.locallen = c->locallen;
	t->p.helo = c->helo;
	t->p.implicit_tls = c->tls_mode == SMTP_TLS_IMPLICIT;
	t->p.tls_mode = smtp_tls_mode_name(c->tls_mode);
	t->p.tls_ctx = c->tls_ctx;
	/* RFC 6066 3: no IP literal in SNI */
	t->p.sni = c->no_sni ? NULL : c->sni != NULL ? c->sni :
	    route_literal(host) ? NULL : host;
	t->p.verify_name = c->sni != NULL ? c->sni : host;
	t->p.tls_verify = c->tls_verify;
	t->p.timeout_ms = c->timeout_ms;
	t->p.max_line = c->max_line;
	t->p.show_body = c->show_body;
	t->p.pregreet = c->pregreet;
	target_asif(t, c);
}

/* target_asif - as if from another client, and the transports */
static void
target_asif(struct target *t, const struct target_conn *c)
{
	t->p.proxy = c->proxy;
	t->p.proxy_src = c->proxy_src;
	t->p.proxy_dst = c->proxy_dst;
	t->p.xclient = c->xclient;
	t->p.xforward = c->xforward;
	/* swaks' order: XCLIENT and XFORWARD under TLS when it comes */
	t->p.asif_after_tls = c->tls_mode == SMTP_TLS_REQUIRE ||
	    c->tls_mode == SMTP_TLS_OPTIONAL;
	t->p.interface = c->interface;
	t->p.pipe = c->pipe;
	if (c->pipe != NULL) {
		free(t->label);
		t->label = xstrdup("pipe");
		free(t->note);
		t->note = xasprintf("no server: SMTP with the command "
		    "\"%s\"", c->pipe);
		t->p.resolve_note = t->note;
	}
}

/* target_clear - what target_init() made */
void
target_clear(struct target *t)
{
	free(t->note);
	free(t->label);
	t->note = t->label = NULL;
}

/*
 * target_local - --local-address ADDR, ADDR:PORT or [IPV6]:PORT (port 0:
 * any), of family when it is not 0
 */
int
target_local(const char *a, int family, struct sockaddr_storage *ss,
    socklen_t *sl)
{
	char	 err[256];

	if (proxy_source(a, ss, sl, err, sizeof(err)) == -1) {
		log_warnx("--local-address: %s", err);
		return -1;
	}
	if (family != 0 && ss->ss_family != family) {
		log_warnx("--local-address: \"%s\" is an IPv%d address, but "
		    "the server is reached over IPv%d", a,
		    ss->ss_family == AF_INET ? 4 : 6, family == AF_INET ? 4 :
		    6);
		return -1;
	}
	return 0;
}

int
target_proxy_addr(const char *opt, const char *a,
    struct sockaddr_storage *ss)
{
	socklen_t	 sl;
	char		 err[256];

	if (proxy_source(a, ss, &sl, err, sizeof(err)) == -1) {
		log_warnx("--%s: %s", opt, err);
		return -1;
	}
	return 0;
}

/* target_tls_new - a pre-flight with nothing to look up yet */
struct target_tls *
target_tls_new(const struct target_tls_params *p)
{
	struct target_tls	*tt = xcalloc(1, sizeof(*tt));

	tt->p = *p;
	tt->port = xstrdup(p->port);
	tt->p.port = tt->port;
	if (p->tls_check && p->domain != NULL)
		tt->domain = xstrdup(p->domain);
	tt->p.domain = tt->domain;
	return tt;
}

/* target_tls_host - one more host whose TLSA records to look up */
void
target_tls_host(struct target_tls *tt, const char *host, int has_addr)
{
	struct target_dane	*d;
	size_t			 i;

	for (i = 0; i < tt->ndanes; i++)
		if (strcasecmp(tt->danes[i].host, host) == 0)
			return;
	tt->danes = xreallocarray(tt->danes, tt->ndanes + 1,
	    sizeof(*tt->danes));
	d = &tt->danes[tt->ndanes++];
	memset(d, 0, sizeof(*d));
	d->tt = tt;
	d->host = xstrdup(host);
	if (!has_addr)
		d->policy = dane_skipped(host, tt->port, "no address to "
		    "connect to");
	else if (route_literal(host))
		d->policy = dane_skipped(host, tt->port, "an address literal "
		    "has no TLSA records: DANE needs a host name (RFC 7672 "
		    "2.2.2)");
	else if (tt->p.dns == NULL)
		d->policy = dane_skipped(host, tt->port, "no resolver");
}

/* target_tls_start - every lookup at once; the count under way */
size_t
target_tls_start(struct target_tls *tt, target_tls_cb cb, void *arg)
{
	size_t	 i, n = 0;

	tt->cb = cb;
	tt->arg = arg;
	/* counted first: a lookup may end before the next one starts */
	for (i = 0; i < tt->ndanes; i++)
		if (tt->danes[i].policy == NULL)
			n++;
	if (tt->domain != NULL && tt->p.dns != NULL)
		n += 2;
	tt->pending = n + 1;
	/* a request that answered at once is not kept: it is freed */
	for (i = 0; i < tt->ndanes; i++) {
		struct target_dane *d = &tt->danes[i];
		struct tlsa_req	*q;

		if (d->policy != NULL)
			continue;
		q = tlsa_lookup(tt->p.dns, d->host, tt->port,
		    target_dane_done, d);
		if (d->policy == NULL)
			d->req = q;
	}
	if (tt->domain != NULL && tt->p.dns != NULL) {
		struct tlsrpt_req *q;

		target_sts_start(tt);
		q = tlsrpt_start(tt->p.dns, tt->domain, target_rpt_done, tt);
		if (tt->rpt == NULL)
			tt->rpt_req = q;
	}
	/* the guard: the callback runs only after everything started */
	n = --tt->pending;
	if (n == 0)
		tt->cb = NULL;
	return n;
}

/*
 * target_sts_start - the MTA-STS policy of the domain (RFC 8461), over
 * TLS 1.2 or newer (7.2). One pending step either way.
 */
static void
target_sts_start(struct target_tls *tt)
{
	struct mtasts_params	 mp;
	struct tls_params	 tp;
	struct mtasts_req	*q;
	const char		*env;
	char			 err[512];

	memset(&mp, 0, sizeof(mp));
	mp.domain = tt->domain;
	mp.family = tt->p.family;
	mp.port = 443;
	mp.timeout_ms = tt->p.timeout_ms > 0 ? tt->p.timeout_ms :
	    TARGET_STS_TIMEOUT_MS;
	/* a test hook: the RFC fixes port 443 */
	if ((env = getenv("SMTPROBE_MTA_STS_PORT")) != NULL) {
		char	*end;
		long	 n = strtol(env, &end, 10);

		if (*env == '\0' || *end != '\0' || n < 1 || n > 65535)
			log_warnx("SMTPROBE_MTA_STS_PORT: \"%s\" is not a "
			    "port; 443 used", env);
		else
			mp.port = (unsigned)n;
	}
	/* RFC 8461 7.2: TLS 1.2 or newer for the policy fetch */
	tp = (struct tls_params){ .cafile = tt->p.cafile,
	    .capath = tt->p.capath, .min_version = "1.2" };
	if ((tt->httpctx = tls_ctx_new(&tp, err, sizeof(err))) == NULL) {
		log_warnx("no MTA-STS fetch: %s", err);
		tt->pending--;
		return;
	}
	mp.ctx = tt->httpctx;
	q = mtasts_start(tt->p.base, tt->p.dns, &mp, target_sts_done, tt);
	if (tt->sts == NULL)
		tt->sts_req = q;
}

/* target_tls_step - one lookup is done; the caller hears of the last */
static void
target_tls_step(struct target_tls *tt)
{
	target_tls_cb	 cb = tt->cb;

	if (--tt->pending > 0 || cb == NULL)
		return;
	tt->cb = NULL;
	cb(tt, tt->arg);
}

static void
target_dane_done(struct dane_policy *p, void *arg)
{
	struct target_dane	*d = arg;

	d->req = NULL;
	d->policy = p;
	target_tls_step(d->tt);
}

static void
target_sts_done(struct mtasts_result *r, void *arg)
{
	struct target_tls	*tt = arg;

	tt->sts_req = NULL;
	tt->sts = r;
	target_tls_step(tt);
}

static void
target_rpt_done(struct tlsrpt_result *r, void *arg)
{
	struct target_tls	*tt = arg;

	tt->rpt_req = NULL;
	tt->rpt = r;
	target_tls_step(tt);
}

/* target_tls_dane - host's TLSA policy, or NULL when not looked up */
const struct dane_policy *
target_tls_dane(const struct target_tls *tt, const char *host)
{
	size_t	 i;

	for (i = 0; tt != NULL && i < tt->ndanes; i++)
		if (strcasecmp(tt->danes[i].host, host) == 0)
			return tt->danes[i].policy;
	return NULL;
}

void
target_tls_notes(const struct target_tls *tt, FILE *fp)
{
	tlscheck_notes(fp, tt->sts, tt->rpt);
}

/* target_tls_view - the --tls-check view of a target's session */
void
target_tls_view(const struct target_tls *tt, const struct target *t,
    const struct route *r, const struct record *rec,
    struct tlscheck_target *v)
{
	memset(v, 0, sizeof(*v));
	v->rec = rec;
	v->host = t->host;
	v->address = t->address;
	v->port = t->p.port;
	v->pref = t->pref;
	v->implicit = t->p.implicit_tls;
	v->dane = t->p.dane;
	v->domain = tt->domain;
	v->sts = tt->sts;
	v->rpt = tt->rpt;
	if (r != NULL && r->by_mx) {
		v->mx_hosts = (const char *const *)r->hosts;
		v->nmx_hosts = r->nhosts;
	} else {
		v->mx_hosts = &v->host;
		v->nmx_hosts = 1;
	}
}

/* target_tls_settle - the findings only known after the session */
void
target_tls_settle(const struct target_tls *tt, const struct target *t,
    const struct route *r, struct record *rec, int first)
{
	struct tlscheck_target	 v;
	int			 changed;

	if (rec == NULL)
		return;
	changed = tlscheck_dane_end(rec, t->p.dane, t->p.tls_verify);
	if (tt->p.tls_check && first) {
		target_tls_view(tt, t, r, rec, &v);
		if (tlscheck_findings(rec, &v) > 0)
			changed = 1;
	}
	if (changed)
		record_settle(rec);
}

/* target_tls_free - the results, and what is still under way */
void
target_tls_free(struct target_tls *tt)
{
	size_t	 i;

	if (tt == NULL)
		return;
	for (i = 0; i < tt->ndanes; i++) {
		if (tt->danes[i].req != NULL)
			tlsa_cancel(tt->danes[i].req);
		dane_policy_free(tt->danes[i].policy);
		free(tt->danes[i].host);
	}
	free(tt->danes);
	if (tt->sts_req != NULL)
		mtasts_cancel(tt->sts_req);
	if (tt->rpt_req != NULL)
		tlsrpt_cancel(tt->rpt_req);
	mtasts_result_free(tt->sts);
	tlsrpt_result_free(tt->rpt);
	tls_ctx_free(tt->httpctx);
	free(tt->domain);
	free(tt->port);
	free(tt);
}

/*
 * cli_srv.c - the server's side of a command-line run: --server-check's
 * DNS facts about each target's address (PTR, FCrDNS, blocklists),
 * looked up on the loop before the sessions, --retry-after's second
 * try of a temp-failed probe, and the judging of the records once they
 * are done (srvcheck.h): the server-check findings, the timing and
 * --pregreet findings; --both-families: which addresses, and how the
 * IPv4 and the IPv6 session differ.
 */
#include "config.h"

#include <sys/socket.h>
#include <netdb.h>

#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "check.h"
#include "dns.h"
#include "log.h"
#include "record.h"
#include "route.h"
#include "scn.h"
#include "srvcheck.h"
#include "util.h"
#include "verdict.h"

#include "cli_int.h"

/* cli_srv_done - one target's lookups are back */
static void
cli_srv_done(struct check_result *r, void *arg)
{
	struct cli_target *ct = arg;

	ct->srv = r;
	if (--ct->run->srv_pending == 0)
		event_base_loopbreak(ct->run->base);
}

/* cli_srv_ip - the target's address as text, or NULL */
static char *
cli_srv_ip(const struct cli_target *ct)
{
	char	 buf[NI_MAXHOST];

	if (ct->tg.p.addr == NULL || getnameinfo(ct->tg.p.addr,
	    ct->tg.p.addrlen, buf, sizeof(buf), NULL, 0, NI_NUMERICHOST) != 0)
		return NULL;
	return xstrdup(buf);
}

void
cli_server_preflight(struct cli_run *run)
{
	struct opt_cli		*cli = run->cli;
	struct dns_params	 dnp = { cli->resolver, NULL, 0, 0 };
	struct check_params	 cp;
	char			 err[512];
	size_t			 i;

	for (i = 0; i < run->nt; i++) {
		struct cli_target *ct = &run->t[i];

		ct->srv_ip = cli->srv_ip != NULL ? xstrdup(cli->srv_ip) :
		    cli_srv_ip(ct);
		if (ct->srv_ip == NULL)
			continue;
		if (check_private(ct->srv_ip) != 0) {
			ct->srv_private = 1;
			continue;
		}
		if (run->dns == NULL && (run->dns = dns_ctx_new(run->base,
		    &dnp, err, sizeof(err))) == NULL) {
			log_warnx("--server-check: no DNS lookups: %s", err);
			return;
		}
		memset(&cp, 0, sizeof(cp));
		cp.ip = ct->srv_ip;
		cp.dnsbl = (const char *const *)(cli->srv_dnsbl != NULL ?
		    cli->srv_dnsbl : cli->dnsbl);
		cp.no_dnsbl = cp.dnsbl != NULL && cp.dnsbl[0] == NULL;
		run->srv_pending++;
		check_run(run->base, run->dns, &cp, cli_srv_done, ct);
	}
	if (run->srv_pending > 0)
		event_base_dispatch(run->base);
}

/* cli_retry_done - a second try is over */
static void
cli_retry_done(struct scn_exec *x, void *arg)
{
	struct cli_target *ct = arg;

	(void)x;
	if (--ct->run->retry_pending == 0)
		event_base_loopbreak(ct->run->base);
}

/* cli_retry_start - the delay is over: the same probe, a new connection */
static void
cli_retry_start(evutil_socket_t fd, short what, void *arg)
{
	struct cli_target *ct = arg;

	(void)fd;
	(void)what;
	ct->first = ct->execs[0];
	ct->execs[0] = scn_exec_new(ct->run->base, ct->run->scns[0], &ct->sp,
	    cli_retry_done, ct);
	scn_exec_start(ct->execs[0]);
}

/* cli_retry_judge - what the second try says about the first's refusal */
static void
cli_retry_judge(struct cli_target *ct, double secs)
{
	const struct record *r1 = scn_exec_record(ct->first, 0);
	struct record	*r2 = scn_exec_record_mut(ct->execs[0], 0);
	int		 rc = scn_exec_exit(ct->execs[0]);

	if (r1 == NULL || r2 == NULL)
		return;
	r2->retry_first = xstrdup(r1->message != NULL ? r1->message :
	    "temporary failure");
	r2->retry_stage = (int)r1->fail_stage;
	if (rc == 0) {
		r2->retry = 1;
		record_add_finding(r2, FIND_INFO, "greylist-confirmed",
		    r1->fail_stage, "the first try was refused for now (%s); "
		    "the same, %.3g s later on a new connection, was "
		    "accepted: greylisting, confirmed. A real MTA retries "
		    "and gets through; nothing to fix unless the delay "
		    "matters", r2->retry_first, secs);
	} else {
		r2->retry = rc == 2 ? -1 : -2;
		record_add_finding(r2, FIND_WARN, "greylist-not-confirmed",
		    r1->fail_stage, "the first try was refused for now (%s); "
		    "%.3g s later on a new connection: %s. %s",
		    r2->retry_first, secs, r2->message != NULL ? r2->message :
		    "no result", rc == 2 ? "Not simple greylisting: rate "
		    "limiting, a longer greylisting delay, or a fault that "
		    "lasts" : "The refusal changed: see the verdict");
	}
}

void
cli_retry(struct cli_run *run)
{
	struct opt_cli		*cli = run->cli;
	struct timeval		 tv;
	double			 secs = (double)cli->retry_ms / 1000.0;
	size_t			 i;

	if (cli->retry_ms <= 0 || cli->nscenarios > 0)
		return;
	tv.tv_sec = cli->retry_ms / 1000;
	tv.tv_usec = (cli->retry_ms % 1000) * 1000;
	for (i = 0; i < run->nt; i++) {
		struct cli_target *ct = &run->t[i];

		if (ct->nexec == 0 || scn_exec_exit(ct->execs[0]) != 2)
			continue;
		if (ct->out != NULL)
			fprintf(ct->out, "** refused for now: trying the same "
			    "again in %.3g s on a new connection "
			    "(--retry-after)\n", secs);
		if (event_base_once(run->base, -1, EV_TIMEOUT,
		    cli_retry_start, ct, &tv) == -1)
			continue;
		run->retry_pending++;
	}
	if (run->retry_pending == 0)
		return;
	event_base_dispatch(run->base);
	for (i = 0; i < run->nt; i++)
		if (run->t[i].first != NULL)
			cli_retry_judge(&run->t[i], secs);
}

/*
 * cli_server_judge - every record gets the timing findings; the first
 * session of each target the server-check findings
 */
void
cli_server_judge(struct cli_run *run)
{
	struct opt_cli		*cli = run->cli;
	struct srvcheck_params	 sp;
	struct record		*r;
	size_t			 i, j, k;
	int			 n;

	for (i = 0; i < run->nt; i++) {
		struct cli_target *ct = &run->t[i];

		for (j = 0; j < ct->nexec; j++)
			for (k = 0; k < scn_exec_nrecords(ct->execs[j]); k++)
				if ((r = scn_exec_record_mut(ct->execs[j],
				    k)) != NULL) {
					srvcheck_timing(r,
					    cli->slow_banner_ms);
					srvcheck_pregreet(r, cli->port);
				}
		if (i == 0 && run->multi)
			cli_families(NULL, NULL, run);
		if (!cli->server_check || ct->nexec == 0 ||
		    (r = scn_exec_record_mut(ct->execs[0], 0)) == NULL)
			continue;
		sp = (struct srvcheck_params){ .port = cli->port,
		    .ip = ct->srv_ip, .ip_private = ct->srv_private,
		    .dns = ct->srv };
		if ((n = srvcheck_judge(r, &sp)) > 0 &&
		    record_exit_code(r) == 0) {
			char *m = xasprintf("%s; but --server-check found "
			    "%d finding%s of severity error", r->message !=
			    NULL ? r->message : "accepted", n, n > 1 ? "s" :
			    "");

			free(r->message);
			r->message = m;
			r->findings_fail = 1;
		}
	}
}

int
cli_families_pick(const struct route *rt, size_t *other)
{
	const struct route_addr *a0 = &rt->addrs[0];
	size_t		 i;

	for (i = 1; i < rt->naddrs; i++)
		if (rt->addrs[i].addr.family != a0->addr.family &&
		    strcmp(rt->addrs[i].host, a0->host) == 0) {
			*other = i;
			return 0;
		}
	log_warnx("--both-families: %s has no %s address: one family only",
	    a0->host, a0->addr.family == AF_INET ? "IPv6" : "IPv4");
	return -1;
}

/* the session of the first target of family, or NULL */
static struct record *
cli_family_record(struct cli_run *run, int family, const char **label)
{
	size_t	 i;

	for (i = 0; i < run->nt; i++) {
		struct cli_target *ct = &run->t[i];

		if (ct->ra == NULL || ct->ra->addr.family != family ||
		    ct->nexec == 0)
			continue;
		*label = ct->tg.label;
		return scn_exec_record_mut(ct->execs[0], 0);
	}
	return NULL;
}

/* cli_family_facts - stage, reply code and verdict of a session */
static void
cli_family_facts(const struct record *r, char val[3][128])
{
	struct verdict	 v;
	size_t		 i;

	snprintf(val[0], 128, "-");
	snprintf(val[1], 128, "-");
	for (i = 0; i < r->nsteps; i++) {
		const struct step *st = &r->steps[i];

		if (st->outcome == OUT_OK || st->outcome == OUT_SKIPPED ||
		    st->stage == STAGE_QUIT || st->expect > 0)
			continue;
		snprintf(val[0], 128, "%s", stage_name(st->stage));
		if (st->reply != NULL)
			snprintf(val[1], 128, "%d", st->reply->code);
		else
			snprintf(val[1], 128, "%s",
			    record_outcome_name(st->outcome));
		break;
	}
	verdict_record(r, &v);
	snprintf(val[2], 128, "%s/%s", v.class, v.reason);
}

/*
 * cli_families - --both-families, --all-mx: where the first IPv4 and
 * the first IPv6 session differ (stage, reply code, verdict), printed
 * to fp and/or added to arr; the IPv6 record gets the finding
 * family-differs once (arr == NULL and fp == NULL: only that)
 */
void
cli_families(FILE *fp, json_t *arr, struct cli_run *run)
{
	static const char *const what[] = { "stage (IPv4/IPv6)",
	    "reply code (IPv4/IPv6)", "verdict (IPv4/IPv6)" };
	const char	*l4 = NULL, *l6 = NULL;
	struct record	*r4, *r6;
	char		 v4[3][128], v6[3][128], list[64] = "";
	size_t		 k;
	int		 worse6;

	if ((r4 = cli_family_record(run, AF_INET, &l4)) == NULL ||
	    (r6 = cli_family_record(run, AF_INET6, &l6)) == NULL)
		return;
	cli_family_facts(r4, v4);
	cli_family_facts(r6, v6);
	for (k = 0; k < 3; k++) {
		if (strcmp(v4[k], v6[k]) == 0)
			continue;
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
		    "%s%s", list[0] != '\0' ? ", " : "", k == 0 ? "stage" :
		    k == 1 ? "code" : "verdict");
		if (fp != NULL)
			fprintf(fp, "!! IPv4 and IPv6 differ in %s:\n"
			    "!!   %s: %s\n!!   %s: %s\n", what[k], l4, v4[k],
			    l6, v6[k]);
		if (arr != NULL)
			json_array_append_new(arr, json_pack(
			    "{s:s, s:{s:s, s:s}}", "what", what[k], "values",
			    l4, v4[k], l6, v6[k]));
	}
	if (list[0] == '\0')
		return;
	worse6 = record_exit_code(r6) > record_exit_code(r4);
	if (fp != NULL && worse6)
		fprintf(fp, "!! a common cause: the IPv6 source address (%s) "
		    "has no PTR or one that does not resolve back, while the "
		    "IPv4 one has; set it, or send over IPv4 only\n",
		    r6->source != NULL ? r6->source : "?");
	if (fp == NULL && arr == NULL)
		record_add_finding(r6, FIND_WARN, "family-differs",
		    STAGE_CONNECT, "IPv4 (%s) and IPv6 (%s) differ in %s: "
		    "%s against %s%s", l4, l6, list, v4[2], v6[2], worse6 ?
		    "; a common cause: no PTR (or no FCrDNS) for the IPv6 "
		    "source address" : "");
}

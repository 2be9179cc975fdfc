/*
 * cli_srv.c - the server's side of a command-line run: --server-check's
 * DNS facts about each target's address (PTR, FCrDNS, blocklists),
 * looked up on the loop before the sessions, and the judging of the
 * records once they are done (srvcheck.h): the server-check findings
 * and the timing findings every session gets.
 */
#include "config.h"

#include <sys/socket.h>
#include <netdb.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "check.h"
#include "dns.h"
#include "log.h"
#include "record.h"
#include "scn.h"
#include "srvcheck.h"
#include "util.h"

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

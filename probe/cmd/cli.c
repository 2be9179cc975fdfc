/*
 * cli.c - one run of the command line, phase by phase: the inputs
 * checked before anything is sent, the route, one target per address,
 * the DNS checks and the TLS pre-flight on the loop, the sessions (one
 * scenario after another per target, the targets at once), and the end.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <signal.h>
#include <stdio.h>
#include <termios.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "batch.h"
#include "check.h"
#include "dane.h"
#include "tlsa.h"
#include "diag.h"
#include "explain.h"
#include "log.h"
#include "msg.h"
#include "mtasts.h"
#include "opt.h"
#include "reply.h"
#include "report.h"
#include "route.h"
#include "scn.h"
#include "shell.h"
#include "sink.h"
#include "smtp.h"
#include "target.h"
#include "tls.h"
#include "tlscheck.h"
#include "tlsrpt.h"
#include "util.h"
#include "valid.h"
#include "verdict.h"


#include "cli_int.h"

static int	cli_asif(struct cli_run *);

void
cli_session_done(void *arg, const struct record *r)
{
	struct cli_target *ct = arg;

	if (ct->out != NULL && ct->run->summaries)
		report_summary(ct->out, r);
}

void
cli_next(struct cli_target *ct)
{
	struct cli_run	*run = ct->run;
	size_t		 i = ct->nexec;

	if (i == run->nscn) {
		ct->done = 1;
		if (++run->ndone == run->nt)
			event_base_loopbreak(run->base);
		return;
	}
	if (ct->out != NULL && run->cli->nscenarios > 0)
		fprintf(ct->out, "** scenario %s%s%s\n", run->scns[i]->name,
		    run->scns[i]->desc != NULL ? ": " : "",
		    run->scns[i]->desc != NULL ? run->scns[i]->desc : "");
	ct->execs[ct->nexec++] = scn_exec_new(run->base, run->scns[i],
	    &ct->sp, cli_exec_done, ct);
	scn_exec_start(ct->execs[i]);
}

void
cli_exec_done(struct scn_exec *x, void *arg)
{
	struct cli_target *ct = arg;
	struct report_run rr;

	if (ct->out != NULL && ct->run->cli->nscenarios > 0) {
		rr = (struct report_run){ ct->run->scns[ct->nexec - 1]->name,
		    NULL, ct->tg.label, x };
		report_run_summary(ct->out, &rr);
	}
	cli_next(ct);
}

void
cli_route_done(struct route *r, void *arg)
{
	struct cli_run	*run = arg;

	run->route = r;
	event_base_loopbreak(run->base);
}

void
cli_checks_done(struct check_result *r, void *arg)
{
	struct cli_run	*run = arg;

	run->checks = r;
	run->checks_done = 1;
	event_base_loopbreak(run->base);
}

/*
 * cli_source_ip - the address the kernel would send from to reach sa:
 * a UDP socket connected to it (no packet is sent) tells, or the
 * --local-address when there is one. NULL when it cannot be told.
 */
char *
cli_source_ip(const struct sockaddr *sa, socklen_t sl,
    const struct sockaddr *local, socklen_t ll)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	char			 buf[INET6_ADDRSTRLEN];
	int			 fd;

	if (local != NULL) {
		memcpy(&ss, local, ll);
	} else {
		if ((fd = socket(sa->sa_family, SOCK_DGRAM, 0)) == -1)
			return NULL;
		if (connect(fd, sa, sl) == -1 || getsockname(fd,
		    (struct sockaddr *)&ss, &len) == -1) {
			close(fd);
			return NULL;
		}
		close(fd);
	}
	if (getnameinfo((struct sockaddr *)&ss, ss.ss_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in), buf,
	    sizeof(buf), NULL, 0, NI_NUMERICHOST) != 0)
		return NULL;
	return xstrdup(buf);
}

void
cli_attach_checks(struct record *r, const struct check_result *c,
    const char *ip)
{
	size_t	 i;

	if (r == NULL || c == NULL)
		return;
	free(r->check_ip);
	r->check_ip = ip != NULL ? xstrdup(ip) : NULL;
	r->checked = 1;
	for (i = 0; i < c->nitems; i++)
		record_add_check(r, c->items[i].name, c->items[i].subject,
		    c->items[i].zone, c->items[i].answer,
		    check_status_name(c->items[i].status),
		    c->items[i].evidence);
}

void
cli_tls_done(struct target_tls *tt, void *arg)
{
	struct cli_run	*run = arg;

	(void)tt;
	event_base_loopbreak(run->base);
}

/*
 * cli_tls_preflight - --dane and --tls-check, before any connection:
 * the TLSA records of every host (once per host), and for --tls-check
 * the MTA-STS policy and TLS-RPT record of the mail domain (DOMAIN, or
 * the domain of the first --to), all at once on the loop (target.h).
 * Each target's smtp_params get its host's TLSA lookup. *dns is made
 * when the route needed none.
 */
void
cli_tls_preflight(struct cli_run *run, struct dns_ctx **dns,
    const struct smtp_txn *txn)
{
	struct opt_cli		*cli = run->cli;
	struct target_tls_params tp;
	const char		*domain = cli->domain, *at;
	char			 err[512], *line;
	size_t			 i;

	if (*dns == NULL) {
		struct dns_params dnp = { cli->resolver, NULL, 0, 0 };

		if ((*dns = dns_ctx_new(run->base, &dnp, err,
		    sizeof(err))) == NULL)
			log_warnx("no TLSA or MTA-STS lookups: %s", err);
	}
	if (domain == NULL && txn != NULL && txn[0].nrcpt > 0 &&
	    (at = strrchr(txn[0].rcpt[0], '@')) != NULL && at[1] != '\0')
		domain = at + 1;
	tp = (struct target_tls_params){ .base = run->base, .dns = *dns,
	    .port = cli->port, .family = cli->family,
	    .tls_check = cli->tls_check, .domain = domain,
	    .cafile = cli->cafile, .capath = cli->capath,
	    .timeout_ms = cli->timeout_ms[STAGE_CONNECT] };
	run->tls = target_tls_new(&tp);
	for (i = 0; i < run->nt; i++)
		target_tls_host(run->tls, run->t[i].tg.p.host,
		    run->t[i].tg.p.addr != NULL);
	if (target_tls_start(run->tls, cli_tls_done, run) > 0)
		event_base_dispatch(run->base);
	if (cli->tls_check && sink_text(&run->sink))
		target_tls_notes(run->tls, stdout);
	for (i = 0; i < run->nt; i++) {
		struct cli_target *ct = &run->t[i];

		ct->tg.p.dane = target_tls_dane(run->tls, ct->tg.p.host);
		if (ct->out == NULL)
			continue;
		line = xasprintf("dane: %s", ct->tg.p.dane->detail);
		report_wire(ct->out, &run->ro, WIRE_INFO, 0, 0, line);
		free(line);
	}
}

/*
 * cli_mime - --body-html and --attach read (at most one input from
 * stdin), and the message parts; -1 after a message
 */
static int
cli_mime(struct cli_run *run)
{
	struct opt_cli	*cli = run->cli;
	char		 err[512];
	const char	*name;
	size_t		 i, nstdin = 0;

	nstdin = (cli->body != NULL && strcmp(cli->body, "-") == 0) +
	    (cli->message != NULL && strcmp(cli->message, "-") == 0) +
	    (cli->body_html != NULL && strcmp(cli->body_html, "-") == 0);
	for (i = 0; i < cli->nattach; i++)
		nstdin += strcmp(cli->attach[i], "-") == 0;
	if (nstdin > 1) {
		log_warnx("only one of --body, --message, --body-html and "
		    "--attach can read standard input (-)");
		return -1;
	}
	if (cli->body_html != NULL && (msg_read(cli->body_html, &run->html,
	    &run->htmllen, err, sizeof(err)) == -1 || valid_message(run->html,
	    run->htmllen, "the HTML body", err, sizeof(err)) == -1)) {
		log_warnx("--body-html: %s", err);
		return -1;
	}
	if (cli->nattach > 0)
		run->att = xcalloc(cli->nattach, sizeof(*run->att));
	for (i = 0; i < cli->nattach; i++) {
		char	*data;
		size_t	 len;

		if (msg_read(cli->attach[i], &data, &len, err,
		    sizeof(err)) == -1) {
			log_warnx("--attach %s: %s", cli->attach[i], err);
			return -1;
		}
		name = strcmp(cli->attach[i], "-") == 0 ? "stdin.bin" :
		    strrchr(cli->attach[i], '/') != NULL ?
		    strrchr(cli->attach[i], '/') + 1 : cli->attach[i];
		if (name[0] == '\0')
			name = "attachment.bin";
		run->att[run->natt].name = name;
		run->att[run->natt].data = data;
		run->att[run->natt++].len = len;
	}
	run->mime = (struct msg_mime){ .html = run->html,
	    .htmllen = run->htmllen, .att = run->att, .natt = run->natt,
	    .eicar = cli->eicar, .gtube = cli->gtube };
	return 0;
}

/*
 * cli_inputs - every address, the message parts and the headers,
 * checked before anything is sent; -1 after a message
 */
int
cli_inputs(struct cli_run *run)
{
	struct opt_cli		*cli = run->cli;
	char			 err[512];
	size_t			 i, j;

	/* Every address is checked before anything is sent. */
	if (cli->ntxn > 0)
		run->txn = xcalloc(cli->ntxn, sizeof(*run->txn));
	for (i = 0; i < cli->ntxn; i++) {
		struct opt_txn *t = &cli->txn[i];
		char	*a;

		if (t->from == NULL && i == 0 && cli->nscenarios == 0 &&
		    (cli->stop_before < 0 || cli->stop_before > STAGE_MAIL) &&
		    (cli->quit_after < 0 || cli->quit_after >= STAGE_MAIL)) {
			log_warnx("--to needs a --from before the MAIL stage");
			return -1;
		}
		a = valid_address(t->from != NULL ? t->from : "",
		    VALID_NULL_OK | (cli->raw_address ? VALID_RAW : 0), err,
		    sizeof(err));
		if (a == NULL) {
			log_warnx("--from: %s", err);
			return -1;
		}
		run->addrs = xreallocarray(run->addrs, run->naddrs + 1,
		    sizeof(char *));
		run->addrs[run->naddrs++] = a;
		run->txn[i].from = a;
		run->txn[i].rcpt = xcalloc(t->nto + 1, sizeof(char *));
		for (j = 0; j < t->nto; j++) {
			a = valid_address(t->to[j], cli->raw_address ?
			    VALID_RAW : 0, err, sizeof(err));
			if (a == NULL) {
				log_warnx("--to: %s", err);
				return -1;
			}
			run->addrs = xreallocarray(run->addrs, run->naddrs + 1,
			    sizeof(char *));
			run->addrs[run->naddrs++] = a;
			run->txn[i].rcpt[run->txn[i].nrcpt++] = a;
		}
		if (t->nto == 0 && cli->data && cli->nscenarios == 0) {
			log_warnx("--data needs a --to for every --from");
			return -1;
		}
	}
	if (cli->ntxn == 0 && cli->nscenarios == 0 && (cli->stop_before < 0 ||
	    cli->stop_before > STAGE_MAIL) && (cli->quit_after < 0 ||
	    cli->quit_after >= STAGE_MAIL)) {
		log_warnx("--from and --to are required unless the session "
		    "stops before MAIL (see --quit-after)");
		return -1;
	}
	if (cli->helo == NULL)
		run->helo = opt_default_helo();
	if (cli_files(cli) == -1)
		return -1;
	if (cli->body != NULL && (msg_read(cli->body, &run->body,
	    &run->bodylen, err, sizeof(err)) == -1 || valid_message(run->body,
	    run->bodylen, "the body", err, sizeof(err)) == -1)) {
		log_warnx("--body: %s", err);
		return -1;
	}
	if (cli->message != NULL && (msg_read(cli->message, &run->message,
	    &run->messagelen, err, sizeof(err)) == -1 ||
	    valid_message(run->message, run->messagelen, "the message", err,
	    sizeof(err)) == -1)) {
		log_warnx("--message: %s", err);
		return -1;
	}
	for (i = 0; i < cli->nheaders; i++)
		if (valid_header(cli->headers[i], err, sizeof(err)) == -1) {
			log_warnx("--header: %s", err);
			return -1;
		}
	if (cli_mime(run) == -1)
		return -1;

	return 0;
}

/*
 * cli_prepare - the scenario variables and the scenarios (all parse,
 * or none runs), the AUTH secret, the TLS context and what every
 * target shares (target.h); -1 after a message
 */
int
cli_prepare(struct cli_run *run)
{
	struct opt_cli		*cli = run->cli;
	struct tls_params	 tp;
	char			 err[512];
	size_t			 i, j;

	/* Scenario variables, then the scenarios: all parse, or none runs */
	opt_vars(cli, run->helo, run->txn != NULL ? run->txn[0].from : NULL,
	    run->txn != NULL && run->txn[0].nrcpt > 0 ? run->txn[0].rcpt[0] :
	    NULL, &run->vars);
	if (cli->nscenarios == 0) {
		run->classic = (struct scn_classic){ .tls_mode = cli->tls_mode,
		    .auth_mech = cli->auth_mech, .auth_user = cli->auth_user,
		    .auth_insecure = cli->auth_insecure, .txn = run->txn,
		    .ntxn = cli->ntxn, .data = cli->data,
		    .server_check = cli->server_check, .bdat = cli->bdat };
		run->scns = xcalloc(1, sizeof(*run->scns));
		run->scns[run->nscn++] = scn_classic(&run->classic);
	} else {
		run->scns = xcalloc(cli->nscenarios, sizeof(*run->scns));
		for (i = 0; i < cli->nscenarios; i++) {
			struct scn_vars v;

			/* each file starts from the command line's values */
			memset(&v, 0, sizeof(v));
			for (j = 0; j < run->vars.n; j++)
				scn_vars_set(&v, run->vars.name[j],
				    run->vars.value[j]);
			v.nlocked = v.n;
			run->scns[run->nscn] = scn_load(cli->scenarios[i], &v,
			    err, sizeof(err));
			scn_vars_clear(&v);
			if (run->scns[run->nscn] == NULL) {
				log_warnx("%s", err);
				return -1;
			}
			run->nscn++;
		}
	}
	if (cli->auth_mech >= 0 && (run->secret = opt_secret(cli, 1)) == NULL)
		return -1;
	if (cli->auth_mech < 0 && (cli->auth_secret_env != NULL ||
	    cli->auth_secret_file != NULL) &&
	    (run->secret = opt_secret(cli, 1)) == NULL)
		return -1;

	if (cli->tls_mode != SMTP_TLS_NONE || cli->nscenarios > 0) {
		tp = (struct tls_params){ .cafile = cli->cafile,
		    .capath = cli->capath, .min_version = cli->tls_min,
		    .ciphers = cli->ciphers, .cert = cli->tls_cert,
		    .key = cli->tls_key, .max_version = cli->tls_max,
		    .ciphersuites = cli->suites, .show_chain = cli->show_chain,
		    .expiry_warn = cli->expiry_warn };
		if ((run->ctx = tls_ctx_new(&tp, err, sizeof(err))) == NULL) {
			log_warnx("%s", err);
			return -1;
		}
	}
	if (cli->local != NULL && target_local(cli->local, cli->family,
	    &run->ls, &run->lsl) == -1)
		return -1;
	run->conn = (struct target_conn){ .port = cli->port,
	    .local = cli->local != NULL ? (struct sockaddr *)&run->ls : NULL,
	    .locallen = run->lsl,
	    .helo = cli->helo != NULL ? cli->helo : run->helo,
	    .tls_mode = cli->tls_mode, .tls_ctx = run->ctx, .sni = cli->sni,
	    .no_sni = cli->no_sni, .tls_verify = cli->tls_verify,
	    .timeout_ms = cli->timeout_ms, .max_line = cli->max_line,
	    .show_body = cli->show_body, .pregreet = cli->pregreet,
	    .no_addr_note = "no address" };
	if (cli_asif(run) == -1)
		return -1;

	return 0;
}

/* cli_asif - --proxy*, --xclient, --xforward, --interface, --pipe */
static int
cli_asif(struct cli_run *run)
{
	struct opt_cli		*cli = run->cli;

	run->conn.proxy = cli->proxy;
	if (cli->proxy_src != NULL) {
		if (target_proxy_addr("proxy-source", cli->proxy_src,
		    &run->proxy_src) == -1)
			return -1;
		run->conn.proxy_src = (struct sockaddr *)&run->proxy_src;
	}
	if (cli->proxy_dst != NULL) {
		if (target_proxy_addr("proxy-dest", cli->proxy_dst,
		    &run->proxy_dst) == -1)
			return -1;
		run->conn.proxy_dst = (struct sockaddr *)&run->proxy_dst;
	}
	run->conn.xclient = cli->xclient;
	run->conn.xforward = cli->xforward;
	run->conn.interface = cli->interface;
	run->conn.pipe = cli->pipe;
	return 0;
}

int
cli_route(struct cli_run *run)
{
	struct opt_cli		*cli = run->cli;
	char			 err[512];

	/* Where to connect: the server, or the MX of the domain */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((run->base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if (cli->pipe != NULL) {
		/* --pipe: no DNS, no address; the route names the command */
		run->route = xcalloc(1, sizeof(*run->route));
		run->route->name = xstrdup(cli->host);
		return 0;
	}
	if (cli->unix_path != NULL) {
		/* a unix socket: no DNS; cli_targets() makes its address */
		run->route = xcalloc(1, sizeof(*run->route));
		run->route->name = xstrdup(cli->unix_path);
		return 0;
	}
	{
		const char *name = cli->host;
		int	    by_mx = 0;
		struct dns_params dnp = { cli->resolver, NULL, 0, 0 };

		/* --timeout resolve=S: two tries within S seconds */
		if (cli->timeout_ms[STAGE_RESOLVE] > 0) {
			dnp.timeout_ms = cli->timeout_ms[STAGE_RESOLVE] / 2;
			if (dnp.timeout_ms < 1)
				dnp.timeout_ms = 1;
			dnp.attempts = 2;
		}

		if (name == NULL) {
			name = cli->domain;
			by_mx = 1;
		}
		if (!route_literal(name) && (run->dns = dns_ctx_new(run->base,
		    &dnp, err, sizeof(err))) == NULL) {
			log_warnx("%s", err);
			return -1;
		}
		route_start(run->base, run->dns, name, by_mx, cli->family,
		    cli_route_done, run);
		event_base_dispatch(run->base);
	}
	return 0;
}

/* cli_unix_target - t connects to the unix socket at path */
static void
cli_unix_target(struct target *t, const char *path)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)(void *)&t->ss;

	memset(&t->ss, 0, sizeof(t->ss));
	sun->sun_family = AF_UNIX;
	/* opt_server() checked that it fits */
	memcpy(sun->sun_path, path, strlen(path) + 1);
	t->p.addr = (struct sockaddr *)&t->ss;
	t->p.addrlen = (socklen_t)sizeof(*sun);
	free(t->note);
	t->note = xasprintf("unix socket %s", path);
	t->p.resolve_note = t->note;
	t->p.sni = NULL;
	free(t->label);
	t->label = xasprintf("unix:%s", path);
}

void
cli_targets(struct cli_run *run)
{
	struct opt_cli		*cli = run->cli;
	size_t			 i;

	size_t			 other = 0;

	if (run->route->error != NULL)
		log_warnx("%s", run->route->error);
	run->nt = run->route->naddrs == 0 ? 1 : cli->all_mx ?
	    run->route->naddrs : 1;
	/* --both-families: the first address, and the other family's */
	if (cli->both_families && !cli->all_mx && run->route->naddrs > 0 &&
	    cli_families_pick(run->route, &other) == 0)
		run->nt = 2;
	run->multi = cli->all_mx || run->nt > 1;
	run->t = xcalloc(run->nt, sizeof(*run->t));
	for (i = 0; i < run->nt; i++) {
		struct cli_target *ct = &run->t[i];
		struct route_addr *ra = run->route->naddrs > 0 ?
		    &run->route->addrs[cli->all_mx || i == 0 ? i : other] :
		    NULL;
		const char *host = ra != NULL ? ra->host : run->route->name;

		ct->run = run;
		ct->ra = ra;
		target_init(&ct->tg, &run->conn, run->route, host, ra != NULL ?
		    ra->pref : -1, ra != NULL ? &ra->addr : NULL);

		ct->tg.p.lmtp = cli->lmtp;
		if (cli->unix_path != NULL)
			cli_unix_target(&ct->tg, cli->unix_path);
		ct->sp = (struct scn_params){ .conn = &ct->tg.p,
		    .no_pipelining = cli->no_pipelining,
		    .bdat_chunk = cli->bdat_chunk,
		    .stop_before = cli->stop_before,
		    .quit_after = cli->quit_after, .helo_domain = ct->tg.p.helo,
		    .headers = cli->headers, .nheaders = cli->nheaders,
		    .body = run->body, .bodylen = run->bodylen,
		    .message = run->message,
		    .messagelen = run->messagelen, .version = PACKAGE_VERSION,
		    .esmtp = &cli->esmtp, .mime = &run->mime,
		    .secret = run->secret, .out = &ct->cb, .arg = ct };
		ct->cb = (struct smtp_callbacks){ cli_wire, NULL, NULL,
		    cli_session_done };
		/* --all-mx, --both-families: kept apart, printed in order
		   when all are done */
		ct->out = sink_transcript(&run->sink, run->multi, &ct->buf,
		    &ct->buflen);
		ct->execs = xcalloc(run->nscn, sizeof(*ct->execs));
	}
}

void
cli_preflight(struct cli_run *run)
{
	struct opt_cli		*cli = run->cli;
	char			 err[512];

	/* --dane, --tls-check: TLSA, MTA-STS and TLS-RPT, before the probe */
	if (cli->dane)
		cli_tls_preflight(run, &run->dns, run->txn);

	/* The pre-flight checks, before the probe: DNS facts about us */
	if ((cli->check || cli->diagnose || cli->ticket ||
	    cli->report != NULL) && !cli->no_check &&
	    run->t[0].tg.p.addr != NULL) {
		struct check_params cp;
		struct dns_params dnp = { cli->resolver, NULL, 0, 0 };
		const char *at;

		run->check_ip = cli->public_ip != NULL ?
		    xstrdup(cli->public_ip) : cli_source_ip(
		    run->t[0].tg.p.addr, run->t[0].tg.p.addrlen,
		    run->t[0].tg.p.local, run->t[0].tg.p.locallen);
		if (run->dns == NULL && (run->dns = dns_ctx_new(run->base,
		    &dnp, err, sizeof(err))) == NULL)
			log_warnx("the checks cannot run: %s", err);
		else {
			memset(&cp, 0, sizeof(cp));
			cp.ip = run->check_ip;
			cp.helo = cli->helo != NULL ? cli->helo : run->helo;
			if (run->txn != NULL && (at = strrchr(run->txn[0].from,
			    '@')) != NULL && at[1] != '\0')
				cp.sender_domain = at + 1;
			cp.dnsbl = (const char *const *)cli->dnsbl;
			cp.no_dnsbl = cli->dnsbl != NULL &&
			    cli->dnsbl[0] == NULL;
			cp.dbl = (const char *const *)cli->dbl;
			cp.body = run->body != NULL ? run->body : run->message;
			cp.body_len = run->body != NULL ? run->bodylen :
			    run->messagelen;
			check_run(run->base, run->dns, &cp, cli_checks_done,
			    run);
			event_base_dispatch(run->base);
		}
	}
	if (cli->server_check)
		cli_server_preflight(run);
}

int
cli_diagnose(struct cli_run *run)
{
	struct diag_params	 dp;
	char			*alt;
	int			 rc;

	alt = valid_fqdn(run->t[0].tg.p.helo) ? NULL : opt_default_helo();
	memset(&dp, 0, sizeof(dp));
	dp.conn = &run->t[0].tg.p;
	dp.probe = &run->classic;
	dp.run = &run->t[0].sp;
	dp.alt_helo = alt;
	dp.content = run->cli->diagnose_content;
	dp.checks = run->checks;
	dp.check_ip = run->check_ip;
	rc = diag_run(run->base, &dp, stdout, run->cli->json,
	    PACKAGE_VERSION);
	free(alt);
	return rc;
}

/*
 * cli_sessions - run the targets at once, the scenarios of each in
 * turn; the exit status of them all
 */
int
cli_sessions(struct cli_run *run)
{
	struct opt_cli		*cli = run->cli;
	size_t			 i, j;
	int			 rc, r;

	/* Run: the targets at once, the scenarios of each in turn */
	for (i = 0; i < run->nt; i++)
		cli_next(&run->t[i]);
	if (run->ndone < run->nt)
		event_base_dispatch(run->base);
	if (cli->dane)
		cli_tls_finish(run);
	cli_retry(run);
	cli_server_judge(run);
	rc = 0;
	run->runs = xcalloc(run->nt * run->nscn, sizeof(*run->runs));
	run->nruns = 0;
	for (i = 0; i < run->nt; i++) {
		struct cli_target *ct = &run->t[i];

		if (ct->out != NULL && ct->out != stdout &&
		    ct->out != stderr) {
			/* the memstream: its buffer is final once closed */
			fclose(ct->out);
			ct->out = NULL;
		}
		if (ct->buf != NULL && sink_text(&run->sink)) {
			printf("** %s (%zu of %zu): %s\n", ct->tg.label, i + 1,
			    run->nt, ct->tg.note != NULL ? ct->tg.note : "");
			fwrite(ct->buf, 1, ct->buflen, stdout);
			if (cli->nscenarios == 0 && ct->nexec > 0 &&
			    scn_exec_nrecords(ct->execs[0]) > 0) {
				report_summary(stdout, scn_exec_record(
				    ct->execs[0], 0));
				if (cli->tls_check)
					cli_tls_out(run, ct, stdout, NULL);
			}
		}
		for (j = 0; j < ct->nexec; j++) {
			run->runs[run->nruns++] = (struct report_run){
			    run->scns[j]->name, run->scns[j]->desc,
			    ct->tg.label, ct->execs[j] };
			r = scn_exec_exit(ct->execs[j]);
			if (r == 3 || (r == 1 && rc != 3) || (r == 2 &&
			    rc == 0))
				rc = r;
		}
	}
	return rc;
}

void
cli_run_free(struct cli_run *run)
{
	struct opt_cli		*cli = run->cli;
	size_t			 i, j;

	json_decref(run->bl_base);
	json_decref(run->bl_drift);
	for (i = 0; i < run->nt; i++) {
		struct cli_target *ct = &run->t[i];

		for (j = 0; j < ct->nexec; j++)
			scn_exec_free(ct->execs[j]);
		if (ct->first != NULL)
			scn_exec_free(ct->first);
		free(ct->execs);
		if (ct->out != NULL && ct->out != stdout && ct->out != stderr)
			fclose(ct->out);
		free(ct->buf);
		check_result_free(ct->srv);
		free(ct->srv_ip);
		target_clear(&ct->tg);
	}
	free(run->t);
	route_free(run->route);
	check_result_free(run->checks);
	target_tls_free(run->tls);
	free(run->check_ip);
	dns_ctx_free(run->dns);
	if (run->base != NULL)
		event_base_free(run->base);
	for (i = 0; i < run->nscn; i++)
		scn_free(run->scns[i]);
	free(run->scns);
	free(run->runs);
	scn_vars_clear(&run->vars);
	for (i = 0; i < run->naddrs; i++)
		free(run->addrs[i]);
	free(run->addrs);
	for (i = 0; run->txn != NULL && i < cli->ntxn; i++)
		free(run->txn[i].rcpt);
	free(run->txn);
	free(run->helo);
	free(run->cmdline);
	free(run->body);
	free(run->message);
	free(run->html);
	for (i = 0; i < run->natt; i++)
		free((char *)run->att[i].data);
	free(run->att);
	if (run->secret != NULL) {
		explicit_bzero(run->secret, strlen(run->secret));
		free(run->secret);
	}
	tls_ctx_free(run->ctx);
}

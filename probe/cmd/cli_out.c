/*
 * cli_out.c - what the command line prints: the transcript as it comes,
 * then through the sink chosen once (text, JSON, TAP, ticket, the
 * --report and --junit files), the --all-mx differences and the
 * --tls-check view.
 */
#include "config.h"

#include <sys/socket.h>
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
#include "metrics.h"
#include "msg.h"
#include "mtasts.h"
#include "opt.h"
#include "reply.h"
#include "report.h"
#include "route.h"
#include "schema.h"
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

void
cli_wire(void *arg, enum smtp_wire dir, int tls, int64_t t, const char *text)
{
	struct cli_target *ct = arg;

	if (ct->out != NULL)
		report_wire(ct->out, &ct->run->ro, dir, tls, t, text);
}

/*
 * cli_differences - --all-mx: what differs between the hosts of one
 * domain: STARTTLS on offer, the certificate, the result, the verdict.
 */
void
cli_differences(FILE *fp, json_t *arr, struct cli_run *run)
{
	static const char *const what[] = { "STARTTLS offered",
	    "certificate", "result", "verdict" };
	char	 val[8][4][128];
	size_t	 i, k, n = 0;
	int	 differs;

	for (i = 0; i < run->nt && n < 8; i++, n++) {
		const struct record *r = run->t[i].nexec > 0 ?
		    scn_exec_record(run->t[i].execs[0], 0) : NULL;
		const struct tls_info *tl;
		struct verdict v;

		if (r == NULL) {
			for (k = 0; k < 4; k++)
				snprintf(val[n][k], 128, "-");
			continue;
		}
		tl = record_tls_of(r);
		snprintf(val[n][0], 128, "%s", r->ehlo == NULL ? "unknown" :
		    reply_ehlo_has(r->ehlo, "STARTTLS") || tl->done ?
		    "yes" : "no");
		snprintf(val[n][1], 128, "%s", tl->done && tl->nchain > 0 ?
		    tl->chain[0].sha256 : "-");
		snprintf(val[n][2], 128, "%s", record_status_name(r->status));
		verdict_record(r, &v);
		snprintf(val[n][3], 128, "%s/%s", v.class, v.reason);
	}
	for (k = 0; k < 4; k++) {
		differs = 0;
		for (i = 1; i < n; i++)
			if (strcmp(val[i][k], val[0][k]) != 0)
				differs = 1;
		if (!differs)
			continue;
		if (fp != NULL) {
			fprintf(fp, "!! the MX hosts differ in %s:\n", what[k]);
			for (i = 0; i < n; i++)
				fprintf(fp, "!!   %s: %s\n", run->t[i].tg.label,
				    val[i][k]);
		}
		if (arr != NULL) {
			json_t	*o = json_object();

			for (i = 0; i < n; i++)
				json_object_set_new(o, run->t[i].tg.label,
				    json_string(val[i][k]));
			json_array_append_new(arr, json_pack("{s:s, s:o}",
			    "what", what[k], "values", o));
		}
	}
}

/*
 * cli_tls_finish - after the sessions: the DANE findings the engine
 * could not add (no TLS at all), and with --tls-check the MTA-STS ones.
 */
void
cli_tls_finish(struct cli_run *run)
{
	size_t	 i, j, k;

	for (i = 0; i < run->nt; i++) {
		struct cli_target *ct = &run->t[i];

		for (j = 0; j < ct->nexec; j++)
			for (k = 0; k < scn_exec_nrecords(ct->execs[j]); k++)
				target_tls_settle(run->tls, &ct->tg,
				    run->route, scn_exec_record_mut(
				    ct->execs[j], k), j == 0 && k == 0);
	}
}

void
cli_tls_out(struct cli_run *run, struct cli_target *ct, FILE *fp,
    json_t *obj)
{
	struct tlscheck_target	 tt;

	target_tls_view(run->tls, &ct->tg, run->route, ct->nexec > 0 &&
	    scn_exec_nrecords(ct->execs[0]) > 0 ? scn_exec_record(ct->execs[0],
	    0) : NULL, &tt);
	if (fp != NULL)
		tlscheck_print(fp, &tt);
	if (obj != NULL)
		json_object_set_new(obj, "tls_check", tlscheck_json(&tt));
}

void
cli_ticket_write(FILE *fp, void *arg)
{
	struct cli_run	*run = arg;

	report_ticket(fp, scn_exec_record(run->t[0].execs[0], 0), &run->ti);
}

void
cli_junit_write(FILE *fp, void *arg)
{
	struct cli_run	*run = arg;

	report_junit(fp, run->runs, run->nruns, PACKAGE_VERSION);
}

void
cli_tls_extra(FILE *fp, json_t *obj, void *arg)
{
	struct cli_run	*run = arg;

	if (run->cli->tls_check)
		cli_tls_out(run, &run->t[0], fp, obj);
	if (obj != NULL)
		cli_baseline_out(run, NULL, obj);
}

void
cli_allmx_json(struct cli_run *run, int rc)
{
	json_t	*doc, *arr = json_array(), *notes = json_array();
	json_t	*diff = json_array(), *o;
	size_t	 i;

	for (i = 0; i < run->route->nnotes; i++)
		json_array_append_new(notes,
		    json_string(run->route->notes[i]));
	for (i = 0; i < run->nt; i++) {
		o = report_json_doc(scn_exec_record(run->t[i].execs[0], 0),
		    PACKAGE_VERSION);
		json_object_del(o, "schema");
		json_object_del(o, "tool");
		o = json_pack("{s:s, s:i, s:s, s:o}", "mx",
		    run->t[i].ra->host, "preference", run->t[i].ra->pref,
		    "address", run->t[i].ra->addr.text, "probe", o);
		if (run->cli->tls_check)
			cli_tls_out(run, &run->t[i], NULL, o);
		json_array_append_new(arr, o);
	}
	cli_differences(NULL, diff, run);
	cli_families(NULL, diff, run);
	doc = json_pack("{s:s, s:{s:s, s:s}, s:s, s:o, s:o, s:o, s:i}",
	    "schema", SCHEMA_ALL_MX,
	    "tool", "name", "smtprobe", "version", PACKAGE_VERSION,
	    "domain", run->route->name, "resolution", notes,
	    "targets", arr, "differences", diff, "exit_code", rc);
	cli_baseline_out(run, NULL, doc);
	sink_doc(&run->sink, doc);
}

/*
 * cli_metrics - --metrics: every session of every target; the run's
 * time from the first session's start
 */
static void
cli_metrics(struct cli_run *run, int rc)
{
	struct metrics		*m;
	const struct record	*r;
	int64_t			 t0 = -1;
	size_t			 i, j, k;

	m = metrics_new(run->cli->nscenarios > 0 ? "suite" : "probe");
	for (i = 0; i < run->nt; i++)
		for (j = 0; j < run->t[i].nexec; j++)
			for (k = 0; k < scn_exec_nrecords(run->t[i].execs[j]);
			    k++) {
				r = scn_exec_record(run->t[i].execs[j], k);
				metrics_add(m, r, run->t[i].tg.label);
				if (t0 < 0 || r->t0 < t0)
					t0 = r->t0;
			}
	metrics_write(run->cli->metrics, m, t0 < 0 ? 0 :
	    (double)(util_now_us() - t0) / 1e6, rc);
	metrics_free(m);
}

void
cli_output(struct cli_run *run, int rc, int argc, char **argv)
{
	struct opt_cli		*cli = run->cli;
	const struct sink	*sk = &run->sink;

	if (run->checks != NULL && run->t[0].nexec > 0) {
		/* the checks belong to the first session of the first host */
		struct record *r0 = scn_exec_record_mut(run->t[0].execs[0], 0);

		cli_attach_checks(r0, run->checks, run->check_ip);
		if (r0 != NULL && run->t[0].buf != NULL &&
		    sk->kind != SINK_JSON && cli->nscenarios > 0)
			report_checks(stdout, r0);
	}
	if (cli->all_mx && sk->kind != SINK_JSON && sk->kind != SINK_TAP)
		cli_differences(stdout, NULL, run);
	if (run->multi && sk->kind != SINK_JSON && sk->kind != SINK_TAP)
		cli_families(stdout, NULL, run);
	if (cli->nscenarios == 0 && !run->multi &&
	    scn_exec_nrecords(run->t[0].execs[0]) > 0) {
		/* the default probe: the output of one session */
		if (sk->kind == SINK_TICKET || cli->report != NULL) {
			run->ti.version = PACKAGE_VERSION;
			run->ti.cmdline = run->cmdline = cli_cmdline(argc,
			    argv);
			run->ti.mask = cli->mask_local ?
			    (const char **)run->addrs : NULL;
			run->ti.nmask = cli->mask_local ? run->naddrs : 0;
			if (cli->report != NULL)
				sink_file(cli->report, "--report",
				    cli_ticket_write, run);
			else
				cli_ticket_write(stdout, run);
		}
		sink_record(sk, scn_exec_record(run->t[0].execs[0], 0),
		    cli->tls_check || run->bl_drift != NULL ? cli_tls_extra :
		    NULL, run);
	} else if (sk->kind == SINK_JSON && cli->nscenarios == 0 &&
	    run->route->naddrs > 0)
		cli_allmx_json(run, rc);
	else
		sink_suite(sk, run->runs, run->nruns, rc,
		    cli->nscenarios > 0 || run->multi);
	sink_tap(sk, run->runs, run->nruns);
	if (cli->junit != NULL)
		sink_file(cli->junit, "--junit", cli_junit_write, run);
	if (cli->metrics != NULL)
		cli_metrics(run, rc);
}

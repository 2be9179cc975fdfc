/*
 * report.c - transcript, summary and JSON (see include/report.h).
 *
 * Transcript marks: "-> " client to server and "<- " server to client
 * in plaintext, "~> " and "<~ " under TLS, "** " a note, "!! " a
 * warning or an error. JSON keys are documented in smtprobe(1) and are
 * stable: new keys may appear, existing ones keep their meaning.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonw.h"
#include "log.h"
#include "record.h"
#include "report.h"
#include "schema.h"
#include "scn.h"
#include "smtp.h"
#include "util.h"
#include "verdict.h"

static json_t	*json_ms(int64_t);
static json_t	*json_step(const struct record *, const struct step *);
static json_t	*json_tls(const struct tls_info *);
static json_t	*json_dane(const struct tls_dane *);
static json_t	*json_verdict(const struct verdict *);

void
report_wire(FILE *fp, const struct report_opts *o, enum smtp_wire dir,
    int tls, int64_t t_us, const char *text)
{
	const char	*mark;

	switch (dir) {
	case WIRE_SEND:
		mark = tls ? "~> " : "-> ";
		break;
	case WIRE_RECV:
		mark = tls ? "<~ " : "<- ";
		break;
	case WIRE_INFO:
		mark = "** ";
		break;
	case WIRE_WARN:
		mark = "!! warning: ";
		break;
	default:
		mark = "!! error: ";
		break;
	}
	if (o != NULL && o->timestamps)
		fprintf(fp, "[%10.3fms] ", (double)t_us / 1000.0);
	fprintf(fp, "%s%s\n", mark, text);
}

void
report_result(FILE *fp, const struct record *r)
{
	fprintf(fp, "** result: %s (exit %d)\n", r->message != NULL ?
	    r->message : record_status_name(r->status), record_exit_code(r));
}

void
report_summary(FILE *fp, const struct record *r)
{
	size_t	 i;

	fprintf(fp, "** steps:\n");
	for (i = 0; i < r->nsteps; i++) {
		const struct step *st = &r->steps[i];
		char	 code[32] = "";
		double	 ms;

		if (st->reply != NULL)
			snprintf(code, sizeof(code), "%d%s%s", st->reply->code,
			    st->reply->enhanced[0] ? " " : "",
			    st->reply->enhanced);
		ms = st->t_done >= 0 && st->t_sent >= 0 ?
		    (double)(st->t_done - st->t_sent) / 1000.0 : 0.0;
		fprintf(fp, "**   %-9s %-4s %-9s %-10s %9.2f ms%s%s%s%s%s\n",
		    stage_name(st->stage), st->tls ? "tls" : "",
		    record_outcome_name(st->outcome), code, ms,
		    st->command != NULL ? "  " : "",
		    st->command != NULL ? st->command : "",
		    st->rcpt != NULL ? "  for " : "",
		    st->rcpt != NULL ? st->rcpt : "",
		    st->expect > 0 ? "  [as expected]" : st->expect < 0 ?
		    "  [NOT as expected]" : "");
	}
	for (i = 0; i < r->nfindings; i++)
		fprintf(fp, "** %s (%s, %s): %s\n",
		    record_level_name(r->findings[i].level),
		    r->findings[i].kind, stage_name(r->findings[i].stage),
		    r->findings[i].detail);
	report_checks(fp, r);
	report_result(fp, r);
	report_verdict(fp, r);
}

void
report_verdict_text(FILE *fp, const struct verdict *v)
{
	const char	*meaning = verdict_enhanced_meaning(v->enhanced);

	fprintf(fp, "** verdict: %s (%s)", v->class, v->reason);
	if (v->stage >= 0)
		fprintf(fp, " at %s", stage_name(v->stage));
	fprintf(fp, ", confidence %d%%, rule %s%s%s%s\n", v->confidence,
	    v->rule, v->words[0] ? ", matched \"" : "", v->words,
	    v->words[0] ? "\"" : "");
	if (v->nevidence > 0) {
		char	 ev[512];

		verdict_evidence_line(v, ev, sizeof(ev));
		fprintf(fp, "** evidence: %s\n", ev);
	}
	if (meaning != NULL)
		fprintf(fp, "** enhanced code %s: %s\n", v->enhanced, meaning);
	if (v->context[0] != '\0')
		fprintf(fp, "** the checks say: %s\n", v->context);
	if (v->advice != NULL && v->advice[0] != '\0')
		fprintf(fp, "** advice: %s\n", v->advice);
}

/* report_checks - the pre-flight checks, one line each */
void
report_checks(FILE *fp, const struct record *r)
{
	size_t	 i;

	if (!r->checked)
		return;
	fprintf(fp, "** checks%s%s:\n", r->check_ip != NULL ? " for " : "",
	    r->check_ip != NULL ? r->check_ip : "");
	for (i = 0; i < r->nchecks; i++) {
		const struct record_check *c = &r->checks[i];

		fprintf(fp, "**   %-10s %-5s %s\n", c->name, c->status,
		    c->evidence != NULL ? c->evidence : "");
	}
	if (r->nchecks == 0)
		fprintf(fp, "**   (nothing to check)\n");
}

void
report_verdict(FILE *fp, const struct record *r)
{
	struct verdict	 v;

	verdict_record(r, &v);
	report_verdict_text(fp, &v);
}

static json_t *
json_ms(int64_t us)
{
	return us < 0 ? json_null() : json_real((double)(us / 10) / 100.0);
}

/* json_evidence - the verdict's evidence: what matched, for the winner */
static json_t *
json_evidence(const struct verdict *v)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < v->nevidence; i++) {
		const struct verdict_evidence *e = &v->evidence[i];

		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:i, s:o}",
		    "rule", e->rule, "kind", e->kind, "reason", e->reason,
		    "weight", e->weight, "matched", e->words[0] != '\0' ?
		    jw_string(e->words) : json_null()));
	}
	return a;
}

static json_t *
json_verdict(const struct verdict *v)
{
	const char	*meaning = verdict_enhanced_meaning(v->enhanced);
	json_t		*o;

	o = json_pack("{s:s, s:s, s:o, s:i, s:s, s:o, s:o, s:o, s:s, "
	    "s:o}",
	    "class", v->class, "reason", v->reason,
	    "stage", v->stage >= 0 ? json_string(stage_name(v->stage)) :
	    json_null(),
	    "confidence", v->confidence, "rule", v->rule,
	    "matched", v->words[0] ? jw_string(v->words) : json_null(),
	    "enhanced", v->enhanced[0] ? json_string(v->enhanced) :
	    json_null(),
	    "enhanced_meaning", jw_string(meaning),
	    "advice", v->advice != NULL ? v->advice : "",
	    "context", v->context[0] != '\0' ? jw_string(v->context) :
	    json_null());
	json_object_set_new(o, "evidence", json_evidence(v));
	json_object_set_new(o, "runner_up", v->runner_up != NULL ?
	    json_pack("{s:s, s:i}", "class", v->runner_up, "score",
	    v->runner_score) : json_null());
	return o;
}

json_t *
report_json_verdict(const struct verdict *v)
{
	return json_verdict(v);
}

static json_t *
json_step(const struct record *r, const struct step *st)
{
	struct verdict	 v;
	json_t	*j, *lines;
	size_t	 i;

	j = json_pack("{s:s, s:i, s:o, s:b, s:s, s:o, s:o, s:o, s:o}",
	    "stage", stage_name(st->stage),
	    "txn", st->txn,
	    "command", jw_string(st->command),
	    "tls", st->tls,
	    "outcome", record_outcome_name(st->outcome),
	    "detail", jw_string(st->detail),
	    "sent_ms", json_ms(st->t_sent),
	    "first_ms", json_ms(st->t_first),
	    "done_ms", json_ms(st->t_done));
	if (st->line > 0)
		json_object_set_new(j, "line", json_integer(st->line));
	if (st->rcpt != NULL)	/* LMTP: whose reply after the message */
		json_object_set_new(j, "rcpt", json_string(st->rcpt));
	if (st->expect != 0)
		json_object_set_new(j, "expect", json_pack("{s:b, s:o}",
		    "met", st->expect > 0, "text",
		    jw_string(st->expect_text)));
	if (st->outcome != OUT_OK && st->outcome != OUT_SKIPPED &&
	    st->stage != STAGE_QUIT) {
		verdict_step(r, st, &v);
		json_object_set_new(j, "verdict", json_verdict(&v));
	}
	if (st->reply == NULL) {
		json_object_set_new(j, "reply", json_null());
		return j;
	}
	lines = json_array();
	for (i = 0; i < st->reply->nlines; i++)
		json_array_append_new(lines, jw_string(st->reply->lines[i]));
	json_object_set_new(j, "reply", json_pack("{s:i, s:o, s:o}",
	    "code", st->reply->code,
	    "enhanced", st->reply->enhanced[0] ?
	    json_string(st->reply->enhanced) : json_null(),
	    "lines", lines));
	return j;
}

static json_t *
json_tls(const struct tls_info *t)
{
	json_t	*chain, *c, *san, *j;
	size_t	 i, k;

	if (!t->done)
		return json_null();
	chain = json_array();
	for (i = 0; i < t->nchain; i++) {
		const struct tls_cert *tc = &t->chain[i];

		san = json_array();
		for (k = 0; k < tc->nsan; k++)
			json_array_append_new(san, jw_string(tc->san[k]));
		c = json_pack("{s:o, s:o, s:o, s:s, s:s, s:b, s:I, s:s}",
		    "subject", jw_string(tc->subject), "issuer",
		    jw_string(tc->issuer), "san", san,
		    "not_before", tc->not_before, "not_after", tc->not_after,
		    "expired", tc->expired, "days_left",
		    (json_int_t)tc->days_left, "sha256", tc->sha256);
		json_object_set_new(c, "spki_sha256", jw_string(tc->spki));
		if (tc->pem != NULL)
			json_object_set_new(c, "pem", jw_string(tc->pem));
		if (t->dane.checked)
			json_object_set_new(c, "tlsa", jw_string(tc->tlsa));
		json_array_append_new(chain, c);
	}
	j = json_pack("{s:s, s:s, s:i, s:o, s:o, s:o, s:b, s:I, s:s, "
	    "s:{s:b, s:I, s:s}, s:o, s:o}",
	    "version", t->version, "cipher", t->cipher, "bits", t->bits,
	    "group", jw_string(t->group), "sni", jw_string(t->sni),
	    "verify_name", jw_string(t->verify_name),
	    "verified", t->verify_code == 0,
	    "verify_code", (json_int_t)t->verify_code,
	    "verify_error", t->verify_error,
	    "pkix", "verified", t->pkix_code == 0, "code",
	    (json_int_t)t->pkix_code, "error", t->pkix_error != NULL ?
	    t->pkix_error : "",
	    "name_match", t->name_match < 0 ? json_null() :
	    json_boolean(t->name_match),
	    "chain", chain);
	json_object_set_new(j, "dane", json_dane(&t->dane));
	return j;
}

/* json_dane - the DANE part of "tls" (--dane), or null */
static json_t *
json_dane(const struct tls_dane *d)
{
	json_t	*recs;
	size_t	 i;

	if (!d->checked)
		return json_null();
	recs = json_array();
	for (i = 0; i < d->nrecords; i++)
		json_array_append_new(recs, json_pack("{s:s, s:b, s:o}",
		    "record", d->records[i], "usable", d->notes[i] == NULL,
		    "note", jw_string(d->notes[i])));
	return json_pack("{s:s, s:s, s:s, s:b, s:o, s:o, s:o, s:o, s:o, "
	    "s:s}",
	    "status", d->status, "lookup", d->lookup, "qname", d->qname,
	    "ad", d->ad, "resolver", jw_string(d->resolver), "records", recs,
	    "matched", jw_string(d->matched),
	    "depth", d->depth >= 0 ? json_integer(d->depth) : json_null(),
	    "result_type", jw_string(d->result_type), "detail", d->detail);
}

json_t *
report_json_doc(const struct record *r, const char *version)
{
	json_t	*doc, *steps, *findings, *ehlo = json_null(), *ext;
	size_t	 i;

	steps = json_array();
	for (i = 0; i < r->nsteps; i++)
		json_array_append_new(steps, json_step(r, &r->steps[i]));
	findings = json_array();
	for (i = 0; i < r->nfindings; i++)
		json_array_append_new(findings, json_pack(
		    "{s:s, s:s, s:s, s:s, s:o}",
		    "level", record_level_name(r->findings[i].level),
		    "severity", record_level_name(r->findings[i].level),
		    "kind", r->findings[i].kind,
		    "stage", stage_name(r->findings[i].stage),
		    "detail", jw_string(r->findings[i].detail)));
	if (r->ehlo != NULL) {
		ext = json_object();
		for (i = 0; i < r->ehlo->next; i++)
			json_object_set_new(ext, r->ehlo->ext[i].keyword,
			    jw_string(r->ehlo->ext[i].params));
		ehlo = json_pack("{s:o, s:o}", "domain",
		    jw_string(r->ehlo->domain),
		    "extensions", ext);
	}
	doc = json_pack("{s:s, s:{s:s, s:s}, s:s, s:o, s:{s:s, s:s, s:o, s:s}, "
	    "s:o, s:o, s:o, s:o, s:o, s:o, s:{s:i, s:i}, "
	    "s:{s:s, s:o, s:i, s:o}}",
	    "schema", SCHEMA_PROBE,
	    "tool", "name", "smtprobe", "version", version,
	    "started", r->started,
	    "duration_ms", json_ms(r->t_end),
	    "target", "host", r->host, "port", r->port,
	    "address", jw_string(r->address), "tls_mode", r->tls_mode,
	    "source", jw_string(r->source),
	    "helo", jw_string(r->helo),
	    "steps", steps,
	    "ehlo", ehlo,
	    "tls", json_tls(record_tls_of(r)),
	    "findings", findings,
	    "recipients", "accepted", r->rcpt_ok, "rejected",
	    r->rcpt_rejected,
	    "result", "status", record_status_name(r->status),
	    "stage", r->status == RES_OK ? json_null() :
	    json_string(stage_name(r->fail_stage)),
	    "exit_code", record_exit_code(r),
	    "message", jw_string(r->message));
	if (doc == NULL)
		fatalx("cannot build the JSON document");
	json_object_set_new(json_object_get(doc, "result"), "failure",
	    r->status == RES_ERROR ? json_string(record_fail_kind_name(
	    r->fail_kind)) : json_null());
	if (r->checked) {
		json_t	*items = json_array();

		for (i = 0; i < r->nchecks; i++) {
			const struct record_check *c = &r->checks[i];

			json_array_append_new(items, json_pack("{s:s, s:o, "
			    "s:o, s:o, s:s, s:o}", "name", c->name,
			    "subject", jw_string(c->subject),
			    "zone", jw_string(c->zone),
			    "answer", jw_string(c->answer),
			    "status", c->status,
			    "evidence", jw_string(c->evidence)));
		}
		json_object_set_new(doc, "checks", json_pack("{s:o, s:o}",
		    "ip", jw_string(r->check_ip), "items", items));
	} else
		json_object_set_new(doc, "checks", json_null());
	if (r->nresolution > 0) {
		json_t	*res = json_array();

		for (i = 0; i < r->nresolution; i++)
			json_array_append_new(res,
			    jw_string(r->resolution[i]));
		json_object_set_new(doc, "resolution", res);
	} else
		json_object_set_new(doc, "resolution", json_null());
	{
		struct verdict	 v;

		verdict_record(r, &v);
		json_object_set_new(doc, "verdict", json_verdict(&v));
	}
	return doc;
}

int
report_json(FILE *fp, const struct record *r, const char *version)
{
	json_t	*doc = report_json_doc(r, version);
	int	 rc;

	rc = json_dumpf(doc, fp, REPORT_JSON_FLAGS);
	fputc('\n', fp);
	json_decref(doc);
	return rc == 0 && !ferror(fp) ? 0 : -1;
}

/* ticket_line - print s with the local parts of ti->mask hidden */
static void
ticket_line(FILE *fp, const struct ticket_info *ti, const char *pfx,
    const char *s)
{
	char	*line = xstrdup(s), *hit;
	size_t	 i, n;

	for (i = 0; i < ti->nmask; i++) {
		const char *at = strrchr(ti->mask[i], '@');

		if (at == NULL || at == ti->mask[i])
			continue;
		n = (size_t)(at - ti->mask[i]);
		while ((hit = strstr(line, ti->mask[i])) != NULL) {
			char *nl = xasprintf("%.*s***%s", (int)(hit - line),
			    line, hit + n);

			free(line);
			line = nl;
		}
	}
	fprintf(fp, "%s%s\n", pfx, line);
	free(line);
}

void
report_ticket(FILE *fp, const struct record *r, const struct ticket_info *ti)
{
	struct verdict	 v;
	char		 now[32];
	const struct tls_info *tl = record_tls_of(r);
	size_t		 i, j, k;

	util_utc_iso(now, sizeof(now));
	verdict_record(r, &v);
	fprintf(fp, "SMTP probe report\n=================\n");
	fprintf(fp, "tool:        smtprobe %s\n", ti->version);
	fprintf(fp, "started:     %s (UTC)\n", r->started);
	fprintf(fp, "finished:    %s (UTC), %.1f ms\n", now,
	    (double)r->t_end / 1000.0);
	ticket_line(fp, ti, "reproduce:   ", ti->cmdline);
	fprintf(fp, "server:      %s port %s, connected to %s\n", r->host,
	    r->port, r->address != NULL ? r->address : "(no connection)");
	for (i = 0; i < r->nresolution; i++)
		fprintf(fp, "dns:         %s\n", r->resolution[i]);
	for (i = 0; i < r->nsteps; i++)
		if (r->steps[i].stage == STAGE_RESOLVE &&
		    r->steps[i].detail != NULL)
			fprintf(fp, "resolution:  %s\n", r->steps[i].detail);
	fprintf(fp, "source:      %s\n", r->source != NULL ? r->source :
	    "(none)");
	fprintf(fp, "helo:        %s\n", r->helo != NULL ? r->helo : "(none)");
	fprintf(fp, "tls mode:    %s\n", r->tls_mode);
	if (tl->done) {
		fprintf(fp, "tls:         %s, %s (%d bits)\n", tl->version,
		    tl->cipher, tl->bits);
		fprintf(fp, "certificate: %s (%s)\n", tl->verify_code == 0 ?
		    "verified" : "NOT verified", tl->verify_error);
		if (tl->dane.checked)
			fprintf(fp, "dane:        %s: %s\n", tl->dane.status,
			    tl->dane.detail);
		for (i = 0; i < tl->nchain; i++)
			fprintf(fp, "  [%zu] %s, issuer %s, %s to %s%s, spki "
			    "sha256 %s\n", i, tl->chain[i].subject,
			    tl->chain[i].issuer, tl->chain[i].not_before,
			    tl->chain[i].not_after,
			    tl->chain[i].expired ? " (EXPIRED)" : "",
			    tl->chain[i].spki != NULL ?
			    tl->chain[i].spki : "");
	}
	{
		char	*res = xasprintf("%s (exit %d)", r->message != NULL ?
		    r->message : record_status_name(r->status),
		    record_exit_code(r));

		fputc('\n', fp);
		ticket_line(fp, ti, "result:      ", res);
		free(res);
	}
	fprintf(fp, "verdict:     %s (%s), confidence %d%%, rule %s\n",
	    v.class, v.reason, v.confidence, v.rule);
	if (v.words[0] != '\0') {
		char	*ev = xasprintf("\"%s\"", v.words);

		ticket_line(fp, ti, "evidence:    ", ev);
		free(ev);
	}
	if (v.context[0] != '\0')
		ticket_line(fp, ti, "checks say:  ", v.context);
	fprintf(fp, "advice:      %s\n", v.advice);
	if (r->checked) {
		fprintf(fp, "\npre-flight checks%s%s\n", r->check_ip != NULL ?
		    " for " : "", r->check_ip != NULL ? r->check_ip : "");
		for (i = 0; i < r->nchecks; i++) {
			char	*ln = xasprintf("%-10s %-5s %s",
			    r->checks[i].name, r->checks[i].status,
			    r->checks[i].evidence != NULL ?
			    r->checks[i].evidence : "");

			ticket_line(fp, ti, "  ", ln);
			free(ln);
		}
	}
	fprintf(fp, "\ntranscript (-> sent, <- received, ~ under TLS; "
	    "times in ms since start)\n");
	for (i = 0; i < r->nsteps; i++) {
		const struct step *st = &r->steps[i];
		char	 pfx[48];

		if (st->command != NULL && st->stage != STAGE_EOD) {
			snprintf(pfx, sizeof(pfx), "[%9.3f] %s ",
			    (double)st->t_sent / 1000.0, st->tls ? "~>" : "->");
			ticket_line(fp, ti, pfx, st->command);
		} else if (st->stage == STAGE_EOD)
			fprintf(fp, "[%9.3f] %s (message text and final dot)\n",
			    (double)st->t_sent / 1000.0, st->tls ? "~>" : "->");
		for (j = 0; st->reply != NULL && j < st->reply->nlines; j++) {
			snprintf(pfx, sizeof(pfx), "[%9.3f] %s ",
			    (double)(j == 0 ? st->t_first : st->t_done) /
			    1000.0, st->tls ? "<~" : "<-");
			ticket_line(fp, ti, pfx, st->reply->lines[j]);
		}
		if (st->detail != NULL && st->outcome != OUT_OK) {
			snprintf(pfx, sizeof(pfx), "[%9.3f] !! ",
			    (double)st->t_done / 1000.0);
			ticket_line(fp, ti, pfx, st->detail);
		}
	}
	for (k = 0; k < r->nfindings; k++) {
		char	*fd = xasprintf("%s %s: %s",
		    record_level_name(r->findings[k].level),
		    r->findings[k].kind, r->findings[k].detail);

		ticket_line(fp, ti, "finding:     ", fd);
		free(fd);
	}
}

/* ---- scenario runs: summary, TAP, JUnit XML, JSON ---- */

static const char *const scn_status_names[] = {
	[SCN_NOTRUN] = "notrun",
	[SCN_PASS] = "pass",
	[SCN_FAIL] = "fail",
	[SCN_SKIP] = "skip",
};

/* run_label - "FILE:LINE keyword argument" for one step (caller frees) */
static char *
run_label(const struct report_run *run, const struct scn_result *res,
    size_t idx)
{
	const struct scn_step *st = res->step;
	char	*arg = NULL, *out;

	if (st->arg != NULL && st->op != SCN_AUTH)
		arg = util_escape(st->arg, strlen(st->arg));
	else if (st->op == SCN_AUTH)
		arg = xasprintf("%s %s", smtp_auth_mech_name(st->mech),
		    st->arg);
	if (st->line > 0)
		out = xasprintf("%s:%d %s%s%s", run->scenario, st->line,
		    scn_op_name(st->op), arg != NULL ? " " : "",
		    arg != NULL ? arg : "");
	else
		out = xasprintf("%s#%zu %s%s%s", run->scenario, idx + 1,
		    scn_op_name(st->op), arg != NULL ? " " : "",
		    arg != NULL ? arg : "");
	free(arg);
	return out;
}

/* run_step - the record's step for a result, or NULL */
static const struct step *
run_step(const struct report_run *run, const struct scn_result *res)
{
	const struct record *r;

	if (res->session < 0 || res->rstep < 0 ||
	    (r = scn_exec_record(run->exec, (size_t)res->session)) == NULL ||
	    (size_t)res->rstep >= r->nsteps)
		return NULL;
	return &r->steps[res->rstep];
}

static void
run_counts(const struct report_run *run, size_t c[4])
{
	const struct scn_result *res;
	size_t	 n, i;

	res = scn_exec_results(run->exec, &n);
	c[0] = c[1] = c[2] = c[3] = 0;
	for (i = 0; i < n; i++)
		c[res[i].status]++;
}

void
report_run_summary(FILE *fp, const struct report_run *run)
{
	size_t	 c[4];

	run_counts(run, c);
	fprintf(fp, "** scenario %s against %s: %zu passed, %zu failed, "
	    "%zu skipped, %zu not run (exit %d)\n", run->scenario,
	    run->target, c[SCN_PASS], c[SCN_FAIL], c[SCN_SKIP],
	    c[SCN_NOTRUN], scn_exec_exit(run->exec));
}

int
report_tap(FILE *fp, const struct report_run *runs, size_t nruns)
{
	const struct scn_result *res;
	size_t	 n, i, k, total = 0, num = 0;
	char	*label;

	for (k = 0; k < nruns; k++) {
		scn_exec_results(runs[k].exec, &n);
		total += n;
	}
	fprintf(fp, "TAP version 13\n1..%zu\n", total);
	for (k = 0; k < nruns; k++) {
		res = scn_exec_results(runs[k].exec, &n);
		fprintf(fp, "# scenario %s against %s\n", runs[k].scenario,
		    runs[k].target);
		for (i = 0; i < n; i++) {
			label = run_label(&runs[k], &res[i], i);
			num++;
			switch (res[i].status) {
			case SCN_PASS:
				fprintf(fp, "ok %zu - %s\n", num, label);
				break;
			case SCN_FAIL:
				fprintf(fp, "not ok %zu - %s\n", num, label);
				if (res[i].detail != NULL)
					fprintf(fp, "  ---\n  message: \"%s\"\n"
					    "  ...\n", res[i].detail);
				break;
			default:
				fprintf(fp, "ok %zu - %s # SKIP %s\n", num,
				    label, res[i].detail != NULL ?
				    res[i].detail : "not run");
				break;
			}
			free(label);
		}
	}
	return ferror(fp) ? -1 : 0;
}

/* xml_text - s with &, <, >, " and ' as entities */
static void
xml_text(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", fp);
			break;
		case '<':
			fputs("&lt;", fp);
			break;
		case '>':
			fputs("&gt;", fp);
			break;
		case '"':
			fputs("&quot;", fp);
			break;
		case '\'':
			fputs("&apos;", fp);
			break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\n')
				fprintf(fp, "\\x%02x", (unsigned char)*s);
			else
				fputc(*s, fp);
		}
	}
}

int
report_junit(FILE *fp, const struct report_run *runs, size_t nruns,
    const char *version)
{
	const struct scn_result *res;
	const struct step *st;
	const struct record *r0;
	size_t	 n, i, k, j, c[4], all[4] = { 0, 0, 0, 0 };
	char	*label;
	double	 t;

	for (k = 0; k < nruns; k++) {
		run_counts(&runs[k], c);
		for (i = 0; i < 4; i++)
			all[i] += c[i];
	}
	fprintf(fp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<testsuites name=\"smtprobe %s\" tests=\"%zu\" failures=\"%zu\" "
	    "errors=\"0\" skipped=\"%zu\">\n", version,
	    all[0] + all[1] + all[2] + all[3], all[SCN_FAIL],
	    all[SCN_SKIP] + all[SCN_NOTRUN]);
	for (k = 0; k < nruns; k++) {
		res = scn_exec_results(runs[k].exec, &n);
		run_counts(&runs[k], c);
		r0 = scn_exec_record(runs[k].exec, 0);
		t = 0;
		for (j = 0; j < scn_exec_nrecords(runs[k].exec); j++)
			t += (double)scn_exec_record(runs[k].exec,
			    j)->t_end / 1e6;
		fputs("  <testsuite name=\"", fp);
		xml_text(fp, runs[k].scenario);
		fputs(" @ ", fp);
		xml_text(fp, runs[k].target);
		fprintf(fp, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
		    "skipped=\"%zu\" time=\"%.3f\"%s%s%s>\n", n, c[SCN_FAIL],
		    c[SCN_SKIP] + c[SCN_NOTRUN], t, r0 != NULL ?
		    " timestamp=\"" : "", r0 != NULL ? r0->started : "",
		    r0 != NULL ? "\"" : "");
		for (i = 0; i < n; i++) {
			label = run_label(&runs[k], &res[i], i);
			st = run_step(&runs[k], &res[i]);
			fputs("    <testcase classname=\"", fp);
			xml_text(fp, runs[k].scenario);
			fputs("\" name=\"", fp);
			xml_text(fp, label);
			fprintf(fp, "\" time=\"%.3f\"", st != NULL &&
			    st->t_done >= 0 && st->t_sent >= 0 ?
			    (double)(st->t_done - st->t_sent) / 1e6 : 0.0);
			free(label);
			if (res[i].status == SCN_PASS) {
				fputs("/>\n", fp);
				continue;
			}
			fputs(">\n", fp);
			if (res[i].status == SCN_FAIL) {
				fputs("      <failure message=\"", fp);
				xml_text(fp, res[i].detail != NULL ?
				    res[i].detail : "failed");
				fprintf(fp, "\" type=\"%s\">", res[i].step->
				    expect != NULL ? "expectation" : "refused");
				if (st != NULL && st->command != NULL) {
					fputs("&gt; ", fp);
					xml_text(fp, st->command);
					fputc('\n', fp);
				}
				for (j = 0; st != NULL && st->reply != NULL &&
				    j < st->reply->nlines; j++) {
					fputs("&lt; ", fp);
					xml_text(fp, st->reply->lines[j]);
					fputc('\n', fp);
				}
				fputs("</failure>\n", fp);
			} else {
				fputs("      <skipped message=\"", fp);
				xml_text(fp, res[i].detail != NULL ?
				    res[i].detail : "not run");
				fputs("\"/>\n", fp);
			}
			fputs("    </testcase>\n", fp);
		}
		fputs("  </testsuite>\n", fp);
	}
	fputs("</testsuites>\n", fp);
	return ferror(fp) ? -1 : 0;
}

int
report_suite_json(FILE *fp, const struct report_run *runs, size_t nruns,
    const char *version, int exit_code)
{
	const struct scn_result *res;
	json_t	*doc, *arr, *sessions, *steps, *o;
	size_t	 n, i, k, c[4], all[4] = { 0, 0, 0, 0 };
	char	*label;
	int	 rc;

	arr = json_array();
	for (k = 0; k < nruns; k++) {
		res = scn_exec_results(runs[k].exec, &n);
		run_counts(&runs[k], c);
		for (i = 0; i < 4; i++)
			all[i] += c[i];
		sessions = json_array();
		for (i = 0; i < scn_exec_nrecords(runs[k].exec); i++) {
			o = report_json_doc(scn_exec_record(runs[k].exec, i),
			    version);
			json_object_del(o, "schema");
			json_object_del(o, "tool");
			json_array_append_new(sessions, o);
		}
		steps = json_array();
		for (i = 0; i < n; i++) {
			label = run_label(&runs[k], &res[i], i);
			o = json_pack("{s:s, s:i, s:s, s:s, s:o, s:o, s:o, "
			    "s:o}",
			    "name", label, "line", res[i].step->line,
			    "keyword", scn_op_name(res[i].step->op),
			    "status", scn_status_names[res[i].status],
			    "expect", res[i].step->expect != NULL ?
			    json_string(res[i].step->expect->spec) :
			    json_null(),
			    "detail", jw_string(res[i].detail),
			    "session", res[i].session >= 0 ?
			    json_integer(res[i].session) : json_null(),
			    "step", res[i].rstep >= 0 ?
			    json_integer(res[i].rstep) : json_null());
			free(label);
			json_array_append_new(steps, o);
		}
		json_array_append_new(arr, json_pack("{s:s, s:o, s:s, s:o, "
		    "s:o, s:{s:i, s:i, s:i, s:i}, s:i}",
		    "scenario", runs[k].scenario,
		    "description", jw_string(runs[k].desc),
		    "target", runs[k].target,
		    "sessions", sessions, "steps", steps,
		    "counts", "passed", (int)c[SCN_PASS], "failed",
		    (int)c[SCN_FAIL], "skipped", (int)c[SCN_SKIP], "notrun",
		    (int)c[SCN_NOTRUN],
		    "exit_code", scn_exec_exit(runs[k].exec)));
	}
	doc = json_pack("{s:s, s:{s:s, s:s}, s:o, s:{s:i, s:i, s:i, s:i}, "
	    "s:i}",
	    "schema", SCHEMA_SUITE,
	    "tool", "name", "smtprobe", "version", version,
	    "runs", arr,
	    "counts", "passed", (int)all[SCN_PASS], "failed",
	    (int)all[SCN_FAIL], "skipped", (int)all[SCN_SKIP], "notrun",
	    (int)all[SCN_NOTRUN],
	    "exit_code", exit_code);
	if (doc == NULL)
		fatalx("cannot build the JSON document");
	rc = json_dumpf(doc, fp, REPORT_JSON_FLAGS);
	fputc('\n', fp);
	json_decref(doc);
	return rc == 0 && !ferror(fp) ? 0 : -1;
}

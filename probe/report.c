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

#include "log.h"
#include "record.h"
#include "report.h"
#include "smtp.h"
#include "util.h"
#include "verdict.h"

static json_t	*json_ms(int64_t);
static json_t	*json_str(const char *);
static json_t	*json_step(const struct record *, const struct step *);
static json_t	*json_tls(const struct tls_info *);
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
		fprintf(fp, "**   %-9s %-4s %-9s %-10s %9.2f ms%s%s\n",
		    smtp_stage_name(st->stage), st->tls ? "tls" : "",
		    record_outcome_name(st->outcome), code, ms,
		    st->command != NULL ? "  " : "",
		    st->command != NULL ? st->command : "");
	}
	for (i = 0; i < r->nfindings; i++)
		fprintf(fp, "** %s (%s, %s): %s\n",
		    record_level_name(r->findings[i].level),
		    r->findings[i].kind, smtp_stage_name(r->findings[i].stage),
		    r->findings[i].detail);
	report_result(fp, r);
	report_verdict(fp, r);
}

void
report_verdict_text(FILE *fp, const struct verdict *v)
{
	const char	*meaning = verdict_enhanced_meaning(v->enhanced);

	fprintf(fp, "** verdict: %s (%s)", v->class, v->reason);
	if (v->stage >= 0)
		fprintf(fp, " at %s", smtp_stage_name(v->stage));
	fprintf(fp, ", confidence %d%%, rule %s%s%s%s\n", v->confidence,
	    v->rule, v->words[0] ? ", matched \"" : "", v->words,
	    v->words[0] ? "\"" : "");
	if (meaning != NULL)
		fprintf(fp, "** enhanced code %s: %s\n", v->enhanced, meaning);
	if (v->advice != NULL && v->advice[0] != '\0')
		fprintf(fp, "** advice: %s\n", v->advice);
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

static json_t *
json_str(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
json_verdict(const struct verdict *v)
{
	const char	*meaning = verdict_enhanced_meaning(v->enhanced);

	return json_pack("{s:s, s:s, s:o, s:i, s:s, s:o, s:o, s:o, s:s}",
	    "class", v->class, "reason", v->reason,
	    "stage", v->stage >= 0 ? json_string(smtp_stage_name(v->stage)) :
	    json_null(),
	    "confidence", v->confidence, "rule", v->rule,
	    "matched", v->words[0] ? json_string(v->words) : json_null(),
	    "enhanced", v->enhanced[0] ? json_string(v->enhanced) :
	    json_null(),
	    "enhanced_meaning", json_str(meaning),
	    "advice", v->advice != NULL ? v->advice : "");
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
	    "stage", smtp_stage_name(st->stage),
	    "txn", st->txn,
	    "command", json_str(st->command),
	    "tls", st->tls,
	    "outcome", record_outcome_name(st->outcome),
	    "detail", json_str(st->detail),
	    "sent_ms", json_ms(st->t_sent),
	    "first_ms", json_ms(st->t_first),
	    "done_ms", json_ms(st->t_done));
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
		json_array_append_new(lines, json_string(st->reply->lines[i]));
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
	json_t	*chain, *c, *san;
	size_t	 i, k;

	if (!t->done)
		return json_null();
	chain = json_array();
	for (i = 0; i < t->nchain; i++) {
		const struct tls_cert *tc = &t->chain[i];

		san = json_array();
		for (k = 0; k < tc->nsan; k++)
			json_array_append_new(san, json_string(tc->san[k]));
		c = json_pack("{s:s, s:s, s:o, s:s, s:s, s:b, s:s}",
		    "subject", tc->subject, "issuer", tc->issuer, "san", san,
		    "not_before", tc->not_before, "not_after", tc->not_after,
		    "expired", tc->expired, "sha256", tc->sha256);
		json_array_append_new(chain, c);
	}
	return json_pack("{s:s, s:s, s:i, s:o, s:o, s:o, s:b, s:I, s:s, "
	    "s:o}",
	    "version", t->version, "cipher", t->cipher, "bits", t->bits,
	    "group", json_str(t->group), "sni", json_str(t->sni),
	    "verify_name", json_str(t->verify_name),
	    "verified", t->verify_code == 0,
	    "verify_code", (json_int_t)t->verify_code,
	    "verify_error", t->verify_error, "chain", chain);
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
		    "{s:s, s:s, s:s, s:s}",
		    "level", record_level_name(r->findings[i].level),
		    "kind", r->findings[i].kind,
		    "stage", smtp_stage_name(r->findings[i].stage),
		    "detail", r->findings[i].detail));
	if (r->ehlo != NULL) {
		ext = json_object();
		for (i = 0; i < r->ehlo->next; i++)
			json_object_set_new(ext, r->ehlo->ext[i].keyword,
			    json_string(r->ehlo->ext[i].params));
		ehlo = json_pack("{s:s, s:o}", "domain", r->ehlo->domain,
		    "extensions", ext);
	}
	doc = json_pack("{s:{s:s, s:s}, s:s, s:o, s:{s:s, s:s, s:o, s:s}, "
	    "s:o, s:o, s:o, s:o, s:o, s:o, s:{s:i, s:i}, "
	    "s:{s:s, s:o, s:i, s:o}}",
	    "tool", "name", "smtprobe", "version", version,
	    "started", r->started,
	    "duration_ms", json_ms(r->t_end),
	    "target", "host", r->host, "port", r->port,
	    "address", json_str(r->address), "tls_mode", r->tls_mode,
	    "source", json_str(r->source),
	    "helo", json_str(r->helo),
	    "steps", steps,
	    "ehlo", ehlo,
	    "tls", json_tls(&r->tls),
	    "findings", findings,
	    "recipients", "accepted", r->rcpt_ok, "rejected",
	    r->rcpt_rejected,
	    "result", "status", record_status_name(r->status),
	    "stage", r->status == RES_OK ? json_null() :
	    json_string(smtp_stage_name(r->fail_stage)),
	    "exit_code", record_exit_code(r),
	    "message", json_str(r->message));
	if (doc == NULL)
		fatalx("cannot build the JSON document");
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

	rc = json_dumpf(doc, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
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
	for (i = 0; i < r->nsteps; i++)
		if (r->steps[i].stage == STAGE_RESOLVE &&
		    r->steps[i].detail != NULL)
			fprintf(fp, "resolution:  %s\n", r->steps[i].detail);
	fprintf(fp, "source:      %s\n", r->source != NULL ? r->source :
	    "(none)");
	fprintf(fp, "helo:        %s\n", r->helo != NULL ? r->helo : "(none)");
	fprintf(fp, "tls mode:    %s\n", r->tls_mode);
	if (r->tls.done) {
		fprintf(fp, "tls:         %s, %s (%d bits)\n", r->tls.version,
		    r->tls.cipher, r->tls.bits);
		fprintf(fp, "certificate: %s (%s)\n", r->tls.verify_code == 0 ?
		    "verified" : "NOT verified", r->tls.verify_error);
		for (i = 0; i < r->tls.nchain; i++)
			fprintf(fp, "  [%zu] %s, issuer %s, %s to %s%s\n", i,
			    r->tls.chain[i].subject, r->tls.chain[i].issuer,
			    r->tls.chain[i].not_before,
			    r->tls.chain[i].not_after,
			    r->tls.chain[i].expired ? " (EXPIRED)" : "");
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
	fprintf(fp, "advice:      %s\n", v.advice);
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

/*
 * report_jw.c - a session's JSON document written straight from its
 * record, without a tree (include/report.h, report_jw_doc()).
 *
 * report_json_doc() builds a jansson tree that jw_value() then writes;
 * for a batch delivery that tree is half the client's CPU. This file
 * writes the same bytes from struct record directly: the keys in the
 * same order, strings as jw_string() makes them (jw_text()), reals as
 * jw_real(). tests/unit/t_report.c compares the two writers on
 * generated records. Where jansson would refuse a string that is not
 * valid UTF-8 in a field report_json_doc() packs with "s:s" (and then
 * give up on the document), this writer escapes it instead; record
 * strings are printable (record.h), so neither happens in practice.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "jsonw.h"
#include "record.h"
#include "report.h"
#include "schema.h"
#include "smtp.h"
#include "verdict.h"

static void	 jw_ms(struct jw_buf *, int64_t);
static void	 jw_bool(struct jw_buf *, int);
static void	 jw_verdict(struct jw_buf *, const struct verdict *);
static void	 jw_step(struct jw_buf *, const struct record *,
		    const struct step *);
static void	 jw_ehlo(struct jw_buf *, const struct ehlo *);
static void	 jw_tls(struct jw_buf *, const struct tls_info *);
static void	 jw_dane(struct jw_buf *, const struct tls_dane *);
static void	 jw_checks(struct jw_buf *, const struct record *);

/* jw_ms - microseconds as json_ms() gives them: ms, 2 decimals */
static void
jw_ms(struct jw_buf *o, int64_t us)
{
	if (us < 0)
		JW_LIT(o, "null");
	else
		jw_cent(o, us / 10);	/* json_ms(): (us / 10) / 100.0 */
}

/* jw_bool - true or false */
static void
jw_bool(struct jw_buf *o, int b)
{
	if (b)
		JW_LIT(o, "true");
	else
		JW_LIT(o, "false");
}

/* jw_verdict - as json_verdict() in report.c */
static void
jw_verdict(struct jw_buf *o, const struct verdict *v)
{
	const struct verdict_evidence *e;
	size_t	 i;

	JW_LIT(o, "{\"class\":");
	jw_text(o, v->class);
	JW_LIT(o, ",\"reason\":");
	jw_text(o, v->reason);
	JW_LIT(o, ",\"stage\":");
	jw_text(o, v->stage >= 0 ? stage_name(v->stage) : NULL);
	JW_LIT(o, ",\"confidence\":");
	jw_int(o, v->confidence);
	JW_LIT(o, ",\"rule\":");
	jw_text(o, v->rule);
	JW_LIT(o, ",\"matched\":");
	jw_text(o, v->words[0] ? v->words : NULL);
	JW_LIT(o, ",\"enhanced\":");
	jw_text(o, v->enhanced[0] ? v->enhanced : NULL);
	JW_LIT(o, ",\"enhanced_meaning\":");
	jw_text(o, verdict_enhanced_meaning(v->enhanced));
	JW_LIT(o, ",\"advice\":");
	jw_text(o, v->advice != NULL ? v->advice : "");
	JW_LIT(o, ",\"context\":");
	jw_text(o, v->context[0] != '\0' ? v->context : NULL);
	JW_LIT(o, ",\"evidence\":[");
	for (i = 0; i < v->nevidence; i++) {
		e = &v->evidence[i];
		if (i > 0)
			JW_LIT(o, ",");
		JW_LIT(o, "{\"rule\":");
		jw_text(o, e->rule);
		JW_LIT(o, ",\"kind\":");
		jw_text(o, e->kind);
		JW_LIT(o, ",\"reason\":");
		jw_text(o, e->reason);
		JW_LIT(o, ",\"weight\":");
		jw_int(o, e->weight);
		JW_LIT(o, ",\"matched\":");
		jw_text(o, e->words[0] != '\0' ? e->words : NULL);
		JW_LIT(o, "}");
	}
	JW_LIT(o, "],\"runner_up\":");
	if (v->runner_up != NULL) {
		JW_LIT(o, "{\"class\":");
		jw_text(o, v->runner_up);
		JW_LIT(o, ",\"score\":");
		jw_int(o, v->runner_score);
		JW_LIT(o, "}");
	} else
		JW_LIT(o, "null");
	JW_LIT(o, "}");
}

/* jw_step - as json_step() in report.c */
static void
jw_step(struct jw_buf *o, const struct record *r, const struct step *st)
{
	struct verdict	 v;
	size_t		 i;

	JW_LIT(o, "{\"stage\":");
	jw_text(o, stage_name(st->stage));
	JW_LIT(o, ",\"txn\":");
	jw_int(o, st->txn);
	JW_LIT(o, ",\"command\":");
	jw_text(o, st->command);
	JW_LIT(o, ",\"tls\":");
	jw_bool(o, st->tls);
	JW_LIT(o, ",\"outcome\":");
	jw_text(o, record_outcome_name(st->outcome));
	JW_LIT(o, ",\"detail\":");
	jw_text(o, st->detail);
	JW_LIT(o, ",\"sent_ms\":");
	jw_ms(o, st->t_sent);
	JW_LIT(o, ",\"first_ms\":");
	jw_ms(o, st->t_first);
	JW_LIT(o, ",\"done_ms\":");
	jw_ms(o, st->t_done);
	if (st->line > 0) {
		JW_LIT(o, ",\"line\":");
		jw_int(o, st->line);
	}
	/* json_string(): a recipient jansson refuses leaves the key out */
	if (st->rcpt != NULL && jw_utf8(st->rcpt, strlen(st->rcpt))) {
		JW_LIT(o, ",\"rcpt\":");
		jw_text(o, st->rcpt);
	}
	if (st->expect != 0) {
		JW_LIT(o, ",\"expect\":{\"met\":");
		jw_bool(o, st->expect > 0);
		JW_LIT(o, ",\"text\":");
		jw_text(o, st->expect_text);
		JW_LIT(o, "}");
	}
	if (st->outcome != OUT_OK && st->outcome != OUT_SKIPPED &&
	    st->stage != STAGE_QUIT) {
		verdict_step(r, st, &v);
		JW_LIT(o, ",\"verdict\":");
		jw_verdict(o, &v);
	}
	JW_LIT(o, ",\"reply\":");
	if (st->reply == NULL) {
		JW_LIT(o, "null}");
		return;
	}
	JW_LIT(o, "{\"code\":");
	jw_int(o, st->reply->code);
	JW_LIT(o, ",\"enhanced\":");
	jw_text(o, st->reply->enhanced[0] ? st->reply->enhanced : NULL);
	JW_LIT(o, ",\"lines\":[");
	for (i = 0; i < st->reply->nlines; i++) {
		if (i > 0)
			JW_LIT(o, ",");
		jw_text(o, st->reply->lines[i]);
	}
	JW_LIT(o, "]}}");
}

/*
 * jw_ehlo - the EHLO object. Like json_object_set_new(): a keyword
 * jansson refuses is left out, and a keyword seen again keeps its
 * first place with its last parameters.
 */
static void
jw_ehlo(struct jw_buf *o, const struct ehlo *e)
{
	const char	*kw;
	size_t		 i, k, last;
	int		 first = 1;

	if (e == NULL) {
		JW_LIT(o, "null");
		return;
	}
	JW_LIT(o, "{\"domain\":");
	jw_text(o, e->domain);
	JW_LIT(o, ",\"extensions\":{");
	for (i = 0; i < e->next; i++) {
		kw = e->ext[i].keyword;
		if (!jw_utf8(kw, strlen(kw)))
			continue;
		for (k = 0; k < i && strcmp(e->ext[k].keyword, kw) != 0; k++)
			;
		if (k < i)
			continue;	/* written at its first place */
		for (last = i, k = i + 1; k < e->next; k++)
			if (strcmp(e->ext[k].keyword, kw) == 0)
				last = k;
		if (!first)
			JW_LIT(o, ",");
		first = 0;
		jw_str(o, kw, strlen(kw));
		JW_LIT(o, ":");
		jw_text(o, e->ext[last].params);
	}
	JW_LIT(o, "}}");
}

/* jw_tls - as json_tls() in report.c */
static void
jw_tls(struct jw_buf *o, const struct tls_info *t)
{
	const struct tls_cert *tc;
	size_t	 i, k;

	if (!t->done) {
		JW_LIT(o, "null");
		return;
	}
	JW_LIT(o, "{\"version\":");
	jw_text(o, t->version);
	JW_LIT(o, ",\"cipher\":");
	jw_text(o, t->cipher);
	JW_LIT(o, ",\"bits\":");
	jw_int(o, t->bits);
	JW_LIT(o, ",\"group\":");
	jw_text(o, t->group);
	JW_LIT(o, ",\"sni\":");
	jw_text(o, t->sni);
	JW_LIT(o, ",\"verify_name\":");
	jw_text(o, t->verify_name);
	JW_LIT(o, ",\"verified\":");
	jw_bool(o, t->verify_code == 0);
	JW_LIT(o, ",\"verify_code\":");
	jw_int(o, t->verify_code);
	JW_LIT(o, ",\"verify_error\":");
	jw_text(o, t->verify_error);
	JW_LIT(o, ",\"pkix\":{\"verified\":");
	jw_bool(o, t->pkix_code == 0);
	JW_LIT(o, ",\"code\":");
	jw_int(o, t->pkix_code);
	JW_LIT(o, ",\"error\":");
	jw_text(o, t->pkix_error != NULL ? t->pkix_error : "");
	JW_LIT(o, "},\"name_match\":");
	if (t->name_match < 0)
		JW_LIT(o, "null");
	else
		jw_bool(o, t->name_match);
	JW_LIT(o, ",\"chain\":[");
	for (i = 0; i < t->nchain; i++) {
		tc = &t->chain[i];
		if (i > 0)
			JW_LIT(o, ",");
		JW_LIT(o, "{\"subject\":");
		jw_text(o, tc->subject);
		JW_LIT(o, ",\"issuer\":");
		jw_text(o, tc->issuer);
		JW_LIT(o, ",\"san\":[");
		for (k = 0; k < tc->nsan; k++) {
			if (k > 0)
				JW_LIT(o, ",");
			jw_text(o, tc->san[k]);
		}
		JW_LIT(o, "],\"not_before\":");
		jw_text(o, tc->not_before);
		JW_LIT(o, ",\"not_after\":");
		jw_text(o, tc->not_after);
		JW_LIT(o, ",\"expired\":");
		jw_bool(o, tc->expired);
		JW_LIT(o, ",\"days_left\":");
		jw_int(o, tc->days_left);
		JW_LIT(o, ",\"sha256\":");
		jw_text(o, tc->sha256);
		JW_LIT(o, ",\"spki_sha256\":");
		jw_text(o, tc->spki);
		if (tc->pem != NULL) {
			JW_LIT(o, ",\"pem\":");
			jw_text(o, tc->pem);
		}
		if (t->dane.checked) {
			JW_LIT(o, ",\"tlsa\":");
			jw_text(o, tc->tlsa);
		}
		JW_LIT(o, "}");
	}
	JW_LIT(o, "],\"dane\":");
	jw_dane(o, &t->dane);
	JW_LIT(o, "}");
}

/* jw_dane - as json_dane() in report.c */
static void
jw_dane(struct jw_buf *o, const struct tls_dane *d)
{
	size_t	 i;

	if (!d->checked) {
		JW_LIT(o, "null");
		return;
	}
	JW_LIT(o, "{\"status\":");
	jw_text(o, d->status);
	JW_LIT(o, ",\"lookup\":");
	jw_text(o, d->lookup);
	JW_LIT(o, ",\"qname\":");
	jw_text(o, d->qname);
	JW_LIT(o, ",\"ad\":");
	jw_bool(o, d->ad);
	JW_LIT(o, ",\"resolver\":");
	jw_text(o, d->resolver);
	JW_LIT(o, ",\"records\":[");
	for (i = 0; i < d->nrecords; i++) {
		if (i > 0)
			JW_LIT(o, ",");
		JW_LIT(o, "{\"record\":");
		jw_text(o, d->records[i]);
		JW_LIT(o, ",\"usable\":");
		jw_bool(o, d->notes[i] == NULL);
		JW_LIT(o, ",\"note\":");
		jw_text(o, d->notes[i]);
		JW_LIT(o, "}");
	}
	JW_LIT(o, "],\"matched\":");
	jw_text(o, d->matched);
	JW_LIT(o, ",\"depth\":");
	if (d->depth >= 0)
		jw_int(o, d->depth);
	else
		JW_LIT(o, "null");
	JW_LIT(o, ",\"result_type\":");
	jw_text(o, d->result_type);
	JW_LIT(o, ",\"detail\":");
	jw_text(o, d->detail);
	JW_LIT(o, "}");
}

/* jw_checks - the "checks" value: null, or the ip and its items */
static void
jw_checks(struct jw_buf *o, const struct record *r)
{
	const struct record_check *c;
	size_t	 i;

	if (!r->checked) {
		JW_LIT(o, "null");
		return;
	}
	JW_LIT(o, "{\"ip\":");
	jw_text(o, r->check_ip);
	JW_LIT(o, ",\"items\":[");
	for (i = 0; i < r->nchecks; i++) {
		c = &r->checks[i];
		if (i > 0)
			JW_LIT(o, ",");
		JW_LIT(o, "{\"name\":");
		jw_text(o, c->name);
		JW_LIT(o, ",\"subject\":");
		jw_text(o, c->subject);
		JW_LIT(o, ",\"zone\":");
		jw_text(o, c->zone);
		JW_LIT(o, ",\"answer\":");
		jw_text(o, c->answer);
		JW_LIT(o, ",\"status\":");
		jw_text(o, c->status);
		JW_LIT(o, ",\"evidence\":");
		jw_text(o, c->evidence);
		JW_LIT(o, "}");
	}
	JW_LIT(o, "]}");
}

/* report_jw_doc - the session's document, as report_json_doc() and
   jw_value() give it, appended to o */
void
report_jw_doc(struct jw_buf *o, const struct record *r, const char *version,
    int head, const struct verdict *verdict)
{
	struct verdict	 v;
	size_t		 i;

	if (head) {
		JW_LIT(o, "{\"schema\":");
		jw_text(o, SCHEMA_PROBE);
		JW_LIT(o, ",\"tool\":{\"name\":\"smtprobe\",\"version\":");
		jw_text(o, version);
		JW_LIT(o, "},\"started\":");
	} else
		JW_LIT(o, "{\"started\":");
	jw_text(o, r->started);
	JW_LIT(o, ",\"duration_ms\":");
	jw_ms(o, r->t_end);
	JW_LIT(o, ",\"target\":{\"host\":");
	jw_text(o, r->host);
	JW_LIT(o, ",\"port\":");
	jw_text(o, r->port);
	JW_LIT(o, ",\"address\":");
	jw_text(o, r->address);
	JW_LIT(o, ",\"tls_mode\":");
	jw_text(o, r->tls_mode);
	JW_LIT(o, "},\"source\":");
	jw_text(o, r->source);
	JW_LIT(o, ",\"helo\":");
	jw_text(o, r->helo);
	JW_LIT(o, ",\"steps\":[");
	for (i = 0; i < r->nsteps; i++) {
		if (i > 0)
			JW_LIT(o, ",");
		jw_step(o, r, &r->steps[i]);
	}
	JW_LIT(o, "],\"ehlo\":");
	jw_ehlo(o, r->ehlo);
	JW_LIT(o, ",\"tls\":");
	jw_tls(o, record_tls_of(r));
	JW_LIT(o, ",\"findings\":[");
	for (i = 0; i < r->nfindings; i++) {
		if (i > 0)
			JW_LIT(o, ",");
		JW_LIT(o, "{\"level\":");
		jw_text(o, record_level_name(r->findings[i].level));
		JW_LIT(o, ",\"severity\":");
		jw_text(o, record_level_name(r->findings[i].level));
		JW_LIT(o, ",\"kind\":");
		jw_text(o, r->findings[i].kind);
		JW_LIT(o, ",\"stage\":");
		jw_text(o, stage_name(r->findings[i].stage));
		JW_LIT(o, ",\"detail\":");
		jw_text(o, r->findings[i].detail);
		JW_LIT(o, "}");
	}
	JW_LIT(o, "],\"recipients\":{\"accepted\":");
	jw_int(o, r->rcpt_ok);
	JW_LIT(o, ",\"rejected\":");
	jw_int(o, r->rcpt_rejected);
	JW_LIT(o, "},\"result\":{\"status\":");
	jw_text(o, record_status_name(r->status));
	JW_LIT(o, ",\"stage\":");
	jw_text(o, r->status == RES_OK ? NULL : stage_name(r->fail_stage));
	JW_LIT(o, ",\"exit_code\":");
	jw_int(o, record_exit_code(r));
	JW_LIT(o, ",\"message\":");
	jw_text(o, r->message);
	JW_LIT(o, ",\"failure\":");
	jw_text(o, r->status == RES_ERROR ?
	    record_fail_kind_name(r->fail_kind) : NULL);
	JW_LIT(o, "},\"checks\":");
	jw_checks(o, r);
	JW_LIT(o, ",\"resolution\":");
	if (r->nresolution > 0) {
		JW_LIT(o, "[");
		for (i = 0; i < r->nresolution; i++) {
			if (i > 0)
				JW_LIT(o, ",");
			jw_text(o, r->resolution[i]);
		}
		JW_LIT(o, "]");
	} else
		JW_LIT(o, "null");
	JW_LIT(o, ",\"verdict\":");
	if (verdict == NULL) {
		verdict_record(r, &v);
		verdict = &v;
	}
	jw_verdict(o, verdict);
	JW_LIT(o, "}");
}

/*
 * tlscheck.c - the --tls-check summary per MX host and address (see
 * include/tlscheck.h).
 *
 * What each sending MTA would do:
 *   opportunistic  TLS when offered, plaintext otherwise (and after a
 *                  failed handshake, as most MTAs retry without TLS);
 *   DANE           RFC 7672: with validated, usable TLSA records only a
 *                  matching chain will do, a bogus or failed TLSA lookup
 *                  means defer, and without TLSA records it is
 *                  opportunistic;
 *   MTA-STS        RFC 8461: with a policy in mode enforce the MX must
 *                  match an mx pattern and present a certificate valid
 *                  for its name over TLS, else defer; mode testing
 *                  delivers and reports; no policy (or one that cannot
 *                  be fetched, with nothing cached: 3.3) is
 *                  opportunistic.
 * A session that never got as far as EHLO is deferred by all three.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "dane.h"
#include "jsonw.h"
#include "log.h"
#include "mtasts.h"
#include "record.h"
#include "reply.h"
#include "smtp.h"
#include "tls.h"
#include "tlscheck.h"
#include "tlsrpt.h"
#include "util.h"

static const char *tc_starttls(const struct record *, int);
static int	tc_session(const struct record *);
static void	tc_set(struct tlscheck_action *, const char *, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
static json_t	*tc_action(const struct tlscheck_action *);

static void
tc_set(struct tlscheck_action *a, const char *action, const char *type,
    const char *fmt, ...)
{
	va_list	 ap;

	a->action = action;
	a->result_type = type;
	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	util_utf8_trim(a->why);
	va_end(ap);
}

/* tc_session - 1 if the session got as far as an accepted EHLO/HELO */
static int
tc_session(const struct record *r)
{
	size_t	 i;

	for (i = 0; r != NULL && i < r->nsteps; i++)
		if (r->steps[i].stage == STAGE_EHLO &&
		    r->steps[i].outcome == OUT_OK)
			return 1;
	return 0;
}

/* tc_starttls - what became of STARTTLS in the session */
static const char *
tc_starttls(const struct record *r, int implicit)
{
	size_t	 i;

	if (r == NULL)
		return "unknown";
	if (implicit)
		return record_tls_of(r)->done ? "implicit" : "failed";
	if (record_tls_of(r)->done)
		return "used";
	for (i = 0; i < r->nfindings; i++) {
		if (strcmp(r->findings[i].kind, "no-starttls") == 0)
			return "not-offered";
		if (strcmp(r->findings[i].kind, "starttls-refused") == 0)
			return "refused";
	}
	for (i = 0; i < r->nsteps; i++) {
		const struct step *st = &r->steps[i];

		if (st->stage != STAGE_STARTTLS)
			continue;
		if (st->reply != NULL && st->reply->code / 100 != 2)
			return "refused";
		if (st->outcome == OUT_SKIPPED)
			return "not-offered";
		return "failed";
	}
	if (r->ehlo != NULL && !reply_ehlo_has(r->ehlo, "STARTTLS"))
		return "not-offered";
	return "unknown";
}

void
tlscheck_eval(const struct tlscheck_target *t, struct tlscheck_policies *pl)
{
	const struct record	*r = t->rec;
	const struct mtasts_result *sts = t->sts;
	struct dane_outcome	 o;
	const char		*fail = NULL, *ftype = NULL;
	char			 fbuf[512];
	const struct tls_info	*tl = r != NULL ? record_tls_of(r) : NULL;
	int			 tls = tl != NULL && tl->done;

	memset(pl, 0, sizeof(*pl));
	pl->starttls = tc_starttls(r, t->implicit);

	/* opportunistic */
	if (!tc_session(r))
		tc_set(&pl->opportunistic, "defer", NULL, "the session did not "
		    "get as far as TLS: %s", r != NULL && r->message != NULL ?
		    r->message : "no session");
	else if (tls)
		tc_set(&pl->opportunistic, "deliver", NULL, "over TLS (%s, %s)",
		    tl->version, tl->cipher);
	else if (strcmp(pl->starttls, "failed") == 0)
		tc_set(&pl->opportunistic, t->implicit ? "defer" : "deliver",
		    NULL, t->implicit ? "the TLS handshake failed" : "in "
		    "plaintext, after the TLS handshake failed (MTAs retry "
		    "without TLS)");
	else if (strcmp(pl->starttls, "unknown") == 0)
		tc_set(&pl->opportunistic, "unknown", NULL, "the session "
		    "stopped before STARTTLS");
	else
		tc_set(&pl->opportunistic, "deliver", NULL, "in plaintext: "
		    "STARTTLS %s", strcmp(pl->starttls, "refused") == 0 ?
		    "is refused" : "is not offered");

	/* DANE */
	dane_judge(t->dane, tls, tls && tl->dane.checked ? tl->dane.depth :
	    -1, tls ? tl->dane.matched : NULL, tls ? tl->verify_code : 0,
	    tls ? tl->verify_error : NULL, &o);
	switch (o.status) {
	case DANE_ST_SKIPPED:
		tc_set(&pl->dane, t->dane == NULL ? "unknown" :
		    "not-applicable", NULL, "%s", o.detail);
		break;
	case DANE_ST_SECURE:
		tc_set(&pl->dane, "deliver", NULL, "authenticated: %s",
		    o.detail);
		break;
	case DANE_ST_UNUSABLE:
		tc_set(&pl->dane, "deliver", o.result_type, "over TLS without "
		    "authentication: %s", o.detail);
		break;
	case DANE_ST_INSECURE:
		if (strcmp(pl->opportunistic.action, "deliver") == 0)
			tc_set(&pl->dane, "deliver", NULL, "no DANE policy, so "
			    "opportunistic, %s", pl->opportunistic.why);
		else
			tc_set(&pl->dane, pl->opportunistic.action, NULL,
			    "no DANE policy; %s", pl->opportunistic.why);
		break;
	default:
		tc_set(&pl->dane, "defer", o.result_type, "%s", o.detail);
		break;
	}
	if (!tc_session(r) && strcmp(pl->dane.action, "deliver") == 0)
		tc_set(&pl->dane, "defer", NULL, "%s", pl->opportunistic.why);

	/* MTA-STS */
	if (sts == NULL) {
		tc_set(&pl->sts, "not-applicable", NULL, "no mail domain to "
		    "look up a policy for (give DOMAIN or --to)");
		return;
	}
	if (sts->status != MTASTS_OK ||
	    sts->policy.mode == MTASTS_MODE_NONE) {
		const char *what = sts->status == MTASTS_OK ? "the policy's "
		    "mode is none" : sts->detail;

		if (sts->result_type != NULL || sts->status ==
		    MTASTS_DNS_ERROR)
			tc_set(&pl->sts, pl->opportunistic.action,
			    sts->result_type, "%s; with no cached policy a "
			    "sender goes on as if there were none (RFC 8461 "
			    "3.3): %s", what, pl->opportunistic.why);
		else
			tc_set(&pl->sts, pl->opportunistic.action, NULL,
			    "no MTA-STS policy (%s): %s", what,
			    pl->opportunistic.why);
		return;
	}
	pl->sts_match = mtasts_policy_match(&sts->policy, t->host);
	if (!tc_session(r)) {
		tc_set(&pl->sts, "defer", NULL, "%s", pl->opportunistic.why);
		return;
	}
	if (pl->sts_match == NULL) {
		snprintf(fbuf, sizeof(fbuf), "%s matches no mx pattern of the "
		    "policy", t->host);
		fail = fbuf;
		ftype = "validation-failure";
	} else if (!tls) {
		snprintf(fbuf, sizeof(fbuf), "no TLS: STARTTLS %s",
		    pl->starttls);
		fail = fbuf;
		ftype = "starttls-not-supported";
	} else if (tl->pkix_code != 0 || tl->verify_name == NULL ||
	    strcasecmp(tl->verify_name, t->host) != 0) {
		snprintf(fbuf, sizeof(fbuf), "the certificate is not valid for "
		    "%s: %s", t->host, tl->pkix_code != 0 ?
		    tl->pkix_error : "another name was checked");
		fail = fbuf;
		ftype = dane_rpt_type(tl->pkix_code);
		if (ftype == NULL)
			ftype = "validation-failure";
	}
	if (fail == NULL)
		tc_set(&pl->sts, "deliver", NULL, "mode %s: %s matches \"%s\", "
		    "and its certificate is valid for that name",
		    mtasts_mode_name(sts->policy.mode), t->host, pl->sts_match);
	else if (sts->policy.mode == MTASTS_MODE_ENFORCE)
		tc_set(&pl->sts, "defer", ftype, "mode enforce: %s", fail);
	else
		tc_set(&pl->sts, pl->opportunistic.action, ftype, "mode "
		    "testing: %s; reported, not enforced, so %s", fail,
		    pl->opportunistic.why);
}

int
tlscheck_findings(struct record *r, const struct tlscheck_target *t)
{
	struct tlscheck_policies pl;
	const struct mtasts_result *sts = t->sts;
	int			 n = 0;

	if (r == NULL)
		return 0;
	if (sts != NULL && sts->result_type != NULL) {
		record_add_finding(r, FIND_WARN, sts->result_type,
		    STAGE_RESOLVE, "MTA-STS: %s", sts->detail);
		n++;
	} else if (sts != NULL && sts->status == MTASTS_TXT_INVALID) {
		record_add_finding(r, FIND_WARN, "sts-txt-invalid",
		    STAGE_RESOLVE, "MTA-STS: %s", sts->detail);
		n++;
	}
	if (t->rpt != NULL && t->rpt->status == TLSRPT_INVALID) {
		record_add_finding(r, FIND_WARN, "tlsrpt-invalid",
		    STAGE_RESOLVE, "TLS-RPT: %s", t->rpt->detail);
		n++;
	}
	if (sts == NULL || sts->status != MTASTS_OK ||
	    sts->policy.mode == MTASTS_MODE_NONE)
		return n;
	tlscheck_eval(t, &pl);
	if (pl.sts.result_type == NULL)
		return n;
	if (pl.sts_match == NULL)
		record_add_finding(r, sts->policy.mode == MTASTS_MODE_ENFORCE ?
		    FIND_ERROR : FIND_WARN, "sts-mx-mismatch", STAGE_RESOLVE,
		    "MTA-STS mode %s: %s is not in the policy of %s; %s",
		    mtasts_mode_name(sts->policy.mode), t->host, sts->domain,
		    sts->policy.mode == MTASTS_MODE_ENFORCE ? "senders that "
		    "enforce it defer" : "reported, not enforced");
	else
		record_add_finding(r, sts->policy.mode == MTASTS_MODE_ENFORCE ?
		    FIND_ERROR : FIND_WARN, "sts-policy-failure",
		    STAGE_STARTTLS, "MTA-STS mode %s: %s (%s)",
		    mtasts_mode_name(sts->policy.mode), pl.sts.why,
		    pl.sts.result_type);
	return n + 1;
}

void
tlscheck_notes(FILE *fp, const struct mtasts_result *sts,
    const struct tlsrpt_result *rpt)
{
	size_t	 i;

	if (sts != NULL) {
		for (i = 0; i < sts->nnotes; i++)
			fprintf(fp, "** mta-sts: %s\n", sts->notes[i]);
		fprintf(fp, "** mta-sts: %s: %s%s%s\n", sts->domain,
		    mtasts_status_name(sts->status), sts->result_type != NULL ?
		    " (" : "", sts->result_type != NULL ? sts->result_type :
		    "");
		if (sts->result_type != NULL)
			fprintf(fp, "** mta-sts: %s\n", sts->detail);
		for (i = 0; i < sts->policy.nwarnings; i++)
			fprintf(fp, "!! warning: mta-sts: %s\n",
			    sts->policy.warnings[i]);
	}
	if (rpt != NULL)
		fprintf(fp, "** tls-rpt: %s: %s%s%s%s\n", rpt->domain,
		    tlsrpt_status_name(rpt->status), rpt->record != NULL ?
		    " \"" : "", rpt->record != NULL ? rpt->record : "",
		    rpt->record != NULL ? "\"" : "");
}

void
tlscheck_print(FILE *fp, const struct tlscheck_target *t)
{
	struct tlscheck_policies pl;
	const struct record	*r = t->rec;
	const struct tls_info	*ti = r != NULL ? record_tls_of(r) : NULL;
	struct dane_outcome	 o;
	size_t			 i, k;

	tlscheck_eval(t, &pl);
	fprintf(fp, "** tls check: %s%s%s%s port %s", t->host,
	    t->address != NULL ? " [" : "", t->address != NULL ?
	    t->address : "", t->address != NULL ? "]" : "", t->port);
	if (t->pref >= 0)
		fprintf(fp, " (MX preference %d)", t->pref);
	fputc('\n', fp);
	fprintf(fp, "**   starttls     %s\n", pl.starttls);
	if (ti != NULL && ti->done) {
		fprintf(fp, "**   tls          %s, %s (%d bits)%s%s\n",
		    ti->version, ti->cipher, ti->bits, ti->group != NULL ?
		    ", group " : "", ti->group != NULL ? ti->group : "");
		for (i = 0; i < ti->nchain; i++) {
			const struct tls_cert *c = &ti->chain[i];

			fprintf(fp, "**   cert %-7zu %s\n", i, c->subject);
			fprintf(fp, "**                issuer %s\n", c->issuer);
			if (c->nsan > 0) {
				fprintf(fp, "**                san");
				for (k = 0; k < c->nsan; k++)
					fprintf(fp, " %s", c->san[k]);
				fputc('\n', fp);
			}
			fprintf(fp, "**                expires %s (%s%ld day%s"
			    "%s)\n", c->not_after, c->expired ? "EXPIRED " :
			    "", c->days_left < 0 ? -c->days_left :
			    c->days_left, c->days_left == 1 ||
			    c->days_left == -1 ? "" : "s", c->expired ?
			    " ago" : " left");
			if (c->tlsa != NULL)
				fprintf(fp, "**                tlsa %s "
				    "matches\n", c->tlsa);
		}
		fprintf(fp, "**   name         %s: %s\n", ti->verify_name !=
		    NULL ? ti->verify_name : "(none)", ti->name_match > 0 ?
		    "matches the certificate" : ti->name_match == 0 ?
		    "not in the certificate" : "not checked");
		if (ti->pkix_code == 0)
			fprintf(fp, "**   pkix         valid for %s\n",
			    ti->verify_name != NULL ? ti->verify_name :
			    "(no name)");
		else
			fprintf(fp, "**   pkix         not valid: %s (%ld) "
			    "[%s]\n", ti->pkix_error, ti->pkix_code,
			    dane_rpt_type(ti->pkix_code));
	}
	dane_judge(t->dane, ti != NULL && ti->done, ti != NULL && ti->done &&
	    ti->dane.checked ? ti->dane.depth : -1, ti != NULL && ti->done ?
	    ti->dane.matched : NULL, ti != NULL && ti->done ?
	    ti->verify_code : 0, ti != NULL && ti->done ? ti->verify_error :
	    NULL, &o);
	fprintf(fp, "**   dane         %s: %s\n", dane_status_name(o.status),
	    o.detail);
	for (i = 0; t->dane != NULL && i < t->dane->nrrs; i++)
		fprintf(fp, "**                TLSA %s%s%s\n",
		    t->dane->rrs[i].text, t->dane->rrs[i].note != NULL ?
		    ": " : "", t->dane->rrs[i].note != NULL ?
		    t->dane->rrs[i].note : "");
	if (t->sts == NULL)
		fprintf(fp, "**   mta-sts      not checked: no mail domain\n");
	else if (t->sts->status == MTASTS_OK)
		fprintf(fp, "**   mta-sts      %s: mode %s, %s %s%s%s\n",
		    t->sts->domain, mtasts_mode_name(t->sts->policy.mode),
		    t->host, pl.sts_match != NULL ? "matches \"" :
		    "matches no mx pattern", pl.sts_match != NULL ?
		    pl.sts_match : "", pl.sts_match != NULL ? "\"" : "");
	else
		fprintf(fp, "**   mta-sts      %s: %s\n", t->sts->domain,
		    t->sts->detail);
	if (t->rpt != NULL) {
		fprintf(fp, "**   tls-rpt      %s", tlsrpt_status_name(
		    t->rpt->status));
		for (i = 0; i < t->rpt->nrua; i++)
			fprintf(fp, "%s%s", i == 0 ? ": " : ", ",
			    t->rpt->rua[i]);
		if (t->rpt->status != TLSRPT_PRESENT)
			fprintf(fp, ": %s", t->rpt->detail);
		fputc('\n', fp);
	}
	fprintf(fp, "** a sending MTA with each policy would:\n");
	fprintf(fp, "**   opportunistic  %s: %s\n", pl.opportunistic.action,
	    pl.opportunistic.why);
	fprintf(fp, "**   dane           %s: %s%s%s%s\n", pl.dane.action,
	    pl.dane.why, pl.dane.result_type != NULL ? " [" : "",
	    pl.dane.result_type != NULL ? pl.dane.result_type : "",
	    pl.dane.result_type != NULL ? "]" : "");
	fprintf(fp, "**   mta-sts        %s: %s%s%s%s\n", pl.sts.action,
	    pl.sts.why, pl.sts.result_type != NULL ? " [" : "",
	    pl.sts.result_type != NULL ? pl.sts.result_type : "",
	    pl.sts.result_type != NULL ? "]" : "");
}

static json_t *
tc_action(const struct tlscheck_action *a)
{
	return json_pack("{s:s, s:o, s:s}", "action", a->action,
	    "result_type", jw_string(a->result_type), "why", a->why);
}

json_t *
tlscheck_json(const struct tlscheck_target *t)
{
	struct tlscheck_policies pl;
	const struct record	*r = t->rec;
	const struct tls_info	*ti = r != NULL ? record_tls_of(r) : NULL;
	const struct mtasts_result *sts = t->sts;
	struct dane_outcome	 o;
	json_t			*doc, *chain, *san, *recs, *dane, *j, *mx;
	size_t			 i, k;
	int			 tls = ti != NULL && ti->done;

	tlscheck_eval(t, &pl);
	doc = json_pack("{s:s, s:o, s:s, s:o, s:s}", "mx", t->host,
	    "address", jw_string(t->address), "port", t->port,
	    "preference", t->pref >= 0 ? json_integer(t->pref) : json_null(),
	    "starttls", pl.starttls);
	if (tls) {
		json_object_set_new(doc, "tls", json_pack("{s:s, s:s, s:i, "
		    "s:o}", "version", ti->version, "cipher", ti->cipher,
		    "bits", ti->bits, "group", jw_string(ti->group)));
		chain = json_array();
		for (i = 0; i < ti->nchain; i++) {
			const struct tls_cert *c = &ti->chain[i];

			san = json_array();
			for (k = 0; k < c->nsan; k++)
				json_array_append_new(san,
				    jw_string(c->san[k]));
			json_array_append_new(chain, json_pack("{s:o, s:o, "
			    "s:o, s:s, s:I, s:b, s:o}", "subject",
			    jw_string(c->subject), "issuer", jw_string(c->issuer),
			    "san", san, "not_after",
			    c->not_after, "days_left", (json_int_t)c->days_left,
			    "expired", c->expired, "tlsa", jw_string(c->tlsa)));
		}
		json_object_set_new(doc, "chain", chain);
		json_object_set_new(doc, "name", jw_string(ti->verify_name));
		json_object_set_new(doc, "name_match", ti->name_match < 0 ?
		    json_null() : json_boolean(ti->name_match));
		json_object_set_new(doc, "pkix", json_pack("{s:b, s:I, s:s, "
		    "s:o}", "valid", ti->pkix_code == 0, "code",
		    (json_int_t)ti->pkix_code, "error", ti->pkix_error,
		    "result_type", jw_string(dane_rpt_type(ti->pkix_code))));
	} else {
		json_object_set_new(doc, "tls", json_null());
		json_object_set_new(doc, "chain", json_array());
		json_object_set_new(doc, "name", jw_string(t->host));
		json_object_set_new(doc, "name_match", json_null());
		json_object_set_new(doc, "pkix", json_null());
	}
	dane_judge(t->dane, tls, tls && ti->dane.checked ? ti->dane.depth : -1,
	    tls ? ti->dane.matched : NULL, tls ? ti->verify_code : 0,
	    tls ? ti->verify_error : NULL, &o);
	recs = json_array();
	for (i = 0; t->dane != NULL && i < t->dane->nrrs; i++)
		json_array_append_new(recs, json_pack("{s:s, s:b, s:o}",
		    "record", t->dane->rrs[i].text, "usable",
		    t->dane->rrs[i].note == NULL, "note",
		    jw_string(t->dane->rrs[i].note)));
	dane = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
	    "s:s}", "status", dane_status_name(o.status),
	    "lookup", t->dane != NULL ? json_string(dane_dns_name(
	    t->dane->dns)) : json_null(),
	    "qname", t->dane != NULL ? json_string(t->dane->qname) :
	    json_null(),
	    "ad", t->dane != NULL ? json_boolean(t->dane->ad) : json_null(),
	    "resolver", jw_string(t->dane != NULL ? t->dane->resolver : NULL),
	    "records", recs,
	    "matched", jw_string(tls ? ti->dane.matched : NULL),
	    "depth", tls && ti->dane.checked && ti->dane.depth >= 0 ?
	    json_integer(ti->dane.depth) : json_null(),
	    "result_type", jw_string(o.result_type), "detail", o.detail);
	json_object_set_new(doc, "dane", dane);
	if (sts != NULL) {
		mx = json_array();
		for (i = 0; i < sts->policy.nmx; i++)
			json_array_append_new(mx,
			    json_string(sts->policy.mx[i]));
		j = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:i, s:o, "
		    "s:o, s:o, s:o, s:o}",
		    "domain", sts->domain,
		    "status", mtasts_status_name(sts->status),
		    "result_type", jw_string(sts->result_type),
		    "txt", jw_string(sts->txt), "id", jw_string(sts->id),
		    "url", jw_string(sts->url), "address", jw_string(sts->address),
		    "http_status", sts->http_status,
		    "content_type", jw_string(sts->content_type),
		    "mode", sts->status == MTASTS_OK ?
		    json_string(mtasts_mode_name(sts->policy.mode)) :
		    json_null(),
		    "max_age", sts->status == MTASTS_OK ?
		    json_integer(sts->policy.max_age) : json_null(),
		    "mx", mx,
		    "mx_match", jw_string(pl.sts_match));
		json_object_set_new(j, "detail", json_string(sts->detail));
		{
			json_t	*w = json_array(), *hosts = json_array();

			for (i = 0; i < sts->policy.nwarnings; i++)
				json_array_append_new(w, json_string(
				    sts->policy.warnings[i]));
			json_object_set_new(j, "warnings", w);
			for (i = 0; i < t->nmx_hosts; i++)
				json_array_append_new(hosts, json_pack(
				    "{s:s, s:o}", "host", t->mx_hosts[i],
				    "match", sts->status == MTASTS_OK ?
				    jw_string(mtasts_policy_match(&sts->policy,
				    t->mx_hosts[i])) : json_null()));
			json_object_set_new(j, "mx_hosts", hosts);
		}
		json_object_set_new(doc, "mta_sts", j);
	} else
		json_object_set_new(doc, "mta_sts", json_null());
	if (t->rpt != NULL) {
		json_t	*rua = json_array();

		for (i = 0; i < t->rpt->nrua; i++)
			json_array_append_new(rua, json_string(t->rpt->rua[i]));
		json_object_set_new(doc, "tls_rpt", json_pack("{s:s, s:s, s:o, "
		    "s:o, s:s}", "domain", t->rpt->domain, "status",
		    tlsrpt_status_name(t->rpt->status), "record",
		    jw_string(t->rpt->record), "rua", rua, "detail",
		    t->rpt->detail));
	} else
		json_object_set_new(doc, "tls_rpt", json_null());
	json_object_set_new(doc, "policies", json_pack("{s:o, s:o, s:o}",
	    "opportunistic", tc_action(&pl.opportunistic),
	    "dane", tc_action(&pl.dane), "mta_sts", tc_action(&pl.sts)));
	return doc;
}

int
tlscheck_dane_end(struct record *r, const struct dane_policy *p,
    int tls_verify)
{
	struct dane_outcome	 o;
	size_t			 i;
	int			 reached = 0;

	if (r == NULL || p == NULL || record_tls_of(r)->done)
		return 0;
	for (i = 0; i < r->nsteps; i++)
		if ((r->steps[i].stage == STAGE_EHLO &&
		    r->steps[i].outcome == OUT_OK) ||
		    r->steps[i].stage == STAGE_STARTTLS)
			reached = 1;
	dane_judge(p, 0, -1, NULL, 0, NULL, &o);
	if (o.finding == NULL || (o.status == DANE_ST_NOTLS && !reached))
		return 0;
	record_add_finding(r, tls_verify && o.fatal ? FIND_ERROR : FIND_WARN,
	    o.finding, o.status == DANE_ST_NOTLS ? STAGE_STARTTLS :
	    STAGE_RESOLVE, "%s", o.detail);
	if (tls_verify && o.fatal) {
		char	*e = xasprintf("DANE: %s", o.detail);

		record_set_error(r, o.status == DANE_ST_NOTLS ?
		    STAGE_STARTTLS : STAGE_RESOLVE, FAIL_TLS, e);
		free(e);
	}
	return 1;
}

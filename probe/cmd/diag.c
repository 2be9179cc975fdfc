/*
 * diag.c - differential probing (see include/diag.h).
 *
 * This module owns the loop while it runs: each variant is one session,
 * started, run to its done callback, and kept until the end so that
 * the conclusion can compare the records. Conclusion rules, in order:
 *   - the greeting refused: the connection (IP) is blocked;
 *   - EHLO refused but accepted with the other HELO name: HELO block;
 *   - the user's envelope refused, postmaster@ of the recipient domain
 *     accepted from the same sender: the recipient is refused;
 *   - refused with the user's sender, accepted with <> or postmaster@:
 *     the sender is refused;
 *   - refused with every sender and recipient, accepted with the other
 *     HELO: HELO block reported late (e.g. Postfix smtpd_delay_reject);
 *   - refused whatever changes: the connection (IP) or a site policy;
 *   - envelope accepted, minimal message accepted, the user's message
 *     refused: the content; minimal message refused too: not the content.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "check.h"
#include "diag.h"
#include "log.h"
#include "record.h"
#include "report.h"
#include "schema.h"
#include "scn.h"
#include "smtp.h"
#include "util.h"
#include "verdict.h"

#define MAXV	8

struct variant {
	const char		*name;
	char			*label;
	const char		*from;		/* its envelope */
	const char		*to;
	int			 session;	/* which session (0..) */
	int			 txnno;		/* transaction within it */
};

struct diag_run {
	struct event_base	*base;
	int			 done;
};

/* The variants of one diagnosis, their sessions and the conclusion. */
struct diag_state {
	struct variant		 v[MAXV];
	size_t			 nv;
	struct scn_classic	 sc[4];
	struct scn_params	 sp[4];
	struct smtp_txn		 txns[4][4];
	const char		*one[1];	/* postmaster@ of the rcpt */
	struct smtp_params	 alt_conn;	/* the other HELO name's */
	const struct record	*rec[4];
	struct scn_exec		*ex[4];
	struct scn		*scn[4];
	size_t			 nsess, ntx;
	const char		*from, *rcpt;
	char			*alt, *s_post, *r_post;
	const char		*cclass;	/* the conclusion's class */
	char			*ptext;		/* and its text */
};

static void	 diag_done(struct scn_exec *, void *);
static char	*diag_domain_addr(const char *, const char *);
static const struct step *diag_find(const struct record *, enum smtp_stage,
		    int);
static const char *diag_cell(const struct record *, enum smtp_stage, int,
		    char *, size_t);
static int	 diag_ok(const struct record *, int);
static int	 diag_status(const struct record *);
static void	 diag_variants(struct diag_state *,
		    const struct diag_params *);
static void	 diag_sessions(struct diag_state *, struct event_base *,
		    const struct diag_params *, FILE *, int);
static void	 diag_conclude(struct diag_state *,
		    const struct diag_params *);
static void	 diag_print(const struct diag_state *, FILE *, int,
		    const char *);

static void
diag_done(struct scn_exec *x, void *arg)
{
	struct diag_run	*run = arg;

	run->done = 1;
	event_base_loopbreak(run->base);
}

/* diag_domain_addr - "local@" + the domain of addr, or NULL */
static char *
diag_domain_addr(const char *local, const char *addr)
{
	const char	*at = strrchr(addr, '@');

	if (at == NULL || at[1] == '\0')
		return NULL;
	return xasprintf("%s@%s", local, at + 1);
}

/* diag_find - the step of stage in transaction txn (0: any), or NULL */
static const struct step *
diag_find(const struct record *r, enum smtp_stage st, int txn)
{
	size_t	 i;

	for (i = 0; i < r->nsteps; i++)
		if (r->steps[i].stage == st && (txn == 0 ||
		    r->steps[i].txn == txn) && r->steps[i].outcome !=
		    OUT_SKIPPED)
			return &r->steps[i];
	return NULL;
}

/* diag_cell - "ok", "550 5.1.1", "timeout" or "-" for one stage */
static const char *
diag_cell(const struct record *r, enum smtp_stage st, int txn, char *buf,
    size_t len)
{
	const struct step *s = diag_find(r, st, txn);

	if (s == NULL)
		return "-";
	if (s->outcome == OUT_OK)
		return "ok";
	if (s->reply != NULL)
		snprintf(buf, len, "%d%s%s", s->reply->code,
		    s->reply->enhanced[0] ? " " : "", s->reply->enhanced);
	else
		snprintf(buf, len, "%s", record_outcome_name(s->outcome));
	return buf;
}

/* diag_ok - 1 if transaction txn got MAIL and every RCPT accepted */
static int
diag_ok(const struct record *r, int txn)
{
	size_t	 i;
	int	 seen = 0;

	for (i = 0; i < r->nsteps; i++) {
		const struct step *s = &r->steps[i];

		if (s->txn != txn || s->stage == STAGE_RSET)
			continue;
		if (s->stage == STAGE_MAIL || s->stage == STAGE_RCPT ||
		    s->stage == STAGE_DATA || s->stage == STAGE_EOD) {
			seen = 1;
			if (s->outcome != OUT_OK)
				return 0;
		}
	}
	return seen;
}

/* diag_status - exit status of the session part and transaction 1 */
static int
diag_status(const struct record *r)
{
	size_t	 i;
	int	 rc = 0;

	if (r->status == RES_ERROR)
		return 3;
	for (i = 0; i < r->nsteps; i++) {
		const struct step *s = &r->steps[i];

		if (s->txn > 1 || s->stage == STAGE_QUIT)
			continue;
		if (s->outcome == OUT_PERMFAIL)
			rc = 1;
		else if (s->outcome == OUT_TEMPFAIL && rc == 0)
			rc = 2;
	}
	return rc;
}

/*
 * diag_variants - the variants: the envelope ones as transactions of
 * session 0, the other HELO name (session 1), with content a minimal
 * message and the user's message (sessions 2 and 3)
 */
static void
diag_variants(struct diag_state *d, const struct diag_params *dp)
{
	const struct scn_classic *bp = dp->probe;
	int			 k;

	/* session 0: the envelope variants as transactions */
	d->txns[0][d->ntx++] = (struct smtp_txn){ d->from, bp->txn[0].rcpt, 1 };
	d->v[d->nv++] = (struct variant){ .name = "as given", .session = 0,
	    .txnno = 1, .from = d->from, .to = d->rcpt };
	if (d->from[0] != '\0') {
		d->txns[0][d->ntx] = (struct smtp_txn){ "", bp->txn[0].rcpt,
		    1 };
		d->v[d->nv++] = (struct variant){ .name = "null sender <>",
		    .session = 0, .txnno = (int)++d->ntx, .from = "",
		    .to = d->rcpt };
	}
	if ((d->s_post = diag_domain_addr("postmaster", d->from)) != NULL &&
	    strcasecmp(d->s_post, d->from) != 0) {
		d->txns[0][d->ntx] = (struct smtp_txn){ d->s_post,
		    bp->txn[0].rcpt, 1 };
		d->v[d->nv].label = xasprintf("sender %s", d->s_post);
		d->v[d->nv].from = d->s_post;
		d->v[d->nv].to = d->rcpt;
		d->v[d->nv++].session = 0;
		d->v[d->nv - 1].txnno = (int)++d->ntx;
	}
	if ((d->r_post = diag_domain_addr("postmaster", d->rcpt)) != NULL &&
	    strcasecmp(d->r_post, d->rcpt) != 0) {
		d->one[0] = d->r_post;
		d->txns[0][d->ntx] = (struct smtp_txn){ d->from, d->one, 1 };
		d->v[d->nv].label = xasprintf("recipient %s", d->r_post);
		d->v[d->nv].from = d->from;
		d->v[d->nv].to = d->r_post;
		d->v[d->nv++].session = 0;
		d->v[d->nv - 1].txnno = (int)++d->ntx;
	}
	d->sc[0].txn = d->txns[0];
	d->sc[0].ntxn = d->ntx;
	d->nsess = 1;

	/* session 1: the other HELO name, the user's envelope */
	d->alt = dp->alt_helo != NULL ? xstrdup(dp->alt_helo) : NULL;
	if ((dp->conn->helo == NULL) != (d->alt == NULL) || (d->alt != NULL &&
	    strcmp(d->alt, dp->conn->helo) != 0)) {
		d->alt_conn = *dp->conn;
		d->alt_conn.helo = d->alt;
		d->sp[1].conn = &d->alt_conn;
		d->txns[1][0] = d->txns[0][0];
		d->sc[1].txn = d->txns[1];
		d->sc[1].ntxn = 1;
		d->v[d->nv].label = xasprintf("HELO %s", d->alt != NULL ?
		    d->alt :
		    "address literal");
		d->v[d->nv].from = d->from;
		d->v[d->nv].to = d->rcpt;
		d->v[d->nv].session = 1;
		d->v[d->nv++].txnno = 1;
		d->nsess = 2;
	}
	/* sessions 2, 3: a minimal message, then the user's message */
	if (dp->content) {
		for (k = 0; k < 2; k++) {
			d->txns[d->nsess][0] = d->txns[0][0];
			d->sc[d->nsess].txn = d->txns[d->nsess];
			d->sc[d->nsess].ntxn = 1;
			d->sc[d->nsess].data = 1;
			if (k == 0) {
				d->sp[d->nsess].headers = NULL;
				d->sp[d->nsess].nheaders = 0;
				d->sp[d->nsess].body = NULL;
				d->sp[d->nsess].message = NULL;
			}
			d->v[d->nv].name = k == 0 ? "minimal test message" :
			    "your message";
			d->v[d->nv].from = d->from;
			d->v[d->nv].to = d->rcpt;
			d->v[d->nv].session = (int)d->nsess;
			d->v[d->nv++].txnno = 1;
			d->nsess++;
		}
	}
}

/* diag_sessions - run the sessions one after the other on base */
static void
diag_sessions(struct diag_state *d, struct event_base *base,
    const struct diag_params *dp, FILE *fp, int json)
{
	struct diag_run		 run = { base, 0 };
	size_t			 i;

	for (i = 0; i < d->nsess; i++) {
		run.done = 0;
		if (!json)
			fprintf(fp, "** diagnose: connection %zu of %zu\n",
			    i + 1, d->nsess);
		d->scn[i] = scn_classic(&d->sc[i]);
		d->ex[i] = scn_exec_new(base, d->scn[i], &d->sp[i], diag_done,
		    &run);
		scn_exec_start(d->ex[i]);
		if (!run.done)
			event_base_dispatch(base);
		d->rec[i] = scn_exec_record(d->ex[i], 0);
	}
	if (dp->checks != NULL) {
		/* what DNS says about us sharpens the conclusion */
		struct record	*r0 = scn_exec_record_mut(d->ex[0], 0);
		size_t		 k2;

		free(r0->check_ip);
		r0->check_ip = dp->check_ip != NULL ? xstrdup(dp->check_ip) :
		    NULL;
		r0->checked = 1;
		for (k2 = 0; k2 < dp->checks->nitems; k2++) {
			const struct check_item *ci = &dp->checks->items[k2];

			record_add_check(r0, ci->name, ci->subject, ci->zone,
			    ci->answer, check_status_name(ci->status),
			    ci->evidence);
		}
		if (!json)
			report_checks(fp, r0);
	}
}

/* diag_conclude - what the records say the block is aimed at */
static void
diag_conclude(struct diag_state *d, const struct diag_params *dp)
{
	const struct record *r0 = d->rec[0];
	const struct step *ban = diag_find(r0, STAGE_BANNER, 0);
	const struct step *eh = diag_find(r0, STAGE_EHLO, 0);
	int	 base_ok = diag_ok(r0, 1), helo_ok = 0;
	int	 other_sender_ok = 0, post_rcpt_ok = 0;
	struct verdict		 bv;
	size_t			 i;

	for (i = 1; i < d->nv; i++) {
		if (d->v[i].session != 0)
			continue;
		if (d->v[i].label != NULL &&
		    strncmp(d->v[i].label, "recipient", 9) == 0)
			post_rcpt_ok = diag_ok(r0, d->v[i].txnno);
		else if (diag_ok(r0, d->v[i].txnno))
			other_sender_ok = 1;
	}
	if (d->nsess > 1 && d->v[0].session == 0) {
		const struct step *e1 = diag_find(d->rec[1], STAGE_EHLO,
		    0);

		helo_ok = e1 != NULL && e1->outcome == OUT_OK &&
		    diag_ok(d->rec[1], 1);
		if (eh != NULL && eh->outcome != OUT_OK && e1 != NULL &&
		    e1->outcome == OUT_OK)
			helo_ok = 2;
	}
	verdict_record(r0, &bv);
	if (r0->status == RES_ERROR && (ban == NULL ||
	    ban->outcome != OUT_OK) && (ban == NULL ||
	    ban->reply == NULL)) {
		d->cclass = "network";
		d->ptext = xasprintf("no usable connection: %s",
		    r0->message);
	} else if (ban != NULL && ban->outcome != OUT_OK) {
		d->cclass = strcmp(bv.class, "rate") == 0 ? "rate" : "ip";
		d->ptext = xasprintf("the greeting already refuses us "
		    "(%s): the block is on the connecting IP, before "
		    "any HELO, sender or recipient is seen",
		    ban->reply != NULL ? ban->reply->lines[0] : "");
	} else if (helo_ok == 2) {
		d->cclass = "helo";
		d->ptext = xasprintf("EHLO %s was refused, EHLO %s was "
		    "accepted: the HELO name is the problem",
		    r0->helo != NULL ? r0->helo : "?",
		    d->rec[1]->helo != NULL ? d->rec[1]->helo : "?");
	} else if (eh != NULL && eh->outcome != OUT_OK) {
		d->cclass = strcmp(bv.class, "helo") == 0 ? "helo" : "ip";
		d->ptext = xasprintf("EHLO was refused with every HELO "
		    "name tried: %s", eh->reply != NULL ?
		    eh->reply->lines[0] : "");
	} else if (!base_ok && post_rcpt_ok) {
		d->cclass = "recipient";
		d->ptext = xasprintf("%s is refused while %s is accepted "
		    "d->from the same sender: the block is about that "
		    "recipient", d->rcpt, d->r_post);
	} else if (!base_ok && other_sender_ok) {
		d->cclass = "sender";
		d->ptext = xasprintf("%s is refused as sender while the "
		    "null sender or postmaster@ is accepted: the "
		    "block is about the sender (address, domain, "
		    "SPF/DMARC)", d->from[0] ? d->from : "<>");
	} else if (!base_ok && helo_ok) {
		d->cclass = "helo";
		d->ptext = xasprintf("every envelope is refused with "
		    "HELO %s but accepted with HELO %s: a HELO block "
		    "reported late (at MAIL or RCPT)", r0->helo,
		    d->rec[1]->helo);
	} else if (!base_ok) {
		d->cclass = strcmp(bv.class, "helo") == 0 ||
		    strcmp(bv.class, "policy") == 0 ||
		    strcmp(bv.class, "rate") == 0 ||
		    strcmp(bv.class, "greylist") == 0 ||
		    strcmp(bv.class, "network") == 0 ? bv.class : "ip";
		d->ptext = xasprintf("refused whatever changes - sender, "
		    "recipient%s: even postmaster@, which RFC 5321 "
		    "requires to be accepted, is refused; the block "
		    "is on the connection (IP) or a site policy "
		    "(verdict: %s/%s)", d->nsess > 1 ? ", HELO" : "",
		    bv.class, bv.reason);
	} else if (dp->content && d->nsess >= 4) {
		int m = diag_ok(d->rec[d->nsess - 2], 1);
		int u = diag_ok(d->rec[d->nsess - 1], 1);

		if (m && !u) {
			d->cclass = "content";
			d->ptext = xstrdup("the envelope and a minimal "
			    "message are accepted, your message is "
			    "refused: the content of your message is "
			    "the problem (body, links, attachments, "
			    "headers)");
		} else if (!m) {
			struct verdict mv;

			verdict_record(d->rec[d->nsess - 2], &mv);
			d->cclass = strcmp(mv.class, "sender") == 0 ?
			    "sender" : "ip";
			d->ptext = xasprintf("even a minimal message is "
			    "refused after DATA: not your content, but "
			    "the sender's reputation or authentication "
			    "(verdict: %s/%s)", mv.class, mv.reason);
		} else
			d->ptext = xstrdup("the envelope, a minimal "
			    "message and your message were all "
			    "accepted: no block seen");
	} else
		d->ptext = xstrdup("the envelope was accepted: no block "
		    "seen before DATA (add --diagnose-content to "
		    "test a message)");
}

/* diag_print - the matrix and the conclusion, as text or JSON */
static void
diag_print(const struct diag_state *d, FILE *fp, int json,
    const char *version)
{
	json_t			*doc, *arr, *probe;
	char			 buf[5][32];
	size_t			 i;

	if (json) {
		arr = json_array();
		for (i = 0; i < d->nv; i++) {
			const struct record *r = d->rec[d->v[i].session];

			json_array_append_new(arr, json_pack(
			    "{s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
			    "s:b}",
			    "variant", d->v[i].label ? d->v[i].label :
			    d->v[i].name,
			    "helo", r->helo ? json_string(r->helo) :
			    json_null(),
			    "from", d->v[i].from, "to", d->v[i].to,
			    "ehlo", diag_cell(r, STAGE_EHLO, 0, buf[0], 32),
			    "mail", diag_cell(r, STAGE_MAIL, d->v[i].txnno,
			    buf[1], 32),
			    "rcpt", diag_cell(r, STAGE_RCPT, d->v[i].txnno,
			    buf[2], 32),
			    "data", diag_cell(r, STAGE_DATA, d->v[i].txnno,
			    buf[3], 32),
			    "eod", diag_cell(r, STAGE_EOD, d->v[i].txnno,
			    buf[4], 32),
			    "accepted", diag_ok(r, d->v[i].txnno)));
		}
		probe = report_json_doc(d->rec[0], version);
		json_object_del(probe, "schema");
		doc = json_pack("{s:s, s:o, s:o, s:{s:s, s:s}}",
		    "schema", SCHEMA_DIAGNOSE, "probe", probe,
		    "variants", arr,
		    "conclusion", "class", d->cclass, "text", d->ptext);
		json_dumpf(doc, fp, REPORT_JSON_FLAGS);
		fputc('\n', fp);
		json_decref(doc);
	} else {
		fprintf(fp, "** diagnose matrix:\n**   %-36s %-10s %-10s "
		    "%-10s %-10s %s\n", "variant", "ehlo", "mail", "d->rcpt",
		    "data", "eod");
		for (i = 0; i < d->nv; i++) {
			const struct record *r = d->rec[d->v[i].session];

			fprintf(fp, "**   %-36.36s %-10s %-10s %-10s %-10s "
			    "%s\n", d->v[i].label ? d->v[i].label :
			    d->v[i].name,
			    diag_cell(r, STAGE_EHLO, 0, buf[0], 32),
			    diag_cell(r, STAGE_MAIL, d->v[i].txnno, buf[1], 32),
			    diag_cell(r, STAGE_RCPT, d->v[i].txnno, buf[2], 32),
			    diag_cell(r, STAGE_DATA, d->v[i].txnno, buf[3], 32),
			    diag_cell(r, STAGE_EOD, d->v[i].txnno, buf[4], 32));
		}
		report_verdict(fp, d->rec[0]);
		fprintf(fp, "** conclusion: %s: %s\n", d->cclass, d->ptext);
	}
}

/* diag_run - every variant, the conclusion, the user's exit status */
int
diag_run(struct event_base *base, const struct diag_params *dp, FILE *fp,
    int json, const char *version)
{
	const struct scn_classic *bp = dp->probe;
	struct diag_state	*d;
	size_t			 i;
	int			 rc;

	if (bp->ntxn == 0 || bp->txn[0].nrcpt == 0) {
		log_warnx("--diagnose needs --from and --to");
		return EXIT_USAGE;
	}
	d = xcalloc(1, sizeof(*d));
	d->cclass = "accepted";
	d->from = bp->txn[0].from;
	d->rcpt = bp->txn[0].rcpt[0];
	for (i = 0; i < 4; i++) {
		d->sc[i] = *bp;
		d->sc[i].data = 0;
		d->sp[i] = *dp->run;
		d->sp[i].stop_before = d->sp[i].quit_after = -1;
	}
	diag_variants(d, dp);
	diag_sessions(d, base, dp, fp, json);
	diag_conclude(d, dp);
	diag_print(d, fp, json, version);

	/* the user's own envelope decides the exit status */
	rc = diag_status(d->rec[0]);
	if (dp->content && d->nsess >= 4 && rc == 0)
		rc = record_exit_code(d->rec[d->nsess - 1]);
	for (i = 0; i < d->nsess; i++) {
		scn_exec_free(d->ex[i]);
		scn_free(d->scn[i]);
	}
	for (i = 0; i < d->nv; i++)
		free(d->v[i].label);
	free(d->ptext);
	free(d->alt);
	free(d->s_post);
	free(d->r_post);
	free(d);
	return rc;
}

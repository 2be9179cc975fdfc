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

static void	 diag_done(struct scn_exec *, void *);
static char	*diag_domain_addr(const char *, const char *);
static const struct step *diag_find(const struct record *, enum smtp_stage,
		    int);
static const char *diag_cell(const struct record *, enum smtp_stage, int,
		    char *, size_t);
static int	 diag_ok(const struct record *, int);
static int	 diag_status(const struct record *);

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

int
diag_run(struct event_base *base, const struct diag_params *dp, FILE *fp,
    int json, const char *version)
{
	const struct scn_classic *bp = dp->probe;
	struct diag_run		 run = { base, 0 };
	struct variant		 v[MAXV];
	const struct record	*rec[4] = { NULL, NULL, NULL, NULL };
	struct scn_exec		*ex[4] = { NULL, NULL, NULL, NULL };
	struct scn		*scn[4] = { NULL, NULL, NULL, NULL };
	struct scn_classic	 sc[4];
	struct scn_params	 sp[4];
	struct smtp_params	 alt_conn;
	struct smtp_txn		 txns[4][4];
	const char		*from, *rcpt, *cclass = "accepted";
	const char		*one[1];
	char			*ptext = NULL, *alt, buf[5][32];
	char			*s_post = NULL, *r_post = NULL;
	size_t			 nv = 0, i, nsess = 0, ntx = 0;
	int			 rc, k;
	struct verdict		 bv;
	json_t			*doc, *arr;

	if (bp->ntxn == 0 || bp->txn[0].nrcpt == 0) {
		log_warnx("--diagnose needs --from and --to");
		return 64;
	}
	memset(v, 0, sizeof(v));
	memset(txns, 0, sizeof(txns));
	from = bp->txn[0].from;
	rcpt = bp->txn[0].rcpt[0];
	for (i = 0; i < 4; i++) {
		sc[i] = *bp;
		sc[i].data = 0;
		sp[i] = *dp->run;
		sp[i].stop_before = sp[i].quit_after = -1;
	}

	/* session 0: the envelope variants as transactions */
	txns[0][ntx++] = (struct smtp_txn){ from, bp->txn[0].rcpt, 1 };
	v[nv++] = (struct variant){ .name = "as given", .session = 0,
	    .txnno = 1, .from = from, .to = rcpt };
	if (from[0] != '\0') {
		txns[0][ntx] = (struct smtp_txn){ "", bp->txn[0].rcpt, 1 };
		v[nv++] = (struct variant){ .name = "null sender <>",
		    .session = 0, .txnno = (int)++ntx, .from = "",
		    .to = rcpt };
	}
	if ((s_post = diag_domain_addr("postmaster", from)) != NULL &&
	    strcasecmp(s_post, from) != 0) {
		txns[0][ntx] = (struct smtp_txn){ s_post, bp->txn[0].rcpt, 1 };
		v[nv].label = xasprintf("sender %s", s_post);
		v[nv].from = s_post;
		v[nv].to = rcpt;
		v[nv++].session = 0;
		v[nv - 1].txnno = (int)++ntx;
	}
	if ((r_post = diag_domain_addr("postmaster", rcpt)) != NULL &&
	    strcasecmp(r_post, rcpt) != 0) {
		one[0] = r_post;
		txns[0][ntx] = (struct smtp_txn){ from, one, 1 };
		v[nv].label = xasprintf("recipient %s", r_post);
		v[nv].from = from;
		v[nv].to = r_post;
		v[nv++].session = 0;
		v[nv - 1].txnno = (int)++ntx;
	}
	sc[0].txn = txns[0];
	sc[0].ntxn = ntx;
	nsess = 1;

	/* session 1: the other HELO name, the user's envelope */
	alt = dp->alt_helo != NULL ? xstrdup(dp->alt_helo) : NULL;
	if ((dp->conn->helo == NULL) != (alt == NULL) || (alt != NULL &&
	    strcmp(alt, dp->conn->helo) != 0)) {
		alt_conn = *dp->conn;
		alt_conn.helo = alt;
		sp[1].conn = &alt_conn;
		txns[1][0] = txns[0][0];
		sc[1].txn = txns[1];
		sc[1].ntxn = 1;
		v[nv].label = xasprintf("HELO %s", alt != NULL ? alt :
		    "address literal");
		v[nv].from = from;
		v[nv].to = rcpt;
		v[nv].session = 1;
		v[nv++].txnno = 1;
		nsess = 2;
	}
	/* sessions 2, 3: a minimal message, then the user's message */
	if (dp->content) {
		for (k = 0; k < 2; k++) {
			txns[nsess][0] = txns[0][0];
			sc[nsess].txn = txns[nsess];
			sc[nsess].ntxn = 1;
			sc[nsess].data = 1;
			if (k == 0) {
				sp[nsess].headers = NULL;
				sp[nsess].nheaders = 0;
				sp[nsess].body = NULL;
				sp[nsess].message = NULL;
			}
			v[nv].name = k == 0 ? "minimal test message" :
			    "your message";
			v[nv].from = from;
			v[nv].to = rcpt;
			v[nv].session = (int)nsess;
			v[nv++].txnno = 1;
			nsess++;
		}
	}

	for (i = 0; i < nsess; i++) {
		run.done = 0;
		if (!json)
			fprintf(fp, "** diagnose: connection %zu of %zu\n",
			    i + 1, nsess);
		scn[i] = scn_classic(&sc[i]);
		ex[i] = scn_exec_new(base, scn[i], &sp[i], diag_done, &run);
		scn_exec_start(ex[i]);
		if (!run.done)
			event_base_dispatch(base);
		rec[i] = scn_exec_record(ex[i], 0);
	}
	if (dp->checks != NULL) {
		/* what DNS says about us sharpens the conclusion */
		struct record	*r0 = scn_exec_record_mut(ex[0], 0);
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

	/* the conclusion */
	{
		const struct record *r0 = rec[0];
		const struct step *ban = diag_find(r0, STAGE_BANNER, 0);
		const struct step *eh = diag_find(r0, STAGE_EHLO, 0);
		int	 base_ok = diag_ok(r0, 1), helo_ok = 0;
		int	 other_sender_ok = 0, post_rcpt_ok = 0;

		for (i = 1; i < nv; i++) {
			if (v[i].session != 0)
				continue;
			if (v[i].label != NULL &&
			    strncmp(v[i].label, "recipient", 9) == 0)
				post_rcpt_ok = diag_ok(r0, v[i].txnno);
			else if (diag_ok(r0, v[i].txnno))
				other_sender_ok = 1;
		}
		if (nsess > 1 && v[0].session == 0) {
			const struct step *e1 = diag_find(rec[1], STAGE_EHLO,
			    0);

			helo_ok = e1 != NULL && e1->outcome == OUT_OK &&
			    diag_ok(rec[1], 1);
			if (eh != NULL && eh->outcome != OUT_OK && e1 != NULL &&
			    e1->outcome == OUT_OK)
				helo_ok = 2;
		}
		verdict_record(r0, &bv);
		if (r0->status == RES_ERROR && (ban == NULL ||
		    ban->outcome != OUT_OK) && (ban == NULL ||
		    ban->reply == NULL)) {
			cclass = "network";
			ptext = xasprintf("no usable connection: %s",
			    r0->message);
		} else if (ban != NULL && ban->outcome != OUT_OK) {
			cclass = strcmp(bv.class, "rate") == 0 ? "rate" : "ip";
			ptext = xasprintf("the greeting already refuses us "
			    "(%s): the block is on the connecting IP, before "
			    "any HELO, sender or recipient is seen",
			    ban->reply != NULL ? ban->reply->lines[0] : "");
		} else if (helo_ok == 2) {
			cclass = "helo";
			ptext = xasprintf("EHLO %s was refused, EHLO %s was "
			    "accepted: the HELO name is the problem",
			    r0->helo != NULL ? r0->helo : "?",
			    rec[1]->helo != NULL ? rec[1]->helo : "?");
		} else if (eh != NULL && eh->outcome != OUT_OK) {
			cclass = strcmp(bv.class, "helo") == 0 ? "helo" : "ip";
			ptext = xasprintf("EHLO was refused with every HELO "
			    "name tried: %s", eh->reply != NULL ?
			    eh->reply->lines[0] : "");
		} else if (!base_ok && post_rcpt_ok) {
			cclass = "recipient";
			ptext = xasprintf("%s is refused while %s is accepted "
			    "from the same sender: the block is about that "
			    "recipient", rcpt, r_post);
		} else if (!base_ok && other_sender_ok) {
			cclass = "sender";
			ptext = xasprintf("%s is refused as sender while the "
			    "null sender or postmaster@ is accepted: the "
			    "block is about the sender (address, domain, "
			    "SPF/DMARC)", from[0] ? from : "<>");
		} else if (!base_ok && helo_ok) {
			cclass = "helo";
			ptext = xasprintf("every envelope is refused with "
			    "HELO %s but accepted with HELO %s: a HELO block "
			    "reported late (at MAIL or RCPT)", r0->helo,
			    rec[1]->helo);
		} else if (!base_ok) {
			cclass = strcmp(bv.class, "helo") == 0 ||
			    strcmp(bv.class, "policy") == 0 ||
			    strcmp(bv.class, "rate") == 0 ||
			    strcmp(bv.class, "greylist") == 0 ||
			    strcmp(bv.class, "network") == 0 ? bv.class : "ip";
			ptext = xasprintf("refused whatever changes - sender, "
			    "recipient%s: even postmaster@, which RFC 5321 "
			    "requires to be accepted, is refused; the block "
			    "is on the connection (IP) or a site policy "
			    "(verdict: %s/%s)", nsess > 1 ? ", HELO" : "",
			    bv.class, bv.reason);
		} else if (dp->content && nsess >= 4) {
			int m = diag_ok(rec[nsess - 2], 1);
			int u = diag_ok(rec[nsess - 1], 1);

			if (m && !u) {
				cclass = "content";
				ptext = xstrdup("the envelope and a minimal "
				    "message are accepted, your message is "
				    "refused: the content of your message is "
				    "the problem (body, links, attachments, "
				    "headers)");
			} else if (!m) {
				struct verdict mv;

				verdict_record(rec[nsess - 2], &mv);
				cclass = strcmp(mv.class, "sender") == 0 ?
				    "sender" : "ip";
				ptext = xasprintf("even a minimal message is "
				    "refused after DATA: not your content, but "
				    "the sender's reputation or authentication "
				    "(verdict: %s/%s)", mv.class, mv.reason);
			} else
				ptext = xstrdup("the envelope, a minimal "
				    "message and your message were all "
				    "accepted: no block seen");
		} else
			ptext = xstrdup("the envelope was accepted: no block "
			    "seen before DATA (add --diagnose-content to "
			    "test a message)");
	}

	if (json) {
		arr = json_array();
		for (i = 0; i < nv; i++) {
			const struct record *r = rec[v[i].session];

			json_array_append_new(arr, json_pack(
			    "{s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
			    "s:b}",
			    "variant", v[i].label ? v[i].label : v[i].name,
			    "helo", r->helo ? json_string(r->helo) :
			    json_null(),
			    "from", v[i].from, "to", v[i].to,
			    "ehlo", diag_cell(r, STAGE_EHLO, 0, buf[0], 32),
			    "mail", diag_cell(r, STAGE_MAIL, v[i].txnno,
			    buf[1], 32),
			    "rcpt", diag_cell(r, STAGE_RCPT, v[i].txnno,
			    buf[2], 32),
			    "data", diag_cell(r, STAGE_DATA, v[i].txnno,
			    buf[3], 32),
			    "eod", diag_cell(r, STAGE_EOD, v[i].txnno,
			    buf[4], 32),
			    "accepted", diag_ok(r, v[i].txnno)));
		}
		doc = json_pack("{s:o, s:o, s:{s:s, s:s}}",
		    "probe", report_json_doc(rec[0], version),
		    "variants", arr,
		    "conclusion", "class", cclass, "text", ptext);
		json_dumpf(doc, fp, REPORT_JSON_FLAGS);
		fputc('\n', fp);
		json_decref(doc);
	} else {
		fprintf(fp, "** diagnose matrix:\n**   %-36s %-10s %-10s "
		    "%-10s %-10s %s\n", "variant", "ehlo", "mail", "rcpt",
		    "data", "eod");
		for (i = 0; i < nv; i++) {
			const struct record *r = rec[v[i].session];

			fprintf(fp, "**   %-36.36s %-10s %-10s %-10s %-10s "
			    "%s\n", v[i].label ? v[i].label : v[i].name,
			    diag_cell(r, STAGE_EHLO, 0, buf[0], 32),
			    diag_cell(r, STAGE_MAIL, v[i].txnno, buf[1], 32),
			    diag_cell(r, STAGE_RCPT, v[i].txnno, buf[2], 32),
			    diag_cell(r, STAGE_DATA, v[i].txnno, buf[3], 32),
			    diag_cell(r, STAGE_EOD, v[i].txnno, buf[4], 32));
		}
		report_verdict(fp, rec[0]);
		fprintf(fp, "** conclusion: %s: %s\n", cclass, ptext);
	}

	/* the user's own envelope decides the exit status */
	rc = diag_status(rec[0]);
	if (dp->content && nsess >= 4 && rc == 0)
		rc = record_exit_code(rec[nsess - 1]);
	for (i = 0; i < nsess; i++) {
		scn_exec_free(ex[i]);
		scn_free(scn[i]);
	}
	for (i = 0; i < nv; i++)
		free(v[i].label);
	free(ptext);
	free(alt);
	free(s_post);
	free(r_post);
	return rc;
}

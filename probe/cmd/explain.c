/*
 * explain.c - "smtprobe explain" (see include/explain.h).
 *
 * Input is a reply ("550 5.1.1 ..."; several lines of a multi-line
 * reply are joined) or a bounce message, recognised by its DSN fields
 * or asked for with --bounce; an ordinary e-mail (mail headers, no
 * bounce marker) is said to be none of them. Each reply found is
 * classified with verdict_reply(), exactly as a live probe's step
 * would be. Exit status: 0 accepted, 1 permanent, 2 temporary, 64 no
 * reply found (an ordinary e-mail included) or bad usage.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "dsn.h"
#include "explain.h"
#include "log.h"
#include "msg.h"
#include "opt.h"
#include "report.h"
#include "schema.h"
#include "smtp.h"
#include "util.h"
#include "verdict.h"

static int	 explain_other(int, int);
static int	 explain_code(const struct dsn_item *);
static void	 explain_count(json_t *, const char *, const char *);
static void	 explain_summary(json_t *);
static int	 explain_is_mail(const char *);
static char	*explain_join(const char *);
static int	 explain_status(int);
static int	 explain_rank(const struct dsn_item *, int);
static json_t	*explain_limits(unsigned);
static void	 explain_truncated(FILE *, unsigned);

/*
 * explain_other - an automatic reply, a feedback report or an ordinary
 * e-mail is named for what it is, not searched for an SMTP reply;
 * returns the exit status: 0, or 64 (no reply) for an ordinary e-mail
 */
static int
explain_other(int kind, int json)
{
	const char	*what, *text;

	if (kind == DSN_KIND_NONE) {
		what = "none";
		text = "not a bounce: an ordinary e-mail message (mail "
		    "headers, but no delivery report, automatic reply or "
		    "feedback report in it); it holds no SMTP reply to "
		    "judge. Paste the bounce or the reply itself, or give "
		    "--bounce if it is a bounce after all";
	} else if (kind == DSN_KIND_ARF) {
		what = "feedback-report";
		text = "an abuse feedback report (RFC 5965): a recipient "
		    "marked a message as spam, it was delivered; stop "
		    "mailing that recipient and check the list's consent";
	} else {
		what = "auto-reply";
		text = "an automatic reply (RFC 3834: vacation, "
		    "out-of-office or autoresponder): the message was "
		    "delivered; nothing to fix";
	}
	if (json) {
		json_t	*o = json_pack("{s:s, s:s, s:s}", "schema",
		    SCHEMA_EXPLAIN, "input", what, "advice", text);

		json_dumpf(o, stdout, REPORT_JSON_FLAGS);
		fputc('\n', stdout);
		json_decref(o);
	} else
		printf("input:     %s\nadvice:    %s\n", what, text);
	return kind == DSN_KIND_NONE ? 64 : 0;
}

/*
 * explain_code - the reply code of a bounce item; a reason without one
 * (a local delivery error, a DSN without Diagnostic-Code) is judged as
 * a 450 when the Status: or Action: says temporary, 250 for a
 * delivered one, else as a 550: the bounce itself says it failed
 */
static int
explain_code(const struct dsn_item *it)
{
	if (it->code != 0)
		return it->code;
	if ((it->status != NULL && it->status[0] == '4') ||
	    (it->action != NULL && strcmp(it->action, "delayed") == 0))
		return 450;
	if (it->status != NULL && it->status[0] == '2')
		return 250;
	return 550;
}

/*
 * explain_rank - how much a bounce item says about the bounce: 2 a
 * failed recipient (Action: failed, or a permanent code without an
 * Action:), 1 a delayed one, 0 any other (delivered, relayed)
 */
static int
explain_rank(const struct dsn_item *it, int code)
{
	if (it->action != NULL)
		return strcmp(it->action, "failed") == 0 ? 2 :
		    strcmp(it->action, "delayed") == 0 ? 1 : 0;
	return explain_status(code) == 1 ? 2 : explain_status(code) == 2 ?
	    1 : 0;
}

/* explain_is_mail - 1 when the text starts with mail header fields */
static int
explain_is_mail(const char *t)
{
	static const char *hdrs[] = { "From ", "Return-Path:", "Received:",
	    "Delivered-To:", "From:", "Subject:", "Date:", "Message-ID:",
	    "To:", "MIME-Version:", "Content-Type:", "X-" };
	size_t	 i;

	while (*t == '\r' || *t == '\n' || *t == ' ' || *t == '\t')
		t++;
	for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++)
		if (strncasecmp(t, hdrs[i], strlen(hdrs[i])) == 0)
			return 1;
	return 0;
}

/* explain_count - count one verdict by class and by recipient domain */
static void
explain_count(json_t *sum, const char *cls, const char *rcpt)
{
	const char	*at;
	json_t		*o;
	size_t		 k;

	o = json_object_get(sum, "by_class");
	k = (size_t)json_integer_value(json_object_get(o, cls));
	json_object_set_new(o, cls, json_integer((json_int_t)k + 1));
	at = rcpt != NULL ? strrchr(rcpt, '@') : NULL;
	at = at != NULL ? at + 1 : "(unknown)";
	o = json_object_get(sum, "by_destination");
	k = (size_t)json_integer_value(json_object_get(o, at));
	json_object_set_new(o, at, json_integer((json_int_t)k + 1));
}

/* explain_summary - the counts of explain_count(), human form */
static void
explain_summary(json_t *sum)
{
	const char	*key;
	json_t		*val;

	printf("== summary by class:");
	json_object_foreach(json_object_get(sum, "by_class"), key, val)
		printf(" %s %lld", key, (long long)json_integer_value(val));
	printf("\n== summary by destination:");
	json_object_foreach(json_object_get(sum, "by_destination"), key, val)
		printf(" %s %lld", key, (long long)json_integer_value(val));
	printf("\n");
}

/* explain_join - reply lines (CR/LF separated) joined with " | " */
static char *
explain_join(const char *t)
{
	char	*out, *o;
	size_t	 n = strlen(t);

	o = out = xmalloc(n * 3 + 1);
	while (*t == '\r' || *t == '\n' || *t == ' ' || *t == '\t')
		t++;
	for (; *t != '\0'; t++) {
		if (*t == '\r')
			continue;
		if (*t == '\n') {
			while (t[1] == '\n' || t[1] == '\r')
				t++;
			if (t[1] == '\0')
				break;
			memcpy(o, " | ", 3);
			o += 3;
			continue;
		}
		*o++ = *t;
	}
	while (o > out && (o[-1] == ' ' || o[-1] == '\t'))
		o--;
	*o = '\0';
	return out;
}

static int
explain_status(int code)
{
	switch (code / 100) {
	case 2:
	case 3:
		return 0;
	case 4:
		return 2;
	default:
		return 1;
	}
}

/* explain_limits - the DSN limits a bounce reached, for JSON */
static json_t *
explain_limits(unsigned t)
{
	json_t	*o = json_object();

	if (t & DSN_TRUNC_PARTS)
		json_object_set_new(o, "mime_parts",
		    json_integer(DSN_MAX_PARTS));
	if (t & DSN_TRUNC_ITEMS)
		json_object_set_new(o, "items", json_integer(DSN_MAX_ITEMS));
	if (t & DSN_TRUNC_DEPTH)
		json_object_set_new(o, "depth", json_integer(DSN_MAX_DEPTH));
	return o;
}

/* explain_truncated - say which limit cut the bounce short, if any */
static void
explain_truncated(FILE *fp, unsigned t)
{
	if (t & DSN_TRUNC_PARTS)
		fprintf(fp, "!! warning: the bounce has more than %d MIME "
		    "parts; the rest was not read\n", DSN_MAX_PARTS);
	if (t & DSN_TRUNC_ITEMS)
		fprintf(fp, "!! warning: the bounce names more than %d "
		    "recipients; only the first %d are shown\n",
		    DSN_MAX_ITEMS, DSN_MAX_ITEMS);
	if (t & DSN_TRUNC_DEPTH)
		fprintf(fp, "!! warning: the bounce nests multiparts deeper "
		    "than %d levels; the deeper parts were not read\n",
		    DSN_MAX_DEPTH);
}

/* the confidence a code-less text's verdict needs to be given */
#define EXPLAIN_WORDS_MIN	50

/* explain_print - one verdict, human form */
static void
explain_print(const char *what, const char *reply, const char *rcpt,
    const char *mta, const struct verdict *v)
{
	if (what != NULL)
		printf("== %s\n", what);
	if (rcpt != NULL)
		printf("recipient: %s\n", rcpt);
	if (mta != NULL)
		printf("remote MTA: %s\n", mta);
	printf("reply:     %s\n", reply);
	printf("stage:     %s\n", v->stage >= 0 ? stage_name(v->stage) :
	    "not known (give --stage)");
	report_verdict_text(stdout, v);
}

/*
 * explain_one - one reply pasted (lines joined): its verdict printed, or
 * put in *doc for --json. Returns the exit status, 64 when the text is
 * no reply.
 */
static int
explain_one(const char *input, const struct opt_explain *e, json_t **doc)
{
	struct verdict	 v;
	char		*joined, *safe;
	int		 code;

	joined = explain_join(input);
	safe = util_escape(joined, strlen(joined));
	free(joined);
	if (strlen(safe) < 3 || !isdigit((unsigned char)safe[0]) ||
	    !isdigit((unsigned char)safe[1]) ||
	    !isdigit((unsigned char)safe[2]) || safe[0] < '2' ||
	    safe[0] > '5') {
		/*
		 * No reply code ("mailbox is full", a line copied from a
		 * log): judged on its words alone when they say something
		 * a rule knows; text no rule reads is still refused
		 */
		code = 0;
		verdict_reply(e->stage, 0, NULL, safe, &v);
		if (v.words[0] == '\0' || v.confidence < EXPLAIN_WORDS_MIN) {
			log_warnx("explain: \"%.60s\" does not start with an "
			    "SMTP reply code, and its words say nothing known "
			    "(give a reply such as \"550 5.1.1 ...\", or a "
			    "bounce message)", safe);
			free(safe);
			return 64;
		}
	} else {
		code = (safe[0] - '0') * 100 + (safe[1] - '0') * 10 +
		    (safe[2] - '0');
		verdict_reply(e->stage, code, NULL, safe, &v);
	}
	if (e->json) {
		*doc = json_pack("{s:s}", "input", "reply");
		json_object_update_new(*doc, report_json_verdict(&v));
		json_object_set_new(*doc, "reply", json_string(safe));
		json_object_set_new(*doc, "code", code != 0 ?
		    json_integer(code) : json_null());
	} else {
		if (code == 0)
			printf("** no reply code: judged on its words "
			    "alone\n");
		explain_print(NULL, safe, NULL, NULL, &v);
	}
	free(safe);
	return explain_status(code);
}

int
explain_main(int argc, char **argv)
{
	struct opt_explain	 e;
	struct verdict		 v, dv = { 0 };
	struct dsn		*d = NULL;
	json_t			*doc = NULL, *arr;
	char			*input = NULL, err[512];
	size_t			 len = 0, i, dec = (size_t)-1;
	int			 k, deck = -1;
	int			 rc = 64, worst = -1, code, kind;
	int			 islog = 0;
	json_t			*sum = NULL;

	if (opt_explain_parse(argc, argv, &e) == -1) {
		fprintf(stderr, "Try 'smtprobe explain --help'.\n");
		opt_explain_free(&e);
		return 64;
	}
	if (e.help || e.list_options || e.dump_options) {
		if (e.help)
			opt_explain_usage();
		else if (e.dump_options)
			opt_dump(OC_EXPLAIN);
		else
			opt_list_cmd(OC_EXPLAIN);
		opt_explain_free(&e);
		return 0;
	}
	if (e.text != NULL)
		input = xstrdup(e.text);
	else if (msg_read(e.file != NULL ? e.file : "-", &input, &len, err,
	    sizeof(err)) == -1) {
		log_warnx("explain: %s", err);
		goto out;
	}
	if (memchr(input, '\0', e.text != NULL ? strlen(input) : len) !=
	    NULL && e.text == NULL) {
		/* keep going on the part before a NUL: a report, not a crash */
		len = strlen(input);
	}

	/* log lines, unless it is a mail message (a bounce quoting them) */
	if (!e.bounce && !explain_is_mail(input) &&
	    (d = dsn_log_parse(input, strlen(input))) != NULL)
		islog = 1;
	kind = e.bounce ? DSN_KIND_BOUNCE : islog ? DSN_KIND_NONE :
	    dsn_kind(input, strlen(input));
	if (kind == DSN_KIND_AUTOREPLY || kind == DSN_KIND_ARF ||
	    (kind == DSN_KIND_NONE && !islog &&
	    dsn_is_message(input, strlen(input)))) {
		rc = explain_other(kind, e.json);
		goto out;
	}
	if (kind == DSN_KIND_BOUNCE || islog) {
		if (d == NULL)
			d = dsn_parse(input, strlen(input));
		if (d->nitems == 0 && !islog && !e.bounce &&
		    strchr(input, '\n') == NULL) {
			/* one line with a bounce's words ("mailbox is
			   full"): a reply without its code, not a bounce */
			rc = explain_one(input, &e, &doc);
			goto done;
		}
		if (d->nitems == 0 && islog) {
			log_warnx("explain: MTA log lines, but no failed or "
			    "deferred recipient in them");
			rc = 0;
			goto out;
		}
		if (d->nitems == 0) {
			log_warnx("explain: a bounce, but no SMTP reply or "
			    "reason found in it");
			if (e.json)
				doc = json_pack("{s:s, s:o, s:[], s:b}",
				    "input", "bounce", "reporting_mta",
				    d->reporting_mta ?
				    json_string(d->reporting_mta) :
				    json_null(), "items", "truncated",
				    d->truncated != 0);
			goto done;
		}
		arr = json_array();
		sum = json_pack("{s:{}, s:{}}", "by_class", "by_destination");
		for (i = 0; i < d->nitems; i++) {
			const struct dsn_item *it = &d->items[i];
			int	 st = it->stage >= 0 ? it->stage : e.stage;

			code = explain_code(it);
			verdict_reply(st, code, it->status,
			    it->reply != NULL ? it->reply : it->text != NULL ?
			    it->text : "", &v);
			explain_count(sum, v.class, it->recipient);
			/* the first failed recipient decides, else the
			   first delayed one, else the first */
			k = explain_rank(it, code);
			if (dec == (size_t)-1 || k > deck) {
				dec = i;
				deck = k;
				dv = v;
			}
			if (worst == -1 || explain_status(code) == 1 ||
			    (worst == 0 && explain_status(code) == 2))
				worst = explain_status(code);
			if (e.json) {
				json_t	*o = report_json_verdict(&v);

				json_object_set_new(o, "recipient",
				    it->recipient ? json_string(it->recipient) :
				    json_null());
				json_object_set_new(o, "remote_mta",
				    it->remote_mta ?
				    json_string(it->remote_mta) : json_null());
				json_object_set_new(o, "reply", it->reply ?
				    json_string(it->reply) : json_null());
				json_object_set_new(o, "status", it->status ?
				    json_string(it->status) : json_null());
				json_array_append_new(arr, o);
			} else {
				char	 title[64];

				snprintf(title, sizeof(title), "recipient %zu "
				    "of %zu", i + 1, d->nitems);
				explain_print(title, it->reply != NULL ?
				    it->reply : "(none)", it->recipient,
				    it->remote_mta, &v);
			}
		}
		if (e.json) {
			doc = json_pack("{s:s, s:o, s:o, s:b}", "input",
			    islog ? "log" : "bounce", "reporting_mta",
			    d->reporting_mta ?
			    json_string(d->reporting_mta) : json_null(),
			    "items", arr, "truncated", d->truncated != 0);
			if (islog)
				json_object_set(doc, "summary", sum);
			else {
				json_object_set_new(doc, "class",
				    json_string(dv.class));
				json_object_set_new(doc, "reason",
				    json_string(dv.reason));
				json_object_set_new(doc, "decided_by",
				    json_integer((json_int_t)dec));
			}
			if (d->truncated != 0)
				json_object_set_new(doc, "limits",
				    explain_limits(d->truncated));
		} else {
			json_decref(arr);
			explain_truncated(stdout, d->truncated);
			if (islog)
				explain_summary(sum);
			else if (d->nitems > 1)
				printf("== bounce: %s (%s), decided by recipient "
				    "%zu of %zu (%s), %s\n", dv.class, dv.reason,
				    dec + 1, d->nitems,
				    d->items[dec].recipient != NULL ?
				    d->items[dec].recipient : "no address",
				    deck == 2 ? "the first that failed" :
				    deck == 1 ? "the first delayed" :
				    "none failed");
		}
		json_decref(sum);
		rc = worst;
	} else
		rc = explain_one(input, &e, &doc);
done:
	if (doc != NULL) {
		doc = schema_wrap(SCHEMA_EXPLAIN, doc);
		json_dumpf(doc, stdout, REPORT_JSON_FLAGS);
		fputc('\n', stdout);
		json_decref(doc);
	}
out:
	dsn_free(d);
	free(input);
	opt_explain_free(&e);
	return rc;
}

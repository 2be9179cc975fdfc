/*
 * t_verdict.c - the verdict rules against the corpus of real-world
 * replies (tests/verdict/corpus.tsv: stage, class, reason, reply).
 * Prints the accuracy per class, fails below the floor, and fails for
 * every rule that matches no corpus line labelled with its class (a
 * rule no real reply backs is a guess). How often each rule wins is
 * printed too. Also checks the enhanced-code registry and a few fixed
 * cases where the stage alone must decide.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "smtp.h"
#include "tap.h"
#include "verdict.h"

#define FLOOR_CLASS	95	/* % of lines whose class must be right */
#define FLOOR_REASON	85	/* % of lines whose reason must be right */

static const char *classes[] = { "ip", "helo", "sender", "recipient",
	"relay", "content", "auth", "tls", "rate", "greylist", "policy",
	"server", "network", "protocol", "accepted", NULL };

static void	 registry(void);

/*
 * The IANA "SMTP Enhanced Status Codes" registry: the highest detail
 * of each subject (X.0.0 ... X.7.30), and the summaries of the codes
 * added after RFC 3463.
 */
static const int reg_last[] = { 0, 10, 4, 6, 7, 6, 10, 30 };

static const struct {
	const char	*code;
	const char	*text;
} reg_later[] = {
	{ "5.1.9", "Message relayed to non-compliant mailer" },	/* 3886 */
	{ "5.1.10", "Recipient address has null MX" },		/* 7505 */
	{ "4.3.6", "Requested priority was changed" },		/* 6710 */
	{ "5.5.6", "Authentication Exchange line is too long" },
	{ "5.6.6", "Message content not available" },		/* 4468 */
	{ "5.6.7", "Non-ASCII addresses not permitted for that "
	    "sender/recipient" },				/* 6531 */
	{ "5.7.8", "Authentication credentials invalid" },	/* 4954 */
	{ "5.7.13", "User Account Disabled" },			/* 5248 */
	{ "5.7.14", "Trust relationship required" },		/* 5248 */
	{ "4.7.15", "Priority Level is too low" },		/* 6710 */
	{ "5.7.16", "Message is too big for the specified priority" },
	{ "5.7.17", "Mailbox owner has changed" },		/* 7293 */
	{ "5.7.18", "Domain owner has changed" },
	{ "5.7.19", "RRVS test cannot be completed" },
	{ "5.7.20", "No passing DKIM signature found" },	/* 7372 */
	{ "5.7.21", "No acceptable DKIM signature found" },
	{ "5.7.22", "No valid author-matched DKIM signature found" },
	{ "5.7.23", "SPF validation failed" },
	{ "4.7.24", "SPF validation error" },
	{ "5.7.25", "Reverse DNS validation failed" },
	{ "5.7.26", "Multiple authentication checks failed" },
	{ "5.7.27", "Sender address has null MX" },		/* 7505 */
	{ "4.7.28", "Mail flood detected" },			/* 8098 */
	{ "5.7.29", "ARC validation failure" },			/* 8617 */
	{ "5.7.30", "REQUIRETLS support required" },		/* 8689 */
};

/* registry - every registered code has a meaning, nothing else has */
static void
registry(void)
{
	static const char *none[] = { "5.4.8", "5.1.11", "5.2.5", "5.3.7",
	    "5.5.7", "5.6.11", "5.7.31", "5.8.0", "5.0.1", "3.1.1", "9.1.1",
	    "x.1.1", "5.1", "5.1.1.1", "5.01.1", "", NULL };
	const char	*cls = "245", *m;
	char		 code[16];
	size_t		 i, missing = 0, n = 0;
	int		 subj, det;

	for (i = 0; cls[i] != '\0'; i++)
		for (subj = 0; subj < 8; subj++)
			for (det = 0; det <= reg_last[subj]; det++) {
				snprintf(code, sizeof(code), "%c.%d.%d", cls[i],
				    subj, det);
				n++;
				if (verdict_enhanced_meaning(code) == NULL) {
					printf("# no meaning for %s\n", code);
					missing++;
				}
			}
	ok(missing == 0, "all %zu registered codes (X.0.0 to X.7.30, "
	    "classes 2, 4, 5) have a meaning (%zu missing)", n, missing);
	for (i = 0; i < sizeof(reg_later) / sizeof(reg_later[0]); i++) {
		m = verdict_enhanced_meaning(reg_later[i].code);
		ok(m != NULL && strcmp(m, reg_later[i].text) == 0,
		    "%s is \"%s\"", reg_later[i].code, reg_later[i].text);
	}
	m = verdict_enhanced_meaning("5.6.10");
	ok(m != NULL && strstr(m, "deprecated") != NULL,
	    "5.6.10 is the deprecated duplicate of X.6.8");
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		m = verdict_enhanced_meaning(none[i]);
		ok(m == NULL, "%s%s%s is not registered", none[i] ? "\"" : "",
		    none[i] ? none[i] : "NULL", none[i] ? "\"" : "");
	}
}

int
main(void)
{
	const char	*top = getenv("top_srcdir");
	const char *const *ids = verdict_rule_ids();
	char		 path[4096], *line = NULL, *f[4];
	size_t		 cap = 0, n = 0, good = 0, rgood = 0, i, k;
	size_t		 per[32][2];
	size_t		 nids = 0, *fired, *won;
	FILE		*fp;
	struct verdict	 v;

	memset(per, 0, sizeof(per));
	while (ids[nids] != NULL)
		nids++;
	fired = calloc(nids, sizeof(*fired));
	won = calloc(nids, sizeof(*won));
	snprintf(path, sizeof(path), "%s/tests/verdict/corpus.tsv",
	    top != NULL ? top : ".");
	if ((fp = fopen(path, "r")) == NULL) {
		printf("Bail out! cannot open %s\n", path);
		return 99;
	}
	while (getline(&line, &cap, fp) != -1) {
		char	*p = line;
		int	 stage, code, ci;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		for (k = 0; k < 4; k++) {
			f[k] = p;
			if (k < 3) {
				if ((p = strchr(p, '\t')) == NULL)
					break;
				*p++ = '\0';
			}
		}
		if (k < 4) {
			ok(0, "corpus line %zu has 4 fields", n + 1);
			continue;
		}
		stage = smtp_stage_lookup(f[0]);
		code = (int)strtol(f[3], NULL, 10);
		verdict_reply(stage, code, NULL, f[3], &v);
		n++;
		for (ci = 0; classes[ci] != NULL; ci++)
			if (strcmp(classes[ci], f[1]) == 0)
				break;
		per[ci][0]++;
		if (strcmp(v.class, f[1]) == 0) {
			good++;
			per[ci][1]++;
			if (strcmp(v.reason, f[2]) == 0)
				rgood++;
			else
				printf("# reason: %s/%s wanted %s at %s: %s\n",
				    v.class, v.reason, f[2], f[0], f[3]);
		} else
			printf("# MISS: got %s/%s (rule %s) wanted %s/%s at "
			    "%s: %s\n", v.class, v.reason, v.rule, f[1], f[2],
			    f[0], f[3]);
		for (i = 0; i < nids; i++) {
			const char *rc;

			if (verdict_rule_matches(ids[i], stage, code, NULL,
			    f[3], &rc) && strcmp(rc, f[1]) == 0)
				fired[i]++;
			if (strcmp(ids[i], v.rule) == 0)
				won[i]++;
		}
	}
	fclose(fp);
	free(line);
	ok(n >= 200, "corpus has %zu lines (at least 200)", n);
	for (i = 0; classes[i] != NULL; i++)
		if (per[i][0] > 0)
			printf("# %-10s %3zu/%3zu\n", classes[i], per[i][1],
			    per[i][0]);
	printf("# accuracy: class %zu/%zu = %.1f%%, reason %zu/%zu = "
	    "%.1f%%\n", good, n, n ? 100.0 * good / n : 0.0, rgood, n,
	    n ? 100.0 * rgood / n : 0.0);
	ok(n > 0 && good * 100 >= FLOOR_CLASS * n,
	    "class accuracy %.1f%% >= %d%%", n ? 100.0 * good / n : 0.0,
	    FLOOR_CLASS);
	ok(n > 0 && rgood * 100 >= FLOOR_REASON * n,
	    "reason accuracy %.1f%% >= %d%%", n ? 100.0 * rgood / n : 0.0,
	    FLOOR_REASON);
	for (i = 0; i < nids; i++)
		ok(fired[i] > 0, "rule %s matches %zu corpus line(s) of its "
		    "class, decides %zu", ids[i], fired[i], won[i]);
	free(fired);
	free(won);

	/* the stage decides where the text cannot */
	verdict_reply(STAGE_BANNER, 550, NULL, "550 Administrative prohibition",
	    &v);
	ok(strcmp(v.class, "ip") == 0, "Exim prohibition at banner: ip");
	verdict_reply(STAGE_EHLO, 550, NULL, "550 Administrative prohibition",
	    &v);
	ok(strcmp(v.class, "helo") == 0, "Exim prohibition at ehlo: helo");
	verdict_reply(STAGE_MAIL, 550, NULL, "550 Administrative prohibition",
	    &v);
	ok(strcmp(v.class, "sender") == 0, "Exim prohibition at mail: sender");
	verdict_reply(STAGE_RCPT, 550, NULL, "550 Administrative prohibition",
	    &v);
	ok(strcmp(v.class, "recipient") == 0,
	    "Exim prohibition at rcpt: recipient");
	verdict_reply(STAGE_RCPT, 504, NULL, "504 5.5.2 <localhost>: Helo "
	    "command rejected: need fully-qualified hostname", &v);
	ok(strcmp(v.class, "helo") == 0 && strcmp(v.words, "fully-qualified")
	    == 0, "delayed HELO reject at RCPT is helo, by its words");
	verdict_reply(STAGE_EOD, 550, NULL, "550 5.7.21 Unacceptable signature",
	    &v);
	ok(strcmp(v.class, "sender") == 0 && strcmp(v.reason, "dkim") == 0 &&
	    strcmp(v.rule, "sender-dkim-code") == 0,
	    "5.7.21 alone (no DKIM word) is sender/dkim by its code");
	verdict_reply(STAGE_EOD, 550, NULL, "550 5.7.2 Unacceptable signature",
	    &v);
	ok(strcmp(v.rule, "sender-dkim-code") != 0,
	    "5.7.2 is not taken for 5.7.20..22");
	verdict_reply(-1, 250, NULL, "250 2.1.5 Ok", &v);
	ok(strcmp(v.class, "accepted") == 0, "250 is accepted");
	ok(strcmp(verdict_enhanced_meaning("5.7.26"),
	    "Multiple authentication checks failed") == 0 &&
	    strcmp(verdict_enhanced_meaning("4.2.2"), "Mailbox full") == 0 &&
	    verdict_enhanced_meaning("5.9.9") == NULL,
	    "enhanced code registry");
	registry();
	return tap_done();
}

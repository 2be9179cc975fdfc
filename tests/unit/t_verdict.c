/*
 * t_verdict.c - the verdict rules against the corpus of real-world
 * replies, split in two: tests/verdict/train.tsv (the rules are written
 * from it) and tests/verdict/test.tsv (wording the rules were not
 * written from); columns stage, class, reason, reply, source.
 * Checks that every line is on the side tests/verdict/split.py puts it
 * (the same normalise + FNV-1a rule, implemented again here), prints
 * the class and reason accuracy of each split and fails below its
 * floor, and fails for every rule that matches no train line labelled
 * with its class (a rule no real reply backs is a guess). How often
 * each rule wins is printed too. Also checks the enhanced-code
 * registry and a few fixed cases where the stage alone must decide.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "smtp.h"
#include "tap.h"
#include "util.h"
#include "verdict.h"
#include "verdict_model.h"

/*
 * Floors in tenths of a percent: the accuracy the verdict reaches on
 * each split (measured, not wished for). Since issue 15's model
 * (tests/verdict/model.py, trained on train only) adds evidence, the
 * train figures are in-sample for the model too; the honest estimate
 * on train is 93.3 % class, 90.5 % reason with the model's out-of-fold
 * scores (tests/verdict/cv.sh 350 80 98 80; the rules alone 92.0/89.2,
 * in-sample; the model alone 88.6/79.2 out of fold, 87.4/77.6 with
 * whole sources held out: model.py --cv --set GROUP=1). The test
 * figures are on replies no rule or model saw: 89.9 % class, 80.8 %
 * reason on 1,660 lines after the eleventh pass (4,587 train lines);
 * on the 1,359 of the eighth pass it was 90.1/81.5, after the tenth
 * 89.6/80.6 on 1,563: the 301 test lines of the ninth to eleventh
 * passes, from sources the corpus had never drawn on, are harder. New replies from such sources, judged before any
 * rule was written for them, score lower still: 82.2/67.2 (the seventh
 * pass's 460 from 98 sources), 78.9/70.2 (the eighth's 242 from 94),
 * 87.2/74.3 (the ninth's 327 train-side lines from 234), 86.5/75.4 (the
 * tenth's 260 from 263, with the weights chosen on it and the ninth's:
 * probe/judge/verdict.c, struct model_weigh), 87.6/77.9 (the
 * eleventh's 226 from 168, which confirm those weights: 86.7/77.4 with
 * the old). The seventh pass: 90.1/
 * 80.8 on 1,290; the sixth: 90.7/82.2 on 1,153. Both splits' labels
 * follow tests/verdict/LABELS.md (test reviewed blind: with its labels
 * as they were before, 86.8/76.9).
 * Earlier: first-match rules 79.1/66.4 (train) and 73.4/58.7 (test);
 * evidence-scored rules alone 95.1/90.8 and 82.7/72.9; on the grown
 * corpus before the third pass of rules 97.4/91.6 and 85.6/75.1; before
 * round 4 98.8/93.6 and 85.7/75.7 (CV 96.5/91.1); the fifth pass 88.4/
 * 79.5 on test. The goal of issue 15 is 95 % class and 90 % reason on
 * test, not reached yet.
 */
#define TRAIN_CLASS	992	/* train: class right, per mille */
#define TRAIN_REASON	978	/* train: reason right, per mille */
#define TEST_CLASS	898	/* test: class right, per mille */
#define TEST_REASON	808	/* test: reason right, per mille */
#define LEGACY		"legacy:corpus.tsv"
#define TRAIN_PERCENT	70	/* hash % 100 below this: train */

struct line {
	char	*f[5];		/* stage class reason reply source */
	char	*norm;		/* the reply, normalised */
};

struct corpus {
	const char	*name;	/* "train" or "test" */
	struct line	*v;
	size_t		 n;
};

static const char *classes[] = { "ip", "helo", "sender", "recipient",
	"relay", "content", "auth", "tls", "rate", "greylist", "policy",
	"server", "network", "protocol", "accepted", NULL };

static char	*normalise(const char *);
static void	 corpus_read(struct corpus *, const char *);
static void	 corpus_free(struct corpus *);
static void	 sides(struct corpus *, struct corpus *);
static void	 accuracy(struct corpus *, int, int, int);
static void	 rules_backed(struct corpus *);
static void	 fixed(void);
static void	 seeds(void);
static void	 registry(void);
static void	 model_fixture(void);

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


/* idchar - may c be part of an id token (lower case already) */
static int
idchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    strchr("+/=_.-", c) != NULL;
}

/* norm_token - append the normal form of token t[0..len) (the i-th) */
static void
norm_token(const char *t, size_t len, size_t i, char *out, size_t *o)
{
	const char	*strip = "()[]<>{},;:\"'";
	size_t		 a = 0, b = len, k;
	int		 dig = 0, alpha = 0, ids = 1, codeish = 1, prev = 0;

	for (k = 0; k < len; k++)
		if (!(t[k] >= '0' && t[k] <= '9') && t[k] != '.' &&
		    t[k] != '-')
			codeish = 0;
	if (i < 2 && codeish) {
		memcpy(out + *o, t, len);
		*o += len;
		return;
	}
	if (memchr(t, '@', len) != NULL) {
		out[(*o)++] = '@';
		return;
	}
	while (a < b && strchr(strip, t[a]) != NULL)
		a++;
	while (b > a && strchr(strip, t[b - 1]) != NULL)
		b--;
	for (k = a; k < b; k++) {
		dig |= t[k] >= '0' && t[k] <= '9';
		alpha |= t[k] >= 'a' && t[k] <= 'z';
		ids &= idchar((unsigned char)t[k]);
	}
	if (b - a >= 8 && dig && alpha && ids) {
		out[(*o)++] = '#';
		return;
	}
	for (k = 0; k < len; k++) {
		if (t[k] >= '0' && t[k] <= '9') {
			if (!prev)
				out[(*o)++] = '0';
			prev = 1;
			continue;
		}
		out[(*o)++] = t[k];
		prev = 0;
	}
}

/*
 * normalise - the reply as tests/verdict/split.py normalises it: ASCII
 * lower case, tokens at blanks joined by one space, the first two
 * tokens kept when only digits, "." and "-", a token with "@" -> "@",
 * an id-like token -> "#", other digit runs -> "0". Allocated.
 */
static char *
normalise(const char *reply)
{
	size_t	 len = strlen(reply), i, o = 0, start, ntok = 0;
	char	*low, *out;

	low = xstrdup(reply);
	out = xcalloc(len + 1, 1);
	for (i = 0; i < len; i++)
		if (low[i] >= 'A' && low[i] <= 'Z')
			low[i] += 'a' - 'A';
	for (i = 0; i < len;) {
		if (low[i] == ' ' || low[i] == '\t') {
			i++;
			continue;
		}
		start = i;
		while (i < len && low[i] != ' ' && low[i] != '\t')
			i++;
		if (ntok > 0)
			out[o++] = ' ';
		norm_token(low + start, i - start, ntok++, out, &o);
	}
	out[o] = '\0';
	free(low);
	return out;
}

/* corpus_read - the lines of tests/verdict/NAME.tsv; bails out if absent */
static void
corpus_read(struct corpus *c, const char *name)
{
	const char	*top = getenv("top_srcdir");
	char		 path[4096], *line = NULL, *p;
	size_t		 cap = 0, k, lineno = 0;
	FILE		*fp;

	c->name = name;
	c->v = NULL;
	c->n = 0;
	snprintf(path, sizeof(path), "%s/tests/verdict/%s.tsv",
	    top != NULL ? top : ".", name);
	if ((fp = fopen(path, "r")) == NULL) {
		printf("Bail out! cannot open %s\n", path);
		exit(99);
	}
	while (getline(&line, &cap, fp) != -1) {
		struct line	 l;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		p = line;
		for (k = 0; k < 5 && p != NULL; k++) {
			l.f[k] = p;
			if ((p = strchr(p, '\t')) != NULL)
				*p++ = '\0';
		}
		if (k < 5 || p != NULL) {
			ok(0, "%s.tsv:%zu has 5 fields", name, lineno);
			continue;
		}
		for (k = 0; k < 5; k++)
			l.f[k] = xstrdup(l.f[k]);
		l.norm = normalise(l.f[3]);
		c->v = xreallocarray(c->v, c->n + 1, sizeof(*c->v));
		c->v[c->n++] = l;
	}
	fclose(fp);
	free(line);
}

/* corpus_free - free what corpus_read made */
static void
corpus_free(struct corpus *c)
{
	size_t	 i, k;

	for (i = 0; i < c->n; i++) {
		for (k = 0; k < 5; k++)
			free(c->v[i].f[k]);
		free(c->v[i].norm);
	}
	free(c->v);
}

/* legacy_text - is norm the normal form of a legacy line of train */
static int
legacy_text(struct corpus *train, const char *norm)
{
	size_t	 i;

	for (i = 0; i < train->n; i++)
		if (strcmp(train->v[i].f[4], LEGACY) == 0 &&
		    strcmp(train->v[i].norm, norm) == 0)
			return 1;
	return 0;
}

/*
 * sides - every line is where the split rule puts it (legacy lines and
 * replies that normalise like one: train; else FNV-1a % 100 < 70), and
 * no stage and normal form comes twice
 */
static void
sides(struct corpus *train, struct corpus *test)
{
	struct corpus	*c[2] = { train, test };
	size_t		 i, j, s, wrong = 0, dup = 0;

	for (s = 0; s < 2; s++)
		for (i = 0; i < c[s]->n; i++) {
			struct line	*l = &c[s]->v[i];
			int		 want_train;

			want_train = strcmp(l->f[4], LEGACY) == 0 ||
			    legacy_text(train, l->norm) ||
			    util_fnv1a(l->norm) % 100 < TRAIN_PERCENT;
			if (want_train != (s == 0)) {
				if (s == 0)
					printf("# wrong side (train): %s\n",
					    l->f[3]);
				wrong++;
			}
		}
	ok(wrong == 0, "every line is on the side its normalised hash "
	    "says (%zu wrong)", wrong);
	for (s = 0; s < 2; s++)
		for (i = 0; i < c[s]->n; i++) {
			size_t	 t, from;

			for (t = s; t < 2; t++) {
				from = t == s ? i + 1 : 0;
				for (j = from; j < c[t]->n; j++)
					if (strcmp(c[s]->v[i].norm,
					    c[t]->v[j].norm) == 0 &&
					    strcmp(c[s]->v[i].f[0],
					    c[t]->v[j].f[0]) == 0) {
						if (t == 0)
							printf("# twice: %s\n",
							    c[t]->v[j].f[3]);
						dup++;
					}
			}
		}
	ok(dup == 0, "no stage and normalised reply comes twice (%zu)", dup);
}

/*
 * accuracy - run the rules on every line of c, print the misses (not
 * when blind: the test split's lines are never shown, only its figures)
 * and the accuracy per class, and hold them to the floors (per mille)
 */
static void
accuracy(struct corpus *c, int blind, int floor_class, int floor_reason)
{
	size_t		 per[32][2], good = 0, rgood = 0, i, n = c->n;
	struct verdict	 v;
	int		 ci;

	memset(per, 0, sizeof(per));
	for (i = 0; i < n; i++) {
		struct line	*l = &c->v[i];
		int		 stage = stage_lookup(l->f[0]);
		int		 code = (int)strtol(l->f[3], NULL, 10);

		verdict_reply(stage, code, NULL, l->f[3], &v);
		for (ci = 0; classes[ci] != NULL; ci++)
			if (strcmp(classes[ci], l->f[1]) == 0)
				break;
		per[ci][0]++;
		if (strcmp(v.class, l->f[1]) == 0) {
			good++;
			per[ci][1]++;
			if (strcmp(v.reason, l->f[2]) == 0)
				rgood++;
			else if (!blind)
				printf("# %s reason: %s/%s wanted %s at %s: "
				    "%s\n", c->name, v.class, v.reason,
				    l->f[2], l->f[0], l->f[3]);
		} else if (!blind)
			printf("# %s MISS: got %s/%s (rule %s) wanted %s/%s "
			    "at %s: %s [%s]\n", c->name, v.class, v.reason,
			    v.rule, l->f[1], l->f[2], l->f[0], l->f[3],
			    l->f[4]);
	}
	for (ci = 0; classes[ci] != NULL && !blind; ci++)
		if (per[ci][0] > 0)
			printf("# %s %-10s %4zu/%4zu\n", c->name, classes[ci],
			    per[ci][1], per[ci][0]);
	printf("# %s accuracy: class %zu/%zu = %.1f%%, reason %zu/%zu = "
	    "%.1f%%\n", c->name, good, n, n ? 100.0 * good / n : 0.0, rgood,
	    n, n ? 100.0 * rgood / n : 0.0);
	ok(n > 0 && good * 1000 >= (size_t)floor_class * n,
	    "%s: class accuracy %.1f%% (%zu/%zu) >= floor %.1f%%", c->name,
	    n ? 100.0 * good / n : 0.0, good, n, floor_class / 10.0);
	ok(n > 0 && rgood * 1000 >= (size_t)floor_reason * n,
	    "%s: reason accuracy %.1f%% (%zu/%zu) >= floor %.1f%%", c->name,
	    n ? 100.0 * rgood / n : 0.0, rgood, n, floor_reason / 10.0);
}

/*
 * rules_backed - every rule matches at least one train line of its
 * class (test lines do not count: the rules are written from train)
 */
static void
rules_backed(struct corpus *train)
{
	const char *const *ids = verdict_rule_ids();
	size_t		 nids = 0, i, j, *fired, *won;
	struct verdict	 v;

	while (ids[nids] != NULL)
		nids++;
	fired = xcalloc(nids, sizeof(*fired));
	won = xcalloc(nids, sizeof(*won));
	for (j = 0; j < train->n; j++) {
		struct line	*l = &train->v[j];
		int		 stage = stage_lookup(l->f[0]);
		int		 code = (int)strtol(l->f[3], NULL, 10);

		verdict_reply(stage, code, NULL, l->f[3], &v);
		for (i = 0; i < nids; i++) {
			const char *rc;

			if (verdict_rule_matches(ids[i], stage, code, NULL,
			    l->f[3], &rc) && strcmp(rc, l->f[1]) == 0)
				fired[i]++;
			if (strcmp(ids[i], v.rule) == 0)
				won[i]++;
		}
	}
	for (i = 0; i < nids; i++)
		ok(fired[i] > 0, "rule %s matches %zu train line(s) of its "
		    "class, decides %zu", ids[i], fired[i], won[i]);
	free(fired);
	free(won);
}

/*
 * Round 5 (the corpus5 train lines): wordings of the families the round-5
 * rules of verdict.rules take, written here (not corpus lines), with the
 * verdict and the rule that must decide (NULL: any), and wordings that
 * must stay out of them.
 */
static const struct r5case {
	const char	*stage;
	const char	*reply;
	const char	*class;
	const char	*reason;	/* NULL: not checked */
	const char	*rule;		/* NULL: not checked */
} r5_cases[] = {
	{ "eod", "451 4.3.0 Virus scanner not responding", "server",
	  "temporary-error", "r5-scanner-failed" },
	{ "unknown", "450 MI:CEL mx.example.net", "protocol", "syntax",
	  "r5-netease-errors" },
	{ "unknown", "451 MI:SFQ mx.example.net", "rate", "rate-limit",
	  "r5-netease-rate" },
	{ "mail", "451 4.1.8 Sender domain example.net is unresolvable",
	  "sender", "unknown-domain", "r5-sender-domain-dns" },
	{ "eod", "451 4.3.0 cannot write spool file: no space left", "server",
	  "storage", "r5-server-files" },
	{ "rcpt", "554 5.7.1 Service unavailable; Helo command [mx.example.net]"
	  " blocked using dbl.example.org; Error: open resolver; "
	  "https://www.spamhaus.org/returnc/pub/192.0.2.1", "server",
	  "dnsbl-error", NULL },
	{ "mail", "501 5.5.4 Requested hold time exceeds the maximum",
	  "protocol", "syntax", "r5-mail-params" },
	{ "auth", "504 5.7.4 mechanism DIGEST-MD5 not supported", "auth",
	  "mechanism", "r5-auth-mechanism" },
	{ "mail", "553 5.1.7 sender address must be qualified", "sender",
	  "sender-rejected", "r5-sender-unqualified" },
	{ "eod", "452 4.7.0 more than 500 messages in past 24h0m0s from your "
	  "ip/network", "rate", "rate-limit", "r5-rate-window" },
	{ "eod", "550 5.7.1 Message rejected for spam or virus content",
	  "content", "spam", "r5-content-spam-or-virus" },
	{ "banner", "554 mx.example.net Connection refused from 192.0.2.5, see "
	  "https://csi.cloudmark.com/reset-request/?ip=192.0.2.5", "ip",
	  "dnsbl", "r5-ip-cloudmark" },
	{ "rcpt", "554 5.7.1 : (RLY:B1) https://postmaster.example.com/codes",
	  "ip", "reputation", "r5-aol-rly-b1" },
	{ "eod", "550 5.7.1 192.0.2.5 is listed in Spamhaus ZEN and in "
	  "SURBL", "ip", "dnsbl", "r5-ip-zen" },
	{ "rcpt", "551 5.1.6 User not local; please try <bob@example.org>",
	  "recipient", NULL, NULL },
	{ "rcpt", "450 4.1.7 <a@example.net>: Sender address rejected: "
	  "unverified address: host mx.example.net[192.0.2.3] said: 451 "
	  "4.7.1 Greylisted", "sender", NULL, NULL },
	{ "auth", "535 5.7.1 Your account is disabled", "auth", "auth-failed",
	  "r5-auth-account" },
	{ "eod", "550 Your message contains a banned phrase", "content",
	  "content-rejected", "r5-content-phrase" },
	{ "eod", "550 5.6.0 Policy violation: empty message", "content",
	  "format", "r5-content-no-headers" },
};

/* round5 - the round-5 rules on their own wordings (r5_cases) */
static void
round5(void)
{
	struct verdict	 v;
	size_t		 i;

	for (i = 0; i < sizeof(r5_cases) / sizeof(r5_cases[0]); i++) {
		const struct r5case *c = &r5_cases[i];

		verdict_reply(stage_lookup(c->stage),
		    (int)strtol(c->reply, NULL, 10), NULL, c->reply, &v);
		ok(strcmp(v.class, c->class) == 0 && (c->reason == NULL ||
		    strcmp(v.reason, c->reason) == 0) && (c->rule == NULL ||
		    strcmp(v.rule, c->rule) == 0), "round 5 at %s: \"%s\" is "
		    "%s/%s by %s (got %s/%s, rule %s)", c->stage, c->reply,
		    c->class, c->reason != NULL ? c->reason : "*",
		    c->rule != NULL ? c->rule : "*", v.class, v.reason, v.rule);
	}
}

/* fixed - the split rule on fixed texts, and what the stage decides */
static void
fixed(void)
{
	struct verdict	 v;
	char		*a, *b;
	size_t		 i;

	a = normalise("550-5.7.1 [192.0.2.7   12] Our  system has detected "
	    "that a1si1234567wrb.12 - gsmtp <Jo@Example.com>");
	ok(strcmp(a, "550-5.7.1 [0.0.0.0 0] our system has detected that "
	    "# - gsmtp @") == 0, "normalise folds case, digits, ids, "
	    "addresses and blanks, keeps the codes: \"%s\"", a);
	b = normalise("550-5.7.1 [203.0.113.9 8] Our system has detected "
	    "that dh9si2656259wib.8 - gsmtp <x@example.org>");
	ok(strcmp(a, b) == 0, "near-duplicates normalise alike");
	free(a);
	free(b);
	ok(util_fnv1a("") == 2166136261U && util_fnv1a("a") == 0xe40c292cU,
	    "FNV-1a 32 of \"\" and \"a\"");
	verdict_reply(STAGE_BANNER, 550, NULL, "550 Administrative prohibition",
	    &v);
	ok(strcmp(v.class, "ip") == 0, "Exim prohibition at banner: ip");
	/* replies 0: a mailer's own words, whatever code the caller infers */
	verdict_reply(-1, 550, NULL, "connect to mx.example.net[192.0.2.1]:25: "
	    "Connection refused", &v);
	ok(strcmp(v.class, "network") == 0 && strcmp(v.reason, "refused") == 0,
	    "a bounce's \"Connection refused\" (code inferred) is network");
	verdict_reply(-1, 554, NULL, "554 Connection refused", &v);
	ok(strcmp(v.class, "network") != 0,
	    "a server's reply \"554 Connection refused\" is not network");
	verdict_reply(-1, 0, NULL, "Sorry, I wasn't able to establish an SMTP "
	    "connection. (#4.4.1)", &v);
	ok(strcmp(v.class, "network") == 0 && strcmp(v.enhanced, "4.4.1") == 0,
	    "qmail's (#4.4.1) is read, and the text is network");
	verdict_reply(STAGE_RCPT, 550, NULL, "550 5.1.1 <bob@example.com>: "
	    "Recipient address rejected: example.com", &v);
	ok(strcmp(v.class, "recipient") == 0 &&
	    strcmp(v.reason, "user-unknown") == 0,
	    "\"Recipient address rejected:\" with 5.1.1: the code says why");
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
	/* the model never calls a refusal accepted (nor a 2xx refused):
	   postscreen's 521 after a teaser that names the software */
	verdict_reply(STAGE_BANNER, 521, NULL, "220-mx.example.net ESMTP "
	    "Postfix (Debian/GNU) | 521 5.5.1 Protocol error", &v);
	ok(strcmp(v.class, "protocol") == 0,
	    "postscreen's 521 Protocol error after its teaser: protocol "
	    "(got %s, rule %s)", v.class, v.rule);
	verdict_reply(STAGE_RCPT, 250, NULL, "250 2.1.5 Ok, but no mailbox "
	    "is full and no user is unknown", &v);
	ok(strcmp(v.class, "accepted") == 0, "a 250 is accepted whatever "
	    "its words (got %s)", v.class);
	verdict_reply(STAGE_EOD, 550, NULL, "550 5.7.21 Unacceptable signature",
	    &v);
	ok(strcmp(v.class, "sender") == 0 && strcmp(v.reason, "dkim") == 0 &&
	    strcmp(v.rule, "sender-dkim-code") == 0,
	    "5.7.21 alone (no DKIM word) is sender/dkim by its code");
	verdict_reply(STAGE_EOD, 550, NULL, "550 5.7.2 Unacceptable signature",
	    &v);
	ok(strcmp(v.rule, "sender-dkim-code") != 0,
	    "5.7.2 is not taken for 5.7.20..22");
	{
		const char	*cls;

		ok(!verdict_rule_matches("ip-dnsbl", STAGE_RCPT, 550, NULL,
		    "550 5.7.1 <bob@example.com> not listed in our directory",
		    &cls) && verdict_rule_matches("ip-dnsbl", STAGE_RCPT, 550,
		    NULL, "550 5.7.1 192.0.2.7 listed in our blocklist", &cls),
		    "\"not listed in\" is no listing; \"listed in\" is");
		ok(!verdict_rule_matches("content-spam", STAGE_RCPT, 554,
		    NULL, "554 5.7.1 Client host [192.0.2.7] blocked using "
		    "zen.spamhaus.org", &cls), "unless: Spamhaus is not spam "
		    "in the message");
	}
	verdict_reply(STAGE_EOD, 521, NULL, "521 5.2.1 : AOL will not accept "
	    "delivery of this message.", &v);
	ok(v.nevidence >= 2 && strcmp(v.evidence[0].rule,
	    "content-aol-message") == 0 && strcmp(v.evidence[0].kind, "words")
	    == 0 && v.runner_up != NULL && strcmp(v.runner_up, "recipient") ==
	    0 && v.confidence <= v.score && v.score > v.runner_score,
	    "evidence: the winner's rules, strongest first; the runner-up "
	    "(x.2.1 read literally) loses");
	verdict_reply_model(-1, 550, NULL, "550 5.2.0 zq", NULL, &v);
	ok(strcmp(v.class, "recipient") == 0 && strcmp(v.rule,
	    "enhanced-subject") == 0, "no words, rules alone: x.2.x is the "
	    "recipient's mailbox by the enhanced code's subject");
	verdict_reply(-1, 550, NULL, "550 5.2.0 zq", &v);
	ok(strcmp(v.class, "recipient") == 0, "no words, with the model: "
	    "still the recipient (%s/%s, rule %s)", v.class, v.reason, v.rule);
	verdict_reply(-1, 535, NULL, "535 your password was not accepted",
	    &v);
	for (i = 0; i < v.nevidence; i++)
		if (strcmp(v.evidence[i].kind, "model") == 0)
			break;
	ok(strcmp(v.class, "auth") == 0 && v.nevidence >= 2 &&
	    i < v.nevidence && strstr(v.evidence[i].words, "password") !=
	    NULL, "the model's evidence agrees, with the words that weighed "
	    "most (%s, \"%s\")", v.rule, i < v.nevidence ?
	    v.evidence[i].words : "");
	verdict_reply(STAGE_RCPT, 550, NULL, "550 5.1.3 Invalid recipient "
	    "address", &v);
	ok(strcmp(v.class, "recipient") == 0 && strcmp(v.reason,
	    "recipient-rejected") == 0, "a firm generic reason stands: "
	    "x.1.3 syntax is not user-unknown (%s/%s, rule %s)", v.class,
	    v.reason, v.rule);
	verdict_reply(STAGE_RCPT, 550, NULL, "550 Recipient address "
	    "rejected: User unknown in virtual mailbox table", &v);
	ok(strcmp(v.reason, "user-unknown") == 0, "a generic reason that "
	    "is not firm still gives way to the cause (%s/%s)", v.class,
	    v.reason);
	verdict_reply(STAGE_RCPT, 451, NULL, "451 <bob@example.com>: user "
	    "unknown or mailbox full", &v);
	ok(strcmp(v.class, "recipient") == 0 && strcmp(v.reason,
	    "recipient-rejected") == 0, "several causes offered: "
	    "recipient-rejected (%s/%s)", v.class, v.reason);
	verdict_reply(STAGE_RCPT, 550, NULL, "550 5.7.511 Access denied, "
	    "banned sender[192.0.2.1]. To request removal from this list "
	    "please forward this message to delist@messaging.microsoft.com",
	    &v);
	ok(strcmp(v.class, "ip") == 0 && strcmp(v.reason, "blocked") == 0,
	    "Microsoft's own banned list is ip/blocked (%s/%s)", v.class,
	    v.reason);
	verdict_reply(-1, 550, NULL, "550 5.7.1 Service unavailable; client "
	    "[192.0.2.1] blocked using Cloudmark Sender Intelligence", &v);
	ok(strcmp(v.class, "ip") == 0 && strcmp(v.reason, "dnsbl") == 0,
	    "Cloudmark CSI is a DNS list: ip/dnsbl (%s/%s)", v.class,
	    v.reason);
	verdict_reply(-1, 554, NULL, "554 zq", &v);
	ok(strcmp(v.reason, "temporary-error") != 0,
	    "a permanent reply is never a temporary error (%s/%s)", v.class,
	    v.reason);
	verdict_reply(-1, 250, NULL, "250 2.1.5 Ok", &v);
	ok(strcmp(v.class, "accepted") == 0, "250 is accepted");
	ok(strcmp(verdict_enhanced_meaning("5.7.26"),
	    "Multiple authentication checks failed") == 0 &&
	    strcmp(verdict_enhanced_meaning("4.2.2"), "Mailbox full") == 0 &&
	    verdict_enhanced_meaning("5.9.9") == NULL,
	    "enhanced code registry");
	round5();
}

/*
 * The replies quoted in the user's seed documents (/work/shared/seeds,
 * tests/verdict/sources.tsv seed:000 to seed:004), with the class,
 * reason and advice those documents explain. advice: words the advice
 * must hold, '|' between them (all of them, in any order).
 */
static const struct seed {
	const char	*stage;
	const char	*reply;
	const char	*class;
	const char	*reason;
	const char	*advice;
} seed_cases[] = {
	/* 000, 001, 003: AOL after DATA is the message and the IP */
	{ "eod", "521 5.2.1 : AOL will not accept delivery of this message.",
	  "content", "message-blocked",
	  "content|URLs|From: domain's DNS|IP's reputation|AOL" },
	{ "eod", "521 5.2.1 AOL will not accept delivery of this message",
	  "content", "message-blocked", "domains and URLs|postmaster tools" },
	{ "unknown", "521 5.2.1 : AOL will not accept delivery of this "
	  "message. (in reply to end of DATA command)", "content",
	  "message-blocked", "whole|From: domain" },
	{ "eod", "521 5.2.1 AOL non accetter\xc3\xa0 la consegna di questo "
	  "messaggio", "content", "message-blocked", "IP's reputation" },
	{ "unknown", "521 5.2.1 AOL non accetter\xc3\xa0 la consegna di "
	  "questo messaggio", "content", "message-blocked", "AOL" },
	/* 002: Aruba's common errors */
	{ "eod", "552 5.2.0 igxL1p00E1WDM2s01gxMXG spam detected", "content",
	  "spam", "whole message" },
	{ "unknown", "X.X.X iemL1p01Z0hMcT901emQ77 policy violation", "rate",
	  "policy-violation", "200-300 messages per 20|minutes" },
	{ "mail", "550 5.7.1 iemL1p01Z0hMcT901emQ77 policy violation", "rate",
	  "policy-violation", "200-300" },
	{ "rcpt", "553 sorry, you need to supply the correct username and "
	  "password for SMTP-AUTH (#5.7.1)", "auth", "auth-required",
	  "authentication|AUTH" },
	{ "mail", "550 5.1.0 bl2H1q00Z3b1BmX01l2HDZ authentication failed",
	  "auth", "auth-failed", "password" },
	{ "rcpt", "550 5.1.1 sender is blacklisted", "sender",
	  "blocked-by-recipient", "blocked senders|recipient" },
	{ "unknown", "Action: failed Status: 5.1.1 Diagnostic-Code: smtp; "
	  "550 5.1.1 sender is blacklisted", "sender", "blocked-by-recipient",
	  "remove the address" },
	{ "unknown", "5.1.0 0H9j1r00t1xJdJu01H9jrR invalid domain", "sender",
	  "unknown-domain", "domain" },
	{ "unknown", "This is a permanent error; I've given up. Sorry it "
	  "didn't work out. <casella@example.com>: AUTORESPOND: This "
	  "message is looping...it has my Delivered-To header.", "content",
	  "content-rejected", "message" },
	/* 004: Alibaba's guide */
	{ "rcpt", "550 5.7.1 Service unavailable; client [192.0.2.1] blocked "
	  "using zen.spamhaus.org", "ip", "dnsbl", "blocklist|delisting" },
	{ "unknown", "550 5.7.1 Service unavailable; client [192.0.2.1] "
	  "blocked using bl.example.net", "ip", "dnsbl", "blocklist" },
	{ "rcpt", "550 5.7.1 Mail from 192.0.2.1 refused: in a DNS blacklist",
	  "ip", "dnsbl", "delisting" },
	{ "unknown", "in a DNS blacklist", "ip", "dnsbl", "blocklist" },
	{ "unknown", "550 Your IP is in the RBL", "ip", "dnsbl", "blocklist" },
	{ "unknown", "is filtered by RB", "ip", "dnsbl", "blocklist" },
	{ "unknown", "is listed in RBL.", "ip", "dnsbl", "blocklist" },
	{ "rcpt", "450 4.7.1 Client host rejected: cannot find your hostname",
	  "ip", "rdns", "PTR" },
	{ "rcpt", "450 4.7.1 Helo command rejected: Host not found", "helo",
	  "invalid-helo", "HELO" },
	{ "rcpt", "504 5.5.2 Helo command rejected: need fully-qualified "
	  "hostname", "helo", "non-fqdn", "fully-qualified" },
	{ "rcpt", "501 5.5.2 Helo command rejected: Invalid name", "helo",
	  "invalid-helo", "HELO" },
	{ "rcpt", "554 5.7.1 Recipient address rejected: Dynamic IP", "ip",
	  "dynamic", "static IP" },
	{ "rcpt", "554 5.7.1 Service unavailable;", "ip", "dnsbl",
	  "blocklist" },
	{ "unknown", "554 5.7.1 Service unavailable;", "ip", "dnsbl",
	  "blocklist" },
	/* issue 15: OpenSMTPD's EHLO-stage wording */
	{ "ehlo", "550 5.7.1 EHLO name must contain a dot", "helo", "non-fqdn",
	  "fully-qualified" },
};

/* unescape - s with \\xHH sequences turned into bytes (allocated) */
static char *
unescape(const char *s)
{
	char	*o = xstrdup(s), *d = o;

	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] == 'x' && s[2] != '\0' &&
		    s[3] != '\0') {
			char	 hex[3] = { s[2], s[3], '\0' };

			*d++ = (char)strtol(hex, NULL, 16);
			s += 3;
		} else
			*d++ = *s;
	}
	*d = '\0';
	return o;
}

/* advice_has - does advice hold every '|'-separated word of want */
static int
advice_has(const char *advice, const char *want)
{
	char	*w = xstrdup(want), *p, *save = NULL;
	int	 ok_ = 1;

	for (p = strtok_r(w, "|", &save); p != NULL;
	    p = strtok_r(NULL, "|", &save))
		if (advice == NULL || strstr(advice, p) == NULL)
			ok_ = 0;
	free(w);
	return ok_;
}

/* seeds - every reply the seed documents quote */
static void
seeds(void)
{
	struct verdict	 v;
	size_t		 i;

	for (i = 0; i < sizeof(seed_cases) / sizeof(seed_cases[0]); i++) {
		const struct seed *c = &seed_cases[i];
		char	*text = unescape(c->reply);
		int	 code = (int)strtol(text, NULL, 10);

		verdict_reply(stage_lookup(c->stage), code, NULL, text, &v);
		ok(strcmp(v.class, c->class) == 0 &&
		    strcmp(v.reason, c->reason) == 0 &&
		    advice_has(v.advice, c->advice), "seed at %s: \"%s\" is "
		    "%s/%s, advice names \"%s\" (got %s/%s, rule %s)",
		    c->stage, text, c->class, c->reason, c->advice, v.class,
		    v.reason, v.rule);
		free(text);
	}
}

/*
 * model_fixture - the C side of the model (verdict_feat.c and the
 * generated tables) agrees with tests/verdict/model.py: on every line
 * of tests/verdict/model-fixture.tsv, which the trainer wrote with its
 * own top class, score, best reason of that class and count of known
 * features, the C model gives the same four
 */
static void
model_fixture(void)
{
	const char	*top = getenv("top_srcdir");
	char		 path[4096], *line = NULL, *f[6], *p, want[128];
	size_t		 cap = 0, k, n = 0, bad = 0;
	struct vm_result r;
	const char	*reason;
	FILE		*fp;

	snprintf(path, sizeof(path), "%s/tests/verdict/model-fixture.tsv",
	    top != NULL ? top : ".");
	if ((fp = fopen(path, "r")) == NULL) {
		ok(0, "cannot open %s", path);
		return;
	}
	while (getline(&line, &cap, fp) != -1) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		for (k = 0, p = line; k < 6 && p != NULL; k++) {
			f[k] = p;
			if ((p = strchr(p, '\t')) != NULL)
				*p++ = '\0';
		}
		if (k < 6) {
			bad++;
			continue;
		}
		n++;
		verdict_model(stage_lookup(f[0]), f[1], &r);
		reason = verdict_model_reason(&r, r.class);
		snprintf(want, sizeof(want), "%s/%s", r.class,
		    reason != NULL ? reason : "-");
		if (strcmp(r.class, f[2]) != 0 || r.score != strtol(f[3],
		    NULL, 10) || strcmp(want, f[4]) != 0 ||
		    r.nfeat != (size_t)strtoul(f[5], NULL, 10)) {
			printf("# model differs: %s %ld %s %zu, trainer %s %s "
			    "%s %s: %s\n", r.class, (long)r.score, want,
			    r.nfeat, f[2], f[3], f[4], f[5], f[1]);
			bad++;
		}
	}
	fclose(fp);
	free(line);
	ok(n >= 50 && bad == 0, "the C model agrees with model.py on the %zu "
	    "fixture lines (%zu differ)", n, bad);
}

int
main(void)
{
	struct corpus	 train, test;

	corpus_read(&train, "train");
	corpus_read(&test, "test");
	ok(train.n >= 2013 && test.n >= 674, "corpus: %zu train, %zu test "
	    "lines", train.n, test.n);
	sides(&train, &test);
	accuracy(&train, 0, TRAIN_CLASS, TRAIN_REASON);
	accuracy(&test, 1, TEST_CLASS, TEST_REASON);
	rules_backed(&train);
	fixed();
	seeds();
	registry();
	model_fixture();
	corpus_free(&train);
	corpus_free(&test);
	return tap_done();
}

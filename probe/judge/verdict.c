/*
 * verdict.c - rules that turn a reply into a diagnosis (verdict.h).
 *
 * The rules are data: probe/judge/verdict.rules, documented there and in
 * smtprobe(1), is compiled at build time by probe/judge/verdict-rules.awk
 * into rules[] and advice[] (probe/judge/verdict-rules.h, generated). Each
 * rule names a class and a reason and the conditions under which it
 * applies - stages, reply classes or an exact code, enhanced code
 * patterns ("x.7.1" matches any class, "x.7." a prefix) and words ('|'
 * between alternatives, matched in the lower-cased text; "also" is a
 * second list of which one must match too, "unless" one that must not).
 * Every matching rule is evidence for its class, of one kind (words,
 * enhanced code, stage, basic code); a class scores its strongest
 * evidence and a little of each other kind that agrees (tally_score),
 * the enhanced code's subject adds weak evidence (fallback), the best
 * class wins and its margin over the runner-up sets the confidence. The
 * advice is the first entry of advice[] for the verdict's class and
 * reason, or for its class.
 *
 * The tests hold every rule to at least one train line of its class
 * (tests/verdict/train.tsv) and both splits to accuracy floors.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "reply.h"
#include "util.h"
#include "verdict.h"
#include "verdict_model.h"

#define ST(x)		(1u << STAGE_##x)	/* stages of a rule */
#define ANY		0u			/* any stage, even unknown */
#define WORD_MAX	96	/* longest word of a rule, and its NUL */

struct rule {
	const char	*id;
	const char	*class;
	const char	*reason;
	unsigned	 stages;	/* ANY, or ST() bits */
	const char	*classes;	/* allowed first digits, NULL any */
	int		 code;		/* exact code, 0 any */
	const char	*enh;		/* enhanced code patterns, NULL any */
	const char	*words;		/* any of these, NULL none */
	const char	*also;		/* and any of these, NULL none */
	const char	*unless;	/* none of these, NULL none */
	int		 weight;	/* 1..100 */
	int		 firm;		/* a generic reason that stands */
};

struct advice {
	const char	*class;
	const char	*reason;	/* NULL: any reason of the class */
	const char	*advice;
};

/*
 * rules[] and advice[], compiled from probe/judge/verdict.rules by
 * probe/judge/verdict-rules.awk (see the Makefile).
 */
#include "probe/judge/verdict-rules.h"

_Static_assert(VERDICT_RULES_LONGEST_WORD < WORD_MAX,
    "a word in verdict.rules is too long for words_match()");

static int	 words_match(const char *, const char *, char *, size_t);
static int	 enh_match(const char *, const char *);
static const char *advice_for(const char *, const char *);
static int	 class_digit(int, const char *);
static int	 rule_matches(const struct rule *, int, int, const char *,
		    const char *, char *, size_t);
static char	*lower_text(const char *, const char *, char *);

/*
 * negated - is the occurrence of word at p (in text) denied by the words
 * just before it: "not listed", "isn't blocked", "never blacklisted".
 * Only words that say a listing or a block can be denied that way ("not
 * RFC 2822 compliant" is no denial of "rfc 2822").
 */
static int
negated(const char *text, const char *p, const char *word)
{
	static const char *const neg[] = { "not ", "n't ", "never ",
	    "not been ", "not currently ", NULL };
	static const char *const deniable[] = { "listed", "blacklist",
	    "blocklist", "black list", "block list", "blocked", "banned",
	    "spam", NULL };
	size_t	 i, n, off = (size_t)(p - text);

	for (i = 0; deniable[i] != NULL; i++)
		if (strncmp(word, deniable[i], strlen(deniable[i])) == 0)
			break;
	if (deniable[i] == NULL)
		return 0;
	for (i = 0; neg[i] != NULL; i++) {
		n = strlen(neg[i]);
		if (off >= n && strncmp(p - n, neg[i], n) == 0)
			return 1;
	}
	return 0;
}

/*
 * words_match - 1 if any '|'-separated word occurs in lower-case text
 * and is not negated there (see negated())
 */
static int
words_match(const char *text, const char *words, char *hit, size_t hitlen)
{
	const char	*w = words, *end, *p;
	char		 word[WORD_MAX];
	size_t		 n;

	while (*w != '\0') {
		end = strchr(w, '|');
		n = end != NULL ? (size_t)(end - w) : strlen(w);
		if (n > 0 && n < sizeof(word)) {
			memcpy(word, w, n);
			word[n] = '\0';
			for (p = strstr(text, word); p != NULL;
			    p = strstr(p + 1, word)) {
				if (negated(text, p, word))
					continue;
				if (hit != NULL)
					snprintf(hit, hitlen, "%s", word);
				return 1;
			}
		}
		if (end == NULL)
			break;
		w = end + 1;
	}
	return 0;
}

/*
 * enh_match - 1 if enh matches one of the '|'-separated patterns:
 * "x.7.1" 7.1 of any class, "5.7.1" of class 5, a trailing "." a prefix
 */
static int
enh_match(const char *pats, const char *enh)
{
	const char	*pat = pats, *end, *e;
	size_t		 n;

	if (enh[0] == '\0')
		return 0;
	for (;;) {
		end = strchr(pat, '|');
		n = end != NULL ? (size_t)(end - pat) : strlen(pat);
		e = enh;
		if (n > 0 && pat[0] == 'x') {
			pat++;
			e++;
			n--;
		}
		if (n > 0 && pat[n - 1] == '.' ? strncmp(pat, e, n) == 0 :
		    strlen(e) == n && strncmp(pat, e, n) == 0)
			return 1;
		if (end == NULL)
			return 0;
		pat = end + 1;
	}
}

static const char *
advice_for(const char *class, const char *reason)
{
	size_t	 i;

	for (i = 0; i < nitems(advice); i++)
		if (strcmp(advice[i].class, class) == 0 &&
		    (advice[i].reason == NULL ||
		    strcmp(advice[i].reason, reason) == 0))
			return advice[i].advice;
	return "";
}

/*
 * class_digit - the class digit of a reply: its basic code's, or, for a
 * text without one ("5.1.0 ... invalid domain"), its enhanced code's;
 * 0 when neither is known
 */
static int
class_digit(int code, const char *enh)
{
	if (code >= 200 && code <= 599)
		return code / 100;
	if (enh[0] >= '2' && enh[0] <= '5' && enh[1] == '.')
		return enh[0] - '0';
	return 0;
}

/*
 * embedded_code - the basic code of a reply quoted inside a pasted
 * fragment of a bounce ("Diagnostic-Code: smtp; 550 5.1.1 ..."), or 0;
 * its enhanced code into enh if enh is still empty
 */
static int
embedded_code(const char *low, char *enh)
{
	const char	*p;
	int		 code;

	if ((p = strstr(low, "diagnostic-code:")) == NULL ||
	    (p = strchr(p, ';')) == NULL)
		return 0;
	for (p++; *p == ' '; p++)
		;
	if (!(p[0] >= '2' && p[0] <= '5') || !isdigit((unsigned char)p[1]) ||
	    !isdigit((unsigned char)p[2]) || (p[3] != ' ' && p[3] != '-' &&
	    p[3] != '\0'))
		return 0;
	code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	if (enh[0] == '\0' && p[3] != '\0')
		reply_enhanced_parse(p + 4, enh);
	return code;
}

/*
 * text_has_code - whether the text carries the basic code itself ("550
 * 5.1.1 ...", "... said: 550 ..."); a bounce's own words ("Connection
 * refused") get a code from the caller, inferred from the status
 */
static int
text_has_code(const char *low, int code)
{
	char		 c[4];
	const char	*p;

	if (code < 200 || code > 599)
		return 0;
	snprintf(c, sizeof(c), "%d", code);
	for (p = strstr(low, c); p != NULL; p = strstr(p + 1, c))
		if ((p == low || !isalnum((unsigned char)p[-1])) &&
		    !isalnum((unsigned char)p[3]) && p[3] != '.')
			return 1;
	return 0;
}

/* rule_matches - 1 if every condition of r holds (low: lower case) */
static int
rule_matches(const struct rule *r, int stage, int code, const char *enh,
    const char *low, char *hit, size_t hitlen)
{
	if (r->stages != ANY && (stage < 0 ||
	    (r->stages & (1u << stage)) == 0))
		return 0;
	/*
	 * a pasted text with no code at all is taken for a refusal; "0"
	 * among the digits also takes a text that does not carry a basic
	 * code (a mailer's own error, "connect to ...: Connection refused")
	 */
	if (r->classes != NULL && strchr(r->classes, class_digit(code, enh) ==
	    0 ? '5' : '0' + class_digit(code, enh)) == NULL &&
	    (strchr(r->classes, '0') == NULL || text_has_code(low, code)))
		return 0;
	if (r->code != 0 && r->code != code)
		return 0;
	if (r->enh != NULL && !enh_match(r->enh, enh))
		return 0;
	hit[0] = '\0';
	if (r->words != NULL && !words_match(low, r->words, hit, hitlen))
		return 0;
	if (r->also != NULL && !words_match(low, r->also, NULL, 0))
		return 0;
	if (r->unless != NULL && words_match(low, r->unless, NULL, 0))
		return 0;
	return 1;
}

/* hash_code - qmail's "(#5.1.1)" in text, if any, into enh */
static void
hash_code(const char *text, char *enh)
{
	const char	*p;
	char		 buf[16];
	size_t		 n;

	for (p = strstr(text, "(#"); p != NULL; p = strstr(p + 2, "(#")) {
		if ((p[2] != '4' && p[2] != '5') || p[3] != '.')
			continue;
		/* "(#4.4.1)": the code ends at the parenthesis */
		n = strcspn(p + 2, ") ");
		if (n >= sizeof(buf))
			continue;
		memcpy(buf, p + 2, n);
		buf[n] = '\0';
		if (reply_enhanced_parse(buf, enh) > 0)
			return;
	}
	enh[0] = '\0';
}

/* lower_text - lower-case copy of text; the enhanced code into enh */
static char *
lower_text(const char *text, const char *enhanced, char *enh)
{
	char	*low;
	size_t	 i;

	enh[0] = '\0';
	if (enhanced != NULL)
		snprintf(enh, 16, "%s", enhanced);
	if (text == NULL)
		text = "";
	low = xstrdup(text);
	for (i = 0; low[i] != '\0'; i++)
		low[i] = (char)tolower((unsigned char)low[i]);
	/* "550-5.7.1 ..." or "550 5.7.1": look after the code */
	if (enh[0] == '\0' && strlen(text) > 4 &&
	    isdigit((unsigned char)text[0]))
		reply_enhanced_parse(text + 4, enh);
	/* "5.1.0 ... invalid domain": an enhanced code and no basic one */
	if (enh[0] == '\0')
		reply_enhanced_parse(text, enh);
	/* "553 sorry, no mailbox here (#5.1.1)": qmail's code at the end */
	if (enh[0] == '\0')
		hash_code(low, enh);
	return low;
}


/* rule_kind - the kind of evidence a rule is: its strongest condition */
static const char *
rule_kind(const struct rule *r)
{
	if (strcmp(r->id, "model") == 0)
		return "model";
	if (r->words != NULL)
		return "words";
	if (r->enh != NULL)
		return "enhanced";
	if (r->stages != ANY)
		return "stage";
	return "code";
}

/*
 * The fallback by the enhanced code's subject (RFC 3463 section 3) and
 * the basic code, when nothing else is known: weak evidence, but never
 * "temporary error" for a permanent reply.
 */
static const struct fallback {
	const char	*subject;	/* ".1." ... prefix of the code */
	const char	*class;
	const char	*reason;
} fallbacks[] = {
	{ ".1.7", "sender", "sender-rejected" },
	{ ".1.8", "sender", "unknown-domain" },
	{ ".1.", "recipient", "recipient-rejected" },
	{ ".2.", "recipient", "recipient-rejected" },
	{ ".3.", "server", "unavailable" },
	{ ".4.", "network", "routing" },
	{ ".5.", "protocol", "syntax" },
	{ ".6.", "content", "content-rejected" },
	{ ".7.", "policy", "policy" },
};

#define FALLBACK_WEIGHT	25

/* fallback - the class the enhanced code's subject names, or NULL */
static const struct fallback *
fallback(int stage, const char *enh)
{
	static const struct fallback mail = { ".1.", "sender",
	    "sender-rejected" };
	size_t	 i;

	if (enh[0] == '\0' || enh[1] != '.')
		return NULL;
	for (i = 0; i < nitems(fallbacks); i++) {
		size_t	 n = strlen(fallbacks[i].subject);

		if (strncmp(enh + 1, fallbacks[i].subject, n) != 0)
			continue;
		/* x.1.0 "other address status" at MAIL is the sender */
		if (strcmp(fallbacks[i].subject, ".1.") == 0 &&
		    stage == STAGE_MAIL && strcmp(enh + 1, ".1.1") != 0)
			return &mail;
		return &fallbacks[i];
	}
	return NULL;
}

/*
 * How the model's evidence weighs. The model's class gets evidence of
 * kind "model" when its posterior reaches post_min (per mille): weight
 * w_min there, rising linearly to w_max at certainty. The reason stays
 * the rules' when a rule of the class weighs at least reason_rule; else
 * it is the model's best reason of the class.
 *
 * Chosen on wording neither side had seen: the 335 train lines of the
 * corpus's sixth pass, judged by the rules and the model of the 2,938
 * lines before them (neither was written from them), with a guard on
 * the whole train split out of fold (tests/verdict/cv.sh; the rules
 * in-sample there, which flatters them). Before: 700 50 88 60, where
 * the rules outvoted a model that knew better: rules alone 79.4 % class
 * / 73.4 % reason on those lines, model alone 84.8 / 76.1, combined
 * 81.5 / 75.5. With 400 70 96 80: 85.7 / 79.1, for 0.3 points less on
 * train out of fold (95.26 -> 94.93 class). Confirmed on the 323
 * train-side replies of the seventh pass, from 98 sources the corpus
 * had not drawn on, before any rule was written for them: 82.0 / 69.0
 * with these weights, 77.4 / 62.8 with the old ones (the grid's best
 * there, 83.0 / 70.0, is three lines away), and on the eighth pass's
 * 242 from 94 more sources: 78.9 / 70.2 against 76.9 / 69.0.
 *
 * Ninth and tenth passes, the same way (sh ../tests/verdict/cv.sh --dev
 * NEW.tsv WEIGHTS, each set judged by the rules and model of the lines
 * before it): on the tenth's 260 train-side lines from 263 new
 * sources, 400 70 96 80 gives 85.4 / 74.2 and 350 80 98 80 86.5 / 75.4
 * (rules alone 75.4 / 65.4, model alone 86.2 / 75.0); on the ninth's
 * 327 from 234, both give 87.2 / 74.3. So 350 80 98 80: a model a
 * little surer of itself (from a posterior of 0.35, weight 80 to 98).
 * A reason_rule of 90 did better on both sets' reasons (+0.9, +1.5) but
 * took the reason from rules the seed documents rely on ("blocked
 * using" is a DNSBL): left at 80. On train out of fold, where the rules
 * are in-sample and so flattered, the new weights cost about a point
 * of class: the price of trusting wording seen before less than
 * wording nobody has seen. The exact phrases and provider codes (98 and
 * up; the model weighs 98 only when certain) still win.
 */
static struct model_weigh {
	int	 post_min;	/* per mille */
	int	 w_min;
	int	 w_max;
	int	 reason_rule;
} weigh = { 350, 80, 98, 80 };

int
verdict_rule_matches(const char *id, int stage, int code,
    const char *enhanced, const char *text, const char **class)
{
	char	 enh[16], hit[WORD_MAX], *low;
	size_t	 i;
	int	 m = 0;

	low = lower_text(text, enhanced, enh);
	for (i = 0; i < nitems(rules); i++)
		if (strcmp(rules[i].id, id) == 0) {
			m = rule_matches(&rules[i], stage, code, enh, low, hit,
			    sizeof(hit));
			*class = rules[i].class;
			break;
		}
	if (i == nitems(rules) && strcmp(id, "model") == 0) {
		/* the model: its class, when sure enough to be evidence */
		struct vm_result vm;

		verdict_model(stage, text != NULL ? text : "", &vm);
		m = vm.posterior >= weigh.post_min;
		*class = vm.class;
	}
	if (i == nitems(rules) && strcmp(id, "enhanced-subject") == 0) {
		/* the fallback: the enhanced code's subject, never for 2xx */
		const struct fallback *fb = fallback(stage, enh);

		m = code / 100 != 2 && fb != NULL;
		if (fb != NULL)
			*class = fb->class;
	}
	free(low);
	return m;
}

/*
 * reason_generic - a reason that only repeats the class: Postfix's
 * "Sender address rejected:" and "Recipient address rejected:" name the
 * object, and what follows them says why
 */
static int
reason_generic(const char *reason)
{
	return strcmp(reason, "sender-rejected") == 0 ||
	    strcmp(reason, "recipient-rejected") == 0;
}

/*
 * rule_better - whether a gives its class's reason rather than b: the
 * heavier, except that text naming why ("Sender address rejected:
 * Domain not found") beats text naming only the object when both are
 * strong words (80 and up) of nearly the same weight; a firm rule's
 * generic reason counts as naming why (verdict.rules, "firm")
 */
static int
rule_better(const struct rule *a, const struct rule *b)
{
	if (a->words != NULL && b->words != NULL && a->weight >= 80 &&
	    b->weight >= 80 && abs(a->weight - b->weight) <= 3 &&
	    (reason_generic(a->reason) && !a->firm) !=
	    (reason_generic(b->reason) && !b->firm))
		return !reason_generic(a->reason) || a->firm;
	return a->weight > b->weight;
}

/* a class's tally while the rules are scored */
struct tally {
	const char	*class;
	const struct rule *best;	/* its strongest rule */
	const struct rule *why;		/* its strongest specific reason */
	const struct rule *named;	/* the rule the model outweighed */
	char		 hit[WORD_MAX];	/* the words of best */
	char		 nhit[WORD_MAX];	/* the words of named */
	int		 kind[5];	/* strongest weight of each kind */
	int		 score;
};

static const char *const kinds[] = { "words", "enhanced", "stage", "code",
	"model" };

/* kind_index - index of a kind in kinds[] */
static int
kind_index(const char *k)
{
	int	 i;

	for (i = 0; i < (int)nitems(kinds); i++)
		if (strcmp(kinds[i], k) == 0)
			return i;
	return 3;
}

/*
 * tally_score - a class's score: its strongest evidence, plus a
 * twentieth of the strongest of each other kind that agrees, at most 99
 */
static int
tally_score(const struct tally *t)
{
	int	 i, best = 0, kb = 0, sum;

	for (i = 0; i < (int)nitems(kinds); i++)
		if (t->kind[i] > best) {
			best = t->kind[i];
			kb = i;
		}
	sum = best * 20;
	for (i = 0; i < (int)nitems(kinds); i++)
		if (i != kb)
			sum += t->kind[i];
	sum = (sum + 10) / 20;
	return sum > 99 ? 99 : sum;
}

/* add_evidence - record rule r (matched words hit) as evidence in v */
static void
add_evidence(struct verdict *v, const struct rule *r, const char *hit)
{
	struct verdict_evidence *e;
	size_t	 i;

	if (v->nevidence == VERDICT_EVIDENCE_MAX) {
		/* full: replace the weakest if r is stronger */
		for (i = 0, e = NULL; i < v->nevidence; i++)
			if (e == NULL || v->evidence[i].weight < e->weight)
				e = &v->evidence[i];
		if (e->weight >= r->weight)
			return;
	} else
		e = &v->evidence[v->nevidence++];
	e->rule = r->id;
	e->kind = rule_kind(r);
	e->reason = r->reason;
	e->weight = r->weight;
	snprintf(e->words, sizeof(e->words), "%.63s", hit);
	util_utf8_trim(e->words);
}

/* evidence_sort - strongest evidence first (insertion sort, tiny) */
static void
evidence_sort(struct verdict *v)
{
	struct verdict_evidence tmp;
	size_t	 i, j;

	for (i = 1; i < v->nevidence; i++)
		for (j = i; j > 0 && v->evidence[j].weight >
		    v->evidence[j - 1].weight; j--) {
			tmp = v->evidence[j];
			v->evidence[j] = v->evidence[j - 1];
			v->evidence[j - 1] = tmp;
		}
}

#define NCLASS	16
#define WHY_WEIGHT	60	/* the least weight of a rule giving a reason */

/* tally_of - the tally of class in t[] (n used), a new one if needed */
static struct tally *
tally_of(struct tally *t, size_t *n, const char *class)
{
	size_t	 i;

	for (i = 0; i < *n; i++)
		if (strcmp(t[i].class, class) == 0)
			return &t[i];
	if (*n == NCLASS)
		return NULL;
	memset(&t[*n], 0, sizeof(t[*n]));
	t[*n].class = class;
	return &t[(*n)++];
}

/*
 * verdict_conclude - the winner of the tallies into v (on a tie the
 * class seen first, i.e. whose rule comes first in the file): its score,
 * the confidence (its score, less what a close runner-up takes away) and
 * the evidence (every matching rule of its class, and fb, the enhanced
 * code's subject, and mr, the model, with the words that weighed most
 * for it, mwords, if they agree)
 */
static void
verdict_conclude(struct verdict *v, struct tally *t, size_t n, int stage,
    int code, const char *enh, const char *low, const struct rule *fb,
    const struct rule *mr, const char *mwords)
{
	struct tally	*win = NULL, *run = NULL;
	char		 hit[WORD_MAX];
	size_t		 i;
	int		 margin;

	for (i = 0; i < n; i++) {
		t[i].score = tally_score(&t[i]);
		if (win == NULL || t[i].score > win->score)
			win = &t[i];
	}
	for (i = 0; i < n; i++)
		if (&t[i] != win && (run == NULL || t[i].score > run->score))
			run = &t[i];
	v->class = win->class;
	v->reason = win->best->reason;
	/*
	 * "Recipient address rejected:" names only the object; a weaker
	 * rule of the same class that says why (the enhanced code 5.1.1,
	 * "mailbox full") gives the reason
	 */
	if (reason_generic(v->reason) && !win->best->firm &&
	    win->why != NULL)
		v->reason = win->why->reason;
	/*
	 * the model agreeing with a rule that names the cause does not
	 * hide it: the verdict names the rule and its words ("blocked
	 * using"), the evidence shows both with their weights
	 */
	if (win->named != NULL) {
		v->rule = win->named->id;
		snprintf(v->words, sizeof(v->words), "%s", win->nhit);
	} else {
		v->rule = win->best->id;
		snprintf(v->words, sizeof(v->words), "%s", win->hit);
	}
	v->score = win->score;
	margin = win->score - (run != NULL ? run->score : 0);
	v->confidence = win->score - (margin < 20 ? (20 - margin) / 2 : 0);
	if (v->confidence < 5)
		v->confidence = 5;
	if (run != NULL) {
		v->runner_up = run->class;
		v->runner_score = run->score;
	}
	for (i = 0; i < nitems(rules); i++)
		if (strcmp(rules[i].class, win->class) == 0 &&
		    rule_matches(&rules[i], stage, code, enh, low, hit,
		    sizeof(hit)))
			add_evidence(v, &rules[i], hit);
	if (fb != NULL && strcmp(fb->class, win->class) == 0)
		add_evidence(v, fb, "");
	if (mr != NULL && strcmp(mr->class, win->class) == 0)
		add_evidence(v, mr, mwords);
	evidence_sort(v);
}


/*
 * model_evidence - add the model's evidence (m) to the tallies t[] (n
 * used) as rule mr, its reason the rules' or the model's (see weigh);
 * none when its class contradicts the reply code
 */
static void
model_evidence(struct tally *t, size_t *n, const struct vm_result *m,
    struct rule *mr, int code)
{
	struct tally	*ct;
	const char	*reason;
	int		 w, k, firm;

	if (m == NULL || m->class == NULL || m->posterior < weigh.post_min)
		return;
	/* words never overrule the code: "accepted" is a 2xx or 3xx reply
	   and nothing else (a 521 whose greeting names the software) */
	if (code != 0 && (strcmp(m->class, "accepted") == 0) != (code < 400))
		return;
	w = weigh.w_min + (m->posterior - weigh.post_min) *
	    (weigh.w_max - weigh.w_min) / (1000 - weigh.post_min + 1);
	if (w < 1 || (ct = tally_of(t, n, m->class)) == NULL)
		return;
	reason = verdict_model_reason(m, m->class);
	firm = 0;
	if (ct->best != NULL && ct->best->weight >= weigh.reason_rule) {
		reason = (reason_generic(ct->best->reason) &&
		    !ct->best->firm && ct->why != NULL ?
		    ct->why : ct->best)->reason;
		/* a firm rule's reason stays firm when the model carries it */
		firm = ct->best->firm && reason == ct->best->reason;
	} else if (reason == NULL)
		reason = ct->best != NULL ? ct->best->reason : "policy";
	memset(mr, 0, sizeof(*mr));
	mr->id = "model";
	mr->class = m->class;
	mr->reason = reason;
	mr->firm = firm;
	mr->weight = w;
	k = kind_index("model");
	ct->kind[k] = w;
	if (ct->best == NULL || w > ct->best->weight) {
		/* a rule strong enough to give the reason stays named */
		if (ct->best != NULL && ct->best->weight >=
		    weigh.reason_rule && (ct->best->words != NULL ||
		    ct->best->enh != NULL)) {
			ct->named = ct->best;
			memcpy(ct->nhit, ct->hit, sizeof(ct->nhit));
		}
		ct->best = mr;
		snprintf(ct->hit, sizeof(ct->hit), "%s", m->words);
	}
	if (ct->why == NULL || (ct->why->weight < w &&
	    !reason_generic(reason)))
		ct->why = mr;
}

void
verdict_reply(int stage, int code, const char *enhanced, const char *text,
    struct verdict *v)
{
	struct vm_result m;

	verdict_model(stage, text != NULL ? text : "", &m);
	verdict_reply_model(stage, code, enhanced, text, &m, v);
}

void
verdict_reply_model(int stage, int code, const char *enhanced,
    const char *text, struct vm_result *m, struct verdict *v)
{
	struct tally	 t[NCLASS], *ct;
	const struct fallback *fb;
	struct rule	 fbrule, mrule;
	char		*low, hit[WORD_MAX], enh[16];
	size_t		 i, n = 0;
	int		 k;

	memset(&fbrule, 0, sizeof(fbrule));
	memset(&mrule, 0, sizeof(mrule));
	low = lower_text(text, enhanced, enh);
	if (code == 0)
		code = embedded_code(low, enh);
	memset(v, 0, sizeof(*v));
	v->stage = stage;
	v->code = code;
	snprintf(v->enhanced, sizeof(v->enhanced), "%s", enh);
	for (i = 0; i < nitems(rules); i++) {
		const struct rule *r = &rules[i];

		if (!rule_matches(r, stage, code, enh, low, hit, sizeof(hit)))
			continue;
		if ((ct = tally_of(t, &n, r->class)) == NULL)
			continue;
		k = kind_index(rule_kind(r));
		if (r->weight > ct->kind[k])
			ct->kind[k] = r->weight;
		if (ct->best == NULL || rule_better(r, ct->best)) {
			ct->best = r;
			snprintf(ct->hit, sizeof(ct->hit), "%s", hit);
		}
		if (!reason_generic(r->reason) && r->weight >= WHY_WEIGHT &&
		    (ct->why == NULL || r->weight > ct->why->weight))
			ct->why = r;
	}
	if (code / 100 != 2 && (fb = fallback(stage, enh)) != NULL &&
	    (ct = tally_of(t, &n, fb->class)) != NULL) {
		/* the subject of the enhanced code: weak evidence */
		fbrule.id = "enhanced-subject";
		fbrule.class = fb->class;
		fbrule.reason = fb->reason;
		fbrule.enh = "x.";
		fbrule.weight = FALLBACK_WEIGHT;
		k = kind_index("enhanced");
		if (FALLBACK_WEIGHT > ct->kind[k])
			ct->kind[k] = FALLBACK_WEIGHT;
		if (ct->best == NULL) {
			ct->best = &fbrule;
			ct->hit[0] = '\0';
		}
	}
	if (m != NULL && m->class != NULL)
		verdict_model_words(stage, text != NULL ? text : "", m,
		    m->class);
	model_evidence(t, &n, m, &mrule, code);
	if (n == 0) {
		free(low);
		v->class = "server";
		v->reason = code / 100 == 5 ? "unavailable" :
		    "temporary-error";
		v->rule = "none";
		v->confidence = 10;
		v->advice = advice_for(v->class, v->reason);
		return;
	}
	verdict_conclude(v, t, n, stage, code, enh, low,
	    fbrule.id != NULL ? &fbrule : NULL,
	    mrule.id != NULL ? &mrule : NULL, m != NULL ? m->words : "");
	free(low);
	v->advice = advice_for(v->class, v->reason);
}

/*
 * verdict_evidence_line - the evidence as one line of text:
 * 'rule words "matched" (92); rule enhanced (80); runner-up policy (55)'
 */
void
verdict_evidence_line(const struct verdict *v, char *buf, size_t len)
{
	size_t	 i, o = 0;
	int	 n;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i <= v->nevidence && o < len; i++) {
		const struct verdict_evidence *e = &v->evidence[i];

		if (i == v->nevidence)
			n = v->runner_up == NULL ? 0 : snprintf(buf + o,
			    len - o, "%srunner-up %s (%d)", o > 0 ? "; " : "",
			    v->runner_up, v->runner_score);
		else if (e->words[0] != '\0')
			n = snprintf(buf + o, len - o, "%s%s %s \"%s\" (%d)",
			    o > 0 ? "; " : "", e->rule, e->kind, e->words,
			    e->weight);
		else
			n = snprintf(buf + o, len - o, "%s%s %s (%d)",
			    o > 0 ? "; " : "", e->rule, e->kind, e->weight);
		if (n < 0)
			break;
		o += (size_t)n < len - o ? (size_t)n : len - o - 1;
	}
	util_utf8_trim(buf);
}

/* verdict_failure - a step that ended without a usable reply */
static void
verdict_failure(const struct record *r, const struct step *st,
    struct verdict *v)
{
	const char	*d = st->detail != NULL ? st->detail : "";

	memset(v, 0, sizeof(*v));
	v->stage = (int)st->stage;
	v->confidence = 90;
	v->class = "network";
	if (st->stage == STAGE_AUTH && st->outcome == OUT_SKIPPED) {
		/* not sent at all: the client refused AUTH without TLS */
		v->class = "auth";
		v->reason = "plaintext-refused";
		v->rule = "auth-plaintext";
	} else if (st->stage == STAGE_AUTH && strstr(d, "challenge") !=
	    NULL) {
		v->class = "server";
		v->reason = "auth-protocol";
		v->rule = "server-auth-loop";
	} else if (st->stage == STAGE_STARTTLS || strstr(d, "TLS") != NULL ||
	    strstr(d, "certificate") != NULL || strstr(d, "STARTTLS") !=
	    NULL) {
		v->class = "tls";
		v->reason = strstr(d, "injection") != NULL ? "injection" :
		    strstr(d, "certificate") != NULL ? "verify-failed" :
		    strstr(d, "not offer") != NULL ? "tls-unavailable" :
		    "handshake-failed";
		v->rule = "tls-failure";
	} else if (strstr(d, "malformed") != NULL ||
	    strstr(d, "too long") != NULL || strstr(d, "too many") != NULL ||
	    strstr(d, "too large") != NULL || strstr(d, "unexpected") != NULL ||
	    strstr(d, "before the") != NULL) {
		v->class = "server";
		v->reason = "malformed-reply";
		v->rule = "server-malformed";
	} else if (st->stage == STAGE_RESOLVE) {
		v->reason = "resolve";
		v->rule = "network-resolve";
	} else if (st->outcome == OUT_TIMEOUT) {
		v->reason = "timeout";
		v->rule = "network-timeout";
	} else if (strstr(d, "refused") != NULL) {
		v->reason = "refused";
		v->rule = "network-refused";
	} else if (strstr(d, "reset") != NULL) {
		v->reason = "reset";
		v->rule = "network-reset";
	} else if (st->outcome == OUT_CLOSED) {
		v->reason = "closed";
		v->rule = "network-closed";
	} else {
		v->reason = "error";
		v->rule = "network-error";
	}
	if (st->reply != NULL) {
		v->code = st->reply->code;
		snprintf(v->enhanced, sizeof(v->enhanced), "%s",
		    st->reply->enhanced);
	}
	snprintf(v->words, sizeof(v->words), "%.120s", d);
	util_utf8_trim(v->words);
	v->advice = advice_for(v->class, v->reason);
}

void
verdict_step(const struct record *r, const struct step *st,
    struct verdict *v)
{
	struct reply	*rp = st->reply;
	char		*text;
	size_t		 i, len = 1;

	if (rp == NULL || st->outcome == OUT_TIMEOUT ||
	    st->outcome == OUT_CLOSED || st->outcome == OUT_ERROR) {
		verdict_failure(r, st, v);
		return;
	}
	for (i = 0; i < rp->nlines; i++)
		len += strlen(rp->lines[i]) + 3;
	text = xmalloc(len);
	text[0] = '\0';
	for (i = 0; i < rp->nlines; i++) {
		if (i > 0)
			strncat(text, " | ", len - strlen(text) - 1);
		strncat(text, rp->lines[i], len - strlen(text) - 1);
	}
	verdict_reply((int)st->stage, rp->code, rp->enhanced, text, v);
	free(text);
}

/*
 * verdict_context - what the pre-flight checks (--check) say about the
 * class the reply points to: a listing of our IP for an IP block, no
 * PTR for an rDNS or IP block, a HELO that does not resolve, a sender
 * domain without SPF/DMARC, links that do not resolve. A check that
 * confirms a generic reason makes it specific ("blocked" -> "dnsbl").
 */
static void
verdict_context(const struct record *r, struct verdict *v)
{
	const struct record_check *c;
	char	*o = v->context;
	size_t	 left = sizeof(v->context), n, i;

#define ADD(...) do {							\
	n = (size_t)snprintf(o, left, __VA_ARGS__);			\
	if (n >= left)							\
		n = left - 1;						\
	o += n;								\
	left -= n;							\
} while (0)
	v->context[0] = '\0';
	if (!r->checked)
		return;
	if (strcmp(v->class, "ip") == 0) {
		for (i = 0; i < r->nchecks; i++) {
			c = &r->checks[i];
			if (strcmp(c->name, "dnsbl") != 0 ||
			    strcmp(c->status, "fail") != 0)
				continue;
			ADD("%s%s is listed on %s (%s)", o == v->context ?
			    "" : "; ", c->subject, c->zone, c->answer != NULL ?
			    c->answer : "listed");
		}
		if (o != v->context) {
			if (strcmp(v->reason, "dnsbl") != 0 &&
			    strcmp(v->reason, "dynamic") != 0)
				v->reason = "dnsbl";
			if (v->confidence < 95)
				v->confidence = 95;
			v->advice = advice_for(v->class, v->reason);
		} else if ((c = record_check_find(r, "ptr", "fail")) != NULL ||
		    (c = record_check_find(r, "fcrdns", "fail")) != NULL) {
			ADD("%s", c->evidence);
			if (strcmp(v->reason, "blocked") == 0 ||
			    strcmp(v->reason, "reputation") == 0)
				v->reason = "rdns";
			if (v->confidence < 90)
				v->confidence = 90;
			v->advice = advice_for(v->class, v->reason);
		} else if (record_check_find(r, "dnsbl", "pass") != NULL)
			ADD("%s is on none of the DNS blocklists checked: the "
			    "block comes from the server's own data (ask its "
			    "postmaster)", r->check_ip != NULL ?
			    r->check_ip : "our IP");
	} else if (strcmp(v->class, "helo") == 0) {
		if ((c = record_check_find(r, "helo-fqdn", "fail")) != NULL ||
		    (c = record_check_find(r, "helo-dns", "fail")) != NULL ||
		    (c = record_check_find(r, "helo-dns", "warn")) != NULL)
			ADD("%s", c->evidence);
	} else if (strcmp(v->class, "sender") == 0) {
		for (i = 0; i < r->nchecks; i++) {
			c = &r->checks[i];
			if ((strcmp(c->name, "sender-dns") == 0 ||
			    strcmp(c->name, "spf") == 0 ||
			    strcmp(c->name, "dmarc") == 0) &&
			    (strcmp(c->status, "fail") == 0 ||
			    strcmp(c->status, "warn") == 0))
				ADD("%s%s", o == v->context ? "" : "; ",
				    c->evidence);
		}
	} else if (strcmp(v->class, "content") == 0) {
		for (i = 0; i < r->nchecks; i++) {
			c = &r->checks[i];
			if ((strcmp(c->name, "url-host") == 0 ||
			    strcmp(c->name, "dbl") == 0) &&
			    strcmp(c->status, "fail") == 0)
				ADD("%s%s", o == v->context ? "" : "; ",
				    c->evidence);
		}
	}
	util_utf8_trim(v->context);
#undef ADD
}

static void	verdict_record_steps(const struct record *, struct verdict *);
static void	verdict_domain(const struct record *, struct verdict *);
static void	verdict_expect(const struct record *, struct verdict *);
static void	verdict_retried(const struct record *, struct verdict *);
static void	verdict_concl(const struct record *, struct verdict *);

void
verdict_record(const struct record *r, struct verdict *v)
{
	verdict_record_steps(r, v);
	if (r->retry == 1)
		verdict_retried(r, v);
	verdict_context(r, v);
}

/*
 * verdict_retried - --retry-after: the first try was refused for now and
 * the same, later, on a new connection, accepted. That is greylisting,
 * whatever the first refusal's words: the verdict says so, certain.
 */
static void
verdict_retried(const struct record *r, struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->class = "greylist";
	v->reason = "greylist-confirmed";
	v->confidence = 99;
	v->stage = r->retry_stage;
	v->rule = "retry-after";
	snprintf(v->words, sizeof(v->words), "%.120s", r->retry_first !=
	    NULL ? r->retry_first : "");
	util_utf8_trim(v->words);
	v->advice = "Greylisting, confirmed: the same was accepted on a "
	    "later try. A normal MTA retries and gets through; nothing is "
	    "wrong unless the delay matters (then ask to be whitelisted).";
}

/*
 * verdict_expect - a scenario expectation failed: the verdict comes from
 * the step it judged and what it checked. A refusal where success was
 * wanted explains itself (its reply is judged); an acceptance where a
 * refusal was wanted is the finding the check exists for, in the class
 * the expectation named ("verdict relay": an open relay); a step with
 * no usable reply is judged as a failure.
 */
static void
verdict_expect(const struct record *r, struct verdict *v)
{
	const struct step *st = NULL;
	size_t		 i;

	for (i = 0; i < r->nsteps && st == NULL; i++)
		if (r->steps[i].expect < 0)
			st = &r->steps[i];
	memset(v, 0, sizeof(*v));
	v->stage = st != NULL ? (int)st->stage : -1;
	if (st == NULL) {
		v->class = "policy";
		v->reason = "expect-failed";
	} else if (st->outcome == OUT_TIMEOUT || st->outcome == OUT_CLOSED ||
	    st->outcome == OUT_ERROR) {
		verdict_failure(r, st, v);
		return;
	} else if ((st->outcome == OUT_PERMFAIL ||
	    st->outcome == OUT_TEMPFAIL) && !st->expect_refusal) {
		verdict_step(r, st, v);
		return;
	} else if (st->expect_refusal && st->outcome == OUT_OK) {
		v->class = st->expect_class != NULL ? st->expect_class :
		    "policy";
		v->reason = strcmp(v->class, "relay") == 0 ? "open-relay" :
		    "not-refused";
	} else {
		v->class = st->expect_class != NULL ? st->expect_class :
		    "policy";
		v->reason = "expect-failed";
	}
	v->confidence = 90;
	v->rule = "scenario-expectation";
	if (st != NULL && st->reply != NULL) {
		v->code = st->reply->code;
		snprintf(v->enhanced, sizeof(v->enhanced), "%s",
		    st->reply->enhanced);
	}
	snprintf(v->words, sizeof(v->words), "%.120s", st != NULL &&
	    st->expect_text != NULL ? st->expect_text : "expectation failed");
	util_utf8_trim(v->words);
	v->advice = advice_for(v->class, v->reason);
}

/*
 * verdict_concl - a scenario's named conclusion (a "finding" line):
 * what the check found, with the scenario's advice for this server.
 * Whatever ended the session (a smuggling probe ends it with a reply
 * too many) is the finding's evidence, not a network failure.
 */
static void
verdict_concl(const struct record *r, struct verdict *v)
{
	const struct record_concl *c = r->concl;

	memset(v, 0, sizeof(*v));
	v->stage = (int)c->stage;
	v->class = c->class;
	v->reason = c->name;
	v->confidence = 95;
	v->rule = "scenario-finding";
	v->code = c->code;
	snprintf(v->enhanced, sizeof(v->enhanced), "%s", c->enhanced);
	snprintf(v->words, sizeof(v->words), "%.120s", c->title);
	util_utf8_trim(v->words);
	v->advice = c->advice != NULL && c->advice[0] != '\0' ? c->advice :
	    advice_for(v->class, v->reason);
}

/*
 * verdict_domain - the recipient's domain answered for itself before any
 * connection: a null MX (RFC 7505) or NXDOMAIN refuses the address (the
 * domain takes no mail, or does not exist); a SERVFAIL is the domain's
 * DNS failing, for now
 */
static void
verdict_domain(const struct record *r, struct verdict *v)
{
	const struct step *st = NULL;
	size_t		 i;

	for (i = 0; i < r->nsteps && st == NULL; i++)
		if (r->steps[i].stage == STAGE_RESOLVE)
			st = &r->steps[i];
	memset(v, 0, sizeof(*v));
	v->stage = STAGE_RESOLVE;
	v->confidence = 95;
	v->rule = "domain-dns";
	snprintf(v->words, sizeof(v->words), "%.120s", st != NULL &&
	    st->detail != NULL ? st->detail : "");
	util_utf8_trim(v->words);
	if (r->status == RES_TEMPFAIL) {
		v->class = "network";
		v->reason = "dns-servfail";
	} else {
		v->class = "recipient";
		v->reason = strstr(v->words, "null MX") != NULL ? "null-mx" :
		    "no-such-domain";
	}
	v->advice = advice_for(v->class, v->reason);
}

/*
 * expect_before_error - a scenario expectation failed before the error
 * that ended the session (a server that refuses, then closes): the
 * failed step explains the session, the error is its consequence
 */
static int
expect_before_error(const struct record *r)
{
	size_t	 i;

	if (r->status != RES_ERROR || r->fail_kind == FAIL_DESYNC ||
	    r->fail_kind == FAIL_LOCAL)
		return 0;
	for (i = 0; i < r->nsteps; i++) {
		if (r->steps[i].expect < 0)
			return 1;
		if (r->steps[i].outcome == OUT_TIMEOUT ||
		    r->steps[i].outcome == OUT_CLOSED ||
		    r->steps[i].outcome == OUT_ERROR)
			return 0;
	}
	return 0;
}

/* verdict_record_steps - the verdict from the deciding step */
static void
verdict_record_steps(const struct record *r, struct verdict *v)
{
	size_t		 i;

	if (r->concl != NULL && r->concl->level == FIND_ERROR &&
	    strcmp(r->concl->class, "reply") != 0) {
		verdict_concl(r, v);
		return;
	}
	if (r->status == RES_ERROR && r->fail_kind == FAIL_LOCAL) {
		/* our side could not do what was asked: not the server */
		memset(v, 0, sizeof(*v));
		v->stage = (int)r->error_stage;
		v->confidence = 95;
		v->class = "protocol";
		/* --xclient, --xforward the server does not take */
		v->reason = r->error_stage == STAGE_XCLIENT ||
		    r->error_stage == STAGE_XFORWARD ? "asif-not-offered" :
		    "local-input";
		v->rule = "client-input";
		snprintf(v->words, sizeof(v->words), "%.120s", r->error);
		v->advice = advice_for(v->class, v->reason);
		return;
	}
	if (r->status == RES_ERROR && r->fail_kind == FAIL_DESYNC) {
		/* no reply can be trusted: the desync is the verdict */
		memset(v, 0, sizeof(*v));
		v->stage = (int)r->error_stage;
		v->confidence = 95;
		v->class = "server";
		v->reason = "desync";
		v->rule = "server-desync";
		snprintf(v->words, sizeof(v->words), "%.120s", r->error);
		v->advice = advice_for(v->class, v->reason);
		return;
	}
	if (r->status == RES_EXPECT || expect_before_error(r)) {
		verdict_expect(r, v);
		return;
	}
	if ((r->status == RES_PERMFAIL || r->status == RES_TEMPFAIL) &&
	    r->fail_stage == STAGE_RESOLVE) {
		verdict_domain(r, v);
		return;
	}
	for (i = 0; i < r->nsteps; i++) {
		const struct step *st = &r->steps[i];

		if (st->stage == STAGE_QUIT || (st->stage == STAGE_RESOLVE &&
		    st->outcome == OUT_OK))
			continue;
		if (r->status == RES_ERROR &&
		    (st->outcome == OUT_TIMEOUT || st->outcome == OUT_CLOSED ||
		    st->outcome == OUT_ERROR || (st->outcome == OUT_SKIPPED &&
		    st->detail != NULL && (st->stage == STAGE_STARTTLS ||
		    st->stage == STAGE_AUTH)))) {
			verdict_failure(r, st, v);
			return;
		}
		if ((r->status == RES_PERMFAIL &&
		    st->outcome == OUT_PERMFAIL) ||
		    (r->status == RES_TEMPFAIL &&
		    st->outcome == OUT_TEMPFAIL)) {
			verdict_step(r, st, v);
			return;
		}
	}
	memset(v, 0, sizeof(*v));
	v->stage = -1;
	v->confidence = r->status == RES_OK ? 99 : 30;
	v->class = r->status == RES_OK ? "accepted" : "network";
	v->reason = r->status == RES_OK ? "accepted" : "error";
	v->rule = r->status == RES_OK ? "accepted" : "session-error";
	if (r->status != RES_OK && r->message != NULL)
		snprintf(v->words, sizeof(v->words), "%.120s", r->message);
	util_utf8_trim(v->words);
	v->advice = advice_for(v->class, v->reason);
}

const char *const *
verdict_rule_ids(void)
{
	static const char *ids[nitems(rules) + 1];
	size_t	 i, n = 0;

	for (i = 0; i < nitems(rules); i++)
		ids[n++] = rules[i].id;
	ids[n] = NULL;
	return ids;
}

/*
 * verdict_enhanced_meaning - the summary of an enhanced code in the IANA
 * "SMTP Enhanced Status Codes" registry (RFC 3463, RFC 5248 and the RFCs
 * that added codes since: 3886, 4468, 4954, 6531, 6710, 7293, 7372,
 * 7505, 8098, 8617, 8689). Every X.Y.Z the registry lists is here, for
 * the classes 2, 4 and 5; anything else is NULL.
 */
const char *
verdict_enhanced_meaning(const char *e)
{
	static const struct {
		const char	*code;
		const char	*text;
	} reg[] = {
		{ ".0.0", "Other undefined status" },
		{ ".1.0", "Other address status" },
		{ ".1.1", "Bad destination mailbox address" },
		{ ".1.2", "Bad destination system address" },
		{ ".1.3", "Bad destination mailbox address syntax" },
		{ ".1.4", "Destination mailbox address ambiguous" },
		{ ".1.5", "Destination address valid" },
		{ ".1.6", "Destination mailbox has moved, no forwarding "
		    "address" },
		{ ".1.7", "Bad sender's mailbox address syntax" },
		{ ".1.8", "Bad sender's system address" },
		{ ".1.9", "Message relayed to non-compliant mailer" },
		{ ".1.10", "Recipient address has null MX" },
		{ ".2.0", "Other or undefined mailbox status" },
		{ ".2.1", "Mailbox disabled, not accepting messages" },
		{ ".2.2", "Mailbox full" },
		{ ".2.3", "Message length exceeds administrative limit" },
		{ ".2.4", "Mailing list expansion problem" },
		{ ".3.0", "Other or undefined mail system status" },
		{ ".3.1", "Mail system full" },
		{ ".3.2", "System not accepting network messages" },
		{ ".3.3", "System not capable of selected features" },
		{ ".3.4", "Message too big for system" },
		{ ".3.5", "System incorrectly configured" },
		{ ".3.6", "Requested priority was changed" },
		{ ".4.0", "Other or undefined network or routing status" },
		{ ".4.1", "No answer from host" },
		{ ".4.2", "Bad connection" },
		{ ".4.3", "Directory server failure" },
		{ ".4.4", "Unable to route" },
		{ ".4.5", "Mail system congestion" },
		{ ".4.6", "Routing loop detected" },
		{ ".4.7", "Delivery time expired" },
		{ ".5.0", "Other or undefined protocol status" },
		{ ".5.1", "Invalid command" },
		{ ".5.2", "Syntax error" },
		{ ".5.3", "Too many recipients" },
		{ ".5.4", "Invalid command arguments" },
		{ ".5.5", "Wrong protocol version" },
		{ ".5.6", "Authentication Exchange line is too long" },
		{ ".6.0", "Other or undefined media error" },
		{ ".6.1", "Media not supported" },
		{ ".6.2", "Conversion required and prohibited" },
		{ ".6.3", "Conversion required but not supported" },
		{ ".6.4", "Conversion with loss performed" },
		{ ".6.5", "Conversion Failed" },
		{ ".6.6", "Message content not available" },
		{ ".6.7", "Non-ASCII addresses not permitted for that "
		    "sender/recipient" },
		{ ".6.8", "UTF-8 string reply is required, but not permitted "
		    "by the SMTP client" },
		{ ".6.9", "UTF-8 header message cannot be transferred to one "
		    "or more recipients" },
		{ ".6.10", "UTF-8 string reply is required, but not permitted "
		    "by the SMTP client (deprecated: same as X.6.8)" },
		{ ".7.0", "Other or undefined security status" },
		{ ".7.1", "Delivery not authorized, message refused" },
		{ ".7.2", "Mailing list expansion prohibited" },
		{ ".7.3", "Security conversion required but not possible" },
		{ ".7.4", "Security features not supported" },
		{ ".7.5", "Cryptographic failure" },
		{ ".7.6", "Cryptographic algorithm not supported" },
		{ ".7.7", "Message integrity failure" },
		{ ".7.8", "Authentication credentials invalid" },
		{ ".7.9", "Authentication mechanism is too weak" },
		{ ".7.10", "Encryption Needed" },
		{ ".7.11", "Encryption required for requested authentication "
		    "mechanism" },
		{ ".7.12", "A password transition is needed" },
		{ ".7.13", "User Account Disabled" },
		{ ".7.14", "Trust relationship required" },
		{ ".7.15", "Priority Level is too low" },
		{ ".7.16", "Message is too big for the specified priority" },
		{ ".7.17", "Mailbox owner has changed" },
		{ ".7.18", "Domain owner has changed" },
		{ ".7.19", "RRVS test cannot be completed" },
		{ ".7.20", "No passing DKIM signature found" },
		{ ".7.21", "No acceptable DKIM signature found" },
		{ ".7.22", "No valid author-matched DKIM signature found" },
		{ ".7.23", "SPF validation failed" },
		{ ".7.24", "SPF validation error" },
		{ ".7.25", "Reverse DNS validation failed" },
		{ ".7.26", "Multiple authentication checks failed" },
		{ ".7.27", "Sender address has null MX" },
		{ ".7.28", "Mail flood detected" },
		{ ".7.29", "ARC validation failure" },
		{ ".7.30", "REQUIRETLS support required" },
	};
	size_t	 i;

	if (e == NULL || (e[0] != '2' && e[0] != '4' && e[0] != '5') ||
	    e[1] != '.')
		return NULL;
	for (i = 0; i < nitems(reg); i++)
		if (strcmp(e + 1, reg[i].code) == 0)
			return reg[i].text;
	return NULL;
}

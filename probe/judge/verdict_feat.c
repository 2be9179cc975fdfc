/*
 * verdict_feat.c - the features of a reply and the model's scores
 * (verdict_model.h).
 *
 * A reply's features are, in this order: "s:" and its stage name
 * ("unknown" when not known); the basic code it starts with, "c:550"
 * and "c:5xx"; each enhanced code in the text (class 2, 4 or 5, subject
 * and detail of one to three digits, not inside a longer word), as
 * "e:5.7.1", "e:x.7.1" and "e:x.7"; the runs of ASCII letters of the
 * lower-cased text, each cut to FEAT_WORD letters; and each pair of
 * consecutive words, "ip_listed". Only the first FEAT_WORDS words and
 * FEAT_ENH enhanced codes count. Then, for each word longer than
 * vm_stem letters, its stem "p:block" (its first vm_stem letters: one
 * feature for blocked, blocking, blocklisted), and for each word in
 * vm_object[] the object it names, "o:ip" (client, host, rdns ...);
 * both tables are generated with the weights. tests/verdict/model.py
 * makes the same list (tests/unit/t_verdict.c checks both agree on a
 * fixture); each name is looked up by its 32-bit FNV-1a hash in the
 * generated tables (probe/judge/verdict_model.c). A label's score is
 * its log prior, plus for each distinct feature in the table the
 * label's log-weight of it (or its default when the feature was never
 * seen with the label).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "stage.h"
#include "util.h"
#include "verdict_model.h"

#define FEAT_WORD	24	/* letters kept of a word */
#define FEAT_WORDS	200	/* words of a reply that count */
#define FEAT_ENH	8	/* enhanced codes of a reply that count */
#define FEAT_NAME	(2 * FEAT_WORD + 2)
#define SHOW_WORDS	3	/* words shown by verdict_model_words() */
#define SHOW_CAND	12	/* the heaviest, among which they are chosen */

typedef void	 feat_fn(const char *, void *);

static int
isdig(int c)
{
	return c >= '0' && c <= '9';
}

static int
islet(int c)
{
	return c >= 'a' && c <= 'z';
}

static int
isword(int c)
{
	return islet(c) || isdig(c) || c == '_';
}

/* digits_end - the end of the run of digits at t + i */
static size_t
digits_end(const char *t, size_t i)
{
	while (isdig((unsigned char)t[i]))
		i++;
	return i;
}

/* feat_codes - the basic code and the enhanced codes of t (lower case) */
static void
feat_codes(const char *t, feat_fn *fn, void *arg)
{
	char	 name[FEAT_NAME];
	size_t	 i = 0, n = strlen(t), a, b, d;
	int	 nenh = 0;

	while (t[i] == ' ' || t[i] == '\t')
		i++;
	if (n - i >= 3 && t[i] >= '2' && t[i] <= '5' &&
	    isdig((unsigned char)t[i + 1]) && isdig((unsigned char)t[i + 2]) &&
	    !isdig((unsigned char)t[i + 3])) {
		snprintf(name, sizeof(name), "c:%.3s", t + i);
		fn(name, arg);
		snprintf(name, sizeof(name), "c:%cxx", t[i]);
		fn(name, arg);
	}
	for (i = 0; i < n && nenh < FEAT_ENH; i++) {
		if (strchr("245", t[i]) == NULL || (i > 0 &&
		    isword((unsigned char)t[i - 1])) || t[i + 1] != '.')
			continue;
		a = i + 2;
		b = digits_end(t, a);
		if (b - a < 1 || b - a > 3 || t[b] != '.')
			continue;
		d = digits_end(t, b + 1);
		if (d - b - 1 < 1 || d - b - 1 > 3 ||
		    isword((unsigned char)t[d]))
			continue;
		snprintf(name, sizeof(name), "e:%c.%.*s.%.*s", t[i],
		    (int)(b - a), t + a, (int)(d - b - 1), t + b + 1);
		fn(name, arg);
		snprintf(name, sizeof(name), "e:x.%.*s.%.*s", (int)(b - a),
		    t + a, (int)(d - b - 1), t + b + 1);
		fn(name, arg);
		snprintf(name, sizeof(name), "e:x.%.*s", (int)(b - a), t + a);
		fn(name, arg);
		nenh++;
		i = d - 1;
	}
}

/*
 * feat_object - the object word names, or NULL (vm_object[] is sorted
 * by word, in byte order)
 */
static const char *
feat_object(const char *word)
{
	size_t	 lo = 0, hi = vm_nobject, mid;
	int	 c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(vm_object[mid].word, word)) == 0)
			return vm_object[mid].object;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * feat_each - call fn with each feature name of a reply, in the order
 * model.py lists them (duplicates included)
 */
static void
feat_each(int stage, const char *text, feat_fn *fn, void *arg)
{
	char		 name[FEAT_NAME], prev[FEAT_WORD + 1];
	char		 word[FEAT_WORD + 1], *t;
	const char	*o;
	size_t		 i, j, k, nw = 0;

	snprintf(name, sizeof(name), "s:%s", stage < 0 ? "unknown" :
	    stage_name((enum smtp_stage)stage));
	fn(name, arg);
	t = xstrdup(text != NULL ? text : "");
	for (i = 0; t[i] != '\0'; i++)
		if (t[i] >= 'A' && t[i] <= 'Z')
			t[i] += 'a' - 'A';
	feat_codes(t, fn, arg);
	/* the words, the pairs, the stems, the objects: passes over the
	   same runs */
	for (k = 0; k < 4; k++) {
		prev[0] = '\0';
		nw = 0;
		for (i = 0; t[i] != '\0' && nw < FEAT_WORDS;) {
			if (!islet((unsigned char)t[i])) {
				i++;
				continue;
			}
			for (j = i; islet((unsigned char)t[j]); j++)
				;
			snprintf(word, sizeof(word), "%.*s", (int)(j - i),
			    t + i);
			nw++;
			if (k == 0)
				fn(word, arg);
			else if (k == 1 && prev[0] != '\0') {
				snprintf(name, sizeof(name), "%s_%s", prev,
				    word);
				fn(name, arg);
			} else if (k == 2 && vm_stem > 0 &&
			    strlen(word) > vm_stem) {
				snprintf(name, sizeof(name), "p:%.*s",
				    (int)vm_stem, word);
				fn(name, arg);
			} else if (k == 3 && (o = feat_object(word)) != NULL) {
				snprintf(name, sizeof(name), "o:%s", o);
				fn(name, arg);
			}
			memcpy(prev, word, sizeof(prev));
			i = j;
		}
	}
	free(t);
}

/*
 * neg_exp - e to the x for x <= 0 (a posterior's share), without libm:
 * the Taylor series of x/64, squared six times
 */
static double
neg_exp(double x)
{
	double	 r = 1, t = 1;
	int	 i;

	if (x < -40)
		return 0;
	x /= 64;
	for (i = 1; i < 12; i++) {
		t *= x / i;
		r += t;
	}
	for (i = 0; i < 6; i++)
		r *= r;
	return r;
}

/* feat_index - the table index of hash h, or -1 */
static long
feat_index(uint32_t h)
{
	size_t	 lo = 0, hi = vm_nfeat, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (vm_hash[mid] == h)
			return (long)mid;
		if (vm_hash[mid] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* the distinct table features of a reply, while they are collected */
struct feat_set {
	long	 idx[4 * FEAT_WORDS + 4 * FEAT_ENH + 8];
	size_t	 n;
};

/* feat_add - feat_fn: add a feature to a feat_set if in the table */
static void
feat_add(const char *name, void *arg)
{
	struct feat_set	*fs = arg;
	long		 x = feat_index(util_fnv1a(name));
	size_t		 i;

	if (x < 0 || fs->n == nitems(fs->idx))
		return;
	for (i = 0; i < fs->n; i++)
		if (fs->idx[i] == x)
			return;
	fs->idx[fs->n++] = x;
}

void
verdict_model(int stage, const char *text, struct vm_result *r)
{
	struct feat_set	 fs;
	size_t		 i, y, best = 0;
	uint32_t	 e;
	double		 z = 0;

	memset(r, 0, sizeof(*r));
	fs.n = 0;
	feat_each(stage, text, feat_add, &fs);
	r->nfeat = fs.n;
	for (y = 0; y < vm_nlabel && y < VM_LABEL_MAX; y++)
		r->lscore[y] = vm_prior[y] + (int32_t)fs.n * vm_dflt[y];
	for (i = 0; i < fs.n; i++)
		for (e = vm_off[fs.idx[i]]; e < vm_off[fs.idx[i] + 1]; e++)
			if (vm_ent[e].label < VM_LABEL_MAX)
				r->lscore[vm_ent[e].label] += vm_ent[e].weight;
	for (y = 1; y < vm_nclass; y++)
		if (r->lscore[y] > r->lscore[best])
			best = y;
	for (y = 0; y < vm_nclass; y++)
		z += neg_exp((r->lscore[y] - r->lscore[best]) / 1000.0);
	r->class = vm_labels[best];
	r->score = r->lscore[best];
	r->posterior = (int)(1000.0 / z + 0.5);
}

int
verdict_model_post(const struct vm_result *r, const char *class)
{
	size_t	 y;
	double	 z = 0;
	int32_t	 mine = 0;
	int	 found = 0;

	for (y = 0; y < vm_nclass; y++) {
		z += neg_exp((r->lscore[y] - r->score) / 1000.0);
		if (strcmp(vm_labels[y], class) == 0) {
			mine = r->lscore[y];
			found = 1;
		}
	}
	if (!found)
		return 0;
	return (int)(1000.0 * neg_exp((mine - r->score) / 1000.0) / z + 0.5);
}

const char *
verdict_model_reason(const struct vm_result *r, const char *class)
{
	size_t		 y, n = strlen(class);
	const char	*best = NULL;
	int32_t		 bs = 0;

	for (y = vm_nclass; y < vm_nlabel && y < VM_LABEL_MAX; y++)
		if (strncmp(vm_labels[y], class, n) == 0 &&
		    vm_labels[y][n] == '/' && (best == NULL ||
		    r->lscore[y] > bs)) {
			best = vm_labels[y] + n + 1;
			bs = r->lscore[y];
		}
	return best;
}

/* what verdict_model_words() collects */
struct feat_top {
	size_t	 class;			/* the class's label index */
	long	 seen[2 * FEAT_WORDS];	/* features already weighed */
	size_t	 nseen;
	char	 name[SHOW_CAND][FEAT_NAME];
	double	 w[SHOW_CAND];
	size_t	 n;
};

/*
 * feat_weigh - feat_fn: how much a word or a pair weighs for the class
 * over the average class; keep the SHOW_CAND heaviest
 */
static void
feat_weigh(const char *name, void *arg)
{
	struct feat_top	*ft = arg;
	long		 x;
	size_t		 i, j;
	uint32_t	 e;
	double		 mine = 0, all = 0;

	if (strchr(name, ':') != NULL || (x = feat_index(util_fnv1a(name))) < 0)
		return;
	for (i = 0; i < ft->nseen; i++)
		if (ft->seen[i] == x)
			return;
	if (ft->nseen < nitems(ft->seen))
		ft->seen[ft->nseen++] = x;
	for (e = vm_off[x]; e < vm_off[x + 1]; e++)
		if (vm_ent[e].label < vm_nclass) {
			all += vm_ent[e].weight;
			if (vm_ent[e].label == ft->class)
				mine = vm_ent[e].weight;
		}
	mine -= all / (double)vm_nclass;
	if (mine <= 0)
		return;
	for (i = 0; i < ft->n && ft->w[i] >= mine; i++)
		;
	if (i == SHOW_CAND)
		return;
	if (ft->n < SHOW_CAND)
		ft->n++;
	for (j = ft->n - 1; j > i; j--) {
		ft->w[j] = ft->w[j - 1];
		memcpy(ft->name[j], ft->name[j - 1], FEAT_NAME);
	}
	ft->w[i] = mine;
	snprintf(ft->name[i], FEAT_NAME, "%s", name);
}

/*
 * filler - whether feature name is, or starts with, a word that says
 * nothing by itself ("the", "your"): not worth showing
 */
static int
filler(const char *name)
{
	static const char *const fill[] = { "a", "an", "and", "are", "as",
	    "at", "be", "by", "for", "from", "has", "have", "in", "is", "it",
	    "of", "on", "or", "our", "the", "this", "to", "was", "we", "with",
	    "you", "your", NULL };
	size_t	 i, n = strcspn(name, "_");

	for (i = 0; fill[i] != NULL; i++)
		if (strlen(fill[i]) == n && strncmp(fill[i], name, n) == 0)
			return 1;
	return 0;
}

/* shares_word - whether features a and b ("x" or "x_y") share a word */
static int
shares_word(const char *a, const char *b)
{
	char	 wa[2][FEAT_NAME], wb[2][FEAT_NAME];
	int	 na, nb, i, j;

	na = sscanf(a, "%49[a-z]_%49[a-z]", wa[0], wa[1]);
	nb = sscanf(b, "%49[a-z]_%49[a-z]", wb[0], wb[1]);
	for (i = 0; i < na; i++)
		for (j = 0; j < nb; j++)
			if (strcmp(wa[i], wb[j]) == 0)
				return 1;
	return 0;
}

void
verdict_model_words(int stage, const char *text, struct vm_result *r,
    const char *class)
{
	struct feat_top	 ft;
	size_t		 i, j, o = 0, shown[SHOW_WORDS], nshown = 0;
	char		 name[FEAT_NAME], *p;

	memset(&ft, 0, sizeof(ft));
	r->words[0] = '\0';
	for (ft.class = 0; ft.class < vm_nclass; ft.class++)
		if (strcmp(vm_labels[ft.class], class) == 0)
			break;
	if (ft.class == vm_nclass)
		return;
	feat_each(stage, text, feat_weigh, &ft);
	/* the heaviest, but no filler nor a word already shown */
	for (i = 0; i < ft.n && nshown < SHOW_WORDS; i++) {
		if (filler(ft.name[i]))
			continue;
		for (j = 0; j < nshown; j++)
			if (shares_word(ft.name[i], ft.name[shown[j]]))
				break;
		if (j < nshown)
			continue;
		shown[nshown++] = i;
		snprintf(name, sizeof(name), "%s", ft.name[i]);
		while ((p = strchr(name, '_')) != NULL)
			*p = ' ';
		if (o < sizeof(r->words) - 1)
			o += (size_t)snprintf(r->words + o, sizeof(r->words) -
			    o, "%s%s", nshown > 1 ? ", " : "", name);
	}
}

/*
 * combine-cv.c - how the model's evidence and the rules combine, judged
 * on train only with out-of-fold model posteriors (a tool, not built by
 * make; the weights in probe/judge/verdict.c were chosen with it).
 *
 *   sh ../tests/verdict/cv.sh [grid]   (from build/: does all of this)
 *
 *   python3 tests/verdict/model.py --cv --oof /tmp/oof.txt --out /tmp/m
 *   (mkdir -p /tmp/m/probe/judge /tmp/m/tests/verdict first)
 *   cd build && cc -O2 -I. -I.. -I../include -o /tmp/combine-cv \
 *       ../tests/verdict/combine-cv.c libprobe.a -ljansson -lm \
 *       $(pkg-config --libs libevent openssl ldns)
 *   /tmp/combine-cv ../tests/verdict/train.tsv /tmp/oof.txt \
 *       [grid | P W0 W1 R]
 *   /tmp/combine-cv --dev NEW.tsv [grid | P W0 W1 R]
 *
 * It includes probe/judge/verdict.c to set its weights (struct
 * model_weigh: posterior floor, weight at the floor, weight at
 * certainty, least rule weight that keeps the rules' reason), fills a
 * vm_result per train line from the out-of-fold posteriors (so the
 * model is never judged on a line it was trained on) and prints the
 * class and reason accuracy of the rules alone and combined, and how
 * many verdicts the model changes. The test split is never read.
 *
 * CV_MISSES=FILE in the environment writes the combined run's misses
 * there, one a line: expected class/reason, the verdict's, its rule,
 * the stage and the reply (for train or a dev set, never test.tsv).
 *
 * --dev judges a set of held-out lines instead (NEW.tsv, the format of
 * train.tsv): new replies gathered for the next pass and not yet in
 * train, so that neither the rules nor the model built into libprobe.a
 * have seen them. Their model scores are the built-in model's
 * (verdict_model()). This is the sterner yardstick: the rules are not
 * judged on lines they were written from. Run it before a new corpus
 * pass is merged (sh ../tests/verdict/cv.sh --dev NEW.tsv [grid]).
 */
#include "../../probe/judge/verdict.c"

#include <math.h>

#include "stage.h"

#define LINES	8192

struct cv_line {
	char		*f[5];	/* stage class reason reply source */
	struct vm_result m;	/* the out-of-fold model */
};

static struct cv_line	 cvl[LINES];
static size_t		 ncv;
static int		 dev;	/* --dev: held-out lines, built-in model */

/* label_index - the table index of label s, or -1 */
static int
label_index(const char *s)
{
	size_t	 y;

	for (y = 0; y < vm_nlabel; y++)
		if (strcmp(vm_labels[y], s) == 0)
			return (int)y;
	return -1;
}

/* oof_parse - "class=p ..." and "class/reason=score ..." into m */
static void
oof_parse(char *post, char *rsc, struct vm_result *m)
{
	char	*t, *e, *save = NULL;
	double	 p, best = -1;
	size_t	 y;
	int	 k;

	memset(m, 0, sizeof(*m));
	for (y = 0; y < VM_LABEL_MAX; y++)
		m->lscore[y] = -100000000;
	for (t = strtok_r(post, " ", &save); t != NULL;
	    t = strtok_r(NULL, " ", &save)) {
		if ((e = strchr(t, '=')) == NULL)
			continue;
		*e = '\0';
		p = strtod(e + 1, NULL);
		if ((k = label_index(t)) < 0)
			continue;
		m->lscore[k] = p > 0 ? (int32_t)lround(log(p) * 1000) :
		    -1000000;
		if (p > best) {
			best = p;
			m->class = vm_labels[k];
			m->score = m->lscore[k];
		}
	}
	m->posterior = (int)(best * 1000 + 0.5);
	for (t = strtok_r(rsc, " ", &save); t != NULL;
	    t = strtok_r(NULL, " ", &save))
		if ((e = strchr(t, '=')) != NULL) {
			*e = '\0';
			if ((k = label_index(t)) >= 0)
				m->lscore[k] = (int32_t)strtol(e + 1, NULL,
				    10);
		}
}

/*
 * cv_read - the train lines and their out-of-fold model (oof), or
 * held-out lines and the built-in model (oof NULL)
 */
static void
cv_read(const char *train, const char *oof)
{
	static char	 line[65536], o[65536];
	FILE		*ft, *fo = NULL;
	char		*p, *t, *f[4];
	size_t		 k;

	if ((ft = fopen(train, "r")) == NULL)
		fatalx("cannot open %s", train);
	if (oof != NULL && (fo = fopen(oof, "r")) == NULL)
		fatalx("cannot open %s", oof);
	while (fgets(line, sizeof(line), ft) != NULL && ncv < LINES) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		for (k = 0, p = line; k < 5; k++) {
			cvl[ncv].f[k] = p;
			if ((t = strchr(p, '\t')) != NULL) {
				*t = '\0';
				p = t + 1;
			}
		}
		for (k = 0; k < 5; k++)
			cvl[ncv].f[k] = xstrdup(cvl[ncv].f[k]);
		if (fo == NULL) {
			verdict_model(stage_lookup(cvl[ncv].f[0]),
			    cvl[ncv].f[3], &cvl[ncv].m);
			ncv++;
			continue;
		}
		if (fgets(o, sizeof(o), fo) == NULL)
			fatalx("%s is shorter than %s", oof, train);
		o[strcspn(o, "\n")] = '\0';
		for (k = 0, p = o; k < 4; k++) {
			f[k] = p;
			if ((t = strchr(p, '\t')) != NULL) {
				*t = '\0';
				p = t + 1;
			} else
				p = p + strlen(p);
		}
		oof_parse(f[2], f[3], &cvl[ncv].m);
		ncv++;
	}
	fclose(ft);
	if (fo != NULL)
		fclose(fo);
	if (ncv == 0)
		fatalx("%s: no lines", train);
}

/* the figures of one run over the train lines */
struct cv_fig {
	size_t	 good, rgood;		/* class right, and reason too */
	size_t	 weak, wgood, wrgood;	/* the same where the rules are weak */
	size_t	 changed, fixed, broke;	/* classes the model changes */
};

#define WEAK_RULES	70	/* rules' best evidence below this: weak */

static FILE	*misses;	/* CV_MISSES=FILE: the combined run's misses */

/* cv_count - one run: the model's evidence (use) or the rules alone */
static void
cv_count(int use, struct cv_fig *f)
{
	struct verdict	 v, v0;
	size_t		 i;
	int		 weak, c, r;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < ncv; i++) {
		struct cv_line	*l = &cvl[i];
		int		 st = stage_lookup(l->f[0]);
		int		 code = (int)strtol(l->f[3], NULL, 10);

		verdict_reply_model(st, code, NULL, l->f[3], NULL, &v0);
		verdict_reply_model(st, code, NULL, l->f[3], use ? &l->m :
		    NULL, &v);
		weak = v0.nevidence == 0 || v0.evidence[0].weight <
		    WEAK_RULES;
		if (strcmp(v0.class, v.class) != 0) {
			f->changed++;
			f->fixed += strcmp(v.class, l->f[1]) == 0;
			f->broke += strcmp(v0.class, l->f[1]) == 0;
		}
		c = strcmp(v.class, l->f[1]) == 0;
		r = c && strcmp(v.reason, l->f[2]) == 0;
		f->good += c;
		f->rgood += r;
		if (misses != NULL && use && !r)
			fprintf(misses, "%s/%s\t%s/%s\t%s\t%s\t%s\n",
			    l->f[1], l->f[2], v.class, v.reason, v.rule != NULL ?
			    v.rule : "-", l->f[0], l->f[3]);
		f->weak += weak;
		f->wgood += weak && c;
		f->wrgood += weak && r;
	}
}

/* cv_run - print the accuracy with the model (use) or the rules alone */
static void
cv_run(int use)
{
	struct cv_fig	 f;

	cv_count(use, &f);
	printf("%s: class %.2f%%, reason %.2f%% (%zu lines); where the "
	    "rules are weak (< %d): class %.2f%%, reason %.2f%% (%zu)",
	    use ? "rules and model" : "rules alone", 100.0 * f.good / ncv,
	    100.0 * f.rgood / ncv, ncv, WEAK_RULES, f.weak ? 100.0 * f.wgood /
	    f.weak : 0.0, f.weak ? 100.0 * f.wrgood / f.weak : 0.0, f.weak);
	if (use)
		printf("; weights %d %d %d %d; the model changes %zu (right "
		    "%zu, was right %zu)", weigh.post_min, weigh.w_min,
		    weigh.w_max, weigh.reason_rule, f.changed, f.fixed,
		    f.broke);
	printf("\n");
}

/* cv_model - the model alone, out of fold: its class and its reason */
static void
cv_model(void)
{
	size_t		 i, good = 0, rgood = 0;
	const char	*r;

	for (i = 0; i < ncv; i++) {
		if (cvl[i].m.class == NULL ||
		    strcmp(cvl[i].m.class, cvl[i].f[1]) != 0)
			continue;
		good++;
		r = verdict_model_reason(&cvl[i].m, cvl[i].m.class);
		rgood += r != NULL && strcmp(r, cvl[i].f[2]) == 0;
	}
	printf("model alone (%s): class %.2f%%, reason %.2f%%\n",
	    dev ? "built in, held-out lines" : "out of fold",
	    100.0 * good / ncv, 100.0 * rgood / ncv);
}

/*
 * cv_grid - every combination of the weights on a small grid, the best
 * (class plus reason right) first among the lines printed
 */
static void
cv_grid(void)
{
	static const int pm[] = { 500, 600, 700, 800, 900 };
	static const int wl[] = { 40, 50, 60, 70 };
	static const int wh[] = { 80, 88, 92, 96 };
	static const int rr[] = { 50, 60, 70, 80, 90 };
	struct cv_fig	 f;
	size_t		 a, b, c, d, best = 0;

	for (a = 0; a < nitems(pm); a++)
	for (b = 0; b < nitems(wl); b++)
	for (c = 0; c < nitems(wh); c++)
	for (d = 0; d < nitems(rr); d++) {
		weigh.post_min = pm[a];
		weigh.w_min = wl[b];
		weigh.w_max = wh[c];
		weigh.reason_rule = rr[d];
		cv_count(1, &f);
		if (f.good + f.rgood < best)
			continue;
		best = f.good + f.rgood;
		printf("grid %d %d %d %d: class %.2f%%, reason %.2f%%; weak "
		    "%.2f%% %.2f%%\n", pm[a], wl[b], wh[c], rr[d],
		    100.0 * f.good / ncv, 100.0 * f.rgood / ncv,
		    100.0 * f.wgood / f.weak, 100.0 * f.wrgood / f.weak);
	}
}

int
main(int argc, char *argv[])
{
	log_init("combine-cv", -1);
	if (argc != 3 && argc != 4 && argc != 7) {
		fprintf(stderr, "usage: combine-cv {train.tsv oof.txt | --dev "
		    "NEW.tsv} [grid | post_min w_min w_max reason_rule]\n");
		return 2;
	}
	dev = strcmp(argv[1], "--dev") == 0;
	cv_read(argv[1 + dev], dev ? NULL : argv[2]);
	if (argc == 4) {
		cv_grid();
		return 0;
	}
	if (argc == 7) {
		weigh.post_min = (int)strtol(argv[3], NULL, 10);
		weigh.w_min = (int)strtol(argv[4], NULL, 10);
		weigh.w_max = (int)strtol(argv[5], NULL, 10);
		weigh.reason_rule = (int)strtol(argv[6], NULL, 10);
	}
	cv_model();
	cv_run(0);
	if (getenv("CV_MISSES") != NULL &&
	    (misses = fopen(getenv("CV_MISSES"), "w")) == NULL)
		fatalx("cannot write %s", getenv("CV_MISSES"));
	cv_run(1);
	if (misses != NULL)
		fclose(misses);
	return 0;
}

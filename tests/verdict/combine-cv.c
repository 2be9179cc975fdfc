/*
 * combine-cv.c - how the model's evidence and the rules combine, judged
 * on train only with out-of-fold model posteriors (a tool, not built by
 * make; the weights in probe/judge/verdict.c were chosen with it).
 *
 *   python3 tests/verdict/model.py --cv --oof /tmp/oof.txt --out /tmp/m
 *   (mkdir -p /tmp/m/probe/judge /tmp/m/tests/verdict first)
 *   cd build && cc -O2 -I. -I.. -I../include -o /tmp/combine-cv \
 *       ../tests/verdict/combine-cv.c libprobe.a -ljansson -lm \
 *       $(pkg-config --libs libevent openssl ldns)
 *   /tmp/combine-cv ../tests/verdict/train.tsv /tmp/oof.txt [P W0 W1 R]
 *
 * It includes probe/judge/verdict.c to set its weights (struct
 * model_weigh: posterior floor, weight at the floor, weight at
 * certainty, least rule weight that keeps the rules' reason), fills a
 * vm_result per train line from the out-of-fold posteriors (so the
 * model is never judged on a line it was trained on) and prints the
 * class and reason accuracy of the rules alone and combined, and how
 * many verdicts the model changes. The test split is never read.
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

/* cv_read - the train lines and their out-of-fold model */
static void
cv_read(const char *train, const char *oof)
{
	static char	 line[65536], o[65536];
	FILE		*ft, *fo;
	char		*p, *t, *f[4];
	size_t		 k;

	if ((ft = fopen(train, "r")) == NULL ||
	    (fo = fopen(oof, "r")) == NULL)
		fatalx("cannot open %s or %s", train, oof);
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
	fclose(fo);
}

/* cv_run - accuracy with the model (use) or the rules alone */
static void
cv_run(int use)
{
	struct verdict	 v, v0;
	size_t		 i, good = 0, rgood = 0, changed = 0, fixed = 0;
	size_t		 broke = 0;

	for (i = 0; i < ncv; i++) {
		struct cv_line	*l = &cvl[i];
		int		 st = stage_lookup(l->f[0]);
		int		 code = (int)strtol(l->f[3], NULL, 10);

		verdict_reply_model(st, code, NULL, l->f[3], NULL, &v0);
		verdict_reply_model(st, code, NULL, l->f[3], use ? &l->m :
		    NULL, &v);
		if (strcmp(v0.class, v.class) != 0) {
			changed++;
			fixed += strcmp(v.class, l->f[1]) == 0;
			broke += strcmp(v0.class, l->f[1]) == 0;
		}
		if (strcmp(v.class, l->f[1]) == 0) {
			good++;
			rgood += strcmp(v.reason, l->f[2]) == 0;
		}
	}
	printf("%s: class %.2f%%, reason %.2f%% (%zu lines)", use ?
	    "rules and model" : "rules alone", 100.0 * good / ncv,
	    100.0 * rgood / ncv, ncv);
	if (use)
		printf("; weights %d %d %d %d; the model changes %zu (right "
		    "%zu, was right %zu)", weigh.post_min, weigh.w_min,
		    weigh.w_max, weigh.reason_rule, changed, fixed, broke);
	printf("\n");
}

int
main(int argc, char *argv[])
{
	log_init("combine-cv", -1);
	if (argc != 3 && argc != 7) {
		fprintf(stderr, "usage: combine-cv train.tsv oof.txt "
		    "[post_min w_min w_max reason_rule]\n");
		return 2;
	}
	cv_read(argv[1], argv[2]);
	if (argc == 7) {
		weigh.post_min = (int)strtol(argv[3], NULL, 10);
		weigh.w_min = (int)strtol(argv[4], NULL, 10);
		weigh.w_max = (int)strtol(argv[5], NULL, 10);
		weigh.reason_rule = (int)strtol(argv[6], NULL, 10);
	}
	cv_run(0);
	cv_run(1);
	return 0;
}

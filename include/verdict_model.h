/*
 * verdict_model.h - the verdict's learned evidence: a model trained on
 * the train split of the reply corpus (tests/verdict/model.py writes
 * its tables into probe/judge/verdict_model.c), scoring a reply's
 * features (probe/judge/verdict_feat.c: words, word pairs, stems, the
 * objects words name, stage, basic and enhanced codes, the same list the
 * trainer makes) for each class and each class/reason pair. verdict.c
 * weighs it with the rules.
 */
#ifndef SMTPROBE_VERDICT_MODEL_H
#define SMTPROBE_VERDICT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define VM_LABEL_MAX	128	/* classes plus class/reason pairs */
#define VM_WORDS	48	/* room for the words that weighed most */

/* one weight of the table: a label and its log-weight (1/1000) */
struct vm_entry {
	uint8_t		 label;
	int16_t		 weight;
};

/* a word and the object it names ("client", "ip") */
struct vm_object {
	const char	*word;
	const char	*object;
};

/* the tables, generated (probe/judge/verdict_model.c) */
extern const size_t	 vm_stem;	/* letters of a stem, 0 none */
extern const struct vm_object vm_object[];	/* sorted by word */
extern const size_t	 vm_nobject;
extern const char *const vm_labels[];	/* classes, then class/reason */
extern const size_t	 vm_nclass, vm_nlabel, vm_nfeat;
extern const int32_t	 vm_prior[], vm_dflt[];
extern const uint32_t	 vm_hash[], vm_off[];
extern const struct vm_entry vm_ent[];

/* what the model says about one reply */
struct vm_result {
	const char	*class;		/* the most likely class */
	int		 posterior;	/* its probability, per mille */
	int32_t		 score;		/* its log score (1/1000) */
	size_t		 nfeat;		/* features of the reply in the table */
	int32_t		 lscore[VM_LABEL_MAX];	/* every label's log score */
	char		 words[VM_WORDS];	/* the words that weighed most
						   for class, "a, b, c" */
};

/*
 * verdict_model - score a reply (stage: enum smtp_stage or -1 unknown;
 * text: the whole reply) into r
 */
void	 verdict_model(int stage, const char *text, struct vm_result *r);

/* verdict_model_post - the posterior of class, per mille (0 unknown) */
int	 verdict_model_post(const struct vm_result *, const char *class);

/*
 * verdict_model_reason - the model's best reason within class, or NULL
 * when it knows no reason of that class
 */
const char *verdict_model_reason(const struct vm_result *, const char *);

/*
 * verdict_model_words - the words (not the codes or the stage) that
 * weigh most for class in the reply, "blocked, ip, listed", into r->words
 */
void	 verdict_model_words(int stage, const char *text,
	    struct vm_result *r, const char *class);

#endif

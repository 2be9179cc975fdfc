/*
 * verdict.h - why a server said no, and what to do about it.
 *
 * The verdict is computed from what a step recorded: the stage, the basic
 * code, the enhanced code (RFC 3463 and the IANA registry) and the reply
 * text. Rules are data (probe/judge/verdict.rules, documented in
 * smtprobe(1)); every rule that matches is evidence for its class, of
 * one kind: the words of the text, the enhanced code, the stage or the
 * basic code. A class scores its strongest evidence plus a little for
 * each other kind that agrees; the best class wins, and the confidence
 * follows its margin over the runner-up. Nothing here touches the
 * network.
 */
#ifndef SMTPROBE_VERDICT_H
#define SMTPROBE_VERDICT_H

#include "record.h"

#define VERDICT_EVIDENCE_MAX	5

/* one piece of evidence: a rule that matched, for the winning class */
struct verdict_evidence {
	const char	*rule;		/* rule id */
	const char	*kind;		/* "words" "enhanced" "stage" "code"
					   "model" */
	const char	*reason;
	int		 weight;
	char		 words[64];	/* the words that matched, or "" */
};

struct verdict {
	const char	*class;		/* "ip" "helo" ... "accepted" */
	const char	*reason;	/* "dnsbl" "user-unknown" ... */
	int		 confidence;	/* 0..100 */
	int		 stage;		/* enum smtp_stage, -1 unknown */
	int		 code;		/* basic code, 0 none */
	char		 enhanced[16];
	const char	*rule;		/* id of the rule that fired */
	char		 words[128];	/* the words that matched, or "" */
	const char	*advice;	/* what a person can do */
	char		 context[384];	/* what the pre-flight checks add
					   (--check), or "" */
	int		 score;		/* the winner's score, 0 none */
	const char	*runner_up;	/* the next class, or NULL */
	int		 runner_score;	/* its score */
	size_t		 nevidence;
	struct verdict_evidence evidence[VERDICT_EVIDENCE_MAX];
};

/*
 * verdict_reply - classify one reply. stage may be -1 (unknown, as for
 * a reply pasted into "smtprobe explain"); text is the whole reply, its
 * lines joined by any separator.
 */
void	 verdict_reply(int stage, int code, const char *enhanced,
	    const char *text, struct verdict *);

/*
 * verdict_reply_model - as verdict_reply, with the model's result m
 * (verdict_model.h) already computed; NULL: the rules alone
 */
struct vm_result;
void	 verdict_reply_model(int stage, int code, const char *enhanced,
	    const char *text, struct vm_result *m, struct verdict *);

/* verdict_step - classify a recorded step (reply or failure) */
void	 verdict_step(const struct record *, const struct step *,
	    struct verdict *);

/* verdict_record - the session's verdict: from its deciding step */
void	 verdict_record(const struct record *, struct verdict *);

/* verdict_enhanced_meaning - IANA text of an enhanced code, or NULL */
const char *verdict_enhanced_meaning(const char *);

/* verdict_evidence_line - the evidence as one line of text, into buf */
void	 verdict_evidence_line(const struct verdict *, char *, size_t);

/*
 * verdict_rule_matches - whether rule id's conditions hold for a reply
 * (it may still be outweighed); *class is the rule's class. "model" is
 * the model, which holds when it is sure enough of its class to be
 * evidence, and "enhanced-subject" the enhanced code's subject.
 */
int	 verdict_rule_matches(const char *id, int stage, int code,
	    const char *enhanced, const char *text, const char **class);

/* verdict_rule_ids - every rule id, NULL-terminated (for tests) */
const char *const *verdict_rule_ids(void);

#endif

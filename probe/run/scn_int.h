/*
 * scn_int.h - the inside of the scenario modules: the lexer's tokens
 * and state (scn_lex.c), shared with the parser (scn.c, its driver,
 * and scn_kw.c, the keywords); the named conclusions (scn_concl.c);
 * and the runner's exec (struct scn_exec), shared by its modules: scn_run.c (the core: steps in order, the
 * engine's callbacks), scn_txn.c (what MAIL, RCPT, DATA and AUTH
 * send), scn_group.c (pipelined groups), scn_retry.c ("retry after")
 * and scn_expect.c (judging a step: expectations, findings).
 * Only probe/run/scn*.c include it.
 */
#ifndef SMTPROBE_SCN_INT_H
#define SMTPROBE_SCN_INT_H

#include <stddef.h>
#include <sys/types.h>

#include "scn.h"

struct util_buf;

enum tok_kind { TOK_WORD, TOK_STRING, TOK_REGEX };

struct tok {
	char		*s;
	size_t		 len;
	int		 col;
	enum tok_kind	 kind;
};

struct lex {
	const char	*file;
	int		 line;
	struct scn_vars	*vars;
	char		*err;
	size_t		 errlen;
	int		 failed;
	size_t		 base;		/* where the word or here-document
					   line being expanded starts */
};

/*
 * lex_error - a parse error at column col (0: the whole line) of the
 * current line, "FILE:LINE:COL: message" into the lexer's err; the
 * first error wins
 */
void	 lex_error(struct lex *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * lex_line - one line cut into tokens (toks has room for the line's
 * length), each with its ${variables} expanded; regex: /.../ is a
 * token of its own (after expect). The count, or -1 after lex_error()
 */
ssize_t	 lex_line(struct lex *, const char *, size_t, struct tok *, int regex);
/* lex_var - ${name} at s (n bytes) expanded into b; bytes used */
size_t	 lex_var(struct lex *, const char *, size_t, int, struct util_buf *);
/* tok_text - 0 if t may be sent as it is (no control bytes) */
int	 tok_text(struct lex *, const struct tok *, const char *what);
/* too_many - -1 with the usage line when a step has more than max tokens */
int	 too_many(struct lex *, struct tok *, size_t n, size_t max,
	    const char *usage);

/* scn.c and scn_kw.c: the driver and the keywords */
/* expect_free - free an expectation (NULL: nothing) */
void	 expect_free(struct scn_expect *);
/*
 * parse_heredoc - the lines of "data << WORD" up to WORD, into the
 * step's body (st->body holds WORD on entry); advances *pos
 */
int	 parse_heredoc(struct lex *, struct scn_step *, const char *, size_t,
	    size_t *);
/* parse_step - a line that is a step, checked and added to s */
int	 parse_step(struct lex *, struct scn *, struct tok *, size_t,
	    const char *, size_t, size_t *);
/* parse_expect_line - an "expect" line for the step above it */
int	 parse_expect_line(struct lex *, struct scn *, struct tok *, size_t,
	    const char *, size_t);

struct record;
struct step;

/* scn_class_word - the verdict class w names (any case), or NULL */
const char	*scn_class_word(const char *);
/* scn_parse_finding - a "finding" line into s; -1 after lex_error() */
int		 scn_parse_finding(struct lex *, struct scn *, struct tok *,
		    size_t);
/* scn_parse_advice - an "advice" line into s; -1 after lex_error() */
int		 scn_parse_advice(struct lex *, struct scn *, struct tok *,
		    size_t);
/* scn_finding_clear - free what a finding holds */
void		 scn_finding_clear(struct scn_finding *);

/* scn_server_of - the server software the greeting or EHLO names */
enum scn_server	 scn_server_of(const struct record *);
/*
 * scn_advice - a finding's advice: the general text, then the one for
 * srv, or for every server named when srv is SCN_SRV_ANY (caller frees)
 */
char		*scn_advice(const struct scn_finding *, enum scn_server);
/*
 * scn_conclude - finding f reached on r at step ps (NULL: at stage):
 * a finding of f's severity with what happened, and r's conclusion
 * unless it has one
 */
void		 scn_conclude(struct record *, const struct scn_finding *,
		    const struct step *, enum smtp_stage, const char *what);

/* ---- the runner (scn_run.c and its modules) ---- */

struct io_after;
struct smtp_session;

#define RUN_NONE	(-1)
#define RUN_IMPLICIT	(-2)	/* the connect a scenario did not write */

enum exec_wait {
	WAIT_NONE,
	WAIT_STEP,	/* a command is under way */
	WAIT_END	/* the session is being ended */
};

struct scn_exec {
	struct event_base	*base;
	const struct scn	*scn;		/* the steps: the caller's, or own */
	struct scn		*own;		/* scn when it is ours (interactive:
					   grown by scn_exec_push), else NULL */
	const struct scn_params	*p;
	const struct smtp_params *conn;	/* p->conn, or scn_exec_set_conn() */
	scn_done_cb		 done;
	void			*arg;
	struct smtp_session	**sess;
	size_t			 nsess;
	struct smtp_session	*cur;		/* open session or NULL */
	struct scn_result	*res;		/* one per step */
	size_t			 pc;		/* next step */
	ssize_t			 running;	/* step under way */
	enum exec_wait		 wait;
	int			 txn_rcpt_ok;
	struct io_after		*timer;		/* sleep without a session */
	/* the transaction under way */
	char			*txn_from;
	char			**txn_rcpt;
	size_t			 ntxn_rcpt;
	char			*txn_params;	/* MAIL's, as sent */
	char			**rcpt_params;	/* per txn_rcpt, as sent */
	char			*msg;		/* wire form being sent */
	size_t			 grp_first;	/* a pipelined group under way: */
	size_t			 grp_n;		/* its steps, 0 none */
	size_t			 grp_base;	/* its first record step */
	size_t			 grp_lines;	/* a "send" of several lines:
						   how many (one step, one
						   reply per line) */
	char			*grp_text;	/* their copy, cut at CRLF */
	char			*secret;	/* AUTH being sent */
	size_t			 retry_step;
	size_t			 retry_sess;
	/* flags, a byte each (thousands of idle sessions) */
	unsigned char		 stop_after;	/* stop once this step is done */
	unsigned char		 in_advance;
	unsigned char		 no_echo;	/* a group being prepared: its
					   findings are echoed once it goes */
	unsigned char		 stopping;
	unsigned char		 finished;
	unsigned char		 txn_failed;
	unsigned char		 txn_utf8;	/* SMTPUTF8 on MAIL */
	unsigned char		 txn_8bit;	/* BODY=8BITMIME on MAIL */
	/* retry after: 0 none, 1 ending the session, 2 waiting, 3 the
	   second try runs, 4 it was judged; retry_step is its step,
	   retry_sess the first try's session */
	unsigned char		 retry_phase;
};

/* scn_run.c: the core */
/* op_first - the stage a step of op starts with */
enum smtp_stage	 op_first(enum scn_op);
/* op_last - the stage a step of op ends with */
enum smtp_stage	 op_last(enum scn_op);
/* exec_note - a line of the runner's own in the transcript */
void		 exec_note(struct scn_exec *, enum smtp_wire, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
/* exec_echo - the findings added since n, as notes in the transcript */
void		 exec_echo(struct scn_exec *, size_t);
/* exec_advance - run steps until one is under way (a trampoline) */
void		 exec_advance(struct scn_exec *);
/* exec_end_session - QUIT the open session; done follows */
void		 exec_end_session(struct scn_exec *);
/* exec_stop - end the run: exec_advance() QUITs the session, then done */
void		 exec_stop(struct scn_exec *);
/* exec_skip - step i's result: status with a detail (printf format) */
void		 exec_skip(struct scn_exec *, size_t, enum scn_status,
		    const char *, ...);
/* exec_passed - the stop point a step starting at a stage is past, or -1 */
int		 exec_passed(const struct scn_params *, enum smtp_stage);
/*
 * exec_after - after step i: stop there when --stop-before or
 * --quit-after say so
 */
void		 exec_after(struct scn_exec *, size_t);

/* scn_txn.c: the transaction and what the commands send */
/* exec_txn_clear - forget the transaction under way */
void		 exec_txn_clear(struct scn_exec *);
/* exec_txn_trim - forget the recipients after the first n */
void		 exec_txn_trim(struct scn_exec *, size_t);
/* exec_secret - the AUTH secret for step st, or NULL with why */
char		*exec_secret(struct scn_exec *, const struct scn_step *,
		    char *, size_t);
/* exec_data_8bit - the shell's 8-bit data to a server without 8BITMIME */
void		 exec_data_8bit(struct scn_exec *, const struct scn_step *);
/* exec_mail - MAIL's path and ESMTP parameters into c; -1 with why */
int		 exec_mail(struct scn_exec *, size_t, struct smtp_cmd *, char *,
		    size_t);
/* exec_rcpt - a RCPT's path and parameters into c; -1 with why */
int		 exec_rcpt(struct scn_exec *, const struct scn_step *,
		    struct smtp_cmd *, char *, size_t);
/* exec_message - the wire form for a data step, or NULL with why */
char		*exec_message(struct scn_exec *, const struct scn_step *,
		    size_t *, char *, size_t);

/* scn_group.c: pipelined groups */
/* exec_group - steps i... sent as one pipelined group: 1, or 0 */
int		 exec_group(struct scn_exec *, size_t);
/* exec_send_lines - a "send" of several lines as one group: 1, or 0 */
int		 exec_send_lines(struct scn_exec *, size_t);
/* exec_group_judge - settle every step of the group that ended */
void		 exec_group_judge(struct scn_exec *, const struct step *,
		    int);

/* scn_retry.c: "retry after" */
/* exec_retry - step i, "retry after SECS" */
void		 exec_retry(struct scn_exec *, size_t);

/* scn_expect.c: judging a step */
/* exec_judge - settle step i from its primary step (NULL: none) */
void		 exec_judge(struct scn_exec *, size_t, const struct step *,
		    int);
/*
 * exec_session_end - before a session's record is settled: the
 * expectations failed after the fact, the scenario's "pass" finding
 */
void		 exec_session_end(struct scn_exec *, struct record *);

#endif

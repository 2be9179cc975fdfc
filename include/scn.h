/*
 * scn.h - scenarios: parse a scenario file into a list of steps, and
 * run it on the engine (smtp.h), checking expectations.
 *
 * The language is documented in smtprobe-scenario(5). The command line
 * builds its default scenario with scn_new() / scn_add() and runs it
 * like a file, so there is one code path for both.
 *
 * Parsing: scn_parse() returns a scenario or NULL with "FILE:LINE:COL:
 * what was expected" in err; nothing is run when a scenario does not
 * parse. Variables (${name}) are expanded while parsing, token by token
 * (a value never changes how a line splits), from struct scn_vars and
 * from "set" lines met so far; an undefined one is a parse error.
 *
 * Running: scn_exec_new() + scn_exec_start() run the steps on the
 * caller's event loop; done is called once at the end. An interactive
 * exec (the shell) starts with no steps and waits after each step for
 * scn_exec_push(). Sessions, records and step results belong to the
 * exec until scn_exec_free().
 */
#ifndef SMTPROBE_SCN_H
#define SMTPROBE_SCN_H

#include <stddef.h>
#include <stdio.h>

#include "record.h"
#include "smtp.h"

struct esmtp_opts;
struct event_base;
struct msg_mime;
struct scn_exec;

enum scn_op {
	SCN_CONNECT,
	SCN_EHLO,
	SCN_HELO,
	SCN_STARTTLS,
	SCN_AUTH,
	SCN_MAIL,
	SCN_RCPT,
	SCN_DATA,
	SCN_RSET,
	SCN_NOOP,
	SCN_VRFY,
	SCN_SEND,
	SCN_SLEEP,
	SCN_QUIT,
	SCN_DROP,
	SCN_RETRY,		/* retry after SECS (ms): greylisting */
	SCN__COUNT
};

enum scn_data {
	SCN_DATA_DEFAULT,	/* the test message (or --body/--message) */
	SCN_DATA_FILE,		/* data file PATH */
	SCN_DATA_INLINE,	/* data <<END ... END */
	SCN_DATA_RAW		/* data raw "BYTES": sent as they are */
};

#define SCN_MAX_MATCH	8

struct scn_expect {
	char		*spec;		/* as written, after "expect" */
	char		*want;		/* spec without "else ..." */
	char		 match[SCN_MAX_MATCH][16]; /* "250" "5xx" "5.7.x"
					   "ok" "permfail" ... */
	int		 group[SCN_MAX_MATCH]; /* alternative of match[i]:
					   "or" starts a new one; the
					   matches of one must all hold */
	size_t		 nmatch;
	char		*text;		/* substring, any case, or NULL */
	void		*re;		/* regex_t of /RE/, or NULL */
	char		*vclass;	/* verdict class, or NULL */
	int		 without;	/* the text or regex must NOT occur */
	char		*finding;	/* else finding NAME: concluded when
					   not met, or NULL */
	int		 finding_col;
	char		*label;		/* else finding NAME "LABEL": what the
					   check is (a relay variant), or NULL */
	int		 cont;		/* else continue (default: stop) */
	int		 line;		/* of the expect line */
};

struct scn_step {
	enum scn_op	 op;
	int		 line;		/* in the file, from 1 */
	char		*arg;		/* name, address, text ... */
	char		*params;	/* MAIL/RCPT ESMTP parameters */
	unsigned	 flags;		/* SMTP_F_* */
	enum scn_data	 data;
	char		*body;		/* inline or raw bytes, or file path */
	size_t		 bodylen;
	int		 mech;		/* enum smtp_auth_mech */
	char		*secret_env;	/* auth ... secret-env VAR */
	char		*secret_file;	/* auth ... secret-file PATH */
	long		 ms;		/* sleep */
	struct scn_expect *expect;	/* or NULL */
	int		 group;		/* a pipelined group (RFC 2920):
					   0 none; > 0 a "pipeline" block,
					   sent as one whenever it can be;
					   < 0 the command line's, sent as
					   one when the server offers
					   PIPELINING */
};

/* The servers a finding's advice may name (advice NAME SERVER "..."). */
enum scn_server {
	SCN_SRV_ANY,		/* the advice for every server */
	SCN_SRV_POSTFIX,
	SCN_SRV_EXIM,
	SCN_SRV_OPENSMTPD,
	SCN_SRV_SENDMAIL,
	SCN_SRV_EXCHANGE,
	SCN_SRV__COUNT
};

/* A named conclusion: "finding NAME CLASS SEVERITY "TITLE" [pass]". */
struct scn_finding {
	char		*name;
	char		*class;		/* verdict class, or "reply" */
	int		 level;		/* enum finding_level */
	char		*title;
	int		 pass;		/* concluded by a session that passed */
	char		*advice[SCN_SRV__COUNT]; /* or NULL */
	int		 line;
};

struct scn {
	char		*name;		/* file name, or "default" */
	char		*desc;		/* "# desc:" line, or NULL */
	struct scn_step	*steps;
	size_t		 nsteps;
	struct scn_finding *findings;	/* "finding" lines */
	size_t		 nfindings;
};

struct scn_vars {
	char	**name;
	char	**value;
	size_t	  n;
	size_t	  nlocked;	/* the first nlocked come from the command
				   line: a "set" line does not change them */
	size_t	 *idx;		/* hash index over name: i + 1, 0 empty */
	size_t	  idxcap;	/* slots in idx, a power of two */
	size_t	  bytes;	/* names and values together */
};

/*
 * Limits of a scenario (usage error 64 with file:line:col past them):
 * the file, a line, the words of a line, the steps, one expanded word
 * or here-document line, and all variables together.
 */
#define SCN_MAX_FILE	(4 * 1024 * 1024)
#define SCN_MAX_LINE	8192
#define SCN_MAX_TOKENS	64
#define SCN_MAX_STEPS	100000
#define SCN_MAX_VALUE	65536
#define SCN_MAX_VARS	(4 * 1024 * 1024)
#define SCN_MAX_MESSAGE	(64 * 1024 * 1024)

void		 scn_vars_set(struct scn_vars *, const char *, const char *);
const char	*scn_vars_get(const struct scn_vars *, const char *);
void		 scn_vars_clear(struct scn_vars *);

/* scn_parse - parse text (len bytes) named name; NULL with err filled */
struct scn	*scn_parse(const char *name, const char *text, size_t len,
		    struct scn_vars *, char *err, size_t errlen);
/*
 * scn_check_inputs - read and check what the steps name outside the
 * scenario, before anything is sent: every data file (readable, no NUL)
 * and every secret-file and secret-env (set, no NUL, not empty). 0, or
 * -1 with err "name:line: why". scn_parse() does not touch files.
 */
int		 scn_check_inputs(const struct scn *, char *err,
		    size_t errlen);
/* scn_load - read and parse a file ("-": stdin), then scn_check_inputs() */
struct scn	*scn_load(const char *path, struct scn_vars *, char *err,
		    size_t errlen);
struct scn	*scn_new(const char *name);
/* scn_add - append a step (copied; strings duplicated) */
struct scn_step	*scn_add(struct scn *, const struct scn_step *);
void		 scn_free(struct scn *);
void		 scn_step_clear(struct scn_step *);

const char	*scn_op_name(enum scn_op);
/* scn_server_name - "postfix" ... ("" for SCN_SRV_ANY) */
const char	*scn_server_name(enum scn_server);
/* scn_finding_find - the finding named name, or NULL */
const struct scn_finding *scn_finding_find(const struct scn *,
		    const char *);
/* scn_findings_copy - append the findings of src to dst (copied) */
void		 scn_findings_copy(struct scn *, const struct scn *);
/* scn_keywords - every keyword of the language, NULL-terminated */
const char *const *scn_keywords(void);
/* scn_expect_match - whether a step of record meets the expectation;
   got is filled with what came ("550 5.1.1", "timeout") */
int		 scn_expect_match(const struct scn_expect *,
		    const struct record *, const struct step *, char *got,
		    size_t gotlen);

/* The command line's probe, as a scenario (scn_classic()). */
struct smtp_txn {
	const char	 *from;		/* --from; "" is the null sender <> */
	const char	**rcpt;		/* --to, in order */
	size_t		  nrcpt;
};

struct scn_classic {
	int		 tls_mode;	/* enum smtp_tls_mode */
	int		 auth_mech;	/* --auth, -1 none */
	const char	*auth_user;	/* --auth-user */
	int		 auth_insecure;	/* --auth-insecure */
	const struct smtp_txn *txn;	/* one per --from */
	size_t		 ntxn;
	int		 data;		/* --data */
	int		 server_check;	/* --server-check: VRFY of a made-up
					   user and of postmaster, EXPN of a
					   made-up list, before MAIL; any
					   reply is as expected */
	int		 bdat;		/* --bdat */
};

/*
 * scn_classic - the default scenario: connect, ehlo, starttls when
 * asked, auth when asked, the VRFY/EXPN probes of --server-check, then
 * per transaction mail, every rcpt, data when asked (rset between
 * transactions), quit.
 */
struct scn	*scn_classic(const struct scn_classic *);

/* What a run needs besides the scenario; borrowed until the end. */
struct scn_params {
	const struct smtp_params *conn;	/* target and connection */
	int		 stop_before;	/* --stop-before STAGE, or -1 */
	int		 quit_after;	/* --quit-after STAGE, or -1 */
	const char	*helo_domain;	/* Message-ID domain of the test
					   message */
	const char	**headers;	/* --header */
	size_t		 nheaders;
	const char	*body;		/* --body contents, or NULL */
	size_t		 bodylen;
	const char	*message;	/* --message contents, or NULL */
	size_t		 messagelen;
	const char	*version;	/* for X-Mailer */
	const struct esmtp_opts *esmtp;	/* --size, --dsn-* ..., or NULL */
	const struct msg_mime *mime;	/* --attach, --body-html ..., or
					   NULL */
	const char	*secret;	/* AUTH secret when a step names none */
	int		 interactive;	/* wait for scn_exec_push() */
	int		 no_pipelining;	/* --no-pipelining: never a group */
	size_t		 bdat_chunk;	/* --bdat-chunk, 0: default */
	const struct smtp_callbacks *out; /* wire and step, passed on */
	void		*arg;
};

enum scn_status {
	SCN_NOTRUN,	/* not reached (the session or the run ended) */
	SCN_PASS,	/* done: accepted, or its expectation met */
	SCN_FAIL,	/* refused without an expectation, or expectation
			   not met, or error */
	SCN_SKIP	/* not sent on purpose (no recipient for DATA ...) */
};

struct scn_result {
	const struct scn_step *step;
	enum scn_status	 status;
	int		 session;	/* index into the sessions, -1 */
	ssize_t		 rstep;		/* primary step in its record, -1 */
	char		*detail;	/* why, for FAIL and SKIP */
};

typedef void	(*scn_done_cb)(struct scn_exec *, void *);

/*
 * scn_exec_new - run s, which is borrowed (read, never changed) until
 * scn_exec_free(): many execs may share one scenario. NULL: an empty
 * one, grown by scn_exec_push(). scn_exec_new_own() takes s: it is
 * freed with the exec.
 */
struct scn_exec	*scn_exec_new(struct event_base *, const struct scn *,
		    const struct scn_params *, scn_done_cb, void *arg);
struct scn_exec	*scn_exec_new_own(struct event_base *, struct scn *,
		    const struct scn_params *, scn_done_cb, void *arg);
void		 scn_exec_start(struct scn_exec *);
/*
 * scn_exec_set_conn - the target and connection of the sessions it
 * opens, instead of p->conn (borrowed): many execs of a batch share
 * one scn_params, each with its own target
 */
void		 scn_exec_set_conn(struct scn_exec *,
		    const struct smtp_params *);
/*
 * scn_exec_push - interactive: run one more step (copied). Returns 0,
 * or -1 when the exec is over or holds SCN_MAX_STEPS steps.
 * scn_exec_idle() tells when it is done.
 */
int		 scn_exec_push(struct scn_exec *, const struct scn_step *);
/*
 * scn_exec_push_n - interactive: n more steps (copied), all added before
 * the runner goes on, so that a "pipeline" block goes as one group
 */
int		 scn_exec_push_n(struct scn_exec *, const struct scn_step *,
		    size_t);
int		 scn_exec_idle(const struct scn_exec *);
/*
 * scn_exec_expect - interactive: check e against the step run last, as
 * an expect line in a file would (the record and the step's result say
 * so). Returns 1 met, 0 not met (got says what came), -1 no step yet.
 */
int		 scn_exec_expect(struct scn_exec *, const struct scn_expect *,
		    char *got, size_t gotlen);
/* scn_exec_finish - interactive: end the open session, then done */
void		 scn_exec_finish(struct scn_exec *);
void		 scn_exec_free(struct scn_exec *);

const struct record *scn_exec_record(const struct scn_exec *, size_t);
size_t		 scn_exec_nrecords(const struct scn_exec *);
/* scn_exec_record_mut - the same, to add to (the pre-flight checks) */
struct record	*scn_exec_record_mut(struct scn_exec *, size_t);
const struct scn_result *scn_exec_results(const struct scn_exec *,
		    size_t *);
/* scn_exec_exit - the run's exit status (smtprobe(1) EXIT STATUS) */
int		 scn_exec_exit(const struct scn_exec *);
/* Whether a step may be sent now (scn_exec_may_run()). */
enum scn_gate {
	SCN_GATE_OK,		/* it would be sent */
	SCN_GATE_NO_SESSION,	/* no open session: not run */
	SCN_GATE_SKIP,		/* its transaction failed: skipped (only
				   without an expect line) */
	SCN_GATE_INPUT		/* its secret cannot be had: fails */
};

/*
 * scn_exec_may_run - whether st may be sent on x now, by the rules the
 * runner itself applies (exec_run() asks the same function), with why
 * filled when not: the shell asks before sending what the user typed.
 */
enum scn_gate	 scn_exec_may_run(struct scn_exec *, const struct scn_step *,
		    char *why, size_t whylen);

/* scn_exec_session_open - interactive: a session is connected */
int		 scn_exec_session_open(const struct scn_exec *);

#endif

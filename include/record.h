/*
 * record.h - what a session leaves behind: one step per command or
 * reply on the wire, the TLS summary, findings and the result.
 *
 * Plain data, filled by smtp.c and read by report.c (and later by the
 * verdict); neither reader touches the network. Every string here is
 * printable: server bytes were escaped when they were received, and
 * AUTH payloads are masked before a command is stored.
 *
 * Times are microseconds since the session started (record.t0), -1
 * when the event did not happen.
 */
#ifndef SMTPROBE_RECORD_H
#define SMTPROBE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "reply.h"
#include "stage.h"
#include "tls.h"

enum step_outcome {
	OUT_OK,		/* 2xx, or 3xx where expected (354) */
	OUT_TEMPFAIL,	/* 4xx */
	OUT_PERMFAIL,	/* 5xx, or a 2xx/3xx where it makes no sense */
	OUT_TIMEOUT,	/* no (complete) reply in time */
	OUT_CLOSED,	/* peer closed */
	OUT_ERROR,	/* connect, TLS or framing error */
	OUT_SKIPPED,	/* not attempted (e.g. STARTTLS not offered) */
	OUT__COUNT
};

/* (the ints in pairs: no padding, a session holds several steps) */
struct step {
	enum smtp_stage	 stage;
	int		 txn;		/* transaction number, from 1; 0 outside */
	enum step_outcome outcome;
	int		 line;		/* scenario line, 0 none */
	char		*command;	/* as sent, masked; NULL for banner */
	struct reply	*reply;		/* NULL when no complete reply */
	char		*detail;	/* error text, or NULL */
	int64_t		 t_sent;	/* command written (or stage entered) */
	int64_t		 t_first;	/* first reply byte */
	int64_t		 t_done;	/* reply complete / step ended */
	char		*expect_text;	/* "expected 250, got 550" or NULL */
	char		*expect_class;	/* the verdict class the expectation
					   named ("verdict relay"), or NULL */
	char		*rcpt;		/* LMTP: the recipient a reply after
					   the message is for, or NULL */
	/* a byte each: 96 bytes a step, not 104 (four in an idle
	   session of a batch) */
	unsigned char	 tls;		/* TLS was active for this step */
	signed char	 expect;	/* scenario expectation: 0 none,
					   1 met, -1 not met */
	unsigned char	 expect_refusal; /* it wanted only a 4xx or 5xx */
};

/*
 * A finding's severity (JSON "severity", and "level" for older readers):
 * info (worth knowing), warning (a reason for trouble), error (wrong:
 * with --server-check, a server-check error makes the exit status 1).
 */
enum finding_level {
	FIND_INFO,
	FIND_WARN,
	FIND_ERROR
};

struct finding {
	enum finding_level level;
	char		*kind;		/* stable token: "bare-lf" ... */
	enum smtp_stage	 stage;
	char		*detail;
};

/*
 * A scenario's named conclusion (a "finding" line of
 * smtprobe-scenario(5)): the first one of the highest severity a
 * session reaches. At severity error it decides the session's verdict
 * (unless its class is "reply": the failed step's reply is judged) and
 * exit status 1.
 */
struct record_concl {
	char		*name;		/* "open-relay" */
	char		*class;		/* verdict class, or "reply" */
	enum finding_level level;
	char		*title;		/* "open relay" */
	char		*advice;	/* for the server seen, or for all */
	enum smtp_stage	 stage;
	int		 code;		/* the step's reply code, 0 none */
	char		 enhanced[16];
};

/* One pre-flight check (check.h), as plain strings. */
struct record_check {
	char	*name;		/* "ptr", "dnsbl" ... */
	char	*subject;	/* what was checked */
	char	*zone;		/* the list, or NULL */
	char	*answer;	/* the list's answer, or NULL */
	char	*status;	/* "pass" "warn" "fail" "error" */
	char	*evidence;
};

/*
 * Why a session ended early (record.fail_kind), set where the failure
 * is seen: callers read the kind, never the error text.
 */
enum fail_kind {
	FAIL_NONE,
	FAIL_RESOLVE,	/* the server's name did not resolve */
	FAIL_CONNECT,	/* refused, unreachable, a local socket error */
	FAIL_TIMEOUT,	/* a deadline passed */
	FAIL_CLOSED,	/* the server closed or reset the connection */
	FAIL_TLS,	/* STARTTLS missing, handshake, verification, DANE */
	FAIL_AUTH,	/* the client refused to send AUTH (no TLS) or the
			   exchange broke down */
	FAIL_PROTOCOL,	/* a malformed or oversized reply, a line too long */
	FAIL_DESYNC,	/* a reply no command asked for: replies may have
			   shifted, so no step's acceptance is trusted */
	FAIL_LOCAL,	/* our own side (argument refused, out of input) */
	FAIL__COUNT
};

enum result_status {
	RES_OK,		/* everything asked for was accepted */
	RES_PERMFAIL,	/* a permanent rejection (incl. one RCPT of many) */
	RES_TEMPFAIL,	/* a temporary rejection, nothing permanent */
	RES_ERROR,	/* network, TLS, timeout or protocol failure */
	RES_EXPECT	/* a scenario expectation was not met */
};

struct record {
	char		 started[32];	/* UTC, ISO 8601 */
	int64_t		 t0;		/* monotonic start, microseconds */
	int64_t		 t_end;		/* relative end time */
	char		*host;		/* --server as given */
	char		*port;
	char		*address;	/* address connected to */
	char		*source;	/* our "ADDR:PORT" */
	char		*helo;		/* name sent in EHLO/HELO */
	char		**resolution;	/* how the address was found */
	size_t		 nresolution;
	const char	*tls_mode;	/* "none" "starttls" ... */
	struct step	*steps;
	size_t		 nsteps;
	struct ehlo	*ehlo;		/* latest EHLO capabilities */
	struct tls_info	*tls;		/* NULL before TLS */
	struct finding	*findings;
	size_t		 nfindings;
	int		 rcpt_ok;	/* recipients accepted */
	int		 rcpt_rejected;
	enum result_status status;
	enum smtp_stage	 fail_stage;	/* stage that decided status */
	char		*message;	/* one-line summary of the result */
	char		*error;		/* what ended the session early */
	enum smtp_stage	 error_stage;
	enum fail_kind	 fail_kind;	/* kind of error, FAIL_NONE without */
	int		 connect_refused; /* FAIL_CONNECT: refused, not
					   unreachable (ECONNREFUSED) */
	struct record_check *checks;	/* --check, or NULL */
	size_t		 nchecks;
	char		*check_ip;	/* the IP the checks looked up */
	int		 checked;	/* the checks ran */
	int		 pregreet;	/* --pregreet: we talked before the
					   greeting (the first ehlo step) */
	int		 retry;		/* --retry-after, on the new session:
					   1 accepted (greylisting
					   confirmed), -1 still temp-failing,
					   -2 another failure; 0 no retry */
	char		*retry_first;	/* the first session's refusal */
	int		 retry_stage;	/* and its stage */
	int		 findings_fail;	/* --server-check found a finding of
					   severity error: exit 1 at least */
	struct record_concl *concl;	/* a scenario's conclusion, or NULL */
};

const char	*record_outcome_name(enum step_outcome);
const char	*record_status_name(enum result_status);
const char	*record_level_name(enum finding_level);
const char	*record_fail_kind_name(enum fail_kind);
int		 record_exit_code(const struct record *);

struct record	*record_new(void);
void		 record_free(struct record *);

/*
 * record_tls_of - the TLS summary of r: a shared empty one (done 0)
 * while r has none, so readers need no test
 */
const struct tls_info *record_tls_of(const struct record *);
/* record_tls - r's TLS summary to fill, made on first use */
struct tls_info *record_tls(struct record *);
struct step	*record_add_step(struct record *, enum smtp_stage, int64_t);
void		 record_add_finding(struct record *, enum finding_level,
		    const char *kind, enum smtp_stage, const char *fmt, ...)
		    __attribute__((format(printf, 5, 6)));

/*
 * record_settle - decide status, fail_stage and message from the
 * steps: an error (no usable reply) wins, then an expectation that was
 * not met, then any permanent rejection, then any temporary one. QUIT
 * never decides; a step whose expectation was met is neutral; a partial
 * RCPT rejection is a rejection. May be called again after changes.
 */
void		 record_settle(struct record *);
/* record_trim_findings - drop the findings from index n on */
void		 record_trim_findings(struct record *, size_t n);
/*
 * record_conclude - the session's named conclusion, unless it has one
 * of the same or a higher level (strings copied); the caller adds the
 * finding itself
 */
void		 record_conclude(struct record *, const struct record_concl *);
/* record_add_check - a pre-flight check result (strings copied) */
void		 record_add_check(struct record *, const char *name,
		    const char *subject, const char *zone, const char *answer,
		    const char *status, const char *evidence);
/* record_check_find - the first check named name with status (NULL:
   any status), or NULL */
const struct record_check *record_check_find(const struct record *,
		    const char *name, const char *status);
/*
 * record_set_error - the first error that ended the session wins; a
 * desync replaces any earlier error, since it casts doubt on every
 * reply before it.
 */
void		 record_set_error(struct record *, enum smtp_stage,
		    enum fail_kind, const char *);

#endif

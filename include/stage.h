/*
 * stage.h - the stages of an SMTP session: the enum, their names and
 * default timeouts. A module of its own under both the record (which
 * names the stage of each step) and the engine (which runs them), so
 * neither depends on the other for it. What each stage sends and how
 * its reply is judged lives in the engine's table (smtp.c stages[]),
 * indexed by the same enum.
 */
#ifndef SMTPROBE_STAGE_H
#define SMTPROBE_STAGE_H

/*
 * Stages, in protocol order, then the commands that may come at any
 * point (RSET, NOOP, VRFY, XCLIENT and XFORWARD outside a transaction,
 * a raw line, a pause). Invariant: within one transaction stages only
 * move forward; RSET goes back to MAIL, STARTTLS back to EHLO. The
 * numbers are not part of any output: names are (stage_name()).
 */
enum smtp_stage {
	STAGE_RESOLVE,
	STAGE_CONNECT,
	STAGE_BANNER,
	STAGE_EHLO,
	STAGE_STARTTLS,
	STAGE_AUTH,
	STAGE_MAIL,
	STAGE_RCPT,
	STAGE_DATA,
	STAGE_EOD,
	STAGE_RSET,
	STAGE_NOOP,
	STAGE_VRFY,
	STAGE_XCLIENT,		/* --xclient (then EHLO again) */
	STAGE_XFORWARD,		/* --xforward */
	STAGE_RAW,
	STAGE_SLEEP,
	STAGE_QUIT,
	STAGE_DONE,
	STAGE__COUNT
};

/* stage_name - "ehlo" ...; "?" out of range */
const char	*stage_name(enum smtp_stage);
/* stage_lookup - the stage named name (any case), -1 if none */
int		 stage_lookup(const char *name);
/* stage_timeout - the default deadline of a stage, milliseconds */
long		 stage_timeout(enum smtp_stage);
/* stage_timeout_bulk - the same for "smtprobe batch" */
long		 stage_timeout_bulk(enum smtp_stage);

#endif

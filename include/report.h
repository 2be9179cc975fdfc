/*
 * report.h - what the user reads: the live transcript, the step table
 * and result, and the JSON document. These functions only read the
 * record; none of them touches the network. Strings in the record are
 * already escaped and masked (see record.h), so nothing here can print
 * a raw server byte or a secret.
 */
#ifndef SMTPROBE_REPORT_H
#define SMTPROBE_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "record.h"
#include "smtp.h"

struct report_opts {
	int	timestamps;	/* --timestamps */
};

/* report_wire - one transcript line, marked by direction and TLS */
void	report_wire(FILE *, const struct report_opts *, enum smtp_wire,
	    int tls, int64_t t_us, const char *);
/* report_summary - step table and result line */
void	report_summary(FILE *, const struct record *);
struct verdict;
typedef struct json_t json_t;

/*
 * How every JSON document is written: indented, keys in their order,
 * and reals with 12 significant digits, so that 0.55 ms reads "0.55"
 * and not "0.55000000000000004".
 */
#define REPORT_JSON_FLAGS	(JSON_INDENT(2) | JSON_PRESERVE_ORDER | \
				    JSON_REAL_PRECISION(12))

/* report_verdict - the session's verdict, reason, evidence, advice */
void	report_verdict(FILE *, const struct record *);
void	report_verdict_text(FILE *, const struct verdict *);
/* report_json_verdict - a verdict as a JSON object (new reference) */
json_t	*report_json_verdict(const struct verdict *);
/* report_checks - the pre-flight checks (--check), if they ran */
void	report_checks(FILE *, const struct record *);
/* report_result - the result line alone */
void	report_result(FILE *, const struct record *);
struct ticket_info {
	const char	 *version;	/* tool version */
	const char	 *cmdline;	/* how to reproduce, already quoted */
	const char	**mask;		/* addresses whose local part to hide */
	size_t		  nmask;	/* 0: hide nothing */
};

/*
 * report_ticket - a report for a support desk: UTC times, version, the
 * command line, where we connected and from where, TLS, transcript
 * rebuilt from the record, verdict and advice. Secrets never reach the
 * record; local parts are hidden when ticket_info asks.
 */
void	report_ticket(FILE *, const struct record *,
	    const struct ticket_info *);
/* report_json_doc - the session's JSON document (new reference) */
json_t	*report_json_doc(const struct record *, const char *version);
/*
 * report_jw_doc - the bytes jw_value() writes for report_json_doc(r,
 * version), appended to o without building the tree (report_jw.c).
 * head 0 leaves out "schema" and "tool" (as a batch record does);
 * verdict is the record's verdict when the caller has it, or NULL.
 */
struct jw_buf;
void	report_jw_doc(struct jw_buf *, const struct record *,
	    const char *version, int head, const struct verdict *);
/* report_json - one JSON document for the session; -1 on write error */
int	report_json(FILE *, const struct record *, const char *version);

/* One scenario run against one target, for the suite outputs. */
struct scn_exec;
struct report_run {
	const char		*scenario;	/* file name or "default" */
	const char		*desc;		/* or NULL */
	const char		*target;	/* "host:port" */
	const struct scn_exec	*exec;
};

/* report_run_summary - "** scenario NAME: N passed, ..." and exit */
void	report_run_summary(FILE *, const struct report_run *);
/* report_tap - TAP version 13, one test per scenario step */
int	report_tap(FILE *, const struct report_run *, size_t);
/* report_junit - JUnit XML: a testsuite per run, a testcase per step */
int	report_junit(FILE *, const struct report_run *, size_t,
	    const char *version);
/* report_suite_json - one JSON document for scenario runs */
int	report_suite_json(FILE *, const struct report_run *, size_t,
	    const char *version, int exit_code);

#endif

/*
 * diag.h - differential probing (--diagnose): change one thing at a
 * time and compare, to confirm what a block is aimed at.
 *
 * Variants, all to the same server:
 *   one connection, one transaction each, RSET between: the user's
 *   envelope, the null sender, postmaster@ of the sender's domain, and
 *   the user's sender to postmaster@ of the recipient's domain (which
 *   RFC 5321 4.5.1 requires to be accepted);
 *   a second connection with another HELO name (an address literal
 *   instead of a name, or the host's FQDN instead of a bare word);
 *   with content: a minimal test message and the user's message, each
 *   on a connection of its own (only when asked: bodies get delivered).
 * The conclusion names the class of block and the evidence.
 */
#ifndef SMTPROBE_DIAG_H
#define SMTPROBE_DIAG_H

#include <stdio.h>

#include "scn.h"
#include "smtp.h"

struct event_base;
struct check_result;

/*
 * Each variant is a scenario (scn_classic()) run like any other; a
 * minimal message is the default test message, the user's message is
 * what run->headers, body and message make.
 */
struct diag_params {
	const struct smtp_params *conn;	/* the user's target */
	const struct scn_classic *probe; /* the user's probe */
	const struct scn_params	*run;	/* message parts, output */
	const char	*alt_helo;	/* HELO for the variant; NULL literal */
	int		 content;	/* --diagnose-content */
	const struct check_result *checks; /* pre-flight checks, or NULL */
	const char	*check_ip;	/* the IP they looked up */
};

/*
 * diag_run - run every variant on base (the caller's loop), print the
 * matrix and conclusion (human, or JSON when json is set) to fp and
 * return the exit status of the user's own envelope.
 */
int	diag_run(struct event_base *, const struct diag_params *, FILE *,
	    int json, const char *version);

#endif

/*
 * tlscheck.h - the --tls-check summary of one MX host and address:
 * protocol, cipher, the chain with expiry, the name match, the DANE
 * result, the MTA-STS result for that MX, TLS-RPT, and what a sending
 * MTA would do under each policy (opportunistic TLS, DANE, MTA-STS),
 * in text and as the "tls_check" JSON object.
 *
 * Like report.c it reads what the probe left (the record, the DANE
 * lookup, the MTA-STS and TLS-RPT results) and never touches the
 * network. Everything it is given is borrowed.
 */
#ifndef SMTPROBE_TLSCHECK_H
#define SMTPROBE_TLSCHECK_H

#include <stddef.h>
#include <stdio.h>

struct record;
struct dane_policy;
struct mtasts_result;
struct tlsrpt_result;
typedef struct json_t json_t;

struct tlscheck_target {
	const struct record	*rec;		/* the session, or NULL */
	const char		*host;		/* MX host or --server name */
	const char		*address;	/* address probed, or NULL */
	const char		*port;
	int			 pref;		/* MX preference, -1 none */
	int			 implicit;	/* --tls-on-connect */
	const struct dane_policy *dane;		/* TLSA lookup, or NULL */
	const char		*domain;	/* policy domain, or NULL */
	const struct mtasts_result *sts;	/* or NULL */
	const struct tlsrpt_result *rpt;	/* or NULL */
	const char *const	*mx_hosts;	/* the domain's MX hosts */
	size_t			 nmx_hosts;
};

/* What a sending MTA with one policy would do. */
struct tlscheck_action {
	const char	*action;	/* "deliver" "defer" "not-applicable"
					   "unknown" */
	const char	*result_type;	/* RFC 8460 result type, or NULL */
	char		 why[640];
};

struct tlscheck_policies {
	const char		*starttls;	/* "used" "implicit"
						   "not-offered" "refused"
						   "failed" "unknown" */
	const char		*sts_match;	/* the mx pattern matched */
	struct tlscheck_action	 opportunistic;
	struct tlscheck_action	 dane;
	struct tlscheck_action	 sts;
};

/* tlscheck_eval - the three policies for one target */
void	 tlscheck_eval(const struct tlscheck_target *,
	    struct tlscheck_policies *);
/* tlscheck_print - the text block ("** tls check: ...") */
void	 tlscheck_print(FILE *, const struct tlscheck_target *);
/* tlscheck_json - the "tls_check" object (new reference) */
json_t	*tlscheck_json(const struct tlscheck_target *);
/*
 * tlscheck_findings - the MTA-STS and TLS-RPT findings for the target's
 * record (sts-policy-fetch-error ... sts-mx-mismatch). Returns the
 * number added.
 */
int	 tlscheck_findings(struct record *, const struct tlscheck_target *);
/* tlscheck_notes - the domain's MTA-STS and TLS-RPT path, "** " lines */
void	 tlscheck_notes(FILE *, const struct mtasts_result *,
	    const struct tlsrpt_result *);

struct record;
struct dane_policy;

/*
 * tlscheck_dane_end - after a session that did not reach TLS: the DANE
 * finding the engine could not add (TLS was mandatory, the lookup was
 * bogus or failed). With tls_verify a failure becomes the session's
 * error (exit 3). Returns 1 when the record changed (settle it again).
 */
int		 tlscheck_dane_end(struct record *, const struct dane_policy *,
		    int tls_verify);

#endif

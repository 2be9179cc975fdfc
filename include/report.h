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
/* report_result - the result line alone */
void	report_result(FILE *, const struct record *);
/* report_json - one JSON document for the session; -1 on write error */
int	report_json(FILE *, const struct record *, const char *version);

#endif

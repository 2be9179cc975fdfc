/*
 * stage.c - stage names and default timeouts (see include/stage.h).
 *
 * Default timeouts are below the RFC 5321 4.5.3.2 ceilings (5 min for
 * the greeting, MAIL and RCPT, 10 min after the final dot): a probe
 * wants an answer, and every one of them can be changed by --timeout.
 * Stages that wait for nothing have none (0). "smtprobe batch" has
 * shorter defaults of its own (stage_timeout_bulk()).
 */
#include "config.h"

#include <strings.h>

#include "stage.h"
#include "util.h"


static const struct {
	const char	*name;
	long		 timeout_ms;	/* the probe's default */
	long		 bulk_ms;	/* "smtprobe batch"'s: shorter, as one
					   slow server must not hold a bulk run */
} stages[] = {
	[STAGE_RESOLVE] = { "resolve", 30000, 0 },
	[STAGE_CONNECT] = { "connect", 30000, 10000 },
	[STAGE_BANNER] = { "banner", 60000, 30000 },
	[STAGE_EHLO] = { "ehlo", 60000, 30000 },
	[STAGE_STARTTLS] = { "starttls", 60000, 30000 },
	[STAGE_AUTH] = { "auth", 60000, 30000 },
	[STAGE_MAIL] = { "mail", 60000, 30000 },
	[STAGE_RCPT] = { "rcpt", 60000, 30000 },
	[STAGE_DATA] = { "data", 60000, 30000 },
	[STAGE_EOD] = { "eod", 300000, 60000 },
	[STAGE_RSET] = { "rset", 30000, 30000 },
	[STAGE_NOOP] = { "noop", 30000, 30000 },
	[STAGE_VRFY] = { "vrfy", 30000, 30000 },
	[STAGE_XCLIENT] = { "xclient", 60000, 30000 },
	[STAGE_XFORWARD] = { "xforward", 60000, 30000 },
	[STAGE_RAW] = { "send", 30000, 30000 },
	[STAGE_SLEEP] = { "sleep", 0, 0 },
	[STAGE_QUIT] = { "quit", 10000, 10000 },
	[STAGE_DONE] = { "done", 0, 0 },
};
_Static_assert(nitems(stages) == STAGE__COUNT, "stage names incomplete");

const char *
stage_name(enum smtp_stage st)
{
	return st >= 0 && st < STAGE__COUNT ? stages[st].name : "?";
}

int
stage_lookup(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(stages); i++)
		if (strcasecmp(name, stages[i].name) == 0)
			return (int)i;
	return -1;
}

long
stage_timeout(enum smtp_stage st)
{
	return st >= 0 && st < STAGE__COUNT ? stages[st].timeout_ms : 0;
}

long
stage_timeout_bulk(enum smtp_stage st)
{
	return st >= 0 && st < STAGE__COUNT ? stages[st].bulk_ms : 0;
}

/*
 * fuzz_dsn.c - bounce messages for "smtprobe explain" (dsn_parse).
 * FUZZ-OPTIONS: -max_len=100000
 *
 * The input is a whole bounce, any bytes, as explain reads it from a
 * file. Every item is checked against what dsn.h promises, then
 * classified with verdict_reply() exactly as explain does; the stage
 * phrase finder runs on the input too.
 */
#include "config.h"

#include <string.h>

#include "dsn.h"
#include "fuzz.h"
#include "log.h"
#include "record.h"
#include "verdict.h"

static void	 check_str(const char *);

/* check_str - a dsn string: NULL, or printable and bounded */
static void
check_str(const char *s)
{
	if (s == NULL)
		return;
	FUZZ_CHECK(fuzz_printable(s));
	FUZZ_CHECK(strlen(s) <= 4 * DSN_MAX_STR);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dsn	*d;
	struct verdict	 v;
	char		*text;
	size_t		 i;
	int		 st;

	d = dsn_parse((const char *)data, size);
	FUZZ_CHECK(d != NULL);
	FUZZ_CHECK(d->nitems <= DSN_MAX_ITEMS);
	check_str(d->reporting_mta);
	for (i = 0; i < d->nitems; i++) {
		const struct dsn_item *it = &d->items[i];

		check_str(it->recipient);
		check_str(it->action);
		check_str(it->status);
		check_str(it->remote_mta);
		check_str(it->reply);
		FUZZ_CHECK(it->stage >= -1 && it->stage < STAGE__COUNT);
		FUZZ_CHECK(it->code == 0 || (it->code >= 200 &&
		    it->code <= 599));
		/* as explain_main() does */
		verdict_reply(it->stage, it->code, it->status,
		    it->reply != NULL ? it->reply : "", &v);
		FUZZ_CHECK(v.class != NULL && v.reason != NULL &&
		    v.rule != NULL && v.advice != NULL);
		(void)verdict_enhanced_meaning(v.enhanced);
	}
	dsn_free(d);

	text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	st = dsn_stage_from_text(text);
	FUZZ_CHECK(st >= -1 && st < STAGE__COUNT);
	free(text);
	return 0;
}

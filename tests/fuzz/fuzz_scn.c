/*
 * fuzz_scn.c - the scenario parser (scn_parse) on arbitrary text.
 * FUZZ-OPTIONS: -max_len=16384
 *
 * Whatever the bytes, the parser returns a scenario or an error naming
 * the file and line; a scenario that parses holds only steps whose
 * strings can go on the wire as the language promises: no CR, LF or
 * NUL outside "send" and "data raw", addresses within the RFC limit,
 * an expectation that matches or not without crashing on a made-up
 * reply. The default scenario builder is checked on the same steps.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "log.h"
#include "msg.h"
#include "reply.h"
#include "scn.h"
#include "util.h"
#include "valid.h"

/* 1 while the input holds the word "raw" anywhere (any case) */
static int	raw_seen;

static int
has_raw(const uint8_t *d, size_t n)
{
	size_t	 i;

	for (i = 0; i + 3 <= n; i++)
		if (strncasecmp((const char *)d + i, "raw", 3) == 0)
			return 1;
	return 0;
}

static void
check_step(const struct scn_step *st)
{
	const char	*why;

	FUZZ_CHECK(st->op >= 0 && st->op < SCN__COUNT);
	FUZZ_CHECK(st->line > 0);
	if (st->arg != NULL && st->op != SCN_SEND)
		FUZZ_CHECK(util_check_text(st->arg, 0, &why) == 0);
	if (st->params != NULL)
		FUZZ_CHECK(util_check_text(st->params, 0, &why) == 0);
	if (st->op == SCN_MAIL || st->op == SCN_RCPT) {
		char	 err[256], *again;

		/*
		 * "mail raw ADDRESS" may go past the RFC's 256 octets (up
		 * to VALID_MAX_RAW, to test a server's limit); without
		 * raw the path must hold the RFC's limit.
		 */
		FUZZ_CHECK(st->arg != NULL);
		again = valid_address(st->arg, VALID_RAW | VALID_NULL_OK,
		    err, sizeof(err));
		FUZZ_CHECK(again != NULL && strlen(again) <= VALID_MAX_RAW);
		free(again);
		if (!raw_seen)
			FUZZ_CHECK(strlen(st->arg) + 2 <= VALID_MAX_PATH);
	}
	if (st->op == SCN_RCPT)
		FUZZ_CHECK(st->arg[0] != '\0');
	if (st->op == SCN_SEND)
		FUZZ_CHECK(st->arg != NULL && memchr(st->arg, '\0',
		    strlen(st->arg) + 1) == st->arg + strlen(st->arg));
	if (st->op == SCN_SLEEP)
		FUZZ_CHECK(st->ms >= 0 && st->ms <= 3600000);
	if (st->body != NULL)
		FUZZ_CHECK(st->body[st->bodylen] == '\0');
	if (st->expect != NULL)
		FUZZ_CHECK(st->expect->nmatch > 0 &&
		    st->expect->nmatch <= SCN_MAX_MATCH &&
		    st->expect->spec != NULL && st->expect->want != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const replies[] = {
		"250 2.1.5 Ok", "550 5.1.1 <a@b>: User unknown",
		"421 4.7.0 try later", "354 go ahead",
	};
	struct scn_vars	 v;
	struct scn	*s, *copy;
	struct record	 rec;
	struct step	 step;
	const char	*err2;
	char		 err[512], got[256];
	size_t		 i;

	log_init("fuzz_scn", -1);
	raw_seen = has_raw(data, size);
	memset(&v, 0, sizeof(v));
	scn_vars_set(&v, "from", "a@probe.test");
	scn_vars_set(&v, "to", "b@fake.test");
	scn_vars_set(&v, "helo", "probe.test");
	err[0] = '\0';
	s = scn_parse("fuzz.scn", (const char *)data, size, &v, err,
	    sizeof(err));
	if (s == NULL) {
		/* an error names the file and a line */
		FUZZ_CHECK(strncmp(err, "fuzz.scn:", 9) == 0);
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		scn_vars_clear(&v);
		return 0;
	}
	memset(&rec, 0, sizeof(rec));
	copy = scn_new("copy");
	for (i = 0; i < s->nsteps; i++) {
		check_step(&s->steps[i]);
		scn_add(copy, &s->steps[i]);
		if (s->steps[i].expect != NULL) {
			memset(&step, 0, sizeof(step));
			step.stage = STAGE_RCPT;
			step.outcome = (enum step_outcome)(i % OUT__COUNT);
			step.reply = reply_new();
			reply_feed(step.reply, replies[i % 4],
			    strlen(replies[i % 4]), 0, &err2);
			rec.steps = &step;
			rec.nsteps = 1;
			(void)scn_expect_match(s->steps[i].expect, &rec,
			    &step, got, sizeof(got));
			FUZZ_CHECK(memchr(got, '\0', sizeof(got)) != NULL);
			reply_free(step.reply);
		}
	}
	/* a copy (as the runner keeps) is the same scenario */
	FUZZ_CHECK(copy->nsteps == s->nsteps);
	for (i = 0; i < copy->nsteps; i++) {
		FUZZ_CHECK(copy->steps[i].op == s->steps[i].op);
		FUZZ_CHECK(copy->steps[i].bodylen == s->steps[i].bodylen);
		check_step(&copy->steps[i]);
	}
	scn_free(copy);
	scn_free(s);
	scn_vars_clear(&v);
	return 0;
}

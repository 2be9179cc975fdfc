/*
 * fuzz_verdict.c - the classification of arbitrary text, as
 * "smtprobe explain" runs it (verdict_reply).
 * FUZZ-OPTIONS: -max_len=8192
 *
 * The first byte picks the stage (or "unknown", as explain without
 * --stage); the rest is the reply text. It is classified three ways:
 * as explain does (escaped first, the code read from its first three
 * digits), raw with whatever code the bytes hold, and with an enhanced
 * code taken from the text as a bounce's Status: field would give it.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "log.h"
#include "record.h"
#include "util.h"
#include "verdict.h"

static void	 check_verdict(const struct verdict *, int, int,
		    const char *);

/*
 * check_verdict - every verdict has a class, reason, rule and advice,
 * and the rule that won matches the same reply when asked alone
 */
static void
check_verdict(const struct verdict *v, int stage, int code,
    const char *text)
{
	const char	*cls;

	FUZZ_CHECK(v->class != NULL && v->reason != NULL);
	FUZZ_CHECK(v->rule != NULL && v->advice != NULL);
	FUZZ_CHECK(v->advice[0] != '\0');
	FUZZ_CHECK(v->confidence >= 0 && v->confidence <= 100);
	FUZZ_CHECK(v->stage == stage);
	FUZZ_CHECK(memchr(v->enhanced, '\0', sizeof(v->enhanced)) != NULL);
	FUZZ_CHECK(memchr(v->words, '\0', sizeof(v->words)) != NULL);
	FUZZ_CHECK(v->code == code);
	if (strcmp(v->rule, "none") != 0) {
		cls = NULL;
		FUZZ_CHECK(verdict_rule_matches(v->rule, stage, code,
		    v->enhanced, text, &cls) == 1);
		FUZZ_CHECK(cls != NULL && strcmp(cls, v->class) == 0);
	}
	(void)verdict_enhanced_meaning(v->enhanced);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct verdict	 v;
	char		*text, *safe, enh[16];
	int		 stage, code;
	size_t		 n;

	if (size < 1)
		return 0;
	stage = data[0] % (STAGE__COUNT + 1) - 1;
	text = xmalloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';

	/* explain: escaped text, code from its first three digits */
	safe = util_escape((const char *)data + 1, size - 1);
	code = 0;
	if (strlen(safe) >= 3 && safe[0] >= '2' && safe[0] <= '5' &&
	    safe[1] >= '0' && safe[1] <= '9' && safe[2] >= '0' &&
	    safe[2] <= '9')
		code = (safe[0] - '0') * 100 + (safe[1] - '0') * 10 +
		    (safe[2] - '0');
	verdict_reply(stage, code, NULL, safe, &v);
	check_verdict(&v, stage, code, safe);
	free(safe);

	/* raw text, any code */
	code = size > 2 ? (data[1] << 8 | data[2]) % 1000 : 0;
	verdict_reply(stage, code, NULL, text, &v);
	check_verdict(&v, stage, code, text);

	/* an enhanced code from outside the text (a DSN Status: field) */
	n = strcspn(text, " ");
	if (n >= sizeof(enh))
		n = sizeof(enh) - 1;
	memcpy(enh, text, n);
	enh[n] = '\0';
	verdict_reply(stage, code, enh, text, &v);
	check_verdict(&v, stage, code, text);
	free(text);
	return 0;
}

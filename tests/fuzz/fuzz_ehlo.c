/*
 * fuzz_ehlo.c - EHLO keyword parsing (reply_ehlo_parse).
 * FUZZ-OPTIONS: -max_len=20000
 *
 * Two shapes of input. One that starts with three digits is the raw
 * reply, cut at LF as probe/wire/io.c does and fed to reply_feed(); the EHLO
 * parser then runs on whatever reply that made, finished or refused.
 * Any other input is a list of extension lines: each gets "250-" (the
 * last "250 ") so that the reply is well formed and the fuzzer spends
 * its time on the keywords and their parameters.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "fuzz.h"
#include "log.h"
#include "reply.h"

static void	 check_ehlo(const struct reply *);

static const char *kws[] = { "SIZE", "PIPELINING", "STARTTLS", "AUTH",
	"8BITMIME", "CHUNKING", "SMTPUTF8", "DSN", "REQUIRETLS",
	"ENHANCEDSTATUSCODES", "size", "auth", "", "X-EXPS", NULL };

/* check_ehlo - parse r as an EHLO reply and check what came out */
static void
check_ehlo(const struct reply *r)
{
	struct ehlo	*e;
	const char	*q;
	size_t		 i, j;

	e = reply_ehlo_parse(r);
	FUZZ_CHECK(e != NULL && e->domain != NULL);
	FUZZ_CHECK(fuzz_printable(e->domain));
	FUZZ_CHECK(e->next + e->invalid <= (r->nlines > 0 ?
	    r->nlines - 1 : 0));
	for (i = 0; i < e->next; i++) {
		const char *k = e->ext[i].keyword;

		FUZZ_CHECK(k != NULL && k[0] != '\0');
		FUZZ_CHECK(isalnum((unsigned char)k[0]));
		for (q = k; *q != '\0'; q++)
			FUZZ_CHECK(isupper((unsigned char)*q) ||
			    isdigit((unsigned char)*q) || *q == '-');
		FUZZ_CHECK(e->ext[i].params != NULL &&
		    fuzz_printable(e->ext[i].params));
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(e->ext[j].keyword, k) != 0);
		FUZZ_CHECK(reply_ehlo_param(e, k) == e->ext[i].params);
	}
	for (i = 0; kws[i] != NULL; i++)
		FUZZ_CHECK(reply_ehlo_has(e, kws[i]) ==
		    (reply_ehlo_param(e, kws[i]) != NULL));
	FUZZ_CHECK(reply_ehlo_param(NULL, "SIZE") == NULL);
	reply_ehlo_free(e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data, *end = p + size, *lf, *err;
	struct reply	*r = reply_new();
	char		*line;
	size_t		 n;
	int		 bare, raw;

	raw = size >= 3 && isdigit(data[0]) && isdigit(data[1]) &&
	    isdigit(data[2]);
	while (p < end) {
		lf = memchr(p, '\n', (size_t)(end - p));
		if (lf == NULL)
			lf = end;	/* the last line, also without LF */
		n = (size_t)(lf - p);
		if (n > 4097)
			break;		/* io.c: "line too long" */
		bare = !(n > 0 && p[n - 1] == '\r');
		if (!bare)
			n--;
		err = NULL;
		if (raw) {
			if (reply_feed(r, p, n, bare, &err) != REPLY_MORE)
				break;
		} else {
			line = xmalloc(n + 5);
			memcpy(line, lf + 1 < end ? "250-" : "250 ", 4);
			memcpy(line + 4, p, n);
			if (reply_feed(r, line, n + 4, bare, &err) !=
			    REPLY_MORE) {
				free(line);
				break;
			}
			free(line);
		}
		p = lf + 1;
	}
	check_ehlo(r);
	reply_free(r);
	return 0;
}

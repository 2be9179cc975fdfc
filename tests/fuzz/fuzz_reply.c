/*
 * fuzz_reply.c - SMTP reply parsing, as the I/O layer feeds it.
 * FUZZ-OPTIONS: -max_len=70000
 *
 * The input is the server's byte stream. It is cut into lines at LF as
 * probe/wire/io.c does: a CR before the LF is removed, its absence is a bare
 * LF, and a line longer than the cap ends the session (io.c reports
 * "line too long"); bytes after the last LF are never delivered. Each
 * line goes to reply_feed(); a finished or refused reply is checked
 * and replaced by a new one, as the engine does for the next command.
 * The first byte picks the line cap (--max-line), so short caps and
 * the default are both explored.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "reply.h"

static void	 check_reply(const struct reply *, enum reply_status,
		    const char *);

static const size_t caps[] = { 4096, 512, 80, 65536 };

/* check_reply - what reply.h promises about a reply it handed back */
static void
check_reply(const struct reply *r, enum reply_status st, const char *err)
{
	char	 enh[16];
	size_t	 i;

	FUZZ_CHECK(r->nlines <= REPLY_MAX_LINES);
	for (i = 0; i < r->nlines; i++) {
		FUZZ_CHECK(r->lines[i] != NULL);
		FUZZ_CHECK(fuzz_printable(r->lines[i]));
		(void)reply_text(r, i);
	}
	FUZZ_CHECK(reply_text(r, r->nlines) != NULL);
	if (st == REPLY_ERROR) {
		FUZZ_CHECK(err != NULL && err[0] != '\0');
		return;
	}
	FUZZ_CHECK(st == REPLY_DONE);
	FUZZ_CHECK(r->code >= 200 && r->code <= 559);
	FUZZ_CHECK(reply_class(r) == r->code / 100);
	FUZZ_CHECK(r->bytes <= REPLY_MAX_BYTES);
	if (r->enhanced[0] != '\0') {
		FUZZ_CHECK(r->enhanced[0] - '0' == r->code / 100);
		FUZZ_CHECK(reply_enhanced_parse(r->enhanced, enh) ==
		    strlen(r->enhanced));
		FUZZ_CHECK(strcmp(enh, r->enhanced) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p, *end, *lf, *err;
	struct reply	*r;
	enum reply_status st;
	size_t		 cap, n;
	int		 bare;

	if (size < 1)
		return 0;
	cap = caps[data[0] % (sizeof(caps) / sizeof(caps[0]))];
	p = (const char *)data + 1;
	end = (const char *)data + size;
	r = reply_new();
	while (p < end) {
		lf = memchr(p, '\n', (size_t)(end - p));
		if (lf == NULL || (size_t)(lf - p) > cap + 1)
			break;		/* not delivered, or "line too long" */
		n = (size_t)(lf - p);
		bare = !(n > 0 && p[n - 1] == '\r');
		if (!bare)
			n--;
		err = NULL;
		st = reply_feed(r, p, n, bare, &err);
		if (st != REPLY_MORE) {
			check_reply(r, st, err);
			reply_free(r);
			r = reply_new();
		}
		p = lf + 1;
	}
	reply_free(r);
	return 0;
}

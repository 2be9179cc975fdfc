/*
 * reply.c - SMTP reply and EHLO keyword parsing.
 *
 * Exports reply_new/reply_free/reply_feed and the reply_ehlo_* family
 * (include/reply.h). Rules enforced here, each a REPLY_ERROR:
 *   - every line starts with three digits, the first 2..5 and the
 *     second 0..5 (RFC 5321 4.2.1);
 *   - the code is followed by " ", "-" or the end of the line;
 *   - continuation lines repeat the code of the first line; a last
 *     line with another code ends the reply with that code
 *     (first_code keeps the old one);
 *   - at most REPLY_MAX_LINES lines and REPLY_MAX_BYTES bytes.
 * A bare LF or binary bytes are recorded, not refused: they are
 * findings about the server, and the reply is still usable.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "reply.h"
#include "util.h"

struct reply *
reply_new(void)
{
	return xcalloc(1, sizeof(struct reply));
}

void
reply_free(struct reply *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nlines; i++)
		free(r->lines[i]);
	free(r->lines);
	free(r);
}

int
reply_class(const struct reply *r)
{
	return r == NULL || r->code == 0 ? 0 : r->code / 100;
}

size_t
reply_enhanced_parse(const char *t, char *out)
{
	size_t	 i = 0, n;
	int	 part;

	if (t[0] != '2' && t[0] != '4' && t[0] != '5')
		return 0;
	if (t[1] != '.')
		return 0;
	i = 2;
	for (part = 0; part < 2; part++) {
		for (n = 0; isdigit((unsigned char)t[i]); i++, n++)
			;
		if (n == 0 || n > 3)
			return 0;
		if (part == 0) {
			if (t[i] != '.')
				return 0;
			i++;
		}
	}
	if (t[i] != '\0' && t[i] != ' ')
		return 0;
	memcpy(out, t, i);
	out[i] = '\0';
	return i;
}

const char *
reply_text(const struct reply *r, size_t i)
{
	const char	*l;

	if (r == NULL || i >= r->nlines)
		return "";
	l = r->lines[i];
	if (strlen(l) <= 4)
		return "";
	/* a malformed line may have a UTF-8 sequence there: not in it */
	for (l += 4; ((unsigned char)*l & 0xc0) == 0x80; l++)
		;
	return l;
}

enum reply_status
reply_feed(struct reply *r, const char *line, size_t len, int bare_lf,
    const char **err)
{
	int	 code, last;
	size_t	 i;

	r->bytes += len + (bare_lf ? 1 : 2);
	if (bare_lf)
		r->bare_lf = 1;
	for (i = 0; i < len; i++)
		if (line[i] == '\0' || (unsigned char)line[i] == 0x7f ||
		    ((unsigned char)line[i] < 0x20 && line[i] != '\t'))
			r->binary = 1;

	if (r->nlines >= REPLY_MAX_LINES) {
		*err = "reply has too many lines";
		return REPLY_ERROR;
	}
	if (r->bytes > REPLY_MAX_BYTES) {
		*err = "reply is too large";
		return REPLY_ERROR;
	}
	r->lines = xreallocarray(r->lines, r->nlines + 1, sizeof(char *));
	r->lines[r->nlines++] = util_escape(line, len);

	if (len < 3 || !isdigit((unsigned char)line[0]) ||
	    !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2])) {
		*err = "malformed reply: line does not start with a 3-digit code";
		return REPLY_ERROR;
	}
	if (line[0] < '2' || line[0] > '5' || line[1] > '5') {
		*err = "malformed reply: code out of the range RFC 5321 allows";
		return REPLY_ERROR;
	}
	if (len > 3 && line[3] != ' ' && line[3] != '-') {
		*err = "malformed reply: code not followed by space or hyphen";
		return REPLY_ERROR;
	}
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	last = len == 3 || line[3] == ' ';
	if (r->nlines == 1)
		r->code = code;
	else if (code != r->code && last) {
		/*
		 * A final line with another code ends the reply with that
		 * code: Postfix's postscreen sends a "220-" teaser, then
		 * "521 5.7.1 ..." and closes. The caller notes it.
		 */
		r->first_code = r->code;
		r->code = code;
	} else if (code != r->code) {
		*err = "malformed reply: continuation line with a different code";
		return REPLY_ERROR;
	}
	if (!last)
		return REPLY_MORE;

	/* RFC 2034: the enhanced code opens the text of each line; after a
	   change of code, of the line that brought it */
	if (reply_enhanced_parse(reply_text(r, r->first_code != 0 ?
	    r->nlines - 1 : 0), r->enhanced) != 0 &&
	    r->enhanced[0] - '0' != r->code / 100)
		r->enhanced[0] = '\0';
	return REPLY_DONE;
}

struct ehlo *
reply_ehlo_parse(const struct reply *r)
{
	struct ehlo	*e;
	const char	*t, *p;
	char		*kw;
	size_t		 i, n;

	e = xcalloc(1, sizeof(*e));
	t = reply_text(r, 0);
	n = strcspn(t, " ");
	e->domain = xstrndup(t, n);
	for (i = 1; i < r->nlines; i++) {
		t = reply_text(r, i);
		n = strcspn(t, " =");
		if (n == 0 || !isalnum((unsigned char)t[0])) {
			e->invalid++;
			continue;
		}
		for (p = t; p < t + n; p++)
			if (!isalnum((unsigned char)*p) && *p != '-')
				break;
		if (p != t + n) {
			e->invalid++;
			continue;
		}
		kw = xstrndup(t, n);
		for (p = kw; *p != '\0'; p++)
			kw[p - kw] = (char)toupper((unsigned char)*p);
		p = t + n;
		while (*p == ' ' || *p == '=')
			p++;
		if (reply_ehlo_has(e, kw)) {
			/* "AUTH=LOGIN" beside "AUTH LOGIN PLAIN": keep the first */
			free(kw);
			continue;
		}
		e->ext = xreallocarray(e->ext, e->next + 1, sizeof(*e->ext));
		e->ext[e->next].keyword = kw;
		e->ext[e->next].params = xstrdup(p);
		e->next++;
	}
	return e;
}

void
reply_ehlo_free(struct ehlo *e)
{
	size_t	 i;

	if (e == NULL)
		return;
	for (i = 0; i < e->next; i++) {
		free(e->ext[i].keyword);
		free(e->ext[i].params);
	}
	free(e->ext);
	free(e->domain);
	free(e);
}

const char *
reply_ehlo_param(const struct ehlo *e, const char *kw)
{
	size_t	 i;

	if (e == NULL)
		return NULL;
	for (i = 0; i < e->next; i++)
		if (strcasecmp(e->ext[i].keyword, kw) == 0)
			return e->ext[i].params;
	return NULL;
}

int
reply_ehlo_has(const struct ehlo *e, const char *kw)
{
	return reply_ehlo_param(e, kw) != NULL;
}

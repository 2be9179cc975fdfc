/*
 * reply.h - SMTP reply parsing (RFC 5321 4.2, RFC 3463/2034 enhanced
 * status codes) and EHLO keyword parsing (RFC 5321 4.1.1.1).
 *
 * A reply is built line by line with reply_feed() from lines that the
 * I/O layer has already cut at LF with a hard length cap. Lines are
 * stored in escaped form (see util_escape()), so every string that
 * leaves this module is printable and safe to show or put into JSON.
 *
 * Ownership: reply_new() allocates, reply_free() frees everything
 * (reply_free(NULL) is a no-op). The same holds for the ehlo pair.
 */
#ifndef SMTPROBE_REPLY_H
#define SMTPROBE_REPLY_H

#include <stddef.h>

#define REPLY_MAX_LINES		256	/* continuation lines per reply */
#define REPLY_MAX_BYTES		65536	/* bytes per reply, all lines */

enum reply_status {
	REPLY_ERROR = -1,	/* malformed; see the err argument */
	REPLY_MORE = 0,		/* need more lines */
	REPLY_DONE = 1		/* last line seen */
};

struct reply {
	int	  code;		/* basic code, 200..559 */
	char	  enhanced[16];	/* "5.1.1", or "" when none on line 1 */
	char	**lines;	/* each line, escaped, CR/LF removed */
	size_t	  nlines;
	size_t	  bytes;	/* raw bytes received, line ends included */
	int	  bare_lf;	/* a line ended in LF without CR */
	int	  binary;	/* a line held NUL or other non-text */
	int	  first_code;	/* code of the first line when the last
				   line's differs (postscreen's "220-"
				   teaser, then "521 ..."), else 0 */
};

struct reply	*reply_new(void);
void		 reply_free(struct reply *);

/*
 * reply_feed - add one raw line (without its line end). Returns
 * REPLY_MORE, REPLY_DONE or REPLY_ERROR with *err set to a static
 * message. After REPLY_ERROR the reply keeps the lines seen so far.
 */
enum reply_status reply_feed(struct reply *, const char *, size_t, int bare_lf,
		    const char **err);

/* reply_class - first digit of the code (2, 3, 4, 5), 0 when unset */
int		 reply_class(const struct reply *);

/*
 * reply_enhanced_parse - parse an RFC 3463 code at the start of text
 * ("5.1.1 ..."). On success copies it into out (size >= 16) and
 * returns its length; returns 0 when there is none.
 */
size_t		 reply_enhanced_parse(const char *, char *out);

/*
 * reply_text - the text after "NNN-" / "NNN " of line i ("" if none);
 * on a malformed line, from the first whole character after 4 bytes
 */
const char	*reply_text(const struct reply *, size_t);

/* EHLO extensions, from the lines after the first of a 250 reply. */
struct ehlo_ext {
	char	*keyword;	/* upper case */
	char	*params;	/* "" when none */
};

struct ehlo {
	char		*domain;	/* first word of the first line */
	struct ehlo_ext	*ext;
	size_t		 next;
	size_t		 invalid;	/* lines that were not keywords */
};

struct ehlo	*reply_ehlo_parse(const struct reply *);
void		 reply_ehlo_free(struct ehlo *);
/* reply_ehlo_param - params of keyword kw, "" if none, NULL if absent */
const char	*reply_ehlo_param(const struct ehlo *, const char *kw);
int		 reply_ehlo_has(const struct ehlo *, const char *kw);

#endif

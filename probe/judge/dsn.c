/*
 * dsn.c - bounce message (delivery status notification) parser.
 *
 * Exports dsn_parse(), dsn_free() and dsn_stage_from_text()
 * (include/dsn.h). The input is never modified and never taken to be
 * NUL-terminated: it is cut into lines (struct span: pointer and
 * length) and every search is bounded by those lengths, so NUL bytes,
 * missing newlines and endless lines are harmless. Decoded part
 * bodies (quoted-printable, base64) are private copies, freed as soon
 * as the part has been read.
 *
 * Two sources feed the result:
 *   - the message/delivery-status part (RFC 3464): one record per
 *     recipient field group, in ctx.dsn;
 *   - the text/plain parts, read line by line by one recogniser per
 *     dialect (Postfix/qmail/Sendmail "<addr>" paragraphs, Sendmail
 *     transcripts, Gmail, Exchange, Exim), in ctx.txt; these carry
 *     the SMTP stage, which the DSN part never states.
 * dsn_merge() then combines them per recipient: DSN fields win, the
 * text fills in the stage and anything else left empty.
 *
 * Records own their strings; every string is made with mkstr() or
 * norm_reply(), which collapse white space (this also unfolds header
 * continuation lines) and then apply util_escape().
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dsn.h"
#include "log.h"
#include "record.h"
#include "reply.h"
#include "util.h"

#define DSN_SCAN_MAX	65536	/* bytes of a line or paragraph searched */
#define DSN_SM_QUEUE	64	/* Sendmail commands awaiting a reply */

struct span {
	const char	*p;
	size_t		 len;
};

struct lines {
	struct span	*v;
	size_t		 n;
};

struct mime {
	char	 type[64];	/* lower case "type/subtype", "" if none */
	char	 bnd[256];	/* boundary */
	size_t	 bndlen;	/* 0: none */
	char	 cte[32];	/* lower case transfer encoding, "" if none */
};

/* One recipient as seen by one source; it owns its strings. */
struct rec {
	struct dsn_item	 it;
	char		*orcpt;		/* second address to match on */
	int		 keep;		/* no address, but says something new */
};

struct reclist {
	struct rec	*v;
	size_t		 n;
	size_t		 cap;
	int		 full;		/* a record was refused: DSN_MAX_ITEMS */
};

/* Fields of one RFC 3464 group; p == NULL when absent. */
struct group {
	struct span	 rmta;
	struct span	 frcpt;
	struct span	 orcpt;
	struct span	 action;
	struct span	 status;
	struct span	 remote;
	struct span	 diag;
};

/* Sendmail transcript state ("... while talking to", ">>>", "<<<"). */
struct sm {
	char		*host;
	int		 q[DSN_SM_QUEUE];	/* stages awaiting a reply */
	struct span	 qrcpt[DSN_SM_QUEUE];	/* RCPT address of each */
	size_t		 qn;
	int		 last;		/* stage of the last answered command */
	int		 sawcmd;	/* a ">>>" line in this session */
	int		 rcptfail;	/* a RCPT was refused */
	int		 failed;	/* a non-RCPT failure was recorded */
};

struct ctx {
	struct reclist	 dsn;		/* from message/delivery-status */
	struct reclist	 txt;		/* from the human-readable text */
	char		*reporting_mta;
	int		 saw_dsn;	/* a delivery-status part was seen */
	size_t		 nparts;
	unsigned	 truncated;	/* DSN_TRUNC_PARTS, DSN_TRUNC_DEPTH */
};

struct phrase {
	const char	*s;
	int		 stage;
};

static int	 lc(int);
static int	 isws(int);
static int	 ci_prefix(const char *, size_t, const char *);
static const char *ci_find(const char *, size_t, const char *);
static const char *ci_rfind(const char *, size_t, const char *);
static const char *mem_rchr(const char *, int, size_t);
static struct span trim(const char *, size_t);
static int	 blank(const struct span *);
static char	*collapse(const char *, size_t, size_t, size_t *);
static char	*mkstr(const char *, size_t);
static size_t	 enh_at(const char *, size_t, char *);
static int	 code_at(const char *, size_t);
static char	*norm_reply(const char *, size_t);
static char	*addr_clean(const char *, size_t);
static char	*token_addr(const char *, size_t);
static char	*angle_addr(const char *);
static char	*mta_host(const char *, size_t);
static size_t	 host_at(const char *, size_t, struct span *);
static char	*host_in(const char *, size_t);
static int	 stage_word(const char *, size_t, int);
static int	 stage_span(const char *, size_t);
static void	 lines_split(const char *, size_t, struct lines *);
static char	*qp_decode(const char *, size_t, size_t *);
static int	 hexval(int);
static int	 hdr_name(const struct span *, size_t *);
static size_t	 field_end(const struct span *, size_t, size_t);
static struct span field_value(const struct span *, size_t, size_t);
static void	 ctype_parse(struct mime *, struct span);
static size_t	 parse_headers(const struct span *, size_t, struct mime *);
static void	 part_lines(const struct span *, size_t, const char *,
		    struct lines *, char **);
static void	 walk(struct ctx *, const struct span *, size_t, int);
static int	 walk_multipart(struct ctx *, const struct span *, size_t,
		    const struct mime *, int);
static void	 read_human(struct ctx *, const struct span *, size_t,
		    const char *);
static void	 read_dsn(struct ctx *, const struct span *, size_t,
		    const char *);
static void	 dsn_fields(struct ctx *, const struct span *, size_t, int);
static void	 group_flush(struct ctx *, struct group *);
static struct rec *rec_add(struct reclist *);
static void	 rec_clear(struct rec *);
static int	 rec_match(const struct rec *, const struct rec *);
static void	 rec_take(struct rec *, struct rec *);
static int	 rec_copy(struct rec *, const struct rec *);
static void	 txt_add(struct ctx *, struct rec *);
static int	 is_cut(const struct span *);
static void	 human(struct ctx *, const struct span *, size_t);
static size_t	 rx_sendmail(struct ctx *, const struct span *, size_t,
		    size_t, struct sm *);
static void	 sm_reply(struct ctx *, struct sm *, const char *, size_t);
static size_t	 rx_angle(struct ctx *, const struct span *, size_t, size_t);
static size_t	 rx_gmail(struct ctx *, const struct span *, size_t, size_t);
static size_t	 rx_exchange(struct ctx *, const struct span *, size_t,
		    size_t);
static size_t	 rx_exim(struct ctx *, const struct span *, size_t, size_t);
static void	 exim_reply(struct rec *, const char *, size_t);
static char	*back_rcpt(const struct span *, size_t, const char *, int);
static void	 dsn_merge(struct ctx *, struct dsn *);
static void	 finish(struct dsn_item *);

/* Phrases that name a stage by themselves. */
static const struct phrase stage_whole[] = {
	{ "refused to talk to me", STAGE_BANNER },
	{ "initial protocol greeting", STAGE_BANNER },
	{ "initial server greeting", STAGE_BANNER },
	{ "greeting failed", STAGE_BANNER },
	{ "does not like recipient", STAGE_RCPT },
	{ "sender was rejected", STAGE_MAIL },
	{ "my name was rejected", STAGE_EHLO },
	{ "failed on DATA command", STAGE_DATA },
	{ "failed after I sent the message", STAGE_EOD },
};

/* Phrases followed by a command word; stage 1: "." means end of data. */
static const struct phrase stage_lead[] = {
	{ "in reply to ", 0 },
	{ "after pipelined ", 0 },
	{ "after ", 0 },
	{ "while sending ", 0 },
	{ "while performing the ", 0 },
	{ ">>> ", 1 },
};

/* Command words; longer ones first where one is a prefix of another. */
static const struct phrase stage_words[] = {
	{ "end of DATA", STAGE_EOD },
	{ "sending data block", STAGE_EOD },
	{ "message content", STAGE_EOD },
	{ "MAIL FROM", STAGE_MAIL },
	{ "MAIL", STAGE_MAIL },
	{ "RCPT TO", STAGE_RCPT },
	{ "RCPT", STAGE_RCPT },
	{ "DATA", STAGE_DATA },
	{ "EHLO", STAGE_EHLO },
	{ "HELO", STAGE_EHLO },
	{ "LHLO", STAGE_EHLO },
	{ "STARTTLS", STAGE_STARTTLS },
	{ "AUTH", STAGE_AUTH },
	{ "initial connection", STAGE_BANNER },
	{ "RSET", STAGE_RSET },
	{ "QUIT", STAGE_QUIT },
};


/* lc - ASCII lower case */
static int
lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* isws - white space, line ends included */
static int
isws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	    c == '\v' || c == '\f';
}

/* ci_prefix - 1 if p[0..n) starts with s, ASCII case ignored */
static int
ci_prefix(const char *p, size_t n, const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= n || lc((unsigned char)p[i]) !=
		    lc((unsigned char)s[i]))
			return 0;
	return 1;
}

/* ci_find - first s in p[0..n) (searched up to DSN_SCAN_MAX), or NULL */
static const char *
ci_find(const char *p, size_t n, const char *s)
{
	size_t	 i, m = strlen(s);
	int	 c0 = lc((unsigned char)s[0]);

	if (n > DSN_SCAN_MAX)
		n = DSN_SCAN_MAX;
	if (m == 0 || m > n)
		return NULL;
	for (i = 0; i + m <= n; i++)
		if (lc((unsigned char)p[i]) == c0 && ci_prefix(p + i, n - i, s))
			return p + i;
	return NULL;
}

/* ci_rfind - last s in p[0..n) (searched up to DSN_SCAN_MAX), or NULL */
static const char *
ci_rfind(const char *p, size_t n, const char *s)
{
	const char	*r = NULL, *f;
	size_t		 off = 0;

	if (n > DSN_SCAN_MAX)
		n = DSN_SCAN_MAX;
	while (off < n && (f = ci_find(p + off, n - off, s)) != NULL) {
		r = f;
		off = (size_t)(f - p) + 1;
	}
	return r;
}

/* mem_rchr - last byte c in p[0..n), or NULL */
static const char *
mem_rchr(const char *p, int c, size_t n)
{
	while (n-- > 0)
		if ((unsigned char)p[n] == (unsigned char)c)
			return p + n;
	return NULL;
}

/* trim - p[0..n) without leading and trailing white space */
static struct span
trim(const char *p, size_t n)
{
	struct span	 s;

	while (n > 0 && isws((unsigned char)*p)) {
		p++;
		n--;
	}
	while (n > 0 && isws((unsigned char)p[n - 1]))
		n--;
	s.p = p;
	s.len = n;
	return s;
}

/* blank - 1 if the line is empty or only white space */
static int
blank(const struct span *l)
{
	return trim(l->p, l->len).len == 0;
}

/*
 * collapse - copy p[0..n) with every run of white space made a single
 * space and both ends trimmed, keeping at most cap bytes. Returns a
 * NUL-terminated buffer (which may hold NUL bytes; see *outlen).
 */
static char *
collapse(const char *p, size_t n, size_t cap, size_t *outlen)
{
	char	*o;
	size_t	 i, w = 0;
	int	 sp = 0;

	o = xmalloc((n < cap ? n : cap) + 1);
	for (i = 0; i < n && w < cap; i++) {
		if (isws((unsigned char)p[i])) {
			sp = w > 0;
			continue;
		}
		if (sp) {
			o[w++] = ' ';
			sp = 0;
			if (w >= cap)
				break;
		}
		o[w++] = p[i];
	}
	if (w > 0 && o[w - 1] == ' ')
		w--;
	o[w] = '\0';
	*outlen = w;
	return o;
}

/* mkstr - printable single-line copy of p[0..n), NULL when empty */
static char *
mkstr(const char *p, size_t n)
{
	char	*c, *s;
	size_t	 cl;

	c = collapse(p, n, DSN_MAX_STR, &cl);
	s = cl == 0 ? NULL : util_escape(c, cl);
	free(c);
	return s;
}

/*
 * enh_at - RFC 3463 code at the start of p[0..n) ("5.1.1" followed by
 * anything but a letter, digit or dot); copies it to out (16 bytes) and
 * returns its length, or returns 0.
 */
static size_t
enh_at(const char *p, size_t n, char *out)
{
	char	 buf[16];
	size_t	 i;

	for (i = 0; i < n && i < sizeof(buf) - 1 &&
	    (isdigit((unsigned char)p[i]) || p[i] == '.'); i++)
		buf[i] = p[i];
	if (i < n && (isalnum((unsigned char)p[i]) || p[i] == '.'))
		return 0;
	buf[i] = '\0';
	return reply_enhanced_parse(buf, out);
}

/* code_at - basic reply code at the start of p[0..n) ("550", "550-"), 0 */
static int
code_at(const char *p, size_t n)
{
	if (n < 3 || p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '5' ||
	    !isdigit((unsigned char)p[2]))
		return 0;
	if (n > 3 && p[3] != ' ' && p[3] != '-')
		return 0;
	return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

/*
 * norm_reply - one-line printable reply from p[0..n): white space
 * collapsed, "550-" made "550 ", and the "550-"/"550 " prefixes (with
 * a repeated enhanced code) of joined continuation lines removed.
 * NULL when empty.
 */
static char *
norm_reply(const char *p, size_t n)
{
	char	*c, *s, enh[16];
	size_t	 cl, r, w, el = 0;
	int	 code, dash;
	char	 sep;

	c = collapse(p, n, DSN_MAX_STR, &cl);
	if (cl == 0) {
		free(c);
		return NULL;
	}
	if ((code = code_at(c, cl)) != 0 && cl > 4) {
		dash = c[3] == '-';
		c[3] = ' ';
		el = enh_at(c + 4, cl - 4, enh);
		for (r = w = 4; r < cl; ) {
			sep = r + 3 < cl ? c[r + 3] : '\0';
			if (c[w - 1] == ' ' && code_at(c + r, cl - r) == code &&
			    (sep == '-' || dash || (sep == ' ' && el > 0 &&
			    r + 4 + el <= cl &&
			    memcmp(c + r + 4, enh, el) == 0 &&
			    (r + 4 + el == cl || c[r + 4 + el] == ' ')))) {
				dash |= sep == '-';
				r += sep != '\0' ? 4 : 3;
				if (el > 0 && r + el <= cl &&
				    memcmp(c + r, enh, el) == 0 &&
				    (r + el == cl || c[r + el] == ' '))
					r += el;
				while (r < cl && c[r] == ' ')
					r++;
				continue;
			}
			c[w++] = c[r++];
		}
		while (w > 0 && c[w - 1] == ' ')
			w--;
		cl = w;
	}
	s = util_escape(c, cl);
	free(c);
	return s;
}

/*
 * addr_clean - address from a field value or a text token: an
 * "rfc822;" type, angle brackets and surrounding punctuation removed.
 */
static char *
addr_clean(const char *p, size_t n)
{
	struct span	 t = trim(p, n);
	const char	*semi;
	size_t		 i;

	semi = memchr(t.p, ';', t.len < 64 ? t.len : 64);
	if (semi != NULL && memchr(t.p, '@', (size_t)(semi - t.p)) == NULL &&
	    memchr(t.p, '<', (size_t)(semi - t.p)) == NULL)
		t = trim(semi + 1, t.len - (size_t)(semi + 1 - t.p));
	while (t.len > 0 && t.p[0] != '\0' && strchr("(<\"'", t.p[0]) != NULL) {
		t.p++;
		t.len--;
	}
	for (i = 0; i < t.len; i++)
		if (t.p[i] == '>' || t.p[i] == '<')
			break;
	if (i < t.len)
		t.len = i;
	while (t.len > 0 && t.p[t.len - 1] != '\0' &&
	    strchr(".,;:)\"'", t.p[t.len - 1]) != NULL)
		t.len--;
	return mkstr(t.p, t.len);
}

/* token_addr - the first word of p[0..n) as an address if it has an @ */
static char *
token_addr(const char *p, size_t n)
{
	struct span	 t = trim(p, n);
	size_t		 i;

	for (i = 0; i < t.len && !isws((unsigned char)t.p[i]); i++)
		;
	if (i == 0 || i > 512 || memchr(t.p, '@', i) == NULL)
		return NULL;
	return addr_clean(t.p, i);
}

/* angle_addr - "<x@y>" inside an already printable string, or NULL */
static char *
angle_addr(const char *s)
{
	const char	*lt, *gt;

	if ((lt = strchr(s, '<')) == NULL || (gt = strchr(lt, '>')) == NULL)
		return NULL;
	if (memchr(lt, '@', (size_t)(gt - lt)) == NULL ||
	    memchr(lt, ' ', (size_t)(gt - lt)) != NULL)
		return NULL;
	return xstrndup(lt + 1, (size_t)(gt - lt - 1));
}

/* mta_host - host of a Reporting-/Remote-MTA value: no "dns;", first word */
static char *
mta_host(const char *p, size_t n)
{
	struct span	 t = trim(p, n);
	const char	*semi;
	size_t		 i;

	semi = memchr(t.p, ';', t.len < 32 ? t.len : 32);
	if (semi != NULL && memchr(t.p, ' ', (size_t)(semi - t.p)) == NULL)
		t = trim(semi + 1, t.len - (size_t)(semi + 1 - t.p));
	for (i = 0; i < t.len && !isws((unsigned char)t.p[i]); i++)
		;
	while (i > 1 && t.p[i - 1] == '.')
		i--;
	return mkstr(t.p, i);
}

/*
 * host_at - read "NAME", "NAME[IP]" or "NAME [IP]" at p[0..n) into *h
 * (trailing dot dropped); returns the offset after it and after a ":"
 * and spaces that follow.
 */
static size_t
host_at(const char *p, size_t n, struct span *h)
{
	size_t	 i = 0, e;

	while (i < n && !isws((unsigned char)p[i]) && p[i] != '[' &&
	    p[i] != ':' && p[i] != '(' && p[i] != ',')
		i++;
	h->p = p;
	h->len = i;
	while (h->len > 1 && p[h->len - 1] == '.')
		h->len--;
	for (e = i; e < n && p[e] == ' '; e++)
		;
	if (e < n && p[e] == '[') {
		while (e < n && p[e] != ']')
			e++;
		if (e < n)
			i = e + 1;
	}
	if (i < n && p[i] == ':') {
		for (i++; i < n && p[i] == ' '; i++)
			;
	}
	return i;
}

/* host_in - host named in p[0..n) by "host X", "connect to X", "with X" */
static char *
host_in(const char *p, size_t n)
{
	static const char *const lead[] = { "host ", "connect to ",
	    "connection with ", "conversation with " };
	const char	*f;
	struct span	 h;
	size_t		 i, off;

	for (i = 0; i < nitems(lead); i++) {
		for (off = 0; off < n &&
		    (f = ci_find(p + off, n - off, lead[i])) != NULL;
		    off = (size_t)(f - p) + 1) {
			if (f > p && isalnum((unsigned char)f[-1]))
				continue;
			f += strlen(lead[i]);
			host_at(f, n - (size_t)(f - p), &h);
			if (h.len > 0 && memchr(h.p, '.', h.len) != NULL)
				return mkstr(h.p, h.len);
		}
	}
	return NULL;
}

/* stage_word - stage of the command word at p[0..n); -1 if none */
static int
stage_word(const char *p, size_t n, int dot)
{
	size_t	 i, m;

	if (dot && n > 0 && p[0] == '.' &&
	    (n == 1 || isws((unsigned char)p[1])))
		return STAGE_EOD;
	for (i = 0; i < nitems(stage_words); i++) {
		m = strlen(stage_words[i].s);
		if (ci_prefix(p, n, stage_words[i].s) &&
		    (m == n || !isalnum((unsigned char)p[m])))
			return stage_words[i].stage;
	}
	return -1;
}

/* stage_span - stage of the first stage phrase in p[0..n), -1 if none */
static int
stage_span(const char *p, size_t n)
{
	size_t	 i, j, m;
	int	 st;

	for (i = 0; i < n; i++) {
		for (j = 0; j < nitems(stage_whole); j++)
			if (lc((unsigned char)p[i]) ==
			    lc((unsigned char)stage_whole[j].s[0]) &&
			    ci_prefix(p + i, n - i, stage_whole[j].s))
				return stage_whole[j].stage;
		for (j = 0; j < nitems(stage_lead); j++) {
			if (lc((unsigned char)p[i]) !=
			    lc((unsigned char)stage_lead[j].s[0]) ||
			    !ci_prefix(p + i, n - i, stage_lead[j].s))
				continue;
			if (!stage_lead[j].stage && i > 0 &&
			    isalnum((unsigned char)p[i - 1]))
				continue;
			m = strlen(stage_lead[j].s);
			if ((st = stage_word(p + i + m, n - i - m,
			    stage_lead[j].stage)) != -1)
				return st;
		}
	}
	return -1;
}

/* dsn_stage_from_text - stage of the first stage phrase in s, or -1 */
int
dsn_stage_from_text(const char *s)
{
	if (s == NULL)
		return -1;
	return stage_span(s, strlen(s));
}

/* lines_split - cut p[0..len) at LF, dropping a CR before it */
static void
lines_split(const char *p, size_t len, struct lines *L)
{
	const char	*e, *q, *nl;
	size_t		 n = 1, l;

	L->v = NULL;
	L->n = 0;
	if (p == NULL || len == 0)
		return;
	e = p + len;
	for (q = p; (nl = memchr(q, '\n', (size_t)(e - q))) != NULL;
	    q = nl + 1)
		n++;
	L->v = xreallocarray(NULL, n, sizeof(*L->v));
	for (q = p; q < e; q = nl + 1) {
		nl = memchr(q, '\n', (size_t)(e - q));
		l = nl != NULL ? (size_t)(nl - q) : (size_t)(e - q);
		if (l > 0 && q[l - 1] == '\r')
			l--;
		L->v[L->n].p = q;
		L->v[L->n].len = l;
		L->n++;
		if (nl == NULL)
			break;
	}
}

/* hexval - value of a hex digit, -1 if not one */
static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lc(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* qp_decode - quoted-printable p[0..n) into a new buffer */
static char *
qp_decode(const char *p, size_t n, size_t *outlen)
{
	char	*o = xmalloc(n + 1);
	size_t	 i = 0, j, w = 0;
	int	 h, l;

	while (i < n) {
		if (p[i] != '=') {
			o[w++] = p[i++];
			continue;
		}
		for (j = i + 1; j < n && (p[j] == ' ' || p[j] == '\t'); j++)
			;
		if (j >= n) {
			i = n;
			continue;
		}
		if (p[j] == '\n') {
			i = j + 1;
			continue;
		}
		if (p[j] == '\r' && j + 1 < n && p[j + 1] == '\n') {
			i = j + 2;
			continue;
		}
		if (i + 2 < n && (h = hexval((unsigned char)p[i + 1])) >= 0 &&
		    (l = hexval((unsigned char)p[i + 2])) >= 0) {
			o[w++] = (char)(h << 4 | l);
			i += 3;
			continue;
		}
		o[w++] = p[i++];
	}
	o[w] = '\0';
	*outlen = w;
	return o;
}

/* hdr_name - 1 if the line starts "Name:"; *nlen gets the name length */
static int
hdr_name(const struct span *l, size_t *nlen)
{
	size_t	 i;
	int	 c;

	for (i = 0; i < l->len && i < 80; i++) {
		c = (unsigned char)l->p[i];
		if (c == ':')
			break;
		if (!isalnum(c) && c != '-' && c != '_' && c != '.')
			return 0;
	}
	if (i == 0 || i >= l->len || l->p[i] != ':')
		return 0;
	*nlen = i;
	return 1;
}

/* field_end - index after the field starting at line i and its folds */
static size_t
field_end(const struct span *l, size_t n, size_t i)
{
	size_t	 j;

	for (j = i + 1; j < n && l[j].len > 0 &&
	    (l[j].p[0] == ' ' || l[j].p[0] == '\t') && !blank(&l[j]); j++)
		;
	return j;
}

/* field_value - value of the field on lines [i, j): after the colon */
static struct span
field_value(const struct span *l, size_t i, size_t j)
{
	struct span	 v;
	const char	*colon = memchr(l[i].p, ':', l[i].len);

	v.p = colon + 1;
	v.len = (size_t)(l[j - 1].p + l[j - 1].len - v.p);
	return v;
}

/* ctype_parse - type and boundary from a Content-Type value */
static void
ctype_parse(struct mime *m, struct span v)
{
	const char	*b;
	char		*c;
	size_t		 cl, i, e;

	c = collapse(v.p, v.len, 2048, &cl);
	for (i = 0; i < cl && i < sizeof(m->type) - 1 && c[i] != ';' &&
	    c[i] != ' '; i++)
		m->type[i] = (char)lc((unsigned char)c[i]);
	m->type[i] = '\0';
	for (b = c; (b = ci_find(b, cl - (size_t)(b - c), "boundary=")) !=
	    NULL; b++) {
		if (b == c || (b[-1] != ';' && b[-1] != ' '))
			continue;
		i = (size_t)(b - c) + 9;
		if (i < cl && c[i] == '"') {
			for (e = ++i; e < cl && c[e] != '"'; e++)
				;
		} else {
			for (e = i; e < cl && c[e] != ';' && c[e] != ' '; e++)
				;
		}
		if (e > i && e - i < sizeof(m->bnd)) {
			memcpy(m->bnd, c + i, e - i);
			m->bndlen = e - i;
		}
		break;
	}
	free(c);
}

/*
 * parse_headers - read the header block at the top of l[0..n) into m;
 * returns the index of the first body line (after the blank line, or
 * the first line that is not a header when there is no blank line).
 */
static size_t
parse_headers(const struct span *l, size_t n, struct mime *m)
{
	struct span	 v;
	size_t		 i = 0, j, nl, k;

	memset(m, 0, sizeof(*m));
	while (i < n) {
		if (blank(&l[i]))
			return i + 1;
		if (!hdr_name(&l[i], &nl))
			return i;
		j = field_end(l, n, i);
		v = field_value(l, i, j);
		if (nl == 12 && ci_prefix(l[i].p, nl, "content-type")) {
			ctype_parse(m, v);
		} else if (nl == 25 &&
		    ci_prefix(l[i].p, nl, "content-transfer-encoding")) {
			v = trim(v.p, v.len);
			for (k = 0; k < v.len && k < sizeof(m->cte) - 1 &&
			    !isws((unsigned char)v.p[k]) && v.p[k] != ';'; k++)
				m->cte[k] = (char)lc((unsigned char)v.p[k]);
			m->cte[k] = '\0';
		}
		i = j;
	}
	return i;
}

/*
 * part_lines - the body lines b[0..nb) decoded per cte and cut into
 * lines again; *own is the decoded copy to free, or NULL.
 */
static void
part_lines(const struct span *b, size_t nb, const char *cte,
    struct lines *L, char **own)
{
	const char	*p;
	size_t		 n, dl;

	*own = NULL;
	L->v = NULL;
	L->n = 0;
	if (nb == 0)
		return;
	p = b[0].p;
	n = (size_t)(b[nb - 1].p + b[nb - 1].len - p);
	if (strcmp(cte, "quoted-printable") == 0) {
		*own = qp_decode(p, n, &dl);
		p = *own;
		n = dl;
	} else if (strcmp(cte, "base64") == 0) {
		*own = util_b64_decode(p, n, &dl, 0);
		p = *own;
		n = dl;
	}
	lines_split(p, n, L);
}

/* walk - read one MIME entity l[0..n) (headers and body) */
static void
walk(struct ctx *c, const struct span *l, size_t n, int depth)
{
	struct mime	 m;
	size_t		 body;

	if (n == 0)
		return;
	if (c->nparts++ >= DSN_MAX_PARTS) {
		c->truncated |= DSN_TRUNC_PARTS;
		return;
	}
	body = parse_headers(l, n, &m);
	if (body > n)
		body = n;
	if (m.type[0] == '\0')
		memcpy(m.type, "text/plain", sizeof("text/plain"));
	if (strncmp(m.type, "multipart/", 10) == 0) {
		if (depth >= DSN_MAX_DEPTH) {
			c->truncated |= DSN_TRUNC_DEPTH;
			return;
		}
		if (m.bndlen > 0 &&
		    walk_multipart(c, l + body, n - body, &m, depth))
			return;
		read_human(c, l + body, n - body, m.cte);
	} else if (strcmp(m.type, "message/delivery-status") == 0 ||
	    strcmp(m.type, "message/global-delivery-status") == 0) {
		c->saw_dsn = 1;
		read_dsn(c, l + body, n - body, m.cte);
	} else if (strncmp(m.type, "text/", 5) == 0 &&
	    strcmp(m.type, "text/html") != 0 &&
	    strcmp(m.type, "text/rfc822-headers") != 0) {
		read_human(c, l + body, n - body, m.cte);
	}
}

/*
 * walk_multipart - split b[0..nb) at the boundary and walk each part;
 * an unterminated last part runs to the end. 0 if no delimiter found.
 */
static int
walk_multipart(struct ctx *c, const struct span *b, size_t nb,
    const struct mime *m, int depth)
{
	struct span	 t;
	size_t		 i, start = 0;
	int		 found = 0, inpart = 0, close;

	for (i = 0; i < nb; i++) {
		t = trim(b[i].p, b[i].len);
		if (t.p != b[i].p || t.len < m->bndlen + 2 || t.p[0] != '-' ||
		    t.p[1] != '-' || memcmp(t.p + 2, m->bnd, m->bndlen) != 0)
			continue;
		if (t.len == m->bndlen + 2)
			close = 0;
		else if (t.len == m->bndlen + 4 && t.p[m->bndlen + 2] == '-' &&
		    t.p[m->bndlen + 3] == '-')
			close = 1;
		else
			continue;
		found = 1;
		if (inpart)
			walk(c, b + start, i - start, depth + 1);
		inpart = !close;
		start = i + 1;
		if (close)
			break;
	}
	if (inpart)
		walk(c, b + start, nb - start, depth + 1);
	return found;
}

/* read_human - decode a text part and scan it */
static void
read_human(struct ctx *c, const struct span *b, size_t nb, const char *cte)
{
	struct lines	 L;
	char		*own;

	part_lines(b, nb, cte, &L, &own);
	human(c, L.v, L.n);
	free(L.v);
	free(own);
}

/* read_dsn - decode a delivery-status part and read its fields */
static void
read_dsn(struct ctx *c, const struct span *b, size_t nb, const char *cte)
{
	struct lines	 L;
	char		*own;

	part_lines(b, nb, cte, &L, &own);
	dsn_fields(c, L.v, L.n, 0);
	free(L.v);
	free(own);
}

/*
 * dsn_fields - read RFC 3464 field groups (blank-line separated) from
 * l[0..n). In loose mode (no MIME part found) stop at the first line
 * that is neither a field, a fold nor blank, or looks like a boundary.
 */
static void
dsn_fields(struct ctx *c, const struct span *l, size_t n, int loose)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} names[] = {
		{ "reporting-mta", offsetof(struct group, rmta) },
		{ "final-recipient", offsetof(struct group, frcpt) },
		{ "original-recipient", offsetof(struct group, orcpt) },
		{ "action", offsetof(struct group, action) },
		{ "status", offsetof(struct group, status) },
		{ "remote-mta", offsetof(struct group, remote) },
		{ "diagnostic-code", offsetof(struct group, diag) },
	};
	struct group	 g;
	struct span	*f;
	size_t		 i, j, k, nl;

	memset(&g, 0, sizeof(g));
	for (i = 0; i < n; ) {
		if (blank(&l[i])) {
			group_flush(c, &g);
			i++;
			continue;
		}
		if (loose && l[i].len >= 2 && l[i].p[0] == '-' &&
		    l[i].p[1] == '-')
			break;
		if (!hdr_name(&l[i], &nl)) {
			if (loose)
				break;
			i++;
			continue;
		}
		j = field_end(l, n, i);
		for (k = 0; k < nitems(names); k++) {
			if (nl != strlen(names[k].name) ||
			    !ci_prefix(l[i].p, nl, names[k].name))
				continue;
			f = (struct span *)((char *)&g + names[k].off);
			if (f->p == NULL)
				*f = field_value(l, i, j);
			break;
		}
		i = j;
	}
	group_flush(c, &g);
}

/* group_flush - turn a finished field group into a record, then reset */
static void
group_flush(struct ctx *c, struct group *g)
{
	struct rec	*r;
	const char	*p;
	char		 enh[16], *s;
	struct span	 t;
	size_t		 i;
	int		 smtp;

	if (g->rmta.p != NULL && c->reporting_mta == NULL)
		c->reporting_mta = mta_host(g->rmta.p, g->rmta.len);
	if ((g->frcpt.p != NULL || g->orcpt.p != NULL) &&
	    (r = rec_add(&c->dsn)) != NULL) {
		if (g->frcpt.p != NULL)
			r->it.recipient = addr_clean(g->frcpt.p, g->frcpt.len);
		if (g->orcpt.p != NULL)
			r->orcpt = addr_clean(g->orcpt.p, g->orcpt.len);
		if (r->it.recipient == NULL && r->orcpt != NULL)
			r->it.recipient = xstrdup(r->orcpt);
		if (g->action.p != NULL &&
		    (r->it.action = mkstr(g->action.p, g->action.len)) != NULL)
			for (s = r->it.action; *s != '\0'; s++)
				*s = (char)lc((unsigned char)*s);
		if (g->status.p != NULL) {
			t = trim(g->status.p, g->status.len);
			if (enh_at(t.p, t.len, enh) > 0)
				r->it.status = xstrdup(enh);
		}
		if (g->remote.p != NULL)
			r->it.remote_mta = mta_host(g->remote.p, g->remote.len);
		if (g->diag.p != NULL) {
			/* "smtp; 550 ...": other types only if they hold one */
			t = trim(g->diag.p, g->diag.len);
			p = memchr(t.p, ';', t.len < 32 ? t.len : 32);
			smtp = 0;
			if (p != NULL && memchr(t.p, ' ', (size_t)(p - t.p)) ==
			    NULL) {
				i = (size_t)(p - t.p);
				smtp = i == 4 && ci_prefix(t.p, i, "smtp");
				t = trim(p + 1, t.len - i - 1);
			}
			if (smtp || code_at(t.p, t.len) != 0)
				r->it.reply = norm_reply(t.p, t.len);
		}
	}
	memset(g, 0, sizeof(*g));
}

/* rec_add - a new empty record at the end of L, NULL when L is full */
static struct rec *
rec_add(struct reclist *L)
{
	struct rec	*r;

	if (L->n >= DSN_MAX_ITEMS) {
		L->full = 1;
		return NULL;
	}
	if (L->n == L->cap) {
		L->cap = L->cap == 0 ? 8 : L->cap * 2;
		L->v = xreallocarray(L->v, L->cap, sizeof(*L->v));
	}
	r = &L->v[L->n++];
	memset(r, 0, sizeof(*r));
	r->it.stage = -1;
	return r;
}

/* rec_clear - free the strings of a record and empty it */
static void
rec_clear(struct rec *r)
{
	free(r->it.recipient);
	free(r->it.action);
	free(r->it.status);
	free(r->it.remote_mta);
	free(r->it.reply);
	free(r->orcpt);
	memset(r, 0, sizeof(*r));
	r->it.stage = -1;
}

/* rec_match - 1 if the two records share an address */
static int
rec_match(const struct rec *a, const struct rec *b)
{
	const char	*x[2] = { a->it.recipient, a->orcpt };
	const char	*y[2] = { b->it.recipient, b->orcpt };
	size_t		 i, j;

	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++)
			if (x[i] != NULL && y[j] != NULL &&
			    strcasecmp(x[i], y[j]) == 0)
				return 1;
	return 0;
}

#define TAKE(d, s, f) do {						\
	if ((d)->f == NULL) {						\
		(d)->f = (s)->f;					\
		(s)->f = NULL;						\
	}								\
} while (0)

#define COPY(d, s, f) do {						\
	if ((d)->f == NULL && (s)->f != NULL)				\
		(d)->f = xstrdup((s)->f);				\
} while (0)

/* rec_take - move into d every field d lacks; s keeps the rest */
static void
rec_take(struct rec *d, struct rec *s)
{
	TAKE(d, s, it.recipient);
	TAKE(d, s, it.action);
	TAKE(d, s, it.status);
	TAKE(d, s, it.remote_mta);
	TAKE(d, s, it.reply);
	TAKE(d, s, orcpt);
	if (d->it.stage == -1)
		d->it.stage = s->it.stage;
}

/*
 * rec_copy - copy into d every field d lacks (recipient excepted);
 * returns 1 if d gained a reply or a stage.
 */
static int
rec_copy(struct rec *d, const struct rec *s)
{
	int	 gained;

	gained = (d->it.reply == NULL && s->it.reply != NULL) ||
	    (d->it.stage == -1 && s->it.stage != -1);
	COPY(d, s, it.action);
	COPY(d, s, it.remote_mta);
	COPY(d, s, it.reply);
	if (d->it.stage == -1)
		d->it.stage = s->it.stage;
	return gained;
}

/*
 * txt_add - add a record found in the text, merging it into an earlier
 * one for the same address. Takes the strings of *t and clears it.
 */
static void
txt_add(struct ctx *c, struct rec *t)
{
	struct rec	*r;
	char		 enh[16];
	size_t		 i;

	if (t->it.recipient == NULL && t->it.reply != NULL &&
	    (t->it.stage == STAGE_RCPT ||
	    (strlen(t->it.reply) > 4 &&
	    enh_at(t->it.reply + 4, strlen(t->it.reply + 4), enh) > 0 &&
	    enh[1] == '.' && enh[2] == '1' && enh[3] == '.' &&
	    enh[4] >= '1' && enh[4] <= '6' && enh[5] == '\0')))
		t->it.recipient = angle_addr(t->it.reply);
	if (t->it.recipient == NULL && t->it.reply == NULL &&
	    t->it.stage == -1) {
		rec_clear(t);
		return;
	}
	for (i = 0; t->it.recipient != NULL && i < c->txt.n; i++)
		if (rec_match(&c->txt.v[i], t)) {
			rec_take(&c->txt.v[i], t);
			rec_clear(t);
			return;
		}
	if ((r = rec_add(&c->txt)) != NULL) {
		*r = *t;
		memset(t, 0, sizeof(*t));
	}
	rec_clear(t);
}

/* is_cut - 1 if the line starts the returned message, end of the text */
static int
is_cut(const struct span *l)
{
	struct span	 t = trim(l->p, l->len < 200 ? l->len : 200);

	if (ci_find(t.p, t.len, "This is a copy of the message") != NULL ||
	    ci_prefix(t.p, t.len, "Original message headers:") ||
	    ci_prefix(t.p, t.len, "--- Below this line is a copy"))
		return 1;
	return ci_prefix(t.p, t.len, "---") &&
	    ci_find(t.p, t.len, "message follows") != NULL;
}

/* human - scan the lines of a human-readable text part */
static void
human(struct ctx *c, const struct span *l, size_t n)
{
	struct sm	 sm;
	size_t		 i, k, end;

	for (end = 0; end < n && !is_cut(&l[end]); end++)
		;
	memset(&sm, 0, sizeof(sm));
	sm.last = -1;
	for (i = 0; i < end; i += k > 0 ? k : 1) {
		if ((k = rx_sendmail(c, l, end, i, &sm)) > 0 ||
		    (k = rx_angle(c, l, end, i)) > 0 ||
		    (k = rx_gmail(c, l, end, i)) > 0 ||
		    (k = rx_exchange(c, l, end, i)) > 0 ||
		    (k = rx_exim(c, l, end, i)) > 0)
			continue;
	}
	free(sm.host);
}

/*
 * rx_sendmail - Sendmail transcript lines: "... while talking to H.:",
 * ">>> COMMAND" and "<<< reply". Replies are paired with commands in
 * order (which also handles pipelining); a 3xx to DATA makes the next
 * reply the end-of-data one. Records RCPT failures per address and the
 * first other failure of the session.
 */
static size_t
rx_sendmail(struct ctx *c, const struct span *l, size_t n, size_t i,
    struct sm *sm)
{
	const char	*p = l[i].p, *f;
	struct span	 h;
	char		*buf;
	size_t		 len = l[i].len, j, w, k;
	int		 st, more;

	if ((f = ci_find(p, len < 1024 ? len : 1024, "while talking to ")) !=
	    NULL) {
		f += 17;
		host_at(f, len - (size_t)(f - p), &h);
		free(sm->host);
		sm->host = mkstr(h.p, h.len);
		sm->qn = 0;
		sm->last = -1;
		sm->sawcmd = sm->rcptfail = sm->failed = 0;
		return 1;
	}
	if (len >= 4 && memcmp(p, ">>> ", 4) == 0) {
		st = stage_word(p + 4, len - 4, 1);
		sm->sawcmd = 1;
		if (st == STAGE_EOD && sm->qn > 0 &&
		    sm->q[sm->qn - 1] == STAGE_EOD)
			return 1;
		if (sm->qn < DSN_SM_QUEUE) {
			sm->q[sm->qn] = st;
			sm->qrcpt[sm->qn].p = NULL;
			sm->qrcpt[sm->qn].len = 0;
			if (st == STAGE_RCPT && (f = memchr(p, ':', len)) !=
			    NULL) {
				sm->qrcpt[sm->qn].p = f + 1;
				sm->qrcpt[sm->qn].len = len -
				    (size_t)(f + 1 - p);
			}
			sm->qn++;
		}
		return 1;
	}
	if (len < 4 || memcmp(p, "<<< ", 4) != 0)
		return 0;
	/* one reply: "<<< 550-..." lines up to "<<< 550 ..." */
	for (j = i, w = 0, more = 1; more && j < n && l[j].len >= 4 &&
	    memcmp(l[j].p, "<<< ", 4) == 0; j++) {
		w += l[j].len - 4 + 1;
		more = l[j].len >= 8 && l[j].p[7] == '-';
	}
	buf = xmalloc(w + 1);
	for (k = i, w = 0; k < j; k++) {
		memcpy(buf + w, l[k].p + 4, l[k].len - 4);
		w += l[k].len - 4;
		buf[w++] = ' ';
	}
	sm_reply(c, sm, buf, w);
	free(buf);
	return j - i;
}

/* sm_reply - pair a complete "<<<" reply with its command */
static void
sm_reply(struct ctx *c, struct sm *sm, const char *buf, size_t w)
{
	struct rec	 t;
	struct span	 rc = { NULL, 0 };
	int		 st, code;

	if (sm->qn > 0) {
		st = sm->q[0];
		rc = sm->qrcpt[0];
		memmove(sm->q, sm->q + 1, (sm->qn - 1) * sizeof(sm->q[0]));
		memmove(sm->qrcpt, sm->qrcpt + 1,
		    (sm->qn - 1) * sizeof(sm->qrcpt[0]));
		sm->qn--;
	} else
		st = sm->sawcmd ? sm->last : STAGE_BANNER;
	sm->last = st;
	code = code_at(buf, w);
	if (st == STAGE_DATA && code >= 300 && code < 400 &&
	    sm->qn < DSN_SM_QUEUE) {
		memmove(sm->q + 1, sm->q, sm->qn * sizeof(sm->q[0]));
		memmove(sm->qrcpt + 1, sm->qrcpt,
		    sm->qn * sizeof(sm->qrcpt[0]));
		sm->q[0] = STAGE_EOD;
		sm->qrcpt[0].p = NULL;
		sm->qrcpt[0].len = 0;
		sm->qn++;
	}
	if (code < 400)
		return;
	if (st != STAGE_RCPT &&
	    (sm->failed || (st == STAGE_DATA && sm->rcptfail)))
		return;
	memset(&t, 0, sizeof(t));
	t.it.stage = st;
	t.it.reply = norm_reply(buf, w);
	if (sm->host != NULL)
		t.it.remote_mta = xstrdup(sm->host);
	if (st == STAGE_RCPT) {
		sm->rcptfail = 1;
		if (rc.p != NULL)
			t.it.recipient = token_addr(rc.p, rc.len);
		if (t.it.recipient == NULL && rc.p != NULL)
			t.it.recipient = addr_clean(rc.p, rc.len);
	} else
		sm->failed = 1;
	txt_add(c, &t);
}

/*
 * rx_angle - a paragraph opened by "<addr>" at the start of a line:
 *   Postfix  "<x@y>: host H[IP] said: 550 ... (in reply to RCPT TO
 *            command)", folded onto indented lines;
 *   qmail    "<x@y>:" then unindented lines ("Remote host said: ...");
 *   Sendmail "<x@y>" then "    (reason: 550 ...)".
 */
static size_t
rx_angle(struct ctx *c, const struct span *l, size_t n, size_t i)
{
	const char	*p = l[i].p, *gt, *rest, *s, *e, *tail, *q;
	struct rec	 t;
	struct span	 a, o = { NULL, 0 }, para;
	char		*cb;
	size_t		 len = l[i].len, rl, j, cl, k;
	int		 colon;

	if (len < 3 || p[0] != '<' ||
	    (gt = memchr(p, '>', len < 1024 ? len : 1024)) == NULL ||
	    gt == p + 1)
		return 0;
	a.p = p + 1;
	a.len = (size_t)(gt - a.p);
	if (memchr(a.p, ' ', a.len) != NULL)
		return 0;
	rest = gt + 1;
	rl = len - (size_t)(rest - p);
	if (ci_prefix(rest, rl, " (expanded from <") &&
	    (q = memchr(rest, '>', rl)) != NULL) {
		o.p = rest + 17;
		o.len = (size_t)(q - o.p);
		rest = q + 1;
		rl = len - (size_t)(rest - p);
		if (rl > 0 && rest[0] == ')') {
			rest++;
			rl--;
		}
	}
	if (rl > 0 && rest[0] == ':') {
		colon = 1;
		rest++;
		rl--;
	} else if (trim(rest, rl).len == 0)
		colon = 0;
	else
		return 0;
	for (j = i + 1; j < n && !blank(&l[j]); j++) {
		if (colon && trim(rest, rl).len == 0) {
			if (l[j].p[0] == '<')
				break;
		} else if (l[j].p[0] != ' ' && l[j].p[0] != '\t')
			break;
	}
	if (trim(rest, rl).len > 0)
		para.p = rest;
	else if (j > i + 1)
		para.p = l[i + 1].p;
	else
		para.p = rest;
	para.len = j > i + 1 ? (size_t)(l[j - 1].p + l[j - 1].len - para.p) :
	    rl;

	memset(&t, 0, sizeof(t));
	t.it.stage = -1;
	t.it.recipient = addr_clean(a.p, a.len);
	if (o.p != NULL)
		t.orcpt = addr_clean(o.p, o.len);
	cb = collapse(para.p, para.len, DSN_SCAN_MAX, &cl);
	e = cb + cl;
	if ((s = ci_find(cb, cl, "(reason: ")) != NULL) {
		s += 9;
		if ((q = mem_rchr(s, ')', (size_t)(e - s))) != NULL)
			e = q;
		t.it.reply = norm_reply(s, (size_t)(e - s));
	} else if ((s = ci_find(cb, cl, "refused to talk to me:")) != NULL ||
	    (s = ci_find(cb, cl, " said:")) != NULL) {
		q = (const char *)memchr(s, ':', (size_t)(e - s)) + 1;
		tail = ci_rfind(q, (size_t)(e - q), "(in reply to ");
		for (k = 0; tail == NULL && k < 2; k++)
			tail = ci_find(q, (size_t)(e - q), k == 0 ?
			    " Giving up on " : " I'm not going to try again");
		t.it.reply = norm_reply(q, (size_t)((tail ? tail : e) - q));
		if (tail != NULL)
			t.it.stage = stage_span(tail, (size_t)(e - tail));
		if (t.it.stage == -1)
			t.it.stage = stage_span(cb, (size_t)(q - cb));
		t.it.remote_mta = host_in(cb, (size_t)(s - cb));
	} else {
		t.it.stage = stage_span(cb, cl);
		t.it.remote_mta = host_in(cb, cl);
	}
	free(cb);
	txt_add(c, &t);
	return j - i;
}

/*
 * rx_gmail - "The response from the remote server was:" (also "The
 * error that the other server returned was:", "The response was:")
 * with the reply on the rest of the line or the following lines.
 */
static size_t
rx_gmail(struct ctx *c, const struct span *l, size_t n, size_t i)
{
	static const char *const lead[] = {
	    "The response from the remote server was:",
	    "The error that the other server returned was:",
	    "The response was:" };
	const char	*f = NULL, *start;
	struct span	 r, h;
	struct rec	 t;
	size_t		 j, k, skip;

	for (k = 0; k < nitems(lead) && f == NULL; k++)
		if ((f = ci_find(l[i].p, l[i].len, lead[k])) != NULL)
			f += strlen(lead[k]);
	if (f == NULL)
		return 0;
	r = trim(f, l[i].len - (size_t)(f - l[i].p));
	j = i + 1;
	start = r.len > 0 ? r.p : NULL;
	if (start == NULL) {
		for (skip = 0; j < n && blank(&l[j]) && skip < 2; skip++)
			j++;
		if (j < n && !blank(&l[j]))
			start = l[j].p;
	}
	memset(&t, 0, sizeof(t));
	t.it.stage = -1;
	if (start != NULL) {
		while (j < n && !blank(&l[j]))
			j++;
		t.it.reply = norm_reply(start,
		    (size_t)(l[j - 1].p + l[j - 1].len - start));
	}
	t.it.recipient = back_rcpt(l, i, "delivered to ", 0);
	if (t.it.recipient == NULL)
		t.it.recipient = back_rcpt(l, i, "following recipient", 1);
	for (k = i; k-- > 0 && i - k <= 60; ) {
		/* "rejected by the server for the recipient domain D by H." */
		if ((f = ci_find(l[k].p, l[k].len, "recipient domain ")) ==
		    NULL || (f = ci_find(f, l[k].len - (size_t)(f - l[k].p),
		    " by ")) == NULL)
			continue;
		f += 4;
		host_at(f, l[k].len - (size_t)(f - l[k].p), &h);
		t.it.remote_mta = mkstr(h.p, h.len);
		break;
	}
	txt_add(c, &t);
	return j - i;
}

/*
 * back_rcpt - look back from line i (at most 60 lines) for a line with
 * the phrase; the address is the word after it, or with next set the
 * first word of the next non-blank line.
 */
static char *
back_rcpt(const struct span *l, size_t i, const char *phrase, int next)
{
	const char	*f;
	size_t		 k, m;

	for (k = i; k-- > 0 && i - k <= 60; ) {
		if ((f = ci_find(l[k].p, l[k].len, phrase)) == NULL)
			continue;
		if (!next) {
			f += strlen(phrase);
			return token_addr(f, l[k].len - (size_t)(f - l[k].p));
		}
		for (m = k + 1; m < i && blank(&l[m]); m++)
			;
		return m < i ? token_addr(l[m].p, l[m].len) : NULL;
	}
	return NULL;
}

/*
 * rx_exchange - "Remote Server returned '550 5.1.1 ...'" (the quoted
 * reply may run over a few lines) or "#550 5.1.1 ... ##"; the
 * recipient is the lone address on the line before, or the one in
 * "Your message to x@y couldn't be delivered".
 */
static size_t
rx_exchange(struct ctx *c, const struct span *l, size_t n, size_t i)
{
	const char	*p = l[i].p, *f, *q, *e = NULL;
	struct span	 t0 = trim(l[i].p, l[i].len);
	struct rec	 t;
	size_t		 len = l[i].len, j = i + 1, k;

	memset(&t, 0, sizeof(t));
	t.it.stage = -1;
	if ((f = ci_find(p, len, "Remote Server returned")) != NULL &&
	    (q = memchr(f, '\'', len - (size_t)(f - p) < 40 ?
	    len - (size_t)(f - p) : 40)) != NULL) {
		q++;
		for (j = i; j < n && j < i + 6 && (j == i || !blank(&l[j]));
		    j++) {
			f = j == i ? q : l[j].p;
			k = (size_t)(l[j].p + l[j].len - f);
			if ((e = mem_rchr(f, '\'', k)) != NULL)
				break;
		}
		if (e == NULL) {
			j = i;
			e = p + len;
		}
		t.it.reply = norm_reply(q, (size_t)(e - q));
		j++;
	} else if (t0.len > 5 && t0.p[0] == '#' &&
	    code_at(t0.p + 1, t0.len - 1) != 0) {
		q = t0.p + 1;
		e = ci_find(q, t0.len - 1, " ##");
		t.it.reply = norm_reply(q, e != NULL ? (size_t)(e - q) :
		    t0.len - 1);
	} else
		return 0;
	for (k = i; k-- > 0 && i - k <= 3; ) {
		if (blank(&l[k]))
			continue;
		t0 = trim(l[k].p, l[k].len);
		if (memchr(t0.p, ' ', t0.len) == NULL &&
		    memchr(t0.p, '\t', t0.len) == NULL)
			t.it.recipient = token_addr(t0.p, t0.len);
		break;
	}
	if (t.it.recipient == NULL)
		t.it.recipient = back_rcpt(l, i, "Your message to ", 0);
	txt_add(c, &t);
	return j - i;
}

/*
 * rx_exim - an indented lone address followed by more deeply indented
 * lines: "host H [IP]", "SMTP error from remote mail server after
 * RCPT TO:<x@y>:" and the reply, either after that colon or on the
 * following lines (optionally prefixed "host H [IP]: ").
 */
static size_t
rx_exim(struct ctx *c, const struct span *l, size_t n, size_t i)
{
	struct span	 t0, lt, h;
	struct rec	 t;
	const char	*f, *a, *e, *end;
	size_t		 ind, j, k, m;

	if (l[i].len == 0 || (l[i].p[0] != ' ' && l[i].p[0] != '\t'))
		return 0;
	t0 = trim(l[i].p, l[i].len);
	if (t0.len == 0 || t0.len > 512 || memchr(t0.p, '@', t0.len) == NULL)
		return 0;
	for (k = 0; k < t0.len; k++)
		if (isws((unsigned char)t0.p[k]))
			return 0;
	ind = (size_t)(t0.p - l[i].p);
	for (j = i + 1; j < n && !blank(&l[j]) &&
	    (size_t)(trim(l[j].p, l[j].len).p - l[j].p) > ind; j++)
		;
	memset(&t, 0, sizeof(t));
	t.it.stage = -1;
	t.it.recipient = addr_clean(t0.p, t0.len);
	end = j > i + 1 ? l[j - 1].p + l[j - 1].len : NULL;
	for (k = i + 1; k < j; k++) {
		lt = trim(l[k].p, l[k].len);
		if (ci_prefix(lt.p, lt.len, "(generated from ") &&
		    t.orcpt == NULL) {
			t.orcpt = addr_clean(lt.p + 16, lt.len - 16);
			continue;
		}
		if ((f = ci_find(lt.p, lt.len, "SMTP error from remote ")) !=
		    NULL) {
			m = lt.len - (size_t)(f - lt.p);
			a = ci_find(f, m, " after ");
			for (e = a != NULL ? a : f; e < lt.p + lt.len; e++)
				if (*e == ':' && (e + 1 == lt.p + lt.len ||
				    isws((unsigned char)e[1])))
					break;
			t.it.stage = stage_span(f, (size_t)(e - f));
			if (e < lt.p + lt.len)
				e++;
			lt = trim(e, (size_t)(lt.p + lt.len - e));
			if (lt.len > 0)
				exim_reply(&t, lt.p, (size_t)(end - lt.p));
			else if (k + 1 < j)
				exim_reply(&t, l[k + 1].p,
				    (size_t)(end - l[k + 1].p));
			break;
		}
		if (ci_prefix(lt.p, lt.len, "host ") && t.it.reply == NULL) {
			m = host_at(lt.p + 5, lt.len - 5, &h);
			if (t.it.remote_mta == NULL)
				t.it.remote_mta = mkstr(h.p, h.len);
			if (code_at(lt.p + 5 + m, lt.len - 5 - m) != 0)
				exim_reply(&t, lt.p, (size_t)(end - lt.p));
		}
	}
	txt_add(c, &t);
	return j - i;
}

/* exim_reply - reply from p[0..n), after an optional "host H [IP]: " */
static void
exim_reply(struct rec *t, const char *p, size_t n)
{
	struct span	 r = trim(p, n), h;
	size_t		 m;

	if (ci_prefix(r.p, r.len, "host ")) {
		m = host_at(r.p + 5, r.len - 5, &h);
		if (t->it.remote_mta == NULL)
			t->it.remote_mta = mkstr(h.p, h.len);
		r.p += 5 + m;
		r.len -= 5 + m;
	}
	free(t->it.reply);
	t->it.reply = norm_reply(r.p, r.len);
}

/* finish - code from the reply, and the status when Status: gave none */
static void
finish(struct dsn_item *it)
{
	char	 enh[16];
	size_t	 n;

	it->code = 0;
	if (it->reply == NULL)
		return;
	n = strlen(it->reply);
	it->code = code_at(it->reply, n);
	if (it->status != NULL)
		return;
	if (it->code != 0 && n > 4 && enh_at(it->reply + 4, n - 4, enh) > 0)
		it->status = xstrdup(enh);
	else if (it->code == 0 && enh_at(it->reply, n, enh) > 0)
		it->status = xstrdup(enh);
}

/*
 * dsn_merge - build the result. With a delivery-status part, its
 * records are the items, each completed from the text record for the
 * same address, else from the only text record without an address, or
 * from the first text record when there is a single item. Without one,
 * the text records are the items; a record without an address then
 * completes the others, and is dropped if that gave one of them a
 * reply or a stage (it was about them), else kept as an item.
 */
static void
dsn_merge(struct ctx *c, struct dsn *d)
{
	struct reclist	*L;
	struct rec	*lone = NULL, *t;
	size_t		 i, j, nlone = 0, nrcpt = 0;
	int		 used;

	for (i = 0; i < c->txt.n; i++) {
		if (c->txt.v[i].it.recipient == NULL) {
			lone = &c->txt.v[i];
			nlone++;
		} else
			nrcpt++;
	}
	if (c->dsn.n > 0) {
		for (i = 0; i < c->dsn.n; i++) {
			t = NULL;
			for (j = 0; j < c->txt.n && t == NULL; j++)
				if (rec_match(&c->dsn.v[i], &c->txt.v[j]))
					t = &c->txt.v[j];
			if (t == NULL && nlone == 1)
				t = lone;
			if (t == NULL && c->dsn.n == 1 && c->txt.n > 0)
				t = &c->txt.v[0];
			if (t != NULL)
				rec_copy(&c->dsn.v[i], t);
		}
		L = &c->dsn;
	} else {
		if (nlone > 0 && nrcpt > 0) {
			for (i = 0; i < c->txt.n; i++) {
				if (c->txt.v[i].it.recipient != NULL)
					continue;
				for (j = used = 0; j < c->txt.n; j++)
					if (c->txt.v[j].it.recipient != NULL)
						used |= rec_copy(&c->txt.v[j],
						    &c->txt.v[i]);
				c->txt.v[i].keep = !used;
			}
			for (i = j = 0; i < c->txt.n; i++) {
				t = &c->txt.v[i];
				if (t->it.recipient != NULL || t->keep)
					c->txt.v[j++] = *t;
				else
					rec_clear(t);
			}
			c->txt.n = j;
		}
		L = &c->txt;
	}
	d->items = L->n > 0 ? xcalloc(L->n, sizeof(*d->items)) : NULL;
	for (i = 0; i < L->n; i++) {
		free(L->v[i].orcpt);
		L->v[i].orcpt = NULL;
		d->items[i] = L->v[i].it;
		memset(&L->v[i].it, 0, sizeof(L->v[i].it));
		finish(&d->items[i]);
	}
	d->nitems = L->n;
	L->n = 0;
}

/* dsn_parse - walk the MIME tree, scan for stray fields, merge */
struct dsn *
dsn_parse(const char *text, size_t len)
{
	struct ctx	 c;
	struct dsn	*d;
	struct lines	 L;
	const struct span *v;
	size_t		 i, n;

	memset(&c, 0, sizeof(c));
	d = xcalloc(1, sizeof(*d));
	if (text == NULL)
		len = 0;
	lines_split(text, len, &L);
	v = L.v;
	n = L.n;
	if (n > 0 && v[0].len >= 5 && memcmp(v[0].p, "From ", 5) == 0) {
		v++;
		n--;
	}
	walk(&c, v, n, 0);
	if (!c.saw_dsn) {
		for (i = 0; i < n; i++)
			if (ci_prefix(v[i].p, v[i].len, "Reporting-MTA:") ||
			    ci_prefix(v[i].p, v[i].len, "Final-Recipient:") ||
			    ci_prefix(v[i].p, v[i].len,
			    "Original-Recipient:")) {
				dsn_fields(&c, v + i, n - i, 1);
				break;
			}
	}
	dsn_merge(&c, d);
	d->reporting_mta = c.reporting_mta;
	d->truncated = c.truncated | (c.dsn.full || c.txt.full ?
	    DSN_TRUNC_ITEMS : 0);
	for (i = 0; i < c.dsn.n; i++)
		rec_clear(&c.dsn.v[i]);
	for (i = 0; i < c.txt.n; i++)
		rec_clear(&c.txt.v[i]);
	free(c.dsn.v);
	free(c.txt.v);
	free(L.v);
	return d;
}

/* dsn_free - release a result and all its strings */
void
dsn_free(struct dsn *d)
{
	size_t	 i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nitems; i++) {
		free(d->items[i].recipient);
		free(d->items[i].action);
		free(d->items[i].status);
		free(d->items[i].remote_mta);
		free(d->items[i].reply);
	}
	free(d->items);
	free(d->reporting_mta);
	free(d);
}

/*
 * dsn_str.c - string helpers of the bounce parser.
 *
 * Bounded searches (ASCII case ignored) over a pointer and a length,
 * trimming and white-space collapsing, printable copies (dsn_mkstr(),
 * dsn_norm_reply()), reply and enhanced codes, addresses, MTA host
 * names, the SMTP stage named by a phrase ("in reply to RCPT TO
 * command"), line splitting and quoted-printable decoding. Every
 * returned string is newly allocated and belongs to the caller.
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dsn.h"
#include "dsn_int.h"
#include "log.h"
#include "record.h"
#include "reply.h"
#include "util.h"

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


/* dsn_lc - ASCII lower case */
int
dsn_lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* dsn_isws - white space, line ends included */
int
dsn_isws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	    c == '\v' || c == '\f';
}

/* dsn_ci_prefix - 1 if p[0..n) starts with s, ASCII case ignored */
int
dsn_ci_prefix(const char *p, size_t n, const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= n || dsn_lc((unsigned char)p[i]) !=
		    dsn_lc((unsigned char)s[i]))
			return 0;
	return 1;
}

/* dsn_ci_find - first s in p[0..n) (searched up to DSN_SCAN_MAX), or NULL */
const char *
dsn_ci_find(const char *p, size_t n, const char *s)
{
	size_t	 i, m = strlen(s);
	int	 c0 = dsn_lc((unsigned char)s[0]);

	if (n > DSN_SCAN_MAX)
		n = DSN_SCAN_MAX;
	if (m == 0 || m > n)
		return NULL;
	for (i = 0; i + m <= n; i++)
		if (dsn_lc((unsigned char)p[i]) == c0 && dsn_ci_prefix(p + i, n - i, s))
			return p + i;
	return NULL;
}

/* dsn_ci_rfind - last s in p[0..n) (searched up to DSN_SCAN_MAX), or NULL */
const char *
dsn_ci_rfind(const char *p, size_t n, const char *s)
{
	const char	*r = NULL, *f;
	size_t		 off = 0;

	if (n > DSN_SCAN_MAX)
		n = DSN_SCAN_MAX;
	while (off < n && (f = dsn_ci_find(p + off, n - off, s)) != NULL) {
		r = f;
		off = (size_t)(f - p) + 1;
	}
	return r;
}

/* dsn_mem_rchr - last byte c in p[0..n), or NULL */
const char *
dsn_mem_rchr(const char *p, int c, size_t n)
{
	while (n-- > 0)
		if ((unsigned char)p[n] == (unsigned char)c)
			return p + n;
	return NULL;
}

/* dsn_trim - p[0..n) without leading and trailing white space */
struct span
dsn_trim(const char *p, size_t n)
{
	struct span	 s;

	while (n > 0 && dsn_isws((unsigned char)*p)) {
		p++;
		n--;
	}
	while (n > 0 && dsn_isws((unsigned char)p[n - 1]))
		n--;
	s.p = p;
	s.len = n;
	return s;
}

/* dsn_blank - 1 if the line is empty or only white space */
int
dsn_blank(const struct span *l)
{
	return dsn_trim(l->p, l->len).len == 0;
}

/*
 * dsn_collapse - copy p[0..n) with every run of white space made a single
 * space and both ends trimmed, keeping at most cap bytes. Returns a
 * NUL-terminated buffer (which may hold NUL bytes; see *outlen).
 */
char *
dsn_collapse(const char *p, size_t n, size_t cap, size_t *outlen)
{
	char	*o;
	size_t	 i, w = 0;
	int	 sp = 0;

	o = xmalloc((n < cap ? n : cap) + 1);
	for (i = 0; i < n && w < cap; i++) {
		if (dsn_isws((unsigned char)p[i])) {
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

/* dsn_mkstr - printable single-line copy of p[0..n), NULL when empty */
char *
dsn_mkstr(const char *p, size_t n)
{
	char	*c, *s;
	size_t	 cl;

	c = dsn_collapse(p, n, DSN_MAX_STR, &cl);
	s = cl == 0 ? NULL : util_escape(c, cl);
	free(c);
	return s;
}

/*
 * dsn_enh_at - RFC 3463 code at the start of p[0..n) ("5.1.1" followed by
 * anything but a letter, digit or dot); copies it to out (16 bytes) and
 * returns its length, or returns 0.
 */
size_t
dsn_enh_at(const char *p, size_t n, char *out)
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

/* dsn_code_at - basic reply code at the start of p[0..n) ("550", "550-"), 0 */
int
dsn_code_at(const char *p, size_t n)
{
	if (n < 3 || p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '5' ||
	    !isdigit((unsigned char)p[2]))
		return 0;
	if (n > 3 && p[3] != ' ' && p[3] != '-')
		return 0;
	return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

/*
 * dsn_norm_reply - one-line printable reply from p[0..n): white space
 * collapsed, "550-" made "550 ", and the "550-"/"550 " prefixes (with
 * a repeated enhanced code) of joined continuation lines removed.
 * NULL when empty.
 */
char *
dsn_norm_reply(const char *p, size_t n)
{
	char	*c, *s, enh[16];
	size_t	 cl, r, w, el = 0;
	int	 code, dash;
	char	 sep;

	c = dsn_collapse(p, n, DSN_MAX_STR, &cl);
	if (cl == 0) {
		free(c);
		return NULL;
	}
	if ((code = dsn_code_at(c, cl)) != 0 && cl > 4) {
		dash = c[3] == '-';
		c[3] = ' ';
		el = dsn_enh_at(c + 4, cl - 4, enh);
		for (r = w = 4; r < cl; ) {
			sep = r + 3 < cl ? c[r + 3] : '\0';
			if (c[w - 1] == ' ' && dsn_code_at(c + r, cl - r) == code &&
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
 * dsn_addr_clean - address from a field value or a text token: an
 * "rfc822;" type, angle brackets and surrounding punctuation removed.
 */
char *
dsn_addr_clean(const char *p, size_t n)
{
	struct span	 t = dsn_trim(p, n);
	const char	*semi;
	size_t		 i;

	semi = memchr(t.p, ';', t.len < 64 ? t.len : 64);
	if (semi != NULL && memchr(t.p, '@', (size_t)(semi - t.p)) == NULL &&
	    memchr(t.p, '<', (size_t)(semi - t.p)) == NULL)
		t = dsn_trim(semi + 1, t.len - (size_t)(semi + 1 - t.p));
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
	return dsn_mkstr(t.p, t.len);
}

/* dsn_token_addr - the first word of p[0..n) as an address if it has an @ */
char *
dsn_token_addr(const char *p, size_t n)
{
	struct span	 t = dsn_trim(p, n);
	size_t		 i;

	for (i = 0; i < t.len && !dsn_isws((unsigned char)t.p[i]); i++)
		;
	if (i == 0 || i > 512 || memchr(t.p, '@', i) == NULL)
		return NULL;
	return dsn_addr_clean(t.p, i);
}

/* dsn_angle_addr - "<x@y>" inside an already printable string, or NULL */
char *
dsn_angle_addr(const char *s)
{
	const char	*lt, *gt;

	if ((lt = strchr(s, '<')) == NULL || (gt = strchr(lt, '>')) == NULL)
		return NULL;
	if (memchr(lt, '@', (size_t)(gt - lt)) == NULL ||
	    memchr(lt, ' ', (size_t)(gt - lt)) != NULL)
		return NULL;
	return xstrndup(lt + 1, (size_t)(gt - lt - 1));
}

/* dsn_mta_host - host of a Reporting-/Remote-MTA value: no "dns;", first word */
char *
dsn_mta_host(const char *p, size_t n)
{
	struct span	 t = dsn_trim(p, n);
	const char	*semi;
	size_t		 i;

	semi = memchr(t.p, ';', t.len < 32 ? t.len : 32);
	if (semi != NULL && memchr(t.p, ' ', (size_t)(semi - t.p)) == NULL)
		t = dsn_trim(semi + 1, t.len - (size_t)(semi + 1 - t.p));
	for (i = 0; i < t.len && !dsn_isws((unsigned char)t.p[i]); i++)
		;
	while (i > 1 && t.p[i - 1] == '.')
		i--;
	return dsn_mkstr(t.p, i);
}

/*
 * dsn_host_at - read "NAME", "NAME[IP]" or "NAME [IP]" at p[0..n) into *h
 * (trailing dot dropped); returns the offset after it and after a ":"
 * and spaces that follow.
 */
size_t
dsn_host_at(const char *p, size_t n, struct span *h)
{
	size_t	 i = 0, e;

	while (i < n && !dsn_isws((unsigned char)p[i]) && p[i] != '[' &&
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

/* dsn_host_in - host named in p[0..n) by "host X", "connect to X", "with X" */
char *
dsn_host_in(const char *p, size_t n)
{
	static const char *const lead[] = { "host ", "connect to ",
	    "connection with ", "conversation with " };
	const char	*f;
	struct span	 h;
	size_t		 i, off;

	for (i = 0; i < nitems(lead); i++) {
		for (off = 0; off < n &&
		    (f = dsn_ci_find(p + off, n - off, lead[i])) != NULL;
		    off = (size_t)(f - p) + 1) {
			if (f > p && isalnum((unsigned char)f[-1]))
				continue;
			f += strlen(lead[i]);
			dsn_host_at(f, n - (size_t)(f - p), &h);
			if (h.len > 0 && memchr(h.p, '.', h.len) != NULL)
				return dsn_mkstr(h.p, h.len);
		}
	}
	return NULL;
}

/* dsn_stage_word - stage of the command word at p[0..n); -1 if none */
int
dsn_stage_word(const char *p, size_t n, int dot)
{
	size_t	 i, m;

	if (dot && n > 0 && p[0] == '.' &&
	    (n == 1 || dsn_isws((unsigned char)p[1])))
		return STAGE_EOD;
	for (i = 0; i < nitems(stage_words); i++) {
		m = strlen(stage_words[i].s);
		if (dsn_ci_prefix(p, n, stage_words[i].s) &&
		    (m == n || !isalnum((unsigned char)p[m])))
			return stage_words[i].stage;
	}
	return -1;
}

/* dsn_stage_span - stage of the first stage phrase in p[0..n), -1 if none */
int
dsn_stage_span(const char *p, size_t n)
{
	size_t	 i, j, m;
	int	 st;

	for (i = 0; i < n; i++) {
		for (j = 0; j < nitems(stage_whole); j++)
			if (dsn_lc((unsigned char)p[i]) ==
			    dsn_lc((unsigned char)stage_whole[j].s[0]) &&
			    dsn_ci_prefix(p + i, n - i, stage_whole[j].s))
				return stage_whole[j].stage;
		for (j = 0; j < nitems(stage_lead); j++) {
			if (dsn_lc((unsigned char)p[i]) !=
			    dsn_lc((unsigned char)stage_lead[j].s[0]) ||
			    !dsn_ci_prefix(p + i, n - i, stage_lead[j].s))
				continue;
			if (!stage_lead[j].stage && i > 0 &&
			    isalnum((unsigned char)p[i - 1]))
				continue;
			m = strlen(stage_lead[j].s);
			if ((st = dsn_stage_word(p + i + m, n - i - m,
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
	return dsn_stage_span(s, strlen(s));
}

/* dsn_lines_split - cut p[0..len) at LF, dropping a CR before it */
void
dsn_lines_split(const char *p, size_t len, struct lines *L)
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

/* dsn_hexval - value of a hex digit, -1 if not one */
int
dsn_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = dsn_lc(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* dsn_qp_decode - quoted-printable p[0..n) into a new buffer */
char *
dsn_qp_decode(const char *p, size_t n, size_t *outlen)
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
		if (i + 2 < n && (h = dsn_hexval((unsigned char)p[i + 1])) >= 0 &&
		    (l = dsn_hexval((unsigned char)p[i + 2])) >= 0) {
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


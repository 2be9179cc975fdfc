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
#include "dsn_int.h"
#include "log.h"
#include "record.h"
#include "reply.h"
#include "util.h"

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
static int	 read_dsn(struct ctx *, const struct span *, size_t,
		    const char *);
static void	 read_html(struct ctx *, const struct span *, size_t,
		    const char *);
static void	 group_flush(struct ctx *, struct group *);
static struct span diag_after_host(struct span);
static int	 rec_match(const struct rec *, const struct rec *);
static void	 rec_take(struct rec *, struct rec *);
static int	 rec_copy(struct rec *, const struct rec *);
static void	 finish(struct dsn_item *);
static char	*prose_of(const struct span *, size_t);
static int	 reply_junk(const char *);
static int	 reply_junk_words(const char *, size_t);
static char	*text_unaddr(char *);
static size_t	 mail_head_end(const struct span *, size_t);
static void	 dsn_fields(struct ctx *, const struct span *, size_t, int);
static void	 dsn_merge(struct ctx *, struct dsn *);

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
	    (l[j].p[0] == ' ' || l[j].p[0] == '\t') && !dsn_blank(&l[j]); j++)
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

	c = dsn_collapse(v.p, v.len, 2048, &cl);
	for (i = 0; i < cl && i < sizeof(m->type) - 1 && c[i] != ';' &&
	    c[i] != ' '; i++)
		m->type[i] = (char)dsn_lc((unsigned char)c[i]);
	m->type[i] = '\0';
	for (b = c; (b = dsn_ci_find(b, cl - (size_t)(b - c), "boundary=")) !=
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
		if (dsn_blank(&l[i]))
			return i + 1;
		if (!hdr_name(&l[i], &nl))
			return i;
		j = field_end(l, n, i);
		v = field_value(l, i, j);
		if (nl == 12 && dsn_ci_prefix(l[i].p, nl, "content-type")) {
			ctype_parse(m, v);
		} else if (nl == 25 &&
		    dsn_ci_prefix(l[i].p, nl, "content-transfer-encoding")) {
			v = dsn_trim(v.p, v.len);
			for (k = 0; k < v.len && k < sizeof(m->cte) - 1 &&
			    !dsn_isws((unsigned char)v.p[k]) && v.p[k] != ';'; k++)
				m->cte[k] = (char)dsn_lc((unsigned char)v.p[k]);
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
		*own = dsn_qp_decode(p, n, &dl);
		p = *own;
		n = dl;
	} else if (strcmp(cte, "base64") == 0) {
		*own = util_b64_decode(p, n, &dl, 0);
		p = *own;
		n = dl;
	}
	dsn_lines_split(p, n, L);
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
		/* a mislabelled part of prose is read as text */
		if (read_dsn(c, l + body, n - body, m.cte))
			c->saw_dsn = 1;
		else
			read_human(c, l + body, n - body, m.cte);
	} else if (strcmp(m.type, "message/rfc822") == 0 && !c->saw_dsn &&
	    c->dsn.n == 0 && depth < DSN_MAX_DEPTH) {
		struct mime	 in;

		/* a bounce forwarded whole (by a filter, with a disclaimer):
		   its report is read; a returned message is not */
		(void)parse_headers(l + body, n - body, &in);
		if (strcmp(in.type, "multipart/report") == 0)
			walk(c, l + body, n - body, depth + 1);
	} else if (strcmp(m.type, "text/html") == 0) {
		read_html(c, l + body, n - body, m.cte);
	} else if (strncmp(m.type, "text/", 5) == 0 &&
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
		t = dsn_trim(b[i].p, b[i].len);
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
	dsn_human(c, L.v, L.n);
	if (c->prose == NULL || c->prose_html) {
		char	*p = prose_of(L.v, L.n);

		if (p != NULL) {
			free(c->prose);
			c->prose = p;
			c->prose_html = 0;
		}
	}
	free(L.v);
	free(own);
}

/*
 * read_html - an HTML part is not scanned for replies, but when no text
 * part said anything, its words (tags dropped, <br>, <p> and <div> made
 * line ends) are the bounce's own words
 */
static void
read_html(struct ctx *c, const struct span *b, size_t nb, const char *cte)
{
	struct lines	 L, T;
	char		*own, *t;
	size_t		 i, j, k, w = 0, cap = 0;
	int		 intag = 0;

	if (c->prose != NULL)
		return;
	part_lines(b, nb, cte, &L, &own);
	for (i = 0; i < L.n; i++)
		cap += L.v[i].len + 1;
	t = xmalloc(cap + 1);
	for (i = 0; i < L.n; i++) {
		for (j = 0; j < L.v[i].len; j++) {
			const char *p = L.v[i].p + j;

			if (*p == '<') {
				intag = 1;
				k = L.v[i].len - j;
				if (dsn_ci_prefix(p, k, "<br") ||
				    dsn_ci_prefix(p, k, "<p") ||
				    dsn_ci_prefix(p, k, "</p") ||
				    dsn_ci_prefix(p, k, "<div") ||
				    dsn_ci_prefix(p, k, "</div"))
					t[w++] = '\n';
			} else if (*p == '>' && intag)
				intag = 0;
			else if (!intag)
				t[w++] = *p;
		}
		t[w++] = intag ? ' ' : '\n';
	}
	dsn_lines_split(t, w, &T);
	c->prose = prose_of(T.v, T.n);
	c->prose_html = c->prose != NULL;
	free(T.v);
	free(t);
	free(L.v);
	free(own);
}

/*
 * Lines that end a bounce's own words: the returned message or its
 * headers follow.
 */
static const char *const prose_end[] = {
	"received:", "return-path:", "message-id:",
	"--- below this line", "original message", "returned message",
	"message text follows", "copy of the message", "attachment is a copy",
	"original message follows", "headers of the original",
	"------ this is a copy", "unsent message below",
};

/*
 * prose_of - the first lines of a text part (up to the returned message
 * or 600 bytes) collapsed into one line: what the bounce says when no
 * reply can be read from it. NULL when empty.
 */
static char *
prose_of(const struct span *l, size_t n)
{
	char	 buf[600];
	size_t	 i, k, w = 0;

	for (i = 0; i < n && w + 2 < sizeof(buf); i++) {
		struct span t = dsn_trim(l[i].p, l[i].len);

		for (k = 0; k < nitems(prose_end); k++)
			if (dsn_ci_find(t.p, t.len, prose_end[k]) != NULL)
				break;
		if (k < nitems(prose_end))
			break;
		/* MIME scaffolding of a part the walk could not split */
		if (t.len == 0 || t.p[0] == '-' ||
		    dsn_ci_prefix(t.p, t.len, "content-") ||
		    dsn_ci_prefix(t.p, t.len, "mime-version:") ||
		    dsn_ci_find(t.p, t.len, "mime format") != NULL ||
		    dsn_ci_find(t.p, t.len, "mime-encapsulated") != NULL ||
		    (t.len > 3 && memcmp(t.p + t.len - 3, "==_", 3) == 0))
			continue;
		if (t.len > sizeof(buf) - w - 2)
			t.len = sizeof(buf) - w - 2;
		if (w > 0)
			buf[w++] = ' ';
		memcpy(buf + w, t.p, t.len);
		w += t.len;
	}
	return w == 0 ? NULL : dsn_mkstr(buf, w);
}

/*
 * reply_junk - whether a recogniser's "reply" is a fragment that says
 * nothing ("MAIL From:", "; Tue, 28 Feb 2006 ...", "(expanded from"):
 * no reply code leads it, and it ends in ':' or a quote, starts with
 * ';', an unclosed '(' or '"', or holds fewer than two words of three
 * letters
 */
static int
reply_junk(const char *r)
{
	size_t	 n = strlen(r);

	/* a reply code leads a real reply, however short ("550 5.1.1 no") */
	if (n >= 3 && r[0] >= '2' && r[0] <= '5' &&
	    isdigit((unsigned char)r[1]) && isdigit((unsigned char)r[2]))
		return 0;
	if (r[0] == '(' && strchr(r, ')') != NULL)
		return 0;
	if (n >= 3 && strcasecmp(r + n - 3, " to") == 0)
		return 1;
	if (n == 0 || r[n - 1] == ':' || r[n - 1] == '\'' ||
	    r[0] == ';' || r[0] == '(' || r[0] == '"')
		return 1;
	return reply_junk_words(r, n);
}

/* reply_junk_words - 1 if p[0..n) holds fewer than two 3-letter words */
static int
reply_junk_words(const char *p, size_t n)
{
	size_t	 run = 0, words = 0, i;

	for (i = 0; i <= n; i++) {
		if (i < n && isalpha((unsigned char)p[i]))
			run++;
		else {
			if (run >= 3)
				words++;
			run = 0;
		}
	}
	return words < 2;
}

/*
 * text_unaddr - the bounce's own words without the mail addresses in
 * them (an address is no evidence: "user8@example.org" would read as
 * "user"); s is changed in place and returned, NULL if nothing is left
 */
static char *
text_unaddr(char *s)
{
	char	*at, *b, *e;
	size_t	 n;

	while ((at = strchr(s, '@')) != NULL) {
		for (b = at; b > s && strchr(" <>()[]\"',;", b[-1]) == NULL;
		    b--)
			;
		for (e = at + 1; *e != '\0' && strchr(" <>()[]\"',;",
		    *e) == NULL; e++)
			;
		if (b > s && b[-1] == '<' && *e == '>') {
			b--;
			e++;
		}
		memmove(b, e, strlen(e) + 1);
	}
	/* the spaces the addresses leave, twice or at the ends */
	for (b = e = s; *e != '\0'; e++)
		if (*e != ' ' || (b > s && b[-1] != ' '))
			*b++ = *e;
	while (b > s && b[-1] == ' ')
		b--;
	*b = '\0';
	n = strlen(s);
	if (n == 0 || reply_junk_words(s, n)) {
		free(s);
		return NULL;
	}
	return s;
}

/*
 * read_dsn - decode a delivery-status part and read its fields; 0 when
 * it holds none (no Reporting-MTA:, no recipient group): prose that a
 * mailer labelled message/delivery-status
 */
static int
read_dsn(struct ctx *c, const struct span *b, size_t nb, const char *cte)
{
	struct lines	 L;
	char		*own;
	size_t		 before = c->dsn.n;
	int		 had = c->reporting_mta != NULL;

	part_lines(b, nb, cte, &L, &own);
	dsn_fields(c, L.v, L.n, 0);
	free(L.v);
	free(own);
	return c->dsn.n > before || c->dsn.full ||
	    (!had && c->reporting_mta != NULL);
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
		if (dsn_blank(&l[i])) {
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
			    !dsn_ci_prefix(l[i].p, nl, names[k].name))
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

/*
 * diag_after_host - a Diagnostic-Code value that names the host before
 * its reply ("host mx.example.net:25 says: 550 5.4.1 ...", "host H
 * said: 550 ..."): the part from the reply code on; else t itself
 */
static struct span
diag_after_host(struct span t)
{
	static const char *const verb[] = { " says:", " said:" };
	const char	*f;
	struct span	 r;
	size_t		 k, n = t.len < 300 ? t.len : 300;

	if (!dsn_ci_prefix(t.p, t.len, "host "))
		return t;
	for (k = 0; k < nitems(verb); k++) {
		if ((f = dsn_ci_find(t.p, n, verb[k])) == NULL)
			continue;
		f += strlen(verb[k]);
		r = dsn_trim(f, t.len - (size_t)(f - t.p));
		if (dsn_code_at(r.p, r.len) != 0)
			return r;
	}
	return t;
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
		c->reporting_mta = dsn_mta_host(g->rmta.p, g->rmta.len);
	/* a fragment pasted alone has a Status: or Diagnostic-Code: only */
	if ((g->frcpt.p != NULL || g->orcpt.p != NULL || g->diag.p != NULL ||
	    g->status.p != NULL) && (r = dsn_rec_add(&c->dsn)) != NULL) {
		if (g->frcpt.p != NULL)
			r->it.recipient = dsn_addr_clean(g->frcpt.p, g->frcpt.len);
		if (g->orcpt.p != NULL)
			r->orcpt = dsn_addr_clean(g->orcpt.p, g->orcpt.len);
		if (r->it.recipient == NULL && r->orcpt != NULL)
			r->it.recipient = xstrdup(r->orcpt);
		if (g->action.p != NULL &&
		    (r->it.action = dsn_mkstr(g->action.p, g->action.len)) != NULL)
			for (s = r->it.action; *s != '\0'; s++)
				*s = (char)dsn_lc((unsigned char)*s);
		if (g->status.p != NULL) {
			t = dsn_trim(g->status.p, g->status.len);
			if (dsn_enh_at(t.p, t.len, enh) > 0)
				r->it.status = xstrdup(enh);
		}
		if (g->remote.p != NULL)
			r->it.remote_mta = dsn_mta_host(g->remote.p, g->remote.len);
		if (g->diag.p != NULL) {
			/* "smtp; 550 ...": other types only if they hold one */
			t = dsn_trim(g->diag.p, g->diag.len);
			p = memchr(t.p, ';', t.len < 32 ? t.len : 32);
			smtp = 0;
			if (p != NULL && memchr(t.p, ' ', (size_t)(p - t.p)) ==
			    NULL) {
				i = (size_t)(p - t.p);
				smtp = i == 4 && dsn_ci_prefix(t.p, i, "smtp");
				t = dsn_trim(p + 1, t.len - i - 1);
			}
			/* "smtp; host H says: 550 ...": the reply after it */
			if (smtp && dsn_code_at(t.p, t.len) == 0)
				t = diag_after_host(t);
			/* "X-Unix; 255" is an exit status, not a reply */
			if (smtp || (dsn_code_at(t.p, t.len) != 0 &&
			    t.len > 4 && (t.p[3] == ' ' || t.p[3] == '-') &&
			    (t.p[0] == '4' || t.p[0] == '5')))
				r->it.reply = dsn_norm_reply(t.p, t.len);
			/* a mailer's own words under a type of its own
			   ("X-Boxbe-Notice; Sender not pre-approved"): the
			   item's text, before the bounce's prose */
			else if (!reply_junk_words(t.p, t.len))
				r->it.text = dsn_norm_reply(t.p, t.len);
		}
	}
	memset(g, 0, sizeof(*g));
}

/* dsn_rec_add - a new empty record at the end of L, NULL when L is full */
struct rec *
dsn_rec_add(struct reclist *L)
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

/* dsn_rec_clear - free the strings of a record and empty it */
void
dsn_rec_clear(struct rec *r)
{
	free(r->it.recipient);
	free(r->it.action);
	free(r->it.status);
	free(r->it.remote_mta);
	free(r->it.reply);
	free(r->it.text);
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
	TAKE(d, s, it.text);
	TAKE(d, s, orcpt);
	if (d->it.stage == -1)
		d->it.stage = s->it.stage;
}

/*
 * rec_copy - copy into d every field d lacks (recipient excepted; a
 * reply without a code when d has a text of its own); returns 1 if d
 * gained a reply or a stage.
 */
static int
rec_copy(struct rec *d, const struct rec *s)
{
	int	 gained;

	gained = d->it.stage == -1 && s->it.stage != -1;
	COPY(d, s, it.action);
	COPY(d, s, it.remote_mta);
	/* a DSN's own words beat a code-less line guessed from the text */
	if (d->it.reply == NULL && s->it.reply != NULL &&
	    (d->it.text == NULL ||
	    dsn_code_at(s->it.reply, strlen(s->it.reply)) != 0)) {
		d->it.reply = xstrdup(s->it.reply);
		gained = 1;
	}
	COPY(d, s, it.text);
	if (d->it.stage == -1)
		d->it.stage = s->it.stage;
	return gained;
}

/*
 * dsn_txt_add - add a record found in the text, merging it into an earlier
 * one for the same address. Takes the strings of *t and clears it.
 */
void
dsn_txt_add(struct ctx *c, struct rec *t)
{
	struct rec	*r;
	char		 enh[16];
	size_t		 i;

	if (t->it.recipient == NULL && t->it.reply != NULL &&
	    (t->it.stage == STAGE_RCPT ||
	    (strlen(t->it.reply) > 4 &&
	    dsn_enh_at(t->it.reply + 4, strlen(t->it.reply + 4), enh) > 0 &&
	    enh[1] == '.' && enh[2] == '1' && enh[3] == '.' &&
	    enh[4] >= '1' && enh[4] <= '6' && enh[5] == '\0')))
		t->it.recipient = dsn_angle_addr(t->it.reply);
	if (t->it.recipient == NULL && t->it.reply == NULL &&
	    t->it.text == NULL && t->it.stage == -1) {
		dsn_rec_clear(t);
		return;
	}
	for (i = 0; t->it.recipient != NULL && i < c->txt.n; i++)
		if (rec_match(&c->txt.v[i], t)) {
			rec_take(&c->txt.v[i], t);
			dsn_rec_clear(t);
			return;
		}
	if ((r = dsn_rec_add(&c->txt)) != NULL) {
		*r = *t;
		memset(t, 0, sizeof(*t));
	}
	dsn_rec_clear(t);
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
	it->code = dsn_code_at(it->reply, n);
	if (it->status != NULL)
		return;
	if (it->code != 0 && n > 4 && dsn_enh_at(it->reply + 4, n - 4, enh) > 0)
		it->status = xstrdup(enh);
	else if (it->code == 0 && dsn_enh_at(it->reply, n, enh) > 0)
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
					dsn_rec_clear(t);
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
		/* no reply read: the bounce's own words say why */
		if (d->items[i].reply != NULL &&
		    reply_junk(d->items[i].reply)) {
			free(d->items[i].reply);
			d->items[i].reply = NULL;
		}
		if (d->items[i].reply != NULL) {
			free(d->items[i].text);
			d->items[i].text = NULL;
		} else if (c->prose != NULL && d->items[i].text == NULL)
			d->items[i].text = xstrdup(c->prose);
		if (d->items[i].text != NULL)
			d->items[i].text = text_unaddr(d->items[i].text);
		finish(&d->items[i]);
	}
	d->nitems = L->n;
	L->n = 0;
}

/*
 * mail_head_end - the index of the first body line when the text opens
 * with a mail message's header block (fields up to a blank line, at
 * least two of From:, Date:, Received:, Message-ID:, Return-Path:),
 * else 0
 */
static size_t
mail_head_end(const struct span *l, size_t n)
{
	static const char *const mail[] = {
		"from:", "date:", "received:", "message-id:", "return-path:",
	};
	size_t		 i, k, nl, seen = 0;

	for (i = 0; i < n && !dsn_blank(&l[i]); i = field_end(l, n, i)) {
		if (!hdr_name(&l[i], &nl))
			return 0;
		for (k = 0; k < sizeof(mail) / sizeof(mail[0]); k++)
			if (dsn_ci_prefix(l[i].p, l[i].len, mail[k]))
				seen++;
	}
	return i < n && seen >= 2 ? i + 1 : 0;
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
	int		 frag;

	memset(&c, 0, sizeof(c));
	d = xcalloc(1, sizeof(*d));
	if (text == NULL)
		len = 0;
	dsn_lines_split(text, len, &L);
	v = L.v;
	n = L.n;
	/* blank lines before the headers (a paste, a saved file with a
	   line of spaces on top) would make the header block empty */
	while (n > 0 && dsn_blank(&v[0])) {
		v++;
		n--;
	}
	if (n > 0 && v[0].len >= 5 && memcmp(v[0].p, "From ", 5) == 0) {
		v++;
		n--;
	}
	walk(&c, v, n, 0);
	if (!c.saw_dsn) {
		/* a fragment pasted alone: Action:, Status:, Diagnostic-Code: */
		for (i = 0, frag = 0; i < n && !frag; i++)
			frag = dsn_ci_prefix(v[i].p, v[i].len,
			    "Diagnostic-Code:");
		for (i = 0; i < n; i++)
			if (dsn_ci_prefix(v[i].p, v[i].len, "Reporting-MTA:") ||
			    dsn_ci_prefix(v[i].p, v[i].len, "Final-Recipient:") ||
			    dsn_ci_prefix(v[i].p, v[i].len,
			    "Original-Recipient:") || (frag &&
			    (dsn_ci_prefix(v[i].p, v[i].len, "Action:") ||
			    dsn_ci_prefix(v[i].p, v[i].len, "Status:") ||
			    dsn_ci_prefix(v[i].p, v[i].len,
			    "Diagnostic-Code:")))) {
				dsn_fields(&c, v + i, n - i, 1);
				break;
			}
	}
	/*
	 * a pasted text the MIME walk took for a header block; a message's
	 * own header block is no bounce text (its Authentication-Results:
	 * "domain of <addr> designates ..." is not a reply)
	 */
	if (c.dsn.n == 0 && c.txt.n == 0 && n > 0) {
		i = mail_head_end(v, n);
		dsn_human(&c, v + i, n - i);
	}
	dsn_merge(&c, d);
	d->reporting_mta = c.reporting_mta;
	d->truncated = c.truncated | (c.dsn.full || c.txt.full ?
	    DSN_TRUNC_ITEMS : 0);
	for (i = 0; i < c.dsn.n; i++)
		dsn_rec_clear(&c.dsn.v[i]);
	for (i = 0; i < c.txt.n; i++)
		dsn_rec_clear(&c.txt.v[i]);
	free(c.dsn.v);
	free(c.txt.v);
	free(c.prose);
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
		free(d->items[i].text);
	}
	free(d->items);
	free(d->reporting_mta);
	free(d);
}

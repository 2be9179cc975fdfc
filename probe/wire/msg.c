/*
 * msg.c - test message and input checks (see include/msg.h).
 *
 * Wire form (RFC 5321 4.5.2, 2.3.8): every LF, CR LF or lone CR ends a
 * line and is sent as CR LF; a line that starts with "." gets a second
 * "."; the message ends with CR LF "." CR LF. A NUL byte is refused:
 * without BINARYMIME it cannot be sent, and silently dropping it would
 * change the message.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "log.h"
#include "msg.h"
#include "util.h"
#include "valid.h"

static int	header_named(const char *, const char *, size_t);

int
msg_read(const char *path, char **out, size_t *outlen, char *err,
    size_t errlen)
{
	return util_read_file(path, MSG_MAX_SIZE, out, outlen, err, errlen);
}

int
msg_wire(const char *raw, size_t len, char **out, size_t *outlen, char *err,
    size_t errlen)
{
	struct util_buf	 b = { NULL, 0, 0 };
	size_t		 i, start = 0;
	int		 bol = 1;

	if (memchr(raw, '\0', len) != NULL) {
		snprintf(err, errlen, "the message contains a NUL byte at "
		    "offset %zu", (size_t)((const char *)memchr(raw, '\0',
		    len) - raw));
		return -1;
	}
	util_buf_add(&b, "", 0);
	for (i = 0; i < len; i++) {
		if (bol && raw[i] == '.')
			util_buf_add(&b, ".", 1);
		bol = 0;
		if (raw[i] != '\r' && raw[i] != '\n')
			continue;
		util_buf_add(&b, raw + start, i - start);
		util_buf_add(&b, "\r\n", 2);
		if (raw[i] == '\r' && i + 1 < len && raw[i + 1] == '\n')
			i++;
		start = i + 1;
		bol = 1;
		/* the dot check above runs on the next byte */
	}
	if (start < len) {
		util_buf_add(&b, raw + start, len - start);
		util_buf_add(&b, "\r\n", 2);
	}
	util_buf_add(&b, ".\r\n", 3);
	*out = b.p;
	*outlen = b.len;
	return 0;
}

/* header_named - 1 if header line h has field name name (len n) */
static int
header_named(const char *h, const char *name, size_t n)
{
	return strncasecmp(h, name, n) == 0 && h[n] == ':';
}

/*
 * The two test strings, from their public definitions, put together at
 * run time so that neither this file nor the program matches a scanner
 * on its own: EICAR (eicar.org, the 68-byte anti-virus test file) and
 * GTUBE (SpamAssassin's Generic Test for Unsolicited Bulk Email).
 */
static const char eicar_a[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$";
static const char eicar_b[] = "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
static const char gtube_a[] = "XJS*C4JDBQADN1.NSBN3*2IDNEN*";
static const char gtube_b[] = "GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

/* msg_eicar - the EICAR test file, 68 bytes */
const char *
msg_eicar(void)
{
	static char	 s[sizeof(eicar_a) + sizeof(eicar_b)];

	if (s[0] == '\0')
		snprintf(s, sizeof(s), "%s%s", eicar_a, eicar_b);
	return s;
}

/* msg_gtube - the GTUBE string */
const char *
msg_gtube(void)
{
	static char	 s[sizeof(gtube_a) + sizeof(gtube_b)];

	if (s[0] == '\0')
		snprintf(s, sizeof(s), "%s%s", gtube_a, gtube_b);
	return s;
}

/* msg_mime_type - a MIME type by extension (any case) */
const char *
msg_mime_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ "txt", "text/plain" }, { "text", "text/plain" },
		{ "html", "text/html" }, { "htm", "text/html" },
		{ "csv", "text/csv" }, { "ics", "text/calendar" },
		{ "xml", "application/xml" }, { "json", "application/json" },
		{ "pdf", "application/pdf" }, { "zip", "application/zip" },
		{ "gz", "application/gzip" }, { "tar", "application/x-tar" },
		{ "doc", "application/msword" },
		{ "docx", "application/vnd.openxmlformats-officedocument."
		    "wordprocessingml.document" },
		{ "xls", "application/vnd.ms-excel" },
		{ "xlsx", "application/vnd.openxmlformats-officedocument."
		    "spreadsheetml.sheet" },
		{ "png", "image/png" }, { "jpg", "image/jpeg" },
		{ "jpeg", "image/jpeg" }, { "gif", "image/gif" },
		{ "svg", "image/svg+xml" }, { "webp", "image/webp" },
		{ "eml", "message/rfc822" },
		{ "exe", "application/x-msdownload" },
		{ "com", "application/x-msdownload" },
	};
	const char	*dot = strrchr(name, '.');
	size_t		 i;

	if (dot != NULL && strchr(dot, '/') == NULL)
		for (i = 0; i < nitems(types); i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

/* has8 - 1 if one of the n bytes at s is 8-bit */
static int
has8(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/* text_scan - whether text has 8-bit bytes, a line over 998 octets */
static void
text_scan(const char *s, size_t n, int *eight, int *longline)
{
	size_t	 i, col = 0;

	*eight = *longline = 0;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] >= 0x80)
			*eight = 1;
		if (s[i] == '\r' || s[i] == '\n')
			col = 0;
		else if (++col > VALID_MAX_HEADER)
			*longline = 1;
	}
}

/* qp_encode - text as quoted-printable (RFC 2045 6.7), CRLF lines */
static void
qp_encode(struct util_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t		 i, col = 0;
	char		 enc[4];
	int		 eol, need;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r' || p[i] == '\n') {
			util_buf_add(b, "\r\n", 2);
			if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
				i++;
			col = 0;
			continue;
		}
		eol = i + 1 == n || p[i + 1] == '\r' || p[i + 1] == '\n';
		need = p[i] >= 0x80 || p[i] == '=' || (p[i] < 32 &&
		    p[i] != '\t') || p[i] == 127 || ((p[i] == ' ' ||
		    p[i] == '\t') && eol) || (p[i] == '.' && col == 0);
		if (col + (need ? 3 : 1) > 75) {
			util_buf_add(b, "=\r\n", 3);	/* soft break */
			col = 0;
		}
		if (need) {
			snprintf(enc, sizeof(enc), "=%02X", p[i]);
			util_buf_add(b, enc, 3);
			col += 3;
		} else {
			util_buf_add(b, p + i, 1);
			col++;
		}
	}
	if (col > 0)
		util_buf_add(b, "\r\n", 2);
}

/* b64_encode - data as base64 in lines of 76 (RFC 2045 6.8) */
static void
b64_encode(struct util_buf *b, const char *s, size_t n)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *)s;
	char		 q[4];
	size_t		 i, col = 0;
	unsigned long	 v;

	for (i = 0; i < n; i += 3) {
		v = (unsigned long)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned long)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		q[0] = al[(v >> 18) & 63];
		q[1] = al[(v >> 12) & 63];
		q[2] = i + 1 < n ? al[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? al[v & 63] : '=';
		util_buf_add(b, q, 4);
		if ((col += 4) == 76) {
			util_buf_add(b, "\r\n", 2);
			col = 0;
		}
	}
	if (col > 0)
		util_buf_add(b, "\r\n", 2);
}

/*
 * text_headers, text_body - one text part: its Content-Type (and
 * transfer encoding) lines, then the text ending in CRLF. 8bit only for
 * 8-bit text with short lines when eightbit; a long line or 8-bit text
 * without it: quoted-printable.
 */
static void
text_headers(struct util_buf *b, const char *sub, const char *s, size_t n,
    int eightbit)
{
	int	 eight, longline, qp;

	text_scan(s, n, &eight, &longline);
	qp = longline || (eight && !eightbit);
	util_buf_str(b, "Content-Type: text/");
	util_buf_str(b, sub);
	util_buf_str(b, eight ? "; charset=utf-8\r\n" :
	    "; charset=us-ascii\r\n");
	if (qp || eight)
		util_buf_str(b, qp ? "Content-Transfer-Encoding: "
		    "quoted-printable\r\n" : "Content-Transfer-Encoding: "
		    "8bit\r\n");
}

static void
text_body(struct util_buf *b, const char *s, size_t n, int eightbit)
{
	int	 eight, longline;

	text_scan(s, n, &eight, &longline);
	if (longline || (eight && !eightbit))
		qp_encode(b, s, n);
	else {
		util_buf_add(b, s, n);
		if (n > 0 && s[n - 1] != '\n' && s[n - 1] != '\r')
			util_buf_str(b, "\r\n");
	}
}

/* text_part - a text part inside a multipart: headers, blank, text */
static void
text_part(struct util_buf *b, const char *sub, const char *s, size_t n,
    int eightbit)
{
	text_headers(b, sub, s, n, eightbit);
	util_buf_str(b, "\r\n");
	text_body(b, s, n, eightbit);
}

/* disposition - Content-Disposition of an attachment named name */
static void
disposition(struct util_buf *b, const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	char		 hex[4];
	int		 plain = 1;

	for (; *p != '\0'; p++)
		if (*p < 32 || *p >= 127 || *p == '"' || *p == '\\')
			plain = 0;
	if (plain && strlen(name) < 200) {
		util_buf_str(b, "Content-Disposition: attachment; "
		    "filename=\"");
		util_buf_str(b, name);
		util_buf_str(b, "\"\r\n");
		return;
	}
	/* RFC 2231: filename*=utf-8''%XX, folded to stay short */
	util_buf_str(b, "Content-Disposition: attachment;\r\n "
	    "filename*=utf-8''");
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (isalnum(*p) || strchr("-._~", *p) != NULL)
			util_buf_add(b, p, 1);
		else {
			snprintf(hex, sizeof(hex), "%%%02X", *p);
			util_buf_add(b, hex, 3);
		}
	}
	util_buf_str(b, "\r\n");
}

/* attach_part - one base64 attachment */
static void
attach_part(struct util_buf *b, const char *name, const char *type,
    const char *data, size_t len)
{
	util_buf_str(b, "Content-Type: ");
	util_buf_str(b, type != NULL ? type : msg_mime_type(name));
	util_buf_str(b, "\r\nContent-Transfer-Encoding: base64\r\n");
	disposition(b, name);
	util_buf_str(b, "\r\n");
	b64_encode(b, data, len);
}

/* The shape of a built message, decided before its header is written. */
struct shape {
	size_t	 natt;		/* attachments, EICAR included */
	int	 html;		/* an HTML alternative */
	int	 eight;		/* some part goes 8bit */
	char	 mixed[64];	/* boundaries */
	char	 alt[64];
};

/* shape_of - the message's parts and boundaries */
static void
shape_of(const struct msg_params *p, const char *text, size_t textlen,
    struct shape *sh)
{
	const struct msg_mime *m = p->mime;
	unsigned char	 rnd[6];
	int		 e1, e2 = 0, l;

	memset(sh, 0, sizeof(*sh));
	sh->natt = m != NULL ? m->natt + (m->eicar ? 1 : 0) : 0;
	sh->html = m != NULL && m->html != NULL;
	text_scan(text, textlen, &e1, &l);
	if (sh->html)
		text_scan(m->html, m->htmllen, &e2, &l);
	sh->eight = (e1 || e2) && p->eightbit;
	if (!sh->html && sh->natt == 0)
		return;		/* one text part: no boundary */
	/* "=_" cannot occur in quoted-printable nor in base64 text */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0x5a, sizeof(rnd));
	snprintf(sh->mixed, sizeof(sh->mixed), "=_smtprobe_%02x%02x%02x%02x"
	    "%02x%02x_mixed", rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
	snprintf(sh->alt, sizeof(sh->alt), "=_smtprobe_%02x%02x%02x%02x%02x"
	    "%02x_alt", rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
}

/* top_type - the top Content-Type (and transfer encoding) lines */
static char *
top_type(const struct msg_params *p, const char *text, size_t textlen,
    const struct shape *sh)
{
	struct util_buf	 t = { NULL, 0, 0 };

	if (!sh->html && sh->natt == 0) {
		util_buf_add(&t, "", 0);
		text_headers(&t, "plain", text, textlen, p->eightbit);
		return t.p;
	}
	return xasprintf("Content-Type: multipart/%s;\r\n boundary=\"%s\""
	    "\r\n%s", sh->natt > 0 ? "mixed" : "alternative", sh->natt > 0 ?
	    sh->mixed : sh->alt, sh->eight ? "Content-Transfer-Encoding: "
	    "8bit\r\n" : "");
}

/* boundary - a CRLF, "--" b, "--" when last, CRLF */
static void
boundary(struct util_buf *b, const char *bnd, int last)
{
	util_buf_str(b, "\r\n--");
	util_buf_str(b, bnd);
	util_buf_str(b, last ? "--\r\n" : "\r\n");
}

/*
 * body_parts - the body after the header block: one text part, or
 * multipart/alternative (text, HTML) and/or multipart/mixed (that,
 * then the attachments)
 */
static void
body_parts(struct util_buf *b, const struct msg_params *p, const char *text,
    size_t textlen, const struct shape *sh)
{
	const struct msg_mime *m = p->mime;
	size_t		 i;

	if (!sh->html && sh->natt == 0) {
		text_body(b, text, textlen, p->eightbit);
		return;
	}
	util_buf_str(b, "This is a multi-part message in MIME format.\r\n");
	if (sh->natt > 0) {
		boundary(b, sh->mixed, 0);
		if (sh->html)
			util_buf_str(b, "Content-Type: multipart/alternative;"
			    "\r\n boundary=\"");
		if (sh->html) {
			util_buf_str(b, sh->alt);
			util_buf_str(b, "\"\r\n");
		}
	}
	if (sh->html) {
		boundary(b, sh->alt, 0);
		text_part(b, "plain", text, textlen, p->eightbit);
		boundary(b, sh->alt, 0);
		text_part(b, "html", m->html, m->htmllen, p->eightbit);
		boundary(b, sh->alt, 1);
	} else
		text_part(b, "plain", text, textlen, p->eightbit);
	for (i = 0; i < sh->natt; i++) {
		boundary(b, sh->mixed, 0);
		if (i < m->natt)
			attach_part(b, m->att[i].name, m->att[i].type,
			    m->att[i].data, m->att[i].len);
		else
			attach_part(b, "eicar.com", "application/octet-stream",
			    msg_eicar(), strlen(msg_eicar()));
	}
	if (sh->natt > 0)
		boundary(b, sh->mixed, 1);
}

/*
 * header_line - a --header line of a built message. Without SMTPUTF8
 * an unstructured field (Subject, Comments, Content-Description, X-*)
 * with 8-bit bytes goes as RFC 2047 encoded words (UTF-8, base64, at
 * most 75 octets each, folded), never cutting a character; other
 * fields go as given.
 */
static void
header_line(struct util_buf *b, const char *h, int utf8)
{
	const char	*colon = strchr(h, ':'), *v;
	size_t		 n, len, take;
	int		 first = 1;

	if (utf8 || colon == NULL || !has8(h, strlen(h)) ||
	    !(header_named(h, "Subject", 7) || header_named(h, "Comments",
	    8) || header_named(h, "Content-Description", 19) ||
	    strncasecmp(h, "X-", 2) == 0)) {
		util_buf_str(b, h);
		return;
	}
	util_buf_add(b, h, (size_t)(colon - h) + 1);
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	len = strlen(v);
	for (n = 0; n < len; n += take) {
		/* 45 octets make 60 base64 characters: 72 with =?UTF-8?B??= */
		take = len - n < 45 ? len - n : 45;
		while (take > 1 && n + take < len &&
		    ((unsigned char)v[n + take] & 0xc0) == 0x80)
			take--;
		util_buf_str(b, first ? " =?UTF-8?B?" : "\r\n =?UTF-8?B?");
		first = 0;
		b64_encode(b, v + n, take);
		b->len -= 2;	/* the CRLF b64_encode ends with */
		util_buf_str(b, "?=");
	}
}

/* msg_header - the generated header line name, or NULL (MIME: later) */
static char *
msg_header(const struct msg_params *p, const char *name, const char *date,
    const char *id)
{
	struct util_buf	 t = { NULL, 0, 0 };
	size_t		 k;

	if (strcmp(name, "Date") == 0)
		return xasprintf("Date: %s", date);
	if (strcmp(name, "From") == 0)
		return xasprintf("From: <%s>", p->from[0] != '\0' ? p->from :
		    "MAILER-DAEMON");
	if (strcmp(name, "To") == 0) {
		util_buf_str(&t, "To: ");
		for (k = 0; k < p->nto; k++) {
			util_buf_str(&t, k > 0 ? ",\r\n  <" : "<");
			util_buf_str(&t, p->to[k]);
			util_buf_str(&t, ">");
		}
		return t.p;
	}
	if (strcmp(name, "Subject") == 0)
		return xasprintf("Subject: smtprobe test message %s", date);
	if (strcmp(name, "Message-ID") == 0)
		return xasprintf("Message-ID: %s", id);
	if (strcmp(name, "MIME-Version") == 0)
		return xstrdup("MIME-Version: 1.0");
	if (strcmp(name, "X-Mailer") == 0)
		return xasprintf("X-Mailer: smtprobe %s", p->version);
	return NULL;
}

/* user_has - 1 if a --header names field name */
static int
user_has(const struct msg_params *p, const char *name)
{
	size_t	 j, nl = strlen(name);

	for (j = 0; j < p->nheaders; j++)
		if (header_named(p->headers[j], name, nl))
			return 1;
	return 0;
}

/*
 * The last message built without --message and MIME parts, as it goes
 * on the wire, and what it was built from (msg_key()): a batch sends
 * the same message in every session, bar the Message-ID's sequence
 * number, which msg_build() puts in at seqoff. The key holds the
 * second the message was built in (Date, Subject, the body's "Sent:").
 */
static struct {
	struct util_buf	 key;
	char		*wire;		/* without the sequence number */
	size_t		 len;
	size_t		 seqoff;	/* (size_t)-1: no generated ID */
	int		 valid;
} msg_last;
static unsigned long	 msg_seq;	/* Message-IDs of this process */
#define MSG_ID_LINE	"\r\nMessage-ID: <smtprobe."

static int	 msg_make(const struct msg_params *, time_t, unsigned long,
		    char **, size_t *, char *, size_t);

/* msg_key - what a message is built from, as bytes */
static void
msg_key(struct util_buf *k, const struct msg_params *p, time_t now)
{
	size_t	 i;
	char	 num[64];

	k->len = 0;
	snprintf(num, sizeof(num), "%lld %zu %zu %zu %d %d %d",
	    (long long)now, p->nto, p->nheaders, p->bodylen, p->body != NULL,
	    p->eightbit, p->utf8);
	util_buf_add(k, num, strlen(num) + 1);
	util_buf_add(k, p->from, strlen(p->from) + 1);
	for (i = 0; i < p->nto; i++)
		util_buf_add(k, p->to[i], strlen(p->to[i]) + 1);
	util_buf_str(k, p->domain != NULL ? p->domain : "\001");
	util_buf_add(k, "", 1);
	util_buf_str(k, p->version != NULL ? p->version : "\001");
	util_buf_add(k, "", 1);
	for (i = 0; i < p->nheaders; i++)
		util_buf_add(k, p->headers[i], strlen(p->headers[i]) + 1);
	if (p->body != NULL)
		util_buf_add(k, p->body, p->bodylen);
}

/*
 * msg_build - the test message in wire form. Each one gets its own
 * Message-ID (the time, the process and a sequence number); within one
 * second a message built from the same inputs is the last one again
 * with that number changed, not built anew.
 */
int
msg_build(const struct msg_params *p, char **out, size_t *outlen, char *err,
    size_t errlen)
{
	struct util_buf	 k = { NULL, 0, 0 };
	time_t		 now = time(NULL);
	char		 num[32], *w, *at;
	size_t		 n;
	unsigned long	 seq = ++msg_seq;

	if (p->message != NULL || p->mime != NULL)
		return msg_make(p, now, seq, out, outlen, err, errlen);
	msg_key(&k, p, now);
	if (msg_last.valid && k.len == msg_last.key.len &&
	    memcmp(k.p, msg_last.key.p, k.len) == 0) {
		free(k.p);
		n = msg_last.seqoff == (size_t)-1 ? 0 :
		    (size_t)snprintf(num, sizeof(num), "%lu", seq);
		*out = w = xmalloc(msg_last.len + n + 1);
		if (n == 0)
			memcpy(w, msg_last.wire, msg_last.len + 1);
		else {
			memcpy(w, msg_last.wire, msg_last.seqoff);
			memcpy(w + msg_last.seqoff, num, n);
			memcpy(w + msg_last.seqoff + n, msg_last.wire +
			    msg_last.seqoff, msg_last.len - msg_last.seqoff +
			    1);
		}
		*outlen = msg_last.len + n;
		return 0;
	}
	if (msg_make(p, now, seq, out, outlen, err, errlen) == -1) {
		free(k.p);
		return -1;
	}
	/* keep it, the sequence number of the generated ID taken out */
	free(msg_last.key.p);
	free(msg_last.wire);
	msg_last.key = k;
	n = (size_t)snprintf(num, sizeof(num), ".%lu@", seq);
	at = NULL;
	if (!user_has(p, "Message-ID") && (at = memmem(*out, *outlen,
	    MSG_ID_LINE, sizeof(MSG_ID_LINE) - 1)) != NULL)
		at = memmem(at, *outlen - (size_t)(at - *out), num, n);
	if (!user_has(p, "Message-ID") && at == NULL) {
		/* not where it is looked for: build the next one anew */
		msg_last.wire = NULL;
		msg_last.valid = 0;
		return 0;
	}
	msg_last.len = *outlen;
	msg_last.wire = xmalloc(*outlen + 1);
	memcpy(msg_last.wire, *out, *outlen);
	msg_last.wire[*outlen] = '\0';
	msg_last.seqoff = (size_t)-1;
	if (at != NULL) {
		msg_last.seqoff = (size_t)(at - *out) + 1;
		n -= 2;		/* the digits alone */
		memmove(msg_last.wire + msg_last.seqoff, msg_last.wire +
		    msg_last.seqoff + n, msg_last.len - msg_last.seqoff - n +
		    1);
		msg_last.len -= n;
	}
	msg_last.valid = 1;
	return 0;
}

/* msg_make - msg_build() itself: built at now, with sequence number seq */
static int
msg_make(const struct msg_params *p, time_t now, unsigned long seq,
    char **out, size_t *outlen, char *err, size_t errlen)
{
	struct util_buf	 b = { NULL, 0, 0 }, text = { NULL, 0, 0 };
	struct shape	 sh;
	const char	*tp;
	static const char *generated[] = { "Date", "From", "To", "Subject",
	    "Message-ID", "MIME-Version", "Content-Type", "X-Mailer" };
	char		 date[64], id[160], *line, *ctype = NULL, *nl;
	struct tm	 tm;
	size_t		 i, tl;
	int		 wire;

	for (i = 0; i < p->nheaders; i++)
		if (valid_header(p->headers[i], err, errlen) == -1)
			return -1;
	util_buf_add(&b, "", 0);
	if (p->message != NULL) {
		/* the user's message as given; --header lines go on top */
		for (i = 0; i < p->nheaders; i++) {
			util_buf_str(&b, p->headers[i]);
			util_buf_str(&b, "\r\n");
		}
		util_buf_add(&b, p->message, p->messagelen);
		goto done;
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	snprintf(id, sizeof(id), "<smtprobe.%lld.%ld.%lu@%s>", (long long)now,
	    (long)getpid(), seq, p->domain != NULL ? p->domain :
	    "smtprobe.invalid");
	/* the body text: the user's as it is (no copy), or ours */
	util_buf_add(&text, "", 0);
	if (p->body == NULL) {
		line = xasprintf(
		    "This is a test message sent by smtprobe %s, an SMTP\r\n"
		    "diagnostic tool, to check that mail to this address is\r\n"
		    "accepted. It needs no answer and can be deleted.\r\n"
		    "\r\n"
		    "Sent: %s\r\n", p->version, date);
		util_buf_str(&text, line);
		free(line);
	} else if (p->mime != NULL && p->mime->gtube)
		util_buf_add(&text, p->body, p->bodylen);
	if (p->mime != NULL && p->mime->gtube) {
		if (text.len > 0 && text.p[text.len - 1] != '\n')
			util_buf_str(&text, "\r\n");
		util_buf_str(&text, "\r\n");
		util_buf_str(&text, msg_gtube());
		util_buf_str(&text, "\r\n");
	}
	tp = text.len > 0 || p->body == NULL ? text.p : p->body;
	tl = text.len > 0 || p->body == NULL ? text.len : p->bodylen;
	shape_of(p, tp, tl, &sh);
	ctype = top_type(p, tp, tl, &sh);
	for (i = 0; i < nitems(generated); i++) {
		if (strcmp(generated[i], "Content-Type") == 0) {
			/* with its transfer encoding: what the body is */
			nl = strstr(ctype, "Content-Transfer-Encoding:");
			if (nl != NULL && user_has(p,
			    "Content-Transfer-Encoding"))
				*nl = '\0';
			if (!user_has(p, "Content-Type"))
				util_buf_str(&b, ctype);
			else if (nl != NULL && *nl != '\0')
				util_buf_str(&b, nl);
			continue;
		}
		if (user_has(p, generated[i]))
			continue;	/* the user's version comes below */
		line = msg_header(p, generated[i], date, id);
		util_buf_str(&b, line);
		util_buf_str(&b, "\r\n");
		free(line);
	}
	free(ctype);
	for (i = 0; i < p->nheaders; i++) {
		header_line(&b, p->headers[i], p->utf8);
		util_buf_str(&b, "\r\n");
	}
	util_buf_str(&b, "\r\n");
	body_parts(&b, p, tp, tl, &sh);
	free(text.p);
done:
	wire = msg_wire(b.p, b.len, out, outlen, err, errlen);
	free(b.p);
	return wire;
}

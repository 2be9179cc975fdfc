/*
 * esmtp.c - the ESMTP parameters of MAIL and RCPT, checked against the
 * EHLO reply (see include/esmtp.h for the policy).
 *
 * Order of the decisions for MAIL: REQUIRETLS first (no TLS, or not
 * offered: the transaction does not start), then the paths (SMTPUTF8
 * when an address is not ASCII and the server offers it; else A-labels,
 * and a non-ASCII local part ends the transaction), then the body
 * (BODY=8BITMIME, quoted-printable, or the refusal of 8-bit bytes
 * given by the user), then SIZE, then DSN. A keyword the user wrote
 * in the step's own parameters is never added a second time.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "esmtp.h"
#include "idn.h"
#include "log.h"
#include "msg.h"
#include "scn.h"
#include "util.h"
#include "valid.h"

static int	has_kw(const char *, const char *);
static void	add_param(struct util_buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	mail_paths(const struct esmtp_txn *, const struct ehlo *,
		    struct record *, struct esmtp_mail *, char *, size_t);
static int	mail_body(const struct esmtp_opts *, const struct ehlo *,
		    const struct esmtp_txn *, struct record *,
		    struct esmtp_mail *, struct util_buf *, char *, size_t);
static void	mail_size_dsn(const struct esmtp_opts *, const struct ehlo *,
		    const struct esmtp_txn *, struct record *,
		    struct util_buf *);

static const struct {
	const char	*word;
	unsigned	 bit;
} notify_words[] = {
	{ "NEVER", ESMTP_N_NEVER },
	{ "SUCCESS", ESMTP_N_SUCCESS },
	{ "FAILURE", ESMTP_N_FAILURE },
	{ "DELAY", ESMTP_N_DELAY },
};

/* esmtp_notify_parse - the --dsn-notify list into bits */
unsigned
esmtp_notify_parse(const char *s, char *err, size_t errlen)
{
	unsigned	 bits = 0;
	size_t		 i, n;
	const char	*p = s, *comma;

	for (;;) {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		for (i = 0; i < nitems(notify_words); i++)
			if (strlen(notify_words[i].word) == n &&
			    strncasecmp(p, notify_words[i].word, n) == 0)
				break;
		if (i == nitems(notify_words)) {
			snprintf(err, errlen, "\"%.*s\" is not a NOTIFY "
			    "value (NEVER, or a list of SUCCESS, FAILURE and "
			    "DELAY)", (int)(n < 40 ? n : 40), p);
			return 0;
		}
		bits |= notify_words[i].bit;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	if ((bits & ESMTP_N_NEVER) && bits != ESMTP_N_NEVER) {
		snprintf(err, errlen, "NEVER cannot be combined with another "
		    "NOTIFY value (RFC 3461 4.1)");
		return 0;
	}
	return bits;
}

/* esmtp_envid_check - a --dsn-envid */
int
esmtp_envid_check(const char *s, char *err, size_t errlen)
{
	size_t	 i, n = strlen(s);

	if (n == 0 || n > ESMTP_MAX_ENVID) {
		snprintf(err, errlen, "the envelope ID has 1 to %d "
		    "characters, not %zu (RFC 3461 4.4)", ESMTP_MAX_ENVID, n);
		return -1;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 33 || (unsigned char)s[i] > 126) {
			snprintf(err, errlen, "the envelope ID holds a byte "
			    "that is not printable ASCII at offset %zu", i);
			return -1;
		}
	return 0;
}

/* utf8_xtext - RFC 6533 utf-8-addr-xtext: \x{HEX} for "+", "=", "\" */
static char *
utf8_xtext(const char *s)
{
	struct util_buf	 b = { NULL, 0, 0 };
	const unsigned char *p = (const unsigned char *)s;
	char		 hex[12];

	util_buf_add(&b, "", 0);
	for (; *p != '\0'; p++) {
		if (*p < 33 || *p == 127 || *p == '+' || *p == '=' ||
		    *p == '\\') {
			snprintf(hex, sizeof(hex), "\\x{%X}", *p);
			util_buf_str(&b, hex);
		} else
			util_buf_add(&b, (const char *)p, 1);
	}
	return b.p;
}

/* local_end - where the local part of addr ends (its last "@"), or NULL */
static const char *
local_end(const char *addr)
{
	return strrchr(addr, '@');
}

/* esmtp_needs_utf8 - 1 if the local part of addr is not ASCII */
int
esmtp_needs_utf8(const char *addr)
{
	const char	*at = local_end(addr);
	size_t		 i, n = at != NULL ? (size_t)(at - addr) :
			    strlen(addr);

	for (i = 0; i < n; i++)
		if ((unsigned char)addr[i] >= 0x80)
			return 1;
	return 0;
}

/* esmtp_path - addr as sent: UTF-8 with SMTPUTF8, else A-labels */
char *
esmtp_path(const char *addr, int utf8, char *err, size_t errlen)
{
	const char	*at = local_end(addr);
	char		*dom, *out, why[256];

	if (utf8 || idn_ascii(addr))
		return xstrdup(addr);
	if (esmtp_needs_utf8(addr) || at == NULL) {
		snprintf(err, errlen, "the local part of <%s> is not ASCII: "
		    "it needs SMTPUTF8 (RFC 6531), which this server does "
		    "not offer", addr);
		return NULL;
	}
	if (at[1] == '[')
		return xstrdup(addr);
	if ((dom = idn_to_ascii(at + 1, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "<%s>: %s", addr, why);
		return NULL;
	}
	out = xasprintf("%.*s@%s", (int)(at - addr), addr, dom);
	free(dom);
	return out;
}

/* has_kw - 1 if the parameters p hold keyword kw (any case) */
static int
has_kw(const char *p, const char *kw)
{
	size_t	 n = strlen(kw);

	while (p != NULL && *p != '\0') {
		while (*p == ' ')
			p++;
		if (strncasecmp(p, kw, n) == 0 && (p[n] == '\0' ||
		    p[n] == '=' || p[n] == ' '))
			return 1;
		p = strchr(p, ' ');
	}
	return 0;
}

/* add_param - append one parameter, a blank before it when needed */
static void
add_param(struct util_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	if (b->len > 0)
		util_buf_str(b, " ");
	util_buf_str(b, s);
	free(s);
}

/* mail_paths - SMTPUTF8 or A-labels; -1 for a non-ASCII local part */
static int
mail_paths(const struct esmtp_txn *t, const struct ehlo *e,
    struct record *rec, struct esmtp_mail *out, char *err, size_t errlen)
{
	size_t	 i;
	int	 nonascii = !idn_ascii(t->from), local = esmtp_needs_utf8(
		    t->from);
	const char *bad = local ? t->from : NULL;

	for (i = 0; i < t->nrcpt; i++) {
		if (!idn_ascii(t->rcpt[i]))
			nonascii = 1;
		if (bad == NULL && esmtp_needs_utf8(t->rcpt[i]))
			bad = t->rcpt[i];
	}
	if (has_kw(t->params, "SMTPUTF8"))
		out->utf8 = 1;
	else if (nonascii && e != NULL && reply_ehlo_has(e, "SMTPUTF8"))
		out->utf8 = 2;	/* ours to add */
	if (!out->utf8 && bad != NULL) {
		snprintf(err, errlen, "the local part of <%s> is not ASCII: "
		    "it needs SMTPUTF8 (RFC 6531), which this server does "
		    "not offer", bad);
		record_add_finding(rec, FIND_ERROR, "smtputf8-not-offered",
		    STAGE_MAIL, "%s", err);
		return -1;
	}
	if ((out->from = esmtp_path(t->from, out->utf8, err, errlen)) ==
	    NULL) {
		record_add_finding(rec, FIND_ERROR, "smtputf8-not-offered",
		    STAGE_MAIL, "%s", err);
		return -1;
	}
	if (!out->utf8 && nonascii)
		record_add_finding(rec, FIND_INFO, "idn-a-label", STAGE_MAIL,
		    "the server does not offer SMTPUTF8: international "
		    "domains are sent as A-labels (xn--)");
	return 0;
}

/* mail_body - BODY=8BITMIME, quoted-printable, or the refusal */
static int
mail_body(const struct esmtp_opts *o, const struct ehlo *e,
    const struct esmtp_txn *t, struct record *rec, struct esmtp_mail *out,
    struct util_buf *b, char *err, size_t errlen)
{
	int	 offered = e != NULL && reply_ehlo_has(e, "8BITMIME");
	int	 want = o->eightbit || t->body != ESMTP_BODY_7BIT ||
		    out->utf8 == 2;

	if (has_kw(t->params, "BODY")) {
		out->eightbit = strcasestr(t->params, "BODY=8BITMIME") !=
		    NULL;
		return 0;
	}
	if (!want)
		return 0;
	if (offered) {
		add_param(b, "BODY=8BITMIME");
		out->eightbit = 1;
		return 0;
	}
	if (o->eightbit)
		record_add_finding(rec, FIND_WARN, "esmtp-not-offered",
		    STAGE_MAIL, "--8bitmime: the server does not offer "
		    "8BITMIME (RFC 6152); BODY=8BITMIME is not sent");
	if (t->body == ESMTP_BODY_BUILT8) {
		out->qp = 1;
		record_add_finding(rec, FIND_INFO, "body-quoted-printable",
		    STAGE_MAIL, "the server does not offer 8BITMIME: the "
		    "message's 8-bit text goes as quoted-printable");
	} else if (t->body == ESMTP_BODY_RAW8 && o->raw_message)
		record_add_finding(rec, FIND_WARN, "eightbit-raw-sent",
		    STAGE_MAIL, "the message has 8-bit bytes and the server "
		    "does not offer 8BITMIME; sent as it is (--raw-message)");
	else if (t->body == ESMTP_BODY_RAW8) {
		snprintf(err, errlen, "the message has 8-bit bytes and the "
		    "server does not offer 8BITMIME (RFC 6152): not sent "
		    "(encode it, or use --raw-message to send it as it is)");
		record_add_finding(rec, FIND_ERROR, "eightbit-not-offered",
		    STAGE_MAIL, "%s", err);
		return -1;
	}
	return 0;
}

/* size_param - SIZE=n when offered, with size-over-limit; 0 or -1 */
static int
size_param(const struct ehlo *e, const char *uparams, long long size,
    struct record *rec, struct util_buf *b)
{
	const char	*lim = e != NULL ? reply_ehlo_param(e, "SIZE") : NULL;
	unsigned long long max;
	char		*end;

	if (has_kw(uparams, "SIZE"))
		return 0;
	if (lim == NULL)
		return -1;
	add_param(b, "SIZE=%lld", size);
	max = strtoull(lim, &end, 10);
	if (end != lim && *end == '\0' && max > 0 &&
	    (unsigned long long)size > max)
		record_add_finding(rec, FIND_WARN, "size-over-limit",
		    STAGE_MAIL, "SIZE=%lld is over the server's limit of %llu "
		    "bytes (EHLO SIZE)", size, max);
	return 0;
}

/* esmtp_mail_size - --size auto: SIZE= the message's size, if offered */
void
esmtp_mail_size(struct esmtp_mail *m, const struct ehlo *e,
    const char *uparams, long long size, struct record *rec)
{
	struct util_buf	 b = { NULL, 0, 0 };

	util_buf_add(&b, "", 0);
	util_buf_str(&b, m->params != NULL ? m->params : "");
	if (size_param(e, uparams, size, rec, &b) == 0) {
		free(m->params);
		m->params = b.p;
	} else
		free(b.p);
}

/* mail_size_dsn - SIZE, RET and ENVID */
static void
mail_size_dsn(const struct esmtp_opts *o, const struct ehlo *e,
    const struct esmtp_txn *t, struct record *rec, struct util_buf *b)
{
	char		*x;

	if (o->size > 0 && size_param(e, t->params, o->size, rec, b) == -1)
		record_add_finding(rec, FIND_WARN, "esmtp-not-offered",
		    STAGE_MAIL, "--size: the server does not offer SIZE (RFC "
		    "1870); SIZE=%lld is not sent", o->size);
	if (o->notify == 0 && o->ret == 0 && o->envid == NULL && !o->orcpt)
		return;
	if (e == NULL || !reply_ehlo_has(e, "DSN")) {
		record_add_finding(rec, FIND_WARN, "esmtp-not-offered",
		    STAGE_MAIL, "the server does not offer DSN (RFC 3461), "
		    "not sent: %s%s%s%s", o->notify ? "NOTIFY " : "",
		    o->ret ? "RET " : "", o->envid != NULL ? "ENVID " : "",
		    o->orcpt ? "ORCPT " : "");
		return;
	}
	if (o->ret && !has_kw(t->params, "RET"))
		add_param(b, "RET=%s", o->ret == 1 ? "FULL" :
		    "HDRS");
	if (o->envid != NULL && !has_kw(t->params, "ENVID")) {
		x = util_xtext(o->envid);
		add_param(b, "ENVID=%s", x);
		free(x);
	}
}

/* esmtp_mail - MAIL's path and parameters, in the order of the header */
int
esmtp_mail(const struct esmtp_opts *o, const struct ehlo *e, int tls,
    const struct esmtp_txn *t, struct record *rec, struct esmtp_mail *out,
    char *err, size_t errlen)
{
	static const struct esmtp_opts none;
	struct util_buf	 b = { NULL, 0, 0 };

	memset(out, 0, sizeof(*out));
	if (o == NULL)
		o = &none;
	if (o->requiretls && !tls) {
		snprintf(err, errlen, "--requiretls: the session is not "
		    "under TLS; REQUIRETLS is never sent in plaintext (RFC "
		    "8689), so the transaction does not start");
		record_add_finding(rec, FIND_ERROR, "requiretls-no-tls",
		    STAGE_MAIL, "%s", err);
		return -1;
	}
	if (o->requiretls && (e == NULL || !reply_ehlo_has(e,
	    "REQUIRETLS"))) {
		snprintf(err, errlen, "--requiretls: the server does not "
		    "offer REQUIRETLS (RFC 8689), so the transaction does not "
		    "start");
		record_add_finding(rec, FIND_ERROR, "requiretls-not-offered",
		    STAGE_MAIL, "%s", err);
		return -1;
	}
	if (mail_paths(t, e, rec, out, err, errlen) == -1)
		goto fail;
	util_buf_add(&b, "", 0);
	if (t->params != NULL && t->params[0] != '\0')
		util_buf_str(&b, t->params);
	if (mail_body(o, e, t, rec, out, &b, err, errlen) == -1)
		goto fail;
	if (out->utf8 == 2)
		add_param(&b, "SMTPUTF8");
	mail_size_dsn(o, e, t, rec, &b);
	if (o->requiretls && !has_kw(t->params, "REQUIRETLS"))
		add_param(&b, "REQUIRETLS");
	out->params = b.p;
	out->utf8 = out->utf8 != 0;
	return 0;
fail:
	free(b.p);
	esmtp_mail_clear(out);
	return -1;
}

/* esmtp_mail_clear - free what esmtp_mail() filled */
void
esmtp_mail_clear(struct esmtp_mail *m)
{
	free(m->from);
	free(m->params);
	memset(m, 0, sizeof(*m));
}

/* esmtp_rcpt - a RCPT's path, NOTIFY and ORCPT */
int
esmtp_rcpt(const struct esmtp_opts *o, const struct ehlo *e, int utf8,
    const char *to, const char *uparams, struct record *rec, char **path,
    char **params, char *err, size_t errlen)
{
	struct util_buf	 b = { NULL, 0, 0 };
	const char	*sep;
	char		*x;
	size_t		 i;

	*params = NULL;
	if (!utf8 && esmtp_needs_utf8(to) && e != NULL &&
	    reply_ehlo_has(e, "SMTPUTF8")) {
		/* offered, but this transaction's MAIL did not ask for it */
		snprintf(err, errlen, "the local part of <%s> is not ASCII and "
		    "MAIL was sent without SMTPUTF8: start the transaction "
		    "again with it (mail from ADDR SMTPUTF8)", to);
		record_add_finding(rec, FIND_ERROR, "smtputf8-not-offered",
		    STAGE_RCPT, "%s", err);
		*path = NULL;
		return -1;
	}
	if ((*path = esmtp_path(to, utf8, err, errlen)) == NULL) {
		record_add_finding(rec, FIND_ERROR, "smtputf8-not-offered",
		    STAGE_RCPT, "%s", err);
		return -1;
	}
	util_buf_add(&b, "", 0);
	if (uparams != NULL && uparams[0] != '\0')
		util_buf_str(&b, uparams);
	if (o != NULL && e != NULL && reply_ehlo_has(e, "DSN")) {
		if (o->notify != 0 && !has_kw(uparams, "NOTIFY")) {
			util_buf_str(&b, b.len > 0 ? " NOTIFY=" : "NOTIFY=");
			for (i = 0, sep = ""; i < nitems(notify_words); i++)
				if (o->notify & notify_words[i].bit) {
					util_buf_str(&b, sep);
					util_buf_str(&b, notify_words[i].word);
					sep = ",";
				}
		}
		if (o->orcpt && !has_kw(uparams, "ORCPT")) {
			/* the path as sent: A-labels without SMTPUTF8 */
			if (idn_ascii(*path)) {
				x = util_xtext(*path);
				add_param(&b, "ORCPT=rfc822;%s", x);
			} else {
				x = utf8_xtext(*path);
				add_param(&b, "ORCPT=utf-8;%s", x);
			}
			free(x);
		}
	}
	*params = b.p;
	return 0;
}

/* esmtp_has8bit - 1 if a byte is 8-bit */
int
esmtp_has8bit(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; s != NULL && i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/* esmtp_scn_rcpts - the rcpt steps of the transaction step i opens */
const char **
esmtp_scn_rcpts(const struct scn *scn, size_t i, size_t *n)
{
	const char	**rcpt = NULL;
	size_t		  j;

	*n = 0;
	for (j = i + 1; j < scn->nsteps; j++) {
		const struct scn_step *r = &scn->steps[j];

		if (r->op == SCN_MAIL || r->op == SCN_RSET ||
		    r->op == SCN_DATA || r->op == SCN_CONNECT)
			break;
		if (r->op != SCN_RCPT || r->arg == NULL)
			continue;
		rcpt = xreallocarray(rcpt, *n + 1, sizeof(*rcpt));
		rcpt[(*n)++] = r->arg;
	}
	return rcpt;
}

/* esmtp_scn_body - what the transaction's data step will send */
enum esmtp_body
esmtp_scn_body(const struct scn *scn, size_t i, const struct scn_params *p)
{
	const struct scn_step *st = NULL;
	char	*buf, err[256];
	size_t	 j, len;
	int	 eight;

	for (j = i + 1; j < scn->nsteps; j++) {
		st = &scn->steps[j];
		if (st->op == SCN_MAIL || st->op == SCN_RSET ||
		    st->op == SCN_CONNECT || st->op == SCN_QUIT)
			return ESMTP_BODY_7BIT;
		if (st->op == SCN_DATA)
			break;
	}
	if (j == scn->nsteps || st == NULL)
		return ESMTP_BODY_7BIT;
	switch (st->data) {
	case SCN_DATA_FILE:
		if (msg_read(st->body, &buf, &len, err, sizeof(err)) == -1)
			return ESMTP_BODY_7BIT;	/* DATA says why */
		eight = esmtp_has8bit(buf, len);
		free(buf);
		return eight ? ESMTP_BODY_RAW8 : ESMTP_BODY_7BIT;
	case SCN_DATA_INLINE:
	case SCN_DATA_RAW:
		return esmtp_has8bit(st->body, st->bodylen) ?
		    ESMTP_BODY_RAW8 : ESMTP_BODY_7BIT;
	default:
		break;
	}
	if (p->message != NULL)
		return esmtp_has8bit(p->message, p->messagelen) ?
		    ESMTP_BODY_RAW8 : ESMTP_BODY_7BIT;
	eight = esmtp_has8bit(p->body, p->bodylen) || (p->mime != NULL &&
	    esmtp_has8bit(p->mime->html, p->mime->htmllen));
	for (j = 0; j < p->nheaders && !eight; j++)
		eight = esmtp_has8bit(p->headers[j], strlen(p->headers[j]));
	return eight ? ESMTP_BODY_BUILT8 : ESMTP_BODY_7BIT;
}

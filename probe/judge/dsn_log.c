/*
 * dsn_log.c - MTA log lines and queue listings as delivery reports.
 *
 * Exports dsn_log_parse() (include/dsn.h). Reads, one line at a time:
 *   Postfix	"postfix/smtp[N]: ID: to=<r>, relay=h[ip]:25, ..., dsn=5.1.1,
 *		status=bounced (host h[ip] said: 550 ... (in reply to RCPT TO
 *		command))", status=deferred likewise;
 *   Exim	"... ** r R=x T=y H=h [ip]: SMTP error from remote mail server
 *		after RCPT TO:<r>: 550 ..." (failure) and "== r ..." (deferral);
 *   OpenSMTPD	"... to=<r> ... relay=\"h (ip)\" ... result=\"PermFail\"
 *		stat=\"550 ...\"";
 *   Sendmail	"... to=<r>, ... relay=h. [ip], dsn=5.1.1, stat=User unknown";
 *   postqueue -j: one JSON object per line, each recipient's
 *		"delay_reason".
 * Each failed or deferred recipient becomes one struct dsn_item, with
 * the stage taken from the log's own words ("in reply to RCPT TO
 * command", "after RCPT TO", "while sending"). Lines that report a
 * delivery ("status=sent") are skipped.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dsn.h"
#include "dsn_int.h"
#include "log.h"
#include "stage.h"
#include "util.h"

#define LOG_LINE_MAX	65536	/* bytes of a line looked at */

static const char *field(const char *, size_t, const char *, size_t *);
static size_t	 host_len(const char *, size_t);
static void	 item_add(struct dsn *, size_t *, const char *, size_t,
		    const char *, size_t, const char *, size_t,
		    const char *);
static int	 rd_postfix(struct dsn *, size_t *, const char *, size_t);
static int	 rd_exim(struct dsn *, size_t *, const char *, size_t);
static int	 rd_opensmtpd(struct dsn *, size_t *, const char *, size_t);
static int	 rd_sendmail(struct dsn *, size_t *, const char *, size_t);
static int	 rd_postqueue(struct dsn *, size_t *, const char *, size_t);

/* field - value of "name" in p[0..n) up to ", " or end; NULL if none */
static const char *
field(const char *p, size_t n, const char *name, size_t *len)
{
	const char	*v, *e;
	size_t		 nl = strlen(name);

	if ((v = dsn_ci_find(p, n, name)) == NULL)
		return NULL;
	v += nl;
	if (v < p + n && *v == '"') {
		v++;
		e = memchr(v, '"', (size_t)(p + n - v));
	} else
		e = dsn_ci_find(v, (size_t)(p + n - v), ", ");
	if (e == NULL)
		e = p + n;
	*len = (size_t)(e - v);
	return v;
}

/* host_len - length of the host name at h[0..n): up to " ", "[", "(" */
static size_t
host_len(const char *h, size_t n)
{
	size_t	 k;

	for (k = 0; k < n && h[k] != ' ' && h[k] != '[' && h[k] != '('; k++)
		;
	while (k > 0 && h[k - 1] == '.')
		k--;
	return k;
}

/*
 * item_add - one recipient r[0..rn) with the host h[0..hn) and the
 * reason text t[0..tn) (a reply, possibly after "host H said:"); the
 * stage comes from the text; action is "failed" or "delayed"
 */
static void
item_add(struct dsn *d, size_t *cap, const char *r, size_t rn,
    const char *h, size_t hn, const char *t, size_t tn, const char *action)
{
	struct dsn_item	*it;
	const char	*s, *tail, *q;
	char		 enh[16];
	size_t		 n;

	if (d->nitems >= DSN_MAX_ITEMS) {
		d->truncated |= DSN_TRUNC_ITEMS;
		return;
	}
	if (d->nitems == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		d->items = xreallocarray(d->items, *cap, sizeof(*d->items));
	}
	it = &d->items[d->nitems++];
	memset(it, 0, sizeof(*it));
	it->stage = dsn_stage_span(t, tn);
	it->recipient = rn > 0 ? dsn_addr_clean(r, rn) : NULL;
	it->remote_mta = hn > 0 ? dsn_mta_host(h, hn) : NULL;
	if (dsn_ci_prefix(t, tn, "connect to ")) {
		/* Postfix: "connect to H[ip]:25: Connection timed out" */
		it->stage = STAGE_CONNECT;
		if (it->remote_mta == NULL && host_len(t + 11, tn - 11) > 0)
			it->remote_mta = dsn_mta_host(t + 11,
			    host_len(t + 11, tn - 11));
	}
	it->action = xstrdup(action);
	if ((s = dsn_ci_find(t, tn, " said: ")) != NULL) {
		s += 7;
		tail = dsn_ci_rfind(s, (size_t)(t + tn - s), "(in reply to ");
		tn = (size_t)((tail != NULL ? tail : t + tn) - s);
		t = s;
	} else if ((q = dsn_ci_find(t, tn, "SMTP error from remote ")) !=
	    NULL) {
		/* the reply follows the first ": " that a code follows
		   ("after MAIL FROM:<a> SIZE=1234: 451 ...") */
		for (s = q; (s = dsn_ci_find(s, (size_t)(t + tn - s), ": ")) !=
		    NULL; s += 2)
			if (dsn_code_at(s + 2, (size_t)(t + tn - s - 2)) != 0)
				break;
		if (s != NULL) {
			tn = (size_t)(t + tn - s - 2);
			t = s + 2;
		}
	}
	it->reply = dsn_norm_reply(t, tn);
	if (it->reply != NULL) {
		n = strlen(it->reply);
		it->code = dsn_code_at(it->reply, n);
		if (it->code != 0 && n > 4 &&
		    dsn_enh_at(it->reply + 4, n - 4, enh) > 0)
			it->status = xstrdup(enh);
	}
}

/* rd_postfix - "to=<r>, relay=h, ..., status=bounced|deferred (text)" */
static int
rd_postfix(struct dsn *d, size_t *cap, const char *p, size_t n)
{
	const char	*st, *r, *h, *open;
	size_t		 rn, hn = 0, k;
	const char	*action;

	if ((st = dsn_ci_find(p, n, "status=bounced (")) != NULL)
		action = "failed";
	else if ((st = dsn_ci_find(p, n, "status=deferred (")) != NULL)
		action = "delayed";
	else
		return 0;
	if ((r = field(p, n, "to=<", &rn)) == NULL)
		return 0;
	if (rn > 0 && r[rn - 1] == '>')
		rn--;
	if ((h = field(p, n, "relay=", &hn)) != NULL)
		hn = hn == 4 && memcmp(h, "none", 4) == 0 ? 0 : host_len(h, hn);
	open = memchr(st, '(', (size_t)(p + n - st)) + 1;
	k = (size_t)(p + n - open);
	while (k > 0 && (open[k - 1] == ')' || open[k - 1] == ' ' ||
	    open[k - 1] == '\r'))
		k--;
	if (k < (size_t)(p + n - open) && dsn_ci_find(open, k,
	    "(in reply to ") != NULL)
		k++;		/* keep the inner ")" of "(in reply to ...)" */
	item_add(d, cap, r, rn, h, hn, open, k, action);
	return 1;
}

/* rd_exim - "** r ...: SMTP error ..." (failed), "== r ..." (deferred) */
static int
rd_exim(struct dsn *d, size_t *cap, const char *p, size_t n)
{
	const char	*m, *r, *e, *h, *t;
	size_t		 hn = 0;
	const char	*action;

	if ((m = dsn_ci_find(p, n, " ** ")) != NULL)
		action = "failed";
	else if ((m = dsn_ci_find(p, n, " == ")) != NULL)
		action = "delayed";
	else
		return 0;
	r = m + 4;
	for (e = r; e < p + n && *e != ' ' && *e != ':'; e++)
		;
	/* Exim's router/transport fields: not just any " ** " in a text */
	if (memchr(r, '@', (size_t)(e - r)) == NULL ||
	    (dsn_ci_find(e, (size_t)(p + n - e), " R=") == NULL &&
	    dsn_ci_find(e, (size_t)(p + n - e), " T=") == NULL))
		return 0;
	if ((h = dsn_ci_find(e, (size_t)(p + n - e), " H=")) != NULL) {
		h += 3;
		for (hn = 0; h + hn < p + n && h[hn] != ' ' && h[hn] != ':';
		    hn++)
			;
	}
	if ((t = dsn_ci_find(e, (size_t)(p + n - e), "SMTP error from")) ==
	    NULL && (t = memchr(e, ':', (size_t)(p + n - e))) != NULL)
		t++;
	if (t == NULL)
		t = e;
	item_add(d, cap, r, (size_t)(e - r), h, hn, t, (size_t)(p + n - t),
	    action);
	return 1;
}

/* rd_opensmtpd - "mta delivery ... to=<r> ... result=\"X\" stat=\"...\"" */
static int
rd_opensmtpd(struct dsn *d, size_t *cap, const char *p, size_t n)
{
	const char	*res, *r, *h, *s;
	size_t		 resn, rn, hn = 0, sn;

	if (dsn_ci_find(p, n, "mta delivery") == NULL ||
	    (res = field(p, n, "result=", &resn)) == NULL ||
	    dsn_ci_prefix(res, resn, "Ok") ||
	    (r = field(p, n, "to=<", &rn)) == NULL ||
	    (s = field(p, n, "stat=", &sn)) == NULL)
		return 0;
	if (rn > 0 && r[rn - 1] == '>')
		rn--;
	if ((h = field(p, n, "relay=", &hn)) != NULL)
		hn = host_len(h, hn);
	item_add(d, cap, r, rn, h, hn, s, sn,
	    dsn_ci_prefix(res, resn, "TempFail") ? "delayed" : "failed");
	return 1;
}

/* rd_sendmail - "to=<r>, ..., relay=h. [ip], dsn=x.y.z, stat=text" */
static int
rd_sendmail(struct dsn *d, size_t *cap, const char *p, size_t n)
{
	const char	*r, *h, *s, *ds;
	size_t		 rn, hn = 0, sn, dn;

	if ((s = field(p, n, "stat=", &sn)) == NULL ||
	    (r = field(p, n, "to=", &rn)) == NULL ||
	    (ds = field(p, n, "dsn=", &dn)) == NULL || dn < 1 ||
	    ds[0] == '2')
		return 0;
	s = dsn_ci_find(p, n, "stat=") + 5;
	sn = (size_t)(p + n - s);
	if ((h = field(p, n, "relay=", &hn)) != NULL)
		hn = host_len(h, hn);
	item_add(d, cap, r, rn, h, hn, s, sn, ds[0] == '4' ? "delayed" :
	    "failed");
	if (d->nitems > 0 && d->items[d->nitems - 1].status == NULL) {
		char	 enh[16];

		if (dsn_enh_at(ds, dn, enh) > 0)
			d->items[d->nitems - 1].status = xstrdup(enh);
	}
	return 1;
}

/* rd_postqueue - one "postqueue -j" JSON object */
static int
rd_postqueue(struct dsn *d, size_t *cap, const char *p, size_t n)
{
	json_t		*o, *rc, *x;
	json_error_t	 err;
	const char	*a, *why;
	size_t		 i;

	if (n == 0 || p[0] != '{' || dsn_ci_find(p, n, "\"queue_id\"") ==
	    NULL || (o = json_loadb(p, n, 0, &err)) == NULL)
		return 0;
	rc = json_object_get(o, "recipients");
	for (i = 0; json_is_array(rc) && i < json_array_size(rc); i++) {
		x = json_array_get(rc, i);
		a = json_string_value(json_object_get(x, "address"));
		why = json_string_value(json_object_get(x, "delay_reason"));
		if (a == NULL || why == NULL)
			continue;
		item_add(d, cap, a, strlen(a), NULL, 0, why, strlen(why),
		    "delayed");
	}
	json_decref(o);
	return 1;
}

/* dsn_log_parse - the failed and deferred recipients of log lines */
struct dsn *
dsn_log_parse(const char *text, size_t len)
{
	struct dsn	*d;
	const char	*p = text, *e;
	size_t		 cap = 0, n, lines = 0;

	d = xcalloc(1, sizeof(*d));
	while (text != NULL && p < text + len) {
		if ((e = memchr(p, '\n', (size_t)(text + len - p))) == NULL)
			e = text + len;
		n = (size_t)(e - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > LOG_LINE_MAX)
			n = LOG_LINE_MAX;
		lines += rd_postqueue(d, &cap, p, n) ||
		    rd_postfix(d, &cap, p, n) || rd_opensmtpd(d, &cap, p, n) ||
		    rd_sendmail(d, &cap, p, n) || rd_exim(d, &cap, p, n);
		p = e + 1;
	}
	if (lines == 0) {
		dsn_free(d);
		return NULL;
	}
	return d;
}

/*
 * mtasts.c - MTA-STS (RFC 8461): TXT record, policy fetch and strict
 * parsing, MX matching (see include/mtasts.h).
 *
 * The steps run one after the other on the loop: TXT _mta-sts.DOMAIN,
 * then A and AAAA of mta-sts.DOMAIN at once, then the HTTPS GET to the
 * first address (the next one only when a connection cannot be made:
 * a certificate or HTTP failure is the answer). Each step appends a
 * line to result->notes, so the transcript can show the whole path.
 *
 * What the RFC leaves to the sender is decided here as follows: a
 * Content-Type other than text/plain (a SHOULD) and empty lines or
 * repeated fields (the first counts) are tolerated with a warning;
 * anything else outside the grammar of 3.1 and 3.2 makes the record or
 * the policy invalid.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns.h"
#include "https.h"
#include "log.h"
#include "mtasts.h"
#include "util.h"

struct mtasts_req {
	struct event_base	*base;
	struct dns_ctx		*dns;
	SSL_CTX			*ctx;
	unsigned		 port;
	long			 timeout_ms;
	int			 family;
	char			*host;		/* mta-sts.DOMAIN */
	struct mtasts_result	*res;
	struct dns_query	*txtq;
	struct dns_query	*addrq[2];
	struct https_req	*http;
	struct dns_addr		*addrs;
	size_t			 naddrs;
	size_t			 next;		/* address to try */
	int			 pending;	/* address lookups */
	mtasts_cb		 cb;
	void			*arg;
};

static void	mtasts_on_txt(const struct dns_result *, void *);
static void	mtasts_on_addr(const struct dns_result *, void *);
static void	mtasts_fetch(struct mtasts_req *);
static void	mtasts_on_http(const struct https_result *, void *);
static void	mtasts_done(struct mtasts_req *, enum mtasts_status,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static void	mtasts_note(struct mtasts_result *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	mtasts_warn(struct mtasts_policy *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	mtasts_is_stsv1(const char *);
static int	mtasts_domain_ok(const char *, size_t);
static int	mtasts_extname_ok(const char *, size_t);

static const char *const status_names[] = {
	[MTASTS_NONE] = "none",
	[MTASTS_TXT_INVALID] = "txt-invalid",
	[MTASTS_DNS_ERROR] = "dns-error",
	[MTASTS_FETCH_ERROR] = "fetch-error",
	[MTASTS_WEBPKI] = "webpki-invalid",
	[MTASTS_INVALID] = "policy-invalid",
	[MTASTS_OK] = "ok",
};

const char *
mtasts_status_name(enum mtasts_status s)
{
	return (size_t)s < nitems(status_names) ?
	    status_names[s] : "?";
}

const char *
mtasts_mode_name(enum mtasts_mode m)
{
	switch (m) {
	case MTASTS_MODE_ENFORCE:
		return "enforce";
	case MTASTS_MODE_TESTING:
		return "testing";
	default:
		return "none";
	}
}

static void
mtasts_note(struct mtasts_result *r, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	util_list_vaddf(&r->notes, &r->nnotes, fmt, ap);
	va_end(ap);
}

static void
mtasts_warn(struct mtasts_policy *p, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	util_list_vaddf(&p->warnings, &p->nwarnings, fmt, ap);
	va_end(ap);
}

/* ---- parsers ---- */

/* mtasts_extname_ok - (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".") */
static int
mtasts_extname_ok(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0 || n > 32 || !isalnum((unsigned char)s[0]))
		return 0;
	for (i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

/* mtasts_domain_ok - RFC 5321 Domain: LDH labels, no end hyphens */
static int
mtasts_domain_ok(const char *s, size_t n)
{
	size_t	 i, label = 0;

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
		if (label == 0 && s[i] == '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && s[n - 1] != '-';
}

/* mtasts_is_stsv1 - the record starts "v=STSv1" then ";", WSP or end */
static int
mtasts_is_stsv1(const char *t)
{
	return strncmp(t, "v=STSv1", 7) == 0 && (t[7] == '\0' ||
	    t[7] == ';' || t[7] == ' ' || t[7] == '\t');
}

int
mtasts_parse_txt(const char *txt, char **id, char *err, size_t errlen)
{
	const char	*p = txt, *f, *e, *eq;
	size_t		 n, k;
	int		 first = 1;
	char		*q;

	*id = NULL;
	while (util_field_next(&p, &f, &e)) {
		n = (size_t)(e - f);
		if (first) {
			if (n != 7 || strncmp(f, "v=STSv1", 7) != 0) {
				snprintf(err, errlen, "the record does not "
				    "start with v=STSv1");
				goto bad;
			}
			first = 0;
		} else if (n == 0) {
			if (p == NULL)
				break;		/* one trailing ";" */
			snprintf(err, errlen, "an empty field (\";;\")");
			goto bad;
		} else {
			eq = memchr(f, '=', n);
			if (eq == NULL || !mtasts_extname_ok(f,
			    (size_t)(eq - f))) {
				q = util_escape(f, n);
				snprintf(err, errlen, "\"%s\" is not "
				    "name=value", q);
				free(q);
				goto bad;
			}
			if (eq - f == 2 && strncmp(f, "id", 2) == 0) {
				size_t vl = (size_t)(e - eq - 1);

				for (k = 0; k < vl; k++)
					if (!isalnum((unsigned char)eq[1 + k]))
						break;
				if (vl == 0 || vl > 32 || k < vl) {
					q = util_escape(eq + 1, vl);
					snprintf(err, errlen, "id \"%s\" is "
					    "not 1 to 32 letters and digits",
					    q);
					free(q);
					goto bad;
				}
				if (*id != NULL) {
					snprintf(err, errlen, "more than one "
					    "id");
					goto bad;
				}
				*id = xstrndup(eq + 1, vl);
			} else {
				for (k = 1; eq + k < e; k++) {
					unsigned char c = (unsigned char)
					    eq[k];

					if (c < 0x21 || c > 0x7e || c == ';' ||
					    c == '=')
						break;
				}
				if (eq + k != e || k == 1) {
					q = util_escape(f, n);
					snprintf(err, errlen, "bad extension "
					    "\"%s\"", q);
					free(q);
					goto bad;
				}
			}
		}
	}
	if (*id == NULL) {
		snprintf(err, errlen, "no id field");
		return -1;
	}
	return 0;
bad:
	free(*id);
	*id = NULL;
	return -1;
}

void
mtasts_policy_clear(struct mtasts_policy *p)
{
	size_t	 i;

	for (i = 0; i < p->nmx; i++)
		free(p->mx[i]);
	free(p->mx);
	for (i = 0; i < p->nwarnings; i++)
		free(p->warnings[i]);
	free(p->warnings);
	memset(p, 0, sizeof(*p));
}

int
mtasts_parse_policy(const char *text, size_t len, struct mtasts_policy *p,
    char *err, size_t errlen)
{
	const char	*s = text, *end = text + len, *nl, *colon, *v, *ve;
	size_t		 l, kl, vl, i;
	int		 line = 0, blank = 0, have_v = 0, have_mode = 0;
	int		 have_age = 0;
	char		*q;

	memset(p, 0, sizeof(*p));
	if (len > 0 && memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "the policy holds a NUL byte");
		return -1;
	}
	for (; s < end; s = nl != NULL ? nl + 1 : end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		l = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s);
		line++;
		if (l > 0 && s[l - 1] == '\r')
			l--;
		if (l == 0) {
			blank = line;
			continue;
		}
		if (blank) {
			mtasts_warn(p, "line %d is empty (the grammar of RFC "
			    "8461 3.2 has no empty lines)", blank);
			blank = 0;
		}
		if ((colon = memchr(s, ':', l)) == NULL) {
			q = util_escape(s, l > 60 ? 60 : l);
			snprintf(err, errlen, "line %d is not \"key: value\": "
			    "\"%s\"", line, q);
			free(q);
			return -1;
		}
		kl = (size_t)(colon - s);
		if (!mtasts_extname_ok(s, kl)) {
			q = util_escape(s, kl > 60 ? 60 : kl);
			snprintf(err, errlen, "line %d: \"%s\" is not a field "
			    "name", line, q);
			free(q);
			return -1;
		}
		for (v = colon + 1; v < s + l && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = s + l; ve > v && (ve[-1] == ' ' || ve[-1] == '\t');
		    ve--)
			;
		vl = (size_t)(ve - v);
		for (i = 0; i < vl; i++)
			if ((unsigned char)v[i] < 0x20 ||
			    (unsigned char)v[i] > 0x7e)
				break;
		if (i < vl) {
			snprintf(err, errlen, "line %d: the value holds a "
			    "control or non-ASCII byte", line);
			return -1;
		}
		q = util_escape(v, vl);
		if (kl == 7 && strncmp(s, "version", 7) == 0) {
			if (have_v)
				mtasts_warn(p, "line %d: a second version "
				    "field, ignored", line);
			else if (strcmp(q, "STSv1") != 0) {
				snprintf(err, errlen, "version is \"%s\", not "
				    "STSv1", q);
				free(q);
				return -1;
			}
			have_v = 1;
		} else if (kl == 4 && strncmp(s, "mode", 4) == 0) {
			if (have_mode)
				mtasts_warn(p, "line %d: a second mode field, "
				    "ignored", line);
			else if (strcmp(q, "enforce") == 0)
				p->mode = MTASTS_MODE_ENFORCE;
			else if (strcmp(q, "testing") == 0)
				p->mode = MTASTS_MODE_TESTING;
			else if (strcmp(q, "none") == 0)
				p->mode = MTASTS_MODE_NONE;
			else {
				snprintf(err, errlen, "mode is \"%s\", not "
				    "enforce, testing or none", q);
				free(q);
				return -1;
			}
			have_mode = 1;
		} else if (kl == 7 && strncmp(s, "max_age", 7) == 0) {
			long	 n = 0;

			for (i = 0; i < vl && isdigit((unsigned char)v[i]); i++)
				n = n * 10 + (v[i] - '0');
			if (have_age)
				mtasts_warn(p, "line %d: a second max_age "
				    "field, ignored", line);
			else if (vl == 0 || vl > 10 || i < vl ||
			    n > MTASTS_MAX_AGE) {
				snprintf(err, errlen, "max_age \"%s\" is not "
				    "a number of seconds from 0 to %ld", q,
				    MTASTS_MAX_AGE);
				free(q);
				return -1;
			} else
				p->max_age = n;
			have_age = 1;
		} else if (kl == 2 && strncmp(s, "mx", 2) == 0) {
			const char *d = v;
			size_t	    dl = vl;

			if (dl > 2 && d[0] == '*' && d[1] == '.') {
				d += 2;
				dl -= 2;
			}
			if (!mtasts_domain_ok(d, dl)) {
				snprintf(err, errlen, "line %d: mx \"%s\" is "
				    "not a host name or *.domain pattern",
				    line, q);
				free(q);
				return -1;
			}
			p->mx = xreallocarray(p->mx, p->nmx + 1,
			    sizeof(char *));
			p->mx[p->nmx++] = xstrdup(q);
		}
		/* other fields are extensions: ignored (3.2) */
		free(q);
	}
	if (!have_v) {
		snprintf(err, errlen, "no version field");
		return -1;
	}
	if (!have_mode) {
		snprintf(err, errlen, "no mode field");
		return -1;
	}
	if (!have_age) {
		snprintf(err, errlen, "no max_age field");
		return -1;
	}
	if (p->mode != MTASTS_MODE_NONE && p->nmx == 0) {
		snprintf(err, errlen, "mode %s without any mx field",
		    mtasts_mode_name(p->mode));
		return -1;
	}
	return 0;
}

int
mtasts_mx_match(const char *pattern, const char *host)
{
	size_t	 hl = strlen(host), pl = strlen(pattern);
	size_t	 i;

	if (hl > 0 && host[hl - 1] == '.')
		hl--;
	if (pl > 0 && pattern[pl - 1] == '.')
		pl--;
	if (pl > 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* exactly one more label, on the left (4.1) */
		if (hl <= pl - 1 || strncasecmp(host + hl - (pl - 1),
		    pattern + 1, pl - 1) != 0)
			return 0;
		for (i = 0; i < hl - (pl - 1); i++)
			if (host[i] == '.')
				return 0;
		return 1;
	}
	return hl == pl && strncasecmp(host, pattern, hl) == 0;
}

const char *
mtasts_policy_match(const struct mtasts_policy *p, const char *host)
{
	size_t	 i;

	for (i = 0; i < p->nmx; i++)
		if (mtasts_mx_match(p->mx[i], host))
			return p->mx[i];
	return NULL;
}

/* ---- the lookup ---- */

struct mtasts_req *
mtasts_start(struct event_base *base, struct dns_ctx *dns,
    const struct mtasts_params *p, mtasts_cb cb, void *arg)
{
	struct mtasts_req	*r;
	char			*name;

	r = xcalloc(1, sizeof(*r));
	r->base = base;
	r->dns = dns;
	r->ctx = p->ctx;
	r->port = p->port != 0 ? p->port : 443;
	r->timeout_ms = p->timeout_ms > 0 ? p->timeout_ms : 60000;
	r->family = p->family;
	r->cb = cb;
	r->arg = arg;
	r->res = xcalloc(1, sizeof(*r->res));
	r->res->domain = xstrdup(p->domain);
	r->host = xasprintf("mta-sts.%s", p->domain);
	if (r->port == 443)
		r->res->url = xasprintf("https://%s%s", r->host, MTASTS_PATH);
	else
		r->res->url = xasprintf("https://%s:%u%s", r->host, r->port,
		    MTASTS_PATH);
	name = xasprintf("_mta-sts.%s", p->domain);
	r->txtq = dns_query(dns, name, DNS_T_TXT, mtasts_on_txt, r);
	free(name);
	return r;
}

void
mtasts_cancel(struct mtasts_req *r)
{
	if (r == NULL)
		return;
	if (r->txtq != NULL)
		dns_cancel(r->txtq);
	if (r->addrq[0] != NULL)
		dns_cancel(r->addrq[0]);
	if (r->addrq[1] != NULL)
		dns_cancel(r->addrq[1]);
	https_cancel(r->http);
	mtasts_result_free(r->res);
	free(r->addrs);
	free(r->host);
	free(r);
}

void
mtasts_result_free(struct mtasts_result *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	free(r->domain);
	free(r->txt);
	free(r->id);
	free(r->url);
	free(r->address);
	free(r->content_type);
	free(r->body);
	free(r->detail);
	for (i = 0; i < r->nnotes; i++)
		free(r->notes[i]);
	free(r->notes);
	mtasts_policy_clear(&r->policy);
	free(r);
}

/* mtasts_done - decide, then hand the result over and free the request */
static void
mtasts_done(struct mtasts_req *r, enum mtasts_status st, const char *fmt,
    ...)
{
	struct mtasts_result	*res = r->res;
	va_list			 ap;

	res->status = st;
	switch (st) {
	case MTASTS_FETCH_ERROR:
		res->result_type = "sts-policy-fetch-error";
		break;
	case MTASTS_WEBPKI:
		res->result_type = "sts-webpki-invalid";
		break;
	case MTASTS_INVALID:
		res->result_type = "sts-policy-invalid";
		break;
	default:
		res->result_type = NULL;
		break;
	}
	va_start(ap, fmt);
	if (vasprintf(&res->detail, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	r->res = NULL;
	r->cb(res, r->arg);
	free(r->addrs);
	free(r->host);
	free(r);
}

static void
mtasts_on_txt(const struct dns_result *d, void *arg)
{
	struct mtasts_req	*r = arg;
	struct mtasts_result	*res = r->res;
	const char		*rec = NULL;
	char			 err[256];
	size_t			 i, n = 0;

	r->txtq = NULL;
	if (d->status == DNS_NODATA || d->status == DNS_NXDOMAIN) {
		mtasts_note(res, "TXT %s: %s (from %s)", d->qname,
		    dns_status_name(d->status), d->server);
		mtasts_done(r, MTASTS_NONE, "no _mta-sts TXT record: %s has no "
		    "MTA-STS policy", res->domain);
		return;
	}
	if (d->status != DNS_OK) {
		mtasts_note(res, "TXT %s: %s", d->qname, d->detail);
		mtasts_done(r, MTASTS_DNS_ERROR, "the _mta-sts TXT lookup "
		    "failed: %s", d->detail);
		return;
	}
	for (i = 0; i < d->ntxts; i++) {
		mtasts_note(res, "TXT %s: \"%s\" (from %s)", d->qname,
		    d->txts[i], d->server);
		if (mtasts_is_stsv1(d->txts[i])) {
			rec = d->txts[i];
			n++;
		}
	}
	if (n == 0) {
		mtasts_done(r, MTASTS_NONE, "no TXT record of %s starts with "
		    "v=STSv1: no MTA-STS policy", d->qname);
		return;
	}
	if (n > 1) {
		mtasts_done(r, MTASTS_TXT_INVALID, "%zu v=STSv1 TXT records at "
		    "%s: a sender takes none of them, so there is no policy "
		    "(RFC 8461 3.1)", n, d->qname);
		return;
	}
	res->txt = xstrdup(rec);
	if (mtasts_parse_txt(rec, &res->id, err, sizeof(err)) == -1) {
		mtasts_done(r, MTASTS_TXT_INVALID, "the TXT record at %s is "
		    "not valid (%s): a sender takes it as no policy (RFC 8461 "
		    "3.1)", d->qname, err);
		return;
	}
	/* the policy host, through our resolver */
	r->pending = r->family == 0 ? 2 : 1;
	if (r->family != AF_INET6)
		r->addrq[0] = dns_query(r->dns, r->host, DNS_T_A,
		    mtasts_on_addr, r);
	if (r->family != AF_INET)
		r->addrq[1] = dns_query(r->dns, r->host, DNS_T_AAAA,
		    mtasts_on_addr, r);
}

static void
mtasts_on_addr(const struct dns_result *d, void *arg)
{
	struct mtasts_req	*r = arg;
	size_t			 i, at;

	r->addrq[d->qtype == DNS_T_A ? 0 : 1] = NULL;
	if (d->naddrs > 0) {
		r->addrs = xreallocarray(r->addrs, r->naddrs + d->naddrs,
		    sizeof(*r->addrs));
		/* A first, whatever order the answers came in */
		at = d->qtype == DNS_T_A ? 0 : r->naddrs;
		if (d->qtype == DNS_T_A && r->naddrs > 0)
			memmove(r->addrs + d->naddrs, r->addrs,
			    r->naddrs * sizeof(*r->addrs));
		for (i = 0; i < d->naddrs; i++)
			r->addrs[at + i] = d->addrs[i];
		r->naddrs += d->naddrs;
	}
	mtasts_note(r->res, "%s %s: %s", d->qtype == DNS_T_A ? "A" : "AAAA",
	    d->qname, d->status == DNS_OK ? d->detail :
	    dns_status_name(d->status));
	if (--r->pending > 0)
		return;
	if (r->naddrs == 0) {
		mtasts_done(r, MTASTS_FETCH_ERROR, "the policy host %s has no "
		    "address, so the policy cannot be fetched", r->host);
		return;
	}
	mtasts_fetch(r);
}

/* mtasts_fetch - GET the policy from the next address */
static void
mtasts_fetch(struct mtasts_req *r)
{
	struct https_params	 hp;
	struct sockaddr_storage	 ss;
	struct dns_addr		*a = &r->addrs[r->next++];

	memset(&ss, 0, sizeof(ss));
	memset(&hp, 0, sizeof(hp));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)r->port);
		memcpy(&sin->sin_addr, a->addr, 4);
		hp.addrlen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)r->port);
		memcpy(&sin6->sin6_addr, a->addr, 16);
		hp.addrlen = sizeof(*sin6);
	}
	free(r->res->address);
	r->res->address = xasprintf(a->family == AF_INET6 ? "[%s]:%u" :
	    "%s:%u", a->text, r->port);
	hp.host = r->host;
	hp.path = MTASTS_PATH;
	hp.addr = (struct sockaddr *)&ss;
	hp.ctx = r->ctx;
	hp.timeout_ms = r->timeout_ms;
	hp.max_body = MTASTS_MAX_BODY;
	r->http = https_get(r->base, &hp, mtasts_on_http, r);
}

static void
mtasts_on_http(const struct https_result *h, void *arg)
{
	struct mtasts_req	*r = arg;
	struct mtasts_result	*res = r->res;
	char			 err[256], mt[64];
	size_t			 n;

	r->http = NULL;
	mtasts_note(res, "GET %s at %s: %s%s%s", res->url, res->address,
	    h->detail, h->tls_version != NULL ? ", " : "",
	    h->tls_version != NULL ? h->tls_version : "");
	switch (h->status) {
	case HTTPS_OK:
		break;
	case HTTPS_CONNECT:
		if (r->next < r->naddrs) {
			mtasts_fetch(r);
			return;
		}
		/* FALLTHROUGH */
	case HTTPS_TLS:
	case HTTPS_TIMEOUT:
	case HTTPS_PROTOCOL:
	case HTTPS_TOOBIG:
		mtasts_done(r, MTASTS_FETCH_ERROR, "cannot fetch %s: %s",
		    res->url, h->detail);
		return;
	case HTTPS_CERT:
		mtasts_done(r, MTASTS_WEBPKI, "the certificate of %s is not "
		    "valid: %s", r->host, h->detail);
		return;
	}
	res->http_status = h->code;
	res->content_type = h->content_type != NULL ?
	    xstrdup(h->content_type) : NULL;
	if (h->code >= 300 && h->code < 400) {
		mtasts_done(r, MTASTS_FETCH_ERROR, "HTTP %d redirect%s%s from "
		    "%s: not followed (RFC 8461 3.3: only a 200 counts)",
		    h->code, h->location != NULL ? " to " : "",
		    h->location != NULL ? h->location : "", res->url);
		return;
	}
	if (h->code != 200) {
		mtasts_done(r, MTASTS_FETCH_ERROR, "HTTP %d from %s (only a "
		    "200 counts)", h->code, res->url);
		return;
	}
	res->body = util_escape(h->body, h->bodylen);
	if (mtasts_parse_policy(h->body, h->bodylen, &res->policy, err,
	    sizeof(err)) == -1) {
		mtasts_policy_clear(&res->policy);
		mtasts_done(r, MTASTS_INVALID, "the policy at %s is not valid: "
		    "%s", res->url, err);
		return;
	}
	n = h->content_type != NULL ? strcspn(h->content_type, "; \t") : 0;
	snprintf(mt, sizeof(mt), "%.*s", (int)n, h->content_type != NULL ?
	    h->content_type : "");
	if (strcasecmp(mt, "text/plain") != 0)
		mtasts_warn(&res->policy, "Content-Type is %s%s%s, not "
		    "text/plain (RFC 8461 3.2)", h->content_type != NULL ?
		    "\"" : "missing", h->content_type != NULL ?
		    h->content_type : "", h->content_type != NULL ? "\"" : "");
	{
		char	*list = NULL, *tmp;
		size_t	 i;

		for (i = 0; i < res->policy.nmx; i++) {
			tmp = list;
			list = xasprintf("%s%s%s", tmp != NULL ? tmp : "",
			    i > 0 ? " " : "", res->policy.mx[i]);
			free(tmp);
		}
		mtasts_note(res, "policy: version STSv1, mode %s, max_age %ld, "
		    "mx %s", mtasts_mode_name(res->policy.mode),
		    res->policy.max_age, list != NULL ? list : "(none)");
		free(list);
	}
	mtasts_done(r, MTASTS_OK, "mode %s (id %s)",
	    mtasts_mode_name(res->policy.mode), res->id);
}

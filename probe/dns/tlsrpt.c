/*
 * tlsrpt.c - the _smtp._tls TXT record of RFC 8460 3 (see
 * include/tlsrpt.h). Records not starting with "v=TLSRPTv1" are
 * discarded; exactly one must remain and parse, else the domain has
 * no reporting. Report URIs are "mailto:" or "https:"; any other
 * scheme makes the record invalid.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns.h"
#include "log.h"
#include "tlsrpt.h"
#include "util.h"

struct tlsrpt_req {
	struct dns_query	*q;
	struct tlsrpt_result	*res;
	tlsrpt_cb		 cb;
	void			*arg;
};

static void	tlsrpt_on_txt(const struct dns_result *, void *);
static int	tlsrpt_uri(const char *, size_t, struct tlsrpt_result *,
		    char *, size_t);

const char *
tlsrpt_status_name(enum tlsrpt_status s)
{
	switch (s) {
	case TLSRPT_PRESENT:
		return "present";
	case TLSRPT_INVALID:
		return "invalid";
	case TLSRPT_ERROR:
		return "error";
	default:
		return "absent";
	}
}

/* tlsrpt_uri - check one report URI and keep it */
static int
tlsrpt_uri(const char *u, size_t n, struct tlsrpt_result *r, char *err,
    size_t errlen)
{
	char	*q;
	size_t	 i;

	for (i = 0; i < n; i++)
		if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] > 0x7e)
			break;
	if (i < n || !((n > 7 && strncasecmp(u, "mailto:", 7) == 0 &&
	    memchr(u + 7, '@', n - 7) != NULL) || (n > 8 &&
	    strncasecmp(u, "https://", 8) == 0))) {
		q = util_escape(u, n);
		snprintf(err, errlen, "\"%s\" is not a mailto: or https: "
		    "report URI", q);
		free(q);
		return -1;
	}
	r->rua = xreallocarray(r->rua, r->nrua + 1, sizeof(char *));
	r->rua[r->nrua++] = xstrndup(u, n);
	return 0;
}

int
tlsrpt_parse(const char *txt, struct tlsrpt_result *r, char *err,
    size_t errlen)
{
	const char	*p = txt, *f, *e, *eq, *u, *ue;
	size_t		 n, k;
	int		 first = 1, have_rua = 0;
	char		*q;

	while (util_field_next(&p, &f, &e)) {
		n = (size_t)(e - f);
		if (first) {
			if (n != 10 || strncmp(f, "v=TLSRPTv1", 10) != 0) {
				snprintf(err, errlen, "the record does not "
				    "start with v=TLSRPTv1");
				return -1;
			}
			first = 0;
		} else if (n == 0) {
			if (p == NULL)
				break;	/* one trailing ";" */
			snprintf(err, errlen, "an empty field (\";;\")");
			return -1;
		} else if (n > 4 && strncmp(f, "rua=", 4) == 0) {
			if (have_rua) {
				snprintf(err, errlen, "more than one rua "
				    "field");
				return -1;
			}
			have_rua = 1;
			for (u = f + 4; u <= e; u = ue + 1) {
				while (u < e && (*u == ' ' || *u == '\t'))
					u++;
				for (ue = u; ue < e && *ue != ','; ue++)
					;
				k = (size_t)(ue - u);
				while (k > 0 && (u[k - 1] == ' ' ||
				    u[k - 1] == '\t'))
					k--;
				if (tlsrpt_uri(u, k, r, err, errlen) == -1)
					return -1;
				if (ue == e)
					break;
			}
		} else {
			eq = memchr(f, '=', n);
			for (k = 0; eq != NULL && f + k < eq; k++)
				if (!isalnum((unsigned char)f[k]) &&
				    (k == 0 || (f[k] != '_' && f[k] != '-' &&
				    f[k] != '.')))
					break;
			if (eq == NULL || eq == f || f + k != eq || k > 32 ||
			    eq + 1 == e) {
				q = util_escape(f, n);
				snprintf(err, errlen, "\"%s\" is not "
				    "name=value", q);
				free(q);
				return -1;
			}
		}
	}
	if (!have_rua) {
		snprintf(err, errlen, "no rua field");
		return -1;
	}
	return 0;
}

struct tlsrpt_req *
tlsrpt_start(struct dns_ctx *dns, const char *domain, tlsrpt_cb cb,
    void *arg)
{
	struct tlsrpt_req	*r;
	char			*name;

	r = xcalloc(1, sizeof(*r));
	r->res = xcalloc(1, sizeof(*r->res));
	r->res->domain = xstrdup(domain);
	r->cb = cb;
	r->arg = arg;
	name = xasprintf("_smtp._tls.%s", domain);
	r->q = dns_query(dns, name, DNS_T_TXT, tlsrpt_on_txt, r);
	free(name);
	return r;
}

void
tlsrpt_cancel(struct tlsrpt_req *r)
{
	if (r == NULL)
		return;
	dns_cancel(r->q);
	tlsrpt_result_free(r->res);
	free(r);
}

void
tlsrpt_result_free(struct tlsrpt_result *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	free(r->domain);
	free(r->record);
	for (i = 0; i < r->nrua; i++)
		free(r->rua[i]);
	free(r->rua);
	free(r->detail);
	free(r);
}

static void
tlsrpt_on_txt(const struct dns_result *d, void *arg)
{
	struct tlsrpt_req	*q = arg;
	struct tlsrpt_result	*r = q->res;
	const char		*rec = NULL;
	char			 err[256];
	size_t			 i, n = 0;

	for (i = 0; d->status == DNS_OK && i < d->ntxts; i++)
		if (strncmp(d->txts[i], "v=TLSRPTv1", 10) == 0 &&
		    (d->txts[i][10] == '\0' || d->txts[i][10] == ';' ||
		    d->txts[i][10] == ' ' || d->txts[i][10] == '\t')) {
			rec = d->txts[i];
			n++;
		}
	if (d->status != DNS_OK && d->status != DNS_NODATA &&
	    d->status != DNS_NXDOMAIN) {
		r->status = TLSRPT_ERROR;
		r->detail = xasprintf("TXT %s: %s", d->qname, d->detail);
	} else if (n == 0) {
		r->status = TLSRPT_ABSENT;
		r->detail = xasprintf("no v=TLSRPTv1 TXT record at %s: no TLS "
		    "reports are asked for", d->qname);
	} else if (n > 1) {
		r->status = TLSRPT_INVALID;
		r->detail = xasprintf("%zu v=TLSRPTv1 TXT records at %s: "
		    "senders take none (RFC 8460 3)", n, d->qname);
	} else {
		r->record = xstrdup(rec);
		if (tlsrpt_parse(rec, r, err, sizeof(err)) == -1) {
			for (i = 0; i < r->nrua; i++)
				free(r->rua[i]);
			free(r->rua);
			r->rua = NULL;
			r->nrua = 0;
			r->status = TLSRPT_INVALID;
			r->detail = xasprintf("the TXT record at %s is not "
			    "valid: %s; senders take it as no reporting "
			    "(RFC 8460 3)", d->qname, err);
		} else {
			r->status = TLSRPT_PRESENT;
			r->detail = xasprintf("reports go to %zu address%s",
			    r->nrua, r->nrua == 1 ? "" : "es");
		}
	}
	q->res = NULL;
	q->cb(r, q->arg);
	free(q);
}

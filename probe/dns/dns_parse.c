/*
 * dns_parse.c - an answer packet turned into a struct dns_result
 * (records the caller asked for, CNAME chains followed, extended
 * errors), and reverse names for PTR and list lookups (see
 * include/dns.h; shared state in dns_int.h).
 *
 * Every name and string from the packet is escaped before it is kept:
 * a server controls them. */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "dns_int.h"
#include "log.h"
#include "util.h"

static char	*dns_rdf_name(const ldns_rdf *);

/*
 * ---- answers ----
 */

/* dns_rdf_name - printable domain name without the trailing dot */
static char *
dns_rdf_name(const ldns_rdf *rdf)
{
	char	*s, *out;
	size_t	 n;

	if ((s = ldns_rdf2str(rdf)) == NULL)
		fatalx("ldns_rdf2str failed");
	n = strlen(s);
	if (n > 1 && s[n - 1] == '.')
		s[--n] = '\0';
	out = util_escape(s, n);
	LDNS_FREE(s);
	return out;
}

void
dns_result_clear(struct dns_result *r)
{
	size_t	 i;

	for (i = 0; i < r->nrrs; i++)
		free(r->rrs[i]);
	free(r->rrs);
	free(r->addrs);
	for (i = 0; i < r->nnames; i++)
		free(r->names[i]);
	free(r->names);
	for (i = 0; i < r->ntxts; i++)
		free(r->txts[i]);
	free(r->txts);
	for (i = 0; i < r->nmx; i++)
		free(r->mx[i].host);
	free(r->mx);
	for (i = 0; i < r->ntlsa; i++)
		free(r->tlsa[i].data);
	free(r->tlsa);
	if (r->canon != r->qname)
		free((char *)r->canon);
	r->canon = r->qname;
	r->rrs = NULL;
	r->addrs = NULL;
	r->names = r->txts = NULL;
	r->mx = NULL;
	r->tlsa = NULL;
	r->nrrs = r->naddrs = r->nnames = r->ntxts = r->nmx = r->ntlsa = 0;
}

/* dns_add_rr - one record of the asked type into the result arrays */
static void
dns_add_rr(struct dns_result *r, ldns_rr *rr)
{
	ldns_rdf	*rd;
	size_t		 i, n, len;

	switch (ldns_rr_get_type(rr)) {
	case LDNS_RR_TYPE_A:
	case LDNS_RR_TYPE_AAAA:
		rd = ldns_rr_rdf(rr, 0);
		len = rd != NULL ? ldns_rdf_size(rd) : 0;
		if (len != 4 && len != 16)
			return;
		r->addrs = xreallocarray(r->addrs, r->naddrs + 1,
		    sizeof(*r->addrs));
		memset(&r->addrs[r->naddrs], 0, sizeof(*r->addrs));
		r->addrs[r->naddrs].family = len == 4 ? AF_INET : AF_INET6;
		memcpy(r->addrs[r->naddrs].addr, ldns_rdf_data(rd), len);
		inet_ntop(r->addrs[r->naddrs].family, ldns_rdf_data(rd),
		    r->addrs[r->naddrs].text, sizeof(r->addrs[0].text));
		r->naddrs++;
		break;
	case LDNS_RR_TYPE_PTR:
	case LDNS_RR_TYPE_NS:
	case LDNS_RR_TYPE_CNAME:
		if ((rd = ldns_rr_rdf(rr, 0)) == NULL)
			return;
		r->names = xreallocarray(r->names, r->nnames + 1,
		    sizeof(*r->names));
		r->names[r->nnames++] = dns_rdf_name(rd);
		break;
	case LDNS_RR_TYPE_MX:
		if (ldns_rr_rd_count(rr) < 2)
			return;
		r->mx = xreallocarray(r->mx, r->nmx + 1, sizeof(*r->mx));
		r->mx[r->nmx].pref = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
		r->mx[r->nmx].host = dns_rdf_name(ldns_rr_rdf(rr, 1));
		r->nmx++;
		break;
	case LDNS_RR_TYPE_TXT: {
		char	*buf = NULL;
		size_t	 blen = 0;

		for (i = 0; i < ldns_rr_rd_count(rr); i++) {
			const uint8_t	*d;

			rd = ldns_rr_rdf(rr, i);
			d = ldns_rdf_data(rd);
			n = ldns_rdf_size(rd);
			if (n == 0)
				continue;
			len = d[0] < n - 1 ? d[0] : n - 1;
			buf = xreallocarray(buf, blen + len + 1, 1);
			memcpy(buf + blen, d + 1, len);
			blen += len;
		}
		r->txts = xreallocarray(r->txts, r->ntxts + 1,
		    sizeof(*r->txts));
		r->txts[r->ntxts++] = util_escape(buf != NULL ? buf : "", blen);
		free(buf);
		break;
	}
	case LDNS_RR_TYPE_TLSA:
		if (ldns_rr_rd_count(rr) < 4)
			return;
		r->tlsa = xreallocarray(r->tlsa, r->ntlsa + 1,
		    sizeof(*r->tlsa));
		r->tlsa[r->ntlsa].usage =
		    ldns_rdf2native_int8(ldns_rr_rdf(rr, 0));
		r->tlsa[r->ntlsa].selector =
		    ldns_rdf2native_int8(ldns_rr_rdf(rr, 1));
		r->tlsa[r->ntlsa].mtype =
		    ldns_rdf2native_int8(ldns_rr_rdf(rr, 2));
		rd = ldns_rr_rdf(rr, 3);
		r->tlsa[r->ntlsa].len = ldns_rdf_size(rd);
		r->tlsa[r->ntlsa].data = xmalloc(ldns_rdf_size(rd));
		memcpy(r->tlsa[r->ntlsa].data, ldns_rdf_data(rd),
		    ldns_rdf_size(rd));
		r->ntlsa++;
		break;
	default:
		break;
	}
}

/* dns_ede - RFC 8914 extended error: info-code, text into buf */
static int
dns_ede(ldns_pkt *p, char *buf, size_t len)
{
	ldns_edns_option_list	*ol;
	ldns_edns_option	*o;
	const uint8_t		*d;
	size_t			 i, n;
	char			*esc;

	buf[0] = '\0';
	if ((ol = ldns_pkt_edns_get_option_list(p)) == NULL)
		return -1;
	for (i = 0; i < ldns_edns_option_list_get_count(ol); i++) {
		o = ldns_edns_option_list_get_option(ol, i);
		if (o == NULL || ldns_edns_get_code(o) != LDNS_EDNS_EDE ||
		    (n = ldns_edns_get_size(o)) < 2)
			continue;
		d = ldns_edns_get_data(o);
		if (n > 2) {
			esc = util_escape((const char *)d + 2, n - 2);
			snprintf(buf, len, "%s", esc);
			free(esc);
		}
		return d[0] << 8 | d[1];
	}
	return -1;
}

/*
 * dns_result_fill - status, flags and records from an answer: follow
 * the CNAME chain from the question, then take the records of the
 * asked type owned by the last name.
 */
void
dns_result_fill(struct dns_query *q, ldns_pkt *p)
{
	struct dns_result	*r = &q->res;
	ldns_rr_list		*an = ldns_pkt_answer(p);
	ldns_rdf		*name = q->qrdf;
	ldns_rr			*rr;
	size_t			 i, n = ldns_rr_list_rr_count(an);
	int			 hop, found;
	char			*s, ede[200];
	const char		*rcname;
	ldns_lookup_table	*lt;

	dns_result_clear(r);
	r->rcode = ldns_pkt_get_rcode(p);
	r->ad = ldns_pkt_ad(p);
	r->tcp = q->tcp;
	r->ede = dns_ede(p, ede, sizeof(ede));
	for (i = 0; i < n; i++) {
		rr = ldns_rr_list_rr(an, i);
		if ((s = ldns_rr2str(rr)) == NULL)
			continue;
		s[strcspn(s, "\n")] = '\0';
		r->rrs = xreallocarray(r->rrs, r->nrrs + 1, sizeof(*r->rrs));
		r->rrs[r->nrrs++] = util_escape(s, strlen(s));
		LDNS_FREE(s);
	}
	for (hop = 0; hop < DNS_CNAME_HOPS; hop++) {
		ldns_rdf	*next = NULL;

		found = 0;
		for (i = 0; i < n; i++) {
			rr = ldns_rr_list_rr(an, i);
			if (ldns_dname_compare(ldns_rr_owner(rr), name) != 0 ||
			    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN)
				continue;
			if (ldns_rr_get_type(rr) == (ldns_rr_type)q->qtype)
				found = 1;
			else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
			    next == NULL)
				next = ldns_rr_rdf(rr, 0);
		}
		if (found || next == NULL)
			break;
		name = next;
	}
	if (name != q->qrdf)
		r->canon = dns_rdf_name(name);
	found = 0;
	for (i = 0; i < n; i++) {
		rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) == (ldns_rr_type)q->qtype &&
		    ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
		    ldns_dname_compare(ldns_rr_owner(rr), name) == 0) {
			dns_add_rr(r, rr);
			found++;
		}
	}
	lt = ldns_lookup_by_id(ldns_rcodes, r->rcode);
	rcname = lt != NULL ? lt->name : "?";
	switch (r->rcode) {
	case LDNS_RCODE_NOERROR:
		r->status = found ? DNS_OK : DNS_NODATA;
		if (found)
			snprintf(q->detail, sizeof(q->detail), "%zu record%s "
			    "from %s%s", r->nrrs, r->nrrs == 1 ? "" : "s",
			    q->ctx->servers[q->srv].text, r->ad ?
			    " (AD)" : "");
		else
			snprintf(q->detail, sizeof(q->detail),
			    "%s has no %s record", q->qname,
			    ldns_rr_descript(q->qtype) != NULL ?
			    ldns_rr_descript(q->qtype)->_name : "such");
		break;
	case LDNS_RCODE_NXDOMAIN:
		r->status = DNS_NXDOMAIN;
		snprintf(q->detail, sizeof(q->detail), "%s does not exist "
		    "(NXDOMAIN%s)", r->canon, r->ad ? ", AD" : "");
		break;
	case LDNS_RCODE_SERVFAIL:
		r->status = DNS_SERVFAIL;
		if (r->ede >= 0)
			snprintf(q->detail, sizeof(q->detail), "SERVFAIL from "
			    "%s (EDE %d%s%s)", q->ctx->servers[q->srv].text,
			    r->ede, ede[0] != '\0' ? ": " : "", ede);
		else
			snprintf(q->detail, sizeof(q->detail),
			    "SERVFAIL from %s", q->ctx->servers[q->srv].text);
		break;
	default:
		r->status = DNS_REFUSED;
		snprintf(q->detail, sizeof(q->detail), "%s from %s", rcname,
		    q->ctx->servers[q->srv].text);
		break;
	}
}

/*
 * ---- names ----
 */

int
dns_reverse_name(const char *ip, const char *zone, char *buf, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 a[16];
	char			*o = buf;
	size_t			 need;
	int			 i;

	if (ip == NULL)
		return -1;
	if (inet_pton(AF_INET, ip, a) == 1) {
		if (zone == NULL)
			zone = "in-addr.arpa";
		need = 16 + strlen(zone) + 1;
		if (need > len)
			return -1;
		snprintf(buf, len, "%u.%u.%u.%u.%s", a[3], a[2], a[1], a[0],
		    zone);
		return 4;
	}
	if (inet_pton(AF_INET6, ip, a) != 1)
		return -1;
	if (zone == NULL)
		zone = "ip6.arpa";
	need = 64 + strlen(zone) + 1;
	if (need > len)
		return -1;
	for (i = 15; i >= 0; i--) {
		*o++ = hex[a[i] & 0xf];
		*o++ = '.';
		*o++ = hex[a[i] >> 4];
		*o++ = '.';
	}
	snprintf(o, len - 64, "%s", zone);
	return 6;
}

/*
 * check.c - pre-flight identity checks on dns.c (see include/check.h).
 *
 * A run starts every lookup it can at once and keeps what comes back
 * in per-check state; lookups that depend on an answer (forward
 * lookups of PTR names, the TXT reason of a listing, the parent
 * domain's DMARC record) are started from the answer's callback. When
 * the last lookup is done, check_finish() (check_items.c) turns the
 * state into items, always in the same order whatever order the
 * answers arrived in, and hands them to the caller.
 *
 * Invariant: run->lookups holds exactly the lookups in flight, and
 * run->pending counts them; a lookup's callback runs its handler
 * before it is counted out, so a handler may add lookups.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "check.h"
#include "check_int.h"
#include "dns.h"
#include "log.h"
#include "util.h"
#include "valid.h"

const char *const check_default_dnsbl[] = {
	"zen.spamhaus.org",
	"bl.spamcop.net",
	"b.barracudacentral.org",
	"psbl.surriel.com",
	"bl.mailspike.net",
	"dnsbl-1.uceprotect.net",
	NULL
};

/*
 * What list answers mean. Zone-specific rows first; a row with zone
 * NULL applies to every list. Spamhaus documents 127.255.255.0/24 and
 * 127.0.1.255 as error codes that must never be read as listings.
 */
static const struct check_code {
	const char	*zone;
	const char	*answer;	/* exact A record */
	int		 listed;
	const char	*meaning;
} check_codes[] = {
	{ "zen.spamhaus.org", "127.0.0.2", 1, "SBL: spam source" },
	{ "zen.spamhaus.org", "127.0.0.3", 1, "SBL CSS: snowshoe spam" },
	{ "zen.spamhaus.org", "127.0.0.4", 1, "XBL: exploited or infected "
	    "host (CBL)" },
	{ "zen.spamhaus.org", "127.0.0.9", 1, "SBL DROP: hijacked range" },
	{ "zen.spamhaus.org", "127.0.0.10", 1, "PBL: the ISP says this range "
	    "should not send mail directly" },
	{ "zen.spamhaus.org", "127.0.0.11", 1, "PBL: dynamic or residential "
	    "range (Spamhaus)" },
	{ "dbl.spamhaus.org", "127.0.1.2", 1, "DBL: spam domain" },
	{ "dbl.spamhaus.org", "127.0.1.4", 1, "DBL: phishing domain" },
	{ "dbl.spamhaus.org", "127.0.1.5", 1, "DBL: malware domain" },
	{ "dbl.spamhaus.org", "127.0.1.6", 1, "DBL: botnet C&C domain" },
	{ NULL, "127.255.255.252", 0, "error: typing error in the list "
	    "name" },
	{ NULL, "127.255.255.254", 0, "error: query via a public or open "
	    "resolver refused" },
	{ NULL, "127.255.255.255", 0, "error: excessive number of queries "
	    "(rate limited)" },
	{ NULL, "127.0.1.255", 0, "error: IP address queried against a "
	    "domain list" },
};

static const char *const check_status_names[] = {
	[CHECK_PASS] = "pass",
	[CHECK_WARN] = "warn",
	[CHECK_FAIL] = "fail",
	[CHECK_ERROR] = "error"
};

static void	check_ask(struct check_run *, const char *, uint16_t, check_fn,
		    void *, int);
static void	check_lookup_cb(const struct dns_result *, void *);
static void	check_mx_cb(struct dns_mxset *, void *);
static void	check_done_one(struct check_run *);
static void	check_defer_cb(evutil_socket_t, short, void *);
static void	check_on_ptr(struct check_run *, const struct dns_result *,
		    void *, int);
static void	check_on_fwd(struct check_run *, const struct dns_result *,
		    void *, int);
static void	check_on_helo(struct check_run *, const struct dns_result *,
		    void *, int);
static void	check_on_bl(struct check_run *, const struct dns_result *,
		    void *, int);
static void	check_on_txt(struct check_run *, const struct dns_result *,
		    void *, int);
static void	check_on_url(struct check_run *, const struct dns_result *,
		    void *, int);

const char *
check_status_name(enum check_status s)
{
	if ((unsigned)s > CHECK_ERROR)
		return "?";
	return check_status_names[s];
}

/* check_append - *s += sep (when *s is not empty) + formatted text */
void
check_append(char **s, const char *sep, const char *fmt, ...)
{
	va_list	 ap;
	char	*add, *old = *s;

	va_start(ap, fmt);
	if (vasprintf(&add, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	if (old == NULL)
		*s = add;
	else {
		*s = xasprintf("%s%s%s", old, sep, add);
		free(old);
		free(add);
	}
}

/* check_parse_ip - address literal, v4-mapped IPv6 taken as IPv4 */
int
check_parse_ip(const char *s, struct check_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (s == NULL)
		return -1;
	if (inet_pton(AF_INET, s, ip->bin) == 1)
		ip->family = AF_INET;
	else if (inet_pton(AF_INET6, s, ip->bin) == 1) {
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0,
		    0, 0, 0, 0, 0xff, 0xff };

		if (memcmp(ip->bin, mapped, 12) == 0) {
			memmove(ip->bin, ip->bin + 12, 4);
			ip->family = AF_INET;
		} else
			ip->family = AF_INET6;
	} else
		return -1;
	inet_ntop(ip->family, ip->bin, ip->text, sizeof(ip->text));
	return 0;
}

/* check_ip_private - 1 for addresses no server on the Internet sees */
static int
check_ip_private(const struct check_ip *ip)
{
	const unsigned char	*b = ip->bin;

	if (ip->family == AF_INET)
		return b[0] == 10 || b[0] == 127 ||
		    (b[0] == 172 && (b[1] & 0xf0) == 16) ||
		    (b[0] == 192 && b[1] == 168) ||
		    (b[0] == 169 && b[1] == 254) ||
		    (b[0] == 100 && (b[1] & 0xc0) == 64);
	return (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe &&
	    (b[1] & 0xc0) == 0x80) || (memcmp(b, "\0\0\0\0\0\0\0\0\0\0\0\0"
	    "\0\0\0", 15) == 0 && b[15] <= 1);
}

int
check_private(const char *text)
{
	struct check_ip	 ip;

	if (check_parse_ip(text, &ip) == -1 || ip.family <= 0)
		return -1;
	return check_ip_private(&ip);
}

/* check_same_ip - 1 if a DNS address equals ours */
int
check_same_ip(const struct dns_addr *a, const struct check_ip *ip)
{
	return a->family == ip->family && memcmp(a->addr, ip->bin,
	    ip->family == AF_INET ? 4 : 16) == 0;
}

/* check_addrs_text - "A B C" from a result's addresses */
char *
check_addrs_text(const struct dns_result *r)
{
	char	*s = NULL;
	size_t	 i;

	for (i = 0; i < r->naddrs; i++)
		check_append(&s, " ", "%s", r->addrs[i].text);
	return s;
}

int
check_dnsbl_answer(const char *zone, const char *a, const char **meaning)
{
	struct in_addr	 in;
	size_t		 i;

	*meaning = NULL;
	for (i = 0; i < nitems(check_codes); i++) {
		const struct check_code *c = &check_codes[i];

		if (strcmp(c->answer, a) != 0)
			continue;
		if (c->zone != NULL && (zone == NULL ||
		    strcasecmp(c->zone, zone) != 0))
			continue;
		*meaning = c->meaning;
		return c->listed;
	}
	if (inet_pton(AF_INET, a, &in) != 1) {
		*meaning = "error: not an IPv4 address";
		return 0;
	}
	if ((ntohl(in.s_addr) >> 24) != 127) {
		*meaning = "error: answer outside 127.0.0.0/8 (a wildcard, "
		    "a parked or expired list, or a hijacking resolver)";
		return 0;
	}
	if ((ntohl(in.s_addr) & 0xffffff00) == 0x7fffff00) {
		*meaning = "error: 127.255.255.0/24 is an error range";
		return 0;
	}
	return 1;
}

int
check_ptr_generic(const char *name, const char *ip)
{
	static const char *const words[] = { "dyn", "dynamic", "dhcp",
	    "pool", "dsl", "adsl", "xdsl", "cable", "ppp", "pppoe", "dial",
	    "dialup", "dial-up", "broadband", "customer", "cust", "resid",
	    "residential", "unassigned", NULL };
	struct check_ip	 a;
	char		 low[256], oct[4][4], *p, *tok, *save;
	size_t		 i;
	int		 j, forward, backward;

	if (name == NULL || strlen(name) >= sizeof(low))
		return 0;
	for (i = 0; name[i] != '\0'; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[i] = '\0';
	/* all four octets, in either order, as separate number runs */
	if (check_parse_ip(ip, &a) == 0 && a.family == AF_INET) {
		for (j = 0; j < 4; j++)
			snprintf(oct[j], sizeof(oct[j]), "%u", a.bin[j]);
		forward = backward = 0;
		for (p = low; *p != '\0';) {
			char	 num[4];
			size_t	 n = 0;

			if (!isdigit((unsigned char)*p)) {
				p++;
				continue;
			}
			while (isdigit((unsigned char)*p) && n < 3)
				num[n++] = *p++;
			num[n] = '\0';
			while (isdigit((unsigned char)*p))
				p++;
			if (forward < 4 && strcmp(num, oct[forward]) == 0)
				forward++;
			else if (forward < 4)
				forward = strcmp(num, oct[0]) == 0;
			if (backward < 4 && strcmp(num, oct[3 - backward]) ==
			    0)
				backward++;
			else if (backward < 4)
				backward = strcmp(num, oct[3]) == 0;
		}
		if (forward == 4 || backward == 4)
			return 1;
	}
	/* words that name pools, in the labels left of the domain */
	for (tok = strtok_r(low, ".-_0123456789", &save); tok != NULL;
	    tok = strtok_r(NULL, ".-_0123456789", &save))
		for (j = 0; words[j] != NULL; j++)
			if (strcmp(tok, words[j]) == 0)
				return 1;
	return 0;
}

/* check_url_host - the host part of the authority at s, or NULL */
static char *
check_url_host(const char *s, const char *end, const char **next)
{
	const char	*p = s, *h, *he;
	char		*host;
	size_t		 i, n;

	while (p < end && (isalnum((unsigned char)*p) ||
	    strchr("-._~%:@[]!$&'*+,;=", *p) != NULL) && *p != '\0')
		p++;
	*next = p;
	h = s;
	for (he = s; he < p; he++)
		if (*he == '@')
			h = he + 1;		/* drop userinfo */
	he = p;
	if (h >= he)
		return NULL;
	if (*h == '[') {
		const char *c = memchr(h, ']', (size_t)(he - h));

		if (c == NULL)
			return NULL;
		h++;
		he = c;
	} else {
		const char *c = memchr(h, ':', (size_t)(he - h));

		if (c != NULL)
			he = c;			/* drop the port */
		while (he > h && (he[-1] == '.' || he[-1] == ',' ||
		    he[-1] == ';' || he[-1] == '\''))
			he--;
	}
	n = (size_t)(he - h);
	if (n == 0 || n > 253)
		return NULL;
	host = xstrndup(h, n);
	for (i = 0; i < n; i++)
		host[i] = (char)tolower((unsigned char)host[i]);
	return host;
}

char **
check_url_hosts(const char *body, size_t len, size_t max, size_t *nhosts,
    size_t *nlinks, size_t *more)
{
	const char	*p = body, *end = body + len, *next;
	char		**hosts = NULL, *h;
	size_t		 n = 0, i, skip;

	*nhosts = *nlinks = *more = 0;
	while (p < end) {
		if ((size_t)(end - p) >= 7 && strncasecmp(p, "http://", 7) ==
		    0)
			skip = 7;
		else if ((size_t)(end - p) >= 8 &&
		    strncasecmp(p, "https://", 8) == 0)
			skip = 8;
		else {
			p++;
			continue;
		}
		h = check_url_host(p + skip, end, &next);
		p = next > p + skip ? next : p + skip;
		if (h == NULL)
			continue;
		(*nlinks)++;
		for (i = 0; i < n; i++)
			if (strcmp(hosts[i], h) == 0)
				break;
		if (i < n) {
			free(h);
			continue;
		}
		if (n == max) {
			(*more)++;
			free(h);
			continue;
		}
		hosts = xreallocarray(hosts, n + 1, sizeof(*hosts));
		hosts[n++] = h;
	}
	*nhosts = n;
	return hosts;
}

/*
 * ---- running ----
 */

/* check_ask_helo - the HELO name's A, AAAA and MX, when it is an FQDN */
static void
check_ask_helo(struct check_run *run, const char *h)
{
	size_t	 l = strlen(h);

	run->helo = xstrdup(h);
	run->helo_literal = l > 2 && h[0] == '[' && h[l - 1] == ']';
	run->helo_fqdn = !run->helo_literal && valid_fqdn(h) &&
	    strcasecmp(h, "localhost.localdomain") != 0 && h[l - 1] != '.';
	if (run->helo_fqdn) {
		check_ask(run, h, DNS_T_A, check_on_helo, NULL, TAG_A);
		check_ask(run, h, DNS_T_AAAA, check_on_helo, NULL, TAG_AAAA);
		check_ask(run, h, DNS_T_MX, check_on_helo, NULL, TAG_MX);
	}
}

/* check_ask_dnsbl - our IP in one DNSBL, with its RFC 5782 test entries */
static void
check_ask_dnsbl(struct check_run *run, const char *zone, int selftest)
{
	struct check_bl	*b = &run->bls[run->nbls++];
	char		 name[300];

	b->name = "dnsbl";
	b->subject = xstrdup(run->ip.text);
	b->zone = xstrdup(zone);
	if (dns_reverse_name(run->ip.text, zone, name, sizeof(name)) == -1) {
		b->main.done = 1;
		b->main.st = DNS_INVALID;
		b->main.detail = xstrdup("list name too long");
		return;
	}
	b->qname = xstrdup(name);
	check_ask(run, b->qname, DNS_T_A, check_on_bl, b, TAG_MAIN);
	if (!selftest)
		return;
	b->selftest = 1;
	if (dns_reverse_name(run->ip.family == AF_INET ? "127.0.0.2" :
	    "::ffff:7f00:2", zone, name, sizeof(name)) != -1)
		check_ask(run, name, DNS_T_A, check_on_bl, b, TAG_POS);
	if (dns_reverse_name(run->ip.family == AF_INET ? "127.0.0.1" :
	    "::ffff:7f00:1", zone, name, sizeof(name)) != -1)
		check_ask(run, name, DNS_T_A, check_on_bl, b, TAG_NEG);
}

/* check_ask_sender - the sender domain's MX, SPF and DMARC records */
static void
check_ask_sender(struct check_run *run, const char *d)
{
	struct check_lookup	*l;
	const char		*org;
	size_t			 j;

	run->sender = xstrdup(d[0] == '@' ? d + 1 : d);
	l = xcalloc(1, sizeof(*l));
	l->run = run;
	LIST_INSERT_HEAD(&run->lookups, l, entry);
	run->pending++;
	l->mxq = dns_mx_resolve(run->dns, run->sender, check_mx_cb, l);
	run->spf.where = xstrdup(run->sender);
	check_ask(run, run->spf.where, DNS_T_TXT, check_on_txt, &run->spf, 0);
	run->dmarc.where = xasprintf("_dmarc.%s", run->sender);
	check_ask(run, run->dmarc.where, DNS_T_TXT, check_on_txt,
	    &run->dmarc, 0);
	/* organizational domain, guessed as the last two labels */
	org = run->sender + strlen(run->sender);
	for (j = 0; org > run->sender; org--)
		if (org[-1] == '.' && ++j == 2)
			break;
	if (org > run->sender)
		run->dmarc_org.where = xasprintf("_dmarc.%s", org);
}

/* check_ask_url - one link host: its addresses and its domain lists */
static void
check_ask_url(struct check_run *run, char *host, const char *const *dbl,
    size_t ndbl)
{
	struct check_url	*u = &run->urls[run->nurls++];
	struct check_ip		 tmp;
	size_t			 j;

	u->host = host;
	if (check_parse_ip(u->host, &tmp) == 0) {
		u->kind = URL_IP;
		return;
	}
	if (!valid_fqdn(u->host) || u->host[strlen(u->host) - 1] == '.') {
		u->kind = URL_BAD;
		return;
	}
	u->kind = URL_FQDN;
	check_ask(run, u->host, DNS_T_A, check_on_url, u, TAG_A);
	check_ask(run, u->host, DNS_T_AAAA, check_on_url, u, TAG_AAAA);
	for (j = 0; j < ndbl; j++) {
		struct check_bl *b = &run->bls[run->nbls++];

		b->name = "dbl";
		b->subject = xstrdup(u->host);
		b->zone = xstrdup(dbl[j]);
		b->qname = xasprintf("%s.%s", u->host, dbl[j]);
		check_ask(run, b->qname, DNS_T_A, check_on_bl, b, TAG_MAIN);
	}
}

struct check_run *
check_run(struct event_base *base, struct dns_ctx *dns,
    const struct check_params *p, check_cb cb, void *arg)
{
	struct check_run	*run;
	const char *const	*zones;
	size_t			 i, nz = 0, ndbl = 0, nh = 0;
	char			**hosts = NULL;

	run = xcalloc(1, sizeof(*run));
	run->base = base;
	run->dns = dns;
	run->cb = cb;
	run->arg = arg;
	LIST_INIT(&run->lookups);
	if ((run->defer = evtimer_new(base, check_defer_cb, run)) == NULL)
		fatalx("evtimer_new failed");

	/* decide what to ask, so that bls[] can be allocated once */
	if (p->ip != NULL && check_parse_ip(p->ip, &run->ip) == 0)
		run->ip_private = check_ip_private(&run->ip);
	else if (p->ip != NULL) {
		run->ip.family = -1;	/* malformed: reported */
		snprintf(run->ip.text, sizeof(run->ip.text), "%.45s", p->ip);
	}
	zones = p->dnsbl != NULL ? p->dnsbl : check_default_dnsbl;
	if (run->ip.family > 0 && !run->ip_private && !p->no_dnsbl)
		for (nz = 0; zones[nz] != NULL; nz++)
			;
	if (p->body != NULL) {
		run->urls_on = 1;
		hosts = check_url_hosts(p->body, p->body_len, p->max_urls > 0 ?
		    p->max_urls : CHECK_MAX_URLS, &nh, &run->nlinks,
		    &run->urls_more);
		if (p->dbl != NULL)
			for (ndbl = 0; p->dbl[ndbl] != NULL; ndbl++)
				;
	}
	run->bls = xcalloc(nz + nh * ndbl + 1, sizeof(*run->bls));

	/* our IP: PTR, then forward lookups of its names */
	if (run->ip.family > 0 && !run->ip_private)
		check_ask(run, run->ip.text, DNS_T_PTR, check_on_ptr, NULL, 0);
	if (p->helo != NULL)
		check_ask_helo(run, p->helo);
	for (i = 0; i < nz; i++)
		check_ask_dnsbl(run, zones[i], !p->no_selftest);
	if (p->sender_domain != NULL && p->sender_domain[0] != '\0')
		check_ask_sender(run, p->sender_domain);
	run->urls = xcalloc(nh + 1, sizeof(*run->urls));
	for (i = 0; i < nh; i++)
		check_ask_url(run, hosts[i], p->dbl, ndbl);
	free(hosts);

	run->started = 1;
	if (run->pending == 0) {
		static const struct timeval	 zero = { 0, 0 };

		evtimer_add(run->defer, &zero);
	}
	return run;
}

void
check_cancel(struct check_run *run)
{
	struct check_lookup	*l;

	if (run == NULL)
		return;
	while ((l = LIST_FIRST(&run->lookups)) != NULL) {
		LIST_REMOVE(l, entry);
		if (l->q != NULL)
			dns_cancel(l->q);
		if (l->mxq != NULL)
			dns_mx_cancel(l->mxq);
		free(l);
	}
	check_run_free(run);
}

void
check_run_free(struct check_run *run)
{
	size_t	 i, j;
	struct check_txt *t[] = { &run->spf, &run->dmarc, &run->dmarc_org };

	event_free(run->defer);
	free(run->helo);
	free(run->sender);
	free(run->ptr_detail);
	free(run->ptr_server);
	for (i = 0; i < run->nfwd; i++) {
		free(run->fwd[i].name);
		free(run->fwd[i].addrs);
	}
	free(run->fwd);
	free(run->helo_addrs);
	for (i = 0; i < run->nbls; i++) {
		struct check_bl		*b = &run->bls[i];
		struct check_blans	*a[] = { &b->main, &b->pos, &b->neg };

		free(b->subject);
		free(b->zone);
		free(b->qname);
		free(b->txt);
		free(b->server);
		for (j = 0; j < 3; j++) {
			free(a[j]->detail);
			free(a[j]->addrs);
			free(a[j]->meanings);
		}
	}
	free(run->bls);
	dns_mxset_free(run->mxset);
	for (i = 0; i < 3; i++) {
		for (j = 0; j < t[i]->nrecs; j++)
			free(t[i]->recs[j]);
		free(t[i]->recs);
		free(t[i]->detail);
		free(t[i]->where);
	}
	for (i = 0; i < run->nurls; i++) {
		free(run->urls[i].host);
		free(run->urls[i].addrs);
	}
	free(run->urls);
	free(run);
}

/* check_ask - one DNS lookup whose answer goes to fn(run, r, ctx, tag) */
static void
check_ask(struct check_run *run, const char *name, uint16_t type,
    check_fn fn, void *ctx, int tag)
{
	struct check_lookup	*l;

	l = xcalloc(1, sizeof(*l));
	l->run = run;
	l->fn = fn;
	l->ctx = ctx;
	l->tag = tag;
	LIST_INSERT_HEAD(&run->lookups, l, entry);
	run->pending++;
	if (type == DNS_T_PTR)
		l->q = dns_query_ptr(run->dns, name, check_lookup_cb, l);
	else
		l->q = dns_query(run->dns, name, type, check_lookup_cb, l);
}

static void
check_lookup_cb(const struct dns_result *r, void *arg)
{
	struct check_lookup	*l = arg;
	struct check_run	*run = l->run;

	LIST_REMOVE(l, entry);
	l->fn(run, r, l->ctx, l->tag);
	free(l);
	check_done_one(run);
}

static void
check_mx_cb(struct dns_mxset *set, void *arg)
{
	struct check_lookup	*l = arg;
	struct check_run	*run = l->run;

	LIST_REMOVE(l, entry);
	run->mxset = set;
	free(l);
	check_done_one(run);
}

/* check_done_one - one lookup less; the last one finishes the run */
static void
check_done_one(struct check_run *run)
{
	if (--run->pending == 0 && run->started)
		check_finish(run);
}

static void
check_defer_cb(evutil_socket_t fd, short what, void *arg)
{
	check_finish(arg);
}

/*
 * ---- answers ----
 */

static void
check_on_ptr(struct check_run *run, const struct dns_result *r, void *ctx,
    int tag)
{
	size_t	 i;

	run->ptr_done = 1;
	run->ptr_st = r->status;
	run->ptr_detail = xstrdup(r->detail);
	run->ptr_server = xstrdup(r->server);
	run->nptr = r->nnames;
	if (r->status != DNS_OK)
		return;
	run->nfwd = r->nnames < CHECK_MAX_PTR ? r->nnames : CHECK_MAX_PTR;
	run->fwd = xcalloc(run->nfwd, sizeof(*run->fwd));
	for (i = 0; i < run->nfwd; i++)
		run->fwd[i].name = xstrdup(r->names[i]);
	for (i = 0; i < run->nfwd; i++)
		check_ask(run, run->fwd[i].name, run->ip.family == AF_INET ?
		    DNS_T_A : DNS_T_AAAA, check_on_fwd, &run->fwd[i], 0);
}

static void
check_on_fwd(struct check_run *run, const struct dns_result *r, void *ctx,
    int tag)
{
	struct check_fwd	*f = ctx;
	size_t			 i;

	f->done = 1;
	f->st = r->status;
	f->addrs = check_addrs_text(r);
	for (i = 0; i < r->naddrs; i++)
		if (check_same_ip(&r->addrs[i], &run->ip))
			f->match = 1;
}

static void
check_on_helo(struct check_run *run, const struct dns_result *r, void *ctx,
    int tag)
{
	size_t	 i;

	run->helo_st[tag] = r->status;
	if (tag == TAG_MX) {
		run->helo_nmx = r->nmx;
		return;
	}
	for (i = 0; i < r->naddrs; i++) {
		check_append(&run->helo_addrs, " ", "%s", r->addrs[i].text);
		if (run->ip.family > 0 && check_same_ip(&r->addrs[i], &run->ip))
			run->helo_match = 1;
	}
}

/* check_judge - sort a list's A records into listings and errors */
static void
check_judge(const struct dns_result *r, const char *zone,
    struct check_blans *a)
{
	const char	*meaning;
	size_t		 i;

	a->done = 1;
	a->st = r->status;
	a->detail = xstrdup(r->detail);
	a->addrs = check_addrs_text(r);
	for (i = 0; i < r->naddrs; i++) {
		if (check_dnsbl_answer(zone, r->addrs[i].text, &meaning))
			a->listed = 1;
		else
			a->error = 1;
		if (meaning != NULL)
			check_append(&a->meanings, ", ", "%s (%s)",
			    r->addrs[i].text, meaning);
		else
			check_append(&a->meanings, ", ", "%s",
			    r->addrs[i].text);
	}
}

static void
check_on_bl(struct check_run *run, const struct dns_result *r, void *ctx,
    int tag)
{
	struct check_bl	*b = ctx;
	size_t		 i;

	switch (tag) {
	case TAG_MAIN:
		check_judge(r, b->zone, &b->main);
		b->server = xstrdup(r->server);
		if (b->main.listed && !b->main.error)
			check_ask(run, b->qname, DNS_T_TXT, check_on_bl, b,
			    TAG_TXT);
		break;
	case TAG_TXT:
		for (i = 0; i < r->ntxts; i++)
			check_append(&b->txt, "; ", "%s", r->txts[i]);
		break;
	case TAG_POS:
		check_judge(r, b->zone, &b->pos);
		break;
	case TAG_NEG:
		check_judge(r, b->zone, &b->neg);
		break;
	}
}

/* check_on_txt - SPF and DMARC: keep the records that start right */
static void
check_on_txt(struct check_run *run, const struct dns_result *r, void *ctx,
    int tag)
{
	struct check_txt	*t = ctx;
	const char		*tagv = t == &run->spf ? "v=spf1" : "v=DMARC1";
	size_t			 i, n = strlen(tagv);

	t->done = 1;
	t->st = r->status;
	t->detail = xstrdup(r->detail);
	for (i = 0; i < r->ntxts; i++) {
		const char	*s = r->txts[i];
		int		 match;

		/* RFC 7208 4.5: "v=spf1" then space or end, any case */
		if (t == &run->spf)
			match = strncasecmp(s, tagv, n) == 0 &&
			    (s[n] == '\0' || s[n] == ' ');
		else	/* RFC 7489 6.4: exactly "v=DMARC1" first */
			match = strncmp(s, tagv, n) == 0 &&
			    (s[n] == '\0' || s[n] == ';' || s[n] == ' ');
		if (!match)
			continue;
		t->recs = xreallocarray(t->recs, t->nrecs + 1,
		    sizeof(*t->recs));
		t->recs[t->nrecs++] = xstrdup(s);
	}
	if (t == &run->dmarc && t->nrecs == 0 && r->status != DNS_TIMEOUT &&
	    r->status != DNS_SERVFAIL && r->status != DNS_NETWORK &&
	    run->dmarc_org.where != NULL &&
	    strcasecmp(run->dmarc_org.where, run->dmarc.where) != 0)
		check_ask(run, run->dmarc_org.where, DNS_T_TXT, check_on_txt,
		    &run->dmarc_org, 0);
}

static void
check_on_url(struct check_run *run, const struct dns_result *r, void *ctx,
    int tag)
{
	struct check_url	*u = ctx;
	size_t			 i;

	if (tag == TAG_A) {
		u->a = r->status;
		u->adone = 1;
	} else {
		u->aaaa = r->status;
		u->aaaadone = 1;
	}
	for (i = 0; i < r->naddrs; i++)
		check_append(&u->addrs, " ", "%s", r->addrs[i].text);
}

/*
 * check.h - pre-flight identity checks: what a receiving server will
 * find out about us from DNS before it reads a word of the message.
 *
 * check_run() starts every lookup at once on a dns.c context and calls
 * back once with a check_result: a list of items in a fixed order, each
 * with a status and one line of evidence a person can act on. The
 * checks, by item name:
 *
 *	source-ip	the address is private: the server sees our NAT's
 *			public address instead (then no IP checks run)
 *	ptr		our IP has a PTR record (and it does not look
 *			generic/dynamic); answer: the names, ", "-separated
 *	fcrdns		a PTR name resolves back to our IP (RFC 8601 iprev);
 *			answer: the confirmed name
 *	helo-fqdn	the HELO name is a fully-qualified domain name
 *	helo-dns	the HELO name resolves, to our IP
 *	dnsbl		one per list: our IP listed or not (RFC 5782). An
 *			answer in 127.255.255.0/24 or 127.0.1.255, or outside
 *			127.0.0.0/8, is an error (Spamhaus: public resolver
 *			refused, rate limit, typo), never a listing; a list
 *			failing its RFC 5782 test entries is unusable
 *	sender-dns	the sender domain has MX or A/AAAA, no null MX
 *	spf		exactly one "v=spf1" TXT record
 *	dmarc		a DMARC record at _dmarc (or the parent domain)
 *	url-hosts	how many links the body holds
 *	url-host	one per host linked in the body: an FQDN that resolves
 *	dbl		one per host and domain list: host listed or not
 *
 * Ownership: the result passed to the callback belongs to the caller
 * (check_result_free). The run handle is freed after the callback
 * returns; before that, check_cancel() drops it without a callback.
 * A run borrows its dns_ctx: cancel or finish runs before freeing the
 * context. The callback is never called from inside check_run().
 */
#ifndef SMTPROBE_CHECK_H
#define SMTPROBE_CHECK_H

#include <stddef.h>

struct event_base;
struct dns_ctx;
struct check_run;

enum check_status {
	CHECK_PASS,
	CHECK_WARN,	/* legal, but a reason for some servers to refuse */
	CHECK_FAIL,	/* a common reason for rejection */
	CHECK_ERROR	/* could not tell: lookup failed, list unusable */
};

struct check_item {
	const char	*name;		/* item name, see above (static) */
	char		*subject;	/* what was checked: IP, name, host */
	char		*zone;		/* dnsbl, dbl: the list; else NULL */
	char		*answer;	/* dnsbl, dbl: A records, space-
					   separated; ptr, fcrdns: names
					   (see above); else NULL */
	enum check_status status;
	char		*evidence;	/* one line for people */
};

struct check_result {
	struct check_item *items;
	size_t		 nitems;
	char		*resolver;	/* first DNS server used, "ADDR:PORT" */
};

struct check_params {
	const char	*ip;		/* our address as the server sees it
					   (--public-ip, else the socket's);
					   NULL: no IP checks */
	const char	*helo;		/* --helo; NULL: no HELO checks */
	const char	*sender_domain;	/* domain of --from; NULL: none */
	const char *const *dnsbl;	/* NULL-terminated zones; NULL:
					   check_default_dnsbl */
	int		 no_dnsbl;	/* skip the DNSBL checks */
	int		 no_selftest;	/* skip RFC 5782 test entries */
	const char *const *dbl;		/* domain lists for URL hosts,
					   NULL-terminated; NULL: none */
	const char	*body;		/* message to scan for links; NULL:
					   no URL checks */
	size_t		 body_len;
	size_t		 max_urls;	/* hosts checked; 0: 20 */
};

typedef void (*check_cb)(struct check_result *, void *arg);

/* Widely used public DNSBLs, NULL-terminated */
extern const char *const check_default_dnsbl[];

/*
 * check_run - start the checks p asks for (p is copied). Never NULL;
 * with nothing to check the callback gets an empty result.
 */
struct check_run *check_run(struct event_base *, struct dns_ctx *,
		    const struct check_params *, check_cb, void *arg);
void		 check_cancel(struct check_run *);
void		 check_result_free(struct check_result *);

const char	*check_status_name(enum check_status);	/* "pass" ... */

/* check_find - first item with name (and subject, unless NULL) */
const struct check_item *check_find(const struct check_result *,
		    const char *name, const char *subject);

/* check_worst - the worst status in r (PASS < WARN < ERROR < FAIL) */
enum check_status check_worst(const struct check_result *);

/*
 * check_dnsbl_answer - judge one A record a list returned: 1 for a
 * listing, 0 for an error answer (never a listing). *meaning gets a
 * static description when one is known (zone-specific or generic),
 * else NULL.
 */
int		 check_dnsbl_answer(const char *zone, const char *a,
		    const char **meaning);

/*
 * check_url_hosts - distinct hosts of the http/https links in a body,
 * lowercased, in order of appearance, at most max. *nlinks gets the
 * number of links seen, *more the distinct hosts left out. Caller
 * frees each string and the array.
 */
char		**check_url_hosts(const char *body, size_t len, size_t max,
		    size_t *nhosts, size_t *nlinks, size_t *more);

/*
 * check_private - 1 if the address text is one no server on the
 * Internet sees (RFC 1918, loopback, link-local, CGNAT, ULA), 0 if
 * public, -1 if it is not an IP address
 */
int		 check_private(const char *);

/*
 * check_ptr_generic - 1 if a PTR name looks like a generic or dynamic
 * pool name for ip (the address's octets in it, or words such as
 * "dyn", "dhcp", "pool", "dsl"), which many servers treat like no PTR
 */
int		 check_ptr_generic(const char *name, const char *ip);

#endif

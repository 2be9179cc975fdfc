/*
 * check_int.h - what the files of the check module share (private to
 * probe/dns/check*.c; the interface is include/check.h):
 *
 *   check.c        a run: its lookups, their answers kept as state
 *   check_items.c  the state turned into items when the run is done
 *
 * Invariant: run->lookups holds exactly the lookups in flight, and
 * run->pending counts them.
 */
#ifndef SMTPROBE_CHECK_INT_H
#define SMTPROBE_CHECK_INT_H

#include <sys/types.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "check.h"
#include "dns.h"

#define CHECK_MAX_PTR		10	/* PTR names followed (RFC 8601) */
#define CHECK_MAX_URLS		20

struct check_ip {
	int		 family;	/* AF_INET, AF_INET6; 0: none */
	unsigned char	 bin[16];
	char		 text[46];
};

/* one answer of a blocklist lookup */
struct check_blans {
	int		 done;
	enum dns_status	 st;
	char		*detail;
	char		*addrs;		/* A records, space-separated */
	char		*meanings;	/* "127.0.0.2 (SBL ...), ..." */
	int		 listed;	/* some A is a listing */
	int		 error;		/* some A is an error code */
};

struct check_bl {
	const char	*name;		/* "dnsbl" or "dbl" */
	char		*subject;
	char		*zone;
	char		*qname;
	int		 selftest;
	struct check_blans main, pos, neg;
	char		*txt;
	char		*server;
};

struct check_fwd {
	char		*name;
	int		 done;
	enum dns_status	 st;
	char		*addrs;
	int		 match;
};

struct check_txt {
	int		 done;
	enum dns_status	 st;
	char		*detail;
	char		**recs;		/* matching records */
	size_t		 nrecs;
	char		*where;		/* name queried */
};

struct check_url {
	char		*host;
	int		 kind;		/* URL_FQDN, URL_IP, URL_BAD */
	enum dns_status	 a, aaaa;
	int		 adone, aaaadone;
	char		*addrs;
};

enum { URL_FQDN, URL_IP, URL_BAD };
enum { TAG_MAIN, TAG_TXT, TAG_POS, TAG_NEG };
enum { TAG_A, TAG_AAAA, TAG_MX };

struct check_lookup;
typedef void (*check_fn)(struct check_run *, const struct dns_result *,
    void *, int);

struct check_lookup {
	struct check_run	*run;
	LIST_ENTRY(check_lookup) entry;
	struct dns_query	*q;
	struct dns_mxq		*mxq;
	check_fn		 fn;
	void			*ctx;
	int			 tag;
};

struct check_run {
	struct event_base	*base;
	struct dns_ctx		*dns;
	check_cb		 cb;
	void			*arg;
	struct event		*defer;
	LIST_HEAD(, check_lookup) lookups;
	int			 pending;
	int			 started;	/* all initial lookups asked */

	struct check_ip		 ip;
	int			 ip_private;
	char			*helo;
	char			*sender;

	/* ptr, fcrdns */
	int			 ptr_done;
	enum dns_status		 ptr_st;
	char			*ptr_detail;
	char			*ptr_server;
	struct check_fwd	*fwd;
	size_t			 nfwd;
	size_t			 nptr;

	/* helo */
	int			 helo_literal;
	int			 helo_fqdn;
	enum dns_status		 helo_st[3];
	char			*helo_addrs;
	int			 helo_match;
	size_t			 helo_nmx;

	/* dnsbl, dbl */
	struct check_bl		*bls;
	size_t			 nbls;

	/* sender */
	struct dns_mxset	*mxset;
	struct check_txt	 spf, dmarc, dmarc_org;

	/* body */
	int			 urls_on;
	struct check_url	*urls;
	size_t			 nurls, nlinks, urls_more;
};

/* check.c */
void	check_append(char **, const char *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	check_run_free(struct check_run *);
int	check_parse_ip(const char *, struct check_ip *);
int	check_same_ip(const struct dns_addr *, const struct check_ip *);
char	*check_addrs_text(const struct dns_result *);

/* check_items.c */
void	check_finish(struct check_run *);

#endif

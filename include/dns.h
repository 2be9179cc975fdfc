/*
 * dns.h - asynchronous DNS on the caller's libevent loop.
 *
 * ldns only builds and parses packets; dns.c sends them itself: UDP on
 * a connected non-blocking socket bound to a random source port, a
 * random query ID, a timeout per try, the next server or the next
 * round on timeout, and TCP (2-byte length framing, also non-blocking)
 * when an answer comes back truncated. An answer is accepted only if
 * its ID and question match the query; anything else is dropped.
 * There is no blocking call anywhere, no getaddrinfo(), no
 * ldns_resolver_query().
 *
 * Servers come from dns_params.resolver ("--resolver") or from
 * resolv.conf ("nameserver" lines, "options timeout:N attempts:N").
 * Queries ask for the AD bit (RFC 6840 5.7); it is recorded, never
 * interpreted: only a validating resolver on a trusted path (loopback)
 * makes it mean anything.
 *
 * Callbacks: every query that is not cancelled calls its callback
 * exactly once, never from inside the function that started it. The
 * result passed to a dns_cb is owned by dns.c and valid only during the
 * callback; copy what you keep. The query handle is freed right after
 * its callback returns, so it must not be cancelled from there. An
 * MX set (dns_mx_cb) belongs to the caller: free it with
 * dns_mxset_free(). Callbacks may start and cancel other queries and
 * may free the context.
 *
 * Errors: constructors return NULL with a message in err; the name
 * helpers return -1.
 */
#ifndef SMTPROBE_DNS_H
#define SMTPROBE_DNS_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct dns_ctx;
struct dns_query;
struct dns_mxq;

/* Record types (IANA numbers), as understood by dns_query() */
#define DNS_T_A		1
#define DNS_T_NS	2
#define DNS_T_CNAME	5
#define DNS_T_SOA	6
#define DNS_T_PTR	12
#define DNS_T_MX	15
#define DNS_T_TXT	16
#define DNS_T_AAAA	28
#define DNS_T_TLSA	52

#define DNS_MAXNS	8	/* servers kept from --resolver */
#define DNS_MX_MAX	16	/* MX hosts followed */

enum dns_status {
	DNS_OK,		/* NOERROR with records of the type asked for */
	DNS_NODATA,	/* NOERROR, the name exists, no such records */
	DNS_NXDOMAIN,	/* the name does not exist */
	DNS_SERVFAIL,	/* server failure (also DNSSEC bogus) */
	DNS_REFUSED,	/* REFUSED, FORMERR, NOTIMP or another rcode */
	DNS_TIMEOUT,	/* no usable answer from any server in time */
	DNS_NETWORK,	/* socket error, ICMP refusal, broken TCP answer */
	DNS_INVALID	/* the name (or address) asked about is malformed */
};

struct dns_params {
	const char	*resolver;	/* --resolver: "ADDR", "ADDR:PORT",
					   "[V6ADDR]:PORT", comma-separated;
					   NULL: read resolv_conf */
	const char	*resolv_conf;	/* NULL: /etc/resolv.conf (missing
					   file: 127.0.0.1, as libc does) */
	long		 timeout_ms;	/* per try; 0: resolv.conf or 5000 */
	int		 attempts;	/* rounds over all servers; 0:
					   resolv.conf or 2 */
};

struct dns_addr {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];	/* network order, 4 or 16 bytes */
	char		 text[46];	/* "192.0.2.1", "2001:db8::1" */
};

struct dns_mx {
	uint16_t	 pref;
	char		*host;		/* no trailing dot; "." for null MX */
};

struct dns_tlsa {
	uint8_t		 usage, selector, mtype;
	unsigned char	*data;
	size_t		 len;
};

/*
 * One answer. Names are printable, without the trailing dot. Only the
 * arrays matching the query type are filled; records are those owned
 * by the queried name or, after CNAMEs, by canon.
 */
struct dns_result {
	const char	*qname;		/* as asked */
	uint16_t	 qtype;
	enum dns_status	 status;
	const char	*error;		/* NULL when DNS_OK, else a token:
					   "nodata" "nxdomain" "servfail"
					   "refused" "timeout" "network"
					   "invalid" */
	const char	*detail;	/* one line for people, never NULL */
	int		 rcode;		/* as received; -1 without answer */
	int		 ad;		/* AD bit of the answer */
	int		 tcp;		/* answer came over TCP */
	int		 ede;		/* RFC 8914 info-code, -1 if none */
	const char	*server;	/* "ADDR:PORT" last asked */
	int		 tries;		/* packets sent, UDP and TCP */
	long		 ms;		/* time from start to answer */
	const char	*canon;		/* name after CNAMEs, else qname */
	char		**rrs;		/* answer section, presentation form */
	size_t		 nrrs;
	struct dns_addr	*addrs;		/* A, AAAA */
	size_t		 naddrs;
	char		**names;	/* PTR targets, NS, CNAME */
	size_t		 nnames;
	char		**txts;		/* TXT: each record's strings joined,
					   escaped (util_escape) */
	size_t		 ntxts;
	struct dns_mx	*mx;		/* MX, in answer order */
	size_t		 nmx;
	struct dns_tlsa	*tlsa;
	size_t		 ntlsa;
};

typedef void (*dns_cb)(const struct dns_result *, void *arg);

/*
 * dns_ctx_new - resolver context on base. Reads the server list now.
 * Returns NULL with err filled when no usable server is configured or
 * p->resolver does not parse. p may be NULL (all defaults).
 */
struct dns_ctx	*dns_ctx_new(struct event_base *, const struct dns_params *,
		    char *err, size_t errlen);

/*
 * dns_ctx_free - cancel every outstanding query (no callbacks), free.
 * Safe from inside a callback of this context. NULL is a no-op.
 */
void		 dns_ctx_free(struct dns_ctx *);

/*
 * dns_ctx_set_seed - make the order of equal-preference MX hosts
 * reproducible (tests). Without it the order comes from getrandom().
 * Query IDs and source ports are always random.
 */
void		 dns_ctx_set_seed(struct dns_ctx *, uint64_t);

/* dns_ctx_nservers / dns_ctx_server - the servers in use, "ADDR:PORT" */
size_t		 dns_ctx_nservers(const struct dns_ctx *);
const char	*dns_ctx_server(const struct dns_ctx *, size_t);
long		 dns_ctx_timeout(const struct dns_ctx *);	/* ms per try */
int		 dns_ctx_attempts(const struct dns_ctx *);

/*
 * dns_query - look up name (absolute; a trailing dot is optional) for
 * type (DNS_T_*). Returns the handle for dns_cancel(), never NULL.
 */
struct dns_query *dns_query(struct dns_ctx *, const char *name,
		    uint16_t type, dns_cb, void *arg);

/*
 * dns_query_ptr - PTR for an IPv4 or IPv6 address literal (in-addr.arpa
 * or ip6.arpa). A malformed address gives DNS_INVALID via the callback.
 */
struct dns_query *dns_query_ptr(struct dns_ctx *, const char *ip, dns_cb,
		    void *arg);

/* dns_cancel - drop a pending query; its callback is not called */
void		 dns_cancel(struct dns_query *);

/*
 * MX resolution, RFC 5321 5.1: MX records sorted by preference, hosts
 * of equal preference in random order (dns_ctx_set_seed), a null MX
 * (RFC 7505) reported as such, no MX at all (NODATA, never NXDOMAIN)
 * becomes the implicit MX: the domain itself at preference 0. Then A
 * and AAAA of every host, all at once. notes[] tells the story in
 * order, for the transcript and the ticket report.
 */
enum dns_mx_kind {
	DNS_MX_EXPLICIT,	/* MX records */
	DNS_MX_IMPLICIT,	/* no MX: the domain's own addresses */
	DNS_MX_NULL,		/* RFC 7505: the domain accepts no mail */
	DNS_MX_NONE		/* lookup failed: see status */
};

struct dns_mxhost {
	char		*name;
	uint16_t	 pref;
	struct dns_addr	*addrs;		/* A records, then AAAA, as received */
	size_t		 naddrs;
	enum dns_status	 a_status;
	enum dns_status	 aaaa_status;
	int		 ad;		/* both lookups had AD set */
	char		*canon;		/* CNAME target, or NULL */
};

struct dns_mxset {
	char		*domain;
	enum dns_mx_kind kind;
	enum dns_status	 status;	/* DNS_OK: the lookups worked (for a
					   null MX too); DNS_NODATA: no host
					   has an address; else the failure
					   (temporary ones win over NODATA) */
	const char	*error;		/* NULL if some host has an address
					   (deliverable), else a token as in
					   dns_result, or "nullmx" or
					   "noaddress" */
	int		 ad;		/* the MX answer had AD set */
	int		 bad_null_mx;	/* "." mixed with other MX records */
	struct dns_mxhost *hosts;	/* in the order to try */
	size_t		 nhosts;
	char		**notes;	/* the resolution path */
	size_t		 nnotes;
};

typedef void (*dns_mx_cb)(struct dns_mxset *, void *arg);

/* dns_mx_resolve - resolve domain as above; the callback owns the set */
struct dns_mxq	*dns_mx_resolve(struct dns_ctx *, const char *domain,
		    dns_mx_cb, void *arg);
void		 dns_mx_cancel(struct dns_mxq *);
void		 dns_mxset_free(struct dns_mxset *);

/*
 * dns_parse_answer - deliver to cb what a query for (name, type) would
 * make of the answer packet wire[0..len) (its own ID is used), at once.
 * Returns -1, calling nothing, when the bytes are not a DNS message
 * answering that question. For the fuzzer and the tests.
 */
int		 dns_parse_answer(struct dns_ctx *, const uint8_t *, size_t,
		    const char *name, uint16_t type, dns_cb, void *arg);

/* dns_status_name - the token used in dns_result.error ("ok" for OK) */
const char	*dns_status_name(enum dns_status);

/*
 * dns_reverse_name - "4.3.2.1.zone" for 1.2.3.4, or the 32 reversed
 * nibbles of an IPv6 address (RFC 5782 2.1, 2.4). zone NULL means
 * in-addr.arpa / ip6.arpa. Returns 4 or 6 (address family), -1 if ip
 * is not an address or buf is too small.
 */
int		 dns_reverse_name(const char *ip, const char *zone, char *buf,
		    size_t len);

/*
 * dns_parse_server - "ADDR", "ADDR:PORT", "[V6ADDR]" or "[V6ADDR]:PORT"
 * (a bare IPv6 address takes no port) into a sockaddr; port 53 when
 * none is given. Returns 0, or -1 with err filled.
 */
int		 dns_parse_server(const char *, struct sockaddr_storage *,
		    socklen_t *, char *err, size_t errlen);

#endif

/*
 * route.h - where to connect: a host name or address (--server), or a
 * mail domain through its MX records (smtprobe DOMAIN, or --to without
 * --server), resolved on the event loop with dns.h.
 *
 * route_start() calls back exactly once, never from inside itself; the
 * route passed belongs to the caller (route_free()). Its notes tell the
 * resolution path in order, for the transcript, the JSON and the ticket
 * report. Addresses come in the order a sending MTA would try them:
 * MX preference (random among equals, RFC 5321 5.1), then IPv4 before
 * IPv6 for each host.
 */
#ifndef SMTPROBE_ROUTE_H
#define SMTPROBE_ROUTE_H

#include <sys/socket.h>
#include <stddef.h>

#include "dns.h"

struct event_base;
struct route_req;

struct route_addr {
	char		*host;		/* MX host or the server name */
	int		 pref;		/* MX preference, -1 for a server */
	struct dns_addr	 addr;
};

struct route {
	char		*name;		/* what was asked */
	int		 by_mx;		/* a mail domain, not a host */
	enum dns_mx_kind kind;		/* for a domain */
	struct route_addr *addrs;	/* in the order to try */
	size_t		 naddrs;
	char		**hosts;	/* MX hosts in order, with or
					   without an address */
	size_t		 nhosts;
	char		**notes;	/* the resolution path */
	size_t		 nnotes;
	char		*error;		/* NULL when there is an address */
	int		 temporary;	/* the error may go away (SERVFAIL,
					   timeout, network) */
	enum dns_status	 status;	/* for a domain: how the MX lookup
					   ended */
	int		 ad;		/* every answer had the AD bit */
};

typedef void	(*route_cb)(struct route *, void *arg);

/*
 * route_start - resolve name: a host (by_mx 0; an address literal needs
 * no DNS) or a mail domain (by_mx 1). family is AF_INET, AF_INET6 or 0
 * for both. dns may be NULL only for an address literal.
 */
struct route_req *route_start(struct event_base *, struct dns_ctx *,
		    const char *name, int by_mx, int family, route_cb,
		    void *arg);
void		 route_cancel(struct route_req *);
void		 route_free(struct route *);

/*
 * route_resolve - route_start() run to its end on base (which must have
 * nothing else to do meanwhile): a DNS context of its own from resolver
 * (NULL: resolv.conf), timeout_ms for the whole lookup (0: default).
 * Never NULL; a failure is in route->error. Caller frees.
 */
struct route	*route_resolve(struct event_base *, const char *resolver,
		    const char *name, int by_mx, int family, long timeout_ms);

/* route_sockaddr - the address with port, into ss; returns its length */
struct sockaddr_storage;
socklen_t	 route_sockaddr(const struct route_addr *, const char *port,
		    struct sockaddr_storage *);

/* route_literal - 1 if name is an IPv4 or IPv6 address literal */
int		 route_literal(const char *name);

#endif

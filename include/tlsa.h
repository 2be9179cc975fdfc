/*
 * tlsa.h - the TLSA lookup of DANE (RFC 7672 2.2) on the event loop.
 *
 * tlsa_lookup() asks for the TLSA records of _PORT._tcp.HOST and hands
 * the callback a dane_policy (dane.h) saying what the answer was. The
 * callback owns the policy (dane_policy_free()); it is never called from
 * inside tlsa_lookup(); a cancelled lookup calls nothing.
 */
#ifndef SMTPROBE_TLSA_H
#define SMTPROBE_TLSA_H

struct dns_ctx;
struct dane_policy;
struct tlsa_req;

typedef void	(*tlsa_cb)(struct dane_policy *, void *arg);

/*
 * tlsa_lookup - TLSA of _PORT._tcp.HOST (HOST without trailing dot).
 * The callback owns the policy.
 */
struct tlsa_req	*tlsa_lookup(struct dns_ctx *, const char *host,
		    const char *port, tlsa_cb, void *arg);
void		 tlsa_cancel(struct tlsa_req *);

#endif

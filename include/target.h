/*
 * target.h - one target of a probe: the server (a host, an address, or an
 * MX host of the recipient's domain found by route.h) at one address and
 * port, the engine's parameters filled from the options in one place, and
 * the TLS pre-flight (DANE TLSA, MTA-STS, TLS-RPT) that runs on the event
 * loop before its session. The probe runs one target (or one per address
 * with --all-mx), batch one per job, the shell one at a time.
 *
 * Using it from a front end (main.c, batch, the shell):
 *   1. fill a struct target_conn once from the options (target_local()
 *      parses --local-address into the storage it points to);
 *   2. per target, target_init() with the route and the address chosen:
 *      t->p is ready for scn_exec_new() (set t->p.dane once the pre-flight
 *      is done); target_clear() frees what target_init() made;
 *   3. with --dane / --tls-check, target_tls_new(), target_tls_host() for
 *      every host, target_tls_start(); when its callback ran (or it
 *      returned 0), target_tls_dane() gives each host's policy;
 *   4. after the session, target_tls_settle() adds the findings the engine
 *      could not (no TLS at all, MTA-STS) and target_tls_view() gives the
 *      --tls-check view for tlscheck_print() / tlscheck_json().
 *
 * The shell (one target, no MX): target_local(cli.local, the family of
 * route->addrs[0], ...), then target_init(&t, &conn, route, cli.host,
 * -1, &route->addrs[0].addr) gives the same parameters, SNI and
 * "resolved ... to ..." note as shell.c builds by hand today.
 *
 * Strings in struct target_conn are borrowed for the life of every target
 * made from it; target_init() borrows the route and the address too.
 */
#ifndef SMTPROBE_TARGET_H
#define SMTPROBE_TARGET_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdio.h>

#include "route.h"
#include "smtp.h"

struct event_base;
struct record;
struct tlscheck_target;

/* What the options say for every target. */
struct target_conn {
	const char	*port;		/* -p, or its default */
	const struct sockaddr *local;	/* --local-address, or NULL */
	socklen_t	 locallen;
	const char	*helo;		/* --helo or the default */
	int		 tls_mode;	/* enum smtp_tls_mode */
	SSL_CTX		*tls_ctx;	/* STARTTLS or implicit TLS */
	const char	*sni;		/* --tls-sni, or NULL */
	int		 no_sni;	/* --no-tls-sni */
	int		 tls_verify;	/* --tls-verify */
	const long	*timeout_ms;	/* --timeout (STAGE__COUNT), or
					   NULL; the sessions borrow it:
					   it outlives them */
	size_t		 max_line;	/* --max-line */
	size_t		 show_body;	/* --show-body */
	int		 pregreet;	/* --pregreet */
	const char	*no_addr_note;	/* the note without an address
					   nor a route error, or NULL */
	int		 proxy;		/* --proxy 1 or 2, 0 none */
	const struct sockaddr *proxy_src; /* --proxy-source, or NULL */
	const struct sockaddr *proxy_dst; /* --proxy-dest, or NULL */
	const char	*xclient;	/* --xclient, or NULL */
	const char	*xforward;	/* --xforward, or NULL */
	const char	*interface;	/* --interface, or NULL */
	const char	*pipe;		/* --pipe: no address, a command */
};

/* One target: a host at one address (or at none). */
struct target {
	struct smtp_params p;		/* for scn_exec_new() */
	struct sockaddr_storage ss;	/* p.addr points here */
	const char	*host;		/* MX host or the server name */
	const char	*address;	/* the address as text, or NULL */
	int		 pref;		/* MX preference, -1 none */
	char		*note;		/* "MX ... (preference ...) at
					   ...", "resolved ... to ...",
					   or why there is no address */
	char		*label;		/* "addr:port" or "host:port" */
};

/*
 * target_init - t for host at addr (NULL: none) on route r (NULL: an
 * address literal, no DNS). pref is the MX preference, -1 for a server.
 * The SNI rule: --tls-sni, else the host unless it is an address
 * literal (RFC 6066 3), none with --no-tls-sni.
 */
void	 target_init(struct target *t, const struct target_conn *,
	    const struct route *r, const char *host, int pref,
	    const struct dns_addr *addr);
void	 target_clear(struct target *t);

/*
 * target_local - --local-address: a numeric address of family (0: the
 * one its form says), into *ss. -1 after a message.
 */
int	 target_local(const char *addr, int family,
	    struct sockaddr_storage *ss, socklen_t *sl);

/*
 * target_proxy_addr - --proxy-source or --proxy-dest (opt, its name)
 * given as a into *ss, as proxy_source() reads it; -1 after a message
 */
int	 target_proxy_addr(const char *opt, const char *a,
	    struct sockaddr_storage *ss);

/* The TLS pre-flight of one or more hosts, and of one mail domain. */
struct target_tls;

struct target_tls_params {
	struct event_base *base;
	struct dns_ctx	*dns;		/* NULL: no lookup at all */
	const char	*port;		/* TLSA _PORT._tcp.HOST */
	int		 family;	/* -4 / -6 for the policy fetch */
	int		 tls_check;	/* MTA-STS and TLS-RPT too */
	const char	*domain;	/* their domain, or NULL: none */
	const char	*cafile;	/* --tls-ca-file, for the fetch */
	const char	*capath;	/* --tls-ca-path */
	long		 timeout_ms;	/* the fetch; 0: 60 s */
};

typedef void	(*target_tls_cb)(struct target_tls *, void *arg);

struct target_tls *target_tls_new(const struct target_tls_params *);
/* target_tls_host - look host up too (once per name); has_addr 0: skip */
void	 target_tls_host(struct target_tls *, const char *host,
	    int has_addr);
/*
 * target_tls_start - every lookup at once on the loop. Returns the
 * number under way: cb runs once when they are done; 0: all done now,
 * cb will not run.
 */
size_t	 target_tls_start(struct target_tls *, target_tls_cb, void *arg);
const struct dane_policy *target_tls_dane(const struct target_tls *,
	    const char *host);
/* target_tls_notes - the domain's MTA-STS and TLS-RPT path, "** " lines */
void	 target_tls_notes(const struct target_tls *, FILE *);
/*
 * target_tls_view - the --tls-check view of t's session rec (NULL:
 * none) on route r (NULL: a server without MX)
 */
void	 target_tls_view(const struct target_tls *, const struct target *t,
	    const struct route *r, const struct record *rec,
	    struct tlscheck_target *);
/*
 * target_tls_settle - after t's session: the DANE findings the engine
 * could not add (no TLS at all) and, when first (the target's first
 * session) with --tls-check, the MTA-STS and TLS-RPT ones; settles rec
 * again when it changed.
 */
void	 target_tls_settle(const struct target_tls *,
	    const struct target *t,
	    const struct route *r, struct record *rec, int first);
/* target_tls_free - cancels what is under way; NULL is a no-op */
void	 target_tls_free(struct target_tls *);

#endif

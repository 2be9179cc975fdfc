/*
 * srvcheck.h - the server's side of the story (--server-check): what a
 * record and the DNS facts about the server's address say about the
 * server itself, as findings with a severity, and the timing findings
 * every session gets.
 *
 * srvcheck_judge() reads the steps of one session (the greeting, the
 * EHLO before STARTTLS, the VRFY and EXPN steps scn_classic() adds for
 * --server-check) and a check_result about the server's address (ptr,
 * fcrdns, dnsbl items, see check.h), and adds findings to the record:
 *
 *	server-ip-private	info	the address is private, no lookups
 *	server-ptr-missing	warning	no PTR for the server's address
 *	server-ptr-generic	warning	a PTR that looks dynamic
 *	server-fcrdns		warning	the PTR does not lead back
 *	server-dnsbl-listed	error	the address is on a list (per list)
 *	server-dnsbl-unusable	info	a list gave an error answer
 *	banner-name		warning	the greeting's name is no FQDN, or
 *					not the PTR name
 *	ehlo-name		warning	the EHLO reply's name is not the
 *					PTR name (info: only not the banner's)
 *	version-leak		warning	the greeting or EHLO names software
 *					with a version or distribution
 *	software-named		info	it names the software, no version
 *	vrfy-harvest		warning	VRFY tells real addresses apart
 *	vrfy-accept-all		info	VRFY says yes to any name
 *	expn-enabled		warning	EXPN expands (or looks up) lists
 *	auth-plaintext		error	AUTH offered before STARTTLS
 *	starttls-missing	error	port 25 without STARTTLS (another
 *					port without TLS: warning)
 *
 * srvcheck_timing() adds, to any record:
 *
 *	slow-banner		warning	the greeting came later than asked
 *	rfc-timeout		warning	a step took longer than RFC 5321
 *					4.5.3.2 lets a client wait
 *
 * and srvcheck_pregreet(), with --pregreet:
 *
 *	pregreet-noticed	info	the server noticed the early talker
 *	pregreet-ignored	warning	it did not (info off port 25)
 *
 * Neither touches the network; both may be called once per record.
 */
#ifndef SMTPROBE_SRVCHECK_H
#define SMTPROBE_SRVCHECK_H

#include <stddef.h>
#include <stdint.h>

struct record;
struct check_result;

/* what was made up for the VRFY and EXPN probes */
#define SRVCHECK_FAKE_USER	"no-such-user-7q3x"
#define SRVCHECK_FAKE_LIST	"no-such-list-7q3x"

struct srvcheck_params {
	const char	*port;		/* the port probed, "25" ... */
	const char	*ip;		/* the address the DNS facts are
					   about, or NULL */
	int		 ip_private;	/* ip is private: no lookups ran */
	const struct check_result *dns;	/* ptr, fcrdns, dnsbl items about
					   ip, or NULL */
};

/*
 * srvcheck_judge - add the server-check findings to r; returns how many
 * have severity error
 */
int		 srvcheck_judge(struct record *,
		    const struct srvcheck_params *);

/*
 * srvcheck_timing - add the timing findings to r: a greeting whose
 * first byte came more than slow_banner_ms after the connection (0:
 * never), a step slower than RFC 5321's timeouts
 */
void		 srvcheck_timing(struct record *, int64_t slow_banner_ms);

/*
 * srvcheck_pregreet - with --pregreet (record.pregreet): whether the
 * server noticed the EHLO sent before its greeting, as a finding:
 * pregreet-noticed (info: a greeting other than 2xx, a drop, a refused
 * early EHLO, or a later refusal that names a protocol error) or
 * pregreet-ignored (warning on port 25, else info)
 */
void		 srvcheck_pregreet(struct record *, const char *port);

/*
 * srvcheck_version - 1 if text names MTA software with a version or a
 * distribution (what is written to *what, at most len bytes), 0 if it
 * names software only (*what: the name), -1 if neither
 */
int		 srvcheck_version(const char *text, char *what, size_t len);

#endif

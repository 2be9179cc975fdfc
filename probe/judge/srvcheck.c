/*
 * srvcheck.c - the server's side of the story (see include/srvcheck.h):
 * findings about the server itself from one session's record and the
 * DNS facts about its address, and the timing findings.
 *
 * Only reads what the record holds (escaped server text) and the check
 * items; adds findings with record_add_finding(). Every finding says
 * what was seen and what to change.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "log.h"
#include "record.h"
#include "reply.h"
#include "srvcheck.h"
#include "util.h"
#include "valid.h"

/*
 * RFC 5321 4.5.3.2: how long a client waits, per stage, in minutes.
 * A server slower than this is out of spec; 0: no limit given.
 */
static const int rfc_minutes[STAGE__COUNT] = {
	[STAGE_BANNER] = 5,
	[STAGE_MAIL] = 5,
	[STAGE_RCPT] = 5,
	[STAGE_DATA] = 2,
	[STAGE_EOD] = 10
};

/* MTA names whose banners and EHLO replies people recognise */
static const char *const products[] = {
	"Postfix", "Exim", "Sendmail", "Microsoft ESMTP MAIL Service",
	"OpenSMTPD", "Haraka", "qmail", "Courier", "MDaemon", "hMailServer",
	"IceWarp", "Kerio", "CommuniGate", "Zimbra", "MailEnable", "Axigen",
	"ZMailer", "Lotus Domino", "Exchange", "IMail", "Smail", "SmarterMail",
	"Mailsite", "XMail", "Stalwart", "Maddy", "Halon", "Sympa", NULL
};

/* Distributions that packagers put in parentheses after the name */
static const char *const distros[] = {
	"Debian", "Ubuntu", "GNU", "Red Hat", "RedHat", "CentOS", "Fedora",
	"SUSE", "openSUSE", "Alpine", "Raspbian", "FreeBSD", "OpenBSD",
	"NetBSD", "Gentoo", "Arch", "Rocky", "AlmaLinux", "Amazon", NULL
};

/* srv_distro - 1 if t starts with the name of a distribution */
static int
srv_distro(const char *t)
{
	size_t	 i, n;

	for (i = 0; distros[i] != NULL; i++) {
		n = strlen(distros[i]);
		if (strncasecmp(t, distros[i], n) == 0 &&
		    !isalpha((unsigned char)t[n]))
			return 1;
	}
	return 0;
}

/* srv_step - the first step of stage, before TLS if pre_tls, or NULL */
static const struct step *
srv_step(const struct record *r, enum smtp_stage stage, int pre_tls)
{
	size_t	 i;

	for (i = 0; i < r->nsteps; i++)
		if (r->steps[i].stage == stage && (!pre_tls ||
		    !r->steps[i].tls))
			return &r->steps[i];
	return NULL;
}

/* srv_cmd - the first step whose command starts with prefix, or NULL */
static const struct step *
srv_cmd(const struct record *r, enum smtp_stage stage, const char *prefix)
{
	size_t	 i, n = strlen(prefix);

	for (i = 0; i < r->nsteps; i++)
		if (r->steps[i].stage == stage && r->steps[i].command != NULL &&
		    strncasecmp(r->steps[i].command, prefix, n) == 0)
			return &r->steps[i];
	return NULL;
}

/* srv_first_word - the first word of reply line 0 into buf */
static void
srv_first_word(const struct reply *rp, char *buf, size_t len)
{
	const char	*t = reply_text(rp, 0);
	size_t		 n = strcspn(t, " \t");

	if (n >= len)
		n = len - 1;
	memcpy(buf, t, n);
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[n - 1] = '\0';
}

/* srv_in_list - 1 if name is one of the ", "-separated names */
static int
srv_in_list(const char *name, const char *list)
{
	const char	*p = list;
	size_t		 n = strlen(name), l;

	while (*p != '\0') {
		l = strcspn(p, ",");
		if ((l == n || (l == n + 1 && p[n] == '.')) &&
		    strncasecmp(p, name, n) == 0)
			return 1;
		p += l;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return 0;
}

/* srv_reply_line - line 0 of a step's reply, or what happened */
static const char *
srv_reply_line(const struct step *st)
{
	if (st->reply != NULL && st->reply->nlines > 0)
		return st->reply->lines[0];
	return record_outcome_name(st->outcome);
}

int
srvcheck_version(const char *text, char *what, size_t len)
{
	const char	*p, *q, *best = NULL;
	size_t		 i, n;

	for (i = 0; products[i] != NULL; i++) {
		n = strlen(products[i]);
		for (p = text; (p = strcasestr(p, products[i])) != NULL;
		    p += n) {
			if (p > text && isalnum((unsigned char)p[-1]))
				continue;
			if (isalnum((unsigned char)p[n]))
				continue;
			if (best == NULL)
				best = products[i];
			q = p + n;
			while (*q == ' ' || *q == '/' || *q == ',' || *q == ':')
				q++;
			if (strncasecmp(q, "version", 7) == 0) {
				for (q += 7; *q == ' ' || *q == ':'; q++)
					;
			} else if ((*q == 'v' || *q == 'V') &&
			    isdigit((unsigned char)q[1]))
				q++;
			if (isdigit((unsigned char)*q) || (*q == '(' &&
			    srv_distro(q + 1))) {
				n = strcspn(q, ";");
				if (*q == '(')
					n = strcspn(q, ")") + (q[strcspn(q,
					    ")")] == ')');
				else
					n = strcspn(q, " ;");
				snprintf(what, len, "%s %.*s", products[i],
				    (int)n, q);
				return 1;
			}
		}
	}
	/* a bare "Version: 1.2" names a version whatever the product */
	if ((p = strcasestr(text, "version")) != NULL) {
		for (q = p + 7; *q == ' ' || *q == ':'; q++)
			;
		if (isdigit((unsigned char)*q)) {
			snprintf(what, len, "%.*s", (int)(strcspn(q, " ;") +
			    (size_t)(q - p)), p);
			return 1;
		}
	}
	if (best == NULL)
		return -1;
	snprintf(what, len, "%s", best);
	return 0;
}

/* srv_dns - the PTR, FCrDNS and DNSBL findings; *ptr gets the names */
static int
srv_dns(struct record *r, const struct srvcheck_params *p,
    const char **ptr)
{
	const struct check_result *c = p->dns;
	const struct check_item *it;
	int		 nerr = 0;
	size_t		 i;

	*ptr = NULL;
	if (p->ip != NULL && p->ip_private) {
		record_add_finding(r, FIND_INFO, "server-ip-private",
		    STAGE_CONNECT, "%s is a private address: no PTR or "
		    "blocklist lookups (give --server-public-ip, the address "
		    "the Internet connects to)", p->ip);
		return 0;
	}
	if (c == NULL)
		return 0;
	if ((it = check_find(c, "ptr", NULL)) != NULL) {
		if (it->status == CHECK_FAIL)
			record_add_finding(r, FIND_WARN, "server-ptr-missing",
			    STAGE_CONNECT, "%s has no PTR record: servers "
			    "this MX sends to refuse or score it; ask the "
			    "owner of the address to set one naming the "
			    "MX host", it->subject);
		else if (it->status == CHECK_WARN)
			record_add_finding(r, FIND_WARN, "server-ptr-generic",
			    STAGE_CONNECT, "%s has PTR %s, which looks "
			    "generic or dynamic: set a PTR naming the MX "
			    "host", it->subject, it->answer != NULL ?
			    it->answer : "?");
		if (it->status != CHECK_ERROR && it->answer != NULL)
			*ptr = it->answer;
	}
	if ((it = check_find(c, "fcrdns", NULL)) != NULL && *ptr != NULL &&
	    it->status == CHECK_FAIL)
		record_add_finding(r, FIND_WARN, "server-fcrdns",
		    STAGE_CONNECT, "the PTR of %s (%s) does not resolve back "
		    "to it: add the address record for the name",
		    it->subject, *ptr);
	for (i = 0; i < c->nitems; i++) {
		it = &c->items[i];
		if (strcmp(it->name, "dnsbl") != 0)
			continue;
		if (it->status == CHECK_FAIL) {
			record_add_finding(r, FIND_ERROR,
			    "server-dnsbl-listed", STAGE_CONNECT,
			    "%s is listed on %s (%s): mail this server sends "
			    "is refused; find the cause, then ask the list to "
			    "delist", it->subject, it->zone != NULL ?
			    it->zone : "?", it->answer != NULL ? it->answer :
			    "?");
			nerr++;
		} else if (it->status == CHECK_ERROR)
			record_add_finding(r, FIND_INFO,
			    "server-dnsbl-unusable", STAGE_CONNECT,
			    "%s could not tell: %s", it->zone != NULL ?
			    it->zone : "?", it->evidence);
	}
	return nerr;
}

/* srv_names - the greeting's and EHLO's host names against the PTR */
static void
srv_names(struct record *r, const char *ptr)
{
	const struct step *b = srv_step(r, STAGE_BANNER, 0);
	const struct step *e = srv_step(r, STAGE_EHLO, 0);
	char		 bn[256] = "", en[256] = "";

	if (b != NULL && b->reply != NULL && b->reply->code / 100 == 2) {
		srv_first_word(b->reply, bn, sizeof(bn));
		if (!valid_fqdn(bn))
			record_add_finding(r, FIND_WARN, "banner-name",
			    STAGE_BANNER, "the greeting starts with \"%s\", "
			    "not the host's fully qualified name (RFC 5321 "
			    "4.3.1): put the MX name there", bn);
		else if (ptr != NULL && !srv_in_list(bn, ptr))
			record_add_finding(r, FIND_WARN, "banner-name",
			    STAGE_BANNER, "the greeting names %s but the "
			    "address's PTR is %s: make them the same name",
			    bn, ptr);
	}
	if (e != NULL && e->reply != NULL && e->reply->code == 250) {
		srv_first_word(e->reply, en, sizeof(en));
		if (ptr != NULL && valid_fqdn(en) && !srv_in_list(en, ptr))
			record_add_finding(r, FIND_WARN, "ehlo-name",
			    STAGE_EHLO, "the EHLO reply names %s but the "
			    "address's PTR is %s: make them the same name",
			    en, ptr);
		else if (bn[0] != '\0' && valid_fqdn(bn) && en[0] != '\0' &&
		    strcasecmp(bn, en) != 0)
			record_add_finding(r, FIND_INFO, "ehlo-name",
			    STAGE_EHLO, "the EHLO reply names %s, the "
			    "greeting %s", en, bn);
	}
}

/* srv_software - a version or the software named in greeting or EHLO */
static void
srv_software(struct record *r)
{
	const struct step *st[2];
	char		 what[128];
	size_t		 i, j;
	int		 named = 0;

	st[0] = srv_step(r, STAGE_BANNER, 0);
	st[1] = srv_step(r, STAGE_EHLO, 0);
	for (i = 0; i < 2; i++) {
		if (st[i] == NULL || st[i]->reply == NULL)
			continue;
		for (j = 0; j < st[i]->reply->nlines; j++) {
			int v = srvcheck_version(reply_text(st[i]->reply, j),
			    what, sizeof(what));

			if (v == 1) {
				record_add_finding(r, FIND_WARN,
				    "version-leak", st[i]->stage, "the %s "
				    "shows \"%s\": attackers match versions "
				    "to known holes; leave the version and "
				    "distribution out (Postfix: "
				    "smtpd_banner, Exim: smtp_banner)",
				    i == 0 ? "greeting" : "EHLO reply", what);
				return;
			}
			if (v == 0 && !named) {
				named = 1;
				record_add_finding(r, FIND_INFO,
				    "software-named", st[i]->stage, "the %s "
				    "names the software (%s), no version",
				    i == 0 ? "greeting" : "EHLO reply", what);
			}
		}
	}
}

/* srv_vrfy - what VRFY and EXPN give away */
static void
srv_vrfy(struct record *r)
{
	const struct step *fake = srv_cmd(r, STAGE_VRFY,
	    "VRFY " SRVCHECK_FAKE_USER);
	const struct step *pm = srv_cmd(r, STAGE_VRFY, "VRFY postmaster");
	const struct step *ex = srv_cmd(r, STAGE_RAW, "EXPN ");
	int		 fc = fake != NULL && fake->reply != NULL ?
			    fake->reply->code : 0;
	int		 pc = pm != NULL && pm->reply != NULL ?
			    pm->reply->code : 0;
	int		 xc = ex != NULL && ex->reply != NULL ?
			    ex->reply->code : 0;

	if ((fc == 250 || fc == 251) && (pc == 250 || pc == 251))
		record_add_finding(r, FIND_INFO, "vrfy-accept-all",
		    STAGE_VRFY, "VRFY says yes to a made-up user too (%s): "
		    "it confirms nothing", srv_reply_line(fake));
	else if (pc == 250 || pc == 251 || ((fc == 550 || fc == 551 ||
	    fc == 553) && pc / 100 == 2))
		record_add_finding(r, FIND_WARN, "vrfy-harvest", STAGE_VRFY,
		    "VRFY tells real addresses from made-up ones (postmaster: "
		    "%s; made-up: %s): address harvesters use it; turn it "
		    "off (Postfix: disable_vrfy_command = yes, Exim: no "
		    "acl_smtp_vrfy) or answer 252", pm != NULL ?
		    srv_reply_line(pm) : "-", fake != NULL ?
		    srv_reply_line(fake) : "-");
	if (xc / 100 == 2 || xc == 550 || xc == 551 || xc == 553)
		record_add_finding(r, FIND_WARN, "expn-enabled", STAGE_RAW,
		    "EXPN of a made-up list is answered (%s): EXPN can "
		    "expand real lists to harvesters; answer 502 or 252",
		    srv_reply_line(ex));
}

/* srv_tls - AUTH in the clear, STARTTLS missing on port 25 */
static int
srv_tls(struct record *r, const struct srvcheck_params *p)
{
	const struct step *e = srv_step(r, STAGE_EHLO, 1);
	struct ehlo	*eh;
	int		 nerr = 0;

	if (e == NULL || e->reply == NULL || e->reply->code != 250)
		return 0;
	eh = reply_ehlo_parse(e->reply);
	if (reply_ehlo_has(eh, "AUTH")) {
		record_add_finding(r, FIND_ERROR, "auth-plaintext",
		    STAGE_EHLO, "AUTH %s is offered before STARTTLS: a "
		    "client may send its password in the clear; offer AUTH "
		    "only over TLS (Postfix: smtpd_tls_auth_only = yes, "
		    "Exim: auth_advertise_hosts = ${if eq{$tls_in_cipher}"
		    "{}{}{*}})", reply_ehlo_param(eh, "AUTH"));
		nerr++;
	}
	if (!reply_ehlo_has(eh, "STARTTLS")) {
		int	 mx = p->port != NULL && strcmp(p->port, "25") == 0;

		record_add_finding(r, mx ? FIND_ERROR : FIND_WARN,
		    "starttls-missing", STAGE_EHLO, "port %s without "
		    "STARTTLS: mail to this server crosses the network in "
		    "the clear; install a certificate and offer STARTTLS",
		    p->port != NULL ? p->port : "?");
		nerr += mx;
	}
	reply_ehlo_free(eh);
	return nerr;
}

int
srvcheck_judge(struct record *r, const struct srvcheck_params *p)
{
	const char	*ptr;
	int		 nerr;

	nerr = srv_dns(r, p, &ptr);
	srv_names(r, ptr);
	srv_software(r);
	srv_vrfy(r);
	nerr += srv_tls(r, p);
	return nerr;
}

/* srv_protocol_error - 1 if a reply says the client broke the protocol */
static int
srv_protocol_error(const struct reply *rp)
{
	size_t	 i;

	for (i = 0; rp != NULL && i < rp->nlines; i++)
		if (strcasestr(rp->lines[i], "protocol error") != NULL ||
		    strcasestr(rp->lines[i], "pregreet") != NULL ||
		    strcasestr(rp->lines[i], "synchroni") != NULL ||
		    strcasestr(rp->lines[i], "talking too soon") != NULL ||
		    strcasestr(rp->lines[i], "too early") != NULL)
			return 1;
	return 0;
}

void
srvcheck_pregreet(struct record *r, const char *port)
{
	const struct step *b = srv_step(r, STAGE_BANNER, 0);
	const struct step *e = srv_step(r, STAGE_EHLO, 0);
	size_t		 i;

	if (!r->pregreet || b == NULL)
		return;
	if (b->outcome != OUT_OK) {
		record_add_finding(r, FIND_INFO, "pregreet-noticed",
		    STAGE_BANNER, "the server noticed the EHLO sent before "
		    "its greeting: %s", b->reply != NULL ?
		    srv_reply_line(b) : b->detail != NULL ? b->detail :
		    record_outcome_name(b->outcome));
		return;
	}
	if (e != NULL && e->outcome != OUT_OK) {
		record_add_finding(r, FIND_INFO, "pregreet-noticed",
		    STAGE_EHLO, "the server noticed the EHLO sent before its "
		    "greeting: it answered it %s", e->reply != NULL ?
		    srv_reply_line(e) : e->detail != NULL ? e->detail :
		    record_outcome_name(e->outcome));
		return;
	}
	for (i = 0; i < r->nsteps; i++)
		if (r->steps[i].outcome != OUT_OK &&
		    srv_protocol_error(r->steps[i].reply)) {
			record_add_finding(r, FIND_INFO, "pregreet-noticed",
			    r->steps[i].stage, "the server noticed the EHLO "
			    "sent before its greeting and refused later: %s",
			    srv_reply_line(&r->steps[i]));
			return;
		}
	record_add_finding(r, port != NULL && strcmp(port, "25") == 0 ?
	    FIND_WARN : FIND_INFO, "pregreet-ignored", STAGE_BANNER,
	    "the server did not notice the EHLO sent before its greeting: "
	    "spam bots that talk first get through (Postfix: postscreen "
	    "with postscreen_greet_action = enforce; Exim: an acl_smtp_connect "
	    "delay, which drops early talkers)");
}

void
srvcheck_timing(struct record *r, int64_t slow_banner_ms)
{
	size_t	 i;

	for (i = 0; i < r->nsteps; i++) {
		const struct step *st = &r->steps[i];
		int64_t	 end = st->t_first >= 0 ? st->t_first : st->t_done;
		int64_t	 took, lim;

		if (st->t_sent < 0 || end < 0)
			continue;
		took = end - st->t_sent;
		if (st->stage == STAGE_BANNER && slow_banner_ms > 0 &&
		    took > slow_banner_ms * 1000)
			record_add_finding(r, FIND_WARN, "slow-banner",
			    STAGE_BANNER, "the greeting came after %.1f s "
			    "(more than %.1f s): clients give up or score "
			    "it; unless it is a deliberate delay "
			    "(postscreen, greet pause), look at the "
			    "server's DNS lookups and load",
			    (double)took / 1e6, (double)slow_banner_ms /
			    1e3);
		lim = (int64_t)rfc_minutes[st->stage] * 60 * 1000000;
		if (lim > 0 && took > lim)
			record_add_finding(r, FIND_WARN, "rfc-timeout",
			    st->stage, "%s took %.0f s: RFC 5321 4.5.3.2 "
			    "lets a client give up after %d minutes",
			    stage_name(st->stage), (double)took / 1e6,
			    rfc_minutes[st->stage]);
	}
}

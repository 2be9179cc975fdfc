/*
 * smtp_tls.c - STARTTLS and AUTH in the SMTP engine (see
 * include/smtp.h; shared state in smtp_int.h): the STARTTLS command,
 * the handshake on io.c, DANE and the EHLO that follows; the AUTH
 * mechanisms and their round trips. Secrets are sent masked in the
 * transcript and wiped after use. */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <netinet/in.h>

#include <openssl/ssl.h>

#include "auth.h"
#include "io.h"
#include "log.h"
#include "reply.h"
#include "smtp.h"
#include "smtp_int.h"
#include "tls.h"
#include "util.h"

static int	smtp_dane(struct smtp_session *);
static void	smtp_tls_refuse(struct smtp_session *, const char *);
static void	smtp_tls_pem(struct smtp_session *, const struct tls_info *);

static const char *const mech_names[AUTH__COUNT] = {
	[AUTH_PLAIN] = "PLAIN",
	[AUTH_LOGIN] = "LOGIN",
	[AUTH_CRAM_MD5] = "CRAM-MD5",
	[AUTH_XOAUTH2] = "XOAUTH2",
	[AUTH_OAUTHBEARER] = "OAUTHBEARER",
};

const char *
smtp_auth_mech_name(enum smtp_auth_mech m)
{
	return m < AUTH__COUNT ? mech_names[m] : "?";
}

int
smtp_auth_mech_lookup(const char *name)
{
	size_t	 i;

	for (i = 0; i < AUTH__COUNT; i++)
		if (strcasecmp(name, mech_names[i]) == 0)
			return (int)i;
	return -1;
}

void
smtp_enter_starttls(struct smtp_session *s)
{
	smtp_send(s, "STARTTLS");
}

void
smtp_enter_auth(struct smtp_session *s)
{
	const struct smtp_cmd *c = &s->cmd;
	const char	*mech = mech_names[c->mech];
	char		*ir, *line, *shown;

	if (s->auth_resp != NULL) {
		/* the answer to a challenge (see smtp_reply_auth) */
		line = s->auth_resp;
		s->auth_resp = NULL;
		smtp_send_masked(s, line, line[0] == '\0' || strcmp(line,
		    "*") == 0 ? line : AUTH_MASK);
		auth_wipe(line);
		return;
	}
	ir = auth_initial(c->mech, c->arg, c->secret, s->p->host,
	    s->p->port);
	if (ir == NULL) {
		smtp_send(s, "AUTH %s", mech);
		return;
	}
	line = xasprintf("AUTH %s %s", mech, ir);
	shown = xasprintf("AUTH %s %s", mech, AUTH_MASK);
	smtp_send_masked(s, line, shown);
	auth_wipe(line);
	auth_wipe(ir);
	free(shown);
}

void
smtp_reply_starttls(struct smtp_session *s, struct reply *r)
{
	enum step_outcome o = smtp_judge(s, r);
	char		*pending;
	size_t		 n;

	if (o != OUT_OK) {
		smtp_close_step(s, o, "STARTTLS refused");
		if (!(s->cmd.flags & SMTP_F_OPTIONAL)) {
			smtp_ready(s);
			return;
		}
		/* optional: the refusal stays in the record, not the result */
		s->rec->steps[s->primary].outcome = OUT_SKIPPED;
		record_add_finding(s->rec, FIND_WARN, "starttls-refused",
		    STAGE_STARTTLS, "STARTTLS refused with %d; going on in "
		    "plaintext", r->code);
		smtp_wire(s, WIRE_WARN, "STARTTLS refused; going on in "
		    "plaintext");
		smtp_ready(s);
		return;
	}
	pending = io_pending(s->io, &n);
	if (io_starttls(s->io, tls_ssl_new(s->p->tls_ctx, s->p->sni,
	    s->p->verify_name, s->p->dane)) == -1) {
		if (n > 0) {
			record_add_finding(s->rec, FIND_ERROR,
			    "starttls-injection", STAGE_STARTTLS, "%zu bytes "
			    "of plaintext followed the 220 reply to STARTTLS "
			    "(response injection): \"%s\"", n, pending);
			smtp_fail(s, OUT_ERROR, FAIL_TLS,
			    "STARTTLS response injection: "
			    "%zu bytes of plaintext after the 220 reply, "
			    "not used: \"%s\"", n, pending);
		} else
			smtp_fail(s, OUT_ERROR, FAIL_TLS, "%s",
			    io_error(s->io));
		free(pending);
		return;
	}
	free(pending);
	/* the step stays open: the handshake is part of it */
	io_set_deadline(s->io, smtp_timeout(s, STAGE_STARTTLS));
}

/*
 * smtp_tls_refuse - the handshake is done but the connection must not
 * be used (verification or DANE failed): a TLS failure, then QUIT
 */
static void
smtp_tls_refuse(struct smtp_session *s, const char *e)
{
	record_set_error(s->rec, s->stage, FAIL_TLS, e);
	smtp_wire(s, WIRE_ERROR, "%s", e);
	smtp_close_step(s, OUT_ERROR, e);
	s->busy = 0;
	smtp_quit(s);
}

/* smtp_tls_pem - --tls-show-chain pem: each certificate, line by line */
static void
smtp_tls_pem(struct smtp_session *s, const struct tls_info *t)
{
	const char	*p, *nl;
	size_t		 i;

	for (i = 0; i < t->nchain; i++) {
		if (t->chain[i].pem == NULL)
			continue;
		smtp_wire(s, WIRE_INFO, "certificate %zu: %s", i,
		    t->chain[i].subject);
		for (p = t->chain[i].pem; *p != '\0'; p = nl + (*nl != '\0')) {
			nl = p + strcspn(p, "\n");
			smtp_wire(s, WIRE_INFO, "%.*s", (int)(nl - p), p);
		}
	}
}

void
smtp_tls_ready(struct smtp_session *s)
{
	const struct smtp_params *p = s->p;
	struct tls_info	*t = record_tls(s->rec);
	struct step	*st = smtp_step(s);
	char		 exp[1024];

	tls_info_clear(t);
	tls_summarize(io_ssl(s->io), p->sni, p->verify_name, p->dane, t);
	smtp_wire(s, WIRE_INFO, "TLS %s, cipher %s (%d bits)%s%s", t->version,
	    t->cipher, t->bits, t->group != NULL ? ", group " : "",
	    t->group != NULL ? t->group : "");
	if (t->nchain > 0)
		smtp_wire(s, WIRE_INFO, "certificate: %s, issuer %s, expires "
		    "%s, spki sha256 %s", t->chain[0].subject,
		    t->chain[0].issuer, t->chain[0].not_after,
		    t->chain[0].spki);
	smtp_tls_pem(s, t);
	if (tls_expiring(t, t->expiry_warn, exp, sizeof(exp)) > 0) {
		record_add_finding(s->rec, FIND_WARN, "cert-expiring",
		    s->stage, "%s", exp);
		smtp_wire(s, WIRE_WARN, "%s", exp);
	}
	if (t->dane.checked && smtp_dane(s) == -1)
		return;
	if (t->verify_code == 0 && t->dane.enabled)
		smtp_wire(s, WIRE_INFO, "certificate verified by DANE");
	else if (t->verify_code == 0)
		smtp_wire(s, WIRE_INFO, "certificate verified%s%s",
		    t->verify_name != NULL ? " for " : " (no name checked)",
		    t->verify_name != NULL ? t->verify_name : "");
	else if (t->dane.enabled && t->dane.finding != NULL)
		;	/* verify_code is DANE's: smtp_dane() reported it */
	else {
		record_add_finding(s->rec, p->tls_verify ? FIND_ERROR :
		    FIND_WARN, "tls-verify", s->stage, "certificate not "
		    "verified: %s (%ld)", t->verify_error, t->verify_code);
		if (p->tls_verify) {
			char *e = xasprintf("certificate verification "
			    "failed: %s", t->verify_error);

			smtp_tls_refuse(s, e);
			free(e);
			return;
		}
		smtp_wire(s, WIRE_WARN, "certificate not verified: %s",
		    t->verify_error);
	}
	smtp_close_step(s, OUT_OK, NULL);
	if (st != NULL && st->stage == STAGE_CONNECT) {
		if (s->cmd.flags & SMTP_F_STOP)
			smtp_ready(s);
		else
			smtp_enter(s, STAGE_BANNER);
		return;
	}
	/* RFC 3207 4.2: forget what we knew, greet again */
	reply_ehlo_free(s->rec->ehlo);
	s->rec->ehlo = NULL;
	s->ehlo_ok = 0;
	if (s->cmd.flags & SMTP_F_STOP) {
		smtp_ready(s);
		return;
	}
	smtp_enter(s, STAGE_EHLO);
}

/*
 * smtp_dane - report the DANE outcome that tls.c judged (--dane). With
 * --tls-verify a failure ends the session like a certificate that does
 * not verify: returns -1, and the session is quitting.
 */
static int
smtp_dane(struct smtp_session *s)
{
	struct tls_info	*t = record_tls(s->rec);
	char		*e;

	if (t->dane.finding == NULL) {
		smtp_wire(s, WIRE_INFO, "DANE %s: %s", t->dane.status,
		    t->dane.detail);
		return 0;
	}
	record_add_finding(s->rec, s->p->tls_verify && t->dane.fatal ?
	    FIND_ERROR : FIND_WARN, t->dane.finding, s->stage, "%s",
	    t->dane.detail);
	if (!s->p->tls_verify || !t->dane.fatal) {
		smtp_wire(s, WIRE_WARN, "DANE %s: %s", t->dane.status,
		    t->dane.detail);
		return 0;
	}
	e = xasprintf("DANE %s: %s", t->dane.status, t->dane.detail);
	smtp_tls_refuse(s, e);
	free(e);
	return -1;
}

void
smtp_reply_auth(struct smtp_session *s, struct reply *r)
{
	const struct smtp_cmd *c = &s->cmd;
	const struct step *st = smtp_step(s);
	const char	*err = NULL, *ch;
	char		*resp, *dec;

	if (r->code != 334) {
		enum step_outcome o = smtp_judge(s, r);

		if (o == OUT_OK && r->code != 235)
			record_add_finding(s->rec, FIND_WARN, "odd-auth-reply",
			    STAGE_AUTH, "AUTH succeeded with %d, not 235",
			    r->code);
		smtp_close_step(s, o, NULL);
		s->primary = (ssize_t)s->rec->nsteps - 1;
		smtp_ready(s);
		return;
	}
	if (st != NULL && st->command != NULL &&
	    strcmp(st->command, "*") == 0) {
		/* RFC 4954 4: "*" must end the exchange with a 501 */
		smtp_fail(s, OUT_ERROR, FAIL_AUTH,
		    "server sent another challenge after "
		    "AUTH was cancelled");
		return;
	}
	/*
	 * 334: a challenge; the answer is a step of its own. Challenges
	 * hold nothing secret (a CRAM-MD5 one is sent in the clear by
	 * design): they are shown decoded; the answers are masked.
	 */
	ch = reply_text(r, 0);
	if ((dec = auth_decode(ch)) != NULL) {
		if (dec[0] != '\0')
			smtp_wire(s, WIRE_INFO, "challenge: \"%s\"", dec);
		free(dec);
	} else if (ch[0] != '\0')
		smtp_wire(s, WIRE_WARN, "challenge is not valid base64");
	resp = auth_response(c->mech, ++s->auth_round, ch, c->arg, c->secret,
	    &err);
	smtp_close_step(s, OUT_OK, NULL);
	if (resp != NULL && (c->mech == AUTH_XOAUTH2 ||
	    c->mech == AUTH_OAUTHBEARER))
		smtp_wire(s, WIRE_INFO, "the server reports an error; %s "
		    "lets it send its final reply", c->mech == AUTH_XOAUTH2 ?
		    "an empty line" : "a ^A (masked)");
	if (resp == NULL) {
		/* RFC 4954 4: "*" cancels the exchange */
		smtp_wire(s, WIRE_WARN, "%s; cancelling AUTH", err);
		record_add_finding(s->rec, FIND_WARN, "auth-cancelled",
		    STAGE_AUTH, "%s", err);
		resp = xstrdup("*");
	}
	auth_wipe(s->auth_resp);
	s->auth_resp = resp;
	smtp_enter(s, STAGE_AUTH);
}

/*
 * smtp_starttls_check - before STARTTLS: -1 when the command ends here
 * (TLS already on, or not offered: a warning when optional, an error
 * when required), the ready callback called; 0 to send it.
 */
int
smtp_starttls_check(struct smtp_session *s, const struct smtp_cmd *c)
{
	if (io_tls_active(s->io)) {
		smtp_skip_step(s, STAGE_STARTTLS, "TLS is already "
		    "active");
		smtp_ready(s);
		return -1;
	}
	if ((s->ehlo_ok || s->use_helo) &&
	    !reply_ehlo_has(s->rec->ehlo, "STARTTLS")) {
		if (c->flags & SMTP_F_OPTIONAL) {
			record_add_finding(s->rec, FIND_WARN,
			    "no-starttls", STAGE_EHLO, "server does "
			    "not offer STARTTLS; going on in "
			    "plaintext");
			smtp_wire(s, WIRE_WARN, "server does not "
			    "offer STARTTLS; going on in plaintext");
			smtp_ready(s);
			return -1;
		}
		smtp_skip_step(s, STAGE_STARTTLS, "server does not "
		    "offer STARTTLS");
		record_set_error(s->rec, STAGE_STARTTLS, FAIL_TLS,
		    "server does "
		    "not offer STARTTLS and --starttls requires it");
		smtp_wire(s, WIRE_ERROR, "%s", s->rec->error);
		smtp_ready(s);
		return -1;
	}
	return 0;
}

/*
 * smtp_auth_check - before AUTH: -1 when it must not be sent (no TLS
 * and not allowed without), the ready callback called; 0 to send it,
 * with a finding when the server does not offer the mechanism.
 */
int
smtp_auth_check(struct smtp_session *s, const struct smtp_cmd *c)
{
	if (!io_tls_active(s->io) && !(c->flags & SMTP_F_INSECURE)) {
		smtp_skip_step(s, STAGE_AUTH, "not sent: AUTH without "
		    "TLS would show the credentials to anyone on "
		    "the path");
		record_set_error(s->rec, STAGE_AUTH, FAIL_AUTH,
		    "AUTH over "
		    "plaintext refused: use STARTTLS or implicit TLS, "
		    "or allow it explicitly (--auth-insecure)");
		smtp_wire(s, WIRE_ERROR, "%s", s->rec->error);
		smtp_ready(s);
		return -1;
	}
	if (!io_tls_active(s->io))
		smtp_wire(s, WIRE_WARN, "AUTH without TLS, as asked: "
		    "anyone on the path can read the credentials "
		    "(base64 is not encryption)");
	if (s->ehlo_ok && reply_ehlo_param(s->rec->ehlo,
	    "AUTH") == NULL) {
		record_add_finding(s->rec, FIND_WARN, "auth-not-offered",
		    STAGE_AUTH, "server does not offer AUTH%s; trying "
		    "anyway", io_tls_active(s->io) ? "" :
		    " (it may offer it only under TLS)");
		smtp_wire(s, WIRE_WARN, "server does not offer AUTH; "
		    "trying anyway");
	} else if (s->ehlo_ok) {
		const char *list = reply_ehlo_param(s->rec->ehlo,
		    "AUTH");
		const char *m = mech_names[c->mech];
		const char *p = list;
		size_t	    ml = strlen(m);
		int	    found = 0;

		while (p != NULL && *p != '\0') {
			while (*p == ' ')
				p++;
			if (strncasecmp(p, m, ml) == 0 &&
			    (p[ml] == ' ' || p[ml] == '\0'))
				found = 1;
			p = strchr(p, ' ');
		}
		if (!found && list[strspn(list, " ")] == '\0') {
			record_add_finding(s->rec, FIND_WARN,
			    "auth-mech-not-offered", STAGE_AUTH,
			    "server offers AUTH with no mechanism; "
			    "trying %s anyway", m);
			smtp_wire(s, WIRE_WARN, "server offers AUTH with "
			    "no mechanism; trying %s anyway", m);
		} else if (!found) {
			record_add_finding(s->rec, FIND_WARN,
			    "auth-mech-not-offered", STAGE_AUTH,
			    "server offers AUTH %s, not %s; trying "
			    "anyway", list, m);
			smtp_wire(s, WIRE_WARN, "server offers AUTH %s, "
			    "not %s; trying anyway", list, m);
		}
	}
	return 0;
}

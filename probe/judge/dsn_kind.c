/*
 * dsn_kind.c - what kind of mail message a pasted text is.
 *
 * Exports dsn_kind() (include/dsn.h). A bounce (delivery status
 * notification, RFC 3464, or the plain-text report of an MTA), an
 * automatic reply (RFC 3834: Auto-Submitted: auto-replied, vacation
 * and out-of-office notices) or an abuse feedback report (RFC 5965,
 * multipart/report; report-type=feedback-report) is told apart from
 * the header block of the message and from markers in its text. The
 * input is bounded by its length and never modified.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dsn.h"
#include "dsn_int.h"
#include "util.h"

#define KIND_SCAN	262144	/* bytes of the text searched for markers */

/* Markers anywhere in the text that only a bounce carries. */
static const char *bounce_text[] = {
	"\nfinal-recipient:", "\ndiagnostic-code:",
	"report-type=delivery-status", "report-type=\"delivery-status\"",
	"\nreporting-mta:", "in reply to rcpt to", "in reply to mail from",
	"in reply to end of data", "in reply to data command",
	"smtp error from remote mail", "the response from the remote server",
	"transcript of session follows", "remote server returned",
	"could not be delivered", "couldn't be delivered",
	"was not delivered", "wasn't able to deliver",
	"was undeliverable", "delivery has failed", "delivery failed",
	"did not reach the following recipient", "did not reach the recipient",
	"not able to deliver", "unable to deliver", "permanent error",
	"permanent fatal error", "delivery to the following recipient",
	"message not delivered", "undeliverable", "failed to deliver",
	"could not deliver", "can't be delivered", "cannot be delivered",
	"mailbox is full", "not collected", "has not yet been delivered",
	"delivery status notification", "i'm sorry to have to inform you",
	"refused to talk to me", "temporary problem delivering your message",
	/* other languages: German, French, Spanish, Italian, Dutch (ASCII) */
	"konnte nicht zugestellt werden", "nicht zugestellt werden konnte",
	"n'a pas pu etre remis",
	"no se ha podido entregar", "no se pudo entregar",
	"non e' stato possibile recapitare", "kon niet worden bezorgd",
	/* challenge-response systems holding the message for the sender */
	"address added to the recipient's allowed list",
	"sender not pre-approved", "my list of approved senders",
	/* a filter's notice that it stopped the message */
	"detected and blocked an infected message",
};

/* Subject words of a bounce. */
static const char *bounce_subject[] = {
	"undeliver", "returned mail", "delivery status", "delivery fail",
	"failure notice", "mail delivery", "undelivered", "nondeliverable",
	"non-deliverable", "not delivered", "delivery notification",
	"could not be delivered", "returned to sender", "mail system error",
	"delivery problem", "rejected", "warning: could not",
	"failed mail", "mail failure", "nicht zustellbar", "non remis",
	"no se pudo entregar", "non recapitato", "unzustellbar",
	"olevererbar", "onbestelbaar", "non recapitabile", "non distribuibile",
	"impossible de remettre", "non distribuable", "no entregado",
	"no se puede entregar", "nie dostarczono", "ikke levert",
	"kunne ikke leveres", "kan inte levereras", "toimittamaton",
};

/* Subject words of an automatic reply. */
static const char *auto_subject[] = {
	"out of office", "out of the office", "auto:", "autoreply",
	"auto-reply", "auto reply", "automatic reply", "autoresponse",
	"auto response", "vacation", "abwesenheit", "automatyczna",
	"risposta automatica", "reponse automatique", "respuesta automatica",
	"thank you for your e-mail", "thank you for your email",
	"away from", "[auto", "automatische", "automatiska", "automaattinen",
};

/* hdr_value - value of header name in the header block, or NULL */
static struct span
hdr_value(const char *t, size_t n, const char *name)
{
	struct span	 v = { NULL, 0 };
	size_t		 i = 0, k, nl = strlen(name), e;

	while (i < n) {
		for (e = i; e < n && t[e] != '\n'; e++)
			;
		k = e > i && t[e - 1] == '\r' ? e - 1 : e;
		if (k == i)
			break;		/* end of the header block */
		if (k - i > nl && t[i + nl] == ':' &&
		    dsn_ci_prefix(t + i, k - i, name)) {
			v = dsn_trim(t + i + nl + 1, k - i - nl - 1);
			return v;
		}
		i = e + 1;
	}
	return v;
}

/*
 * flag_set - 1 if a flag field (X-Autoreply:) is there and says so: not
 * empty (a mail system that writes the field with no value on every
 * message), not "no", "false" or "0"
 */
static int
flag_set(struct span v)
{
	return v.p != NULL && v.len > 0 && !dsn_ci_prefix(v.p, v.len, "no") &&
	    !dsn_ci_prefix(v.p, v.len, "false") && !(v.len == 1 && v.p[0] == '0');
}

/* any_in - 1 if one of the words is in p[0..n), ASCII case ignored */
static int
any_in(const char *p, size_t n, const char **w, size_t nw)
{
	size_t	 i;

	for (i = 0; p != NULL && i < nw; i++)
		if (dsn_ci_find(p, n, w[i]) != NULL)
			return 1;
	return 0;
}

/*
 * ws_match - 1 if the marker w matches at t[0..n): ASCII case ignored,
 * a space of w matches any run of blanks and line ends (a marker folded
 * over two lines: "could not\nbe delivered")
 */
static int
ws_match(const char *t, size_t n, const char *w)
{
	size_t	 i = 0;

	for (; *w != '\0'; w++) {
		if (*w == ' ') {
			if (i >= n || !dsn_isws((unsigned char)t[i]))
				return 0;
			while (i < n && dsn_isws((unsigned char)t[i]))
				i++;
			continue;
		}
		if (i >= n || dsn_lc((unsigned char)t[i]) !=
		    dsn_lc((unsigned char)*w))
			return 0;
		i++;
	}
	return 1;
}

/* text_has - 1 if one of the markers is in t[0..n) or at its start */
static int
text_has(const char *t, size_t n, const char **w, size_t nw)
{
	size_t	 i, k, cap = n < KIND_SCAN ? n : KIND_SCAN;
	int	 c;

	for (i = 0; i < nw; i++) {
		if (w[i][0] == '\n' && dsn_ci_prefix(t, cap, w[i] + 1))
			return 1;
		c = dsn_lc((unsigned char)w[i][0]);
		for (k = 0; k < cap; k++)
			if (dsn_lc((unsigned char)t[k]) == c &&
			    ws_match(t + k, cap - k, w[i]))
				return 1;
	}
	return 0;
}

/* dsn_kind - bounce, auto-reply, feedback report or none */
int
dsn_kind(const char *t, size_t n)
{
	struct span	 subj, from, as, ct;
	size_t		 cap = n < KIND_SCAN ? n : KIND_SCAN;

	if (t == NULL || n == 0)
		return DSN_KIND_NONE;
	ct = hdr_value(t, n, "Content-Type");
	subj = hdr_value(t, n, "Subject");
	/* Microsoft's JMRP complaints are not in RFC 5965 form */
	if ((ct.p != NULL && dsn_ci_find(ct.p, ct.len,
	    "feedback-report") != NULL) ||
	    dsn_ci_find(t, cap, "\nFeedback-Type:") != NULL ||
	    (subj.p != NULL && dsn_ci_prefix(subj.p, subj.len,
	    "complaint about message from ")) ||
	    hdr_value(t, n, "X-HmXmrOriginalRecipient").p != NULL)
		return DSN_KIND_ARF;
	if (text_has(t, n, bounce_text,
	    sizeof(bounce_text) / sizeof(bounce_text[0])))
		return DSN_KIND_BOUNCE;
	from = hdr_value(t, n, "From");
	if (any_in(subj.p, subj.len, bounce_subject,
	    sizeof(bounce_subject) / sizeof(bounce_subject[0])) ||
	    (from.p != NULL && (dsn_ci_find(from.p, from.len,
	    "mailer-daemon") != NULL || dsn_ci_find(from.p, from.len,
	    "mail delivery") != NULL)))
		return DSN_KIND_BOUNCE;
	as = hdr_value(t, n, "Auto-Submitted");
	if ((as.p != NULL && !dsn_ci_prefix(as.p, as.len, "no")) ||
	    flag_set(hdr_value(t, n, "X-Autoreply")) ||
	    flag_set(hdr_value(t, n, "X-Autorespond")) ||
	    any_in(subj.p, subj.len, auto_subject,
	    sizeof(auto_subject) / sizeof(auto_subject[0])))
		return DSN_KIND_AUTOREPLY;
	return DSN_KIND_NONE;
}

/*
 * Header fields of a mail message: a text with several of them at the
 * start of lines holds a message (its own header block, or one it
 * quotes or forwards).
 */
static const char *mail_hdrs[] = {
	"from:", "to:", "subject:", "date:", "message-id:", "received:",
	"return-path:", "mime-version:", "reply-to:", "delivered-to:",
};

/* dsn_is_message - 1 if the text holds an RFC 5322 header block */
int
dsn_is_message(const char *t, size_t n)
{
	size_t		 cap = n < KIND_SCAN ? n : KIND_SCAN, i, k, e;
	unsigned	 seen = 0, count = 0;

	for (i = 0; t != NULL && i < cap; i = e + 1) {
		for (e = i; e < cap && t[e] != '\n'; e++)
			;
		for (k = 0; k < nitems(mail_hdrs); k++)
			if (dsn_ci_prefix(t + i, e - i, mail_hdrs[k]) &&
			    (seen & (1u << k)) == 0) {
				seen |= 1u << k;
				count++;
			}
		/* From: and two more: a header block, not a reply */
		if (count >= 3 && (seen & 1u) != 0)
			return 1;
	}
	return 0;
}

/*
 * dsn.h - bounce message (delivery status notification) parsing.
 *
 * dsn_parse() reads a whole bounce as received (headers and body, any
 * bytes) and returns one item per recipient it reports on. It reads
 * the RFC 3464 message/delivery-status part (Reporting-MTA, and per
 * recipient Final-Recipient, Original-Recipient, Action, Status,
 * Remote-MTA, Diagnostic-Code) and the human-readable text of Postfix,
 * Exim, Sendmail, qmail, Gmail and Microsoft Exchange bounces, which
 * is where the SMTP stage ("in reply to RCPT TO command", "after end
 * of data", ">>> RCPT To:") is found. Both are combined per recipient;
 * a Diagnostic-Code is preferred to a reply quoted in the text.
 *
 * Ownership: dsn_parse() never returns NULL; the struct dsn and every
 * string in it belong to the caller and are released with dsn_free()
 * (dsn_free(NULL) is a no-op). Every string is printable: header
 * folding and other white space runs are made single spaces, then the
 * bytes go through util_escape() (valid UTF-8, no control character). Each string keeps at most
 * DSN_MAX_STR bytes of its source.
 */
#ifndef SMTPROBE_DSN_H
#define SMTPROBE_DSN_H

#include <stddef.h>

#define DSN_MAX_ITEMS	1000	/* recipients reported, at most */
#define DSN_MAX_STR	8192	/* source bytes kept per string */
#define DSN_MAX_PARTS	256	/* MIME entities looked at, in all */
#define DSN_MAX_DEPTH	8	/* nested multipart levels */

/* struct dsn truncated: which limit the bounce reached (a part of it
   was not read, so a recipient may be missing) */
#define DSN_TRUNC_PARTS	0x01	/* more than DSN_MAX_PARTS MIME parts */
#define DSN_TRUNC_ITEMS	0x02	/* more than DSN_MAX_ITEMS recipients */
#define DSN_TRUNC_DEPTH	0x04	/* multiparts nested past DSN_MAX_DEPTH */

/*
 * One recipient. Any string may be NULL when the bounce does not say.
 *   recipient	Final-Recipient (else Original-Recipient) address, or
 *		the address the text names
 *   action	"failed", "delayed", ... in lower case
 *   status	RFC 3463 code ("5.1.1") from Status:, else from the reply
 *   remote_mta	Remote-MTA host without "dns;", else the host the text
 *		names
 *   reply	the remote server's reply as one line, from the
 *		Diagnostic-Code (type "smtp;" removed) or else the text:
 *		"550 5.1.1 <x@y>: User unknown"; continuation lines are
 *		joined with " " without their own "550-" prefix (nor a
 *		repeated enhanced code)
 *   code	basic code at the start of reply, 0 if none
 *   stage	enum smtp_stage the reply answered, -1 if not stated
 */
struct dsn_item {
	char	*recipient;
	char	*action;
	char	*status;
	char	*remote_mta;
	char	*reply;
	char	*text;		/* no reply: the bounce's own words, or NULL */
	int	 code;
	int	 stage;
};

struct dsn {
	char		*reporting_mta;	/* Reporting-MTA host, or NULL */
	struct dsn_item	*items;
	size_t		 nitems;
	unsigned	 truncated;	/* DSN_TRUNC_* bits, 0: read whole */
};

/* dsn_parse - parse len bytes of a bounce; never NULL, nitems 0 if none */
struct dsn	*dsn_parse(const char *text, size_t len);

/* dsn_kind() results */
#define DSN_KIND_NONE		0	/* none of the others */
#define DSN_KIND_BOUNCE		1	/* a bounce (DSN or MTA text) */
#define DSN_KIND_AUTOREPLY	2	/* RFC 3834 automatic reply */
#define DSN_KIND_ARF		3	/* RFC 5965 feedback report */

/*
 * dsn_kind - what the message of len bytes is (DSN_KIND_*): a feedback
 * report by its report-type or Feedback-Type: field (or a Microsoft JMRP
 * complaint by its Subject: or X-HmXmrOriginalRecipient:), a bounce by DSN
 * fields, MTA wording or its Subject:/From:, else an automatic reply
 * by Auto-Submitted:, X-Autoreply: or its Subject:.
 */
int		 dsn_kind(const char *text, size_t len);

/*
 * dsn_is_message - 1 when the text of len bytes holds a mail message's
 * header block (From: and at least two of To:, Subject:, Date:,
 * Message-ID:, Received:, ... at the start of lines): with dsn_kind()
 * DSN_KIND_NONE, an ordinary e-mail, not a reply to judge.
 */
int		 dsn_is_message(const char *text, size_t len);

/*
 * dsn_log_parse - MTA log lines (Postfix status=bounced/deferred, Exim
 * "**" and "==", OpenSMTPD "mta delivery", Sendmail "stat=") and
 * "postqueue -j" output: one item per failed or deferred recipient,
 * action "failed" or "delayed", the stage from the log's words. NULL
 * when no line is one of those; else free with dsn_free().
 */
struct dsn	*dsn_log_parse(const char *text, size_t len);

/* dsn_free - release a dsn_parse() result; NULL is ok */
void		 dsn_free(struct dsn *);

/*
 * dsn_stage_from_text - the stage named by the first stage phrase in a
 * NUL-terminated text ("(in reply to end of DATA command)", "after
 * MAIL FROM:<x>", "refused to talk to me", ">>> RCPT To:<x>"), as an
 * enum smtp_stage value; -1 if there is none.
 */
int		 dsn_stage_from_text(const char *);

#endif

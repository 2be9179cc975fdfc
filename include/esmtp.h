/*
 * esmtp.h - the ESMTP parameters of MAIL and RCPT (run layer), decided
 * in one place for the command line, the shell, batch and scenarios:
 * SIZE (RFC 1870), BODY=8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), DSN
 * NOTIFY/RET/ENVID/ORCPT (RFC 3461) and REQUIRETLS (RFC 8689), each
 * checked against the server's EHLO reply. The paths themselves: a
 * non-ASCII domain becomes its A-label for a server without SMTPUTF8,
 * a non-ASCII local part cannot go to one at all.
 *
 * Policy: a parameter the user asked for that the server does not
 * offer is not sent, with the warning finding esmtp-not-offered;
 * REQUIRETLS is the exception (its point is that the message must not
 * go without it): the transaction fails before MAIL. Parameters the
 * user wrote by hand (a scenario's "mail from ADDR PARAMS") are sent
 * as written and never duplicated.
 *
 * Functions returning int return 0, or -1 with err filled (the
 * transaction must not start; an error finding is in the record).
 */
#ifndef SMTPROBE_ESMTP_H
#define SMTPROBE_ESMTP_H

#include <stddef.h>

#include "record.h"
#include "reply.h"

struct scn;
struct scn_params;

#define ESMTP_MAX_ENVID	100	/* RFC 3461 4.4 */
#define ESMTP_SIZE_AUTO	(-1)	/* --size auto */

/* --dsn-notify bits */
#define ESMTP_N_NEVER	0x01
#define ESMTP_N_SUCCESS	0x02
#define ESMTP_N_FAILURE	0x04
#define ESMTP_N_DELAY	0x08

/* What the user asked for (the options); zeroed: nothing. */
struct esmtp_opts {
	long long	 size;		/* --size N; 0: none; ESMTP_SIZE_AUTO:
					   the message's (esmtp_mail_size) */
	int		 eightbit;	/* --8bitmime */
	unsigned	 notify;	/* --dsn-notify ESMTP_N_*, 0 none */
	int		 ret;		/* --dsn-ret: 0 none, 1 FULL, 2 HDRS */
	const char	*envid;		/* --dsn-envid, or NULL */
	int		 orcpt;		/* --dsn-orcpt */
	int		 requiretls;	/* --requiretls */
	int		 raw_message;	/* --raw-message: 8-bit given bytes
					   go to a server without 8BITMIME */
};

/* How the message will look, as far as it is known when MAIL goes. */
enum esmtp_body {
	ESMTP_BODY_7BIT,	/* ASCII only (or not known yet) */
	ESMTP_BODY_BUILT8,	/* 8-bit, built by us: can go as
				   quoted-printable */
	ESMTP_BODY_RAW8		/* 8-bit, the user's bytes (--message,
				   a data file): sent as they are */
};

/* The transaction as MAIL opens it. */
struct esmtp_txn {
	const char		 *from;		/* reverse path, "" null */
	const char *const	 *rcpt;		/* the RCPTs that follow */
	size_t			  nrcpt;
	enum esmtp_body		  body;
	const char		 *params;	/* the user's own, or NULL */
};

/* What MAIL sends; esmtp_mail_clear() frees it. */
struct esmtp_mail {
	char	*from;		/* the path to send */
	char	*params;	/* the parameters to send, "" none */
	int	 utf8;		/* SMTPUTF8 is on MAIL */
	int	 eightbit;	/* BODY=8BITMIME is on MAIL */
	int	 qp;		/* the built message goes quoted-printable */
};

/*
 * esmtp_notify_parse - --dsn-notify: NEVER, or a comma-separated list
 * of SUCCESS, FAILURE, DELAY (any case); ESMTP_N_* bits, or 0 with err
 */
unsigned	 esmtp_notify_parse(const char *, char *err, size_t errlen);
/* esmtp_envid_check - --dsn-envid: printable ASCII, 1 to 100 chars */
int		 esmtp_envid_check(const char *, char *err, size_t errlen);
/*
 * esmtp_path - the path to send for addr: as it is when ASCII or utf8;
 * else the domain as its A-label. NULL with err when the local part is
 * not ASCII (SMTPUTF8 is the only way) or the domain is no IDN.
 */
char		*esmtp_path(const char *addr, int utf8, char *err,
		    size_t errlen);
/* esmtp_needs_utf8 - 1 if the local part of addr is not ASCII */
int		 esmtp_needs_utf8(const char *addr);

/*
 * esmtp_mail - MAIL's path and parameters for t, with the server's
 * EHLO capabilities (NULL: it answered HELO) and whether TLS is up.
 * Findings go to rec (stage MAIL).
 */
int		 esmtp_mail(const struct esmtp_opts *, const struct ehlo *,
		    int tls, const struct esmtp_txn *t, struct record *rec,
		    struct esmtp_mail *out, char *err, size_t errlen);
void		 esmtp_mail_clear(struct esmtp_mail *);
/*
 * esmtp_mail_size - --size auto, once the message is known: SIZE=size
 * added to m's parameters when the server offers SIZE and the user's
 * own (uparams) have none; nothing, and no warning, when it does not
 */
void		 esmtp_mail_size(struct esmtp_mail *m, const struct ehlo *,
		    const char *uparams, long long size, struct record *rec);
/*
 * esmtp_rcpt - a RCPT's path (*path) and parameters (*params, "" none),
 * utf8 when MAIL carried SMTPUTF8, uparams the user's own or NULL
 */
int		 esmtp_rcpt(const struct esmtp_opts *, const struct ehlo *,
		    int utf8, const char *to, const char *uparams,
		    struct record *rec, char **path, char **params,
		    char *err, size_t errlen);

/* esmtp_has8bit - 1 if one of the n bytes at s (NULL: none) is 8-bit */
int		 esmtp_has8bit(const char *s, size_t n);
/*
 * esmtp_scn_rcpts - the addresses of the rcpt steps after step i (a
 * MAIL) up to the transaction's end, as far as the scenario has them;
 * *n of them, an array the caller frees (NULL when none)
 */
const char	**esmtp_scn_rcpts(const struct scn *, size_t i, size_t *n);
/*
 * esmtp_scn_body - what the data step of the transaction that step i
 * opens will send: a data file or inline data as they are, else the
 * message of p (--message as it is, or one built from --body ...)
 */
enum esmtp_body	 esmtp_scn_body(const struct scn *, size_t i,
		    const struct scn_params *p);

#endif

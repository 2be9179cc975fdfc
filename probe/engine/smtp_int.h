/*
 * smtp_int.h - what the files of the SMTP engine share (private to
 * probe/engine/smtp*.c; the interface is include/smtp.h):
 *
 *   smtp.c        the session, the stage table, commands: enter a stage
 *                 and send
 *   smtp_reply.c  the connection's events, reading replies, stray
 *                 replies (desync), failures and the end of a session
 *   smtp_tls.c    STARTTLS (the command, the handshake, DANE) and AUTH
 *   smtp_asif.c   as if from another client: the PROXY header, XCLIENT
 *                 (and the EHLO after it) and XFORWARD
 *
 * smtp_enter() in smtp.c stays the only function that changes
 * s->stage.
 */
#ifndef SMTPROBE_SMTP_INT_H
#define SMTPROBE_SMTP_INT_H

#include <sys/types.h>

#include <stdint.h>

#include "io.h"
#include "record.h"
#include "reply.h"
#include "smtp.h"

struct smtp_session {
	const struct smtp_params *p;
	struct smtp_callbacks	 cb;
	void			*arg;
	struct io		*io;
	struct record		*rec;
	ssize_t			 cur;		/* open step, -1 none */
	ssize_t			 primary;	/* step answering the command */
	struct reply		*reply;		/* being read */
	struct smtp_cmd		 cmd;		/* under way (strings borrowed) */
	int			 txn;		/* transaction number, from 1 */
	int			 auth_round;	/* 334 challenges answered */
	enum smtp_stage		 stage;
	int			 lmtp_left;	/* replies still due after the
						   message, one per accepted
						   recipient */
	char			*auth_resp;	/* answer to send (secret) */
	char			*helo;		/* name last sent */
	/* a pipelined group (RFC 2920, smtp_do_group()) */
	struct smtp_cmd		*grp_cmd;	/* its commands (copied) */
	ssize_t			*grp_step;	/* their steps, in order */
	size_t			 grp_n;		/* 0: no group under way */
	size_t			 grp_i;		/* the one awaiting a reply */
	/* LMTP (RFC 2033) and BDAT (RFC 3030) */
	char			**acc;		/* recipients accepted in the
						   transaction, in order */
	size_t			 nacc;
	char			*bdat_buf;	/* the message, not dot-stuffed */
	size_t			 bdat_len;
	size_t			 bdat_off;	/* sent so far */
	size_t			 bdat_chunk;
	ssize_t			 asif_primary;	/* the command's primary step
						   before XCLIENT, EHLO,
						   XFORWARD */
	char			*asif_line;	/* the XCLIENT/XFORWARD line */
	/* flags, a byte each: no padding (thousands of idle sessions) */
	unsigned char		 busy;		/* a command is under way */
	unsigned char		 use_helo;	/* EHLO refused: HELO */
	unsigned char		 ehlo_ok;	/* an EHLO was accepted */
	unsigned char		 pregreet;	/* 1: EHLO sent before the
						   greeting; 2: its reply is
						   the EHLO step's */
	unsigned char		 in_data;	/* 354 seen, dot not sent */
	unsigned char		 started;	/* greeting seen */
	unsigned char		 finished;
	unsigned char		 bare_lf_noted;
	unsigned char		 smuggling;	/* the DATA command declared that
						   a second reply after the dot
						   is its finding (eod-early) */
	unsigned char		 binary_noted;
	unsigned char		 grp_mail_failed; /* the group's MAIL refused */
	unsigned char		 after_group;	/* the last command was a group:
						   a stray reply is one too
						   many for it */
	unsigned char		 bdat;		/* this message goes by BDAT */
	unsigned char		 xclient_done;	/* --xclient sent and taken */
	unsigned char		 xforward_done;	/* --xforward sent and taken */
	unsigned char		 asif_running;	/* XCLIENT, EHLO, XFORWARD under
						   way inside a command */
};

/* what each stage does; its name and default timeout are in stage.c */
struct stage {
	const char	*verb;
	int		 expect;	/* reply class meaning success, 0 any
					   positive (2 or 3) */
	void		(*enter)(struct smtp_session *);
	void		(*reply)(struct smtp_session *, struct reply *);
};

/* the stage table, indexed by enum smtp_stage (smtp.c) */
extern const struct stage smtp_stages[];

/* smtp.c */
int	smtp_group_next(struct smtp_session *);
void	smtp_group_abandon(struct smtp_session *);
void	smtp_enter(struct smtp_session *, enum smtp_stage);
int64_t	smtp_now(struct smtp_session *);
void	smtp_ready(struct smtp_session *);
void	smtp_send(struct smtp_session *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	smtp_send_masked(struct smtp_session *, const char *,
	    const char *);
struct step *smtp_step(struct smtp_session *);
long	smtp_timeout(struct smtp_session *, enum smtp_stage);
void	smtp_wire(struct smtp_session *, enum smtp_wire,
	    const char *, ...) __attribute__((format(printf, 3, 4)));

/* smtp_reply.c */
int	smtp_after_probe(struct smtp_session *);
void	smtp_close_step(struct smtp_session *, enum step_outcome,
	    const char *);
void	smtp_desync(struct smtp_session *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	smtp_eod_early(struct smtp_session *, const char *);
void	smtp_fail(struct smtp_session *, enum step_outcome,
	    enum fail_kind, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
void	smtp_finish(struct smtp_session *);
void	smtp_io(struct io *, enum io_event, void *);
enum step_outcome smtp_judge(struct smtp_session *,
	    const struct reply *);
struct step *smtp_skip_step(struct smtp_session *, enum smtp_stage,
	    const char *);

/* smtp_asif.c */
int	smtp_asif_proxy(struct smtp_session *);
int	smtp_asif_before(struct smtp_session *);
int	smtp_asif_after_ehlo(struct smtp_session *, enum step_outcome);
void	smtp_enter_asif(struct smtp_session *);
void	smtp_reply_asif(struct smtp_session *, struct reply *);

/* smtp_tls.c */
void	smtp_enter_auth(struct smtp_session *);
void	smtp_enter_starttls(struct smtp_session *);
void	smtp_reply_auth(struct smtp_session *, struct reply *);
void	smtp_reply_starttls(struct smtp_session *, struct reply *);
void	smtp_tls_ready(struct smtp_session *);
int	smtp_starttls_check(struct smtp_session *, const struct smtp_cmd *);
int	smtp_auth_check(struct smtp_session *, const struct smtp_cmd *);

#endif

/*
 * smtp.h - the SMTP client engine.
 *
 * One session carries one connection. The caller drives it one command
 * at a time with smtp_do(); the engine sends, reads the reply, applies
 * what the protocol requires (HELO after a refused EHLO, EHLO again
 * after STARTTLS, the message after 354) and records every step. It
 * reports to its caller through callbacks, so the scenario runner (and
 * through it the command line, --diagnose and the shell), batch mode
 * and the tests all drive this same engine:
 *   wire  - a line went out, came in, or a note about the session;
 *   step  - a step finished (its reply is complete or it failed);
 *   ready - the command is over and the session waits for the next;
 *   done  - the session is over; the record is final.
 * After smtp_do() exactly one of ready or done follows, possibly from
 * inside smtp_do() itself (a step that needs no round trip). done is
 * called exactly once per session. Never call smtp_session_free() from
 * inside a callback: stop the loop or defer.
 */
#ifndef SMTPROBE_SMTP_H
#define SMTPROBE_SMTP_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stddef.h>

#include "auth.h"
#include "record.h"

struct event_base;
struct smtp_session;
struct dane_policy;
typedef struct ssl_ctx_st SSL_CTX;

enum smtp_tls_mode {
	SMTP_TLS_NONE,		/* plaintext only */
	SMTP_TLS_OPTIONAL,	/* --starttls-optional */
	SMTP_TLS_REQUIRE,	/* --starttls */
	SMTP_TLS_IMPLICIT	/* --tls-on-connect (port 465) */
};

/* What one connection needs; borrowed for the session's lifetime. */
struct smtp_params {
	const char	*host;		/* --server as given (record) */
	const char	*port;		/* --port (record) */
	const char	*resolve_note;	/* how host became addr, or NULL */
	const char *const *resolution;	/* the DNS path, for the record */
	size_t		 nresolution;
	const struct sockaddr *addr;	/* where to connect; NULL: resolve
					   failed (resolve_note says why) */
	socklen_t	 addrlen;
	int		 resolve_answer; /* addr NULL: the failure is the
					   recipient domain's own answer,
					   OUT_PERMFAIL (null MX, NXDOMAIN)
					   or OUT_TEMPFAIL (SERVFAIL); 0:
					   an error (exit 3) */
	const struct sockaddr *local;	/* --local-address, or NULL */
	socklen_t	 locallen;
	const char	*helo;		/* --helo; NULL: address literal */
	int		 implicit_tls;	/* --tls-on-connect */
	const char	*tls_mode;	/* name for the record ("starttls") */
	SSL_CTX		*tls_ctx;	/* needed for STARTTLS or implicit */
	const char	*sni;		/* --tls-sni; NULL sends none */
	const char	*verify_name;	/* name checked in the certificate */
	int		 tls_verify;	/* --tls-verify: failure is fatal */
	const struct dane_policy *dane;	/* --dane: the TLSA lookup for this
					   host (dane.h), or NULL */
	const long	*timeout_ms;	/* --timeout: STAGE__COUNT entries,
					   0 the stage's default (borrowed:
					   one array for every session of a
					   run); NULL: every default */
	size_t		 max_line;	/* --max-line; 0: default */
	size_t		 show_body;	/* message lines shown in transcript */
	int		 pregreet;	/* --pregreet: send EHLO before the
					   greeting; its reply is read as
					   part of the connect command, an
					   extra ehlo step */
	int		 lmtp;		/* --lmtp: LHLO, and one reply per
					   accepted recipient after the
					   message (RFC 2033) */
	/* as if from another client (smtp_asif.c, proxy.h) */
	int		 proxy;		/* --proxy: 1 or 2, 0 none */
	const struct sockaddr *proxy_src; /* --proxy-source; NULL: ours */
	const struct sockaddr *proxy_dst; /* --proxy-dest; NULL: addr */
	const char	*xclient;	/* --xclient NAME=VALUE,..., or NULL */
	const char	*xforward;	/* --xforward NAME=VALUE,..., or NULL */
	int		 asif_after_tls; /* STARTTLS is to come: XCLIENT and
					   XFORWARD after it */
	/* transports */
	const char	*interface;	/* --interface: bind to this device */
	const char	*pipe;		/* --pipe: talk to this command's
					   stdin/stdout (no addr) */
};

/* smtp_cmd flags */
#define SMTP_F_HELO	0x01	/* ehlo: send HELO, not EHLO */
#define SMTP_F_OPTIONAL	0x02	/* starttls: go on in plaintext if refused
				   or not offered */
#define SMTP_F_INSECURE	0x04	/* auth: allowed without TLS */
#define SMTP_F_NOREPLY	0x08	/* raw: wait for no reply */
#define SMTP_F_SMUGGLING 0x20	/* data: the message probes SMTP smuggling;
				   a second reply after the dot is the
				   finding eod-early, not a desync */
#define SMTP_F_BDAT	0x40	/* data: send the message in BDAT chunks
				   (RFC 3030) when CHUNKING is offered;
				   otherwise DATA, with the finding
				   bdat-not-offered */
#define SMTP_F_STOP	0x10	/* stop after the first stage: connect
				   without waiting for the greeting,
				   STARTTLS without the EHLO after it, DATA
				   without the message after 354 */

/*
 * One command. The stage says what to do; strings are borrowed until
 * ready or done. Every string that goes into a command line must have
 * been checked for CR, LF and NUL by the caller (msg.h, util.h); the
 * engine refuses one that was not, rather than send it.
 *   STAGE_CONNECT	connect (TLS at once with implicit_tls), greeting
 *   STAGE_EHLO		arg: name, NULL: the session's default
 *   STAGE_STARTTLS	then EHLO again with the same name (RFC 3207)
 *   STAGE_AUTH		mech, arg: user, secret (never recorded)
 *   STAGE_MAIL		arg: reverse path ("" null), params: ESMTP or NULL
 *   STAGE_RCPT		arg: forward path, params: ESMTP or NULL
 *   STAGE_DATA		DATA, then on 354 message (wire form: CRLF,
 *			dot-stuffed, final ".\r\n")
 *   STAGE_RSET, STAGE_NOOP, STAGE_QUIT
 *   STAGE_VRFY		arg: what to verify
 *   STAGE_RAW		arg: bytes sent as they are, CRLF added; the
 *			caller has allowed any CR or LF they hold
 *   STAGE_SLEEP	ms: wait; a line from the server meanwhile is
 *			an error
 *   STAGE_DONE		drop the connection without QUIT
 */
struct smtp_cmd {
	enum smtp_stage	 stage;
	const char	*arg;
	const char	*params;
	unsigned	 flags;		/* SMTP_F_* */
	const char	*message;	/* DATA */
	size_t		 message_len;
	enum smtp_auth_mech mech;	/* AUTH */
	const char	*secret;	/* AUTH password or token */
	long		 ms;		/* SLEEP */
	size_t		 chunk;		/* DATA with SMTP_F_BDAT: bytes per
					   chunk, 0: SMTP_BDAT_CHUNK */
};

#define SMTP_BDAT_CHUNK	65536	/* --bdat-chunk default */

enum smtp_wire {
	WIRE_SEND,	/* client to server */
	WIRE_RECV,	/* server to client */
	WIRE_INFO,	/* a note: connected, TLS up ... */
	WIRE_WARN,	/* a finding worth a look */
	WIRE_ERROR	/* what ended the session */
};

struct smtp_callbacks {
	void	(*wire)(void *arg, enum smtp_wire, int tls, int64_t t_us,
		    const char *text);
	void	(*step)(void *arg, const struct record *, const struct step *);
	/*
	 * ready - the command is over. primary is the step that answers
	 * it (the greeting for connect, the final EHLO, the STARTTLS
	 * step, the end of data when the message was sent), or NULL when
	 * the command records no step (sleep).
	 */
	void	(*ready)(void *arg, const struct record *,
		    const struct step *primary);
	void	(*done)(void *arg, const struct record *);
};

struct smtp_session *smtp_session_new(struct event_base *,
		    const struct smtp_params *, const struct smtp_callbacks *,
		    void *arg);
void		 smtp_session_free(struct smtp_session *);
const struct record *smtp_session_record(const struct smtp_session *);
struct record	*smtp_session_record_mut(struct smtp_session *);

/*
 * smtp_do - run one command. Returns 0, or -1 when the session cannot
 * take a command now (busy, or already over): then nothing happens.
 */
int		 smtp_do(struct smtp_session *, const struct smtp_cmd *);
/*
 * smtp_do_group - send n commands at once (RFC 2920 PIPELINING): MAIL,
 * RCPT, RSET, NOOP and raw lines, and DATA as the last. Every command
 * gets its own step; the replies are matched to them in order, each
 * step's time runs from the group's send to its reply. A 354 reply to
 * DATA still gates the message. ready follows once, after the last
 * reply (primary: the last command's step, the end of data when the
 * message was sent). A 354 matched to a command other than DATA is the
 * finding pipelining-early-reply, a reply more than the group asked
 * for pipelining-extra-reply; both end the session as a desync. The
 * caller decides whether the server offered PIPELINING. Returns 0, or
 * -1 (nothing sent) when the session cannot take the group.
 */
int		 smtp_do_group(struct smtp_session *,
		    const struct smtp_cmd *, size_t n);

/* smtp_quit - end politely: QUIT when the server takes commands */
void		 smtp_quit(struct smtp_session *);
/* smtp_drop - end now: close the connection without QUIT */
void		 smtp_drop(struct smtp_session *);
/* smtp_note - a note in the transcript (runner messages) */
void		 smtp_note(struct smtp_session *, enum smtp_wire,
		    const char *, ...) __attribute__((format(printf, 3, 4)));

int		 smtp_is_open(const struct smtp_session *);
int		 smtp_tls_active(const struct smtp_session *);
int		 smtp_is_over(const struct smtp_session *);
/*
 * smtp_asif_waiting - --xclient or --xforward still to be sent: the
 * next command goes alone (smtp_do() sends them first), not in a
 * pipelined group
 */
int		 smtp_asif_waiting(const struct smtp_session *);
/* smtp_ehlo - capabilities of the latest EHLO, or NULL */
const struct ehlo *smtp_ehlo(const struct smtp_session *);

const char	*smtp_tls_mode_name(enum smtp_tls_mode);
const char	*smtp_auth_mech_name(enum smtp_auth_mech);
int		 smtp_auth_mech_lookup(const char *);	/* -1 if unknown */

#endif

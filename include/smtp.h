/*
 * smtp.h - the SMTP client engine.
 *
 * One session runs one connection through the stages of record.h,
 * driven by struct smtp_params, and records every step. It reports to
 * its caller through callbacks, so the command line, the scenario
 * runner, batch mode and the tests all drive this same engine:
 *   wire  - a line went out, came in, or a note about the session;
 *   step  - a step finished (its reply is complete or it failed);
 *   done  - the session is over; the record is final.
 * done is called exactly once, possibly from inside smtp_session_start()
 * when the connection cannot even be attempted. Never call
 * smtp_session_free() from inside a callback: stop the loop or defer.
 */
#ifndef SMTPROBE_SMTP_H
#define SMTPROBE_SMTP_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stddef.h>

#include "record.h"

struct event_base;
struct smtp_session;
typedef struct ssl_ctx_st SSL_CTX;

enum smtp_tls_mode {
	SMTP_TLS_NONE,		/* plaintext only */
	SMTP_TLS_OPTIONAL,	/* --starttls-optional */
	SMTP_TLS_REQUIRE,	/* --starttls */
	SMTP_TLS_IMPLICIT	/* --tls-on-connect (port 465) */
};

struct smtp_txn {
	const char	 *from;		/* --from; "" is the null sender <> */
	const char	**rcpt;		/* --to, in order */
	size_t		  nrcpt;
};

struct smtp_params {
	const char	*host;		/* --server as given (record) */
	const char	*port;		/* --port (record) */
	const char	*resolve_note;	/* how host became addr, or NULL */
	const struct sockaddr *addr;	/* where to connect */
	socklen_t	 addrlen;
	const struct sockaddr *local;	/* --local-address, or NULL */
	socklen_t	 locallen;
	const char	*helo;		/* --helo; NULL: address literal */
	enum smtp_tls_mode tls_mode;	/* --starttls ... */
	SSL_CTX		*tls_ctx;	/* needed unless tls_mode is NONE */
	const char	*sni;		/* --tls-sni; NULL sends none */
	const char	*verify_name;	/* name checked in the certificate */
	int		 tls_verify;	/* --tls-verify: failure is fatal */
	const struct smtp_txn *txn;	/* one per --from */
	size_t		 ntxn;
	int		 send_data;	/* --data: go on to DATA */
	const char	*message;	/* wire form: CRLF, dot-stuffed, with
					   the final ".\r\n" */
	size_t		 message_len;
	int		 stop_before;	/* --stop-before STAGE, or -1 */
	int		 quit_after;	/* --quit-after STAGE, or -1 */
	long		 timeout_ms[STAGE__COUNT]; /* --timeout; 0: default */
	size_t		 max_line;	/* --max-line; 0: default */
	size_t		 show_body;	/* message lines shown in transcript */
};

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
	void	(*done)(void *arg, const struct record *);
};

struct smtp_session *smtp_session_new(struct event_base *,
		    const struct smtp_params *, const struct smtp_callbacks *,
		    void *arg);
void		 smtp_session_start(struct smtp_session *);
void		 smtp_session_free(struct smtp_session *);
const struct record *smtp_session_record(const struct smtp_session *);

const char	*smtp_stage_name(enum smtp_stage);
int		 smtp_stage_lookup(const char *);	/* -1 if unknown */
long		 smtp_stage_timeout(enum smtp_stage);	/* default, ms */
const char	*smtp_tls_mode_name(enum smtp_tls_mode);

#endif

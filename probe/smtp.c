/*
 * smtp.c - the SMTP client engine (see include/smtp.h).
 *
 * All stages live in one table, stages[]: name, verb, default timeout,
 * the reply class that means success, an entry action that sends the
 * command ("enter stage => send") and a reply handler that judges the
 * reply and picks the next stage ("reply in stage => next stage").
 * smtp_enter() is the only function that changes s->stage; it applies
 * --stop-before and --quit-after, opens a step in the record, arms the
 * stage's deadline and runs the entry action.
 *
 * Ending a session: smtp_cancel() is the polite way (QUIT when the
 * server is in a command state), smtp_finish() drops the connection.
 * Both end in exactly one call of the done callback.
 *
 * Pipelining is not used: one command is outstanding at a time. A reply
 * that is already waiting when the next command is sent came before
 * that command and is treated as a protocol error (desync/injection).
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/ssl.h>

#include "io.h"
#include "log.h"
#include "reply.h"
#include "smtp.h"
#include "tls.h"
#include "util.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

struct smtp_session {
	const struct smtp_params *p;
	struct smtp_callbacks	 cb;
	void			*arg;
	struct event_base	*base;
	struct io		*io;
	struct record		*rec;
	enum smtp_stage		 stage;
	ssize_t			 cur;		/* open step, -1 none */
	struct reply		*reply;		/* being read */
	size_t			 txn;		/* index into p->txn */
	size_t			 rcpt;		/* index into txn's rcpt */
	int			 txn_ok;	/* RCPTs accepted in txn */
	int			 use_helo;	/* EHLO refused: HELO */
	int			 tls_tried;	/* STARTTLS done or failed */
	int			 in_data;	/* 354 seen, dot not sent */
	int			 started;	/* banner seen */
	int			 finished;
	int			 bare_lf_noted;
	int			 binary_noted;
	char			*helo;
	char			*error;		/* session-level failure */
	enum smtp_stage		 error_stage;
};

struct stage {
	const char	*name;
	const char	*verb;
	long		 timeout_ms;
	int		 expect;	/* reply class meaning success */
	void		(*enter)(struct smtp_session *);
	void		(*reply)(struct smtp_session *, struct reply *);
};

static void	enter_connect(struct smtp_session *);
static void	enter_banner(struct smtp_session *);
static void	enter_ehlo(struct smtp_session *);
static void	enter_starttls(struct smtp_session *);
static void	enter_mail(struct smtp_session *);
static void	enter_rcpt(struct smtp_session *);
static void	enter_data(struct smtp_session *);
static void	enter_eod(struct smtp_session *);
static void	enter_rset(struct smtp_session *);
static void	enter_quit(struct smtp_session *);
static void	reply_banner(struct smtp_session *, struct reply *);
static void	reply_ehlo(struct smtp_session *, struct reply *);
static void	reply_starttls(struct smtp_session *, struct reply *);
static void	reply_mail(struct smtp_session *, struct reply *);
static void	reply_rcpt(struct smtp_session *, struct reply *);
static void	reply_data(struct smtp_session *, struct reply *);
static void	reply_eod(struct smtp_session *, struct reply *);
static void	reply_rset(struct smtp_session *, struct reply *);
static void	reply_quit(struct smtp_session *, struct reply *);

/*
 * Default timeouts are below the RFC 5321 4.5.3.2 ceilings (5 min for
 * the greeting, MAIL and RCPT, 10 min after the final dot): a probe
 * wants an answer, and every one of them can be changed by --timeout.
 */
static const struct stage stages[] = {
	[STAGE_RESOLVE] = { "resolve", NULL, 30000, 0, NULL, NULL },
	[STAGE_CONNECT] = { "connect", NULL, 30000, 0, enter_connect, NULL },
	[STAGE_BANNER] = { "banner", NULL, 60000, 2, enter_banner,
	    reply_banner },
	[STAGE_EHLO] = { "ehlo", "EHLO", 60000, 2, enter_ehlo, reply_ehlo },
	[STAGE_STARTTLS] = { "starttls", "STARTTLS", 60000, 2,
	    enter_starttls, reply_starttls },
	[STAGE_AUTH] = { "auth", "AUTH", 60000, 2, NULL, NULL },
	[STAGE_MAIL] = { "mail", "MAIL FROM", 60000, 2, enter_mail,
	    reply_mail },
	[STAGE_RCPT] = { "rcpt", "RCPT TO", 60000, 2, enter_rcpt,
	    reply_rcpt },
	[STAGE_DATA] = { "data", "DATA", 60000, 3, enter_data, reply_data },
	[STAGE_EOD] = { "eod", ".", 300000, 2, enter_eod, reply_eod },
	[STAGE_RSET] = { "rset", "RSET", 30000, 2, enter_rset, reply_rset },
	[STAGE_QUIT] = { "quit", "QUIT", 10000, 2, enter_quit, reply_quit },
	[STAGE_DONE] = { "done", NULL, 0, 0, NULL, NULL },
};
_Static_assert(nitems(stages) == STAGE__COUNT, "stage table incomplete");

static void	smtp_enter(struct smtp_session *, enum smtp_stage);
static void	smtp_cancel(struct smtp_session *);
static void	smtp_finish(struct smtp_session *);
static void	smtp_fail(struct smtp_session *, enum step_outcome,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static void	smtp_send(struct smtp_session *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	smtp_wire(struct smtp_session *, enum smtp_wire,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static void	smtp_io(struct io *, enum io_event, void *);
static void	smtp_line(struct smtp_session *);
static void	smtp_tls_ready(struct smtp_session *);
static void	smtp_close_step(struct smtp_session *, enum step_outcome,
		    const char *);
static void	smtp_next_txn(struct smtp_session *);
static void	smtp_result(struct smtp_session *);
static struct step *smtp_step(struct smtp_session *);
static int64_t	smtp_now(struct smtp_session *);
static enum step_outcome smtp_judge(struct smtp_session *,
		    const struct reply *);
static const struct smtp_txn *smtp_txn(struct smtp_session *);

const char *
smtp_stage_name(enum smtp_stage st)
{
	return st < STAGE__COUNT ? stages[st].name : "?";
}

int
smtp_stage_lookup(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(stages); i++)
		if (strcasecmp(name, stages[i].name) == 0)
			return (int)i;
	return -1;
}

long
smtp_stage_timeout(enum smtp_stage st)
{
	return stages[st].timeout_ms;
}

const char *
smtp_tls_mode_name(enum smtp_tls_mode m)
{
	switch (m) {
	case SMTP_TLS_OPTIONAL:
		return "starttls-optional";
	case SMTP_TLS_REQUIRE:
		return "starttls";
	case SMTP_TLS_IMPLICIT:
		return "tls-on-connect";
	default:
		return "none";
	}
}

struct smtp_session *
smtp_session_new(struct event_base *base, const struct smtp_params *p,
    const struct smtp_callbacks *cb, void *arg)
{
	struct smtp_session	*s;
	struct record		*r;

	s = xcalloc(1, sizeof(*s));
	s->p = p;
	s->cb = *cb;
	s->arg = arg;
	s->base = base;
	s->cur = -1;
	s->stage = STAGE_RESOLVE;
	s->io = io_new(base, smtp_io, s);
	io_set_maxline(s->io, p->max_line ? p->max_line : IO_MAX_LINE_DEFAULT);
	r = s->rec = record_new();
	util_utc_iso(r->started, sizeof(r->started));
	r->t0 = util_now_us();
	r->host = xstrdup(p->host != NULL ? p->host : "");
	r->port = xstrdup(p->port != NULL ? p->port : "");
	r->tls_mode = smtp_tls_mode_name(p->tls_mode);
	r->fail_stage = STAGE_DONE;
	return s;
}

void
smtp_session_free(struct smtp_session *s)
{
	if (s == NULL)
		return;
	io_free(s->io);
	reply_free(s->reply);
	record_free(s->rec);
	free(s->helo);
	free(s->error);
	free(s);
}

const struct record *
smtp_session_record(const struct smtp_session *s)
{
	return s->rec;
}

static int64_t
smtp_now(struct smtp_session *s)
{
	return util_now_us() - s->rec->t0;
}

static struct step *
smtp_step(struct smtp_session *s)
{
	return s->cur < 0 ? NULL : &s->rec->steps[s->cur];
}

static const struct smtp_txn *
smtp_txn(struct smtp_session *s)
{
	return &s->p->txn[s->txn];
}

static void
smtp_wire(struct smtp_session *s, enum smtp_wire dir, const char *fmt, ...)
{
	va_list	 ap;
	char	*text;

	if (s->cb.wire == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	s->cb.wire(s->arg, dir, io_tls_active(s->io), smtp_now(s), text);
	free(text);
}

void
smtp_session_start(struct smtp_session *s)
{
	struct step	*st;

	st = record_add_step(s->rec, STAGE_RESOLVE, 0);
	st->outcome = OUT_OK;
	st->t_done = 0;
	if (s->p->addr == NULL) {
		/* the caller could not resolve the server: record why */
		s->cur = (ssize_t)(st - s->rec->steps);
		smtp_fail(s, OUT_ERROR, "%s", s->p->resolve_note != NULL ?
		    s->p->resolve_note : "cannot resolve the server");
		return;
	}
	if (s->p->resolve_note != NULL) {
		st->detail = xstrdup(s->p->resolve_note);
		smtp_wire(s, WIRE_INFO, "%s", s->p->resolve_note);
	}
	smtp_enter(s, STAGE_CONNECT);
}

/*
 * smtp_enter - the only way to change stage. Applies --stop-before and
 * --quit-after, opens a step, arms the deadline and sends.
 */
static void
smtp_enter(struct smtp_session *s, enum smtp_stage next)
{
	const struct smtp_params *p = s->p;
	enum smtp_stage	 from = s->stage;
	long		 ms;

	if (s->finished)
		return;
	if (next != STAGE_QUIT && next != STAGE_DONE &&
	    ((int)next == p->stop_before ||
	    ((int)from == p->quit_after && next != from))) {
		smtp_wire(s, WIRE_INFO, "stopping %s %s as asked",
		    (int)next == p->stop_before ? "before" : "after",
		    (int)next == p->stop_before ? stages[next].name :
		    stages[from].name);
		if (next == STAGE_CONNECT) {
			/* nothing was opened: the session ends here */
			s->stage = STAGE_DONE;
			smtp_finish(s);
			return;
		}
		smtp_cancel(s);
		return;
	}
	log_debug("stage %s -> %s", stages[from].name, stages[next].name);
	s->stage = next;
	if (next == STAGE_DONE) {
		smtp_finish(s);
		return;
	}
	s->cur = (ssize_t)(record_add_step(s->rec, next, smtp_now(s)) -
	    s->rec->steps);
	smtp_step(s)->tls = io_tls_active(s->io);
	smtp_step(s)->txn = next >= STAGE_MAIL && next <= STAGE_RSET ?
	    (int)s->txn + 1 : 0;
	ms = p->timeout_ms[next] > 0 ? p->timeout_ms[next] :
	    stages[next].timeout_ms;
	io_set_deadline(s->io, ms);
	stages[next].enter(s);
}

/* smtp_send - write one command line and record it in the open step */
static void
smtp_send(struct smtp_session *s, const char *fmt, ...)
{
	struct step	*st = smtp_step(s);
	va_list		 ap;
	char		*cmd, *line;
	size_t		 pending;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	line = xasprintf("%s\r\n", cmd);
	smtp_wire(s, WIRE_SEND, "%s", cmd);
	io_write(s->io, line, strlen(line));
	free(line);
	free(st->command);
	st->command = cmd;
	st->t_sent = smtp_now(s);

	free(io_pending(s->io, &pending));
	if (pending > 0 && s->stage != STAGE_QUIT)
		smtp_fail(s, OUT_ERROR, "server sent %zu bytes before the "
		    "%s command (a reply without a command: pipelining "
		    "desync or response injection)", pending,
		    stages[s->stage].verb);
}

/*
 * smtp_close_step - end the open step with an outcome. Timing is kept
 * when the step already has its reply.
 */
static void
smtp_close_step(struct smtp_session *s, enum step_outcome o,
    const char *detail)
{
	struct step	*st = smtp_step(s);

	if (st == NULL)
		return;
	io_set_deadline(s->io, 0);
	st->outcome = o;
	if (detail == NULL && o == OUT_ERROR && st->reply != NULL)
		st->detail = xasprintf("unexpected %d reply (expected %dxx)",
		    st->reply->code, stages[st->stage].expect);
	if (detail != NULL && st->detail == NULL)
		st->detail = xstrdup(detail);
	if (st->t_done < 0)
		st->t_done = smtp_now(s);
	s->cur = -1;
	if (s->cb.step != NULL)
		s->cb.step(s->arg, s->rec, st);
}

/*
 * smtp_fail - the session cannot go on: record why on the open step
 * (or as a session error), then drop the connection.
 */
static void
smtp_fail(struct smtp_session *s, enum step_outcome o, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	if (s->finished)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	if (s->error == NULL && !(s->stage == STAGE_QUIT)) {
		s->error = xstrdup(msg);
		s->error_stage = s->stage;
	}
	smtp_wire(s, s->stage == STAGE_QUIT ? WIRE_INFO : WIRE_ERROR, "%s",
	    msg);
	smtp_close_step(s, o, msg);
	free(msg);
	smtp_finish(s);
}

/* smtp_cancel - end politely: QUIT when the server takes commands */
static void
smtp_cancel(struct smtp_session *s)
{
	if (s->finished)
		return;
	if (!s->started || s->in_data || !io_is_open(s->io) ||
	    s->stage == STAGE_QUIT) {
		smtp_finish(s);
		return;
	}
	smtp_enter(s, STAGE_QUIT);
}

/* smtp_finish - drop the connection, settle the result, report done */
static void
smtp_finish(struct smtp_session *s)
{
	if (s->finished)
		return;
	s->finished = 1;
	if (s->cur >= 0)
		smtp_close_step(s, OUT_CLOSED, "session ended");
	io_close(s->io);
	s->stage = STAGE_DONE;
	s->rec->t_end = smtp_now(s);
	smtp_result(s);
	if (s->cb.done != NULL)
		s->cb.done(s->arg, s->rec);
}

/*
 * smtp_result - the session's status. Errors (no usable reply) win,
 * then any permanent rejection, then any temporary one. QUIT never
 * decides, and a partial RCPT rejection is a rejection.
 */
static void
smtp_result(struct smtp_session *s)
{
	struct record	*r = s->rec;
	struct step	*perm = NULL, *temp = NULL, *err = NULL;
	const char	*what;
	size_t		 i;

	for (i = 0; i < r->nsteps; i++) {
		struct step *st = &r->steps[i];

		if (st->stage == STAGE_QUIT)
			continue;
		switch (st->outcome) {
		case OUT_PERMFAIL:
			if (perm == NULL)
				perm = st;
			break;
		case OUT_TEMPFAIL:
			if (temp == NULL)
				temp = st;
			break;
		case OUT_TIMEOUT:
		case OUT_CLOSED:
		case OUT_ERROR:
			if (err == NULL)
				err = st;
			break;
		default:
			break;
		}
	}
	if (s->error != NULL || err != NULL) {
		r->status = RES_ERROR;
		r->fail_stage = s->error != NULL ? s->error_stage : err->stage;
		r->message = xasprintf("error at %s: %s",
		    stages[r->fail_stage].name, s->error != NULL ? s->error :
		    err->detail != NULL ? err->detail :
		    record_outcome_name(err->outcome));
		return;
	}
	if (perm != NULL || temp != NULL) {
		struct step *st = perm != NULL ? perm : temp;

		r->status = perm != NULL ? RES_PERMFAIL : RES_TEMPFAIL;
		r->fail_stage = st->stage;
		what = st->reply != NULL && st->reply->nlines > 0 ?
		    st->reply->lines[0] : "(no reply)";
		if (r->rcpt_rejected > 0 && r->rcpt_ok > 0)
			r->message = xasprintf("%s at %s: %s (%d of %d "
			    "recipients rejected)", record_status_name(
			    r->status), stages[st->stage].name, what,
			    r->rcpt_rejected, r->rcpt_ok + r->rcpt_rejected);
		else
			r->message = xasprintf("%s at %s: %s",
			    record_status_name(r->status),
			    stages[st->stage].name, what);
		return;
	}
	r->status = RES_OK;
	r->fail_stage = STAGE_DONE;
	if (s->p->send_data)
		r->message = xasprintf("accepted: message accepted for %d "
		    "recipient%s", r->rcpt_ok, r->rcpt_ok == 1 ? "" : "s");
	else if (r->rcpt_ok > 0)
		r->message = xasprintf("accepted: %d recipient%s accepted "
		    "(envelope only, no message sent)", r->rcpt_ok,
		    r->rcpt_ok == 1 ? "" : "s");
	else
		r->message = xstrdup("accepted: every step done was accepted");
}

static enum step_outcome
smtp_judge(struct smtp_session *s, const struct reply *r)
{
	int	 c = reply_class(r);

	if (c == stages[s->stage].expect)
		return OUT_OK;
	if (c == 4)
		return OUT_TEMPFAIL;
	if (c == 5)
		return OUT_PERMFAIL;
	return OUT_ERROR;
}

static void
smtp_io(struct io *io, enum io_event ev, void *arg)
{
	struct smtp_session	*s = arg;
	struct step		*st = smtp_step(s);
	size_t			 n;
	char			*rest;

	switch (ev) {
	case IO_CONNECTED:
		s->rec->address = xstrdup(io_peer(io));
		s->rec->source = xstrdup(io_local(io));
		smtp_wire(s, WIRE_INFO, "connected to %s from %s",
		    io_peer(io), io_local(io));
		if (s->p->tls_mode == SMTP_TLS_IMPLICIT) {
			SSL *ssl = tls_ssl_new(s->p->tls_ctx, s->p->sni,
			    s->p->verify_name);

			if (io_starttls(io, ssl) == -1)
				smtp_fail(s, OUT_ERROR, "%s", io_error(io));
			return;
		}
		smtp_close_step(s, OUT_OK, NULL);
		smtp_enter(s, STAGE_BANNER);
		break;
	case IO_TLSREADY:
		smtp_tls_ready(s);
		break;
	case IO_LINE:
		smtp_line(s);
		break;
	case IO_TIMEOUT:
		if (s->stage == STAGE_QUIT) {
			smtp_close_step(s, OUT_TIMEOUT, "no reply to QUIT");
			smtp_finish(s);
			break;
		}
		smtp_fail(s, OUT_TIMEOUT, "timed out after %g s in %s%s",
		    (double)(s->p->timeout_ms[s->stage] > 0 ?
		    s->p->timeout_ms[s->stage] :
		    stages[s->stage].timeout_ms) / 1000.0,
		    stages[s->stage].name,
		    s->reply != NULL && s->reply->nlines > 0 ?
		    " (reply incomplete)" : "");
		break;
	case IO_EOF:
		if (s->stage == STAGE_QUIT || st == NULL) {
			smtp_close_step(s, s->reply == NULL && st != NULL &&
			    st->reply == NULL ? OUT_CLOSED : OUT_OK,
			    "connection closed by server");
			smtp_finish(s);
			break;
		}
		rest = io_pending(io, &n);
		if (n > 0)
			smtp_fail(s, OUT_CLOSED, "%s: \"%s\"", io_error(io),
			    rest);
		else
			smtp_fail(s, OUT_CLOSED, "connection closed by server "
			    "during %s%s", stages[s->stage].name,
			    s->reply != NULL ? " (reply incomplete)" : "");
		free(rest);
		break;
	case IO_ERROR:
		if (s->stage == STAGE_QUIT) {
			smtp_close_step(s, OUT_CLOSED, io_error(io));
			smtp_finish(s);
			break;
		}
		smtp_fail(s, OUT_ERROR, "%s", io_error(io));
		break;
	}
}

/* smtp_line - one line of a reply; a complete reply goes to its stage */
static void
smtp_line(struct smtp_session *s)
{
	struct step	*st = smtp_step(s);
	struct reply	*r;
	const char	*line, *err = NULL;
	size_t		 len;
	int		 bare_lf;
	enum reply_status rs;

	line = io_line(s->io, &len, &bare_lf);
	if (st == NULL || stages[s->stage].reply == NULL ||
	    (s->stage == STAGE_STARTTLS && s->tls_tried)) {
		char *esc = util_escape(line, len);

		smtp_wire(s, WIRE_RECV, "%s", esc);
		smtp_fail(s, OUT_ERROR, "unexpected line from server in "
		    "stage %s", stages[s->stage].name);
		free(esc);
		return;
	}
	if (s->reply == NULL) {
		s->reply = reply_new();
		st->t_first = smtp_now(s);
	}
	r = s->reply;
	rs = reply_feed(r, line, len, bare_lf, &err);
	smtp_wire(s, WIRE_RECV, "%s", r->lines[r->nlines - 1]);
	if (bare_lf && !s->bare_lf_noted) {
		s->bare_lf_noted = 1;
		record_add_finding(s->rec, FIND_WARN, "bare-lf", s->stage,
		    "server ended a line with a bare LF (RFC 5321 2.3.8 "
		    "requires CRLF)");
		smtp_wire(s, WIRE_WARN, "server ended a line with a bare LF "
		    "instead of CRLF");
	}
	if (r->binary && !s->binary_noted) {
		s->binary_noted = 1;
		record_add_finding(s->rec, FIND_WARN, "binary-reply",
		    s->stage, "server sent control characters or NUL in a "
		    "reply");
		smtp_wire(s, WIRE_WARN, "server sent control characters or "
		    "NUL bytes in a reply");
	}
	if (rs == REPLY_MORE)
		return;
	s->reply = NULL;
	st->reply = r;
	st->t_done = smtp_now(s);
	if (rs == REPLY_ERROR) {
		record_add_finding(s->rec, FIND_ERROR, "malformed-reply",
		    s->stage, "%s", err);
		smtp_fail(s, OUT_ERROR, "%s", err);
		return;
	}
	io_set_deadline(s->io, 0);
	if (r->code == 421 && s->stage != STAGE_QUIT) {
		/* RFC 5321 3.8: the server is closing the channel */
		smtp_close_step(s, OUT_TEMPFAIL, "service closing (421)");
		smtp_finish(s);
		return;
	}
	stages[s->stage].reply(s, r);
}

/* ---- entry actions: send what the stage is about ---- */

static void
enter_connect(struct smtp_session *s)
{
	const struct smtp_params *p = s->p;

	if (io_connect(s->io, p->addr, p->addrlen, p->local, p->locallen) ==
	    -1)
		smtp_fail(s, OUT_ERROR, "%s", io_error(s->io));
}

static void
enter_banner(struct smtp_session *s)
{
	/* The server speaks first. */
}

static void
enter_ehlo(struct smtp_session *s)
{
	if (s->helo == NULL) {
		if (s->p->helo != NULL)
			s->helo = xstrdup(s->p->helo);
		else {
			/* RFC 5321 4.1.4: an address literal when there is
			   no meaningful name */
			char	*a = xstrdup(io_local(s->io)), *c;

			if (a[0] == '[') {
				c = strchr(a, ']');
				*c = '\0';
				s->helo = xasprintf("[IPv6:%s]", a + 1);
			} else {
				if ((c = strrchr(a, ':')) != NULL)
					*c = '\0';
				s->helo = xasprintf("[%s]", a);
			}
			free(a);
		}
		s->rec->helo = xstrdup(s->helo);
	}
	smtp_send(s, "%s %s", s->use_helo ? "HELO" : "EHLO", s->helo);
}

static void
enter_starttls(struct smtp_session *s)
{
	smtp_send(s, "STARTTLS");
}

static void
enter_mail(struct smtp_session *s)
{
	s->rcpt = 0;
	s->txn_ok = 0;
	smtp_send(s, "MAIL FROM:<%s>", smtp_txn(s)->from);
}

static void
enter_rcpt(struct smtp_session *s)
{
	smtp_send(s, "RCPT TO:<%s>", smtp_txn(s)->rcpt[s->rcpt]);
}

static void
enter_data(struct smtp_session *s)
{
	smtp_send(s, "DATA");
}

static void
enter_eod(struct smtp_session *s)
{
	const char	*m = s->p->message, *end = m + s->p->message_len;
	const char	*nl;
	size_t		 shown = 0, lines = 0;

	/* The transcript shows the first lines; the wire gets them all. */
	while (m < end) {
		nl = memchr(m, '\n', (size_t)(end - m));
		if (nl == NULL)
			nl = end;
		lines++;
		if (shown < s->p->show_body || nl + 1 >= end) {
			char *esc = util_escape(m, (size_t)(nl - m) -
			    (nl > m && nl[-1] == '\r' ? 1 : 0));

			if (shown == s->p->show_body && nl + 1 >= end &&
			    lines > shown + 1)
				smtp_wire(s, WIRE_INFO, "(%zu message lines "
				    "not shown)", lines - shown - 1);
			smtp_wire(s, WIRE_SEND, "%s", esc);
			free(esc);
			shown++;
		}
		m = nl + 1;
	}
	io_write(s->io, s->p->message, s->p->message_len);
	smtp_step(s)->command = xasprintf(".");
	smtp_step(s)->t_sent = smtp_now(s);
	s->in_data = 0;
}

static void
enter_rset(struct smtp_session *s)
{
	smtp_send(s, "RSET");
}

static void
enter_quit(struct smtp_session *s)
{
	smtp_send(s, "QUIT");
}

/* ---- reply handlers: judge, then choose the next stage ---- */

static void
reply_banner(struct smtp_session *s, struct reply *r)
{
	enum step_outcome o = smtp_judge(s, r);

	s->started = 1;
	if (o == OUT_OK && r->code != 220)
		record_add_finding(s->rec, FIND_WARN, "odd-greeting",
		    STAGE_BANNER, "greeting code is %d, not 220", r->code);
	smtp_close_step(s, o, NULL);
	if (o != OUT_OK) {
		/* RFC 5321 3.1: after a 554 greeting, QUIT is still right */
		smtp_cancel(s);
		return;
	}
	smtp_enter(s, STAGE_EHLO);
}

/* after_ehlo - STARTTLS when asked and possible, else the envelope */
static void
after_ehlo(struct smtp_session *s)
{
	const struct smtp_params *p = s->p;
	struct step	*st;

	if (!io_tls_active(s->io) && !s->tls_tried &&
	    (p->tls_mode == SMTP_TLS_REQUIRE ||
	    p->tls_mode == SMTP_TLS_OPTIONAL)) {
		if (reply_ehlo_has(s->rec->ehlo, "STARTTLS")) {
			smtp_enter(s, STAGE_STARTTLS);
			return;
		}
		if (p->tls_mode == SMTP_TLS_REQUIRE) {
			st = record_add_step(s->rec, STAGE_STARTTLS,
			    smtp_now(s));
			st->outcome = OUT_SKIPPED;
			st->t_done = st->t_sent;
			st->detail = xstrdup("server does not offer STARTTLS");
			s->error = xstrdup("server does not offer STARTTLS "
			    "and --starttls requires it");
			s->error_stage = STAGE_STARTTLS;
			smtp_wire(s, WIRE_ERROR, "%s", s->error);
			smtp_cancel(s);
			return;
		}
		record_add_finding(s->rec, FIND_WARN, "no-starttls",
		    STAGE_EHLO, "server does not offer STARTTLS; going on in "
		    "plaintext");
		smtp_wire(s, WIRE_WARN, "server does not offer STARTTLS; "
		    "going on in plaintext");
	}
	if (p->ntxn == 0) {
		smtp_cancel(s);
		return;
	}
	smtp_enter(s, STAGE_MAIL);
}

static void
reply_ehlo(struct smtp_session *s, struct reply *r)
{
	enum step_outcome o = smtp_judge(s, r);

	if (o != OUT_OK && !s->use_helo &&
	    (r->code == 500 || r->code == 502)) {
		/* RFC 5321 4.1.4: an old server; fall back to HELO */
		smtp_close_step(s, o, "EHLO refused; trying HELO");
		s->use_helo = 1;
		record_add_finding(s->rec, FIND_INFO, "helo-fallback",
		    STAGE_EHLO, "server refused EHLO with %d; used HELO",
		    r->code);
		smtp_enter(s, STAGE_EHLO);
		return;
	}
	if (o == OUT_OK) {
		reply_ehlo_free(s->rec->ehlo);
		s->rec->ehlo = s->use_helo ? NULL : reply_ehlo_parse(r);
		if (s->use_helo) {
			/* the refused EHLO above does not count against us */
			size_t i;

			for (i = 0; i < s->rec->nsteps; i++)
				if (s->rec->steps[i].stage == STAGE_EHLO &&
				    s->rec->steps[i].outcome != OUT_OK &&
				    s->rec->steps[i].reply != NULL &&
				    (s->rec->steps[i].reply->code == 500 ||
				    s->rec->steps[i].reply->code == 502))
					s->rec->steps[i].outcome = OUT_SKIPPED;
		}
	}
	smtp_close_step(s, o, NULL);
	if (o != OUT_OK) {
		smtp_cancel(s);
		return;
	}
	after_ehlo(s);
}

static void
reply_starttls(struct smtp_session *s, struct reply *r)
{
	enum step_outcome o = smtp_judge(s, r);
	char		*pending;
	size_t		 n;

	s->tls_tried = 1;
	if (o != OUT_OK) {
		smtp_close_step(s, o, "STARTTLS refused");
		if (s->p->tls_mode == SMTP_TLS_REQUIRE) {
			smtp_cancel(s);
			return;
		}
		/* optional: the refusal stays in the record, not the result */
		s->rec->steps[s->rec->nsteps - 1].outcome = OUT_SKIPPED;
		record_add_finding(s->rec, FIND_WARN, "starttls-refused",
		    STAGE_STARTTLS, "STARTTLS refused with %d; going on in "
		    "plaintext", r->code);
		smtp_wire(s, WIRE_WARN, "STARTTLS refused; going on in "
		    "plaintext");
		after_ehlo(s);
		return;
	}
	pending = io_pending(s->io, &n);
	if (io_starttls(s->io, tls_ssl_new(s->p->tls_ctx, s->p->sni,
	    s->p->verify_name)) == -1) {
		if (n > 0) {
			record_add_finding(s->rec, FIND_ERROR,
			    "starttls-injection", STAGE_STARTTLS, "%zu bytes "
			    "of plaintext followed the 220 reply to STARTTLS "
			    "(response injection): \"%s\"", n, pending);
			smtp_fail(s, OUT_ERROR, "STARTTLS response injection: "
			    "%zu bytes of plaintext after the 220 reply, "
			    "not used: \"%s\"", n, pending);
		} else
			smtp_fail(s, OUT_ERROR, "%s", io_error(s->io));
		free(pending);
		return;
	}
	free(pending);
	/* the step stays open: the handshake is part of it */
	io_set_deadline(s->io, s->p->timeout_ms[STAGE_STARTTLS] > 0 ?
	    s->p->timeout_ms[STAGE_STARTTLS] :
	    stages[STAGE_STARTTLS].timeout_ms);
}

static void
smtp_tls_ready(struct smtp_session *s)
{
	const struct smtp_params *p = s->p;
	struct tls_info	*t = &s->rec->tls;
	struct step	*st = smtp_step(s);

	tls_summarize(io_ssl(s->io), p->sni, p->verify_name, t);
	smtp_wire(s, WIRE_INFO, "TLS %s, cipher %s (%d bits)%s%s", t->version,
	    t->cipher, t->bits, t->group != NULL ? ", group " : "",
	    t->group != NULL ? t->group : "");
	if (t->nchain > 0)
		smtp_wire(s, WIRE_INFO, "certificate: %s, issuer %s, expires "
		    "%s", t->chain[0].subject, t->chain[0].issuer,
		    t->chain[0].not_after);
	if (t->verify_code == 0)
		smtp_wire(s, WIRE_INFO, "certificate verified%s%s",
		    t->verify_name != NULL ? " for " : " (no name checked)",
		    t->verify_name != NULL ? t->verify_name : "");
	else {
		record_add_finding(s->rec, p->tls_verify ? FIND_ERROR :
		    FIND_WARN, "tls-verify", s->stage, "certificate not "
		    "verified: %s (%ld)", t->verify_error, t->verify_code);
		if (p->tls_verify) {
			free(s->error);
			s->error = xasprintf("certificate verification "
			    "failed: %s", t->verify_error);
			s->error_stage = s->stage;
			smtp_wire(s, WIRE_ERROR, "%s", s->error);
			smtp_close_step(s, OUT_ERROR, s->error);
			smtp_cancel(s);
			return;
		}
		smtp_wire(s, WIRE_WARN, "certificate not verified: %s",
		    t->verify_error);
	}
	if (st != NULL && st->stage == STAGE_CONNECT) {
		smtp_close_step(s, OUT_OK, NULL);
		smtp_enter(s, STAGE_BANNER);
		return;
	}
	/* RFC 3207 4.2: forget what we knew, greet again */
	smtp_close_step(s, OUT_OK, NULL);
	reply_ehlo_free(s->rec->ehlo);
	s->rec->ehlo = NULL;
	smtp_enter(s, STAGE_EHLO);
}

static void
reply_mail(struct smtp_session *s, struct reply *r)
{
	enum step_outcome o = smtp_judge(s, r);

	smtp_close_step(s, o, NULL);
	if (o != OUT_OK) {
		smtp_next_txn(s);
		return;
	}
	if (smtp_txn(s)->nrcpt == 0) {
		smtp_next_txn(s);
		return;
	}
	smtp_enter(s, STAGE_RCPT);
}

static void
reply_rcpt(struct smtp_session *s, struct reply *r)
{
	enum step_outcome o = smtp_judge(s, r);

	smtp_close_step(s, o, NULL);
	if (o == OUT_OK) {
		s->txn_ok++;
		s->rec->rcpt_ok++;
	} else
		s->rec->rcpt_rejected++;
	if (++s->rcpt < smtp_txn(s)->nrcpt) {
		smtp_enter(s, STAGE_RCPT);
		return;
	}
	if (s->p->send_data && s->txn_ok > 0) {
		smtp_enter(s, STAGE_DATA);
		return;
	}
	smtp_next_txn(s);
}

static void
reply_data(struct smtp_session *s, struct reply *r)
{
	enum step_outcome o = smtp_judge(s, r);

	smtp_close_step(s, o, NULL);
	if (o != OUT_OK) {
		smtp_next_txn(s);
		return;
	}
	s->in_data = 1;
	smtp_enter(s, STAGE_EOD);
}

static void
reply_eod(struct smtp_session *s, struct reply *r)
{
	smtp_close_step(s, smtp_judge(s, r), NULL);
	smtp_next_txn(s);
}

/* smtp_next_txn - RSET and the next transaction, or QUIT */
static void
smtp_next_txn(struct smtp_session *s)
{
	if (s->txn + 1 < s->p->ntxn) {
		smtp_enter(s, STAGE_RSET);
		return;
	}
	smtp_enter(s, STAGE_QUIT);
}

static void
reply_rset(struct smtp_session *s, struct reply *r)
{
	enum step_outcome o = smtp_judge(s, r);

	smtp_close_step(s, o, NULL);
	if (o != OUT_OK) {
		smtp_cancel(s);
		return;
	}
	s->txn++;
	smtp_enter(s, STAGE_MAIL);
}

static void
reply_quit(struct smtp_session *s, struct reply *r)
{
	smtp_close_step(s, smtp_judge(s, r), NULL);
	smtp_finish(s);
}

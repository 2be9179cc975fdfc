/*
 * smtp.c - the SMTP client engine (see include/smtp.h): the session,
 * the stage table and the commands. Replies, desync and the end of a
 * session are in smtp_reply.c, STARTTLS and AUTH in smtp_tls.c (shared
 * state: smtp_int.h).
 *
 * All stages live in one table, stages[]: name, verb, default timeout,
 * the reply class that means success, an entry action that sends the
 * command ("enter stage => send") and a reply handler that judges the
 * reply and picks what comes next ("reply in stage => next stage").
 * smtp_enter() is the only function that changes s->stage; it opens a
 * step in the record, arms the stage's deadline and runs the entry
 * action.
 *
 * The caller hands in one command at a time (smtp_do()). A command may
 * take several stages - connect is CONNECT then BANNER, DATA is DATA
 * then EOD, STARTTLS is STARTTLS, the handshake, then EHLO again, AUTH
 * one step per round trip - and ends with the ready callback, or with
 * done when the session is over. Between commands the session is idle:
 * no step is open and no deadline runs, and a line from the server then
 * is an error (a reply to no command).
 *
 * Ending a session: smtp_quit() is the polite way (QUIT when the server
 * is in a command state), smtp_finish() drops the connection. Both end
 * in exactly one call of the done callback.
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

static void	enter_connect(struct smtp_session *);
static void	enter_banner(struct smtp_session *);
static void	enter_ehlo(struct smtp_session *);
static void	enter_mail(struct smtp_session *);
static void	enter_rcpt(struct smtp_session *);
static void	enter_data(struct smtp_session *);
static void	enter_eod(struct smtp_session *);
static void	enter_simple(struct smtp_session *);
static void	enter_raw(struct smtp_session *);
static void	enter_sleep(struct smtp_session *);
static void	reply_banner(struct smtp_session *, struct reply *);
static void	reply_ehlo(struct smtp_session *, struct reply *);
static void	reply_rcpt(struct smtp_session *, struct reply *);
static void	reply_data(struct smtp_session *, struct reply *);
static void	reply_simple(struct smtp_session *, struct reply *);
static void	reply_quit(struct smtp_session *, struct reply *);
static void	smtp_do_connect(struct smtp_session *);
static int	smtp_check_cmd(const struct smtp_cmd *, const char **);

const struct stage smtp_stages[] = {
	[STAGE_RESOLVE] = { NULL, 0, NULL, NULL },
	[STAGE_CONNECT] = { NULL, 0, enter_connect, NULL },
	[STAGE_BANNER] = { NULL, 2, enter_banner, reply_banner },
	[STAGE_EHLO] = { "EHLO", 2, enter_ehlo, reply_ehlo },
	[STAGE_STARTTLS] = { "STARTTLS", 2, smtp_enter_starttls,
	    smtp_reply_starttls },
	[STAGE_AUTH] = { "AUTH", 2, smtp_enter_auth, smtp_reply_auth },
	[STAGE_MAIL] = { "MAIL FROM", 2, enter_mail, reply_simple },
	[STAGE_RCPT] = { "RCPT TO", 2, enter_rcpt, reply_rcpt },
	[STAGE_DATA] = { "DATA", 3, enter_data, reply_data },
	[STAGE_EOD] = { ".", 2, enter_eod, reply_simple },
	[STAGE_RSET] = { "RSET", 2, enter_simple, reply_simple },
	[STAGE_NOOP] = { "NOOP", 2, enter_simple, reply_simple },
	[STAGE_VRFY] = { "VRFY", 2, enter_simple, reply_simple },
	[STAGE_XCLIENT] = { "XCLIENT", 2, smtp_enter_asif, smtp_reply_asif },
	[STAGE_XFORWARD] = { "XFORWARD", 2, smtp_enter_asif,
	    smtp_reply_asif },
	[STAGE_RAW] = { "", 0, enter_raw, reply_simple },
	[STAGE_SLEEP] = { NULL, 0, enter_sleep, NULL },
	[STAGE_QUIT] = { "QUIT", 2, enter_simple, reply_quit },
	[STAGE_DONE] = { NULL, 0, NULL, NULL },
};

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
	s->cur = -1;
	s->primary = -1;
	s->asif_primary = -1;
	s->stage = STAGE_RESOLVE;
	s->io = io_new(base, smtp_io, s);
	io_set_maxline(s->io, p->max_line ? p->max_line : IO_MAX_LINE_DEFAULT);
	r = s->rec = record_new();
	util_utc_iso(r->started, sizeof(r->started));
	r->t0 = util_now_us();
	r->host = xstrdup(p->host != NULL ? p->host : "");
	r->port = xstrdup(p->port != NULL ? p->port : "");
	r->tls_mode = p->tls_mode != NULL ? p->tls_mode : "none";
	if (p->nresolution > 0) {
		size_t	 i;

		r->resolution = xcalloc(p->nresolution, sizeof(char *));
		for (i = 0; i < p->nresolution; i++)
			r->resolution[i] = xstrdup(p->resolution[i]);
		r->nresolution = p->nresolution;
	}
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
	free(s->asif_line);
	auth_wipe(s->auth_resp);
	free(s);
}

const struct record *
smtp_session_record(const struct smtp_session *s)
{
	return s->rec;
}

struct record *
smtp_session_record_mut(struct smtp_session *s)
{
	return s->rec;
}

int
smtp_is_open(const struct smtp_session *s)
{
	return !s->finished && s->started;
}

int
smtp_is_over(const struct smtp_session *s)
{
	return s->finished;
}

int
smtp_tls_active(const struct smtp_session *s)
{
	return io_tls_active(s->io);
}

const struct ehlo *
smtp_ehlo(const struct smtp_session *s)
{
	return s->rec->ehlo;
}

int64_t
smtp_now(struct smtp_session *s)
{
	return util_now_us() - s->rec->t0;
}

struct step *
smtp_step(struct smtp_session *s)
{
	return s->cur < 0 ? NULL : &s->rec->steps[s->cur];
}

long
smtp_timeout(struct smtp_session *s, enum smtp_stage st)
{
	return s->p->timeout_ms[st] > 0 ? s->p->timeout_ms[st] :
	    stage_timeout(st);
}

void
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
smtp_note(struct smtp_session *s, enum smtp_wire dir, const char *fmt, ...)
{
	va_list	 ap;
	char	*text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	smtp_wire(s, dir, "%s", text);
	free(text);
}

/*
 * smtp_check_cmd - refuse text that would put a CR, LF or NUL the
 * caller did not mean onto the wire. Raw lines are the caller's own.
 */
static int
smtp_check_cmd(const struct smtp_cmd *c, const char **why)
{
	if (c->stage == STAGE_RAW || c->stage == STAGE_DATA)
		return 0;
	if (c->arg != NULL && util_check_text(c->arg, 0, why) == -1)
		return -1;
	if (c->params != NULL && util_check_text(c->params, 0, why) == -1)
		return -1;
	if (c->stage == STAGE_AUTH && c->secret != NULL &&
	    util_check_text(c->secret, 0, why) == -1)
		return -1;
	return 0;
}

/*
 * smtp_do_connect - the resolution as a step (the caller's notes shown),
 * then CONNECT; a failed resolution ends the session here.
 */
static void
smtp_do_connect(struct smtp_session *s)
{
	struct step	*st;
	size_t		 i;

	st = record_add_step(s->rec, STAGE_RESOLVE, 0);
	st->outcome = OUT_OK;
	st->t_done = 0;
	for (i = 0; i < s->rec->nresolution; i++)
		smtp_wire(s, WIRE_INFO, "dns: %s", s->rec->resolution[i]);
	if (s->p->addr == NULL && (s->p->resolve_answer == OUT_PERMFAIL ||
	    s->p->resolve_answer == OUT_TEMPFAIL)) {
		/*
		 * the recipient's domain answered for itself: a null MX or
		 * NXDOMAIN refuses the address as a 5xx would, a SERVFAIL
		 * defers it; not a failure of ours
		 */
		s->cur = -1;	/* the step is closed here, not by the end */
		s->stage = STAGE_RESOLVE;
		st->outcome = s->p->resolve_answer;
		st->detail = xstrdup(s->p->resolve_note != NULL ?
		    s->p->resolve_note : "the domain takes no mail");
		smtp_wire(s, WIRE_ERROR, "%s", st->detail);
		smtp_finish(s);
		return;
	}
	if (s->p->addr == NULL && s->p->pipe == NULL) {
		/* the caller could not resolve the server */
		s->cur = (ssize_t)(st - s->rec->steps);
		s->stage = STAGE_RESOLVE;
		smtp_fail(s, OUT_ERROR, FAIL_RESOLVE, "%s",
		    s->p->resolve_note != NULL ? s->p->resolve_note :
		    "cannot resolve the server");
		return;
	}
	if (s->p->resolve_note != NULL) {
		st->detail = xstrdup(s->p->resolve_note);
		smtp_wire(s, WIRE_INFO, "%s", s->p->resolve_note);
	}
	smtp_enter(s, STAGE_CONNECT);
}

int
smtp_do(struct smtp_session *s, const struct smtp_cmd *c)
{
	const char	*why;

	if (s->finished || s->busy)
		return -1;
	if (smtp_check_cmd(c, &why) == -1) {
		log_warnx("%s: argument %s; not sent", stage_name(c->stage),
		    why);
		return -1;
	}
	if (c->stage == STAGE_CONNECT) {
		if (s->stage != STAGE_RESOLVE)
			return -1;
	} else if (c->stage != STAGE_SLEEP && c->stage != STAGE_DONE &&
	    (!s->started || !io_is_open(s->io)))
		return -1;
	s->cmd = *c;
	if (c->stage == STAGE_DATA)
		s->smuggling = (c->flags & SMTP_F_SMUGGLING) != 0;
	s->busy = 1;
	s->primary = -1;
	s->auth_round = 0;
	switch (c->stage) {
	case STAGE_CONNECT:
		smtp_do_connect(s);
		return 0;
	case STAGE_QUIT:
		s->busy = 0;
		smtp_quit(s);
		return 0;
	case STAGE_DONE:
		s->busy = 0;
		smtp_drop(s);
		return 0;
	case STAGE_STARTTLS:
		if (smtp_starttls_check(s, c) == -1)
			return 0;
		break;
	case STAGE_AUTH:
		if (smtp_auth_check(s, c) == -1)
			return 0;
		break;
	default:
		break;
	}
	/* --xclient, --xforward not sent yet: before this command */
	if (smtp_asif_before(s))
		return 0;
	smtp_enter(s, c->stage);
	return 0;
}

/*
 * smtp_enter - the only way to change stage: opens a step, arms the
 * deadline and sends.
 */
void
smtp_enter(struct smtp_session *s, enum smtp_stage next)
{
	enum smtp_stage	 from = s->stage;
	struct step	*st;
	ssize_t		 open = -1;

	if (s->finished)
		return;
	log_debug("stage %s -> %s", stage_name(from), stage_name(next));
	s->stage = next;
	if (next == STAGE_DONE) {
		smtp_finish(s);
		return;
	}
	if (next != STAGE_SLEEP) {
		st = record_add_step(s->rec, next, smtp_now(s));
		s->cur = (ssize_t)(st - s->rec->steps);
		st->tls = io_tls_active(s->io);
		if (next == STAGE_MAIL)
			s->txn++;
		st->txn = next >= STAGE_MAIL && next <= STAGE_RSET ?
		    s->txn : 0;
		/* the STARTTLS step answers for the EHLO after it */
		if (!(s->cmd.stage == STAGE_STARTTLS && next == STAGE_EHLO))
			s->primary = s->cur;
		open = s->cur;
	}
	smtp_stages[next].enter(s);
	/*
	 * The deadline starts once the command is handed over: building
	 * and copying a message is our work, not the server's delay.
	 */
	if (open >= 0 && !s->finished && s->cur == open)
		io_set_deadline(s->io, smtp_timeout(s, next));
}

/* smtp_ready - the command is over; the caller may send the next */
void
smtp_ready(struct smtp_session *s)
{
	const struct step *p;

	s->busy = 0;
	p = s->primary >= 0 ? &s->rec->steps[s->primary] : NULL;
	if (s->cb.ready != NULL)
		s->cb.ready(s->arg, s->rec, p);
}

/* smtp_send - write one command line and record it in the open step */
void
smtp_send(struct smtp_session *s, const char *fmt, ...)
{
	va_list		 ap;
	char		*cmd;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	smtp_send_masked(s, cmd, NULL);
	free(cmd);
}

/*
 * smtp_send_masked - write line; the transcript and the record get
 * shown instead when it is not NULL (AUTH payloads).
 */
void
smtp_send_masked(struct smtp_session *s, const char *line, const char *shown)
{
	struct step	*st = smtp_step(s);
	char		*wire, *esc;
	size_t		 pending;

	/*
	 * Bytes already waiting came before this command: a reply no
	 * command asked for. Read after it, they would pass for its
	 * reply; the command is not sent.
	 */
	esc = io_pending(s->io, &pending);
	if (pending > 0 && smtp_after_probe(s))
		smtp_eod_early(s, esc);
	else if (pending > 0)
		smtp_desync(s, "server sent %zu bytes before the %s command "
		    "(a reply no command asked for): \"%s\"", pending,
		    smtp_stages[s->stage].verb != NULL &&
		    smtp_stages[s->stage].verb[0] != '\0' ?
		    smtp_stages[s->stage].verb : "next", esc);
	if (pending > 0) {
		free(esc);
		return;
	}
	free(esc);
	esc = util_escape(shown != NULL ? shown : line, strlen(shown != NULL ?
	    shown : line));
	smtp_wire(s, WIRE_SEND, "%s", esc);
	wire = xasprintf("%s\r\n", line);
	io_write(s->io, wire, strlen(wire));
	if (shown != NULL)
		explicit_bzero(wire, strlen(wire));
	free(wire);
	if (st == NULL) {
		free(esc);
		return;
	}
	free(st->command);
	st->command = esc;
	st->t_sent = smtp_now(s);
}

/* ---- entry actions: send what the stage is about ---- */

static void
enter_connect(struct smtp_session *s)
{
	const struct smtp_params *p = s->p;
	char		 a[INET6_ADDRSTRLEN + 8];

	if (p->pipe != NULL) {
		/* --pipe: a local program instead of a server */
		free(s->rec->address);
		s->rec->address = xstrdup("pipe");
		if (io_pipe(s->io, p->pipe) == -1)
			smtp_fail(s, OUT_ERROR, FAIL_CONNECT, "%s",
			    io_error(s->io));
		return;
	}
	/* the address tried, even if the connection fails */
	io_addr_text(p->addr, a, sizeof(a));
	free(s->rec->address);
	s->rec->address = xstrdup(a);

	io_set_interface(s->io, p->interface);
	if (io_connect(s->io, p->addr, p->addrlen, p->local, p->locallen) ==
	    -1)
		smtp_fail(s, OUT_ERROR, FAIL_CONNECT, "%s", io_error(s->io));
}

static void
enter_banner(struct smtp_session *s)
{
	/* The server speaks first. */
}

/* smtp_default_helo - an address literal for our source (RFC 5321 4.1.4) */
static char *
smtp_default_helo(struct smtp_session *s)
{
	char	*a, *c, *h;

	if (s->p->pipe != NULL)
		return xstrdup("localhost");	/* no address to name */
	a = xstrdup(io_local(s->io));
	if (a[0] == '[') {
		if ((c = strchr(a, ']')) != NULL)
			*c = '\0';
		h = xasprintf("[IPv6:%s]", a + 1);
	} else {
		if ((c = strrchr(a, ':')) != NULL)
			*c = '\0';
		h = xasprintf("[%s]", a);
	}
	free(a);
	return h;
}

static void
enter_ehlo(struct smtp_session *s)
{
	const char	*name;

	/* EHLO again after STARTTLS uses the name sent before */
	if (s->cmd.stage == STAGE_EHLO) {
		free(s->helo);
		name = s->cmd.arg != NULL ? s->cmd.arg : s->p->helo;
		s->helo = name != NULL ? xstrdup(name) : smtp_default_helo(s);
		if (s->cmd.flags & SMTP_F_HELO)
			s->use_helo = 1;
	} else if (s->helo == NULL)
		s->helo = s->p->helo != NULL ? xstrdup(s->p->helo) :
		    smtp_default_helo(s);
	free(s->rec->helo);
	s->rec->helo = xstrdup(s->helo);
	smtp_send(s, "%s %s", s->use_helo ? "HELO" : "EHLO", s->helo);
}

static void
enter_mail(struct smtp_session *s)
{
	const struct smtp_cmd *c = &s->cmd;

	smtp_send(s, "MAIL FROM:<%s>%s%s", c->arg != NULL ? c->arg : "",
	    c->params != NULL && c->params[0] != '\0' ? " " : "",
	    c->params != NULL ? c->params : "");
}

static void
enter_rcpt(struct smtp_session *s)
{
	const struct smtp_cmd *c = &s->cmd;

	smtp_send(s, "RCPT TO:<%s>%s%s", c->arg != NULL ? c->arg : "",
	    c->params != NULL && c->params[0] != '\0' ? " " : "",
	    c->params != NULL ? c->params : "");
}

static void
enter_data(struct smtp_session *s)
{
	smtp_send(s, "DATA");
}

static void
enter_eod(struct smtp_session *s)
{
	const char	*m = s->cmd.message, *end = m + s->cmd.message_len;
	const char	*nl;
	struct step	*st;
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
	io_write(s->io, s->cmd.message, s->cmd.message_len);
	if ((st = smtp_step(s)) != NULL) {
		st->command = xstrdup(".");
		st->t_sent = smtp_now(s);
	}
	s->in_data = 0;
}

static void
enter_simple(struct smtp_session *s)
{
	const struct smtp_cmd *c = &s->cmd;

	if (s->stage == STAGE_VRFY)
		smtp_send(s, "VRFY %s", c->arg != NULL ? c->arg : "");
	else
		smtp_send(s, "%s", smtp_stages[s->stage].verb);
}

static void
enter_raw(struct smtp_session *s)
{
	smtp_send(s, "%s", s->cmd.arg != NULL ? s->cmd.arg : "");
	if (!s->finished && (s->cmd.flags & SMTP_F_NOREPLY)) {
		smtp_close_step(s, OUT_OK, "no reply awaited");
		smtp_ready(s);
	}
}

static void
enter_sleep(struct smtp_session *s)
{
	smtp_wire(s, WIRE_INFO, "waiting %.3g s", (double)s->cmd.ms / 1000.0);
	io_set_deadline(s->io, s->cmd.ms > 0 ? s->cmd.ms : 1);
}

/* ---- reply handlers: judge, then choose what comes next ---- */

static void
reply_banner(struct smtp_session *s, struct reply *r)
{
	enum step_outcome o = smtp_judge(s, r);

	s->started = 1;
	if (o == OUT_OK && r->code != 220)
		record_add_finding(s->rec, FIND_WARN, "odd-greeting",
		    STAGE_BANNER, "greeting code is %d, not 220", r->code);
	smtp_close_step(s, o, NULL);
	smtp_ready(s);
}

static void
reply_ehlo(struct smtp_session *s, struct reply *r)
{
	enum step_outcome o = smtp_judge(s, r);

	if (o != OUT_OK && !s->use_helo &&
	    (r->code == 500 || r->code == 502)) {
		/*
		 * RFC 5321 4.1.4: an old server; fall back to HELO. The
		 * refused EHLO does not count against us: HELO's reply,
		 * whatever it is, decides.
		 */
		smtp_close_step(s, OUT_SKIPPED, "EHLO refused; trying HELO");
		s->use_helo = 1;
		record_add_finding(s->rec, FIND_INFO, "helo-fallback",
		    STAGE_EHLO, "server refused EHLO with %d; used HELO",
		    r->code);
		s->primary = -1;
		smtp_enter(s, STAGE_EHLO);
		return;
	}
	if (o == OUT_OK) {
		reply_ehlo_free(s->rec->ehlo);
		s->rec->ehlo = s->use_helo ? NULL : reply_ehlo_parse(r);
		s->ehlo_ok = !s->use_helo;
	}
	if (o != OUT_OK && s->cmd.stage == STAGE_STARTTLS)
		s->primary = s->cur;	/* the EHLO under TLS failed */
	smtp_close_step(s, o, NULL);
	if (smtp_asif_after_ehlo(s, o))
		return;
	smtp_ready(s);
}

static void
reply_rcpt(struct smtp_session *s, struct reply *r)
{
	enum step_outcome o = smtp_judge(s, r);

	if (o == OUT_OK)
		s->rec->rcpt_ok++;
	else
		s->rec->rcpt_rejected++;
	smtp_close_step(s, o, NULL);
	smtp_ready(s);
}

static void
reply_data(struct smtp_session *s, struct reply *r)
{
	enum step_outcome o = smtp_judge(s, r);

	smtp_close_step(s, o, NULL);
	if (o != OUT_OK) {
		smtp_ready(s);
		return;
	}
	s->in_data = 1;
	if (s->cmd.flags & SMTP_F_STOP) {
		/* asked to stop after 354: the caller ends the session */
		smtp_ready(s);
		return;
	}
	smtp_enter(s, STAGE_EOD);
}

static void
reply_simple(struct smtp_session *s, struct reply *r)
{
	smtp_close_step(s, smtp_judge(s, r), NULL);
	smtp_ready(s);
}

/*
 * reply_quit - 221 ends the session. Any other reply, or more bytes
 * after the 221, answers a command sent before QUIT: the replies have
 * shifted by one somewhere (a desync).
 */
static void
reply_quit(struct smtp_session *s, struct reply *r)
{
	char	*esc;
	size_t	 n;

	if (r->code != 221) {
		smtp_desync(s, "the reply to QUIT is \"%s\", not 221: it "
		    "answers an earlier command", r->lines[0]);
		return;
	}
	esc = io_pending(s->io, &n);
	if (n > 0) {
		smtp_desync(s, "%zu bytes after the 221 reply to QUIT: \"%s\"",
		    n, esc);
		free(esc);
		return;
	}
	free(esc);
	smtp_close_step(s, OUT_OK, NULL);
	smtp_finish(s);
}

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
 * smtp_do() has one command outstanding at a time: a reply that is
 * already waiting when the next command is sent came before that
 * command and is treated as a protocol error (desync/injection).
 * smtp_do_group() sends a PIPELINING group (RFC 2920) at once and
 * expects exactly one reply per command, in order; smtp_group_next()
 * moves the session to the next command awaiting its reply (the one
 * other place that changes s->stage, and only to a stage already
 * entered). BDAT (RFC 3030) sends the message in chunks: every chunk
 * but the last is a data step, the last ("BDAT n LAST") the eod step,
 * so a refusal of the content is judged where it is after DATA. LMTP
 * (RFC 2033) reads one eod reply per accepted recipient.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

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
#include "valid.h"

static void	enter_connect(struct smtp_session *);
static void	enter_banner(struct smtp_session *);
static char	*smtp_default_helo(struct smtp_session *);
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
static void	reply_eod(struct smtp_session *, struct reply *);
static enum smtp_stage smtp_data_stage(struct smtp_session *,
		    const struct smtp_cmd *);
static void	smtp_show_body(struct smtp_session *, const char *, size_t);
static void	smtp_acc_clear(struct smtp_session *);
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
	[STAGE_EOD] = { ".", 2, enter_eod, reply_eod },
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
	free(s->grp_cmd);
	free(s->grp_step);
	smtp_acc_clear(s);
	free(s->bdat_buf);
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
	return s->p->timeout_ms != NULL && s->p->timeout_ms[st] > 0 ?
	    s->p->timeout_ms[st] :
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

	if (s->cb.wire == NULL)
		return;		/* nobody reads the transcript */
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
	smtp_enter(s, c->stage == STAGE_DATA ? smtp_data_stage(s, c) :
	    c->stage);
	return 0;
}

/*
 * smtp_data_stage - how a message starts: DATA, or by BDAT when asked
 * and offered (a message in one chunk is "BDAT n LAST" at once, the
 * eod step). Not offered: DATA, with a finding.
 */
static enum smtp_stage
smtp_data_stage(struct smtp_session *s, const struct smtp_cmd *c)
{
	const char	*m = c->message;
	size_t		 len = c->message_len, i, o = 0;
	int		 bol = 1;

	s->bdat = 0;
	if (!(c->flags & SMTP_F_BDAT) || (c->flags & SMTP_F_STOP))
		return STAGE_DATA;
	if (!reply_ehlo_has(s->rec->ehlo, "CHUNKING")) {
		record_add_finding(s->rec, FIND_WARN, "bdat-not-offered",
		    STAGE_DATA, "--bdat was asked for, but the server does not "
		    "offer CHUNKING (RFC 3030): the message went by DATA");
		smtp_wire(s, WIRE_WARN, "the server does not offer CHUNKING; "
		    "sending the message with DATA");
		return STAGE_DATA;
	}
	/* the wire form without its final dot and the dot-stuffing */
	if (len >= 3 && memcmp(m + len - 3, ".\r\n", 3) == 0)
		len -= 3;
	free(s->bdat_buf);
	s->bdat_buf = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		if (!(bol && m[i] == '.'))
			s->bdat_buf[o++] = m[i];
		bol = m[i] == '\n';
	}
	s->bdat_len = o;
	s->bdat_off = 0;
	s->bdat_chunk = c->chunk > 0 ? c->chunk : SMTP_BDAT_CHUNK;
	s->bdat = 1;
	return s->bdat_len <= s->bdat_chunk ? STAGE_EOD : STAGE_DATA;
}

/* smtp_group_ok - whether c may go in a pipelined group, at i of n */
static int
smtp_group_ok(const struct smtp_cmd *c, size_t i, size_t n)
{
	switch (c->stage) {
	case STAGE_MAIL:
	case STAGE_RCPT:
	case STAGE_RSET:
	case STAGE_NOOP:
		return 1;
	case STAGE_RAW:
		return !(c->flags & SMTP_F_NOREPLY);
	case STAGE_DATA:
		return i + 1 == n && !(c->flags & SMTP_F_STOP);
	default:
		return 0;
	}
}

int
smtp_do_group(struct smtp_session *s, const struct smtp_cmd *c, size_t n)
{
	const char	*why;
	size_t		 i;
	int64_t		 t;

	if (s->finished || s->busy || n == 0 || !s->started ||
	    !io_is_open(s->io))
		return -1;
	for (i = 0; i < n; i++) {
		if (!smtp_group_ok(&c[i], i, n))
			return -1;
		if (smtp_check_cmd(&c[i], &why) == -1) {
			log_warnx("%s: argument %s; not sent",
			    stage_name(c[i].stage), why);
			return -1;
		}
	}
	s->busy = 1;
	s->primary = -1;
	free(s->grp_cmd);
	free(s->grp_step);
	s->grp_cmd = xreallocarray(NULL, n, sizeof(*s->grp_cmd));
	memcpy(s->grp_cmd, c, n * sizeof(*c));
	s->grp_step = xreallocarray(NULL, n, sizeof(*s->grp_step));
	for (i = 0; i < n; i++)
		s->grp_step[i] = -1;	/* not sent (yet) */
	s->grp_n = n;
	s->grp_i = 0;
	s->grp_mail_failed = 0;
	smtp_wire(s, WIRE_INFO, "pipelining %zu commands (RFC 2920)", n);
	t = smtp_now(s);
	for (i = 0; i < n && !s->finished; i++) {
		s->cmd = c[i];
		if (c[i].stage == STAGE_DATA)
			s->smuggling = (c[i].flags & SMTP_F_SMUGGLING) != 0;
		smtp_enter(s, c[i].stage == STAGE_DATA ?
		    smtp_data_stage(s, &c[i]) : c[i].stage);
		s->grp_step[i] = s->cur;
		if (s->cur >= 0)	/* one clock for the whole group */
			s->rec->steps[s->cur].t_sent = t;
	}
	if (s->finished)
		return 0;
	/* the replies come in order: wait for the first command's */
	s->grp_i = 0;
	s->cmd = c[0];
	s->cur = s->grp_step[0];
	s->stage = s->rec->steps[s->cur].stage;
	io_set_deadline(s->io, smtp_timeout(s, s->stage));
	return 0;
}

/*
 * smtp_group_next - the reply of a group's command is in: wait for the
 * next one's (1), or 0 when it was the last (the group is over)
 */
int
smtp_group_next(struct smtp_session *s)
{
	if (s->grp_n == 0)
		return 0;
	if (s->grp_i + 1 >= s->grp_n) {
		s->grp_n = 0;
		s->after_group = 1;
		return 0;
	}
	s->grp_i++;
	s->cmd = s->grp_cmd[s->grp_i];
	s->cur = s->grp_step[s->grp_i];
	s->stage = s->rec->steps[s->cur].stage;
	if (s->cur >= 0)
		io_set_deadline(s->io, smtp_timeout(s, s->stage));
	return 1;
}

/*
 * smtp_group_abandon - the session ended in the middle of a group: the
 * commands whose reply never came are closed, never left looking
 * accepted
 */
void
smtp_group_abandon(struct smtp_session *s)
{
	struct step	*st;
	size_t		 i;

	for (i = s->grp_i + 1; i < s->grp_n; i++) {
		if (s->grp_step[i] < 0)
			continue;
		st = &s->rec->steps[s->grp_step[i]];
		if (st->t_done >= 0)
			continue;
		st->outcome = OUT_CLOSED;
		st->detail = xstrdup("no reply: the session ended before it");
		st->t_done = smtp_now(s);
		if (s->cb.step != NULL)
			s->cb.step(s->arg, s->rec, st);
	}
	s->grp_n = 0;
}

/* smtp_acc_clear - forget the accepted recipients (a new transaction) */
static void
smtp_acc_clear(struct smtp_session *s)
{
	size_t	 i;

	for (i = 0; i < s->nacc; i++)
		free(s->acc[i]);
	free(s->acc);
	s->acc = NULL;
	s->nacc = 0;
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

	if (smtp_group_next(s))
		return;		/* the group waits for its next reply */
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
	char		 buf[512], *cmd;
	int		 n;

	/* a command fits on the stack; a longer one is allocated */
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(buf)) {
		smtp_send_masked(s, buf, NULL);
		return;
	}
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
	size_t		 pending, n;

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
	s->after_group = 0;	/* no reply too many came before this */
	esc = util_escape(shown != NULL ? shown : line, strlen(shown != NULL ?
	    shown : line));
	smtp_wire(s, WIRE_SEND, "%s", esc);
	n = strlen(line);
	wire = xmalloc(n + 2);
	memcpy(wire, line, n);
	memcpy(wire + n, "\r\n", 2);
	io_write(s->io, wire, n + 2);
	if (shown != NULL)
		explicit_bzero(wire, n + 2);
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
	char	*line;

	/* The server speaks first, unless asked to test that it insists */
	if (!s->p->pregreet || s->p->implicit_tls)
		return;
	s->helo = s->p->helo != NULL ? xstrdup(s->p->helo) :
	    smtp_default_helo(s);
	smtp_wire(s, WIRE_INFO, "talking before the greeting (--pregreet)");
	line = xasprintf("EHLO %s\r\n", s->helo);
	smtp_wire(s, WIRE_SEND, "EHLO %s", s->helo);
	io_write(s->io, line, strlen(line));
	free(line);
	s->pregreet = 1;
	s->rec->pregreet = 1;
}

/* smtp_default_helo - an address literal for our source (RFC 5321 4.1.4) */
static char *
smtp_default_helo(struct smtp_session *s)
{
	char	*a, *c, *h;

	if (s->p->pipe != NULL)
		return xstrdup("localhost");	/* no address to name */
	/* our address as the connect reported it (io_local() then) */
	a = xstrdup(s->rec->source != NULL ? s->rec->source : "");
	if (strncmp(a, "unix:", 5) == 0 || a[0] == '?') {
		/*
		 * a unix socket has no address of ours to name: the host
		 * name when it is a domain, else "localhost"
		 */
		char	 hn[256];

		free(a);
		memset(hn, 0, sizeof(hn));
		if (gethostname(hn, sizeof(hn) - 1) == 0 && valid_fqdn(hn))
			return xstrdup(hn);
		return xstrdup("localhost");
	}
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
	if (s->pregreet == 2) {
		/* sent before the greeting: only its reply is awaited */
		struct step *st = smtp_step(s);

		if (st != NULL)
			st->command = xasprintf("EHLO %s", s->helo);
		return;
	}
	smtp_send(s, "%s %s", s->p->lmtp ? "LHLO" : s->use_helo ? "HELO" :
	    "EHLO", s->helo);
}

static void
enter_mail(struct smtp_session *s)
{
	const struct smtp_cmd *c = &s->cmd;

	smtp_acc_clear(s);
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
	size_t	 n;

	if (!s->bdat) {
		smtp_send(s, "DATA");
		return;
	}
	/* a chunk that is not the last (the last is the eod step) */
	n = s->bdat_chunk;
	smtp_send(s, "BDAT %zu", n);
	if (s->finished)
		return;
	smtp_wire(s, WIRE_INFO, "(%zu bytes of the message, from byte %zu)",
	    n, s->bdat_off);
	io_write(s->io, s->bdat_buf + s->bdat_off, n);
	s->bdat_off += n;
}

/* smtp_show_body - the message's first lines in the transcript */
static void
smtp_show_body(struct smtp_session *s, const char *m, size_t len)
{
	const char	*end = m + len, *nl;
	size_t		 shown = 0, lines = 0;

	if (s->cb.wire == NULL)
		return;		/* nobody reads the transcript */
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
}

static void
enter_eod(struct smtp_session *s)
{
	struct step	*st;
	size_t		 n;

	if (s->lmtp_left > 0) {
		/* LMTP: the next recipient's reply, nothing to send */
		if ((st = smtp_step(s)) != NULL && s->nacc > 0)
			st->rcpt = xstrdup(s->acc[s->nacc -
			    (size_t)s->lmtp_left]);
		return;
	}
	if (s->bdat) {
		n = s->bdat_len - s->bdat_off;
		smtp_send(s, "BDAT %zu LAST", n);
		if (s->finished)
			return;
		smtp_show_body(s, s->bdat_buf + s->bdat_off, n);
		io_write(s->io, s->bdat_buf + s->bdat_off, n);
		s->bdat_off += n;
	} else {
		smtp_show_body(s, s->cmd.message, s->cmd.message_len);
		io_write(s->io, s->cmd.message, s->cmd.message_len);
		if ((st = smtp_step(s)) != NULL) {
			st->command = xstrdup(".");
			st->t_sent = smtp_now(s);
		}
	}
	s->in_data = 0;
	if (s->p->lmtp) {
		/* RFC 2033 4.2: one reply per accepted recipient */
		s->lmtp_left = s->nacc > 0 ? (int)s->nacc : 1;
		if ((st = smtp_step(s)) != NULL && s->nacc > 0)
			st->rcpt = xstrdup(s->acc[0]);
	}
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
	if (s->pregreet == 1 && o == OUT_OK && !s->finished) {
		/* the early EHLO's reply is next: part of this command */
		s->pregreet = 2;
		smtp_enter(s, STAGE_EHLO);
		return;
	}
	smtp_ready(s);
}

static void
reply_ehlo(struct smtp_session *s, struct reply *r)
{
	enum step_outcome o = smtp_judge(s, r);

	s->pregreet = 0;
	if (o != OUT_OK && !s->use_helo && !s->p->lmtp &&
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

	if (o == OUT_OK) {
		s->rec->rcpt_ok++;
		s->acc = xreallocarray(s->acc, s->nacc + 1, sizeof(*s->acc));
		s->acc[s->nacc++] = xstrdup(s->cmd.arg != NULL ? s->cmd.arg :
		    "");
	} else if (o != OUT_SKIPPED)
		s->rec->rcpt_rejected++;
	smtp_close_step(s, o, NULL);
	smtp_ready(s);
}

static void
reply_data(struct smtp_session *s, struct reply *r)
{
	enum step_outcome o = smtp_judge(s, r);

	char		*esc;
	size_t		 n;

	smtp_close_step(s, o, NULL);
	if (o != OUT_OK) {
		smtp_ready(s);
		return;
	}
	if (s->bdat) {
		/* a chunk taken: the next, the last as the eod step */
		smtp_enter(s, s->bdat_len - s->bdat_off > s->bdat_chunk ?
		    STAGE_DATA : STAGE_EOD);
		return;
	}
	if (s->grp_n > 0) {
		/* more replies than the group's commands: not one byte of
		   the message goes after a reply that may be shifted */
		esc = io_pending(s->io, &n);
		if (n > 0) {
			s->after_group = 1;
			smtp_desync(s, "%zu bytes after the reply to the "
			    "group's DATA: \"%s\"", n, esc);
			free(esc);
			return;
		}
		free(esc);
		if (s->nacc == 0 && s->cmd.message_len > 0) {
			/* RFC 2920 3.1: no recipient, yet 354: end at once */
			smtp_wire(s, WIRE_WARN, "354 to DATA although no "
			    "recipient was accepted; sending only the final "
			    "dot");
			s->cmd.message = ".\r\n";
			s->cmd.message_len = 3;
		}
	}
	s->in_data = 1;
	if (s->cmd.flags & SMTP_F_STOP) {
		/* asked to stop after 354: the caller ends the session */
		smtp_ready(s);
		return;
	}
	smtp_enter(s, STAGE_EOD);
}

/*
 * reply_eod - the reply after the message; under LMTP one per accepted
 * recipient, each its own eod step, the command's primary step the
 * first refused one (else the last)
 */
static void
reply_eod(struct smtp_session *s, struct reply *r)
{
	enum step_outcome o = smtp_judge(s, r);
	ssize_t		 worst = -1;
	size_t		 i;

	if (s->p->lmtp && s->nacc > 0 && o != OUT_OK && o != OUT_SKIPPED) {
		/* LMTP: a recipient refused after the message is refused */
		s->rec->rcpt_ok--;
		s->rec->rcpt_rejected++;
	}
	smtp_close_step(s, o, NULL);
	if (s->p->lmtp && --s->lmtp_left > 0) {
		smtp_enter(s, STAGE_EOD);
		return;
	}
	s->lmtp_left = 0;
	if (s->p->lmtp) {
		for (i = s->rec->nsteps; i > 0 && s->rec->steps[i - 1].stage ==
		    STAGE_EOD; i--)
			if (s->rec->steps[i - 1].outcome != OUT_OK)
				worst = (ssize_t)i - 1;
		if (worst >= 0)
			s->primary = worst;
	}
	smtp_ready(s);
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

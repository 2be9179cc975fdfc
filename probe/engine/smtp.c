/*
 * smtp.c - the SMTP client engine (see include/smtp.h).
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
#include "tls.h"
#include "util.h"


struct smtp_session {
	const struct smtp_params *p;
	struct smtp_callbacks	 cb;
	void			*arg;
	struct io		*io;
	struct record		*rec;
	enum smtp_stage		 stage;
	ssize_t			 cur;		/* open step, -1 none */
	ssize_t			 primary;	/* step answering the command */
	struct reply		*reply;		/* being read */
	struct smtp_cmd		 cmd;		/* under way (strings borrowed) */
	int			 busy;		/* a command is under way */
	int			 txn;		/* transaction number, from 1 */
	int			 auth_round;	/* 334 challenges answered */
	char			*auth_resp;	/* answer to send (secret) */
	int			 use_helo;	/* EHLO refused: HELO */
	int			 ehlo_ok;	/* an EHLO was accepted */
	int			 in_data;	/* 354 seen, dot not sent */
	int			 started;	/* greeting seen */
	int			 finished;
	int			 bare_lf_noted;
	int			 smuggling;	/* the DATA command declared that
						   a second reply after the dot
						   is its finding (eod-early) */
	int			 binary_noted;
	char			*helo;		/* name last sent */
};

/* what each stage does; its name and default timeout are in stage.c */
struct stage {
	const char	*verb;
	int		 expect;	/* reply class meaning success, 0 any
					   positive (2 or 3) */
	void		(*enter)(struct smtp_session *);
	void		(*reply)(struct smtp_session *, struct reply *);
};

static void	enter_connect(struct smtp_session *);
static void	enter_banner(struct smtp_session *);
static void	enter_ehlo(struct smtp_session *);
static void	enter_starttls(struct smtp_session *);
static void	enter_auth(struct smtp_session *);
static void	enter_mail(struct smtp_session *);
static void	enter_rcpt(struct smtp_session *);
static void	enter_data(struct smtp_session *);
static void	enter_eod(struct smtp_session *);
static void	enter_simple(struct smtp_session *);
static void	enter_raw(struct smtp_session *);
static void	enter_sleep(struct smtp_session *);
static void	reply_banner(struct smtp_session *, struct reply *);
static void	reply_ehlo(struct smtp_session *, struct reply *);
static void	reply_starttls(struct smtp_session *, struct reply *);
static void	reply_auth(struct smtp_session *, struct reply *);
static void	reply_rcpt(struct smtp_session *, struct reply *);
static void	reply_data(struct smtp_session *, struct reply *);
static void	reply_simple(struct smtp_session *, struct reply *);
static void	reply_quit(struct smtp_session *, struct reply *);

static const struct stage stages[] = {
	[STAGE_RESOLVE] = { NULL, 0, NULL, NULL },
	[STAGE_CONNECT] = { NULL, 0, enter_connect, NULL },
	[STAGE_BANNER] = { NULL, 2, enter_banner, reply_banner },
	[STAGE_EHLO] = { "EHLO", 2, enter_ehlo, reply_ehlo },
	[STAGE_STARTTLS] = { "STARTTLS", 2, enter_starttls, reply_starttls },
	[STAGE_AUTH] = { "AUTH", 2, enter_auth, reply_auth },
	[STAGE_MAIL] = { "MAIL FROM", 2, enter_mail, reply_simple },
	[STAGE_RCPT] = { "RCPT TO", 2, enter_rcpt, reply_rcpt },
	[STAGE_DATA] = { "DATA", 3, enter_data, reply_data },
	[STAGE_EOD] = { ".", 2, enter_eod, reply_simple },
	[STAGE_RSET] = { "RSET", 2, enter_simple, reply_simple },
	[STAGE_NOOP] = { "NOOP", 2, enter_simple, reply_simple },
	[STAGE_VRFY] = { "VRFY", 2, enter_simple, reply_simple },
	[STAGE_RAW] = { "", 0, enter_raw, reply_simple },
	[STAGE_SLEEP] = { NULL, 0, enter_sleep, NULL },
	[STAGE_QUIT] = { "QUIT", 2, enter_simple, reply_quit },
	[STAGE_DONE] = { NULL, 0, NULL, NULL },
};
_Static_assert(nitems(stages) == STAGE__COUNT, "stage table incomplete");

static const char *const mech_names[AUTH__COUNT] = {
	[AUTH_PLAIN] = "PLAIN",
	[AUTH_LOGIN] = "LOGIN",
	[AUTH_CRAM_MD5] = "CRAM-MD5",
	[AUTH_XOAUTH2] = "XOAUTH2",
	[AUTH_OAUTHBEARER] = "OAUTHBEARER",
};

static void	smtp_enter(struct smtp_session *, enum smtp_stage);
static void	smtp_finish(struct smtp_session *);
static void	smtp_ready(struct smtp_session *);
static void	smtp_fail(struct smtp_session *, enum step_outcome,
		    enum fail_kind, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
static void	smtp_desync(struct smtp_session *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static enum fail_kind smtp_io_kind(struct smtp_session *);
static int	smtp_quit_partial(struct smtp_session *);
static void	smtp_send(struct smtp_session *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	smtp_send_masked(struct smtp_session *, const char *,
		    const char *);
static void	smtp_wire(struct smtp_session *, enum smtp_wire,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static void	smtp_io(struct io *, enum io_event, void *);
static void	smtp_line(struct smtp_session *);
static void	smtp_stray(struct smtp_session *, const char *, size_t);
static int	smtp_after_probe(struct smtp_session *);
static void	smtp_eod_early(struct smtp_session *, const char *);
static void	smtp_wire_raw(struct smtp_session *, const char *, size_t);
static void	smtp_tls_ready(struct smtp_session *);
static void	smtp_tls_pem(struct smtp_session *, const struct tls_info *);
static int	smtp_dane(struct smtp_session *);
static void	smtp_close_step(struct smtp_session *, enum step_outcome,
		    const char *);
static struct step *smtp_skip_step(struct smtp_session *, enum smtp_stage,
		    const char *);
static struct step *smtp_step(struct smtp_session *);
static int64_t	smtp_now(struct smtp_session *);
static long	smtp_timeout(struct smtp_session *, enum smtp_stage);
static enum step_outcome smtp_judge(struct smtp_session *,
		    const struct reply *);
static int	smtp_check_cmd(const struct smtp_cmd *, const char **);

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

static long
smtp_timeout(struct smtp_session *s, enum smtp_stage st)
{
	return s->p->timeout_ms[st] > 0 ? s->p->timeout_ms[st] :
	    stage_timeout(st);
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

int
smtp_do(struct smtp_session *s, const struct smtp_cmd *c)
{
	const char	*why;
	struct step	*st;

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
		st = record_add_step(s->rec, STAGE_RESOLVE, 0);
		st->outcome = OUT_OK;
		st->t_done = 0;
		if (s->p->addr == NULL) {
			/* the caller could not resolve the server */
			size_t	 i;

			for (i = 0; i < s->rec->nresolution; i++)
				smtp_wire(s, WIRE_INFO, "dns: %s",
				    s->rec->resolution[i]);
			s->cur = (ssize_t)(st - s->rec->steps);
			s->stage = STAGE_RESOLVE;
			smtp_fail(s, OUT_ERROR, FAIL_RESOLVE, "%s",
			    s->p->resolve_note != NULL ? s->p->resolve_note :
			    "cannot resolve the server");
			return 0;
		}
		{
			size_t	 i;

			for (i = 0; i < s->rec->nresolution; i++)
				smtp_wire(s, WIRE_INFO, "dns: %s",
				    s->rec->resolution[i]);
		}
		if (s->p->resolve_note != NULL) {
			st->detail = xstrdup(s->p->resolve_note);
			smtp_wire(s, WIRE_INFO, "%s", s->p->resolve_note);
		}
		smtp_enter(s, STAGE_CONNECT);
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
		if (io_tls_active(s->io)) {
			smtp_skip_step(s, STAGE_STARTTLS, "TLS is already "
			    "active");
			smtp_ready(s);
			return 0;
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
				return 0;
			}
			smtp_skip_step(s, STAGE_STARTTLS, "server does not "
			    "offer STARTTLS");
			record_set_error(s->rec, STAGE_STARTTLS, FAIL_TLS,
			    "server does "
			    "not offer STARTTLS and --starttls requires it");
			smtp_wire(s, WIRE_ERROR, "%s", s->rec->error);
			smtp_ready(s);
			return 0;
		}
		break;
	case STAGE_AUTH:
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
			return 0;
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
		break;
	default:
		break;
	}
	smtp_enter(s, c->stage);
	return 0;
}

/*
 * smtp_enter - the only way to change stage: opens a step, arms the
 * deadline and sends.
 */
static void
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
	stages[next].enter(s);
	/*
	 * The deadline starts once the command is handed over: building
	 * and copying a message is our work, not the server's delay.
	 */
	if (open >= 0 && !s->finished && s->cur == open)
		io_set_deadline(s->io, smtp_timeout(s, next));
}

/* smtp_ready - the command is over; the caller may send the next */
static void
smtp_ready(struct smtp_session *s)
{
	const struct step *p;

	s->busy = 0;
	p = s->primary >= 0 ? &s->rec->steps[s->primary] : NULL;
	if (s->cb.ready != NULL)
		s->cb.ready(s->arg, s->rec, p);
}

/* smtp_send - write one command line and record it in the open step */
static void
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
static void
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
		    stages[s->stage].verb != NULL &&
		    stages[s->stage].verb[0] != '\0' ?
		    stages[s->stage].verb : "next", esc);
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

/* smtp_skip_step - record a step that was not attempted */
static struct step *
smtp_skip_step(struct smtp_session *s, enum smtp_stage stage,
    const char *detail)
{
	struct step	*st;

	st = record_add_step(s->rec, stage, smtp_now(s));
	st->outcome = OUT_SKIPPED;
	st->t_done = st->t_sent;
	st->tls = io_tls_active(s->io);
	st->detail = xstrdup(detail);
	s->primary = (ssize_t)(st - s->rec->steps);
	if (s->cb.step != NULL)
		s->cb.step(s->arg, s->rec, st);
	return st;
}

/*
 * smtp_fail - the session cannot go on: record why on the open step
 * (and as the session's error), then drop the connection.
 */
static void
smtp_fail(struct smtp_session *s, enum step_outcome o, enum fail_kind k,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	if (s->finished)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	if (s->stage != STAGE_QUIT || k == FAIL_DESYNC)
		record_set_error(s->rec, s->stage, k, msg);
	smtp_wire(s, s->stage == STAGE_QUIT && k != FAIL_DESYNC ? WIRE_INFO :
	    WIRE_ERROR, "%s", msg);
	smtp_close_step(s, o, msg);
	free(msg);
	smtp_finish(s);
}

/*
 * smtp_desync - the server sent a reply no command asked for. One
 * command is outstanding at a time, so replies and commands pair up
 * one to one; a reply too many means some reply may have been read as
 * the answer to the wrong command, and none of them can be trusted:
 * the session fails (FAIL_DESYNC), naming the stray reply and the last
 * step it follows, and is never reported as accepted.
 */
static void
smtp_desync(struct smtp_session *s, const char *fmt, ...)
{
	va_list		 ap;
	char		*msg;
	const char	*after = "the greeting";
	ssize_t		 i;

	if (s->finished)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	for (i = (ssize_t)s->rec->nsteps - 1; i >= 0; i--)
		if (s->rec->steps[i].reply != NULL && i != s->cur) {
			after = stage_name(s->rec->steps[i].stage);
			break;
		}
	record_add_finding(s->rec, FIND_ERROR, "desync", s->stage, "%s, "
	    "after the %s reply; replies may have shifted, so no reply of "
	    "this session is taken as an acceptance", msg, after);
	smtp_fail(s, OUT_ERROR, FAIL_DESYNC, "desync: %s, after the %s reply",
	    msg, after);
	free(msg);
}

/*
 * smtp_quit_partial - QUIT ended without a whole reply: part of a 221
 * is kept in the step; part of anything else answers an earlier
 * command (a desync, -1)
 */
static int
smtp_quit_partial(struct smtp_session *s)
{
	struct step	*st = smtp_step(s);

	if (s->reply == NULL)
		return 0;
	if (s->reply->code != 221) {
		smtp_desync(s, "the reply to QUIT starts \"%s\", not 221: it "
		    "answers an earlier command", s->reply->lines[0]);
		return -1;
	}
	if (st != NULL && st->reply == NULL) {
		st->reply = s->reply;
		s->reply = NULL;
	}
	return 0;
}

/* smtp_io_kind - the failure kind of the IO_ERROR being handled (and
   whether a connection was refused, record.h) */
static enum fail_kind
smtp_io_kind(struct smtp_session *s)
{
	switch (io_error_kind(s->io)) {
	case IO_ERR_TLS:
		return FAIL_TLS;
	case IO_ERR_LINE:
		return FAIL_PROTOCOL;
	case IO_ERR_REFUSED:
		s->rec->connect_refused = 1;
		return FAIL_CONNECT;
	default:
		return s->stage == STAGE_CONNECT ? FAIL_CONNECT : FAIL_CLOSED;
	}
}

void
smtp_quit(struct smtp_session *s)
{
	if (s->finished)
		return;
	if (!s->started || s->in_data || !io_is_open(s->io) ||
	    s->stage == STAGE_QUIT || s->busy) {
		smtp_finish(s);
		return;
	}
	s->cmd.stage = STAGE_QUIT;
	s->busy = 1;
	s->primary = -1;
	smtp_enter(s, STAGE_QUIT);
}

void
smtp_drop(struct smtp_session *s)
{
	if (s->finished)
		return;
	if (io_is_open(s->io))
		smtp_wire(s, WIRE_INFO, "closing the connection without "
		    "QUIT");
	smtp_finish(s);
}

/* smtp_finish - drop the connection, settle the result, report done */
static void
smtp_finish(struct smtp_session *s)
{
	if (s->finished)
		return;
	if (s->rec->error == NULL && io_has_line(s->io)) {
		/* a whole reply left unread: nothing asked for it */
		char	*esc;
		size_t	 n;

		esc = io_pending(s->io, &n);
		smtp_desync(s, "%zu bytes unread at the end of the session: "
		    "\"%s\"", n, esc);
		free(esc);
		return;
	}
	s->finished = 1;
	s->busy = 0;
	if (s->cur >= 0)
		smtp_close_step(s, OUT_CLOSED, "session ended");
	io_close(s->io);
	s->stage = STAGE_DONE;
	s->rec->t_end = smtp_now(s);
	record_settle(s->rec);
	if (s->cb.done != NULL)
		s->cb.done(s->arg, s->rec);
}

static enum step_outcome
smtp_judge(struct smtp_session *s, const struct reply *r)
{
	int	 c = reply_class(r);
	int	 want = stages[s->stage].expect;

	if (c == want || (want == 0 && (c == 2 || c == 3)))
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
		free(s->rec->address);
		s->rec->address = xstrdup(io_peer(io));
		s->rec->source = xstrdup(io_local(io));
		smtp_wire(s, WIRE_INFO, "connected to %s from %s",
		    io_peer(io), io_local(io));
		if (s->p->implicit_tls) {
			SSL *ssl = tls_ssl_new(s->p->tls_ctx, s->p->sni,
			    s->p->verify_name, s->p->dane);

			if (io_starttls(io, ssl) == -1)
				smtp_fail(s, OUT_ERROR, FAIL_TLS, "%s",
				    io_error(io));
			return;
		}
		smtp_close_step(s, OUT_OK, NULL);
		if (s->cmd.flags & SMTP_F_STOP) {
			smtp_ready(s);
			break;
		}
		smtp_enter(s, STAGE_BANNER);
		break;
	case IO_TLSREADY:
		smtp_tls_ready(s);
		break;
	case IO_LINE:
		smtp_line(s);
		break;
	case IO_TIMEOUT:
		if (s->stage == STAGE_SLEEP) {
			smtp_ready(s);
			break;
		}
		if (s->stage == STAGE_QUIT) {
			if (smtp_quit_partial(s) == -1)
				break;
			smtp_close_step(s, OUT_TIMEOUT, "no reply to QUIT");
			smtp_finish(s);
			break;
		}
		smtp_fail(s, OUT_TIMEOUT, FAIL_TIMEOUT,
		    "timed out after %g s in %s%s",
		    (double)smtp_timeout(s, s->stage) / 1000.0,
		    stage_name(s->stage),
		    s->reply != NULL && s->reply->nlines > 0 ?
		    " (reply incomplete)" : "");
		break;
	case IO_EOF:
		if (s->stage == STAGE_QUIT && smtp_quit_partial(s) == -1)
			break;
		if (s->stage == STAGE_QUIT || (st == NULL && !s->busy)) {
			if (s->stage != STAGE_QUIT)
				smtp_wire(s, WIRE_INFO, "connection closed "
				    "by server");
			smtp_close_step(s, s->reply == NULL && st != NULL &&
			    st->reply == NULL ? OUT_CLOSED : OUT_OK,
			    "connection closed by server");
			smtp_finish(s);
			break;
		}
		rest = io_pending(io, &n);
		if (n > 0)
			smtp_fail(s, OUT_CLOSED, FAIL_CLOSED, "%s: \"%s\"",
			    io_error(io), rest);
		else
			smtp_fail(s, OUT_CLOSED, FAIL_CLOSED,
			    "connection closed by server "
			    "during %s%s", stage_name(s->stage),
			    s->reply != NULL ? " (reply incomplete)" : "");
		free(rest);
		break;
	case IO_ERROR:
		if (s->stage == STAGE_QUIT) {
			if (smtp_quit_partial(s) == -1)
				break;
			smtp_close_step(s, OUT_CLOSED, io_error(io));
			smtp_finish(s);
			break;
		}
		smtp_fail(s, OUT_ERROR, smtp_io_kind(s), "%s", io_error(io));
		break;
	}
}

/*
 * smtp_wire_raw - show a received line that is not (or not yet) part of
 * a reply; a long one is cut, its length said
 */
static void
smtp_wire_raw(struct smtp_session *s, const char *line, size_t len)
{
	char	*esc = util_escape(line, len > 256 ? 256 : len);

	if (len > 256)
		smtp_wire(s, WIRE_RECV, "%s... (%zu bytes)", esc, len);
	else
		smtp_wire(s, WIRE_RECV, "%s", esc);
	free(esc);
}

/*
 * smtp_after_probe - the last reply was the one after the dot of a
 * message that declared itself a smuggling probe (SMTP_F_SMUGGLING)
 */
static int
smtp_after_probe(struct smtp_session *s)
{
	ssize_t	 i;

	if (!s->smuggling)
		return 0;
	for (i = (ssize_t)s->rec->nsteps - 1; i >= 0; i--)
		if (s->rec->steps[i].reply != NULL && i != s->cur)
			return s->rec->steps[i].stage == STAGE_EOD;
	return 0;
}

/*
 * smtp_eod_early - the smuggling probe's finding. One reply after the
 * final dot is all there is: a second means the server ended the
 * message earlier, at a line end the client did not mean as the end,
 * and read the rest as commands.
 */
static void
smtp_eod_early(struct smtp_session *s, const char *esc)
{
	record_add_finding(s->rec, FIND_ERROR, "eod-early", STAGE_EOD, "the "
	    "server replied again after the end of data: it ended the "
	    "message before the final <CR><LF>.<CR><LF> and read the rest "
	    "as commands (SMTP smuggling): \"%s\"", esc);
	smtp_wire(s, WIRE_WARN, "the server ended the message early and "
	    "read the rest as commands (SMTP smuggling)");
	/* recorded even when found as QUIT is due */
	record_set_error(s->rec, STAGE_EOD, FAIL_PROTOCOL, "a second reply "
	    "after the end of data: the server ended the message early (SMTP "
	    "smuggling, see finding eod-early)");
	smtp_fail(s, OUT_ERROR, FAIL_PROTOCOL, "%s", s->rec->error);
}

/*
 * smtp_stray - a line while no reply is awaited. After a DATA command
 * that declared it (the smuggling check) a second reply after the dot
 * is that check's finding; anything else is a desync.
 */
static void
smtp_stray(struct smtp_session *s, const char *line, size_t len)
{
	char	*esc = util_escape(line, len > 256 ? 256 : len);

	smtp_wire_raw(s, line, len);
	if (s->stage == STAGE_STARTTLS) {
		record_add_finding(s->rec, FIND_ERROR, "starttls-injection",
		    STAGE_STARTTLS, "plaintext after the 220 reply to "
		    "STARTTLS (response injection): \"%s\"", esc);
		smtp_fail(s, OUT_ERROR, FAIL_TLS, "STARTTLS response "
		    "injection: plaintext after the 220 reply: \"%s\"", esc);
	} else if (smtp_after_probe(s))
		smtp_eod_early(s, esc);
	else
		smtp_desync(s, "a reply no command asked for: \"%s\"", esc);
	free(esc);
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
	    (s->stage == STAGE_STARTTLS && st->reply != NULL)) {
		smtp_stray(s, line, len);
		return;
	}
	if (s->reply == NULL) {
		s->reply = reply_new();
		st->t_first = smtp_now(s);
	}
	r = s->reply;
	rs = reply_feed(r, line, len, bare_lf, &err);
	if (r->nlines > 0 && rs != REPLY_ERROR)
		smtp_wire(s, WIRE_RECV, "%s", r->lines[r->nlines - 1]);
	else
		smtp_wire_raw(s, line, len);
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
	if (rs == REPLY_DONE && r->first_code != 0)
		record_add_finding(s->rec, FIND_WARN, "reply-code-changed",
		    s->stage, "the reply's last line has code %d, its first "
		    "%d (RFC 5321 4.2.1 wants one code); read as a %d reply",
		    r->code, r->first_code, r->code);
	s->reply = NULL;
	st->reply = r;
	st->t_done = smtp_now(s);
	if (rs == REPLY_ERROR) {
		record_add_finding(s->rec, FIND_ERROR, "malformed-reply",
		    s->stage, "%s", err);
		smtp_fail(s, OUT_ERROR, FAIL_PROTOCOL, "%s", err);
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
	char		 a[INET6_ADDRSTRLEN + 8];

	/* the address tried, even if the connection fails */
	io_addr_text(p->addr, a, sizeof(a));
	free(s->rec->address);
	s->rec->address = xstrdup(a);

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
	char	*a = xstrdup(io_local(s->io)), *c, *h;

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
enter_starttls(struct smtp_session *s)
{
	smtp_send(s, "STARTTLS");
}

static void
enter_auth(struct smtp_session *s)
{
	const struct smtp_cmd *c = &s->cmd;
	const char	*mech = mech_names[c->mech];
	char		*ir, *line, *shown;

	if (s->auth_resp != NULL) {
		/* the answer to a challenge (see reply_auth) */
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
		smtp_send(s, "%s", stages[s->stage].verb);
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
	smtp_ready(s);
}

static void
reply_starttls(struct smtp_session *s, struct reply *r)
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

static void
smtp_tls_ready(struct smtp_session *s)
{
	const struct smtp_params *p = s->p;
	struct tls_info	*t = &s->rec->tls;
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

			record_set_error(s->rec, s->stage, FAIL_TLS, e);
			smtp_wire(s, WIRE_ERROR, "%s", e);
			smtp_close_step(s, OUT_ERROR, e);
			free(e);
			s->busy = 0;
			smtp_quit(s);
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
	struct tls_info	*t = &s->rec->tls;
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
	record_set_error(s->rec, s->stage, FAIL_TLS, e);
	smtp_wire(s, WIRE_ERROR, "%s", e);
	smtp_close_step(s, OUT_ERROR, e);
	free(e);
	s->busy = 0;
	smtp_quit(s);
	return -1;
}

static void
reply_auth(struct smtp_session *s, struct reply *r)
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

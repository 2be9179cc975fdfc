/*
 * smtp_reply.c - the SMTP engine's input side and its endings (see
 * include/smtp.h; shared state in smtp_int.h): io.c's events, reply
 * lines gathered into replies and handed to the stage's handler, lines
 * no command asked for (desync, the smuggling probe's finding),
 * failures with their kind, QUIT and the one done callback.
 *
 * Desync is a failure, never an acceptance: a reply before a command,
 * a second reply after the dot or a QUIT answered other than 221 ends
 * the session with FAIL_DESYNC. */
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

static enum fail_kind smtp_io_kind(struct smtp_session *);
static int	smtp_quit_partial(struct smtp_session *);
static void	smtp_line(struct smtp_session *);
static void	smtp_stray(struct smtp_session *, const char *, size_t);
static void	smtp_wire_raw(struct smtp_session *, const char *, size_t);
static enum step_outcome smtp_judge_group(struct smtp_session *, int);
static void	smtp_pipe_end(struct smtp_session *);
static int	smtp_pipe_preamble(struct smtp_session *, const char *,
		    size_t);

/*
 * smtp_close_step - end the open step with an outcome. Timing is kept
 * when the step already has its reply.
 */
void
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
		    st->reply->code, smtp_stages[st->stage].expect);
	if (detail != NULL && st->detail == NULL)
		st->detail = xstrdup(detail);
	if (st->t_done < 0)
		st->t_done = smtp_now(s);
	s->cur = -1;
	if (s->cb.step != NULL)
		s->cb.step(s->arg, s->rec, st);
}

/* smtp_skip_step - record a step that was not attempted */
struct step *
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
void
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
void
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
	if (s->after_group)
		record_add_finding(s->rec, FIND_ERROR, "pipelining-extra-reply",
		    s->stage, "the server sent more replies than the pipelined "
		    "group had commands (RFC 2920 wants exactly one per "
		    "command): %s", msg);
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
/*
 * smtp_pipe_end - --pipe: how the command ended (io_close() reaped it),
 * a finding when it failed
 */
static void
smtp_pipe_end(struct smtp_session *s)
{
	char	 note[128];
	int	 rc;

	rc = io_pipe_status(s->io, note, sizeof(note));
	if (rc < 0)
		return;
	smtp_wire(s, rc == 0 ? WIRE_INFO : WIRE_WARN, "the command %s",
	    note);
	if (rc != 0)
		record_add_finding(s->rec, FIND_WARN, "pipe-exit",
		    STAGE_DONE, "the --pipe command %s", note);
}

/*
 * smtp_pipe_preamble - --pipe, before the greeting: a line that is no
 * reply is the command's own output (Exim's -bh mode starts with
 * "**** SMTP testing session ..." lines), shown and skipped. 1 when
 * line was that.
 */
static int
smtp_pipe_preamble(struct smtp_session *s, const char *line, size_t len)
{
	char	*esc;

	if (len >= 3 && isdigit((unsigned char)line[0]) &&
	    isdigit((unsigned char)line[1]) &&
	    isdigit((unsigned char)line[2]))
		return 0;
	esc = util_escape(line, len);
	smtp_wire(s, WIRE_INFO, "(command output before the greeting) %s",
	    esc);
	free(esc);
	return 1;
}

void
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
	smtp_group_abandon(s);
	io_close(s->io);
	if (s->p->pipe != NULL)
		smtp_pipe_end(s);
	s->stage = STAGE_DONE;
	s->rec->t_end = smtp_now(s);
	record_settle(s->rec);
	if (s->cb.done != NULL)
		s->cb.done(s->arg, s->rec);
}

/*
 * smtp_judge_group - a refusal in a pipelined group: the refusal of an
 * RCPT or DATA sent after a refused MAIL, or of a DATA after every RCPT
 * was refused, only follows from that refusal (503 "need MAIL", 554 "no
 * valid recipients"); it is recorded as skipped, with its reply, so that
 * the result is decided where it would be one command at a time
 */
static enum step_outcome
smtp_judge_group(struct smtp_session *s, int c)
{
	struct step	*st = smtp_step(s);
	const char	*why = NULL;

	if (s->stage == STAGE_MAIL)
		s->grp_mail_failed = 1;
	else if ((s->stage == STAGE_RCPT || s->stage == STAGE_DATA ||
	    s->stage == STAGE_EOD) && s->grp_mail_failed)
		why = "MAIL was refused: this pipelined command's refusal "
		    "follows from it";
	else if ((s->stage == STAGE_DATA || s->stage == STAGE_EOD) &&
	    s->nacc == 0)
		why = "no recipient was accepted: this pipelined command's "
		    "refusal follows from it";
	if (why != NULL) {
		if (st != NULL && st->detail == NULL)
			st->detail = xstrdup(why);
		return OUT_SKIPPED;
	}
	return c == 4 ? OUT_TEMPFAIL : c == 5 ? OUT_PERMFAIL : OUT_ERROR;
}

enum step_outcome
smtp_judge(struct smtp_session *s, const struct reply *r)
{
	int	 c = reply_class(r);
	int	 want = smtp_stages[s->stage].expect;

	if (s->bdat && s->stage == STAGE_DATA)
		want = 2;	/* a BDAT chunk: 250 */

	if (c == want || (want == 0 && (c == 2 || c == 3)))
		return OUT_OK;
	if (s->grp_n > 0)
		return smtp_judge_group(s, c);
	if (c == 4)
		return OUT_TEMPFAIL;
	if (c == 5)
		return OUT_PERMFAIL;
	return OUT_ERROR;
}

void
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
		if (s->p->pipe != NULL)
			smtp_wire(s, WIRE_INFO, "started /bin/sh -c \"%s\" "
			    "(pid %ld): SMTP over its stdin and stdout",
			    s->p->pipe, io_pipe_pid(io));
		else
			smtp_wire(s, WIRE_INFO, "connected to %s from %s",
			    io_peer(io), io_local(io));
		if (smtp_asif_proxy(s) == -1)
			return;
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
	case IO_DATA:		/* raw mode: not used by the engine */
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
		else if (s->p->pipe != NULL)
			smtp_fail(s, OUT_CLOSED, FAIL_CLOSED, "the --pipe "
			    "command closed its output during %s%s: %s",
			    stage_name(s->stage), s->reply != NULL ?
			    " (reply incomplete)" : "", io_error(io));
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
int
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
void
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
	if (st == NULL || smtp_stages[s->stage].reply == NULL ||
	    (s->stage == STAGE_STARTTLS && st->reply != NULL)) {
		smtp_stray(s, line, len);
		return;
	}
	if (s->p->pipe != NULL && s->stage == STAGE_BANNER &&
	    s->reply == NULL && smtp_pipe_preamble(s, line, len))
		return;
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
	if (s->grp_n > 0 && reply_class(r) == 3 && (s->stage == STAGE_MAIL ||
	    s->stage == STAGE_RCPT || s->stage == STAGE_RSET ||
	    s->stage == STAGE_NOOP)) {
		/* a 354 where the reply to an earlier command is due */
		record_add_finding(s->rec, FIND_ERROR, "pipelining-early-reply",
		    s->stage, "in a pipelined group the server answered %d "
		    "where the reply to %s was due: it answered a later "
		    "command (DATA) before this one (RFC 2920 wants the "
		    "replies in the order of the commands)", r->code,
		    stage_name(s->stage));
		smtp_desync(s, "a %d reply where the reply to %s was due in "
		    "a pipelined group", r->code, stage_name(s->stage));
		return;
	}
	if (r->code == 421 && s->stage != STAGE_QUIT) {
		/* RFC 5321 3.8: the server is closing the channel */
		smtp_close_step(s, OUT_TEMPFAIL, "service closing (421)");
		smtp_finish(s);
		return;
	}
	smtp_stages[s->stage].reply(s, r);
}

/*
 * smtp_asif.c - the SMTP engine talking as if from another client (see
 * include/proxy.h for the wire forms; shared state in smtp_int.h):
 *
 *   PROXY     --proxy v1|v2: the header is the first bytes on the
 *             connection, written as soon as it is up, before the
 *             banner is read and before the handshake of implicit TLS.
 *             The transcript shows v1 as sent and v2 (binary) as a
 *             summary. The source is --proxy-source or our own address,
 *             the destination --proxy-dest or the address connected to.
 *   XCLIENT   --xclient: after an accepted EHLO, with only attributes
 *             the server lists after the keyword. Its 220 is a new
 *             greeting, so EHLO is sent again (Postfix XCLIENT_README).
 *   XFORWARD  --xforward: after that EHLO, before MAIL; 250 expected.
 *
 * When: right after the EHLO that ends the EHLO command or, when
 * STARTTLS is to come (smtp_params.asif_after_tls), the STARTTLS
 * command, so the overrides go under TLS as swaks sends them. When that
 * EHLO never comes (optional STARTTLS that was not offered), they go
 * before the next command that needs the session (AUTH, MAIL, RCPT...)
 * and that command follows them. Each is a step of its own in the
 * record (stages xclient and xforward, and the ehlo after XCLIENT).
 *
 * Refusals: nothing is sent to a server that does not offer the command
 * or does not list an attribute asked for; the step is recorded as
 * skipped, the session's error says why (fail kind "local": exit 3)
 * and the session ends with QUIT. A 4xx or 5xx to XCLIENT, XFORWARD or
 * the EHLO after XCLIENT ends the session the same way, the reply
 * judged as any other (exit 2 or 1): no later command would mean what
 * the user asked for.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"
#include "log.h"
#include "proxy.h"
#include "reply.h"
#include "smtp.h"
#include "smtp_int.h"
#include "util.h"

static int	smtp_asif_pending(struct smtp_session *);
static int	smtp_asif_next(struct smtp_session *);
static int	smtp_asif_resume(struct smtp_session *);
static void	smtp_asif_end(struct smtp_session *);
static void	smtp_asif_refuse(struct smtp_session *, enum smtp_stage,
		    const char *, ...) __attribute__((format(printf, 3, 4)));

/*
 * smtp_asif_proxy - write the PROXY header, if asked, as the first bytes
 * of the connection. 0, or -1 when the session failed (it cannot go on
 * without the header the server waits for).
 */
int
smtp_asif_proxy(struct smtp_session *s)
{
	const struct smtp_params *p = s->p;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	const struct sockaddr	*src, *dst;
	unsigned char		 buf[128];
	char			 err[256], a[INET6_ADDRSTRLEN + 8];
	char			 b[INET6_ADDRSTRLEN + 8];
	size_t			 n;

	if (p->proxy == 0)
		return 0;
	src = p->proxy_src;
	if (src == NULL) {
		if (io_sockname(s->io, &ss, &sl) == -1) {
			smtp_fail(s, OUT_ERROR, FAIL_LOCAL, "--proxy: our own "
			    "address is not known; give --proxy-source");
			return -1;
		}
		src = (const struct sockaddr *)&ss;
	}
	dst = p->proxy_dst != NULL ? p->proxy_dst : p->addr;
	if (dst == NULL) {
		smtp_fail(s, OUT_ERROR, FAIL_LOCAL, "--proxy: no destination "
		    "address; give --proxy-dest");
		return -1;
	}
	n = proxy_header(p->proxy, src, dst, buf, sizeof(buf), err,
	    sizeof(err));
	if (n == 0) {
		smtp_fail(s, OUT_ERROR, FAIL_LOCAL, "--proxy: %s", err);
		return -1;
	}
	if (p->proxy == 1)
		smtp_wire(s, WIRE_SEND, "%.*s", (int)(n - 2), (char *)buf);
	else {
		io_addr_text(src, a, sizeof(a));
		io_addr_text(dst, b, sizeof(b));
		smtp_wire(s, WIRE_SEND, "[PROXY v2 header, %zu bytes: PROXY "
		    "TCP%c from %s to %s]", n, src->sa_family == AF_INET6 ?
		    '6' : '4', a, b);
	}
	io_write(s->io, (const char *)buf, n);
	return 0;
}

/* smtp_asif_pending - 1 while --xclient or --xforward is still to go */
static int
smtp_asif_pending(struct smtp_session *s)
{
	return (s->p->xclient != NULL && !s->xclient_done) ||
	    (s->p->xforward != NULL && !s->xforward_done);
}

int
smtp_asif_waiting(const struct smtp_session *s)
{
	return smtp_asif_pending((struct smtp_session *)s);
}

/*
 * smtp_asif_refuse - a command the server cannot take: recorded as
 * skipped, the session's error, and the end of the session
 */
static void
smtp_asif_refuse(struct smtp_session *s, enum smtp_stage st,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	smtp_skip_step(s, st, msg);
	record_set_error(s->rec, st, FAIL_LOCAL, msg);
	smtp_wire(s, WIRE_ERROR, "%s", msg);
	free(msg);
	smtp_asif_end(s);
}

/* smtp_asif_end - nothing the user asked for can follow: QUIT */
static void
smtp_asif_end(struct smtp_session *s)
{
	s->asif_running = 0;
	s->busy = 0;
	smtp_quit(s);
}

/*
 * smtp_asif_next - send the next of XCLIENT and XFORWARD still to go:
 * 1 when one was sent or the session ended, 0 when none is left
 */
static int
smtp_asif_next(struct smtp_session *s)
{
	enum smtp_stage	 st;
	const char	*spec, *kw, *opt, *offered;
	char		 err[512];

	if (s->p->xclient != NULL && !s->xclient_done) {
		st = STAGE_XCLIENT;
		spec = s->p->xclient;
		kw = "XCLIENT";
		opt = "--xclient";
		s->xclient_done = 1;
	} else if (s->p->xforward != NULL && !s->xforward_done) {
		st = STAGE_XFORWARD;
		spec = s->p->xforward;
		kw = "XFORWARD";
		opt = "--xforward";
		s->xforward_done = 1;
	} else
		return 0;
	if (!s->asif_running) {
		s->asif_running = 1;
		s->asif_primary = s->primary;
	}
	offered = s->ehlo_ok ? reply_ehlo_param(s->rec->ehlo, kw) : NULL;
	if (offered == NULL) {
		smtp_asif_refuse(s, st, "the server does not offer %s (%s); "
		    "%s not sent", kw, s->use_helo ? "it was greeted with "
		    "HELO" : s->ehlo_ok ? "not in its EHLO reply" :
		    "no EHLO was accepted", opt);
		return 1;
	}
	free(s->asif_line);
	s->asif_line = proxy_attrs(st == STAGE_XCLIENT ? PROXY_XCLIENT :
	    PROXY_XFORWARD, spec, offered, err, sizeof(err));
	if (s->asif_line == NULL) {
		smtp_asif_refuse(s, st, "%s; %s not sent", err, opt);
		return 1;
	}
	smtp_enter(s, st);
	return 1;
}

/*
 * smtp_asif_resume - all sent: back to the command they came under.
 * 1 when it goes on here (a later command that was waiting), 0 when
 * the caller ends the command (EHLO, STARTTLS).
 */
static int
smtp_asif_resume(struct smtp_session *s)
{
	s->asif_running = 0;
	if (s->cmd.stage == STAGE_EHLO || s->cmd.stage == STAGE_STARTTLS) {
		s->primary = s->asif_primary;
		return 0;
	}
	smtp_enter(s, s->cmd.stage);
	return 1;
}

/*
 * smtp_asif_before - before a command that needs the session: the
 * as-if-from commands that did not go yet go now, the command after
 * them. 1 when they took over, 0 to send the command.
 */
int
smtp_asif_before(struct smtp_session *s)
{
	if (!s->started || !smtp_asif_pending(s))
		return 0;
	switch (s->cmd.stage) {
	case STAGE_AUTH:
	case STAGE_MAIL:
	case STAGE_RCPT:
	case STAGE_DATA:
	case STAGE_RSET:
	case STAGE_NOOP:
	case STAGE_VRFY:
	case STAGE_RAW:
		return smtp_asif_next(s);
	default:
		return 0;
	}
}

/*
 * smtp_asif_after_ehlo - an EHLO (or HELO) reply judged o and its step
 * closed: XCLIENT or XFORWARD next, or the command they interrupted.
 * 1 when this took over, 0 when the caller ends the command.
 */
int
smtp_asif_after_ehlo(struct smtp_session *s, enum step_outcome o)
{
	if (s->asif_running && o != OUT_OK) {
		/* the EHLO after XCLIENT was refused */
		smtp_wire(s, WIRE_ERROR, "the EHLO after XCLIENT was refused; "
		    "ending the session");
		smtp_asif_end(s);
		return 1;
	}
	if (!s->asif_running) {
		if (o != OUT_OK || !smtp_asif_pending(s))
			return 0;
		if (s->cmd.stage != STAGE_EHLO &&
		    s->cmd.stage != STAGE_STARTTLS)
			return 0;
		/* STARTTLS is to come: the overrides go under TLS */
		if (s->p->asif_after_tls && !smtp_tls_active(s))
			return 0;
	}
	if (smtp_asif_next(s))
		return 1;
	return smtp_asif_resume(s);
}

void
smtp_enter_asif(struct smtp_session *s)
{
	smtp_send(s, "%s", s->asif_line != NULL ? s->asif_line : "");
}

/*
 * smtp_reply_asif - XCLIENT's 220 is a new greeting: EHLO again.
 * XFORWARD's 250: the next, or back to the command.
 */
void
smtp_reply_asif(struct smtp_session *s, struct reply *r)
{
	enum step_outcome o = smtp_judge(s, r);
	enum smtp_stage	 st = s->stage;

	if (o == OUT_OK && st == STAGE_XCLIENT && r->code != 220)
		record_add_finding(s->rec, FIND_WARN, "xclient-reply",
		    STAGE_XCLIENT, "XCLIENT answered %d, not the 220 greeting "
		    "Postfix sends", r->code);
	smtp_close_step(s, o, NULL);
	if (o != OUT_OK) {
		smtp_wire(s, WIRE_ERROR, "%s refused; ending the session",
		    smtp_stages[st].verb);
		smtp_asif_end(s);
		return;
	}
	if (st == STAGE_XCLIENT) {
		/* a new greeting: what the server offers may change */
		s->ehlo_ok = 0;
		smtp_enter(s, STAGE_EHLO);
		return;
	}
	if (smtp_asif_next(s))
		return;
	if (!smtp_asif_resume(s))
		smtp_ready(s);
}

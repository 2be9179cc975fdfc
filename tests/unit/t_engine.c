/*
 * t_engine.c - the SMTP engine (smtp.c) driven directly over a
 * bufferevent pair with a virtual clock (tests/unit/peer.c): every
 * stage, its timeout, multi-line and dripped replies, STARTTLS refused
 * and done, and the hostile orderings that must end in a desync rather
 * than an acceptance. No sockets, no sleeping: a 60 s timeout takes no
 * time at all.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "io.h"
#include "log.h"
#include "peer.h"
#include "record.h"
#include "smtp.h"
#include "tap.h"
#include "util.h"
#include "verdict.h"

struct t {
	struct event_base	*base;
	struct peer		*peer;
	struct smtp_session	*s;
	struct smtp_params	 p;
	struct sockaddr_in	 sin;
	int			 ready;		/* ready callbacks seen */
	int			 done;
	const struct step	*primary;	/* of the last ready */
};

static void
cb_ready(void *arg, const struct record *r, const struct step *p)
{
	struct t	*t = arg;

	(void)r;
	t->ready++;
	t->primary = p;
}

static void
cb_done(void *arg, const struct record *r)
{
	struct t	*t = arg;

	(void)r;
	t->done++;
}

/* t_start - a session on a fresh peer, connected, greeting not yet sent */
static void
t_start(struct t *t, const long *timeouts, size_t max_line)
{
	struct smtp_callbacks cb = { NULL, NULL, cb_ready, cb_done };
	struct smtp_cmd	 c = { .stage = STAGE_CONNECT };

	memset(t, 0, sizeof(*t));
	if ((t->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	t->peer = peer_new(t->base);
	t->sin.sin_family = AF_INET;
	t->sin.sin_port = htons(25);
	t->sin.sin_addr.s_addr = htonl(0x7f000001);
	t->p.host = "127.0.0.1";
	t->p.port = "25";
	t->p.addr = (struct sockaddr *)&t->sin;
	t->p.addrlen = sizeof(t->sin);
	t->p.helo = "probe.test";
	t->p.tls_mode = "starttls";
	t->p.tls_ctx = peer_client_ctx(t->peer);
	t->p.max_line = max_line;
	t->p.timeout_ms = timeouts;	/* the caller's, for the session */
	t->s = smtp_session_new(t->base, &t->p, &cb, t);
	smtp_do(t->s, &c);
	peer_settle(t->peer);
}

static void
t_end(struct t *t)
{
	smtp_session_free(t->s);
	peer_free(t->peer);
	event_base_free(t->base);
}

/* t_do - send one command and let the loop run */
static void
t_do(struct t *t, enum smtp_stage st, const char *arg, unsigned flags)
{
	struct smtp_cmd	 c = { .stage = st, .arg = arg, .flags = flags };

	if (st == STAGE_DATA) {
		c.message = "Subject: t\r\n\r\nhello\r\n.\r\n";
		c.message_len = strlen(c.message);
	}
	smtp_do(t->s, &c);
	peer_settle(t->peer);
}

/* t_say - the server writes, the loop runs */
static void
t_say(struct t *t, const char *bytes)
{
	peer_say(t->peer, bytes, -1);
	peer_settle(t->peer);
}

static const struct record *
rec(struct t *t)
{
	return smtp_session_record(t->s);
}

/* heard - the client wrote text (a fixed string) */
static int
heard(struct t *t, const char *text)
{
	return strstr(peer_heard(t->peer), text) != NULL;
}

/* t_envelope - greeting, EHLO, MAIL and one RCPT, all accepted */
static void
t_envelope(struct t *t)
{
	t_say(t, "220 mx.test ESMTP\r\n");
	t_do(t, STAGE_EHLO, NULL, 0);
	t_say(t, "250-mx.test\r\n250 PIPELINING\r\n");
	t_do(t, STAGE_MAIL, "a@probe.test", 0);
	t_say(t, "250 2.1.0 Ok\r\n");
	t_do(t, STAGE_RCPT, "b@mx.test", 0);
}

static void
check_desync(struct t *t, const char *what)
{
	const struct record *r = rec(t);
	struct verdict	 v;

	verdict_record(r, &v);
	ok(t->done == 1, "%s: the session is over", what);
	ok(r->status == RES_ERROR && r->fail_kind == FAIL_DESYNC,
	    "%s: failure kind desync (status %s, kind %s)", what,
	    record_status_name(r->status),
	    record_fail_kind_name(r->fail_kind));
	ok(record_exit_code(r) == 3, "%s: exit 3 (got %d)", what,
	    record_exit_code(r));
	ok(strcmp(v.class, "server") == 0 && strcmp(v.reason, "desync") == 0,
	    "%s: verdict server/desync (got %s/%s)", what, v.class,
	    v.reason);
}

static void
test_happy_path(void)
{
	struct t	 t;
	const struct record *r;

	t_start(&t, NULL, 0);
	ok(peer_connected(t.peer), "connect: the pair is up");
	ok(t.ready == 0, "connect: waits for the greeting");
	t_envelope(&t);
	ok(heard(&t, "EHLO probe.test\r\nMAIL FROM:<a@probe.test>\r\n"
	    "RCPT TO:<b@mx.test>\r\n"), "commands sent one at a time, in order");
	t_say(&t, "250 2.1.5 Ok\r\n");
	t_do(&t, STAGE_DATA, NULL, 0);
	t_say(&t, "354 go ahead\r\n");
	ok(heard(&t, "DATA\r\nSubject: t\r\n\r\nhello\r\n.\r\n"),
	    "the message follows 354");
	t_say(&t, "250 2.0.0 queued as 1\r\n");
	smtp_quit(t.s);
	peer_settle(t.peer);
	t_say(&t, "221 2.0.0 Bye\r\n");
	r = rec(&t);
	ok(t.done == 1 && r->status == RES_OK && record_exit_code(r) == 0,
	    "a full delivery is accepted, exit 0 (status %s)",
	    record_status_name(r->status));
	ok(r->rcpt_ok == 1 && r->ehlo != NULL, "one recipient, EHLO parsed");
	t_end(&t);
}

/* every stage's deadline is the one configured, and its timeout fires */
static void
test_timeouts(void)
{
	static const enum smtp_stage order[] = { STAGE_BANNER, STAGE_EHLO,
	    STAGE_MAIL, STAGE_RCPT, STAGE_DATA, STAGE_EOD, STAGE_QUIT };
	long		 tmo[STAGE__COUNT] = { 0 };
	size_t		 k, j;

	for (k = 0; k < STAGE__COUNT; k++)
		tmo[k] = 1000 * (long)(k + 3);
	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		struct t	 t;
		const struct record *r;
		long		 want = tmo[order[k]];

		t_start(&t, tmo, 0);
		for (j = 0; j < k; j++) {
			switch (order[j]) {
			case STAGE_BANNER:
				t_say(&t, "220 mx.test\r\n");
				t_do(&t, STAGE_EHLO, NULL, 0);
				break;
			case STAGE_EHLO:
				t_say(&t, "250 mx.test\r\n");
				t_do(&t, STAGE_MAIL, "a@probe.test", 0);
				break;
			case STAGE_MAIL:
				t_say(&t, "250 ok\r\n");
				t_do(&t, STAGE_RCPT, "b@mx.test", 0);
				break;
			case STAGE_RCPT:
				t_say(&t, "250 ok\r\n");
				t_do(&t, STAGE_DATA, NULL, 0);
				break;
			case STAGE_DATA:
				t_say(&t, "354 go\r\n");
				break;
			case STAGE_EOD:
				t_say(&t, "250 queued\r\n");
				smtp_quit(t.s);
				peer_settle(t.peer);
				break;
			default:
				break;
			}
		}
		ok(peer_deadline(t.peer) == want, "%s: deadline %ld ms (want "
		    "%ld)", stage_name(order[k]), peer_deadline(t.peer),
		    want);
		peer_advance(t.peer, want - 1);
		ok(t.done == 0, "%s: still waiting 1 ms before the deadline",
		    stage_name(order[k]));
		peer_advance(t.peer, 1);
		r = rec(&t);
		if (order[k] == STAGE_QUIT)
			ok(t.done == 1 && r->status == RES_OK,
			    "quit: no reply to QUIT ends the session, the "
			    "delivery stands (status %s)",
			    record_status_name(r->status));
		else
			ok(t.done == 1 && r->status == RES_ERROR &&
			    r->fail_kind == FAIL_TIMEOUT &&
			    r->fail_stage == order[k] &&
			    record_exit_code(r) == 3, "%s: times out at "
			    "%ld ms virtual, kind %s, exit %d",
			    stage_name(order[k]), peer_now_ms(t.peer),
			    record_fail_kind_name(r->fail_kind),
			    record_exit_code(r));
		t_end(&t);
	}
}

/* a reply dripped a byte a second inside the stage timeout is fine */
static void
test_drip(void)
{
	long		 tmo[STAGE__COUNT] = { 0 };
	const char	*greet = "220-mx.test\r\n220 ESMTP\r\n";
	struct t	 t;
	size_t		 i;

	tmo[STAGE_BANNER] = 30000;
	t_start(&t, tmo, 0);
	for (i = 0; greet[i] != '\0'; i++) {
		peer_say(t.peer, greet + i, 1);
		peer_advance(t.peer, 1000);
	}
	ok(t.ready == 1 && t.done == 0 && rec(&t)->nsteps >= 3 &&
	    rec(&t)->steps[2].reply != NULL &&
	    rec(&t)->steps[2].reply->nlines == 2,
	    "a 2-line greeting dripped over %zu virtual seconds is read",
	    strlen(greet));
	t_end(&t);

	/* slowloris: a byte a second for ever ends at the deadline */
	t_start(&t, tmo, 0);
	for (i = 0; i < 100 && t.done == 0; i++) {
		peer_say(t.peer, "2", 1);
		peer_advance(t.peer, 1000);
	}
	ok(t.done == 1 && rec(&t)->fail_kind == FAIL_TIMEOUT &&
	    peer_now_ms(t.peer) == 30000, "slowloris greeting: timeout "
	    "after exactly 30 s virtual (at %ld ms)", peer_now_ms(t.peer));
	t_end(&t);
}

static void
test_starttls(void)
{
	struct t	 t;
	const struct record *r;

	/* refused: the command fails, the session goes on */
	t_start(&t, NULL, 0);
	t_say(&t, "220 mx.test\r\n");
	t_do(&t, STAGE_EHLO, NULL, 0);
	t_say(&t, "250-mx.test\r\n250 STARTTLS\r\n");
	t_do(&t, STAGE_STARTTLS, NULL, 0);
	t_say(&t, "454 4.7.0 TLS not available\r\n");
	r = rec(&t);
	ok(t.ready == 3 && t.done == 0 && t.primary != NULL &&
	    t.primary->stage == STAGE_STARTTLS &&
	    t.primary->outcome == OUT_TEMPFAIL,
	    "STARTTLS refused with 454: a tempfail step, session open");
	t_end(&t);

	/* refused but optional: going on in plaintext */
	t_start(&t, NULL, 0);
	t_say(&t, "220 mx.test\r\n");
	t_do(&t, STAGE_EHLO, NULL, 0);
	t_say(&t, "250-mx.test\r\n250 STARTTLS\r\n");
	t_do(&t, STAGE_STARTTLS, NULL, SMTP_F_OPTIONAL);
	t_say(&t, "502 no\r\n");
	t_do(&t, STAGE_MAIL, "a@probe.test", 0);
	ok(heard(&t, "STARTTLS\r\nMAIL FROM:"), "optional STARTTLS refused: "
	    "MAIL follows in plaintext");
	t_end(&t);

	/* accepted: a real handshake, EHLO again under TLS */
	t_start(&t, NULL, 0);
	t_say(&t, "220 mx.test\r\n");
	t_do(&t, STAGE_EHLO, NULL, 0);
	t_say(&t, "250-mx.test\r\n250 STARTTLS\r\n");
	t_do(&t, STAGE_STARTTLS, NULL, 0);
	peer_say(t.peer, "220 2.0.0 go ahead\r\n", -1);
	peer_starttls(t.peer);
	peer_settle(t.peer);
	ok(smtp_tls_active(t.s), "STARTTLS: the handshake completes");
	t_say(&t, "250-mx.test\r\n250 AUTH PLAIN\r\n");
	r = rec(&t);
	ok(t.ready == 3 && r->ehlo != NULL && record_tls_of(r)->version != NULL,
	    "STARTTLS: EHLO again under %s", record_tls_of(r)->version != NULL ?
	    record_tls_of(r)->version : "(none)");
	ok(r->nsteps > 0 && r->steps[r->nsteps - 1].stage == STAGE_EHLO &&
	    r->steps[r->nsteps - 1].tls, "STARTTLS: the last EHLO is under "
	    "TLS");
	t_end(&t);

	/* plaintext pushed right behind the 220: injection, nothing used */
	t_start(&t, NULL, 0);
	t_say(&t, "220 mx.test\r\n");
	t_do(&t, STAGE_EHLO, NULL, 0);
	t_say(&t, "250-mx.test\r\n250 STARTTLS\r\n");
	t_do(&t, STAGE_STARTTLS, NULL, 0);
	t_say(&t, "220 go ahead\r\n250 injected\r\n");
	r = rec(&t);
	ok(t.done == 1 && r->fail_kind == FAIL_TLS &&
	    record_exit_code(r) == 3, "plaintext after 220 to STARTTLS: a "
	    "TLS failure (injection), exit 3");
	t_end(&t);
}

/* a 70,000-byte first line with --max-line 100000: no crash (issue 13.1) */
static void
test_long_first_line(void)
{
	struct t	 t;
	char		*big;
	const struct record *r;

	big = xmalloc(70003);
	memcpy(big, "220 ", 4);
	memset(big + 4, 'x', 70000 - 4);
	memcpy(big + 70000, "\r\n", 3);
	t_start(&t, NULL, 100000);
	t_say(&t, big);
	r = rec(&t);
	ok(t.done == 1 && r->status == RES_ERROR &&
	    r->fail_kind == FAIL_PROTOCOL && record_exit_code(r) == 3,
	    "a 70,000-byte greeting over the 64 KiB reply limit: protocol "
	    "failure, exit 3 (kind %s)", record_fail_kind_name(r->fail_kind));
	t_end(&t);
	free(big);

	/* the same line past --max-line: the io layer refuses it */
	big = xmalloc(8200);
	memcpy(big, "220 ", 4);
	memset(big + 4, 'y', 8190);
	memcpy(big + 8194, "\r\n", 3);
	t_start(&t, NULL, 4096);
	t_say(&t, big);
	r = rec(&t);
	ok(t.done == 1 && r->fail_kind == FAIL_PROTOCOL &&
	    record_exit_code(r) == 3, "a line past --max-line: protocol "
	    "failure, exit 3 (kind %s)", record_fail_kind_name(r->fail_kind));
	t_end(&t);
	free(big);

	/* 300 continuation lines: past REPLY_MAX_LINES */
	t_start(&t, NULL, 0);
	{
		int	 i;

		for (i = 0; i < 300; i++)
			peer_say(t.peer, "220-more\r\n", -1);
		peer_settle(t.peer);
	}
	r = rec(&t);
	ok(t.done == 1 && r->fail_kind == FAIL_PROTOCOL,
	    "300 continuation lines: protocol failure (kind %s)",
	    record_fail_kind_name(r->fail_kind));
	t_end(&t);
}

/* replies that shift (issue 13.2, 13.3) */
static void
test_desync(void)
{
	struct t	 t;

	/* a stray 250 after MAIL arrives once RCPT is sent; the 550 for
	   RCPT then comes while nothing is outstanding */
	t_start(&t, NULL, 0);
	t_say(&t, "220 mx.test ESMTP\r\n");
	t_do(&t, STAGE_EHLO, NULL, 0);
	t_say(&t, "250 mx.test\r\n");
	t_do(&t, STAGE_MAIL, "a@probe.test", 0);
	t_say(&t, "250 2.1.0 Ok\r\n");
	t_do(&t, STAGE_RCPT, "b@mx.test", 0);
	t_say(&t, "250 2.1.0 stray\r\n");
	t_say(&t, "550 5.1.1 no such user\r\n");
	check_desync(&t, "stray reply after MAIL, RCPT's 550 while idle");
	t_end(&t);

	/* the same, the 550 already waiting when QUIT is due */
	t_start(&t, NULL, 0);
	t_envelope(&t);
	peer_say(t.peer, "250 2.1.0 stray\r\n550 5.1.1 no such user\r\n", -1);
	/* the loop delivers the stray line as RCPT's reply ... */
	peer_settle(t.peer);
	smtp_quit(t.s);
	peer_settle(t.peer);
	ok(!heard(&t, "QUIT"), "bytes waiting before QUIT: QUIT not sent");
	ok(rec(&t)->status != RES_OK, "stray + 550 in one packet: never "
	    "accepted");
	t_end(&t);

	/* the 550 arrives after QUIT went out: QUIT's reply is not 221 */
	t_start(&t, NULL, 0);
	t_envelope(&t);
	t_say(&t, "250 2.1.0 stray\r\n");
	smtp_quit(t.s);
	peer_settle(t.peer);
	t_say(&t, "550 5.1.1 no such user\r\n");
	check_desync(&t, "550 as the reply to QUIT");
	t_end(&t);

	/* two replies after the final dot (issue 13.3), one packet */
	t_start(&t, NULL, 0);
	t_envelope(&t);
	t_say(&t, "250 ok\r\n");
	t_do(&t, STAGE_DATA, NULL, 0);
	t_say(&t, "354 go\r\n");
	t_say(&t, "250 queued\r\n550 5.7.1 rejected after all\r\n");
	check_desync(&t, "250 then 550 after the dot, one packet");
	t_end(&t);

	/* the same, the 550 arriving after QUIT was sent */
	t_start(&t, NULL, 0);
	t_envelope(&t);
	t_say(&t, "250 ok\r\n");
	t_do(&t, STAGE_DATA, NULL, 0);
	t_say(&t, "354 go\r\n");
	t_say(&t, "250 queued\r\n");
	smtp_quit(t.s);
	peer_settle(t.peer);
	t_say(&t, "550 5.7.1 rejected after all\r\n221 bye\r\n");
	check_desync(&t, "550 after the dot, read as QUIT's reply");
	t_end(&t);

	/* bytes behind the 221 */
	t_start(&t, NULL, 0);
	t_envelope(&t);
	t_say(&t, "250 ok\r\n");
	smtp_quit(t.s);
	peer_settle(t.peer);
	t_say(&t, "221 bye\r\n550 late\r\n");
	check_desync(&t, "a reply after the 221");
	t_end(&t);

	/* declared: the smuggling check's second reply is its finding */
	t_start(&t, NULL, 0);
	t_envelope(&t);
	t_say(&t, "250 ok\r\n");
	t_do(&t, STAGE_DATA, NULL, SMTP_F_SMUGGLING);
	t_say(&t, "354 go\r\n");
	t_say(&t, "250 queued\r\n250 2.0.0 NOOP ok\r\n");
	{
		const struct record *r = rec(&t);
		size_t		 i;
		int		 early = 0;

		for (i = 0; i < r->nfindings; i++)
			if (strcmp(r->findings[i].kind, "eod-early") == 0)
				early = 1;
		ok(early && r->fail_kind == FAIL_PROTOCOL &&
		    record_exit_code(r) == 3, "declared smuggling probe: "
		    "finding eod-early, not a desync (kind %s)",
		    record_fail_kind_name(r->fail_kind));
	}
	t_end(&t);
}

/* a server that closes, resets or says 421 mid-way */
static void
test_closes(void)
{
	struct t	 t;
	const struct record *r;

	t_start(&t, NULL, 0);
	t_say(&t, "220 mx.test\r\n");
	t_do(&t, STAGE_EHLO, NULL, 0);
	t_say(&t, "250-mx.te");
	peer_close(t.peer);
	peer_settle(t.peer);
	r = rec(&t);
	ok(t.done == 1 && r->fail_kind == FAIL_CLOSED &&
	    record_exit_code(r) == 3, "close in the middle of a reply line: "
	    "closed, exit 3");
	t_end(&t);

	t_start(&t, NULL, 0);
	t_envelope(&t);
	t_say(&t, "421 4.3.2 shutting down\r\n");
	r = rec(&t);
	ok(t.done == 1 && r->status == RES_TEMPFAIL &&
	    record_exit_code(r) == 2, "421 at RCPT: tempfail, exit 2");
	t_end(&t);
}

/* the events and bytes a raw io (io_set_raw, as https.c uses) saw */
struct rawseen {
	int	 connected, lines, data, eof, error;
	char	 buf[256];
	size_t	 len;
};

static void
raw_cb(struct io *io, enum io_event ev, void *arg)
{
	struct rawseen	*s = arg;

	switch (ev) {
	case IO_CONNECTED:	s->connected++; break;
	case IO_LINE:		s->lines++; break;
	case IO_DATA:
		s->data++;
		s->len += io_read(io, s->buf + s->len, sizeof(s->buf) - 1 -
		    s->len);
		break;
	case IO_EOF:		s->eof++; break;
	case IO_ERROR:		s->error++; break;
	default:		break;
	}
}

/* test_raw_io - raw mode: bytes as they come, no lines, no line cap */
static void
test_raw_io(void)
{
	struct event_base	*base = event_base_new();
	struct peer		*p = peer_new(base);
	struct sockaddr_in	 sin;
	struct rawseen		 s;
	struct io		*io;
	char			 big[100];

	memset(&s, 0, sizeof(s));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(443);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	io = io_new(base, raw_cb, &s);
	io_set_raw(io);
	io_set_maxline(io, 10);
	ok(io_connect(io, (struct sockaddr *)&sin, sizeof(sin), NULL, 0) ==
	    0, "raw io: connect");
	peer_settle(p);
	ok(s.connected == 1, "raw io: IO_CONNECTED");
	peer_say(p, "HTTP/1.1 200 OK\r\nab\0c", 21);
	peer_settle(p);
	ok(s.data > 0 && s.lines == 0 && s.len == 21 &&
	    memcmp(s.buf, "HTTP/1.1 200 OK\r\nab\0c", 21) == 0,
	    "raw io: the bytes as sent, NUL included, no IO_LINE (%zu)",
	    s.len);
	memset(big, 'x', sizeof(big));
	peer_say(p, big, sizeof(big));
	peer_settle(p);
	ok(s.error == 0 && s.len == 121, "raw io: no line cap (%zu bytes)",
	    s.len);
	peer_close(p);
	peer_settle(p);
	ok(s.eof == 1 && s.error == 0, "raw io: IO_EOF at the close");
	io_free(io);
	peer_free(p);
	event_base_free(base);
}

/* t_group - MAIL, one RCPT per address and DATA as one pipelined group */
static void
t_group(struct t *t, const char *const *rcpt, size_t n)
{
	struct smtp_cmd	 c[8];
	size_t		 i;

	memset(c, 0, sizeof(c));
	c[0].stage = STAGE_MAIL;
	c[0].arg = "a@probe.test";
	for (i = 0; i < n; i++) {
		c[i + 1].stage = STAGE_RCPT;
		c[i + 1].arg = rcpt[i];
	}
	c[n + 1].stage = STAGE_DATA;
	c[n + 1].message = "Subject: t\r\n\r\nhello\r\n.\r\n";
	c[n + 1].message_len = strlen(c[n + 1].message);
	ok(smtp_do_group(t->s, c, n + 2) == 0, "group: taken");
	peer_settle(t->peer);
}

/* find - the record's steps of stage st, counted */
static size_t
count_stage(const struct record *r, enum smtp_stage st)
{
	size_t	 i, n = 0;

	for (i = 0; i < r->nsteps; i++)
		n += r->steps[i].stage == st;
	return n;
}

/* PIPELINING: one write, replies matched in order, one ready at the end */
static void
test_pipelining(void)
{
	static const char *const two[] = { "b@mx.test", "c@mx.test" };
	struct t	 t;
	const struct record *r;
	struct smtp_cmd	 bad[2];
	size_t		 i;

	t_start(&t, NULL, 0);
	t_say(&t, "220 mx.test ESMTP\r\n");
	t_do(&t, STAGE_EHLO, NULL, 0);
	t_say(&t, "250-mx.test\r\n250 PIPELINING\r\n");
	memset(bad, 0, sizeof(bad));
	bad[0].stage = STAGE_DATA;
	bad[1].stage = STAGE_MAIL;
	ok(smtp_do_group(t.s, bad, 2) == -1, "group: DATA only last");
	bad[0].stage = STAGE_STARTTLS;
	ok(smtp_do_group(t.s, bad, 1) == -1, "group: no STARTTLS in one");
	t_group(&t, two, 2);
	ok(heard(&t, "MAIL FROM:<a@probe.test>\r\nRCPT TO:<b@mx.test>\r\n"
	    "RCPT TO:<c@mx.test>\r\nDATA\r\n"), "group: sent at once");
	ok(!heard(&t, "hello"), "group: no message before 354");
	t_say(&t, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
	ok(t.ready == 2, "group: no ready while replies are due (%d)",
	    t.ready);
	peer_advance(t.peer, 5);
	t_say(&t, "550 5.1.1 no such user\r\n354 go\r\n");
	ok(heard(&t, "DATA\r\nSubject: t\r\n\r\nhello\r\n.\r\n"),
	    "group: the message follows the 354");
	t_say(&t, "250 2.0.0 queued\r\n");
	r = rec(&t);
	ok(t.ready == 3 && t.primary != NULL &&
	    t.primary->stage == STAGE_EOD, "group: one ready, after the end "
	    "of data");
	for (i = 0; i < r->nsteps && r->steps[i].stage != STAGE_MAIL; i++)
		;
	ok(i + 4 < r->nsteps && r->steps[i + 1].outcome == OUT_OK &&
	    r->steps[i + 2].outcome == OUT_PERMFAIL &&
	    r->steps[i + 2].reply->code == 550 &&
	    r->steps[i + 3].reply->code == 354, "group: each reply on its "
	    "own command's step");
	ok(r->steps[i].t_sent == r->steps[i + 3].t_sent &&
	    r->steps[i + 3].t_done - r->steps[i + 3].t_sent >= 5000,
	    "group: one send time, each reply timed from it");
	ok(r->rcpt_ok == 1 && r->rcpt_rejected == 1, "group: recipients "
	    "counted");
	t_end(&t);

	/* a 354 where the reply to RCPT is due */
	t_start(&t, NULL, 0);
	t_say(&t, "220 mx.test ESMTP\r\n");
	t_do(&t, STAGE_EHLO, NULL, 0);
	t_say(&t, "250-mx.test\r\n250 PIPELINING\r\n");
	t_group(&t, two, 1);
	t_say(&t, "250 2.1.0 Ok\r\n354 go\r\n250 2.1.5 Ok\r\n");
	check_desync(&t, "early 354");
	r = rec(&t);
	ok(r->nfindings > 0 && strcmp(r->findings[0].kind,
	    "pipelining-early-reply") == 0, "early 354: the finding");
	ok(!heard(&t, "hello"), "early 354: no message");
	ok(r->steps[r->nsteps - 1].stage == STAGE_DATA &&
	    r->steps[r->nsteps - 1].outcome == OUT_CLOSED,
	    "early 354: DATA's step closed, never left looking accepted");
	t_end(&t);

	/* one reply more than the group had commands */
	t_start(&t, NULL, 0);
	t_say(&t, "220 mx.test ESMTP\r\n");
	t_do(&t, STAGE_EHLO, NULL, 0);
	t_say(&t, "250-mx.test\r\n250 PIPELINING\r\n");
	t_group(&t, two, 1);
	t_say(&t, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n250 more\r\n");
	check_desync(&t, "extra reply");
	r = rec(&t);
	ok(r->nfindings > 0 && strcmp(r->findings[0].kind,
	    "pipelining-extra-reply") == 0, "extra reply: the finding");
	ok(!heard(&t, "hello"), "extra reply: no message after it");
	t_end(&t);

	/* LMTP: one reply per accepted recipient after the message */
	t_start(&t, NULL, 0);
	t.p.lmtp = 1;
	t_say(&t, "220 mx.test LMTP\r\n");
	t_do(&t, STAGE_EHLO, NULL, 0);
	ok(heard(&t, "LHLO probe.test\r\n"), "lmtp: LHLO");
	t_say(&t, "250-mx.test\r\n250 PIPELINING\r\n");
	t_group(&t, two, 2);
	t_say(&t, "250 Ok\r\n250 Ok\r\n250 Ok\r\n354 go\r\n");
	t_say(&t, "250 2.1.5 b delivered\r\n");
	ok(t.ready == 2, "lmtp: waits for the second recipient's reply");
	t_say(&t, "452 4.2.2 c over quota\r\n");
	r = rec(&t);
	ok(t.ready == 3 && count_stage(r, STAGE_EOD) == 2,
	    "lmtp: two eod steps");
	ok(t.primary != NULL && t.primary->outcome == OUT_TEMPFAIL &&
	    t.primary->rcpt != NULL && strcmp(t.primary->rcpt,
	    "c@mx.test") == 0, "lmtp: the refused recipient's step answers");
	smtp_quit(t.s);
	peer_settle(t.peer);
	t_say(&t, "221 Bye\r\n");
	ok(rec(&t)->status == RES_TEMPFAIL, "lmtp: the worst reply decides");
	t_end(&t);
}

int
main(void)
{
	log_init("t_engine", 0);
	test_happy_path();
	test_timeouts();
	test_drip();
	test_starttls();
	test_long_first_line();
	test_desync();
	test_closes();
	test_raw_io();
	test_pipelining();
	return tap_done();
}

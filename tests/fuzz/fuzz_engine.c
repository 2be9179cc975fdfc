/*
 * fuzz_engine.c - arbitrary server bytes, split at arbitrary points,
 * into the SMTP engine (smtp.c) over a bufferevent pair with a virtual
 * clock (tests/unit/peer.c): no sockets, no sleeping.
 *
 * FUZZ-OPTIONS: -max_len=4096
 *
 * Input: byte 0 picks the plan, then chunks separated by 0xFF bytes.
 *   bits 0-2  stop point: 0 banner, 1 ehlo, 2 starttls, 3 mail,
 *             4 rcpt, 5 data (354), 6 the whole message, 7 message
 *             then RSET and a second MAIL
 *   bit 3     STARTTLS asked for (bit 4: optional)
 *   bit 5     the DATA step declares a smuggling probe
 *   bit 6     --max-line 512 instead of the default
 *   bit 7     two recipients
 * Chunk 0 is the greeting, written at connect; chunk i is written once
 * the client has sent i command lines. A chunk that starts with 0xFE N
 * is written after N virtual seconds; one that ends in "\x01TLS" turns
 * the server side to TLS after its bytes, one that ends in "\x01CLOSE"
 * closes. When nothing is due, virtual time jumps to the next deadline.
 *
 * Invariants checked:
 *   - the session ends (done once), within a bounded number of steps:
 *     every wait has a deadline;
 *   - an accepted session consumed exactly the lines the server sent:
 *     no stray reply was left unread or taken for another's answer;
 *   - accepted means no step failed and no failure kind; a desync is
 *     always an error with exit 3; exit code and status agree.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include <event2/event.h>

#include "fuzz.h"
#include "log.h"
#include "record.h"
#include "smtp.h"
#include "verdict.h"
#include "unit/peer.h"
#include "unit/peer.c"

struct plan {
	unsigned	 opt;
	int		 next;		/* next command of the plan */
	int		 done;
	struct smtp_session *s;
	struct peer	*peer;
	char		 message[64];
};

enum { P_EHLO, P_STARTTLS, P_MAIL, P_RCPT, P_RCPT2, P_DATA, P_RSET,
	P_MAIL2, P_RCPT3, P_QUIT };

/* plan_stop - the last plan step the stop point allows */
static int
plan_stop(unsigned opt)
{
	static const int last[8] = { -1, P_EHLO, P_STARTTLS, P_MAIL, P_RCPT2,
	    P_DATA, P_DATA, P_RCPT3 };

	return last[opt & 7];
}

static void
plan_next(struct plan *pl)
{
	struct smtp_cmd	 c;

	for (;;) {
		int	 k = pl->next++;

		memset(&c, 0, sizeof(c));
		if (k > plan_stop(pl->opt) || k >= P_QUIT) {
			smtp_quit(pl->s);
			return;
		}
		switch (k) {
		case P_EHLO:
			c.stage = STAGE_EHLO;
			break;
		case P_STARTTLS:
			if (!(pl->opt & 8))
				continue;
			c.stage = STAGE_STARTTLS;
			if (pl->opt & 16)
				c.flags = SMTP_F_OPTIONAL;
			break;
		case P_MAIL:
		case P_MAIL2:
			c.stage = STAGE_MAIL;
			c.arg = "a@probe.test";
			break;
		case P_RCPT2:
			if (!(pl->opt & 128))
				continue;
			/* FALLTHROUGH */
		case P_RCPT:
		case P_RCPT3:
			c.stage = STAGE_RCPT;
			c.arg = "b@mx.test";
			break;
		case P_DATA:
			c.stage = STAGE_DATA;
			if ((pl->opt & 7) == 5)
				c.flags |= SMTP_F_STOP;
			if (pl->opt & 32)
				c.flags |= SMTP_F_SMUGGLING;
			c.message = pl->message;
			c.message_len = strlen(pl->message);
			break;
		case P_RSET:
			c.stage = STAGE_RSET;
			break;
		default:
			continue;
		}
		if (smtp_do(pl->s, &c) == -1)
			smtp_quit(pl->s);
		return;
	}
}

static void
cb_ready(void *arg, const struct record *r, const struct step *p)
{
	plan_next(arg);
}

static void
cb_done(void *arg, const struct record *r)
{
	struct plan	*pl = arg;

	pl->done++;
}

/* check - the invariants on a finished session */
static void
check(const struct record *r, size_t said)
{
	struct verdict	 v;
	size_t		 i, got = 0;
	int		 code = record_exit_code(r);

	verdict_record(r, &v);
	FUZZ_CHECK(v.class != NULL && v.reason != NULL);
	FUZZ_CHECK((r->status == RES_OK) == (code == 0));
	if (r->fail_kind == FAIL_DESYNC)
		FUZZ_CHECK(r->status == RES_ERROR && code == 3 &&
		    strcmp(v.class, "server") == 0);
	if (r->status != RES_OK)
		return;
	FUZZ_CHECK(r->fail_kind == FAIL_NONE && r->error == NULL);
	for (i = 0; i < r->nsteps; i++) {
		const struct step *st = &r->steps[i];

		if (st->stage != STAGE_QUIT)
			FUZZ_CHECK(st->outcome == OUT_OK ||
			    st->outcome == OUT_SKIPPED);
		if (st->reply != NULL)
			got += st->reply->nlines;
	}
	/* every line the server sent was read as part of some reply */
	FUZZ_CHECK(got == said);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct event_base *base;	/* one for the process */
	struct smtp_params	 p;
	struct smtp_callbacks	 cb = { NULL, NULL, cb_ready, cb_done };
	struct smtp_cmd		 c = { .stage = STAGE_CONNECT };
	struct sockaddr_in	 sin;
	struct plan		 pl;
	const uint8_t		*chunk[64];
	size_t			 len[64], nchunk = 0, next = 0, i, start;
	int			 rounds;

	if (base == NULL) {
		log_init("fuzz_engine", 0);
		if ((base = event_base_new()) == NULL)
			return 0;
	}
	if (size < 1)
		return 0;
	/* chunks */
	for (start = 1, i = 1; i <= size && nchunk < 64; i++)
		if (i == size || data[i] == 0xff) {
			chunk[nchunk] = data + start;
			len[nchunk++] = i - start;
			start = i + 1;
		}

	memset(&pl, 0, sizeof(pl));
	pl.opt = data[0];
	snprintf(pl.message, sizeof(pl.message), "Subject: f\r\n\r\n%s"
	    "\r\n.\r\n", pl.opt & 32 ? "x\n.\nNOOP" : "hello");
	pl.peer = peer_new(base);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(25);
	sin.sin_addr.s_addr = htonl(0x7f000001);
	memset(&p, 0, sizeof(p));
	p.host = "127.0.0.1";
	p.port = "25";
	p.addr = (struct sockaddr *)&sin;
	p.addrlen = sizeof(sin);
	p.helo = "probe.test";
	p.tls_mode = "starttls";
	p.tls_ctx = peer_client_ctx(pl.peer);
	p.max_line = pl.opt & 64 ? 512 : 0;
	pl.s = smtp_session_new(base, &p, &cb, &pl);
	smtp_do(pl.s, &c);
	peer_settle(pl.peer);

	for (rounds = 0; pl.done == 0 && rounds < 200; rounds++) {
		if (next < nchunk && peer_connected(pl.peer) &&
		    (next == 0 || peer_lines(pl.peer) >= next)) {
			const uint8_t	*b = chunk[next];
			size_t		 n = len[next++];

			if (n >= 2 && b[0] == 0xfe) {
				peer_advance(pl.peer, 1000L * b[1]);
				b += 2;
				n -= 2;
			}
			if (pl.done)
				break;
			if (n >= 4 && memcmp(b + n - 4, "\001TLS", 4) == 0) {
				peer_say(pl.peer, (const char *)b,
				    (ssize_t)n - 4);
				peer_starttls(pl.peer);
			} else if (n >= 6 &&
			    memcmp(b + n - 6, "\001CLOSE", 6) == 0) {
				peer_say(pl.peer, (const char *)b,
				    (ssize_t)n - 6);
				peer_close(pl.peer);
			} else
				peer_say(pl.peer, (const char *)b, (ssize_t)n);
			peer_settle(pl.peer);
		} else {
			/* nothing to say: the engine must be waiting on a
			   deadline, never on nothing */
			FUZZ_CHECK(peer_deadline(pl.peer) >= 0);
			peer_advance(pl.peer, peer_deadline(pl.peer));
		}
	}
	FUZZ_CHECK(pl.done == 1);
	if (getenv("FUZZ_ENGINE_VERBOSE") != NULL) {
		const struct record *r = smtp_session_record(pl.s);

		fprintf(stderr, "plan %#x: %zu steps, status %s, kind %s, "
		    "lines said %zu, %s\n", pl.opt, r->nsteps,
		    record_status_name(r->status),
		    record_fail_kind_name(r->fail_kind),
		    peer_said_lines(pl.peer), r->message != NULL ?
		    r->message : "");
		for (i = 0; i < r->nsteps; i++)
			fprintf(stderr, "  %s %s: %s\n",
			    stage_name(r->steps[i].stage),
			    record_outcome_name(r->steps[i].outcome),
			    r->steps[i].reply != NULL ?
			    r->steps[i].reply->lines[0] : "-");
	}
	check(smtp_session_record(pl.s), peer_said_lines(pl.peer));
	smtp_session_free(pl.s);
	peer_free(pl.peer);
	/* freed bufferevents finish on the loop */
	for (rounds = 0; rounds < 10 && event_base_get_num_events(base,
	    EVENT_BASE_COUNT_ACTIVE) > 0; rounds++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	/* nothing may stay behind on the shared loop */
	FUZZ_CHECK(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED |
	    EVENT_BASE_COUNT_ACTIVE) == 0);
	return 0;
}

/*
 * dsn_text.c - the human-readable text of bounces.
 *
 * dsn_human() reads the lines of a text part up to the returned
 * message, with one recogniser per dialect: Sendmail transcripts
 * (">>>" / "<<<"), "<addr>:" paragraphs (Postfix, qmail, Sendmail),
 * Gmail, Exchange and Exim. Each finding becomes a record in ctx.txt
 * (dsn_txt_add()); these carry the SMTP stage, which the
 * delivery-status part never states.
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dsn.h"
#include "dsn_int.h"
#include "log.h"
#include "record.h"
#include "reply.h"
#include "util.h"

static int	 is_cut(const struct span *);
static int	 loose_addr(const struct span *, struct span *);
static size_t	 letters(const char *, size_t);
static size_t	 rx_loose(struct ctx *, const struct span *, size_t, size_t);
static size_t	 rx_sendmail(struct ctx *, const struct span *, size_t,
		    size_t, struct sm *);
static void	 sm_reply(struct ctx *, struct sm *, const char *, size_t);
static size_t	 rx_angle(struct ctx *, const struct span *, size_t, size_t);
static size_t	 rx_gmail(struct ctx *, const struct span *, size_t, size_t);
static char	*back_rcpt(const struct span *, size_t, const char *, int);
static size_t	 rx_exchange(struct ctx *, const struct span *, size_t,
		    size_t);
static size_t	 rx_exim(struct ctx *, const struct span *, size_t, size_t);
static size_t	 rx_notreach(struct ctx *, const struct span *, size_t,
		    size_t);
static void	 exim_reply(struct rec *, const char *, size_t);
static size_t	 rx_bare(struct ctx *, const struct span *, size_t, size_t);
static size_t	 rx_labelled(struct ctx *, const struct span *, size_t,
		    size_t);
static size_t	 rx_smtrans(struct ctx *, const struct span *, size_t,
		    size_t, const struct sm *);
static const char *code_in(const char *, size_t);
static void	 own_error(struct rec *);

/*
 * is_cut - 1 if the line starts the returned message, end of the text:
 * "This is a copy of the message", "---- START OF RETURNED MESSAGE
 * ----", "Original message follows.", "----- Message header follows
 * -----", "A summary of the undelivered message you sent follows:",
 * "|---- Message text follows: ----|", "--- The header of the original
 * message is following. ---"; not "Message log follows"
 * (Smail's log of the failure) nor "Transcript of session follows"
 */
static int
is_cut(const struct span *l)
{
	struct span	 t = dsn_trim(l->p, l->len < 200 ? l->len : 200);

	while (t.len > 0 && (t.p[0] == '|' || t.p[0] == '=' || t.p[0] == '*'))
		t = dsn_trim(t.p + 1, t.len - 1);
	if (dsn_ci_find(t.p, t.len, "This is a copy of the message") != NULL ||
	    dsn_ci_find(t.p, t.len, "start of returned message") != NULL ||
	    dsn_ci_prefix(t.p, t.len, "Original message headers:") ||
	    dsn_ci_prefix(t.p, t.len, "Original message as received") ||
	    dsn_ci_prefix(t.p, t.len, "Original message follows") ||
	    dsn_ci_prefix(t.p, t.len, "--- Below this line is a copy"))
		return 1;
	if (t.len > 120 || dsn_ci_find(t.p, t.len, "log follow") != NULL ||
	    (dsn_ci_find(t.p, t.len, "message") == NULL &&
	    dsn_ci_find(t.p, t.len, "header") == NULL))
		return 0;
	return (dsn_ci_prefix(t.p, t.len, "---") ||
	    dsn_ci_find(t.p, t.len, "you sent follows") != NULL) &&
	    (dsn_ci_find(t.p, t.len, "follows") != NULL ||
	    dsn_ci_find(t.p, t.len, "follow:") != NULL ||
	    dsn_ci_find(t.p, t.len, "is following") != NULL);
}

/* dsn_human - scan the lines of a human-readable text part */
void
dsn_human(struct ctx *c, const struct span *l, size_t n)
{
	struct sm	 sm;
	size_t		 i, k, end, before;

	for (end = 0; end < n && !is_cut(&l[end]); end++)
		;
	memset(&sm, 0, sizeof(sm));
	sm.last = -1;
	before = c->txt.n;
	for (i = 0; i < end; i += k > 0 ? k : 1) {
		if ((k = rx_sendmail(c, l, end, i, &sm)) > 0 ||
		    (k = rx_angle(c, l, end, i)) > 0 ||
		    (k = rx_gmail(c, l, end, i)) > 0 ||
		    (k = rx_exchange(c, l, end, i)) > 0 ||
		    (k = rx_exim(c, l, end, i)) > 0 ||
		    (k = rx_notreach(c, l, end, i)) > 0 ||
		    (k = rx_bare(c, l, end, i)) > 0 ||
		    (k = rx_labelled(c, l, end, i)) > 0 ||
		    (k = rx_smtrans(c, l, end, i, &sm)) > 0)
			continue;
	}
	free(sm.host);
	for (i = before; i < c->txt.n && c->txt.v[i].it.reply == NULL &&
	    c->txt.v[i].it.text == NULL && c->txt.v[i].it.stage == -1; i++)
		;
	if (i < c->txt.n)
		return;		/* a recogniser found a reason or stage */
	for (i = 0, k = 0; i < end && k < 64; i++)
		k += rx_loose(c, l, end, i);
}

/* loose_addr - span of the address around the first '@' of a line */
static int
loose_addr(const struct span *l, struct span *a)
{
	const char	*p = l->p, *at;
	size_t		 len = l->len < 1024 ? l->len : 1024, b, e;

	if ((at = memchr(p, '@', len)) == NULL)
		return 0;
	for (b = (size_t)(at - p); b > 0 && strchr(" \t<>()\"';,:",
	    p[b - 1]) == NULL; b--)
		;
	for (e = (size_t)(at - p) + 1; e < len && strchr(" \t<>()\"';,:",
	    p[e]) == NULL; e++)
		;
	if (b == (size_t)(at - p) || e == (size_t)(at - p) + 1)
		return 0;
	a->p = p + b;
	a->len = e - b;
	return 1;
}

/* letters - count of ASCII letters in p[0..n) */
static size_t
letters(const char *p, size_t n)
{
	size_t	 i, k = 0;

	for (i = 0; i < n; i++)
		if ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z'))
			k++;
	return k;
}

/*
 * rx_loose - the last resort for a text in which no recogniser found a
 * reason (a reply or an error text): a line
 * naming an address (not a header line, not the postmaster's) and the
 * reason beside it or on up to three lines under it ("<a@b>:" then
 * "The e-mail message could not be delivered because the user's
 * mailfolder is full.", "a@b (user not found)", "User's mailbox is
 * full: <a@b>"). The reason is kept as the reply, without a code
 * unless it starts with one. Returns 1 when a record was made.
 */
static size_t
rx_loose(struct ctx *c, const struct span *l, size_t n, size_t i)
{
	static const char *hdrs[] = { "to:", "from:", "cc:", "bcc:",
	    "sent:", "date:", "subject:", "reply-to:", "return-path:",
	    "delivered-to:", "message-id:", "received:", "sender:",
	    "errors-to:", "envelope-to:", "x-", "in-reply-to:",
	    "references:", "list-", "final-recipient:",
	    "original-recipient:", "reporting-mta:", "remote-mta:",
	    "diagnostic-code:", "action:", "status:", "arrival-date:",
	    "last-attempt-date:", "received-from-mta:" };
	const char	*after;
	struct span	 a, t = dsn_trim(l[i].p, l[i].len);
	struct rec	 r;
	char		 buf[1024];
	size_t		 w = 0, j, m;
	int		 under;

	if (!loose_addr(&l[i], &a) || t.len == 0 ||
	    dsn_ci_find(a.p, a.len, "postmaster@") != NULL ||
	    dsn_ci_find(a.p, a.len, "mailer-daemon@") != NULL)
		return 0;
	for (m = 0; m < nitems(hdrs); m++)
		if (dsn_ci_prefix(t.p, t.len, hdrs[m]))
			return 0;	/* "To: a@b", a quoted header */
	/* the line without the address */
	m = (size_t)(a.p - l[i].p);
	if (m > 0 && l[i].p[m - 1] == '<')
		m--;
	if (m > 0 && letters(l[i].p, m) >= 8) {
		memcpy(buf, l[i].p, m < 400 ? m : 400);
		w = m < 400 ? m : 400;
	}
	m = (size_t)(a.p + a.len - l[i].p);
	if (m < l[i].len && l[i].p[m] == '>')
		m++;
	after = l[i].p + m;
	if (letters(after, l[i].len - m) >= 8 &&
	    dsn_ci_find(after, l[i].len - m, " on ") == NULL) {
		m = l[i].len - m < 400 ? l[i].len - m : 400;
		memcpy(buf + w, after, m);
		w += m;
	}
	under = w == 0;
	for (j = i + 1; under && j < n && j < i + 4 && !dsn_blank(&l[j]) &&
	    memchr(l[j].p, '@', l[j].len) == NULL; j++) {
		t = dsn_trim(l[j].p, l[j].len);
		if (dsn_ci_prefix(t.p, t.len, "---"))
			break;
		if (dsn_ci_prefix(t.p, t.len, "subject:"))
			continue;	/* the returned message's subject */
		m = t.len < 300 ? t.len : 300;
		if (w > 0)
			buf[w++] = ' ';
		memcpy(buf + w, t.p, m);
		w += m;
	}
	/* a sentence that runs on: "addressed to a@b'," / "failed because" */
	t = dsn_trim(l[i].p, l[i].len);
	if (!under && i + 1 < n && !dsn_blank(&l[i + 1]) &&
	    strchr(".!):", t.p[t.len - 1]) == NULL) {
		t = dsn_trim(l[i + 1].p, l[i + 1].len);
		m = t.len < 300 ? t.len : 300;
		for (j = 0; j < t.len && t.p[j] >= 'a' && t.p[j] <= 'z'; j++)
			;
		if ((a.len < t.len && strncasecmp(t.p, a.p, a.len) == 0) ||
		    (j >= 3 && j < t.len && t.p[j] == ' ')) {
			if (w + 1 + m > sizeof(buf))
				m = sizeof(buf) - w - 1;
			buf[w++] = ' ';
			memcpy(buf + w, t.p, m);
			w += m;
		}
	}
	if (letters(buf, w) < 8)
		return 0;
	memset(&r, 0, sizeof(r));
	r.it.stage = -1;
	r.it.recipient = dsn_addr_clean(a.p, a.len);
	r.it.reply = dsn_norm_reply(buf, w);
	dsn_txt_add(c, &r);
	return 1;
}

/*
 * rx_sendmail - Sendmail transcript lines: "... while talking to H.:",
 * ">>> COMMAND" and "<<< reply". Replies are paired with commands in
 * order (which also handles pipelining); a 3xx to DATA makes the next
 * reply the end-of-data one. Records RCPT failures per address and the
 * first other failure of the session.
 */
static size_t
rx_sendmail(struct ctx *c, const struct span *l, size_t n, size_t i,
    struct sm *sm)
{
	const char	*p = l[i].p, *f;
	struct span	 h;
	char		*buf;
	size_t		 len = l[i].len, j, w, k;
	int		 st, more;

	if ((f = dsn_ci_find(p, len < 1024 ? len : 1024, "while talking to ")) !=
	    NULL) {
		f += 17;
		dsn_host_at(f, len - (size_t)(f - p), &h);
		free(sm->host);
		sm->host = dsn_mkstr(h.p, h.len);
		sm->qn = 0;
		sm->last = -1;
		sm->sawcmd = sm->rcptfail = sm->failed = 0;
		return 1;
	}
	if (len >= 4 && memcmp(p, ">>> ", 4) == 0) {
		st = dsn_stage_word(p + 4, len - 4, 1);
		sm->sawcmd = 1;
		if (st == STAGE_EOD && sm->qn > 0 &&
		    sm->q[sm->qn - 1] == STAGE_EOD)
			return 1;
		if (sm->qn < DSN_SM_QUEUE) {
			sm->q[sm->qn] = st;
			sm->qrcpt[sm->qn].p = NULL;
			sm->qrcpt[sm->qn].len = 0;
			if (st == STAGE_RCPT && (f = memchr(p, ':', len)) !=
			    NULL) {
				sm->qrcpt[sm->qn].p = f + 1;
				sm->qrcpt[sm->qn].len = len -
				    (size_t)(f + 1 - p);
			}
			sm->qn++;
		}
		return 1;
	}
	if (len < 4 || memcmp(p, "<<< ", 4) != 0)
		return 0;
	/* one reply: "<<< 550-..." lines up to "<<< 550 ..." */
	for (j = i, w = 0, more = 1; more && j < n && l[j].len >= 4 &&
	    memcmp(l[j].p, "<<< ", 4) == 0; j++) {
		w += l[j].len - 4 + 1;
		more = l[j].len >= 8 && l[j].p[7] == '-';
	}
	buf = xmalloc(w + 1);
	for (k = i, w = 0; k < j; k++) {
		memcpy(buf + w, l[k].p + 4, l[k].len - 4);
		w += l[k].len - 4;
		buf[w++] = ' ';
	}
	sm_reply(c, sm, buf, w);
	free(buf);
	return j - i;
}

/* sm_reply - pair a complete "<<<" reply with its command */
static void
sm_reply(struct ctx *c, struct sm *sm, const char *buf, size_t w)
{
	struct rec	 t;
	struct span	 rc = { NULL, 0 };
	int		 st, code;

	if (sm->qn > 0) {
		st = sm->q[0];
		rc = sm->qrcpt[0];
		memmove(sm->q, sm->q + 1, (sm->qn - 1) * sizeof(sm->q[0]));
		memmove(sm->qrcpt, sm->qrcpt + 1,
		    (sm->qn - 1) * sizeof(sm->qrcpt[0]));
		sm->qn--;
	} else
		st = sm->sawcmd ? sm->last : STAGE_BANNER;
	sm->last = st;
	code = dsn_code_at(buf, w);
	if (st == STAGE_DATA && code >= 300 && code < 400 &&
	    sm->qn < DSN_SM_QUEUE) {
		memmove(sm->q + 1, sm->q, sm->qn * sizeof(sm->q[0]));
		memmove(sm->qrcpt + 1, sm->qrcpt,
		    sm->qn * sizeof(sm->qrcpt[0]));
		sm->q[0] = STAGE_EOD;
		sm->qrcpt[0].p = NULL;
		sm->qrcpt[0].len = 0;
		sm->qn++;
	}
	if (code < 400)
		return;
	if (st != STAGE_RCPT &&
	    (sm->failed || (st == STAGE_DATA && sm->rcptfail)))
		return;
	memset(&t, 0, sizeof(t));
	t.it.stage = st;
	t.it.reply = dsn_norm_reply(buf, w);
	if (sm->host != NULL)
		t.it.remote_mta = xstrdup(sm->host);
	if (st == STAGE_RCPT) {
		sm->rcptfail = 1;
		if (rc.p != NULL)
			t.it.recipient = dsn_token_addr(rc.p, rc.len);
		if (t.it.recipient == NULL && rc.p != NULL)
			t.it.recipient = dsn_addr_clean(rc.p, rc.len);
	} else
		sm->failed = 1;
	dsn_txt_add(c, &t);
}

/*
 * rx_angle - a paragraph opened by "<addr>" at the start of a line:
 *   Postfix  "<x@y>: host H[IP] said: 550 ... (in reply to RCPT TO
 *            command)", folded onto indented lines;
 *   qmail    "<x@y>:" then unindented lines ("Remote host said: ...");
 *   Sendmail "<x@y>" then "    (reason: 550 ...)".
 */
static size_t
rx_angle(struct ctx *c, const struct span *l, size_t n, size_t i)
{
	const char	*p = l[i].p, *gt, *rest, *s, *e, *tail, *q;
	struct rec	 t;
	struct span	 a, o = { NULL, 0 }, para;
	char		*cb;
	size_t		 len = l[i].len, rl, j, cl, k;
	int		 colon;

	if (len < 3 || p[0] != '<' ||
	    (gt = memchr(p, '>', len < 1024 ? len : 1024)) == NULL ||
	    gt == p + 1)
		return 0;
	a.p = p + 1;
	a.len = (size_t)(gt - a.p);
	if (memchr(a.p, ' ', a.len) != NULL)
		return 0;
	rest = gt + 1;
	rl = len - (size_t)(rest - p);
	if (dsn_ci_prefix(rest, rl, " (expanded from <") &&
	    (q = memchr(rest, '>', rl)) != NULL) {
		o.p = rest + 17;
		o.len = (size_t)(q - o.p);
		rest = q + 1;
		rl = len - (size_t)(rest - p);
		if (rl > 0 && rest[0] == ')') {
			rest++;
			rl--;
		}
	}
	if (rl > 0 && rest[0] == ':') {
		colon = 1;
		rest++;
		rl--;
	} else if (dsn_trim(rest, rl).len == 0)
		colon = 0;
	else
		return 0;
	for (j = i + 1; j < n && !dsn_blank(&l[j]); j++) {
		if (colon && dsn_trim(rest, rl).len == 0) {
			if (l[j].p[0] == '<')
				break;
		} else if (l[j].p[0] != ' ' && l[j].p[0] != '\t')
			break;
	}
	if (dsn_trim(rest, rl).len > 0)
		para.p = rest;
	else if (j > i + 1)
		para.p = l[i + 1].p;
	else
		para.p = rest;
	para.len = j > i + 1 ? (size_t)(l[j - 1].p + l[j - 1].len - para.p) :
	    rl;

	memset(&t, 0, sizeof(t));
	t.it.stage = -1;
	t.it.recipient = dsn_addr_clean(a.p, a.len);
	if (o.p != NULL)
		t.orcpt = dsn_addr_clean(o.p, o.len);
	cb = dsn_collapse(para.p, para.len, DSN_SCAN_MAX, &cl);
	e = cb + cl;
	if ((s = dsn_ci_find(cb, cl, "(reason: ")) != NULL) {
		s += 9;
		if ((q = dsn_mem_rchr(s, ')', (size_t)(e - s))) != NULL)
			e = q;
		t.it.reply = dsn_norm_reply(s, (size_t)(e - s));
	} else if ((s = dsn_ci_find(cb, cl, "refused to talk to me:")) != NULL ||
	    (s = dsn_ci_find(cb, cl, " said:")) != NULL) {
		q = (const char *)memchr(s, ':', (size_t)(e - s)) + 1;
		tail = dsn_ci_rfind(q, (size_t)(e - q), "(in reply to ");
		for (k = 0; tail == NULL && k < 2; k++)
			tail = dsn_ci_find(q, (size_t)(e - q), k == 0 ?
			    " Giving up on " : " I'm not going to try again");
		t.it.reply = dsn_norm_reply(q, (size_t)((tail ? tail : e) - q));
		if (tail != NULL)
			t.it.stage = dsn_stage_span(tail, (size_t)(e - tail));
		if (t.it.stage == -1)
			t.it.stage = dsn_stage_span(cb, (size_t)(q - cb));
		t.it.remote_mta = dsn_host_in(cb, (size_t)(s - cb));
	} else {
		t.it.stage = dsn_stage_span(cb, cl);
		t.it.remote_mta = dsn_host_in(cb, cl);
		/* qmail, local delivery: the reason is the paragraph */
		if (t.it.stage == -1 && t.it.remote_mta == NULL &&
		    letters(cb, cl) >= 8)
			t.it.reply = dsn_norm_reply(cb, cl < 1024 ? cl : 1024);
		/* the mailer's own error ("lost connection with H while
		   sending RCPT TO", "conversation with H timed out"): no
		   reply, but its words say why, not the bounce's preamble */
		else if (letters(cb, cl) >= 8)
			t.it.text = dsn_norm_reply(cb, cl < 1024 ? cl : 1024);
	}
	free(cb);
	dsn_txt_add(c, &t);
	return j - i;
}

/*
 * rx_gmail - "The response from the remote server was:" (also "The
 * error that the other server returned was:", "The response was:")
 * with the reply on the rest of the line or the following lines.
 */
static size_t
rx_gmail(struct ctx *c, const struct span *l, size_t n, size_t i)
{
	static const char *const lead[] = {
	    "The response from the remote server was:",
	    "The error that the other server returned was:",
	    "The response was:", "Remote server replied:",
	    "The server responded with:", "Remote server reply:" };
	const char	*f = NULL, *start;
	struct span	 r, h;
	struct rec	 t;
	size_t		 j, k, skip;

	for (k = 0; k < nitems(lead) && f == NULL; k++)
		if ((f = dsn_ci_find(l[i].p, l[i].len, lead[k])) != NULL)
			f += strlen(lead[k]);
	if (f == NULL)
		return 0;
	r = dsn_trim(f, l[i].len - (size_t)(f - l[i].p));
	j = i + 1;
	start = r.len > 0 ? r.p : NULL;
	if (start == NULL) {
		for (skip = 0; j < n && dsn_blank(&l[j]) && skip < 2; skip++)
			j++;
		if (j < n && !dsn_blank(&l[j]))
			start = l[j].p;
	}
	memset(&t, 0, sizeof(t));
	t.it.stage = -1;
	if (start != NULL) {
		while (j < n && !dsn_blank(&l[j]))
			j++;
		t.it.reply = dsn_norm_reply(start,
		    (size_t)(l[j - 1].p + l[j - 1].len - start));
	}
	t.it.recipient = back_rcpt(l, i, "delivered to ", 0);
	if (t.it.recipient == NULL)
		t.it.recipient = back_rcpt(l, i, "following recipient", 1);
	for (k = i; k-- > 0 && i - k <= 60; ) {
		/* "rejected by the server for the recipient domain D by H." */
		if ((f = dsn_ci_find(l[k].p, l[k].len, "recipient domain ")) ==
		    NULL || (f = dsn_ci_find(f, l[k].len - (size_t)(f - l[k].p),
		    " by ")) == NULL)
			continue;
		f += 4;
		dsn_host_at(f, l[k].len - (size_t)(f - l[k].p), &h);
		t.it.remote_mta = dsn_mkstr(h.p, h.len);
		break;
	}
	dsn_txt_add(c, &t);
	return j - i;
}

/*
 * back_rcpt - look back from line i (at most 60 lines) for a line with
 * the phrase; the address is the word after it, or with next set the
 * first word of the next non-blank line.
 */
static char *
back_rcpt(const struct span *l, size_t i, const char *phrase, int next)
{
	const char	*f;
	size_t		 k, m;

	for (k = i; k-- > 0 && i - k <= 60; ) {
		if ((f = dsn_ci_find(l[k].p, l[k].len, phrase)) == NULL)
			continue;
		if (!next) {
			f += strlen(phrase);
			return dsn_token_addr(f, l[k].len - (size_t)(f - l[k].p));
		}
		for (m = k + 1; m < i && dsn_blank(&l[m]); m++)
			;
		return m < i ? dsn_token_addr(l[m].p, l[m].len) : NULL;
	}
	return NULL;
}

/*
 * rx_exchange - "Remote Server returned '550 5.1.1 ...'" (the quoted
 * reply may run over a few lines) or "#550 5.1.1 ... ##"; the
 * recipient is the lone address on the line before, or the one in
 * "Your message to x@y couldn't be delivered".
 */
static size_t
rx_exchange(struct ctx *c, const struct span *l, size_t n, size_t i)
{
	const char	*p = l[i].p, *f, *q, *e = NULL;
	struct span	 t0 = dsn_trim(l[i].p, l[i].len);
	struct rec	 t;
	size_t		 len = l[i].len, j = i + 1, k;

	memset(&t, 0, sizeof(t));
	t.it.stage = -1;
	if ((f = dsn_ci_find(p, len, "Remote Server returned")) != NULL &&
	    (q = memchr(f, '\'', len - (size_t)(f - p) < 40 ?
	    len - (size_t)(f - p) : 40)) != NULL) {
		q++;
		for (j = i; j < n && j < i + 6 && (j == i || !dsn_blank(&l[j]));
		    j++) {
			f = j == i ? q : l[j].p;
			k = (size_t)(l[j].p + l[j].len - f);
			if ((e = dsn_mem_rchr(f, '\'', k)) != NULL)
				break;
		}
		if (e == NULL) {
			j = i;
			e = p + len;
		}
		t.it.reply = dsn_norm_reply(q, (size_t)(e - q));
		j++;
	} else if (t0.len > 5 && t0.p[0] == '#' &&
	    dsn_code_at(t0.p + 1, t0.len - 1) != 0) {
		q = t0.p + 1;
		e = dsn_ci_find(q, t0.len - 1, " ##");
		t.it.reply = dsn_norm_reply(q, e != NULL ? (size_t)(e - q) :
		    t0.len - 1);
	} else
		return 0;
	for (k = i; k-- > 0 && i - k <= 3; ) {
		if (dsn_blank(&l[k]))
			continue;
		t0 = dsn_trim(l[k].p, l[k].len);
		if (memchr(t0.p, ' ', t0.len) == NULL &&
		    memchr(t0.p, '\t', t0.len) == NULL)
			t.it.recipient = dsn_token_addr(t0.p, t0.len);
		break;
	}
	if (t.it.recipient == NULL)
		t.it.recipient = back_rcpt(l, i, "Your message to ", 0);
	dsn_txt_add(c, &t);
	return j - i;
}

/*
 * rx_exim - an indented lone address followed by more deeply indented
 * lines: "host H [IP]", "SMTP error from remote mail server after
 * RCPT TO:<x@y>:" and the reply, either after that colon or on the
 * following lines (optionally prefixed "host H [IP]: ").
 */
static size_t
rx_exim(struct ctx *c, const struct span *l, size_t n, size_t i)
{
	struct span	 t0, lt, h;
	struct rec	 t;
	const char	*f, *a, *e, *end;
	size_t		 ind, j, k, m;

	if (l[i].len == 0 || (l[i].p[0] != ' ' && l[i].p[0] != '\t'))
		return 0;
	t0 = dsn_trim(l[i].p, l[i].len);
	if (t0.len == 0 || t0.len > 512 || memchr(t0.p, '@', t0.len) == NULL)
		return 0;
	for (k = 0; k < t0.len; k++)
		if (dsn_isws((unsigned char)t0.p[k]))
			return 0;
	ind = (size_t)(t0.p - l[i].p);
	for (j = i + 1; j < n && !dsn_blank(&l[j]) &&
	    (size_t)(dsn_trim(l[j].p, l[j].len).p - l[j].p) > ind; j++)
		;
	memset(&t, 0, sizeof(t));
	t.it.stage = -1;
	t.it.recipient = dsn_addr_clean(t0.p, t0.len);
	end = j > i + 1 ? l[j - 1].p + l[j - 1].len : NULL;
	for (k = i + 1; k < j; k++) {
		lt = dsn_trim(l[k].p, l[k].len);
		if (dsn_ci_prefix(lt.p, lt.len, "(generated from ") &&
		    t.orcpt == NULL) {
			t.orcpt = dsn_addr_clean(lt.p + 16, lt.len - 16);
			continue;
		}
		if ((f = dsn_ci_find(lt.p, lt.len, "SMTP error from remote ")) !=
		    NULL) {
			m = lt.len - (size_t)(f - lt.p);
			a = dsn_ci_find(f, m, " after ");
			for (e = a != NULL ? a : f; e < lt.p + lt.len; e++)
				if (*e == ':' && (e + 1 == lt.p + lt.len ||
				    dsn_isws((unsigned char)e[1])))
					break;
			t.it.stage = dsn_stage_span(f, (size_t)(e - f));
			if (e < lt.p + lt.len)
				e++;
			lt = dsn_trim(e, (size_t)(lt.p + lt.len - e));
			if (lt.len > 0)
				exim_reply(&t, lt.p, (size_t)(end - lt.p));
			else if (k + 1 < j)
				exim_reply(&t, l[k + 1].p,
				    (size_t)(end - l[k + 1].p));
			break;
		}
		if (dsn_ci_prefix(lt.p, lt.len, "host ") && t.it.reply == NULL) {
			m = dsn_host_at(lt.p + 5, lt.len - 5, &h);
			if (t.it.remote_mta == NULL)
				t.it.remote_mta = dsn_mkstr(h.p, h.len);
			if (dsn_code_at(lt.p + 5 + m, lt.len - 5 - m) != 0)
				exim_reply(&t, lt.p, (size_t)(end - lt.p));
		}
	}
	/* Exim's own error under the address ("Unrouteable address",
	   "retry timeout exceeded", a filter's words): the item's text */
	for (k = i + 1; t.it.reply == NULL && t.it.stage == -1 && k < j; k++) {
		lt = dsn_trim(l[k].p, l[k].len);
		if (dsn_ci_prefix(lt.p, lt.len, "(generated from "))
			continue;
		if (letters(lt.p, (size_t)(end - lt.p)) >= 8)
			t.it.text = dsn_norm_reply(lt.p, (size_t)(end - lt.p) <
			    1024 ? (size_t)(end - lt.p) : 1024);
		break;
	}
	dsn_txt_add(c, &t);
	return j - i;
}

/* exim_reply - reply from p[0..n), after an optional "host H [IP]: " */
static void
exim_reply(struct rec *t, const char *p, size_t n)
{
	struct span	 r = dsn_trim(p, n), h;
	size_t		 m;

	if (dsn_ci_prefix(r.p, r.len, "host ")) {
		m = dsn_host_at(r.p + 5, r.len - 5, &h);
		if (t->it.remote_mta == NULL)
			t->it.remote_mta = dsn_mkstr(h.p, h.len);
		r.p += 5 + m;
		r.len -= 5 + m;
	}
	free(t->it.reply);
	t->it.reply = dsn_norm_reply(r.p, r.len);
}

/*
 * rx_notreach - older Exchange and GroupWise: "did not reach the
 * following recipient(s):", then "x@y on DATE" and the reason on the
 * indented lines after it ("The recipient name is not recognized").
 */
static size_t
rx_notreach(struct ctx *c, const struct span *l, size_t n, size_t i)
{
	struct span	 t0, a;
	struct rec	 t;
	const char	*start = NULL;
	size_t		 j = i + 1, k;

	if (dsn_ci_find(l[i].p, l[i].len,
	    "did not reach the following recipient") == NULL)
		return 0;
	while (j < n && dsn_blank(&l[j]))
		j++;
	if (j >= n || !loose_addr(&l[j], &a))
		return 0;
	memset(&t, 0, sizeof(t));
	t.it.stage = -1;
	t.it.recipient = dsn_addr_clean(a.p, a.len);
	for (k = j + 1; k < n && k < j + 4 && !dsn_blank(&l[k]); k++) {
		t0 = dsn_trim(l[k].p, l[k].len);
		/* the reason lines are indented; the MTS-ID line is not one */
		if (t0.p == l[k].p || dsn_ci_prefix(t0.p, t0.len, "the mts-id"))
			break;
		if (start == NULL)
			start = t0.p;
	}
	if (start != NULL)
		t.it.reply = dsn_norm_reply(start,
		    (size_t)(l[k - 1].p + l[k - 1].len - start));
	dsn_txt_add(c, &t);
	return k - i;
}

/*
 * rx_bare - a session transcript without Sendmail's ">>>" and "<<<"
 * (MDaemon, some appliances): a line that is an SMTP command alone
 * ("RCPT To:<x@y>", "MAIL From:<x@y> SIZE=1861", "DATA", "EHLO h")
 * and, on the next non-blank line, a 4xx or 5xx reply to it ("552-"
 * continuation lines joined). The recipient is the RCPT address.
 */
static size_t
rx_bare(struct ctx *c, const struct span *l, size_t n, size_t i)
{
	static const char *const cmd[] = { "RCPT TO:", "MAIL FROM:", "DATA",
	    "EHLO ", "HELO ", "LHLO " };
	struct span	 t = dsn_trim(l[i].p, l[i].len), r;
	struct rec	 rec;
	char		*buf;
	size_t		 j, k, w;
	int		 st, code;

	for (k = 0; k < nitems(cmd); k++)
		if (dsn_ci_prefix(t.p, t.len, cmd[k]))
			break;
	if (k == nitems(cmd) || t.len > 512 ||
	    (k == 2 && t.len != 4) || (k < 2 && memchr(t.p, '<', t.len) ==
	    NULL))
		return 0;
	for (j = i + 1; j < n && dsn_blank(&l[j]); j++)
		;
	if (j >= n)
		return 0;
	r = dsn_trim(l[j].p, l[j].len);
	code = dsn_code_at(r.p, r.len);
	if (code < 400 || code > 599 || r.len < 4 ||
	    (r.p[3] != ' ' && r.p[3] != '-'))
		return 0;
	st = dsn_stage_word(t.p, t.len, 0);
	/* the reply: its "552-" lines up to the "552 " one */
	for (k = j, w = 0; k < n && k < j + 32; k++) {
		r = dsn_trim(l[k].p, l[k].len);
		if (dsn_code_at(r.p, r.len) != code)
			break;
		w += r.len + 1;
		if (r.len < 4 || r.p[3] != '-') {
			k++;
			break;
		}
	}
	buf = xmalloc(w + 1);
	for (w = 0; j < k; j++) {
		r = dsn_trim(l[j].p, l[j].len);
		memcpy(buf + w, r.p, r.len);
		w += r.len;
		buf[w++] = ' ';
	}
	memset(&rec, 0, sizeof(rec));
	rec.it.stage = st;
	rec.it.reply = dsn_norm_reply(buf, w);
	if (st == STAGE_RCPT)
		rec.it.recipient = dsn_token_addr(t.p + 8, t.len - 8);
	free(buf);
	dsn_txt_add(c, &rec);
	return k - i;
}

/*
 * code_in - the first reply code in p[0..n) that opens a reply ("550
 * 5.1.10 ...", "550-'5.4.1 ...'"): a 4xx or 5xx with an enhanced code
 * after it; NULL if none
 */
static const char *
code_in(const char *p, size_t n)
{
	char		 enh[16];
	size_t		 i, k;

	for (i = 0; i + 8 < n; i++) {
		if ((i > 0 && !dsn_isws((unsigned char)p[i - 1]) &&
		    p[i - 1] != '\'' && p[i - 1] != '"' && p[i - 1] != '#') ||
		    (p[i] != '4' && p[i] != '5') ||
		    dsn_code_at(p + i, n - i) == 0)
			continue;
		k = i + 4;
		if (k < n && (p[k] == '\'' || p[k] == '"'))
			k++;
		if (dsn_enh_at(p + k, n - k, enh) > 0 && enh[0] == p[i])
			return p + i;
	}
	return NULL;
}

/*
 * rx_labelled - a reply after a label of its own, in Office 365 and
 * other appliances' reports: "Error: 550 5.1.10 RESOLVER.ADR...",
 * "Reported error: 550 5.1.10 ...", "Reason: 550 5.4.1 ...", or "The
 * reason for the problem:" with "5.1.0 - Unknown address error
 * 550-'5.4.1 Recipient address rejected ...'" on the next line. The
 * recipient is the one the report names ("Recipient Address:", "Your
 * message to", "message to <x>").
 */
static size_t
rx_labelled(struct ctx *c, const struct span *l, size_t n, size_t i)
{
	static const char *const lab[] = { "error:", "reported error:",
	    "reason:", "the reason for the problem:", "diagnostic code:" };
	struct span	 t = dsn_trim(l[i].p, l[i].len), r;
	struct rec	 rec;
	const char	*q;
	char		 buf[1024];
	size_t		 k, j = i + 1, w;

	for (k = 0; k < nitems(lab); k++)
		if (dsn_ci_prefix(t.p, t.len, lab[k]))
			break;
	if (k == nitems(lab))
		return 0;
	r = dsn_trim(t.p + strlen(lab[k]), t.len - strlen(lab[k]));
	if (r.len == 0 && j < n) {
		r = dsn_trim(l[j].p, l[j].len);
		j++;
	}
	if ((q = code_in(r.p, r.len < 200 ? r.len : 200)) == NULL)
		return 0;
	/* "550-'5.4.1 text'" becomes "550 5.4.1 text" */
	w = 0;
	memcpy(buf, q, 3);
	w = 3;
	buf[w++] = ' ';
	q += 4;
	if (*q == '\'' || *q == '"')
		q++;
	k = (size_t)(r.p + r.len - q);
	if (k > 0 && (q[k - 1] == '\'' || q[k - 1] == '"'))
		k--;
	if (k > sizeof(buf) - w)
		k = sizeof(buf) - w;
	memcpy(buf + w, q, k);
	w += k;
	memset(&rec, 0, sizeof(rec));
	rec.it.stage = -1;
	rec.it.reply = dsn_norm_reply(buf, w);
	for (k = 0; k < 3 && rec.it.recipient == NULL; k++)
		rec.it.recipient = back_rcpt(l, i, k == 0 ?
		    "Recipient Address:" : k == 1 ? "Your message to " :
		    "message to ", 0);
	dsn_txt_add(c, &rec);
	return j - i;
}

/*
 * own_error - a transcript line that is the sending mailer's own error
 * about reaching the server ("554 could not connect and send the mail
 * to H", "451 4.4.1 reply: read error", "550 5.1.2 Host unknown (Name
 * server: H: host not found)"), not a remote reply: its code is the
 * mailer's, so the words without it become the item's text
 */
static void
own_error(struct rec *r)
{
	static const char *const own[] = { "could not connect",
	    "connection refused", "connection timed out", "timed out while",
	    "host not found", "host unknown", "name server:",
	    "no route to host", "network is unreachable", "read error",
	    "lost connection", "no valid mx", "deferred: connection" };
	const char	*p = r->it.reply;
	char		 enh[16];
	size_t		 k, n;

	if (p == NULL)
		return;
	n = strlen(p);
	for (k = 0; k < nitems(own); k++)
		if (dsn_ci_find(p, n, own[k]) != NULL)
			break;
	if (k == nitems(own) || dsn_code_at(p, n) == 0 || n < 5)
		return;
	p += 4;
	if ((k = dsn_enh_at(p, strlen(p), enh)) > 0 && p[k] == ' ')
		p += k + 1;
	r->it.text = xstrdup(p);
	free(r->it.reply);
	r->it.reply = NULL;
}

/*
 * rx_smtrans - Sendmail's "----- Transcript of session follows -----"
 * without ">>>" and "<<<" lines: a line that starts with a 4xx or 5xx
 * code is the reply (or the mailer's own error, "554 could not connect
 * ...", "554 Too many hops"); it is for the first address under "had
 * permanent fatal errors". A transcript with ">>>" is rx_sendmail's.
 */
static size_t
rx_smtrans(struct ctx *c, const struct span *l, size_t n, size_t i,
    const struct sm *sm)
{
	struct span	 t;
	struct rec	 rec;
	size_t		 j, k;

	if (sm->sawcmd || dsn_ci_find(l[i].p, l[i].len,
	    "transcript of session follows") == NULL)
		return 0;
	for (j = i + 1; j < n && j < i + 40; j++) {
		t = dsn_trim(l[j].p, l[j].len);
		if (dsn_ci_prefix(t.p, t.len, "---") ||
		    (t.len >= 4 && (memcmp(t.p, ">>> ", 4) == 0 ||
		    memcmp(t.p, "<<< ", 4) == 0)))
			return 0;
		if (t.p != l[j].p || dsn_code_at(t.p, t.len) < 400 ||
		    t.len < 8)
			continue;
		/* the reply and its "554-" continuation lines */
		for (k = j + 1; k < n && k < j + 16; k++) {
			struct span u = dsn_trim(l[k].p, l[k].len);

			if (dsn_code_at(u.p, u.len) != dsn_code_at(t.p, t.len))
				break;
		}
		memset(&rec, 0, sizeof(rec));
		rec.it.stage = -1;
		rec.it.reply = dsn_norm_reply(t.p,
		    (size_t)(l[k - 1].p + l[k - 1].len - t.p));
		own_error(&rec);
		rec.it.recipient = back_rcpt(l, i, "fatal errors", 1);
		if (rec.it.recipient == NULL)
			rec.it.recipient = back_rcpt(l, i,
			    "had delivery problems", 1);
		dsn_txt_add(c, &rec);
		return k - i;
	}
	return 0;
}

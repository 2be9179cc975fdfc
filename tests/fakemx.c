/*
 * fakemx.c - a scriptable fake SMTP server for the smtprobe tests.
 *
 * usage: fakemx [-CTm] [-a addr] [-p port] [-U path] [-P portfile]
 *	      [-l logfile] [-c cert -k key] [-n maxconn] [-t secs] script
 *
 * Listens on a loopback address only (default 127.0.0.1, port 0 =
 * ephemeral) and speaks just enough SMTP for a client to be tested
 * against: every reply can be replaced, delayed, dripped byte by byte,
 * withheld, or followed by a close, a reset, a flood or an endless line.
 * -P writes the bound port to a file (atomically, via rename), -l
 * appends a transcript ("C:" command lines, "D:" DATA lines, "S:" reply
 * lines, "***" events), -c/-k enable STARTTLS, -T makes it implicit
 * TLS, -C asks the client for a certificate (any is taken, none is
 * fine; logged, see below), -n exits after that many connections have come and gone, and -t
 * is a watchdog (exit 2) so that a test can never hang on the server.
 * -m logs how many connections the clients hold open: "*** open N" after
 * each accept and "*** max-open N" at exit. A connection stops counting
 * as soon as the client's FIN (or an error) has arrived, even while the
 * server still lingers or has not read it yet (the kernel's TCP state is
 * asked at each accept), so N is what the client side had open at once:
 * the batch tests check per-destination caps with it.
 *
 * The script holds one directive per line ('#' comment lines and blank
 * lines are ignored):
 *	reply KEY LINE		append LINE + CRLF to the reply
 *	raw KEY BYTES		append BYTES (\r \n \t \\ \0 \xHH decoded)
 *	delay KEY MS		wait MS milliseconds before replying
 *	drip KEY MS		send the reply a byte every MS milliseconds
 *	stall KEY		never reply (stall TLS: never do the handshake)
 *	close KEY		close (FIN) after the reply, if any
 *	reset KEY		abort (RST) after the reply, if any
 *	flood KEY LINE		then send LINE + CRLF until 200 MB or EOF
 *	longline KEY N		then send a reply line of N bytes "250 xxx..."
 *	keepopen QUIT		do not close after the reply to QUIT
 *	repeat KEY N LINE	append N copies of LINE + CRLF to the reply
 *				(N up to 1000000: huge EHLO and banner replies)
 *	tlsclose KEY		under TLS, send a TLS close_notify after the
 *				reply, if any, then close like close (a
 *				reply cut short by "raw" and then tlsclose
 *				is a close_notify in the middle of a reply)
 *	under KEY BYTES		under TLS, instead of a reply write BYTES (as
 *				for raw) to the TCP connection beneath the TLS
 *				layer, not as a TLS record, then stall: garbage
 *				in the TLS stream (without TLS, plain bytes)
 *	deaf KEY		send the reply, if any, then never read
 *				again nor answer: the client's data fills
 *				the TCP window (KEY DATA with its 354: a
 *				server that takes no message body)
 *	inject LINE		plaintext LINE + CRLF after a 220 to STARTTLS
 *	greylist MS [LINE]	greylisting: RCPT of a triplet (client
 *				address, MAIL FROM, RCPT TO) not seen before,
 *				or first seen less than MS milliseconds ago,
 *				gets LINE (default "450 4.2.0 Greylisted,
 *				try again later") across connections; later
 *				the usual reply. Logs "*** greylist N new",
 *				"... early" or "... pass"; a triplet that
 *				passed is forgotten, so that every run of a
 *				test (text, --json) sees the same greylist
 *	pregreet LINE		early-talker detection (postscreen's pregreet
 *				test): when the client sent anything while
 *				the greeting was delayed (delay CONNECT MS),
 *				send LINE + CRLF instead of the greeting and
 *				close. Without this directive early talk is
 *				only logged; either way "*** pregreet N
 *				BYTES" is logged
 *	auth USER SECRET [MECH,...]
 *				an account for AUTH (see below); repeatable
 *	offer LINE		add "250-LINE" to the EHLO reply (offer
 *				CHUNKING, offer XCLIENT NAME ADDR ...)
 *	nopipelining		do not offer PIPELINING (offered by default)
 *	lmtp			speak LMTP (RFC 2033): LHLO is EHLO, and after
 *				the message (EOD, or the BDAT LAST chunk)
 *				one reply per accepted recipient, in order:
 *				"250 2.1.5 <ADDR> delivered", or the line of
 *				a "recipient" directive; an EOD rule's reply
 *				replaces them all
 *	recipient ADDR LINE	LMTP: the reply after the message for the
 *				recipient ADDR (any case)
 * BDAT (RFC 3030) is always understood: "BDAT N [LAST]" takes the next
 * N bytes as they are, logs "*** bdat N SIZE" (with " last" for the
 * last chunk), answers a chunk with the BDAT rule's reply (default "250
 * 2.0.0 N bytes received") and the last with the EOD reply; the body
 * rules (EOD~TEXT) see the chunks' text.
 * -U PATH listens on a unix socket at PATH instead (the port file, if
 * any, then says 0).
 *	proxy			every connection starts with a HAProxy PROXY
 *				header (v1 text or v2 binary), read before the
 *				greeting (and before the handshake of -T) and
 *				logged as "*** proxy N v1 TCP4 SRC:SPORT
 *				DST:DPORT" (v2 the same, "LOCAL" for its LOCAL
 *				command); "*** proxy N bad WHY" when the first
 *				bytes are not one (the greeting follows anyway)
 * KEY is a command verb (any word, matched case-insensitively) or one
 * of CONNECT (greeting), EOD (end of DATA), TLS (the STARTTLS handshake),
 * AUTHDATA (a line the client sends inside an AUTH exchange, after a
 * 334) and UNKNOWN (a command with neither a rule nor a default),
 * optionally followed by #N (the Nth time on the connection) and/or
 * @tls / @plain, and last by ~TEXT: the rule applies only when TEXT (no
 * blanks, any case) occurs in the command line, or for EOD in the
 * message body (its first MiB). A ~TEXT rule beats the others; then #N@q, then #N,
 * then @q, then the bare KEY, then the built-in default. A rule that only delays,
 * drips, keeps open or goes deaf uses the default reply text; a rule
 * that closes (close, tlsclose), resets, floods, sends a long line,
 * stalls or writes beneath TLS (under) sends only what it says.
 *
 * AUTH. Each "auth" line adds an account: USER, SECRET (both with the
 * escapes of raw) and the mechanisms it may use, a comma-separated list
 * of PLAIN, LOGIN, CRAM-MD5, XOAUTH2 and OAUTHBEARER (default: all). The
 * form auth@tls makes the account exist only under TLS, auth@plain only
 * without it. EHLO offers "AUTH" with every mechanism of the accounts
 * that exist at that moment, and AUTH checks the client for real:
 *	PLAIN		with an initial response or after "334 "; the
 *			authorization identity must be empty or the user
 *	LOGIN		334 "Username:", 334 "Password:" (an initial
 *			response is the user name)
 *	CRAM-MD5	334 with a fresh challenge, then "USER HEX" with
 *			HEX the HMAC-MD5 of the challenge keyed by SECRET
 *	XOAUTH2		"user=USER^Aauth=Bearer SECRET^A^A"; a wrong one
 *			gets 334 + base64 JSON error, then after the
 *			client's empty line 535
 *	OAUTHBEARER	"n,a=USER,^A...auth=Bearer SECRET^A^A" (RFC 7628,
 *			"=2C" and "=3D" in USER); a wrong one gets 334 +
 *			base64 JSON error, then after the client's ^A 535
 * It answers 235 2.7.0 on success, 535 5.7.8 on wrong credentials, 501
 * 5.7.0 to "*" (cancel), 501 5.5.2 to bad base64, 504 5.5.4 to a
 * mechanism no account has, 503 5.5.1 when no account exists right now
 * or the client is already authenticated (STARTTLS forgets that), and
 * logs "*** auth N ok MECH USER", "*** auth N failed MECH: WHY" and
 * "*** auth N cancelled MECH". Rules for AUTH and AUTHDATA beat all of
 * this, like any rule: a scripted reply is sent instead, and when it is
 * a 334 the exchange goes on with AUTHDATA rules (an AUTHDATA line with
 * no rule then gets 501 for "*" and 535 for anything else). Without any
 * auth line, AUTH is an unknown command as before.
 *
 * The log escapes everything but printable ASCII (\\, \xHH), marks lines
 * ending in a bare LF with " [bare-LF]" (and reply bytes with no EOL at
 * all with " [no-EOL]"), and logs events as "*** listening PORT",
 * "connect N", "tls N established VERSION CIPHER", with -C then "tls N
 * client-cert SUBJECT" or "tls N no client-cert", "tls N failed WHY",
 * "tls N stalled", "tls N close_notify", "deaf N", "under N BYTES bytes",
 * "eod N LINES", "line too long N BYTES", "longline N
 * BYTES", "flood N", "flood N done BYTES", "reset N", "close N",
 * "signal SIG" and "watchdog"; N is the connection serial, from 1.
 *
 * Everything runs on one event loop; each connection has its own state
 * and handles one command at a time, so pipelined input waits while a
 * reply is delayed or dripped. Closing sends a FIN once the output has
 * drained, then waits up to 2 s for the peer's FIN.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <netdb.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#define EXIT_USAGE	64
#define MAXLINE		65536		/* bytes per input line, no EOL */
#define READ_HIWAT	(1024 * 1024)	/* stop reading above this */
#define FILL_LOWAT	(64 * 1024)	/* refill flood/longline below */
#define FILL_HIWAT	(256 * 1024)	/* ... up to this */
#define FLOOD_MAX	(200LL * 1024 * 1024)
#define CHUNK		16384
#define LINGER_MS	2000		/* wait for the peer's FIN */
#define FLUSH_POLL_MS	10
#define MAXKEY		32
#define LONGLINE_MAX	(1LL << 40)
#define MS_MAX		86400000LL

/* the built-in keys; their index is their key number */
enum {
	K_CONNECT, K_EOD, K_TLS, K_AUTHDATA, K_UNKNOWN,
	K_EHLO, K_HELO, K_MAIL, K_RCPT, K_DATA, K_RSET, K_NOOP, K_QUIT,
	K_STARTTLS, K_VRFY, K_AUTH, K_BDAT,
	K_NBUILTIN
};
#define K_NPSEUDO	K_EHLO
#define K_NONE		((size_t)-1)

static const char *builtin_keys[K_NBUILTIN] = {
	"CONNECT", "EOD", "TLS", "AUTHDATA", "UNKNOWN",
	"EHLO", "HELO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT",
	"STARTTLS", "VRFY", "AUTH", "BDAT"
};

enum qual { Q_ANY, Q_TLS, Q_PLAIN };

/* AUTH mechanisms; their index is their bit in account.mechs */
enum {
	M_PLAIN, M_LOGIN, M_CRAM_MD5, M_XOAUTH2, M_OAUTHBEARER,
	M_N
};
#define M_SCRIPTED	M_N		/* a rule's 334 began the exchange */
#define M_NONE		(-1)

static const char *mech_names[M_N] = {
	"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER"
};

/* what the next line of an AUTH exchange answers */
enum astep {
	AS_RESPONSE,	/* the response (PLAIN, CRAM-MD5, OAuth) */
	AS_USER,	/* LOGIN user name */
	AS_PASSWORD,	/* LOGIN password */
	AS_DUMMY	/* OAuth: the client's answer to the error */
};

struct account {
	struct account	*next;
	char		*user;
	char		*secret;
	unsigned int	 mechs;		/* 1 << M_* */
	enum qual	 q;		/* auth@tls, auth@plain */
};

/* script directives that take a KEY */
enum {
	D_REPLY, D_RAW, D_DELAY, D_DRIP, D_FLOOD, D_LONGLINE, D_STALL,
	D_CLOSE, D_RESET, D_KEEPOPEN, D_REPEAT, D_TLSCLOSE, D_DEAF, D_UNDER,
	D_N
};

struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

struct rule {
	struct rule	*next;
	size_t		 key;
	long		 occ;		/* 0: every occurrence */
	enum qual	 q;
	char		*match;		/* ~TEXT, lower case, or NULL */
	struct buf	 text;		/* reply bytes */
	long		 delay;		/* ms, 0 none */
	long		 drip;		/* ms, 0 none */
	int		 stall;
	int		 close;
	int		 reset;
	int		 keepopen;
	int		 tlsclose;
	int		 deaf;
	struct buf	 under;		/* bytes beneath TLS */
	struct buf	 flood;		/* whole lines, about CHUNK bytes */
	long long	 longline;	/* line length, -1 none */
};

/* the states from S_STALL on discard their input */
enum state {
	S_HANDSHAKE,	/* waiting for the TLS handshake */
	S_READY,	/* reading commands */
	S_DELAY,	/* reply delayed */
	S_DRIP,		/* reply being dripped */
	S_LONGLINE,	/* long line being sent */
	S_FLOOD,	/* flood being sent */
	S_STALL,	/* discarding input forever */
	S_FLUSH,	/* waiting for the output to drain, then close */
	S_LINGER	/* FIN sent, waiting for the peer's */
};

enum after { A_NONE, A_DATA, A_TLS };
enum finish { F_NONE, F_CLOSE, F_RESET, F_TLSCLOSE };

struct conn {
	TAILQ_ENTRY(conn)	 entry;
	unsigned long		 id;
	evutil_socket_t		 fd;
	struct bufferevent	*bev;		/* top of the stack */
	struct event		*timer;
	enum state		 state;
	int			 tls;		/* TLS active */
	int			 greeted;
	int			 greet_wait;	/* the greeting is delayed */
	char			 peer[64];	/* client address (greylist) */
	char			*mailfrom;	/* last MAIL line (greylist) */
	int			 greylisted;	/* this reply: grey_line */
	int			 body;		/* in the DATA body */
	int			 eof;		/* peer sent FIN */
	int			 counted;	/* in nopen (-m) */
	int			 in_process;	/* inside process_input() */
	unsigned long		 bodylines;
	struct buf		 bodytext;	/* first MiB of the body */
	const char		*subject;	/* what ~TEXT rules look at */
	unsigned long		*counts;	/* per key */
	char			*line;
	size_t			 linecap;
	/* the reply in progress */
	struct buf		 out;
	size_t			 outoff;
	long			 drip;
	long long		 longline;	/* 'x' bytes left, -1 none */
	const struct rule	*flood;
	long long		 sent;
	enum after		 after;
	enum finish		 finish;
	int			 deaf;		/* deaf after this reply */
	/* AUTH */
	int			 authed;	/* 235 sent (until STARTTLS) */
	int			 in_auth;	/* the last reply was a 334 */
	int			 amech;		/* M_*, M_SCRIPTED, M_NONE */
	enum astep		 astep;
	char			*auser;		/* LOGIN: the user name */
	char			 achal[96];	/* CRAM-MD5: the challenge */
	const char		*awhy;		/* OAuth: why the 334 error */
	/* BDAT and LMTP */
	long long		 bdat_left;	/* chunk bytes still to read */
	long long		 bdat_size;
	int			 bdat_in;	/* reading a chunk */
	int			 bdat_last;
	char			**rcpts;	/* LMTP: accepted, in order */
	size_t			 nrcpts;
};

struct lmtp_rcpt {
	struct lmtp_rcpt	*next;
	char			*addr;
	char			*line;
};

static TAILQ_HEAD(, conn) conns = TAILQ_HEAD_INITIALIZER(conns);
static struct rule		*rules;
static struct account		*accounts;	/* in script order */
static char			**keys;
static size_t			 nkeys;
static struct buf		 inject;
static struct buf		 pregreet;	/* the pregreet directive */

/* the greylist directive: triplets seen, when first */
#define GREY_MAX	256
static long			 grey_ms = -1;	/* -1: no greylisting */
static struct buf		 grey_line;
static struct grey {
	char			*triplet;
	struct timespec		 first;
}				 greys[GREY_MAX];
static size_t			 ngreys;
static FILE			*logfp;
static SSL_CTX			*ctx;
static struct event_base	*base;
static struct evconnlistener	*listener;
static int			 implicit_tls;
static struct buf		 offers;	/* "offer" lines */
static int			 no_pipelining;
static int			 lmtp;
static struct lmtp_rcpt		*lmtp_rcpts;
static int			 want_client_cert;	/* -C */
static unsigned long		 maxconn;
static unsigned long		 naccepted;
static unsigned long		 nclosed;
static unsigned long		 nextid;
static int			 count_open;	/* -m */
static unsigned long		 nopen, maxopen;
static int			 exitcode;
static int			 shutting_down;
static char			 xs[CHUNK];
static int			 expect_proxy;	/* "proxy" */

static void	usage(void);
static void	fatal(const char *, ...);
static void	*xcalloc(size_t, size_t);
static void	*xrealloc(void *, size_t);
static void	buf_add(struct buf *, const void *, size_t);
static void	buf_addstr(struct buf *, const char *);
static int	parse_num(const char *, long long, long long, long long *);
static size_t	key_index(const char *, size_t, int);
static int	parse_key(const char *, size_t *, long *, enum qual *,
		    char **);
static int	unescape(struct buf *, const char *);
static struct rule *rule_get(size_t, long, enum qual, const char *);
static const struct rule *rule_find(size_t, unsigned long, int,
		    const char *);
static char	*next_word(char **);
static const char *script_line(char *);
static void	script_load(const char *);
static void	script_free(void);
static void	log_event(const char *, ...);
static void	log_bytes(const char *, const char *, size_t, const char *);
static void	log_reply(const char *, size_t);
static void	timer_ms(struct conn *, long);
static void	drain_input(struct conn *);
static int	conn_flushed(struct conn *);
static void	conn_free(struct conn *);
static void	conn_uncount(struct conn *);
static void	count_gone(void);
static int	conn_getline(struct conn *, size_t *, int *);
static void	process_input(struct conn *);
static void	command_line(struct conn *, size_t, int);
static void	body_line(struct conn *, size_t, int);
static void	default_reply(struct conn *, size_t);
static void	lmtp_replies(struct conn *);
static void	rcpts_clear(struct conn *);
static void	rcpt_note(struct conn *, const char *);
static int	bdat_command(struct conn *, size_t);
static void	bdat_input(struct conn *);
static void	greet(struct conn *);
static void	greet_early(struct conn *);
static void	enter_stall(struct conn *);
static void	reply_start(struct conn *, size_t);
static void	reply_send(struct conn *);
static void	drip_next(struct conn *);
static void	reply_content_done(struct conn *);
static void	fill_longline(struct conn *);
static void	fill_flood(struct conn *);
static void	reply_finish(struct conn *);
static void	start_tls(struct conn *);
static void	tls_established(struct conn *);
static void	log_client_cert(struct conn *, SSL *);
static int	accept_any_cert(int, X509_STORE_CTX *);
static void	tls_failed(struct conn *, short);
static void	conn_setup(struct conn *);
static void	conn_readcb(struct bufferevent *, void *);
static void	conn_writecb(struct bufferevent *, void *);
static void	conn_eventcb(struct bufferevent *, short, void *);
static void	conn_timercb(evutil_socket_t, short, void *);
static void	acceptcb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	stopcb(evutil_socket_t, short, void *);
static int	proxy_recv(evutil_socket_t, unsigned char *, size_t);
static void	proxy_v2(struct conn *, const unsigned char *);
static void	proxy_read(struct conn *);
static int	parse_addr(const char *, long long, struct sockaddr_storage *,
		    socklen_t *);
static void	write_portfile(const char *, unsigned int);
static void	tls_setup(const char *, const char *);
static const char *auth_script(const char *, char *);
static unsigned int auth_offered(const struct conn *);
static const struct account *auth_account(const struct conn *,
		    const char *, int);
static char	*auth_unb64(const char *, size_t *);
static void	auth_b64(struct buf *, const char *, size_t);
static void	auth_reply(struct conn *, const char *);
static void	auth_end(struct conn *);
static char	*auth_printable(const char *);
static void	auth_ok(struct conn *, const char *);
static void	auth_fail(struct conn *, const char *, const char *);
static void	auth_cancel(struct conn *);
static int	auth_secret_is(const struct account *, const char *, size_t);
static void	auth_check(struct conn *, const char *, int);
static void	auth_plain(struct conn *, const char *, size_t);
static void	auth_cram(struct conn *, const char *, size_t);
static void	auth_oauth(struct conn *, const char *, size_t);
static void	auth_challenge(struct conn *, const char *, size_t);
static void	auth_command(struct conn *);
static void	auth_data(struct conn *);
static int	last_is_334(const struct buf *);

static void
usage(void)
{
	fprintf(stderr, "usage: fakemx [-CTm] [-a addr] [-p port] "
	    "[-P portfile] [-U path] [-l logfile]\n"
	    "              [-c cert -k key] [-n maxconn] [-t secs] script\n");
	exit(EXIT_USAGE);
}

static void
fatal(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "fakemx: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n, size)) == NULL)
		fatal("out of memory");
	return p;
}

static void *
xrealloc(void *p, size_t size)
{
	if ((p = realloc(p, size)) == NULL)
		fatal("out of memory");
	return p;
}

static void
buf_add(struct buf *b, const void *data, size_t len)
{
	size_t	 cap;

	if (len == 0)
		return;
	if (b->len + len > b->cap) {
		cap = b->cap ? b->cap : 64;
		while (cap < b->len + len)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void
buf_addstr(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* parse_num - a decimal in [min, max], trailing blanks allowed */
static int
parse_num(const char *s, long long min, long long max, long long *out)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || errno != 0 || v < min || v > max)
		return -1;
	end += strspn(end, " \t");
	if (*end != '\0')
		return -1;
	*out = v;
	return 0;
}

/*
 * key_index - the number of key NAME (len bytes, any case), K_NONE if
 * unknown; with create, add it. With create unset, pseudo keys are not
 * found: they are not verbs a client can send.
 */
static size_t
key_index(const char *name, size_t len, int create)
{
	size_t	 i;

	for (i = create ? 0 : K_NPSEUDO; i < nkeys; i++)
		if (strlen(keys[i]) == len &&
		    strncasecmp(keys[i], name, len) == 0)
			return i;
	if (!create)
		return K_NONE;
	keys = xrealloc(keys, (nkeys + 1) * sizeof(*keys));
	keys[nkeys] = xcalloc(1, len + 1);
	for (i = 0; i < len; i++)
		keys[nkeys][i] = (name[i] >= 'a' && name[i] <= 'z') ?
		    name[i] - 'a' + 'A' : name[i];
	return nkeys++;
}

/* parse_key - NAME[#N][@tls|@plain][~TEXT]; *match is allocated */
static int
parse_key(const char *s, size_t *key, long *occ, enum qual *q, char **match)
{
	size_t		 n;
	long long	 v;
	char		*end;

	n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_-");
	if (n == 0 || n > MAXKEY)
		return -1;
	*key = key_index(s, n, 1);
	*occ = 0;
	*q = Q_ANY;
	*match = NULL;
	s += n;
	while (*s != '\0') {
		if (*s == '~' && s[1] != '\0') {
			size_t	 i, m = strlen(s + 1);

			*match = xcalloc(1, m + 1);
			for (i = 0; i < m; i++)
				(*match)[i] = (char)tolower(
				    (unsigned char)s[1 + i]);
			return 0;
		} else if (*s == '#' && *occ == 0) {
			errno = 0;
			v = strtoll(s + 1, &end, 10);
			if (end == s + 1 || errno != 0 || v < 1 ||
			    v > LONG_MAX || s[1] == '-' || s[1] == '+')
				return -1;
			*occ = (long)v;
			s = end;
		} else if (*q == Q_ANY && strncasecmp(s, "@tls", 4) == 0) {
			*q = Q_TLS;
			s += 4;
		} else if (*q == Q_ANY && strncasecmp(s, "@plain", 6) == 0) {
			*q = Q_PLAIN;
			s += 6;
		} else
			return -1;
	}
	return 0;
}

/* unescape - append s with \r \n \t \\ \0 \xH or \xHH decoded */
static int
unescape(struct buf *b, const char *s)
{
	static const char	 from[] = "rnt\\0", to[] = "\r\n\t\\";
	const char		*p;
	char			 c, hex[3];
	size_t			 n;

	for (; *s != '\0'; s++) {
		if (*s != '\\')
			c = *s;
		else if (*++s == 'x' && isxdigit((unsigned char)s[1])) {
			n = isxdigit((unsigned char)s[2]) ? 2 : 1;
			memcpy(hex, s + 1, n);
			hex[n] = '\0';
			c = (char)strtol(hex, NULL, 16);
			s += n;
		} else if (*s != '\0' && (p = strchr(from, *s)) != NULL)
			c = to[p - from];
		else
			return -1;
		buf_add(b, &c, 1);
	}
	return 0;
}

static struct rule *
rule_get(size_t key, long occ, enum qual q, const char *match)
{
	struct rule	*r;

	for (r = rules; r != NULL; r = r->next)
		if (r->key == key && r->occ == occ && r->q == q &&
		    (r->match == NULL ? match == NULL :
		    match != NULL && strcmp(r->match, match) == 0))
			return r;
	r = xcalloc(1, sizeof(*r));
	if (match != NULL) {
		r->match = xcalloc(1, strlen(match) + 1);
		memcpy(r->match, match, strlen(match));
	}
	r->key = key;
	r->occ = occ;
	r->q = q;
	r->longline = -1;
	r->next = rules;
	rules = r;
	return r;
}

/* rule_find - the most specific rule for the count-th KEY, or NULL */
static const struct rule *
rule_find(size_t key, unsigned long count, int tls, const char *subject)
{
	const struct rule	*r, *best = NULL;
	int			 score, bestscore = -1;

	for (r = rules; r != NULL; r = r->next) {
		if (r->key != key)
			continue;
		if (r->match != NULL && (subject == NULL ||
		    strcasestr(subject, r->match) == NULL))
			continue;
		if (r->occ != 0 && (unsigned long)r->occ != count)
			continue;
		if ((r->q == Q_TLS && !tls) || (r->q == Q_PLAIN && tls))
			continue;
		score = (r->match != NULL) * 4 + (r->occ != 0) * 2 +
		    (r->q != Q_ANY);
		if (score > bestscore) {
			best = r;
			bestscore = score;
		}
	}
	return best;
}

/* next_word - cut the word at *sp off, skip the blanks after it */
static char *
next_word(char **sp)
{
	char	*w = *sp, *s;

	s = w + strcspn(w, " \t");
	if (*s != '\0')
		*s++ = '\0';
	*sp = s + strspn(s, " \t");
	return w;
}

/* script_line - parse one script line; an error message or NULL */
static const char *
script_line(char *s)
{
	static const char	*dirs[D_N] = { "reply", "raw", "delay", "drip",
	    "flood", "longline", "stall", "close", "reset", "keepopen",
	    "repeat", "tlsclose", "deaf", "under" };
	static char		 err[128];
	char			*dir, *keyw, *match = NULL;
	struct rule		*r;
	size_t			 key, d, n;
	long			 occ;
	enum qual		 q;
	long long		 v;

	s += strspn(s, " \t");
	if (*s == '\0' || *s == '#')
		return NULL;
	dir = next_word(&s);
	if (strncmp(dir, "auth", 4) == 0 && (dir[4] == '\0' || dir[4] == '@'))
		return auth_script(dir, s);
	if (strcmp(dir, "greylist") == 0) {
		char	*ms = next_word(&s);

		if (parse_num(ms, 0, MS_MAX, &v) == -1)
			return "greylist needs milliseconds";
		grey_ms = (long)v;
		grey_line.len = 0;
		buf_addstr(&grey_line, *s != '\0' ? s :
		    "450 4.2.0 Greylisted, try again later");
		buf_add(&grey_line, "\r\n", 2);
		return NULL;
	}
	if (strcmp(dir, "pregreet") == 0) {
		if (*s == '\0')
			return "pregreet needs a LINE";
		pregreet.len = 0;
		buf_addstr(&pregreet, s);
		buf_add(&pregreet, "\r\n", 2);
		return NULL;
	}
	if (strcmp(dir, "offer") == 0) {
		if (*s == '\0')
			return "offer needs a LINE";
		buf_addstr(&offers, "250-");
		buf_addstr(&offers, s);
		buf_add(&offers, "\r\n", 2);
		return NULL;
	}
	if (strcmp(dir, "nopipelining") == 0) {
		no_pipelining = 1;
		return NULL;
	}
	if (strcmp(dir, "lmtp") == 0) {
		lmtp = 1;
		return NULL;
	}
	if (strcmp(dir, "recipient") == 0) {
		struct lmtp_rcpt *lr = xcalloc(1, sizeof(*lr));

		lr->addr = strdup(next_word(&s));
		lr->line = strdup(s);
		if (lr->addr == NULL || lr->line == NULL)
			fatal("out of memory");
		lr->next = lmtp_rcpts;
		lmtp_rcpts = lr;
		if (*lr->addr == '\0' || *lr->line == '\0')
			return "recipient needs ADDR and LINE";
		return NULL;
	}
	if (strcmp(dir, "proxy") == 0) {
		expect_proxy = 1;
		return *s == '\0' ? NULL : "proxy takes no argument";
	}
	if (strcmp(dir, "inject") == 0) {
		if (*s == '\0')
			return "inject needs a LINE";
		buf_addstr(&inject, s);
		buf_add(&inject, "\r\n", 2);
		return NULL;
	}
	for (d = 0; d < D_N && strcmp(dir, dirs[d]) != 0; d++)
		;
	if (d == D_N) {
		snprintf(err, sizeof(err), "unknown directive \"%.40s\"", dir);
		return err;
	}
	if (*(keyw = next_word(&s)) == '\0')
		return "missing KEY";
	if (parse_key(keyw, &key, &occ, &q, &match) == -1) {
		snprintf(err, sizeof(err), "bad KEY \"%.40s\"", keyw);
		return err;
	}
	if (key == K_TLS && d != D_STALL)
		return "only stall applies to TLS";
	if (d == D_KEEPOPEN && key != K_QUIT)
		return "keepopen only applies to QUIT";
	r = rule_get(key, occ, q, match);
	free(match);
	if (d == D_REPLY) {
		buf_addstr(&r->text, s);
		buf_add(&r->text, "\r\n", 2);
	} else if (d == D_RAW || d == D_UNDER) {
		if (*s == '\0' || unescape(d == D_RAW ? &r->text : &r->under,
		    s) == -1)
			return "bad or missing BYTES";
	} else if (d == D_DELAY || d == D_DRIP) {
		if (parse_num(s, 0, MS_MAX, &v) == -1)
			return "bad milliseconds";
		*(d == D_DELAY ? &r->delay : &r->drip) = (long)v;
	} else if (d == D_FLOOD) {
		if (*s == '\0')
			return "flood needs a LINE";
		r->flood.len = 0;
		n = strlen(s);
		do {
			buf_add(&r->flood, s, n);
			buf_add(&r->flood, "\r\n", 2);
		} while (r->flood.len + n + 2 <= CHUNK);
	} else if (d == D_LONGLINE) {
		if (parse_num(s, 4, LONGLINE_MAX, &r->longline) == -1)
			return "bad longline length (4 or more)";
	} else if (d == D_REPEAT) {
		char	*num = next_word(&s);

		if (parse_num(num, 1, 1000000, &v) == -1 || *s == '\0')
			return "repeat needs N (1 to 1000000) and a LINE";
		n = strlen(s);
		for (; v > 0; v--) {
			buf_add(&r->text, s, n);
			buf_add(&r->text, "\r\n", 2);
		}
	} else if (*s != '\0')
		return "unexpected argument";
	else
		*(d == D_STALL ? &r->stall : d == D_CLOSE ? &r->close :
		    d == D_RESET ? &r->reset : d == D_TLSCLOSE ? &r->tlsclose :
		    d == D_DEAF ? &r->deaf : &r->keepopen) = 1;
	return NULL;
}

static void
script_load(const char *path)
{
	FILE		*f;
	char		*line = NULL;
	size_t		 cap = 0;
	ssize_t		 n;
	unsigned long	 lineno = 0;
	const char	*err;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "fakemx: %s: %s\n", path, strerror(errno));
		exit(EXIT_USAGE);
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if ((err = script_line(line)) != NULL) {
			fprintf(stderr, "%s:%lu: %s\n", path, lineno, err);
			free(line);
			fclose(f);
			script_free();
			exit(EXIT_USAGE);
		}
	}
	free(line);
	fclose(f);
}

static void
script_free(void)
{
	struct rule	*r;
	struct account	*a;
	size_t		 i;

	while ((r = rules) != NULL) {
		rules = r->next;
		free(r->text.p);
		free(r->flood.p);
		free(r->under.p);
		free(r->match);
		free(r);
	}
	while ((a = accounts) != NULL) {
		accounts = a->next;
		free(a->user);
		OPENSSL_cleanse(a->secret, strlen(a->secret));
		free(a->secret);
		free(a);
	}
	for (i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
	free(inject.p);
}

static void
log_event(const char *fmt, ...)
{
	va_list	 ap;

	if (logfp == NULL)
		return;
	fputs("*** ", logfp);
	va_start(ap, fmt);
	vfprintf(logfp, fmt, ap);
	va_end(ap);
	fputc('\n', logfp);
	fflush(logfp);
}

/* log_bytes - PFX, s escaped, SFX, newline */
static void
log_bytes(const char *pfx, const char *s, size_t len, const char *sfx)
{
	static const char	 hex[] = "0123456789abcdef";
	char			 tmp[1024];
	size_t			 i, n = 0;
	unsigned char		 ch;

	if (logfp == NULL)
		return;
	fputs(pfx, logfp);
	for (i = 0; i < len; i++) {
		if (n + 4 > sizeof(tmp)) {
			fwrite(tmp, 1, n, logfp);
			n = 0;
		}
		ch = (unsigned char)s[i];
		if (ch == '\\') {
			tmp[n++] = '\\';
			tmp[n++] = '\\';
		} else if (ch >= 0x20 && ch < 0x7f)
			tmp[n++] = (char)ch;
		else {
			tmp[n++] = '\\';
			tmp[n++] = 'x';
			tmp[n++] = hex[ch >> 4];
			tmp[n++] = hex[ch & 15];
		}
	}
	fwrite(tmp, 1, n, logfp);
	fputs(sfx, logfp);
	fputc('\n', logfp);
	fflush(logfp);
}

/* log_reply - one "S:" line per line of the reply bytes */
static void
log_reply(const char *s, size_t len)
{
	const char	*nl;
	size_t		 n;

	while (len > 0) {
		if ((nl = memchr(s, '\n', len)) == NULL) {
			log_bytes("S: ", s, len, " [no-EOL]");
			return;
		}
		n = nl - s;
		if (n > 0 && s[n - 1] == '\r')
			log_bytes("S: ", s, n - 1, "");
		else
			log_bytes("S: ", s, n, " [bare-LF]");
		s += n + 1;
		len -= n + 1;
	}
}

static void
timer_ms(struct conn *c, long ms)
{
	struct timeval	 tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(c->timer, &tv);
}

static void
drain_input(struct conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);

	evbuffer_drain(in, evbuffer_get_length(in));
}

/* conn_flushed - nothing left in any output buffer of the stack */
static int
conn_flushed(struct conn *c)
{
	struct bufferevent	*b;

	for (b = c->bev; b != NULL; b = bufferevent_get_underlying(b))
		if (evbuffer_get_length(bufferevent_get_output(b)) > 0)
			return 0;
	return 1;
}

/* conn_uncount - the client is gone (FIN, error or close): -m count */
static void
conn_uncount(struct conn *c)
{
	if (c->counted) {
		c->counted = 0;
		nopen--;
	}
}

/*
 * count_gone - -m: stop counting the connections whose client has
 * closed (its FIN is in, whether or not it was read): CLOSE_WAIT,
 * LAST_ACK, CLOSING, TIME_WAIT or CLOSE
 */
static void
count_gone(void)
{
	struct conn	*c;
	struct tcp_info	 ti;
	socklen_t	 len;

	TAILQ_FOREACH(c, &conns, entry) {
		if (!c->counted)
			continue;
		len = sizeof(ti);
		if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1 ||
		    ti.tcpi_state == TCP_CLOSE_WAIT ||
		    ti.tcpi_state == TCP_LAST_ACK ||
		    ti.tcpi_state == TCP_CLOSING ||
		    ti.tcpi_state == TCP_TIME_WAIT || ti.tcpi_state == TCP_CLOSE)
			conn_uncount(c);
	}
}

static void
conn_free(struct conn *c)
{
	conn_uncount(c);
	TAILQ_REMOVE(&conns, c, entry);
	log_event("close %lu", c->id);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	event_free(c->timer);
	free(c->counts);
	free(c->line);
	rcpts_clear(c);
	free(c->out.p);
	free(c->bodytext.p);
	free(c->auser);
	free(c->mailfrom);
	free(c);
	nclosed++;
	if (!shutting_down && maxconn > 0 && nclosed >= maxconn) {
		exitcode = 0;
		event_base_loopbreak(base);
	}
}

/*
 * conn_getline - take one line off the input into c->line (NUL added,
 * EOL removed): 1 got one, 0 need more, -1 too long (*len = its size).
 */
static int
conn_getline(struct conn *c, size_t *len, int *bare)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr	 p;
	size_t			 n, avail;

	avail = evbuffer_get_length(in);
	p = evbuffer_search(in, "\n", 1, NULL);
	if (p.pos < 0) {
		if (avail > MAXLINE + 1) {
			*len = avail;
			return -1;
		}
		return 0;
	}
	n = (size_t)p.pos;
	if (n > MAXLINE + 1) {
		*len = n;
		return -1;
	}
	if (c->linecap < n + 2) {
		c->linecap = n + 2 < 256 ? 256 : n + 2;
		c->line = xrealloc(c->line, c->linecap);
	}
	evbuffer_remove(in, c->line, n + 1);
	if (n > 0 && c->line[n - 1] == '\r') {
		n--;
		*bare = 0;
	} else
		*bare = 1;
	c->line[n] = '\0';
	*len = n;
	if (n > MAXLINE)
		return -1;
	return 1;
}

/* process_input - handle the lines already received; may free c */
static void
process_input(struct conn *c)
{
	size_t	 len;
	int	 bare, r;

	c->in_process = 1;
	while (c->state == S_READY) {
		if (c->bdat_in) {
			bdat_input(c);
			if (c->bdat_in)
				break;	/* more bytes to come */
			continue;
		}
		if ((r = conn_getline(c, &len, &bare)) == 0)
			break;
		if (r < 0) {
			log_event("line too long %lu %zu", c->id, len);
			conn_free(c);
			return;
		}
		if (c->body)
			body_line(c, len, bare);
		else
			command_line(c, len, bare);
	}
	c->in_process = 0;
	if (c->state == S_READY && c->eof)
		conn_free(c);
}

/*
 * grey_check - the greylist directive: 1 if this RCPT's triplet is to
 * be temp-failed now (new, or first seen less than grey_ms ago)
 */
static int
grey_check(struct conn *c, size_t len)
{
	struct timespec	 now;
	char		*t;
	size_t		 i;
	long		 ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (asprintf(&t, "%s|%s|%.*s", c->peer, c->mailfrom != NULL ?
	    c->mailfrom : "", (int)len, c->line) == -1)
		return 0;
	for (i = 0; i < ngreys; i++)
		if (strcasecmp(greys[i].triplet, t) == 0)
			break;
	if (i == ngreys) {
		if (ngreys < GREY_MAX) {
			greys[ngreys].triplet = t;
			greys[ngreys++].first = now;
		} else
			free(t);
		log_event("greylist %lu new", c->id);
		return 1;
	}
	free(t);
	ms = (now.tv_sec - greys[i].first.tv_sec) * 1000 +
	    (now.tv_nsec - greys[i].first.tv_nsec) / 1000000;
	log_event("greylist %lu %s", c->id, ms < grey_ms ? "early" : "pass");
	if (ms < grey_ms)
		return 1;
	/* passed: forgotten, so that the next run starts over */
	free(greys[i].triplet);
	greys[i] = greys[--ngreys];
	return 0;
}

static void
command_line(struct conn *c, size_t len, int bare)
{
	size_t	 n, key;

	log_bytes("C: ", c->line, len, bare ? " [bare-LF]" : "");
	if (c->in_auth) {
		/* inside an AUTH exchange every line is an answer */
		c->counts[K_AUTHDATA]++;
		c->subject = c->line;
		reply_start(c, K_AUTHDATA);
		return;
	}
	for (n = 0; n < len && c->line[n] != ' '; n++)
		;
	key = n <= MAXKEY ? key_index(c->line, n, 0) : K_NONE;
	if (lmtp && n == 4 && strncasecmp(c->line, "LHLO", 4) == 0)
		key = K_EHLO;
	if (key == K_BDAT && bdat_command(c, n) == 0)
		return;
	if (key == K_MAIL) {
		free(c->mailfrom);
		c->mailfrom = strndup(c->line, len);
	}
	if (key == K_RCPT && grey_ms >= 0)
		c->greylisted = grey_check(c, len);
	if (key != K_NONE) {
		c->counts[key]++;
		/* without accounts AUTH is unknown, unless a rule says */
		if ((key < K_NBUILTIN && (key != K_AUTH || accounts != NULL)) ||
		    rule_find(key, c->counts[key], c->tls, c->line) != NULL) {
			c->subject = c->line;
			reply_start(c, key);
			return;
		}
	}
	c->counts[K_UNKNOWN]++;
	c->subject = c->line;
	reply_start(c, K_UNKNOWN);
}

/*
 * bdat_command - "BDAT N [LAST]": start reading the chunk (0), or -1
 * when the line is not one (then it is answered as any command)
 */
static int
bdat_command(struct conn *c, size_t n)
{
	char		*p = c->line + n, *end;
	long long	 size;

	while (*p == ' ')
		p++;
	errno = 0;
	size = strtoll(p, &end, 10);
	if (end == p || errno != 0 || size < 0)
		return -1;
	p = end;
	while (*p == ' ')
		p++;
	c->bdat_last = strcasecmp(p, "LAST") == 0;
	if (*p != '\0' && !c->bdat_last)
		return -1;
	c->counts[K_BDAT]++;
	c->bdat_size = c->bdat_left = size;
	c->bdat_in = 1;
	bdat_input(c);
	return 0;
}

/* bdat_input - take the chunk's bytes; when all are in, answer */
static void
bdat_input(struct conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	size_t		 avail = evbuffer_get_length(in), n, i;
	char		 tmp[CHUNK];

	while (c->bdat_left > 0 && avail > 0) {
		n = avail < sizeof(tmp) ? avail : sizeof(tmp);
		if ((long long)n > c->bdat_left)
			n = (size_t)c->bdat_left;
		evbuffer_remove(in, tmp, n);
		for (i = 0; i < n; i++)
			if (tmp[i] == '\n')
				c->bodylines++;
		if (c->bodytext.len + n + 1 < 1024 * 1024)
			buf_add(&c->bodytext, tmp, n);
		c->bdat_left -= (long long)n;
		avail -= n;
	}
	if (c->bdat_left > 0)
		return;
	c->bdat_in = 0;
	log_event("bdat %lu %lld%s", c->id, c->bdat_size, c->bdat_last ?
	    " last" : "");
	if (!c->bdat_last) {
		reply_start(c, K_BDAT);
		return;
	}
	log_event("eod %lu %lu", c->id, c->bodylines);
	c->bodylines = 0;
	c->counts[K_EOD]++;
	buf_add(&c->bodytext, "", 1);	/* NUL for strcasestr */
	c->subject = c->bodytext.p;
	reply_start(c, K_EOD);
	c->bodytext.len = 0;
}

static void
body_line(struct conn *c, size_t len, int bare)
{
	if (len == 1 && c->line[0] == '.') {
		log_event("eod %lu %lu", c->id, c->bodylines);
		c->body = 0;
		c->counts[K_EOD]++;
		buf_add(&c->bodytext, "", 1);	/* NUL for strcasestr */
		c->subject = c->bodytext.p;
		reply_start(c, K_EOD);
		c->bodytext.len = 0;
		return;
	}
	log_bytes("D: ", c->line, len, bare ? " [bare-LF]" : "");
	c->bodylines++;
	if (c->bodytext.len + len + 1 < 1024 * 1024) {
		buf_add(&c->bodytext, c->line, len);
		buf_add(&c->bodytext, "\n", 1);
	}
}

/* rcpts_clear - LMTP: forget the accepted recipients */
static void
rcpts_clear(struct conn *c)
{
	size_t	 i;

	for (i = 0; i < c->nrcpts; i++)
		free(c->rcpts[i]);
	free(c->rcpts);
	c->rcpts = NULL;
	c->nrcpts = 0;
}

/* rcpt_note - LMTP: the recipient of line, if its reply accepted it */
static void
rcpt_note(struct conn *c, const char *line)
{
	const char	*a, *b;
	char		*addr;

	if (line == NULL || c->out.len < 1 || c->out.p[0] != '2' ||
	    (a = strchr(line, '<')) == NULL || (b = strchr(a, '>')) == NULL)
		return;
	if ((addr = strndup(a + 1, (size_t)(b - a - 1))) == NULL)
		fatal("out of memory");
	c->rcpts = xrealloc(c->rcpts, (c->nrcpts + 1) * sizeof(char *));
	c->rcpts[c->nrcpts++] = addr;
}

/* lmtp_replies - LMTP: one reply per accepted recipient (RFC 2033) */
static void
lmtp_replies(struct conn *c)
{
	const struct lmtp_rcpt	*lr;
	size_t			 i;
	char			 tmp[600];

	if (c->nrcpts == 0) {
		buf_addstr(&c->out, "503 5.5.1 No valid recipients\r\n");
		return;
	}
	for (i = 0; i < c->nrcpts; i++) {
		for (lr = lmtp_rcpts; lr != NULL; lr = lr->next)
			if (strcasecmp(lr->addr, c->rcpts[i]) == 0)
				break;
		if (lr != NULL)
			snprintf(tmp, sizeof(tmp), "%s\r\n", lr->line);
		else
			snprintf(tmp, sizeof(tmp), "250 2.1.5 <%.500s> "
			    "delivered\r\n", c->rcpts[i]);
		buf_addstr(&c->out, tmp);
	}
	rcpts_clear(c);
}

static void
default_reply(struct conn *c, size_t key)
{
	static const char	*dflt[K_NBUILTIN] = {
		[K_CONNECT] = "220 fakemx.test ESMTP fakemx",
		[K_HELO] = "250 fakemx.test",
		[K_MAIL] = "250 2.1.0 Ok",
		[K_RCPT] = "250 2.1.5 Ok",
		[K_DATA] = "354 End data with <CR><LF>.<CR><LF>",
		[K_RSET] = "250 2.0.0 Ok",
		[K_NOOP] = "250 2.0.0 Ok",
		[K_VRFY] = "252 2.0.0 Cannot VRFY user",
		[K_QUIT] = "221 2.0.0 Bye"
	};
	char			 tmp[128];
	const char		*s = NULL;
	unsigned int		 m;
	size_t			 i;

	if (key == K_AUTH) {
		auth_command(c);
		return;
	}
	if (key == K_AUTHDATA) {
		auth_data(c);
		return;
	}
	if (key == K_EHLO) {
		buf_addstr(&c->out, "250-fakemx.test\r\n");
		if (!no_pipelining)
			buf_addstr(&c->out, "250-PIPELINING\r\n");
		buf_addstr(&c->out, "250-SIZE 10240000\r\n"
		    "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n");
		if (offers.len > 0)
			buf_add(&c->out, offers.p, offers.len);
		if (ctx != NULL && !c->tls && !implicit_tls)
			buf_addstr(&c->out, "250-STARTTLS\r\n");
		if ((m = auth_offered(c)) != 0) {
			buf_addstr(&c->out, "250-AUTH");
			for (i = 0; i < M_N; i++)
				if (m & (1U << i)) {
					buf_addstr(&c->out, " ");
					buf_addstr(&c->out, mech_names[i]);
				}
			buf_addstr(&c->out, "\r\n");
		}
		s = "250 SMTPUTF8";
	} else if (key == K_EOD && lmtp) {
		lmtp_replies(c);
		return;
	} else if (key == K_EOD) {
		snprintf(tmp, sizeof(tmp), "250 2.0.0 Ok: queued as FAKE%lu",
		    c->id);
		s = tmp;
	} else if (key == K_BDAT) {
		snprintf(tmp, sizeof(tmp), "250 2.0.0 %lld bytes received",
		    c->bdat_size);
		s = tmp;
	} else if (key == K_STARTTLS)
		s = ctx == NULL ? "454 4.7.0 TLS not available" : c->tls ?
		    "503 5.5.1 TLS already active" :
		    "220 2.0.0 Ready to start TLS";
	else if (key < K_NBUILTIN)
		s = dflt[key];
	if (s == NULL)
		s = "500 5.5.2 Error: command not recognized";
	buf_addstr(&c->out, s);
	buf_add(&c->out, "\r\n", 2);
}

/* ---- AUTH: accounts from the script, and the server's side ---- */

/*
 * auth_script - an "auth[@tls|@plain] USER SECRET [MECH,...]" line (dir
 * is the directive word, s the rest); an error message or NULL
 */
static const char *
auth_script(const char *dir, char *s)
{
	struct account	*a, **ap;
	struct buf	 u = { NULL, 0, 0 }, pw = { NULL, 0, 0 };
	char		*uw, *sw, *mw, *tok;
	enum qual	 q;
	unsigned int	 mechs = 0;
	size_t		 i, n;

	if (dir[4] == '\0')
		q = Q_ANY;
	else if (strcasecmp(dir + 4, "@tls") == 0)
		q = Q_TLS;
	else if (strcasecmp(dir + 4, "@plain") == 0)
		q = Q_PLAIN;
	else
		return "auth takes @tls or @plain";
	uw = next_word(&s);
	sw = next_word(&s);
	mw = next_word(&s);
	if (*uw == '\0' || *sw == '\0')
		return "auth needs USER and SECRET";
	if (*s != '\0')
		return "auth: unexpected argument after the mechanisms";
	for (tok = mw; *tok != '\0'; tok += n + (tok[n] == ',')) {
		n = strcspn(tok, ",");
		for (i = 0; i < M_N; i++)
			if (strlen(mech_names[i]) == n &&
			    strncasecmp(tok, mech_names[i], n) == 0)
				break;
		if (i == M_N)
			return "auth: mechanisms are PLAIN LOGIN CRAM-MD5 "
			    "XOAUTH2 OAUTHBEARER, comma-separated";
		mechs |= 1U << i;
	}
	if (mechs == 0)
		mechs = (1U << M_N) - 1;
	if (unescape(&u, uw) == -1 || unescape(&pw, sw) == -1 ||
	    memchr(u.p, '\0', u.len) != NULL ||
	    memchr(pw.p, '\0', pw.len) != NULL) {
		free(u.p);
		free(pw.p);
		return "auth: bad escape (or NUL) in USER or SECRET";
	}
	buf_add(&u, "", 1);
	buf_add(&pw, "", 1);
	a = xcalloc(1, sizeof(*a));
	a->user = u.p;
	a->secret = pw.p;
	a->mechs = mechs;
	a->q = q;
	for (ap = &accounts; *ap != NULL; ap = &(*ap)->next)
		;
	*ap = a;
	return NULL;
}

/* auth_offered - the mechanisms of the accounts that exist right now */
static unsigned int
auth_offered(const struct conn *c)
{
	const struct account	*a;
	unsigned int		 m = 0;

	for (a = accounts; a != NULL; a = a->next)
		if (a->q == Q_ANY || (a->q == Q_TLS) == (c->tls != 0))
			m |= a->mechs;
	return m;
}

/* auth_account - the account USER that may use mech now, or NULL */
static const struct account *
auth_account(const struct conn *c, const char *user, int mech)
{
	const struct account	*a;

	for (a = accounts; a != NULL; a = a->next)
		if ((a->q == Q_ANY || (a->q == Q_TLS) == (c->tls != 0)) &&
		    (a->mechs & (1U << mech)) && strcmp(a->user, user) == 0)
			return a;
	return NULL;
}

/*
 * auth_unb64 - strict base64 (RFC 4648 4: the alphabet, padding only at
 * the end, zero pad bits); the bytes with a NUL added, NULL if invalid.
 * The client's own decoder is not used, so that a shared bug shows.
 */
static char *
auth_unb64(const char *in, size_t *outlen)
{
	static const char	 al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char		*p;
	unsigned long		 v;
	size_t			 n = strlen(in), i, j, o = 0, pad = 0, d;
	char			*out;
	unsigned char		 ch;

	if (n % 4 != 0)
		return NULL;
	out = xcalloc(1, n / 4 * 3 + 1);
	for (i = 0; i < n; i += 4) {
		v = 0;
		for (j = 0; j < 4; j++) {
			ch = (unsigned char)in[i + j];
			if (ch == '=' && i + 4 == n && j >= 2 &&
			    (j == 3 || in[i + 3] == '=')) {
				pad++;
				d = 0;
			} else if (pad == 0 && (p = strchr(al, ch)) != NULL)
				d = (size_t)(p - al);
			else {
				free(out);
				return NULL;
			}
			v = v << 6 | d;
		}
		if ((pad == 1 && (v & 0xff) != 0) ||
		    (pad == 2 && (v & 0xffff) != 0)) {
			free(out);
			return NULL;
		}
		out[o++] = (char)(v >> 16);
		if (pad < 2)
			out[o++] = (char)(v >> 8 & 0xff);
		if (pad < 1)
			out[o++] = (char)(v & 0xff);
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* auth_b64 - append base64 of len bytes */
static void
auth_b64(struct buf *b, const char *s, size_t len)
{
	unsigned char	*t;
	int		 n;

	t = xcalloc(1, 4 * ((len + 2) / 3) + 1);
	n = EVP_EncodeBlock(t, (const unsigned char *)s, (int)len);
	buf_add(b, t, (size_t)n);
	free(t);
}

/* auth_reply - append one reply line */
static void
auth_reply(struct conn *c, const char *line)
{
	buf_addstr(&c->out, line);
	buf_add(&c->out, "\r\n", 2);
}

/* auth_end - no exchange under way */
static void
auth_end(struct conn *c)
{
	c->amech = M_NONE;
	c->astep = AS_RESPONSE;
	free(c->auser);
	c->auser = NULL;
	OPENSSL_cleanse(c->achal, sizeof(c->achal));
}

/* auth_printable - s for the log, non-printable bytes as '?' */
static char *
auth_printable(const char *s)
{
	char	*o;
	size_t	 i, n = strlen(s);

	o = xcalloc(1, n + 1);
	for (i = 0; i < n; i++)
		o[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	return o;
}

static void
auth_ok(struct conn *c, const char *user)
{
	char	*u = auth_printable(user);

	log_event("auth %lu ok %s %s", c->id, mech_names[c->amech], u);
	free(u);
	auth_reply(c, "235 2.7.0 Authentication successful");
	c->authed = 1;
}

/* auth_fail - log why, then reply (a 535 unless reply says otherwise) */
static void
auth_fail(struct conn *c, const char *why, const char *reply)
{
	log_event("auth %lu failed %s: %s", c->id, c->amech >= 0 &&
	    c->amech < M_N ? mech_names[c->amech] : "?", why);
	auth_reply(c, reply != NULL ? reply :
	    "535 5.7.8 Error: authentication failed");
}

static void
auth_cancel(struct conn *c)
{
	log_event("auth %lu cancelled %s", c->id, mech_names[c->amech]);
	auth_reply(c, "501 5.7.0 Authentication aborted");
}

/* auth_secret_is - the account's secret is exactly s (len bytes) */
static int
auth_secret_is(const struct account *a, const char *s, size_t len)
{
	return strlen(a->secret) == len && CRYPTO_memcmp(a->secret, s,
	    len) == 0;
}

/* auth_plain - authzid NUL authcid NUL password (RFC 4616 2) */
static void
auth_plain(struct conn *c, const char *raw, size_t len)
{
	const struct account	*a;
	const char		*authcid, *pass;
	size_t			 zl, cl;

	zl = strnlen(raw, len);
	if (zl == len || (cl = strnlen(raw + zl + 1, len - zl - 1)) ==
	    len - zl - 1) {
		auth_fail(c, "malformed (not authzid NUL user NUL password)",
		    NULL);
		return;
	}
	authcid = raw + zl + 1;
	pass = authcid + cl + 1;
	if (memchr(pass, '\0', len - zl - cl - 2) != NULL) {
		auth_fail(c, "malformed (NUL in the password)", NULL);
		return;
	}
	if (zl > 0 && strcmp(raw, authcid) != 0) {
		auth_fail(c, "authorization identity is not the user", NULL);
		return;
	}
	if ((a = auth_account(c, authcid, M_PLAIN)) == NULL) {
		auth_fail(c, "no such user", NULL);
		return;
	}
	if (!auth_secret_is(a, pass, len - zl - cl - 2)) {
		auth_fail(c, "wrong password", NULL);
		return;
	}
	auth_ok(c, authcid);
}

/* auth_cram - "USER HEX", HEX = HMAC-MD5(secret, challenge) (RFC 2195) */
static void
auth_cram(struct conn *c, const char *raw, size_t len)
{
	const struct account	*a;
	unsigned char		 mac[EVP_MAX_MD_SIZE];
	unsigned int		 maclen = 0, i;
	char			 hex[2 * EVP_MAX_MD_SIZE + 1], *user;
	const char		*sp;

	if (memchr(raw, '\0', len) != NULL ||
	    (sp = strrchr(raw, ' ')) == NULL || strlen(sp + 1) != 32) {
		auth_fail(c, "malformed (not USER SP 32 hex digits)", NULL);
		return;
	}
	user = xcalloc(1, (size_t)(sp - raw) + 1);
	memcpy(user, raw, (size_t)(sp - raw));
	if ((a = auth_account(c, user, M_CRAM_MD5)) == NULL) {
		auth_fail(c, "no such user", NULL);
		free(user);
		return;
	}
	if (HMAC(EVP_md5(), a->secret, (int)strlen(a->secret),
	    (const unsigned char *)c->achal, strlen(c->achal), mac,
	    &maclen) == NULL)
		fatal("HMAC-MD5 failed");
	for (i = 0; i < maclen; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	if (strcmp(hex, sp + 1) != 0)
		auth_fail(c, "wrong digest", NULL);
	else
		auth_ok(c, user);
	free(user);
}

/*
 * auth_oauth - XOAUTH2 "user=U^Aauth=Bearer T^A^A" or OAUTHBEARER
 * "GS2-HEADER^Akey=value^A...^A" with the user in the header's a=
 * (RFC 7628 3.1; RFC 5801 escapes). A wrong token is answered with a
 * 334 error (RFC 7628 3.2.2; Google's XOAUTH2 does the same).
 */
static void
auth_oauth(struct conn *c, const char *raw, size_t len)
{
	const struct account	*a;
	struct buf		 user = { NULL, 0, 0 }, j = { NULL, 0, 0 };
	const char		*p, *f, *end, *tok = NULL;
	size_t			 n;
	int			 oauthbearer = c->amech == M_OAUTHBEARER;

	if (memchr(raw, '\0', len) != NULL || len < 2 ||
	    strcmp(raw + len - 2, "\001\001") != 0) {
		auth_fail(c, "malformed (no final ^A^A)", NULL);
		return;
	}
	end = raw + len - 1;	/* the last ^A ends the list */
	p = raw;
	if (oauthbearer) {
		/* gs2-cb-flag "," [ "a=" saslname ] "," ^A */
		if ((p[0] != 'n' && p[0] != 'y') || p[1] != ',') {
			auth_fail(c, "malformed GS2 header (not n, or y,)",
			    NULL);
			return;
		}
		p += 2;
		if (strncmp(p, "a=", 2) == 0)
			for (p += 2; *p != ',' && *p != '\001' &&
			    *p != '\0'; p++) {
				if (*p != '=') {
					buf_add(&user, p, 1);
					continue;
				}
				if (strncmp(p, "=2C", 3) == 0)
					buf_add(&user, ",", 1);
				else if (strncmp(p, "=3D", 3) == 0)
					buf_add(&user, "=", 1);
				else {
					free(user.p);
					auth_fail(c, "malformed GS2 header (bad "
					    "= escape in a=)", NULL);
					return;
				}
				p += 2;
			}
		if (p[0] != ',' || p[1] != '\001') {
			free(user.p);
			auth_fail(c, "malformed GS2 header (no \",^A\")", NULL);
			return;
		}
		p += 2;
	}
	for (f = p; f < end; f += n + 1) {
		n = strcspn(f, "\001");
		if (n == 0) {
			free(user.p);
			auth_fail(c, "malformed (empty key=value)", NULL);
			return;
		}
		if (!oauthbearer && n > 5 && strncmp(f, "user=", 5) == 0) {
			user.len = 0;
			buf_add(&user, f + 5, n - 5);
		} else if (n > 12 && strncasecmp(f, "auth=Bearer ", 12) == 0)
			tok = f + 12;
	}
	buf_add(&user, "", 1);
	if (user.p[0] == '\0' || tok == NULL) {
		auth_fail(c, oauthbearer ? "malformed (no a= user or no "
		    "auth=Bearer)" : "malformed (no user= or no auth=Bearer)",
		    NULL);
		free(user.p);
		return;
	}
	if ((a = auth_account(c, user.p, c->amech)) != NULL &&
	    auth_secret_is(a, tok, strcspn(tok, "\001"))) {
		auth_ok(c, user.p);
		free(user.p);
		return;
	}
	free(user.p);
	buf_addstr(&c->out, "334 ");
	if (oauthbearer) {
		buf_addstr(&j, "{\"status\":\"invalid_token\",\"scope\":"
		    "\"mail\",\"openid-configuration\":\"https://fakemx.test/"
		    ".well-known/openid-configuration\"}");
	} else
		buf_addstr(&j, "{\"status\":\"400\",\"schemes\":\"Bearer\","
		    "\"scope\":\"https://mail.google.com/\"}");
	auth_b64(&c->out, j.p, j.len);
	buf_add(&c->out, "\r\n", 2);
	free(j.p);
	c->astep = AS_DUMMY;
	c->awhy = a == NULL ? "no such user" : "wrong token";
}

/* auth_challenge - send 334 with base64 of s (len bytes) */
static void
auth_challenge(struct conn *c, const char *s, size_t len)
{
	buf_addstr(&c->out, "334 ");
	auth_b64(&c->out, s, len);
	buf_add(&c->out, "\r\n", 2);
}

/*
 * auth_check - one base64 response (the initial one when initial is
 * set, "=" meaning empty) for the exchange under way
 */
static void
auth_check(struct conn *c, const char *b64, int initial)
{
	const struct account	*a;
	char			*raw;
	size_t			 len;

	if (!initial && strcmp(b64, "*") == 0) {
		auth_cancel(c);
		return;
	}
	if (initial && strcmp(b64, "=") == 0)
		b64 = "";
	if ((raw = auth_unb64(b64, &len)) == NULL) {
		auth_fail(c, "bad base64", "501 5.5.2 Cannot decode response");
		return;
	}
	switch (c->amech * 4 + (int)c->astep) {
	case M_PLAIN * 4 + AS_RESPONSE:
		auth_plain(c, raw, len);
		break;
	case M_LOGIN * 4 + AS_USER:
		if (memchr(raw, '\0', len) != NULL) {
			auth_fail(c, "NUL in the user name", NULL);
			break;
		}
		c->auser = raw;
		raw = NULL;
		auth_challenge(c, "Password:", 9);
		c->astep = AS_PASSWORD;
		break;
	case M_LOGIN * 4 + AS_PASSWORD:
		if ((a = auth_account(c, c->auser, M_LOGIN)) == NULL)
			auth_fail(c, "no such user", NULL);
		else if (!auth_secret_is(a, raw, len))
			auth_fail(c, "wrong password", NULL);
		else
			auth_ok(c, c->auser);
		break;
	case M_CRAM_MD5 * 4 + AS_RESPONSE:
		auth_cram(c, raw, len);
		break;
	case M_XOAUTH2 * 4 + AS_RESPONSE:
	case M_OAUTHBEARER * 4 + AS_RESPONSE:
		auth_oauth(c, raw, len);
		break;
	case M_XOAUTH2 * 4 + AS_DUMMY:
	case M_OAUTHBEARER * 4 + AS_DUMMY:
		/* XOAUTH2 wants an empty line, OAUTHBEARER ^A (7628 3.2.3) */
		if (c->amech == M_XOAUTH2 ? len != 0 :
		    (len != 1 || raw[0] != '\001')) {
			auth_fail(c, c->amech == M_XOAUTH2 ? "not the empty "
			    "response after the error" : "not ^A after the "
			    "error", "501 5.5.2 Unexpected response after the "
			    "error");
			break;
		}
		auth_fail(c, c->awhy, c->amech == M_XOAUTH2 ?
		    "535 5.7.8 Username and Password not accepted" :
		    "535 5.7.8 Authentication failed");
		break;
	default:
		fatal("AUTH state %d/%d", c->amech, (int)c->astep);
	}
	if (raw != NULL) {
		OPENSSL_cleanse(raw, len);
		free(raw);
	}
}

/* auth_command - the built-in answer to "AUTH MECH [INITIAL]" */
static void
auth_command(struct conn *c)
{
	unsigned int	 offered = auth_offered(c);
	char		*s = c->line + 4, *mech, *ir;
	unsigned int	 r;
	int		 m;

	auth_end(c);
	if (offered == 0) {
		auth_reply(c, "503 5.5.1 Error: authentication not enabled");
		return;
	}
	if (c->authed) {
		auth_reply(c, "503 5.5.1 Error: already authenticated");
		return;
	}
	s += strspn(s, " ");
	mech = next_word(&s);
	ir = next_word(&s);
	if (*mech == '\0' || *s != '\0') {
		auth_reply(c, "501 5.5.4 Syntax: AUTH mechanism "
		    "[initial-response]");
		return;
	}
	for (m = 0; m < M_N; m++)
		if (strcasecmp(mech, mech_names[m]) == 0)
			break;
	if (m == M_N || !(offered & (1U << m))) {
		auth_reply(c, "504 5.5.4 Unrecognized authentication type");
		return;
	}
	c->amech = m;
	switch (m) {
	case M_LOGIN:
		c->astep = AS_USER;
		if (*ir != '\0')
			auth_check(c, ir, 1);
		else
			auth_challenge(c, "Username:", 9);
		break;
	case M_CRAM_MD5:
		if (*ir != '\0') {
			auth_fail(c, "an initial response",
			    "501 5.5.2 CRAM-MD5 takes no initial response");
			break;
		}
		if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
			fatal("RAND_bytes failed");
		snprintf(c->achal, sizeof(c->achal), "<%u.%lld.%lu@fakemx.test>",
		    r, (long long)time(NULL), c->id);
		auth_challenge(c, c->achal, strlen(c->achal));
		break;
	default:
		c->astep = AS_RESPONSE;
		if (*ir != '\0')
			auth_check(c, ir, 1);
		else
			buf_addstr(&c->out, "334 \r\n");
		break;
	}
}

/* auth_data - the built-in answer to a line inside an exchange */
static void
auth_data(struct conn *c)
{
	if (c->amech >= 0 && c->amech < M_N) {
		auth_check(c, c->line, 0);
		return;
	}
	/* the exchange began with a scripted 334: no check is possible */
	auth_reply(c, strcmp(c->line, "*") == 0 ?
	    "501 5.7.0 Authentication aborted" :
	    "535 5.7.8 Error: authentication failed");
}

/* last_is_334 - the last line of the reply bytes is a 334 */
static int
last_is_334(const struct buf *b)
{
	size_t	 i = b->len;

	if (i > 0 && b->p[i - 1] == '\n')
		i--;
	while (i > 0 && b->p[i - 1] != '\n')
		i--;
	return b->len - i >= 4 && memcmp(b->p + i, "334", 3) == 0 &&
	    (b->p[i + 3] == ' ' || b->p[i + 3] == '\r' ||
	    b->p[i + 3] == '\n');
}

static void
greet(struct conn *c)
{
	c->greeted = 1;
	c->counts[K_CONNECT]++;
	reply_start(c, K_CONNECT);
}

/* enter_stall - discard input until the peer goes away */
static void
enter_stall(struct conn *c)
{
	c->state = S_STALL;
	drain_input(c);
	if (c->eof)
		timer_ms(c, 0);
}

/* reply_start - answer KEY, whose counter is already up to date */
static void
reply_start(struct conn *c, size_t key)
{
	const struct rule	*r;
	int			 scripted = 0;
	const char		*subj = c->subject;

	r = rule_find(key, c->counts[key], c->tls, c->subject);
	c->subject = NULL;
	c->out.len = 0;
	c->outoff = 0;
	c->drip = 0;
	c->longline = -1;
	c->flood = NULL;
	c->sent = 0;
	c->after = A_NONE;
	c->finish = F_NONE;
	if (r != NULL && r->under.len > 0) {
		struct bufferevent *u = bufferevent_get_underlying(c->bev);

		log_event("under %lu %zu bytes", c->id, r->under.len);
		bufferevent_write(u != NULL ? u : c->bev, r->under.p,
		    r->under.len);
		enter_stall(c);
		return;
	}
	if (r != NULL && r->stall) {
		enter_stall(c);
		return;
	}
	c->deaf = 0;
	if (r == NULL || (r->text.len == 0 && !r->close && !r->reset &&
	    !r->tlsclose && r->flood.len == 0 && r->longline < 0))
		default_reply(c, key);
	else {
		buf_add(&c->out, r->text.p, r->text.len);
		scripted = 1;
	}
	if (c->greylisted) {
		c->greylisted = 0;
		c->out.len = 0;
		buf_add(&c->out, grey_line.p, grey_line.len);
	}
	if (key == K_MAIL || key == K_RSET)
		rcpts_clear(c);
	if (key == K_RCPT && lmtp)
		rcpt_note(c, subj);
	if (key == K_AUTH || key == K_AUTHDATA) {
		/* a scripted reply takes the exchange out of our hands */
		if (scripted) {
			auth_end(c);
			c->amech = M_SCRIPTED;
		}
		if (!(c->in_auth = last_is_334(&c->out)))
			auth_end(c);
	}
	if (r != NULL) {
		c->drip = r->drip;
		c->longline = r->longline;
		c->flood = r->flood.len > 0 ? r : NULL;
		c->finish = r->reset ? F_RESET : r->tlsclose ? F_TLSCLOSE :
		    r->close ? F_CLOSE : F_NONE;
		c->deaf = r->deaf;
	}
	if (key == K_QUIT && c->finish == F_NONE &&
	    (r == NULL || !r->keepopen))
		c->finish = F_CLOSE;
	if (key == K_DATA && c->out.len >= 3 &&
	    memcmp(c->out.p, "354", 3) == 0)
		c->after = A_DATA;
	if (key == K_STARTTLS && c->out.len >= 3 &&
	    memcmp(c->out.p, "220", 3) == 0) {
		buf_add(&c->out, inject.p, inject.len);
		if (ctx != NULL)
			c->after = A_TLS;
	}
	if (r != NULL && r->delay > 0) {
		c->state = S_DELAY;
		c->greet_wait = key == K_CONNECT;
		timer_ms(c, r->delay);
		return;
	}
	reply_send(c);
}

/*
 * greet_early - the delayed greeting is due: a client that talked in
 * the meantime is an early talker (logged); with a pregreet directive
 * it gets that line instead of the greeting, then the connection closes
 */
static void
greet_early(struct conn *c)
{
	size_t	 n = evbuffer_get_length(bufferevent_get_input(c->bev));

	if (n == 0)
		return;
	log_event("pregreet %lu %zu", c->id, n);
	if (pregreet.len == 0)
		return;
	c->out.len = 0;
	buf_add(&c->out, pregreet.p, pregreet.len);
	c->drip = 0;
	c->longline = -1;
	c->flood = NULL;
	c->finish = F_CLOSE;
}

static void
reply_send(struct conn *c)
{
	log_reply(c->out.p, c->out.len);
	if (c->drip > 0 && c->out.len > 0) {
		c->state = S_DRIP;
		drip_next(c);
		return;
	}
	if (c->out.len > 0)
		bufferevent_write(c->bev, c->out.p, c->out.len);
	reply_content_done(c);
}

static void
drip_next(struct conn *c)
{
	bufferevent_write(c->bev, c->out.p + c->outoff, 1);
	if (++c->outoff < c->out.len) {
		timer_ms(c, c->drip);
		return;
	}
	reply_content_done(c);
}

/* reply_content_done - the reply text is queued: long line, flood */
static void
reply_content_done(struct conn *c)
{
	if (c->longline >= 0) {
		c->state = S_LONGLINE;
		log_event("longline %lu %lld", c->id, c->longline);
		c->longline -= 4;
		bufferevent_write(c->bev, "250 ", 4);
		bufferevent_setwatermark(c->bev, EV_WRITE, FILL_LOWAT, 0);
		fill_longline(c);
		return;
	}
	if (c->flood != NULL) {
		c->state = S_FLOOD;
		log_event("flood %lu", c->id);
		bufferevent_setwatermark(c->bev, EV_WRITE, FILL_LOWAT, 0);
		fill_flood(c);
		return;
	}
	reply_finish(c);
}

static void
fill_longline(struct conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	size_t		 n;

	while (c->longline > 0 && evbuffer_get_length(out) < FILL_HIWAT) {
		n = c->longline < CHUNK ? (size_t)c->longline : CHUNK;
		evbuffer_add(out, xs, n);
		c->longline -= (long long)n;
	}
	if (c->longline > 0)
		return;
	evbuffer_add(out, "\r\n", 2);
	c->longline = -1;
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	reply_content_done(c);
}

static void
fill_flood(struct conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	long long	 len;

	len = (long long)c->flood->flood.len;
	while (c->sent + len <= FLOOD_MAX &&
	    evbuffer_get_length(out) < FILL_HIWAT) {
		evbuffer_add(out, c->flood->flood.p, c->flood->flood.len);
		c->sent += len;
	}
	if (c->sent + len <= FLOOD_MAX)
		return;
	log_event("flood %lu done %lld", c->id, c->sent);
	c->flood = NULL;
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	if (c->finish == F_NONE)
		c->finish = F_CLOSE;
	reply_finish(c);
}

/* reply_finish - all of the reply is queued: what comes next */
static void
reply_finish(struct conn *c)
{
	if (c->finish != F_NONE) {
		c->state = S_FLUSH;
		timer_ms(c, 0);
		return;
	}
	if (c->deaf) {
		/* never read again: the kernel buffers fill, then the window */
		log_event("deaf %lu", c->id);
		c->state = S_STALL;
		bufferevent_disable(c->bev, EV_READ);
		return;
	}
	if (c->after == A_TLS) {
		start_tls(c);
		return;
	}
	if (c->after == A_DATA) {
		c->body = 1;
		c->bodylines = 0;
	}
	c->state = S_READY;
	if (!c->in_process)
		process_input(c);
}

static void
start_tls(struct conn *c)
{
	const struct rule	*r;
	struct bufferevent	*nb;
	SSL			*ssl;

	c->counts[K_TLS]++;
	r = rule_find(K_TLS, c->counts[K_TLS], c->tls, NULL);
	if (r != NULL && r->stall) {
		log_event("tls %lu stalled", c->id);
		enter_stall(c);
		return;
	}
	if ((ssl = SSL_new(ctx)) == NULL)
		fatal("SSL_new failed");
	bufferevent_setwatermark(c->bev, EV_READ | EV_WRITE, 0, 0);
	nb = bufferevent_openssl_filter_new(base, c->bev, ssl,
	    BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (nb == NULL) {
		log_event("tls %lu failed cannot start", c->id);
		c->finish = F_CLOSE;
		c->state = S_FLUSH;
		timer_ms(c, 0);
		return;
	}
	/* keep the TLS layer from queueing a flood in the socket buffer */
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, FILL_HIWAT);
	c->bev = nb;
	c->state = S_HANDSHAKE;
	conn_setup(c);
}

/* log_client_cert - -C: the subject of the client's certificate */
static void
log_client_cert(struct conn *c, SSL *ssl)
{
	X509	*x = ssl != NULL ? SSL_get0_peer_certificate(ssl) : NULL;
	BIO	*b;
	char	*d;
	long	 n;

	if (x == NULL) {
		log_event("tls %lu no client-cert", c->id);
		return;
	}
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		fatal("BIO_new failed");
	X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	n = BIO_get_mem_data(b, &d);
	log_event("tls %lu client-cert %.*s", c->id, (int)n, d);
	BIO_free(b);
}

/* accept_any_cert - -C: any client certificate is taken */
static int
accept_any_cert(int ok, X509_STORE_CTX *store)
{
	(void)ok;
	(void)store;
	return 1;
}

static void
tls_established(struct conn *c)
{
	SSL	*ssl = bufferevent_openssl_get_ssl(c->bev);

	log_event("tls %lu established %s %s", c->id,
	    ssl ? SSL_get_version(ssl) : "?",
	    ssl ? SSL_get_cipher_name(ssl) : "?");
	if (want_client_cert)
		log_client_cert(c, ssl);
	c->tls = 1;
	/* RFC 3207 4.2: forget what the client said before TLS */
	c->authed = 0;
	c->in_auth = 0;
	auth_end(c);
	if (!c->greeted) {
		greet(c);
		return;
	}
	c->state = S_READY;
	process_input(c);
}

static void
tls_failed(struct conn *c, short what)
{
	unsigned long	 e;
	char		 reason[256];

	reason[0] = '\0';
	while ((e = bufferevent_get_openssl_error(c->bev)) != 0)
		if (reason[0] == '\0')
			ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	if (reason[0] == '\0') {
		if (what & BEV_EVENT_EOF)
			snprintf(reason, sizeof(reason), "connection closed");
		else
			snprintf(reason, sizeof(reason), "connection error");
	}
	log_event("tls %lu failed %s", c->id, reason);
}

static void
conn_setup(struct conn *c)
{
	if (bufferevent_openssl_get_ssl(c->bev) != NULL)
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, conn_readcb, conn_writecb, conn_eventcb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, READ_HIWAT);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void
conn_readcb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	if (c->state == S_READY)
		process_input(c);
	else if (c->state >= S_STALL)
		drain_input(c);	/* else pipelined input waits its turn */
}

static void
conn_writecb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	if (c->state == S_LONGLINE)
		fill_longline(c);
	else if (c->state == S_FLOOD)
		fill_flood(c);
}

static void
conn_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		tls_established(c);
		return;
	}
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	conn_uncount(c);
	if (c->state == S_HANDSHAKE) {
		tls_failed(c, what);
		conn_free(c);
		return;
	}
	if ((what & BEV_EVENT_ERROR) || c->state == S_STALL ||
	    c->state == S_LINGER) {
		conn_free(c);
		return;
	}
	/* a FIN: still answer what was received before it */
	c->eof = 1;
	if (c->state == S_READY)
		process_input(c);
}

static void
conn_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	struct linger	 l;
	SSL		*ssl;

	(void)fd;
	(void)what;
	switch (c->state) {
	case S_DELAY:
		if (c->greet_wait) {
			c->greet_wait = 0;
			greet_early(c);
		}
		reply_send(c);
		break;
	case S_DRIP:
		drip_next(c);
		break;
	case S_FLUSH:
		if (!conn_flushed(c)) {
			timer_ms(c, FLUSH_POLL_MS);
			break;
		}
		if (c->finish == F_TLSCLOSE && c->tls &&
		    (ssl = bufferevent_openssl_get_ssl(c->bev)) != NULL) {
			/* close_notify, then a FIN once it is out */
			log_event("tls %lu close_notify", c->id);
			SSL_shutdown(ssl);
			c->finish = F_CLOSE;
			timer_ms(c, FLUSH_POLL_MS);
			break;
		}
		if (c->finish == F_RESET) {
			l.l_onoff = 1;
			l.l_linger = 0;
			setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
			log_event("reset %lu", c->id);
			conn_free(c);
			break;
		}
		if (c->eof) {
			conn_free(c);
			break;
		}
		shutdown(c->fd, SHUT_WR);
		c->state = S_LINGER;
		drain_input(c);
		timer_ms(c, LINGER_MS);
		break;
	case S_STALL:
	case S_LINGER:
		conn_free(c);
		break;
	default:
		break;
	}
}

static void
acceptcb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct conn	*c;
	SSL		*ssl;
	int		 one = 1;

	(void)arg;
	if (maxconn > 0 && naccepted >= maxconn) {
		evutil_closesocket(fd);
		return;
	}
	if (maxconn > 0 && ++naccepted >= maxconn)
		evconnlistener_disable(lev);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = xcalloc(1, sizeof(*c));
	c->id = ++nextid;
	if (getnameinfo(sa, (socklen_t)salen, c->peer, sizeof(c->peer), NULL,
	    0, NI_NUMERICHOST) != 0)
		c->peer[0] = '\0';
	c->fd = fd;
	c->longline = -1;
	c->amech = M_NONE;
	c->counts = xcalloc(nkeys, sizeof(*c->counts));
	if ((c->timer = evtimer_new(base, conn_timercb, c)) == NULL)
		fatal("evtimer_new failed");
	TAILQ_INSERT_TAIL(&conns, c, entry);
	log_event("connect %lu", c->id);
	if (count_open) {
		count_gone();
		c->counted = 1;
		if (++nopen > maxopen)
			maxopen = nopen;
		log_event("open %lu", nopen);
	}
	if (expect_proxy)
		proxy_read(c);
	if (implicit_tls) {
		if ((ssl = SSL_new(ctx)) == NULL)
			fatal("SSL_new failed");
		c->bev = bufferevent_openssl_socket_new(base, fd, ssl,
		    BUFFEREVENT_SSL_ACCEPTING,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		c->state = S_HANDSHAKE;
	} else {
		c->bev = bufferevent_socket_new(base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
		c->state = S_READY;
	}
	if (c->bev == NULL) {
		evutil_closesocket(fd);
		conn_free(c);
		return;
	}
	conn_setup(c);
	if (!implicit_tls)
		greet(c);
}

/* ---- the "proxy" directive: a PROXY header before the greeting ---- */

/* proxy_recv - exactly n bytes from fd within 5 s: 0, or -1 */
static int
proxy_recv(evutil_socket_t fd, unsigned char *p, size_t n)
{
	struct pollfd	 pfd;
	ssize_t		 r;

	while (n > 0) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 5000) != 1)
			return -1;
		if ((r = recv(fd, p, n, 0)) <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* proxy_v2 - the rest of a v2 header after its 16 first bytes, logged */
static void
proxy_v2(struct conn *c, const unsigned char *h)
{
	static const unsigned char sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00,
	    0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
	unsigned char	 a[216];
	char		 s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	size_t		 len = (size_t)h[14] << 8 | h[15], al;
	int		 fam;

	if (memcmp(h, sig, sizeof(sig)) != 0 || (h[12] & 0xf0) != 0x20) {
		log_event("proxy %lu bad v2 signature or version", c->id);
		return;
	}
	if (len > sizeof(a) || proxy_recv(c->fd, a, len) == -1) {
		log_event("proxy %lu bad v2 length %zu", c->id, len);
		return;
	}
	if ((h[12] & 0x0f) == 0) {
		log_event("proxy %lu v2 LOCAL", c->id);
		return;
	}
	if (h[13] == 0x11) {
		fam = AF_INET;
		al = 4;
	} else if (h[13] == 0x21) {
		fam = AF_INET6;
		al = 16;
	} else {
		log_event("proxy %lu v2 family 0x%02x", c->id, h[13]);
		return;
	}
	if (len < 2 * al + 4) {
		log_event("proxy %lu bad v2 length %zu", c->id, len);
		return;
	}
	inet_ntop(fam, a, s, sizeof(s));
	inet_ntop(fam, a + al, d, sizeof(d));
	log_event("proxy %lu v2 TCP%c %s:%u %s:%u", c->id, fam == AF_INET ?
	    '4' : '6', s, (unsigned)(a[2 * al] << 8 | a[2 * al + 1]), d,
	    (unsigned)(a[2 * al + 2] << 8 | a[2 * al + 3]));
}

/* proxy_read - the header the client starts with, logged */
static void
proxy_read(struct conn *c)
{
	unsigned char	 h[108];
	char		 w[5][48];
	size_t		 n;

	if (proxy_recv(c->fd, h, 1) == -1) {
		log_event("proxy %lu bad nothing within 5 s", c->id);
		return;
	}
	if (h[0] == 0x0d) {
		if (proxy_recv(c->fd, h + 1, 15) == -1) {
			log_event("proxy %lu bad short v2 header", c->id);
			return;
		}
		proxy_v2(c, h);
		return;
	}
	/* v1: one line of at most 107 bytes with its CRLF */
	for (n = 1; n < sizeof(h) - 1 && h[n - 1] != '\n'; n++)
		if (proxy_recv(c->fd, h + n, 1) == -1)
			break;
	h[n] = '\0';
	if (n < 2 || h[n - 1] != '\n' || h[n - 2] != '\r' ||
	    strncmp((char *)h, "PROXY ", 6) != 0) {
		log_bytes("*** proxy bad v1 line: ", (char *)h, n, "");
		return;
	}
	h[n - 2] = '\0';
	if (sscanf((char *)h + 6, "%47s %47s %47s %47s %47s", w[0], w[1],
	    w[2], w[3], w[4]) != 5) {
		log_event("proxy %lu v1 %s", c->id, (char *)h + 6);
		return;
	}
	log_event("proxy %lu v1 %s %s:%s %s:%s", c->id, w[0], w[1], w[3],
	    w[2], w[4]);
}

/* stopcb - the watchdog (exit 2) or SIGTERM/SIGINT (exit 0) */
static void
stopcb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	if (arg == NULL) {
		log_event("signal %d", (int)sig);
		exitcode = 0;
	} else {
		fprintf(stderr, "fakemx: watchdog expired\n");
		log_event("watchdog");
		exitcode = 2;
	}
	event_base_loopbreak(base);
}

/* parse_addr - a numeric loopback address ([::1] or ::1 for IPv6) */
static int
parse_addr(const char *s, long long port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;
	int			 n = sizeof(*ss);

	memset(ss, 0, sizeof(*ss));
	if (evutil_parse_sockaddr_port(s, (struct sockaddr *)ss, &n) == -1)
		return -1;
	*len = (socklen_t)n;
	if (ss->ss_family == AF_INET &&
	    (ntohl(s4->sin_addr.s_addr) >> 24) == 127) {
		s4->sin_port = htons((unsigned short)port);
		return 0;
	}
	if (ss->ss_family == AF_INET6 &&
	    (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
	    (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) &&
	    s6->sin6_addr.s6_addr[12] == 127))) {
		s6->sin6_port = htons((unsigned short)port);
		return 0;
	}
	return -1;
}

static void
write_portfile(const char *path, unsigned int port)
{
	char	*tmp;
	size_t	 len = strlen(path) + 32;
	FILE	*f;

	tmp = xcalloc(1, len);
	snprintf(tmp, len, "%s.tmp%ld", path, (long)getpid());
	if ((f = fopen(tmp, "w")) == NULL)
		fatal("%s: %s", tmp, strerror(errno));
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0 || rename(tmp, path) == -1) {
		unlink(tmp);
		fatal("%s: %s", path, strerror(errno));
	}
	free(tmp);
}

static void
tls_setup(const char *cert, const char *key)
{
	char	 e[256];

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		fatal("SSL_CTX_new failed");
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ERR_error_string_n(ERR_get_error(), e, sizeof(e));
		SSL_CTX_free(ctx);
		fatal("cannot load %s / %s: %s", cert, key, e);
	}
	if (want_client_cert)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any_cert);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct event		*ev_watchdog, *ev_term, *ev_int;
	struct timeval		 tv;
	struct rlimit		 rl;
	struct conn		*c;
	const char		*addr = "127.0.0.1", *portfile = NULL;
	const char		*logfile = NULL, *cert = NULL, *key = NULL;
	const char		*unixpath = NULL;
	long long		 port = 0, watchdog = 120, v;
	int			 ch, i;

	while ((ch = getopt(argc, argv, "CTma:p:P:l:c:k:n:t:U:")) != -1) {
		switch (ch) {
		case 'C':
			want_client_cert = 1;
			break;
		case 'T':
			implicit_tls = 1;
			break;
		case 'm':
			count_open = 1;
			break;
		case 'a':
			addr = optarg;
			break;
		case 'p':
			if (parse_num(optarg, 0, 65535, &port) == -1)
				usage();
			break;
		case 'P':
			portfile = optarg;
			break;
		case 'U':
			unixpath = optarg;
			break;
		case 'l':
			logfile = optarg;
			break;
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'n':
			if (parse_num(optarg, 1, LONG_MAX, &v) == -1)
				usage();
			maxconn = (unsigned long)v;
			break;
		case 't':
			if (parse_num(optarg, 1, 86400, &watchdog) == -1)
				usage();
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1 || (cert == NULL) != (key == NULL) ||
	    ((implicit_tls || want_client_cert) && cert == NULL))
		usage();
	if (unixpath != NULL) {
		struct sockaddr_un *su = (struct sockaddr_un *)&ss;

		if (strlen(unixpath) >= sizeof(su->sun_path))
			usage();
		memset(&ss, 0, sizeof(ss));
		su->sun_family = AF_UNIX;
		memcpy(su->sun_path, unixpath, strlen(unixpath) + 1);
		sslen = sizeof(*su);
		(void)unlink(unixpath);
	} else if (parse_addr(addr, port, &ss, &sslen) == -1) {
		fprintf(stderr, "fakemx: %s: not a numeric loopback address\n",
		    addr);
		exit(EXIT_USAGE);
	}

	memset(xs, 'x', sizeof(xs));
	for (i = 0; i < K_NBUILTIN; i++)
		key_index(builtin_keys[i], strlen(builtin_keys[i]), 1);
	script_load(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	/* room for a few thousand sessions */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (cert != NULL)
		tls_setup(cert, key);
	if (logfile != NULL && (logfp = fopen(logfile, "a")) == NULL)
		fatal("%s: %s", logfile, strerror(errno));

	if ((base = event_base_new()) == NULL)
		fatal("event_base_new failed");
	listener = evconnlistener_new_bind(base, acceptcb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    4096, (struct sockaddr *)&ss, (int)sslen);
	if (listener == NULL)
		fatal("cannot listen on %s port %lld: %s", addr, port,
		    strerror(errno));
	sslen = sizeof(ss);
	if (getsockname(evconnlistener_get_fd(listener),
	    (struct sockaddr *)&ss, &sslen) == -1)
		fatal("getsockname: %s", strerror(errno));
	port = ss.ss_family == AF_UNIX ? 0 : ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	log_event("listening %lld", port);
	if (portfile != NULL)
		write_portfile(portfile, (unsigned int)port);

	ev_watchdog = evtimer_new(base, stopcb, &exitcode);
	ev_term = evsignal_new(base, SIGTERM, stopcb, NULL);
	ev_int = evsignal_new(base, SIGINT, stopcb, NULL);
	if (ev_watchdog == NULL || ev_term == NULL || ev_int == NULL)
		fatal("cannot create events");
	tv.tv_sec = (time_t)watchdog;
	tv.tv_usec = 0;
	evtimer_add(ev_watchdog, &tv);
	evsignal_add(ev_term, NULL);
	evsignal_add(ev_int, NULL);

	exitcode = 0;
	event_base_dispatch(base);

	shutting_down = 1;
	while ((c = TAILQ_FIRST(&conns)) != NULL)
		conn_free(c);
	if (count_open)
		log_event("max-open %lu", maxopen);
	evconnlistener_free(listener);
	event_free(ev_watchdog);
	event_free(ev_term);
	event_free(ev_int);
	event_base_free(base);
	if (ctx != NULL)
		SSL_CTX_free(ctx);
	script_free();
	if (logfp != NULL)
		fclose(logfp);
	libevent_global_shutdown();
	return exitcode;
}

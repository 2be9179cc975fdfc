/*
 * main.c - the smtprobe command line: parse options, check every input,
 * resolve the server, build the message, run one session on the event
 * loop, print the transcript or JSON, and exit with the documented code:
 *   0 accepted, 1 permanent rejection, 2 temporary rejection,
 *   3 network/TLS/timeout/protocol failure, 64 usage error,
 *   70 internal error.
 * "Accepted" means every step that was asked for got a positive reply;
 * one rejected recipient among several is a rejection.
 */
#include "config.h"

#include <sys/socket.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "diag.h"
#include "explain.h"
#include "log.h"
#include "msg.h"
#include "opt.h"
#include "report.h"
#include "smtp.h"
#include "tls.h"
#include "util.h"

#define EXIT_USAGE	64

struct cli_run {
	struct opt_cli		*cli;
	struct report_opts	 ro;
	FILE			*out;	/* transcript, NULL when silent */
	struct event_base	*base;
};

static int	cli_resolve(const char *, const char *, int, int,
		    struct sockaddr_storage *, socklen_t *, char *, size_t);
static char	*cli_default_helo(void);
static void	cli_wire(void *, enum smtp_wire, int, int64_t, const char *);
static void	cli_done(void *, const struct record *);
static char	*cli_cmdline(int, char **);

/* cli_cmdline - argv as one line a shell would take back */
static char *
cli_cmdline(int argc, char **argv)
{
	size_t	 i, len = 1;
	char	*out, *o, *q;

	for (i = 0; i < (size_t)argc; i++)
		len += strlen(argv[i]) * 4 + 3;
	o = out = xmalloc(len);
	for (i = 0; i < (size_t)argc; i++) {
		const char *a = argv[i];

		if (i > 0)
			*o++ = ' ';
		if (i > 0 && (a[0] == '\0' || a[strspn(a, "abcdefghijklmnop"
		    "qrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_"
		    "[]")] != '\0')) {
			*o++ = '\'';
			for (; *a != '\0'; a++) {
				if (*a == '\'') {
					memcpy(o, "'\\''", 4);
					o += 4;
				} else
					*o++ = *a;
			}
			*o++ = '\'';
		} else {
			memcpy(o, i == 0 ? "smtprobe" : a, i == 0 ? 8 :
			    strlen(a));
			o += i == 0 ? 8 : strlen(a);
		}
	}
	*o = '\0';
	q = util_escape(out, strlen(out));
	free(out);
	return q;
}

static void
cli_wire(void *arg, enum smtp_wire dir, int tls, int64_t t, const char *text)
{
	struct cli_run	*run = arg;

	if (run->out != NULL)
		report_wire(run->out, &run->ro, dir, tls, t, text);
}

static void
cli_done(void *arg, const struct record *r)
{
	struct cli_run	*run = arg;

	event_base_loopbreak(run->base);
}

/*
 * cli_resolve - the server's address. A numeric address is used as is;
 * a name goes through getaddrinfo() once, before the event loop starts.
 */
static int
cli_resolve(const char *host, const char *port, int family, int passive,
    struct sockaddr_storage *ss, socklen_t *sl, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res;
	int		 rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve \"%s\": %s", host,
		    gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sl = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* cli_default_helo - this host's name when it is an FQDN, else NULL */
static char *
cli_default_helo(void)
{
	char	 name[256];

	if (gethostname(name, sizeof(name)) == -1)
		return NULL;
	name[sizeof(name) - 1] = '\0';
	return util_is_fqdn(name) ? xstrdup(name) : NULL;
}

int
main(int argc, char **argv)
{
	struct opt_cli		 cli;
	struct smtp_params	 p;
	struct smtp_txn		*txn = NULL;
	struct smtp_callbacks	 cb = { cli_wire, NULL, cli_done };
	struct smtp_session	*s;
	struct cli_run		 run;
	struct tls_params	 tp;
	struct msg_params	 mp;
	struct sockaddr_storage	 ss, ls;
	socklen_t		 sl, lsl = 0;
	const struct record	*rec;
	SSL_CTX			*ctx = NULL;
	char			 err[512], *helo = NULL, *note = NULL;
	char			*body = NULL, *message = NULL, *wire = NULL;
	char			*cmdline = NULL;
	char			**addrs = NULL;
	const char		**allto = NULL;
	size_t			 i, j, naddrs = 0, nallto = 0, bodylen = 0;
	size_t			 messagelen = 0, wirelen = 0;
	int			 rc = EXIT_USAGE;

	log_init("smtprobe", 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && strcmp(argv[1], "explain") == 0)
		return explain_main(argc - 1, argv + 1);
	if (opt_parse(argc, argv, &cli) == -1) {
		fprintf(stderr, "Try 'smtprobe --help'.\n");
		opt_cli_free(&cli);
		return EXIT_USAGE;
	}
	log_init("smtprobe", cli.verbose);
	if (cli.help || cli.version || cli.list_options) {
		if (cli.help)
			opt_usage();
		else if (cli.version)
			printf("smtprobe %s\n", PACKAGE_VERSION);
		else
			opt_list();
		opt_cli_free(&cli);
		return 0;
	}

	/* Every address is checked before anything is sent. */
	memset(&p, 0, sizeof(p));
	if (cli.ntxn > 0)
		txn = xcalloc(cli.ntxn, sizeof(*txn));
	for (i = 0; i < cli.ntxn; i++) {
		struct opt_txn *t = &cli.txn[i];
		char	*a;

		if (t->from == NULL && i == 0 &&
		    (cli.stop_before < 0 || cli.stop_before > STAGE_MAIL) &&
		    (cli.quit_after < 0 || cli.quit_after >= STAGE_MAIL)) {
			log_warnx("--to needs a --from before the MAIL stage");
			goto out;
		}
		a = msg_address(t->from != NULL ? t->from : "", 1, err,
		    sizeof(err));
		if (a == NULL) {
			log_warnx("--from: %s", err);
			goto out;
		}
		addrs = xreallocarray(addrs, naddrs + 1, sizeof(char *));
		addrs[naddrs++] = a;
		txn[i].from = a;
		txn[i].rcpt = xcalloc(t->nto + 1, sizeof(char *));
		for (j = 0; j < t->nto; j++) {
			a = msg_address(t->to[j], 0, err, sizeof(err));
			if (a == NULL) {
				log_warnx("--to: %s", err);
				goto out;
			}
			addrs = xreallocarray(addrs, naddrs + 1,
			    sizeof(char *));
			addrs[naddrs++] = a;
			txn[i].rcpt[txn[i].nrcpt++] = a;
			allto = xreallocarray(allto, nallto + 1,
			    sizeof(char *));
			allto[nallto++] = a;
		}
		if (t->nto == 0 && cli.data) {
			log_warnx("--data needs a --to for every --from");
			goto out;
		}
	}
	if (cli.ntxn == 0 && (cli.stop_before < 0 ||
	    cli.stop_before > STAGE_MAIL) && (cli.quit_after < 0 ||
	    cli.quit_after >= STAGE_MAIL)) {
		log_warnx("--from and --to are required unless the session "
		    "stops before MAIL (see --quit-after)");
		goto out;
	}
	if (cli.helo == NULL)
		helo = cli_default_helo();

	if (cli.data) {
		mp = (struct msg_params){
			.from = txn != NULL ? txn[0].from : "",
			.to = allto, .nto = nallto,
			.domain = cli.helo != NULL ? cli.helo : helo,
			.headers = cli.headers, .nheaders = cli.nheaders,
			.version = PACKAGE_VERSION,
		};
		if (cli.body != NULL && msg_read(cli.body, &body, &bodylen,
		    err, sizeof(err)) == -1) {
			log_warnx("--body: %s", err);
			goto out;
		}
		if (cli.message != NULL && msg_read(cli.message, &message,
		    &messagelen, err, sizeof(err)) == -1) {
			log_warnx("--message: %s", err);
			goto out;
		}
		mp.body = body;
		mp.bodylen = bodylen;
		mp.message = message;
		mp.messagelen = messagelen;
		if (msg_build(&mp, &wire, &wirelen, err, sizeof(err)) == -1) {
			log_warnx("%s", err);
			goto out;
		}
	}

	if (cli.tls_mode != SMTP_TLS_NONE) {
		tp = (struct tls_params){ cli.cafile, cli.capath, cli.tls_min,
		    cli.ciphers };
		if ((ctx = tls_ctx_new(&tp, err, sizeof(err))) == NULL) {
			log_warnx("%s", err);
			goto out;
		}
	}

	rc = 3;
	if (cli_resolve(cli.host, cli.port, cli.family, 0, &ss, &sl, err,
	    sizeof(err)) == -1) {
		/* the session records the failure, so --json still reports */
		log_warnx("%s", err);
		note = xstrdup(err);
		sl = 0;
	}
	if (cli.local != NULL && sl > 0 && cli_resolve(cli.local, "0",
	    ss.ss_family, 1, &ls, &lsl, err, sizeof(err)) == -1) {
		log_warnx("--local-address: %s", err);
		rc = EXIT_USAGE;
		goto out;
	}
	if (sl > 0) {
		char	 a[INET6_ADDRSTRLEN];

		getnameinfo((struct sockaddr *)&ss, sl, a, sizeof(a), NULL,
		    0, NI_NUMERICHOST);
		if (strcmp(a, cli.host) != 0)
			note = xasprintf("resolved %s to %s", cli.host, a);
	}

	p.host = cli.host;
	p.port = cli.port;
	p.resolve_note = note;
	p.addr = sl > 0 ? (struct sockaddr *)&ss : NULL;
	p.addrlen = sl;
	p.local = cli.local != NULL ? (struct sockaddr *)&ls : NULL;
	p.locallen = lsl;
	p.helo = cli.helo != NULL ? cli.helo : helo;
	p.tls_mode = cli.tls_mode;
	p.tls_ctx = ctx;
	{
		unsigned char	 tmp[16];
		int		 ip = inet_pton(AF_INET, cli.host, tmp) == 1 ||
		    inet_pton(AF_INET6, cli.host, tmp) == 1;

		/* RFC 6066 3: no IP literal in SNI */
		p.sni = cli.no_sni ? NULL : cli.sni != NULL ? cli.sni :
		    ip ? NULL : cli.host;
		p.verify_name = cli.sni != NULL ? cli.sni : cli.host;
	}
	p.tls_verify = cli.tls_verify;
	p.txn = txn;
	p.ntxn = cli.ntxn;
	p.send_data = cli.data;
	p.message = wire;
	p.message_len = wirelen;
	p.stop_before = cli.stop_before;
	p.quit_after = cli.quit_after;
	memcpy(p.timeout_ms, cli.timeout_ms, sizeof(p.timeout_ms));
	p.max_line = cli.max_line;
	p.show_body = cli.show_body;

	memset(&run, 0, sizeof(run));
	run.cli = &cli;
	run.ro.timestamps = cli.timestamps;
	run.out = cli.quiet || cli.ticket ? NULL : cli.json ?
	    (cli.verbose > 0 ? stderr : NULL) : stdout;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((run.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if (cli.diagnose) {
		struct diag_params dp;
		char	*alt = util_is_fqdn(p.helo) ? NULL : cli_default_helo();
		char	*minimal = NULL;
		size_t	 minlen = 0;

		memset(&dp, 0, sizeof(dp));
		if (cli.diagnose_content) {
			mp = (struct msg_params){ .from = txn[0].from,
			    .to = allto, .nto = nallto, .domain = p.helo,
			    .version = PACKAGE_VERSION };
			if (msg_build(&mp, &minimal, &minlen, err,
			    sizeof(err)) == -1)
				fatalx("%s", err);
			if (!cli.data) {
				p.message = minimal;
				p.message_len = minlen;
			}
		}
		dp.base = &p;
		dp.alt_helo = alt;
		dp.content = cli.diagnose_content;
		dp.minimal = minimal;
		dp.minimal_len = minlen;
		dp.cb = &cb;
		dp.arg = &run;
		rc = diag_run(run.base, &dp, stdout, cli.json,
		    PACKAGE_VERSION);
		free(alt);
		free(minimal);
		event_base_free(run.base);
		goto out;
	}
	s = smtp_session_new(run.base, &p, &cb, &run);
	smtp_session_start(s);
	if (!smtp_session_record(s)->message)
		event_base_dispatch(run.base);
	rec = smtp_session_record(s);
	if (cli.ticket || cli.report != NULL) {
		struct ticket_info ti;
		FILE	*fp = stdout;

		ti.version = PACKAGE_VERSION;
		ti.cmdline = cmdline = cli_cmdline(argc, argv);
		ti.mask = cli.mask_local ? (const char **)addrs : NULL;
		ti.nmask = cli.mask_local ? naddrs : 0;
		if (cli.report != NULL && (fp = fopen(cli.report, "w")) ==
		    NULL)
			log_warn("--report: %s", cli.report);
		else {
			report_ticket(fp, rec, &ti);
			if (fp != stdout && fclose(fp) != 0)
				log_warn("--report: %s", cli.report);
		}
	}
	if (cli.ticket)
		;
	else if (cli.json) {
		if (report_json(stdout, rec, PACKAGE_VERSION) == -1)
			log_warnx("cannot write the JSON document");
	} else if (cli.quiet)
		report_result(stdout, rec);
	else
		report_summary(stdout, rec);
	rc = record_exit_code(rec);
	smtp_session_free(s);
	event_base_free(run.base);
out:
	for (i = 0; i < naddrs; i++)
		free(addrs[i]);
	free(addrs);
	for (i = 0; txn != NULL && i < cli.ntxn; i++)
		free(txn[i].rcpt);
	free(txn);
	free(allto);
	free(helo);
	free(note);
	free(cmdline);
	free(body);
	free(message);
	free(wire);
	tls_ctx_free(ctx);
	opt_cli_free(&cli);
	return rc;
}

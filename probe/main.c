/*
 * main.c - the smtprobe command line: parse options, check every input
 * before anything is sent, resolve the server, and run scenarios on the
 * event loop: the default one built from the options (scn_classic()),
 * or the --scenario files. Prints the transcript, JSON, TAP or JUnit
 * and exits with the documented code:
 *   0 accepted (or every expectation met), 1 permanent rejection or an
 *   expectation not met, 2 temporary rejection, 3 network/TLS/timeout/
 *   protocol failure, 64 usage error, 70 internal error.
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
#include <termios.h>
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
#include "scn.h"
#include "smtp.h"
#include "tls.h"
#include "util.h"

#define EXIT_USAGE	64

struct cli_run {
	struct opt_cli		*cli;
	struct report_opts	 ro;
	FILE			*out;	/* transcript, NULL when silent */
	int			 summaries; /* step table after each session */
	struct event_base	*base;
	int			 done;
};

static int	cli_resolve(const char *, const char *, int, int,
		    struct sockaddr_storage *, socklen_t *, char *, size_t);
static char	*cli_default_helo(void);
static void	cli_wire(void *, enum smtp_wire, int, int64_t, const char *);
static void	cli_session_done(void *, const struct record *);
static void	cli_exec_done(struct scn_exec *, void *);
static char	*cli_secret(const struct opt_cli *);
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

/* cli_session_done - a session is over: its table and verdict */
static void
cli_session_done(void *arg, const struct record *r)
{
	struct cli_run	*run = arg;

	if (run->out != NULL && run->summaries)
		report_summary(run->out, r);
}

static void
cli_exec_done(struct scn_exec *x, void *arg)
{
	struct cli_run	*run = arg;

	run->done = 1;
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

/*
 * cli_secret - the AUTH secret from --auth-secret-env, --auth-secret-file
 * or, on a terminal, a prompt without echo. NULL when there is none;
 * the caller wipes it.
 */
static char *
cli_secret(const struct opt_cli *cli)
{
	struct termios	 t, old;
	char		 buf[4096], err[256], *file, *nl;
	size_t		 len;
	const char	*v;
	int		 echo_off = 0;

	if (cli->auth_secret_env != NULL) {
		if ((v = getenv(cli->auth_secret_env)) == NULL) {
			log_warnx("--auth-secret-env: %s is not set",
			    cli->auth_secret_env);
			return NULL;
		}
		return xstrdup(v);
	}
	if (cli->auth_secret_file != NULL) {
		if (msg_read(cli->auth_secret_file, &file, &len, err,
		    sizeof(err)) == -1) {
			log_warnx("--auth-secret-file: %s", err);
			return NULL;
		}
		if ((nl = strpbrk(file, "\r\n")) != NULL)
			*nl = '\0';
		return file;
	}
	if (!isatty(STDIN_FILENO)) {
		log_warnx("--auth: no secret (use --auth-secret-env VAR or "
		    "--auth-secret-file FILE; a prompt needs a terminal)");
		return NULL;
	}
	fprintf(stderr, "Password for %s: ", cli->auth_user);
	fflush(stderr);
	if (tcgetattr(STDIN_FILENO, &old) == 0) {
		t = old;
		t.c_lflag &= ~(tcflag_t)ECHO;
		echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0;
	}
	v = fgets(buf, sizeof(buf), stdin);
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	if (v == NULL)
		return NULL;
	buf[strcspn(buf, "\r\n")] = '\0';
	file = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return file;
}

int
main(int argc, char **argv)
{
	struct opt_cli		 cli;
	struct smtp_params	 p;
	struct smtp_txn		*txn = NULL;
	struct smtp_callbacks	 cb = { cli_wire, NULL, NULL,
				    cli_session_done };
	struct cli_run		 run;
	struct tls_params	 tp;
	struct scn_params	 sp;
	struct scn_vars		 vars;
	struct scn_classic	 classic;
	struct scn		**scns = NULL;
	struct scn_exec		**execs = NULL;
	struct report_run	*runs = NULL;
	struct sockaddr_storage	 ss, ls;
	socklen_t		 sl, lsl = 0;
	SSL_CTX			*ctx = NULL;
	char			 err[512], *helo = NULL, *note = NULL;
	char			*body = NULL, *message = NULL, *secret = NULL;
	char			*cmdline = NULL, *target = NULL;
	char			**addrs = NULL;
	size_t			 i, j, naddrs = 0, nscn = 0, bodylen = 0;
	size_t			 messagelen = 0;
	int			 rc = EXIT_USAGE, r;

	log_init("smtprobe", 0);
	signal(SIGPIPE, SIG_IGN);
	memset(&vars, 0, sizeof(vars));
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

		if (t->from == NULL && i == 0 && cli.nscenarios == 0 &&
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
		}
		if (t->nto == 0 && cli.data && cli.nscenarios == 0) {
			log_warnx("--data needs a --to for every --from");
			goto out;
		}
	}
	if (cli.ntxn == 0 && cli.nscenarios == 0 && (cli.stop_before < 0 ||
	    cli.stop_before > STAGE_MAIL) && (cli.quit_after < 0 ||
	    cli.quit_after >= STAGE_MAIL)) {
		log_warnx("--from and --to are required unless the session "
		    "stops before MAIL (see --quit-after)");
		goto out;
	}
	if (cli.helo == NULL)
		helo = cli_default_helo();
	if (cli.body != NULL && msg_read(cli.body, &body, &bodylen, err,
	    sizeof(err)) == -1) {
		log_warnx("--body: %s", err);
		goto out;
	}
	if (cli.message != NULL && msg_read(cli.message, &message,
	    &messagelen, err, sizeof(err)) == -1) {
		log_warnx("--message: %s", err);
		goto out;
	}
	for (i = 0; i < cli.nheaders; i++)
		if (msg_check_header(cli.headers[i], err, sizeof(err)) == -1) {
			log_warnx("--header: %s", err);
			goto out;
		}

	/* Scenario variables, then the scenarios: all parse, or none runs */
	if (cli.helo != NULL || helo != NULL)
		scn_vars_set(&vars, "helo", cli.helo != NULL ? cli.helo : helo);
	if (txn != NULL) {
		scn_vars_set(&vars, "from", txn[0].from);
		if (txn[0].nrcpt > 0)
			scn_vars_set(&vars, "to", txn[0].rcpt[0]);
	}
	scn_vars_set(&vars, "server", cli.host);
	if (cli.auth_user != NULL)
		scn_vars_set(&vars, "user", cli.auth_user);
	for (i = 0; i < cli.nvars; i++) {
		const char *eq = strchr(cli.vars[i], '=');
		char	*name = xstrndup(cli.vars[i],
		    (size_t)(eq - cli.vars[i]));

		scn_vars_set(&vars, name, eq + 1);
		free(name);
	}
	if (cli.nscenarios == 0) {
		classic = (struct scn_classic){ .tls_mode = cli.tls_mode,
		    .auth_mech = cli.auth_mech, .auth_user = cli.auth_user,
		    .auth_insecure = cli.auth_insecure, .txn = txn,
		    .ntxn = cli.ntxn, .data = cli.data };
		scns = xcalloc(1, sizeof(*scns));
		scns[nscn++] = scn_classic(&classic);
	} else {
		scns = xcalloc(cli.nscenarios, sizeof(*scns));
		for (i = 0; i < cli.nscenarios; i++) {
			struct scn_vars v;

			/* each file starts from the command line's values */
			memset(&v, 0, sizeof(v));
			for (j = 0; j < vars.n; j++)
				scn_vars_set(&v, vars.name[j], vars.value[j]);
			v.nlocked = v.n;
			scns[nscn] = scn_load(cli.scenarios[i], &v, err,
			    sizeof(err));
			scn_vars_clear(&v);
			if (scns[nscn] == NULL) {
				log_warnx("%s", err);
				goto out;
			}
			nscn++;
		}
	}
	if (cli.auth_mech >= 0 && (secret = cli_secret(&cli)) == NULL)
		goto out;
	if (cli.auth_mech < 0 && (cli.auth_secret_env != NULL ||
	    cli.auth_secret_file != NULL) && (secret = cli_secret(&cli)) ==
	    NULL)
		goto out;

	if (cli.tls_mode != SMTP_TLS_NONE || cli.nscenarios > 0) {
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
	p.implicit_tls = cli.tls_mode == SMTP_TLS_IMPLICIT;
	p.tls_mode = smtp_tls_mode_name(cli.tls_mode);
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
	memcpy(p.timeout_ms, cli.timeout_ms, sizeof(p.timeout_ms));
	p.max_line = cli.max_line;
	p.show_body = cli.show_body;

	memset(&sp, 0, sizeof(sp));
	sp.conn = &p;
	sp.stop_before = cli.stop_before;
	sp.quit_after = cli.quit_after;
	sp.helo_domain = p.helo;
	sp.headers = cli.headers;
	sp.nheaders = cli.nheaders;
	sp.body = body;
	sp.bodylen = bodylen;
	sp.message = message;
	sp.messagelen = messagelen;
	sp.version = PACKAGE_VERSION;
	sp.secret = secret;
	sp.out = &cb;
	sp.arg = &run;

	memset(&run, 0, sizeof(run));
	run.cli = &cli;
	run.ro.timestamps = cli.timestamps;
	run.out = cli.quiet || cli.ticket || cli.tap ? NULL : cli.json ?
	    (cli.verbose > 0 ? stderr : NULL) : stdout;
	run.summaries = cli.nscenarios > 0 && !cli.json;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((run.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if (cli.diagnose) {
		struct diag_params dp;
		char	*alt = util_is_fqdn(p.helo) ? NULL : cli_default_helo();

		memset(&dp, 0, sizeof(dp));
		dp.conn = &p;
		dp.probe = &classic;
		dp.run = &sp;
		dp.alt_helo = alt;
		dp.content = cli.diagnose_content;
		rc = diag_run(run.base, &dp, stdout, cli.json,
		    PACKAGE_VERSION);
		free(alt);
		event_base_free(run.base);
		goto out;
	}

	execs = xcalloc(nscn, sizeof(*execs));
	runs = xcalloc(nscn, sizeof(*runs));
	target = xasprintf("%s%s%s:%s", strchr(cli.host, ':') != NULL ? "[" :
	    "", cli.host, strchr(cli.host, ':') != NULL ? "]" : "", cli.port);
	rc = 0;
	for (i = 0; i < nscn; i++) {
		if (run.out != NULL && cli.nscenarios > 0)
			fprintf(run.out, "** scenario %s%s%s\n", scns[i]->name,
			    scns[i]->desc != NULL ? ": " : "",
			    scns[i]->desc != NULL ? scns[i]->desc : "");
		run.done = 0;
		execs[i] = scn_exec_new(run.base, scns[i], &sp, cli_exec_done,
		    &run);
		scn_exec_start(execs[i]);
		if (!run.done)
			event_base_dispatch(run.base);
		runs[i] = (struct report_run){ scns[i]->name, scns[i]->desc,
		    target, execs[i] };
		if (run.out != NULL && cli.nscenarios > 0)
			report_run_summary(run.out, &runs[i]);
		r = scn_exec_exit(execs[i]);
		if (r == 3 || (r == 1 && rc != 3) || (r == 2 && rc == 0))
			rc = r;
	}
	if (cli.nscenarios == 0 && scn_exec_nrecords(execs[0]) > 0) {
		/* the default probe: the output of one session */
		const struct record *rec = scn_exec_record(execs[0], 0);

		if (cli.ticket || cli.report != NULL) {
			struct ticket_info ti;
			FILE	*fp = stdout;

			ti.version = PACKAGE_VERSION;
			ti.cmdline = cmdline = cli_cmdline(argc, argv);
			ti.mask = cli.mask_local ? (const char **)addrs : NULL;
			ti.nmask = cli.mask_local ? naddrs : 0;
			if (cli.report != NULL && (fp = fopen(cli.report,
			    "w")) == NULL)
				log_warn("--report: %s", cli.report);
			else {
				report_ticket(fp, rec, &ti);
				if (fp != stdout && fclose(fp) != 0)
					log_warn("--report: %s", cli.report);
			}
		}
		if (cli.ticket || cli.tap)
			;
		else if (cli.json) {
			if (report_json(stdout, rec, PACKAGE_VERSION) == -1)
				log_warnx("cannot write the JSON document");
		} else if (cli.quiet)
			report_result(stdout, rec);
		else
			report_summary(stdout, rec);
	} else if (cli.json) {
		if (report_suite_json(stdout, runs, nscn, PACKAGE_VERSION,
		    rc) == -1)
			log_warnx("cannot write the JSON document");
	} else if (cli.quiet)
		printf("** result: %s (exit %d)\n", rc == 0 ? "every step as "
		    "expected" : "some steps failed", rc);
	if (cli.tap)
		report_tap(stdout, runs, nscn);
	if (cli.junit != NULL) {
		FILE	*fp;

		if ((fp = fopen(cli.junit, "w")) == NULL)
			log_warn("--junit: %s", cli.junit);
		else {
			report_junit(fp, runs, nscn, PACKAGE_VERSION);
			if (fclose(fp) != 0)
				log_warn("--junit: %s", cli.junit);
		}
	}
	for (i = 0; i < nscn; i++)
		scn_exec_free(execs[i]);
	event_base_free(run.base);
out:
	for (i = 0; i < nscn; i++)
		scn_free(scns[i]);
	free(scns);
	free(execs);
	free(runs);
	free(target);
	scn_vars_clear(&vars);
	for (i = 0; i < naddrs; i++)
		free(addrs[i]);
	free(addrs);
	for (i = 0; txn != NULL && i < cli.ntxn; i++)
		free(txn[i].rcpt);
	free(txn);
	free(helo);
	free(note);
	free(cmdline);
	free(body);
	free(message);
	if (secret != NULL) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
	tls_ctx_free(ctx);
	opt_cli_free(&cli);
	return rc;
}

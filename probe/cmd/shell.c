/*
 * shell.c - "smtprobe shell HOST[:PORT]" (see include/shell.h and the
 * SHELL section of smtprobe(1)).
 *
 * The shell owns the event loop and one interactive scenario exec
 * (scn.h): it reads a line outside the loop (libedit on a terminal,
 * getline() on a pipe), parses it with scn_parse() as a one-line
 * scenario, pushes the step with scn_exec_push() and runs the loop
 * until scn_exec_idle(). The transcript comes through the engine's wire
 * callback (report_wire(), as for the command line); the step callback
 * adds one or two "==" lines per reply: the stage, the meaning of the
 * enhanced code and, for a refusal, the verdict and its advice.
 *
 * Lines the shell handles itself, before the scenario language sees
 * them: help, history, save FILE and exit (lower case only: "HELP" goes
 * to the server); "expect", checked at once against the step above;
 * "data" without an argument, whose message is read up to a lone "."
 * (sent as an inline message, saved as a here-document); "data <<WORD",
 * read up to WORD before the whole is parsed; "MAIL
 * FROM:<a>" and "RCPT TO:<a>", taken as "mail <a>" and "rcpt <a>". A
 * line whose first word is no keyword is sent as it is (a "send" step).
 *
 * Steps that the runner would refuse in a way that ends the whole exec
 * (an AUTH secret that cannot be read, a data file that cannot) or the
 * session (AUTH without TLS) are checked here first and not sent, with
 * the reason: the user fixes the line and types it again.
 *
 * Secrets: a password is read without echo (or from the next line of
 * a pipe), lent to the runner through scn_params.secret for one step,
 * then wiped. It never reaches the history, the saved file or any
 * output; the engine masks AUTH payloads in the transcript.
 *
 * Ownership: every string here is the shell's own, freed at the end;
 * steps are copied by scn_exec_push().
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include <editline/readline.h>
#include <event2/event.h>

#include "log.h"
#include "msg.h"
#include "opt.h"
#include "report.h"
#include "route.h"
#include "scn.h"
#include "shell.h"
#include "shell_int.h"
#include "smtp.h"
#include "target.h"
#include "tls.h"
#include "util.h"
#include "verdict.h"



static int	 shell_options(int, char **, struct opt_cli *, struct shell *,
		    int *, int *);
static void	 shell_usage(void);
static void	 shell_list(void);
static void	 shell_wire(void *, enum smtp_wire, int, int64_t,
		    const char *);
static void	 shell_step_cb(void *, const struct record *,
		    const struct step *);
static void	 shell_exec_done(struct scn_exec *, void *);
static void	 shell_poll(struct shell *);
static int	 shell_line(struct shell *, const char *);
static void	 shell_help(void);
static int	 shell_target(struct shell *, const struct opt_cli *, SSL_CTX *,
		    const char *, struct route **);
static void	 shell_params(struct shell *, const struct opt_cli *);
static void	 shell_loop(struct shell *, const struct opt_cli *);
static void	 shell_free(struct shell *);

/* shell_usage - the --help text */
static void
shell_usage(void)
{
	printf("usage: smtprobe shell HOST[:PORT] [options]\n\n"
	    "An interactive SMTP session: each line typed is a scenario step "
	    "(see\nsmtprobe-scenario(5)), run at once; any other line is sent "
	    "as it is. Replies\nare annotated with their stage, the meaning "
	    "of the enhanced code and, for a\nrefusal, the verdict. Type help "
	    "in the shell for the commands; Ctrl-D ends\nthe session "
	    "politely (QUIT).\n\noptions:\n");
	opt_help(OC_SHELL);
	printf("\nexit status: 0, 1 when an expect line was not met, 3 when "
	    "no greeting was\naccepted, 64 usage error. See smtprobe(1), "
	    "SHELL.\n");
}

/* shell_list - every long option, one a line (tests/doc-check.sh) */
static void
shell_list(void)
{
	opt_list_cmd(OC_SHELL);
}

/* shell_shquote - s as one word for sh(1) (caller frees) */
char *
shell_shquote(const char *s)
{
	char	*out, *o;

	if (s[0] != '\0' && s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGH"
	    "IJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_[]")] == '\0')
		return xstrdup(s);
	o = out = xmalloc(strlen(s) * 4 + 3);
	*o++ = '\'';
	for (; *s != '\0'; s++) {
		if (*s == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else
			*o++ = *s;
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

/*
 * shell_quote - len bytes as a quoted scenario string that reads back
 * as the same bytes: no variable is expanded in it (caller frees)
 */
char *
shell_quote(const char *s, size_t len)
{
	char	*out, *o;
	size_t	 i;

	o = out = xmalloc(len * 4 + 3);
	*o++ = '"';
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':
		case '\\':
		case '$':
			*o++ = '\\';
			*o++ = (char)c;
			break;
		case '\t':
			memcpy(o, "\\t", 2);
			o += 2;
			break;
		case '\r':
			memcpy(o, "\\r", 2);
			o += 2;
			break;
		case '\n':
			memcpy(o, "\\n", 2);
			o += 2;
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				snprintf(o, 5, "\\x%02x", c);
				o += 4;
			} else
				*o++ = (char)c;
			break;
		}
	}
	*o++ = '"';
	*o = '\0';
	return out;
}

/*
 * shell_options - parse "shell HOST[:PORT] [options]": the shell's
 * options (OC_SHELL in include/opt.def) go through the probe's own
 * opt_apply() and opt_finish(), so the rules are the command line's.
 * Returns 0, or -1 after a message.
 */
static int
shell_options(int argc, char **argv, struct opt_cli *cli, struct shell *sh,
    int *help, int *list)
{
	const struct opt_def	*d;
	char			*q;
	size_t			 rlen = 1;
	long			 n = 0;
	int			 err;

	opt_cli_init(cli);
	sh->replay = xstrdup("");
	opterr = 0;
	optind = 1;
	while ((d = opt_next(OC_SHELL, 1, argc, argv, &n, &err)) != NULL) {
		if (opt_apply(d, optarg, n, cli) == -1)
			return -1;
		if (cli->help || cli->list_options || cli->dump_options) {
			*help = cli->help;
			*list = cli->list_options ? 1 : cli->dump_options ? 2 : 0;
			return 0;
		}
		if (d->id == S_VAR) {
			sh->setvars = xreallocarray(sh->setvars,
			    sh->nsetvars + 1, sizeof(char *));
			sh->setvars[sh->nsetvars++] = optarg;
		}
		if (d->cmds & OC_REPLAY) {
			q = d->arg != NULL ? shell_shquote(optarg) : NULL;
			rlen += strlen(d->name) + 4 + (q != NULL ? strlen(q) +
			    1 : 0);
			sh->replay = xreallocarray(sh->replay, rlen, 1);
			snprintf(sh->replay + strlen(sh->replay), rlen -
			    strlen(sh->replay), " --%s%s%s", d->name,
			    q != NULL ? " " : "", q != NULL ? q : "");
			free(q);
		}
	}
	if (err == 1 || err == 3) {
		if (optopt > 0 && optopt < 256)
			log_warnx("shell: unknown option -%c or missing "
			    "argument", optopt);
		else
			log_warnx("shell: unknown option or missing "
			    "argument: %s", argv[optind - 1]);
	}
	if (err != 0)
		return -1;
	if (optind >= argc) {
		log_warnx("shell: give the server, as HOST or HOST:PORT");
		return -1;
	}
	if (optind < argc - 1) {
		log_warnx("shell: one server only (unexpected \"%s\")",
		    argv[optind + 1]);
		return -1;
	}
	sh->server = xstrdup(argv[optind]);
	if (opt_text("server", argv[optind]) == -1)
		return -1;
	cli->server = argv[optind];
	return opt_finish(cli, 0, NULL);
}

static void
shell_wire(void *arg, enum smtp_wire dir, int tls, int64_t t,
    const char *text)
{
	struct shell	*sh = arg;

	report_wire(stdout, &sh->ro, dir, tls, t, text);
}

/*
 * shell_step_cb - annotate a finished step: "== stage: outcome, code
 * meaning", then for a refusal "== verdict: ..." and "== advice: ...".
 */
static void
shell_step_cb(void *arg, const struct record *r, const struct step *st)
{
	struct shell	*sh = arg;
	struct verdict	 v;
	const char	*meaning = NULL;

	if (st->stage == STAGE_BANNER && st->outcome == OUT_OK)
		sh->opened = 1;
	if (st->reply == NULL && st->outcome == OUT_OK)
		return;		/* connected, or sent without a reply */
	printf("== %s: %s", stage_name(st->stage),
	    record_outcome_name(st->outcome));
	if (st->reply != NULL && st->reply->enhanced[0] != '\0') {
		meaning = verdict_enhanced_meaning(st->reply->enhanced);
		printf(", %s %s", st->reply->enhanced, meaning != NULL ?
		    meaning : "(not in the registry)");
	}
	if (st->reply == NULL && st->detail != NULL)
		printf(" (%s)", st->detail);
	putchar('\n');
	if (st->outcome == OUT_OK || st->outcome == OUT_SKIPPED ||
	    st->stage == STAGE_QUIT)
		return;
	verdict_step(r, st, &v);
	printf("== verdict: %s (%s), confidence %d%%%s%s%s\n", v.class,
	    v.reason, v.confidence, v.words[0] != '\0' ? ", matched \"" : "",
	    v.words, v.words[0] != '\0' ? "\"" : "");
	if (v.advice != NULL && v.advice[0] != '\0')
		printf("== advice: %s\n", v.advice);
}

static void
shell_exec_done(struct scn_exec *x, void *arg)
{
	struct shell	*sh = arg;

	sh->done = 1;
}

/* shell_run - run the loop until the step pushed last is done */
void
shell_run(struct shell *sh)
{
	while (!scn_exec_idle(sh->x))
		if (event_base_loop(sh->base, EVLOOP_ONCE) != 0) {
			log_warnx("shell: the step waits for nothing (this "
			    "is a bug)");
			break;
		}
}

/* shell_poll - take in what the server did while the user typed */
static void
shell_poll(struct shell *sh)
{
	int	 i;

	for (i = 0; i < 4; i++)
		if (event_base_loop(sh->base, EVLOOP_NONBLOCK) != 0)
			break;
}

static void
shell_help(void)
{
	printf(
"Each line is a scenario step (smtprobe-scenario(5)), run at once:\n"
"  connect                    a new session (QUIT ends the open one)\n"
"  ehlo [NAME], helo [NAME]\n"
"  starttls [optional]        TLS on the live session, then EHLO again\n"
"  auth MECH USER [insecure]  asks for the password (never shown)\n"
"  mail ADDR [PARAM...]       MAIL FROM:<ADDR> also works\n"
"  rcpt ADDR [PARAM...]       RCPT TO:<ADDR> also works\n"
"  data                       then the message, up to a line \".\"\n"
"  data <<WORD, data file PATH, data raw \"BYTES\"\n"
"  rset, noop, vrfy ARG, sleep SECS, quit, drop\n"
"  send \"LINE\" [noreply]      a raw line; a line that starts with no\n"
"                             keyword is sent as it is, too\n"
"  expect MATCH [or MATCH...] [\"text\"] [verdict CLASS]\n"
"                             check the reply of the step above\n"
"  set NAME VALUE             ${NAME} in the lines below\n"
"  pipeline ... end           the lines up to \"end\" (mail, rcpt, data,\n"
"                             rset, noop, send, expect) go as one group\n"
"                             (RFC 2920); data's message is read first\n"
"Shell commands (lower case):\n"
"  help                       this text\n"
"  history                    the lines typed so far\n"
"  save FILE                  the steps so far as a scenario file, for\n"
"                             smtprobe -s HOST --scenario FILE\n"
"  exit                       end the session politely (also Ctrl-D)\n");
}

/*
 * shell_line - one line typed: a shell command, an expect line, a step,
 * or a raw line. Returns 1 when the shell should end.
 */
static int
shell_line(struct shell *sh, const char *line)
{
	const char *const *kw;
	const char	*p = line, *rest;
	char		*path;
	size_t		 wl, n;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	wl = strcspn(p, " \t");
	for (rest = p + wl; *rest == ' ' || *rest == '\t'; rest++)
		;
	if (wl == 4 && strncmp(p, "help", 4) == 0 && *rest == '\0') {
		shell_help();
		return 0;
	}
	if (wl == 7 && strncmp(p, "history", 7) == 0 && *rest == '\0') {
		shell_history(sh);
		return 0;
	}
	if (wl == 4 && strncmp(p, "exit", 4) == 0 && *rest == '\0')
		return 1;
	if (wl == 4 && strncmp(p, "save", 4) == 0) {
		path = xstrdup(rest);
		for (n = strlen(path); n > 0 && (path[n - 1] == ' ' ||
		    path[n - 1] == '\t'); n--)
			path[n - 1] = '\0';
		if (path[0] == '\0')
			fprintf(stderr, "!! usage: save FILE\n");
		else
			shell_save(sh, path);
		free(path);
		return 0;
	}
	if (wl == 6 && strncasecmp(p, "expect", 6) == 0) {
		shell_expect(sh, p);
		return 0;
	}
	if (wl == 8 && strncasecmp(p, "pipeline", 8) == 0 && *rest == '\0') {
		shell_pipeline(sh);
		return sh->eof;
	}
	for (kw = scn_keywords(); *kw != NULL; kw++)
		if (strlen(*kw) == wl && strncasecmp(*kw, p, wl) == 0) {
			shell_step(sh, p);
			return sh->eof;
		}
	shell_raw(sh, line);
	return 0;
}

/*
 * shell_target - the server: resolved on the loop as the command line
 * does, then its parameters from the target layer (the SNI rule, the
 * "resolved ... to ..." note, --local-address), the same as a probe's.
 * Returns 0, or the exit status after a message.
 */
static int
shell_target(struct shell *sh, const struct opt_cli *cli, SSL_CTX *ctx,
    const char *helo, struct route **route)
{
	socklen_t	 lsl = 0;

	*route = route_resolve(sh->base, cli->resolver, cli->host, 0,
	    cli->family, cli->timeout_ms[STAGE_RESOLVE]);
	if ((*route)->error != NULL || (*route)->naddrs == 0) {
		log_warnx("%s", (*route)->error != NULL ? (*route)->error :
		    "no address");
		return 3;
	}
	if (cli->local != NULL && target_local(cli->local,
	    (*route)->addrs[0].addr.family, &sh->ls, &lsl) == -1)
		return EXIT_USAGE;
	sh->conn = (struct target_conn){ .port = cli->port,
	    .local = cli->local != NULL ? (struct sockaddr *)&sh->ls : NULL,
	    .locallen = lsl, .helo = cli->helo != NULL ? cli->helo : helo,
	    .tls_mode = cli->tls_mode, .tls_ctx = ctx, .sni = cli->sni,
	    .no_sni = cli->no_sni, .tls_verify = cli->tls_verify,
	    .timeout_ms = cli->timeout_ms, .max_line = cli->max_line,
	    .show_body = cli->show_body, .proxy = cli->proxy,
	    .xclient = cli->xclient, .xforward = cli->xforward,
	    .interface = cli->interface };
	/* as if from another client: as the command line (cli.c) */
	if (cli->proxy_src != NULL) {
		if (target_proxy_addr("proxy-source", cli->proxy_src,
		    &sh->proxy_src) == -1)
			return EXIT_USAGE;
		sh->conn.proxy_src = (struct sockaddr *)&sh->proxy_src;
	}
	if (cli->proxy_dst != NULL) {
		if (target_proxy_addr("proxy-dest", cli->proxy_dst,
		    &sh->proxy_dst) == -1)
			return EXIT_USAGE;
		sh->conn.proxy_dst = (struct sockaddr *)&sh->proxy_dst;
	}
	target_init(&sh->t, &sh->conn, *route, cli->host, -1,
	    &(*route)->addrs[0].addr);
	return 0;
}

/* shell_params - what the runner borrows, and the terminal */
static void
shell_params(struct shell *sh, const struct opt_cli *cli)
{
	sh->cb.wire = shell_wire;
	sh->cb.step = shell_step_cb;
	sh->ro.timestamps = cli->timestamps;
	sh->sp.conn = &sh->t.p;
	sh->sp.stop_before = -1;
	sh->sp.quit_after = -1;
	sh->sp.helo_domain = sh->t.p.helo;
	sh->sp.version = PACKAGE_VERSION;
	sh->sp.secret = sh->secret;
	sh->sp.interactive = 1;
	sh->sp.out = &sh->cb;
	sh->sp.arg = sh;
	setvbuf(stdout, NULL, _IOLBF, 0);
	sh->tty = isatty(STDIN_FILENO);
	if (sh->tty) {
		rl_readline_name = "smtprobe";
		rl_inhibit_completion = 1;	/* a TAB is a TAB */
		using_history();
		stifle_history(1000);
		printf("** smtprobe shell: one step per line (help lists "
		    "them); exit or Ctrl-D ends\n");
	}
}

/*
 * shell_loop - the session opens at once (--starttls* adds ehlo and
 * starttls), then a step per line typed until exit or the end of input
 */
static void
shell_loop(struct shell *sh, const struct opt_cli *cli)
{
	char	*line;
	size_t	 n;
	int	 was_open;

	shell_line(sh, "connect");
	if ((cli->tls_mode == SMTP_TLS_REQUIRE ||
	    cli->tls_mode == SMTP_TLS_OPTIONAL) &&
	    scn_exec_session_open(sh->x)) {
		shell_line(sh, "ehlo");
		if (scn_exec_session_open(sh->x))
			shell_line(sh, cli->tls_mode == SMTP_TLS_OPTIONAL ?
			    "starttls optional" : "starttls");
	}
	while (!sh->done && !sh->eof) {
		was_open = scn_exec_session_open(sh->x);
		if ((line = shell_getline(sh, SHELL_PROMPT, &n)) == NULL) {
			if (sh->tty)
				putchar('\n');
			break;
		}
		/* what the server did while the user typed */
		shell_poll(sh);
		if (was_open && !scn_exec_session_open(sh->x))
			printf("** the server closed the connection while you "
			    "were typing\n");
		if (strlen(line) != n)
			fprintf(stderr, "!! the line holds a NUL byte; nothing "
			    "was sent\n");
		else if (n > SHELL_MAX_LINE)
			fprintf(stderr, "!! the line is longer than %d bytes; "
			    "nothing was sent\n", SHELL_MAX_LINE);
		else {
			if (line[strspn(line, " \t")] != '\0')
				shell_hist_add(sh, line);
			if (shell_line(sh, line) == 1) {
				free(line);
				break;
			}
		}
		free(line);
	}
}

/* shell_free - everything the shell holds, secrets wiped */
static void
shell_free(struct shell *sh)
{
	size_t	 i;

	if (sh->base != NULL)
		event_base_free(sh->base);
	target_clear(&sh->t);
	for (i = 0; i < sh->nent; i++) {
		free(sh->ent[i].line);
		free(sh->ent[i].body);
	}
	free(sh->ent);
	for (i = 0; i < sh->nhist; i++)
		free(sh->hist[i]);
	free(sh->hist);
	free(sh->setvars);
	free(sh->server);
	free(sh->replay);
	if (sh->lbuf != NULL) {
		explicit_bzero(sh->lbuf, sh->lcap);
		free(sh->lbuf);
	}
	if (sh->secret != NULL) {
		explicit_bzero(sh->secret, strlen(sh->secret));
		free(sh->secret);
	}
	scn_vars_clear(&sh->vars);
}

int
shell_main(int argc, char **argv)
{
	struct shell		 sh;
	struct opt_cli		 cli;
	struct tls_params	 tp;
	SSL_CTX			*ctx = NULL;
	struct route		*route = NULL;
	char			 err[512], *helo = NULL;
	int			 rc = EXIT_USAGE, help = 0, list = 0;

	memset(&sh, 0, sizeof(sh));
	sh.last_ent = -1;
	if (shell_options(argc, argv, &cli, &sh, &help, &list) == -1) {
		fprintf(stderr, "Try 'smtprobe shell --help'.\n");
		goto out;
	}
	if (help || list) {
		if (help)
			shell_usage();
		else if (list == 2)
			opt_dump(OC_SHELL);
		else
			shell_list();
		rc = 0;
		goto out;
	}
	log_init("smtprobe", cli.verbose);
	if (cli.helo == NULL)
		helo = opt_default_helo();
	opt_vars(&cli, helo, NULL, NULL, &sh.vars);
	/* as for a scenario run, a "set" line does not change these */
	sh.vars.nlocked = sh.vars.n;
	sh.auth_user = cli.auth_user;
	if ((cli.auth_secret_env != NULL || cli.auth_secret_file != NULL) &&
	    (sh.secret = opt_secret(&cli, 0)) == NULL)
		goto out;
	tp = (struct tls_params){ .cafile = cli.cafile, .capath = cli.capath,
	    .min_version = cli.tls_min, .ciphers = cli.ciphers,
	    .cert = cli.tls_cert, .key = cli.tls_key,
	    .max_version = cli.tls_max, .ciphersuites = cli.suites,
	    .show_chain = cli.show_chain, .expiry_warn = cli.expiry_warn };
	if ((ctx = tls_ctx_new(&tp, err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		goto out;
	}
	if ((sh.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if ((rc = shell_target(&sh, &cli, ctx, helo, &route)) != 0)
		goto out;
	shell_params(&sh, &cli);
	sh.x = scn_exec_new(sh.base, NULL, &sh.sp, shell_exec_done, &sh);
	scn_exec_start(sh.x);
	shell_loop(&sh, &cli);
	/* the end: QUIT when a session is open, then done */
	scn_exec_finish(sh.x);
	while (!sh.done)
		if (event_base_loop(sh.base, EVLOOP_ONCE) != 0)
			break;
	rc = sh.expect_failed ? 1 : sh.opened ? 0 : 3;
	scn_exec_free(sh.x);
out:
	shell_free(&sh);
	route_free(route);
	free(helo);
	tls_ctx_free(ctx);
	opt_cli_free(&cli);
	return rc;
}

/*
 * t_opt.c - command line parsing: server forms, ports, stages,
 * timeouts, transactions, and refusal of CR/LF in any argument.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "opt.h"
#include "smtp.h"
#include "tap.h"

static int
parse(struct opt_cli *c, const char *a1, const char *a2, const char *a3,
    const char *a4, const char *a5)
{
	char	*argv[7] = { "smtprobe", (char *)a1, (char *)a2, (char *)a3,
	    (char *)a4, (char *)a5, NULL };
	int	 argc = 1;

	while (argc < 6 && argv[argc] != NULL)
		argc++;
	return opt_parse(argc, argv, c);
}

int
main(void)
{
	struct opt_cli	 c;

	/* diagnostics of refused options go to stderr; keep TAP clean */
	freopen("/dev/null", "w", stderr);
	log_init("t_opt", 0);

	ok(parse(&c, "-s", "mx.example:2525", NULL, NULL, NULL) == 0 &&
	    strcmp(c.host, "mx.example") == 0 && strcmp(c.port, "2525") == 0,
	    "host:port");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "[::1]:2525", NULL, NULL, NULL) == 0 &&
	    strcmp(c.host, "::1") == 0 && strcmp(c.port, "2525") == 0,
	    "[v6]:port");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "2001:db8::1", NULL, NULL, NULL) == 0 &&
	    strcmp(c.host, "2001:db8::1") == 0 && strcmp(c.port, "25") == 0,
	    "bare v6, default port 25");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--tls-on-connect", NULL, NULL) == 0 &&
	    strcmp(c.port, "465") == 0, "implicit TLS defaults to 465");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "-p", "2626", NULL) == 0 &&
	    strcmp(c.port, "2626") == 0, "--port");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h:99999", NULL, NULL, NULL) == -1,
	    "port out of range refused");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "[::1", NULL, NULL, NULL) == -1,
	    "unterminated [ refused");
	opt_cli_free(&c);
	ok(parse(&c, NULL, NULL, NULL, NULL, NULL) == -1, "--server required");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--quit-after", "rcpt", NULL) == 0 &&
	    c.quit_after == STAGE_RCPT, "--quit-after rcpt");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--stop-before", "nope", NULL) == -1,
	    "unknown stage refused");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--timeout", "rcpt=2.5", NULL) == 0 &&
	    c.timeout_ms[STAGE_RCPT] == 2500 && c.timeout_ms[STAGE_MAIL] == 0,
	    "--timeout STAGE=SECS");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--timeout", "3", NULL) == 0 &&
	    c.timeout_ms[STAGE_BANNER] == 3000 &&
	    c.timeout_ms[STAGE_QUIT] == 3000, "--timeout SECS for all");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--timeout", "-1", NULL) == -1 &&
	    parse(&c, "-s", "h", "--timeout", "x=1", NULL) == -1,
	    "bad timeouts refused");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--helo", "a\r\nMAIL FROM:<x>", NULL) == -1,
	    "CR LF in --helo refused");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--header", "X: a\nB: c", NULL) == -1,
	    "LF in --header refused");
	opt_cli_free(&c);
	{
		char *argv[] = { "smtprobe", "-s", "h", "-t", "a@x", "-f",
		    "s@x", "-t", "b@x", "-f", "", "-t", "c@x", NULL };

		ok(opt_parse(13, argv, &c) == 0 && c.ntxn == 2 &&
		    c.txn[0].nto == 2 && strcmp(c.txn[0].to[0], "a@x") == 0 &&
		    strcmp(c.txn[1].from, "") == 0 && c.txn[1].nto == 1,
		    "each --from opens a transaction; early --to joins the "
		    "first");
		opt_cli_free(&c);
	}
	ok(parse(&c, "-s", "h", "--body", "x", "--message") == -1,
	    "--message needs an argument");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--bogus", NULL, NULL) == -1,
	    "unknown option refused");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "extra", NULL, NULL) == -1,
	    "stray argument refused");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--body", "-", NULL) == 0 && c.data == 1,
	    "--body implies --data");
	opt_cli_free(&c);
	return tap_done();
}

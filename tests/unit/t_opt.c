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

	/* numbers are decimal, finite and in range */
	ok(parse(&c, "-s", "h", "--timeout", "0x10", NULL) == -1,
	    "--timeout 0x10 refused");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--timeout", "nan", NULL) == -1 &&
	    parse(&c, "-s", "h", "--timeout", "inf", NULL) == -1 &&
	    parse(&c, "-s", "h", "--timeout", "1e2", NULL) == -1,
	    "--timeout nan, inf, 1e2 refused");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--max-line", "0x1000", NULL) == -1 &&
	    parse(&c, "-s", "h", "-p", " 25", NULL) == -1,
	    "hex and blanks refused in whole numbers");
	opt_cli_free(&c);

	/* the HELO name: a domain or a literal, unless --raw-helo */
	ok(parse(&c, "-s", "h", "--helo", "mail.example.org", NULL) == 0,
	    "--helo domain");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--helo", "[192.0.2.1]", NULL) == 0,
	    "--helo address literal");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--helo", "bad_*_name", NULL) == -1,
	    "--helo bad_*_name refused");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--helo", "bad_*_name", "--raw-helo") == 0 &&
	    c.raw_helo == 1, "--raw-helo lifts it (given after --helo too)");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--raw-helo", "--helo", "a\tb") == -1,
	    "--raw-helo still refuses a control character");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--raw-address", NULL, NULL) == 0 &&
	    c.raw_address == 1, "--raw-address");
	opt_cli_free(&c);

	/* the table itself (include/opt.def), and checks by type */
	{
		char	 err[256];

		ok(opt_table_check(err, sizeof(err)) == 0,
		    "the option table is consistent (%s)", err);
	}
	ok(parse(&c, "-s", "h", "--format", "ticket", NULL) == 0 &&
	    c.ticket == 1 && c.json == 0, "--format ticket (an enum)");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--format", "json", NULL) == 0 &&
	    c.json == 1 && c.ticket == 0, "--format json");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--format", "JSON", NULL) == -1 &&
	    parse(&c, "-s", "h", "--format", "", NULL) == -1,
	    "--format: only the words of the table");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--max-line", "511", NULL) == -1 &&
	    parse(&c, "-s", "h", "--max-line", "1048577", NULL) == -1 &&
	    parse(&c, "-s", "h", "--max-line", "512", NULL) == 0 &&
	    c.max_line == 512, "--max-line: the table's range 512..1048576");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--to", "a@b", "--no-such-option") == -1,
	    "an option of no command is refused");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--per-ip", "3", NULL) == -1 &&
	    parse(&c, "-s", "h", "--stage", "rcpt", NULL) == -1,
	    "batch's and explain's options are not the probe's");
	opt_cli_free(&c);
	/* generic --no-NAME of the switches: the last one given wins */
	ok(parse(&c, "-s", "h", "--starttls", "--no-starttls", NULL) == 0 &&
	    c.tls_mode == SMTP_TLS_NONE, "--no-starttls cancels --starttls");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--no-starttls", "--starttls", NULL) == 0 &&
	    c.tls_mode == SMTP_TLS_REQUIRE,
	    "--starttls after --no-starttls is on");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--tls-on-connect", "--no-starttls", NULL) ==
	    0 && c.tls_mode == SMTP_TLS_IMPLICIT,
	    "--no-starttls leaves --tls-on-connect alone");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--json", "--no-json", NULL) == 0 &&
	    c.json == 0, "--no-json cancels --json");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--quiet", "--no-quiet", NULL) == 0 &&
	    c.quiet == 0, "--no-quiet cancels --quiet");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--no-quiet", "-q", NULL) == 0 && c.quiet == 1,
	    "-q after --no-quiet is on");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--dane", "--no-dane", NULL) == 0 &&
	    c.dane == 0, "--no-dane cancels --dane");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--raw-helo", "--no-raw-helo", NULL) == 0 &&
	    c.raw_helo == 0, "--no-raw-helo cancels --raw-helo");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--diagnose", "--no-diagnose", NULL) == 0 &&
	    c.diagnose == 0, "--no-diagnose cancels --diagnose");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--no-check", NULL, NULL) == 0 && c.no_check == 1 &&
	    c.check == 0, "--no-check stays its own option");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--no-server", "x", NULL) == -1 &&
	    parse(&c, "-s", "h", "--no-help", NULL, NULL) == -1 &&
	    parse(&c, "-s", "h", "--no-starttls=x", NULL, NULL) == -1,
	    "--no- only for switches, without an argument");
	opt_cli_free(&c);
	ok(parse(&c, "-s", "h", "--no-verbose", NULL, NULL) == -1,
	    "--no- not for a counter (-v)");
	opt_cli_free(&c);
	return tap_done();
}

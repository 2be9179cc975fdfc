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
#include <jansson.h>

#include "batch.h"
#include "check.h"
#include "dane.h"
#include "tlsa.h"
#include "diag.h"
#include "explain.h"
#include "log.h"
#include "msg.h"
#include "mtasts.h"
#include "opt.h"
#include "reply.h"
#include "report.h"
#include "route.h"
#include "scn.h"
#include "shell.h"
#include "sink.h"
#include "smtp.h"
#include "target.h"
#include "tls.h"
#include "tlscheck.h"
#include "tlsrpt.h"
#include "util.h"
#include "valid.h"
#include "verdict.h"


#include "cli_int.h"

/*
 * cli_files - an output (--report, --junit, --metrics) is never one of
 * the inputs
 * (--body, --message, --scenario, --auth-secret-file), nor are the two
 * outputs one file: writing it would destroy what is being read
 */
int
cli_files(const struct opt_cli *c)
{
	const char	*in[4] = { c->body, c->message, c->auth_secret_file,
	    NULL };
	const char	*out[3] = { c->report, c->junit, c->metrics };
	const char	*outname[3] = { "--report", "--junit", "--metrics" };
	size_t		 i, k;

	for (k = 0; k < 3; k++) {
		if (out[k] == NULL)
			continue;
		for (i = 0; i < 3 + c->nscenarios; i++) {
			const char *f = i < 3 ? in[i] : c->scenarios[i - 3];

			if (valid_same_file(out[k], f)) {
				log_warnx("%s %s: that file is an input of "
				    "this run; writing it would destroy it",
				    outname[k], out[k]);
				return -1;
			}
		}
	}
	for (k = 0; k < 3; k++)
		for (i = k + 1; i < 3; i++)
			if (valid_same_file(out[k], out[i])) {
				log_warnx("%s and %s name the same file",
				    outname[k], outname[i]);
				return -1;
			}
	return 0;
}

char *
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

int
main(int argc, char **argv)
{
	struct opt_cli		 cli;
	struct cli_run		 run;
	int			 rc = EXIT_USAGE;

	log_init("smtprobe", 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && strcmp(argv[1], "explain") == 0)
		return explain_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "batch") == 0)
		return batch_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "shell") == 0)
		return shell_main(argc - 1, argv + 1);
	if (opt_parse(argc, argv, &cli) == -1) {
		fprintf(stderr, "Try 'smtprobe --help'.\n");
		opt_cli_free(&cli);
		return EXIT_USAGE;
	}
	log_init("smtprobe", cli.verbose);
	if (cli.help || cli.version || cli.list_options || cli.dump_options) {
		if (cli.help)
			opt_usage();
		else if (cli.version)
			printf("smtprobe %s\n", PACKAGE_VERSION);
		else if (cli.dump_options)
			opt_dump(OC_PROBE);
		else
			opt_list_cmd(OC_PROBE);
		opt_cli_free(&cli);
		return 0;
	}

	memset(&run, 0, sizeof(run));
	run.cli = &cli;
	run.ro.timestamps = cli.timestamps;
	run.sink = (struct sink){ sink_choose(cli.json, cli.tap, cli.ticket,
	    cli.quiet), stdout, cli.quiet, cli.verbose, PACKAGE_VERSION };
	run.summaries = cli.nscenarios > 0 && run.sink.kind != SINK_JSON;
	/* every input is checked before anything is sent */
	if (cli_inputs(&run) == -1 || cli_prepare(&run) == -1 ||
	    cli_route(&run) == -1)
		goto out;
	cli_targets(&run);
	cli_preflight(&run);
	if (cli.diagnose)
		rc = cli_diagnose(&run);
	else {
		rc = cli_baseline(&run, cli_sessions(&run));
		cli_output(&run, rc, argc, argv);
		if (run.sink.kind != SINK_JSON)	/* TAP stays TAP */
			cli_baseline_out(&run, run.sink.kind == SINK_TAP ?
			    stderr : stdout, NULL);
	}
out:
	cli_run_free(&run);
	opt_cli_free(&cli);
	return rc;
}

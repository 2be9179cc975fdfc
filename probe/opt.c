/*
 * opt.c - the option table and its parser.
 *
 * opts[] is the single source: getopt_long's table, the --help text
 * and the list compared with man/smtprobe.1 by tests/doc-check.sh are
 * all made from it. Every argument is checked here (ranges, stage
 * names, CR/LF/NUL); main.c gets values it can use as they are.
 */
#include "config.h"

#include <sys/socket.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "opt.h"
#include "scn.h"
#include "smtp.h"
#include "tls.h"
#include "util.h"
#include "valid.h"

enum opt_id {
	O_SERVER = 's', O_PORT = 'p', O_FROM = 'f', O_TO = 't',
	O_IPV4 = '4', O_IPV6 = '6', O_QUIET = 'q', O_VERBOSE = 'v',
	O_HELP = 'h', O_VERSION = 'V',
	O_LOCAL = 256, O_HELO, O_STARTTLS, O_STARTTLS_OPT, O_TLS_CONNECT,
	O_TLS_VERIFY, O_TLS_SNI, O_NO_TLS_SNI, O_TLS_CAFILE, O_TLS_CAPATH,
	O_TLS_MIN, O_TLS_CIPHERS, O_STOP_BEFORE, O_QUIT_AFTER, O_DATA,
	O_BODY, O_MESSAGE, O_HEADER, O_TIMEOUT, O_MAX_LINE, O_SHOW_BODY,
	O_JSON, O_TIMESTAMPS, O_LIST_OPTIONS, O_DIAGNOSE, O_DIAGNOSE_CONTENT,
	O_REPORT, O_FORMAT, O_MASK_LOCAL, O_SCENARIO, O_VAR, O_JUNIT, O_TAP,
	O_AUTH, O_AUTH_USER, O_AUTH_SECRET_ENV, O_AUTH_SECRET_FILE,
	O_AUTH_INSECURE, O_RESOLVER, O_ALL_MX, O_CHECK, O_PUBLIC_IP, O_DNSBL,
	O_DBL, O_NO_CHECK, O_DANE, O_TLS_CHECK, O_RAW_ADDRESS, O_RAW_HELO
};

struct opt_def {
	const char	*name;
	int		 id;		/* short letter, or O_* above 255 */
	const char	*arg;		/* NULL: a flag */
	const char	*help;
	int		 hidden;
};

static const struct opt_def opts[] = {
	{ "server", O_SERVER, "HOST[:PORT]",
	    "server to probe (name, IPv4 or [IPv6] address)", 0 },
	{ "resolver", O_RESOLVER, "ADDR[:PORT]",
	    "DNS server(s) to ask, comma-separated (default: "
	    "/etc/resolv.conf)", 0 },
	{ "all-mx", O_ALL_MX, NULL,
	    "probe every MX host and every address of the domain at once, "
	    "and show how they differ", 0 },
	{ "check", O_CHECK, NULL,
	    "also run the pre-flight checks: our IP's PTR and FCrDNS, DNS "
	    "blocklists, the HELO name, the sender domain's MX/SPF/DMARC, "
	    "the links in the message (always with --diagnose and the "
	    "ticket report)", 0 },
	{ "no-check", O_NO_CHECK, NULL,
	    "no pre-flight checks, not even with --diagnose or the ticket "
	    "report (no DNS lookups about us)", 0 },
	{ "public-ip", O_PUBLIC_IP, "ADDR",
	    "our address as the server sees it, for the checks (behind "
	    "NAT; default: the address we connect from)", 0 },
	{ "dnsbl", O_DNSBL, "ZONE,...",
	    "DNS blocklists for the checks (default: widely used public "
	    "lists; \"none\" for none)", 0 },
	{ "dbl", O_DBL, "ZONE,...",
	    "domain blocklists for the links in the message body", 0 },
	{ "port", O_PORT, "PORT",
	    "port (default 25, or 465 with --tls-on-connect)", 0 },
	{ "from", O_FROM, "ADDR",
	    "envelope sender; \"\" or \"<>\" is the null sender; each "
	    "--from starts a transaction", 0 },
	{ "to", O_TO, "ADDR",
	    "envelope recipient, repeatable", 0 },
	{ "raw-address", O_RAW_ADDRESS, NULL,
	    "send --from and --to as given, without the RFC 5321 syntax "
	    "check (relay tricks: user%other@host, host!user, "
	    "@a,@b:user@c); CR, LF and NUL are still refused", 0 },
	{ "ipv4", O_IPV4, NULL, "connect over IPv4 only", 0 },
	{ "ipv6", O_IPV6, NULL, "connect over IPv6 only", 0 },
	{ "local-address", O_LOCAL, "ADDR",
	    "source address to connect from", 0 },
	{ "helo", O_HELO, "NAME",
	    "name for EHLO/HELO (default: this host's FQDN, else an "
	    "address literal)", 0 },
	{ "raw-helo", O_RAW_HELO, NULL,
	    "send --helo as given, without the domain or address literal "
	    "check (to test a HELO rule); CR, LF and NUL are still "
	    "refused", 0 },
	{ "starttls", O_STARTTLS, NULL,
	    "require STARTTLS; fail when it is not offered", 0 },
	{ "starttls-optional", O_STARTTLS_OPT, NULL,
	    "use STARTTLS when offered", 0 },
	{ "tls-on-connect", O_TLS_CONNECT, NULL,
	    "implicit TLS from the first byte (port 465)", 0 },
	{ "tls-verify", O_TLS_VERIFY, NULL,
	    "a certificate that does not verify ends the session", 0 },
	{ "tls-sni", O_TLS_SNI, "NAME",
	    "server name to send and verify (default: the server name)", 0 },
	{ "no-tls-sni", O_NO_TLS_SNI, NULL, "send no server name", 0 },
	{ "tls-ca-file", O_TLS_CAFILE, "FILE",
	    "trusted CA certificates (PEM) instead of the system store", 0 },
	{ "tls-ca-path", O_TLS_CAPATH, "DIR",
	    "directory of trusted CA certificates (hashed)", 0 },
	{ "tls-min-version", O_TLS_MIN, "VER",
	    "lowest TLS version to offer: 1.0, 1.1, 1.2 or 1.3", 0 },
	{ "tls-ciphers", O_TLS_CIPHERS, "LIST",
	    "OpenSSL cipher list for TLS 1.2 and lower", 0 },
	{ "dane", O_DANE, NULL,
	    "look up the server's TLSA records (RFC 7672, _PORT._tcp.HOST) "
	    "before connecting, trusting the AD bit of the resolver, and "
	    "verify the certificate with them; implies --starttls-optional; "
	    "with --tls-verify a DANE failure ends the session", 0 },
	{ "tls-check", O_TLS_CHECK, NULL,
	    "TLS security per MX: chain, expiry, name, DANE, MTA-STS and "
	    "TLS-RPT of the domain, and what sending MTAs would do; implies "
	    "--dane and --starttls-optional, and stops before MAIL unless "
	    "--from/--to are given", 0 },
	{ "auth", O_AUTH, "MECH",
	    "authenticate after EHLO (and STARTTLS): plain, login, cram-md5, "
	    "xoauth2 or oauthbearer; needs --auth-user", 0 },
	{ "auth-user", O_AUTH_USER, "USER", "user name for --auth", 0 },
	{ "auth-secret-env", O_AUTH_SECRET_ENV, "VAR",
	    "read the password (or OAuth token) from environment variable "
	    "VAR; without this or --auth-secret-file it is asked for on "
	    "the terminal", 0 },
	{ "auth-secret-file", O_AUTH_SECRET_FILE, "FILE",
	    "read the password (or token) from the first line of FILE", 0 },
	{ "auth-insecure", O_AUTH_INSECURE, NULL,
	    "allow AUTH without TLS (refused by default: it shows the "
	    "credentials to the path)", 0 },
	{ "stop-before", O_STOP_BEFORE, "STAGE",
	    "end the session before STAGE (connect banner ehlo starttls "
	    "mail rcpt data eod)", 0 },
	{ "quit-after", O_QUIT_AFTER, "STAGE",
	    "end the session after STAGE", 0 },
	{ "data", O_DATA, NULL,
	    "send a message after RCPT (default: envelope only)", 0 },
	{ "body", O_BODY, "FILE|-",
	    "message body from FILE (- for stdin); implies --data", 0 },
	{ "message", O_MESSAGE, "FILE|-",
	    "whole message (headers and body) from FILE; implies --data", 0 },
	{ "header", O_HEADER, "'NAME: VALUE'",
	    "add or replace a header, repeatable; implies --data", 0 },
	{ "timeout", O_TIMEOUT, "[STAGE=]SECS",
	    "timeout for one stage, or for all; repeatable", 0 },
	{ "max-line", O_MAX_LINE, "BYTES",
	    "longest reply line accepted (default 4096)", 0 },
	{ "show-body", O_SHOW_BODY, "LINES",
	    "message lines shown in the transcript (default 20)", 0 },
	{ "scenario", O_SCENARIO, "FILE",
	    "run the steps of scenario FILE (smtprobe-scenario(5)) instead "
	    "of the default probe; repeat for a suite", 0 },
	{ "var", O_VAR, "NAME=VALUE",
	    "set ${NAME} for scenarios, repeatable (from, to, helo, server "
	    "and user are set from the options)", 0 },
	{ "junit", O_JUNIT, "FILE",
	    "also write the results as JUnit XML to FILE, one test case "
	    "per step", 0 },
	{ "tap", O_TAP, NULL,
	    "print the results as TAP (one test per step) instead of the "
	    "transcript", 0 },
	{ "diagnose", O_DIAGNOSE, NULL,
	    "confirm the verdict by changing one thing at a time: sender, "
	    "recipient, HELO", 0 },
	{ "diagnose-content", O_DIAGNOSE_CONTENT, NULL,
	    "with --diagnose, also send a minimal message and yours "
	    "(both get delivered)", 0 },
	{ "report", O_REPORT, "FILE",
	    "also write a ticket report (for a support desk) to FILE", 0 },
	{ "format", O_FORMAT, "FORMAT",
	    "output: text (default), json, or ticket", 0 },
	{ "mask-local-parts", O_MASK_LOCAL, NULL,
	    "hide the local parts of addresses in the ticket report", 0 },
	{ "json", O_JSON, NULL,
	    "print one JSON document instead of the transcript", 0 },
	{ "timestamps", O_TIMESTAMPS, NULL,
	    "prefix transcript lines with the time since start", 0 },
	{ "quiet", O_QUIET, NULL, "print only the result line", 0 },
	{ "verbose", O_VERBOSE, NULL,
	    "more diagnostics on stderr, repeatable", 0 },
	{ "help", O_HELP, NULL, "show this help", 0 },
	{ "version", O_VERSION, NULL, "show the version", 0 },
	{ "list-options", O_LIST_OPTIONS, NULL, NULL, 1 },
};

#define NOPTS	(sizeof(opts) / sizeof(opts[0]))

enum explain_id {
	E_STAGE = 300, E_BOUNCE, E_FILE, E_JSON, E_HELP, E_LIST
};

static const struct opt_def explain_opts[] = {
	{ "stage", E_STAGE, "STAGE",
	    "the stage the reply answered (banner ehlo starttls auth mail "
	    "rcpt data eod)", 0 },
	{ "bounce", E_BOUNCE, NULL,
	    "the input is a bounce message (DSN); found on its own when it "
	    "has DSN fields", 0 },
	{ "file", E_FILE, "FILE|-", "read the input from FILE", 0 },
	{ "json", E_JSON, NULL, "print JSON", 0 },
	{ "help", E_HELP, NULL, "show this help", 0 },
	{ "list-options", E_LIST, NULL, NULL, 1 },
};

#define NEXPLAIN	(sizeof(explain_opts) / sizeof(explain_opts[0]))

static int	opt_stage(const char *, const char *, int *);
static int	opt_server(struct opt_cli *);
static int	opt_domain(const char *);
static int	opt_zones(const char *, const char *, char ***);
static int	opt_text(const char *, const char *);

void
opt_wrap(const char *text, int indent, int width)
{
	const char	*p = text;
	int		 col = indent;
	size_t		 w;

	while (*p != '\0') {
		w = strcspn(p, " ");
		if (col > indent && col + 1 + (int)w > width) {
			printf("\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			putchar(' ');
			col++;
		}
		printf("%.*s", (int)w, p);
		col += (int)w;
		p += w;
		while (*p == ' ')
			p++;
	}
	putchar('\n');
}

void
opt_help_line(int letter, const char *name, const char *arg,
    const char *help)
{
	char	 lhs[64];

	if (letter > 0 && letter < 256)
		snprintf(lhs, sizeof(lhs), "-%c, --%s%s%s", letter, name,
		    arg != NULL ? " " : "", arg != NULL ? arg : "");
	else
		snprintf(lhs, sizeof(lhs), "    --%s%s%s", name,
		    arg != NULL ? " " : "", arg != NULL ? arg : "");
	if (strlen(lhs) > 28)
		printf("  %s\n  %-28s ", lhs, "");
	else
		printf("  %-28s ", lhs);
	opt_wrap(help, 31, 79);
}

void
opt_usage(void)
{
	size_t	 i;

	printf("usage: smtprobe --server HOST[:PORT] --from ADDR --to ADDR "
	    "[options]\n"
	    "       smtprobe [options] DOMAIN   (or --to ADDR without "
	    "--server: the MX)\n"
	    "       smtprobe --server HOST[:PORT] --scenario FILE... "
	    "[--var NAME=VALUE]\n"
	    "       smtprobe shell HOST[:PORT] [options]\n"
	    "       smtprobe explain [options] [TEXT]\n\n"
	    "Open an SMTP session and record every step: by default the "
	    "envelope only\n(banner, EHLO, MAIL, RCPT, QUIT), never DATA "
	    "unless asked.\n\noptions:\n");
	for (i = 0; i < NOPTS; i++)
		if (!opts[i].hidden)
			opt_help_line(opts[i].id, opts[i].name, opts[i].arg,
			    opts[i].help);
	printf("\nexit status: 0 accepted, 1 permanent rejection, "
	    "2 temporary rejection,\n3 network/TLS/timeout/protocol failure, "
	    "64 usage error. See smtprobe(1).\n");
}

void
opt_explain_usage(void)
{
	size_t	 i;

	printf("usage: smtprobe explain [--json] [--stage STAGE] "
	    "'550 5.7.1 reply text'\n"
	    "       smtprobe explain [--json] [--bounce] [--file FILE|-]\n\n"
	    "Diagnose a reply or a bounce message offline, with the same "
	    "rules as a live\nprobe. Without text or --file the input is "
	    "read from standard input.\n\noptions:\n");
	for (i = 0; i < NEXPLAIN; i++)
		if (!explain_opts[i].hidden)
			opt_help_line(0, explain_opts[i].name,
			    explain_opts[i].arg, explain_opts[i].help);
}

void
opt_explain_list(void)
{
	size_t	 i;

	for (i = 0; i < NEXPLAIN; i++)
		if (!explain_opts[i].hidden)
			printf("--%s\n", explain_opts[i].name);
}

int
opt_explain_parse(int argc, char **argv, struct opt_explain *e)
{
	struct option	 lo[NEXPLAIN + 1];
	size_t		 i, len = 0;
	int		 ch, st;

	memset(e, 0, sizeof(*e));
	e->stage = -1;
	for (i = 0; i < NEXPLAIN; i++) {
		lo[i].name = explain_opts[i].name;
		lo[i].has_arg = explain_opts[i].arg ? required_argument :
		    no_argument;
		lo[i].flag = NULL;
		lo[i].val = explain_opts[i].id;
	}
	memset(&lo[NEXPLAIN], 0, sizeof(lo[NEXPLAIN]));
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		switch (ch) {
		case E_STAGE:
			st = stage_lookup(optarg);
			if (st < STAGE_BANNER || st > STAGE_EOD) {
				log_warnx("explain --stage: unknown stage "
				    "\"%s\"", optarg);
				return -1;
			}
			e->stage = st;
			break;
		case E_BOUNCE:
			e->bounce = 1;
			break;
		case E_FILE:
			e->file = optarg;
			break;
		case E_JSON:
			e->json = 1;
			break;
		case 'h':
		case E_HELP:
			e->help = 1;
			return 0;
		case E_LIST:
			e->list_options = 1;
			return 0;
		default:
			log_warnx("explain: unknown option or missing "
			    "argument: %s", argv[optind - 1]);
			return -1;
		}
	}
	for (i = (size_t)optind; i < (size_t)argc; i++)
		len += strlen(argv[i]) + 1;
	if (len > 0) {
		if (e->file != NULL) {
			log_warnx("explain: give text or --file, not both");
			return -1;
		}
		e->text = xcalloc(1, len);
		for (i = (size_t)optind; i < (size_t)argc; i++) {
			if (i > (size_t)optind)
				strncat(e->text, " ", len - strlen(e->text) - 1);
			strncat(e->text, argv[i], len - strlen(e->text) - 1);
		}
	}
	return 0;
}

void
opt_explain_free(struct opt_explain *e)
{
	free(e->text);
}

void
opt_list(void)
{
	size_t	 i;

	for (i = 0; i < NOPTS; i++)
		if (!opts[i].hidden)
			printf("--%s\n", opts[i].name);
}

/* opt_text - refuse CR, LF, NUL and controls in an option argument */
static int
opt_text(const char *name, const char *v)
{
	const char	*why;

	if (util_check_text(v, 0, &why) == -1) {
		log_warnx("--%s: the value %s", name, why);
		return -1;
	}
	return 0;
}

static int
opt_stage(const char *name, const char *v, int *out)
{
	int	 st = stage_lookup(v);

	if (st < STAGE_CONNECT || st > STAGE_EOD || st == STAGE_AUTH) {
		log_warnx("--%s: unknown stage \"%s\" (one of connect banner "
		    "ehlo starttls mail rcpt data eod)", name, v);
		return -1;
	}
	*out = st;
	return 0;
}

int
opt_helo(const char *name, const char *v, int raw)
{
	char	 err[256];

	if (valid_helo(v, raw ? VALID_RAW : 0, err, sizeof(err)) == -1) {
		log_warnx("--%s: %s", name, err);
		return -1;
	}
	return 0;
}

int
opt_number(const char *name, const char *v, long lo, long hi, long *out)
{
	char	 err[160];

	if (valid_long(v, lo, hi, out, err, sizeof(err)) == -1) {
		log_warnx("--%s: %s", name, err);
		return -1;
	}
	return 0;
}

int
opt_timeout(const char *v, long *timeout_ms)
{
	const char	*eq = strchr(v, '='), *num = eq ? eq + 1 : v;
	char		 stage[32], err[160];
	double		 secs;
	int		 st = -1, i;

	if (eq != NULL) {
		if ((size_t)(eq - v) >= sizeof(stage)) {
			log_warnx("--timeout: unknown stage in \"%s\"", v);
			return -1;
		}
		memcpy(stage, v, (size_t)(eq - v));
		stage[eq - v] = '\0';
		st = stage_lookup(stage);
		if (st < 0 || st == STAGE_DONE || st == STAGE_SLEEP) {
			log_warnx("--timeout: unknown stage \"%s\"", stage);
			return -1;
		}
	}
	if (valid_seconds(num, 0.001, 86400, &secs, err, sizeof(err)) ==
	    -1) {
		log_warnx("--timeout: %s", err);
		return -1;
	}
	for (i = 0; i < STAGE__COUNT; i++)
		if (st == -1 || st == i)
			timeout_ms[i] = (long)(secs * 1000 + 0.5);
	return 0;
}

/*
 * opt_domain - a domain to look up (valid_domain), with a message; ASCII
 * only, as DNS gets it as it is (no IDNA here: give the xn-- form)
 */
static int
opt_domain(const char *d)
{
	char		 err[256];
	const char	*p;

	if (valid_domain(d, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	for (p = d; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80) {
			log_warnx("\"%s\": give a domain to look up in its "
			    "ASCII (xn--) form", d);
			return -1;
		}
	return 0;
}

/*
 * opt_zones - "a.example,b.example" into a NULL-terminated list; "none"
 * is an empty list. Each zone must be a domain.
 */
static int
opt_zones(const char *name, const char *v, char ***out)
{
	char	*copy = xstrdup(v), *tok, *save = NULL;
	char	**list = xcalloc(1, sizeof(char *));
	size_t	 n = 0, i;

	if (*out != NULL) {
		for (i = 0; (*out)[i] != NULL; i++)
			free((*out)[i]);
		free(*out);
	}
	*out = list;
	if (strcmp(v, "none") == 0) {
		free(copy);
		return 0;
	}
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (opt_domain(tok) == -1) {
			log_warnx("--%s: \"%s\" is not a zone", name, tok);
			free(copy);
			return -1;
		}
		list = xreallocarray(list, n + 2, sizeof(char *));
		list[n++] = xstrdup(tok);
		list[n] = NULL;
		*out = list;
	}
	free(copy);
	return 0;
}

/* opt_server - split "host", "host:port", "[v6]:port" or a bare v6 */
static int
opt_server(struct opt_cli *c)
{
	const char	*s = c->server, *colon, *close;

	if (s[0] == '[') {
		if ((close = strchr(s, ']')) == NULL || close == s + 1) {
			log_warnx("--server: unterminated \"[\" in \"%s\"", s);
			return -1;
		}
		c->host = xstrndup(s + 1, (size_t)(close - s - 1));
		if (close[1] == ':' && c->port == NULL)
			c->port = xstrdup(close + 2);
		else if (close[1] != '\0' && close[1] != ':') {
			log_warnx("--server: junk after \"]\" in \"%s\"", s);
			return -1;
		}
	} else if ((colon = strchr(s, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		c->host = xstrndup(s, (size_t)(colon - s));
		if (c->port == NULL)
			c->port = xstrdup(colon + 1);
	} else
		c->host = xstrdup(s);
	if (c->host[0] == '\0') {
		log_warnx("--server: empty host name");
		return -1;
	}
	return 0;
}

int
opt_parse(int argc, char **argv, struct opt_cli *c)
{
	struct option	 lo[NOPTS + 1];
	char		 so[3 * NOPTS + 2], *sp = so;
	size_t		 i;
	long		 n;
	int		 ch;

	memset(c, 0, sizeof(*c));
	c->stop_before = c->quit_after = -1;
	c->show_body = 20;
	c->auth_mech = -1;
	/* ':' first: a missing argument is reported as ':'; no '+', so
	   options may come after the DOMAIN argument (getopt permutes) */
	*sp++ = ':';
	for (i = 0; i < NOPTS; i++) {
		lo[i].name = opts[i].name;
		lo[i].has_arg = opts[i].arg ? required_argument : no_argument;
		lo[i].flag = NULL;
		lo[i].val = opts[i].id;
		if (opts[i].id < 256) {
			*sp++ = (char)opts[i].id;
			if (opts[i].arg)
				*sp++ = ':';
		}
	}
	memset(&lo[NOPTS], 0, sizeof(lo[NOPTS]));
	*sp = '\0';

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		const char *name = NULL;

		for (i = 0; i < NOPTS; i++)
			if (opts[i].id == ch)
				name = opts[i].name;
		if (optarg != NULL && name != NULL &&
		    opt_text(name, optarg) == -1)
			return -1;
		switch (ch) {
		case O_SERVER:
			c->server = optarg;
			break;
		case O_PORT:
			if (opt_number("port", optarg, 1, 65535, &n) == -1)
				return -1;
			free(c->port);
			c->port = xstrdup(optarg);
			break;
		case O_FROM:
			/* --to given before the first --from joins it */
			if (c->ntxn == 1 && c->txn[0].from == NULL) {
				c->txn[0].from = xstrdup(optarg);
				break;
			}
			c->txn = xreallocarray(c->txn, c->ntxn + 1,
			    sizeof(*c->txn));
			memset(&c->txn[c->ntxn], 0, sizeof(*c->txn));
			c->txn[c->ntxn++].from = xstrdup(optarg);
			break;
		case O_TO:
			if (c->ntxn == 0) {
				c->txn = xcalloc(1, sizeof(*c->txn));
				c->ntxn = 1;
			}
			{
				struct opt_txn *t = &c->txn[c->ntxn - 1];

				t->to = xreallocarray(t->to, t->nto + 1,
				    sizeof(char *));
				t->to[t->nto++] = optarg;
			}
			break;
		case O_IPV4:
			c->family = AF_INET;
			break;
		case O_IPV6:
			c->family = AF_INET6;
			break;
		case O_LOCAL:
			c->local = optarg;
			break;
		case O_HELO:
			/* checked below, once --raw-helo is known */
			c->helo = optarg;
			break;
		case O_RAW_HELO:
			c->raw_helo = 1;
			break;
		case O_RAW_ADDRESS:
			c->raw_address = 1;
			break;
		case O_STARTTLS:
			c->tls_mode = SMTP_TLS_REQUIRE;
			break;
		case O_STARTTLS_OPT:
			c->tls_mode = SMTP_TLS_OPTIONAL;
			break;
		case O_TLS_CONNECT:
			c->tls_mode = SMTP_TLS_IMPLICIT;
			break;
		case O_TLS_VERIFY:
			c->tls_verify = 1;
			break;
		case O_TLS_SNI:
			c->sni = optarg;
			break;
		case O_NO_TLS_SNI:
			c->no_sni = 1;
			break;
		case O_TLS_CAFILE:
			c->cafile = optarg;
			break;
		case O_TLS_CAPATH:
			c->capath = optarg;
			break;
		case O_TLS_MIN:
			if (tls_version_ok(optarg) == -1) {
				log_warnx("--tls-min-version: \"%s\" is not "
				    "one of 1.0 1.1 1.2 1.3", optarg);
				return -1;
			}
			c->tls_min = optarg;
			break;
		case O_TLS_CIPHERS:
			c->ciphers = optarg;
			break;
		case O_DANE:
			c->dane = 1;
			break;
		case O_TLS_CHECK:
			c->tls_check = c->dane = 1;
			break;
		case O_STOP_BEFORE:
			if (opt_stage("stop-before", optarg,
			    &c->stop_before) == -1)
				return -1;
			break;
		case O_QUIT_AFTER:
			if (opt_stage("quit-after", optarg,
			    &c->quit_after) == -1)
				return -1;
			break;
		case O_DATA:
			c->data = 1;
			break;
		case O_BODY:
			c->body = optarg;
			c->data = 1;
			break;
		case O_MESSAGE:
			c->message = optarg;
			c->data = 1;
			break;
		case O_HEADER:
			c->headers = xreallocarray(c->headers,
			    c->nheaders + 1, sizeof(char *));
			c->headers[c->nheaders++] = optarg;
			c->data = 1;
			break;
		case O_TIMEOUT:
			if (opt_timeout(optarg, c->timeout_ms) == -1)
				return -1;
			break;
		case O_MAX_LINE:
			if (opt_number("max-line", optarg, 512, 1048576,
			    &n) == -1)
				return -1;
			c->max_line = (size_t)n;
			break;
		case O_SHOW_BODY:
			if (opt_number("show-body", optarg, 0, 1000000,
			    &n) == -1)
				return -1;
			c->show_body = (size_t)n;
			break;
		case O_JSON:
			c->json = 1;
			break;
		case O_DIAGNOSE:
			c->diagnose = 1;
			break;
		case O_SCENARIO:
			c->scenarios = xreallocarray(c->scenarios,
			    c->nscenarios + 1, sizeof(char *));
			c->scenarios[c->nscenarios++] = optarg;
			break;
		case O_VAR:
			{
				const char *eq = strchr(optarg, '=');
				size_t k;

				for (k = 0; eq != NULL &&
				    optarg + k < eq; k++)
					if (!isalnum((unsigned char)optarg[k])
					    && optarg[k] != '_' &&
					    optarg[k] != '-')
						break;
				if (eq == NULL || eq == optarg ||
				    optarg + k != eq || k >= 64) {
					log_warnx("--var: expected NAME=VALUE "
					    "with a name of letters, digits, "
					    "_ and -, not \"%s\"", optarg);
					return -1;
				}
			}
			c->vars = xreallocarray(c->vars, c->nvars + 1,
			    sizeof(char *));
			c->vars[c->nvars++] = optarg;
			break;
		case O_JUNIT:
			c->junit = optarg;
			break;
		case O_TAP:
			c->tap = 1;
			break;
		case O_AUTH:
			if ((c->auth_mech = smtp_auth_mech_lookup(optarg)) ==
			    -1) {
				log_warnx("--auth: \"%s\" is not one of plain "
				    "login cram-md5 xoauth2 oauthbearer",
				    optarg);
				return -1;
			}
			break;
		case O_AUTH_USER:
			c->auth_user = optarg;
			break;
		case O_AUTH_SECRET_ENV:
			c->auth_secret_env = optarg;
			break;
		case O_AUTH_SECRET_FILE:
			c->auth_secret_file = optarg;
			break;
		case O_AUTH_INSECURE:
			c->auth_insecure = 1;
			break;
		case O_RESOLVER:
			c->resolver = optarg;
			break;
		case O_ALL_MX:
			c->all_mx = 1;
			break;
		case O_CHECK:
			c->check = 1;
			break;
		case O_NO_CHECK:
			c->no_check = 1;
			break;
		case O_PUBLIC_IP:
			{
				unsigned char b[16];

				if (inet_pton(AF_INET, optarg, b) != 1 &&
				    inet_pton(AF_INET6, optarg, b) != 1) {
					log_warnx("--public-ip: \"%s\" is not "
					    "an IPv4 or IPv6 address", optarg);
					return -1;
				}
			}
			c->public_ip = optarg;
			c->check = 1;
			break;
		case O_DNSBL:
		case O_DBL:
			if (opt_zones(ch == O_DNSBL ? "dnsbl" : "dbl", optarg,
			    ch == O_DNSBL ? &c->dnsbl : &c->dbl) == -1)
				return -1;
			c->check = 1;
			break;
		case O_DIAGNOSE_CONTENT:
			c->diagnose = c->diagnose_content = 1;
			break;
		case O_REPORT:
			c->report = optarg;
			break;
		case O_MASK_LOCAL:
			c->mask_local = 1;
			break;
		case O_FORMAT:
			if (strcmp(optarg, "json") == 0)
				c->json = 1;
			else if (strcmp(optarg, "ticket") == 0)
				c->ticket = 1;
			else if (strcmp(optarg, "text") != 0) {
				log_warnx("--format: \"%s\" is not one of "
				    "text json ticket", optarg);
				return -1;
			}
			break;
		case O_TIMESTAMPS:
			c->timestamps = 1;
			break;
		case O_QUIET:
			c->quiet = 1;
			break;
		case O_VERBOSE:
			c->verbose++;
			break;
		case O_HELP:
			c->help = 1;
			return 0;
		case O_VERSION:
			c->version = 1;
			return 0;
		case O_LIST_OPTIONS:
			c->list_options = 1;
			return 0;
		case ':':
			log_warnx("option %s needs an argument",
			    argv[optind - 1]);
			return -1;
		default:
			if (optopt != 0 && optopt < 256)
				log_warnx("unknown option -%c", optopt);
			else
				log_warnx("unknown option %s",
				    argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		if (optind + 1 < argc || c->server != NULL) {
			log_warnx("unexpected argument \"%s\" (one DOMAIN, or "
			    "--server)", argv[optind + (c->server != NULL ? 0 :
			    1)]);
			return -1;
		}
		if (opt_text("DOMAIN", argv[optind]) == -1 ||
		    opt_domain(argv[optind]) == -1)
			return -1;
		c->domain = xstrdup(argv[optind]);
	}
	if (c->helo != NULL && opt_helo("helo", c->helo, c->raw_helo) == -1)
		return -1;
	/* no envelope: greeting, EHLO, STARTTLS, AUTH, then QUIT */
	if (c->ntxn == 0 && c->stop_before < 0 && c->quit_after < 0 &&
	    c->nscenarios == 0)
		c->stop_before = STAGE_MAIL;
	if (c->server == NULL && c->domain == NULL) {
		const char *at = c->ntxn > 0 && c->txn[0].nto > 0 ?
		    strrchr(c->txn[0].to[0], '@') : NULL;
		size_t	    dl;

		if (at == NULL) {
			log_warnx("give a DOMAIN, --server, or a --to address "
			    "whose domain's MX to probe (see --help)");
			return -1;
		}
		c->domain = xstrdup(at + 1);
		dl = strlen(c->domain);
		if (dl > 0 && c->domain[dl - 1] == '>')
			c->domain[dl - 1] = '\0';
		if (opt_domain(c->domain) == -1)
			return -1;
	}
	if (c->server != NULL && opt_server(c) == -1)
		return -1;
	if (c->all_mx && c->domain == NULL) {
		log_warnx("--all-mx needs a DOMAIN (or --to) instead of "
		    "--server");
		return -1;
	}
	if (c->port == NULL)
		c->port = xstrdup(c->tls_mode == SMTP_TLS_IMPLICIT ? "465" :
		    "25");
	else if (opt_number("port", c->port, 1, 65535, &n) == -1)
		return -1;
	if (c->body != NULL && c->message != NULL) {
		log_warnx("--body and --message exclude each other");
		return -1;
	}
	if (c->diagnose && c->ticket) {
		log_warnx("--diagnose prints its own report; use --report "
		    "FILE for a ticket");
		return -1;
	}
	if (c->sni != NULL && c->no_sni) {
		log_warnx("--tls-sni and --no-tls-sni exclude each other");
		return -1;
	}
	if (c->check && c->no_check) {
		log_warnx("--no-check excludes --check, --public-ip, --dnsbl "
		    "and --dbl");
		return -1;
	}
	if (c->auth_mech >= 0 && c->auth_user == NULL) {
		log_warnx("--auth needs --auth-user");
		return -1;
	}
	if (c->auth_secret_env != NULL && c->auth_secret_file != NULL) {
		log_warnx("--auth-secret-env and --auth-secret-file exclude "
		    "each other");
		return -1;
	}
	if (c->nscenarios > 0 && c->diagnose) {
		log_warnx("--diagnose runs its own probes; it does not take "
		    "--scenario");
		return -1;
	}
	if (c->tls_check && (c->nscenarios > 0 || c->diagnose)) {
		log_warnx("--tls-check runs its own probe; it does not take "
		    "--scenario or --diagnose");
		return -1;
	}
	/* DANE needs TLS: STARTTLS when offered, unless asked otherwise */
	if (c->dane && c->tls_mode == SMTP_TLS_NONE)
		c->tls_mode = SMTP_TLS_OPTIONAL;
	if (c->tap && (c->json || c->ticket)) {
		log_warnx("--tap, --json and --format ticket exclude each "
		    "other");
		return -1;
	}
	return 0;
}

void
opt_cli_free(struct opt_cli *c)
{
	size_t	 i;

	for (i = 0; i < c->ntxn; i++) {
		free(c->txn[i].from);
		free(c->txn[i].to);
	}
	free(c->txn);
	free(c->headers);
	free(c->scenarios);
	free(c->vars);
	free(c->host);
	free(c->port);
	free(c->domain);
	for (i = 0; c->dnsbl != NULL && c->dnsbl[i] != NULL; i++)
		free(c->dnsbl[i]);
	free(c->dnsbl);
	for (i = 0; c->dbl != NULL && c->dbl[i] != NULL; i++)
		free(c->dbl[i]);
	free(c->dbl);
}

char *
opt_default_helo(void)
{
	char	 name[256];

	if (gethostname(name, sizeof(name)) == -1)
		return NULL;
	name[sizeof(name) - 1] = '\0';
	return valid_fqdn(name) ? xstrdup(name) : NULL;
}

char *
opt_secret(const struct opt_cli *cli, int prompt)
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
		if (valid_secret(v, strlen(v), err, sizeof(err)) == -1) {
			log_warnx("--auth-secret-env: %s", err);
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
		if (valid_secret(file, len, err, sizeof(err)) == -1) {
			explicit_bzero(file, len);
			free(file);
			log_warnx("--auth-secret-file: %s", err);
			return NULL;
		}
		if ((nl = strpbrk(file, "\r\n")) != NULL)
			/* the first line is the secret; wipe the rest */
			explicit_bzero(nl, len - (size_t)(nl - file));
		return file;
	}
	if (!prompt)
		return NULL;
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

void
opt_vars(const struct opt_cli *cli, const char *helo, const char *from,
    const char *to, struct scn_vars *vars)
{
	size_t	 i;

	if (cli->helo != NULL || helo != NULL)
		scn_vars_set(vars, "helo", cli->helo != NULL ? cli->helo :
		    helo);
	if (from != NULL)
		scn_vars_set(vars, "from", from);
	if (to != NULL)
		scn_vars_set(vars, "to", to);
	if (cli->host != NULL || cli->domain != NULL)
		scn_vars_set(vars, "server", cli->host != NULL ? cli->host :
		    cli->domain);
	if (cli->auth_user != NULL)
		scn_vars_set(vars, "user", cli->auth_user);
	for (i = 0; i < cli->nvars; i++) {
		const char *eq = strchr(cli->vars[i], '=');
		char	*name = xstrndup(cli->vars[i],
		    (size_t)(eq - cli->vars[i]));

		scn_vars_set(vars, name, eq + 1);
		free(name);
	}
}

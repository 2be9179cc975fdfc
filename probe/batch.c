/*
 * batch.c - "smtprobe batch": many targets on one event loop (see
 * include/batch.h and smtprobe(1), BATCH).
 *
 * The input is read and parsed before the loop starts (about 150 bytes
 * per target), so nothing on the loop ever waits for it. Every input
 * line becomes a target; a target becomes one job (one session to one
 * address), or one per address with --all-mx. A job goes through:
 *
 *   DNS queue --(route.h, at most --dns-concurrency names at once)-->
 *   destination queue --(admission)--> session --(done)--> reap
 *
 * Admission (bsched_pump) takes the destination at the head of the ready
 * list while fewer than cap sessions run and the rate bucket has a
 * token. A destination (one IP address) is on the ready list only while
 * it has jobs waiting, fewer than --per-ip sessions running, and its
 * last connection started at least --per-ip-gap ago; otherwise it waits
 * for a session of its own to end, or for its gap timer. So no event
 * scans all sessions or all destinations: every step is O(1) (hash
 * tables and FIFO lists), and the work per target is constant.
 *
 * Reentrancy: the done callback of a scenario run may come from inside
 * scn_exec_start() (a connect that fails at once) or from deep inside
 * the engine, so it only writes the record and moves the session to the
 * reap list. Freeing the run, releasing the destination and admitting
 * the next session happen later, from a zero-delay timer, in two
 * phases: libevent closes a freed bufferevent's socket from a finalizer
 * queued behind the events of the same loop iteration, possibly after
 * that iteration's timers. So the reap timer first frees the sessions
 * that ended before its previous run (their sockets are closed for
 * sure), then sets aside those that ended since; a new connection to an
 * address never overlaps the one it replaces.
 *
 * Records are built with jansson and written with one write(2) each
 * (jsonw.c), in completion order; every record carries input_index,
 * the 0-based line number in the input (blank and comment lines count).
 *
 * This file holds the options, the setup and the run from start to
 * end; each stage above is its own module (batch_int.h lists them).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "batch.h"
#include "batch_int.h"
#include "dns.h"
#include "log.h"
#include "opt.h"
#include "msg.h"
#include "record.h"
#include "report.h"
#include "route.h"
#include "scn.h"
#include "smtp.h"
#include "tls.h"
#include "util.h"
#include "valid.h"


/* ---- options ---- */

enum bopt_id {
	B_FROM = 'f', B_TO = 't', B_PORT = 'p', B_IPV4 = '4', B_IPV6 = '6',
	B_CONCURRENCY = 'c', B_QUIET = 'q', B_VERBOSE = 'v', B_HELP = 'h',
	B_HELO = 400, B_STARTTLS, B_STARTTLS_OPT, B_TLS_CONNECT, B_TIMEOUT,
	B_RESOLVER, B_ALL_MX, B_NO_MX, B_SCENARIO, B_VAR, B_PER_IP,
	B_PER_IP_GAP, B_RATE, B_DNS_MAX, B_SHARD, B_SHARD_BASE,
	B_SHARD_COUNT, B_SHARD_KEY, B_SEED, B_RESUME, B_BLOCKLIST,
	B_METADATA, B_DRAIN, B_CONTACT, B_PROGRESS, B_LIST, B_RAW_ADDRESS,
	B_RAW_HELO
};

struct bopt_def {
	const char	*name;
	int		 id;		/* short letter, or B_* above 255 */
	const char	*arg;		/* NULL: a flag */
	const char	*help;
	int		 hidden;
};

static const struct bopt_def bopts_table[] = {
	{ "from", B_FROM, "ADDR",
	    "envelope sender for every target that names none (default: "
	    "the null sender <> when there is a recipient)", 0 },
	{ "to", B_TO, "ADDR",
	    "recipient for every target that names none; repeatable", 0 },
	{ "helo", B_HELO, "NAME",
	    "name for EHLO (default: this host's name; required when that "
	    "is not a fully qualified domain name)", 0 },
	{ "raw-helo", B_RAW_HELO, NULL,
	    "send --helo as given, without the domain or address literal "
	    "check; CR, LF and NUL are still refused", 0 },
	{ "raw-address", B_RAW_ADDRESS, NULL,
	    "send --from, --to and the \"from\" and \"to\" of JSON lines "
	    "as given, without the RFC 5321 syntax check; CR, LF and NUL "
	    "are still refused", 0 },
	{ "port", B_PORT, "PORT",
	    "port for targets that give none (default 25, or 465 with "
	    "--tls-on-connect)", 0 },
	{ "starttls", B_STARTTLS, NULL,
	    "require STARTTLS; a server without it fails", 0 },
	{ "starttls-optional", B_STARTTLS_OPT, NULL,
	    "use STARTTLS when offered", 0 },
	{ "tls-on-connect", B_TLS_CONNECT, NULL,
	    "implicit TLS from the first byte", 0 },
	{ "timeout", B_TIMEOUT, "[STAGE=]SECS",
	    "timeout for one stage, or for all; repeatable (defaults: "
	    "connect 10, quit 10, eod 60, others 30)", 0 },
	{ "resolver", B_RESOLVER, "ADDR[:PORT]",
	    "DNS server(s) to ask, comma-separated (default: "
	    "/etc/resolv.conf)", 0 },
	{ "ipv4", B_IPV4, NULL, "use IPv4 addresses of names only", 0 },
	{ "ipv6", B_IPV6, NULL, "use IPv6 addresses of names only", 0 },
	{ "all-mx", B_ALL_MX, NULL,
	    "probe every address of every MX host of a domain, one record "
	    "each (default: the first address only)", 0 },
	{ "no-mx", B_NO_MX, NULL,
	    "a name without a port is a host (A/AAAA), not a mail domain "
	    "(MX)", 0 },
	{ "scenario", B_SCENARIO, "FILE",
	    "run scenario FILE against every target instead of the default "
	    "probe; ${server}, ${to}, ${from} and ${helo} are set per "
	    "target", 0 },
	{ "var", B_VAR, "NAME=VALUE",
	    "set ${NAME} for the scenario; repeatable", 0 },
	{ "concurrency", B_CONCURRENCY, "N",
	    "sessions at once (default and ceiling: the descriptor limit, "
	    "raised to its hard limit, less a reserve)", 0 },
	{ "per-ip", B_PER_IP, "N",
	    "sessions at once to one IP address (default 1)", 0 },
	{ "per-ip-gap", B_PER_IP_GAP, "SECS",
	    "least time between two new connections to one IP address "
	    "(default 2; 0: none)", 0 },
	{ "rate", B_RATE, "N[/s|/m]",
	    "new connections per second (or per minute), over all "
	    "destinations (default: no limit)", 0 },
	{ "dns-concurrency", B_DNS_MAX, "N",
	    "names resolved at once (default 32, fewer under a low "
	    "descriptor limit)", 0 },
	{ "shard", B_SHARD, "I/N|auto",
	    "probe only the targets of shard I of N (see SHARDING in "
	    "smtprobe(1)); auto reads the index from the job array's "
	    "environment", 0 },
	{ "shard-base", B_SHARD_BASE, "0|1",
	    "the first shard index: 0 (default) or 1 (Slurm arrays "
	    "numbered from 1)", 0 },
	{ "shard-count", B_SHARD_COUNT, "N",
	    "the number of shards for --shard auto when the environment "
	    "does not tell (else $SHARD_COUNT)", 0 },
	{ "shard-key", B_SHARD_KEY, "ip|name",
	    "what is hashed: the destination IP address (default: one "
	    "shard per IP, names resolved in every shard) or the name as "
	    "given", 0 },
	{ "seed", B_SEED, "N",
	    "seed of the sharding hash (default 0)", 0 },
	{ "resume", B_RESUME, "FILE",
	    "skip the targets FILE already has complete records for and "
	    "append the new records to FILE instead of standard output", 0 },
	{ "blocklist", B_BLOCKLIST, "FILE",
	    "never contact what FILE lists: a CIDR, an address or a domain "
	    "(and its subdomains) per line; repeatable", 0 },
	{ "metadata", B_METADATA, "FILE",
	    "write the run summary as a JSON document to FILE", 0 },
	{ "drain-timeout", B_DRAIN, "SECS",
	    "after SIGTERM or SIGINT, how long sessions under way may take "
	    "to end (default 25)", 0 },
	{ "contact", B_CONTACT, "TEXT",
	    "who runs the probe (URL or address), kept in the metadata", 0 },
	{ "progress", B_PROGRESS, NULL,
	    "show the progress line even when stderr is not a terminal", 0 },
	{ "quiet", B_QUIET, NULL,
	    "no progress line and no summary on stderr", 0 },
	{ "verbose", B_VERBOSE, NULL,
	    "more diagnostics on stderr, repeatable", 0 },
	{ "help", B_HELP, NULL, "show this help", 0 },
	{ "list-options", B_LIST, NULL, NULL, 1 },
};

#define NBOPTS	(sizeof(bopts_table) / sizeof(bopts_table[0]))

static int	 bt_parse_opts(int, char **, struct bopts *);
static int	 bt_opt_secs(const char *, const char *, long *);
static int	 bt_opt_rate(struct bopts *, const char *);
static void	 bt_usage(void);

static char	*bt_default_helo(void);
static int	 bt_check_files(const struct batch *);
static int	 bt_setup_scenario(struct batch *);
static int	 bt_setup_limits(struct batch *);
static int	 bt_setup(struct batch *);
static void	 bt_free(struct batch *);

/* bt_opt_secs - seconds (0.5 allowed) from 0 to a day, into ms */
static int
bt_opt_secs(const char *opt, const char *v, long *ms)
{
	char	 err[160];
	double	 s;

	if (valid_seconds(v, 0, 86400, &s, err, sizeof(err)) == -1) {
		log_warnx("batch %s: %s", opt, err);
		return -1;
	}
	*ms = (long)(s * 1000 + 0.5);
	return 0;
}

/* bt_opt_rate - "N", "N/s" or "N/m" new connections */
static int
bt_opt_rate(struct bopts *o, const char *v)
{
	char	 err[160], num[32];
	const char *end = v + strcspn(v, "/");
	double	 n = 0;

	if ((size_t)(end - v) >= sizeof(num) || (*end != '\0' &&
	    strcmp(end, "/s") != 0 && strcmp(end, "/m") != 0))
		n = -1;
	else {
		memcpy(num, v, (size_t)(end - v));
		num[end - v] = '\0';
		if (valid_seconds(num, 0, 1e6, &n, err, sizeof(err)) == -1)
			n = -1;
	}
	if (n <= 0) {
		log_warnx("batch --rate: \"%s\" is not N, N/s or N/m with N "
		    "above 0", v);
		return -1;
	}
	o->rate = strcmp(end, "/m") == 0 ? n / 60 : n;
	return 0;
}

static int
bt_parse_opts(int argc, char **argv, struct bopts *o)
{
	struct option	 lo[NBOPTS + 1];
	char		 shorts[64], *sp = shorts;
	size_t		 i;
	int		 ch;
	long		 n;

	memset(o, 0, sizeof(*o));
	o->per_ip = 1;
	o->gap_ms = 2000;
	o->drain_ms = 25000;
	o->shard_base = -1;
	o->tls_mode = SMTP_TLS_NONE;
	*sp++ = '+';
	for (i = 0; i < NBOPTS; i++) {
		lo[i].name = bopts_table[i].name;
		lo[i].has_arg = bopts_table[i].arg != NULL ?
		    required_argument : no_argument;
		lo[i].flag = NULL;
		lo[i].val = bopts_table[i].id;
		if (bopts_table[i].id < 256) {
			*sp++ = (char)bopts_table[i].id;
			if (bopts_table[i].arg != NULL)
				*sp++ = ':';
		}
	}
	*sp = '\0';
	memset(&lo[NBOPTS], 0, sizeof(lo[NBOPTS]));
	opterr = 0;
	optind = 1;
	for (;;) {
		while ((ch = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
			switch (ch) {
			case B_FROM:
				o->from = optarg;
				break;
			case B_TO:
				o->to = xreallocarray(o->to, o->nto + 1,
				    sizeof(char *));
				o->to[o->nto++] = optarg;
				break;
			case B_HELO:
				/* checked once --raw-helo is known */
				o->helo = optarg;
				break;
			case B_RAW_HELO:
				o->raw_helo = 1;
				break;
			case B_RAW_ADDRESS:
				o->raw_address = 1;
				break;
			case B_PORT:
				if (opt_number("port", optarg, 1, 65535,
				    &n) == -1)
					return -1;
				o->port = optarg;
				break;
			case B_STARTTLS:
				o->tls_mode = SMTP_TLS_REQUIRE;
				break;
			case B_STARTTLS_OPT:
				o->tls_mode = SMTP_TLS_OPTIONAL;
				break;
			case B_TLS_CONNECT:
				o->tls_mode = SMTP_TLS_IMPLICIT;
				break;
			case B_TIMEOUT:
				if (opt_timeout(optarg, o->timeout_ms) == -1)
					return -1;
				break;
			case B_RESOLVER:
				o->resolver = optarg;
				break;
			case B_IPV4:
				o->family = AF_INET;
				break;
			case B_IPV6:
				o->family = AF_INET6;
				break;
			case B_ALL_MX:
				o->all_mx = 1;
				break;
			case B_NO_MX:
				o->no_mx = 1;
				break;
			case B_SCENARIO:
				o->scenario = optarg;
				break;
			case B_VAR:
				if (strchr(optarg, '=') == NULL ||
				    optarg[0] == '=') {
					log_warnx("batch --var: \"%s\" is not "
					    "NAME=VALUE", optarg);
					return -1;
				}
				o->vars = xreallocarray(o->vars, o->nvars + 1,
				    sizeof(char *));
				o->vars[o->nvars++] = optarg;
				break;
			case B_CONCURRENCY:
				if (opt_number("concurrency", optarg, 1,
				    1000000, &o->concurrency) == -1)
					return -1;
				break;
			case B_PER_IP:
				if (opt_number("per-ip", optarg, 1, 1000000,
				    &o->per_ip) == -1)
					return -1;
				break;
			case B_PER_IP_GAP:
				if (bt_opt_secs("--per-ip-gap", optarg,
				    &o->gap_ms) == -1)
					return -1;
				break;
			case B_RATE:
				if (bt_opt_rate(o, optarg) == -1)
					return -1;
				break;
			case B_DNS_MAX:
				if (opt_number("dns-concurrency", optarg, 1,
				    10000, &o->dns_max) == -1)
					return -1;
				break;
			case B_SHARD:
				o->shard = optarg;
				break;
			case B_SHARD_BASE:
				if (opt_number("shard-base", optarg, 0, 1,
				    &o->shard_base) == -1)
					return -1;
				break;
			case B_SHARD_COUNT:
				if (opt_number("shard-count", optarg, 1,
				    BT_SHARD_MAX, &o->shard_count) == -1)
					return -1;
				break;
			case B_SHARD_KEY:
				if (strcmp(optarg, "ip") != 0 &&
				    strcmp(optarg, "name") != 0) {
					log_warnx("batch --shard-key: \"%s\" is "
					    "not ip or name", optarg);
					return -1;
				}
				o->shard_by_name = strcmp(optarg, "name") == 0;
				break;
			case B_SEED:
				{
					char		*end;
					unsigned long long v;

					errno = 0;
					v = strtoull(optarg, &end, 10);
					if (*optarg == '\0' || *end != '\0' ||
					    errno != 0 || *optarg == '-') {
						log_warnx("batch --seed: \"%s\" "
						    "is not a number", optarg);
						return -1;
					}
					o->seed = (uint64_t)v;
				}
				break;
			case B_RESUME:
				o->resume = optarg;
				break;
			case B_BLOCKLIST:
				o->blocklists = xreallocarray(o->blocklists,
				    o->nblocklists + 1, sizeof(char *));
				o->blocklists[o->nblocklists++] = optarg;
				break;
			case B_METADATA:
				o->metadata = optarg;
				break;
			case B_DRAIN:
				if (bt_opt_secs("--drain-timeout", optarg,
				    &o->drain_ms) == -1)
					return -1;
				break;
			case B_CONTACT:
				o->contact = optarg;
				break;
			case B_PROGRESS:
				o->progress = 1;
				break;
			case B_QUIET:
				o->quiet = 1;
				break;
			case B_VERBOSE:
				o->verbose++;
				break;
			case B_HELP:
				o->help = 1;
				return 0;
			case B_LIST:
				o->list = 1;
				return 0;
			default:
				log_warnx("batch: unknown option or missing "
				    "argument: %s", argv[optind - 1]);
				return -1;
			}
		}
		/* one FILE, anywhere among the options */
		if (optind >= argc)
			break;
		if (o->input != NULL) {
			log_warnx("batch: one input file only (\"%s\", "
			    "\"%s\")", o->input, argv[optind]);
			return -1;
		}
		o->input = argv[optind++];
	}
	return 0;
}

static void
bt_usage(void)
{
	size_t	 i;

	printf("usage: smtprobe batch [options] [FILE]\n\n"
	    "Probe many targets on one event loop. FILE (default: standard "
	    "input) holds one\ntarget per line: HOST:PORT, [IPv6]:PORT, an "
	    "IP address, a mail domain (its\nMX), user@domain (RCPT to that "
	    "address through the MX), or a JSON object\n"
	    "{\"target\": ..., \"from\": ..., \"to\": [...], \"port\": ..., "
	    "\"tag\": ...}.\nBlank lines and # comments are skipped. Each "
	    "result is one JSON line on\nstandard output, carrying "
	    "input_index, the 0-based line number.\n\noptions:\n");
	for (i = 0; i < NBOPTS; i++)
		if (!bopts_table[i].hidden)
			opt_help_line(bopts_table[i].id, bopts_table[i].name,
			    bopts_table[i].arg, bopts_table[i].help);
	printf("\nstatus of a record: ok permfail tempfail timeout refused "
	    "unreachable tls dns\nerror expect blocklisted invalid "
	    "interrupted\n\nexit status: 0 run completed, 2 interrupted, "
	    "3 output error, 64 usage error.\nSee smtprobe(1), BATCH.\n");
}

/* bt_default_helo - this host's name when it is an FQDN, else NULL */
static char *
bt_default_helo(void)
{
	char	 name[256];

	if (gethostname(name, sizeof(name)) == -1)
		return NULL;
	name[sizeof(name) - 1] = '\0';
	return valid_fqdn(name) ? xstrdup(name) : NULL;
}

/*
 * bt_check_files - no output of the run is one of its inputs: --resume
 * is read and appended to, so it may not be the input (FILE, or
 * standard input), a blocklist or the scenario; --metadata may be none
 * of them; standard output may not be the input. Compared by device
 * and inode once links are followed, so another name for the same file
 * is caught too.
 */
static int
bt_check_files(const struct batch *b)
{
	const struct bopts *o = &b->o;
	const char	*out[2] = { o->resume, o->metadata };
	const char	*oname[2] = { "--resume", "--metadata" };
	const char	*in = o->input != NULL && strcmp(o->input, "-") != 0 ?
			    o->input : NULL;
	size_t		 k, i;

	for (k = 0; k < 2; k++) {
		if (out[k] == NULL)
			continue;
		if ((in != NULL && valid_same_file(out[k], in)) ||
		    (in == NULL && valid_same_fd(out[k], STDIN_FILENO))) {
			log_warnx("batch %s %s: that is the input file; "
			    "writing it would destroy the input", oname[k],
			    out[k]);
			return -1;
		}
		if (valid_same_file(out[k], o->scenario)) {
			log_warnx("batch %s %s: that is the scenario",
			    oname[k], out[k]);
			return -1;
		}
		for (i = 0; i < o->nblocklists; i++)
			if (valid_same_file(out[k], o->blocklists[i])) {
				log_warnx("batch %s %s: that is a blocklist",
				    oname[k], out[k]);
				return -1;
			}
	}
	if (valid_same_file(o->resume, o->metadata)) {
		log_warnx("batch: --resume and --metadata name the same file");
		return -1;
	}
	if (o->resume == NULL && in != NULL &&
	    valid_same_fd(in, STDOUT_FILENO)) {
		log_warnx("batch: standard output is the input file %s", in);
		return -1;
	}
	return 0;
}

/*
 * bt_setup - everything before the loop that can fail with a usage
 * error: addresses, HELO, the scenario, the descriptor limit, the
 * blocklists, the input, --resume, the shard.
 */
static int
bt_setup(struct batch *b)
{
	struct bopts	*o = &b->o;
	char		 err[512];
	size_t		 i;

	/* the stage table's batch defaults (smtp.c) unless given */
	for (i = 0; i < STAGE__COUNT; i++)
		b->timeout_ms[i] = o->timeout_ms[i] > 0 ? o->timeout_ms[i] :
		    smtp_stage_timeout_bulk((enum smtp_stage)i);
	b->raw = o->raw_address ? VALID_RAW : 0;
	if (o->from != NULL && (b->from = valid_address(o->from,
	    VALID_NULL_OK | b->raw, err, sizeof(err))) == NULL) {
		log_warnx("batch --from: %s", err);
		return -1;
	}
	b->to = xcalloc(o->nto + 1, sizeof(char *));
	for (i = 0; i < o->nto; i++) {
		if ((b->to[i] = valid_address(o->to[i], b->raw, err,
		    sizeof(err))) == NULL) {
			log_warnx("batch --to: %s", err);
			return -1;
		}
		b->nto++;
	}
	if (o->helo != NULL && opt_helo("helo", o->helo, o->raw_helo) == -1)
		return -1;
	if (bt_check_files(b) == -1)
		return -1;
	if (o->helo != NULL)
		b->helo = xstrdup(o->helo);
	else if ((b->helo = bt_default_helo()) == NULL) {
		char	 name[256] = "";

		gethostname(name, sizeof(name));
		name[sizeof(name) - 1] = '\0';
		log_warnx("batch: give --helo NAME: this host's name \"%s\" "
		    "is not a fully qualified domain name, and servers judge "
		    "the EHLO name", name);
		return -1;
	}
	b->port = o->port != NULL ? (uint16_t)strtol(o->port, NULL, 10) :
	    o->tls_mode == SMTP_TLS_IMPLICIT ? 465 : 25;
	scn_vars_set(&b->vars, "helo", b->helo);
	for (i = 0; i < o->nvars; i++) {
		const char *eq = strchr(o->vars[i], '=');
		char	*name = xstrndup(o->vars[i], (size_t)(eq -
		    o->vars[i]));

		scn_vars_set(&b->vars, name, eq + 1);
		free(name);
	}
	b->vars.nlocked = b->vars.n;
	if (bt_setup_scenario(b) == -1 || bt_setup_limits(b) == -1)
		return -1;

	for (i = 0; i < o->nblocklists; i++)
		if (bselect_load_blocklist(b, o->blocklists[i]) == -1)
			return -1;
	if (bselect_setup_shard(b) == -1)
		return -1;
	if (binput_load(b) == -1)
		return -1;
	b->out_fd = STDOUT_FILENO;
	if (o->resume != NULL && bselect_load_resume(b) == -1)
		return -1;
	return 0;
}

/*
 * bt_setup_scenario - the scenario every target runs: --scenario, parsed
 * once now so that a broken file is a usage error (and kept parsed when
 * it needs no per-target variable), or the classic probe
 */
static int
bt_setup_scenario(struct batch *b)
{
	struct bopts	*o = &b->o;
	char		 err[512];
	size_t		 i;

	if (o->scenario != NULL) {
		struct scn_vars	 v;
		struct scn	*s;

		if (binput_read_file(o->scenario, &b->scn_text, &b->scn_len, err,
		    sizeof(err)) == -1) {
			log_warnx("batch --scenario: %s", err);
			return -1;
		}
		/* parse once now, so that a broken file is a usage error */
		memset(&v, 0, sizeof(v));
		scn_vars_set(&v, "server", "server.invalid");
		scn_vars_set(&v, "from", b->from != NULL ? b->from :
		    "from@example.invalid");
		scn_vars_set(&v, "to", b->nto > 0 ? b->to[0] :
		    "to@example.invalid");
		for (i = 0; i < b->vars.n; i++)
			scn_vars_set(&v, b->vars.name[i], b->vars.value[i]);
		v.nlocked = v.n;
		s = scn_parse(o->scenario, b->scn_text, b->scn_len, &v, err,
		    sizeof(err));
		scn_vars_clear(&v);
		if (s != NULL && scn_check_inputs(s, err, sizeof(err)) == -1) {
			scn_free(s);
			s = NULL;
		}
		if (s == NULL) {
			log_warnx("batch --scenario: %s", err);
			return -1;
		}
		if (memmem(b->scn_text, b->scn_len, "${", 2) == NULL)
			b->scn_shared = s;
		else
			scn_free(s);
	} else {
		struct scn_classic	 c;
		struct smtp_txn		 txn;

		memset(&c, 0, sizeof(c));
		memset(&txn, 0, sizeof(txn));
		c.tls_mode = o->tls_mode;
		c.auth_mech = -1;
		if (b->from != NULL || b->nto > 0) {
			txn.from = b->from != NULL ? b->from : "";
			txn.rcpt = (const char **)b->to;
			txn.nrcpt = b->nto;
			c.txn = &txn;
			c.ntxn = 1;
		}
		b->scn_default = scn_classic(&c);
	}
	return 0;
}

/*
 * bt_setup_limits - the descriptor limit (raised to its hard limit),
 * and from it the DNS and session caps; the --rate bucket
 */
static int
bt_setup_limits(struct batch *b)
{
	struct bopts	*o = &b->o;
	struct rlimit	 rl;
	size_t		 reserve;

	/* descriptors: soft limit up to the hard one, then the cap */
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("batch: cannot raise the descriptor limit");
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	b->fd_limit = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1000000 ?
	    1000000 : (size_t)rl.rlim_cur;
	if (o->dns_max > 0)
		b->dns_max = (size_t)o->dns_max;
	else {
		b->dns_max = b->fd_limit > BT_FD_RESERVE ? (b->fd_limit -
		    BT_FD_RESERVE) / (4 * BT_FDS_PER_NAME) : 1;
		if (b->dns_max > BT_DNS_MAX)
			b->dns_max = BT_DNS_MAX;
		if (b->dns_max < 1)
			b->dns_max = 1;
	}
	reserve = BT_FD_RESERVE + BT_FDS_PER_NAME * b->dns_max;
	if (b->fd_limit <= reserve) {
		log_warnx("batch: the descriptor limit (%zu) leaves no room "
		    "for sessions besides %zu for DNS and files; lower "
		    "--dns-concurrency or raise the limit", b->fd_limit,
		    reserve);
		return -1;
	}
	b->cap = b->fd_limit - reserve;
	if (o->concurrency > 0 && (size_t)o->concurrency < b->cap)
		b->cap = (size_t)o->concurrency;
	else if (o->concurrency > 0 && (size_t)o->concurrency > b->cap)
		log_warnx("batch: --concurrency %ld lowered to %zu (descriptor "
		    "limit %zu)", o->concurrency, b->cap, b->fd_limit);
	if (o->rate > 0) {
		b->burst = o->rate / 20 > 1 ? o->rate / 20 : 1;
		b->tokens = 1;
		b->tok_us = b->now(b->now_arg);
	}
	return 0;
}

/* bt_free - release everything (the loop has ended) */
static void
bt_free(struct batch *b)
{
	struct bt_sess	*s;
	struct bt_dest	*d, *dn;
	struct bt_job	*j;
	struct bt_name	*n, *nn;
	size_t		 i;

	TAILQ_CONCAT(&b->active, &b->reaped, entry);
	TAILQ_CONCAT(&b->active, &b->reap, entry);
	while ((s = TAILQ_FIRST(&b->active)) != NULL) {
		TAILQ_REMOVE(&b->active, s, entry);
		scn_exec_free(s->x);
		bsched_job_free(b, s->job);
		free(s->note);
		free(s);
	}
	for (i = 0; i < b->dcap; i++)
		for (d = b->dtab[i]; d != NULL; d = dn) {
			dn = d->next;
			while ((j = TAILQ_FIRST(&d->wait)) != NULL) {
				TAILQ_REMOVE(&d->wait, j, q);
				bsched_job_free(b, j);
			}
			if (d->gap != NULL)
				event_free(d->gap);
			free(d);
		}
	free(b->dtab);
	for (i = 0; i < b->ncap; i++)
		for (n = b->ntab[i]; n != NULL; n = nn) {
			nn = n->next;
			route_cancel(n->req);
			route_free(n->route);
			free(n->name);
			free(n);
		}
	free(b->ntab);
	if (b->reap_ev != NULL)
		event_free(b->reap_ev);
	if (b->rate_ev != NULL)
		event_free(b->rate_ev);
	if (b->drain_ev != NULL)
		event_free(b->drain_ev);
	if (b->progress_ev != NULL)
		event_free(b->progress_ev);
	for (i = 0; i < 2; i++)
		if (b->sig_ev[i] != NULL)
			event_free(b->sig_ev[i]);
	dns_ctx_free(b->dns);
	if (b->base != NULL)
		event_base_free(b->base);
	tls_ctx_free(b->ctx);
	scn_free(b->scn_default);
	scn_free(b->scn_shared);
	free(b->scn_text);
	scn_vars_clear(&b->vars);
	binput_free(b);
	bselect_set_free(&b->bl_names);
	bselect_set_free(&b->bl_nets);
	bselect_set_free(&b->done_keys);
	free(b->done_bits);
	free(b->helo);
	free(b->from);
	for (i = 0; i < b->nto; i++)
		free(b->to[i]);
	free(b->to);
	free(b->out.p);
	free(b->o.to);
	free(b->o.vars);
	free(b->o.blocklists);
	if (b->out_fd > STDERR_FILENO)
		close(b->out_fd);
}

int
batch_main(int argc, char **argv)
{
	struct batch	 b;
	char		 err[512];
	double		 wall;
	size_t		 i;
	int		 rc = BATCH_EXIT_USAGE, need_dns = 0;

	jw_install();
	memset(&b, 0, sizeof(b));
	TAILQ_INIT(&b.dnsq);
	TAILQ_INIT(&b.ready);
	TAILQ_INIT(&b.active);
	TAILQ_INIT(&b.reap);
	TAILQ_INIT(&b.reaped);
	b.out_fd = -1;
	b.now = bsched_clock;
	b.start = bsess_start;
	if (bt_parse_opts(argc, argv, &b.o) == -1) {
		fprintf(stderr, "Try 'smtprobe batch --help'.\n");
		goto out;
	}
	log_init("smtprobe", b.o.verbose);
	if (b.o.help || b.o.list) {
		if (b.o.help)
			bt_usage();
		else
			for (i = 0; i < NBOPTS; i++)
				if (!bopts_table[i].hidden)
					printf("--%s\n", bopts_table[i].name);
		rc = 0;
		goto out;
	}
	if (bt_setup(&b) == -1)
		goto out;

	if ((b.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	for (i = 0; i < b.nt; i++)
		if (b.t[i].kind == BT_HOST || b.t[i].kind == BT_DOMAIN)
			need_dns = 1;
	if (need_dns) {
		struct dns_params dnp = { b.o.resolver, NULL, 0, 0 };

		if (b.o.timeout_ms[STAGE_RESOLVE] > 0) {
			dnp.timeout_ms = b.o.timeout_ms[STAGE_RESOLVE] / 2;
			if (dnp.timeout_ms < 1)
				dnp.timeout_ms = 1;
			dnp.attempts = 2;
		}
		if ((b.dns = dns_ctx_new(b.base, &dnp, err, sizeof(err))) ==
		    NULL) {
			log_warnx("batch: %s", err);
			goto out;
		}
	}
	if ((b.o.tls_mode != SMTP_TLS_NONE || b.o.scenario != NULL) &&
	    (b.ctx = btls_ctx_new(err, sizeof(err))) == NULL) {
		log_warnx("batch: %s", err);
		goto out;
	}
	bloop_start(&b);

	util_utc_iso(b.started, sizeof(b.started));
	b.t0 = util_now_us();
	log_info("batch: %zu targets, concurrency cap %zu (fd limit %zu), "
	    "%ld per IP, DNS %zu at once", b.nt, b.cap, b.fd_limit,
	    b.o.per_ip, b.dns_max);
	bselect_run(&b);
	bdns_pump(&b);
	bsched_pump(&b);
	if (b.outstanding > 0 && !b.out_error)
		event_base_dispatch(b.base);
	wall = (double)(util_now_us() - b.t0) / 1e6;

	rc = b.out_error ? BATCH_EXIT_OUTPUT : b.outstanding > 0 ?
	    BATCH_EXIT_INTERRUPTED : BATCH_EXIT_OK;
	if (b.progress)
		bloop_progress(&b, 1);
	if (!b.o.quiet)
		bloop_summary(&b, wall, rc);
	if (b.o.metadata != NULL)
		bout_metadata(&b, wall, rc);
out:
	bt_free(&b);
	jw_arena_release();
	return rc;
}

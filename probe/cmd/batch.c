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
#include "check.h"
#include "dns.h"
#include "log.h"
#include "metrics.h"
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

/* batch's options are declared with every other in include/opt.def */

static int	 bt_parse_opts(int, char **, struct bopts *);
static int	 bt_opt_rate(struct bopts *, const char *);
static int	 bt_opt_seed(struct bopts *, const char *);
static int	 bt_opt(struct bopts *, const struct opt_def *, const char *,
		    long);
static void	 bt_usage(void);

static int	 bt_check_files(const struct batch *);
static int	 bt_setup_scenario(struct batch *);
static struct scn *bt_scn_common(struct batch *);
static int	 bt_setup_limits(struct batch *);
static int	 bt_setup(struct batch *);
static void	 bt_free(struct batch *);

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
	const struct opt_def	*d;
	long			 n = 0;
	int			 err;

	memset(o, 0, sizeof(*o));
	o->per_ip = OPT_BATCH_PER_IP;
	o->gap_ms = OPT_BATCH_GAP_MS;
	o->drain_ms = OPT_BATCH_DRAIN_MS;
	o->shard_base = -1;
	o->tls_mode = SMTP_TLS_NONE;
	opterr = 0;
	optind = 1;
	for (;;) {
		while ((d = opt_next(OC_BATCH, 0, argc, argv, &n, &err)) !=
		    NULL) {
			if (bt_opt(o, d, optarg, n) == -1)
				return -1;
			if (o->help || o->list || o->dump)
				return 0;
		}
		if (err == 1 || err == 3)
			log_warnx("batch: unknown option or missing "
			    "argument: %s", argv[optind - 1]);
		if (err != 0)
			return -1;
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
	if (o->tls_check && o->scenario != NULL) {
		log_warnx("batch --tls-check runs its own probe; it does not "
		    "take --scenario");
		return -1;
	}
	if (o->server_check && o->scenario != NULL) {
		log_warnx("batch --server-check runs its own probe; it does "
		    "not take --scenario");
		return -1;
	}
	/* DANE needs TLS: STARTTLS when offered, unless asked otherwise */
	if (o->dane && o->tls_mode == SMTP_TLS_NONE)
		o->tls_mode = SMTP_TLS_OPTIONAL;
	return 0;
}

/* bt_opt - one option d, its argument v (n: as a number), into o */
static int
bt_opt(struct bopts *o, const struct opt_def *d, const char *v, long n)
{
	switch (d->id) {
	case B_FROM:		o->from = v; break;
	case B_TO:
		o->to = xreallocarray(o->to, o->nto + 1, sizeof(char *));
		o->to[o->nto++] = v;
		break;
	case B_HELO:		o->helo = v; break;	/* checked later */
	case B_RAW_HELO:	o->raw_helo = 1; break;
	case B_RAW_ADDRESS:	o->raw_address = 1; break;
	case O_NO_PIPELINING:	o->no_pipelining = 1; break;
	case O_SERVER_CHECK:	o->server_check = 1; break;
	case O_SERVER_PUBLIC_IP:
		if (check_private(v) != 0) {
			log_warnx("batch --server-public-ip: \"%s\" is not a "
			    "public IPv4 or IPv6 address", v);
			return -1;
		}
		o->srv_ip = v;
		o->server_check = 1;
		break;
	case O_SERVER_DNSBL:
		o->server_check = 1;
		if (o->srv_dnsbl != NULL) {
			log_warnx("batch --server-dnsbl: give it once (a "
			    "comma-separated list)");
			return -1;
		}
		return opt_zones(d->name, v, &o->srv_dnsbl);
	case B_PORT:		o->port = v; break;
	case B_STARTTLS:	o->tls_mode = SMTP_TLS_REQUIRE; break;
	case O_STARTTLS_OPT:	o->tls_mode = SMTP_TLS_OPTIONAL; break;
	case B_TLS_CONNECT:	o->tls_mode = SMTP_TLS_IMPLICIT; break;
	case B_DANE:		o->dane = 1; break;
	case B_TLS_CHECK:	o->tls_check = o->dane = 1; break;
	case B_TLS_CAFILE:	o->cafile = v; break;
	case B_TIMEOUT:		return opt_timeout(v, o->timeout_ms);
	case O_RESOLVER:	o->resolver = v; break;
	case B_IPV4:		o->family = AF_INET; break;
	case B_IPV6:		o->family = AF_INET6; break;
	case B_ALL_MX:		o->all_mx = 1; break;
	case B_NO_MX:		o->no_mx = 1; break;
	case B_SCENARIO:	o->scenario = v; break;
	case B_VAR:
		if (strchr(v, '=') == NULL || v[0] == '=') {
			log_warnx("batch --var: \"%s\" is not NAME=VALUE", v);
			return -1;
		}
		o->vars = xreallocarray(o->vars, o->nvars + 1,
		    sizeof(char *));
		o->vars[o->nvars++] = v;
		break;
	case B_CONCURRENCY:	o->concurrency = n; break;
	case B_PER_IP:		o->per_ip = n; break;
	case B_PER_IP_GAP:	o->gap_ms = n; break;
	case B_RATE:		return bt_opt_rate(o, v);
	case B_DNS_MAX:		o->dns_max = n; break;
	case B_SHARD:		o->shard = v; break;
	case B_SHARD_BASE:	o->shard_base = n; break;
	case B_SHARD_COUNT:	o->shard_count = n; break;
	case B_SHARD_KEY:	o->shard_by_name = n == 1; break; /* ip|name */
	case B_SEED:		return bt_opt_seed(o, v);
	case B_RESUME:		o->resume = v; break;
	case B_BLOCKLIST:
		o->blocklists = xreallocarray(o->blocklists,
		    o->nblocklists + 1, sizeof(char *));
		o->blocklists[o->nblocklists++] = v;
		break;
	case B_METADATA:	o->metadata = v; break;
	case B_METRICS:		o->metrics = v; break;
	case B_DRAIN:		o->drain_ms = n; break;
	case B_CONTACT:		o->contact = v; break;
	case B_PROGRESS:	o->progress = 1; break;
	case B_SUMMARY_RECORD:	o->summary_rec = 1; break;
	case B_BASELINE:	o->baseline = v; break;
	case B_BASELINE_SAVE:	o->baseline_save = v; break;
	case B_QUIET:		o->quiet = 1; break;
	case O_VERBOSE:		o->verbose++; break;
	case O_HELP:		o->help = 1; break;
	case O_LIST_OPTIONS:	o->list = 1; break;
	case O_DUMP_OPTIONS:	o->dump = 1; break;
	}
	return 0;
}

/* bt_opt_seed - the hash seed, a whole number from 0 to 2^64-1 */
static int
bt_opt_seed(struct bopts *o, const char *v)
{
	char			*end;
	unsigned long long	 n;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || *v == '-') {
		log_warnx("batch --seed: \"%s\" is not a number", v);
		return -1;
	}
	o->seed = (uint64_t)n;
	return 0;
}

static void
bt_usage(void)
{
	printf("usage: smtprobe batch [options] [FILE]\n\n"
	    "Probe many targets on one event loop. FILE (default: standard "
	    "input) holds one\ntarget per line: HOST:PORT, [IPv6]:PORT, an "
	    "IP address, a mail domain (its\nMX), user@domain (RCPT to that "
	    "address through the MX), or a JSON object\n"
	    "{\"target\": ..., \"from\": ..., \"to\": [...], \"port\": ..., "
	    "\"tag\": ...}.\nBlank lines and # comments are skipped. Each "
	    "result is one JSON line on\nstandard output, carrying "
	    "input_index, the 0-based line number.\n\noptions:\n");
	opt_help(OC_BATCH);
	printf("\nstatus of a record: ok permfail tempfail timeout refused "
	    "unreachable tls dns\nerror expect blocklisted invalid "
	    "interrupted\n\nexit status: 0 run completed, 2 interrupted, "
	    "3 output error, 64 usage error.\nSee smtprobe(1), BATCH.\n");
}

/*
 * bt_check_files - no output of the run is one of its inputs: --resume
 * is read and appended to, so it may not be the input (FILE, or
 * standard input), a blocklist or the scenario; --metadata and
 * --metrics may be none of them, nor one the other; standard output
 * may not be the input. Compared by device and inode once links are
 * followed, so another name for the same file is caught too.
 */
static int
bt_check_files(const struct batch *b)
{
	const struct bopts *o = &b->o;
	const char	*out[3] = { o->resume, o->metadata, o->metrics };
	const char	*oname[3] = { "--resume", "--metadata", "--metrics" };
	const char	*in = o->input != NULL && strcmp(o->input, "-") != 0 ?
			    o->input : NULL;
	size_t		 k, i;

	for (k = 0; k < 3; k++) {
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
	for (k = 0; k < 3; k++)
		for (i = k + 1; i < 3; i++)
			if (valid_same_file(out[k], out[i])) {
				log_warnx("batch: %s and %s name the same "
				    "file", oname[k], oname[i]);
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
		    stage_timeout_bulk((enum smtp_stage)i);
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
	else if ((b->helo = opt_default_helo()) == NULL) {
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
	/* every session's scenario parameters; the target is each its own */
	b->sp.stop_before = -1;
	b->sp.quit_after = -1;
	b->sp.no_pipelining = o->no_pipelining;
	b->sp.helo_domain = b->helo;
	b->sp.version = PACKAGE_VERSION;
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
	if (bbase_setup(b) == -1)
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

		if (util_read_file(o->scenario, 0, &b->scn_text, &b->scn_len, err,
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
		else {
			scn_free(s);
			b->scn_common = bt_scn_common(b);
		}
	} else {
		struct scn_classic	 c;
		struct smtp_txn		 txn;

		memset(&c, 0, sizeof(c));
		memset(&txn, 0, sizeof(txn));
		c.tls_mode = o->tls_mode;
		c.auth_mech = -1;
		c.server_check = o->server_check;
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
 * bt_scn_common - --scenario parsed once for every target that brings
 * no sender or recipient of its own, when the file names no ${server}:
 * then the --from, --to and --var values are its only variables, the
 * same for all of them (bsess_scn()). The server is set to BT_SERVER_MAX
 * bytes, so that no target's name can make the variables longer than
 * this parse had them. NULL when that does not hold.
 */
static struct scn *
bt_scn_common(struct batch *b)
{
	struct scn_vars	 v;
	struct scn	*s;
	char		 err[256], server[BT_SERVER_MAX + 1];
	size_t		 i;

	if (b->from == NULL || b->nto == 0 ||
	    memmem(b->scn_text, b->scn_len, "${server}", 9) != NULL)
		return NULL;
	memset(server, 'x', BT_SERVER_MAX);
	server[BT_SERVER_MAX] = '\0';
	memset(&v, 0, sizeof(v));
	scn_vars_set(&v, "server", server);
	scn_vars_set(&v, "from", b->from);
	scn_vars_set(&v, "to", b->to[0]);
	for (i = 0; i < b->vars.n; i++)
		scn_vars_set(&v, b->vars.name[i], b->vars.value[i]);
	v.nlocked = v.n;
	s = scn_parse(b->o.scenario, b->scn_text, b->scn_len, &v, err,
	    sizeof(err));
	scn_vars_clear(&v);
	if (s != NULL && scn_check_inputs(s, err, sizeof(err)) == -1) {
		scn_free(s);
		s = NULL;
	}
	return s;
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
	struct bt_name	*n, *nn;
	size_t		 i;

	TAILQ_CONCAT(&b->active, &b->reaped, entry);
	TAILQ_CONCAT(&b->active, &b->reap, entry);
	while ((s = TAILQ_FIRST(&b->active)) != NULL) {
		TAILQ_REMOVE(&b->active, s, entry);
		bsess_free(b, s);
	}
	bsched_dests_free(b);
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
	scn_free(b->scn_common);
	free(b->scn_text);
	scn_vars_clear(&b->vars);
	binput_free(b);
	bselect_set_free(&b->bl_names);
	bselect_set_free(&b->bl_nets);
	bselect_set_free(&b->done_keys);
	bbase_free(b);
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
	for (i = 0; b->o.srv_dnsbl != NULL && b->o.srv_dnsbl[i] != NULL; i++)
		free(b->o.srv_dnsbl[i]);
	free(b->o.srv_dnsbl);
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
	int		 rc = EXIT_USAGE, need_dns = 0;

	if (argc > 1 && strcmp(argv[1], "merge") == 0)
		return batch_merge_main(argc - 1, argv + 1);
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
	if (b.o.help || b.o.list || b.o.dump) {
		if (b.o.help)
			bt_usage();
		else if (b.o.dump)
			opt_dump(OC_BATCH);
		else
			opt_list_cmd(OC_BATCH);
		rc = 0;
		goto out;
	}
	if (bt_setup(&b) == -1)
		goto out;

	if ((b.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	for (i = 0; i < b.nt; i++)
		if (b.t[i].kind == BT_HOST || b.t[i].kind == BT_DOMAIN ||
		    b.o.tls_check || b.o.server_check)
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
	    (b.ctx = btls_ctx_new(b.o.cafile, err, sizeof(err))) == NULL) {
		log_warnx("batch: %s", err);
		goto out;
	}
	bloop_start(&b);

	util_utc_iso(b.started, sizeof(b.started));
	b.t0 = util_now_us();
	if (b.o.metrics != NULL)
		b.metrics = metrics_new("batch");
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
	rc = bbase_finish(&b, rc);
	if (b.progress)
		bloop_progress(&b, 1);
	if (!b.o.quiet)
		bloop_summary(&b, wall, rc);
	if (b.o.metadata != NULL)
		bout_metadata(&b, wall, rc);
	if (b.o.summary_rec && !b.out_error)
		bout_summary_record(&b, wall, rc);
	if (b.metrics != NULL) {
		for (i = 0; i < ST__COUNT; i++)
			metrics_count(b.metrics, bt_status_names[i],
			    b.count[i]);
		metrics_write(b.o.metrics, b.metrics, wall, rc);
	}
out:
	metrics_free(b.metrics);
	b.metrics = NULL;
	bt_free(&b);
	jw_arena_release();
	return rc;
}

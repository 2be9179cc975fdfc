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
 * Admission (bt_pump) takes the destination at the head of the ready
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
 * Records are built with jansson and written with one write(2) each,
 * in completion order; every record carries input_index, the 0-based
 * line number in the input (blank and comment lines count).
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
#include <openssl/x509.h>

#include "batch.h"
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

#define BT_FD_RESERVE	64	/* descriptors kept for files, DNS, logs */
#define BT_FDS_PER_NAME	33	/* sockets one MX lookup may hold: MX,
				   then A and AAAA of up to 16 hosts */
#define BT_DNS_MAX	32	/* default --dns-concurrency ceiling */
#define BT_SHARD_MAX	OPT_SHARD_MAX

/* Statuses of a record, in the order of the summary. */
enum bt_status {
	ST_OK,		/* every step asked for was accepted */
	ST_PERMFAIL,	/* a 5xx */
	ST_TEMPFAIL,	/* a 4xx (421 greeting, greylisting ...) */
	ST_TIMEOUT,	/* no reply (or no connection) in time */
	ST_REFUSED,	/* the TCP connection was refused */
	ST_UNREACHABLE,	/* another connect failure */
	ST_TLS,		/* STARTTLS or TLS failure */
	ST_DNS,		/* no address: NXDOMAIN, null MX, DNS failure */
	ST_ERROR,	/* protocol error, closed, reset */
	ST_EXPECT,	/* a scenario expectation not met */
	ST_BLOCKLISTED,	/* on --blocklist: never contacted */
	ST_INVALID,	/* the input line is not a target */
	ST_INTERRUPTED,	/* abandoned after SIGTERM/SIGINT */
	ST__COUNT
};

static const char *const bt_status_names[ST__COUNT] = {
	[ST_OK] = "ok", [ST_PERMFAIL] = "permfail",
	[ST_TEMPFAIL] = "tempfail", [ST_TIMEOUT] = "timeout",
	[ST_REFUSED] = "refused", [ST_UNREACHABLE] = "unreachable",
	[ST_TLS] = "tls", [ST_DNS] = "dns", [ST_ERROR] = "error",
	[ST_EXPECT] = "expect", [ST_BLOCKLISTED] = "blocklisted",
	[ST_INVALID] = "invalid", [ST_INTERRUPTED] = "interrupted",
};

enum bt_kind {
	BT_INVALID,	/* why says what is wrong */
	BT_LITERAL,	/* an IP address: no DNS */
	BT_HOST,	/* a host name: A and AAAA */
	BT_DOMAIN	/* a mail domain: MX (implicit MX included) */
};

/* Command line. Strings point into argv. */
struct bopts {
	const char	 *input;	/* FILE, NULL or "-": stdin */
	const char	 *from;		/* --from */
	const char	**to;		/* --to, repeatable */
	size_t		  nto;
	const char	 *helo;		/* --helo */
	int		  raw_helo;	/* --raw-helo */
	int		  raw_address;	/* --raw-address */
	int		  tls_mode;	/* --starttls ... (smtp_tls_mode) */
	long		  timeout_ms[STAGE__COUNT]; /* --timeout, 0 unset */
	const char	 *port;		/* --port */
	const char	 *resolver;	/* --resolver */
	int		  family;	/* -4 / -6 */
	int		  all_mx;	/* --all-mx */
	int		  no_mx;	/* --no-mx */
	const char	 *scenario;	/* --scenario */
	const char	**vars;		/* --var NAME=VALUE */
	size_t		  nvars;
	long		  concurrency;	/* --concurrency, 0: fd limit */
	long		  per_ip;	/* --per-ip */
	long		  gap_ms;	/* --per-ip-gap */
	double		  rate;		/* --rate, per second, 0 none */
	long		  dns_max;	/* --dns-concurrency, 0 default */
	const char	 *shard;	/* --shard I/N or "auto" */
	long		  shard_base;	/* --shard-base, -1 unset */
	long		  shard_count;	/* --shard-count, 0 unset */
	int		  shard_by_name; /* --shard-key name */
	uint64_t	  seed;		/* --seed */
	const char	 *resume;	/* --resume */
	const char	**blocklists;	/* --blocklist, repeatable */
	size_t		  nblocklists;
	const char	 *metadata;	/* --metadata */
	long		  drain_ms;	/* --drain-timeout */
	const char	 *contact;	/* --contact */
	int		  progress;	/* --progress */
	int		  quiet;	/* -q */
	int		  verbose;	/* -v */
	int		  help;
	int		  list;		/* --list-options (tests) */
	int		  dump;		/* --dump-options (tests) */
};

/* An open-addressing set of strings (blocklist, resume keys). */
struct bt_set {
	char		**slot;
	size_t		  cap;		/* power of two, or 0 */
	size_t		  n;
};

/* A growing output buffer: one record at a time. */
struct bt_out {
	char		 *p;
	size_t		  len;
	size_t		  cap;
};

/* Memory of one record's JSON tree (bt_jmalloc): chunks, newest first. */
struct bt_chunk {
	struct bt_chunk	 *next;
	size_t		  size;
	size_t		  off;
	max_align_t	  data[];
};

struct bt_name;
struct bt_job;
struct bt_sess;
struct batch;

/* One input line. */
struct bt_target {
	size_t		  index;	/* line number, from 0 */
	char		 *text;		/* the target as given */
	char		 *host;		/* address (canonical) or lower-case
					   name */
	char		 *why;		/* BT_INVALID: what is wrong */
	char		 *from;		/* own sender (JSON), or NULL */
	char		**to;		/* own recipients (JSON, user@dom) */
	size_t		  nto;
	json_t		 *tag;		/* JSON "tag", or NULL */
	uint16_t	  port;		/* own port, 0: --port */
	uint8_t		  kind;		/* enum bt_kind */
	unsigned	  pending;	/* jobs not reported yet */
	struct bt_name	 *name;		/* its DNS entry while it waits */
	TAILQ_ENTRY(bt_target) dq;	/* DNS queue, or a name's waiters */
};
TAILQ_HEAD(bt_targetq, bt_target);

/* A name being resolved or resolved, shared by the targets using it. */
struct bt_name {
	struct batch	 *b;
	char		 *name;
	int		  by_mx;
	struct route_req *req;		/* while resolving */
	struct route	 *route;	/* once resolved */
	unsigned	  refs;		/* targets and jobs using it */
	struct bt_targetq waiters;
	struct bt_name	 *next;		/* hash chain */
};

/* One session to run: a target at one address (or at none). */
struct bt_job {
	struct bt_target	*t;
	struct bt_dest		*dest;		/* NULL: no address */
	const struct route_addr	*ra;		/* in t's route, or NULL */
	struct bt_name		*name;		/* holds the route, or NULL */
	int			 mx_index;	/* --all-mx: position */
	int			 mx_count;	/* --all-mx: of how many */
	TAILQ_ENTRY(bt_job)	 q;		/* the destination's queue */
};
TAILQ_HEAD(bt_jobq, bt_job);

enum bt_dstate {
	D_IDLE,		/* not on the ready list, no gap timer */
	D_READY,	/* on the ready list */
	D_TIMER		/* waiting for its gap timer */
};

/* One destination IP address: its queue and politeness state. */
struct bt_dest {
	struct batch		*b;
	struct dns_addr		 a;
	unsigned		 active;	/* sessions running */
	enum bt_dstate		 state;
	int64_t			 last_us;	/* last connection started */
	size_t			 nwait;
	struct bt_jobq		 wait;
	struct event		*gap;		/* created on first use */
	TAILQ_ENTRY(bt_dest)	 ready;
	struct bt_dest		*next;		/* hash chain */
};
TAILQ_HEAD(bt_destq, bt_dest);

/* One running session. */
struct bt_sess {
	struct batch		*b;
	struct bt_job		*job;
	struct scn_exec		*x;
	struct smtp_params	 p;
	struct scn_params	 sp;
	union {
		struct sockaddr		sa;
		struct sockaddr_in	sin;
		struct sockaddr_in6	sin6;
	}			 addr;
	char			*note;		/* how the address was found */
	char			 port[8];
	TAILQ_ENTRY(bt_sess)	 entry;		/* active, then reap */
};
TAILQ_HEAD(bt_sessq, bt_sess);

struct batch {
	struct bopts		 o;
	struct event_base	*base;
	struct dns_ctx		*dns;
	SSL_CTX			*ctx;
	char			*helo;		/* --helo or this host's FQDN */
	unsigned		 raw;		/* --raw-address: VALID_RAW */
	char			*from;		/* --from, checked */
	char			**to;		/* --to, checked */
	size_t			 nto;
	uint16_t		 port;		/* --port or its default */
	long			 timeout_ms[STAGE__COUNT];
	struct scn		*scn_default;	/* the classic probe */
	char			*scn_text;	/* --scenario contents */
	size_t			 scn_len;
	struct scn		*scn_shared;	/* it needs no per-target vars */
	struct scn_vars		 vars;		/* --var, helo */

	/* input */
	char			*input;		/* the whole input */
	struct bt_target	*t;
	size_t			 nt;

	/* selection */
	struct bt_set		 bl_names;	/* --blocklist domains */
	struct bt_set		 bl_nets;	/* --blocklist networks */
	unsigned char		 bl_len4[33];	/* prefix lengths in use */
	unsigned char		 bl_len6[129];
	unsigned char		*done_bits;	/* --resume: indexes done */
	size_t			 done_nbits;
	struct bt_set		 done_keys;	/* --resume --all-mx:
						   "INDEX/ADDRESS" */
	unsigned long		 shard_i, shard_n;
	const char		*shard_from;	/* variable of --shard auto */

	/* limits */
	size_t			 cap;		/* sessions at once */
	size_t			 fd_limit;	/* RLIMIT_NOFILE (soft) */
	size_t			 dns_max;	/* names resolving at once */
	double			 tokens;	/* --rate bucket */
	double			 burst;
	int64_t			 tok_us;

	/* state */
	struct bt_targetq	 dnsq;		/* waiting for a DNS slot */
	size_t			 nresolving;
	struct bt_name		**ntab;		/* names, hashed */
	size_t			 ncap, nnames;
	struct bt_dest		**dtab;		/* destinations, hashed */
	size_t			 dcap, ndest;
	struct bt_destq		 ready;
	struct bt_sessq		 active;
	struct bt_sessq		 reap;		/* ended, socket maybe open */
	struct bt_sessq		 reaped;	/* ended before the last reap */
	size_t			 nactive;
	size_t			 peak_active;
	struct event		*reap_ev;
	struct event		*rate_ev;
	struct event		*drain_ev;
	struct event		*progress_ev;
	struct event		*sig_ev[2];
	int			 stopping;	/* admit nothing more */
	int			 interrupted;	/* by a signal */
	int			 out_fd;
	int			 out_error;	/* errno of a failed write */
	struct bt_out		 out;		/* the record being written */

	/* counts */
	size_t			 nselected;	/* targets to report */
	size_t			 ndone;		/* targets fully reported */
	size_t			 outstanding;	/* selected, not done */
	size_t			 nresumed;	/* done by an earlier run */
	size_t			 nother;	/* other shards' */
	size_t			 nrecords;
	size_t			 count[ST__COUNT];
	int64_t			 t0;		/* monotonic start, us */
	char			 started[32];
	int			 progress;	/* the progress line is on */
};

/* ---- options ---- */

/* batch's options are declared with every other in include/opt.def */

static int	 bt_parse_opts(int, char **, struct bopts *);
static int	 bt_opt_rate(struct bopts *, const char *);
static int	 bt_opt_seed(struct bopts *, const char *);
static int	 bt_opt(struct bopts *, const struct opt_def *, const char *,
		    long);
static void	 bt_usage(void);

static uint64_t	 bt_fnv(uint64_t, const void *, size_t);
static uint64_t	 bt_mix(uint64_t);
static int	 bt_set_has(const struct bt_set *, const char *);
static void	 bt_set_add(struct bt_set *, const char *);
static void	 bt_set_free(struct bt_set *);

static int	 bt_read_file(const char *, char **, size_t *, char *,
		    size_t);
static int	 bt_name_ok(char *);
static char	*bt_canon(const char *);
static long	 bt_env_num(const char *);
static uint64_t	 bt_addr_hash(const struct dns_addr *);
static uint64_t	 bt_name_hash(const char *, int);
static char	*bt_default_helo(void);
static int	 bt_parse_target(struct batch *, struct bt_target *,
		    const char *);
static void	 bt_parse_json(struct batch *, struct bt_target *,
		    const char *, size_t);
static int	 bt_load_input(struct batch *);
static void	 bt_targets_free(struct batch *);

static void	 bt_net_key(int, const unsigned char *, int, char *, size_t);
static int	 bt_load_blocklist(struct batch *, const char *);
static const char *bt_blocked_addr(struct batch *, const struct dns_addr *,
		    char *, size_t);
static const char *bt_blocked_name(struct batch *, const char *);
static int	 bt_load_resume(struct batch *);
static int	 bt_check_files(const struct batch *);
static int	 bt_done_index(const struct batch *, size_t);
static int	 bt_setup_shard(struct batch *);
static int	 bt_mine(const struct batch *, const char *);

static struct bt_dest *bt_dest_get(struct batch *, const struct dns_addr *);
static void	 bt_dest_check(struct batch *, struct bt_dest *);
static void	 bt_gap_cb(evutil_socket_t, short, void *);
static void	 bt_enqueue(struct batch *, struct bt_job *);
static struct bt_job *bt_job_new(struct bt_target *, struct bt_dest *,
		    struct bt_name *, const struct route_addr *, int, int);
static void	 bt_job_free(struct batch *, struct bt_job *);
static int	 bt_rate_take(struct batch *);
static void	 bt_rate_cb(evutil_socket_t, short, void *);
static void	 bt_pump(struct batch *);

static uint16_t	 bt_port(const struct batch *, const struct bt_target *);
static struct scn *bt_scn(struct batch *, const struct bt_job *, int *,
		    char *, size_t);
static void	 bt_start(struct batch *, struct bt_job *);
static void	 bt_exec_done(struct scn_exec *, void *);
static void	 bt_sess_end(struct bt_sess *);
static void	 bt_reap_cb(evutil_socket_t, short, void *);
static enum bt_status bt_classify(const struct scn_exec *, int *);
static enum bt_status bt_error_kind(const struct record *);

static json_t	*bt_jstr(const char *);
static void	 bt_utc(char *, size_t);
static void	*bt_jmalloc(size_t);
static void	 bt_jfree(void *);
static void	 bt_arena_begin(void);
static void	 bt_arena_end(void);
static void	 bt_out_need(struct bt_out *, size_t);
static void	 bt_json_str(struct bt_out *, const char *, size_t);
static int	 bt_g17(double, char *);
static void	 bt_json_real(struct bt_out *, double);
static void	 bt_json_value(struct bt_out *, json_t *);
static void	 bt_report(struct batch *, const struct bt_target *,
		    const struct bt_job *, enum bt_status, int, json_t *,
		    const char *, const char *, const char *, json_t *,
		    json_t *);
static void	 bt_emit(struct batch *, json_t *);
static void	 bt_job_reported(struct batch *, struct bt_job *);
static void	 bt_target_reported(struct batch *, struct bt_target *);
static void	 bt_target_dropped(struct batch *, struct bt_target *);

static struct bt_name *bt_name_find(struct batch *, const char *, int);
static struct bt_name *bt_name_new(struct batch *, const char *, int);
static void	 bt_name_unref(struct batch *, struct bt_name *);
static void	 bt_dns_pump(struct batch *);
static void	 bt_name_done(struct route *, void *);
static size_t	 bt_first(const struct route *);
static void	 bt_resolved(struct batch *, struct bt_target *);

static void	 bt_select(struct batch *);
static void	 bt_signal_cb(evutil_socket_t, short, void *);
static void	 bt_drain_cb(evutil_socket_t, short, void *);
static void	 bt_abandon(struct batch *);
static void	 bt_stop_now(struct batch *);
static void	 bt_progress_cb(evutil_socket_t, short, void *);
static void	 bt_progress(struct batch *, int);
static void	 bt_summary(struct batch *, double, int);
static int	 bt_metadata(struct batch *, double, int);
static int	 bt_setup(struct batch *);
static void	 bt_free(struct batch *);

/* ---- small helpers ---- */

static uint64_t
bt_fnv(uint64_t h, const void *p, size_t len)
{
	const unsigned char	*s = p;

	while (len-- > 0) {
		h ^= *s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* bt_mix - the splitmix64 finaliser */
static uint64_t
bt_mix(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

uint64_t
batch_hash(uint64_t seed, const char *key, size_t len)
{
	unsigned char	 s[8];
	int		 i;

	for (i = 0; i < 8; i++)
		s[i] = (unsigned char)(seed >> (8 * i));
	return bt_mix(bt_fnv(bt_fnv(0xcbf29ce484222325ULL, s, sizeof(s)),
	    key, len));
}

static int
bt_set_has(const struct bt_set *s, const char *k)
{
	size_t	 i;

	if (s->cap == 0)
		return 0;
	i = (size_t)batch_hash(0, k, strlen(k)) & (s->cap - 1);
	while (s->slot[i] != NULL) {
		if (strcmp(s->slot[i], k) == 0)
			return 1;
		i = (i + 1) & (s->cap - 1);
	}
	return 0;
}

/* bt_set_add - add a copy of k (nothing when present) */
static void
bt_set_add(struct bt_set *s, const char *k)
{
	char	**old = s->slot;
	size_t	  oldcap = s->cap, i, j;

	if (bt_set_has(s, k))
		return;
	if ((s->n + 1) * 2 > s->cap) {
		s->cap = s->cap == 0 ? 64 : s->cap * 2;
		s->slot = xcalloc(s->cap, sizeof(char *));
		for (j = 0; j < oldcap; j++) {
			if (old[j] == NULL)
				continue;
			i = (size_t)batch_hash(0, old[j], strlen(old[j])) &
			    (s->cap - 1);
			while (s->slot[i] != NULL)
				i = (i + 1) & (s->cap - 1);
			s->slot[i] = old[j];
		}
		free(old);
	}
	i = (size_t)batch_hash(0, k, strlen(k)) & (s->cap - 1);
	while (s->slot[i] != NULL)
		i = (i + 1) & (s->cap - 1);
	s->slot[i] = xstrdup(k);
	s->n++;
}

static void
bt_set_free(struct bt_set *s)
{
	size_t	 i;

	for (i = 0; i < s->cap; i++)
		free(s->slot[i]);
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

/*
 * bt_utc - the UTC time as util_utc_iso() writes it, with the
 * strftime() part made once a second: thousands of records a second
 * share it
 */
static void
bt_utc(char *buf, size_t len)
{
	static time_t	 sec = -1;
	static char	 prefix[24];
	struct timespec	 ts;
	struct tm	 tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != sec) {
		gmtime_r(&ts.tv_sec, &tm);
		strftime(prefix, sizeof(prefix), "%Y-%m-%dT%H:%M:%S", &tm);
		sec = ts.tv_sec;
	}
	snprintf(buf, len, "%s.%03dZ", prefix,
	    (int)(ts.tv_nsec / 1000000) % 1000);
}

/* bt_jstr - a JSON string; bytes that are not UTF-8 come escaped */
static json_t *
bt_jstr(const char *s)
{
	json_t	*j;
	char	*esc;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	esc = util_escape(s, strlen(s));
	j = json_string(esc);
	free(esc);
	return j != NULL ? j : json_null();
}

/* ---- options ---- */

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
	case B_PORT:		o->port = v; break;
	case B_STARTTLS:	o->tls_mode = SMTP_TLS_REQUIRE; break;
	case O_STARTTLS_OPT:	o->tls_mode = SMTP_TLS_OPTIONAL; break;
	case B_TLS_CONNECT:	o->tls_mode = SMTP_TLS_IMPLICIT; break;
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
	case B_DRAIN:		o->drain_ms = n; break;
	case B_CONTACT:		o->contact = v; break;
	case B_PROGRESS:	o->progress = 1; break;
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

/* ---- input ---- */

/* bt_read_file - the whole of path ("-" or NULL: stdin), NUL added */
static int
bt_read_file(const char *path, char **buf, size_t *len, char *err,
    size_t errlen)
{
	size_t	 cap = 65536, off = 0;
	ssize_t	 n;
	char	*p;
	int	 fd;

	if (path == NULL || strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	p = xmalloc(cap);
	for (;;) {
		if (cap - off < 2) {
			cap *= 2;
			p = xreallocarray(p, cap, 1);
		}
		n = read(fd, p + off, cap - off - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: %s", path != NULL ? path :
			    "standard input", strerror(errno));
			free(p);
			if (fd != STDIN_FILENO)
				close(fd);
			return -1;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	p[off] = '\0';
	*buf = p;
	*len = off;
	return 0;
}

/*
 * bt_name_ok - lower-case name in place and drop one trailing dot; 1 if
 * it then looks like a host name (letters, digits, '-', '_', labels of
 * 1 to 63, at most 253 in all).
 */
static int
bt_name_ok(char *s)
{
	char	 err[160];
	size_t	 n = strlen(s), i;

	if (n > 1 && s[n - 1] == '.')
		s[--n] = '\0';
	/* ASCII only: names go to DNS as they are (no IDNA here) */
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] >= 0x80)
			return 0;
		s[i] = (char)tolower((unsigned char)s[i]);
	}
	return n <= 253 && valid_domain(s, err, sizeof(err)) == 0;
}

/* bt_canon - an address literal in its inet_ntop form; NULL if none */
static char *
bt_canon(const char *s)
{
	struct dns_addr	 a;

	memset(&a, 0, sizeof(a));
	a.family = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(a.family, s, a.addr) != 1)
		return NULL;
	inet_ntop(a.family, a.addr, a.text, sizeof(a.text));
	return xstrdup(a.text);
}

/*
 * bt_parse_target - one target: user@domain, user@[address],
 * [IPv6]:PORT, [address], IPv6, IPv4[:PORT], NAME:PORT (a host) or NAME
 * (a mail domain; a host with --no-mx). Fills t, or sets t->why.
 */
static int
bt_parse_target(struct batch *b, struct bt_target *t, const char *s)
{
	char		 err[256], *copy = NULL, *mbox = NULL, *at, *end;
	const char	*port = NULL;
	long		 n;

	if (*s == '\0') {
		t->why = xstrdup("empty target");
		return -1;
	}
	if (strchr(s, '@') != NULL) {
		if ((mbox = valid_address(s, 0, err, sizeof(err))) == NULL) {
			t->why = xstrdup(err);
			return -1;
		}
		at = strrchr(mbox, '@');
		copy = xstrdup(at + 1);
		if (at == mbox || copy[0] == '\0') {
			t->why = xasprintf("\"%s\" is not user@domain", mbox);
			goto bad;
		}
		if (copy[0] == '[') {
			size_t	 len = strlen(copy);
			char	*in = copy + 1;

			if (copy[len - 1] != ']') {
				t->why = xstrdup("unbalanced [ in the domain");
				goto bad;
			}
			copy[len - 1] = '\0';
			if (strncasecmp(in, "IPv6:", 5) == 0)
				in += 5;
			if ((t->host = bt_canon(in)) == NULL) {
				t->why = xasprintf("[%s] is not an address",
				    in);
				goto bad;
			}
			t->kind = BT_LITERAL;
		} else {
			if (!bt_name_ok(copy)) {
				t->why = xasprintf("\"%s\" is not a domain "
				    "name", copy);
				goto bad;
			}
			t->host = copy;
			copy = NULL;
			t->kind = BT_DOMAIN;
		}
		t->to = xcalloc(1, sizeof(char *));
		t->to[0] = mbox;
		t->nto = 1;
		free(copy);
		return 0;
	}
	copy = xstrdup(s);
	if (copy[0] == '[') {
		if ((end = strchr(copy, ']')) == NULL) {
			t->why = xstrdup("unbalanced [");
			goto bad;
		}
		*end = '\0';
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0') {
			t->why = xstrdup("text after ]");
			goto bad;
		}
		if ((t->host = bt_canon(copy + 1)) == NULL) {
			t->why = xasprintf("[%s] is not an address", copy + 1);
			goto bad;
		}
		t->kind = BT_LITERAL;
	} else if (strchr(copy, ':') != NULL &&
	    strchr(copy, ':') != strrchr(copy, ':')) {
		/* IPv6 without brackets: no port */
		if ((t->host = bt_canon(copy)) == NULL) {
			t->why = xasprintf("\"%s\" is not an address (an IPv6 "
			    "address with a port needs [ ])", copy);
			goto bad;
		}
		t->kind = BT_LITERAL;
	} else {
		if ((end = strchr(copy, ':')) != NULL) {
			*end = '\0';
			port = end + 1;
		}
		if ((t->host = bt_canon(copy)) != NULL)
			t->kind = BT_LITERAL;
		else if (bt_name_ok(copy)) {
			t->host = xstrdup(copy);
			t->kind = port != NULL || b->o.no_mx ? BT_HOST :
			    BT_DOMAIN;
		} else {
			t->why = xasprintf("\"%s\" is neither an address nor "
			    "a host name", copy);
			goto bad;
		}
	}
	if (port != NULL) {
		char	*e;

		errno = 0;
		n = strtol(port, &e, 10);
		if (*port == '\0' || *e != '\0' || errno != 0 || n < 1 ||
		    n > 65535) {
			t->why = xasprintf("port \"%s\" is not a number from 1 "
			    "to 65535", port);
			free(t->host);
			t->host = NULL;
			goto bad;
		}
		t->port = (uint16_t)n;
	}
	free(copy);
	return 0;
bad:
	t->kind = BT_INVALID;
	free(copy);
	free(mbox);
	return -1;
}

/* bt_parse_json - a JSON object line: target, from, to, port, tag */
static void
bt_parse_json(struct batch *b, struct bt_target *t, const char *line,
    size_t len)
{
	json_error_t	 je;
	json_t		*o, *v, *e;
	char		 err[256], *a;
	size_t		 i;

	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL || !json_is_object(o)) {
		t->text = xstrndup(line, len);
		t->why = o == NULL ? xasprintf("not JSON: %s", je.text) :
		    xstrdup("not a JSON object");
		json_decref(o);
		return;
	}
	v = json_object_get(o, "target");
	if (!json_is_string(v)) {
		t->text = xstrndup(line, len);
		t->why = xstrdup("no \"target\" string");
		goto out;
	}
	t->text = xstrdup(json_string_value(v));
	if ((v = json_object_get(o, "tag")) != NULL)
		t->tag = json_incref(v);
	if (bt_parse_target(b, t, t->text) == -1)
		goto out;
	if ((v = json_object_get(o, "port")) != NULL) {
		json_int_t p = json_is_integer(v) ? json_integer_value(v) : -1;

		if (json_is_string(v)) {
			long	 n;
			char	*end;

			errno = 0;
			n = strtol(json_string_value(v), &end, 10);
			p = *json_string_value(v) != '\0' && *end == '\0' &&
			    errno == 0 ? n : -1;
		}
		if (p < 1 || p > 65535) {
			t->why = xstrdup("\"port\" is not a number from 1 to "
			    "65535");
			goto out;
		}
		t->port = (uint16_t)p;
	}
	if ((v = json_object_get(o, "from")) != NULL) {
		if (!json_is_string(v) || (t->from = valid_address(
		    json_string_value(v), VALID_NULL_OK | b->raw, err,
		    sizeof(err))) == NULL) {
			t->why = xasprintf("\"from\": %s", json_is_string(v) ?
			    err : "not a string");
			goto out;
		}
	}
	if ((v = json_object_get(o, "to")) != NULL) {
		size_t	 n = json_is_array(v) ? json_array_size(v) : 1;

		if (!json_is_array(v) && !json_is_string(v)) {
			t->why = xstrdup("\"to\" is neither a string nor an "
			    "array");
			goto out;
		}
		for (i = 0; i < t->nto; i++)
			free(t->to[i]);
		free(t->to);
		t->to = xcalloc(n + 1, sizeof(char *));
		t->nto = 0;
		for (i = 0; i < n; i++) {
			e = json_is_array(v) ? json_array_get(v, i) : v;
			if (!json_is_string(e) || (a = valid_address(
			    json_string_value(e), b->raw, err,
			    sizeof(err))) == NULL) {
				t->why = xasprintf("\"to\": %s",
				    json_is_string(e) ? err : "not a string");
				goto out;
			}
			t->to[t->nto++] = a;
		}
	}
out:
	if (t->why != NULL)
		t->kind = BT_INVALID;
	json_decref(o);
}

/* bt_load_input - read and parse every target */
static int
bt_load_input(struct batch *b)
{
	char	 err[512], *p, *line, *nl, *e;
	size_t	 len, index = 0, cap = 0;

	if (bt_read_file(b->o.input, &b->input, &len, err, sizeof(err)) ==
	    -1) {
		log_warnx("batch: %s", err);
		return -1;
	}
	for (p = b->input; p < b->input + len; p = nl + 1, index++) {
		struct bt_target *t;
		size_t	 n;

		line = p;
		if ((nl = memchr(p, '\n', (size_t)(b->input + len - p))) ==
		    NULL)
			nl = b->input + len;
		e = nl;
		while (line < e && isspace((unsigned char)*line))
			line++;
		while (e > line && isspace((unsigned char)e[-1]))
			e--;
		n = (size_t)(e - line);
		if (n == 0 || *line == '#')
			continue;
		if (b->nt == cap) {
			cap = cap == 0 ? 1024 : cap * 2;
			b->t = xreallocarray(b->t, cap, sizeof(*b->t));
		}
		t = &b->t[b->nt++];
		memset(t, 0, sizeof(*t));
		t->index = index;
		if (memchr(line, '\0', n) != NULL) {
			t->text = util_escape(line, n);
			t->why = xstrdup("the line holds a NUL byte");
			continue;
		}
		if (*line == '{') {
			bt_parse_json(b, t, line, n);
			continue;
		}
		t->text = xstrndup(line, n);
		bt_parse_target(b, t, t->text);
	}
	return 0;
}

static void
bt_targets_free(struct batch *b)
{
	size_t	 i, j;

	for (i = 0; i < b->nt; i++) {
		struct bt_target *t = &b->t[i];

		free(t->text);
		free(t->host);
		free(t->why);
		free(t->from);
		for (j = 0; j < t->nto; j++)
			free(t->to[j]);
		free(t->to);
		json_decref(t->tag);
	}
	free(b->t);
	free(b->input);
}

/* ---- blocklist, resume, shards ---- */

/* bt_net_key - "F/LEN/HEX" of the network of len bits of addr */
static void
bt_net_key(int family, const unsigned char *addr, int len, char *buf,
    size_t size)
{
	unsigned char	 m[16];
	int		 nbytes = family == AF_INET6 ? 16 : 4, i;
	size_t		 off;

	memset(m, 0, sizeof(m));
	for (i = 0; i < nbytes; i++) {
		int	 bits = len - i * 8;

		if (bits >= 8)
			m[i] = addr[i];
		else if (bits > 0)
			m[i] = addr[i] & (unsigned char)(0xff << (8 - bits));
	}
	off = (size_t)snprintf(buf, size, "%d/%d/", family == AF_INET6 ?
	    6 : 4, len);
	for (i = 0; i < nbytes && off + 3 <= size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%02x", m[i]);
}

/* bt_load_blocklist - CIDR, address or domain per line; # comments */
static int
bt_load_blocklist(struct batch *b, const char *path)
{
	char	 err[512], *buf, *p, *line, *nl, *slash, key[64];
	size_t	 len, lineno = 0;
	struct dns_addr a;

	if (bt_read_file(path, &buf, &len, err, sizeof(err)) == -1) {
		log_warnx("batch --blocklist: %s", err);
		return -1;
	}
	for (p = buf; p < buf + len; p = nl + 1) {
		long	 plen;

		lineno++;
		if ((nl = strchr(p, '\n')) == NULL)
			nl = buf + len;
		*nl = '\0';
		if ((line = strchr(p, '#')) != NULL)
			*line = '\0';
		line = p + strspn(p, " \t\r");
		line[strcspn(line, " \t\r")] = '\0';
		if (*line == '\0')
			continue;
		memset(&a, 0, sizeof(a));
		if ((slash = strchr(line, '/')) != NULL)
			*slash = '\0';
		a.family = strchr(line, ':') != NULL ? AF_INET6 : AF_INET;
		if (inet_pton(a.family, line, a.addr) == 1) {
			int	 max = a.family == AF_INET6 ? 128 : 32;
			char	*end;

			plen = max;
			if (slash != NULL) {
				errno = 0;
				plen = strtol(slash + 1, &end, 10);
				if (slash[1] == '\0' || *end != '\0' ||
				    errno != 0 || plen < 0 || plen > max) {
					log_warnx("batch --blocklist: %s:%zu: "
					    "bad prefix length", path, lineno);
					free(buf);
					return -1;
				}
			}
			bt_net_key(a.family, a.addr, (int)plen, key,
			    sizeof(key));
			bt_set_add(&b->bl_nets, key);
			if (a.family == AF_INET6)
				b->bl_len6[plen] = 1;
			else
				b->bl_len4[plen] = 1;
			continue;
		}
		if (slash == NULL) {
			if (strncmp(line, "*.", 2) == 0)
				line += 2;
			else if (*line == '.')
				line++;
			if (bt_name_ok(line)) {
				bt_set_add(&b->bl_names, line);
				continue;
			}
		}
		log_warnx("batch --blocklist: %s:%zu: not a CIDR, an address "
		    "or a domain", path, lineno);
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}

/* bt_blocked_addr - the network that lists a, into buf, or NULL */
static const char *
bt_blocked_addr(struct batch *b, const struct dns_addr *a, char *buf,
    size_t len)
{
	const unsigned char *lens = a->family == AF_INET6 ? b->bl_len6 :
	    b->bl_len4;
	char		 key[64];
	int		 max = a->family == AF_INET6 ? 128 : 32, l;

	if (b->bl_nets.n == 0)
		return NULL;
	for (l = 0; l <= max; l++) {
		if (!lens[l])
			continue;
		bt_net_key(a->family, a->addr, l, key, sizeof(key));
		if (bt_set_has(&b->bl_nets, key)) {
			snprintf(buf, len, "%s/%d", a->text, l);
			return buf;
		}
	}
	return NULL;
}

/* bt_blocked_name - the listed domain that name is or lies under */
static const char *
bt_blocked_name(struct batch *b, const char *name)
{
	const char	*p = name;

	if (b->bl_names.n == 0 || name == NULL)
		return NULL;
	while (p != NULL && *p != '\0') {
		if (bt_set_has(&b->bl_names, p))
			return p;
		if ((p = strchr(p, '.')) != NULL)
			p++;
	}
	return NULL;
}

/*
 * bt_load_resume - read the records of an earlier run: a complete
 * (newline-terminated) record whose status is not "interrupted" marks
 * its input index done (with --all-mx: its index and address). A
 * partial last line is cut off so that appending starts on a line of
 * its own. The file becomes the output, in append mode.
 */
static int
bt_load_resume(struct batch *b)
{
	const char	*path = b->o.resume;
	char		*buf = NULL, *p, *nl, *end, key[96];
	size_t		 len = 0, keep, bad = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		log_warn("batch --resume: %s", path);
		return -1;
	}
	{
		size_t	 cap = 65536;

		buf = xmalloc(cap);
		for (;;) {
			if (cap - len < 2) {
				cap *= 2;
				buf = xreallocarray(buf, cap, 1);
			}
			n = read(fd, buf + len, cap - len - 1);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			len += (size_t)n;
		}
		if (n == -1) {
			log_warn("batch --resume: %s", path);
			free(buf);
			close(fd);
			return -1;
		}
		buf[len] = '\0';
	}
	for (keep = len; keep > 0 && buf[keep - 1] != '\n'; keep--)
		;
	if (keep < len) {
		log_info("batch --resume: dropping a partial last record "
		    "(%zu bytes)", len - keep);
		if (ftruncate(fd, (off_t)keep) == -1) {
			log_warn("batch --resume: %s", path);
			free(buf);
			close(fd);
			return -1;
		}
	}
	end = buf + keep;
	for (p = buf; p < end; p = nl + 1) {
		json_t		*o, *v;
		json_int_t	 idx;
		const char	*st, *addr;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == p)
			continue;
		if ((o = json_loadb(p, (size_t)(nl - p), 0, NULL)) == NULL) {
			bad++;
			continue;
		}
		v = json_object_get(o, "input_index");
		st = json_string_value(json_object_get(o, "status"));
		addr = json_string_value(json_object_get(o, "address"));
		if (!json_is_integer(v) || (idx = json_integer_value(v)) < 0 ||
		    st == NULL) {
			bad++;
			json_decref(o);
			continue;
		}
		if (strcmp(st, "interrupted") != 0) {
			if (b->o.all_mx && addr != NULL) {
				snprintf(key, sizeof(key), "%lld/%s",
				    (long long)idx, addr);
				bt_set_add(&b->done_keys, key);
			} else {
				size_t	 i = (size_t)idx;

				if (i >= b->done_nbits) {
					size_t	 nb = (i / 8 + 1) * 2;

					b->done_bits = xreallocarray(
					    b->done_bits, nb, 1);
					memset(b->done_bits + b->done_nbits / 8,
					    0, nb - b->done_nbits / 8);
					b->done_nbits = nb * 8;
				}
				b->done_bits[i / 8] |= (unsigned char)(1 <<
				    (i % 8));
			}
		}
		json_decref(o);
	}
	if (bad > 0)
		log_warnx("batch --resume: %s: %zu lines are not records; "
		    "ignored", path, bad);
	free(buf);
	if (fcntl(fd, F_SETFL, O_APPEND) == -1) {
		log_warn("batch --resume: %s", path);
		close(fd);
		return -1;
	}
	b->out_fd = fd;
	return 0;
}

static int
bt_done_index(const struct batch *b, size_t i)
{
	return i < b->done_nbits &&
	    (b->done_bits[i / 8] & (1 << (i % 8))) != 0;
}

/* bt_env_num - a non-negative number from the environment, or -1 */
static long
bt_env_num(const char *name)
{
	const char	*v = getenv(name);
	char		*end;
	long		 n;

	if (v == NULL || *v == '\0')
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (*end != '\0' || errno != 0 || n < 0)
		return -1;
	return n;
}

/*
 * bt_setup_shard - --shard I/N, or auto: the index from a job array's
 * environment (Kubernetes Indexed Job, Slurm array, AWS Batch array,
 * Nomad), the count from the same place, --shard-count or SHARD_COUNT.
 */
static int
bt_setup_shard(struct batch *b)
{
	static const struct {
		const char	*index;
		const char	*count;
		const char	*base;
	} env[] = {
		{ "JOB_COMPLETION_INDEX", NULL, NULL },
		{ "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT",
		    "SLURM_ARRAY_TASK_MIN" },
		{ "AWS_BATCH_JOB_ARRAY_INDEX", NULL, NULL },
		{ "NOMAD_META_shard", "NOMAD_META_shard_count", NULL },
	};
	const char	*s = b->o.shard;
	long		 i = -1, n = -1, base = b->o.shard_base;
	size_t		 k;
	char		*end;

	b->shard_i = 0;
	b->shard_n = 1;
	if (s == NULL) {
		if (b->o.shard_base >= 0 || b->o.shard_count > 0)
			log_warnx("batch: --shard-base and --shard-count "
			    "need --shard");
		return b->o.shard_base >= 0 || b->o.shard_count > 0 ? -1 : 0;
	}
	if (strcmp(s, "auto") == 0) {
		for (k = 0; k < sizeof(env) / sizeof(env[0]); k++)
			if ((i = bt_env_num(env[k].index)) >= 0)
				break;
		if (i < 0) {
			log_warnx("batch --shard auto: none of "
			    "JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, "
			    "AWS_BATCH_JOB_ARRAY_INDEX, NOMAD_META_shard is "
			    "set to a number");
			return -1;
		}
		b->shard_from = env[k].index;
		if (b->o.shard_count > 0)
			n = b->o.shard_count;
		else if (env[k].count != NULL &&
		    (n = bt_env_num(env[k].count)) > 0)
			;
		else
			n = bt_env_num("SHARD_COUNT");
		if (n <= 0) {
			log_warnx("batch --shard auto: %s gives the index; "
			    "give the count with --shard-count or "
			    "SHARD_COUNT", env[k].index);
			return -1;
		}
		if (base < 0 && env[k].base != NULL)
			base = bt_env_num(env[k].base);
	} else {
		errno = 0;
		i = strtol(s, &end, 10);
		if (end == s || *end != '/' || errno != 0 || i < 0) {
			log_warnx("batch --shard: \"%s\" is not I/N or auto",
			    s);
			return -1;
		}
		s = end + 1;
		n = strtol(s, &end, 10);
		if (end == s || *end != '\0' || errno != 0) {
			log_warnx("batch --shard: \"%s\" is not I/N or auto",
			    b->o.shard);
			return -1;
		}
	}
	if (base < 0)
		base = 0;
	if (n < 1 || n > BT_SHARD_MAX || i < base || i - base >= n) {
		log_warnx("batch --shard: index %ld is not within %ld..%ld "
		    "(%ld shards, base %ld)", i, base, base + n - 1, n, base);
		return -1;
	}
	b->shard_i = (unsigned long)(i - base);
	b->shard_n = (unsigned long)n;
	return 0;
}

/* bt_mine - whether key falls in this shard */
static int
bt_mine(const struct batch *b, const char *key)
{
	if (b->shard_n <= 1)
		return 1;
	return batch_hash(b->o.seed, key, strlen(key)) % b->shard_n ==
	    b->shard_i;
}

/* ---- destinations and admission ---- */

static uint64_t
bt_addr_hash(const struct dns_addr *a)
{
	return batch_hash((uint64_t)a->family, (const char *)a->addr,
	    a->family == AF_INET6 ? 16 : 4);
}

/* bt_dest_get - the destination of address a, created on first use */
static struct bt_dest *
bt_dest_get(struct batch *b, const struct dns_addr *a)
{
	struct bt_dest	*d, *next, **old;
	size_t		 i, oldcap, nb = a->family == AF_INET6 ? 16 : 4;

	if (b->dcap > 0)
		for (d = b->dtab[bt_addr_hash(a) & (b->dcap - 1)]; d != NULL;
		    d = d->next)
			if (d->a.family == a->family &&
			    memcmp(d->a.addr, a->addr, nb) == 0)
				return d;
	if (b->ndest >= b->dcap) {
		old = b->dtab;
		oldcap = b->dcap;
		b->dcap = b->dcap == 0 ? 256 : b->dcap * 2;
		b->dtab = xcalloc(b->dcap, sizeof(*b->dtab));
		for (i = 0; i < oldcap; i++)
			for (d = old[i]; d != NULL; d = next) {
				next = d->next;
				d->next = b->dtab[bt_addr_hash(&d->a) &
				    (b->dcap - 1)];
				b->dtab[bt_addr_hash(&d->a) & (b->dcap - 1)] =
				    d;
			}
		free(old);
	}
	d = xcalloc(1, sizeof(*d));
	d->b = b;
	d->a = *a;
	d->state = D_IDLE;
	TAILQ_INIT(&d->wait);
	i = bt_addr_hash(a) & (b->dcap - 1);
	d->next = b->dtab[i];
	b->dtab[i] = d;
	b->ndest++;
	return d;
}

/*
 * bt_dest_check - put d on the ready list when it may take one more
 * session now, or arm its gap timer when it may later. A destination
 * at its --per-ip cap waits for one of its sessions to be reaped.
 */
static void
bt_dest_check(struct batch *b, struct bt_dest *d)
{
	struct timeval	 tv;
	int64_t		 now, due;

	if (d->state != D_IDLE || d->nwait == 0 ||
	    d->active >= (unsigned)b->o.per_ip || b->stopping)
		return;
	now = util_now_us();
	due = d->last_us + (int64_t)b->o.gap_ms * 1000;
	if (d->last_us == 0 || due <= now) {
		TAILQ_INSERT_TAIL(&b->ready, d, ready);
		d->state = D_READY;
		return;
	}
	if (d->gap == NULL && (d->gap = evtimer_new(b->base, bt_gap_cb,
	    d)) == NULL)
		fatalx("evtimer_new failed");
	tv.tv_sec = (time_t)((due - now) / 1000000);
	tv.tv_usec = (suseconds_t)((due - now) % 1000000);
	evtimer_add(d->gap, &tv);
	d->state = D_TIMER;
}

static void
bt_gap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bt_dest	*d = arg;

	d->state = D_IDLE;
	bt_dest_check(d->b, d);
	bt_pump(d->b);
}

static struct bt_job *
bt_job_new(struct bt_target *t, struct bt_dest *d, struct bt_name *n,
    const struct route_addr *ra, int mx_index, int mx_count)
{
	struct bt_job	*j = xcalloc(1, sizeof(*j));

	j->t = t;
	j->dest = d;
	j->ra = ra;
	j->name = n;
	if (n != NULL)
		n->refs++;
	j->mx_index = mx_index;
	j->mx_count = mx_count;
	return j;
}

static void
bt_job_free(struct batch *b, struct bt_job *j)
{
	if (j == NULL)
		return;
	if (j->name != NULL)
		bt_name_unref(b, j->name);
	free(j);
}

/* bt_enqueue - a job waits on its destination */
static void
bt_enqueue(struct batch *b, struct bt_job *j)
{
	struct bt_dest	*d = j->dest;

	TAILQ_INSERT_TAIL(&d->wait, j, q);
	d->nwait++;
	bt_dest_check(b, d);
}

/* bt_rate_take - a token of the --rate bucket, or arm its timer */
static int
bt_rate_take(struct batch *b)
{
	struct timeval	 tv;
	int64_t		 now, wait;

	if (b->o.rate <= 0)
		return 1;
	now = util_now_us();
	b->tokens += (double)(now - b->tok_us) * b->o.rate / 1e6;
	if (b->tokens > b->burst)
		b->tokens = b->burst;
	b->tok_us = now;
	if (b->tokens >= 1) {
		b->tokens -= 1;
		return 1;
	}
	if (!evtimer_pending(b->rate_ev, NULL)) {
		wait = (int64_t)((1 - b->tokens) * 1e6 / b->o.rate) + 1;
		tv.tv_sec = (time_t)(wait / 1000000);
		tv.tv_usec = (suseconds_t)(wait % 1000000);
		evtimer_add(b->rate_ev, &tv);
	}
	return 0;
}

static void
bt_rate_cb(evutil_socket_t fd, short what, void *arg)
{
	bt_pump(arg);
}

/*
 * bt_pump - admit sessions: the destination at the head of the ready
 * list gives its oldest job, while the global cap and the rate allow.
 */
static void
bt_pump(struct batch *b)
{
	struct bt_dest	*d;
	struct bt_job	*j;

	while (!b->stopping && b->nactive < b->cap &&
	    (d = TAILQ_FIRST(&b->ready)) != NULL) {
		if (!bt_rate_take(b))
			break;
		TAILQ_REMOVE(&b->ready, d, ready);
		d->state = D_IDLE;
		j = TAILQ_FIRST(&d->wait);
		TAILQ_REMOVE(&d->wait, j, q);
		d->nwait--;
		d->active++;
		d->last_us = util_now_us();
		bt_dest_check(b, d);
		bt_start(b, j);
	}
}

/* ---- sessions ---- */

static uint16_t
bt_port(const struct batch *b, const struct bt_target *t)
{
	return t->port != 0 ? t->port : b->port;
}

/*
 * bt_scn - the scenario for job: the shared default probe, one built
 * for the target's own sender and recipients, or --scenario parsed with
 * the target's variables. *own says whether the caller frees it.
 */
static struct scn *
bt_scn(struct batch *b, const struct bt_job *j, int *own, char *err,
    size_t errlen)
{
	const struct bt_target *t = j->t;
	struct scn_classic	 c;
	struct smtp_txn		 txn;
	struct scn_vars		 v;
	struct scn		*s;
	size_t			 i;

	*own = 0;
	if (b->scn_text != NULL) {
		if (b->scn_shared != NULL)
			return b->scn_shared;
		/* the target's values, then --var (which wins); all locked */
		memset(&v, 0, sizeof(v));
		scn_vars_set(&v, "server", j->ra != NULL ? j->ra->host :
		    t->host);
		if (t->from != NULL || b->from != NULL)
			scn_vars_set(&v, "from", t->from != NULL ? t->from :
			    b->from);
		if (t->nto > 0 || b->nto > 0)
			scn_vars_set(&v, "to", t->nto > 0 ? t->to[0] :
			    b->to[0]);
		for (i = 0; i < b->vars.n; i++)
			scn_vars_set(&v, b->vars.name[i], b->vars.value[i]);
		v.nlocked = v.n;
		s = scn_parse(b->o.scenario, b->scn_text, b->scn_len, &v, err,
		    errlen);
		scn_vars_clear(&v);
		if (s != NULL && scn_check_inputs(s, err, errlen) == -1) {
			scn_free(s);
			s = NULL;
		}
		*own = s != NULL;
		return s;
	}
	if (t->from == NULL && t->nto == 0)
		return b->scn_default;
	memset(&txn, 0, sizeof(txn));
	txn.from = t->from != NULL ? t->from : b->from != NULL ? b->from : "";
	txn.rcpt = (const char **)(t->nto > 0 ? t->to : b->to);
	txn.nrcpt = t->nto > 0 ? t->nto : b->nto;
	memset(&c, 0, sizeof(c));
	c.tls_mode = b->o.tls_mode;
	c.auth_mech = -1;
	c.txn = &txn;
	c.ntxn = 1;
	*own = 1;
	return scn_classic(&c);
}

/* bt_start - run job's session now */
static void
bt_start(struct batch *b, struct bt_job *j)
{
	struct bt_target	*t = j->t;
	struct bt_sess		*s;
	struct scn		*scn;
	struct route		*r = j->name != NULL ? j->name->route : NULL;
	const char		*host = j->ra != NULL ? j->ra->host : t->host;
	char			 err[512];
	int			 own;

	s = xcalloc(1, sizeof(*s));
	s->b = b;
	s->job = j;
	TAILQ_INSERT_TAIL(&b->active, s, entry);
	if (++b->nactive > b->peak_active)
		b->peak_active = b->nactive;
	snprintf(s->port, sizeof(s->port), "%u", bt_port(b, t));
	if (j->dest != NULL) {
		if (j->dest->a.family == AF_INET6) {
			s->addr.sin6.sin6_family = AF_INET6;
			memcpy(&s->addr.sin6.sin6_addr, j->dest->a.addr, 16);
			s->addr.sin6.sin6_port = htons(bt_port(b, t));
			s->p.addrlen = sizeof(s->addr.sin6);
		} else {
			s->addr.sin.sin_family = AF_INET;
			memcpy(&s->addr.sin.sin_addr, j->dest->a.addr, 4);
			s->addr.sin.sin_port = htons(bt_port(b, t));
			s->p.addrlen = sizeof(s->addr.sin);
		}
		s->p.addr = &s->addr.sa;
	}
	if (j->ra != NULL && j->ra->pref >= 0)
		s->note = xasprintf("MX %s (preference %d) at %s", j->ra->host,
		    j->ra->pref, j->ra->addr.text);
	else if (j->ra != NULL && strcmp(j->ra->addr.text, t->host) != 0)
		s->note = xasprintf("resolved %s to %s", t->host,
		    j->ra->addr.text);
	else if (j->dest == NULL && r != NULL && r->error != NULL)
		s->note = xstrdup(r->error);
	s->p.host = host;
	s->p.port = s->port;
	s->p.resolve_note = s->note;
	if (r != NULL) {
		s->p.resolution = (const char *const *)r->notes;
		s->p.nresolution = r->nnotes;
	}
	s->p.helo = b->helo;
	s->p.implicit_tls = b->o.tls_mode == SMTP_TLS_IMPLICIT;
	s->p.tls_mode = smtp_tls_mode_name(b->o.tls_mode);
	s->p.tls_ctx = b->ctx;
	/* RFC 6066 3: no address literal in SNI */
	s->p.sni = route_literal(host) ? NULL : host;
	s->p.verify_name = host;
	memcpy(s->p.timeout_ms, b->timeout_ms, sizeof(s->p.timeout_ms));
	s->sp.conn = &s->p;
	s->sp.stop_before = -1;
	s->sp.quit_after = -1;
	s->sp.helo_domain = b->helo;
	s->sp.version = PACKAGE_VERSION;
	if ((scn = bt_scn(b, j, &own, err, sizeof(err))) == NULL) {
		bt_report(b, t, j, ST_INVALID, -1, NULL, NULL, NULL, err, NULL,
		    NULL);
		bt_sess_end(s);
		bt_job_reported(b, j);
		return;
	}
	s->x = scn_exec_new(b->base, scn, &s->sp, bt_exec_done, s);
	if (own)
		scn_free(scn);
	scn_exec_start(s->x);
}

/* bt_error_kind - what kind of failure ended a session in error */
static enum bt_status
bt_error_kind(const struct record *r)
{
	const struct step	*st;
	size_t			 i;

	for (i = 0; i < r->nsteps; i++) {
		st = &r->steps[i];
		if (st->stage == STAGE_QUIT || (st->outcome != OUT_TIMEOUT &&
		    st->outcome != OUT_CLOSED && st->outcome != OUT_ERROR))
			continue;
		if (st->stage == STAGE_RESOLVE)
			return ST_DNS;
		if (st->outcome == OUT_TIMEOUT)
			return ST_TIMEOUT;
		if (st->stage == STAGE_STARTTLS)
			return ST_TLS;
		if (st->stage == STAGE_CONNECT) {
			if (st->detail != NULL && strstr(st->detail, "TLS") !=
			    NULL)
				return ST_TLS;
			if (st->detail != NULL && strstr(st->detail,
			    "refused") != NULL)
				return ST_REFUSED;
			return ST_UNREACHABLE;
		}
		return ST_ERROR;
	}
	if (r->error != NULL && r->error_stage == STAGE_STARTTLS)
		return ST_TLS;
	return ST_ERROR;
}

/* bt_classify - the record's status and the run's exit code */
static enum bt_status
bt_classify(const struct scn_exec *x, int *code)
{
	const struct record	*r = NULL;
	size_t			 i, n = scn_exec_nrecords(x);

	*code = scn_exec_exit(x);
	for (i = 0; i < n; i++) {
		r = scn_exec_record(x, i);
		if (record_exit_code(r) == *code)
			break;
		r = NULL;
	}
	if (r == NULL)
		return *code == 0 ? ST_OK : *code == 2 ? ST_TEMPFAIL :
		    *code == 1 ? ST_EXPECT : ST_ERROR;
	switch (r->status) {
	case RES_OK:
		return ST_OK;
	case RES_PERMFAIL:
		return ST_PERMFAIL;
	case RES_TEMPFAIL:
		return ST_TEMPFAIL;
	case RES_EXPECT:
		return ST_EXPECT;
	default:
		return bt_error_kind(r);
	}
}

/* bt_exec_done - a session is over: its record now, the rest later */
static void
bt_exec_done(struct scn_exec *x, void *arg)
{
	struct bt_sess	*s = arg;
	struct batch	*b = s->b;
	json_t		*doc = NULL, *more = NULL, *verdict = NULL, *v, *d;
	enum bt_status	 st;
	char		 ended[32];
	size_t		 i, n = scn_exec_nrecords(x);
	int		 code;

	st = bt_classify(x, &code);
	bt_utc(ended, sizeof(ended));
	bt_arena_begin();
	for (i = 0; i < n; i++) {
		d = report_json_doc(scn_exec_record(x, i), PACKAGE_VERSION);
		json_object_del(d, "tool");
		if (i == 0)
			doc = d;
		else {
			if (more == NULL)
				more = json_array();
			json_array_append_new(more, d);
		}
	}
	if (doc != NULL && json_is_object(v = json_object_get(doc,
	    "verdict")))
		verdict = json_pack("{s:O?, s:O?, s:O?}",
		    "class", json_object_get(v, "class"),
		    "reason", json_object_get(v, "reason"),
		    "confidence", json_object_get(v, "confidence"));
	/* the session's own start time (record.h) */
	bt_report(b, s->job->t, s->job, st, code, verdict, n > 0 ?
	    scn_exec_record(x, 0)->started : NULL, ended, NULL, doc, more);
	bt_sess_end(s);
	bt_job_reported(b, s->job);
}

/*
 * bt_sess_end - the session's record is written: free it (and admit
 * the next) from the reap timer, never from inside the engine.
 */
static void
bt_sess_end(struct bt_sess *s)
{
	struct batch	*b = s->b;
	struct timeval	 tv = { 0, 0 };

	TAILQ_REMOVE(&b->active, s, entry);
	TAILQ_INSERT_TAIL(&b->reap, s, entry);
	if (!evtimer_pending(b->reap_ev, NULL))
		evtimer_add(b->reap_ev, &tv);
}

static void
bt_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct batch	*b = arg;
	struct bt_sess	*s;
	struct bt_dest	*d;

	struct timeval	 tv = { 0, 0 };

	while ((s = TAILQ_FIRST(&b->reaped)) != NULL) {
		TAILQ_REMOVE(&b->reaped, s, entry);
		scn_exec_free(s->x);
		b->nactive--;
		if ((d = s->job->dest) != NULL) {
			d->active--;
			bt_dest_check(b, d);
		}
		bt_job_free(b, s->job);
		free(s->note);
		free(s);
	}
	TAILQ_CONCAT(&b->reaped, &b->reap, entry);
	if (!TAILQ_EMPTY(&b->reaped))
		evtimer_add(b->reap_ev, &tv);
	if (b->stopping) {
		if (b->nactive == 0)
			event_base_loopbreak(b->base);
		return;
	}
	bt_dns_pump(b);
	bt_pump(b);
}

/* ---- JSON output ----
 *
 * A record is a jansson tree (report_json_doc() gives the session), but
 * jansson's own dump costs more than the SMTP session it describes: for
 * every object and array it formats the pointer with snprintf("%p") and
 * hashes it to find cycles, and it prints every real with "%.17g". So
 * the tree is written by bt_json_value(), byte for byte what json_dumps()
 * gives with JSON_COMPACT | JSON_PRESERVE_ORDER: keys in insertion order,
 * only '"', '\\' and control characters escaped ("\u%04X" for those
 * without a short form), reals as jansson's jsonp_dtostr() writes them.
 * tests/unit/t_batch.c compares the two.
 *
 * While a record is built, jansson allocates from an arena (bt_jmalloc)
 * that is reset once the record is written: a session's tree is a few
 * hundred small blocks, and a malloc and a free for each cost as much
 * again. Outside a record (input lines, --resume, the metadata) jansson
 * uses malloc; bt_jfree tells the two apart by address.
 */

#define BT_CHUNK	(64 * 1024)

static struct {
	struct bt_chunk	*head;
	int		 on;
} bt_arena;

static void *
bt_jmalloc(size_t n)
{
	struct bt_chunk	*c = bt_arena.head;
	size_t		 size;
	void		*p;

	if (!bt_arena.on)
		return malloc(n);
	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (c == NULL || c->size - c->off < n) {
		size = n > BT_CHUNK ? n : BT_CHUNK;
		c = xmalloc(sizeof(*c) + size);
		c->size = size;
		c->off = 0;
		c->next = bt_arena.head;
		bt_arena.head = c;
	}
	p = (char *)c->data + c->off;
	c->off += n;
	return p;
}

/* bt_jfree - memory of the arena goes back all at once, not here */
static void
bt_jfree(void *p)
{
	struct bt_chunk	*c;
	uintptr_t	 a = (uintptr_t)p;

	for (c = bt_arena.head; c != NULL; c = c->next)
		if (a >= (uintptr_t)c->data && a < (uintptr_t)c->data +
		    c->size)
			return;
	free(p);
}

static void
bt_arena_begin(void)
{
	bt_arena.on = 1;
}

/* bt_arena_end - the record is freed: keep one chunk for the next */
static void
bt_arena_end(void)
{
	struct bt_chunk	*c = bt_arena.head, *next;

	bt_arena.on = 0;
	if (c == NULL)
		return;
	while ((next = c->next) != NULL) {
		c->next = next->next;
		free(next);
	}
	c->off = 0;
}

static void
bt_out_need(struct bt_out *o, size_t n)
{
	if (o->cap - o->len >= n)
		return;
	while (o->cap - o->len < n)
		o->cap = o->cap == 0 ? 8192 : o->cap * 2;
	o->p = xreallocarray(o->p, o->cap, 1);
}

/* bt_json_str - a JSON string: '"', '\\' and controls escaped */
static void
bt_json_str(struct bt_out *o, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	static unsigned char esc[256];	/* 1: must be escaped */
	const unsigned char *p = (const unsigned char *)s;
	size_t		 i, run;
	char		*d;

	if (!esc[0]) {
		for (i = 0; i < 0x20; i++)
			esc[i] = 1;
		esc['"'] = esc['\\'] = 1;
	}
	bt_out_need(o, len * 6 + 2);
	d = o->p + o->len;
	*d++ = '"';
	for (i = 0; i < len; i++) {
		for (run = i; run < len && !esc[p[run]]; run++)
			;
		memcpy(d, p + i, run - i);
		d += run - i;
		if ((i = run) == len)
			break;
		*d++ = '\\';
		switch (p[i]) {
		case '"':
		case '\\':
			*d++ = (char)p[i];
			break;
		case '\b':
			*d++ = 'b';
			break;
		case '\f':
			*d++ = 'f';
			break;
		case '\n':
			*d++ = 'n';
			break;
		case '\r':
			*d++ = 'r';
			break;
		case '\t':
			*d++ = 't';
			break;
		default:
			memcpy(d, "u00", 3);
			d[3] = hex[p[i] >> 4];
			d[4] = hex[p[i] & 15];
			d += 5;
			break;
		}
	}
	*d++ = '"';
	o->len = (size_t)(d - o->p);
}

/*
 * bt_g17 - printf's "%.17g" of v for 1e-5 <= |v| < 1e17, computed
 * exactly with integers: v = m * 2^e, its 17 digits are m * 10^k / 2^-e
 * rounded half to even, as glibc rounds. -1 outside that range (the
 * caller then uses snprintf()).
 */
static int
bt_g17(double v, char *out)
{
	unsigned __int128 num, q = 0, r, half;
	const uint64_t	 lo = 10000000000000000ULL;	/* 10^16 */
	uint64_t	 m, d;
	char		 dig[17], *o = out;
	int		 e, x, k, s, i, nd, tries;

	if (!isfinite(v) || v == 0)
		return -1;
	if (v < 0) {
		*o++ = '-';
		v = -v;
	}
	if (v < 1e-5 || v >= 1e17)
		return -1;
	m = (uint64_t)ldexp(frexp(v, &e), 53);
	/* 2^(e-1) <= v < 2^e: a first guess at floor(log10(v)) */
	x = (e - 1) * 78913;		/* log10(2) * 2^18 */
	x = x >= 0 ? x >> 18 : -((-x + (1 << 18) - 1) >> 18);
	e -= 53;
	for (tries = 0; ; tries++) {
		k = 16 - x;
		if (tries > 3 || k < 0 || k > 22)
			return -1;
		for (num = m, i = 0; i < k; i++)
			num *= 10;
		if (e >= 0)
			q = num << e;
		else {
			if ((s = -e) >= 127)
				return -1;
			q = num >> s;
			r = num & (((unsigned __int128)1 << s) - 1);
			half = (unsigned __int128)1 << (s - 1);
			if (r > half || (r == half && (q & 1) != 0))
				q++;
		}
		if (q >= (unsigned __int128)lo * 10)
			x++;
		else if (q < lo)
			x--;
		else
			break;
	}
	for (d = (uint64_t)q, i = 16; i >= 0; i--) {
		dig[i] = (char)('0' + (int)(d % 10));
		d /= 10;
	}
	for (nd = 17; nd > 1 && dig[nd - 1] == '0'; nd--)
		;
	if (x < -4) {
		/* exponential: d.ddde-XX */
		*o++ = dig[0];
		if (nd > 1) {
			*o++ = '.';
			memcpy(o, dig + 1, (size_t)nd - 1);
			o += nd - 1;
		}
		snprintf(o, 8, "e-%02d", -x);
		return 0;
	}
	if (x >= 0) {
		memcpy(o, dig, (size_t)x + 1);
		o += x + 1;
		if (nd > x + 1) {
			*o++ = '.';
			memcpy(o, dig + x + 1, (size_t)(nd - x - 1));
			o += nd - x - 1;
		}
	} else {
		*o++ = '0';
		*o++ = '.';
		for (i = -1; i > x; i--)
			*o++ = '0';
		memcpy(o, dig, (size_t)nd);
		o += nd;
	}
	*o = '\0';
	return 0;
}

/*
 * bt_json_real - as jansson writes a real: "%.17g", then ".0" when
 * neither '.' nor 'e' shows, and the exponent without '+' or leading
 * zeros
 */
static void
bt_json_real(struct bt_out *o, double v)
{
	char	 buf[64], *e, *d;
	size_t	 n;

	if (bt_g17(v, buf) == -1)
		snprintf(buf, sizeof(buf), "%.17g", v);
	n = strlen(buf);
	if (strchr(buf, '.') == NULL && strchr(buf, 'e') == NULL) {
		memcpy(buf + n, ".0", 3);
		n += 2;
	}
	if ((e = strchr(buf, 'e')) != NULL) {
		e++;
		d = e + 1;
		if (*e == '-')
			e++;
		while (*d == '0')
			d++;
		if (d != e) {
			memmove(e, d, strlen(d) + 1);
			n = strlen(buf);
		}
	}
	bt_out_need(o, n);
	memcpy(o->p + o->len, buf, n);
	o->len += n;
}

/* bt_json_value - v in jansson's compact form, appended to o */
static void
bt_json_value(struct bt_out *o, json_t *v)
{
	const char	*key, *p;
	json_t		*e;
	size_t		 i, n;
	char		 num[32], *d;
	json_int_t	 iv;
	unsigned long long u;
	int		 first = 1;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		bt_out_need(o, 1);
		o->p[o->len++] = '{';
		json_object_foreach(v, key, e) {
			if (!first) {
				bt_out_need(o, 1);
				o->p[o->len++] = ',';
			}
			first = 0;
			bt_json_str(o, key, strlen(key));
			bt_out_need(o, 1);
			o->p[o->len++] = ':';
			bt_json_value(o, e);
		}
		bt_out_need(o, 1);
		o->p[o->len++] = '}';
		return;
	case JSON_ARRAY:
		bt_out_need(o, 1);
		o->p[o->len++] = '[';
		json_array_foreach(v, i, e) {
			if (i > 0) {
				bt_out_need(o, 1);
				o->p[o->len++] = ',';
			}
			bt_json_value(o, e);
		}
		bt_out_need(o, 1);
		o->p[o->len++] = ']';
		return;
	case JSON_STRING:
		bt_json_str(o, json_string_value(v), json_string_length(v));
		return;
	case JSON_REAL:
		bt_json_real(o, json_real_value(v));
		return;
	case JSON_INTEGER:
		iv = json_integer_value(v);
		u = iv < 0 ? 0ULL - (unsigned long long)iv :
		    (unsigned long long)iv;
		d = num + sizeof(num);
		do {
			*--d = (char)('0' + (int)(u % 10));
			u /= 10;
		} while (u > 0);
		if (iv < 0)
			*--d = '-';
		p = d;
		n = (size_t)(num + sizeof(num) - d);
		break;
	case JSON_TRUE:
		p = "true";
		n = 4;
		break;
	case JSON_FALSE:
		p = "false";
		n = 5;
		break;
	default:
		p = "null";
		n = 4;
		break;
	}
	bt_out_need(o, n);
	memcpy(o->p + o->len, p, n);
	o->len += n;
}

size_t
batch_json(json_t *v, char **buf, size_t *cap)
{
	struct bt_out	 o;

	o.p = *buf;
	o.len = 0;
	o.cap = *cap;
	bt_json_value(&o, v);
	bt_out_need(&o, 1);
	o.p[o.len] = '\0';
	*buf = o.p;
	*cap = o.cap;
	return o.len;
}

/* ---- records ---- */

/*
 * bt_report - write the record of target t (job j, NULL before any
 * job). verdict, session and more are stolen.
 */
static void
bt_report(struct batch *b, const struct bt_target *t, const struct bt_job *j,
    enum bt_status st, int code, json_t *verdict, const char *started,
    const char *ended, const char *error, json_t *session, json_t *more)
{
	const struct route_addr	*ra = j != NULL ? j->ra : NULL;
	json_t			*o;

	bt_arena_begin();
	o = json_object();

	json_object_set_new(o, "input_index", json_integer((json_int_t)
	    t->index));
	json_object_set_new(o, "target", bt_jstr(t->text));
	if (t->tag != NULL)	/* a copy: the tree holds nothing else */
		json_object_set_new(o, "tag", json_deep_copy(t->tag));
	json_object_set_new(o, "address", j != NULL && j->dest != NULL ?
	    json_string(j->dest->a.text) : json_null());
	json_object_set_new(o, "port", t->kind == BT_INVALID ? json_null() :
	    json_integer(bt_port(b, t)));
	json_object_set_new(o, "mx", ra != NULL && ra->pref >= 0 ?
	    bt_jstr(ra->host) : json_null());
	if (ra != NULL && ra->pref >= 0)
		json_object_set_new(o, "mx_preference",
		    json_integer(ra->pref));
	if (b->o.all_mx && j != NULL && j->mx_count > 0) {
		json_object_set_new(o, "mx_index", json_integer(j->mx_index));
		json_object_set_new(o, "mx_count", json_integer(j->mx_count));
	}
	if (b->shard_n > 1)
		json_object_set_new(o, "shard", json_pack("{s:I, s:I, s:I}",
		    "i", (json_int_t)b->shard_i, "n", (json_int_t)b->shard_n,
		    "seed", (json_int_t)b->o.seed));
	json_object_set_new(o, "status", json_string(bt_status_names[st]));
	json_object_set_new(o, "exit_code", code >= 0 ? json_integer(code) :
	    json_null());
	json_object_set_new(o, "verdict", verdict != NULL ? verdict :
	    json_null());
	json_object_set_new(o, "started", bt_jstr(started));
	json_object_set_new(o, "ended", bt_jstr(ended));
	if (error != NULL)
		json_object_set_new(o, "error", bt_jstr(error));
	json_object_set_new(o, "session", session != NULL ? session :
	    json_null());
	if (more != NULL)
		json_object_set_new(o, "more_sessions", more);
	b->count[st]++;
	bt_emit(b, o);
}

/* bt_emit - one record, one line, one write(2); o is freed */
static void
bt_emit(struct batch *b, json_t *o)
{
	size_t		 off = 0;
	ssize_t		 w;
	struct pollfd	 pfd;

	b->out.len = 0;
	if (!b->out_error) {
		bt_json_value(&b->out, o);
		bt_out_need(&b->out, 1);
		b->out.p[b->out.len++] = '\n';
	}
	/*
	 * Every block of the tree lies in the arena (the tag was copied
	 * in): resetting it frees the tree without walking it.
	 */
	(void)o;
	bt_arena_end();
	while (!b->out_error && off < b->out.len) {
		w = write(b->out_fd, b->out.p + off, b->out.len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && errno == EAGAIN) {
			/* a non-blocking stdout: wait for the reader */
			pfd.fd = b->out_fd;
			pfd.events = POLLOUT;
			poll(&pfd, 1, -1);
			continue;
		}
		if (w == -1) {
			b->out_error = errno;
			log_warn("batch: cannot write the records");
			bt_stop_now(b);
			return;
		}
		off += (size_t)w;
	}
	if (!b->out_error)
		b->nrecords++;
}

static void
bt_job_reported(struct batch *b, struct bt_job *j)
{
	if (--j->t->pending == 0)
		bt_target_reported(b, j->t);
}

/* bt_target_reported - every record of t is written */
static void
bt_target_reported(struct batch *b, struct bt_target *t)
{
	b->ndone++;
	if (--b->outstanding == 0 && b->base != NULL)
		event_base_loopbreak(b->base);
}

/* bt_target_dropped - t turned out to belong to another shard (or to be
   done already) once resolved */
static void
bt_target_dropped(struct batch *b, struct bt_target *t)
{
	b->nselected--;
	if (--b->outstanding == 0 && b->base != NULL)
		event_base_loopbreak(b->base);
}

/* ---- DNS ---- */

static uint64_t
bt_name_hash(const char *name, int by_mx)
{
	return batch_hash((uint64_t)by_mx, name, strlen(name));
}

static struct bt_name *
bt_name_find(struct batch *b, const char *name, int by_mx)
{
	struct bt_name	*n;

	if (b->ncap == 0)
		return NULL;
	for (n = b->ntab[bt_name_hash(name, by_mx) & (b->ncap - 1)];
	    n != NULL; n = n->next)
		if (n->by_mx == by_mx && strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

static struct bt_name *
bt_name_new(struct batch *b, const char *name, int by_mx)
{
	struct bt_name	*n, *next, **old;
	size_t		 i, oldcap;

	if (b->nnames >= b->ncap) {
		old = b->ntab;
		oldcap = b->ncap;
		b->ncap = b->ncap == 0 ? 256 : b->ncap * 2;
		b->ntab = xcalloc(b->ncap, sizeof(*b->ntab));
		for (i = 0; i < oldcap; i++)
			for (n = old[i]; n != NULL; n = next) {
				size_t	 h = bt_name_hash(n->name, n->by_mx) &
				    (b->ncap - 1);

				next = n->next;
				n->next = b->ntab[h];
				b->ntab[h] = n;
			}
		free(old);
	}
	n = xcalloc(1, sizeof(*n));
	n->b = b;
	n->name = xstrdup(name);
	n->by_mx = by_mx;
	TAILQ_INIT(&n->waiters);
	i = bt_name_hash(name, by_mx) & (b->ncap - 1);
	n->next = b->ntab[i];
	b->ntab[i] = n;
	b->nnames++;
	return n;
}

/* bt_name_unref - drop a reference; the last one frees the route */
static void
bt_name_unref(struct batch *b, struct bt_name *n)
{
	struct bt_name	**pp;

	if (--n->refs > 0 || n->req != NULL)
		return;
	for (pp = &b->ntab[bt_name_hash(n->name, n->by_mx) & (b->ncap - 1)];
	    *pp != n; pp = &(*pp)->next)
		;
	*pp = n->next;
	b->nnames--;
	route_free(n->route);
	free(n->name);
	free(n);
}

/*
 * bt_dns_pump - hand waiting targets to their names: a name already
 * resolved (or being resolved) serves them at once; a new one takes a
 * slot of --dns-concurrency.
 */
static void
bt_dns_pump(struct batch *b)
{
	struct bt_target	*t;
	struct bt_name		*n;
	int			 by_mx;

	while (!b->stopping && (t = TAILQ_FIRST(&b->dnsq)) != NULL) {
		by_mx = t->kind == BT_DOMAIN;
		if ((n = bt_name_find(b, t->host, by_mx)) == NULL) {
			if (b->nresolving >= b->dns_max)
				break;
			n = bt_name_new(b, t->host, by_mx);
			b->nresolving++;
			n->refs++;	/* the request's own */
			n->req = route_start(b->base, b->dns, t->host, by_mx,
			    b->o.family, bt_name_done, n);
		}
		TAILQ_REMOVE(&b->dnsq, t, dq);
		n->refs++;
		t->name = n;
		if (n->route == NULL)
			TAILQ_INSERT_TAIL(&n->waiters, t, dq);
		else
			bt_resolved(b, t);
	}
}

static void
bt_name_done(struct route *r, void *arg)
{
	struct bt_name	*n = arg;
	struct batch	*b = n->b;
	struct bt_target *t;

	n->req = NULL;
	n->route = r;
	b->nresolving--;
	log_debug("batch: %s resolved: %zu addresses%s%s", r->name,
	    r->naddrs, r->error != NULL ? ", " : "",
	    r->error != NULL ? r->error : "");
	n->refs++;	/* held while the waiters are served */
	while ((t = TAILQ_FIRST(&n->waiters)) != NULL) {
		TAILQ_REMOVE(&n->waiters, t, dq);
		bt_resolved(b, t);
	}
	bt_name_unref(b, n);	/* the request's */
	bt_name_unref(b, n);
	bt_dns_pump(b);
	bt_pump(b);
}

/*
 * bt_first - the address probed without --all-mx: of the most preferred
 * MX hosts (or of the host), IPv4 before IPv6, the lowest address. Not
 * simply the first of the route: resolvers rotate the addresses of a
 * name and the order of equal MX preferences is random, and every shard
 * must pick the same address for --shard to split by destination.
 */
static size_t
bt_first(const struct route *r)
{
	const struct route_addr	*a, *best = &r->addrs[0];
	size_t			 i, k = 0;

	for (i = 1; i < r->naddrs; i++) {
		a = &r->addrs[i];
		if (a->pref != best->pref)
			break;
		if (a->addr.family != best->addr.family ?
		    a->addr.family == AF_INET :
		    memcmp(a->addr.addr, best->addr.addr,
		    a->addr.family == AF_INET6 ? 16 : 4) < 0) {
			best = a;
			k = i;
		}
	}
	return k;
}

/*
 * bt_resolved - t's name is resolved: pick the address (bt_first(), or
 * with --all-mx every address) in this shard and not done before, then
 * report the blocklisted ones and queue the others. A name without an
 * address runs a session anyway: the engine records the DNS failure.
 */
static void
bt_resolved(struct batch *b, struct bt_target *t)
{
	struct bt_name	*n = t->name;
	struct route	*r = n->route;
	struct bt_job	*j;
	const char	*why;
	char		 key[96], net[80], *msg;
	size_t		 i, k, count, *pick, npick = 0, nshard = 0;

	t->name = NULL;
	if (r->naddrs == 0) {
		if (!b->o.shard_by_name && !bt_mine(b, t->host)) {
			b->nother++;
			bt_target_dropped(b, t);
		} else {
			t->pending = 1;
			bt_start(b, bt_job_new(t, NULL, n, NULL, 0, 0));
		}
		bt_name_unref(b, n);
		return;
	}
	count = b->o.all_mx ? r->naddrs : 1;
	pick = xcalloc(count, sizeof(*pick));
	for (i = 0; i < count; i++) {
		k = b->o.all_mx ? i : bt_first(r);
		if (!b->o.shard_by_name &&
		    !bt_mine(b, r->addrs[k].addr.text)) {
			nshard++;
			continue;
		}
		if (b->o.all_mx) {
			snprintf(key, sizeof(key), "%zu/%s", t->index,
			    r->addrs[k].addr.text);
			if (bt_set_has(&b->done_keys, key))
				continue;
		}
		pick[npick++] = k;
	}
	if (npick == 0) {
		/* every address is another shard's, or done before */
		if (nshard > 0)
			b->nother++;
		else
			b->nresumed++;
		bt_target_dropped(b, t);
	}
	t->pending = (unsigned)npick;
	for (i = 0; i < npick; i++) {
		const struct route_addr *ra = &r->addrs[pick[i]];

		j = bt_job_new(t, bt_dest_get(b, &ra->addr), n, ra,
		    b->o.all_mx ? (int)pick[i] : 0, b->o.all_mx ? (int)count : 0);
		if ((why = bt_blocked_name(b, ra->host)) != NULL ||
		    (why = bt_blocked_addr(b, &ra->addr, net,
		    sizeof(net))) != NULL) {
			msg = xasprintf("blocklisted: %s", why);
			bt_report(b, t, j, ST_BLOCKLISTED, -1, NULL, NULL, NULL,
			    msg, NULL, NULL);
			free(msg);
			bt_job_reported(b, j);
			bt_job_free(b, j);
			continue;
		}
		bt_enqueue(b, j);
	}
	free(pick);
	bt_name_unref(b, n);
}

/* ---- the run ---- */

/*
 * bt_select - decide for every target: done earlier (--resume), another
 * shard's, invalid, blocklisted by name or address, queued at its
 * destination (an address), or queued for DNS (a name).
 */
static void
bt_select(struct batch *b)
{
	struct bt_target *t;
	struct dns_addr	 a;
	const char	*why;
	char		*msg, net[80];
	size_t		 i;

	for (i = 0; i < b->nt; i++) {
		t = &b->t[i];
		if (bt_done_index(b, t->index)) {
			b->nresumed++;
			continue;
		}
		if (t->kind == BT_INVALID) {
			if (!bt_mine(b, t->text)) {
				b->nother++;
				continue;
			}
			b->nselected++;
			b->outstanding++;
			bt_report(b, t, NULL, ST_INVALID, 64, NULL, NULL, NULL,
			    t->why, NULL, NULL);
			bt_target_reported(b, t);
			continue;
		}
		if ((t->kind == BT_LITERAL || b->o.shard_by_name) &&
		    !bt_mine(b, t->host)) {
			b->nother++;
			continue;
		}
		why = NULL;
		if (t->kind == BT_LITERAL) {
			memset(&a, 0, sizeof(a));
			a.family = strchr(t->host, ':') != NULL ? AF_INET6 :
			    AF_INET;
			inet_pton(a.family, t->host, a.addr);
			snprintf(a.text, sizeof(a.text), "%s", t->host);
			why = bt_blocked_addr(b, &a, net, sizeof(net));
		} else if ((why = bt_blocked_name(b, t->host)) != NULL &&
		    !b->o.shard_by_name && !bt_mine(b, t->host)) {
			b->nother++;
			continue;
		}
		b->nselected++;
		b->outstanding++;
		if (why != NULL) {
			struct bt_job	*j = NULL;

			if (t->kind == BT_LITERAL)
				j = bt_job_new(t, bt_dest_get(b, &a), NULL,
				    NULL, 0, 0);
			msg = xasprintf("blocklisted: %s", why);
			bt_report(b, t, j, ST_BLOCKLISTED, -1, NULL, NULL, NULL,
			    msg, NULL, NULL);
			free(msg);
			bt_job_free(b, j);
			bt_target_reported(b, t);
			continue;
		}
		if (t->kind == BT_LITERAL) {
			t->pending = 1;
			bt_enqueue(b, bt_job_new(t, bt_dest_get(b, &a), NULL,
			    NULL, 0, 0));
		} else
			TAILQ_INSERT_TAIL(&b->dnsq, t, dq);
	}
}

/* bt_stop_now - stop everything at once (output error) */
static void
bt_stop_now(struct batch *b)
{
	b->stopping = 1;
	if (b->base != NULL)
		event_base_loopbreak(b->base);
}

/*
 * bt_abandon - end every session under way without waiting, each with
 * an "interrupted" record. Called from the loop, never from inside a
 * session's callback.
 */
static void
bt_abandon(struct batch *b)
{
	struct bt_sess		*s;
	const struct record	*r;
	char			 ended[32], *msg;
	size_t			 n;

	while ((s = TAILQ_FIRST(&b->active)) != NULL) {
		TAILQ_REMOVE(&b->active, s, entry);
		n = s->x != NULL ? scn_exec_nrecords(s->x) : 0;
		r = n > 0 ? scn_exec_record(s->x, n - 1) : NULL;
		msg = xasprintf("interrupted%s%s", r != NULL && r->nsteps > 0 ?
		    " during " : "", r != NULL && r->nsteps > 0 ?
		    stage_name(r->steps[r->nsteps - 1].stage) : "");
		bt_utc(ended, sizeof(ended));
		bt_report(b, s->job->t, s->job, ST_INTERRUPTED, -1, NULL,
		    n > 0 ? scn_exec_record(s->x, 0)->started : NULL, ended, msg,
		    NULL, NULL);
		free(msg);
		scn_exec_free(s->x);
		b->nactive--;
		bt_job_reported(b, s->job);
		bt_job_free(b, s->job);
		free(s->note);
		free(s);
	}
	event_base_loopbreak(b->base);
}

/*
 * bt_signal_cb - SIGTERM or SIGINT: admit nothing more, stop DNS, let
 * the sessions under way end within --drain-timeout. A second signal
 * abandons them at once.
 */
static void
bt_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct batch	*b = arg;
	struct bt_name	*n;
	struct bt_target *t;
	struct timeval	 tv;
	size_t		 i;

	if (b->stopping) {
		log_warnx("batch: signal %d again: abandoning %zu sessions",
		    (int)sig, b->nactive);
		bt_abandon(b);
		return;
	}
	b->stopping = 1;
	b->interrupted = 1;
	if (b->progress)
		fputc('\n', stderr);
	log_warnx("batch: signal %d: no new sessions; waiting up to %.3g s "
	    "for %zu under way", (int)sig, (double)b->o.drain_ms / 1000,
	    b->nactive);
	/* names being resolved: cancel; their targets stay unreported */
	for (i = 0; i < b->ncap; i++)
		for (n = b->ntab[i]; n != NULL; n = n->next) {
			if (n->req == NULL)
				continue;
			route_cancel(n->req);
			n->req = NULL;
			b->nresolving--;
			while ((t = TAILQ_FIRST(&n->waiters)) != NULL) {
				TAILQ_REMOVE(&n->waiters, t, dq);
				t->name = NULL;
				n->refs--;
			}
			n->refs--;	/* the request's */
		}
	if (b->nactive == 0) {
		event_base_loopbreak(b->base);
		return;
	}
	tv.tv_sec = b->o.drain_ms / 1000;
	tv.tv_usec = (b->o.drain_ms % 1000) * 1000;
	evtimer_add(b->drain_ev, &tv);
}

static void
bt_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct batch	*b = arg;

	log_warnx("batch: --drain-timeout: abandoning %zu sessions",
	    b->nactive);
	bt_abandon(b);
}

static void
bt_progress_cb(evutil_socket_t fd, short what, void *arg)
{
	bt_progress(arg, 0);
}

/* bt_progress - "done/total, rate, errors, ETA" on one terminal line */
static void
bt_progress(struct batch *b, int final)
{
	double	 el = (double)(util_now_us() - b->t0) / 1e6;
	double	 rate = el > 0 ? (double)b->ndone / el : 0;
	size_t	 errs = 0, left = b->nselected - b->ndone;
	long	 eta;
	int	 i;

	for (i = ST_TIMEOUT; i <= ST_ERROR; i++)
		errs += b->count[i];
	eta = rate > 0 ? (long)((double)left / rate + 0.5) : -1;
	fprintf(stderr, "\r\033[K%zu/%zu done, %.0f/s, %zu active, %zu "
	    "errors", b->ndone, b->nselected, rate, b->nactive, errs);
	if (!final && eta >= 0)
		fprintf(stderr, ", ETA %ld:%02ld:%02ld", eta / 3600,
		    eta / 60 % 60, eta % 60);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

static void
bt_summary(struct batch *b, double wall, int rc)
{
	int	 i, first = 1;

	fprintf(stderr, "smtprobe batch: %zu of %zu targets reported in "
	    "%.2f s (%.0f/s)%s\n ", b->ndone, b->nselected, wall,
	    wall > 0 ? (double)b->ndone / wall : 0,
	    rc == BATCH_EXIT_INTERRUPTED ? ", interrupted" :
	    rc == BATCH_EXIT_OUTPUT ? ", output error" : "");
	for (i = 0; i < ST__COUNT; i++) {
		if (b->count[i] == 0)
			continue;
		fprintf(stderr, "%s %s %zu", first ? "" : ",",
		    bt_status_names[i], b->count[i]);
		first = 0;
	}
	if (first)
		fprintf(stderr, " no records");
	fprintf(stderr, "\n  concurrency cap %zu (fd limit %zu, peak %zu), "
	    "%ld per IP, gap %.3g s, rate ", b->cap, b->fd_limit,
	    b->peak_active, b->o.per_ip, (double)b->o.gap_ms / 1000);
	if (b->o.rate > 0)
		fprintf(stderr, "%.3g/s\n", b->o.rate);
	else
		fprintf(stderr, "unlimited\n");
	if (b->nresumed > 0 || b->nother > 0 || b->shard_n > 1)
		fprintf(stderr, "  skipped: %zu done before (--resume), %zu "
		    "of other shards (shard %lu of %lu)\n", b->nresumed,
		    b->nother, b->shard_i, b->shard_n);
	if (b->outstanding > 0)
		fprintf(stderr, "  not reported: %zu (run again with --resume "
		    "to finish)\n", b->outstanding);
}

/* bt_metadata - the run summary as JSON, written to a temporary file
   and renamed */
static int
bt_metadata(struct batch *b, double wall, int rc)
{
	json_t	*counts = json_object(), *doc, *shard = json_null();
	char	 ended[32], *tmp;
	int	 i, ok;

	util_utc_iso(ended, sizeof(ended));
	for (i = 0; i < ST__COUNT; i++)
		json_object_set_new(counts, bt_status_names[i],
		    json_integer((json_int_t)b->count[i]));
	if (b->shard_n > 1)
		shard = json_pack("{s:I, s:I, s:I, s:s, s:o}",
		    "i", (json_int_t)b->shard_i, "n", (json_int_t)b->shard_n,
		    "seed", (json_int_t)b->o.seed, "key",
		    b->o.shard_by_name ? "name" : "ip", "from",
		    b->shard_from != NULL ? json_string(b->shard_from) :
		    json_null());
	doc = json_pack("{s:{s:s, s:s}, s:s, s:s, s:f, s:o, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:f, s:o, s:o, "
	    "s:o, s:b, s:i}",
	    "tool", "name", "smtprobe", "version", PACKAGE_VERSION,
	    "started", b->started, "ended", ended, "wall_s", wall,
	    "input", bt_jstr(b->o.input != NULL ? b->o.input : "-"),
	    "targets", (json_int_t)b->nt,
	    "selected", (json_int_t)b->nselected,
	    "reported", (json_int_t)b->ndone,
	    "not_reported", (json_int_t)b->outstanding,
	    "skipped_resume", (json_int_t)b->nresumed,
	    "skipped_other_shards", (json_int_t)b->nother,
	    "records", (json_int_t)b->nrecords,
	    "counts", counts,
	    "concurrency_cap", (json_int_t)b->cap,
	    "peak_concurrency", (json_int_t)b->peak_active,
	    "fd_limit", (json_int_t)b->fd_limit,
	    "per_ip", (json_int_t)b->o.per_ip,
	    "per_ip_gap_s", (double)b->o.gap_ms / 1000,
	    "rate_per_s", b->o.rate > 0 ? json_real(b->o.rate) : json_null(),
	    "shard", shard,
	    "contact", bt_jstr(b->o.contact),
	    "interrupted", b->interrupted,
	    "exit_code", rc);
	if (doc == NULL)
		fatalx("cannot build the metadata");
	tmp = xasprintf("%s.tmp%ld", b->o.metadata, (long)getpid());
	ok = json_dump_file(doc, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ==
	    0 && rename(tmp, b->o.metadata) == 0;
	if (!ok) {
		log_warn("batch --metadata: %s", b->o.metadata);
		unlink(tmp);
	}
	free(tmp);
	json_decref(doc);
	return ok ? 0 : -1;
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
	struct rlimit	 rl;
	char		 err[512];
	size_t		 i, reserve;
	long		 dflt;

	for (i = 0; i < STAGE__COUNT; i++) {
		dflt = opt_batch_timeout((int)i);
		b->timeout_ms[i] = o->timeout_ms[i] > 0 ? o->timeout_ms[i] :
		    dflt;
	}
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
	if (o->scenario != NULL) {
		struct scn_vars	 v;
		struct scn	*s;

		if (bt_read_file(o->scenario, &b->scn_text, &b->scn_len, err,
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
		b->tok_us = util_now_us();
	}

	for (i = 0; i < o->nblocklists; i++)
		if (bt_load_blocklist(b, o->blocklists[i]) == -1)
			return -1;
	if (bt_setup_shard(b) == -1)
		return -1;
	if (bt_load_input(b) == -1)
		return -1;
	b->out_fd = STDOUT_FILENO;
	if (o->resume != NULL && bt_load_resume(b) == -1)
		return -1;
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
		bt_job_free(b, s->job);
		free(s->note);
		free(s);
	}
	for (i = 0; i < b->dcap; i++)
		for (d = b->dtab[i]; d != NULL; d = dn) {
			dn = d->next;
			while ((j = TAILQ_FIRST(&d->wait)) != NULL) {
				TAILQ_REMOVE(&d->wait, j, q);
				bt_job_free(b, j);
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
	bt_targets_free(b);
	bt_set_free(&b->bl_names);
	bt_set_free(&b->bl_nets);
	bt_set_free(&b->done_keys);
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
	struct timeval	 sec = { 1, 0 };
	char		 err[512];
	double		 wall;
	size_t		 i;
	int		 rc = BATCH_EXIT_USAGE, need_dns = 0;

	json_set_alloc_funcs(bt_jmalloc, bt_jfree);
	memset(&b, 0, sizeof(b));
	TAILQ_INIT(&b.dnsq);
	TAILQ_INIT(&b.ready);
	TAILQ_INIT(&b.active);
	TAILQ_INIT(&b.reap);
	TAILQ_INIT(&b.reaped);
	b.out_fd = -1;
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
	if (b.o.tls_mode != SMTP_TLS_NONE || b.o.scenario != NULL) {
		struct tls_params tp = { NULL, NULL, NULL, NULL };
		const char	*bundle;

		/*
		 * The system's CA bundle, loaded once into memory: the
		 * default store looks issuers up in the certificate
		 * directory, reading it anew for every chain checked,
		 * which cost a fifth of each STARTTLS session's CPU.
		 */
		if ((bundle = getenv(X509_get_default_cert_file_env())) ==
		    NULL)
			bundle = X509_get_default_cert_file();
		if (access(bundle, R_OK) == 0)
			tp.cafile = bundle;
		if ((b.ctx = tls_ctx_new(&tp, err, sizeof(err))) == NULL) {
			log_warnx("batch: %s", err);
			goto out;
		}
		/* idle sessions hand their TLS buffers back (NOTES 5.2) */
		SSL_CTX_set_mode(b.ctx, SSL_MODE_RELEASE_BUFFERS);
	}
	if ((b.reap_ev = evtimer_new(b.base, bt_reap_cb, &b)) == NULL ||
	    (b.rate_ev = evtimer_new(b.base, bt_rate_cb, &b)) == NULL ||
	    (b.drain_ev = evtimer_new(b.base, bt_drain_cb, &b)) == NULL ||
	    (b.sig_ev[0] = evsignal_new(b.base, SIGTERM, bt_signal_cb,
	    &b)) == NULL || (b.sig_ev[1] = evsignal_new(b.base, SIGINT,
	    bt_signal_cb, &b)) == NULL)
		fatalx("cannot create events");
	evsignal_add(b.sig_ev[0], NULL);
	evsignal_add(b.sig_ev[1], NULL);
	b.progress = !b.o.quiet && (b.o.progress || isatty(STDERR_FILENO));
	if (b.progress) {
		if ((b.progress_ev = event_new(b.base, -1, EV_PERSIST,
		    bt_progress_cb, &b)) == NULL)
			fatalx("cannot create events");
		evtimer_add(b.progress_ev, &sec);
	}

	util_utc_iso(b.started, sizeof(b.started));
	b.t0 = util_now_us();
	log_info("batch: %zu targets, concurrency cap %zu (fd limit %zu), "
	    "%ld per IP, DNS %zu at once", b.nt, b.cap, b.fd_limit,
	    b.o.per_ip, b.dns_max);
	bt_select(&b);
	bt_dns_pump(&b);
	bt_pump(&b);
	if (b.outstanding > 0 && !b.out_error)
		event_base_dispatch(b.base);
	wall = (double)(util_now_us() - b.t0) / 1e6;

	rc = b.out_error ? BATCH_EXIT_OUTPUT : b.outstanding > 0 ?
	    BATCH_EXIT_INTERRUPTED : BATCH_EXIT_OK;
	if (b.progress)
		bt_progress(&b, 1);
	if (!b.o.quiet)
		bt_summary(&b, wall, rc);
	if (b.o.metadata != NULL)
		bt_metadata(&b, wall, rc);
out:
	bt_free(&b);
	bt_arena_end();
	free(bt_arena.head);
	bt_arena.head = NULL;
	return rc;
}

/*
 * batch_int.h - what the modules of "smtprobe batch" share: the run
 * (struct batch), its targets, names, destinations, jobs and sessions.
 * Private to probe/batch*.c and tests/unit/t_sched.c; the command's
 * interface is include/batch.h.
 *
 *   batch.c         options, setup, the run from start to end
 *   batch_input.c   the input: target lines and JSON lines
 *   batch_select.c  which targets run: --blocklist, --resume, --shard
 *   batch_dns.c     names resolved, shared by the targets using them
 *   batch_sched.c   admission: per-IP cap and gap, global cap, --rate,
 *                   on an injected clock
 *   batch_sess.c    one session: parameters, status, reaping
 *   batch_out.c     records, the metadata document
 *   batch_loop.c    signals, drain, the progress line, the summary
 *   batch_tls.c     the TLS context tuned for many sessions
 */
#ifndef SMTPROBE_BATCH_INT_H
#define SMTPROBE_BATCH_INT_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "batch.h"
#include "dns.h"
#include "jsonw.h"
#include "opt.h"
#include "route.h"
#include "scn.h"
#include "smtp.h"
#include "target.h"

struct check_run;
struct check_result;

#define BT_FD_RESERVE	64	/* descriptors kept for files, DNS, logs */
#define BT_FDS_PER_NAME	33	/* sockets one MX lookup may hold: MX,
				   then A and AAAA of up to 16 hosts */
#define BT_DNS_MAX	32	/* default --dns-concurrency ceiling */
#define BT_SHARD_MAX	OPT_SHARD_MAX	/* opt.h */

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

extern const char *const bt_status_names[ST__COUNT];


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
	int		  no_pipelining; /* --no-pipelining */
	int		  server_check;	/* --server-check */
	char		**srv_dnsbl;	/* --server-dnsbl, NULL-terminated;
					   NULL: the default lists */
	const char	 *srv_ip;	/* --server-public-ip */
	int		  tls_mode;	/* --starttls ... (smtp_tls_mode) */
	int		  dane;		/* --dane (and --tls-check) */
	int		  tls_check;	/* --tls-check */
	const char	 *cafile;	/* --tls-ca-file */
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
	const char	 *metrics;	/* --metrics */
	long		  drain_ms;	/* --drain-timeout */
	const char	 *contact;	/* --contact */
	int		  progress;	/* --progress */
	int		  summary_rec;	/* --summary-record */
	const char	 *baseline;	/* --baseline */
	const char	 *baseline_save; /* --baseline-save */
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
	struct target		 tg;		/* its engine parameters */
	struct target_tls	*tls;		/* --dane: its pre-flight */
	struct check_run	*srv_run;	/* --server-check: DNS facts */
	struct check_result	*srv;		/* about the server's address */
	char			*srv_ip;	/* that address, once looked at */
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
	struct scn_params	 sp;		/* every session's, but for
					   the target (scn_exec_set_conn:
					   not copied into each session) */
	char			*scn_text;	/* --scenario contents */
	size_t			 scn_len;
	struct scn		*scn_shared;	/* it needs no per-target vars */
#define BT_SERVER_MAX	255	/* longest ${server} scn_common allows */
	struct scn		*scn_common;	/* it needs only --from, --to
					   and --var: for every target
					   without its own (bsess_scn) */
	struct scn_vars		 vars;		/* --var, helo */

	/* input */
	char			*input;		/* the whole input */
	size_t			 input_len;
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
	int64_t			(*now)(void *);	/* the scheduler's clock, us:
						   util_now_us(), a fake in
						   tests */
	void			*now_arg;
	void			(*start)(struct batch *, struct bt_job *);
						/* run an admitted job:
						   bsess_start() */

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
	struct jw_buf		 out;		/* the record being written */

	/* counts */
	size_t			 nselected;	/* targets to report */
	size_t			 ndone;		/* targets fully reported */
	size_t			 outstanding;	/* selected, not done */
	size_t			 nresumed;	/* done by an earlier run */
	size_t			 nother;	/* other shards' */
	size_t			 nrecords;
	size_t			 count[ST__COUNT];
	struct metrics		*metrics;	/* --metrics, or NULL */
	int64_t			 t0;		/* monotonic start, us */
	char			 started[32];
	int			 progress;	/* the progress line is on */

	/* --baseline, --baseline-save (batch_baseline.c) */
	json_t			*bl_base;	/* the file compared with */
	char			**bl_keys;	/* keys reported (malloc) */
	char			**bl_entries;	/* their entries, as JSON */
	size_t			 bl_n;
	size_t			 bl_errors, bl_warnings;
};

/* batch.c's helpers, in the modules below */

/* batch_out.c */
void	 bout_summary_record(struct batch *b, double wall, int rc);

/* batch_baseline.c */
int	 bbase_setup(struct batch *b);
void	 bbase_record(struct batch *b, const struct bt_target *t,
	    json_t *session, json_t *rec);
int	 bbase_finish(struct batch *b, int rc);
void	 bbase_free(struct batch *b);

/* batch_merge.c */
int	 batch_merge_main(int argc, char **argv);

/* batch_tls.c */
SSL_CTX		*btls_ctx_new(const char *cafile, char *, size_t);

/* batch_input.c */
int	 binput_name_ok(char *s);
int	 binput_load(struct batch *b);
void	 binput_free(struct batch *b);

/* batch_select.c */
uint64_t	 batch_hash(uint64_t seed, const char *key, size_t len);
int	 bselect_set_has(const struct bt_set *s, const char *k);
void	 bselect_set_free(struct bt_set *s);
int	 bselect_load_blocklist(struct batch *b, const char *path);
const char	 *bselect_blocked_addr(struct batch *b,
	    const struct dns_addr *a, char *buf, size_t len);
const char	 *bselect_blocked_name(struct batch *b, const char *name);
int	 bselect_load_resume(struct batch *b);
int	 bselect_setup_shard(struct batch *b);
int	 bselect_mine(const struct batch *b, const char *key);
void	 bselect_run(struct batch *b);

/* batch_sched.c */
int64_t	 bsched_clock(void *);
struct bt_dest	 *bsched_dest_get(struct batch *b, const struct dns_addr *a);
void	 bsched_dest_check(struct batch *b, struct bt_dest *d);
void	 bsched_gap_cb(evutil_socket_t fd, short what, void *arg);
struct bt_job	 *bsched_job_new(struct bt_target *t, struct bt_dest *d,
	    struct bt_name *n, const struct route_addr *ra, int mx_index,
	    int mx_count);
void	 bsched_job_free(struct batch *b, struct bt_job *j);
void	 bsched_dests_free(struct batch *b);
void	 bsched_enqueue(struct batch *b, struct bt_job *j);
void	 bsched_rate_cb(evutil_socket_t fd, short what, void *arg);
void	 bsched_release(struct batch *b, struct bt_dest *d);
void	 bsched_pump(struct batch *b);

/* batch_sess.c */
uint16_t	 bsess_port(const struct batch *b, const struct bt_target *t);
void	 bsess_start(struct batch *b, struct bt_job *j);
void	 bsess_reap_cb(evutil_socket_t fd, short what, void *arg);
/* bsess_free - a session that ended, its job and all it held */
void	 bsess_free(struct batch *, struct bt_sess *);

/* batch_out.c */
void	 bout_report(struct batch *b, const struct bt_target *t,
	    const struct bt_job *j, enum bt_status st, int code,
	    json_t *verdict, const char *started, const char *ended,
	    const char *error, json_t *session, json_t *more);
struct jw_buf;
void	 bout_report_tail(struct batch *b, const struct bt_target *t,
	    const struct bt_job *j, enum bt_status st, int code,
	    json_t *verdict, const char *started, const char *ended,
	    void (*tail)(struct jw_buf *, void *), void *arg);
void	 bout_job_reported(struct batch *b, struct bt_job *j);
void	 bout_target_reported(struct batch *b, struct bt_target *t);
void	 bout_target_dropped(struct batch *b, struct bt_target *t);
int	 bout_metadata(struct batch *b, double wall, int rc);
size_t	 batch_json(json_t *v, char **buf, size_t *cap);

/* batch_dns.c */
void	 bdns_unref(struct batch *b, struct bt_name *n);
void	 bdns_pump(struct batch *b);

/* batch_loop.c */
void	 bloop_start(struct batch *);
void	 bloop_stop_now(struct batch *b);
void	 bloop_signal_cb(evutil_socket_t sig, short what, void *arg);
void	 bloop_drain_cb(evutil_socket_t fd, short what, void *arg);
void	 bloop_progress_cb(evutil_socket_t fd, short what, void *arg);
void	 bloop_progress(struct batch *b, int final);
void	 bloop_summary(struct batch *b, double wall, int rc);

#endif

/*
 * opt.h - the command line: one option table (include/opt.def, every
 * option of every command) feeds the getopt tables and the parsers,
 * every --help, and the option lists of man/smtprobe.1.
 *
 * opt_parse() fills struct opt_cli and returns 0, or prints a usage
 * error to stderr and returns -1 (exit 64). Strings in opt_cli point
 * into argv or are owned by it; opt_cli_free() frees what it owns.
 */
#ifndef SMTPROBE_OPT_H
#define SMTPROBE_OPT_H

#include <stddef.h>

#include "esmtp.h"
#include "record.h"

struct opt_txn {
	char		 *from;		/* -f; NULL: none given */
	const char	**to;		/* -t after this -f */
	size_t		  nto;
};

struct opt_cli {
	const char	 *server;	/* -s HOST[:PORT] */
	char		 *domain;	/* DOMAIN argument, or the domain of
					   the first --to without -s */
	const char	 *resolver;	/* --resolver */
	int		  all_mx;	/* --all-mx */
	int		  check;	/* --check (and the options below) */
	int		  no_check;	/* --no-check */
	const char	 *public_ip;	/* --public-ip */
	char		**dnsbl;	/* --dnsbl, NULL-terminated, or NULL */
	char		**dbl;		/* --dbl */
	int		  server_check;	/* --server-check */
	const char	 *srv_ip;	/* --server-public-ip */
	char		**srv_dnsbl;	/* --server-dnsbl, NULL-terminated,
					   or NULL (then --dnsbl's) */
	long		  slow_banner_ms; /* --slow-banner, 0 off */
	int		  pregreet;	/* --pregreet */
	int		  both_families; /* --both-families */
	long		  retry_ms;	/* --retry-after, 0 never */
	char		 *host;		/* parsed from server */
	char		 *port;		/* -p, or from server, or default */
	int		  family;	/* -4 / -6: AF_INET / AF_INET6 / 0 */
	const char	 *local;	/* --local-address */
	const char	 *interface;	/* --interface */
	const char	 *pipe;		/* --pipe */
	int		  proxy;	/* --proxy: 1, 2, 0 none */
	const char	 *proxy_src;	/* --proxy-source */
	const char	 *proxy_dst;	/* --proxy-dest */
	const char	 *xclient;	/* --xclient */
	const char	 *xforward;	/* --xforward */
	const char	 *helo;		/* --helo */
	int		  raw_helo;	/* --raw-helo */
	int		  raw_address;	/* --raw-address */
	struct opt_txn	 *txn;		/* one per --from */
	size_t		  ntxn;
	int		  tls_mode;	/* enum smtp_tls_mode */
	const char	 *tls_mode_by;	/* the option that set it, or NULL */
	int		  tls_verify;	/* --tls-verify */
	const char	 *sni;		/* --tls-sni */
	int		  no_sni;	/* --no-tls-sni */
	const char	 *cafile;	/* --tls-ca-file */
	const char	 *capath;	/* --tls-ca-path */
	const char	 *tls_min;	/* --tls-min-version */
	const char	 *ciphers;	/* --tls-ciphers */
	const char	 *tls_max;	/* --tls-max-version */
	const char	 *suites;	/* --tls-ciphersuites */
	const char	 *tls_cert;	/* --tls-cert */
	const char	 *tls_key;	/* --tls-key */
	int		  show_chain;	/* --tls-show-chain pem */
	int		  expiry_warn;	/* --tls-expiry-warn days, 0 off */
	int		  dane;		/* --dane (and --tls-check) */
	int		  tls_check;	/* --tls-check */
	int		  stop_before;	/* --stop-before, -1 none */
	int		  quit_after;	/* --quit-after, -1 none */
	int		  data;		/* --data (or implied) */
	int		  no_pipelining; /* --no-pipelining */
	int		  bdat;		/* --bdat (or implied) */
	size_t		  bdat_chunk;	/* --bdat-chunk, 0: default */
	int		  lmtp;		/* --lmtp */
	char		 *unix_path;	/* -s unix:/PATH or /PATH */
	const char	 *body;		/* --body FILE|- */
	const char	 *message;	/* --message FILE|- */
	const char	**headers;	/* --header */
	size_t		  nheaders;
	const char	 *body_html;	/* --body-html FILE|- */
	const char	**attach;	/* --attach FILE|-, repeatable */
	size_t		  nattach;
	int		  eicar;	/* --attach-eicar */
	int		  gtube;	/* --attach-gtube */
	struct esmtp_opts esmtp;	/* --size, --8bitmime, --dsn-*,
					   --requiretls, --raw-message */
	int		  suppress_data; /* --suppress-data */
	long		  timeout_ms[STAGE__COUNT]; /* --timeout */
	size_t		  max_line;	/* --max-line */
	size_t		  show_body;	/* --show-body */
	int		  json;		/* --json, --format json */
	int		  ticket;	/* --format ticket */
	const char	 *report;	/* --report FILE */
	int		  mask_local;	/* --mask-local-parts */
	int		  diagnose;	/* --diagnose */
	int		  diagnose_content; /* --diagnose-content */
	const char	**scenarios;	/* --scenario, repeatable */
	size_t		  nscenarios;
	const char	**vars;		/* --var NAME=VALUE */
	size_t		  nvars;
	const char	 *junit;	/* --junit FILE */
	const char	 *baseline;	/* --baseline FILE */
	const char	 *baseline_save; /* --baseline-save FILE */
	const char	 *metrics;	/* --metrics FILE */
	int		  tap;		/* --tap */
	int		  auth_mech;	/* --auth, -1 none */
	const char	 *auth_user;	/* --auth-user */
	const char	 *auth_secret_env; /* --auth-secret-env */
	const char	 *auth_secret_file; /* --auth-secret-file */
	int		  auth_insecure; /* --auth-insecure */
	int		  quiet;	/* -q */
	int		  timestamps;	/* --timestamps */
	int		  verbose;	/* -v, repeatable */
	int		  help;		/* -h */
	int		  version;	/* -V */
	int		  list_options;	/* --list-options (for tests) */
	int		  dump_options;	/* --dump-options (for tests) */
};

/* "smtprobe explain" options */
struct opt_explain {
	int		 stage;		/* --stage, -1 unknown */
	int		 bounce;	/* --bounce: input is a bounce message */
	int		 json;		/* --json */
	const char	*file;		/* --file FILE|-, or NULL */
	char		*text;		/* the arguments joined, or NULL */
	int		 help;
	int		 list_options;
	int		 dump_options;
};

/* The commands an option belongs to (opt.def's cmds), and two marks. */
enum opt_cmd {
	OC_PROBE = 0x01,
	OC_SHELL = 0x02,
	OC_BATCH = 0x04,
	OC_EXPLAIN = 0x08,
	OC_REPLAY = 0x10,	/* the shell repeats it when saving */
	OC_HIDDEN = 0x20,	/* not in --help nor in the man page */
	OC_NEG = 0x40		/* a switch: --no-NAME turns it off again
				   (the last one given wins); probe and
				   shell only, opt_apply() honours it */
};

enum opt_type {
	OT_FLAG,		/* no argument */
	OT_STR,			/* text without CR, LF, NUL or controls */
	OT_NUM,			/* a decimal whole number from lo to hi */
	OT_SECS,		/* seconds from lo to hi, into ms */
	OT_ENUM,		/* a word of arg ("a|b|c"), into its index */
	OT_SPECIAL		/* text; the parser's handler checks it */
};

#define OPT_SHARD_MAX	1000000		/* batch --shard-count */

/* defaults that --help and the man page print (opt_default) */
#define OPT_SHOW_BODY		20	/* --show-body, lines */
#define OPT_EXPIRY_WARN		14	/* --tls-expiry-warn, days */
#define OPT_SLOW_BANNER_MS	10000	/* --slow-banner */
#define OPT_BATCH_PER_IP	1	/* batch --per-ip */
#define OPT_BATCH_GAP_MS	2000	/* batch --per-ip-gap */
#define OPT_BATCH_DRAIN_MS	25000	/* batch --drain-timeout */

/* the option ids: above 255, so that they never meet a short letter */
enum opt_id {
	OPT__BASE = 255,
#define OPT(id, name, letter, cmds, arg, mdoc, type, lo, hi, help) id,
#include "opt.def"
#undef OPT
	OPT__END
};

struct opt_def {
	int		 id;		/* enum opt_id */
	const char	*name;
	int		 letter;	/* short option, or 0 */
	int		 cmds;		/* enum opt_cmd bits */
	const char	*arg;		/* NULL: a flag */
	const char	*mdoc;		/* the argument in the man page */
	int		 type;		/* enum opt_type */
	long		 lo, hi;	/* OT_NUM */
	const char	*help;
};

/*
 * opt_next - the next option of command cmd (OC_*) in argv, as
 * getopt_long(3) with the command's table: every argument is checked
 * by its type (opt_text; a number, ms or index into *num; a flag: 1,
 * or 0 for the --no-NAME of an OC_NEG switch). Returns
 * the option's definition; NULL at the end (*err 0), or after an
 * unknown option or a missing argument (*err 1: the caller says so,
 * in its words; *err 3 for a missing argument), or after a bad
 * argument (*err 2: already said).
 * permute: options may follow operands (no '+').
 */
const struct opt_def *opt_next(int cmd, int permute, int argc, char **argv,
	    long *num, int *err);
const struct opt_def *opt_def(int id);
void	 opt_help(int cmd);		/* the options part of --help */
/*
 * opt_expand - the help of d for cmd into buf (returned), with
 * "@TIMEOUTS@", "@DEFAULT@" and "@RANGE@" replaced
 */
const char *opt_expand(int cmd, const struct opt_def *d, char *buf,
	    size_t len);
void	 opt_list_cmd(int cmd);		/* every long option of cmd */
void	 opt_dump(int cmd);		/* the man page's .It lines */
int	 opt_text(const char *name, const char *);
int	 opt_table_check(char *err, size_t);	/* for tests */

int	opt_parse(int, char **, struct opt_cli *);
/*
 * The parser in pieces, for the shell, which takes a subset of the
 * options with its own operand: opt_cli_init - the defaults;
 * opt_apply - one option from opt_next(); opt_finish - the operands
 * left and the rules between options.
 */
void	opt_cli_init(struct opt_cli *);
int	opt_apply(const struct opt_def *, const char *, long,
	    struct opt_cli *);
int	opt_finish(struct opt_cli *, int, char **);
int	opt_explain_parse(int, char **, struct opt_explain *);
void	opt_explain_free(struct opt_explain *);
void	opt_explain_usage(void);
void	opt_cli_free(struct opt_cli *);
void	opt_usage(void);		/* --help text to stdout */

/*
 * Pieces of the parser that the other commands (batch, shell) share:
 * opt_number - a whole decimal number from lo to hi, or -1 with a
 *	message naming --name;
 * opt_helo - a HELO name (a domain or an address literal; with raw,
 *	anything but CR, LF, NUL up to 998 octets), or -1 with a message;
 * opt_timeout - "SECS" for every stage or "STAGE=SECS" (0.5 allowed)
 *	into timeout_ms[STAGE__COUNT], or -1 with a message;
 * opt_help_line - one option in --help form (letter 0: none);
 * opt_wrap - text folded before width, continuing at column indent.
 */
int	 opt_number(const char *name, const char *, long lo, long hi,
	    long *);
int	 opt_helo(const char *name, const char *, int raw);
int	 opt_timeout(const char *, long *timeout_ms);
/*
 * opt_zones - "a.example,b.example" (--dnsbl, --server-dnsbl) into a
 * NULL-terminated list in *out; "none" is an empty list
 */
int	 opt_zones(const char *name, const char *v, char ***out);
void	 opt_help_line(int letter, const char *name, const char *arg,
	    const char *help);
void	 opt_wrap(const char *, int indent, int width);

/* opt_default_helo - this host's name when it is an FQDN, else NULL */
char	*opt_default_helo(void);

/*
 * opt_secret - the AUTH secret of --auth-secret-env or --auth-secret-file
 * (the first line), else, when prompt is set and stdin is a terminal, a
 * prompt without echo. NULL after a message on stderr. Caller wipes it.
 */
char	*opt_secret(const struct opt_cli *, int prompt);

/*
 * opt_vars - the scenario variables the options give: ${helo} (--helo,
 * else helo), ${from}, ${to}, ${server}, ${user}, then every --var
 */
struct scn_vars;
void	 opt_vars(const struct opt_cli *, const char *helo, const char *from,
	    const char *to, struct scn_vars *);

#endif

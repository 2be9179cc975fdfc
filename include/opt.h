/*
 * opt.h - the command line: one option table (probe/opt.c) feeds the
 * parser, --help, and the list that tests compare with the man page.
 *
 * opt_parse() fills struct opt_cli and returns 0, or prints a usage
 * error to stderr and returns -1 (exit 64). Strings in opt_cli point
 * into argv or are owned by it; opt_cli_free() frees what it owns.
 */
#ifndef SMTPROBE_OPT_H
#define SMTPROBE_OPT_H

#include <stddef.h>

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
	char		 *host;		/* parsed from server */
	char		 *port;		/* -p, or from server, or default */
	int		  family;	/* -4 / -6: AF_INET / AF_INET6 / 0 */
	const char	 *local;	/* --local-address */
	const char	 *helo;		/* --helo */
	int		  raw_helo;	/* --raw-helo */
	int		  raw_address;	/* --raw-address */
	struct opt_txn	 *txn;		/* one per --from */
	size_t		  ntxn;
	int		  tls_mode;	/* enum smtp_tls_mode */
	int		  tls_verify;	/* --tls-verify */
	const char	 *sni;		/* --tls-sni */
	int		  no_sni;	/* --no-tls-sni */
	const char	 *cafile;	/* --tls-ca-file */
	const char	 *capath;	/* --tls-ca-path */
	const char	 *tls_min;	/* --tls-min-version */
	const char	 *ciphers;	/* --tls-ciphers */
	int		  dane;		/* --dane (and --tls-check) */
	int		  tls_check;	/* --tls-check */
	int		  stop_before;	/* --stop-before, -1 none */
	int		  quit_after;	/* --quit-after, -1 none */
	int		  data;		/* --data (or implied) */
	const char	 *body;		/* --body FILE|- */
	const char	 *message;	/* --message FILE|- */
	const char	**headers;	/* --header */
	size_t		  nheaders;
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
};

int	opt_parse(int, char **, struct opt_cli *);
int	opt_explain_parse(int, char **, struct opt_explain *);
void	opt_explain_free(struct opt_explain *);
void	opt_explain_usage(void);
void	opt_explain_list(void);
void	opt_cli_free(struct opt_cli *);
void	opt_usage(void);		/* --help text to stdout */
void	opt_list(void);			/* every long option, one a line */

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

/*
 * cli_int.h - the inside of the smtprobe command line: one run (struct
 * cli_run) and its targets, shared by main.c (the program: options,
 * files, the order of the phases), cli.c (inputs, route, targets,
 * pre-flight, sessions), cli_out.c (transcript, JSON, TAP, JUnit,
 * ticket, --all-mx differences, --tls-check) and cli_srv.c
 * (--server-check and the timing findings).
 */
#ifndef SMTPROBE_CLI_INT_H
#define SMTPROBE_CLI_INT_H

#include <sys/socket.h>

#include <stdio.h>

#include <jansson.h>

#include "check.h"
#include "msg.h"
#include "opt.h"
#include "report.h"
#include "route.h"
#include "scn.h"
#include "sink.h"
#include "smtp.h"
#include "target.h"

struct cli_run;

/* One address to probe, and what runs against it. */
struct cli_target {
	struct cli_run		*run;
	struct target		 tg;		/* its parameters */
	struct scn_params	 sp;
	struct smtp_callbacks	 cb;
	struct route_addr	*ra;		/* from the route, or NULL */
	FILE			*out;		/* transcript, or NULL */
	char			*buf;		/* --all-mx: transcript kept */
	size_t			 buflen;
	struct scn_exec		**execs;	/* one per scenario */
	size_t			 nexec;
	int			 done;
	char			*srv_ip;	/* --server-check: the
						   address looked up */
	int			 srv_private;	/* it is private: none */
	struct check_result	*srv;		/* its PTR, DNSBL */
	struct scn_exec		*first;		/* --retry-after: the first
						   run, execs[0] the retry */
};

struct cli_run {
	struct opt_cli		*cli;
	struct report_opts	 ro;
	int			 summaries; /* step table per session */
	struct event_base	*base;
	struct scn		**scns;
	size_t			 nscn;
	struct cli_target	*t;
	size_t			 nt;
	size_t			 ndone;
	struct route		*route;
	struct check_result	*checks;	/* --check, once done */
	int			 checks_done;
	size_t			 srv_pending;	/* server checks running */
	size_t			 retry_pending;	/* --retry-after runs */
	int			 multi;		/* several targets, kept
						   apart: --all-mx,
						   --both-families */
	struct target_tls	*tls;		/* --dane, --tls-check */

	/* the inputs, checked (cli_inputs, cli_prepare) */
	struct smtp_txn		*txn;		/* one per --from */
	char			**addrs;	/* every address, owned */
	size_t			 naddrs;
	char			*helo;		/* the default HELO */
	char			*body;		/* --body */
	size_t			 bodylen;
	char			*message;	/* --message */
	size_t			 messagelen;
	char			*html;		/* --body-html */
	size_t			 htmllen;
	struct msg_attach	*att;		/* --attach, read */
	size_t			 natt;
	struct msg_mime		 mime;		/* the parts */
	char			*secret;	/* the AUTH secret, wiped */
	struct scn_vars		 vars;		/* --var and others */
	struct scn_classic	 classic;	/* the default probe */
	SSL_CTX			*ctx;		/* sessions' TLS */
	struct sockaddr_storage	 ls;		/* --local-address */
	socklen_t		 lsl;
	struct sockaddr_storage	 proxy_src;	/* --proxy-source */
	struct sockaddr_storage	 proxy_dst;	/* --proxy-dest */
	struct target_conn	 conn;		/* every target's */
	struct dns_ctx		*dns;		/* made when needed */
	char			*check_ip;	/* the checks' subject */
	struct report_run	*runs;		/* every scenario run */
	size_t			 nruns;
	char			*cmdline;	/* for the ticket */
	struct ticket_info	 ti;		/* the ticket's */
	struct sink		 sink;		/* chosen once */
	json_t			*bl_base;	/* --baseline's file */
	json_t			*bl_drift;	/* its drift, once compared */
};

void	cli_wire(void *, enum smtp_wire, int, int64_t, const char *);
void	cli_session_done(void *, const struct record *);
void	cli_exec_done(struct scn_exec *, void *);
void	cli_route_done(struct route *, void *);
void	cli_checks_done(struct check_result *, void *);
char	*cli_source_ip(const struct sockaddr *, socklen_t,
		    const struct sockaddr *, socklen_t);
void	cli_attach_checks(struct record *, const struct check_result *,
		    const char *);
void	cli_next(struct cli_target *);
char	*cli_cmdline(int, char **);
int	 cli_files(const struct opt_cli *);
void	cli_differences(FILE *, json_t *, struct cli_run *);
void	cli_tls_done(struct target_tls *, void *);
int	cli_inputs(struct cli_run *);
int	cli_prepare(struct cli_run *);
int	cli_route(struct cli_run *);
void	cli_targets(struct cli_run *);
void	cli_preflight(struct cli_run *);
int	cli_diagnose(struct cli_run *);
int	cli_sessions(struct cli_run *);
void	cli_output(struct cli_run *, int, int, char **);
void	cli_run_free(struct cli_run *);
void	cli_ticket_write(FILE *, void *);
void	cli_junit_write(FILE *, void *);
void	cli_tls_extra(FILE *, json_t *, void *);
void	cli_allmx_json(struct cli_run *, int);
int	cli_baseline(struct cli_run *, int);
void	cli_baseline_out(struct cli_run *, FILE *, json_t *);
void	cli_tls_preflight(struct cli_run *, struct dns_ctx **,
		    const struct smtp_txn *);
void	cli_tls_finish(struct cli_run *);
void	cli_server_preflight(struct cli_run *);
void	cli_server_judge(struct cli_run *);
void	cli_retry(struct cli_run *);
int	cli_families_pick(const struct route *, size_t *);
void	cli_families(FILE *, json_t *, struct cli_run *);
void	cli_tls_out(struct cli_run *, struct cli_target *, FILE *,
		    json_t *);

#endif

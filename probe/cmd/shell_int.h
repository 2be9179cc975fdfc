/*
 * shell_int.h - the inside of "smtprobe shell": its state, shared by
 * shell.c (options, the loop), shell_step.c (steps, expect, save) and
 * shell_io.c (reading lines, passwords and messages from the terminal
 * or a pipe, history).
 */
#ifndef SMTPROBE_SHELL_INT_H
#define SMTPROBE_SHELL_INT_H

#include <sys/types.h>
#include <sys/socket.h>

#include "opt.h"
#include "report.h"
#include "scn.h"
#include "smtp.h"
#include "target.h"

#define SHELL_MAX_LINE	8192		/* as a scenario line */
#define SHELL_MAX_PASS	1024
#define SHELL_PROMPT	"smtprobe> "
#define SHELL_BODY	"data> "

/* One line for "save": a step, a set or an expect line, in order. */
struct shell_ent {
	char		*line;		/* as parsed; a typed here-document
					   whole, with its lines */
	char		*body;		/* "data" read up to ".", or NULL */
	size_t		 bodylen;
};

struct shell {
	struct event_base	*base;
	struct scn_exec		*x;
	struct scn_params	 sp;		/* the exec borrows it */
	struct target		 t;		/* the server: sp.conn is t.p */
	struct target_conn	 conn;		/* t borrows it */
	struct sockaddr_storage	 ls;		/* --local-address */
	struct sockaddr_storage	 proxy_src;	/* --proxy-source */
	struct sockaddr_storage	 proxy_dst;	/* --proxy-dest */
	struct smtp_callbacks	 cb;
	struct report_opts	 ro;		/* --timestamps */
	struct scn_vars		 vars;		/* --var, "set" lines */
	const char		*auth_user;	/* --auth-user */
	char			*secret;	/* --auth-secret-env/-file */
	int			 tty;		/* stdin is a terminal */
	struct shell_ent	*ent;
	size_t			 nent;
	char			**hist;		/* lines typed, "history" */
	size_t			 nhist;
	ssize_t			 last_ent;	/* the latest step run, -1 */
	int			 groups;	/* pipeline blocks sent */
	int			 done;		/* the exec is over */
	int			 opened;	/* a greeting was accepted */
	int			 expect_failed;	/* an expect line not met */
	int			 eof;		/* the input ended */
	int			 last_expect;	/* the latest step has one */
	int			 prompted;	/* a password was asked for */
	char			*server;	/* HOST[:PORT] as given */
	char			*replay;	/* options of the replay line */
	char			**setvars;	/* --var, for the saved file */
	size_t			 nsetvars;
	char			*lbuf;		/* getline() on a pipe */
	size_t			 lcap;
};

/* shell_getline - one line typed (*len its bytes), NULL at the end */
char	*shell_getline(struct shell *, const char *prompt, size_t *len);
/* shell_getpass - the password for user, not echoed; NULL: cancelled */
char	*shell_getpass(struct shell *, const char *user);
/* shell_sigrestore - a signal while the echo is off: restore, re-raise */
void	 shell_sigrestore(int);
/* shell_read_body - lines up to one that is exactly end, or NULL */
char	*shell_read_body(struct shell *, const char *end, const char *what,
	    size_t *len);
/* shell_history - the lines typed so far, numbered */
void	 shell_history(const struct shell *);
/* shell_hist_add - a line typed, for "history" (and editline's) */
void	 shell_hist_add(struct shell *, const char *);

/* shell_run - run the loop until the step pushed last is done (shell.c) */
void	 shell_run(struct shell *);
/* shell_shquote - s as one word for sh(1) (caller frees) */
char	*shell_shquote(const char *);
/* shell_quote - len bytes as a quoted scenario string (caller frees) */
char	*shell_quote(const char *, size_t);
/* shell_step - a scenario step typed: check it, run it (shell_step.c) */
void	 shell_step(struct shell *, const char *);
/* shell_raw - a line sent as it is */
void	 shell_raw(struct shell *, const char *);
/* shell_pipeline - "pipeline": the lines up to "end" sent as one group */
void	 shell_pipeline(struct shell *);
/* shell_expect - an expect line, checked at once against the step above */
void	 shell_expect(struct shell *, const char *);
/* shell_save - the session so far as a scenario file */
void	 shell_save(struct shell *, const char *);

#endif

/*
 * dsn_int.h - private to the bounce parser (probe/judge/dsn*.c).
 *
 * The three files of the parser share these types and helpers:
 *   dsn.c	MIME walk, RFC 3464 fields, records, merge (dsn_parse)
 *   dsn_str.c	bounded string helpers, addresses, hosts, stage phrases,
 *		line splitting and quoted-printable decoding
 *   dsn_text.c	recognisers of the human-readable text of bounces
 * Nothing outside those files includes this header.
 *
 * Every search is bounded by a struct span (pointer and length): the
 * input is never taken to be NUL-terminated. Records (struct rec) own
 * their strings, made with dsn_mkstr() or dsn_norm_reply().
 */
#ifndef SMTPROBE_DSN_INT_H
#define SMTPROBE_DSN_INT_H

#include <stddef.h>

#include "dsn.h"

#define DSN_SCAN_MAX	65536	/* bytes of a line or paragraph searched */
#define DSN_SM_QUEUE	64	/* Sendmail commands awaiting a reply */

struct span {
	const char	*p;
	size_t		 len;
};

struct lines {
	struct span	*v;
	size_t		 n;
};

struct mime {
	char	 type[64];	/* lower case "type/subtype", "" if none */
	char	 bnd[256];	/* boundary */
	size_t	 bndlen;	/* 0: none */
	char	 cte[32];	/* lower case transfer encoding, "" if none */
};

/* One recipient as seen by one source; it owns its strings. */
struct rec {
	struct dsn_item	 it;
	char		*orcpt;		/* second address to match on */
	int		 keep;		/* no address, but says something new */
};

struct reclist {
	struct rec	*v;
	size_t		 n;
	size_t		 cap;
	int		 full;		/* a record was refused: DSN_MAX_ITEMS */
};

/* Fields of one RFC 3464 group; p == NULL when absent. */
struct group {
	struct span	 rmta;
	struct span	 frcpt;
	struct span	 orcpt;
	struct span	 action;
	struct span	 status;
	struct span	 remote;
	struct span	 diag;
};

/* Sendmail transcript state ("... while talking to", ">>>", "<<<"). */
struct sm {
	char		*host;
	int		 q[DSN_SM_QUEUE];	/* stages awaiting a reply */
	struct span	 qrcpt[DSN_SM_QUEUE];	/* RCPT address of each */
	size_t		 qn;
	int		 last;		/* stage of the last answered command */
	int		 sawcmd;	/* a ">>>" line in this session */
	int		 rcptfail;	/* a RCPT was refused */
	int		 failed;	/* a non-RCPT failure was recorded */
};

struct ctx {
	struct reclist	 dsn;		/* from message/delivery-status */
	struct reclist	 txt;		/* from the human-readable text */
	char		*reporting_mta;
	int		 saw_dsn;	/* a delivery-status part was seen */
	size_t		 nparts;
	unsigned	 truncated;	/* DSN_TRUNC_PARTS, DSN_TRUNC_DEPTH */
	char		*prose;		/* the first text part's own words */
	int		 prose_html;	/* ... or an HTML part's, while none */
};

struct phrase {
	const char	*s;
	int		 stage;
};

/* dsn_str.c */
int	 dsn_lc(int);
int	 dsn_isws(int);
int	 dsn_ci_prefix(const char *, size_t, const char *);
const char *dsn_ci_find(const char *, size_t, const char *);
const char *dsn_ci_rfind(const char *, size_t, const char *);
const char *dsn_mem_rchr(const char *, int, size_t);
struct span dsn_trim(const char *, size_t);
int	 dsn_blank(const struct span *);
char	*dsn_collapse(const char *, size_t, size_t, size_t *);
char	*dsn_mkstr(const char *, size_t);
size_t	 dsn_enh_at(const char *, size_t, char *);
int	 dsn_code_at(const char *, size_t);
char	*dsn_norm_reply(const char *, size_t);
char	*dsn_addr_clean(const char *, size_t);
char	*dsn_token_addr(const char *, size_t);
char	*dsn_angle_addr(const char *);
char	*dsn_mta_host(const char *, size_t);
size_t	 dsn_host_at(const char *, size_t, struct span *);
char	*dsn_host_in(const char *, size_t);
int	 dsn_stage_word(const char *, size_t, int);
int	 dsn_stage_span(const char *, size_t);
void	 dsn_lines_split(const char *, size_t, struct lines *);
int	 dsn_hexval(int);
char	*dsn_qp_decode(const char *, size_t, size_t *);

/* dsn.c: records */
struct rec *dsn_rec_add(struct reclist *);
void	 dsn_rec_clear(struct rec *);
void	 dsn_txt_add(struct ctx *, struct rec *);

/* dsn_text.c */
void	 dsn_human(struct ctx *, const struct span *, size_t);

#endif

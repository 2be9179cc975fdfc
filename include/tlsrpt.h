/*
 * tlsrpt.h - SMTP TLS Reporting (RFC 8460 3): whether a mail domain
 * publishes a _smtp._tls TXT record, and where its reports go.
 *
 * tlsrpt_start() looks the record up with dns.h; the callback owns the
 * result (tlsrpt_result_free()) and is never called from inside
 * tlsrpt_start(). tlsrpt_parse() is pure.
 */
#ifndef SMTPROBE_TLSRPT_H
#define SMTPROBE_TLSRPT_H

#include <stddef.h>

struct dns_ctx;
struct tlsrpt_req;

enum tlsrpt_status {
	TLSRPT_ABSENT,		/* no v=TLSRPTv1 record */
	TLSRPT_PRESENT,		/* one valid record */
	TLSRPT_INVALID,		/* a record that does not parse, or more
				   than one: no reporting (3) */
	TLSRPT_ERROR		/* the lookup failed */
};

struct tlsrpt_result {
	char		*domain;
	enum tlsrpt_status status;
	char		*record;	/* the v=TLSRPTv1 record, or NULL */
	char		**rua;		/* report URIs, "mailto:" "https:" */
	size_t		 nrua;
	char		*detail;	/* one line */
};

typedef void	(*tlsrpt_cb)(struct tlsrpt_result *, void *arg);

struct tlsrpt_req *tlsrpt_start(struct dns_ctx *, const char *domain,
		    tlsrpt_cb, void *arg);
void		 tlsrpt_cancel(struct tlsrpt_req *);
void		 tlsrpt_result_free(struct tlsrpt_result *);

/*
 * tlsrpt_parse - one "v=TLSRPTv1; rua=URI[,URI]" record into r->rua.
 * Returns 0, or -1 with err filled (r->rua may hold part of the list).
 */
int		 tlsrpt_parse(const char *, struct tlsrpt_result *, char *err,
		    size_t errlen);
const char	*tlsrpt_status_name(enum tlsrpt_status);

#endif

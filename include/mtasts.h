/*
 * mtasts.h - MTA-STS (RFC 8461): the policy of a mail domain, found,
 * fetched and parsed on the event loop, and checked against MX hosts.
 *
 * mtasts_start() looks up the _mta-sts.DOMAIN TXT record (dns.h); with
 * exactly one valid "v=STSv1" record it resolves mta-sts.DOMAIN with
 * the same resolver (never getaddrinfo) and fetches
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt (https.h): the
 * certificate must be valid for that name, only a 200 counts (3xx are
 * not followed), the body is at most 64 KiB, and it is parsed strictly
 * (3.2). The result names failures with the RFC 8460 result types:
 * sts-policy-fetch-error, sts-policy-invalid, sts-webpki-invalid.
 *
 * The callback owns the result (mtasts_result_free()) and is never
 * called from inside mtasts_start(). The parsers are pure functions.
 */
#ifndef SMTPROBE_MTASTS_H
#define SMTPROBE_MTASTS_H

#include <stddef.h>

struct event_base;
struct dns_ctx;
struct mtasts_req;
typedef struct ssl_ctx_st SSL_CTX;

#define MTASTS_MAX_BODY		65536	/* RFC 8461 3.3 */
#define MTASTS_MAX_AGE		31557600L	/* RFC 8461 3.2 */
#define MTASTS_PATH		"/.well-known/mta-sts.txt"

enum mtasts_status {
	MTASTS_NONE,		/* no v=STSv1 TXT record: no policy */
	MTASTS_TXT_INVALID,	/* TXT not valid, or not one: no policy */
	MTASTS_DNS_ERROR,	/* the TXT lookup failed (temporary) */
	MTASTS_FETCH_ERROR,	/* sts-policy-fetch-error */
	MTASTS_WEBPKI,		/* sts-webpki-invalid */
	MTASTS_INVALID,		/* sts-policy-invalid */
	MTASTS_OK		/* a valid policy */
};

enum mtasts_mode {
	MTASTS_MODE_NONE,
	MTASTS_MODE_TESTING,
	MTASTS_MODE_ENFORCE
};

struct mtasts_policy {
	enum mtasts_mode mode;
	long		 max_age;
	char		**mx;		/* "mx.example", "*.example" */
	size_t		 nmx;
	char		**warnings;	/* tolerated oddities, one line each */
	size_t		 nwarnings;
};

struct mtasts_params {
	const char	*domain;	/* the policy domain */
	SSL_CTX		*ctx;		/* HTTPS: trust store, TLS >= 1.2 */
	unsigned	 port;		/* 443 (SMTPROBE_MTA_STS_PORT: tests) */
	long		 timeout_ms;	/* the fetch, connect to last byte */
	int		 family;	/* AF_INET, AF_INET6, 0 both */
};

struct mtasts_result {
	char		*domain;
	enum mtasts_status status;
	const char	*result_type;	/* RFC 8460 4.3.2.2, or NULL */
	char		*txt;		/* the record used, or NULL */
	char		*id;		/* its id= */
	char		*url;		/* the policy URL */
	char		*address;	/* "ADDR:PORT" fetched from, or NULL */
	int		 http_status;	/* 0 without a response */
	char		*content_type;
	char		*body;		/* the policy text, escaped, or NULL */
	char		*detail;	/* one line: what happened */
	char		**notes;	/* the path, for the transcript */
	size_t		 nnotes;
	struct mtasts_policy policy;	/* MTASTS_OK */
};

typedef void	(*mtasts_cb)(struct mtasts_result *, void *arg);

struct mtasts_req *mtasts_start(struct event_base *, struct dns_ctx *,
		    const struct mtasts_params *, mtasts_cb, void *arg);
void		 mtasts_cancel(struct mtasts_req *);
void		 mtasts_result_free(struct mtasts_result *);

/*
 * mtasts_parse_txt - one "v=STSv1; id=..." record (3.1). Returns 0
 * with *id (caller frees), or -1 with err filled.
 */
int		 mtasts_parse_txt(const char *, char **id, char *err,
		    size_t errlen);
/*
 * mtasts_parse_policy - the policy text (3.2): version, mode, max_age,
 * mx lines, CRLF or LF. Returns 0, or -1 with err filled; clear p
 * with mtasts_policy_clear() either way.
 */
int		 mtasts_parse_policy(const char *, size_t,
		    struct mtasts_policy *, char *err, size_t errlen);
void		 mtasts_policy_clear(struct mtasts_policy *);

/* mtasts_mx_match - 1 if host matches pattern (4.1), any case */
int		 mtasts_mx_match(const char *pattern, const char *host);
/* mtasts_policy_match - the first pattern host matches, or NULL */
const char	*mtasts_policy_match(const struct mtasts_policy *,
		    const char *host);

const char	*mtasts_status_name(enum mtasts_status);
const char	*mtasts_mode_name(enum mtasts_mode);

#endif

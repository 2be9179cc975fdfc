/*
 * opt.c - the parser of the probe's and the shell's options (the table
 * and what is made from it are in opt_table.c).
 *
 * opt_next() has checked every argument by its type (text without
 * CR/LF/NUL, numbers and seconds in range, enum words); opt_apply()
 * stores the probe's and the shell's, with a few handlers for the rest
 * (stages, zones, addresses), and a switch's --no-NAME turns it off
 * again; batch.c stores its own. opt_finish() applies the rules between
 * options. main.c gets values it can use as they are.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "esmtp.h"
#include "idn.h"
#include "io.h"
#include "log.h"
#include "msg.h"
#include "opt.h"
#include "proxy.h"
#include "scn.h"
#include "smtp.h"
#include "tls.h"
#include "util.h"
#include "valid.h"

static int	opt_stage(const char *, const char *, int *);
static int	opt_server(struct opt_cli *);
static char	*opt_domain(const char *);
static int	 opt_asif(struct opt_cli *);
static int	opt_tls(const struct opt_cli *);

void
opt_usage(void)
{
	printf("usage: smtprobe --server HOST[:PORT] --from ADDR --to ADDR "
	    "[options]\n"
	    "       smtprobe [options] DOMAIN   (or --to ADDR without "
	    "--server: the MX)\n"
	    "       smtprobe --server HOST[:PORT] --scenario FILE... "
	    "[--var NAME=VALUE]\n"
	    "       smtprobe shell HOST[:PORT] [options]\n"
	    "       smtprobe batch [options] [FILE]\n"
	    "       smtprobe explain [options] [TEXT]\n\n"
	    "Open an SMTP session and record every step: by default the "
	    "envelope only\n(banner, EHLO, MAIL, RCPT, QUIT), never DATA "
	    "unless asked.\n\ncommands:\n");
	printf("  shell HOST[:PORT]   an interactive session, a scenario step "
	    "a line\n"
	    "  batch [FILE]        probe many targets at once, one JSON line "
	    "each\n"
	    "  explain [TEXT]      diagnose a reply or a bounce offline\n"
	    "(COMMAND --help for its options)\n\noptions:\n");
	opt_help(OC_PROBE);
	printf("\nexit status: 0 accepted, 1 permanent rejection, "
	    "2 temporary rejection,\n3 network/TLS/timeout/protocol failure, "
	    "64 usage error. See smtprobe(1).\n");
}

void
opt_explain_usage(void)
{
	printf("usage: smtprobe explain [--json] [--stage STAGE] "
	    "'550 5.7.1 reply text'\n"
	    "       smtprobe explain [--json] [--bounce] [--file FILE|-]\n\n"
	    "Diagnose a reply or a bounce message offline, with the same "
	    "rules as a live\nprobe. Without text or --file the input is "
	    "read from standard input.\n\noptions:\n");
	opt_help(OC_EXPLAIN);
}

int
opt_explain_parse(int argc, char **argv, struct opt_explain *e)
{
	const struct opt_def	*d;
	size_t			 i, len = 0;
	long			 n;
	int			 st, err;

	memset(e, 0, sizeof(*e));
	e->stage = -1;
	opterr = 0;
	optind = 1;
	while ((d = opt_next(OC_EXPLAIN, 0, argc, argv, &n, &err)) != NULL) {
		switch (d->id) {
		case E_STAGE:
			st = stage_lookup(optarg);
			if (st == STAGE_CONNECT)	/* the words users use */
				st = STAGE_BANNER;
			else if (st < 0 && strcasecmp(optarg, "helo") == 0)
				st = STAGE_EHLO;
			if (st < STAGE_BANNER || st > STAGE_EOD) {
				log_warnx("explain --stage: unknown stage "
				    "\"%s\"", optarg);
				return -1;
			}
			e->stage = st;
			break;
		case E_BOUNCE:
			e->bounce = 1;
			break;
		case E_FILE:
			e->file = optarg;
			break;
		case E_JSON:
			e->json = 1;
			break;
		case O_HELP:
			e->help = 1;
			return 0;
		case O_LIST_OPTIONS:
			e->list_options = 1;
			return 0;
		case O_DUMP_OPTIONS:
			e->dump_options = 1;
			return 0;
		}
	}
	if (err == 1)
		log_warnx("explain: unknown option or missing argument: %s",
		    argv[optind - 1]);
	if (err != 0)
		return -1;
	for (i = (size_t)optind; i < (size_t)argc; i++)
		len += strlen(argv[i]) + 1;
	if (len > 0) {
		if (e->file != NULL) {
			log_warnx("explain: give text or --file, not both");
			return -1;
		}
		e->text = xcalloc(1, len);
		for (i = (size_t)optind; i < (size_t)argc; i++) {
			if (i > (size_t)optind)
				strncat(e->text, " ", len - strlen(e->text) - 1);
			strncat(e->text, argv[i], len - strlen(e->text) - 1);
		}
	}
	return 0;
}

void
opt_explain_free(struct opt_explain *e)
{
	free(e->text);
}

/* opt_text - refuse CR, LF, NUL and controls in an option argument */
int
opt_text(const char *name, const char *v)
{
	const char	*why;

	if (util_check_text(v, 0, &why) == -1) {
		log_warnx("--%s: the value %s", name, why);
		return -1;
	}
	return 0;
}

static int
opt_stage(const char *name, const char *v, int *out)
{
	int	 st = stage_lookup(v);

	if (st < STAGE_CONNECT || st > STAGE_EOD) {
		log_warnx("--%s: unknown stage \"%s\" (one of connect banner "
		    "ehlo starttls auth mail rcpt data eod)", name, v);
		return -1;
	}
	*out = st;
	return 0;
}

int
opt_helo(const char *name, const char *v, int raw)
{
	char	 err[256];

	if (valid_helo(v, raw ? VALID_RAW : 0, err, sizeof(err)) == -1) {
		log_warnx("--%s: %s", name, err);
		return -1;
	}
	return 0;
}

int
opt_number(const char *name, const char *v, long lo, long hi, long *out)
{
	char	 err[160];

	if (valid_long(v, lo, hi, out, err, sizeof(err)) == -1) {
		log_warnx("--%s: %s", name, err);
		return -1;
	}
	return 0;
}

int
opt_timeout(const char *v, long *timeout_ms)
{
	const char	*eq = strchr(v, '='), *num = eq ? eq + 1 : v;
	char		 stage[32], err[160];
	double		 secs;
	int		 st = -1, i;

	if (eq != NULL) {
		if ((size_t)(eq - v) >= sizeof(stage)) {
			log_warnx("--timeout: unknown stage in \"%s\"", v);
			return -1;
		}
		memcpy(stage, v, (size_t)(eq - v));
		stage[eq - v] = '\0';
		st = stage_lookup(stage);
		if (st < 0 || st == STAGE_DONE || st == STAGE_SLEEP) {
			char	 names[256] = "";

			for (i = STAGE_RESOLVE; i < STAGE__COUNT; i++)
				if (i != STAGE_DONE && i != STAGE_SLEEP &&
				    stage_timeout(i) > 0)
					snprintf(names + strlen(names),
					    sizeof(names) - strlen(names),
					    "%s%s", names[0] != '\0' ? " " :
					    "", stage_name(i));
			log_warnx("--timeout: unknown stage \"%s\" (one of %s)",
			    stage, names);
			return -1;
		}
	}
	if (valid_seconds(num, 0.001, 86400, &secs, err, sizeof(err)) ==
	    -1) {
		log_warnx("--timeout: %s", err);
		return -1;
	}
	for (i = 0; i < STAGE__COUNT; i++)
		if (st == -1 || st == i)
			timeout_ms[i] = (long)(secs * 1000 + 0.5);
	return 0;
}

/*
 * opt_domain - a domain to look up (valid_domain), with a message, in
 * the form DNS takes: an internationalised name becomes A-labels
 * (IDNA2008). Returns it (caller frees), or NULL.
 */
static char *
opt_domain(const char *d)
{
	char		 err[256], *a;

	if (valid_domain(d, err, sizeof(err)) == -1 ||
	    (a = idn_to_ascii(d, err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		return NULL;
	}
	if (strcmp(a, d) != 0)
		log_debug("%s is %s in DNS (IDNA)", d, a);
	return a;
}

/*
 * opt_zones - "a.example,b.example" into a NULL-terminated list; "none"
 * is an empty list. Each zone must be a domain.
 */
int
opt_zones(const char *name, const char *v, char ***out)
{
	char	*copy = xstrdup(v), *tok, *save = NULL, *a;
	char	**list = xcalloc(1, sizeof(char *));
	size_t	 n = 0, i;

	if (*out != NULL) {
		for (i = 0; (*out)[i] != NULL; i++)
			free((*out)[i]);
		free(*out);
	}
	*out = list;
	if (strcmp(v, "none") == 0) {
		free(copy);
		return 0;
	}
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if ((a = opt_domain(tok)) == NULL) {
			log_warnx("--%s: \"%s\" is not a zone", name, tok);
			free(copy);
			return -1;
		}
		list = xreallocarray(list, n + 2, sizeof(char *));
		list[n++] = a;
		list[n] = NULL;
		*out = list;
	}
	free(copy);
	return 0;
}

/* opt_server - split "host", "host:port", "[v6]:port" or a bare v6 */
static int
opt_server(struct opt_cli *c)
{
	const char	*s = c->server, *colon, *close;

	if (strncmp(s, "unix:", 5) == 0 || s[0] == '/') {
		/* a unix socket: the path as it is, no port */
		c->unix_path = xstrdup(s[0] == '/' ? s : s + 5);
		if (c->unix_path[0] != '/') {
			log_warnx("--server: \"%s\": a unix socket is "
			    "unix:/PATH with an absolute path", s);
			return -1;
		}
		if (strlen(c->unix_path) >= sizeof(((struct sockaddr_un *)
		    NULL)->sun_path)) {
			log_warnx("--server: the socket path \"%s\" is longer "
			    "than a unix socket address takes (%zu bytes)",
			    c->unix_path, sizeof(((struct sockaddr_un *)
			    NULL)->sun_path) - 1);
			return -1;
		}
		c->host = xstrdup(c->unix_path);
		return 0;
	}
	if (s[0] == '[') {
		if ((close = strchr(s, ']')) == NULL || close == s + 1) {
			log_warnx("--server: unterminated \"[\" in \"%s\"", s);
			return -1;
		}
		c->host = xstrndup(s + 1, (size_t)(close - s - 1));
		if (close[1] == ':' && c->port == NULL)
			c->port = xstrdup(close + 2);
		else if (close[1] != '\0' && close[1] != ':') {
			log_warnx("--server: junk after \"]\" in \"%s\"", s);
			return -1;
		}
	} else if ((colon = strchr(s, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		c->host = xstrndup(s, (size_t)(colon - s));
		if (c->port == NULL)
			c->port = xstrdup(colon + 1);
	} else
		c->host = xstrdup(s);
	if (c->host[0] == '\0') {
		log_warnx("--server: empty host name");
		return -1;
	}
	if (!idn_ascii(c->host)) {
		/* a host name in Unicode: DNS and the SNI take A-labels */
		char	*a;

		if ((a = opt_domain(c->host)) == NULL)
			return -1;
		free(c->host);
		c->host = a;
	}
	return 0;
}

/* opt_list_add - append v to a growing array of strings */
static void
opt_list_add(const char ***list, size_t *n, const char *v)
{
	*list = xreallocarray(*list, *n + 1, sizeof(char *));
	(*list)[(*n)++] = v;
}

/* opt_var - NAME=VALUE with a name of letters, digits, _ and - */
static int
opt_var(const char *v)
{
	const char	*eq = strchr(v, '=');
	size_t		 k;

	for (k = 0; eq != NULL && v + k < eq; k++)
		if (!isalnum((unsigned char)v[k]) && v[k] != '_' &&
		    v[k] != '-')
			break;
	if (eq == NULL || eq == v || v + k != eq || k >= 64) {
		log_warnx("--var: expected NAME=VALUE with a name of letters, "
		    "digits, _ and -, not \"%s\"", v);
		return -1;
	}
	return 0;
}

/* opt_envelope - --from starts a transaction, --to joins the last */
static void
opt_envelope(struct opt_cli *c, int from, const char *v)
{
	struct opt_txn	*t;

	/* --to given before the first --from joins it */
	if (from && c->ntxn == 1 && c->txn[0].from == NULL) {
		c->txn[0].from = xstrdup(v);
		return;
	}
	if (from || c->ntxn == 0) {
		c->txn = xreallocarray(c->txn, c->ntxn + 1, sizeof(*c->txn));
		memset(&c->txn[c->ntxn++], 0, sizeof(*c->txn));
	}
	t = &c->txn[c->ntxn - 1];
	if (from)
		t->from = xstrdup(v);
	else {
		t->to = xreallocarray(t->to, t->nto + 1, sizeof(char *));
		t->to[t->nto++] = v;
	}
}

/*
 * opt_special - the options of the probe and the shell whose argument
 * needs more than its type's check
 */
static int
opt_special(const struct opt_def *d, const char *v, struct opt_cli *c)
{
	unsigned char	 b[16];
	char		 err[256];
	long		 n;

	switch (d->id) {
	case O_DSN_NOTIFY:
		if ((c->esmtp.notify = esmtp_notify_parse(v, err,
		    sizeof(err))) == 0) {
			log_warnx("--dsn-notify: %s", err);
			return -1;
		}
		return 0;
	case O_SIZE:
		if (strcmp(v, "auto") == 0) {
			c->esmtp.size = ESMTP_SIZE_AUTO;
			return 0;
		}
		if (valid_long(v, 1, 1000000000000L, &n, err, sizeof(err)) ==
		    -1) {
			log_warnx("--size: %s, or auto", err);
			return -1;
		}
		c->esmtp.size = n;
		return 0;
	case O_DSN_RET:		/* RFC 3461 keywords: any case */
		if (strcasecmp(v, "FULL") != 0 && strcasecmp(v, "HDRS") != 0) {
			log_warnx("--dsn-ret: \"%s\" is not FULL or HDRS", v);
			return -1;
		}
		c->esmtp.ret = strcasecmp(v, "FULL") == 0 ? 1 : 2;
		return 0;
	case O_DSN_ENVID:
		if (esmtp_envid_check(v, err, sizeof(err)) == -1) {
			log_warnx("--dsn-envid: %s", err);
			return -1;
		}
		c->esmtp.envid = v;
		return 0;
	case O_PUBLIC_IP:
		if (inet_pton(AF_INET, v, b) != 1 &&
		    inet_pton(AF_INET6, v, b) != 1) {
			log_warnx("--public-ip: \"%s\" is not an IPv4 or IPv6 "
			    "address", v);
			return -1;
		}
		c->public_ip = v;
		c->check = 1;
		return 0;
	case O_DNSBL:
	case O_DBL:
		c->check = 1;
		return opt_zones(d->name, v, d->id == O_DNSBL ? &c->dnsbl :
		    &c->dbl);
	case O_SERVER_PUBLIC_IP:
		if (inet_pton(AF_INET, v, b) != 1 &&
		    inet_pton(AF_INET6, v, b) != 1) {
			log_warnx("--server-public-ip: \"%s\" is not an IPv4 "
			    "or IPv6 address", v);
			return -1;
		}
		c->srv_ip = v;
		c->server_check = 1;
		return 0;
	case O_SERVER_DNSBL:
		c->server_check = 1;
		return opt_zones(d->name, v, &c->srv_dnsbl);
	case O_TLS_MIN:
		if (tls_version_ok(v) == -1) {
			log_warnx("--tls-min-version: \"%s\" is not one of 1.0 "
			    "1.1 1.2 1.3", v);
			return -1;
		}
		c->tls_min = v;
		return 0;
	case O_TLS_MAX:
		if (tls_version_ok(v) == -1) {
			log_warnx("--tls-max-version: \"%s\" is not one of 1.0 "
			    "1.1 1.2 1.3", v);
			return -1;
		}
		c->tls_max = v;
		return 0;
	case O_TLS_SHOW_CHAIN:
		if (strcmp(v, "pem") != 0) {
			log_warnx("--tls-show-chain: \"%s\" is not pem, the "
			    "one form there is", v);
			return -1;
		}
		c->show_chain = 1;
		return 0;
	case O_AUTH:
		if ((c->auth_mech = smtp_auth_mech_lookup(v)) == -1) {
			log_warnx("--auth: \"%s\" is not one of plain login "
			    "cram-md5 xoauth2 oauthbearer", v);
			return -1;
		}
		return 0;
	case O_STOP_BEFORE:
		return opt_stage(d->name, v, &c->stop_before);
	case O_QUIT_AFTER:
		return opt_stage(d->name, v, &c->quit_after);
	case O_TIMEOUT:
		return opt_timeout(v, c->timeout_ms);
	case O_VAR:
	case S_VAR:
		if (opt_var(v) == -1)
			return -1;
		opt_list_add(&c->vars, &c->nvars, v);
		return 0;
	}
	return 0;
}

/*
 * opt_tls_mode - --starttls, --starttls-optional or --tls-on-connect
 * (n 1) sets its mode; two different ones exclude each other (a usage
 * error, not "the last wins"); --no-NAME (n 0) takes back only the mode
 * NAME set. Returns 0, or -1 after a message.
 */
static int
opt_tls_mode(struct opt_cli *c, const struct opt_def *d, int mode, long n)
{
	if (!n) {
		if (c->tls_mode_by != NULL && strcmp(c->tls_mode_by,
		    d->name) == 0) {
			c->tls_mode = SMTP_TLS_NONE;
			c->tls_mode_by = NULL;
		}
		return 0;
	}
	if (c->tls_mode_by != NULL && strcmp(c->tls_mode_by, d->name) != 0) {
		log_warnx("--%s and --%s exclude each other: give one "
		    "(--starttls, --starttls-optional or --tls-on-connect)",
		    c->tls_mode_by, d->name);
		return -1;
	}
	c->tls_mode_by = d->name;
	c->tls_mode = mode;
	return 0;
}

/*
 * opt_tls - the client certificate and key, the version range and the
 * TLS 1.3 suites: checked here, so that a file that cannot be read, a
 * key that is not the certificate's, a maximum below the minimum or an
 * unknown suite is a usage error before anything is sent
 */
static int
opt_tls(const struct opt_cli *c)
{
	struct tls_params	 tp;
	char			 err[512];

	if (c->tls_cert == NULL && c->tls_key == NULL && c->tls_max == NULL &&
	    c->suites == NULL)
		return 0;
	memset(&tp, 0, sizeof(tp));
	tp.min_version = c->tls_min;
	tp.max_version = c->tls_max;
	tp.ciphersuites = c->suites;
	tp.cert = c->tls_cert;
	tp.key = c->tls_key;
	if (tls_params_check(&tp, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	return 0;
}

/*
 * opt_apply - one option of the probe or the shell (d, its argument v,
 * v as a number n for OT_NUM and OT_ENUM; for a flag 1, or 0 for the
 * --no-NAME of a switch) into c. Returns 0, or -1 after a message.
 */
int
opt_apply(const struct opt_def *d, const char *v, long n,
    struct opt_cli *c)
{
	switch (d->id) {
	case O_SERVER:		c->server = v; break;
	case O_PORT:		free(c->port);
	free(c->unix_path); c->port = xstrdup(v); break;
	case O_FROM:		opt_envelope(c, 1, v); break;
	case O_TO:		opt_envelope(c, 0, v); break;
	case O_IPV4:		c->family = AF_INET; break;
	case O_IPV6:		c->family = AF_INET6; break;
	case O_LOCAL:		c->local = v; break;
	case O_INTERFACE:	c->interface = v; break;
	case O_PIPE:		c->pipe = v; break;
	case O_PROXY:		c->proxy = (int)n + 1; break;
	case O_PROXY_SOURCE:	c->proxy_src = v; break;
	case O_PROXY_DEST:	c->proxy_dst = v; break;
	case O_XCLIENT:		c->xclient = v; break;
	case O_XFORWARD:	c->xforward = v; break;
	case O_HELO:
	case S_HELO:		c->helo = v; break;	/* checked at the end */
	case O_RAW_HELO:	c->raw_helo = (int)n; break;
	case S_RAW_HELO:	c->raw_helo = 1; break;
	case O_RAW_ADDRESS:	c->raw_address = (int)n; break;
	case O_STARTTLS:
	case S_STARTTLS:
	case O_STARTTLS_OPT:
	case S_STARTTLS_OPT:
	case O_TLS_CONNECT:
		return opt_tls_mode(c, d, d->id == O_TLS_CONNECT ?
		    SMTP_TLS_IMPLICIT : d->id == O_STARTTLS ||
		    d->id == S_STARTTLS ? SMTP_TLS_REQUIRE : SMTP_TLS_OPTIONAL,
		    n);
	case O_TLS_VERIFY:	c->tls_verify = 1; break;
	case O_TLS_SNI:		c->sni = v; break;
	case O_NO_TLS_SNI:	c->no_sni = 1; break;
	case O_TLS_CAFILE:	c->cafile = v; break;
	case O_TLS_CAPATH:	c->capath = v; break;
	case O_TLS_CIPHERS:	c->ciphers = v; break;
	case O_TLS_SUITES:	c->suites = v; break;
	case O_TLS_CERT:	c->tls_cert = v; break;
	case O_TLS_KEY:		c->tls_key = v; break;
	case O_TLS_EXPIRY:	c->expiry_warn = (int)n; break;
	case O_DANE:		c->dane = (int)n; break;
	case O_TLS_CHECK:	c->tls_check = c->dane = 1; break;
	case O_DATA:		c->data = 1; break;
	case O_NO_PIPELINING:	c->no_pipelining = 1; break;
	case O_BDAT:		c->bdat = 1; c->data = 1; break;
	case O_BDAT_CHUNK:
		c->bdat_chunk = (size_t)n;
		c->bdat = 1;
		c->data = 1;
		break;
	case O_LMTP:		c->lmtp = 1; break;
	case O_BODY:		c->body = v; c->data = 1; break;
	case O_MESSAGE:		c->message = v; c->data = 1; break;
	case O_HEADER:
		opt_list_add(&c->headers, &c->nheaders, v);
		c->data = 1;
		break;
	case O_BODY_HTML:	c->body_html = v; c->data = 1; break;
	case O_ATTACH:
		opt_list_add(&c->attach, &c->nattach, v);
		c->data = 1;
		break;
	case O_ATTACH_EICAR:	c->eicar = c->data = 1; break;
	case O_ATTACH_GTUBE:	c->gtube = c->data = 1; break;
	case O_RAW_MESSAGE:	c->esmtp.raw_message = (int)n; break;
	case O_8BITMIME:	c->esmtp.eightbit = (int)n; break;
	case O_DSN_ORCPT:	c->esmtp.orcpt = (int)n; break;
	case O_REQUIRETLS:	c->esmtp.requiretls = (int)n; break;
	case O_MAX_LINE:	c->max_line = (size_t)n; break;
	case O_SHOW_BODY:	c->show_body = (size_t)n; break;
	case O_SUPPRESS_DATA:	c->suppress_data = (int)n; break;
	case O_JSON:		c->json = (int)n; break;
	case O_FORMAT:		/* text|json|ticket */
		if (n == 1)
			c->json = 1;
		else if (n == 2)
			c->ticket = 1;
		break;
	case O_DIAGNOSE:	/* --no-diagnose: none, content neither */
		c->diagnose = (int)n;
		c->diagnose_content = n ? c->diagnose_content : 0;
		break;
	case O_DIAGNOSE_CONTENT: c->diagnose = c->diagnose_content = 1; break;
	case O_SCENARIO:
		opt_list_add(&c->scenarios, &c->nscenarios, v);
		break;
	case O_JUNIT:		c->junit = v; break;
	case O_BASELINE:	c->baseline = v; break;
	case O_BASELINE_SAVE:	c->baseline_save = v; break;
	case O_METRICS:		c->metrics = v; break;
	case O_TAP:		c->tap = (int)n; break;
	case O_AUTH_USER:
	case S_AUTH_USER:	c->auth_user = v; break;
	case O_AUTH_SECRET_ENV:
	case S_AUTH_SECRET_ENV:	c->auth_secret_env = v; break;
	case O_AUTH_SECRET_FILE:
	case S_AUTH_SECRET_FILE: c->auth_secret_file = v; break;
	case O_AUTH_INSECURE:	c->auth_insecure = (int)n; break;
	case O_RESOLVER:
	case S_RESOLVER:	c->resolver = v; break;
	case O_ALL_MX:		c->all_mx = (int)n; break;
	case O_CHECK:		c->check = 1; break;
	case O_NO_CHECK:	c->no_check = 1; break;
	case O_SERVER_CHECK:	c->server_check = 1; break;
	case O_SLOW_BANNER:	c->slow_banner_ms = n; break;
	case O_PREGREET:	c->pregreet = 1; break;
	case O_BOTH_FAMILIES:	c->both_families = 1; break;
	case O_RETRY_AFTER:	c->retry_ms = n; break;
	case O_REPORT:		c->report = v; break;
	case O_MASK_LOCAL:	c->mask_local = (int)n; break;
	case O_TIMESTAMPS:
	case S_TIMESTAMPS:	c->timestamps = (int)n; break;
	case O_QUIET:		c->quiet = (int)n; break;
	case O_VERBOSE:		c->verbose++; break;
	case O_HELP:		c->help = 1; break;
	case O_VERSION:		c->version = 1; break;
	case O_LIST_OPTIONS:	c->list_options = 1; break;
	case O_DUMP_OPTIONS:	c->dump_options = 1; break;
	default:
		return opt_special(d, v, c);
	}
	return 0;
}

/* opt_cli_init - the defaults of the probe's and the shell's options */
void
opt_cli_init(struct opt_cli *c)
{
	memset(c, 0, sizeof(*c));
	c->stop_before = c->quit_after = -1;
	c->show_body = OPT_SHOW_BODY;
	c->auth_mech = -1;
	c->expiry_warn = OPT_EXPIRY_WARN;
	c->slow_banner_ms = OPT_SLOW_BANNER_MS;
}

int
opt_parse(int argc, char **argv, struct opt_cli *c)
{
	const struct opt_def	*d;
	long			 n = 0;
	int			 err;

	opt_cli_init(c);
	opterr = 0;
	optind = 1;
	while ((d = opt_next(OC_PROBE, 1, argc, argv, &n, &err)) != NULL) {
		if (opt_apply(d, optarg, n, c) == -1)
			return -1;
		if (d->id == O_BDAT && optarg != NULL) {
			/* --bdat=SIZE */
			if (opt_number("bdat", optarg, 1, 67108864, &n) == -1)
				return -1;
			c->bdat_chunk = (size_t)n;
		} else if (d->id == O_BDAT && optind < argc &&
		    argv[optind][0] >= '0' && argv[optind][0] <= '9') {
			/* --bdat SIZE: the chunk size (a DOMAIN never is a
			   number) */
			if (opt_number("bdat", argv[optind], 1, 67108864,
			    &n) == -1)
				return -1;
			c->bdat_chunk = (size_t)n;
			optind++;
		}
		if (c->help || c->version || c->list_options ||
		    c->dump_options)
			return 0;
	}
	if (err == 3)
		log_warnx("option %s needs an argument", argv[optind - 1]);
	else if (err == 4)
		log_warnx("option %.*s takes no value", (int)strcspn(
		    argv[optind - 1], "="), argv[optind - 1]);
	else if (err == 1 && optopt != 0 && optopt < 256)
		log_warnx("unknown option -%c", optopt);
	else if (err == 1)
		log_warnx("unknown option %s", argv[optind - 1]);
	if (err != 0)
		return -1;
	if (opt_finish(c, argc - optind, argv + optind) == -1)
		return -1;
	/* the shell keeps them for its auth command; a probe would not */
	if (c->auth_mech < 0 && c->nscenarios == 0 && (c->auth_user != NULL ||
	    c->auth_secret_env != NULL || c->auth_secret_file != NULL)) {
		log_warnx("--auth-user and --auth-secret-* authenticate "
		    "nothing without --auth MECH (one of plain login cram-md5 "
		    "xoauth2 oauthbearer), or a scenario's auth step");
		return -1;
	}
	return 0;
}

/*
 * opt_asif - --xclient, --xforward, --proxy* (their syntax: proxy.h),
 * --interface and --pipe, and the options they exclude
 */
static int
opt_asif(struct opt_cli *c)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	char			 err[512], *line;
	size_t			 i;
	const char *const	 notpipe[] = { c->server, c->domain, c->port,
	    c->local, c->interface, c->proxy ? "" : NULL, c->proxy_src,
	    c->proxy_dst, c->all_mx ? "" : NULL, c->family ? "" : NULL,
	    c->tls_check ? "" : NULL, c->diagnose ? "" : NULL };
	const char *const	 notpipe_name[] = { "--server", "a DOMAIN",
	    "--port", "--local-address", "--interface", "--proxy",
	    "--proxy-source", "--proxy-dest", "--all-mx", "-4/-6",
	    "--tls-check", "--diagnose" };

	if (c->xclient != NULL) {
		if ((line = proxy_attrs(PROXY_XCLIENT, c->xclient, NULL, err,
		    sizeof(err))) == NULL) {
			log_warnx("--xclient: %s", err);
			return -1;
		}
		free(line);
	}
	if (c->xforward != NULL) {
		if ((line = proxy_attrs(PROXY_XFORWARD, c->xforward, NULL,
		    err, sizeof(err))) == NULL) {
			log_warnx("--xforward: %s", err);
			return -1;
		}
		free(line);
	}
	if ((c->proxy_src != NULL || c->proxy_dst != NULL) && !c->proxy) {
		log_warnx("--%s needs --proxy v1 or v2", c->proxy_src !=
		    NULL ? "proxy-source" : "proxy-dest");
		return -1;
	}
	if (c->proxy_src != NULL && proxy_source(c->proxy_src, &ss, &sl,
	    err, sizeof(err)) == -1) {
		log_warnx("--proxy-source: %s", err);
		return -1;
	}
	if (c->proxy_dst != NULL && proxy_source(c->proxy_dst, &ss, &sl,
	    err, sizeof(err)) == -1) {
		log_warnx("--proxy-dest: %s", err);
		return -1;
	}
	if (c->interface != NULL && (c->interface[0] == '\0' ||
	    strlen(c->interface) >= 16 || strpbrk(c->interface, "/ \t:")
	    != NULL)) {
		log_warnx("--interface: \"%s\" is not a network interface "
		    "name (1 to 15 characters, no \"/\", \":\" or space; see "
		    "ip link)", c->interface);
		return -1;
	}
	if (c->pipe == NULL)
		return 0;
	if (c->pipe[strspn(c->pipe, " \t")] == '\0') {
		log_warnx("--pipe: no command given");
		return -1;
	}
	for (i = 0; i < nitems(notpipe); i++)
		if (notpipe[i] != NULL) {
			log_warnx("--pipe talks to a local command, not over "
			    "the network: it excludes %s", notpipe_name[i]);
			return -1;
		}
	return 0;
}

/*
 * opt_finish - the operands (one DOMAIN) and the rules between options,
 * once every option of the probe or the shell is in c
 */
int
opt_finish(struct opt_cli *c, int nargs, char **args)
{
	long	 n;

	if (nargs > 0) {
		if (nargs > 1 || c->server != NULL) {
			log_warnx("unexpected argument \"%s\" (one DOMAIN, or "
			    "--server)", args[c->server != NULL ? 0 : 1]);
			return -1;
		}
		if (opt_text("DOMAIN", args[0]) == -1 ||
		    (c->domain = opt_domain(args[0])) == NULL)
			return -1;
	}
	if (c->helo != NULL && opt_helo("helo", c->helo, c->raw_helo) == -1)
		return -1;
	/* no envelope: greeting, EHLO, STARTTLS, AUTH, then QUIT */
	if (c->ntxn == 0 && c->stop_before < 0 && c->quit_after < 0 &&
	    c->nscenarios == 0)
		c->stop_before = STAGE_MAIL;
	if (opt_asif(c) == -1)
		return -1;
	if (c->pipe != NULL && c->host == NULL)
		c->host = xstrdup("localhost");	/* no server: a name */
	if (c->server == NULL && c->domain == NULL && c->pipe == NULL) {
		const char *at = c->ntxn > 0 && c->txn[0].nto > 0 ?
		    strrchr(c->txn[0].to[0], '@') : NULL;
		char	   *dom;
		size_t	    dl;

		if (at == NULL) {
			log_warnx("give a DOMAIN, --server, or a --to address "
			    "whose domain's MX to probe (see --help)");
			return -1;
		}
		dom = xstrdup(at + 1);
		dl = strlen(dom);
		if (dl > 0 && dom[dl - 1] == '>')
			dom[dl - 1] = '\0';
		c->domain = opt_domain(dom);
		free(dom);
		if (c->domain == NULL)
			return -1;
	}
	if (c->server != NULL && opt_server(c) == -1)
		return -1;
	if (c->all_mx && c->domain == NULL) {
		log_warnx("--all-mx needs a DOMAIN (or --to) instead of "
		    "--server");
		return -1;
	}
	if (c->unix_path != NULL && c->port != NULL) {
		log_warnx("--port %s and the unix socket %s exclude each "
		    "other", c->port, c->unix_path);
		return -1;
	}
	if (c->unix_path != NULL)
		c->port = xstrdup("");
	else if (c->port == NULL)
		c->port = xstrdup(c->tls_mode == SMTP_TLS_IMPLICIT ? "465" :
		    c->lmtp ? "24" : "25");
	else if (opt_number("port", c->port, 1, 65535, &n) == -1)
		return -1;
	if (c->body != NULL && c->message != NULL) {
		log_warnx("--body and --message exclude each other");
		return -1;
	}
	if (c->message != NULL && (c->body_html != NULL || c->nattach > 0 ||
	    c->eicar || c->gtube)) {
		log_warnx("--message is sent as it is; --body-html, --attach, "
		    "--attach-eicar and --attach-gtube build a message, so "
		    "they exclude it");
		return -1;
	}
	if (c->suppress_data)
		c->show_body = 0;
	if (c->diagnose && c->ticket) {
		log_warnx("--diagnose prints its own report; use --report "
		    "FILE for a ticket");
		return -1;
	}
	if (c->diagnose && c->metrics != NULL) {
		log_warnx("--metrics does not go with --diagnose (its variants "
		    "are experiments, not sessions to monitor)");
		return -1;
	}
	if (c->sni != NULL && c->no_sni) {
		log_warnx("--tls-sni and --no-tls-sni exclude each other");
		return -1;
	}
	if (c->check && c->no_check) {
		log_warnx("--no-check excludes --check, --public-ip, --dnsbl "
		    "and --dbl");
		return -1;
	}
	if (c->auth_mech >= 0 && c->auth_user == NULL) {
		log_warnx("--auth needs --auth-user");
		return -1;
	}
	if (c->auth_secret_env != NULL && c->auth_secret_file != NULL) {
		log_warnx("--auth-secret-env and --auth-secret-file exclude "
		    "each other");
		return -1;
	}
	if (c->nscenarios > 0 && c->bdat) {
		log_warnx("--bdat applies to the command line's own probe; a "
		    "--scenario says it per step (data bdat)");
		return -1;
	}
	if (c->nscenarios > 0 && c->diagnose) {
		log_warnx("--diagnose runs its own probes; it does not take "
		    "--scenario");
		return -1;
	}
	if ((c->baseline != NULL || c->baseline_save != NULL) &&
	    (c->nscenarios > 0 || c->diagnose)) {
		log_warnx("--baseline and --baseline-save take the default "
		    "probe (with or without --all-mx), not --scenario or "
		    "--diagnose");
		return -1;
	}
	if (c->server_check && (c->nscenarios > 0 || c->diagnose)) {
		log_warnx("--server-check runs its own probe; it does not take "
		    "--scenario or --diagnose");
		return -1;
	}
	if (c->retry_ms > 0 && (c->nscenarios > 0 || c->diagnose)) {
		log_warnx("--retry-after repeats the default probe; it does "
		    "not take --scenario or --diagnose");
		return -1;
	}
	if (c->both_families && c->family != 0) {
		log_warnx("--both-families excludes --ipv4 and --ipv6");
		return -1;
	}
	if (c->pregreet && c->tls_mode == SMTP_TLS_IMPLICIT) {
		log_warnx("--pregreet needs a plaintext greeting; not with "
		    "--tls-on-connect");
		return -1;
	}
	if (c->tls_check && (c->nscenarios > 0 || c->diagnose)) {
		log_warnx("--tls-check runs its own probe; it does not take "
		    "--scenario or --diagnose");
		return -1;
	}
	if (opt_tls(c) == -1)
		return -1;
	/* DANE needs TLS: STARTTLS when offered, unless asked otherwise */
	if (c->dane && c->tls_mode == SMTP_TLS_NONE)
		c->tls_mode = SMTP_TLS_OPTIONAL;
	if (c->tap && (c->json || c->ticket)) {
		log_warnx("--tap, --json and --format ticket exclude each "
		    "other");
		return -1;
	}
	return 0;
}

void
opt_cli_free(struct opt_cli *c)
{
	size_t	 i;

	for (i = 0; i < c->ntxn; i++) {
		free(c->txn[i].from);
		free(c->txn[i].to);
	}
	free(c->txn);
	free(c->headers);
	free(c->attach);
	free(c->scenarios);
	free(c->vars);
	free(c->host);
	free(c->port);
	free(c->unix_path);
	free(c->domain);
	for (i = 0; c->dnsbl != NULL && c->dnsbl[i] != NULL; i++)
		free(c->dnsbl[i]);
	free(c->dnsbl);
	for (i = 0; c->srv_dnsbl != NULL && c->srv_dnsbl[i] != NULL; i++)
		free(c->srv_dnsbl[i]);
	free(c->srv_dnsbl);
	for (i = 0; c->dbl != NULL && c->dbl[i] != NULL; i++)
		free(c->dbl[i]);
	free(c->dbl);
}

char *
opt_default_helo(void)
{
	char	 name[256];

	if (gethostname(name, sizeof(name)) == -1)
		return NULL;
	name[sizeof(name) - 1] = '\0';
	return valid_fqdn(name) ? xstrdup(name) : NULL;
}

char *
opt_secret(const struct opt_cli *cli, int prompt)
{
	struct termios	 t, old;
	char		 buf[4096], err[256], *file, *nl;
	size_t		 len;
	const char	*v;
	int		 echo_off = 0;

	if (cli->auth_secret_env != NULL) {
		if ((v = getenv(cli->auth_secret_env)) == NULL) {
			log_warnx("--auth-secret-env: %s is not set",
			    cli->auth_secret_env);
			return NULL;
		}
		if (valid_secret(v, strlen(v), err, sizeof(err)) == -1) {
			log_warnx("--auth-secret-env: %s", err);
			return NULL;
		}
		return xstrdup(v);
	}
	if (cli->auth_secret_file != NULL) {
		if (msg_read(cli->auth_secret_file, &file, &len, err,
		    sizeof(err)) == -1) {
			log_warnx("--auth-secret-file: %s", err);
			return NULL;
		}
		if (valid_secret(file, len, err, sizeof(err)) == -1) {
			explicit_bzero(file, len);
			free(file);
			log_warnx("--auth-secret-file: %s", err);
			return NULL;
		}
		if ((nl = strpbrk(file, "\r\n")) != NULL)
			/* the first line is the secret; wipe the rest */
			explicit_bzero(nl, len - (size_t)(nl - file));
		return file;
	}
	if (!prompt)
		return NULL;
	if (!isatty(STDIN_FILENO)) {
		log_warnx("--auth: no secret (use --auth-secret-env VAR or "
		    "--auth-secret-file FILE; a prompt needs a terminal)");
		return NULL;
	}
	fprintf(stderr, "Password for %s: ", cli->auth_user);
	fflush(stderr);
	if (tcgetattr(STDIN_FILENO, &old) == 0) {
		t = old;
		t.c_lflag &= ~(tcflag_t)ECHO;
		echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0;
	}
	v = fgets(buf, sizeof(buf), stdin);
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	if (v == NULL)
		return NULL;
	buf[strcspn(buf, "\r\n")] = '\0';
	file = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return file;
}

void
opt_vars(const struct opt_cli *cli, const char *helo, const char *from,
    const char *to, struct scn_vars *vars)
{
	size_t	 i;

	if (cli->helo != NULL || helo != NULL)
		scn_vars_set(vars, "helo", cli->helo != NULL ? cli->helo :
		    helo);
	if (from != NULL)
		scn_vars_set(vars, "from", from);
	if (to != NULL)
		scn_vars_set(vars, "to", to);
	if (cli->host != NULL || cli->domain != NULL)
		scn_vars_set(vars, "server", cli->host != NULL ? cli->host :
		    cli->domain);
	if (cli->auth_user != NULL)
		scn_vars_set(vars, "user", cli->auth_user);
	for (i = 0; i < cli->nvars; i++) {
		const char *eq = strchr(cli->vars[i], '=');
		char	*name = xstrndup(cli->vars[i],
		    (size_t)(eq - cli->vars[i]));

		scn_vars_set(vars, name, eq + 1);
		free(name);
	}
}

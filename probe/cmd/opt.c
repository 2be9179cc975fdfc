/*
 * opt.c - the option table and its parser.
 *
 * opt_table[] is include/opt.def, every option of every command
 * (probe, shell, batch, explain) declared once. From it come each
 * command's getopt_long table (opt_next), its --help (opt_help), the
 * lists tests compare (opt_list_cmd) and the .It lines of the man page
 * (opt_dump, for scripts/man-options.sh). opt_next() checks every
 * argument by its type (text without CR/LF/NUL, numbers and seconds in
 * range, enum words); opt_apply() stores the probe's and the shell's,
 * with a few handlers for the rest (stages, zones, addresses); batch.c
 * stores its own. main.c gets values it can use as they are.
 */
#include "config.h"

#include <sys/socket.h>
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

#include "io.h"
#include "log.h"
#include "msg.h"
#include "opt.h"
#include "scn.h"
#include "smtp.h"
#include "tls.h"
#include "util.h"
#include "valid.h"

/* the table: every option of every command (include/opt.def) */
static const struct opt_def opt_table[] = {
#define OPT(id, name, letter, cmds, arg, mdoc, type, lo, hi, help) \
	{ id, name, letter, cmds, arg, mdoc, type, lo, hi, help },
#include "opt.def"
#undef OPT
};

#define NTABLE	(sizeof(opt_table) / sizeof(opt_table[0]))

/* the stages whose default timeout --help and the man page show */
static const int opt_timeout_stages[] = {
	STAGE_CONNECT, STAGE_BANNER, STAGE_EHLO, STAGE_STARTTLS, STAGE_AUTH,
	STAGE_MAIL, STAGE_RCPT, STAGE_DATA, STAGE_EOD, STAGE_RSET, STAGE_QUIT
};

static int	opt_stage(const char *, const char *, int *);
static int	opt_server(struct opt_cli *);
static int	opt_domain(const char *);
static int	opt_zones(const char *, const char *, char ***);
static void	opt_timeouts(int, char *, size_t);
static int	opt_typed(const struct opt_def *, const char *, long *);

void
opt_wrap(const char *text, int indent, int width)
{
	const char	*p = text;
	int		 col = indent;
	size_t		 w;

	while (*p != '\0') {
		w = strcspn(p, " ");
		if (col > indent && col + 1 + (int)w > width) {
			printf("\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			putchar(' ');
			col++;
		}
		printf("%.*s", (int)w, p);
		col += (int)w;
		p += w;
		while (*p == ' ')
			p++;
	}
	putchar('\n');
}

void
opt_help_line(int letter, const char *name, const char *arg,
    const char *help)
{
	char	 lhs[64];

	if (letter > 0 && letter < 256)
		snprintf(lhs, sizeof(lhs), "-%c, --%s%s%s", letter, name,
		    arg != NULL ? " " : "", arg != NULL ? arg : "");
	else
		snprintf(lhs, sizeof(lhs), "    --%s%s%s", name,
		    arg != NULL ? " " : "", arg != NULL ? arg : "");
	if (strlen(lhs) > 28)
		printf("  %s\n  %-28s ", lhs, "");
	else
		printf("  %-28s ", lhs);
	opt_wrap(help, 31, 79);
}

/* opt_def - the definition of option id, or NULL */
const struct opt_def *
opt_def(int id)
{
	size_t	 i;

	for (i = 0; i < NTABLE; i++)
		if (opt_table[i].id == id)
			return &opt_table[i];
	return NULL;
}

/*
 * opt_next - the next option of cmd: getopt_long over the rows of the
 * table cmd takes, built on the first call for each command
 */
const struct opt_def *
opt_next(int cmd, int permute, int argc, char **argv, long *num, int *err)
{
	static struct option	 lo[4][NTABLE + 1];
	static char		 so[4][3 * NTABLE + 3];
	static int		 built[4];
	const struct opt_def	*d = NULL;
	size_t			 i, n = 0, k;
	char			*sp;
	int			 ch, slot;

	slot = cmd == OC_PROBE ? 0 : cmd == OC_SHELL ? 1 : cmd == OC_BATCH ?
	    2 : 3;
	if (!built[slot]) {
		sp = so[slot];
		/* '+': stop at the first operand; ':': report a missing
		   argument as ':' */
		if (!permute)
			*sp++ = '+';
		*sp++ = ':';
		for (i = 0; i < NTABLE; i++) {
			if ((opt_table[i].cmds & cmd) == 0)
				continue;
			lo[slot][n].name = opt_table[i].name;
			lo[slot][n].has_arg = opt_table[i].arg != NULL ?
			    required_argument : no_argument;
			lo[slot][n].flag = NULL;
			lo[slot][n++].val = opt_table[i].id;
			if (opt_table[i].letter != 0) {
				*sp++ = (char)opt_table[i].letter;
				if (opt_table[i].arg != NULL)
					*sp++ = ':';
			}
		}
		memset(&lo[slot][n], 0, sizeof(lo[slot][n]));
		*sp = '\0';
		built[slot] = 1;
	}
	*err = 0;
	if ((ch = getopt_long(argc, argv, so[slot], lo[slot], NULL)) == -1)
		return NULL;
	for (k = 0; k < NTABLE && d == NULL; k++)
		if ((opt_table[k].cmds & cmd) != 0 && (opt_table[k].id == ch ||
		    (ch < 256 && ch != ':' && ch != '?' &&
		    opt_table[k].letter == ch)))
			d = &opt_table[k];
	if (d == NULL) {
		*err = ch == ':' ? 3 : 1;
		return NULL;
	}
	if (optarg != NULL && opt_text(d->name, optarg) == -1) {
		*err = 2;
		return NULL;
	}
	if (opt_typed(d, optarg, num) == -1) {
		*err = 2;
		return NULL;
	}
	return d;
}

/*
 * opt_typed - check v as the type of d wants: a whole number or seconds
 * in range (decimal, finite), or one of the words of an enum; its value
 * into *num (seconds in ms, a word as its index)
 */
static int
opt_typed(const struct opt_def *d, const char *v, long *num)
{
	char		 err[160], words[128], *w, *save = NULL;
	double		 secs;
	long		 i = 0;

	switch (d->type) {
	case OT_NUM:
		return opt_number(d->name, v, d->lo, d->hi, num);
	case OT_SECS:
		if (valid_seconds(v, (double)d->lo, (double)d->hi, &secs, err,
		    sizeof(err)) == -1) {
			log_warnx("--%s: %s", d->name, err);
			return -1;
		}
		*num = (long)(secs * 1000 + 0.5);
		return 0;
	case OT_ENUM:
		snprintf(words, sizeof(words), "%s", d->arg);
		for (w = strtok_r(words, "|", &save); w != NULL;
		    w = strtok_r(NULL, "|", &save), i++)
			if (strcmp(w, v) == 0) {
				*num = i;
				return 0;
			}
		snprintf(words, sizeof(words), "%s", d->arg);
		for (w = words; *w != '\0'; w++)
			if (*w == '|')
				*w = ' ';
		log_warnx("--%s: \"%s\" is not one of %s", d->name, v, words);
		return -1;
	}
	return 0;
}

/*
 * opt_table_check - the table is usable: within one command no two
 * options share a name or a letter; a flag has no argument and every
 * other type one; a range is not empty; an enum has words. Returns 0,
 * or -1 with the first fault in err.
 */
int
opt_table_check(char *err, size_t len)
{
	static const int	 cmds[] = { OC_PROBE, OC_SHELL, OC_BATCH,
				    OC_EXPLAIN };
	const struct opt_def	*a, *b;
	size_t			 i, j, k;

	snprintf(err, len, "ok");
	for (i = 0; i < NTABLE; i++) {
		a = &opt_table[i];
		if ((a->type == OT_FLAG) != (a->arg == NULL) ||
		    (a->arg == NULL) != (a->mdoc == NULL) ||
		    ((a->type == OT_NUM || a->type == OT_SECS) &&
		    a->lo > a->hi) || a->help == NULL ||
		    (a->type == OT_ENUM && strchr(a->arg, '|') == NULL)) {
			snprintf(err, len, "--%s: its type, argument, range "
			    "or help", a->name);
			return -1;
		}
		for (j = i + 1; j < NTABLE; j++) {
			b = &opt_table[j];
			for (k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
				if ((a->cmds & b->cmds & cmds[k]) != 0 &&
				    (strcmp(a->name, b->name) == 0 ||
				    (a->letter != 0 && a->letter ==
				    b->letter))) {
					snprintf(err, len, "--%s and --%s clash "
					    "in one command", a->name,
					    b->name);
					return -1;
				}
		}
	}
	return 0;
}

/* opt_timeouts - "connect 30, banner 60, ..." for cmd's defaults */
static void
opt_timeouts(int cmd, char *buf, size_t len)
{
	size_t	 i, off = 0;
	long	 ms;
	int	 st, r;

	buf[0] = '\0';
	for (i = 0; i < sizeof(opt_timeout_stages) /
	    sizeof(opt_timeout_stages[0]); i++) {
		st = opt_timeout_stages[i];
		ms = cmd == OC_BATCH ? stage_timeout_bulk(st) :
		    stage_timeout(st);
		r = snprintf(buf + off, len - off, "%s%s %g",
		    i > 0 ? ", " : "", stage_name(st), (double)ms / 1000);
		if (r < 0 || (size_t)r >= len - off)
			return;
		off += (size_t)r;
	}
}

/*
 * opt_default - the default of d as text, from the constants the code
 * uses, or "" when --help and the man page give none
 */
static const char *
opt_default(const struct opt_def *d, char *buf, size_t len)
{
	switch (d->id) {
	case O_MAX_LINE:
		snprintf(buf, len, "%d", IO_MAX_LINE_DEFAULT);
		break;
	case O_SHOW_BODY:
		snprintf(buf, len, "%d", OPT_SHOW_BODY);
		break;
	case B_PER_IP:
		snprintf(buf, len, "%d", OPT_BATCH_PER_IP);
		break;
	case B_PER_IP_GAP:
		snprintf(buf, len, "%g", OPT_BATCH_GAP_MS / 1000.0);
		break;
	case B_DRAIN:
		snprintf(buf, len, "%g", OPT_BATCH_DRAIN_MS / 1000.0);
		break;
	default:
		snprintf(buf, len, "%s", "");
		break;
	}
	return buf;
}

/* opt_range - "lo to hi" of a number or seconds option, else "" */
static const char *
opt_range(const struct opt_def *d, char *buf, size_t len)
{
	if (d->type == OT_NUM || d->type == OT_SECS)
		snprintf(buf, len, "%ld to %ld", d->lo, d->hi);
	else
		snprintf(buf, len, "%s", "");
	return buf;
}

/*
 * opt_expand - the help of d for cmd into buf, "@TIMEOUTS@",
 * "@DEFAULT@" and "@RANGE@" replaced
 */
static const char *
opt_expand(int cmd, const struct opt_def *d, char *buf, size_t len)
{
	static const char *const tokens[] = { "@TIMEOUTS@", "@DEFAULT@",
				    "@RANGE@" };
	const char	*p = d->help, *at, *tok;
	char		 val[256];
	size_t		 off = 0, i, best;
	int		 r;

	buf[0] = '\0';
	for (;;) {
		at = NULL;
		best = 0;
		for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++)
			if ((tok = strstr(p, tokens[i])) != NULL &&
			    (at == NULL || tok < at)) {
				at = tok;
				best = i;
			}
		if (at == NULL)
			break;
		if (best == 0)
			opt_timeouts(cmd, val, sizeof(val));
		else if (best == 1)
			opt_default(d, val, sizeof(val));
		else
			opt_range(d, val, sizeof(val));
		r = snprintf(buf + off, len - off, "%.*s%s", (int)(at - p), p,
		    val);
		if (r < 0 || (size_t)r >= len - off)
			return buf;
		off += (size_t)r;
		p = at + strlen(tokens[best]);
	}
	snprintf(buf + off, len - off, "%s", p);
	return buf;
}

/* opt_help - every option cmd takes, in --help form */
void
opt_help(int cmd)
{
	char	 buf[1024];
	size_t	 i;

	for (i = 0; i < NTABLE; i++)
		if ((opt_table[i].cmds & cmd) != 0 &&
		    (opt_table[i].cmds & OC_HIDDEN) == 0)
			opt_help_line(opt_table[i].letter, opt_table[i].name,
			    opt_table[i].arg, opt_expand(cmd, &opt_table[i],
			    buf, sizeof(buf)));
}

/* opt_list_cmd - every long option cmd takes, one a line (for tests) */
void
opt_list_cmd(int cmd)
{
	size_t	 i;

	for (i = 0; i < NTABLE; i++)
		if ((opt_table[i].cmds & cmd) != 0 &&
		    (opt_table[i].cmds & OC_HIDDEN) == 0)
			printf("--%s\n", opt_table[i].name);
}

/*
 * opt_dump - the option table of cmd for scripts/man-options.sh: a line
 * "=TIMEOUTS<tab>connect 30, ..." then, per option, its name, its .It
 * line in mdoc, its default and its range, separated by tabs
 */
void
opt_dump(int cmd)
{
	const struct opt_def	*d;
	char			 t[256], r[64];
	size_t			 i;

	opt_timeouts(cmd, t, sizeof(t));
	printf("=TIMEOUTS\t%s\n", t);
	for (i = 0; i < NTABLE; i++) {
		d = &opt_table[i];
		if ((d->cmds & cmd) == 0 || (d->cmds & OC_HIDDEN) != 0)
			continue;
		printf("%s\t.It ", d->name);
		if (d->letter != 0)
			printf("Fl %c , ", d->letter);
		printf("Fl Fl %s%s%s\t", d->name, d->mdoc != NULL ? " " : "",
		    d->mdoc != NULL ? d->mdoc : "");
		printf("%s\t", opt_default(d, t, sizeof(t)));
		printf("%s\n", opt_range(d, r, sizeof(r)));
	}
}

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

	if (st < STAGE_CONNECT || st > STAGE_EOD || st == STAGE_AUTH) {
		log_warnx("--%s: unknown stage \"%s\" (one of connect banner "
		    "ehlo starttls mail rcpt data eod)", name, v);
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
			log_warnx("--timeout: unknown stage \"%s\"", stage);
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
 * opt_domain - a domain to look up (valid_domain), with a message; ASCII
 * only, as DNS gets it as it is (no IDNA here: give the xn-- form)
 */
static int
opt_domain(const char *d)
{
	char		 err[256];
	const char	*p;

	if (valid_domain(d, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	for (p = d; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80) {
			log_warnx("\"%s\": give a domain to look up in its "
			    "ASCII (xn--) form", d);
			return -1;
		}
	return 0;
}

/*
 * opt_zones - "a.example,b.example" into a NULL-terminated list; "none"
 * is an empty list. Each zone must be a domain.
 */
static int
opt_zones(const char *name, const char *v, char ***out)
{
	char	*copy = xstrdup(v), *tok, *save = NULL;
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
		if (opt_domain(tok) == -1) {
			log_warnx("--%s: \"%s\" is not a zone", name, tok);
			free(copy);
			return -1;
		}
		list = xreallocarray(list, n + 2, sizeof(char *));
		list[n++] = xstrdup(tok);
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

	switch (d->id) {
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
	case O_TLS_MIN:
		if (tls_version_ok(v) == -1) {
			log_warnx("--tls-min-version: \"%s\" is not one of 1.0 "
			    "1.1 1.2 1.3", v);
			return -1;
		}
		c->tls_min = v;
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
 * opt_apply - one option of the probe or the shell (d, its argument v,
 * v as a number n for OT_NUM) into c. Returns 0, or -1 after a message.
 */
int
opt_apply(const struct opt_def *d, const char *v, long n,
    struct opt_cli *c)
{
	(void)n;
	switch (d->id) {
	case O_SERVER:		c->server = v; break;
	case O_PORT:		free(c->port); c->port = xstrdup(v); break;
	case O_FROM:		opt_envelope(c, 1, v); break;
	case O_TO:		opt_envelope(c, 0, v); break;
	case O_IPV4:		c->family = AF_INET; break;
	case O_IPV6:		c->family = AF_INET6; break;
	case O_LOCAL:		c->local = v; break;
	case O_HELO:
	case S_HELO:		c->helo = v; break;	/* checked at the end */
	case O_RAW_HELO:
	case S_RAW_HELO:	c->raw_helo = 1; break;
	case O_RAW_ADDRESS:	c->raw_address = 1; break;
	case O_STARTTLS:
	case S_STARTTLS:	c->tls_mode = SMTP_TLS_REQUIRE; break;
	case O_STARTTLS_OPT:
	case S_STARTTLS_OPT:	c->tls_mode = SMTP_TLS_OPTIONAL; break;
	case O_TLS_CONNECT:	c->tls_mode = SMTP_TLS_IMPLICIT; break;
	case O_TLS_VERIFY:	c->tls_verify = 1; break;
	case O_TLS_SNI:		c->sni = v; break;
	case O_NO_TLS_SNI:	c->no_sni = 1; break;
	case O_TLS_CAFILE:	c->cafile = v; break;
	case O_TLS_CAPATH:	c->capath = v; break;
	case O_TLS_CIPHERS:	c->ciphers = v; break;
	case O_DANE:		c->dane = 1; break;
	case O_TLS_CHECK:	c->tls_check = c->dane = 1; break;
	case O_DATA:		c->data = 1; break;
	case O_BODY:		c->body = v; c->data = 1; break;
	case O_MESSAGE:		c->message = v; c->data = 1; break;
	case O_HEADER:
		opt_list_add(&c->headers, &c->nheaders, v);
		c->data = 1;
		break;
	case O_MAX_LINE:	c->max_line = (size_t)n; break;
	case O_SHOW_BODY:	c->show_body = (size_t)n; break;
	case O_JSON:		c->json = 1; break;
	case O_FORMAT:		/* text|json|ticket */
		if (n == 1)
			c->json = 1;
		else if (n == 2)
			c->ticket = 1;
		break;
	case O_DIAGNOSE:	c->diagnose = 1; break;
	case O_DIAGNOSE_CONTENT: c->diagnose = c->diagnose_content = 1; break;
	case O_SCENARIO:
		opt_list_add(&c->scenarios, &c->nscenarios, v);
		break;
	case O_JUNIT:		c->junit = v; break;
	case O_TAP:		c->tap = 1; break;
	case O_AUTH_USER:
	case S_AUTH_USER:	c->auth_user = v; break;
	case O_AUTH_SECRET_ENV:
	case S_AUTH_SECRET_ENV:	c->auth_secret_env = v; break;
	case O_AUTH_SECRET_FILE:
	case S_AUTH_SECRET_FILE: c->auth_secret_file = v; break;
	case O_AUTH_INSECURE:	c->auth_insecure = 1; break;
	case O_RESOLVER:
	case S_RESOLVER:	c->resolver = v; break;
	case O_ALL_MX:		c->all_mx = 1; break;
	case O_CHECK:		c->check = 1; break;
	case O_NO_CHECK:	c->no_check = 1; break;
	case O_REPORT:		c->report = v; break;
	case O_MASK_LOCAL:	c->mask_local = 1; break;
	case O_TIMESTAMPS:
	case S_TIMESTAMPS:	c->timestamps = 1; break;
	case O_QUIET:		c->quiet = 1; break;
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
		if (c->help || c->version || c->list_options ||
		    c->dump_options)
			return 0;
	}
	if (err == 3)
		log_warnx("option %s needs an argument", argv[optind - 1]);
	else if (err == 1 && optopt != 0 && optopt < 256)
		log_warnx("unknown option -%c", optopt);
	else if (err == 1)
		log_warnx("unknown option %s", argv[optind - 1]);
	if (err != 0)
		return -1;
	return opt_finish(c, argc - optind, argv + optind);
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
		    opt_domain(args[0]) == -1)
			return -1;
		c->domain = xstrdup(args[0]);
	}
	if (c->helo != NULL && opt_helo("helo", c->helo, c->raw_helo) == -1)
		return -1;
	/* no envelope: greeting, EHLO, STARTTLS, AUTH, then QUIT */
	if (c->ntxn == 0 && c->stop_before < 0 && c->quit_after < 0 &&
	    c->nscenarios == 0)
		c->stop_before = STAGE_MAIL;
	if (c->server == NULL && c->domain == NULL) {
		const char *at = c->ntxn > 0 && c->txn[0].nto > 0 ?
		    strrchr(c->txn[0].to[0], '@') : NULL;
		size_t	    dl;

		if (at == NULL) {
			log_warnx("give a DOMAIN, --server, or a --to address "
			    "whose domain's MX to probe (see --help)");
			return -1;
		}
		c->domain = xstrdup(at + 1);
		dl = strlen(c->domain);
		if (dl > 0 && c->domain[dl - 1] == '>')
			c->domain[dl - 1] = '\0';
		if (opt_domain(c->domain) == -1)
			return -1;
	}
	if (c->server != NULL && opt_server(c) == -1)
		return -1;
	if (c->all_mx && c->domain == NULL) {
		log_warnx("--all-mx needs a DOMAIN (or --to) instead of "
		    "--server");
		return -1;
	}
	if (c->port == NULL)
		c->port = xstrdup(c->tls_mode == SMTP_TLS_IMPLICIT ? "465" :
		    "25");
	else if (opt_number("port", c->port, 1, 65535, &n) == -1)
		return -1;
	if (c->body != NULL && c->message != NULL) {
		log_warnx("--body and --message exclude each other");
		return -1;
	}
	if (c->diagnose && c->ticket) {
		log_warnx("--diagnose prints its own report; use --report "
		    "FILE for a ticket");
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
	if (c->nscenarios > 0 && c->diagnose) {
		log_warnx("--diagnose runs its own probes; it does not take "
		    "--scenario");
		return -1;
	}
	if (c->tls_check && (c->nscenarios > 0 || c->diagnose)) {
		log_warnx("--tls-check runs its own probe; it does not take "
		    "--scenario or --diagnose");
		return -1;
	}
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
	free(c->scenarios);
	free(c->vars);
	free(c->host);
	free(c->port);
	free(c->domain);
	for (i = 0; c->dnsbl != NULL && c->dnsbl[i] != NULL; i++)
		free(c->dnsbl[i]);
	free(c->dnsbl);
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

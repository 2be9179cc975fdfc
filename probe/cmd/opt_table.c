/*
 * opt_table.c - the option table (include/opt.def) and what is made
 * from it: each command's getopt_long table with every argument checked
 * by its type (opt_next), a switch's generated --no-NAME, --help
 * (opt_help), the lists tests compare (opt_list_cmd) and the .It lines
 * of the man page (opt_dump, for scripts/man-options.sh). The parser
 * that stores the probe's and the shell's options is opt.c.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"
#include "log.h"
#include "opt.h"
#include "smtp.h"
#include "util.h"
#include "valid.h"

/* the table: every option of every command (include/opt.def) */
static const struct opt_def opt_table[] = {
#define OPT(id, name, letter, cmds, arg, mdoc, type, lo, hi, help) \
	{ id, name, letter, cmds, arg, mdoc, type, lo, hi, help },
#include "opt.def"
#undef OPT
};

#define NTABLE	nitems(opt_table)

/* getopt's value of --no-NAME: the option's id plus OPT_NEG */
#define OPT_NEG	0x10000

/* "no-NAME" of every OC_NEG row, by the row's index */
#define OPT_NEG_NAME(id, name, letter, cmds, arg, mdoc, type, lo, hi, \
    help)	"no-" name,
static const char *const opt_neg_names[] = {
#define OPT OPT_NEG_NAME
#include "opt.def"
#undef OPT
};
_Static_assert(nitems(opt_neg_names) == NTABLE,
    "opt_neg_names out of step with opt_table");

/* the stages whose default timeout --help and the man page show */
static const int opt_timeout_stages[] = {
	STAGE_CONNECT, STAGE_BANNER, STAGE_EHLO, STAGE_STARTTLS, STAGE_AUTH,
	STAGE_MAIL, STAGE_RCPT, STAGE_DATA, STAGE_EOD, STAGE_RSET, STAGE_QUIT
};

static void	opt_timeouts(int, char *, size_t);
static int	opt_typed(const struct opt_def *, const char *, long *);
static int	opt_negates(int, const struct opt_def *);
static const char *opt_shown(int, size_t, char *, size_t);

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

/*
 * opt_negates - 1 when cmd takes --no-NAME for d: a switch (OC_NEG);
 * batch stores its flags itself and does not look at the value yet
 */
static int
opt_negates(int cmd, const struct opt_def *d)
{
	return (d->cmds & OC_NEG) != 0 && (d->cmds & cmd) != 0 &&
	    cmd != OC_BATCH;
}

/*
 * opt_shown - the name of row i as --help shows it: "NAME", or
 * "NAME, --no-NAME" for a switch of cmd
 */
static const char *
opt_shown(int cmd, size_t i, char *buf, size_t len)
{
	if (opt_negates(cmd, &opt_table[i]))
		snprintf(buf, len, "%s, --%s", opt_table[i].name,
		    opt_neg_names[i]);
	else
		snprintf(buf, len, "%s", opt_table[i].name);
	return buf;
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
 * opt_flag_with_value - 1 if a is "--NAME=VALUE" for a switch NAME of
 * cmd (getopt_long calls it an unknown option)
 */
static int
opt_flag_with_value(int cmd, const char *a)
{
	const char	*eq;
	size_t		 i, n;

	if (strncmp(a, "--", 2) != 0 || (eq = strchr(a, '=')) == NULL)
		return 0;
	n = (size_t)(eq - a - 2);
	for (i = 0; i < NTABLE; i++)
		if ((opt_table[i].cmds & cmd) != 0 &&
		    opt_table[i].type == OT_FLAG &&
		    strlen(opt_table[i].name) == n &&
		    strncmp(opt_table[i].name, a + 2, n) == 0)
			return 1;
	return 0;
}

/*
 * opt_next - the next option of cmd: getopt_long over the rows of the
 * table cmd takes, built on the first call for each command
 */
const struct opt_def *
opt_next(int cmd, int permute, int argc, char **argv, long *num, int *err)
{
	static struct option	 lo[4][2 * NTABLE + 1];
	static char		 so[4][3 * NTABLE + 3];
	static int		 built[4];
	const struct opt_def	*d = NULL;
	size_t			 i, n = 0, k;
	char			*sp;
	int			 ch, slot, neg = 0;

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
			/* --bdat [SIZE]: also --bdat=SIZE */
			lo[slot][n].has_arg = opt_table[i].arg != NULL ?
			    required_argument : opt_table[i].id == O_BDAT ?
			    optional_argument : no_argument;
			lo[slot][n].flag = NULL;
			lo[slot][n++].val = opt_table[i].id;
			if (opt_negates(cmd, &opt_table[i])) {
				lo[slot][n].name = opt_neg_names[i];
				lo[slot][n].has_arg = no_argument;
				lo[slot][n].flag = NULL;
				lo[slot][n++].val = opt_table[i].id + OPT_NEG;
			}
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
	if (ch > OPT_NEG) {
		ch -= OPT_NEG;
		neg = 1;
	}
	for (k = 0; k < NTABLE && d == NULL; k++)
		if ((opt_table[k].cmds & cmd) != 0 && (opt_table[k].id == ch ||
		    (ch < 256 && ch != ':' && ch != '?' &&
		    opt_table[k].letter == ch)))
			d = &opt_table[k];
	if (d == NULL) {
		*err = ch == ':' ? 3 : 1;
		if (ch == '?' && optind > 0 && optind <= argc &&
		    opt_flag_with_value(cmd, argv[optind - 1]))
			*err = 4;
		return NULL;
	}
	if (d->type == OT_FLAG) {
		*num = !neg;
		return d;
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
 * other type one; a range is not empty; an enum has words; a switch
 * (OC_NEG) is a flag of the probe or the shell whose --no-NAME is no
 * other option's name. Returns 0,
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
		if ((a->cmds & OC_NEG) != 0 && (a->type != OT_FLAG ||
		    (a->cmds & (OC_BATCH | OC_REPLAY)) != 0)) {
			snprintf(err, len, "--%s: OC_NEG is for a switch of "
			    "the probe or the shell", a->name);
			return -1;
		}
		for (j = 0; j < NTABLE; j++) {
			b = &opt_table[j];
			if ((a->cmds & OC_NEG) != 0 && (a->cmds & b->cmds &
			    (OC_PROBE | OC_SHELL)) != 0 &&
			    strcmp(b->name, opt_neg_names[i]) == 0) {
				snprintf(err, len, "--%s and the generated "
				    "--%s clash", b->name, opt_neg_names[i]);
				return -1;
			}
		}
		for (j = i + 1; j < NTABLE; j++) {
			b = &opt_table[j];
			for (k = 0; k < nitems(cmds); k++)
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
	for (i = 0; i < nitems(opt_timeout_stages); i++) {
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
	case O_BDAT_CHUNK:
		snprintf(buf, len, "%d", SMTP_BDAT_CHUNK);
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
	case O_TLS_EXPIRY:
		snprintf(buf, len, "%d", OPT_EXPIRY_WARN);
		break;
	case O_SLOW_BANNER:
		snprintf(buf, len, "%g", OPT_SLOW_BANNER_MS / 1000.0);
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

const char *
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
		for (i = 0; i < nitems(tokens); i++)
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
	char	 buf[1024], name[80];
	size_t	 i;

	for (i = 0; i < NTABLE; i++)
		if ((opt_table[i].cmds & cmd) != 0 &&
		    (opt_table[i].cmds & OC_HIDDEN) == 0)
			opt_help_line(opt_table[i].letter, opt_shown(cmd, i,
			    name, sizeof(name)), opt_table[i].arg,
			    opt_expand(cmd, &opt_table[i], buf, sizeof(buf)));
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
		printf("Fl Fl %s%s%s", d->name, d->mdoc != NULL ? " " : "",
		    d->mdoc != NULL ? d->mdoc : "");
		if (opt_negates(cmd, d))
			printf(" , Fl Fl %s", opt_neg_names[i]);
		putchar('\t');
		printf("%s\t", opt_default(d, t, sizeof(t)));
		printf("%s\n", opt_range(d, r, sizeof(r)));
	}
}

/*
 * scn.c - scenario parser and runner (see include/scn.h and
 * smtprobe-scenario(5)).
 *
 * Parsing is line by line: a line is cut into tokens (bare words,
 * "quoted strings" with \-escapes, and /regular expressions/ after
 * expect), each token has its ${variables} expanded, and the first
 * token picks a row of keywords[], whose parse function checks the
 * rest. Errors name file, line and column.
 *
 * Running: an exec walks the steps with a program counter. Each step
 * becomes one engine command; the engine's ready or done callback
 * judges it (its expectation, or the default policy below) and moves
 * on. Callbacks may come from inside smtp_do(), so exec_advance() is a
 * trampoline: a nested call only asks the outer loop to go round again.
 *
 * Default policy for a step without an expectation: a refused greeting,
 * EHLO/HELO, STARTTLS (unless optional), AUTH or RSET ends the session
 * politely (QUIT) and the run goes on at the next "connect"; a refused
 * MAIL skips the rest of its transaction; DATA is skipped when no
 * recipient of the transaction was accepted. A step with an expectation
 * is always sent, and only its expectation decides: met, the run goes
 * on; not met, it stops (QUIT) unless the line says "else continue".
 */
#include "config.h"

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "io.h"
#include "log.h"
#include "msg.h"
#include "scn.h"
#include "util.h"
#include "valid.h"
#include "verdict.h"


/* ---- parsing ---- */

enum tok_kind { TOK_WORD, TOK_STRING, TOK_REGEX };

struct tok {
	char		*s;
	size_t		 len;
	int		 col;
	enum tok_kind	 kind;
};

struct lex {
	const char	*file;
	int		 line;
	struct scn_vars	*vars;
	char		*err;
	size_t		 errlen;
	int		 failed;
	size_t		 base;		/* where the word or here-document
					   line being expanded starts */
};

struct keyword {
	const char	*name;
	enum scn_op	 op;
	int		(*parse)(struct lex *, struct scn_step *, struct tok *,
			    size_t);
	const char	*usage;
};

static int	parse_none(struct lex *, struct scn_step *, struct tok *,
		    size_t);
static int	parse_name(struct lex *, struct scn_step *, struct tok *,
		    size_t);
static int	parse_starttls(struct lex *, struct scn_step *, struct tok *,
		    size_t);
static int	parse_auth(struct lex *, struct scn_step *, struct tok *,
		    size_t);
static int	parse_path(struct lex *, struct scn_step *, struct tok *,
		    size_t);
static int	parse_data(struct lex *, struct scn_step *, struct tok *,
		    size_t);
static int	parse_vrfy(struct lex *, struct scn_step *, struct tok *,
		    size_t);
static int	parse_send(struct lex *, struct scn_step *, struct tok *,
		    size_t);
static int	parse_sleep(struct lex *, struct scn_step *, struct tok *,
		    size_t);

static const struct keyword keywords[] = {
	{ "connect", SCN_CONNECT, parse_none, "connect" },
	{ "ehlo", SCN_EHLO, parse_name, "ehlo [raw] [NAME]" },
	{ "helo", SCN_HELO, parse_name, "helo [raw] [NAME]" },
	{ "starttls", SCN_STARTTLS, parse_starttls,
	    "starttls [required|optional]" },
	{ "auth", SCN_AUTH, parse_auth, "auth MECHANISM USER [secret-env "
	    "VAR | secret-file PATH] [insecure]" },
	{ "mail", SCN_MAIL, parse_path, "mail [raw] ADDRESS [PARAM...]" },
	{ "rcpt", SCN_RCPT, parse_path, "rcpt [raw] ADDRESS [PARAM...]" },
	{ "data", SCN_DATA, parse_data,
	    "data [file PATH | raw \"BYTES\" [smuggling] | <<WORD]" },
	{ "rset", SCN_RSET, parse_none, "rset" },
	{ "noop", SCN_NOOP, parse_none, "noop" },
	{ "vrfy", SCN_VRFY, parse_vrfy, "vrfy ARGUMENT" },
	{ "send", SCN_SEND, parse_send, "send \"LINE\" [noreply]" },
	{ "sleep", SCN_SLEEP, parse_sleep, "sleep SECONDS" },
	{ "quit", SCN_QUIT, parse_none, "quit" },
	{ "drop", SCN_DROP, parse_none, "drop" },
};

/* every keyword, for scn_keywords() and the documentation test */
static const char *const all_keywords[] = {
	"connect", "ehlo", "helo", "starttls", "auth", "mail", "rcpt",
	"data", "rset", "noop", "vrfy", "send", "sleep", "quit", "drop",
	"expect", "set", NULL
};

static const char *const verdict_classes[] = {
	"accepted", "ip", "helo", "sender", "recipient", "relay", "content",
	"auth", "tls", "rate", "greylist", "policy", "server", "network",
	"protocol", NULL
};

static const char *const outcome_words[] = {
	"ok", "tempfail", "permfail", "timeout", "closed", "error",
	"skipped", "any", NULL
};

static void lex_error(struct lex *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

const char *const *
scn_keywords(void)
{
	return all_keywords;
}

const char *
scn_op_name(enum scn_op op)
{
	size_t	 i;

	for (i = 0; i < nitems(keywords); i++)
		if (keywords[i].op == op)
			return keywords[i].name;
	return "?";
}

/* vars_hash - FNV-1a of a variable name */
static size_t
vars_hash(const char *name)
{
	uint64_t	 h = 14695981039346656037ULL;

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ULL;
	return (size_t)h;
}

/*
 * vars_slot - the index slot of name: the one holding it, or the empty
 * one where it goes. The index is rebuilt at half full, so a run of
 * "set" lines costs linear time, not quadratic.
 */
static size_t *
vars_slot(const struct scn_vars *v, const char *name)
{
	size_t	 i;

	if (v->idxcap == 0)
		return NULL;
	for (i = vars_hash(name) & (v->idxcap - 1);;
	    i = (i + 1) & (v->idxcap - 1))
		if (v->idx[i] == 0 || strcmp(v->name[v->idx[i] - 1],
		    name) == 0)
			return &v->idx[i];
}

/* vars_grow - a bigger index over every name */
static void
vars_grow(struct scn_vars *v)
{
	size_t	 i, *slot;

	free(v->idx);
	v->idxcap = v->idxcap == 0 ? 64 : v->idxcap * 2;
	v->idx = xcalloc(v->idxcap, sizeof(size_t));
	for (i = 0; i < v->n; i++) {
		slot = vars_slot(v, v->name[i]);
		*slot = i + 1;
	}
}

void
scn_vars_set(struct scn_vars *v, const char *name, const char *value)
{
	size_t	*slot, i;

	if ((v->n + 1) * 2 > v->idxcap)
		vars_grow(v);
	slot = vars_slot(v, name);
	if (*slot != 0) {
		i = *slot - 1;
		if (i < v->nlocked)
			return;
		v->bytes -= strlen(v->value[i]);
		free(v->value[i]);
		v->value[i] = xstrdup(value);
		v->bytes += strlen(value);
		return;
	}
	if (v->n % 64 == 0) {
		v->name = xreallocarray(v->name, v->n + 64, sizeof(char *));
		v->value = xreallocarray(v->value, v->n + 64,
		    sizeof(char *));
	}
	v->name[v->n] = xstrdup(name);
	v->value[v->n] = xstrdup(value);
	v->bytes += strlen(name) + strlen(value);
	*slot = ++v->n;
}

const char *
scn_vars_get(const struct scn_vars *v, const char *name)
{
	size_t	*slot;

	if (v == NULL || (slot = vars_slot(v, name)) == NULL || *slot == 0)
		return NULL;
	return v->value[*slot - 1];
}

void
scn_vars_clear(struct scn_vars *v)
{
	size_t	 i;

	for (i = 0; i < v->n; i++) {
		free(v->name[i]);
		free(v->value[i]);
	}
	free(v->name);
	free(v->value);
	free(v->idx);
	memset(v, 0, sizeof(*v));
}

static void
lex_error(struct lex *lx, int col, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512];

	if (lx->failed)
		return;
	lx->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (col > 0)
		snprintf(lx->err, lx->errlen, "%s:%d:%d: %s", lx->file,
		    lx->line, col, msg);
	else
		snprintf(lx->err, lx->errlen, "%s:%d: %s", lx->file, lx->line,
		    msg);
}

/*
 * lex_var - expand the "${name}" at s (col is its column); appends the
 * value to b and returns the bytes consumed, or 0 after an error.
 */
static size_t
lex_var(struct lex *lx, const char *s, size_t n, int col, struct util_buf *b)
{
	const char	*v;
	char		 name[64];
	size_t		 i;

	for (i = 2; i < n && s[i] != '}'; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-') {
			lex_error(lx, col, "bad character in variable name "
			    "(expected ${NAME} with letters, digits, _ or -)");
			return 0;
		}
	if (i >= n || i == 2 || i - 2 >= sizeof(name)) {
		lex_error(lx, col, "unterminated or empty variable (expected "
		    "${NAME})");
		return 0;
	}
	memcpy(name, s + 2, i - 2);
	name[i - 2] = '\0';
	if ((v = scn_vars_get(lx->vars, name)) == NULL) {
		lex_error(lx, col, "undefined variable ${%s} (set it with "
		    "--var %s=VALUE or a \"set %s VALUE\" line)", name, name,
		    name);
		return 0;
	}
	if (b->len - lx->base + strlen(v) > SCN_MAX_VALUE) {
		lex_error(lx, col, "${%s} makes the value longer than %d "
		    "bytes, the limit of one expanded word or line", name,
		    SCN_MAX_VALUE);
		return 0;
	}
	util_buf_add(b, v, strlen(v));
	return i + 1;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * lex_line - cut one line into tokens. Quoted strings take \" \\ \r \n
 * \t \xHH and \$; regexes (/.../, only when regex is set) keep their
 * escapes but for \/. Returns the number of tokens, -1 on error.
 */
static ssize_t
lex_line(struct lex *lx, const char *line, size_t len, struct tok *toks,
    int regex)
{
	size_t	 i = 0, nt = 0;
	struct util_buf b;

	while (i < len) {
		int	 col;

		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i >= len)
			break;
		if (line[i] == '#' && nt > 0)
			break;	/* a comment after the words */
		if (nt == SCN_MAX_TOKENS) {
			lex_error(lx, (int)i + 1, "too many words on one "
			    "line (at most %d)", SCN_MAX_TOKENS);
			goto fail;
		}
		col = (int)i + 1;
		memset(&b, 0, sizeof(b));
		util_buf_add(&b, "", 0);
		lx->base = 0;
		toks[nt].col = col;
		if (line[i] == '"') {
			toks[nt].kind = TOK_STRING;
			for (i++; i < len && line[i] != '"'; i++) {
				if (line[i] == '$' && i + 1 < len &&
				    line[i + 1] == '{') {
					size_t k = lex_var(lx, line + i,
					    len - i, (int)i + 1, &b);

					if (k == 0) {
						free(b.p);
						goto fail;
					}
					i += k - 1;
					continue;
				}
				if (line[i] != '\\') {
					util_buf_add(&b, line + i, 1);
					continue;
				}
				if (++i >= len)
					break;
				switch (line[i]) {
				case 'r':
					util_buf_add(&b, "\r", 1);
					break;
				case 'n':
					util_buf_add(&b, "\n", 1);
					break;
				case 't':
					util_buf_add(&b, "\t", 1);
					break;
				case '\\':
				case '"':
				case '$':
					util_buf_add(&b, line + i, 1);
					break;
				case 'x':
					if (i + 2 < len &&
					    hexval(line[i + 1]) >= 0 &&
					    hexval(line[i + 2]) >= 0) {
						char c = (char)(hexval(
						    line[i + 1]) * 16 +
						    hexval(line[i + 2]));

						util_buf_add(&b, &c, 1);
						i += 2;
						break;
					}
					/* FALLTHROUGH */
				default:
					lex_error(lx, (int)i, "unknown escape "
					    "\\%c (expected \\\" \\\\ \\r \\n "
					    "\\t \\$ or \\xHH)", line[i]);
					free(b.p);
					goto fail;
				}
			}
			if (i >= len) {
				lex_error(lx, col, "unterminated string "
				    "(expected a closing \")");
				free(b.p);
				goto fail;
			}
			i++;
		} else if (line[i] == '/' && regex) {
			toks[nt].kind = TOK_REGEX;
			for (i++; i < len && line[i] != '/'; i++) {
				if (line[i] == '\\' && i + 1 < len &&
				    line[i + 1] == '/')
					i++;
				else if (line[i] == '\\' && i + 1 < len) {
					util_buf_add(&b, line + i, 1);
					i++;
				}
				util_buf_add(&b, line + i, 1);
			}
			if (i >= len) {
				lex_error(lx, col, "unterminated regular "
				    "expression (expected a closing /)");
				free(b.p);
				goto fail;
			}
			i++;
		} else {
			toks[nt].kind = TOK_WORD;
			while (i < len && line[i] != ' ' && line[i] != '\t') {
				if (line[i] == '$' && i + 1 < len &&
				    line[i + 1] == '{') {
					size_t k = lex_var(lx, line + i,
					    len - i, (int)i + 1, &b);

					if (k == 0) {
						free(b.p);
						goto fail;
					}
					i += k;
					continue;
				}
				if (line[i] == '"') {
					lex_error(lx, (int)i + 1, "a quote "
					    "inside a word (expected a space "
					    "before the string)");
					free(b.p);
					goto fail;
				}
				util_buf_add(&b, line + i, 1);
				i++;
			}
		}
		toks[nt].s = b.p;
		toks[nt].len = b.len;
		nt++;
	}
	return (ssize_t)nt;
fail:
	while (nt > 0)
		free(toks[--nt].s);
	return -1;
}

/* tok_text - a token usable in a command: no CR, LF or NUL */
static int
tok_text(struct lex *lx, const struct tok *t, const char *what)
{
	const char	*why;

	if (memchr(t->s, '\0', t->len) != NULL) {
		lex_error(lx, t->col, "%s contains a NUL byte", what);
		return -1;
	}
	if (util_check_text(t->s, 0, &why) == -1) {
		lex_error(lx, t->col, "%s %s (only \"send\" and \"data raw\" "
		    "may carry line ends)", what, why);
		return -1;
	}
	return 0;
}

static int
too_many(struct lex *lx, struct tok *t, size_t n, size_t max,
    const char *usage)
{
	if (n <= max)
		return 0;
	lex_error(lx, t[max].col, "unexpected \"%.40s\" (expected: %s)",
	    t[max].s, usage);
	return -1;
}

static int
parse_none(struct lex *lx, struct scn_step *st, struct tok *t, size_t n)
{
	return too_many(lx, t, n, 1, scn_op_name(st->op));
}

/* tok_raw - 1 if t is the "raw" modifier word */
static int
tok_raw(const struct tok *t)
{
	return t->kind == TOK_WORD && strcasecmp(t->s, "raw") == 0;
}

static int
parse_name(struct lex *lx, struct scn_step *st, struct tok *t, size_t n)
{
	char		 err[256];
	unsigned	 flags = 0;

	if (n == 3 && tok_raw(&t[1])) {
		flags = VALID_RAW;
		t++;
		n--;
	}
	if (too_many(lx, t, n, 2, "ehlo [raw] [NAME] / helo [raw] [NAME]") ==
	    -1)
		return -1;
	if (n == 2) {
		if (t[1].len == 0) {
			lex_error(lx, t[1].col, "empty name (leave it out "
			    "for the default)");
			return -1;
		}
		if (memchr(t[1].s, '\0', t[1].len) != NULL) {
			lex_error(lx, t[1].col, "the name contains a NUL "
			    "byte");
			return -1;
		}
		if (valid_helo(t[1].s, flags, err, sizeof(err)) == -1) {
			lex_error(lx, t[1].col, "%s%s", err, flags ? "" :
			    " (\"helo raw NAME\" sends it as it is)");
			return -1;
		}
		if (strchr(t[1].s, ' ') != NULL) {
			lex_error(lx, t[1].col, "the name contains a space");
			return -1;
		}
		st->arg = xstrdup(t[1].s);
	}
	if (st->op == SCN_HELO)
		st->flags |= SMTP_F_HELO;
	return 0;
}

static int
parse_starttls(struct lex *lx, struct scn_step *st, struct tok *t, size_t n)
{
	if (too_many(lx, t, n, 2, "starttls [required|optional]") == -1)
		return -1;
	if (n == 2) {
		if (strcasecmp(t[1].s, "optional") == 0)
			st->flags |= SMTP_F_OPTIONAL;
		else if (strcasecmp(t[1].s, "required") != 0) {
			lex_error(lx, t[1].col, "unexpected \"%.40s\" "
			    "(expected required or optional)", t[1].s);
			return -1;
		}
	}
	return 0;
}

static int
parse_auth(struct lex *lx, struct scn_step *st, struct tok *t, size_t n)
{
	size_t	 i;
	int	 m;

	if (n < 3) {
		lex_error(lx, n < 2 ? 0 : t[1].col, "auth needs a mechanism "
		    "and a user (expected: auth MECHANISM USER)");
		return -1;
	}
	if ((m = smtp_auth_mech_lookup(t[1].s)) == -1) {
		lex_error(lx, t[1].col, "unknown mechanism \"%.40s\" "
		    "(expected plain, login, cram-md5, xoauth2 or "
		    "oauthbearer)", t[1].s);
		return -1;
	}
	st->mech = m;
	if (tok_text(lx, &t[2], "the user name") == -1)
		return -1;
	st->arg = xstrdup(t[2].s);
	for (i = 3; i < n; i++) {
		if (strcasecmp(t[i].s, "insecure") == 0) {
			st->flags |= SMTP_F_INSECURE;
			continue;
		}
		if (strcasecmp(t[i].s, "secret-env") != 0 &&
		    strcasecmp(t[i].s, "secret-file") != 0) {
			lex_error(lx, t[i].col, "unexpected \"%.40s\" "
			    "(expected secret-env VAR, secret-file PATH or "
			    "insecure; a secret itself never goes in a "
			    "scenario)", t[i].s);
			return -1;
		}
		if (i + 1 >= n || t[i + 1].len == 0) {
			lex_error(lx, t[i].col, "%s needs a value", t[i].s);
			return -1;
		}
		if (strcasecmp(t[i].s, "secret-env") == 0) {
			free(st->secret_env);
			st->secret_env = xstrdup(t[i + 1].s);
		} else {
			free(st->secret_file);
			st->secret_file = xstrdup(t[i + 1].s);
		}
		i++;
	}
	return 0;
}

/* parse_param - one ESMTP parameter: keyword [= value] (RFC 5321 4.1.2) */
static int
parse_param(struct lex *lx, const struct tok *t)
{
	size_t	 i;

	if (t->len == 0 || !isalnum((unsigned char)t->s[0])) {
		lex_error(lx, t->col, "bad ESMTP parameter \"%.40s\" "
		    "(expected KEYWORD or KEYWORD=VALUE)", t->s);
		return -1;
	}
	for (i = 0; i < t->len && t->s[i] != '='; i++)
		if (!isalnum((unsigned char)t->s[i]) && t->s[i] != '-') {
			lex_error(lx, t->col + (int)i, "bad character in "
			    "ESMTP parameter keyword");
			return -1;
		}
	for (; i < t->len; i++)
		if ((unsigned char)t->s[i] < 33 ||
		    (unsigned char)t->s[i] > 126) {
			lex_error(lx, t->col + (int)i, "bad character in "
			    "ESMTP parameter value (RFC 5321 esmtp-value)");
			return -1;
		}
	return 0;
}

static int
parse_path(struct lex *lx, struct scn_step *st, struct tok *t, size_t n)
{
	struct util_buf	 b;
	char		 err[256];
	size_t		 i;
	unsigned	 flags = 0;

	if (n < 2) {
		lex_error(lx, 0, "%s needs an address (expected: %s ADDRESS "
		    "[PARAM...]; \"<>\" is the null sender)",
		    scn_op_name(st->op), scn_op_name(st->op));
		return -1;
	}
	if (n >= 3 && tok_raw(&t[1])) {
		flags = VALID_RAW;
		t++;
		n--;
	}
	if (memchr(t[1].s, '\0', t[1].len) != NULL) {
		lex_error(lx, t[1].col, "the address contains a NUL byte");
		return -1;
	}
	if ((st->arg = valid_address(t[1].s, flags | (st->op == SCN_MAIL ?
	    VALID_NULL_OK : 0), err, sizeof(err))) == NULL) {
		lex_error(lx, t[1].col, "%s%s", err, flags ? "" : " (\"mail "
		    "raw ADDRESS\" or \"rcpt raw ADDRESS\" sends it as it "
		    "is)");
		return -1;
	}
	memset(&b, 0, sizeof(b));
	for (i = 2; i < n; i++) {
		if (parse_param(lx, &t[i]) == -1) {
			free(b.p);
			return -1;
		}
		if (b.len > 0)
			util_buf_add(&b, " ", 1);
		util_buf_add(&b, t[i].s, t[i].len);
	}
	st->params = b.p;
	return 0;
}

static int
parse_data(struct lex *lx, struct scn_step *st, struct tok *t, size_t n)
{
	if (n == 1) {
		st->data = SCN_DATA_DEFAULT;
		return 0;
	}
	if (strcasecmp(t[1].s, "file") == 0) {
		if (n != 3 || t[2].len == 0) {
			lex_error(lx, t[1].col, "data file needs one path "
			    "(expected: data file PATH)");
			return -1;
		}
		st->data = SCN_DATA_FILE;
		st->body = xstrdup(t[2].s);
		st->bodylen = t[2].len;
		return 0;
	}
	if (strcasecmp(t[1].s, "raw") == 0) {
		if (n == 4 && strcasecmp(t[3].s, "smuggling") == 0)
			st->flags |= SMTP_F_SMUGGLING;
		else if (n != 3) {
			lex_error(lx, t[n > 3 ? 3 : 1].col, "data raw needs one "
			    "quoted string (expected: data raw \"BYTES\" "
			    "[smuggling])");
			return -1;
		}
		st->data = SCN_DATA_RAW;
		st->body = xmalloc(t[2].len + 1);
		memcpy(st->body, t[2].s, t[2].len + 1);
		st->bodylen = t[2].len;
		return 0;
	}
	if (t[1].kind == TOK_WORD && strncmp(t[1].s, "<<", 2) == 0) {
		/* the caller reads the here-document */
		if (n != 2 || t[1].len < 3) {
			lex_error(lx, t[1].col, "expected data <<WORD, the "
			    "word ending the message on a line of its own");
			return -1;
		}
		st->data = SCN_DATA_INLINE;
		st->body = xstrdup(t[1].s + 2);
		st->bodylen = t[1].len - 2;
		return 0;
	}
	lex_error(lx, t[1].col, "unexpected \"%.40s\" (expected: data, data "
	    "file PATH, data raw \"BYTES\" or data <<WORD)", t[1].s);
	return -1;
}

static int
parse_vrfy(struct lex *lx, struct scn_step *st, struct tok *t, size_t n)
{
	if (n != 2) {
		lex_error(lx, n > 2 ? t[2].col : 0, "expected: vrfy ARGUMENT "
		    "(quote it when it holds spaces)");
		return -1;
	}
	if (tok_text(lx, &t[1], "the argument") == -1)
		return -1;
	st->arg = xstrdup(t[1].s);
	return 0;
}

static int
parse_send(struct lex *lx, struct scn_step *st, struct tok *t, size_t n)
{
	if (n < 2 || n > 3) {
		lex_error(lx, n > 3 ? t[3].col : 0, "expected: send \"LINE\" "
		    "[noreply]");
		return -1;
	}
	if (memchr(t[1].s, '\0', t[1].len) != NULL) {
		lex_error(lx, t[1].col, "the line contains a NUL byte");
		return -1;
	}
	if (n == 3) {
		if (strcasecmp(t[2].s, "noreply") != 0) {
			lex_error(lx, t[2].col, "unexpected \"%.40s\" "
			    "(expected noreply)", t[2].s);
			return -1;
		}
		st->flags |= SMTP_F_NOREPLY;
	}
	st->arg = xstrdup(t[1].s);
	return 0;
}

static int
parse_sleep(struct lex *lx, struct scn_step *st, struct tok *t, size_t n)
{
	char	 err[160];
	double	 d;

	if (n != 2) {
		lex_error(lx, n > 2 ? t[2].col : 0, "expected: sleep SECONDS");
		return -1;
	}
	if (memchr(t[1].s, '\0', t[1].len) != NULL || valid_seconds(t[1].s,
	    0, 3600, &d, err, sizeof(err)) == -1) {
		lex_error(lx, t[1].col, "bad duration \"%.40s\" (expected "
		    "decimal seconds from 0 to 3600, e.g. 1.5)", t[1].s);
		return -1;
	}
	st->ms = (long)(d * 1000.0 + 0.5);
	return 0;
}

/* match_word - a code pattern, an enhanced code pattern, an outcome */
static int
match_word(const char *w)
{
	size_t	 i, n = strlen(w), parts = 0, digits = 0;

	for (i = 0; outcome_words[i] != NULL; i++)
		if (strcmp(w, outcome_words[i]) == 0)
			return 1;
	if (n == 3 && w[0] >= '2' && w[0] <= '5') {
		for (i = 1; i < 3; i++)
			if (!isdigit((unsigned char)w[i]) && w[i] != 'x')
				return 0;
		return !(w[1] == 'x' && w[2] != 'x');
	}
	/* enhanced: class.subject.detail, "x" for any part but the class */
	if (n < 5 || n > 11 || (w[0] != '2' && w[0] != '4' && w[0] != '5') ||
	    w[1] != '.')
		return 0;
	for (i = 2; i <= n; i++) {
		if (i == n || w[i] == '.') {
			if (digits == 0 || digits > 3)
				return 0;
			parts++;
			digits = 0;
			continue;
		}
		if (w[i] == 'x' && digits == 0 && (i + 1 == n ||
		    w[i + 1] == '.')) {
			digits = 1;
			continue;
		}
		if (!isdigit((unsigned char)w[i]))
			return 0;
		digits++;
	}
	return parts == 2;
}

static int
parse_expect(struct lex *lx, struct scn_expect *e, struct tok *t, size_t n)
{
	size_t	 i = 1, k;
	int	 want_match = 1, rc, grp = 0;
	char	 buf[128];

	while (i < n) {
		if (!want_match && t[i].kind == TOK_WORD && e->text == NULL &&
		    e->re == NULL && e->vclass == NULL &&
		    t[i].len < 16 && strcasecmp(t[i].s, "or") != 0 &&
		    strcasecmp(t[i].s, "else") != 0 &&
		    strcasecmp(t[i].s, "verdict") != 0) {
			char	 low[16];

			for (k = 0; k <= t[i].len; k++)
				low[k] = (char)tolower((unsigned char)
				    t[i].s[k]);
			if (match_word(low))
				want_match = 1;	/* and: same alternative */
		}
		if (want_match) {
			char	 low[16];

			if (t[i].kind != TOK_WORD || t[i].len >= sizeof(low)) {
				lex_error(lx, t[i].col, "expected a reply code "
				    "(250, 2xx, 55x), an enhanced code "
				    "(5.7.1, 5.x.x) or ok, tempfail, "
				    "permfail, timeout, closed, error, "
				    "skipped, any");
				return -1;
			}
			for (k = 0; k <= t[i].len; k++)
				low[k] = (char)tolower((unsigned char)
				    t[i].s[k]);
			if (!match_word(low)) {
				lex_error(lx, t[i].col, "\"%.40s\" is not a "
				    "reply code, enhanced code or outcome "
				    "(expected e.g. 250, 2xx, 5.7.1, "
				    "tempfail)", t[i].s);
				return -1;
			}
			if (e->nmatch == SCN_MAX_MATCH) {
				lex_error(lx, t[i].col, "too many "
				    "alternatives (at most %d)",
				    SCN_MAX_MATCH);
				return -1;
			}
			e->group[e->nmatch] = grp;
			memcpy(e->match[e->nmatch++], low, t[i].len + 1);
			want_match = 0;
			i++;
			continue;
		}
		if (strcasecmp(t[i].s, "or") == 0 && t[i].kind == TOK_WORD) {
			if (e->text != NULL || e->re != NULL ||
			    e->vclass != NULL) {
				lex_error(lx, t[i].col, "\"or\" after the "
				    "text or verdict (codes come first)");
				return -1;
			}
			want_match = 1;
			grp++;
			i++;
			continue;
		}
		if (t[i].kind == TOK_STRING) {
			if (e->text != NULL || e->re != NULL) {
				lex_error(lx, t[i].col, "one text or regular "
				    "expression per expect line");
				return -1;
			}
			e->text = xstrdup(t[i].s);
			i++;
			continue;
		}
		if (t[i].kind == TOK_REGEX) {
			if (e->text != NULL || e->re != NULL) {
				lex_error(lx, t[i].col, "one text or regular "
				    "expression per expect line");
				return -1;
			}
			e->re = xcalloc(1, sizeof(regex_t));
			if ((rc = regcomp(e->re, t[i].s, REG_EXTENDED |
			    REG_ICASE | REG_NOSUB)) != 0) {
				regerror(rc, e->re, buf, sizeof(buf));
				free(e->re);
				e->re = NULL;
				lex_error(lx, t[i].col, "bad regular "
				    "expression: %s", buf);
				return -1;
			}
			i++;
			continue;
		}
		if (strcasecmp(t[i].s, "verdict") == 0) {
			if (i + 1 >= n) {
				lex_error(lx, t[i].col, "verdict needs a "
				    "class (ip, helo, sender, recipient ...)");
				return -1;
			}
			for (k = 0; verdict_classes[k] != NULL; k++)
				if (strcasecmp(t[i + 1].s,
				    verdict_classes[k]) == 0)
					break;
			if (verdict_classes[k] == NULL) {
				lex_error(lx, t[i + 1].col, "unknown verdict "
				    "class \"%.40s\" (expected one of accepted "
				    "ip helo sender recipient relay content "
				    "auth tls rate greylist policy server "
				    "network protocol)", t[i + 1].s);
				return -1;
			}
			free(e->vclass);
			e->vclass = xstrdup(verdict_classes[k]);
			i += 2;
			continue;
		}
		if (strcasecmp(t[i].s, "else") == 0) {
			if (i + 2 != n || (strcasecmp(t[i + 1].s, "stop") != 0 &&
			    strcasecmp(t[i + 1].s, "continue") != 0)) {
				lex_error(lx, t[i].col, "expected \"else stop\" "
				    "or \"else continue\" at the end of the "
				    "line");
				return -1;
			}
			e->cont = strcasecmp(t[i + 1].s, "continue") == 0;
			i += 2;
			continue;
		}
		lex_error(lx, t[i].col, "unexpected \"%.40s\" (expected \"or\", "
		    "a \"text\", a /regex/, verdict CLASS or else "
		    "stop|continue)", t[i].s);
		return -1;
	}
	if (want_match) {
		lex_error(lx, n > 1 ? t[n - 1].col : 0, "expect needs a code "
		    "or an outcome after it%s", n > 1 ? " (after \"or\")" :
		    "");
		return -1;
	}
	return 0;
}

static void
expect_free(struct scn_expect *e)
{
	if (e == NULL)
		return;
	free(e->spec);
	free(e->want);
	free(e->text);
	if (e->re != NULL) {
		regfree(e->re);
		free(e->re);
	}
	free(e->vclass);
	free(e);
}

void
scn_step_clear(struct scn_step *st)
{
	free(st->arg);
	free(st->params);
	free(st->body);
	free(st->secret_env);
	free(st->secret_file);
	expect_free(st->expect);
	memset(st, 0, sizeof(*st));
}

struct scn *
scn_new(const char *name)
{
	struct scn	*s = xcalloc(1, sizeof(*s));

	s->name = xstrdup(name);
	return s;
}

void
scn_free(struct scn *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nsteps; i++)
		scn_step_clear(&s->steps[i]);
	free(s->steps);
	free(s->name);
	free(s->desc);
	free(s);
}

/* expect_copy - deep copy (the regex is compiled again from spec) */
static struct scn_expect *
expect_copy(const struct scn_expect *e)
{
	struct scn_expect *c;

	if (e == NULL)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	*c = *e;
	c->spec = e->spec != NULL ? xstrdup(e->spec) : NULL;
	c->want = e->want != NULL ? xstrdup(e->want) : NULL;
	c->text = e->text != NULL ? xstrdup(e->text) : NULL;
	c->vclass = e->vclass != NULL ? xstrdup(e->vclass) : NULL;
	c->re = NULL;
	if (e->re != NULL) {
		/* share nothing: recompile from the spec's regex text */
		struct lex	 lx = { "", 0, NULL, NULL, 0, 0, 0 };
		struct tok	 toks[SCN_MAX_TOKENS];
		char		 err[8];
		ssize_t		 nt, i;
		struct scn_expect tmp;

		lx.err = err;
		lx.errlen = sizeof(err);
		memset(&tmp, 0, sizeof(tmp));
		nt = lex_line(&lx, e->spec, strlen(e->spec), toks, 1);
		for (i = 0; i < nt; i++)
			if (toks[i].kind == TOK_REGEX && c->re == NULL) {
				c->re = xcalloc(1, sizeof(regex_t));
				if (regcomp(c->re, toks[i].s, REG_EXTENDED |
				    REG_ICASE | REG_NOSUB) != 0)
					fatalx("regex copy failed");
			}
		for (i = 0; i < nt; i++)
			free(toks[i].s);
	}
	return c;
}

struct scn_step *
scn_add(struct scn *s, const struct scn_step *st)
{
	struct scn_step	*n;

	if (s->nsteps >= SCN_MAX_STEPS)
		fatalx("scenario too long");
	s->steps = xreallocarray(s->steps, s->nsteps + 1, sizeof(*s->steps));
	n = &s->steps[s->nsteps++];
	*n = *st;
	n->arg = st->arg != NULL ? xstrdup(st->arg) : NULL;
	n->params = st->params != NULL ? xstrdup(st->params) : NULL;
	if (st->body != NULL) {
		/* bodylen counts the bytes; a NUL always follows them */
		n->body = xmalloc(st->bodylen + 1);
		memcpy(n->body, st->body, st->bodylen + 1);
	}
	n->secret_env = st->secret_env != NULL ? xstrdup(st->secret_env) :
	    NULL;
	n->secret_file = st->secret_file != NULL ?
	    xstrdup(st->secret_file) : NULL;
	n->expect = expect_copy(st->expect);
	return n;
}

/* heredoc_line - one here-document line with ${NAME} expanded ("$${" is
   a literal "${") */
static int
heredoc_line(struct lex *lx, const char *s, size_t n, struct util_buf *b)
{
	size_t	 i, k;

	lx->base = b->len;
	if (b->len + n > SCN_MAX_MESSAGE) {
		lex_error(lx, 0, "the here-document is longer than %d bytes",
		    SCN_MAX_MESSAGE);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (s[i] == '$' && i + 2 < n && s[i + 1] == '$' &&
		    s[i + 2] == '{') {
			util_buf_add(b, "${", 2);
			i += 2;
			continue;
		}
		if (s[i] == '$' && i + 1 < n && s[i + 1] == '{') {
			if ((k = lex_var(lx, s + i, n - i, (int)i + 1,
			    b)) == 0)
				return -1;
			i += k - 1;
			continue;
		}
		util_buf_add(b, s + i, 1);
	}
	util_buf_add(b, "\n", 1);
	return 0;
}

/* next_line - the line at *pos (without its end); advances *pos */
static const char *
next_line(const char *text, size_t len, size_t *pos, size_t *n)
{
	const char	*l = text + *pos, *nl;

	nl = memchr(l, '\n', len - *pos);
	*n = nl != NULL ? (size_t)(nl - l) : len - *pos;
	*pos += *n + (nl != NULL ? 1 : 0);
	if (*n > 0 && l[*n - 1] == '\r')
		(*n)--;
	return l;
}

struct scn *
scn_parse(const char *name, const char *text, size_t len,
    struct scn_vars *vars, char *err, size_t errlen)
{
	struct lex	 lx;
	struct scn	*s;
	struct scn_step	 st;
	struct tok	 toks[SCN_MAX_TOKENS];
	size_t		 pos = 0, n, i, k;
	ssize_t		 nt = 0;
	const char	*l;

	memset(&lx, 0, sizeof(lx));
	lx.file = name;
	lx.vars = vars;
	lx.err = err;
	lx.errlen = errlen;
	s = scn_new(name);
	while (pos < len && !lx.failed) {
		l = next_line(text, len, &pos, &n);
		lx.line++;
		nt = 0;
		if (n > SCN_MAX_LINE) {
			lex_error(&lx, 0, "line longer than %d bytes",
			    SCN_MAX_LINE);
			break;
		}
		if (memchr(l, '\0', n) != NULL) {
			lex_error(&lx, (int)((const char *)memchr(l, '\0', n) -
			    l) + 1, "NUL byte in the scenario");
			break;
		}
		for (i = 0; i < n && (l[i] == ' ' || l[i] == '\t'); i++)
			;
		if (i == n)
			continue;
		if (l[i] == '#') {
			if (s->desc == NULL && n - i > 7 &&
			    strncmp(l + i, "# desc:", 7) == 0) {
				for (k = i + 7; k < n && l[k] == ' '; k++)
					;
				s->desc = xstrndup(l + k, n - k);
			}
			continue;
		}
		nt = lex_line(&lx, l, n, toks, n - i >= 6 &&
		    strncasecmp(l + i, "expect", 6) == 0 && (n - i == 6 ||
		    l[i + 6] == ' ' || l[i + 6] == '\t'));
		if (nt <= 0) {
			nt = 0;
			break;
		}
		if (toks[0].kind != TOK_WORD) {
			lex_error(&lx, toks[0].col, "expected a keyword, not "
			    "a string");
			break;
		}
		if (strcasecmp(toks[0].s, "set") == 0) {
			if (nt != 3) {
				lex_error(&lx, toks[0].col, "expected: set "
				    "NAME VALUE (quote a value with spaces)");
				break;
			}
			for (k = 0; k < toks[1].len; k++)
				if (!isalnum((unsigned char)toks[1].s[k]) &&
				    toks[1].s[k] != '_' && toks[1].s[k] != '-')
					break;
			if (k < toks[1].len || k == 0 || k >= 64) {
				lex_error(&lx, toks[1].col, "bad variable "
				    "name (letters, digits, _ and -)");
				break;
			}
			if (memchr(toks[2].s, '\0', toks[2].len) != NULL) {
				lex_error(&lx, toks[2].col, "the value "
				    "contains a NUL byte");
				break;
			}
			if (vars->bytes + toks[1].len + toks[2].len >
			    SCN_MAX_VARS) {
				lex_error(&lx, toks[2].col, "the variables "
				    "together pass %d bytes", SCN_MAX_VARS);
				break;
			}
			scn_vars_set(vars, toks[1].s, toks[2].s);
		} else if (strcasecmp(toks[0].s, "expect") == 0) {
			struct scn_expect *e;

			if (s->nsteps == 0) {
				lex_error(&lx, toks[0].col, "expect before "
				    "any step (it checks the step above)");
				break;
			}
			if (s->steps[s->nsteps - 1].expect != NULL) {
				lex_error(&lx, toks[0].col, "a second expect "
				    "for one step (join them with \"or\")");
				break;
			}
			e = xcalloc(1, sizeof(*e));
			if (parse_expect(&lx, e, toks, (size_t)nt) == -1) {
				expect_free(e);
				break;
			}
			for (k = i + 6; k < n && (l[k] == ' ' ||
			    l[k] == '\t'); k++)
				;
			e->spec = xstrndup(l + k, n - k);
			e->want = xstrdup(e->spec);
			e->line = lx.line;
			{
				/* "else ..." is how to go on, not what */
				char	*el = e->want, *p;

				while ((p = strcasestr(el, " else ")) != NULL)
					el = p + 1;
				if (el != e->want && el[-1] == ' ' &&
				    strncasecmp(el, "else ", 5) == 0) {
					while (el > e->want && el[-1] == ' ')
						el--;
					*el = '\0';
				}
			}
			s->steps[s->nsteps - 1].expect = e;
		} else {
			for (k = 0; k < nitems(keywords); k++)
				if (strcasecmp(toks[0].s, keywords[k].name) ==
				    0)
					break;
			if (k == nitems(keywords)) {
				lex_error(&lx, toks[0].col, "unknown keyword "
				    "\"%.40s\" (expected connect, ehlo, helo, "
				    "starttls, auth, mail, rcpt, data, rset, "
				    "noop, vrfy, send, sleep, quit, drop, "
				    "expect or set)", toks[0].s);
				break;
			}
			memset(&st, 0, sizeof(st));
			st.op = keywords[k].op;
			st.line = lx.line;
			if (keywords[k].parse(&lx, &st, toks, (size_t)nt) ==
			    -1) {
				scn_step_clear(&st);
				break;
			}
			if (st.op == SCN_DATA && st.data == SCN_DATA_INLINE) {
				struct util_buf	 b;
				int		 start = lx.line, ended = 0;
				char		*word = st.body;

				memset(&b, 0, sizeof(b));
				util_buf_add(&b, "", 0);
				while (pos < len) {
					l = next_line(text, len, &pos, &n);
					lx.line++;
					if (n == strlen(word) &&
					    memcmp(l, word, n) == 0) {
						ended = 1;
						break;
					}
					if (heredoc_line(&lx, l, n, &b) == -1)
						break;
				}
				if (!ended && !lx.failed) {
					lx.line = start;
					lex_error(&lx, 0, "here-document not "
					    "ended (expected a line \"%s\")",
					    word);
				}
				free(word);
				st.body = b.p;
				st.bodylen = b.len;
				if (lx.failed) {
					scn_step_clear(&st);
					break;
				}
			}
			if (s->nsteps >= SCN_MAX_STEPS) {
				lex_error(&lx, 0, "more than %d steps",
				    SCN_MAX_STEPS);
				scn_step_clear(&st);
				break;
			}
			s->steps = xreallocarray(s->steps, s->nsteps + 1,
			    sizeof(*s->steps));
			s->steps[s->nsteps++] = st;
		}
		for (k = 0; k < (size_t)nt; k++)
			free(toks[k].s);
		nt = 0;
	}
	for (k = 0; k < (size_t)nt; k++)
		free(toks[k].s);
	if (lx.failed) {
		scn_free(s);
		return NULL;
	}
	return s;
}

struct scn *
scn_load(const char *path, struct scn_vars *vars, char *err, size_t errlen)
{
	struct scn	*s;
	char		*text;
	size_t		 len;

	if (msg_read(path, &text, &len, err, errlen) == -1)
		return NULL;
	if (len > SCN_MAX_FILE) {
		snprintf(err, errlen, "%s: the scenario is larger than %d "
		    "bytes", path, SCN_MAX_FILE);
		free(text);
		return NULL;
	}
	s = scn_parse(strcmp(path, "-") == 0 ? "(stdin)" : path, text, len,
	    vars, err, errlen);
	free(text);
	if (s != NULL && scn_check_inputs(s, err, errlen) == -1) {
		scn_free(s);
		return NULL;
	}
	return s;
}

/*
 * check_secret - the secret a secret-file or secret-env names, read and
 * checked, then wiped; 0, or -1 with err (never holding the secret)
 */
static int
check_secret(const struct scn_step *st, char *err, size_t errlen)
{
	char		 why[200], *buf = NULL;
	const char	*v;
	size_t		 len = 0;
	int		 rc;

	if (st->secret_file != NULL) {
		if ((rc = msg_read(st->secret_file, &buf, &len, why,
		    sizeof(why))) == 0) {
			rc = valid_secret(buf, len, why, sizeof(why));
			OPENSSL_cleanse(buf, len);
			free(buf);
		}
		if (rc == -1)
			snprintf(err, errlen, "secret-file: %s", why);
		return rc;
	}
	if (st->secret_env == NULL)
		return 0;
	if ((v = getenv(st->secret_env)) == NULL) {
		snprintf(err, errlen, "secret-env: environment variable %.60s "
		    "is not set", st->secret_env);
		return -1;
	}
	if (valid_secret(v, strlen(v), why, sizeof(why)) == -1) {
		snprintf(err, errlen, "secret-env %.40s: %.150s", st->secret_env,
		    why);
		return -1;
	}
	return 0;
}

int
scn_check_inputs(const struct scn *s, char *err, size_t errlen)
{
	const struct scn_step *st;
	char	 why[256], *buf;
	size_t	 i, len;
	int	 rc;

	for (i = 0; i < s->nsteps; i++) {
		st = &s->steps[i];
		rc = 0;
		if (st->op == SCN_DATA && st->data == SCN_DATA_FILE) {
			buf = NULL;
			len = 0;
			if ((rc = msg_read(st->body, &buf, &len, why,
			    sizeof(why))) == 0)
				rc = valid_message(buf, len, "the data file",
				    why, sizeof(why));
			free(buf);
		} else if (st->op == SCN_AUTH)
			rc = check_secret(st, why, sizeof(why));
		if (rc == -1) {
			snprintf(err, errlen, "%s:%d: %s", s->name, st->line,
			    why);
			return -1;
		}
	}
	return 0;
}

int
scn_expect_match(const struct scn_expect *e, const struct record *r,
    const struct step *st, char *got, size_t gotlen)
{
	const struct reply *rp = st != NULL ? st->reply : NULL;
	const char	*oc = st != NULL ? record_outcome_name(st->outcome) :
	    "ok";
	char		 code[4] = "";
	size_t		 i, k;
	int		 ok = 0;

	if (rp != NULL) {
		snprintf(code, sizeof(code), "%d", rp->code);
		snprintf(got, gotlen, "%d%s%s", rp->code,
		    rp->enhanced[0] ? " " : "", rp->enhanced);
		if (st->outcome != OUT_OK && st->outcome != OUT_TEMPFAIL &&
		    st->outcome != OUT_PERMFAIL)
			snprintf(got + strlen(got), gotlen - strlen(got),
			    " (%s)", oc);
	} else
		snprintf(got, gotlen, "%s%s%s", oc, st != NULL &&
		    st->detail != NULL ? ": " : "", st != NULL &&
		    st->detail != NULL ? st->detail : "");
	for (i = 0; i < e->nmatch && !ok; i++) {
		const char *m = e->match[i];
		int	    one = 0;

		if (strcmp(m, "any") == 0 || strcmp(m, oc) == 0)
			one = 1;
		else if (strlen(m) == 3 && code[0] != '\0') {
			for (k = 0; k < 3; k++)
				if (m[k] != 'x' && m[k] != code[k])
					break;
			one = k == 3;
		} else if (strchr(m, '.') != NULL && rp != NULL &&
		    rp->enhanced[0] != '\0') {
			const char *a = m, *b = rp->enhanced;

			/* compare part by part; "x" takes any part */
			while (*a != '\0' && *b != '\0') {
				size_t la = strcspn(a, "."), lb = strcspn(b,
				    ".");

				if (!(la == 1 && *a == 'x') && (la != lb ||
				    strncmp(a, b, la) != 0))
					break;
				a += la;
				b += lb;
				if (*a == '.' && *b == '.') {
					a++;
					b++;
				} else
					break;
			}
			one = *a == '\0' && *b == '\0';
		}
		/* an alternative holds when all of its matches do */
		if (!one) {
			while (i + 1 < e->nmatch &&
			    e->group[i + 1] == e->group[i])
				i++;
			continue;
		}
		if (i + 1 == e->nmatch || e->group[i + 1] != e->group[i])
			ok = 1;
	}
	if (ok && (e->text != NULL || e->re != NULL)) {
		int	 hit = 0;

		for (i = 0; rp != NULL && i < rp->nlines && !hit; i++) {
			if (e->text != NULL)
				hit = strcasestr(rp->lines[i], e->text) != NULL;
			else
				hit = regexec(e->re, rp->lines[i], 0, NULL,
				    0) == 0;
		}
		if (!hit && rp == NULL && st != NULL && st->detail != NULL)
			hit = e->text != NULL ? strcasestr(st->detail,
			    e->text) != NULL : regexec(e->re, st->detail, 0,
			    NULL, 0) == 0;
		if (!hit) {
			ok = 0;
			snprintf(got + strlen(got), gotlen - strlen(got),
			    " without the text");
		}
	}
	if (ok && e->vclass != NULL) {
		struct verdict	 v;

		if (st != NULL && st->outcome != OUT_OK)
			verdict_step(r, st, &v);
		else
			v.class = "accepted";
		if (strcmp(v.class, e->vclass) != 0) {
			ok = 0;
			snprintf(got + strlen(got), gotlen - strlen(got),
			    ", verdict %s", v.class);
		}
	}
	return ok;
}

/* ---- running ---- */

#define RUN_NONE	(-1)
#define RUN_IMPLICIT	(-2)	/* the connect a scenario did not write */

enum exec_wait {
	WAIT_NONE,
	WAIT_STEP,	/* a command is under way */
	WAIT_END	/* the session is being ended */
};

struct scn_exec {
	struct event_base	*base;
	struct scn		*scn;		/* steps (own copy) */
	const struct scn_params	*p;
	scn_done_cb		 done;
	void			*arg;
	struct smtp_session	**sess;
	size_t			 nsess;
	struct smtp_session	*cur;		/* open session or NULL */
	struct scn_result	*res;		/* one per step */
	size_t			 pc;		/* next step */
	ssize_t			 running;	/* step under way */
	enum exec_wait		 wait;
	int			 stop_after;	/* stop once this step is done */
	int			 in_advance;
	int			 stopping;
	int			 finished;
	struct io_after		*timer;		/* sleep without a session */
	/* the transaction under way */
	int			 txn_failed;
	int			 txn_rcpt_ok;
	char			*txn_from;
	char			**txn_rcpt;
	size_t			 ntxn_rcpt;
	char			*msg;		/* wire form being sent */
	char			*secret;	/* AUTH being sent */
};

static void	exec_advance(struct scn_exec *);
static void	exec_run(struct scn_exec *, size_t);
static void	exec_stop(struct scn_exec *);
static void	exec_after(struct scn_exec *, size_t);
static void	exec_end_session(struct scn_exec *);
static void	exec_finish(struct scn_exec *);
static void	exec_judge(struct scn_exec *, size_t, const struct step *,
		    int);
static void	exec_wire(void *, enum smtp_wire, int, int64_t,
		    const char *);
static void	exec_step_cb(void *, const struct record *,
		    const struct step *);
static void	exec_ready(void *, const struct record *,
		    const struct step *);
static void	exec_done(void *, const struct record *);
static void	exec_note(struct scn_exec *, enum smtp_wire, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static const struct smtp_callbacks exec_cb = {
	exec_wire, exec_step_cb, exec_ready, exec_done
};
/* the same without a transcript: the engine formats no wire lines */
static const struct smtp_callbacks exec_cb_quiet = {
	NULL, exec_step_cb, exec_ready, exec_done
};

/* exec_callbacks - what the engine reports to, by what the caller reads */
static const struct smtp_callbacks *
exec_callbacks(const struct scn_exec *x)
{
	return x->p->out != NULL && x->p->out->wire != NULL ? &exec_cb :
	    &exec_cb_quiet;
}

/* the stage a step starts with, and the stage it ends with */
static enum smtp_stage
op_first(enum scn_op op)
{
	static const enum smtp_stage first[SCN__COUNT] = {
		[SCN_CONNECT] = STAGE_CONNECT, [SCN_EHLO] = STAGE_EHLO,
		[SCN_HELO] = STAGE_EHLO, [SCN_STARTTLS] = STAGE_STARTTLS,
		[SCN_AUTH] = STAGE_AUTH, [SCN_MAIL] = STAGE_MAIL,
		[SCN_RCPT] = STAGE_RCPT, [SCN_DATA] = STAGE_DATA,
		[SCN_RSET] = STAGE_RSET, [SCN_NOOP] = STAGE_NOOP,
		[SCN_VRFY] = STAGE_VRFY, [SCN_SEND] = STAGE_RAW,
		[SCN_SLEEP] = STAGE_SLEEP, [SCN_QUIT] = STAGE_QUIT,
		[SCN_DROP] = STAGE_DONE,
	};

	return first[op];
}

static enum smtp_stage
op_last(enum scn_op op)
{
	switch (op) {
	case SCN_CONNECT:
		return STAGE_BANNER;
	case SCN_STARTTLS:
		return STAGE_EHLO;
	case SCN_DATA:
		return STAGE_EOD;
	default:
		return op_first(op);
	}
}

static void
exec_wire(void *arg, enum smtp_wire dir, int tls, int64_t t, const char *s)
{
	struct scn_exec	*x = arg;

	if (x->p->out != NULL && x->p->out->wire != NULL)
		x->p->out->wire(x->p->arg, dir, tls, t, s);
}

static void
exec_step_cb(void *arg, const struct record *r, const struct step *st)
{
	struct scn_exec	*x = arg;

	if (x->p->out != NULL && x->p->out->step != NULL)
		x->p->out->step(x->p->arg, r, st);
}

static void
exec_note(struct scn_exec *x, enum smtp_wire dir, const char *fmt, ...)
{
	va_list	 ap;
	char	*text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	if (x->cur != NULL)
		smtp_note(x->cur, dir, "%s", text);
	else
		exec_wire(x, dir, 0, 0, text);
	free(text);
}

struct scn_exec *
scn_exec_new(struct event_base *base, const struct scn *s,
    const struct scn_params *p, scn_done_cb done, void *arg)
{
	struct scn_exec	*x;
	size_t		 i;

	x = xcalloc(1, sizeof(*x));
	x->base = base;
	x->p = p;
	x->done = done;
	x->arg = arg;
	x->running = RUN_NONE;
	x->scn = scn_new(s != NULL ? s->name : "shell");
	if (s != NULL && s->desc != NULL)
		x->scn->desc = xstrdup(s->desc);
	for (i = 0; s != NULL && i < s->nsteps; i++)
		scn_add(x->scn, &s->steps[i]);
	x->res = xcalloc(x->scn->nsteps + 1, sizeof(*x->res));
	for (i = 0; i < x->scn->nsteps; i++) {
		x->res[i].session = -1;
		x->res[i].rstep = -1;
	}
	return x;
}

static void
exec_txn_clear(struct scn_exec *x)
{
	size_t	 i;

	for (i = 0; i < x->ntxn_rcpt; i++)
		free(x->txn_rcpt[i]);
	free(x->txn_rcpt);
	x->txn_rcpt = NULL;
	x->ntxn_rcpt = 0;
	free(x->txn_from);
	x->txn_from = NULL;
	x->txn_failed = 0;
	x->txn_rcpt_ok = 0;
}

void
scn_exec_free(struct scn_exec *x)
{
	size_t	 i;

	if (x == NULL)
		return;
	for (i = 0; i < x->nsess; i++)
		smtp_session_free(x->sess[i]);
	free(x->sess);
	for (i = 0; i < x->scn->nsteps; i++)
		free(x->res[i].detail);
	free(x->res);
	scn_free(x->scn);
	exec_txn_clear(x);
	free(x->msg);
	if (x->secret != NULL) {
		OPENSSL_cleanse(x->secret, strlen(x->secret));
		free(x->secret);
	}
	io_after_free(x->timer);
	free(x);
}

void
scn_exec_start(struct scn_exec *x)
{
	exec_advance(x);
}

int
scn_exec_push(struct scn_exec *x, const struct scn_step *st)
{
	if (x->finished || x->scn->nsteps >= SCN_MAX_STEPS)
		return -1;
	scn_add(x->scn, st);
	x->res = xreallocarray(x->res, x->scn->nsteps + 1, sizeof(*x->res));
	memset(&x->res[x->scn->nsteps - 1], 0, sizeof(*x->res));
	x->res[x->scn->nsteps - 1].session = -1;
	x->res[x->scn->nsteps - 1].rstep = -1;
	exec_advance(x);
	return 0;
}

int
scn_exec_idle(const struct scn_exec *x)
{
	return x->finished || (x->wait == WAIT_NONE &&
	    x->pc >= x->scn->nsteps);
}

/* expect_mark - the record's step says whether e was met, and how */
static void
expect_mark(struct step *ps, const struct scn_expect *e, int met,
    const char *got)
{
	size_t	 i;

	ps->expect = met ? 1 : -1;
	free(ps->expect_text);
	ps->expect_text = met ? xstrdup(e->want) : xasprintf("expected %s, "
	    "got %s", e->want, got);
	free(ps->expect_class);
	ps->expect_class = e->vclass != NULL ? xstrdup(e->vclass) : NULL;
	/* a refusal was wanted when every alternative asks for 4xx or 5xx */
	ps->expect_refusal = e->nmatch > 0;
	for (i = 0; i < e->nmatch; i++)
		if (e->match[i][0] != '4' && e->match[i][0] != '5' &&
		    strcmp(e->match[i], "permfail") != 0 &&
		    strcmp(e->match[i], "tempfail") != 0)
			ps->expect_refusal = 0;
}

int
scn_exec_expect(struct scn_exec *x, const struct scn_expect *e, char *got,
    size_t gotlen)
{
	struct scn_result *r;
	struct record	*rec;
	struct step	*ps = NULL, stand;
	int		 met;

	if (x->scn->nsteps == 0 || x->nsess == 0)
		return -1;
	r = &x->res[x->scn->nsteps - 1];
	rec = smtp_session_record_mut(x->sess[r->session >= 0 ?
	    (size_t)r->session : x->nsess - 1]);
	if (r->rstep >= 0)
		ps = &rec->steps[r->rstep];
	else if (x->scn->steps[x->scn->nsteps - 1].op == SCN_QUIT &&
	    rec->nsteps > 0 && rec->steps[rec->nsteps - 1].stage ==
	    STAGE_QUIT)
		ps = &rec->steps[rec->nsteps - 1];
	if (ps == NULL) {
		/* the step recorded nothing: its result stands in */
		memset(&stand, 0, sizeof(stand));
		stand.stage = STAGE_DONE;
		stand.outcome = r->status == SCN_PASS ? OUT_OK :
		    r->status == SCN_FAIL ? OUT_ERROR : OUT_SKIPPED;
		stand.detail = r->detail;
		stand.t_sent = stand.t_first = stand.t_done = -1;
		return scn_expect_match(e, rec, &stand, got, gotlen);
	}
	met = scn_expect_match(e, rec, ps, got, gotlen);
	expect_mark(ps, e, met, got);
	r->status = met ? SCN_PASS : SCN_FAIL;
	free(r->detail);
	r->detail = met ? NULL : xstrdup(ps->expect_text);
	record_settle(rec);
	return met;
}

int
scn_exec_session_open(const struct scn_exec *x)
{
	return x->cur != NULL && !smtp_is_over(x->cur);
}

void
scn_exec_finish(struct scn_exec *x)
{
	x->stopping = 1;
	exec_advance(x);
}

const struct record *
scn_exec_record(const struct scn_exec *x, size_t i)
{
	return i < x->nsess ? smtp_session_record(x->sess[i]) : NULL;
}

struct record *
scn_exec_record_mut(struct scn_exec *x, size_t i)
{
	return i < x->nsess ? smtp_session_record_mut(x->sess[i]) : NULL;
}

size_t
scn_exec_nrecords(const struct scn_exec *x)
{
	return x->nsess;
}

const struct scn_result *
scn_exec_results(const struct scn_exec *x, size_t *n)
{
	size_t	 i;

	for (i = 0; i < x->scn->nsteps; i++)
		x->res[i].step = &x->scn->steps[i];
	*n = x->scn->nsteps;
	return x->res;
}

int
scn_exec_exit(const struct scn_exec *x)
{
	static const int rank[] = { 0, 2, 3, 4 };	/* 0 < 2 < 1 < 3 */
	int	 worst = 0, code, i;
	size_t	 k;

	for (k = 0; k < x->nsess; k++) {
		code = record_exit_code(smtp_session_record(x->sess[k]));
		for (i = 0; i < 4; i++)
			if ((code == 0 && i == 0) || (code == 2 && i == 1) ||
			    (code == 1 && i == 2) || (code == 3 && i == 3))
				break;
		if (i < 4 && rank[i] > rank[worst])
			worst = i;
	}
	/*
	 * A step that could not run while a session was open is in that
	 * session's record (exec_local_fail); only without any session
	 * does a failed step decide here.
	 */
	for (k = 0; x->nsess == 0 && k < x->scn->nsteps; k++)
		if (x->res[k].status == SCN_FAIL && x->res[k].rstep < 0 &&
		    worst < 2)
			worst = 2;
	return worst == 0 ? 0 : worst == 1 ? 2 : worst == 2 ? 1 : 3;
}

/*
 * exec_advance - run steps until one is under way. Callbacks that come
 * from inside (a step that needs no round trip) call it again; the
 * nested call returns at once and this loop goes on.
 */
static void
exec_advance(struct scn_exec *x)
{
	if (x->in_advance)
		return;
	x->in_advance = 1;
	for (;;) {
		if (x->finished || x->wait != WAIT_NONE)
			break;
		if (x->stopping || (x->pc >= x->scn->nsteps &&
		    !x->p->interactive)) {
			/* the end: QUIT the open session, then done */
			if (x->cur != NULL && !smtp_is_over(x->cur))
				exec_end_session(x);
			else
				exec_finish(x);
			continue;
		}
		if (x->pc >= x->scn->nsteps)
			break;
		exec_run(x, x->pc++);
	}
	x->in_advance = 0;
}

static void
exec_finish(struct scn_exec *x)
{
	if (x->finished)
		return;
	x->finished = 1;
	if (x->done != NULL)
		x->done(x, x->arg);
}

/* exec_end_session - QUIT the open session; done follows */
static void
exec_end_session(struct scn_exec *x)
{
	x->wait = WAIT_END;
	smtp_quit(x->cur);
}

static void
exec_stop(struct scn_exec *x)
{
	x->stopping = 1;
}

static void
exec_sleep_done(void *arg)
{
	struct scn_exec	*x = arg;
	ssize_t		 i = x->running;

	io_after_free(x->timer);
	x->timer = NULL;
	x->running = RUN_NONE;
	x->wait = WAIT_NONE;
	if (i >= 0)
		x->res[i].status = SCN_PASS;
	exec_after(x, (size_t)i);
	exec_advance(x);
}

static void
exec_new_session(struct scn_exec *x, ssize_t i, unsigned flags)
{
	struct smtp_cmd	 c;

	exec_txn_clear(x);
	x->sess = xreallocarray(x->sess, x->nsess + 1, sizeof(*x->sess));
	x->cur = x->sess[x->nsess++] = smtp_session_new(x->base,
	    x->p->conn, exec_callbacks(x), x);
	memset(&c, 0, sizeof(c));
	c.stage = STAGE_CONNECT;
	c.flags = flags;
	x->running = i;
	x->wait = WAIT_STEP;
	smtp_do(x->cur, &c);
}

/* exec_secret - the AUTH secret for step st, or NULL with why */
static char *
exec_secret(struct scn_exec *x, const struct scn_step *st, char *why,
    size_t whylen)
{
	char	*buf, *nl;
	size_t	 len;
	const char *v;

	if (st->secret_env != NULL) {
		if ((v = getenv(st->secret_env)) == NULL) {
			snprintf(why, whylen, "environment variable %s is not "
			    "set", st->secret_env);
			return NULL;
		}
		return xstrdup(v);
	}
	if (st->secret_file != NULL) {
		if (msg_read(st->secret_file, &buf, &len, why, whylen) == -1)
			return NULL;
		if (valid_secret(buf, len, why, whylen) == -1) {
			OPENSSL_cleanse(buf, len);
			free(buf);
			return NULL;
		}
		/* the first line is the secret; wipe the rest */
		if ((nl = strpbrk(buf, "\r\n")) != NULL)
			explicit_bzero(nl, len - (size_t)(nl - buf));
		return buf;
	}
	if (x->p->secret != NULL)
		return xstrdup(x->p->secret);
	snprintf(why, whylen, "no secret given (use --auth-secret-env, "
	    "--auth-secret-file, or secret-env/secret-file in the "
	    "scenario)");
	return NULL;
}

/* exec_message - the wire form for a data step, or NULL with why */
static char *
exec_message(struct scn_exec *x, const struct scn_step *st, size_t *len,
    char *why, size_t whylen)
{
	struct msg_params mp;
	char	*raw, *out = NULL;
	size_t	 rawlen;

	switch (st->data) {
	case SCN_DATA_RAW:
		out = xmalloc(st->bodylen + 6);
		memcpy(out, st->body, st->bodylen);
		memcpy(out + st->bodylen, "\r\n.\r\n", 6);
		*len = st->bodylen + 5;
		return out;
	case SCN_DATA_FILE:
		if (msg_read(st->body, &raw, &rawlen, why, whylen) == -1)
			return NULL;
		if (msg_wire(raw, rawlen, &out, len, why, whylen) == -1)
			out = NULL;
		free(raw);
		return out;
	case SCN_DATA_INLINE:
		if (msg_wire(st->body, st->bodylen, &out, len, why,
		    whylen) == -1)
			return NULL;
		return out;
	default:
		memset(&mp, 0, sizeof(mp));
		mp.from = x->txn_from != NULL ? x->txn_from : "";
		mp.to = (const char **)x->txn_rcpt;
		mp.nto = x->ntxn_rcpt;
		mp.domain = x->p->helo_domain;
		mp.headers = x->p->headers;
		mp.nheaders = x->p->nheaders;
		mp.body = x->p->body;
		mp.bodylen = x->p->bodylen;
		mp.message = x->p->message;
		mp.messagelen = x->p->messagelen;
		mp.version = x->p->version;
		if (msg_build(&mp, &out, len, why, whylen) == -1)
			return NULL;
		return out;
	}
}

static void
exec_skip(struct scn_exec *x, size_t i, enum scn_status status,
    const char *fmt, ...)
{
	va_list	 ap;

	x->res[i].status = status;
	free(x->res[i].detail);
	va_start(ap, fmt);
	if (vasprintf(&x->res[i].detail, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
}

/*
 * exec_local_fail - step i could not be sent (its file or secret could
 * not be read once the session was open). The session record says so,
 * as the error that ended the session: the result line and the exit
 * status are both read from the record, so they cannot disagree. A
 * shell goes on and lets the user fix it.
 */
static void
exec_local_fail(struct scn_exec *x, size_t i, enum smtp_stage stage,
    const char *why)
{
	exec_note(x, WIRE_ERROR, "%s: %s", stage_name(stage), why);
	exec_skip(x, i, SCN_FAIL, "%s", why);
	if (x->p->interactive)
		return;
	if (x->cur != NULL)
		record_set_error(smtp_session_record_mut(x->cur), stage,
		    FAIL_LOCAL, why);
	exec_stop(x);
}

/*
 * exec_passed - a stop point is a place in the conversation, kept even
 * when its own stage never comes (no STARTTLS step, no AUTH): the point
 * that a step starting at stage first has gone past, or -1. Stages out
 * of the conversation's order (RSET, NOOP, raw lines) pass nothing.
 */
static int
exec_passed(const struct scn_params *p, enum smtp_stage first)
{
	if (first < STAGE_CONNECT || first > STAGE_EOD)
		return -1;
	if (p->stop_before >= 0 && (int)first > p->stop_before)
		return p->stop_before;
	if (p->quit_after >= 0 && (int)first > p->quit_after)
		return p->quit_after;
	return -1;
}

static void
exec_run(struct scn_exec *x, size_t i)
{
	const struct scn_step *st = &x->scn->steps[i];
	const struct scn_params *p = x->p;
	enum smtp_stage	 first = op_first(st->op), last = op_last(st->op);
	struct smtp_cmd	 c;
	char		 why[512];
	unsigned	 flags = st->flags;
	int		 passed = -1;

	x->stop_after = 0;
	if ((p->stop_before >= 0 && (int)first == p->stop_before) ||
	    (passed = exec_passed(p, first)) >= 0) {
		if (passed >= 0)
			exec_note(x, WIRE_INFO, "stopping where %s would "
			    "have been, as asked: %s is next, %s did not "
			    "happen", stage_name(passed), stage_name(first),
			    stage_name(passed));
		else
			exec_note(x, WIRE_INFO, "stopping before %s as asked",
			    stage_name(first));
		if (x->nsess == 0) {
			/* nothing was opened; the record says so */
			x->sess = xreallocarray(x->sess, 1, sizeof(*x->sess));
			x->cur = x->sess[x->nsess++] = smtp_session_new(
			    x->base, p->conn, exec_callbacks(x), x);
		}
		exec_stop(x);
		return;
	}
	if (first != last && ((p->stop_before >= 0 &&
	    (int)last == p->stop_before) || (p->quit_after >= 0 &&
	    (int)first == p->quit_after))) {
		flags |= SMTP_F_STOP;
		x->stop_after = 1;
	}
	if (st->op != SCN_CONNECT && st->op != SCN_SLEEP && x->nsess == 0) {
		/* a scenario that does not start with connect */
		x->pc--;
		exec_new_session(x, RUN_IMPLICIT, 0);
		return;
	}
	if (st->op == SCN_CONNECT) {
		if (x->cur != NULL && !smtp_is_over(x->cur)) {
			/* end the session first, then come back here */
			x->pc--;
			exec_end_session(x);
			return;
		}
		exec_new_session(x, (ssize_t)i, flags);
		return;
	}
	if (st->op == SCN_SLEEP && (x->cur == NULL ||
	    smtp_is_over(x->cur))) {
		exec_note(x, WIRE_INFO, "waiting %.3g s",
		    (double)st->ms / 1000.0);
		x->running = (ssize_t)i;
		x->wait = WAIT_STEP;
		x->timer = io_after(x->base, st->ms, exec_sleep_done, x);
		return;
	}
	if (x->cur == NULL || smtp_is_over(x->cur)) {
		exec_skip(x, i, SCN_NOTRUN, "no open session (the session "
		    "ended before this step)");
		return;
	}
	if (st->expect == NULL) {
		if (st->op == SCN_RCPT && x->txn_failed) {
			exec_note(x, WIRE_INFO, "skipping rcpt %s: MAIL was "
			    "refused", st->arg);
			exec_skip(x, i, SCN_SKIP, "MAIL was refused");
			return;
		}
		if (st->op == SCN_DATA && (x->txn_failed ||
		    x->txn_rcpt_ok == 0)) {
			exec_note(x, WIRE_INFO, "skipping data: %s",
			    x->txn_failed ? "MAIL was refused" :
			    "no recipient was accepted");
			exec_skip(x, i, SCN_SKIP, "%s", x->txn_failed ?
			    "MAIL was refused" : "no recipient was accepted");
			return;
		}
	}
	memset(&c, 0, sizeof(c));
	c.stage = first;
	c.arg = st->arg;
	c.params = st->params;
	c.flags = flags;
	switch (st->op) {
	case SCN_AUTH:
		if (x->secret != NULL) {
			OPENSSL_cleanse(x->secret, strlen(x->secret));
			free(x->secret);
		}
		if ((x->secret = exec_secret(x, st, why, sizeof(why))) ==
		    NULL) {
			exec_local_fail(x, i, STAGE_AUTH, why);
			return;
		}
		c.mech = st->mech;
		c.secret = x->secret;
		break;
	case SCN_MAIL:
		exec_txn_clear(x);
		x->txn_from = xstrdup(st->arg);
		break;
	case SCN_RCPT:
		x->txn_rcpt = xreallocarray(x->txn_rcpt, x->ntxn_rcpt + 1,
		    sizeof(char *));
		x->txn_rcpt[x->ntxn_rcpt++] = xstrdup(st->arg);
		break;
	case SCN_DATA:
		free(x->msg);
		x->msg = NULL;
		if (!(flags & SMTP_F_STOP) && (x->msg = exec_message(x, st,
		    &c.message_len, why, sizeof(why))) == NULL) {
			exec_local_fail(x, i, STAGE_DATA, why);
			return;
		}
		c.message = x->msg;
		break;
	case SCN_SLEEP:
		c.ms = st->ms;
		break;
	case SCN_QUIT:
	case SCN_DROP:
		x->running = (ssize_t)i;
		x->wait = WAIT_STEP;
		if (st->op == SCN_QUIT)
			smtp_quit(x->cur);
		else
			smtp_drop(x->cur);
		return;
	default:
		break;
	}
	x->running = (ssize_t)i;
	x->wait = WAIT_STEP;
	if (smtp_do(x->cur, &c) == -1) {
		x->running = RUN_NONE;
		x->wait = WAIT_NONE;
		exec_local_fail(x, i, first, "the session could not take this "
		    "command");
	}
}

/* exec_judge - settle step i from its primary step (NULL: none) */
static void
exec_judge(struct scn_exec *x, size_t i, const struct step *primary,
    int ended)
{
	const struct scn_step *st = &x->scn->steps[i];
	struct scn_result *res = &x->res[i];
	struct smtp_session *s = x->sess[x->nsess - 1];
	struct record	*rec = smtp_session_record_mut(s);
	struct step	*ps = NULL;
	char		 got[512];
	int		 failed, met;

	res->session = (int)x->nsess - 1;
	if (primary != NULL) {
		ps = &rec->steps[primary - rec->steps];
		res->rstep = primary - rec->steps;
		ps->line = st->line;
	}
	failed = ps != NULL && ps->outcome != OUT_OK &&
	    !(ps->outcome == OUT_SKIPPED && (st->flags & SMTP_F_OPTIONAL));
	/* the transaction's state follows the server, expected or not */
	if (st->op == SCN_MAIL && failed)
		x->txn_failed = 1;
	if (st->op == SCN_RCPT && !failed && ps != NULL)
		x->txn_rcpt_ok++;
	if (st->op == SCN_RSET && !failed)
		exec_txn_clear(x);
	if (st->expect != NULL) {
		met = scn_expect_match(st->expect, rec, ps, got, sizeof(got));
		if (ps != NULL) {
			expect_mark(ps, st->expect, met, got);
		}
		if (met && ps != NULL && (ps->outcome == OUT_TIMEOUT ||
		    ps->outcome == OUT_CLOSED || ps->outcome == OUT_ERROR) &&
		    rec->error != NULL) {
			/* the failure was the point of the step */
			free(rec->error);
			rec->error = NULL;
		}
		if (met) {
			res->status = SCN_PASS;
			exec_note(x, WIRE_INFO, "expect %s: ok (line %d)",
			    st->expect->spec, st->expect->line);
		} else {
			res->status = SCN_FAIL;
			exec_skip(x, i, SCN_FAIL, "expected %s, got %s",
			    st->expect->want, got);
			exec_note(x, WIRE_ERROR, "expectation not met (line "
			    "%d): expected %s, got %s%s", st->expect->line,
			    st->expect->want, got, st->expect->cont ? "" :
			    "; stopping");
			if (!st->expect->cont)
				exec_stop(x);
		}
		if (ps == NULL && !met) {
			/* nothing recorded the step: the run says so */
			exec_stop(x);
		}
		if (ended)
			record_settle(rec);
		return;
	}
	if (!failed) {
		res->status = SCN_PASS;
		return;
	}
	res->status = SCN_FAIL;
	free(res->detail);
	res->detail = xstrdup(ps->detail != NULL ? ps->detail :
	    ps->reply != NULL && ps->reply->nlines > 0 ? ps->reply->lines[0] :
	    record_outcome_name(ps->outcome));
	if (ended)
		return;
	switch (st->op) {
	case SCN_CONNECT:
	case SCN_EHLO:
	case SCN_HELO:
	case SCN_STARTTLS:
	case SCN_AUTH:
	case SCN_RSET:
		/* the session cannot usefully go on */
		x->wait = WAIT_NONE;
		exec_end_session(x);
		break;
	default:
		break;
	}
}

static void
exec_after(struct scn_exec *x, size_t i)
{
	const struct scn_step *st = &x->scn->steps[i];
	const struct scn_params *p = x->p;
	enum smtp_stage	 last = op_last(st->op), first = op_first(st->op);

	if (x->stopping || x->finished)
		return;
	if (x->stop_after) {
		x->stop_after = 0;
		if (p->stop_before >= 0 && (int)last == p->stop_before)
			exec_note(x, WIRE_INFO, "stopping before %s as asked",
			    stage_name(last));
		else
			exec_note(x, WIRE_INFO, "stopping after %s as asked",
			    stage_name(first));
		exec_stop(x);
		return;
	}
	if (p->quit_after >= 0 && (int)last == p->quit_after &&
	    x->pc < x->scn->nsteps) {
		const struct scn_step *next = &x->scn->steps[x->pc];

		if (op_first(next->op) != last && next->op != SCN_QUIT &&
		    next->op != SCN_DROP) {
			exec_note(x, WIRE_INFO, "stopping after %s as asked",
			    stage_name(last));
			exec_stop(x);
		}
	}
}

static void
exec_ready(void *arg, const struct record *r, const struct step *primary)
{
	struct scn_exec	*x = arg;
	ssize_t		 i = x->running;
	int		 nested = x->in_advance;

	x->in_advance = 1;
	x->running = RUN_NONE;
	x->wait = WAIT_NONE;
	if (i == RUN_IMPLICIT) {
		if (primary != NULL && primary->outcome != OUT_OK)
			exec_end_session(x);
	} else if (i >= 0) {
		exec_judge(x, (size_t)i, primary, 0);
		exec_after(x, (size_t)i);
	}
	x->in_advance = nested;
	exec_advance(x);
}

static void
exec_done(void *arg, const struct record *r)
{
	struct scn_exec	*x = arg;
	ssize_t		 i = x->running;
	const struct step *last;
	int		 nested = x->in_advance;

	x->in_advance = 1;
	x->running = RUN_NONE;
	x->wait = WAIT_NONE;
	last = r->nsteps > 0 ? &r->steps[r->nsteps - 1] : NULL;
	if (i >= 0) {
		const struct scn_step *st = &x->scn->steps[i];

		if (st->op == SCN_DROP || (st->op == SCN_QUIT &&
		    st->expect == NULL))
			x->res[i].status = SCN_PASS;
		else
			exec_judge(x, (size_t)i, st->op == SCN_SLEEP ? NULL :
			    last, 1);
		/* the session ended under this step: that is its failure */
		if (st->expect == NULL && st->op != SCN_QUIT &&
		    st->op != SCN_DROP && r->error != NULL)
			x->res[i].status = SCN_FAIL;
		if (x->res[i].status == SCN_FAIL && st->expect == NULL &&
		    x->res[i].detail == NULL)
			x->res[i].detail = xstrdup(r->error != NULL ?
			    r->error : "the session ended");
	}
	record_settle(smtp_session_record_mut(x->sess[x->nsess - 1]));
	x->cur = NULL;
	if (x->p->out != NULL && x->p->out->done != NULL)
		x->p->out->done(x->p->arg, r);
	x->in_advance = nested;
	exec_advance(x);
}

struct scn *
scn_classic(const struct scn_classic *c)
{
	struct scn	*s = scn_new("default");
	struct scn_step	 st;
	size_t		 i, j;

#define ADD(o) do {						\
	memset(&st, 0, sizeof(st));				\
	st.op = (o);						\
} while (0)
	ADD(SCN_CONNECT);
	scn_add(s, &st);
	ADD(SCN_EHLO);
	scn_add(s, &st);
	if (c->tls_mode == SMTP_TLS_REQUIRE ||
	    c->tls_mode == SMTP_TLS_OPTIONAL) {
		ADD(SCN_STARTTLS);
		if (c->tls_mode == SMTP_TLS_OPTIONAL)
			st.flags = SMTP_F_OPTIONAL;
		scn_add(s, &st);
	}
	if (c->auth_mech >= 0) {
		ADD(SCN_AUTH);
		st.mech = c->auth_mech;
		st.arg = (char *)c->auth_user;
		st.flags = c->auth_insecure ? SMTP_F_INSECURE : 0;
		scn_add(s, &st);
	}
	for (i = 0; i < c->ntxn; i++) {
		if (i > 0) {
			ADD(SCN_RSET);
			scn_add(s, &st);
		}
		ADD(SCN_MAIL);
		st.arg = (char *)c->txn[i].from;
		scn_add(s, &st);
		for (j = 0; j < c->txn[i].nrcpt; j++) {
			ADD(SCN_RCPT);
			st.arg = (char *)c->txn[i].rcpt[j];
			scn_add(s, &st);
		}
		if (c->data) {
			ADD(SCN_DATA);
			scn_add(s, &st);
		}
	}
	ADD(SCN_QUIT);
	scn_add(s, &st);
#undef ADD
	return s;
}

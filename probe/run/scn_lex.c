/*
 * scn_lex.c - the scenario lexer: a line cut into tokens (bare words,
 * "quoted strings" with \-escapes, /regular expressions/ after expect),
 * each with its ${variables} expanded from the variable table, also
 * here; errors name file, line and column. See scn.c for the parser.
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
#include "scn_int.h"

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

void
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
size_t
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
ssize_t
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
int
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

int
too_many(struct lex *lx, struct tok *t, size_t n, size_t max,
    const char *usage)
{
	if (n <= max)
		return 0;
	lex_error(lx, t[max].col, "unexpected \"%.40s\" (expected: %s)",
	    t[max].s, usage);
	return -1;
}

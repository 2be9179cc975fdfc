/*
 * scn_kw.c - the scenario keywords (see smtprobe-scenario(5)): the
 * table of step keywords, each with the function that checks the rest
 * of its line (parse_name ... parse_retry), the "expect" line's
 * grammar (parse_expect), and parse_step(), which picks a line's row.
 * The driver that reads the lines is scn.c; the tokens come from
 * scn_lex.c (scn_int.h).
 */
#include "config.h"

#include <sys/types.h>

#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "scn.h"
#include "util.h"
#include "valid.h"
#include "scn_int.h"

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
static int	parse_retry(struct lex *, struct scn_step *, struct tok *,
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
	    "data [bdat] [file PATH | raw \"BYTES\" [smuggling] | <<WORD]" },
	{ "rset", SCN_RSET, parse_none, "rset" },
	{ "noop", SCN_NOOP, parse_none, "noop" },
	{ "vrfy", SCN_VRFY, parse_vrfy, "vrfy ARGUMENT" },
	{ "send", SCN_SEND, parse_send, "send \"LINE\" [noreply]" },
	{ "sleep", SCN_SLEEP, parse_sleep, "sleep SECONDS" },
	{ "quit", SCN_QUIT, parse_none, "quit" },
	{ "drop", SCN_DROP, parse_none, "drop" },
	{ "retry", SCN_RETRY, parse_retry, "retry after SECONDS" },
};

/* every keyword, for scn_keywords() and the documentation test */
static const char *const all_keywords[] = {
	"connect", "ehlo", "helo", "starttls", "auth", "mail", "rcpt",
	"data", "rset", "noop", "vrfy", "send", "sleep", "quit", "drop",
	"retry", "expect", "set", "finding", "advice", "pipeline", "end", NULL
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


const char *
scn_class_word(const char *w)
{
	size_t	 k;

	for (k = 0; verdict_classes[k] != NULL; k++)
		if (strcasecmp(w, verdict_classes[k]) == 0)
			return verdict_classes[k];
	return NULL;
}

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
	if (n >= 2 && t[1].kind == TOK_WORD && strcasecmp(t[1].s, "bdat") ==
	    0) {
		/* data bdat ...: the message in BDAT chunks (RFC 3030) */
		st->flags |= SMTP_F_BDAT;
		t++;
		n--;
	}
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
		if (n == 4 && strcasecmp(t[3].s, "smuggling") == 0 &&
		    (st->flags & SMTP_F_BDAT)) {
			lex_error(lx, t[3].col, "smuggling needs DATA and its "
			    "final dot: not with data bdat");
			return -1;
		}
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
	lex_error(lx, t[1].col, "unexpected \"%.40s\" (expected: data [bdat], "
	    "data [bdat] file PATH, data [bdat] raw \"BYTES\" or data [bdat] "
	    "<<WORD)", t[1].s);
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

/* parse_retry - "retry after SECONDS" (greylisting, see scn_run.c) */
static int
parse_retry(struct lex *lx, struct scn_step *st, struct tok *t, size_t n)
{
	char	 err[160];
	double	 d;

	if (n != 3 || strcasecmp(t[1].s, "after") != 0) {
		lex_error(lx, n > 1 ? t[1].col : 0, "expected: retry after "
		    "SECONDS");
		return -1;
	}
	if (memchr(t[2].s, '\0', t[2].len) != NULL || valid_seconds(t[2].s,
	    0, 3600, &d, err, sizeof(err)) == -1) {
		lex_error(lx, t[2].col, "bad duration \"%.40s\" (expected "
		    "decimal seconds from 0 to 3600, e.g. 60)", t[2].s);
		return -1;
	}
	st->ms = (long)(d * 1000.0 + 0.5);
	return 0;
}

/*
 * match_word - a code pattern, an enhanced code pattern, an outcome.
 * Its words come from lex_line() in scn_lex.c, which gcc's analyzer
 * does not follow across files: it takes their bytes for uninitialized.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-use-of-uninitialized-value"
#endif
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
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/* expect_lower - a word token in lower case into low (cap bytes), or -1 */
static int
expect_lower(const struct tok *t, char *low, size_t cap)
{
	size_t	 k;

	if (t->kind != TOK_WORD || t->len >= cap)
		return -1;
	for (k = 0; k <= t->len; k++)
		low[k] = (char)tolower((unsigned char)t->s[k]);
	return 0;
}

/* expect_code - a code or outcome word into alternative group grp */
static int
expect_code(struct lex *lx, struct scn_expect *e, const struct tok *t,
    int grp)
{
	char	 low[16];

	if (expect_lower(t, low, sizeof(low)) == -1) {
		lex_error(lx, t->col, "expected a reply code (250, 2xx, 55x), "
		    "an enhanced code (5.7.1, 5.x.x) or ok, tempfail, "
		    "permfail, timeout, closed, error, skipped, any");
		return -1;
	}
	if (!match_word(low)) {
		lex_error(lx, t->col, "\"%.40s\" is not a reply code, "
		    "enhanced code or outcome (expected e.g. 250, 2xx, 5.7.1, "
		    "tempfail)", t->s);
		return -1;
	}
	if (e->nmatch == SCN_MAX_MATCH) {
		lex_error(lx, t->col, "too many alternatives (at most %d)",
		    SCN_MAX_MATCH);
		return -1;
	}
	e->group[e->nmatch] = grp;
	memcpy(e->match[e->nmatch++], low, t->len + 1);
	return 0;
}

/* expect_text - the "text" or /regex/ the reply must hold */
static int
expect_text(struct lex *lx, struct scn_expect *e, const struct tok *t)
{
	char	 buf[128];
	int	 rc;

	if (e->text != NULL || e->re != NULL) {
		lex_error(lx, t->col, "one text or regular expression per "
		    "expect line");
		return -1;
	}
	if (t->kind == TOK_STRING) {
		e->text = xstrdup(t->s);
		return 0;
	}
	e->re = xcalloc(1, sizeof(regex_t));
	if ((rc = regcomp(e->re, t->s, REG_EXTENDED | REG_ICASE |
	    REG_NOSUB)) != 0) {
		regerror(rc, e->re, buf, sizeof(buf));
		free(e->re);
		e->re = NULL;
		lex_error(lx, t->col, "bad regular expression: %s", buf);
		return -1;
	}
	return 0;
}

/* expect_verdict - "verdict CLASS" (t the keyword, n tokens left) */
static int
expect_verdict(struct lex *lx, struct scn_expect *e, const struct tok *t,
    size_t n)
{
	size_t	 k;

	if (n < 2) {
		lex_error(lx, t->col, "verdict needs a class (ip, helo, sender, "
		    "recipient ...)");
		return -1;
	}
	for (k = 0; verdict_classes[k] != NULL; k++)
		if (strcasecmp(t[1].s, verdict_classes[k]) == 0)
			break;
	if (verdict_classes[k] == NULL) {
		lex_error(lx, t[1].col, "unknown verdict class \"%.40s\" "
		    "(expected one of accepted ip helo sender recipient relay "
		    "content auth tls rate greylist policy server network "
		    "protocol)", t[1].s);
		return -1;
	}
	free(e->vclass);
	e->vclass = xstrdup(verdict_classes[k]);
	return 0;
}

/*
 * expect_else - "else stop|continue" or "else finding NAME ["LABEL"]
 * [stop|continue]" (t the keyword, n tokens left: all of them are)
 */
static int
expect_else(struct lex *lx, struct scn_expect *e, struct tok *t, size_t n)
{
	size_t	 i;

	if (n < 3 || strcasecmp(t[1].s, "finding") != 0) {
		if (n != 2 || (strcasecmp(t[1].s, "stop") != 0 &&
		    strcasecmp(t[1].s, "continue") != 0)) {
			lex_error(lx, t->col, "expected \"else stop\" or "
			    "\"else continue\" at the end of the line");
			return -1;
		}
		e->cont = strcasecmp(t[1].s, "continue") == 0;
		return 0;
	}
	e->finding = xstrdup(t[2].s);
	e->finding_col = t[2].col;
	i = 3;
	if (i < n && t[i].kind == TOK_STRING) {
		/* what this check is, named in the finding */
		if (t[i].len == 0 || tok_text(lx, &t[i], "the label") == -1) {
			if (!lx->failed)
				lex_error(lx, t[i].col, "empty label");
			return -1;
		}
		e->label = xstrdup(t[i].s);
		i++;
	}
	if (i + 1 < n || (i < n && strcasecmp(t[i].s, "continue") != 0 &&
	    strcasecmp(t[i].s, "stop") != 0)) {
		lex_error(lx, t[i].col, "expected \"else finding NAME "
		    "[\"LABEL\"] [stop|continue]\" at the end of the line");
		return -1;
	}
	e->cont = i < n && strcasecmp(t[i].s, "continue") == 0;
	return 0;
}

/*
 * parse_expect - the words of an expect line after the keyword (t[1]
 * on): codes and outcomes, "or" between alternatives, a text or regex,
 * "without", "verdict CLASS", then "else ..." at the end
 */
static int
parse_expect(struct lex *lx, struct scn_expect *e, struct tok *t, size_t n)
{
	size_t	 i = 1;
	int	 want_match = 1, grp = 0;
	char	 low[16];

	while (i < n) {
		if (!want_match && e->text == NULL && e->re == NULL &&
		    e->vclass == NULL && strcasecmp(t[i].s, "or") != 0 &&
		    strcasecmp(t[i].s, "else") != 0 &&
		    strcasecmp(t[i].s, "verdict") != 0 &&
		    expect_lower(&t[i], low, sizeof(low)) == 0 &&
		    match_word(low))
			want_match = 1;	/* and: same alternative */
		if (want_match) {
			if (expect_code(lx, e, &t[i], grp) == -1)
				return -1;
			want_match = 0;
			i++;
		} else if (strcasecmp(t[i].s, "or") == 0 &&
		    t[i].kind == TOK_WORD) {
			if (e->text != NULL || e->re != NULL ||
			    e->vclass != NULL) {
				lex_error(lx, t[i].col, "\"or\" after the "
				    "text or verdict (codes come first)");
				return -1;
			}
			want_match = 1;
			grp++;
			i++;
		} else if (t[i].kind == TOK_WORD &&
		    strcasecmp(t[i].s, "without") == 0) {
			if (i + 1 >= n || (t[i + 1].kind != TOK_STRING &&
			    t[i + 1].kind != TOK_REGEX)) {
				lex_error(lx, t[i].col, "without needs a "
				    "\"text\" or a /regex/ after it");
				return -1;
			}
			e->without = 1;
			i++;
		} else if (t[i].kind == TOK_STRING || t[i].kind == TOK_REGEX) {
			if (expect_text(lx, e, &t[i]) == -1)
				return -1;
			i++;
		} else if (strcasecmp(t[i].s, "verdict") == 0) {
			if (expect_verdict(lx, e, &t[i], n - i) == -1)
				return -1;
			i += 2;
		} else if (strcasecmp(t[i].s, "else") == 0) {
			if (expect_else(lx, e, &t[i], n - i) == -1)
				return -1;
			i = n;
		} else {
			lex_error(lx, t[i].col, "unexpected \"%.40s\" "
			    "(expected \"or\", a \"text\", a /regex/, verdict "
			    "CLASS or else stop|continue|finding NAME)",
			    t[i].s);
			return -1;
		}
	}
	if (want_match) {
		lex_error(lx, n > 1 ? t[n - 1].col : 0, "expect needs a code "
		    "or an outcome after it%s", n > 1 ? " (after \"or\")" :
		    "");
		return -1;
	}
	return 0;
}

/*
 * parse_expect_line - an "expect" line (l, n bytes from the keyword on)
 * for the step above it
 */
int
parse_expect_line(struct lex *lx, struct scn *s, struct tok *toks,
    size_t nt, const char *l, size_t n)
{
	struct scn_expect *e;
	char		*el, *p;
	size_t		 k;

	if (s->nsteps == 0) {
		lex_error(lx, toks[0].col, "expect before any step (it "
		    "checks the step above)");
		return -1;
	}
	if (s->steps[s->nsteps - 1].expect != NULL) {
		lex_error(lx, toks[0].col, "a second expect for one step "
		    "(join them with \"or\")");
		return -1;
	}
	e = xcalloc(1, sizeof(*e));
	if (parse_expect(lx, e, toks, nt) == -1) {
		expect_free(e);
		return -1;
	}
	for (k = 6; k < n && (l[k] == ' ' || l[k] == '\t'); k++)
		;
	if (e->finding != NULL && scn_finding_find(s, e->finding) == NULL) {
		lex_error(lx, e->finding_col, "no finding \"%.40s\" above "
		    "(declare it first: finding NAME CLASS SEVERITY "
		    "\"TITLE\")", e->finding);
		expect_free(e);
		return -1;
	}
	e->spec = xstrndup(l + k, n - k);
	e->want = xstrdup(e->spec);
	e->line = lx->line;
	/* "else ..." is how to go on, not what */
	el = e->want;
	while ((p = strcasestr(el, " else ")) != NULL)
		el = p + 1;
	if (el != e->want && el[-1] == ' ' && strncasecmp(el, "else ", 5) ==
	    0) {
		while (el > e->want && el[-1] == ' ')
			el--;
		*el = '\0';
	}
	s->steps[s->nsteps - 1].expect = e;
	return 0;
}

/* parse_step - a line that is a step: its keyword's row of keywords[] */
int
parse_step(struct lex *lx, struct scn *s, struct tok *toks, size_t nt,
    const char *text, size_t len, size_t *pos)
{
	struct scn_step	 st;
	size_t		 k;

	for (k = 0; k < nitems(keywords); k++)
		if (strcasecmp(toks[0].s, keywords[k].name) == 0)
			break;
	if (k == nitems(keywords)) {
		lex_error(lx, toks[0].col, "unknown keyword \"%.40s\" "
		    "(expected connect, ehlo, helo, starttls, auth, mail, "
		    "rcpt, data, rset, noop, vrfy, send, sleep, quit, drop, "
		    "retry, expect, set, finding, advice, pipeline or end)",
		    toks[0].s);
		return -1;
	}
	memset(&st, 0, sizeof(st));
	st.op = keywords[k].op;
	st.line = lx->line;
	if (keywords[k].parse(lx, &st, toks, nt) == -1 ||
	    (st.op == SCN_DATA && st.data == SCN_DATA_INLINE &&
	    parse_heredoc(lx, &st, text, len, pos) == -1)) {
		scn_step_clear(&st);
		return -1;
	}
	if (s->nsteps >= SCN_MAX_STEPS) {
		lex_error(lx, 0, "more than %d steps", SCN_MAX_STEPS);
		scn_step_clear(&st);
		return -1;
	}
	s->steps = xreallocarray(s->steps, s->nsteps + 1, sizeof(*s->steps));
	s->steps[s->nsteps++] = st;
	return 0;
}

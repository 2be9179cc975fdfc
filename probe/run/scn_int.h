/*
 * scn_int.h - the inside of the scenario modules: the lexer's tokens
 * and state (scn_lex.c), shared with the parser (scn.c). The runner
 * (scn_run.c) needs none of it, but for the named conclusions
 * (scn_concl.c) at the end.
 */
#ifndef SMTPROBE_SCN_INT_H
#define SMTPROBE_SCN_INT_H

#include <stddef.h>
#include <sys/types.h>

#include "scn.h"

struct util_buf;

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

/*
 * lex_error - a parse error at column col (0: the whole line) of the
 * current line, "FILE:LINE:COL: message" into the lexer's err; the
 * first error wins
 */
void	 lex_error(struct lex *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * lex_line - one line cut into tokens (toks has room for the line's
 * length), each with its ${variables} expanded; regex: /.../ is a
 * token of its own (after expect). The count, or -1 after lex_error()
 */
ssize_t	 lex_line(struct lex *, const char *, size_t, struct tok *, int regex);
/* lex_var - ${name} at s (n bytes) expanded into b; bytes used */
size_t	 lex_var(struct lex *, const char *, size_t, int, struct util_buf *);
/* tok_text - 0 if t may be sent as it is (no control bytes) */
int	 tok_text(struct lex *, const struct tok *, const char *what);
/* too_many - -1 with the usage line when a step has more than max tokens */
int	 too_many(struct lex *, struct tok *, size_t n, size_t max,
	    const char *usage);

struct record;
struct step;

/* scn_class_word - the verdict class w names (any case), or NULL */
const char	*scn_class_word(const char *);
/* scn_parse_finding - a "finding" line into s; -1 after lex_error() */
int		 scn_parse_finding(struct lex *, struct scn *, struct tok *,
		    size_t);
/* scn_parse_advice - an "advice" line into s; -1 after lex_error() */
int		 scn_parse_advice(struct lex *, struct scn *, struct tok *,
		    size_t);
/* scn_finding_clear - free what a finding holds */
void		 scn_finding_clear(struct scn_finding *);

/* scn_server_of - the server software the greeting or EHLO names */
enum scn_server	 scn_server_of(const struct record *);
/*
 * scn_advice - a finding's advice: the general text, then the one for
 * srv, or for every server named when srv is SCN_SRV_ANY (caller frees)
 */
char		*scn_advice(const struct scn_finding *, enum scn_server);
/*
 * scn_conclude - finding f reached on r at step ps (NULL: at stage):
 * a finding of f's severity with what happened, and r's conclusion
 * unless it has one
 */
void		 scn_conclude(struct record *, const struct scn_finding *,
		    const struct step *, enum smtp_stage, const char *what);

#endif

/*
 * jsonw.h - a fast JSON writer for jansson trees, and an arena for the
 * trees it writes (see probe/base/jsonw.c).
 *
 * jw_value() appends v to a growing buffer, byte for byte what
 * json_dumps(v, JW_FLAGS) gives: compact, keys in insertion order,
 * reals with JW_PRECISION significant digits as the probe's own JSON
 * (report.h) prints them, so 69.87 and not 69.870000000000005.
 *
 * jw_install() makes jansson allocate through jw_malloc()/jw_free():
 * between jw_arena_begin() and jw_arena_end() every block comes from an
 * arena that jw_arena_end() resets at once; outside, plain malloc.
 */
#ifndef SMTPROBE_JSONW_H
#define SMTPROBE_JSONW_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define JW_PRECISION	12	/* as report.h's JSON_REAL_PRECISION(12) */
#define JW_FLAGS	(JSON_COMPACT | JSON_PRESERVE_ORDER | \
			    JSON_ENCODE_ANY | JSON_REAL_PRECISION(JW_PRECISION))

/* A growing output buffer. */
struct jw_buf {
	char		*p;
	size_t		 len;
	size_t		 cap;
};

void		 jw_need(struct jw_buf *, size_t);
void		 jw_str(struct jw_buf *, const char *, size_t);
void		 jw_real(struct jw_buf *, double);
void		 jw_value(struct jw_buf *, json_t *);

/*
 * Writing without a tree (report_jw.c): jw_raw() appends n bytes as
 * they are (a literal key such as ",\"txn\":"), jw_int() an integer,
 * jw_cent() what jw_real(n / 100.0) writes for 0 <= n < 10^12 (a
 * time in milliseconds with 2 decimals) without its arithmetic,
 * jw_text() what jw_value(jw_string(s)) writes: null for NULL, the
 * string when it is valid UTF-8 (as jansson checks it), else its
 * util_escape() form. jw_utf8() is that check.
 */
void		 jw_raw(struct jw_buf *, const char *, size_t);
void		 jw_int(struct jw_buf *, long long);
void		 jw_cent(struct jw_buf *, int64_t);
void		 jw_text(struct jw_buf *, const char *);
int		 jw_utf8(const char *, size_t);
#define JW_LIT(o, s)	jw_raw((o), (s), sizeof(s) - 1)

void		 jw_install(void);
void		*jw_malloc(size_t);
void		 jw_free(void *);
void		 jw_arena_begin(void);
void		 jw_arena_end(void);
void		 jw_arena_release(void);

/*
 * jw_string - a jansson string for s (NULL: null). Text is escaped when it is
 * read (util_escape()); should it still not be valid UTF-8, it is
 * escaped again rather than dropped (json_string() alone returns NULL).
 */
json_t	*jw_string(const char *);

#endif

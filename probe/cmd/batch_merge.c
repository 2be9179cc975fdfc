/*
 * batch_merge.c - "smtprobe batch merge PART...": the outputs of the
 * shards of one run joined into one JSON-lines stream on standard
 * output (every record once, in the order of the parts, then one merged
 * summary record), and a check that every target of the input is there
 * exactly once. A part's --summary-record line says which shard it is,
 * how many lines the input has, which of them are no target, and the
 * input's SHA-256: from those merge tells a missing or doubled shard
 * and names each target missing, even when a whole part is. The input
 * itself (--input) is needed only to name the missing targets by their
 * text. Exit: 0 complete, 1 something missing, doubled or from another
 * run, 3 a part or the output could not be read or written, 64 usage.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "batch_int.h"
#include "log.h"
#include "schema.h"
#include "util.h"

#define MERGE_EXIT_INCOMPLETE	1
#define MERGE_EXIT_IO		3

/* One part: a shard's output. */
struct mpart {
	const char	*path;
	json_t		*summary;	/* its last summary record, or NULL */
	size_t		 records;	/* records of it written */
	size_t		 dups;		/* records of it dropped as doubles */
	size_t		 bad;		/* lines that are no record */
};

/* The merge. */
struct merge {
	struct mpart	*p;
	size_t		 np;
	const char	*input;		/* --input, or NULL */
	int		 quiet;
	json_t		*keys;		/* record key -> part index */
	unsigned char	*seen;		/* by input index: reported */
	size_t		 nseen;
	json_t		*counts;	/* status -> records written */
	json_t		*missing;	/* [{input_index, target}] */
	json_t		*dups;		/* [{input_index, target, ...}] */
	json_t		*ref;		/* the summary the others match */
	size_t		 written;
	int		 rc;
	int		 out_error;
};

static void	 merge_usage(FILE *f);
static int	 merge_line(struct merge *m, size_t pi, const char *line,
		    size_t len, size_t lineno);
static int	 merge_part(struct merge *m, size_t pi);
static int	 merge_same_run(struct merge *m, size_t pi);
static void	 merge_shards(struct merge *m);
static char	**merge_input_lines(struct merge *m, size_t *nlines,
		    const char **skipped, char **buf);
static void	 merge_missing(struct merge *m);
static void	 merge_summary(struct merge *m);

/* merge_usage - the help of batch merge */
static void
merge_usage(FILE *f)
{
	fprintf(f, "usage: smtprobe batch merge [--input FILE] [-q] "
	    "PART...\n"
	    "Join the outputs of the shards of one batch run (each written "
	    "with --summary-record)\n"
	    "into one JSON-lines stream on standard output: every record "
	    "once, then one merged\n"
	    "summary record. Names on standard error every target missing "
	    "or duplicated and every\n"
	    "shard without a part or with two; exits 1 then.\n"
	    "  --input FILE  the target list the shards read: checked "
	    "against their SHA-256,\n"
	    "                names the missing targets by their text\n"
	    "  -q            no line per problem, only the count\n"
	    "  -h, --help    this text\n");
}

/* merge_key - the identity of a record: its index, with --all-mx also
   its address */
static char *
merge_key(json_t *rec, json_int_t idx)
{
	const char	*a = json_string_value(json_object_get(rec, "address"));

	if (json_object_get(rec, "mx_index") != NULL)
		return xasprintf("%lld/%s", (long long)idx, a != NULL ? a :
		    "-");
	return xasprintf("%lld", (long long)idx);
}

/* merge_line - one line of part pi: a record, written unless a double,
   or its summary */
static int
merge_line(struct merge *m, size_t pi, const char *line, size_t len,
    size_t lineno)
{
	struct mpart	*p = &m->p[pi];
	json_t		*o, *v, *prev;
	json_int_t	 idx;
	const char	*st, *tg;
	char		*key;

	if ((o = json_loadb(line, len, 0, NULL)) == NULL || !json_is_object(o))
		goto bad;
	if ((v = json_object_get(o, "input_index")) == NULL &&
	    json_is_object(json_object_get(o, "summary"))) {
		json_decref(p->summary);
		p->summary = json_incref(json_object_get(o, "summary"));
		json_decref(o);
		return 0;
	}
	if (!json_is_integer(v) || (idx = json_integer_value(v)) < 0 ||
	    (st = json_string_value(json_object_get(o, "status"))) == NULL)
		goto bad;
	key = merge_key(o, idx);
	tg = json_string_value(json_object_get(o, "target"));
	if ((prev = json_object_get(m->keys, key)) != NULL) {
		json_array_append_new(m->dups, json_pack("{s:I, s:s?, s:o, "
		    "s:s, s:s}", "input_index", idx, "target", tg, "address",
		    json_deep_copy(json_object_get(o, "address")), "part",
		    p->path, "first_part",
		    m->p[json_integer_value(prev)].path));
		p->dups++;
		free(key);
		json_decref(o);
		return 0;
	}
	json_object_set_new(m->keys, key, json_integer((json_int_t)pi));
	free(key);
	if ((size_t)idx >= m->nseen) {
		size_t	 n = (size_t)idx + 1 > m->nseen * 2 ? (size_t)idx + 1 :
		    m->nseen * 2;

		m->seen = xreallocarray(m->seen, n, 1);
		memset(m->seen + m->nseen, 0, n - m->nseen);
		m->nseen = n;
	}
	m->seen[idx] = 1;
	v = json_object_get(m->counts, st);
	json_object_set_new(m->counts, st, json_integer(v != NULL ?
	    json_integer_value(v) + 1 : 1));
	json_decref(o);
	if (!m->out_error && (fwrite(line, 1, len, stdout) != len ||
	    putchar('\n') == EOF))
		m->out_error = errno != 0 ? errno : EIO;
	p->records++;
	m->written++;
	return 0;
bad:
	json_decref(o);
	log_warnx("batch merge: %s:%zu: not a batch record", p->path, lineno);
	p->bad++;
	return -1;
}

/* merge_part - read part pi and write its new records */
static int
merge_part(struct merge *m, size_t pi)
{
	struct mpart	*p = &m->p[pi];
	char		 err[512], *buf, *q, *nl;
	size_t		 len, lineno = 0;

	if (util_read_file(p->path, 0, &buf, &len, err, sizeof(err)) == -1) {
		log_warnx("batch merge: %s", err);
		return -1;
	}
	for (q = buf; q < buf + len; q = nl + 1) {
		lineno++;
		if ((nl = memchr(q, '\n', (size_t)(buf + len - q))) == NULL) {
			log_warnx("batch merge: %s:%zu: a partial last line "
			    "(%zu bytes; the shard was cut off) is left out",
			    p->path, lineno, (size_t)(buf + len - q));
			p->bad++;
			break;
		}
		if (nl > q)
			(void)merge_line(m, pi, q, (size_t)(nl - q), lineno);
	}
	free(buf);
	if (p->bad > 0)
		m->rc = MERGE_EXIT_INCOMPLETE;
	return 0;
}

/* merge_same_run - part pi's summary is of the same run as the others:
   same input, same shard count, seed and key */
static int
merge_same_run(struct merge *m, size_t pi)
{
	static const char *const what[][2] = {
		{ "input", "sha256" }, { "input", "lines" },
		{ "shard", "n" }, { "shard", "seed" }, { "shard", "key" },
	};
	json_t	*s = m->p[pi].summary, *a, *b;
	size_t	 k;

	if (m->ref == NULL) {
		m->ref = s;
		return 0;
	}
	for (k = 0; k < sizeof(what) / sizeof(what[0]); k++) {
		a = json_object_get(json_object_get(m->ref, what[k][0]),
		    what[k][1]);
		b = json_object_get(json_object_get(s, what[k][0]),
		    what[k][1]);
		if (!json_equal(a, b)) {
			log_warnx("batch merge: %s is not of the same run as "
			    "the parts before it: its %s.%s differs",
			    m->p[pi].path, what[k][0], what[k][1]);
			return -1;
		}
	}
	return 0;
}

/* merge_shards - every shard i of n has exactly one part */
static void
merge_shards(struct merge *m)
{
	json_int_t	 n, i;
	size_t		 pi, c;
	const char	*first;

	n = json_integer_value(json_object_get(json_object_get(m->ref,
	    "shard"), "n"));
	for (i = 0; i < n; i++) {
		c = 0;
		first = NULL;
		for (pi = 0; pi < m->np; pi++) {
			json_t	*s = m->p[pi].summary;

			if (s == NULL || json_integer_value(json_object_get(
			    json_object_get(s, "shard"), "i")) != i)
				continue;
			if (c++ == 0)
				first = m->p[pi].path;
			else
				log_warnx("batch merge: shard %lld/%lld: "
				    "two parts, %s and %s", (long long)i,
				    (long long)n, first, m->p[pi].path);
		}
		if (c == 0)
			log_warnx("batch merge: shard %lld/%lld: no part",
			    (long long)i, (long long)n);
		if (c != 1)
			m->rc = MERGE_EXIT_INCOMPLETE;
	}
}

/*
 * merge_input_lines - --input split in lines (trimmed, NUL-terminated in
 * *buf), *skipped[i] set for the lines that are no target; NULL when it
 * cannot be read or is not the input of the summaries
 */
static char **
merge_input_lines(struct merge *m, size_t *nlines, const char **skipped,
    char **buf)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0, k;
	char		 err[512], hex[2 * EVP_MAX_MD_SIZE + 1], *q, *nl, *e;
	char		**line = NULL, *skip = NULL;
	const char	*want;
	size_t		 len, n = 0;

	if (util_read_file(m->input, 0, buf, &len, err, sizeof(err)) == -1) {
		log_warnx("batch merge --input: %s", err);
		return NULL;
	}
	if (EVP_Digest(*buf, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		fatalx("cannot hash the input");
	for (k = 0; k < mdlen; k++)
		snprintf(hex + 2 * k, sizeof(hex) - 2 * k, "%02x", md[k]);
	hex[2 * mdlen] = '\0';
	want = json_string_value(json_object_get(json_object_get(m->ref,
	    "input"), "sha256"));
	if (want != NULL && strcmp(want, hex) != 0) {
		log_warnx("batch merge --input: %s is not the input of the "
		    "shards (SHA-256 %s, theirs %s)", m->input, hex, want);
		free(*buf);
		return NULL;
	}
	for (q = *buf; q < *buf + len; q = nl + 1) {
		if ((nl = memchr(q, '\n', (size_t)(*buf + len - q))) == NULL)
			nl = *buf + len;
		*nl = '\0';
		e = nl;
		while (q < e && isspace((unsigned char)*q))
			q++;
		while (e > q && isspace((unsigned char)e[-1]))
			e--;
		*e = '\0';
		line = xreallocarray(line, n + 1, sizeof(char *));
		skip = xreallocarray(skip, n + 1, 1);
		line[n] = q;
		skip[n] = *q == '\0' || *q == '#';
		n++;
	}
	*nlines = n;
	*skipped = skip;
	return line;
}

/* merge_missing - every target index of the input was reported; the
   missing ones named */
static void
merge_missing(struct merge *m)
{
	json_t		*in = json_object_get(m->ref, "input"), *v;
	char		**text = NULL, *buf = NULL, *esc;
	const char	*skip = NULL;
	unsigned char	*no;
	size_t		 lines, i, ntext = 0;

	lines = (size_t)json_integer_value(json_object_get(in, "lines"));
	if (m->input != NULL && (text = merge_input_lines(m, &ntext, &skip,
	    &buf)) == NULL) {
		m->rc = MERGE_EXIT_INCOMPLETE;
		return;
	}
	if (m->ref == NULL)
		lines = ntext;
	no = xcalloc(lines + 1, 1);
	if (m->ref != NULL)
		json_array_foreach(json_object_get(in, "skipped_lines"), i, v)
			if (json_integer_value(v) >= 0 &&
			    (size_t)json_integer_value(v) < lines)
				no[json_integer_value(v)] = 1;
	for (i = 0; i < lines; i++) {
		if (no[i] || (i < ntext && skip[i]) ||
		    (i < m->nseen && m->seen[i]))
			continue;
		esc = i < ntext ? util_escape(text[i], strlen(text[i])) : NULL;
		json_array_append_new(m->missing, json_pack("{s:I, s:s?}",
		    "input_index", (json_int_t)i, "target", esc));
		if (!m->quiet)
			log_warnx("batch merge: missing: input line %zu%s%s",
			    i + 1, esc != NULL ? ": " : "", esc != NULL ?
			    esc : "");
		free(esc);
		m->rc = MERGE_EXIT_INCOMPLETE;
	}
	free(no);
	free(text);
	free((char *)skip);
	free(buf);
}

/* merge_summary - the merged summary record, the last line */
static void
merge_summary(struct merge *m)
{
	json_t		*parts = json_array(), *in, *sh, *sum, *o;
	char		 ended[32], *s;
	size_t		 pi;

	util_utc_iso(ended, sizeof(ended));
	for (pi = 0; pi < m->np; pi++) {
		struct mpart	*p = &m->p[pi];

		json_array_append_new(parts, json_pack("{s:s, s:O, s:I, s:I, "
		    "s:I}", "file", p->path, "shard", p->summary != NULL ?
		    json_object_get(p->summary, "shard") : json_null(),
		    "records", (json_int_t)p->records, "duplicates",
		    (json_int_t)p->dups, "bad_lines", (json_int_t)p->bad));
	}
	in = m->ref != NULL ? json_deep_copy(json_object_get(m->ref,
	    "input")) : json_null();
	sh = m->ref != NULL ? json_pack("{s:O, s:O, s:O}", "n",
	    json_object_get(json_object_get(m->ref, "shard"), "n"), "seed",
	    json_object_get(json_object_get(m->ref, "shard"), "seed"), "key",
	    json_object_get(json_object_get(m->ref, "shard"), "key")) :
	    json_null();
	sum = json_pack("{s:{s:s, s:s}, s:b, s:s, s:o, s:o, s:o, s:I, s:O, "
	    "s:O, s:O, s:b, s:i}",
	    "tool", "name", "smtprobe", "version", PACKAGE_VERSION,
	    "merged", 1, "ended", ended, "parts", parts, "input", in,
	    "shard", sh, "records", (json_int_t)m->written,
	    "counts", m->counts, "missing", m->missing,
	    "duplicated", m->dups, "complete", m->rc == 0,
	    "exit_code", m->rc);
	if (sum == NULL)
		fatalx("cannot build the merged summary");
	o = json_pack("{s:s, s:o}", "schema", SCHEMA_BATCH_SUMMARY, "summary",
	    sum);
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s == NULL)
		fatalx("cannot write the merged summary");
	if (!m->out_error && puts(s) == EOF)
		m->out_error = errno != 0 ? errno : EIO;
	free(s);
	json_decref(o);
}

/* batch_merge_main - smtprobe batch merge [--input FILE] [-q] PART... */
int
batch_merge_main(int argc, char **argv)
{
	struct merge	 m;
	json_t		*d;
	size_t		 pi, i;
	int		 k, done = 0;

	log_init("smtprobe", 0);
	memset(&m, 0, sizeof(m));
	m.p = xcalloc((size_t)argc, sizeof(*m.p));
	for (k = 1; k < argc; k++) {
		if (!done && strcmp(argv[k], "--") == 0)
			done = 1;
		else if (!done && (strcmp(argv[k], "-h") == 0 ||
		    strcmp(argv[k], "--help") == 0)) {
			merge_usage(stdout);
			free(m.p);
			return 0;
		} else if (!done && strcmp(argv[k], "-q") == 0)
			m.quiet = 1;
		else if (!done && strcmp(argv[k], "--input") == 0 &&
		    k + 1 < argc)
			m.input = argv[++k];
		else if (!done && strncmp(argv[k], "--input=", 8) == 0)
			m.input = argv[k] + 8;
		else if (!done && argv[k][0] == '-' && argv[k][1] != '\0') {
			log_warnx("batch merge: unknown option %s", argv[k]);
			merge_usage(stderr);
			free(m.p);
			return EXIT_USAGE;
		} else
			m.p[m.np++].path = argv[k];
	}
	if (m.np == 0) {
		merge_usage(stderr);
		free(m.p);
		return EXIT_USAGE;
	}
	m.keys = json_object();
	m.counts = json_object();
	m.missing = json_array();
	m.dups = json_array();
	for (pi = 0; pi < m.np; pi++)
		if (merge_part(&m, pi) == -1) {
			m.rc = MERGE_EXIT_IO;
			goto out;
		}
	json_array_foreach(m.dups, i, d) {
		if (!m.quiet)
			log_warnx("batch merge: duplicated: input line %lld "
			    "(%s%s%s) in %s and %s",
			    (long long)json_integer_value(json_object_get(d,
			    "input_index")) + 1,
			    json_string_value(json_object_get(d, "target")),
			    json_is_string(json_object_get(d, "address")) ?
			    " at " : "",
			    json_is_string(json_object_get(d, "address")) ?
			    json_string_value(json_object_get(d, "address")) :
			    "", json_string_value(json_object_get(d,
			    "first_part")), json_string_value(json_object_get(d,
			    "part")));
		m.rc = MERGE_EXIT_INCOMPLETE;
	}
	for (pi = 0; pi < m.np; pi++) {
		if (m.p[pi].summary == NULL) {
			log_warnx("batch merge: %s has no summary record "
			    "(batch --summary-record)", m.p[pi].path);
			m.rc = MERGE_EXIT_INCOMPLETE;
		} else if (merge_same_run(&m, pi) == -1)
			m.rc = MERGE_EXIT_INCOMPLETE;
	}
	if (m.ref != NULL)
		merge_shards(&m);
	if (m.ref != NULL || m.input != NULL)
		merge_missing(&m);
	else
		log_warnx("batch merge: without summary records nor --input, "
		    "missing targets cannot be told");
	merge_summary(&m);
	if (fflush(stdout) == EOF || ferror(stdout))
		m.out_error = m.out_error != 0 ? m.out_error : errno;
	if (m.out_error) {
		errno = m.out_error;
		log_warn("batch merge: cannot write the output");
		m.rc = MERGE_EXIT_IO;
	} else if (m.rc != 0)
		log_warnx("batch merge: %zu records; %zu targets missing, "
		    "%zu records duplicated", m.written,
		    json_array_size(m.missing), json_array_size(m.dups));
out:
	for (pi = 0; pi < m.np; pi++)
		json_decref(m.p[pi].summary);
	free(m.p);
	free(m.seen);
	json_decref(m.keys);
	json_decref(m.counts);
	json_decref(m.missing);
	json_decref(m.dups);
	return m.rc;
}

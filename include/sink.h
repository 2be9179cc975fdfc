/*
 * sink.h - where the results of a probe go, chosen once: the human
 * transcript and summary (text), the result line only (quiet, -q), one
 * JSON document (--json), TAP (--tap) or the ticket (--format ticket);
 * and the file outputs beside them (--report, --junit). Batch writes
 * JSON lines of its own (batch_out.c) with the same JSON writer.
 *
 * A struct sink is plain data the front end fills once (sink_choose()
 * gives the kind); nothing in it is owned. Every writer reports a
 * write error with a message and goes on.
 */
#ifndef SMTPROBE_SINK_H
#define SMTPROBE_SINK_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

struct record;
struct report_run;

enum sink_kind {
	SINK_TEXT,		/* transcript, step table, verdict */
	SINK_QUIET,		/* -q: the result line */
	SINK_JSON,		/* --json: one document */
	SINK_TAP,		/* --tap */
	SINK_TICKET		/* --format ticket */
};

struct sink {
	enum sink_kind	 kind;		/* sink_choose() */
	FILE		*fp;		/* stdout */
	int		 quiet;		/* -q: no transcript at all */
	int		 verbose;	/* -v: JSON's transcript, stderr */
	const char	*version;	/* the tool's, in documents */
};

/*
 * sink_choose - the kind from the options (they exclude each other but
 * for -q, which the others win over)
 */
enum sink_kind	 sink_choose(int json, int tap, int ticket, int quiet);

/*
 * sink_transcript - where a session's transcript goes: NULL (none),
 * stderr (JSON with -v), a memory stream into *buf and *len when keep
 * (printed later, in order: --all-mx), or the sink's stream. The caller
 * closes a memory stream and frees *buf.
 */
FILE		*sink_transcript(const struct sink *, int keep, char **buf,
		    size_t *len);

/* sink_text - the human form is wanted (not quiet, not a document) */
int		 sink_text(const struct sink *);

/*
 * sink_record - one session's result in the sink's form; extra, when
 * not NULL, adds to the text (fp set) or to the JSON document (obj set)
 */
typedef void	(*sink_extra)(FILE *fp, json_t *obj, void *arg);
void		 sink_record(const struct sink *, const struct record *,
		    sink_extra, void *arg);

/* sink_doc - doc (consumed) as the run's one JSON document */
void		 sink_doc(const struct sink *, json_t *doc);

/*
 * sink_suite - scenario runs or --all-mx: the JSON suite document, or
 * with -q and result_line the result line
 */
void		 sink_suite(const struct sink *, const struct report_run *,
		    size_t, int rc, int result_line);
/* sink_tap - with --tap, every run as a TAP test */
void		 sink_tap(const struct sink *, const struct report_run *,
		    size_t);

/*
 * sink_file - write(fp, arg) into the file path, for the option what
 * ("--report", "--junit"); -1 after a message
 */
int		 sink_file(const char *path, const char *what,
		    void (*write)(FILE *, void *), void *arg);

#endif

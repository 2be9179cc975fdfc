/*
 * sink.c - the outputs of a probe, chosen once (include/sink.h): one
 * place that knows which form goes where, over report.c's writers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "log.h"
#include "record.h"
#include "report.h"
#include "sink.h"

/* sink_choose - the kind the options ask for */
enum sink_kind
sink_choose(int json, int tap, int ticket, int quiet)
{
	if (ticket)
		return SINK_TICKET;
	if (tap)
		return SINK_TAP;
	if (json)
		return SINK_JSON;
	return quiet ? SINK_QUIET : SINK_TEXT;
}

/* sink_transcript - where a session's transcript goes */
FILE *
sink_transcript(const struct sink *s, int keep, char **buf, size_t *len)
{
	FILE	*fp;

	if (s->quiet || s->kind == SINK_TICKET || s->kind == SINK_TAP ||
	    s->kind == SINK_QUIET)
		return NULL;
	if (s->kind == SINK_JSON)
		return s->verbose > 0 ? stderr : NULL;
	if (!keep)
		return s->fp;
	if ((fp = open_memstream(buf, len)) == NULL)
		fatal("open_memstream");
	return fp;
}

int
sink_text(const struct sink *s)
{
	return s->kind == SINK_TEXT;
}

/* sink_record - one session's result */
void
sink_record(const struct sink *s, const struct record *rec, sink_extra extra,
    void *arg)
{
	json_t	*doc;

	switch (s->kind) {
	case SINK_TICKET:
	case SINK_TAP:
		break;
	case SINK_JSON:
		if (extra == NULL) {
			if (report_json(s->fp, rec, s->version) == -1)
				log_warnx("cannot write the JSON document");
			break;
		}
		doc = report_json_doc(rec, s->version);
		extra(NULL, doc, arg);
		if (json_dumpf(doc, s->fp, REPORT_JSON_FLAGS) == -1)
			log_warnx("cannot write the JSON document");
		fputc('\n', s->fp);
		json_decref(doc);
		break;
	case SINK_QUIET:
		report_result(s->fp, rec);
		break;
	case SINK_TEXT:
		report_summary(s->fp, rec);
		if (extra != NULL)
			extra(s->fp, NULL, arg);
		break;
	}
}

/* sink_doc - the run's one JSON document */
void
sink_doc(const struct sink *s, json_t *doc)
{
	if (json_dumpf(doc, s->fp, REPORT_JSON_FLAGS) == -1)
		log_warnx("cannot write the JSON document");
	fputc('\n', s->fp);
	json_decref(doc);
}

/* sink_suite - the runs of scenarios (or of --all-mx) */
void
sink_suite(const struct sink *s, const struct report_run *runs, size_t n,
    int rc, int result_line)
{
	if (s->kind == SINK_JSON) {
		if (report_suite_json(s->fp, runs, n, s->version, rc) == -1)
			log_warnx("cannot write the JSON document");
	} else if (s->quiet && result_line)
		fprintf(s->fp, "** result: %s (exit %d)\n", rc == 0 ?
		    "every step as expected" : "some steps failed", rc);
}

void
sink_tap(const struct sink *s, const struct report_run *runs, size_t n)
{
	if (s->kind == SINK_TAP)
		report_tap(s->fp, runs, n);
}

/* sink_file - one output file */
int
sink_file(const char *path, const char *what, void (*write)(FILE *, void *),
    void *arg)
{
	FILE	*fp;

	if ((fp = fopen(path, "w")) == NULL) {
		log_warn("%s: %s", what, path);
		return -1;
	}
	write(fp, arg);
	if (fclose(fp) != 0) {
		log_warn("%s: %s", what, path);
		return -1;
	}
	return 0;
}

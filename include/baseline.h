/*
 * baseline.h - baseline / drift mode (probe/out/baseline.c): the stable
 * facts of an MX address from a session's JSON document, a versioned
 * file of them, and their drift in a later run.
 */
#ifndef SMTPROBE_BASELINE_H
#define SMTPROBE_BASELINE_H

#include <stdio.h>

#include <jansson.h>

#define BASELINE_VERSION	1	/* the file's "baseline" */

/* the entry of one session document, and its key (ADDR:PORT) */
json_t		*baseline_entry(json_t *doc);
const char	*baseline_key(json_t *doc);

/* drift items of now against was at addr, appended to drift */
void		 baseline_compare(json_t *drift, const char *addr, json_t *was,
		    json_t *now);

/* the drift of this run's entries (address -> entry) against the file;
   partial: addresses of the file missing now are not drift */
json_t		*baseline_compare_all(json_t *base, json_t *now, int partial);
size_t		 baseline_errors(json_t *drift);

json_t		*baseline_load(const char *path);
int		 baseline_save(const char *path, json_t *entries,
		    const char *version);
void		 baseline_print(FILE *fp, const char *path, json_t *base,
		    json_t *drift);

#endif

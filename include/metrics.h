/*
 * metrics.h - the figures of a probe, a scenario suite or a batch in the
 * Prometheus text exposition format (--metrics FILE), for
 * node_exporter's textfile collector (probe/out/metrics.c).
 *
 * A struct metrics gathers sessions as they end (metrics_add()) and the
 * run's own figures, then metrics_write() writes every family at once,
 * atomically: a temporary file in the file's directory, renamed over
 * it, so the collector never reads half a file. Names start with
 * "smtprobe_"; label values are escaped (\\, \", \n). Nothing here
 * touches the network.
 */
#ifndef SMTPROBE_METRICS_H
#define SMTPROBE_METRICS_H

#include <stddef.h>
#include <stdio.h>

struct metrics;
struct record;

/* metrics_new - an empty set; command is "probe", "suite" or "batch" */
struct metrics	*metrics_new(const char *command);
void		 metrics_free(struct metrics *);

/*
 * metrics_add - one session's figures: counted in the totals, and, the
 * first time target and address are seen, its own series (target as
 * the user gave it; the address comes from the record)
 */
void		 metrics_add(struct metrics *, const struct record *,
		    const char *target);

/* metrics_count - a batch status and how many records had it */
void		 metrics_count(struct metrics *, const char *status,
		    size_t n);

/*
 * metrics_print - every family into fp; wall_s: the run's duration,
 * exit_code: its exit status
 */
void		 metrics_print(FILE *, const struct metrics *, double wall_s,
		    int exit_code);

/* metrics_write - metrics_print() into path, atomically; -1 after a
   message */
int		 metrics_write(const char *path, const struct metrics *,
		    double wall_s, int exit_code);

#endif

/*
 * batch_baseline.c - --baseline-save and --baseline for a batch: each
 * record's session gives a baseline entry (probe/out/baseline.c) keyed
 * "TARGET ADDR:PORT" (the target as given, the address connected to);
 * with --baseline the record gets a "drift" array, and the run's exit
 * status becomes 1 when an item is an error. Records are built in
 * jsonw's arena, freed at once after their write: what outlives a
 * record (the entries to save, the keys seen) is kept as malloc'ed
 * text, and turned back into JSON at the end.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "baseline.h"
#include "batch_int.h"
#include "log.h"
#include "util.h"

/* bbase_setup - load --baseline */
int
bbase_setup(struct batch *b)
{
	if (b->o.baseline == NULL)
		return 0;
	if ((b->bl_base = baseline_load(b->o.baseline)) == NULL)
		return -1;
	return 0;
}

/*
 * bbase_record - the entry of target t's session (in the arena): kept
 * for --baseline-save, compared for --baseline into rec's "drift"
 */
void
bbase_record(struct batch *b, const struct bt_target *t, json_t *session,
    json_t *rec)
{
	json_t		*e, *drift, *was;
	const char	*addr = baseline_key(session);
	char		*key, *text;
	size_t		 err;

	if (addr == NULL)
		return;
	key = xasprintf("%s %s", t->text, addr);
	e = baseline_entry(session);
	if (b->bl_base != NULL) {
		drift = json_array();
		was = json_object_get(json_object_get(b->bl_base, "entries"),
		    key);
		if (was == NULL)
			json_array_append_new(drift, json_pack("{s:s, s:s, "
			    "s:s, s:n, s:n, s:s}", "address", key, "field",
			    "address", "severity", "warning", "was", "now",
			    "detail", "a target and address the baseline "
			    "does not know"));
		else
			baseline_compare(drift, key, was, e);
		err = baseline_errors(drift);
		b->bl_errors += err;
		b->bl_warnings += json_array_size(drift) - err;
		json_object_set_new(rec, "drift", drift);
	}
	if ((text = json_dumps(e, JSON_COMPACT)) == NULL)
		fatalx("cannot write a baseline entry");
	b->bl_keys = xreallocarray(b->bl_keys, b->bl_n + 1, sizeof(char *));
	b->bl_entries = xreallocarray(b->bl_entries, b->bl_n + 1,
	    sizeof(char *));
	b->bl_keys[b->bl_n] = key;
	b->bl_entries[b->bl_n++] = xstrdup(text);
	json_decref(e);
	/* text is the arena's: it goes with the record */
}

/*
 * bbase_finish - at the end: the baseline's targets not reported (only
 * for a whole run: not a shard, not a resumed one) are errors; save
 * --baseline-save; the summary line on stderr. Returns the exit status.
 */
int
bbase_finish(struct batch *b, int rc)
{
	json_t		*entries, *e, *w;
	const char	*k;
	size_t		 i, missing = 0;
	int		 whole;

	if (b->bl_base == NULL && b->o.baseline_save == NULL)
		return rc;
	entries = json_object();
	for (i = 0; i < b->bl_n; i++)
		if ((e = json_loads(b->bl_entries[i], 0, NULL)) != NULL)
			json_object_set_new(entries, b->bl_keys[i], e);
	whole = b->shard_n <= 1 && b->o.resume == NULL && rc ==
	    BATCH_EXIT_OK;
	if (b->bl_base != NULL && whole)
		json_object_foreach(json_object_get(b->bl_base, "entries"),
		    k, w)
			if (json_object_get(entries, k) == NULL) {
				if (!b->o.quiet)
					log_warnx("batch --baseline: %s: in "
					    "the baseline, not reported now",
					    k);
				missing++;
			}
	b->bl_errors += missing;
	if (b->bl_base != NULL && !b->o.quiet)
		fprintf(stderr, "smtprobe batch: baseline %s: %zu drift "
		    "errors, %zu warnings%s\n", b->o.baseline, b->bl_errors,
		    b->bl_warnings, whole ? "" : " (a partial run: targets "
		    "of the baseline not reported are not counted)");
	if (b->bl_base != NULL && b->bl_errors > 0 && rc == BATCH_EXIT_OK)
		rc = 1;
	if (b->o.baseline_save != NULL && baseline_save(b->o.baseline_save,
	    entries, PACKAGE_VERSION) == -1 && rc == BATCH_EXIT_OK)
		rc = 1;
	json_decref(entries);
	return rc;
}

/* bbase_free - what batch_baseline.c holds */
void
bbase_free(struct batch *b)
{
	size_t	 i;

	for (i = 0; i < b->bl_n; i++) {
		free(b->bl_keys[i]);
		free(b->bl_entries[i]);
	}
	free(b->bl_keys);
	free(b->bl_entries);
	json_decref(b->bl_base);
}

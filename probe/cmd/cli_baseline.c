/*
 * cli_baseline.c - --baseline-save and --baseline for a probe: the
 * baseline entry of the first session of every MX address probed (one,
 * or every one with --all-mx), saved or compared (probe/out/baseline.c).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "baseline.h"
#include "cli_int.h"
#include "log.h"
#include "util.h"

/* cli_baseline_entries - address -> entry of every target's session */
static json_t *
cli_baseline_entries(struct cli_run *run)
{
	json_t		*entries = json_object(), *doc;
	const char	*key;
	size_t		 i;

	for (i = 0; i < run->nt; i++) {
		struct cli_target *ct = &run->t[i];

		if (ct->nexec == 0 || scn_exec_nrecords(ct->execs[0]) == 0)
			continue;
		doc = report_json_doc(scn_exec_record(ct->execs[0], 0),
		    PACKAGE_VERSION);
		if (doc == NULL)
			continue;
		if (run->cli->tls_check && run->tls != NULL)
			cli_tls_out(run, ct, NULL, doc);
		if ((key = baseline_key(doc)) != NULL)
			json_object_set_new(entries, key,
			    baseline_entry(doc));
		json_decref(doc);
	}
	return entries;
}

/*
 * cli_baseline - after the sessions: compare with --baseline, then save
 * --baseline-save; the exit status rc becomes at least 1 when something
 * drifted with severity error, or when a file fails
 */
int
cli_baseline(struct cli_run *run, int rc)
{
	struct opt_cli	*cli = run->cli;
	json_t		*entries;

	if (cli->baseline == NULL && cli->baseline_save == NULL)
		return rc;
	entries = cli_baseline_entries(run);
	if (cli->baseline != NULL) {
		if ((run->bl_base = baseline_load(cli->baseline)) == NULL) {
			json_decref(entries);
			return rc > 1 ? rc : 1;
		}
		run->bl_drift = baseline_compare_all(run->bl_base, entries, 0);
		if (baseline_errors(run->bl_drift) > 0 && rc == 0)
			rc = 1;
	}
	if (cli->baseline_save != NULL &&
	    baseline_save(cli->baseline_save, entries, PACKAGE_VERSION) == -1 &&
	    rc == 0)
		rc = 1;
	json_decref(entries);
	return rc;
}

/* cli_baseline_out - the drift as text on fp, or as "baseline" and
   "drift" in the JSON document obj */
void
cli_baseline_out(struct cli_run *run, FILE *fp, json_t *obj)
{
	if (run->bl_drift == NULL)
		return;
	if (fp != NULL)
		baseline_print(fp, run->cli->baseline, run->bl_base,
		    run->bl_drift);
	if (obj != NULL) {
		json_object_set_new(obj, "baseline", json_pack("{s:s, s:O?, "
		    "s:I, s:I}", "file", run->cli->baseline, "saved",
		    json_object_get(run->bl_base, "saved"), "errors",
		    (json_int_t)baseline_errors(run->bl_drift), "warnings",
		    (json_int_t)(json_array_size(run->bl_drift) -
		    baseline_errors(run->bl_drift))));
		json_object_set(obj, "drift", run->bl_drift);
	}
}

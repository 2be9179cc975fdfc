/*
 * schema.h - the identifiers of the JSON Schemas (draft 2020-12) that the
 * JSON documents of smtprobe follow, one per kind of document. Every
 * document carries its schema's identifier in a top-level "schema"
 * field; the schemas are in schema/ of the source tree and installed in
 * $(datadir)/smtprobe/schema (see schema/README and smtprobe(1), JSON
 * OUTPUT).
 *
 * An identifier is a URL under https://smtprobe.example/schema/MAJOR/
 * (a reserved domain: it names, it does not locate); MAJOR changes only
 * when a field changes meaning or goes away. Added fields keep MAJOR.
 * tests/schema.sh checks that each identifier in schema_ids[] is the
 * $id of a file in schema/ (probe/base/schema.c).
 */
#ifndef SMTPROBE_SCHEMA_H
#define SMTPROBE_SCHEMA_H

#define SCHEMA_BASE		"https://smtprobe.example/schema/1/"

/* one probe session (--json); embedded, it has no "schema" field */
#define SCHEMA_PROBE		SCHEMA_BASE "probe.json"
/* scenario runs (--scenario ... --json) */
#define SCHEMA_SUITE		SCHEMA_BASE "suite.json"
/* --all-mx --json */
#define SCHEMA_ALL_MX		SCHEMA_BASE "all-mx.json"
/* --diagnose --json */
#define SCHEMA_DIAGNOSE		SCHEMA_BASE "diagnose.json"
/* smtprobe explain --json */
#define SCHEMA_EXPLAIN		SCHEMA_BASE "explain.json"
/* smtprobe batch: one record a line */
#define SCHEMA_BATCH_RECORD	SCHEMA_BASE "batch-record.json"
/* smtprobe batch --metadata */
#define SCHEMA_BATCH_METADATA	SCHEMA_BASE "batch-metadata.json"
/* the summary line of batch --summary-record and of batch merge */
#define SCHEMA_BATCH_SUMMARY	SCHEMA_BASE "batch-summary.json"
/* the file --baseline-save writes */
#define SCHEMA_BASELINE		SCHEMA_BASE "baseline.json"

typedef struct json_t json_t;

/* schema_ids - every identifier above, NULL-terminated (for the tests) */
extern const char *const schema_ids[];

/*
 * schema_wrap - a new object whose first member is "schema": id,
 * followed by the members of doc (consumed); doc itself when it is not
 * an object
 */
json_t	*schema_wrap(const char *id, json_t *doc);

#endif

/*
 * schema.c - the identifiers of the JSON Schemas the documents follow
 * (include/schema.h), and the one way a document gets its "schema"
 * field when it is built elsewhere.
 */
#include "config.h"

#include <stddef.h>

#include <jansson.h>

#include "schema.h"

const char *const schema_ids[] = {
	SCHEMA_PROBE,
	SCHEMA_SUITE,
	SCHEMA_ALL_MX,
	SCHEMA_DIAGNOSE,
	SCHEMA_EXPLAIN,
	SCHEMA_BATCH_RECORD,
	SCHEMA_BATCH_METADATA,
	SCHEMA_BATCH_SUMMARY,
	SCHEMA_BASELINE,
	NULL
};

/* schema_wrap - "schema" first, then the members of doc */
json_t *
schema_wrap(const char *id, json_t *doc)
{
	json_t	*o;

	if (!json_is_object(doc))
		return doc;
	o = json_pack("{s:s}", "schema", id);
	if (o == NULL || json_object_update(o, doc) == -1) {
		json_decref(o);
		return doc;
	}
	json_decref(doc);
	return o;
}

/*
 * schema-enums.c - print the closed sets of words the JSON documents use,
 * from the tables of the code, as one JSON object; tests/schema.sh
 * holds the enums of schema/defs.json to them, so that a stage, an
 * outcome or a batch status added to the code and not to the schema
 * fails the tests. Also the schema identifiers of include/schema.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "batch_int.h"
#include "dane.h"
#include "mtasts.h"
#include "record.h"
#include "schema.h"
#include "stage.h"

/* add - v (consumed) to the array a, unless a holds it already */
static void
add(json_t *a, json_t *v)
{
	size_t	 i;

	for (i = 0; i < json_array_size(a); i++)
		if (json_equal(json_array_get(a, i), v)) {
			json_decref(v);
			return;
		}
	json_array_append_new(a, v);
}

int
main(void)
{
	struct record	 r = { 0 };
	json_t		*o, *a, *codes;
	int		 i;

	o = json_object();
	a = json_array();
	for (i = 0; schema_ids[i] != NULL; i++)
		add(a, json_string(schema_ids[i]));
	json_object_set_new(o, "ids", a);
	a = json_array();
	for (i = 0; i < STAGE__COUNT; i++)
		add(a, json_string(stage_name(i)));
	json_object_set_new(o, "stage", a);
	a = json_array();
	for (i = 0; i < OUT__COUNT; i++)
		add(a, json_string(record_outcome_name(i)));
	json_object_set_new(o, "outcome", a);
	a = json_array();
	codes = json_array();
	for (i = RES_OK; i <= RES_EXPECT; i++) {
		r.status = i;
		add(a, json_string(record_status_name(i)));
		add(codes, json_integer(record_exit_code(&r)));
	}
	json_object_set_new(o, "result_status", a);
	json_object_set_new(o, "result_exit_code", codes);
	a = json_array();
	for (i = FIND_INFO; i <= FIND_ERROR; i++)
		add(a, json_string(record_level_name(i)));
	json_object_set_new(o, "level", a);
	a = json_array();
	for (i = 0; i < FAIL__COUNT; i++)
		add(a, json_string(record_fail_kind_name(i)));
	json_object_set_new(o, "failure", a);
	a = json_array();
	for (i = 0; i < ST__COUNT; i++)
		add(a, json_string(bt_status_names[i]));
	json_object_set_new(o, "batch_status", a);
	/* the tables below end where their name function says "?" */
	a = json_array();
	for (i = 0; strcmp(dane_status_name(i), "?") != 0; i++)
		add(a, json_string(dane_status_name(i)));
	json_object_set_new(o, "dane_status", a);
	a = json_array();
	for (i = 0; strcmp(dane_dns_name(i), "?") != 0; i++)
		add(a, json_string(dane_dns_name(i)));
	json_object_set_new(o, "dane_lookup", a);
	a = json_array();
	for (i = 0; strcmp(mtasts_status_name(i), "?") != 0; i++)
		add(a, json_string(mtasts_status_name(i)));
	json_object_set_new(o, "mtasts_status", a);
	if (json_dumpf(o, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER) == -1)
		return 1;
	putchar('\n');
	json_decref(o);
	return ferror(stdout) ? 1 : 0;
}

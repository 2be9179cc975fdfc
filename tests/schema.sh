#!/bin/sh
# schema.sh - every JSON document the tests saw follows its JSON Schema.
#
# The other tests spool the documents they get (tests/spool.sh) into
# tests/json-spool/ of the build tree; make runs this test after them
# (tests/schema.am). It adds documents of its own (so that it never
# passes on an empty spool), then, in one python3-jsonschema process
# (tests/schema-check.py --strict), checks the schemas against the
# draft 2020-12 meta-schema, holds the enums of schema/defs.json to the
# code's tables (tests/schema-enums, verdict-rules.awk) and validates
# every spooled document against the schema its "schema" field names.
# Then it shows that the check can fail: wrong documents and a drifted
# enum must be refused. TAP.
#
# A test's documents stay in the spool until that test runs again (it
# then replaces them): run alone (make check TESTS=tests/schema.sh), this
# test also judges what earlier runs left; an error names the test and
# the case each document came from, so rerun that one; "make clean"
# empties the spool.
#
# Without python3-jsonschema the test is skipped (exit 77), except under
# CI=true, where it fails.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
. "$top_srcdir/tests/lib.sh"
lib_init schema
check=$top_srcdir/tests/schema-check.py
enums=$top_builddir/tests/schema-enums

if ! python3 -c 'import jsonschema; jsonschema.Draft202012Validator' \
    2>/dev/null; then
	if [ "${CI:-}" = true ]; then
		echo "not ok 1 - python3-jsonschema with draft 2020-12 is missing (CI=true)"
		echo "1..1"
		exit 1
	fi
	echo "1..0 # SKIP python3-jsonschema (draft 2020-12) is not installed (scripts/install-deps.sh --test)"
	exit 77
fi
[ -x "$enums" ] || bail "no $enums (make check builds it)"

# every schema file is installed (tests/schema.am)
missing=
for f in "$top_srcdir"/schema/*.json; do
	grep -q "schema/$(basename "$f")" "$top_srcdir/tests/schema.am" ||
		missing="$missing $(basename "$f")"
done
[ -z "$missing" ]; tap $? "every schema/*.json is in dist_schema_DATA${missing:+ (not:$missing)}"

# documents of our own, without a server: a reply explained, a probe
# refused at once (port 1 of loopback), a batch of two invalid lines
"$probe" explain --json '550 5.1.1 <x@example.net>: User unknown' \
    > "$work/explain.json" 2>/dev/null
spool "$work/explain.json" "explain --json on a reply"
"$probe" -s 127.0.0.1:1 --json --timeout connect=2 > "$work/probe.json" \
    2>/dev/null
spool "$work/probe.json" "a probe of 127.0.0.1:1 (refused)"
printf 'not a target!\n\n@@\n' > "$work/bad.in"
"$probe" batch --helo probe.test --metadata "$work/batch.meta" \
    "$work/bad.in" \
    > "$work/batch.out" 2>/dev/null
spool "$work/batch.out" "batch of invalid lines: records"
spool "$work/batch.meta" "batch of invalid lines: --metadata"
# a baseline file, and a drift from it (STARTTLS "was" offered)
"$probe" -s 127.0.0.1:1 --timeout connect=2 --baseline-save "$work/bl.json" \
    > /dev/null 2>&1
spool "$work/bl.json" "--baseline-save of a probe of 127.0.0.1:1"
jq '.entries[] .starttls_offered = true' "$work/bl.json" \
    > "$work/bl-tls.json" 2>/dev/null
"$probe" -s 127.0.0.1:1 --json --timeout connect=2 \
    --baseline "$work/bl-tls.json" > "$work/bldrift.json" 2>/dev/null
spool "$work/bldrift.json" "a probe of 127.0.0.1:1 --baseline (drift)"
for f in explain.json probe.json batch.out batch.meta bl.json bldrift.json; do
	[ -s "$work/$f" ] || bail "smtprobe wrote no $f"
done

"$enums" > "$work/enums.json" || bail "tests/schema-enums failed"

# all the spooled documents, one process
set -- "$spool_dir"/*
python3 "$check" --strict --enums "$work/enums.json" \
    --classes "$top_srcdir/probe/judge/verdict-rules.awk" \
    "$top_srcdir/schema" "$@" > "$work/check.out" 2>&1
rc=$?
sed 's/^/# /' "$work/check.out"
tap $rc "every spooled JSON document follows its schema ($(tail -1 \
    "$work/check.out" | cut -d: -f1))"

# the check can fail: documents that are wrong in one way each
mkdir "$work/bad"
bad() {	# bad NAME FILE JQ-FILTER: FILE changed by the filter
	{ echo "wrong on purpose: $1"; jq -c "$3" "$2"; } > "$work/bad/$1" ||
		bail "jq failed on $1"
}
bad no-schema "$work/probe.json" 'del(.schema)'
bad unknown-schema "$work/probe.json" \
    '.schema = "https://smtprobe.example/schema/1/nothing.json"'
bad next-major "$work/probe.json" \
    '.schema = "https://smtprobe.example/schema/2/probe.json"'
bad result-status "$work/probe.json" '.result.status = "maybe"'
bad unknown-member "$work/probe.json" '.surprise = 1'
bad unknown-in-step "$work/probe.json" '.steps[0].surprise = 1'
bad stage-name "$work/probe.json" '.steps[0].stage = "helo"'
bad exit-code "$work/probe.json" '.result.exit_code = 7'
bad no-verdict "$work/probe.json" 'del(.verdict)'
bad enhanced "$work/explain.json" '.enhanced = "5.1"'
bad verdict-class "$work/explain.json" '.class = "nonsense"'
bad confidence "$work/explain.json" '.confidence = 101'
bad batch-status "$work/batch.out" 'select(.input_index == 0) | .status = "weird"'
bad batch-port "$work/batch.out" 'select(.input_index == 0) | .port = "25"'
bad meta-counts "$work/batch.meta" 'del(.counts.ok)'
bad baseline-version "$work/bl.json" '.baseline = 2'
bad drift-severity "$work/bldrift.json" '.drift[0].severity = "fatal"'
bad drift-field "$work/bldrift.json" '.drift[0].field = "banner"'
printf 'wrong on purpose: not JSON\n{"schema": \n' > "$work/bad/not-json"
python3 "$check" --strict --expect-invalid "$top_srcdir/schema" \
    "$work"/bad/* > "$work/bad.out" 2>&1
rc=$?
sed 's/^/# /' "$work/bad.out"
tap $rc "every wrong document is refused ($(ls "$work/bad" | wc -l | tr -d ' ') of them)"
grep -q "at \.result\.status: 'maybe' is not one of" "$work/bad.out"
tap $? "the error names the member and the value"

# and an enum of the code that the schema lacks
jq '.stage += ["teleport"]' "$work/enums.json" > "$work/enums-bad.json"
python3 "$check" --enums "$work/enums-bad.json" "$top_srcdir/schema" \
    > "$work/drift.out" 2>&1
rc=$?
sed 's/^/# /' "$work/drift.out"
[ "$rc" -ne 0 ] && grep -q "stage.*missing: \['teleport'\]" "$work/drift.out"
tap $? "a stage the code has and defs.json lacks fails the check"
echo "1..$n"

# spool.sh - keep a copy of every JSON document a test sees, for
# tests/schema.sh, which validates them all against schema/ in one
# process after the other tests. Sourced by tests/run-case.sh,
# tests/lib.sh and the test scripts that do not use lib.sh.
#
# spool_init NAME	forget what an earlier run of test NAME spooled
#			(the spool: $top_builddir/tests/json-spool, or
#			$SMTPROBE_JSON_SPOOL; "none" spools nothing)
# spool FILE WHAT	spool the documents in FILE (one, or JSON lines);
#			WHAT says where they came from, for the error
#			messages of tests/schema.sh. An empty or absent
#			FILE is skipped.
# spool_text TEXT WHAT	the same for documents held in a variable
#
# A spooled file is WHAT on its first line, then the documents as they
# were written.

spool_init() {
	spool_dir=${SMTPROBE_JSON_SPOOL:-${top_builddir:-.}/tests/json-spool}
	spool_name=$1
	[ "$spool_dir" = none ] && return 0
	mkdir -p "$spool_dir" 2>/dev/null || { spool_dir=none; return 0; }
	rm -f "$spool_dir/$spool_name".*
}

spool() {
	[ "${spool_dir:-none}" != none ] && [ -s "$1" ] || return 0
	spool_f=$(mktemp "$spool_dir/$spool_name.XXXXXX") || return 0
	{ printf '%s: %s' "$spool_name" "$2" | tr '\r\n' '  ' |
	    head -c 300; echo; cat "$1"; } > "$spool_f"
}

spool_text() {
	[ "${spool_dir:-none}" != none ] && [ -n "$1" ] || return 0
	spool_f=$(mktemp "$spool_dir/$spool_name.XXXXXX") || return 0
	{ printf '%s: %s' "$spool_name" "$2" | tr '\r\n' '  ' |
	    head -c 300; echo; printf '%s\n' "$1"; } > "$spool_f"
}

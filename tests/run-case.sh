#!/bin/bash
# run-case.sh FILE.case - run one data-driven integration case and print
# TAP. A case starts the fake MX (tests/fakemx) on an ephemeral loopback
# port with its script, runs smtprobe against it, and checks exit code,
# transcript, JSON (jq expressions), the fake MX's log and the time taken.
#
# Case keys (one per line, "key: value"; '#' lines are comments):
#   desc:        what the case shows
#   fakemx:      one line of the fake MX script (repeatable)
#   fakemx-opts: extra fakemx options ("-a ::1", "-T", "-U @WORK@/s.sock")
#   tls:         yes = give the fake MX the test certificate; NAME = the
#                certificate NAME.pem / NAME.key of tests/gen-certs.sh
#                (self, hostile)
#   args:        smtprobe arguments, shell-quoted; @PORT@, @CERTS@, @WORK@
#                (the case's work directory), @SRCDIR@ (top_srcdir) and
#                @SCENARIO@ (the file the scenario: lines make) replaced
#   scenario:    one line of a scenario file (repeatable; leading blanks
#                of the value are kept after the first space)
#   file:        NAME TEXT: write TEXT (printf %b escapes) to @WORK@/NAME
#   setup:       a shell command run in the case's work directory before
#                anything starts (repeatable; @WORK@, @CERTS@ replaced): to make
#                large inputs at test time ("truncate -s 1G big.txt")
#   env:         NAME=VALUE exported to smtprobe (@WORK@, @CERTS@ replaced)
#   stdin:       text for smtprobe's stdin (printf %b escapes)
#   exit:        expected exit status
#   maxtime:     seconds the probe may take (default 20)
#   stdout:      fixed text the transcript must contain (repeatable)
#   !stdout:     fixed text it must not contain
#   stderr:      fixed text stderr must contain
#   json:        jq expression that must be true on the --json run
#   junit:       XPath expression that must be true on the JUnit XML of a
#                --junit run, which must also be well-formed and valid
#                against tests/junit.xsd
#   !anywhere:   fixed text that no output of any run may contain (for
#                secrets: stdout, stderr, JSON, JUnit, TAP)
#   !anywhere-bytes: like !anywhere, but the text is first decoded as
#                printf %b escapes (\033, \xHH; not \0), and compared
#                byte for byte: for raw control and non-UTF-8 bytes
#   log:         fixed text the fake MX log must contain
#   !log:        fixed text it must not contain
#   maxmem:      MB: also run with the address space capped at MB (not in
#                sanitizer builds, whose shadow memory needs more): the
#                probe must behave the same, so memory stays bounded
#   valgrind:    yes = also run under valgrind: no memory error, no leak
#                (SMTPROBE_VALGRIND=all in the environment: every case)
#                (definite, indirect or possible; libraries' one-time
#                globals, "still reachable", are not leaks); no = never,
#                not even with SMTPROBE_VALGRIND=all (the large and slow
#                hostile cases, which would take minutes under valgrind)
set -u
case_file=$1
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
probe=$top_builddir/smtprobe
fakemx=$top_builddir/tests/fakemx
certs=$top_builddir/tests/certs
name=$(basename "$case_file" .case)
work=$(mktemp -d "${TMPDIR:-/tmp}/smtprobe-case.XXXXXX")
fpid=
cleanup() {
	[ -n "$fpid" ] && kill "$fpid" 2>/dev/null && wait "$fpid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

n=0
failed=0
tap() {	# tap COND-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $name: $2"
	else
		echo "not ok $n - $name: $2"
		failed=$((failed + 1))
	fi
}
bail() { echo "Bail out! $name: $*"; exit 99; }

# shellcheck source=tests/spool.sh
. "$top_srcdir/tests/spool.sh"
spool_init "case-$name"

[ -x "$probe" ] || bail "no smtprobe at $probe"
[ -x "$fakemx" ] || bail "no fake MX at $fakemx"
command -v jq >/dev/null || bail "jq is not installed (scripts/install-deps.sh --test)"

: > "$work/script"
: > "$work/scenario.scn"
args= exitwant= maxtime=20 stdin= tls= fopts= valgrind= maxmem=
declare -a checks=()
while IFS= read -r line || [ -n "$line" ]; do
	case $line in ''|'#'*) continue ;; esac
	key=${line%%:*}
	val=${line#*:}
	val=${val# }
	case $key in
	desc) ;;
	fakemx) printf '%s\n' "$val" >> "$work/script" ;;
	scenario) printf '%s\n' "${line#*: }" >> "$work/scenario.scn" ;;
	file) printf '%b' "${val#* }" > "$work/${val%% *}" ;;
	setup) val=${val//@CERTS@/$certs}
		(cd "$work" && bash -c "${val//@WORK@/$work}") ||
		bail "setup failed: $val" ;;
	env) val=${val//@CERTS@/$certs}; export "${val//@WORK@/$work}" ;;
	fakemx-opts) fopts=${val//@WORK@/$work} ;;
	tls) tls=$val ;;
	args) args=$val ;;
	stdin) stdin=$val ;;
	exit) exitwant=$val ;;
	maxtime) maxtime=$val ;;
	valgrind) valgrind=$val ;;
	maxmem) maxmem=$val ;;
	stdout|'!stdout'|stderr|json|junit|'!anywhere'|'!anywhere-bytes'|log|'!log')
		checks+=("$key"$'\t'"$val") ;;
	*) bail "unknown key '$key' in $case_file" ;;
	esac
done < "$case_file"
[ -n "$exitwant" ] || bail "no 'exit:' in $case_file"

copts=()
case $tls in
'') ;;
yes) copts=(-c "$certs/server.pem" -k "$certs/server.key") ;;
*) copts=(-c "$certs/$tls.pem" -k "$certs/$tls.key") ;;
esac
# shellcheck disable=SC2086
"$fakemx" -P "$work/port" -l "$work/log" -t 120 "${copts[@]}" $fopts \
	"$work/script" 2> "$work/fakemx.err" &
fpid=$!
for _ in $(seq 1 100); do
	[ -s "$work/port" ] && break
	kill -0 "$fpid" 2>/dev/null || break
	sleep 0.05
done
[ -s "$work/port" ] || bail "fake MX did not start: $(cat "$work/fakemx.err")"
port=$(cat "$work/port")
args=${args//@PORT@/$port}
args=${args//@CERTS@/$certs}
args=${args//@WORK@/$work}
args=${args//@SRCDIR@/$top_srcdir}
args=${args//@SCENARIO@/$work/scenario.scn}
eval "set -- $args"

run_probe() {	# run_probe OUT ERR EXTRA-ARGS...
	local out=$1 err=$2
	shift 2
	printf '%b' "$stdin" | timeout -k 5 $((maxtime + 30)) \
		"$probe" "$@" > "$out" 2> "$err"
}

t0=$(date +%s%N)
run_probe "$work/out" "$work/err" "$@"
rc=$?
t1=$(date +%s%N)
[ "${1:-}" = batch ] && spool "$work/out" "batch records of $case_file"
ms=$(( (t1 - t0) / 1000000 ))
tap $([ "$rc" = "$exitwant" ]; echo $?) "exit $rc (want $exitwant)"
tap $([ "$ms" -le $((maxtime * 1000)) ]; echo $?) "took ${ms} ms (limit ${maxtime} s)"

need_json=
for c in "${checks[@]}"; do [ "${c%%$'\t'*}" = json ] && need_json=1; done
if [ -n "$need_json" ]; then
	run_probe "$work/json" "$work/json.err" "$@" --json
	jrc=$?
	tap $([ "$jrc" = "$exitwant" ]; echo $?) "--json exit $jrc (want $exitwant)"
	jq -e . "$work/json" > /dev/null 2>&1
	tap $? "--json output is one valid JSON document"
	spool "$work/json" "--json run of $case_file"
fi

need_junit=
for c in "${checks[@]}"; do [ "${c%%$'\t'*}" = junit ] && need_junit=1; done
if [ -n "$need_junit" ]; then
	command -v xmllint >/dev/null ||
		bail "xmllint is not installed (scripts/install-deps.sh --test)"
	run_probe "$work/junit.out" "$work/junit.err" "$@" \
		--junit "$work/junit.xml"
	xmllint --noout --schema "$top_srcdir/tests/junit.xsd" \
		"$work/junit.xml" 2> "$work/xmllint.err"
	tap $? "JUnit XML is valid against tests/junit.xsd"
	[ -s "$work/xmllint.err" ] && sed 's/^/# /' "$work/xmllint.err" | head
fi

for c in "${checks[@]}"; do
	key=${c%%$'\t'*}
	val=${c#*$'\t'}
	val=${val//@SCENARIO@/$work/scenario.scn}
	val=${val//@WORK@/$work}
	val=${val//@PORT@/$port}
	case $key in
	stdout) grep -qF -- "$val" "$work/out"; tap $? "stdout has: $val" ;;
	'!stdout') ! grep -qF -- "$val" "$work/out"; tap $? "stdout lacks: $val" ;;
	stderr) grep -qF -- "$val" "$work/err"; tap $? "stderr has: $val" ;;
	json) [ "$(jq -r "$val" "$work/json" 2>&1)" = true ]
		tap $? "json: $val" ;;
	junit) [ "$(xmllint --xpath "boolean($val)" "$work/junit.xml" 2>&1)" = \
		true ]
		tap $? "junit: $val" ;;
	'!anywhere')
		hit=
		for f in out err json json.err junit.out junit.err junit.xml \
		    vg.out; do
			[ -f "$work/$f" ] && grep -qF -- "$val" "$work/$f" &&
				hit="$hit $f"
		done
		[ -z "$hit" ]; tap $? "no output holds \"$val\"${hit:+ (in$hit)}" ;;
	'!anywhere-bytes')
		bytes=$(printf '%b' "$val")
		hit=
		for f in out err json json.err junit.out junit.err junit.xml \
		    vg.out; do
			[ -f "$work/$f" ] &&
				LC_ALL=C grep -qF -- "$bytes" "$work/$f" &&
				hit="$hit $f"
		done
		[ -z "$hit" ]; tap $? "no output holds the bytes $val${hit:+ (in$hit)}" ;;
	log) grep -qF -- "$val" "$work/log"; tap $? "fake MX log has: $val" ;;
	'!log') ! grep -qF -- "$val" "$work/log"; tap $? "fake MX log lacks: $val" ;;
	esac
done

if [ -n "$maxmem" ]; then
	if command -v prlimit > /dev/null && [ -z "${SMTPROBE_SANITIZED:-}" ]; then
		printf '%b' "$stdin" | timeout -k 5 $((maxtime + 30)) \
			prlimit --as=$((maxmem * 1024 * 1024)) "$probe" "$@" \
			> "$work/mem.out" 2> "$work/mem.err"
		mrc=$?
		tap $([ "$mrc" = "$exitwant" ]; echo $?) \
			"within ${maxmem} MB of address space: exit $mrc"
	else
		n=$((n + 1))
		echo "ok $n - $name: memory cap # SKIP sanitizer build"
	fi
fi

[ "${SMTPROBE_VALGRIND:-}" = all ] && [ "$valgrind" != no ] && valgrind=yes
if [ "$valgrind" = yes ]; then
	if command -v valgrind > /dev/null && [ -z "${SMTPROBE_SANITIZED:-}" ]; then
		printf '%b' "$stdin" | timeout -k 5 120 valgrind -q \
			--leak-check=full --show-leak-kinds=definite,indirect,possible \
			--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
			"$probe" "$@" > "$work/vg.out" 2> "$work/vg.err"
		vrc=$?
		tap $([ "$vrc" = "$exitwant" ]; echo $?) \
			"valgrind: no leak, no error (exit $vrc)"
		[ "$vrc" = "$exitwant" ] || sed 's/^/# /' "$work/vg.err" | head -40
	else
		n=$((n + 1))
		echo "ok $n - $name: valgrind # SKIP not available here"
	fi
fi

if [ "$failed" -gt 0 ]; then
	echo "# --- smtprobe $* (exit $rc)"
	sed 's/^/# /' "$work/out" "$work/err" | head -80
	echo "# --- fake MX log"
	sed 's/^/# /' "$work/log" | head -60
fi
echo "1..$n"

#!/bin/sh
# metrics.sh - --metrics FILE of a probe, a scenario suite and a batch
# against the fake MX on 127.0.0.1: each file is read strictly by
# tests/metrics-check.py (the exposition format's rules, our figures)
# and checked by "promtool check metrics" (Debian's prometheus package,
# unpacked by scripts/promtool.sh, never installed); written atomically
# (a new inode, no temporary file left, 0644); a file that cannot be
# written is an error message, not a changed exit status. TAP.
#
# promtool missing (cannot be downloaded) is a SKIP of its checks only,
# and a failure under CI=true.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
. "$top_srcdir/tests/lib.sh"
lib_init metrics
[ -x "$probe" ] || bail "no smtprobe at $probe"
check="python3 $top_srcdir/tests/metrics-check.py"

promtool=$(sh "$top_srcdir/scripts/promtool.sh" 2>"$work/promtool.err")
[ -n "$promtool" ] && [ -x "$promtool" ] || promtool=

# promcheck FILE WHAT: promtool's verdict on FILE
promcheck() {
	if [ -z "$promtool" ]; then
		if [ "${CI:-}" = true ]; then
			tap 1 "$2: promtool check metrics (promtool missing under CI=true: $(tail -1 "$work/promtool.err"))"
		else
			n=$((n + 1))
			echo "ok $n - $2: promtool check metrics # SKIP promtool cannot be unpacked: $(tail -1 "$work/promtool.err")"
		fi
		return
	fi
	"$promtool" check metrics < "$1" > "$work/promtool.out" 2>&1
	rc=$?
	[ -s "$work/promtool.out" ] && sed 's/^/# /' "$work/promtool.out"
	# promtool prints lint problems and still exits 0 on some: none wanted
	[ $rc -eq 0 ] && [ ! -s "$work/promtool.out" ]
	tap $? "$2: promtool check metrics"
}

# want FILE WHAT QUERY VALUE...: the series have these values
want() {
	_f=$1 _w=$2
	shift 2
: > "$work/q.want"
	: > "$work/q.in"
	while [ $# -ge 2 ]; do
		printf '%s\n' "$1" >> "$work/q.in"
		printf '%s %s\n' "$1" "$2" >> "$work/q.want"
		shift 2
	done
	$check "$_f" - < "$work/q.in" > "$work/q.out" 2>&1
	tail -n +2 "$work/q.out" | diff "$work/q.want" - > "$work/q.diff"
	tap $? "$_w"
	sed 's/^/# /' "$work/q.diff"
}

printf 'reply EHLO 250-fakemx.test\nreply EHLO 250 STARTTLS\n' \
    > "$work/mx.script"
lib_fakemx mx 127.0.0.1 0 -c "$certs/server.pem" -k "$certs/server.key" ||
	bail "fake MX did not start: $(cat "$work/mx.err")"
port=$(cat "$work/mx.port")
t=127.0.0.1:$port
expiry=$(date -d "$(openssl x509 -in "$certs/server.pem" -noout -enddate |
    cut -d= -f2)" +%s) || bail "openssl gave no notAfter"

# a probe over STARTTLS; the file replaced, not rewritten in place
mkdir "$work/tf"
echo old > "$work/tf/probe.prom"
ino=$(stat -c %i "$work/tf/probe.prom")
before=$(date +%s)
"$probe" -s "$t" --helo probe.test -f a@probe.test -t b@probe.test \
    --starttls --metrics "$work/tf/probe.prom" > "$work/probe.out" 2>&1
rc=$?
tap $rc "probe with --metrics: exit $rc"
$check "$work/tf/probe.prom" > "$work/check.out" 2>&1
tap $? "probe: the file follows the exposition format ($(head -1 "$work/check.out"))"
sed 's/^/# /' "$work/check.out"
promcheck "$work/tf/probe.prom" probe
[ "$(stat -c %i "$work/tf/probe.prom")" != "$ino" ] &&
    [ "$(ls -A "$work/tf")" = probe.prom ] &&
    [ "$(stat -c %a "$work/tf/probe.prom")" = 644 ]
tap $? "probe: a new file renamed over the old one, nothing else left, mode 644"
tl="target=\"$t\",address=\"$t\""
want "$work/tf/probe.prom" "probe: success, exit code, certificate expiry (openssl's $expiry), sessions by result, verdicts" \
    "smtprobe_probe_success{$tl}" 1 \
    "smtprobe_probe_exit_code{$tl}" 0 \
    "smtprobe_certificate_expiry_timestamp_seconds{$tl}" "$expiry" \
    'smtprobe_sessions{status="accepted",exit_code="0"}' 1 \
    'smtprobe_sessions{status="permfail",exit_code="1"}' 0 \
    'smtprobe_verdicts{class="accepted"}' 1 \
    'smtprobe_info{command="probe",version="'"$("$probe" --version | cut -d' ' -f2)"'"}' 1 \
    smtprobe_exit_code 0
for s in connect banner ehlo starttls mail rcpt quit; do
	grep -q "^smtprobe_probe_stage_latency_seconds{$tl,stage=\"$s\"} [0-9.]*\$" \
	    "$work/tf/probe.prom" &&
	grep -q "^smtprobe_stage_latency_seconds_count{stage=\"$s\"} [1-9]" \
	    "$work/tf/probe.prom" || break
done
tap $? "probe: a latency per stage, connect to quit (stopped at $s)"
left=$(sed -n "s/^smtprobe_certificate_remaining_seconds{$tl} //p" \
    "$work/tf/probe.prom")
after=$(date +%s)
[ -n "$left" ] && [ "$left" -le $((expiry - before)) ] &&
    [ "$left" -ge $((expiry - after)) ]
tap $? "probe: certificate remaining seconds $left (notAfter - now: $((expiry - after)) to $((expiry - before)))"

# a suite of two scenarios against the same server: totals count both,
# the target's own series appear once
cat > "$work/a.scn" <<'EOF'
ehlo
mail a@probe.test
rcpt b@probe.test
quit
EOF
cat > "$work/b.scn" <<'EOF'
ehlo
mail a@probe.test
rcpt b@probe.test
expect 5xx
quit
EOF
"$probe" -s "$t" --helo probe.test --scenario "$work/a.scn" \
    --scenario "$work/b.scn" --metrics "$work/suite.prom" \
    > "$work/suite.out" 2>&1
rc=$?
tap $([ $rc = 1 ]; echo $?) "suite: exit $rc (want 1: one expectation not met)"
$check "$work/suite.prom" > "$work/check.out" 2>&1
tap $? "suite: the file follows the exposition format ($(head -1 "$work/check.out"))"
sed 's/^/# /' "$work/check.out"
promcheck "$work/suite.prom" suite
want "$work/suite.prom" "suite: two sessions counted, one series per target" \
    'smtprobe_info{command="suite",version="'"$("$probe" --version | cut -d' ' -f2)"'"}' 1 \
    'smtprobe_stage_latency_seconds_count{stage="rcpt"}' 2 \
    smtprobe_exit_code 1
[ "$(grep -c '^smtprobe_probe_success{' "$work/suite.prom")" = 1 ]
tap $? "suite: smtprobe_probe_success once for the one target"

# a batch: a session, an invalid line, a refused port
printf '%s\nnot a target!\n127.0.0.1:1\n' "$t" > "$work/batch.in"
"$probe" batch --helo probe.test -f a@probe.test -t b@probe.test \
    --metrics "$work/batch.prom" "$work/batch.in" > "$work/batch.out" \
    2> "$work/batch.err"
rc=$?
spool "$work/batch.out" "batch with --metrics: records"
tap $([ $rc = 0 ]; echo $?) "batch with --metrics: exit $rc"
$check "$work/batch.prom" > "$work/check.out" 2>&1
tap $? "batch: the file follows the exposition format ($(head -1 "$work/check.out"))"
sed 's/^/# /' "$work/check.out"
promcheck "$work/batch.prom" batch
want "$work/batch.prom" "batch: records by status, sessions, per-target success" \
    'smtprobe_batch_records{status="ok"}' 1 \
    'smtprobe_batch_records{status="invalid"}' 1 \
    'smtprobe_batch_records{status="refused"}' 1 \
    'smtprobe_batch_records{status="timeout"}' 0 \
    'smtprobe_sessions{status="accepted",exit_code="0"}' 1 \
    'smtprobe_sessions{status="error",exit_code="3"}' 1 \
    "smtprobe_probe_success{$tl}" 1 \
    'smtprobe_probe_success{target="127.0.0.1:1",address="127.0.0.1:1"}' 0

# a label value that needs escaping: the target as the batch input gives it
printf '{"target": "%s", "tag": 1}\n' "$t" > "$work/esc.in"
"$probe" batch --helo probe.test --metrics "$work/esc.prom" \
    "$work/esc.in" > /dev/null 2>&1
$check "$work/esc.prom" > /dev/null 2>&1
tap $? "batch with a JSON input line: the file follows the format"

# errors: a directory that does not exist; the file is also an input
"$probe" -s "$t" --helo probe.test --metrics "$work/none/m.prom" \
    > /dev/null 2> "$work/err1"
rc=$?
[ $rc = 0 ] && grep -q -- "--metrics $work/none/m.prom" "$work/err1"
tap $? "an unwritable --metrics FILE: a message, the probe's exit status ($rc)"
"$probe" -s "$t" --helo probe.test --scenario "$work/a.scn" \
    --metrics "$work/a.scn" > /dev/null 2> "$work/err2"
rc=$?
[ $rc = 64 ] && grep -q "that file is an input" "$work/err2" &&
    grep -q '^ehlo$' "$work/a.scn"
tap $? "--metrics naming the scenario file: refused (exit $rc), the file kept"
"$probe" batch --helo probe.test --metrics "$work/batch.in" \
    "$work/batch.in" > /dev/null 2> "$work/err3"
rc=$?
[ $rc = 64 ] && grep -q "input file" "$work/err3" &&
    grep -q '^not a target!$' "$work/batch.in"
tap $? "batch --metrics naming the input: refused (exit $rc), the input kept"
# the checkers can fail: files wrong in one way each
ok_file=$work/tf/probe.prom
bad() {	# bad NAME SED-SCRIPT: the probe's file, changed
	sed "$2" "$ok_file" > "$work/bad-$1.prom"
}
bad unescaped 's/target="\([^"]*\)"/target="a"b"/'
bad twice '/^smtprobe_exit_code /p'
bad no-type '/^# TYPE smtprobe_exit_code /d'
bad apart '/^smtprobe_sessions{status="accepted"/{h;d};/^# TYPE smtprobe_verdicts/G'
bad name 's/^smtprobe_exit_code /other_exit_code /'
bad value 's/^smtprobe_exit_code 0$/smtprobe_exit_code zero/'
printf '# HELP smtprobe_x x\n# TYPE smtprobe_x gauge\nsmtprobe_x 1' \
    > "$work/bad-no-newline.prom"
refused=
for f in "$work"/bad-*.prom; do
	$check "$f" > /dev/null 2>&1 && refused="$refused $(basename "$f")"
done
[ -z "$refused" ]
tap $? "the strict reader refuses 7 wrong files${refused:+ (accepted:$refused)}"
if [ -n "$promtool" ]; then
	sed 's/^# TYPE smtprobe_exit_code gauge$/# TYPE smtprobe_exit_code counter/' \
	    "$ok_file" > "$work/counter.prom"
	"$promtool" check metrics < "$work/counter.prom" > /dev/null 2>&1
	tap $([ $? -ne 0 ]; echo $?) "promtool refuses a counter without _total"
fi

"$probe" -s "$t" --helo probe.test -f a@probe.test -t b@probe.test \
    --diagnose --metrics "$work/diag.prom" > /dev/null 2> "$work/err4"
rc=$?
[ $rc = 64 ] && grep -q -- "--metrics does not go with --diagnose" \
    "$work/err4" && [ ! -e "$work/diag.prom" ]
tap $? "--metrics with --diagnose: refused (exit $rc)"
echo "1..$n"

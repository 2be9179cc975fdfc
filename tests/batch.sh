#!/bin/bash
# batch.sh - "smtprobe batch" end to end, against fake MX hosts on
# several loopback addresses that share one port (127.0.0.2 accepts,
# .3 refuses RCPT, .4 greets with 421, .5 stalls, .6 greets late, .9 is
# on the blocklist, .10 offers STARTTLS, .11 is implicit TLS; nothing
# listens on .7). fakemx -m logs how many connections the client holds
# open at once, which is how the per-destination caps are checked.
# Counts and exclusivity are asserted, never speed (a time bound is only
# ever a lower bound that the scheduler itself guarantees). Prints TAP.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
. "$top_srcdir/tests/lib.sh"
lib_init batch
[ -x "$probe" ] && [ -x "$fakemx" ] || bail "build smtprobe and tests/fakemx first"
[ -f "$certs/server.pem" ] || bail "no test certificates in $certs"

# ---- fake MX hosts ----
script() {	# script NAME: the fake MX script of NAME
	case $1 in
	ok|bl)	echo "reply CONNECT 220 $1.test ESMTP" ;;
	rej)	printf '%s\n' "reply CONNECT 220 rej.test ESMTP" \
		    "reply RCPT 550 5.1.1 <x> User unknown" ;;
	busy)	printf '%s\n' "reply CONNECT 421 4.7.0 busy.test too busy" \
		    "close CONNECT" ;;
	stall)	echo "stall CONNECT" ;;
	slow)	printf '%s\n' "reply CONNECT 220 slow.test ESMTP" \
		    "delay CONNECT 150" ;;
	tls|tls465) echo "reply CONNECT 220 $1.test ESMTP" ;;
	esac
}
start_mx() {	# start_mx NAME ADDR PORT [fakemx options]
	script "$1" > "$work/$1.script"
	lib_fakemx "$@" -m
}
started=
for attempt in 1 2 3 4 5; do
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	pids=
	start_mx ok 127.0.0.2 0 || continue
	P=$(cat "$work/ok.port")
	start_mx rej 127.0.0.3 "$P" && start_mx busy 127.0.0.4 "$P" &&
	    start_mx stall 127.0.0.5 "$P" && start_mx slow 127.0.0.6 "$P" &&
	    start_mx bl 127.0.0.9 "$P" &&
	    start_mx tls 127.0.0.10 "$P" -c "$certs/server.pem" \
	    -k "$certs/server.key" &&
	    start_mx tls465 127.0.0.11 "$P" -T -c "$certs/server.pem" \
	    -k "$certs/server.key" && started=1 && break
done
[ -n "$started" ] || bail "the fake MX hosts did not start on one port"

# run NAME ARGS...: smtprobe batch, records to NAME.out, stderr to
# NAME.err; prints the exit status
run() {
	local name=$1
	shift
	timeout -k 5 120 "$probe" batch --helo probe.test -p "$P" "$@" \
	    > "$work/$name.out" 2> "$work/$name.err"
	echo $?
	spool "$work/$name.out" "batch $name: records"
}
lines() { wc -l < "$1" | tr -d ' '; }
maxopen() {	# maxopen NAME [FROM-LINE]: most connections open at once
	tail -n +"${2:-1}" "$work/$1.log" | sed -n 's/^\*\*\* open //p' |
	    sort -n | tail -1
}
loglen() { lines "$work/$1.log"; }
valid() {	# valid FILE: every line is one JSON object
	[ "$(jq -c 'select(type == "object")' "$1" 2>/dev/null | lines /dev/stdin)" = \
	    "$(lines "$1")" ]
}
now() { date +%s%N; }

# ---- 2000 targets, every outcome, each reported once ----
awk -v port="$P" 'BEGIN {
	idx = 0
	for (i = 0; i < 2000; i++) {
		if (i % 100 == 50) {
			print "# a comment"; idx++
			print ""; idx++
		}
		k = i % 20; f = int(i / 20) % 4
		if (k < 8) {
			st = "ok"
			if (f == 0) t = "127.0.0.2"
			else if (f == 1) t = "127.0.0.2:" port
			else if (f == 2) t = "{\"target\":\"127.0.0.2\",\"tag\":" i "}"
			else t = "probe" i "@[127.0.0.2]"
		} else if (k < 13) {
			st = "permfail"
			t = f % 2 ? "u" i "@[127.0.0.3]" : "127.0.0.3"
		} else if (k < 17) {
			st = "tempfail"; t = "127.0.0.4"
		} else if (k == 17) {
			st = "timeout"; t = "127.0.0.5"
		} else {
			st = "refused"; t = "127.0.0.7"
		}
		print t
		print idx, st > "/dev/stderr"
		idx++
	}
}' > "$work/mix.in" 2> "$work/mix.want"
t0=$(now)
rc=$(run mix -f sender@probe.test -t rcpt@probe.test --timeout 2 \
    --per-ip 50 --per-ip-gap 0 --metadata "$work/mix.meta" "$work/mix.in")
t1=$(now)
echo "# 2000 targets in $(( (t1 - t0) / 1000000 )) ms"
tap $([ "$rc" = 0 ]; echo $?) "2000 targets: exit $rc (want 0)"
valid "$work/mix.out"; tap $? "2000 targets: every line is a JSON object"
tap $([ "$(lines "$work/mix.out")" = 2000 ]; echo $?) \
    "2000 targets: 2000 records ($(lines "$work/mix.out"))"
jq -r '"\(.input_index) \(.status)"' "$work/mix.out" | sort -n > "$work/mix.got"
sort -n "$work/mix.want" > "$work/mix.want.s"
cmp -s "$work/mix.got" "$work/mix.want.s"
tap $? "2000 targets: each input index exactly once, with the right status"
[ $? -ne 0 ] && diff "$work/mix.want.s" "$work/mix.got" | head -5 | sed 's/^/# /'
for s in ok:0:800 permfail:1:500 tempfail:2:400 timeout:3:100 refused:3:200; do
	IFS=: read -r st code cnt <<EOF
$s
EOF
	got=$(jq -r "select(.status == \"$st\" and .exit_code == $code) | .input_index" \
	    "$work/mix.out" | lines /dev/stdin)
	tap $([ "$got" = "$cnt" ]; echo $?) \
	    "2000 targets: $cnt $st with exit code $code ($got)"
done
for mx in ok rej busy stall; do
	m=$(maxopen $mx)
	tap $([ -n "$m" ] && [ "$m" -le 50 ]; echo $?) \
	    "2000 targets: at most 50 sessions at once at $mx ($m)"
done
jq -e -s 'map(select(.status == "ok")) | all(.address == "127.0.0.2" and
    .session.result.status == "accepted" and (.session.steps | length) >= 6 and
    .started != null and .ended != null and .verdict.class == "accepted")' \
    "$work/mix.out" >/dev/null
tap $? "2000 targets: accepted records carry address, times, session, verdict"
jq -e -s 'map(select(.target | startswith("{"))) | length == 0' \
    "$work/mix.out" >/dev/null &&
    jq -e -s 'map(select(.tag != null)) | length == 200 and
    all(.target == "127.0.0.2" and (.tag | type) == "number")' \
    "$work/mix.out" >/dev/null
tap $? "2000 targets: JSON input lines give their target and tag back"
grep -q 'C: RCPT TO:<u28@\[127.0.0.3\]>' "$work/rej.log" &&
    grep -q 'C: RCPT TO:<rcpt@probe.test>' "$work/rej.log"
tap $? "user@[address] targets get RCPT to themselves, the others --to"
jq -e '.counts.ok == 800 and .counts.permfail == 500 and
    .counts.timeout == 100 and .selected == 2000 and .reported == 2000 and
    .concurrency_cap > 0 and .fd_limit > 0 and .exit_code == 0' \
    "$work/mix.meta" >/dev/null
tap $? "--metadata: counts per status, cap and fd limit"
spool "$work/mix.meta" "batch mix: --metadata"
grep -q "2000 of 2000 targets reported" "$work/mix.err"
tap $? "the summary on stderr"

# ---- caps: per IP, global, the gap, the rate ----
yes 127.0.0.6 | head -12 > "$work/slow12.in"
from=$(($(loglen slow) + 1))
rc=$(run cap3 --per-ip 3 --per-ip-gap 0 "$work/slow12.in")
m=$(maxopen slow "$from")
tap $([ "$rc" = 0 ] && [ "$m" = 3 ]; echo $?) \
    "--per-ip 3: 3 sessions at once at one address, never more ($m)"
from=$(($(loglen slow) + 1))
rc=$(run cap1 --per-ip-gap 0 "$work/slow12.in")
m=$(maxopen slow "$from")
tap $([ "$rc" = 0 ] && [ "$m" = 1 ]; echo $?) \
    "default --per-ip 1: one session at a time ($m)"
from=$(($(loglen slow) + 1))
rc=$(run capc -c 2 --per-ip 10 --per-ip-gap 0 "$work/slow12.in")
m=$(maxopen slow "$from")
tap $([ "$rc" = 0 ] && [ "$m" = 2 ]; echo $?) \
    "--concurrency 2 caps the whole run ($m)"
yes 127.0.0.2 | head -4 > "$work/gap.in"
t0=$(now)
rc=$(run gap --per-ip-gap 0.3 "$work/gap.in")
t1=$(now)
ms=$(( (t1 - t0) / 1000000 ))
tap $([ "$rc" = 0 ] && [ "$ms" -ge 880 ]; echo $?) \
    "--per-ip-gap 0.3: 4 connections to one address take 0.9 s or more ($ms ms)"
yes 127.0.0.2 | head -25 > "$work/rate.in"
t0=$(now)
rc=$(run rate --per-ip 25 --per-ip-gap 0 --rate 20/s "$work/rate.in")
t1=$(now)
ms=$(( (t1 - t0) / 1000000 ))
tap $([ "$rc" = 0 ] && [ "$ms" -ge 1100 ] && [ "$ms" -le 30000 ]; echo $?) \
    "--rate 20/s: 25 connections take 1.2 s, not much less ($ms ms)"
t0=$(now)
rc=$(run rate2 --per-ip 25 --per-ip-gap 0 --rate 600/m "$work/rate.in")
t1=$(now)
ms=$(( (t1 - t0) / 1000000 ))
tap $([ "$rc" = 0 ] && [ "$ms" -ge 2200 ]; echo $?) \
    "--rate 600/m is 10 a second ($ms ms for 25)"

# ---- sharding ----
{
	for i in $(seq 1 60); do echo "127.0.1.$i"; done
	for i in $(seq 1 60); do echo "127.0.2.$((i % 20 + 1))"; done
	for i in $(seq 1 40); do echo "127.0.0.2"; done
	for i in $(seq 1 20); do echo "[::1]:1"; done
	for i in $(seq 1 10); do echo "not a target $i"; done
} > "$work/shard.in"
opts="--per-ip 20 --per-ip-gap 0 --timeout 5"
rc=$(run all $opts "$work/shard.in")
jq -r .input_index "$work/all.out" | sort -n > "$work/all.idx"
tap $([ "$rc" = 0 ] && [ "$(lines "$work/all.idx")" = 190 ]; echo $?) \
    "unsharded: 190 records"
: > "$work/union.idx"
ok=0
for i in 0 1 2; do
	rc=$(run shard$i $opts --shard $i/3 "$work/shard.in")
	[ "$rc" = 0 ] || ok=1
	jq -r .input_index "$work/shard$i.out" >> "$work/union.idx"
	jq -r 'select(.address != null) | .address' "$work/shard$i.out" |
	    sort -u > "$work/shard$i.addr"
	jq -e '.shard.n == 3 and .shard.i == '$i "$work/shard$i.out" \
	    >/dev/null || ok=1
done
tap $ok "--shard I/3: three runs, each record names its shard"
sort -n "$work/union.idx" | cmp -s - "$work/all.idx"
tap $? "--shard: the union of the shards is the whole input, each index once"
tap $([ -z "$(sort "$work/shard0.addr" "$work/shard1.addr" "$work/shard2.addr" |
    uniq -d)" ]; echo $?) "--shard: an address belongs to one shard only"
for i in 0 1 2; do
	c=$(lines "$work/shard$i.out")
	[ "$c" -gt 0 ] || ok=1
done
tap $ok "--shard: every shard has some of the work"
jq -r .input_index "$work/shard1.out" | sort -n > "$work/s1.idx"
rc=$(JOB_COMPLETION_INDEX=1 run k8s $opts --shard auto --shard-count 3 \
    "$work/shard.in")
jq -r .input_index "$work/k8s.out" | sort -n | cmp -s - "$work/s1.idx"
tap $? "--shard auto: JOB_COMPLETION_INDEX=1 with --shard-count 3 is 1/3"
rc=$(SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=3 run slurm $opts \
    --shard auto --shard-base 1 "$work/shard.in")
jq -r .input_index "$work/slurm.out" | sort -n | cmp -s - "$work/s1.idx"
tap $? "--shard auto --shard-base 1: SLURM_ARRAY_TASK_ID=2 of 3 is 1/3"
rc=$(SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_MIN=1 \
    run slurm2 $opts --shard auto "$work/shard.in")
jq -r .input_index "$work/slurm2.out" | sort -n | cmp -s - "$work/s1.idx"
tap $? "--shard auto: SLURM_ARRAY_TASK_MIN=1 sets the base"
: > "$work/seed.idx"
for i in 0 1 2; do
	rc=$(run seed$i $opts --seed 42 --shard $i/3 "$work/shard.in")
	jq -r .input_index "$work/seed$i.out" >> "$work/seed.idx"
done
sort -n "$work/seed.idx" | cmp -s - "$work/all.idx" &&
    ! jq -r .input_index "$work/seed1.out" | sort -n | cmp -s - "$work/s1.idx"
tap $? "--seed 42: another split, still the whole input once"
rc=$(run badshard --shard 3/3 "$work/shard.in")
tap $([ "$rc" = 64 ]; echo $?) "--shard 3/3 is a usage error ($rc)"
rc=$(env -u JOB_COMPLETION_INDEX -u SLURM_ARRAY_TASK_ID \
    -u AWS_BATCH_JOB_ARRAY_INDEX -u NOMAD_META_shard \
    "$probe" batch --helo probe.test --shard auto "$work/shard.in" \
    >/dev/null 2>&1; echo $?)
tap $([ "$rc" = 64 ]; echo $?) "--shard auto without a job index is a usage error"

# ---- --resume after kill -9 ----
yes 127.0.0.6 | head -100 > "$work/res.in"
"$probe" batch --helo probe.test -p "$P" --per-ip 2 --per-ip-gap 0 \
    "$work/res.in" > "$work/res.out" 2> "$work/res.err" &
bp=$!
for _ in $(seq 1 200); do
	[ "$(lines "$work/res.out")" -ge 15 ] && break
	sleep 0.05
done
kill -9 $bp
wait $bp 2>/dev/null
first=$(lines "$work/res.out")
tap $([ "$first" -ge 15 ] && [ "$first" -lt 100 ]; echo $?) \
    "kill -9 midway: $first of 100 records written"
printf '{"input_index":99,"target":"127.0.0.6","sta' >> "$work/res.out"
rc=$(run res2 --per-ip 4 --per-ip-gap 0 --resume "$work/res.out" "$work/res.in")
tap $([ "$rc" = 0 ] && [ ! -s "$work/res2.out" ]; echo $?) \
    "--resume: exit $rc, the records go to the file, not stdout"
valid "$work/res.out"
tap $? "--resume: the partial last line was cut off; every line is JSON"
jq -r .input_index "$work/res.out" | sort -n | cmp -s - <(seq 0 99)
tap $? "--resume: every index reported exactly once overall"
tap $([ "$(jq -r 'select(.status != "ok")' "$work/res.out" | lines /dev/stdin)" = 0 ]; echo $?) \
    "--resume: every record is complete"

# ---- SIGTERM: drain, interrupted records, resume ----
yes 127.0.0.6 | head -20 > "$work/term.in"
from=$(($(loglen slow) + 1))
"$probe" batch --helo probe.test -p "$P" --per-ip 4 --per-ip-gap 0 \
    --drain-timeout 10 "$work/term.in" > "$work/term.out" \
    2> "$work/term.err" &
bp=$!
for _ in $(seq 1 200); do
	[ -n "$(maxopen slow "$from")" ] && break
	sleep 0.02
done
kill -TERM $bp
wait $bp
rc=$?
tap $([ "$rc" = 2 ]; echo $?) "SIGTERM: exit $rc (want 2)"
c=$(lines "$work/term.out")
tap $([ "$c" -ge 1 ] && [ "$c" -lt 20 ] &&
    [ "$(jq -r 'select(.status != "ok")' "$work/term.out" | lines /dev/stdin)" = 0 ]; echo $?) \
    "SIGTERM: the $c sessions under way finished within the drain; no new ones"
grep -q "not reported: $((20 - c))" "$work/term.err"
tap $? "SIGTERM: the summary counts what was not reported"
rc=$(run term2 --per-ip 4 --per-ip-gap 0 --resume "$work/term.out" "$work/term.in")
tap $([ "$rc" = 0 ]; echo $?) "resume after SIGTERM: exit $rc"
jq -r .input_index "$work/term.out" | sort -n | cmp -s - <(seq 0 19)
tap $? "resume after SIGTERM: every index exactly once"

yes 127.0.0.5 | head -12 > "$work/int.in"
from=$(($(loglen stall) + 1))
"$probe" batch --helo probe.test -p "$P" --per-ip 4 --per-ip-gap 0 \
    --timeout 60 --drain-timeout 0.3 "$work/int.in" > "$work/int.out" \
    2> "$work/int.err" &
bp=$!
for _ in $(seq 1 200); do
	[ "$(maxopen stall "$from")" = 4 ] && break
	sleep 0.02
done
kill -INT $bp
wait $bp
rc=$?
tap $([ "$rc" = 2 ]; echo $?) "SIGINT with sessions that never end: exit $rc (want 2)"
tap $([ "$(jq -r 'select(.status == "interrupted" and .exit_code == null and
    .error != null) | .input_index' "$work/int.out" | lines /dev/stdin)" = 4 ]; echo $?) \
    "--drain-timeout: the 4 sessions under way get interrupted records"
rc=$(run int2 --per-ip 12 --per-ip-gap 0 --timeout 0.3 --resume "$work/int.out" \
    "$work/int.in")
jq -r 'select(.status != "interrupted") | .input_index' "$work/int.out" |
    sort -n | cmp -s - <(seq 0 11)
tap $? "resume after interruption: each index has exactly one complete record"
tap $([ "$(jq -r 'select(.status == "interrupted")' "$work/int.out" |
    jq -s length)" = 4 ] && [ "$rc" = 0 ]; echo $?) \
    "resume after interruption: the interrupted records were retried, not dropped"

# ---- blocklist ----
cat > "$work/bl.txt" <<EOF
# never probe these
127.0.0.9
127.0.0.200/30   # a network
::1/128
blocked.test
EOF
printf '%s\n' 127.0.0.9 127.0.0.9 "x@[127.0.0.9]" 127.0.0.201 "[::1]:$P" \
    blocked.test mx.blocked.test:25 127.0.0.2 127.0.0.2 > "$work/bl.in"
rc=$(run bl --per-ip-gap 0 --resolver 127.0.0.1:9 --blocklist "$work/bl.txt" \
    "$work/bl.in")
tap $([ "$rc" = 0 ]; echo $?) "--blocklist: exit $rc"
tap $([ "$(jq -r '"\(.input_index) \(.status)"' "$work/bl.out" | sort -n |
    tr '\n' ' ')" = "0 blocklisted 1 blocklisted 2 blocklisted 3 blocklisted 4 blocklisted 5 blocklisted 6 blocklisted 7 ok 8 ok " ]; echo $?) \
    "--blocklist: addresses, networks, IPv6 and domains are blocklisted"
tap $([ "$(grep -c '^\*\*\* connect' "$work/bl.log")" = 0 ]; echo $?) \
    "--blocklist: the listed host was never contacted"
jq -e -s 'map(select(.status == "blocklisted")) | all(.error |
    startswith("blocklisted: ")) and all(.session == null)' "$work/bl.out" \
    >/dev/null
tap $? "--blocklist: the records say which entry matched"
printf '10.0.0.0/33\n' > "$work/bad.bl"
rc=$(run blbad --blocklist "$work/bad.bl" "$work/bl.in")
tap $([ "$rc" = 64 ]; echo $?) "--blocklist: a bad line is a usage error"

# ---- invalid input, comments, CRLF, stdin ----
printf '%s\r\n' '# comment' '' 'bad target!' '[::1' '127.0.0.2:99999' \
    '{"target":"127.0.0.2","to":"a<b"}' '{"nottarget":1}' 'x{' \
    "127.0.0.2" > "$work/inv.in"
rc=$("$probe" batch --helo probe.test -p "$P" --per-ip-gap 0 \
    < "$work/inv.in" > "$work/inv.out" 2> "$work/inv.err"; echo $?)
tap $([ "$rc" = 0 ]; echo $?) "input from stdin: exit $rc"
tap $([ "$(jq -r '"\(.input_index) \(.status)"' "$work/inv.out" | sort -n |
    tr '\n' ' ')" = "2 invalid 3 invalid 4 invalid 5 invalid 6 invalid 7 invalid 8 ok " ]; echo $?) \
    "invalid lines get invalid records; indexes count comments and blank lines"
jq -e -s 'map(select(.status == "invalid")) | all(.error != null and
    .exit_code == 64)' "$work/inv.out" >/dev/null
tap $? "invalid records say why"

# ---- TLS ----
printf '127.0.0.10\n127.0.0.10\n' > "$work/tls.in"
rc=$(run tls --per-ip-gap 0 --starttls "$work/tls.in")
tap $([ "$rc" = 0 ]; echo $?) "--starttls: exit $rc"
jq -e -s 'length == 2 and all(.status == "ok" and .session.tls.version != null)' \
    "$work/tls.out" >/dev/null
tap $? "--starttls: both sessions ok over TLS"
printf '127.0.0.11\n' > "$work/tls465.in"
rc=$(run tls465 --per-ip-gap 0 --tls-on-connect "$work/tls465.in")
jq -e '.status == "ok" and .session.tls.version != null' \
    "$work/tls465.out" >/dev/null
tap $? "--tls-on-connect: ok over implicit TLS"
printf '127.0.0.2\n' > "$work/notls.in"
rc=$(run notls --per-ip-gap 0 --starttls "$work/notls.in")
jq -e '.status == "tls"' "$work/notls.out" >/dev/null
tap $? "--starttls against a server without STARTTLS: status tls"

# ---- memory: no error and no leak under valgrind (normal build) ----
if command -v valgrind >/dev/null && [ -z "${SMTPROBE_SANITIZED:-}" ]; then
	vg="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect,possible --show-leak-kinds=definite,indirect,possible --error-exitcode=99"
	printf '%s\n' 127.0.0.2 127.0.0.3 127.0.0.10 "u@[127.0.0.2]" \
	    '{"target":"127.0.0.3","tag":{"k":[1]}}' 'bad!' 127.0.0.7 \
	    127.0.0.9 > "$work/vg.in"
	rc=$(timeout -k 5 120 $vg "$probe" batch --helo probe.test -p "$P" \
	    --per-ip-gap 0 -f s@probe.test -t r@probe.test --starttls-optional \
	    --blocklist "$work/bl.txt" --metadata "$work/vg.meta" \
	    "$work/vg.in" > "$work/vg.out" 2> "$work/vg.err"; echo $?)
	tap $([ "$rc" = 0 ] && [ "$(lines "$work/vg.out")" = 8 ]; echo $?) \
	    "valgrind: a mixed batch with TLS, no memory error, no leak ($rc)"
	[ "$rc" = 0 ] || grep '^==' "$work/vg.err" | head -20 | sed 's/^/# /'
	yes 127.0.0.5 | head -6 > "$work/vgi.in"
	from=$(($(loglen stall) + 1))
	timeout -k 5 120 $vg "$probe" batch --helo probe.test -p "$P" \
	    --per-ip 3 --per-ip-gap 0 --timeout 60 --drain-timeout 0 \
	    "$work/vgi.in" > "$work/vgi.out" 2> "$work/vgi.err" &
	bp=$!
	for _ in $(seq 1 300); do
		[ "$(maxopen stall "$from")" = 3 ] && break
		sleep 0.05
	done
	sleep 0.2
	kill -TERM $bp
	wait $bp
	rc=$?
	tap $([ "$rc" = 2 ] && [ "$(lines "$work/vgi.out")" = 3 ]; echo $?) \
	    "valgrind: sessions abandoned after SIGTERM, no error, no leak ($rc)"
	[ "$rc" = 2 ] || grep '^==' "$work/vgi.err" | head -20 | sed 's/^/# /'
else
	n=$((n + 1)); echo "ok $n - valgrind batch # SKIP no valgrind or sanitized build"
	n=$((n + 1)); echo "ok $n - valgrind abandon # SKIP no valgrind or sanitized build"
fi

# ---- scenario ----
cat > "$work/rcpt.scn" <<'EOF'
connect
ehlo
mail ${from}
rcpt ${to}
expect 250
quit
EOF
printf '%s\n' "one@[127.0.0.2]" "two@[127.0.0.2]" "three@[127.0.0.3]" > "$work/scn.in"
rc=$(run scn --per-ip-gap 0 -f s@probe.test --scenario "$work/rcpt.scn" "$work/scn.in")
grep -q 'C: RCPT TO:<one@\[127.0.0.2\]>' "$work/ok.log" &&
    grep -q 'C: RCPT TO:<two@\[127.0.0.2\]>' "$work/ok.log"
tap $? "--scenario: \${to} is each target's address"
tap $([ "$(jq -r '"\(.input_index) \(.status)"' "$work/scn.out" | sort -n |
    tr '\n' ' ')" = "0 ok 1 ok 2 expect " ]; echo $?) \
    "--scenario: an expectation not met gives status expect"
printf 'connect\nbogus step\n' > "$work/bad.scn"
rc=$(run badscn --scenario "$work/bad.scn" "$work/scn.in")
tap $([ "$rc" = 64 ]; echo $?) "a scenario that does not parse is a usage error"

# ---- usage ----
u=0
for args in "--bogus" "--per-ip 0" "--rate x" "--rate 0" "--timeout bogus=1" \
    "--timeout -1" "--concurrency 0" "--shard 1" "--shard-key mx" \
    "--helo a\\ b" "-f 'a<b'" "--to" "a b"; do
	rc=$(eval "\"$probe\" batch --helo probe.test $args" </dev/null \
	    >/dev/null 2>&1; echo $?)
	[ "$rc" = 64 ] || { u=1; echo "# batch $args: exit $rc"; }
done
tap $u "bad options are usage errors (exit 64)"
"$probe" batch --help | grep -q "^usage: smtprobe batch" 
tap $? "batch --help"
printf '127.0.0.2\n' | "$probe" batch --helo probe.test -p "$P" --progress \
    2> "$work/prog.err" >/dev/null
grep -q "1/1 done" "$work/prog.err"
tap $? "--progress shows done/total"
echo "1..$n"

#!/bin/bash
# shard.sh - "smtprobe batch --shard ... --summary-record" and "smtprobe
# batch merge": N shards of one target list against fake MX hosts on
# loopback (127.0.0.2 accepts, 127.0.0.3 refuses RCPT; nothing listens
# on 127.0.1.x, so those are refused at once), merged back: every target
# exactly once; a missing part, a doubled part, a part of another run, a
# cut-off part and parts without a summary are reported and fail. Then
# --shard auto through the job arrays' variables (Kubernetes Indexed
# Job, Slurm arrays, stepped ones refused). Prints TAP.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
. "$top_srcdir/tests/lib.sh"
lib_init shard
[ -x "$probe" ] && [ -x "$fakemx" ] || bail "build smtprobe and tests/fakemx first"
command -v sha256sum >/dev/null || bail "no sha256sum"

echo "reply CONNECT 220 ok.test ESMTP" > "$work/ok.script"
printf '%s\n' "reply CONNECT 220 rej.test ESMTP" \
    "reply RCPT 550 5.1.1 <x> User unknown" > "$work/rej.script"
started=
for attempt in 1 2 3 4 5; do
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	pids=
	lib_fakemx ok 127.0.0.2 0 || continue
	P=$(cat "$work/ok.port")
	lib_fakemx rej 127.0.0.3 "$P" && started=1 && break
done
[ -n "$started" ] || bail "the fake MX hosts did not start on one port"

{
	echo "# the targets of tests/shard.sh"
	for i in $(seq 1 30); do echo "127.0.1.$i"; done
	echo ""
	for i in $(seq 1 6); do echo "127.0.0.2"; echo "127.0.0.3"; done
	for i in $(seq 1 4); do echo "not a target $i"; done
	echo '{"target":"127.0.0.2","tag":"json"}'
} > "$work/in"
ntargets=$(grep -cv '^\(#.*\)\{0,1\}$' "$work/in")
sha=$(sha256sum "$work/in" | cut -d' ' -f1)

# run NAME ARGS...: smtprobe batch, records to NAME.out, stderr to
# NAME.err; prints the exit status
run() {
	local name=$1
	shift
	timeout -k 5 120 "$probe" batch --helo probe.test -p "$P" \
	    --per-ip 10 --per-ip-gap 0 --timeout 5 -t user@example.com \
	    "$@" > "$work/$name.out" 2> "$work/$name.err"
	echo $?
	spool "$work/$name.out" "batch $name: $*"
}
# merge NAME ARGS...: smtprobe batch merge, NAME.out, NAME.err, status
merge() {
	local name=$1
	shift
	timeout -k 5 60 "$probe" batch merge "$@" > "$work/$name.out" \
	    2> "$work/$name.err"
	echo $?
	spool "$work/$name.out" "batch merge $name: $*"
}
records() { jq -c 'select(.input_index != null)' "$1"; }
idx() { jq -r 'select(.input_index != null) | .input_index' "$1" | sort -n; }

# ---- three shards ----
ok=0
for i in 0 1 2; do
	rc=$(run s$i --shard $i/3 --summary-record "$work/in")
	[ "$rc" = 0 ] || ok=1
	tail -1 "$work/s$i.out" | jq -e --arg sha "$sha" --argjson i $i '
	    .summary.shard == {i: $i, n: 3, seed: 0, key: "ip", from: null}
	    and .summary.input.sha256 == $sha and .summary.input.lines == 49
	    and .summary.input.skipped_lines == [0, 31]
	    and .summary.input.targets == '"$ntargets"'
	    and .input_index == null' >/dev/null || ok=1
	[ "$(records "$work/s$i.out" | wc -l)" -gt 0 ] || ok=1
done
tap $ok "three shards: exit 0, each ends with its summary record (shard, input SHA-256, lines, skipped lines), each has work"

rc=$(merge m3 "$work/s0.out" "$work/s2.out" "$work/s1.out")
tap $([ "$rc" = 0 ]; echo $?) "merge of the three parts exits 0 ($rc)"
[ "$(idx "$work/m3.out")" = "$(cat "$work"/s[012].out | idx /dev/stdin)" ] &&
    [ "$(idx "$work/m3.out" | wc -l)" = "$ntargets" ] &&
    [ -z "$(idx "$work/m3.out" | uniq -d)" ]
tap $? "merge: every target exactly once ($ntargets records)"
tail -1 "$work/m3.out" | jq -e '.summary.merged and .summary.complete
    and .summary.records == '"$ntargets"' and .summary.missing == []
    and .summary.duplicated == [] and (.summary.parts | length) == 3
    and .summary.counts.refused == 30 and .summary.counts.ok == 7
    and .summary.counts.permfail == 6 and .summary.counts.invalid == 4
    and .summary.shard.n == 3' >/dev/null
tap $? "merge: one merged summary record last, counts over every part"
[ "$(jq -c . "$work/m3.out" | wc -l)" = "$((ntargets + 1))" ] &&
    [ ! -s "$work/m3.err" ]
tap $? "merge: records and one summary on stdout, nothing on stderr"

# ---- a part missing ----
idx "$work/s1.out" > "$work/want.missing"
rc=$(merge miss "$work/s0.out" "$work/s2.out")
tap $([ "$rc" = 1 ]; echo $?) "merge without shard 1 exits 1 ($rc)"
grep -q "shard 1/3: no part" "$work/miss.err"
tap $? "merge names the missing shard"
sed -n 's/.*missing: input line \([0-9]*\).*/\1/p' "$work/miss.err" |
    while read -r l; do echo $((l - 1)); done | sort -n > "$work/got.missing"
cmp -s "$work/want.missing" "$work/got.missing" &&
    [ -s "$work/want.missing" ]
tap $? "merge names every target of the missing part by its line ($(wc -l < "$work/want.missing"))"
tail -1 "$work/miss.out" | jq -r '.summary.missing[].input_index' |
    sort -n | cmp -s - "$work/want.missing" &&
    tail -1 "$work/miss.out" | jq -e '.summary.complete == false' >/dev/null
tap $? "merge: the summary's missing array holds the same targets"
rc=$(merge missin --input "$work/in" "$work/s0.out" "$work/s2.out")
t=$(jq -r 'select(.input_index != null) | .target' "$work/s1.out" | head -1)
[ "$rc" = 1 ] && grep -q "missing: input line [0-9]*: $t\$" "$work/missin.err"
tap $? "merge --input names the missing targets by their text ($t)"
cp "$work/in" "$work/in2"
echo "127.0.0.9" >> "$work/in2"
rc=$(merge badin --input "$work/in2" "$work/s0.out" "$work/s1.out" \
    "$work/s2.out")
[ "$rc" = 1 ] && grep -q "is not the input of the shards" "$work/badin.err"
tap $? "merge --input with another file: refused ($rc)"

# ---- a part twice ----
rc=$(merge dup "$work/s0.out" "$work/s1.out" "$work/s2.out" "$work/s1.out")
[ "$rc" = 1 ] && grep -q "shard 1/3: two parts" "$work/dup.err"
tap $? "merge with shard 1 twice exits 1 and names the doubled shard ($rc)"
[ "$(grep -c "duplicated: input line" "$work/dup.err")" = \
    "$(records "$work/s1.out" | wc -l)" ] &&
    [ "$(idx "$work/dup.out" | wc -l)" = "$ntargets" ] &&
    [ -z "$(idx "$work/dup.out" | uniq -d)" ]
tap $? "merge names every duplicated record and writes each once"

# ---- a part of another run, a cut-off part, no summaries ----
rc=$(run seed --shard 1/3 --seed 7 --summary-record "$work/in")
rc=$(merge other "$work/s0.out" "$work/seed.out" "$work/s2.out")
[ "$rc" = 1 ] && grep -q "not of the same run.*shard.seed" "$work/other.err"
tap $? "merge refuses a part run with another seed ($rc)"
head -c -20 "$work/s2.out" > "$work/cut.out"
rc=$(merge cut "$work/s0.out" "$work/s1.out" "$work/cut.out")
[ "$rc" = 1 ] && grep -q "partial last line" "$work/cut.err" &&
    grep -q "shard 2/3: no part" "$work/cut.err"
tap $? "merge of a cut-off part (no summary) exits 1 and says so ($rc)"
for i in 0 1 2; do records "$work/s$i.out" > "$work/plain$i.out"; done
rc=$(merge plain "$work"/plain[012].out)
[ "$rc" = 1 ] && grep -q "no summary record" "$work/plain.err"
tap $? "merge of parts without --summary-record exits 1 ($rc)"
rc=$(merge plainin --input "$work/in" "$work"/plain[012].out)
[ "$rc" = 1 ] && ! grep -q "missing:" "$work/plainin.err"
tap $? "... with --input the targets are checked all the same: none missing"
printf 'not json\n' > "$work/junk.part"
rc=$(merge junk "$work/s0.out" "$work/s1.out" "$work/s2.out" "$work/junk.part")
[ "$rc" = 1 ] && grep -q "junk.part:1: not a batch record" "$work/junk.err"
tap $? "merge: a line that is not a record is named, exit 1"
rc=$(merge none "$work/nonexistent")
tap $([ "$rc" = 3 ]; echo $?) "merge of an unreadable part exits 3 ($rc)"
rc=$(merge usage --bogus "$work/s0.out")
rc2=$(merge usage2)
tap $([ "$rc" = 64 ] && [ "$rc2" = 64 ]; echo $?) \
    "merge: an unknown option or no part is a usage error"

# ---- --resume skips a summary record ----
cp "$work/s0.out" "$work/res.part"
rc=$(run res --shard 0/3 --summary-record --resume "$work/res.part" "$work/in")
[ "$rc" = 0 ] && [ "$(records "$work/res.part" | wc -l)" = \
    "$(records "$work/s0.out" | wc -l)" ] &&
    [ "$(tail -1 "$work/res.part" | jq '.summary.skipped_resume')" = \
    "$(records "$work/s0.out" | wc -l)" ] &&
    ! grep -q "not records" "$work/res.err"
tap $? "--resume over a part: the summary line is no record, nothing probed again"

# ---- --shard auto from the job arrays' variables ----
envrun() {	# envrun NAME VAR=VALUE... -- ARGS...
	local name=$1 vars=
	shift
	while [ "$1" != "--" ]; do vars="$vars $1"; shift; done
	shift
	# shellcheck disable=SC2086
	env -u JOB_COMPLETION_INDEX -u SLURM_ARRAY_TASK_ID \
	    -u SLURM_ARRAY_TASK_COUNT -u SLURM_ARRAY_TASK_MIN \
	    -u SLURM_ARRAY_TASK_MAX -u AWS_BATCH_JOB_ARRAY_INDEX \
	    -u NOMAD_META_shard -u SHARD_COUNT -u SMTPROBE_SHARD_COUNT \
	    $vars timeout -k 5 120 "$probe" batch --helo probe.test -p "$P" \
	    --per-ip 10 --per-ip-gap 0 --timeout 5 -t user@example.com \
	    "$@" > "$work/$name.out" 2> "$work/$name.err"
	echo $?
}
rc=$(envrun k8s JOB_COMPLETION_INDEX=2 SMTPROBE_SHARD_COUNT=3 -- \
    --shard auto --summary-record "$work/in")
[ "$rc" = 0 ] && [ "$(idx "$work/k8s.out")" = "$(idx "$work/s2.out")" ] &&
    tail -1 "$work/k8s.out" | jq -e '.summary.shard.i == 2 and
    .summary.shard.n == 3 and .summary.shard.from == "JOB_COMPLETION_INDEX"' \
    >/dev/null
tap $? "--shard auto: JOB_COMPLETION_INDEX=2, SMTPROBE_SHARD_COUNT=3 is shard 2/3"
rc=$(envrun k8sn JOB_COMPLETION_INDEX=2 -- --shard auto "$work/in")
[ "$rc" = 64 ] && grep -q "SMTPROBE_SHARD_COUNT" "$work/k8sn.err"
tap $? "--shard auto: an index without a count is a usage error naming SMTPROBE_SHARD_COUNT"
rc=$(envrun sl SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_MIN=1 \
    SLURM_ARRAY_TASK_MAX=3 -- --shard auto "$work/in")
[ "$rc" = 0 ] && [ "$(idx "$work/sl.out")" = "$(idx "$work/s1.out")" ]
tap $? "--shard auto: SLURM_ARRAY_TASK_ID=2 of MIN=1..MAX=3 (no COUNT) is shard 1/3"
rc=$(envrun slc SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_COUNT=3 \
    SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=2 -- --shard auto "$work/in")
[ "$rc" = 0 ] && [ "$(idx "$work/slc.out")" = "$(idx "$work/s0.out")" ]
tap $? "--shard auto: SLURM_ARRAY_TASK_ID=0 COUNT=3 MIN=0 MAX=2 is shard 0/3"
rc=$(envrun step SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=3 \
    SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=4 -- --shard auto "$work/in")
[ "$rc" = 64 ] && grep -q "stepped or sparse" "$work/step.err"
tap $? "--shard auto: a stepped Slurm array (0-4:2) is refused ($rc)"
rc=$(envrun stepc SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=3 \
    SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=4 -- --shard auto \
    --shard-count 5 "$work/in")
tap $([ "$rc" = 0 ]; echo $?) "... unless --shard-count says how many ($rc)"
ok=0
for i in 1 2 3; do
	rc=$(envrun a$i SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_COUNT=3 \
	    SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=3 -- --shard auto \
	    --summary-record "$work/in")
	[ "$rc" = 0 ] || ok=1
done
rc=$(merge slm "$work/a1.out" "$work/a2.out" "$work/a3.out")
[ "$ok" = 0 ] && [ "$rc" = 0 ] && [ "$(idx "$work/slm.out" | wc -l)" = "$ntargets" ]
tap $? "a Slurm array 1-3 through the environment, merged: complete"

# ---- the recipes ----
if python3 -c 'import yaml' 2>/dev/null; then
	python3 - "$top_srcdir/contrib/k8s/indexed-job.yaml" <<'PY'
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
kinds = {d["kind"] + "/" + d["metadata"]["name"]: d for d in docs}
job = kinds["Job/smtprobe-shards"]["spec"]
assert job["completionMode"] == "Indexed"
c = job["template"]["spec"]["containers"][0]
env = {e["name"]: e["value"] for e in c["env"]}
assert int(env["SMTPROBE_SHARD_COUNT"]) == job["completions"]
cmd = " ".join(c["command"] + c["args"])
for w in ("batch --shard auto", "--summary-record", "$JOB_COMPLETION_INDEX"):
    assert w in cmd, w
assert job["template"]["spec"]["restartPolicy"] in ("Never", "OnFailure")
m = kinds["Job/smtprobe-merge"]["spec"]["template"]["spec"]
assert "batch merge --input" in " ".join(m["containers"][0]["args"])
assert "ConfigMap/smtprobe-targets" in kinds
PY
	tap $? "indexed-job.yaml: an Indexed Job of batch --shard auto, count = completions, a merge Job"
else
	echo "ok $((n += 1)) # SKIP python3-yaml not installed"
fi
if command -v shellcheck >/dev/null; then
	shellcheck -S warning "$top_srcdir/contrib/slurm/smtprobe-array.sh"
	tap $? "smtprobe-array.sh: shellcheck"
else
	echo "ok $((n += 1)) # SKIP shellcheck not installed"
fi
# the Slurm script's task and merge modes, with the variables Slurm sets
mkdir "$work/sl-out"
ok=0
for i in 0 1 2; do
	env SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_COUNT=3 \
	    SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=2 SMTPROBE="$probe" \
	    sh "$top_srcdir/contrib/slurm/smtprobe-array.sh" shard \
	    "$work/in" "$work/sl-out" --helo probe.test -p "$P" --per-ip 10 \
	    --per-ip-gap 0 --timeout 5 -q 2>/dev/null || ok=1
done
SMTPROBE="$probe" sh "$top_srcdir/contrib/slurm/smtprobe-array.sh" merge \
    "$work/in" "$work/sl-out" 2>/dev/null || ok=1
[ "$ok" = 0 ] && [ "$(idx "$work/sl-out/merged.jsonl" | wc -l)" = "$ntargets" ]
tap $? "smtprobe-array.sh shard and merge modes: complete"
rm "$work/sl-out/part-1.jsonl"
SMTPROBE="$probe" sh "$top_srcdir/contrib/slurm/smtprobe-array.sh" merge \
    "$work/in" "$work/sl-out" 2>/dev/null
tap $([ $? = 1 ]; echo $?) "smtprobe-array.sh merge fails when a part is missing"

echo "1..$n"

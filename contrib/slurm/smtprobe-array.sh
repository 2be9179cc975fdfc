#!/bin/sh
# smtprobe-array.sh - "smtprobe batch" spread over a Slurm job array, the
# shards merged by a job that starts once every task succeeded.
#
# Submit (on a login node, from a directory every node sees):
#   sh smtprobe-array.sh submit TARGETS OUTDIR [SHARDS] [-- BATCH-OPTIONS]
# submits
#   1. an array of SHARDS tasks (default 4), --array=0-(SHARDS-1); task i
#      runs "smtprobe batch --shard auto --summary-record BATCH-OPTIONS
#      TARGETS" (the index and count come from SLURM_ARRAY_TASK_ID,
#      SLURM_ARRAY_TASK_MIN/MAX/COUNT) into OUTDIR/part-i.jsonl, and
#      --resume makes a requeued task finish its shard instead of
#      starting it again;
#   2. a merge job, --dependency=afterok:ARRAY, that runs "smtprobe batch
#      merge --input TARGETS OUTDIR/part-*.jsonl" into OUTDIR/merged.jsonl
#      and fails (its exit status, in sacct and in OUTDIR/merge.err) when
#      a target is missing or doubled;
# and prints the two job ids, "ARRAY MERGE".
#
# Environment: SMTPROBE, the smtprobe binary (default: smtprobe in
# PATH); SBATCH_PARTITION, SBATCH_ACCOUNT and the rest of sbatch's
# input variables; SMTPROBE_ARRAY_LIMIT, the most tasks at once (the
# array's %limit, default: no limit). Every task needs the same
# TARGETS file (a shared file system): merge checks its SHA-256.
#
# Per-IP politeness (--per-ip, --per-ip-gap) holds across the whole
# array: the shard key is the destination address (see SHARDING in
# smtprobe(1)), so one address is only ever probed by one task.
set -eu

prog="smtprobe-array.sh"
smtprobe=${SMTPROBE:-smtprobe}

usage() {
	echo "usage: $prog submit TARGETS OUTDIR [SHARDS] [-- BATCH-OPTIONS]" >&2
	exit 64
}

# The tasks: "shard TARGETS OUTDIR BATCH-OPTIONS..." (run by Slurm)
if [ "${1:-}" = shard ]; then
	[ $# -ge 3 ] || usage
	targets=$2 out=$3
	shift 3
	: "${SLURM_ARRAY_TASK_ID:?not a Slurm array task}"
	part=$out/part-$SLURM_ARRAY_TASK_ID.jsonl
	exec "$smtprobe" batch --shard auto --summary-record \
	    --resume "$part" "$@" "$targets"
fi
# The merge: "merge TARGETS OUTDIR" (run by Slurm)
if [ "${1:-}" = merge ]; then
	[ $# -eq 3 ] || usage
	targets=$2 out=$3
	# shellcheck disable=SC2086
	"$smtprobe" batch merge --input "$targets" "$out"/part-*.jsonl \
	    > "$out/merged.jsonl.tmp" 2> "$out/merge.err" && rc=0 || rc=$?
	mv "$out/merged.jsonl.tmp" "$out/merged.jsonl"
	cat "$out/merge.err" >&2
	exit "$rc"
fi

[ "${1:-}" = submit ] && [ $# -ge 3 ] || usage
targets=$2 out=$3
shift 3
shards=4
if [ $# -gt 0 ] && [ "$1" != -- ]; then
	shards=$1
	shift
fi
[ $# -gt 0 ] && { [ "$1" = -- ] || usage; shift; }
case $shards in
''|*[!0-9]*|0) echo "$prog: SHARDS must be a number above 0" >&2; exit 64 ;;
esac
[ -r "$targets" ] || { echo "$prog: cannot read $targets" >&2; exit 66; }
mkdir -p "$out"
targets=$(cd "$(dirname "$targets")" && pwd)/$(basename "$targets")
out=$(cd "$out" && pwd)
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
limit=${SMTPROBE_ARRAY_LIMIT:+%$SMTPROBE_ARRAY_LIMIT}

array=$(sbatch --parsable --job-name=smtprobe-shard \
    --array="0-$((shards - 1))$limit" --ntasks=1 --cpus-per-task=1 \
    --output="$out/shard-%a.log" --chdir="$out" \
    "$self" shard "$targets" "$out" "$@")
array=${array%%;*}
merge=$(sbatch --parsable --job-name=smtprobe-merge \
    --dependency="afterok:$array" --kill-on-invalid-dep=yes \
    --ntasks=1 --output="$out/merge.log" --chdir="$out" \
    "$self" merge "$targets" "$out")
merge=${merge%%;*}
echo "$array $merge"

#!/bin/bash
# slurm.sh - `make check-slurm`: the shipped contrib/slurm/smtprobe-array.sh
# end to end on a real single-node Slurm. Prints TAP. Opt-in (not part
# of `make check`): it needs root and takes about a minute.
#
# Debian's slurm-wlm (slurmctld, slurmd, the client commands, the
# plugins) and MUNGE are unpacked by scripts/slurm.sh, never installed.
# The whole run happens in namespaces of its own (unshare: network,
# mount, PID, UTS), like tests/interop/interop.sh: a private loopback
# (the ports are ours), a read-only overlay of the unpacked packages on
# /usr (the binaries look for their libraries, plugins and slurmstepd
# there), a tmpfs on /run. Inside it, under a temporary directory:
#
#   munged    its own key (mungekey), socket, PID, log and seed files
#   slurmctld ClusterName=smtprobe, SlurmctldHost=localhost, port BASE
#   slurmd    NodeName=localhost CPUs=2, port BASE+1, partition "probe";
#             AuthType=auth/munge through munged's private socket,
#             StateSaveLocation, SlurmdSpoolDir and the logs in the
#             work directory, ProctrackType=proctrack/pgid (no cgroup)
#   fake MX   tests/fakemx on 127.0.0.2 (accepts) and 127.0.0.3
#             (refuses RCPT), on one port; 127.0.1.x refuse
#
# Then `smtprobe-array.sh submit` (4 array tasks of "batch --shard auto"
# and a merge job with --dependency=afterok) as a user would, waiting
# for the merge job, and checks: every task ran as shard i/4 taken from
# SLURM_ARRAY_TASK_*, the merge exited 0, every target is in the merged
# stream exactly once, the summary says complete. The daemons are never
# started outside the namespaces; when the PID namespace ends, they end
# with it. Nothing of the machine is touched (the packages' maintainer
# scripts never run: no user, no service, no /etc file).
# SMTPROBE_SLURM_KEEP=1 keeps the work directory; SMTPROBE_SLURM_BASE
# the first port (default 16817).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "${top_srcdir:-$here/../..}" && pwd)
top_builddir=$(cd "${top_builddir:-$top_srcdir}" && pwd)
probe=$(cd "$top_builddir" && pwd)/smtprobe
fakemx=$(cd "$top_builddir" && pwd)/tests/fakemx
n=0
failed=0

tap() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
	fi
}
bail() { echo "Bail out! $*"; exit 99; }

if [ "${1:-}" != --inside ]; then
	[ -x "$probe" ] && [ -x "$fakemx" ] || bail "build smtprobe and tests/fakemx first"
	[ "$(id -u)" -eq 0 ] || bail "needs root (namespaces, slurmd)"
	PATH=$PATH:/usr/sbin:/sbin
	for c in unshare ip jq; do
		command -v "$c" >/dev/null || bail "no $c"
	done
	unshare --net --mount --uts true 2>/dev/null ||
		bail "cannot create namespaces here (unshare --net --mount --uts)"
	env=$(sh "$top_srcdir/scripts/slurm.sh" env) ||
		bail "scripts/slurm.sh could not unpack Slurm and MUNGE"
	eval "$env"
	work=$(mktemp -d "${TMPDIR:-/tmp}/smtprobe-slurm.XXXXXX")
	chmod 755 "$work"
	export SLURM_LOWER work probe fakemx top_srcdir
	unshare --net --mount --uts --pid --fork --mount-proc \
	    --kill-child=SIGTERM bash "$0" --inside
	rc=$?
	if [ -n "${SMTPROBE_SLURM_KEEP:-}" ]; then
		echo "# kept $work"
	else
		rm -rf "$work"
	fi
	exit $rc
fi

# ---- inside the namespaces ----
ip link set lo up || bail "cannot bring up lo"
# getaddrinfo(AI_ADDRCONFIG), with which slurmctld and slurmd look up
# the address to listen on, finds nothing when 127.0.0.1 is the only
# address (glibc skips exactly that one): a second loopback address
ip addr add 127.0.0.254/32 dev lo || bail "cannot add 127.0.0.254 to lo"
hostname localhost
mount --make-rprivate / || bail "cannot make the mounts private"
mount -t overlay smtprobe-slurm -o "lowerdir=$SLURM_LOWER:/usr" /usr ||
	bail "cannot mount the overlay of the unpacked packages on /usr"
mount -t tmpfs -o mode=755 smtprobe-run /run || bail "cannot mount /run"
unset SLURM_CONF SLURM_JOB_ID SLURM_ARRAY_TASK_ID
base=${SMTPROBE_SLURM_BASE:-16817}
d=$work
mkdir -p "$d/munge" "$d/state" "$d/spool" "$d/log" "$d/out"
chmod 700 "$d/munge"
cleanup() {
	for p in $(cat "$d"/*.pid 2>/dev/null); do kill "$p" 2>/dev/null; done
}
trap cleanup EXIT

# ---- MUNGE ----
/usr/sbin/mungekey --create --keyfile="$d/munge/munge.key" --force ||
	bail "mungekey failed"
chmod 600 "$d/munge/munge.key"
/usr/sbin/munged --force --socket="$d/munge/munge.sock" \
    --key-file="$d/munge/munge.key" --pid-file="$d/munged.pid" \
    --log-file="$d/log/munged.log" --seed-file="$d/munge/seed" ||
	bail "munged did not start: $(tail -3 "$d/log/munged.log")"
/usr/bin/munge -n -S "$d/munge/munge.sock" |
    /usr/bin/unmunge -S "$d/munge/munge.sock" >/dev/null
tap $? "munged runs on a private socket and key (a credential round trip)"

# ---- Slurm ----
cat > "$d/slurm.conf" <<EOF
# a single-node Slurm for tests/slurm/slurm.sh
ClusterName=smtprobe
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$base
SlurmdPort=$((base + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$d/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
SlurmdParameters=config_overrides
MaxArraySize=1001
InactiveLimit=0
KillWait=5
MinJobAge=600
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=256 State=UNKNOWN
PartitionName=probe Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$d/slurm.conf
/usr/sbin/slurmctld -i || bail "slurmctld did not start: $(tail -5 "$d/log/slurmctld.log")"
/usr/sbin/slurmd -N localhost || bail "slurmd did not start: $(tail -5 "$d/log/slurmd.log")"
up=1
for _ in $(seq 1 60); do
	st=$(/usr/bin/sinfo -h -N -o '%T' 2>/dev/null)
	case $st in idle*|mixed*|allocated*) up=0; break ;; esac
	sleep 1
done
/usr/bin/sinfo -N -o '%N %P %T %c' | sed 's/^/# /'
tap $up "slurmctld and slurmd up: node localhost in partition probe ($st)"
[ "$up" = 0 ] || {
	tail -5 "$d/log/slurmctld.log" "$d/log/slurmd.log" | sed 's/^/# /'
	bail "the Slurm node did not come up"
}

# ---- fake MX hosts ----
echo "reply CONNECT 220 ok.test ESMTP" > "$d/ok.script"
printf '%s\n' "reply CONNECT 220 rej.test ESMTP" \
    "reply RCPT 550 5.1.1 <x> User unknown" > "$d/rej.script"
"$fakemx" -a 127.0.0.2 -p 0 -P "$d/ok.port" -l "$d/log/ok.log" -t 600 \
    "$d/ok.script" 2>/dev/null &
echo $! > "$d/fakemx-ok.pid"
for _ in $(seq 1 100); do [ -s "$d/ok.port" ] && break; sleep 0.05; done
P=$(cat "$d/ok.port") || bail "the fake MX did not start"
"$fakemx" -a 127.0.0.3 -p "$P" -P "$d/rej.port" -l "$d/log/rej.log" \
    -t 600 "$d/rej.script" 2>/dev/null &
echo $! > "$d/fakemx-rej.pid"
for _ in $(seq 1 100); do [ -s "$d/rej.port" ] && break; sleep 0.05; done
[ -s "$d/rej.port" ] || bail "the second fake MX did not start"
{
	echo "# targets of tests/slurm/slurm.sh"
	for i in $(seq 1 40); do echo "127.0.1.$i"; done
	for i in $(seq 1 5); do echo "127.0.0.2"; echo "127.0.0.3"; done
	echo "not a target"
} > "$d/targets"
ntargets=$(grep -cv '^\(#.*\)\{0,1\}$' "$d/targets")

# ---- the shipped array script, as a user runs it ----
ids=$(cd "$d" && PATH=$(dirname "$probe"):$PATH SMTPROBE=$probe \
    sh "$top_srcdir/contrib/slurm/smtprobe-array.sh" submit \
    "$d/targets" "$d/out" 4 -- --helo probe.test -p "$P" --per-ip 5 \
    --per-ip-gap 0 --timeout 5 -t user@example.com 2> "$d/submit.err")
rc=$?
echo "# submitted: $ids"
set -- $ids
[ "$rc" = 0 ] && [ $# = 2 ]
tap $? "smtprobe-array.sh submit: an array and a merge job ($ids)"
array=${1:-0} merge=${2:-0}
/usr/bin/squeue -o '%i %j %T %r' | sed 's/^/# /'
done=1
for _ in $(seq 1 180); do
	if [ -z "$(/usr/bin/squeue -h -j "$array,$merge" 2>/dev/null)" ]; then
		done=0
		break
	fi
	sleep 1
done
[ -n "$ids" ] || done=1
tap $done "the array and the merge job finished"
/usr/bin/scontrol show job "$merge" 2>/dev/null |
    grep -o 'JobState=[A-Z_]* Reason=[^ ]* Dependency=[^ ]*\|ExitCode=[0-9:]*' |
    sed 's/^/# merge job: /'
/usr/bin/scontrol show job "$merge" 2>/dev/null | grep -q "JobState=COMPLETED" &&
    /usr/bin/scontrol show job "$merge" | grep -q "ExitCode=0:0"
tap $? "the merge job (afterok:$array) completed with exit 0"
ok=0
for i in 0 1 2 3; do
	f=$d/out/part-$i.jsonl
	[ -s "$f" ] || ok=1
	tail -1 "$f" 2>/dev/null | jq -e --argjson i $i '.summary.shard.i == $i
	    and .summary.shard.n == 4
	    and .summary.shard.from == "SLURM_ARRAY_TASK_ID"' >/dev/null ||
		ok=1
	echo "# part-$i: $(grep -c input_index "$f" 2>/dev/null) records"
done
tap $ok "each task ran shard i/4 from SLURM_ARRAY_TASK_ID/COUNT"
m=$d/out/merged.jsonl
[ -s "$m" ] &&
    [ "$(jq -r 'select(.input_index != null) | .input_index' "$m" |
    sort -n | uniq | wc -l)" = "$ntargets" ] &&
    [ "$(grep -c input_index "$m")" = "$ntargets" ]
tap $? "merged.jsonl: every one of the $ntargets targets exactly once"
tail -1 "$m" 2>/dev/null | jq -c '.summary | {complete, records, counts:
    (.counts), parts: [.parts[] | {file: (.file | sub(".*/"; "")),
    shard: .shard.i, records}]}' | sed 's/^/# merged summary: /'
[ -s "$m" ] && tail -1 "$m" | jq -e '.summary.complete and
    .summary.counts.ok == 5 and .summary.counts.permfail == 5 and
    .summary.counts.refused == 40 and .summary.counts.invalid == 1' \
    >/dev/null
tap $? "the merged summary: complete, the counts of the whole list"
[ -f "$d/out/merge.err" ] && [ ! -s "$d/out/merge.err" ]
tap $? "the merge said nothing on stderr"
cleanup
echo "1..$n"
exit $failed

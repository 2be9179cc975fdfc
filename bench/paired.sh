#!/bin/sh
# paired.sh OLD NEW - paired performance check of two smtprobe binaries
# (issue 14: "performance unchanged, measured as paired ratios of the
# old and new binaries in one run"). Run by hand, like bench/run.sh; it
# is not part of make check. Absolute figures drift on a shared
# machine, so the two binaries run alternately in the same run, the
# order swapped every round, against one Postfix smtp-sink on loopback
# (from the package scripts/servers.sh unpacked; nothing is installed
# or started on the machine), and what is printed is the ratio NEW/OLD
# of each round and their median:
#   probe   client CPU of K single probes run one after the other
#           (smtprobe -s 127.0.0.1:PORT --helo ... -f ... -t ... -q)
#   batch   client CPU of one "smtprobe batch" run of N envelope
#           sessions (EHLO MAIL RCPT QUIT) at concurrency C
# CPU is user + system time from getrusage, children included. Environment: ROUNDS (7), K (100), N (2000), C (50),
# SCN (a scenario file for the batch, e.g. scenarios/delivery.scn: full
# deliveries; default none: envelope sessions), KINDS ("probe batch").
# A ratio of 1.00 is the same cost; the goal is within 5 %.
set -u
old=${1:?usage: paired.sh OLD NEW}
new=${2:?usage: paired.sh OLD NEW}
ROUNDS=${ROUNDS:-7}
K=${K:-100}
N=${N:-2000}
C=${C:-50}
SCN=${SCN:-}
KINDS=${KINDS:-probe batch}
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/smtprobe-paired.XXXXXX")
sinkpid=
cleanup() {
	[ -n "$sinkpid" ] && kill "$sinkpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
die() { echo "paired.sh: $*" >&2; exit 1; }
for b in "$old" "$new"; do
	[ -x "$b" ] || die "$b is not an executable"
done
for t in python3 jq ss; do
	command -v "$t" >/dev/null || die "$t is missing"
done
srv=$(sh "$top/scripts/servers.sh" path) ||
    die "scripts/servers.sh could not unpack Postfix (smtp-sink)"

# a TCP port below the ephemeral range that no socket uses
port=
while [ -z "$port" ]; do
	p=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000))
	ss -tanH "( sport = :$p )" 2>/dev/null | grep -q . || port=$p
done
"$srv/smtp-sink" -u nobody "127.0.0.1:$port" 1024 >/dev/null 2>&1 &
sinkpid=$!
i=0
until ss -ltnH "( sport = :$port )" 2>/dev/null | grep -q .; do
	i=$((i + 1))
	[ $i -lt 100 ] || die "smtp-sink did not start"
	sleep 0.05
done
yes "127.0.0.1:$port" | head -n "$N" >"$work/targets"
cat >"$work/probes.sh" <<EOF
i=0
while [ \$i -lt $K ]; do
	"\$1" -s 127.0.0.1:$port --helo bench.test -f a@bench.test \\
	    -t b@bench.test -q >/dev/null 2>&1
	i=\$((i + 1))
done
EOF

# cpu KIND BINARY - the client CPU seconds of one measurement (user +
# system of the command and its children, in microseconds from
# getrusage: /usr/bin/time rounds to 10 ms)
cpu() {
	if [ "$1" = probe ]; then
		set -- sh "$work/probes.sh" "$2"
	else
		set -- "$2" batch -q --helo bench.test -f a@bench.test \
		    -t b@bench.test -c "$C" --per-ip "$C" --per-ip-gap 0 \
		    --metadata "$work/meta.json" ${SCN:+--scenario "$SCN"} \
		    "$work/targets"
	fi
	python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=False)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.4f" % (r.ru_utime + r.ru_stime))' "$@"
	if [ "$1" != sh ]; then
		ok=$(jq -r .counts.ok "$work/meta.json" 2>/dev/null)
		[ "$ok" = "$N" ] ||
		    echo "warning: $1 batch: ${ok:-?} of $N sessions ok" >&2
	fi
}
# median VALUES...
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
	    print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "old: $old ($("$old" --version 2>&1 | head -1))"
echo "new: $new ($("$new" --version 2>&1 | head -1))"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg);" \
    "$ROUNDS rounds, probe: $K probes, batch: $N sessions at c=$C" \
    "${SCN:+(scenario $SCN)}"
for kind in $KINDS; do
	ratios=
	r=1
	while [ $r -le "$ROUNDS" ]; do
		if [ $((r % 2)) -eq 1 ]; then
			o=$(cpu $kind "$old"); n=$(cpu $kind "$new")
		else
			n=$(cpu $kind "$new"); o=$(cpu $kind "$old")
		fi
		q=$(awk -v a="$n" -v b="$o" 'BEGIN { printf "%.3f", a / b }')
		printf '%s round %d: old %ss new %ss CPU, new/old %s\n' \
		    "$kind" "$r" "$o" "$n" "$q"
		ratios="$ratios $q"
		r=$((r + 1))
	done
	printf '%s: median new/old CPU ratio %s (rounds:%s)\n' "$kind" \
	    "$(median $ratios)" "$ratios"
done

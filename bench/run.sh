#!/bin/bash
# run.sh - the benchmark (issues 7 and 17). Run by hand, as root on a
# test machine; it is not part of make check, and nothing in it is a
# pass/fail test. Everything runs on loopback against servers started
# here: Postfix's smtp-sink, smtp-source and posttls-finger from the
# package scripts/servers.sh unpacked (never installed: no service of
# the machine is started or touched), bench/tlssink (a STARTTLS sink)
# and bench/floor (a bare envelope client), both built here; swaks from
# sh scripts/install-deps.sh --test.
#
# Absolute figures drift on a shared machine, so every comparison is
# PAIRED: the two sides run alternately in the same run, the order
# swapped every round, and what is printed is the ratio of each round
# and their median (with the absolute medians for scale). CPU is user +
# system time of the command and its children (getrusage through
# python3: /usr/bin/time rounds to 10 ms); wall is elapsed time.
#
#   1 plain probe       K single probes (smtprobe -s ... -q, to RCPT)
#                       against K runs of `smtprobe --version` (the
#                       floor of any program linked with OpenSSL) and
#                       against K swaks --quit-after RCPT
#   2 STARTTLS probe    K probes that stop after the EHLO under TLS,
#                       against K posttls-finger -c -l may -P
#                       /etc/ssl/certs, same server (tlssink), same trust
#                       store (--tls-ca-path /etc/ssl/certs); both report
#                       whether the chain verifies (here: it does not,
#                       the certificate is self-signed)
#   3 deliveries        smtprobe batch --scenario delivery.scn against
#                       smtp-source, N full deliveries each at
#                       concurrency C, against smtp-sink: wall and CPU
#   4 envelope sessions smtprobe batch (EHLO MAIL RCPT QUIT) against
#                       bench/floor doing the same N sessions at C: CPU,
#                       and smtprobe's client CPU per session
#   5 idle sessions     peak RSS of smtprobe batch holding COUNT idle
#                       sessions (plain: greeted; tls: STARTTLS done),
#                       spread over 127.0.0.1-127.0.0.4 to stay within
#                       the ephemeral ports; per session = VmHWM / COUNT
#                       and the marginal figure between two counts. The
#                       largest count is what the descriptor hard limit
#                       allows (the process raises its soft limit; the
#                       machine's limits and sysctls are not changed)
#   6 a long run        BIG envelope sessions (default 100,000), VmRSS
#                       sampled as it goes: flat when records are not
#                       kept
#
# Environment: ROUNDS (5), K (20 probes), N (5000 sessions), C (50),
# BIG (100000), IDLE (plain counts, default "10000 MAX"), TLSIDLE
# ("1000 10000"), BUILD (build directory, build-bench), SKIP (section
# numbers to skip, e.g. "5 6").
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build-bench}
ROUNDS=${ROUNDS:-5}
K=${K:-20}
N=${N:-5000}
C=${C:-50}
BIG=${BIG:-100000}
IDLE=${IDLE:-"10000 MAX"}
TLSIDLE=${TLSIDLE:-"1000 10000"}
SKIP=${SKIP:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/smtprobe-bench.XXXXXX")
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
die() { echo "run.sh: $*" >&2; exit 1; }
say() { printf '%s\n' "$*"; }
skip() { case " $SKIP " in *" $1 "*) return 0 ;; esac; return 1; }

# ---- what it needs ----
eval "$(sh "$top/scripts/servers.sh" env)" ||
    die "scripts/servers.sh could not unpack Postfix"
sink=$SERVERS_BIN/smtp-sink
source=$SERVERS_BIN/smtp-source
pfdir=$(ls -d "$SERVERS_CACHE"/postfix-* 2>/dev/null | tail -1)
ptf=$pfdir/usr/sbin/posttls-finger
[ -x "$ptf" ] || die "no posttls-finger in $pfdir"
command -v swaks >/dev/null ||
    die "swaks is missing (sh scripts/install-deps.sh --test)"
for t in openssl pkg-config cc python3 jq ss; do
	command -v "$t" >/dev/null || die "$t is missing"
done
say "building smtprobe in $build"
sh "$top/scripts/build.sh" "$build" >/dev/null || die "build failed"
probe=$build/smtprobe
cc -O2 -o "$work/tlssink" "$top/bench/tlssink.c" \
    $(pkg-config --cflags --libs libevent_openssl libevent openssl) ||
    die "cannot build bench/tlssink"
cc -O2 -o "$work/floor" "$top/bench/floor.c" || die "cannot build bench/floor"
tlssink=$work/tlssink
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$work/key.pem" -out "$work/cert.pem" -days 2 \
    -subj /CN=bench.test 2>/dev/null || die "cannot make a certificate"
# posttls-finger reads main.cf: the unpacked tree's paths, and a host
# name so that it does not ask the resolver for its own
mkdir -p "$work/pf"
{ cat "$SERVERS_BIN/postfix-main.cf"; echo "myhostname = bench.test"; } \
    > "$work/pf/main.cf"
ulimit -n "$(ulimit -Hn)" 2>/dev/null

# freeport - a TCP port below the ephemeral range that no socket uses
freeport() {
	local p
	while :; do
		p=$((20000 + RANDOM % 12000))
		ss -tanH "( sport = :$p )" 2>/dev/null | grep -q . || break
	done
	echo $p
}
# waitport PORT - until something listens on PORT
waitport() {
	for _ in $(seq 1 100); do
		ss -ltnH "( sport = :$1 )" 2>/dev/null | grep -q . && return 0
		sleep 0.05
	done
	return 1
}
# measure CMD... - "wall_s cpu_s" of CMD (children included), its
# output discarded
measure() {
	python3 -c '
import resource, subprocess, sys, time
t = time.monotonic()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL, check=False)
w = time.monotonic() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.4f %.4f" % (w, r.ru_utime + r.ru_stime))' "$@"
}
# median VALUES...
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
	    print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# range VALUES... - "min-max"
range() {
	printf '%s\n' "$@" | sort -g | awk 'NR == 1 { a = $1 } { b = $1 }
	    END { printf "%s-%s", a, b }'
}

results=
record() {	# record LABEL VALUE HOW
	results="$results$(printf '%-58s %s\n    %s' "$1" "$2" "$3")
"
	printf '%-58s %s\n' "$1" "$2"
}

# pair LABEL DIV FUNC_A FUNC_B - ROUNDS paired rounds of two workloads
# (shell functions that run one measurement each through measure);
# records the medians of A and B (CPU and wall, divided by DIV: per
# probe or per session) and the median ratios A/B of CPU and wall
pair() {
	local label=$1 div=$2 fa=$3 fb=$4 r a b ca= cb= wa= wb= rc= rw=
	for r in $(seq 1 "$ROUNDS"); do
		if [ $((r % 2)) -eq 1 ]; then
			a=$($fa); b=$($fb)
		else
			b=$($fb); a=$($fa)
		fi
		set -- $a $b
		wa="$wa $1" ca="$ca $2" wb="$wb $3" cb="$cb $4"
		rc="$rc $(awk -v x="$2" -v y="$4" 'BEGIN { printf "%.3f", x / y }')"
		rw="$rw $(awk -v x="$1" -v y="$3" 'BEGIN { printf "%.3f", x / y }')"
		say "  round $r: CPU $2 s / $4 s, wall $1 s / $3 s"
	done
	per() { awk -v v="$(median $1)" -v d="$div" -v u="$2" \
	    'BEGIN { printf "%.1f %s", v / d * u, (u == 1e3 ? "ms" : "us") }'; }
	local unit=1e3
	[ "$div" -gt 100 ] && unit=1e6
	record "$label: CPU ratio (median, range)" \
	    "$(median $rc)x ($(range $rc))" \
	    "CPU each: $(per "$ca" $unit) vs $(per "$cb" $unit)"
	record "$label: wall ratio (median, range)" \
	    "$(median $rw)x ($(range $rw))" \
	    "wall each: $(per "$wa" $unit) vs $(per "$wb" $unit)"
}

# loop FILE CMD... - a script that runs CMD K times (its output gone)
loop() {
	local f=$1
	shift
	{
		echo 'i=0'
		echo "while [ \$i -lt $K ]; do"
		printf ' %q' "$@"
		echo ' >/dev/null 2>&1'
		echo '	i=$((i + 1))'
		echo 'done'
	} > "$f"
}

say "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
say "smtprobe: $("$probe" --version | head -1), $(openssl version)"
say "paired: $ROUNDS rounds; ratios are smtprobe / the other side"

PS=$(freeport)
"$sink" -u nobody "127.0.0.1:$PS" 1024 >/dev/null 2>&1 &
pids="$pids $!"
waitport "$PS" || die "smtp-sink did not start"
PT=$(freeport)
"$tlssink" -p "$PT" -c "$work/cert.pem" -k "$work/key.pem" &
pids="$pids $!"
waitport "$PT" || die "tlssink did not start"

# ---- 1. one plain probe ----
if ! skip 1; then
	say
	say "[1] one plain probe, $K per measurement (load $(cut -d' ' -f1-3 /proc/loadavg))"
	loop "$work/plain.sh" "$probe" -s "127.0.0.1:$PS" --helo bench.test \
	    -f a@bench.test -t b@bench.test -q
	loop "$work/version.sh" "$probe" --version
	loop "$work/swaks.sh" swaks --server "127.0.0.1:$PS" --helo bench.test \
	    --from a@bench.test --to b@bench.test --quit-after RCPT
	m_plain() { measure sh "$work/plain.sh"; }
	m_version() { measure sh "$work/version.sh"; }
	m_swaks() { measure sh "$work/swaks.sh"; }
	pair "plain probe / --version floor (goal <= 1.15)" "$K" m_plain m_version
	pair "plain probe / swaks --quit-after RCPT" "$K" m_plain m_swaks
fi

# ---- 2. one STARTTLS probe ----
if ! skip 2; then
	say
	say "[2] one STARTTLS probe, $K per measurement (load $(cut -d' ' -f1-3 /proc/loadavg))"
	loop "$work/tls.sh" "$probe" -s "127.0.0.1:$PT" --helo bench.test \
	    --starttls --tls-ca-path /etc/ssl/certs --stop-before mail -q
	loop "$work/ptf.sh" env MAIL_CONFIG="$work/pf" \
	    LD_LIBRARY_PATH="$pfdir/usr/lib/postfix" "$ptf" -c -l may \
	    -P /etc/ssl/certs "[127.0.0.1]:$PT"
	# both must have done the handshake and judged the chain
	"$probe" -s "127.0.0.1:$PT" --helo bench.test --starttls \
	    --tls-ca-path /etc/ssl/certs --stop-before mail --json 2>/dev/null |
	    jq -e '.tls.verify? // .tls // empty' >/dev/null ||
	    say "warning: smtprobe's STARTTLS probe did not report TLS"
	MAIL_CONFIG="$work/pf" LD_LIBRARY_PATH="$pfdir/usr/lib/postfix" \
	    "$ptf" -c -l may -P /etc/ssl/certs "[127.0.0.1]:$PT" 2>&1 |
	    grep -q 'TLS connection established' ||
	    say "warning: posttls-finger did not establish TLS"
	m_tls() { measure sh "$work/tls.sh"; }
	m_ptf() { measure sh "$work/ptf.sh"; }
	pair "STARTTLS probe / posttls-finger (goal <= 0.7)" "$K" m_tls m_ptf
fi

# ---- 3 and 4. batch ----
yes "127.0.0.1:$PS" | head -n "$N" > "$work/plain.in"
printf '%s\n' connect ehlo 'mail ${from}' 'rcpt ${to}' data quit \
    > "$work/delivery.scn"
bopts="-q --helo bench.test -f a@bench.test -t b@bench.test -c $C --per-ip $C --per-ip-gap 0"
# batch_ok META - warn unless every session of the run was ok
batch_ok() {
	local ok
	ok=$(jq -r .counts.ok "$1" 2>/dev/null)
	[ "$ok" = "$N" ] || echo "warning: ${ok:-?} of $N sessions ok" >&2
}
if ! skip 3; then
	say
	say "[3] $N full deliveries at c=$C (load $(cut -d' ' -f1-3 /proc/loadavg))"
	m_dlv() { measure "$probe" batch $bopts --scenario "$work/delivery.scn" \
	    --metadata "$work/meta.json" "$work/plain.in"; batch_ok "$work/meta.json"; }
	m_src() { measure "$source" -s "$C" -m "$N" -f a@bench.test \
	    -t b@bench.test "127.0.0.1:$PS"; }
	pair "deliveries: smtprobe batch / smtp-source (goal <= 0.8)" "$N" m_dlv m_src
fi
if ! skip 4; then
	say
	say "[4] $N envelope sessions at c=$C (load $(cut -d' ' -f1-3 /proc/loadavg))"
	m_env() { measure "$probe" batch $bopts --metadata "$work/meta.json" \
	    "$work/plain.in"; batch_ok "$work/meta.json"; }
	m_floor() { measure "$work/floor" -n "$N" -c "$C" 127.0.0.1 "$PS"; }
	pair "envelope: smtprobe batch / bare client (goal: 80 us each)" "$N" m_env m_floor
fi

# ---- 5. idle sessions ----
# idle KIND COUNT: "VmHWM_kB sessions_up" of a batch holding COUNT idle
# sessions (plain: greeted, then nothing; tls: STARTTLS done, then
# nothing), targets spread over 127.0.0.1-127.0.0.4
idle() {
	local kind=$1 count=$2 port bp sp field st i hwm=0 per
	port=$(freeport)
	if [ "$kind" = tls ]; then
		"$tlssink" -a 0.0.0.0 -p "$port" -c "$work/cert.pem" \
		    -k "$work/key.pem" -m stall-tls -S "$work/status" &
		field=tls
		set -- --starttls
	else
		"$tlssink" -a 0.0.0.0 -p "$port" -m stall -S "$work/status" &
		field=greeted
		set --
	fi
	sp=$!
	waitport "$port" || die "tlssink did not start"
	for i in $(seq 0 $((count - 1))); do
		echo "127.0.0.$((i % 4 + 1)):$port"
	done > "$work/idle.in"
	per=$(((count + 3) / 4))
	"$probe" batch -q --helo bench.test -c "$count" --per-ip "$per" \
	    --per-ip-gap 0 --rate 2000/s --timeout 900 --drain-timeout 0 "$@" \
	    "$work/idle.in" >/dev/null 2>"$work/idle.err" &
	bp=$!
	for i in $(seq 1 1500); do
		st=$(sed -n "s/.* $field \\([0-9]*\\).*/\\1/p" \
		    "$work/status" 2>/dev/null)
		[ "${st:-0}" -ge "$count" ] && break
		kill -0 "$bp" 2>/dev/null || break
		sleep 0.1
	done
	sleep 1
	hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$bp/status" 2>/dev/null)
	echo "${hwm:-0} ${st:-0}"
	kill -TERM "$bp" 2>/dev/null
	wait "$bp" 2>/dev/null
	kill "$sp" 2>/dev/null
	wait "$sp" 2>/dev/null
	rm -f "$work/status"
}
if ! skip 5; then
	say
	say "[5] idle sessions (load $(cut -d' ' -f1-3 /proc/loadavg))"
	# what the descriptor hard limit allows: one descriptor a session,
	# and the reserve batch keeps for itself
	max=$(( $(ulimit -Hn) - 100 ))
	for kind in plain tls; do
		counts=$IDLE
		[ "$kind" = tls ] && counts=$TLSIDLE
		prev= prevn=
		for count in $counts; do
			[ "$count" = MAX ] && count=$max
			set -- $(idle "$kind" "$count")
			hwm=$1 got=$2
			# the figures divide by the sessions that came up
			n=$count
			[ "$got" -ge "$count" ] || {
			    say "warning: only $got of $count $kind sessions came up ($(tail -1 "$work/idle.err"))"
			    n=$got
			}
			[ "$n" -gt 0 ] || continue
			record "peak RSS, $n idle $kind sessions" \
			    "$((hwm / 1024)) MB, $(awk -v h="$hwm" -v n="$n" \
			    'BEGIN { printf "%.2f KB", h / n }') a session" \
			    "smtprobe batch -c $count --per-ip $(((count + 3) / 4)) (4 addresses) $([ "$kind" = tls ] && echo --starttls); VmHWM"
			if [ -n "$prev" ]; then
				record "  marginal per $kind session ($prevn -> $n)" \
				    "$(awk -v a="$prev" -v b="$hwm" -v m="$prevn" \
				    -v n="$n" 'BEGIN { printf "%.2f KB", (b - a) / (n - m) }')" \
				    "(VmHWM($n) - VmHWM($prevn)) / $((n - prevn)); goal plain <= 3 KB, TLS <= 30 KB"
			fi
			prev=$hwm prevn=$n
		done
	done
fi

# ---- 6. a long run ----
if ! skip 6; then
	say
	say "[6] $BIG envelope sessions, RSS as it goes (load $(cut -d' ' -f1-3 /proc/loadavg))"
	yes "127.0.0.1:$PS" | head -n "$BIG" > "$work/big.in"
	"$probe" batch $bopts --progress "$work/big.in" >/dev/null \
	    2>"$work/big.err" &
	bp=$!
	samples=
	while kill -0 "$bp" 2>/dev/null; do
		s=$(awk '/^VmRSS/ { print $2 }' "/proc/$bp/status" 2>/dev/null)
		[ -n "$s" ] && samples="$samples $s"
		sleep 0.5
	done
	wait "$bp"
	set -- $samples
	n=$#
	[ "$n" -ge 4 ] || die "the long run ended too fast to sample ($n samples)"
	q1=$(echo $samples | awk -v n="$n" '{ print $(int(n / 4) + 1) }')
	last=$(echo $samples | awk '{ print $NF }')
	peak=$(printf '%s\n' $samples | sort -n | tail -1)
	record "RSS over $BIG sessions: at 1/4, end, peak" \
	    "$((q1 / 1024)) MB, $((last / 1024)) MB, $((peak / 1024)) MB" \
	    "smtprobe batch $bopts FILE ($BIG targets); VmRSS every 0.5 s ($n samples); flat: end <= 1.1 x 1/4"
fi

say
say "== figures and how they were made"
printf '%s' "$results"

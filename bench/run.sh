#!/bin/bash
# run.sh - the batch-mode benchmark (issue 7). Run by hand, as root on a
# test machine; it is not part of make check. Postfix's smtp-sink and
# smtp-source come from the Postfix package unpacked by
# scripts/servers.sh (never installed: no service of the machine is
# started or touched); swaks from sh scripts/install-deps.sh --test. Builds what it needs, then measures side by side on loopback:
#   1. envelope sessions (EHLO MAIL RCPT QUIT) and full deliveries per
#      second and client CPU per session: smtprobe batch vs Postfix
#      smtp-source at the same concurrency, against smtp-sink;
#   2. one single probe, wall and CPU: smtprobe vs swaks --quit-after RCPT;
#   3. STARTTLS sessions per second and CPU per session: smtprobe batch
#      --starttls vs openssl s_time handshakes (bench/tlssink, ECDSA
#      P-256, TLS 1.3);
#   4. peak RSS of smtprobe batch at 1,000 and 10,000 concurrent idle
#      sessions, plain and STARTTLS (bench/tlssink greets, or finishes
#      the handshake, then stalls): VmHWM from /proc.
# Figures are the median of RUNS runs (default 3), each printed with the
# command that produced it. Environment: N (plain sessions, 20000), TLSN
# (STARTTLS sessions, 5000), RUNS, C (concurrency, 50), BUILD (build
# directory, build-bench), IDLE ("1000 10000"). Client CPU is user +
# system time of the client process from getrusage (/usr/bin/time); both
# ends share the machine's cores, so rates are both-ends figures.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build-bench}
N=${N:-20000}
TLSN=${TLSN:-5000}
RUNS=${RUNS:-3}
C=${C:-50}
IDLE=${IDLE:-"1000 10000"}
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

# ---- what it needs ----
srv=$(sh "$top/scripts/servers.sh" path) ||
    die "scripts/servers.sh could not unpack Postfix (smtp-sink, smtp-source)"
sink=$srv/smtp-sink
source=$srv/smtp-source
command -v swaks >/dev/null ||
    die "swaks is missing (sh scripts/install-deps.sh --test)"
for t in openssl pkg-config cc /usr/bin/time; do
	command -v "$t" >/dev/null || die "$t is missing"
done
say "building smtprobe in $build"
sh "$top/scripts/build.sh" "$build" >/dev/null || die "build failed"
probe=$build/smtprobe
cc -O2 -o "$work/tlssink" "$top/bench/tlssink.c" \
    $(pkg-config --cflags --libs libevent_openssl libevent openssl) ||
    die "cannot build bench/tlssink"
tlssink=$work/tlssink
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$work/key.pem" -out "$work/cert.pem" -days 2 \
    -subj /CN=bench.test 2>/dev/null || die "cannot make a certificate"
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
# waitport PORT - until something listens on 127.0.0.1:PORT
waitport() {
	for _ in $(seq 1 100); do
		ss -ltnH "( sport = :$1 )" 2>/dev/null | grep -q . && return 0
		sleep 0.05
	done
	return 1
}
# timed OUT CMD...: run CMD with /usr/bin/time; OUT gets "wall user sys
# maxrss_kb"
timed() {
	local out=$1
	shift
	/usr/bin/time -o "$out" -f "%e %U %S %M" "$@"
}
# median VALUES... - the median (sorted numerically)
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
	    END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# spread VALUES... - "median (min-max)"
spread() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
	    END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		if (NR > 1) printf "%s (%s-%s)\n", m, v[1], v[NR]
		else print m }'
}
# rate N FILE: "sessions/s cpu_us_per_session" from a timed file
rate() {
	awk -v n="$1" '{ printf "%.0f %.1f\n", n / $1, ($2 + $3) / n * 1e6 }' "$2"
}

results=
record() {	# record LABEL VALUE COMMAND
	results="$results$(printf '%-52s %22s\n    %s' "$1" "$2" "$3")
"
	printf '%-52s %22s\n' "$1" "$2"
}

say "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
say "smtprobe: $("$probe" --version), $(openssl version)"

# ---- 1. plain sessions at concurrency C against smtp-sink ----
say "[load average $(cut -d' ' -f1-3 /proc/loadavg)]"
PS=$(freeport)
"$sink" -u nobody "127.0.0.1:$PS" 1024 >/dev/null 2>&1 &
pids="$pids $!"
waitport "$PS" || die "smtp-sink did not start"
yes "127.0.0.1:$PS" | head -n "$N" > "$work/plain.in"
printf '%s\n' connect ehlo 'mail ${from}' 'rcpt ${to}' data quit \
    > "$work/delivery.scn"
bopts="-q --helo bench.test -f a@bench.test -t b@bench.test -c $C --per-ip $C --per-ip-gap 0"
cmd_env="smtprobe batch $bopts FILE >/dev/null   (FILE: $N x 127.0.0.1:PORT)"
cmd_dlv="smtprobe batch $bopts --scenario delivery.scn FILE >/dev/null"
cmd_src="smtp-source -s $C -m $N -f a@bench.test -t b@bench.test 127.0.0.1:PORT"
e_rate= e_cpu= d_rate= d_cpu= s_rate= s_cpu=
for r in $(seq 1 "$RUNS"); do
	timed "$work/t" "$probe" batch $bopts --metadata "$work/meta.json" \
	    "$work/plain.in" >/dev/null
	ok=$(jq -r .counts.ok "$work/meta.json" 2>/dev/null)
	[ "$ok" = "$N" ] || say "warning: envelope run $r: $ok of $N ok"
	set -- $(rate "$N" "$work/t")
	e_rate="$e_rate $1" e_cpu="$e_cpu $2"
	timed "$work/t" "$source" -s "$C" -m "$N" -f a@bench.test \
	    -t b@bench.test "127.0.0.1:$PS"
	set -- $(rate "$N" "$work/t")
	s_rate="$s_rate $1" s_cpu="$s_cpu $2"
	timed "$work/t" "$probe" batch $bopts --scenario "$work/delivery.scn" \
	    --metadata "$work/meta.json" "$work/plain.in" >/dev/null
	ok=$(jq -r .counts.ok "$work/meta.json" 2>/dev/null)
	[ "$ok" = "$N" ] || say "warning: delivery run $r: $ok of $N ok"
	set -- $(rate "$N" "$work/t")
	d_rate="$d_rate $1" d_cpu="$d_cpu $2"
	say "run $r: envelope$(echo "$e_rate" | awk '{print $NF}')/s,$(echo "$e_cpu" | awk '{print $NF}') us;" \
	    "smtp-source$(echo "$s_rate" | awk '{print $NF}')/s,$(echo "$s_cpu" | awk '{print $NF}') us;" \
	    "delivery$(echo "$d_rate" | awk '{print $NF}')/s,$(echo "$d_cpu" | awk '{print $NF}') us"
done
er=$(median $e_rate) ec=$(median $e_cpu)
sr=$(median $s_rate) sc=$(median $s_cpu)
dr=$(median $d_rate) dc=$(median $d_cpu)
say
record "envelope sessions/s, smtprobe batch (c=$C)" "$(spread $e_rate)" "$cmd_env"
record "client CPU per envelope session, smtprobe batch" "$(spread $e_cpu) us" "$cmd_env"
record "full deliveries/s, smtprobe batch (c=$C)" "$(spread $d_rate)" "$cmd_dlv"
record "client CPU per delivery, smtprobe batch" "$(spread $d_cpu) us" "$cmd_dlv"
record "full deliveries/s, smtp-source (c=$C)" "$(spread $s_rate)" "$cmd_src"
record "client CPU per delivery, smtp-source" "$(spread $s_cpu) us" "$cmd_src"
record "smtprobe envelope / smtp-source throughput" \
    "$(awk -v a="$er" -v b="$sr" 'BEGIN { printf "%.2fx", a / b }')" \
    "the two lines above"
record "smtprobe delivery / smtp-source throughput" \
    "$(awk -v a="$dr" -v b="$sr" 'BEGIN { printf "%.2fx", a / b }')" \
    "the two lines above"

# ---- 2. one probe, as a person runs it ----
say "[load average $(cut -d' ' -f1-3 /proc/loadavg)]"
K=20
cat > "$work/one.sh" <<EOF
i=0
while [ \$i -lt $K ]; do
	"\$@" >/dev/null 2>&1
	i=\$((i + 1))
done
EOF
w1= c1= w2= c2=
for r in $(seq 1 "$RUNS"); do
	timed "$work/t" sh "$work/one.sh" "$probe" -s "127.0.0.1:$PS" \
	    --helo bench.test -f a@bench.test -t b@bench.test -q
	set -- $(awk -v k=$K '{ printf "%.1f %.1f\n", $1 / k * 1e3,
	    ($2 + $3) / k * 1e3 }' "$work/t")
	w1="$w1 $1" c1="$c1 $2"
	timed "$work/t" sh "$work/one.sh" swaks --server "127.0.0.1:$PS" \
	    --helo bench.test --from a@bench.test --to b@bench.test \
	    --quit-after RCPT
	set -- $(awk -v k=$K '{ printf "%.1f %.1f\n", $1 / k * 1e3,
	    ($2 + $3) / k * 1e3 }' "$work/t")
	w2="$w2 $1" c2="$c2 $2"
done
p1="$(median $w1) ms wall, $(median $c1) ms CPU"
p2="$(median $w2) ms wall, $(median $c2) ms CPU"
say
record "one probe, smtprobe (mean of $K)" "$p1" \
    "smtprobe -s 127.0.0.1:PORT --helo bench.test -f a@bench.test -t b@bench.test -q"
record "one probe, swaks --quit-after RCPT (mean of $K)" "$p2" \
    "swaks --server 127.0.0.1:PORT --helo bench.test --from a@bench.test --to b@bench.test --quit-after RCPT"

# ---- 3. STARTTLS ----
say "[load average $(cut -d' ' -f1-3 /proc/loadavg)]"
PT=$(freeport)
"$tlssink" -p "$PT" -c "$work/cert.pem" -k "$work/key.pem" &
pids="$pids $!"
waitport "$PT" || die "tlssink did not start"
PI=$(freeport)
"$tlssink" -T -p "$PI" -c "$work/cert.pem" -k "$work/key.pem" &
pids="$pids $!"
waitport "$PI" || die "tlssink -T did not start"
yes "127.0.0.1:$PT" | head -n "$TLSN" > "$work/tls.in"
topts="-q --helo bench.test --starttls --per-ip-gap 0"
t_rate= t_cpu= t1_rate= t1_cpu= st_rate= st_cpu=
N1=$((TLSN / 5))
head -n "$N1" "$work/tls.in" > "$work/tls1.in"
for r in $(seq 1 "$RUNS"); do
	timed "$work/t" "$probe" batch $topts -c "$C" --per-ip "$C" \
	    --metadata "$work/meta.json" "$work/tls.in" >/dev/null
	ok=$(jq -r .counts.ok "$work/meta.json" 2>/dev/null)
	[ "$ok" = "$TLSN" ] || say "warning: STARTTLS run $r: $ok of $TLSN ok"
	set -- $(rate "$TLSN" "$work/t")
	t_rate="$t_rate $1" t_cpu="$t_cpu $2"
	timed "$work/t" "$probe" batch $topts -c 1 --per-ip 1 \
	    "$work/tls1.in" >/dev/null
	set -- $(rate "$N1" "$work/t")
	t1_rate="$t1_rate $1" t1_cpu="$t1_cpu $2"
	timed "$work/t" openssl s_time -connect "127.0.0.1:$PI" -new \
	    -time 5 > "$work/stime.out" 2>&1
	n=$(sed -n 's/^\([0-9]*\) connections in .* real seconds.*/\1/p' \
	    "$work/stime.out" | head -1)
	[ -n "$n" ] && [ "$n" -gt 0 ] || { cat "$work/stime.out"; die "s_time failed"; }
	set -- $(rate "$n" "$work/t")
	st_rate="$st_rate $1" st_cpu="$st_cpu $2"
done
tr_=$(median $t_rate) tc=$(median $t_cpu)
t1r=$(median $t1_rate) t1c=$(median $t1_cpu)
str=$(median $st_rate) stc=$(median $st_cpu)
say
record "STARTTLS sessions/s, smtprobe batch (c=$C)" "$(spread $t_rate)" \
    "smtprobe batch $topts -c $C --per-ip $C FILE   (FILE: $TLSN x tlssink)"
record "client CPU per STARTTLS session, smtprobe (c=$C)" "$(spread $t_cpu) us" \
    "the line above"
record "STARTTLS sessions/s, smtprobe batch (c=1)" "$(spread $t1_rate)" \
    "smtprobe batch $topts -c 1 --per-ip 1 FILE   ($N1 sessions)"
record "client CPU per STARTTLS session, smtprobe (c=1)" "$(spread $t1_cpu) us" \
    "the line above"
record "TLS handshakes/s, openssl s_time -new (c=1)" "$(spread $st_rate)" \
    "openssl s_time -connect 127.0.0.1:PORT -new -time 5   (tlssink -T)"
record "client CPU per handshake, openssl s_time" "$(spread $st_cpu) us" \
    "the line above"

# ---- 4. peak RSS with idle sessions ----
say "[load average $(cut -d' ' -f1-3 /proc/loadavg)]"
# idle KIND COUNT: VmHWM and VmRSS (kB) of a batch holding COUNT idle
# sessions (plain: greeted, then nothing; tls: STARTTLS done, then
# nothing)
idle() {
	local kind=$1 count=$2 port bp sp field want st i
	port=$(freeport)
	if [ "$kind" = tls ]; then
		"$tlssink" -p "$port" -c "$work/cert.pem" -k "$work/key.pem" \
		    -m stall-tls -S "$work/status" &
		field=tls
		set -- --starttls
	else
		"$tlssink" -p "$port" -m stall -S "$work/status" &
		field=greeted
		set --
	fi
	sp=$!
	waitport "$port" || die "tlssink did not start"
	yes "127.0.0.1:$port" | head -n "$count" > "$work/idle.in"
	"$probe" batch -q --helo bench.test --per-ip "$count" \
	    --per-ip-gap 0 --rate 2000/s --timeout 900 --drain-timeout 0 "$@" \
	    "$work/idle.in" >/dev/null 2>&1 &
	bp=$!
	want=$count
	for i in $(seq 1 1200); do
		st=$(sed -n "s/.* $field \\([0-9]*\\).*/\\1/p" \
		    "$work/status" 2>/dev/null)
		[ "${st:-0}" -ge "$want" ] && break
		sleep 0.1
	done
	sleep 1
	awk '/^VmHWM|^VmRSS/ { printf "%s ", $2 }' "/proc/$bp/status"
	echo "${st:-0}"
	kill -TERM "$bp" 2>/dev/null
	wait "$bp" 2>/dev/null
	kill "$sp" 2>/dev/null
	wait "$sp" 2>/dev/null
	rm -f "$work/status"
}
say
for kind in plain tls; do
	prev= prevn=
	for count in $IDLE; do
		set -- $(idle "$kind" "$count")
		hwm=$1 rss=$2 got=$3
		[ "$got" -ge "$count" ] || say "warning: only $got of $count $kind sessions came up"
		record "peak RSS, $count idle $kind sessions" \
		    "$((hwm / 1024)) MB" \
		    "smtprobe batch --per-ip $count --per-ip-gap 0 --rate 2000/s --timeout 900 $([ "$kind" = tls ] && echo --starttls) FILE; VmHWM of /proc/PID/status"
		record "  per session, all memory / $count" \
		    "$(awk -v h="$hwm" -v n="$count" 'BEGIN { printf "%.1f KB", h / n }')" \
		    "VmHWM / sessions"
		if [ -n "$prev" ]; then
			record "  per session, marginal ($prevn -> $count)" \
			    "$(awk -v a="$prev" -v b="$hwm" -v m="$prevn" -v n="$count" \
			    'BEGIN { printf "%.2f KB", (b - a) / (n - m) }')" \
			    "(VmHWM($count) - VmHWM($prevn)) / $((count - prevn))"
		fi
		prev=$hwm prevn=$count
	done
done

say
say "== figures and the commands that produced them"
printf '%s' "$results"

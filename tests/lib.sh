# lib.sh - what the shell tests that print TAP share. Source it after
# setting top_srcdir (the tree holding tests/), then call lib_init:
#
#	top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
#	. "$top_srcdir/tests/lib.sh"
#	lib_init NAME
#
# lib_init NAME	sets top_builddir (default top_srcdir), probe, fakemx,
#		certs, a fresh work directory $work, and a trap that on
#		exit kills every PID in $pids, stops the DNS servers when
#		lib_dns_start started them, and removes $work (kept when
#		SMTPROBE_KEEP_WORK is set); checks that jq is there
# tap STATUS TEXT	one TAP line; the count is $n
# bail TEXT	"Bail out!" and exit 99
# lib_wait FILE [TENTHS]	wait until FILE is not empty (default 5 s);
#		status 1 if it never is
# lib_dns_start [EXTRA...]	tests/dns/servers.sh start $work/dns with
#		the extra zones or datasets, then its env sourced
#		(DNS_RESOLVER ...); bails when the servers do not start
# spool FILE WHAT, spool_text TEXT WHAT	keep the JSON documents of FILE
#		(or TEXT) for tests/schema.sh (tests/spool.sh); lib_init
#		forgets what an earlier run of NAME kept

lib_init() {
	top_builddir=${top_builddir:-$top_srcdir}
	probe=$top_builddir/smtprobe
	fakemx=$top_builddir/tests/fakemx
	certs=$top_builddir/tests/certs
	work=$(mktemp -d "${TMPDIR:-/tmp}/smtprobe-$1.XXXXXX")
	pids=
	n=0
	trap lib_cleanup EXIT
	. "$top_srcdir/tests/spool.sh"
	spool_init "$1"
	command -v jq >/dev/null || bail "jq is not installed" \
	    "(scripts/install-deps.sh --test)"
}

lib_cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -d "$work/dns" ] &&
		sh "$top_srcdir/tests/dns/servers.sh" stop "$work/dns" \
		    >/dev/null 2>&1
	if [ -n "${SMTPROBE_KEEP_WORK:-}" ]; then
		echo "# kept $work"
	else
		rm -rf "$work"
	fi
}

tap() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

bail() {
	echo "Bail out! $*"
	exit 99
}

lib_wait() {
	_i=0
	while [ "$_i" -lt "${2:-50}" ]; do
		[ -s "$1" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

lib_dns_start() {
	mkdir -p "$work/dns"
	SMTPROBE_DNS_OWNER=$$ sh "$top_srcdir/tests/dns/servers.sh" start \
	    "$work/dns" "$@" > "$work/dns.out" 2>&1 ||
		bail "DNS servers did not start: $(tail -5 "$work/dns.out")"
	. "$work/dns/env"
}

# lib_fakemx NAME ADDR PORT [fakemx options]: the fake MX with the script
# $work/NAME.script (the caller writes it) on ADDR:PORT (0: any free
# port), its port in $work/NAME.port, its log in $work/NAME.log; the PID
# joins $pids. Status 1 when it did not start (the port was taken).
lib_fakemx() {
	_name=$1
	_addr=$2
	_port=$3
	shift 3
	rm -f "$work/$_name.port"
	"$fakemx" -a "$_addr" -p "$_port" -P "$work/$_name.port" \
	    -l "$work/$_name.log" -t 600 "$@" "$work/$_name.script" \
	    2> "$work/$_name.err" &
	_pid=$!
	pids="$pids $_pid"
	_i=0
	while [ "$_i" -lt 100 ]; do
		[ -s "$work/$_name.port" ] && return 0
		kill -0 "$_pid" 2>/dev/null || return 1
		sleep 0.05
		_i=$((_i + 1))
	done
	return 1
}

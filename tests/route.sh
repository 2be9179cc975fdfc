#!/bin/bash
# route.sh - where smtprobe connects, end to end against real DNS on
# loopback (tests/dns/servers.sh: unbound + rbldnsd) and fake MX hosts on
# 127.0.0.1, 127.0.0.2 and ::1 sharing one port: smtprobe DOMAIN, --to
# without --server, --server NAME, --all-mx with its differences, -4/-6,
# implicit and null MX, NXDOMAIN, and a dead resolver. Prints TAP.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
. "$top_srcdir/tests/lib.sh"
lib_init route

cat > "$work/route.test.zone" <<'ZONE'
$ORIGIN route.test.
$TTL 300
@		SOA	ns.test. hostmaster.test. 1 3600 900 604800 300
@		NS	ns.test.
@		MX	20 mx2.route.test.
@		MX	10 mx1.route.test.
mx1		A	127.0.0.1
mx1		AAAA	::1
mx2		A	127.0.0.2
null		MX	0 .
implicit	A	127.0.0.3
dangling	MX	10 nowhere.route.test.
xn--bcher-kva	MX	10 mx1.route.test.
ZONE
lib_dns_start "$work/route.test.zone"
res=$DNS_RESOLVER

# three fake MX hosts on one port: 127.0.0.1 (STARTTLS), 127.0.0.2, ::1
start_mx() {	# start_mx NAME ADDR PORT [fakemx options]
	printf 'reply CONNECT 220 %s ESMTP fakemx\n' "$1" > "$work/$1.script"
	lib_fakemx "$@"
}
start_mx mx1v4 127.0.0.1 0 -c "$certs/server.pem" -k "$certs/server.key" ||
	bail "fake MX 1 did not start"
port=$(cat "$work/mx1v4.port")
start_mx mx2v4 127.0.0.2 "$port" || bail "fake MX 2 did not start on $port"
have6=
if [ -n "${DNS_RESOLVER6:-}" ] && start_mx mx1v6 ::1 "$port"; then
	have6=1
fi

run() {	# run NAME ARGS...: stdout to NAME.out, JSON to NAME.json
	local name=$1
	shift
	timeout -k 5 60 "$probe" --resolver "$res" -p "$port" --helo probe.test \
		"$@" > "$work/$name.out" 2> "$work/$name.err"
	echo $?
	case " $* " in *" --json "*) spool "$work/$name.out" "$name: $*" ;; esac
}
jqt() {	# jqt FILE EXPR DESCRIPTION
	[ "$(jq -r "$2" "$work/$1" 2>&1)" = true ]
	tap $? "$3"
}

rc=$(run dom route.test --json)
tap $([ "$rc" = 0 ]; echo $?) "smtprobe DOMAIN: exit $rc (want 0)"
jqt dom.out '.target.host == "mx1.route.test" and (.target.address | startswith("127.0.0.1:"))' \
	"the first MX (preference 10) first, IPv4 first"
jqt dom.out '[.steps[].stage] == ["resolve","connect","banner","ehlo","quit"]' \
	"a domain alone stops before MAIL"
jqt dom.out '(.resolution | map(select(test("MX"))) | length) > 0 and .steps[0].detail == "MX mx1.route.test (preference 10) at 127.0.0.1"' \
	"the resolution path is recorded"
grep -q 'connect 1' "$work/mx1v4.log"; tap $? "the fake MX at 127.0.0.1 got the connection"

rc=$(run to -f a@probe.test -t user@route.test --json)
tap $([ "$rc" = 0 ]; echo $?) "--to without --server: exit $rc (want 0)"
jqt to.out '.target.host == "mx1.route.test" and .recipients.accepted == 1' \
	"the MX of the recipient's domain took RCPT"

rc=$(run name -s mx2.route.test -f a@probe.test -t user@route.test --json)
tap $([ "$rc" = 0 ]; echo $?) "--server NAME through DNS: exit $rc (want 0)"
jqt name.out '(.target.address | startswith("127.0.0.2:")) and (.resolution[0] | startswith("A mx2.route.test: 127.0.0.2"))' \
	"--server mx2.route.test resolved to 127.0.0.2"

rc=$(run all route.test --all-mx --starttls-optional --tls-ca-file "$certs/ca.pem" --json)
tap $([ "$rc" = 0 ]; echo $?) "--all-mx: exit $rc (want 0)"
if [ -n "$have6" ]; then
	jqt all.out '[.targets[] | [.mx, .address]] == [["mx1.route.test","127.0.0.1"],["mx1.route.test","::1"],["mx2.route.test","127.0.0.2"]]' \
		"--all-mx: every address of every MX, in MX order, IPv4 first"
else
	jqt all.out '[.targets[] | [.mx, .address]] == [["mx1.route.test","127.0.0.1"],["mx2.route.test","127.0.0.2"]]' \
		"--all-mx: every address of every MX, in MX order"
fi
jqt all.out '[.differences[].what] | index("STARTTLS offered") != null' \
	"--all-mx flags that one host offers STARTTLS and another does not"
jqt all.out '.targets[0].probe.tls != null and .targets[-1].probe.tls == null' \
	"STARTTLS used where offered, plaintext elsewhere"
grep -q 'connect' "$work/mx2v4.log"; tap $? "127.0.0.2 was probed too"
rc=$(run alltext route.test --all-mx --starttls-optional --tls-ca-file "$certs/ca.pem")
grep -q '^!! the MX hosts differ in STARTTLS offered:' "$work/alltext.out"
tap $? "the text output names the difference"
grep -q '^\*\* 127.0.0.2:'"$port"' (' "$work/alltext.out"
tap $? "each host's transcript is headed by its address"

if [ -n "$have6" ]; then
	rc=$(run v6 route.test --all-mx -6 --json)
	jqt v6.out '[.targets[].address] == ["::1"]' "-6 keeps only IPv6 addresses (exit $rc)"
fi
rc=$(run v4 route.test --all-mx -4 --json)
jqt v4.out '[.targets[].address] == ["127.0.0.1","127.0.0.2"]' "-4 keeps only IPv4 addresses (exit $rc)"

rc=$(run null -f me@probe.test -t user@null.route.test --json)
tap $([ "$rc" = 1 ]; echo $?) "null MX: exit $rc (want 1: the address is refused)"
grep -q 'accepts no mail: null MX (RFC 7505)' "$work/null.err"
tap $? "null MX is reported as such"
jqt null.out '.steps[0].stage == "resolve" and .steps[0].outcome == "permfail" and (.steps | length) == 1' \
	"null MX: nothing is sent"
jqt null.out '.verdict.class == "recipient" and .verdict.reason == "null-mx" and (.verdict.advice | test("accepts no mail"))' \
	"null MX: verdict recipient/null-mx with its advice"
rc=$(run nullsrv -s null.route.test --json --stop-before mail)
tap $([ "$rc" = 3 ]; echo $?) "-s NAME without an address stays a network error: exit $rc (want 3)"

rc=$(run imp implicit.route.test --json --timeout connect=2)
jqt imp.out '(.target.address | startswith("127.0.0.3:")) and (.resolution | map(select(test("implicit|no MX"; "i"))) | length) > 0' \
	"no MX: the domain's own address (implicit MX) (exit $rc)"

rc=$(run nx nope.route.test --json)
tap $([ "$rc" = 1 ]; echo $?) "NXDOMAIN: exit $rc (want 1: no such domain)"
grep -qi 'cannot find where nope.route.test takes mail' "$work/nx.err"
tap $? "NXDOMAIN: a clear message"
jqt nx.out '.verdict.class == "recipient" and .verdict.reason == "no-such-domain"' \
	"NXDOMAIN: verdict recipient/no-such-domain"

# SERVFAIL for the domain (tests/dnsfake): temporary, with DNS advice
"$top_builddir/tests/dnsfake" -P "$work/fake.port" -t 60 2>/dev/null &
pids="$pids $!"
for _ in $(seq 1 100); do [ -s "$work/fake.port" ] && break; sleep 0.05; done
rc=$(timeout -k 5 60 "$probe" --resolver "127.0.0.1:$(cat "$work/fake.port")" \
	--json -p "$port" servfail.example > "$work/sf.out" 2> "$work/sf.err"; echo $?)
tap $([ "$rc" = 2 ]; echo $?) "SERVFAIL: exit $rc (want 2: temporary)"
jqt sf.out '.verdict.class == "network" and .verdict.reason == "dns-servfail" and (.verdict.advice | test("SERVFAIL"))' \
	"SERVFAIL: verdict network/dns-servfail with DNS advice"

rc=$(run dangling dangling.route.test --json)
tap $([ "$rc" = 3 ]; echo $?) "MX host without an address: exit $rc (want 3)"
grep -q 'no MX host of dangling.route.test has an address' "$work/dangling.err"
tap $? "MX host without an address: a clear message"

# an internationalised domain: looked up as A-labels (IDNA2008)
rc=$(run idn 'bücher.route.test' --json --stop-before mail)
jqt idn.out '.target.address | startswith("127.0.0.1:")' \
	"IDN domain: its MX found through the A-label (exit $rc)"
grep -q 'xn--bcher-kva.route.test' "$work/idn.out"
tap $? "IDN domain: the resolution names the A-label"
rc=$(run idnbad 'a‍b.route.test' --stop-before mail)
rc=$(run idnbad "$(printf 'x\342\200\215y.route.test')" --stop-before mail)
tap $([ "$rc" = 64 ]; echo $?) "invalid IDN (ZWJ outside its context): exit $rc (want 64)"
grep -q 'not a valid international domain name' "$work/idnbad.err"
tap $? "invalid IDN: says so"

# -6 for a name that /etc/hosts gives only an IPv4 address: said so,
# not "NXDOMAIN" from the DNS (a private /etc/hosts in a mount namespace)
printf '127.0.0.1 localhost\n127.0.0.9 only4.route.test\n' > "$work/hosts"
if unshare -m true 2>/dev/null; then
	rc=$(timeout -k 5 60 unshare -m sh -c 'mount --bind "$1" /etc/hosts &&
	    shift && exec "$@"' sh "$work/hosts" "$probe" --resolver "$res" \
	    -p "$port" -6 -s only4.route.test --stop-before mail \
	    > "$work/only4.out" 2> "$work/only4.err"; echo $?)
	tap $([ "$rc" = 3 ]; echo $?) "-6, name only IPv4 in /etc/hosts: exit $rc (want 3)"
	grep -q 'only4.route.test is in /etc/hosts only as IPv4 address 127.0.0.9, and -6 asks for IPv6' "$work/only4.out"
	tap $? "-6, name only IPv4 in /etc/hosts: says so (not NXDOMAIN)"
else
	tap 0 "# SKIP unshare -m not allowed here"
	tap 0 "# SKIP unshare -m not allowed here"
fi

# a resolver that never answers: a UDP socket nobody reads
deadport=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', $deadport))
open('$work/dead.ready', 'w').close()
time.sleep(60)" &
pids="$pids $!"
for _ in $(seq 1 100); do [ -e "$work/dead.ready" ] && break; sleep 0.05; done
t0=$(date +%s%N)
rc=$(timeout -k 5 60 "$probe" --resolver "127.0.0.1:$deadport" --timeout resolve=1 \
	-p "$port" route.test > "$work/dead.out" 2> "$work/dead.err"; echo $?)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
tap $([ "$rc" = 3 ]; echo $?) "dead resolver: exit $rc (want 3)"
tap $([ "$ms" -lt 5000 ]; echo $?) "dead resolver: gave up in $ms ms (--timeout resolve=1)"
grep -qi 'timeout\|timed out\|no answer' "$work/dead.err"
tap $? "dead resolver: says it timed out"

if [ "$n" -gt 0 ] && grep -q '^not ok' <<< "$(true)"; then :; fi
echo "1..$n"

#!/bin/bash
# families.sh - --both-families (and --all-mx) over IPv4 against IPv6:
# a DNS-lab name with an A (127.0.0.1) and an AAAA (::1) record, a fake
# MX on each sharing one port; the IPv6 one refuses the recipient the
# way a server does that finds no PTR for the client. The differences
# (stage, code, verdict) are printed, in the JSON, and a family-differs
# finding naming the common cause. Prints TAP; skipped without IPv6.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
. "$top_srcdir/tests/lib.sh"
lib_init families

cat > "$work/families.test.zone" <<'ZONE'
$ORIGIN families.test.
$TTL 300
@		SOA	ns.test. hostmaster.test. 1 3600 900 604800 300
@		NS	ns.test.
@		MX	10 mx.families.test.
mx		A	127.0.0.1
mx		AAAA	::1
v4only		A	127.0.0.1
ZONE
lib_dns_start "$work/families.test.zone"
if [ -z "${DNS_RESOLVER6:-}" ]; then
	echo "1..0 # SKIP no IPv6 on loopback"
	exit 0
fi
printf '%s\n' 'reply CONNECT 220 mx.families.test ESMTP' > "$work/v4.script"
lib_fakemx v4 127.0.0.1 0 || bail "IPv4 fake MX did not start"
port=$(cat "$work/v4.port")
printf '%s\n' 'reply CONNECT 220 mx.families.test ESMTP' \
	'reply RCPT 450 4.7.25 Client host rejected: cannot find your hostname, [::1]' \
	> "$work/v6.script"
lib_fakemx v6 ::1 "$port" || bail "IPv6 fake MX did not start on $port"

run() {	# run OUT ARGS...: the exit status
	local out=$1
	shift
	timeout -k 5 60 "$probe" --resolver "$DNS_RESOLVER" --helo probe.test \
		-f a@probe.test -t b@fake.test "$@" > "$work/$out" \
		2> "$work/$out.err"
	echo $?
	case " $* " in
	*" --json "*)	spool "$work/$out" "$out: $*" ;;
	esac
}
jqt() {
	[ "$(jq -r "$2" "$work/$1" 2>&1)" = true ]
	tap $? "$3"
}

rc=$(run both.txt -s "mx.families.test:$port" --both-families)
tap $([ "$rc" = 2 ]; echo $?) "--both-families: IPv6 refused for now, so exit $rc (want 2, the worst)"
grep -q "^\*\* 127.0.0.1:$port (1 of 2)" "$work/both.txt" &&
	grep -q "^\*\* \[::1\]:$port (2 of 2)" "$work/both.txt"
tap $? "both sessions, IPv4 first, each transcript kept apart"
grep -q '^!! IPv4 and IPv6 differ in stage (IPv4/IPv6):' "$work/both.txt" &&
	grep -q "^!!   \[::1\]:$port: rcpt" "$work/both.txt"
tap $? "the stage differs: IPv6 stops at rcpt"
grep -q '^!! IPv4 and IPv6 differ in reply code (IPv4/IPv6):' "$work/both.txt" &&
	grep -q "^!!   \[::1\]:$port: 450" "$work/both.txt"
tap $? "the reply code differs: 450 over IPv6"
grep -q '^!! a common cause: the IPv6 source address' "$work/both.txt"
tap $? "the common cause is named: no PTR for the IPv6 source"
grep -q 'warning (family-differs, connect): IPv4' "$work/both.txt"
tap $? "the IPv6 session carries the finding family-differs"

rc=$(run both.json -s "mx.families.test:$port" --both-families --json)
jqt both.json '[.targets[].address] == ["127.0.0.1", "::1"]' \
	"JSON: one target per family"
jqt both.json '[.differences[].what] | index("stage (IPv4/IPv6)") != null and index("reply code (IPv4/IPv6)") != null' \
	"JSON: the differences name stage and code"
jqt both.json '[.targets[1].probe.findings[] | select(.kind == "family-differs")][0].severity == "warning" and .exit_code == 2' \
	"JSON: the finding, a warning; exit_code 2"

rc=$(run all.json families.test -p "$port" --all-mx --json)
jqt all.json '[.differences[].what] | index("reply code (IPv4/IPv6)") != null' \
	"--all-mx compares the families too"

rc=$(run one.txt -s "v4only.families.test:$port" --both-families)
tap $([ "$rc" = 0 ]; echo $?) "a host with IPv4 only: one session, exit $rc (want 0)"
grep -q 'has no IPv6 address: one family only' "$work/one.txt.err"
tap $? "and it says why there is nothing to compare"
echo "1..$n"

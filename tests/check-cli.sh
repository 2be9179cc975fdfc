#!/bin/bash
# check-cli.sh - the pre-flight checks from the command line (--check,
# --public-ip, --dnsbl, --no-check, and always with --diagnose and the
# ticket report) against real DNS on loopback (tests/dns/servers.sh) and
# the fake MX, and how they sharpen the verdict: a generic 554 with our
# IP listed becomes ip/dnsbl, a missing PTR becomes ip/rdns, a sender
# domain with two SPF records is named. Prints TAP.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
. "$top_srcdir/tests/lib.sh"
lib_init check
lib_dns_start

mx() {	# mx NAME SCRIPT-LINES...: start a fake MX, its port in NAME.port
	printf '%s\n' "${@:2}" > "$work/$1.script"
	lib_fakemx "$1" 127.0.0.1 0 || bail "fake MX $1 did not start"
}
run() {	# run OUT PORT ARGS...
	local out=$1 port=$2
	shift 2
	timeout -k 5 60 "$probe" -s "127.0.0.1:$port" --resolver "$DNS_RESOLVER" \
		"$@" > "$work/$out" 2> "$work/$out.err"
	echo $?
	case " $* " in *" --json "*) spool "$work/$out" "$out: $*" ;; esac
}
jqt() {
	[ "$(jq -r "$2" "$work/$1" 2>&1)" = true ]
	tap $? "$3"
}

mx banner 'reply CONNECT 554 5.7.1 Service unavailable'
p=$(cat "$work/banner.port")
rc=$(run listed.json "$p" --check --public-ip 192.0.2.10 --dnsbl zen.dnsbl.test \
	--helo mail.insecure.test --json)
tap $([ "$rc" = 1 ]; echo $?) "listed IP, generic 554 greeting: exit $rc (want 1)"
jqt listed.json '.checks.ip == "192.0.2.10" and ([.checks.items[] | select(.name == "dnsbl" and .status == "fail")] | length) == 1' \
	"the check finds 192.0.2.10 listed on zen.dnsbl.test"
jqt listed.json '.verdict.class == "ip" and .verdict.reason == "dnsbl" and (.verdict.context | test("192.0.2.10 is listed on zen.dnsbl.test"))' \
	"the verdict turns a generic 554 into ip/dnsbl, saying where"
rc=$(run listed.txt "$p" --check --public-ip 192.0.2.10 --dnsbl zen.dnsbl.test \
	--helo mail.insecure.test)
grep -q '^\*\*   dnsbl      fail ' "$work/listed.txt"
tap $? "the transcript lists the checks"
grep -q '^\*\* the checks say: 192.0.2.10 is listed on zen.dnsbl.test' "$work/listed.txt"
tap $? "the transcript says what the checks add to the verdict"

rc=$(run clean.json "$p" --check --public-ip 203.0.113.5 --dnsbl zen.dnsbl.test \
	--helo mail.insecure.test --json)
jqt clean.json '([.checks.items[] | select(.name == "ptr" or .name == "fcrdns") | .status] == ["pass","pass"]) and ([.checks.items[] | select(.name == "dnsbl")][0].status == "pass")' \
	"203.0.113.5: PTR mail.insecure.test, FCrDNS pass, not listed"
jqt clean.json '.verdict.class == "ip" and (.verdict.context | test("none of the DNS blocklists"))' \
	"not listed anywhere: the verdict says the block is the server's own"
jqt clean.json '[.checks.items[] | select(.name == "helo-dns")][0].status == "pass"' \
	"the HELO name resolves to our IP"

rc=$(run noptr.json "$p" --check --public-ip 203.0.113.7 --dnsbl zen.dnsbl.test --json)
jqt noptr.json '[.checks.items[] | select(.name == "ptr")][0].status == "fail" and .verdict.reason == "rdns"' \
	"no PTR: the block is read as ip/rdns"

rc=$(run err.json "$p" --check --public-ip 192.0.2.10 --dnsbl bl.dnsbl.test --json)
jqt err.json '[.checks.items[] | select(.name == "dnsbl")][0].status == "error" and .verdict.reason != "dnsbl"' \
	"127.255.255.254 from a list is an error, never a listing"

mx sender 'reply MAIL 550 5.7.23 <a@sender-twospf.insecure.test>: Sender address rejected: SPF validation failed'
p2=$(cat "$work/sender.port")
rc=$(run sender.json "$p2" --check --public-ip 203.0.113.5 --dnsbl none \
	--helo mail.insecure.test -f a@sender-twospf.insecure.test -t u@fake.test --json)
jqt sender.json '.verdict.class == "sender" and (.verdict.context | test("spf"; "i"))' \
	"a sender refused for SPF: the check names the sender domain's SPF problem"
jqt sender.json '[.checks.items[].name] | (index("dnsbl") == null)' \
	"--dnsbl none: no list is asked"

rc=$(run ticket.txt "$p2" --public-ip 203.0.113.5 --dnsbl none --helo mail.insecure.test \
	-f a@sender-twospf.insecure.test -t u@fake.test --format ticket)
grep -q '^pre-flight checks for 203.0.113.5' "$work/ticket.txt"
tap $? "the ticket report carries the checks without --check"
rc=$(run nocheck.json "$p2" --no-check --helo mail.insecure.test \
	-f a@sender-twospf.insecure.test -t u@fake.test --json)
jqt nocheck.json '.checks == null' "--no-check: no checks"
rc=$(run diag.txt "$p2" --diagnose --public-ip 203.0.113.5 --dnsbl none \
	--helo mail.insecure.test -f a@sender-twospf.insecure.test -t u@fake.test)
grep -q '^\*\* checks for 203.0.113.5:' "$work/diag.txt"
tap $? "--diagnose runs the checks"
echo "1..$n"

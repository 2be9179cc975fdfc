#!/bin/bash
# server-check-dns.sh - --server-check's DNS facts about the server's
# address (--server-public-ip, since the fake MX listens on loopback):
# PTR and FCrDNS against the greeting's and EHLO's names, the address on
# DNS blocklists (IPv4, IPv6 by nibbles, Spamhaus-style error answers
# never a listing), against real DNS on loopback (tests/dns/servers.sh).
# Prints TAP.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
. "$top_srcdir/tests/lib.sh"
lib_init srvcheck
lib_dns_start

printf '%s\n' 'reply CONNECT 220 mail.insecure.test ESMTP' \
	'reply EHLO 250-mail.insecure.test' 'reply EHLO 250 STARTTLS' \
	> "$work/mx.script"
lib_fakemx mx 127.0.0.1 0 || bail "fake MX did not start"
p=$(cat "$work/mx.port")

run() {	# run OUT ARGS...: the exit status
	local out=$1
	shift
	timeout -k 5 60 "$probe" -s "127.0.0.1:$p" --resolver "$DNS_RESOLVER" \
		--helo probe.test --server-check --json "$@" > "$work/$out" \
		2> "$work/$out.err"
	echo $?
}
jqt() {
	[ "$(jq -r "$2" "$work/$1" 2>&1)" = true ]
	tap $? "$3"
}

rc=$(run good.json --server-public-ip 203.0.113.5 --server-dnsbl zen.dnsbl.test)
tap $([ "$rc" = 0 ]; echo $?) "203.0.113.5, PTR mail.insecure.test, not listed: exit $rc (want 0)"
jqt good.json '([.findings[] | select(.kind | test("^server-|banner-name|ehlo-name"))] | length) == 0' \
	"PTR = greeting name = EHLO name, forward-confirmed, on no list: no finding"

rc=$(run wrong.json --server-public-ip 203.0.113.8 --server-dnsbl none)
jqt wrong.json '[.findings[] | select(.kind == "banner-name")][0].detail | test("wrong.insecure.test")' \
	"203.0.113.8 (PTR wrong.insecure.test): the greeting's name is not the PTR"
jqt wrong.json '[.findings[] | select(.kind == "ehlo-name")][0].severity == "warning"' \
	"nor is the EHLO name: warning"
jqt wrong.json '[.findings[] | select(.kind == "server-fcrdns")][0].severity == "warning"' \
	"wrong.insecure.test resolves elsewhere: FCrDNS fails"

rc=$(run noptr.json --server-public-ip 203.0.113.7 --server-dnsbl none)
jqt noptr.json '[.findings[] | select(.kind == "server-ptr-missing")][0] | .severity == "warning" and (.detail | test("203.0.113.7"))' \
	"203.0.113.7: no PTR"

rc=$(run listed.json --server-public-ip 192.0.2.10 --server-dnsbl zen.dnsbl.test)
tap $([ "$rc" = 1 ]; echo $?) "192.0.2.10 listed on zen.dnsbl.test: exit $rc (want 1)"
jqt listed.json '[.findings[] | select(.kind == "server-dnsbl-listed")][0] | .severity == "error" and (.detail | test("zen.dnsbl.test"))' \
	"the listing is an error naming the list"
jqt listed.json '.result.exit_code == 1 and (.result.message | test("server-check found 1 finding"))' \
	"the result line says why the exit is 1"

rc=$(run err.json --server-public-ip 198.51.100.1 --server-dnsbl zen.dnsbl.test)
tap $([ "$rc" = 0 ]; echo $?) "198.51.100.1 answered 127.255.255.254: exit $rc (want 0)"
jqt err.json '([.findings[] | select(.kind == "server-dnsbl-listed")] | length) == 0 and ([.findings[] | select(.kind == "server-dnsbl-unusable")] | length) == 1' \
	"a Spamhaus-style error answer is never a listing"

rc=$(run v6.json --server-public-ip 2001:db8:bad::25 --server-dnsbl zen.dnsbl.test)
tap $([ "$rc" = 1 ]; echo $?) "2001:db8:bad::25 in a listed IPv6 range: exit $rc (want 1)"
jqt v6.json '[.findings[] | select(.kind == "server-dnsbl-listed")][0].detail | test("2001:db8:bad::25")' \
	"the IPv6 address is looked up by nibbles and found"

rc=$(run v6ptr.json --server-public-ip 2001:db8::25 --server-dnsbl none)
jqt v6ptr.json '[.findings[] | select(.kind == "banner-name")][0].detail | test("mail6.insecure.test")' \
	"2001:db8::25: its PTR mail6.insecure.test is not the greeting's name"

# batch --server-check: the same facts in each record (the lookups run
# once a session is over, then the record is written); the status stays
# the session's
printf '%s\n' "127.0.0.1:$p" "127.0.0.1:$p" > "$work/batch.in"
timeout -k 5 60 "$probe" batch --resolver "$DNS_RESOLVER" --helo probe.test \
	--per-ip-gap 0 --server-public-ip 192.0.2.10 --server-dnsbl zen.dnsbl.test \
	"$work/batch.in" > "$work/batch.jsonl" 2> "$work/batch.err"
brc=$?
tap $([ "$brc" = 0 ] && [ "$(grep -c . "$work/batch.jsonl")" = 2 ]; echo $?) \
	"batch --server-check: two records (exit $brc)"
[ "$(jq -sr '[.[] | .status == "ok" and ([.session.findings[] | select(.kind == "server-dnsbl-listed" and .severity == "error" and (.detail | test("zen.dnsbl.test")))] | length == 1)] | all' \
	"$work/batch.jsonl" 2>&1)" = true ]
tap $? "batch: each record has the listing as an error finding, its status stays ok"
[ "$(jq -sr '[.[] | [.session.steps[].command] | index("VRFY postmaster") != null] | all' \
	"$work/batch.jsonl" 2>&1)" = true ]
tap $? "batch: the VRFY and EXPN steps of --server-check ran"
timeout -k 5 60 "$probe" batch --resolver "$DNS_RESOLVER" --helo probe.test \
	--server-public-ip 203.0.113.5 --server-dnsbl zen.dnsbl.test \
	"$work/batch.in" > "$work/batch2.jsonl" 2> "$work/batch2.err"
[ "$(jq -sr '[.[] | [.session.findings[].kind | select(test("^server-|banner-name|ehlo-name"))] | length == 0] | all' \
	"$work/batch2.jsonl" 2>&1)" = true ]
r=$?
tap $r "batch: 203.0.113.5 (PTR = greeting name, on no list): no such finding"
[ $r = 0 ] || jq -c '[.status, [.session.findings[] | .kind + ": " + .detail]]' \
	"$work/batch2.jsonl" 2>&1 | sed 's/^/# /'
# the lookups under way while sessions end, under valgrind: no leak
if command -v valgrind > /dev/null 2>&1 && [ -z "${SMTPROBE_SANITIZED:-}" ]; then
	timeout -k 5 120 valgrind -q --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
		"$probe" batch --resolver "$DNS_RESOLVER" --helo probe.test \
		--per-ip-gap 0 --server-public-ip 192.0.2.10 \
		--server-dnsbl zen.dnsbl.test "$work/batch.in" > /dev/null \
		2> "$work/batch-vg.err"
	vrc=$?
	tap $([ "$vrc" = 0 ]; echo $?) "batch --server-check under valgrind: no error, no leak (exit $vrc)"
	[ "$vrc" = 0 ] || grep '^==' "$work/batch-vg.err" | head -20 | sed 's/^/# /'
else
	tap 0 "batch --server-check under valgrind # SKIP no valgrind or a sanitizer build"
fi
"$probe" batch --server-check --scenario /dev/null "$work/batch.in" \
	> /dev/null 2>&1
tap $([ $? = 64 ]; echo $?) "batch: --server-check with --scenario is a usage error"

rc=$(run private.json)
jqt private.json '[.findings[] | select(.kind == "server-ip-private")] | length == 1' \
	"without --server-public-ip, loopback: said, and no lookups"
echo "1..$n"

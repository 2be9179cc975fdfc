#!/bin/bash
# batch-dns.sh - "smtprobe batch" with names, against real DNS on
# loopback (tests/dns/servers.sh: unbound serving a zone of our own) and
# fake MX hosts on 127.0.0.x sharing one port: a mail domain goes
# through its MX, user@domain gets RCPT to itself, --all-mx gives one
# record per address (and --resume skips the addresses already done),
# null MX, NXDOMAIN and dangling MX give status dns, a blocklisted domain
# is never looked up or contacted, an MX host under a blocklisted domain
# or on a blocklisted network is never contacted, one lookup serves
# every target of a domain, and sharding by IP or by name covers the
# input exactly once. Prints TAP.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
. "$top_srcdir/tests/lib.sh"
lib_init batchdns

cat > "$work/batch.test.zone" <<'ZONE'
$ORIGIN batch.test.
$TTL 300
@		SOA	ns.test. hostmaster.test. 1 3600 900 604800 300
@		NS	ns.test.
@		MX	20 mx2.batch.test.
@		MX	10 mx1.batch.test.
mx1		A	127.0.0.2
mx1		A	127.0.0.12
mx2		A	127.0.0.3
null		MX	0 .
implicit	A	127.0.0.2
dangling	MX	10 nowhere.batch.test.
host		A	127.0.0.3
mxb		MX	10 mx.blocked.batch.test.
mx.blocked	A	127.0.0.2
mxc		MX	10 mxcidr.batch.test.
mxcidr		A	127.0.0.9
ZONE
lib_dns_start "$work/batch.test.zone"
res=$DNS_RESOLVER

start_mx() {	# start_mx NAME ADDR PORT SCRIPT-LINE...
	printf '%s\n' "${@:4}" > "$work/$1.script"
	lib_fakemx "$1" "$2" "$3" -m
}
started=
for attempt in 1 2 3 4 5; do
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	pids=
	start_mx mx1a 127.0.0.2 0 "reply CONNECT 220 mx1a.test ESMTP" || continue
	P=$(cat "$work/mx1a.port")
	start_mx mx1b 127.0.0.12 "$P" "reply CONNECT 220 mx1b.test ESMTP" &&
	    start_mx mx2 127.0.0.3 "$P" "reply CONNECT 220 mx2.test ESMTP" \
	    "reply RCPT 550 5.1.1 no such user" &&
	    start_mx bl 127.0.0.9 "$P" "reply CONNECT 220 bl.test ESMTP" &&
	    started=1 && break
done
[ -n "$started" ] || bail "the fake MX hosts did not start on one port"

run() {	# run NAME ARGS...: records to NAME.out; prints the exit status
	local name=$1
	shift
	timeout -k 5 120 "$probe" batch --helo probe.test -p "$P" \
	    --resolver "$res" --per-ip-gap 0 "$@" > "$work/$name.out" \
	    2> "$work/$name.err"
	echo $?
	spool "$work/$name.out" "batch $name: records"
}
lines() { wc -l < "$1" | tr -d ' '; }
st() {	# st NAME: "INDEX STATUS ..." of NAME.out, sorted
	jq -r '"\(.input_index) \(.status)"' "$work/$1.out" | sort -n |
	    tr '\n' ' '
}

printf 'blocked.batch.test\n' > "$work/bl.txt"
printf '127.0.0.9/32\n' >> "$work/bl.txt"
printf '%s\n' batch.test user@batch.test null.batch.test nx.batch.test \
    implicit.batch.test "host.batch.test:$P" dangling.batch.test \
    mxb.batch.test mxc.batch.test blocked.batch.test > "$work/names.in"
rc=$(run names -f s@probe.test -t r@probe.test --blocklist "$work/bl.txt" "$work/names.in")
tap $([ "$rc" = 0 ]; echo $?) "names: exit $rc"
want="0 ok 1 ok 2 dns 3 dns 4 ok 5 permfail 6 dns 7 blocklisted 8 blocklisted 9 blocklisted "
got=$(st names)
tap $([ "$got" = "$want" ]; echo $?) "names: the status of every kind of target"
[ "$got" = "$want" ] || echo "# got: $got"
jqi() {	# jqi FILE INDEX EXPR: EXPR holds for the record of INDEX
	jq -e -s "map(select(.input_index == $2)) | length == 1 and
	    (.[0] | $3)" "$1" >/dev/null
}
jqi "$work/names.out" 0 '(.address | test("^127.0.0.(2|12)$")) and
    .mx == "mx1.batch.test" and .mx_preference == 10 and
    (.session.resolution | length) > 0' 
tap $? "a domain goes to the first address of its best MX"
jqi "$work/names.out" 1 '.session.steps | any(.command ==
    "RCPT TO:<user@batch.test>")' 
tap $? "user@domain: RCPT to that address"
jqi "$work/names.out" 4 '.mx == "implicit.batch.test" and
    .mx_preference == 0' 
tap $? "no MX: the implicit MX (RFC 5321 5.1)"
jqi "$work/names.out" 5 '.address == "127.0.0.3" and .mx == null' 
tap $? "host:port is a host, not a domain"
jq -e -s 'map(select(.status == "dns")) | length == 3 and all(.exit_code == 3
    and .address == null and .session.steps[0].stage == "resolve")' \
    "$work/names.out" >/dev/null
tap $? "null MX, NXDOMAIN, dangling MX: status dns, recorded at resolve"
tap $([ "$(grep -c '^\*\*\* connect' "$work/bl.log")" = 0 ]; echo $?) \
    "an MX on a blocklisted network is never contacted"
jqi "$work/names.out" 7 '.error == "blocklisted: blocked.batch.test"
    and .mx == "mx.blocked.batch.test"' 
tap $? "an MX host under a blocklisted domain is never contacted"

printf 'host.batch.test\n' > "$work/nomx.in"
rc=$(run nomx --no-mx -f s@probe.test -t r@probe.test "$work/nomx.in")
jq -e '.address == "127.0.0.3" and .status == "permfail"' "$work/nomx.out" \
    >/dev/null
tap $? "--no-mx: a bare name is a host"

# --all-mx, and --resume by address
rc=$(run all --all-mx "$work/names.in")
jq -e -s 'map(select(.input_index == 0)) | sort_by(.mx_index) |
    length == 3 and map(.mx_index) == [0, 1, 2] and all(.mx_count == 3) and
    (.[0:2] | map(.address) | sort) == ["127.0.0.12", "127.0.0.2"] and
    .[2].address == "127.0.0.3" and .[2].mx == "mx2.batch.test"' \
    "$work/all.out" >/dev/null
tap $? "--all-mx: one record per address, in MX order, with mx_index"
jq -c 'select(.input_index != 0 or .address != "127.0.0.12")' \
    "$work/all.out" > "$work/resume.jsonl"
before=$(grep -c '^\*\*\* connect' "$work/mx1a.log")
beforeb=$(grep -c '^\*\*\* connect' "$work/mx1b.log")
rc=$(run all2 --all-mx --resume "$work/resume.jsonl" "$work/names.in")
tap $([ "$rc" = 0 ] && [ "$(grep -c '^\*\*\* connect' "$work/mx1a.log")" = "$before" ] &&
    [ "$(grep -c '^\*\*\* connect' "$work/mx1b.log")" = $((beforeb + 1)) ]; echo $?) \
    "--all-mx --resume: only the address without a record is probed again"
tap $([ "$(jq -r '"\(.input_index) \(.address)"' "$work/resume.jsonl" | sort |
    uniq -d)" = "" ] && [ "$(lines "$work/resume.jsonl")" = "$(lines "$work/all.out")" ]; echo $?) \
    "--all-mx --resume: every index and address once"

# one lookup for every target of a domain
for i in $(seq 1 30); do echo "u$i@batch.test"; done > "$work/same.in"
rc=$(run same -vv --per-ip 30 -f s@probe.test "$work/same.in")
tap $([ "$rc" = 0 ] && [ "$(jq -r .status "$work/same.out" | sort -u)" = ok ] &&
    [ "$(grep -c 'batch: batch.test resolved' "$work/same.err")" = 1 ]; echo $?) \
    "30 addresses of one domain: one MX lookup, 30 records"

# sharding with names
{
	cat "$work/names.in"
	for i in $(seq 1 20); do echo "x$i@batch.test"; echo "n$i.batch.test"; done
} > "$work/shard.in"
total=$(grep -c . "$work/shard.in")
for key in ip name; do
	: > "$work/union.idx"
	for i in 0 1 2; do
		rc=$(run s$key$i --shard-key $key --shard $i/3 --per-ip 10 \
		    "$work/shard.in")
		jq -r .input_index "$work/s$key$i.out" >> "$work/union.idx"
	done
	tap $([ "$(sort -n "$work/union.idx" | uniq | lines /dev/stdin)" = "$total" ] &&
	    [ "$(lines "$work/union.idx")" = "$total" ]; echo $?) \
	    "--shard-key $key: the shards cover the $total targets, each once"
done
echo "1..$n"

#!/bin/bash
# baseline-dane.sh - --baseline where DANE is really published: a signed
# zone on the validating unbound of tests/dns/servers.sh (loopback)
# with a TLSA 3 1 1 record of the fake MX's key, saved with --dane;
# then the fake MX serves another key: the key's drift is an error
# (exit 1), where tests/baseline.sh shows the same change without DANE
# is a warning. Prints TAP.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
. "$top_srcdir/tests/lib.sh"
lib_init baseline-dane
[ -x "$probe" ] && [ -x "$fakemx" ] || bail "build smtprobe and tests/fakemx first"
[ -f "$certs/server.pem" ] && [ -f "$certs/self.pem" ] ||
	bail "no test certificates in $certs"
cd "$work" || bail "no work directory"

printf 'reply CONNECT 220 mx ESMTP\n' > mx.script
cp mx.script mx2.script
lib_fakemx mx 127.0.0.2 0 -c "$certs/server.pem" -k "$certs/server.key" ||
	bail "the fake MX did not start"
P=$(cat mx.port)
ee=$(openssl x509 -in "$certs/server.pem" -noout -pubkey |
    openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
[ ${#ee} -eq 64 ] || bail "cannot hash the key"
cat > dane.test.zone <<ZONE
\$ORIGIN dane.test.
\$TTL 300
@		SOA	ns.test. hostmaster.test. 1 3600 900 604800 300
@		NS	ns.test.
mx-ee		A	127.0.0.2
_$P._tcp.mx-ee	TLSA	3 1 1 $ee
ZONE
lib_dns_start "sign:$work/dane.test.zone"
res=$DNS_RESOLVER

run() {	# run NAME ARGS...: stdout NAME.out, stderr NAME.err; prints exit
	local name=$1
	shift
	timeout -k 5 60 "$probe" --resolver "$res" -s mx-ee.dane.test -p "$P" \
	    --helo probe.test --dane --timeout 10 "$@" > "$name.out" \
	    2> "$name.err"
	echo $?
}
rc=$(run save --baseline-save bl.json)
[ "$rc" = 0 ] && jq -e --arg k "127.0.0.2:$P" '.entries[$k].dane ==
    {status: "secure", published: true} and
    (.entries[$k].tls.spki_sha256 == "'"$ee"'")' bl.json >/dev/null
tap $? "--dane --baseline-save: DANE secure and published, the key recorded ($rc)"
rc=$(run same --json --baseline bl.json)
[ "$rc" = 0 ] && jq -e '.drift == []' same.out >/dev/null
tap $? "the same key: no drift ($rc)"

kill $pids 2>/dev/null
wait 2>/dev/null
pids=
ok=1
for _ in $(seq 1 50); do
	lib_fakemx mx2 127.0.0.2 "$P" -c "$certs/self.pem" \
	    -k "$certs/self.key" && { ok=0; break; }
	sleep 0.1
done
[ "$ok" = 0 ] || bail "the fake MX did not start again on $P"
rc=$(run newkey --json --baseline bl.json)
[ "$rc" = 1 ] && jq -e '[.drift[] | select(.field == "tls.spki_sha256" and
    .severity == "error")] | length == 1' newkey.out >/dev/null
tap $? "another key where DANE is published: the key's drift is an error, exit 1 ($rc)"
jq -e '[.drift[] | select(.field == "dane" and .now.status ==
    "mismatch")] | length == 1' newkey.out >/dev/null
tap $? "... and DANE's status drifts from secure to mismatch"
rc=$(run newkeyt --baseline bl.json)
grep -q "error .*tls.spki_sha256: certificate key (SPKI) where DANE is published" \
    newkeyt.out
tap $? "... the text diff says why it is an error"
echo "1..$n"

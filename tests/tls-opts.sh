#!/bin/sh
# tls-opts.sh - what the TLS options show of the server's certificate,
# checked against openssl(1) on the same file: the leaf's SPKI SHA-256
# (the data of a TLSA 3 1 1 record) in the transcript's certificate line
# and the JSON chain, and --tls-show-chain pem printing the certificate
# the fake MX sends, byte for byte, in the transcript and the JSON.
# Prints TAP; talks to 127.0.0.1 only.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
. "$top_srcdir/tests/lib.sh"
lib_init tls-opts
echo "1..6"
[ -x "$probe" ] || bail "no smtprobe at $probe"
command -v openssl >/dev/null || bail "no openssl"

printf 'reply EHLO 250-fakemx.test\nreply EHLO 250 STARTTLS\n' \
    > "$work/mx.script"
lib_fakemx mx 127.0.0.1 0 -c "$certs/server.pem" -k "$certs/server.key" ||
	bail "fake MX did not start: $(cat "$work/mx.err")"
port=$(cat "$work/mx.port")

# the value a TLSA 3 1 1 record holds, as openssl computes it
want=$(openssl x509 -in "$certs/server.pem" -pubkey -noout |
    openssl pkey -pubin -outform DER | sha256sum | cut -c1-64)
[ ${#want} -eq 64 ] || bail "openssl gave no SPKI digest"
# the certificate as the server sends it (PEM, no text before it)
openssl x509 -in "$certs/server.pem" -out "$work/want.pem" ||
	bail "openssl x509 failed"

args="-s 127.0.0.1:$port --helo probe.test --starttls --tls-show-chain pem"
# shellcheck disable=SC2086
"$probe" $args > "$work/out" 2> "$work/err"
tap $? "probe with --tls-show-chain pem exits 0"
grep -q "^\*\* certificate: CN=mx.fake.test,.*, spki sha256 $want\$" \
    "$work/out"
tap $? "transcript: the certificate line ends with the SPKI SHA-256 $want"
begin='^\*\* -----BEGIN CERTIFICATE-----$'
end='^\*\* -----END CERTIFICATE-----$'
sed -n "/$begin/,/$end/s/^\*\* //p" "$work/out" > "$work/got.pem"
cmp -s "$work/got.pem" "$work/want.pem"
tap $? "transcript: the PEM printed is the server's certificate"

# shellcheck disable=SC2086
"$probe" $args --json > "$work/json" 2> "$work/json.err"
tap $? "--json run exits 0"
spool "$work/json" "--json with --tls-show-chain pem"
[ "$(jq -r '.tls.chain[0].spki_sha256' "$work/json")" = "$want" ]
tap $? "JSON: chain[0].spki_sha256 is openssl's"
jq -j '.tls.chain[0].pem' "$work/json" > "$work/got-json.pem"
cmp -s "$work/got-json.pem" "$work/want.pem"
tap $? "JSON: chain[0].pem is the server's certificate"

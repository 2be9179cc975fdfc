#!/bin/bash
# tls-check.sh - DANE, MTA-STS, TLS-RPT and --tls-check end to end, all
# on loopback: fake MX hosts (tests/fakemx) on 127.0.0.1, .11, .12 and
# .13, the validating unbound of tests/dns/servers.sh with zones made
# here (dane.test signed, with TLSA records computed from the test
# certificates; dane-unsigned.test and sts.test unsigned), the built-in
# bogus.test (its TLSA record is altered after signing), and an HTTPS
# server (httpsd.py) on 127.0.0.20 serving MTA-STS policies with a
# certificate from the test CA. Prints TAP.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib.sh"
lib_init tls
here=$top_srcdir/tests/tls
command -v python3 >/dev/null || bail "python3 is not installed (scripts/install-deps.sh --test)"
[ -s "$certs/ca.key" ] || bail "no test certificates in $certs"

# ---- certificates: a leaf from the test CA for the names used here ----
cd "$work" || bail "no work directory"
sts_names="mx1.sts.test mx-ta.dane.test"
for d in enforce testing none syntax version notfound redirect mxmismatch \
    wrongcert notxt badtxt chunked ctype plain allmx rptbad toobig; do
	sts_names="$sts_names mta-sts.$d.sts.test"
done
san=$(for h in $sts_names; do printf 'DNS:%s,' "$h"; done)
printf '%s\n' "subjectAltName=${san%,}" "basicConstraints=CA:FALSE" \
	"extendedKeyUsage=serverAuth" > leaf.ext
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout leaf.key -out leaf.csr -subj "/O=smtprobe tests/CN=mx1.sts.test" \
	2>/dev/null &&
openssl x509 -req -in leaf.csr -CA "$certs/ca.pem" -CAkey "$certs/ca.key" \
	-CAcreateserial -CAserial ca.srl -out leaf.pem -days 30 \
	-extfile leaf.ext 2>/dev/null || bail "cannot make the test leaf"
cat leaf.pem "$certs/ca.pem" > chain.pem
spki() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
	sha256sum | cut -d' ' -f1; }
certsum() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
ee=$(spki "$certs/server.pem")		# 3 1 1 of the fake MX certificate
full=$(certsum "$certs/server.pem")	# 3 0 1
ta=$(spki "$certs/ca.pem")		# 2 1 1 of the test CA
[ ${#ee} -eq 64 ] && [ ${#ta} -eq 64 ] || bail "cannot hash the certificates"
zero=0000000000000000000000000000000000000000000000000000000000000000

# ---- fake MX hosts on one port ----
start_mx() {	# start_mx NAME ADDR PORT [fakemx options]
	printf 'reply CONNECT 220 %s ESMTP fakemx\n' "$1" > "$1.script"
	lib_fakemx "$@"
}
start_mx mx11 127.0.0.11 0 -c "$certs/server.pem" -k "$certs/server.key" ||
	bail "fake MX 127.0.0.11 did not start: $(cat mx11.err)"
port=$(cat mx11.port)
start_mx mx1 127.0.0.1 "$port" -c "$certs/server.pem" -k "$certs/server.key" ||
	bail "fake MX 127.0.0.1 did not start on $port"
start_mx mx12 127.0.0.12 "$port" -c chain.pem -k leaf.key ||
	bail "fake MX 127.0.0.12 did not start on $port"
start_mx mx13 127.0.0.13 "$port" || bail "fake MX 127.0.0.13 did not start"

# ---- the MTA-STS web server ----
mkdir -p www
python3 "$here/httpsd.py" 127.0.0.20 https.port leaf.pem leaf.key www \
	2> https.log &
pids="$pids $!"
for _ in $(seq 1 100); do [ -s https.port ] && break; sleep 0.05; done
[ -s https.port ] || bail "the HTTPS server did not start: $(cat https.log)"
SMTPROBE_MTA_STS_PORT=$(cat https.port)
export SMTPROBE_MTA_STS_PORT
policy() {	# policy DOMAIN TEXT: the policy of DOMAIN.sts.test
	printf '%b' "$2" > "www/mta-sts.$1.sts.test"
}
policy enforce 'version: STSv1\r\nmode: enforce\r\nmx: mx1.sts.test\r\nmax_age: 86400\r\n'
policy testing 'version: STSv1\nmode: testing\nmx: *.sts.test\nmax_age: 600\n'
policy none 'version: STSv1\nmode: none\nmax_age: 600\n'
policy syntax 'version: STSv1\nmode enforce\nmx: mx1.sts.test\nmax_age: 600\n'
policy version 'version: STSv2\nmode: enforce\nmx: mx1.sts.test\nmax_age: 600\n'
policy notfound 'unused'
echo 404 > www/mta-sts.notfound.sts.test.status
policy redirect 'unused'
echo "301 https://elsewhere.example/policy.txt" > www/mta-sts.redirect.sts.test.status
policy mxmismatch 'version: STSv1\nmode: enforce\nmx: other.sts.test\nmax_age: 600\n'
policy wrongcert 'version: STSv1\nmode: enforce\nmx: mx-wrongcert.sts.test\nmax_age: 600\n'
policy badcert 'version: STSv1\nmode: enforce\nmx: mx1.sts.test\nmax_age: 600\n'
echo "$certs/server.pem $certs/server.key" > www/mta-sts.badcert.sts.test.cert
policy chunked 'version: STSv1\nmode: enforce\nmx: mx1.sts.test\nmax_age: 600\n'
: > www/mta-sts.chunked.sts.test.chunked
policy ctype 'version: STSv1\nmode: enforce\nmx: mx1.sts.test\nmax_age: 600\n'
echo text/html > www/mta-sts.ctype.sts.test.type
policy plain 'version: STSv1\nmode: enforce\nmx: mx-plain.sts.test\nmax_age: 600\n'
policy allmx 'version: STSv1\nmode: enforce\nmx: mx1.sts.test\nmax_age: 600\n'
policy rptbad 'version: STSv1\nmode: testing\nmx: mx1.sts.test\nmax_age: 600\n'
{ printf 'version: STSv1\nmode: none\nmax_age: 600\n'; head -c 70000 /dev/zero |
	tr '\0' 'x'; } > www/mta-sts.toobig.sts.test

# ---- zones ----
cat > dane.test.zone <<ZONE
\$ORIGIN dane.test.
\$TTL 300
@		SOA	ns.test. hostmaster.test. 1 3600 900 604800 300
@		NS	ns.test.
@		MX	10 mx-ee.dane.test.
mx-ee		A	127.0.0.11
_$port._tcp.mx-ee	TLSA	3 1 1 $ee
mx-full		A	127.0.0.11
_$port._tcp.mx-full	TLSA	3 0 1 $full
mx-ta		A	127.0.0.12
_$port._tcp.mx-ta	TLSA	2 1 1 $ta
mx-taname	A	127.0.0.12
_$port._tcp.mx-taname	TLSA	2 1 1 $ta
mx-bad		A	127.0.0.11
_$port._tcp.mx-bad	TLSA	3 1 1 $zero
mx-none		A	127.0.0.11
mx-pkix		A	127.0.0.11
_$port._tcp.mx-pkix	TLSA	1 1 1 $ee
_$port._tcp.mx-pkix	TLSA	0 0 1 $zero
mx-mixed	A	127.0.0.11
_$port._tcp.mx-mixed	TLSA	1 1 1 $ee
_$port._tcp.mx-mixed	TLSA	3 1 1 $ee
mx-notls	A	127.0.0.13
_$port._tcp.mx-notls	TLSA	3 1 1 $ee
ZONE
cat > dane-unsigned.test.zone <<ZONE
\$ORIGIN dane-unsigned.test.
\$TTL 300
@		SOA	ns.test. hostmaster.test. 1 3600 900 604800 300
@		NS	ns.test.
mx		A	127.0.0.11
_$port._tcp.mx	TLSA	3 1 1 $ee
ZONE
{
	cat <<'ZONE'
$ORIGIN sts.test.
$TTL 300
@		SOA	ns.test. hostmaster.test. 1 3600 900 604800 300
@		NS	ns.test.
mx1		A	127.0.0.12
mx-wrongcert	A	127.0.0.11
mx-plain	A	127.0.0.13
_smtp._tls.enforce TXT	"v=TLSRPTv1; rua=mailto:tlsrpt@sts.test,https://report.sts.test/v1"
_smtp._tls.rptbad TXT	"v=TLSRPTv1; rua=ftp://report.sts.test/"
_mta-sts.badtxt	TXT	"v=STSv1; id=not-an-id"
badtxt		MX	10 mx1.sts.test.
notxt		MX	10 mx1.sts.test.
allmx		MX	10 mx1.sts.test.
allmx		MX	20 mx-wrongcert.sts.test.
ZONE
	for d in enforce testing none syntax version notfound redirect \
	    mxmismatch wrongcert badcert chunked ctype plain rptbad toobig \
	    noserver; do
		case $d in
		wrongcert) mx=mx-wrongcert ;;
		plain) mx=mx-plain ;;
		*) mx=mx1 ;;
		esac
		printf '%s\tMX\t10 %s.sts.test.\n' "$d" "$mx"
		printf '_mta-sts.%s\tTXT\t"v=STSv1; id=20261124T000000;"\n' "$d"
		if [ "$d" = noserver ]; then
			printf 'mta-sts.%s\tA\t127.0.0.21\n' "$d"
		else
			printf 'mta-sts.%s\tA\t127.0.0.20\n' "$d"
		fi
	done
	printf '_mta-sts.allmx\tTXT\t"v=STSv1; id=1"\nmta-sts.allmx\tA\t127.0.0.20\n'
} > sts.test.zone
lib_dns_start "sign:$work/dane.test.zone" "$work/dane-unsigned.test.zone" \
	"$work/sts.test.zone"
res=$DNS_RESOLVER

run() {	# run NAME ARGS...: stdout to NAME.out, stderr to NAME.err; prints exit
	local name=$1
	shift
	timeout -k 5 60 "$probe" --resolver "$res" -p "$port" --helo probe.test \
		"$@" > "$name.out" 2> "$name.err"
	echo $?
	case " $* " in *" --json "*) spool "$name.out" "$name: $*" ;; esac
}
jqt() {	# jqt FILE EXPR DESCRIPTION
	[ "$(jq -r "$2" "$1" 2>&1)" = true ]
	tap $? "$3"
}
want() {	# want RC WANT DESCRIPTION
	[ "$1" = "$2" ]
	tap $? "$3: exit $1 (want $2)"
}

# ---- DANE ----
rc=$(run ee -s mx-ee.dane.test --dane --tls-verify --json)
want "$rc" 0 "DANE-EE 3 1 1 matches with --tls-verify"
jqt ee.out '.tls.dane.status == "secure" and .tls.dane.lookup == "secure" and .tls.dane.ad and .tls.dane.depth == 0 and (.tls.dane.matched | startswith("3 1 1 "))' \
	"secure: TLSA with AD, matched at depth 0"
jqt ee.out '.tls.verified and (.tls.pkix.verified | not) and .tls.name_match == false' \
	"DANE-EE needs no name: verified although the name does not match (RFC 7672 3.1.1)"
jqt ee.out '(.tls.chain[0].tlsa | startswith("3 1 1 ")) and .tls.dane.resolver == "'"$res"'" and .tls.dane.qname == "_'"$port"'._tcp.mx-ee.dane.test"' \
	"the record per certificate, the resolver trusted and the TLSA name"
jqt ee.out '[.findings[].kind | select(startswith("dane") or . == "tls-verify")] == []' \
	"secure: no finding"
rc=$(run eetext -s mx-ee.dane.test --dane)
grep -q '^\*\* dane: _'"$port"'._tcp.mx-ee.dane.test: 1 TLSA record, validated (AD from '"$res"', the configured resolver, on loopback)' eetext.out
tap $? "the transcript says where the AD bit came from and that it is trusted"
grep -q '^\*\* DANE secure: TLSA 3 1 1' eetext.out && grep -q '^\*\* certificate verified by DANE' eetext.out
tap $? "the transcript shows the match"

rc=$(run full -s mx-full.dane.test --dane --tls-verify --json)
want "$rc" 0 "DANE-EE 3 0 1 (whole certificate)"
jqt full.out '.tls.dane.status == "secure" and (.tls.dane.matched | startswith("3 0 1 "))' \
	"selector 0 matches the full certificate"

rc=$(run ta -s mx-ta.dane.test --dane --tls-verify --json)
want "$rc" 0 "DANE-TA 2 1 1 of the CA, sent in the chain"
jqt ta.out '.tls.dane.status == "secure" and .tls.dane.depth == 1 and (.tls.chain[1].tlsa | startswith("2 1 1 ")) and .tls.chain[0].tlsa == null' \
	"DANE-TA: the trust anchor matched at depth 1, shown on that certificate"

rc=$(run taname -s mx-taname.dane.test --dane --json)
want "$rc" 0 "DANE-TA with the wrong name, without --tls-verify"
jqt taname.out '.tls.dane.status == "mismatch" and .tls.dane.result_type == "certificate-host-mismatch" and ([.findings[] | select(.kind == "dane-mismatch" and .level == "warning")] | length) == 1' \
	"DANE-TA checks the name: mismatch, certificate-host-mismatch"

rc=$(run bad -s mx-bad.dane.test --dane --json)
want "$rc" 0 "mismatch without --tls-verify"
jqt bad.out '.tls.dane.status == "mismatch" and .tls.dane.result_type == "validation-failure" and (.tls.verified | not) and ([.findings[] | select(.kind == "dane-mismatch")] | length) == 1 and ([.findings[] | select(.kind == "tls-verify")] | length) == 0' \
	"mismatch: one dane-mismatch finding, validation-failure"
rc=$(run badv -s mx-bad.dane.test --dane --tls-verify --json)
want "$rc" 3 "mismatch with --tls-verify is fatal"
jqt badv.out '.result.stage == "starttls" and (.result.message | test("DANE mismatch")) and ([.steps[].stage] | index("mail") == null) and ([.findings[] | select(.kind == "dane-mismatch" and .level == "error")] | length) == 1' \
	"mismatch with --tls-verify: the session ends at STARTTLS"

rc=$(run none -s mx-none.dane.test --dane --tls-verify --tls-ca-file "$certs/ca.pem" --tls-sni mx.fake.test --json)
want "$rc" 0 "no TLSA (secure denial): PKIX decides"
jqt none.out '.tls.dane.status == "insecure" and .tls.dane.lookup == "none" and .tls.dane.ad and .tls.dane.records == []' \
	"insecure: no TLSA, the denial validated"

rc=$(run unsigned -s mx.dane-unsigned.test --dane --json)
want "$rc" 0 "TLSA in an unsigned zone"
jqt unsigned.out '.tls.dane.status == "insecure" and .tls.dane.lookup == "insecure" and (.tls.dane.ad | not) and (.tls.dane.records | length) == 1 and .tls.dane.matched == null and (.tls.verified | not)' \
	"insecure: TLSA records without AD are not used"

rc=$(run bogus -s mx1.bogus.test --dane --json)
want "$rc" 0 "bogus without --tls-verify"
jqt bogus.out '.tls.dane.status == "bogus" and .tls.dane.lookup == "bogus" and .tls.dane.result_type == "dnssec-invalid" and ([.findings[] | select(.kind == "dane-bogus")] | length) == 1' \
	"bogus: SERVFAIL from the validating resolver, dnssec-invalid"
jq -r '.tls.dane.detail' bogus.out | grep -q 'EDE 6'
tap $? "bogus: the resolver's extended error is quoted"
rc=$(run bogusv -s mx1.bogus.test --dane --tls-verify --json)
want "$rc" 3 "bogus with --tls-verify is fatal"

rc=$(run pkix -s mx-pkix.dane.test --dane --json)
want "$rc" 0 "only PKIX-EE and PKIX-TA records"
jqt pkix.out '.tls.dane.status == "unusable" and .tls.dane.result_type == "tlsa-invalid" and ([.tls.dane.records[].usable] == [false, false]) and (.tls.dane.records[0].note | test("not for SMTP")) and ([.findings[] | select(.kind == "dane-unusable")] | length) == 1' \
	"unusable: PKIX usages ignored with a note, tlsa-invalid"

rc=$(run mixed -s mx-mixed.dane.test --dane --tls-verify --json)
want "$rc" 0 "PKIX-EE beside DANE-EE"
jqt mixed.out '.tls.dane.status == "secure" and (.tls.dane.matched | startswith("3 1 1")) and ([.tls.dane.records[] | select(.usable)] | length) == 1' \
	"the DANE-EE record is used, the PKIX-EE one is not"

rc=$(run notls -s mx-notls.dane.test --dane --json)
want "$rc" 0 "secure TLSA but no STARTTLS, without --tls-verify"
jqt notls.out '.tls == null and ([.findings[] | select(.kind == "dane-no-tls")] | length) == 1' \
	"no TLS although TLSA records make it mandatory: dane-no-tls"
rc=$(run notlsv -s mx-notls.dane.test --dane --tls-verify --json)
want "$rc" 3 "no TLS with --tls-verify"

rc=$(run literal -s 127.0.0.11 --dane --json)
want "$rc" 0 "--dane against an address"
jqt literal.out '.tls.dane.status == "skipped" and .tls.dane.lookup == "skipped"' \
	"an address literal gets no TLSA lookup"

# ---- MTA-STS, TLS-RPT, --tls-check ----
sts() {	# sts DOMAIN [ARGS]: --tls-check --json against DOMAIN.sts.test
	local d=$1
	shift
	run "sts-$d" "$d.sts.test" --tls-check --tls-ca-file "$certs/ca.pem" \
		--json "$@"
}
tc() {	# tc DOMAIN EXPR DESCRIPTION: jq on .tls_check of DOMAIN's run
	jqt "sts-$1.out" ".tls_check | $2" "$3"
}

rc=$(sts enforce)
want "$rc" 0 "MTA-STS enforce, a matching MX with a valid certificate"
tc enforce '.mta_sts.status == "ok" and .mta_sts.mode == "enforce" and .mta_sts.max_age == 86400 and .mta_sts.mx_match == "mx1.sts.test" and .mta_sts.id == "20261124T000000" and .mta_sts.http_status == 200' \
	"enforce: policy fetched over HTTPS on the loop, parsed, the MX matches"
tc enforce '.policies.mta_sts.action == "deliver" and .policies.opportunistic.action == "deliver" and .policies.dane.action == "deliver" and .policies.mta_sts.result_type == null' \
	"enforce: every policy delivers"
tc enforce '.tls_rpt.status == "present" and .tls_rpt.rua == ["mailto:tlsrpt@sts.test","https://report.sts.test/v1"]' \
	"TLS-RPT present, rua parsed"
tc enforce '.starttls == "used" and .name_match and .pkix.valid and (.chain | length) == 2 and (.chain[0].days_left | type) == "number" and .dane.status == "insecure"' \
	"the summary: STARTTLS, name, PKIX, chain with days left, DANE"
jqt sts-enforce.out '[.steps[].stage] | index("mail") == null' \
	"--tls-check stops before MAIL without --from/--to"
grep -q 'enforce.sts.test /.well-known/mta-sts.txt 200' https.log
tap $? "the HTTPS server saw the policy request for mta-sts.enforce.sts.test"

rc=$(sts testing)
tc testing '.mta_sts.mode == "testing" and .mta_sts.mx_match == "*.sts.test" and .policies.mta_sts.action == "deliver"' \
	"testing: a *.sts.test pattern matches mx1.sts.test (exit $rc)"
rc=$(sts none)
tc none '.mta_sts.status == "ok" and .mta_sts.mode == "none" and .mta_sts.mx == [] and .policies.mta_sts.action == "deliver"' \
	"mode none: no mx needed, deliver (exit $rc)"
rc=$(sts syntax)
tc syntax '.mta_sts.status == "policy-invalid" and .mta_sts.result_type == "sts-policy-invalid" and (.mta_sts.detail | test("line 2")) and .policies.mta_sts.action == "deliver" and .policies.mta_sts.result_type == "sts-policy-invalid"' \
	"a syntax error: sts-policy-invalid, delivered as if no policy (exit $rc)"
jqt sts-syntax.out '[.findings[] | select(.kind == "sts-policy-invalid")] | length == 1' \
	"a syntax error is a finding"
rc=$(sts version)
tc version '.mta_sts.result_type == "sts-policy-invalid" and (.mta_sts.detail | test("STSv2"))' \
	"a wrong version: sts-policy-invalid (exit $rc)"
rc=$(sts notfound)
tc notfound '.mta_sts.status == "fetch-error" and .mta_sts.result_type == "sts-policy-fetch-error" and .mta_sts.http_status == 404' \
	"404: sts-policy-fetch-error (exit $rc)"
rc=$(sts redirect)
tc redirect '.mta_sts.result_type == "sts-policy-fetch-error" and .mta_sts.http_status == 301 and (.mta_sts.detail | test("not followed"))' \
	"a redirect is refused, not followed (exit $rc)"
grep -q 'elsewhere' https.log
tap $([ $? -ne 0 ]; echo $?) "nothing fetched from the redirect target"
rc=$(sts toobig)
tc toobig '.mta_sts.result_type == "sts-policy-fetch-error" and (.mta_sts.detail | test("65536"))' \
	"a policy over 64 KiB: sts-policy-fetch-error (exit $rc)"
rc=$(sts noserver)
tc noserver '.mta_sts.result_type == "sts-policy-fetch-error" and .mta_sts.address == "127.0.0.21:'"$SMTPROBE_MTA_STS_PORT"'" and (.mta_sts.detail | test("cannot connect"))' \
	"no policy server: sts-policy-fetch-error, our resolver's address tried (exit $rc)"
rc=$(sts mxmismatch)
tc mxmismatch '.mta_sts.mx_match == null and .policies.mta_sts.action == "defer" and .policies.mta_sts.result_type == "validation-failure" and .policies.opportunistic.action == "deliver"' \
	"enforce and an MX not in the policy: MTA-STS senders defer (exit $rc)"
jqt sts-mxmismatch.out '[.findings[] | select(.kind == "sts-mx-mismatch" and .level == "error")] | length == 1' \
	"the MX mismatch is a finding"
rc=$(sts wrongcert)
tc wrongcert '.mta_sts.mx_match == "mx-wrongcert.sts.test" and .pkix.valid == false and .policies.mta_sts.action == "defer" and .policies.mta_sts.result_type == "certificate-host-mismatch"' \
	"enforce and a certificate for another name: defer, certificate-host-mismatch (exit $rc)"
jqt sts-wrongcert.out '[.findings[] | select(.kind == "sts-policy-failure")] | length == 1' \
	"the certificate failure under enforce is a finding"
rc=$(sts badcert)
tc badcert '.mta_sts.status == "webpki-invalid" and .mta_sts.result_type == "sts-webpki-invalid" and .policies.mta_sts.action == "deliver"' \
	"a policy server certificate for another name: sts-webpki-invalid (exit $rc)"
rc=$(sts plain)
tc plain '.starttls == "not-offered" and .policies.mta_sts.action == "defer" and .policies.mta_sts.result_type == "starttls-not-supported" and .policies.opportunistic.action == "deliver"' \
	"enforce and no STARTTLS: defer, starttls-not-supported (exit $rc)"
rc=$(sts chunked)
tc chunked '.mta_sts.status == "ok" and .mta_sts.mode == "enforce"' \
	"a chunked policy response is read (exit $rc)"
rc=$(sts ctype)
tc ctype '.mta_sts.status == "ok" and (.mta_sts.warnings | map(select(test("text/html"))) | length) == 1' \
	"a Content-Type other than text/plain is a warning (exit $rc)"
rc=$(sts notxt)
tc notxt '.mta_sts.status == "none" and .mta_sts.result_type == null and .policies.mta_sts.action == "deliver" and .tls_rpt.status == "absent"' \
	"no _mta-sts record: no policy; no TLS-RPT record: absent (exit $rc)"
rc=$(sts badtxt)
tc badtxt '.mta_sts.status == "txt-invalid" and .mta_sts.url != null and .mta_sts.http_status == 0' \
	"a malformed _mta-sts record: no policy, nothing fetched (exit $rc)"
jqt sts-badtxt.out '[.findings[] | select(.kind == "sts-txt-invalid")] | length == 1' \
	"the malformed _mta-sts record is a finding"
rc=$(sts rptbad)
tc rptbad '.tls_rpt.status == "invalid" and .tls_rpt.rua == [] and (.tls_rpt.detail | test("ftp"))' \
	"a malformed TLS-RPT record (exit $rc)"
jqt sts-rptbad.out '[.findings[] | select(.kind == "tlsrpt-invalid")] | length == 1' \
	"the malformed TLS-RPT record is a finding"

rc=$(run text enforce.sts.test --tls-check --tls-ca-file "$certs/ca.pem")
want "$rc" 0 "--tls-check in text"
grep -q '^\*\* mta-sts: policy: version STSv1, mode enforce, max_age 86400, mx mx1.sts.test' text.out &&
    grep -q '^\*\* tls-rpt: enforce.sts.test: present' text.out
tap $? "text: the MTA-STS path and TLS-RPT before the session"
grep -q '^\*\* tls check: mx1.sts.test \[127.0.0.12\] port '"$port"' (MX preference 10)' text.out &&
    grep -q '^\*\*   cert 1 ' text.out && grep -q 'days left)' text.out
tap $? "text: the chain with days left"
grep -q '^\*\* a sending MTA with each policy would:' text.out &&
    grep -q '^\*\*   opportunistic  deliver: over TLS' text.out &&
    grep -q '^\*\*   dane           deliver: no DANE policy' text.out &&
    grep -q '^\*\*   mta-sts        deliver: mode enforce: mx1.sts.test matches' text.out
tap $? "text: what each policy would do"

rc=$(run allmx allmx.sts.test --all-mx --tls-check --tls-ca-file "$certs/ca.pem" --json)
want "$rc" 0 "--tls-check --all-mx"
jqt allmx.out '[.targets[] | .tls_check.mx] == ["mx1.sts.test","mx-wrongcert.sts.test"] and [.targets[].tls_check.policies.mta_sts.action] == ["deliver","defer"]' \
	"--all-mx: a tls_check per MX, and they differ"
jqt allmx.out '.targets[1].tls_check.mta_sts.mx_hosts == [{"host":"mx1.sts.test","match":"mx1.sts.test"},{"host":"mx-wrongcert.sts.test","match":null}]' \
	"the policy is checked against every MX name of the domain"
rc=$(run allmxtext allmx.sts.test --all-mx --tls-check --tls-ca-file "$certs/ca.pem")
[ "$(grep -c '^\*\* tls check: ' allmxtext.out)" -eq 2 ]
tap $? "--all-mx text: one tls check block per address"

rc=$(run dane-domain dane.test --tls-check --json)
want "$rc" 0 "--tls-check on a DANE domain"
jqt dane-domain.out '.tls_check.dane.status == "secure" and .tls_check.policies.dane.action == "deliver" and .tls_check.mta_sts.status == "none"' \
	"--tls-check runs the DANE check on its own"

rc=$(run env enforce.sts.test --tls-check --tls-ca-file "$certs/ca.pem" -f a@probe.test -t b@enforce.sts.test --json)
jqt env.out '[.steps[].stage] | index("rcpt") != null' \
	"--tls-check with --from/--to goes on to RCPT (exit $rc)"

# ---- batch --dane and --tls-check: the same pre-flight per target ----
brun() {	# brun NAME ARGS...: batch over NAME.in; prints the exit
	local name=$1
	shift
	timeout -k 5 60 "$probe" batch --resolver "$res" -p "$port" \
		--helo probe.test -q "$@" "$name.in" > "$name.out" 2> "$name.err"
	echo $?
}
bjq() {	# bjq FILE INDEX EXPR DESCRIPTION: jq on the record of input INDEX
	[ "$(jq -sr "map(select(.input_index == $2))[0] | $3" "$1" 2>&1)" = true ]
	tap $? "$4"
}
printf '%s\n' mx-ee.dane.test mx-bad.dane.test mx-notls.dane.test \
	127.0.0.11 mx1.bogus.test > bdane.in
rc=$(brun bdane --dane)
want "$rc" 0 "batch --dane: the run completes"
bjq bdane.out 0 '.session.tls.dane.status == "secure" and .session.tls.dane.qname == "_'"$port"'._tcp.mx-ee.dane.test" and (.session.tls.dane.matched | startswith("3 1 1 "))' \
	"batch --dane: each target gets its TLSA lookup (DANE-EE secure)"
bjq bdane.out 1 '.session.tls.dane.status == "mismatch" and ([.session.findings[] | select(.kind == "dane-mismatch")] | length) == 1' \
	"batch --dane: a mismatch is a finding of that target's record"
bjq bdane.out 2 '.session.tls == null and ([.session.findings[] | select(.kind == "dane-no-tls")] | length) == 1' \
	"batch --dane: no STARTTLS despite TLSA records: dane-no-tls after the session"
bjq bdane.out 3 '.session.tls.dane.status == "skipped"' \
	"batch --dane: an address target gets no TLSA lookup"
bjq bdane.out 4 '.session.tls.dane.status == "bogus" and ([.session.findings[] | select(.kind == "dane-bogus")] | length) == 1' \
	"batch --dane: bogus TLSA answers"
printf '%s\n' enforce.sts.test wrongcert.sts.test > btc.in
rc=$(brun btc --tls-check --tls-ca-file "$certs/ca.pem")
want "$rc" 0 "batch --tls-check: the run completes"
bjq btc.out 0 '.session.tls_check.mta_sts.status == "ok" and .session.tls_check.mta_sts.mode == "enforce" and .session.tls_check.tls_rpt.status == "present" and .session.tls_check.policies.mta_sts.action == "deliver" and .session.tls.dane.status == "insecure"' \
	"batch --tls-check: MTA-STS, TLS-RPT and DANE per target in its record"
bjq btc.out 1 '.session.tls_check.policies.mta_sts.action == "defer" and ([.session.findings[].kind] | index("dane-mismatch") == null)' \
	"batch --tls-check: a certificate MTA-STS refuses defers"
printf 'bad\n' > bsc.in
printf 'ehlo\n' > bsc.scn
rc=$(brun bsc --tls-check --scenario bsc.scn)
want "$rc" 64 "batch --tls-check with --scenario is a usage error"
grep -q 'tls-check runs its own probe; it does not take --scenario' bsc.err
tap $? "batch --tls-check says why it takes no --scenario"

if command -v valgrind >/dev/null 2>&1 && [ -z "${SMTPROBE_SANITIZED:-}" ]; then
	timeout -k 5 200 valgrind -q --leak-check=full \
	    --show-leak-kinds=definite,indirect,possible \
	    --errors-for-leak-kinds=definite,indirect,possible \
	    --error-exitcode=99 "$probe" --resolver "$res" -p "$port" \
	    --helo probe.test allmx.sts.test --all-mx --tls-check \
	    --tls-ca-file "$certs/ca.pem" --json > vg.out 2> vg.err
	vrc=$?
	tap $([ $vrc -eq 0 ]; echo $?) "valgrind: --tls-check --all-mx, no memory error, no leak (exit $vrc)"
	[ $vrc -eq 0 ] || sed 's/^/# /' vg.err | head -40
	timeout -k 5 200 valgrind -q --leak-check=full \
	    --show-leak-kinds=definite,indirect,possible \
	    --errors-for-leak-kinds=definite,indirect,possible \
	    --error-exitcode=99 "$probe" --resolver "$res" -p "$port" \
	    --helo probe.test -s mx-bad.dane.test --dane --tls-verify \
	    > vg2.out 2> vg2.err
	vrc=$?
	tap $([ $vrc -eq 3 ]; echo $?) "valgrind: a fatal DANE mismatch, no memory error, no leak (exit $vrc)"
	[ $vrc -eq 3 ] || sed 's/^/# /' vg2.err | head -40
	timeout -k 5 200 valgrind -q --leak-check=full \
	    --show-leak-kinds=definite,indirect,possible \
	    --errors-for-leak-kinds=definite,indirect,possible \
	    --error-exitcode=99 "$probe" batch --resolver "$res" -p "$port" \
	    --helo probe.test -q --tls-check --all-mx \
	    --tls-ca-file "$certs/ca.pem" btc.in > vg3.out 2> vg3.err
	vrc=$?
	tap $([ $vrc -eq 0 ]; echo $?) "valgrind: batch --tls-check --all-mx, no memory error, no leak (exit $vrc)"
	[ $vrc -eq 0 ] || sed 's/^/# /' vg3.err | head -40
else
	echo "ok $((n + 1)) - valgrind # SKIP not available or sanitizer build"
	n=$((n + 1))
fi
echo "1..$n"

#!/bin/bash
# baseline.sh - --baseline-save and --baseline (drift mode) against the
# fake MX on loopback, restarted on the same port with another script or
# certificate between the runs: no drift -> 0 (a greeting that changes
# its date and text is no drift); an EHLO extension removed -> 1;
# STARTTLS gone -> 1; the certificate's key changed without DANE -> a
# warning, 0; the same where the baseline says DANE is published -> 1;
# the file's format; bad files. Prints TAP.
#
# The DANE case here marks the saved entry as published (jq), to test
# the rule alone; tests/baseline-dane.sh does it with real TLSA records
# on the DNS lab.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
. "$top_srcdir/tests/lib.sh"
lib_init baseline
[ -x "$probe" ] && [ -x "$fakemx" ] || bail "build smtprobe and tests/fakemx first"
[ -f "$certs/server.pem" ] && [ -f "$certs/self.pem" ] ||
	bail "no test certificates in $certs"

# mx NAME CERT [SCRIPT-LINES...]: (re)start the fake MX on 127.0.0.2:$P
# with the script lines, STARTTLS with CERT.pem (none: no STARTTLS)
P=0
mx() {
	local name=$1 cert=$2
	shift 2
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	pids=
	printf '%s\n' "$@" > "$work/$name.script"
	local i
	for i in $(seq 1 50); do
		if [ "$cert" = none ]; then
			lib_fakemx "$name" 127.0.0.2 "$P" && break
		else
			lib_fakemx "$name" 127.0.0.2 "$P" \
			    -c "$certs/$cert.pem" -k "$certs/$cert.key" && break
		fi
		sleep 0.1
	done
	P=$(cat "$work/$name.port") || bail "the fake MX did not start"
}
# probe NAME ARGS...: the probe, stdout NAME.out, stderr NAME.err; prints
# the exit status
probe() {
	local name=$1
	shift
	timeout -k 5 60 "$probe" -s 127.0.0.2 -p "$P" --helo probe.test \
	    --starttls-optional --timeout 5 "$@" > "$work/$name.out" \
	    2> "$work/$name.err"
	echo $?
	case " $* " in
	*" --json "*)	spool "$work/$name.out" "probe $name: $*" ;;
	esac
}
drift() {	# drift NAME JQ: the JSON run's drift satisfies JQ
	jq -e "$2" "$work/$1.out" >/dev/null
}

mx base server "reply CONNECT 220 ok.test ESMTP Thu, 3 Dec 2026 10:00:00"
rc=$(probe save --baseline-save "$work/bl.json")
tap $([ "$rc" = 0 ]; echo $?) "--baseline-save: the probe runs as usual ($rc)"
spool "$work/bl.json" "the file of probe save --baseline-save"
jq -e --arg a "127.0.0.2:$P" '.baseline == 1 and .saved != null and
    (.entries[$a] | .starttls_offered and .tls.version != null and
    (.tls.spki_sha256 | length) == 64 and .tls.issuer != null and
    .tls.expiry_window == "30-days-or-more" and .result == "accepted" and
    (.ehlo_extensions | index("PIPELINING")) != null and .dane == null and
    (.stages | index("rcpt:ok:2xx")) == null)' "$work/bl.json" >/dev/null
tap $? "the baseline file: format 1, per address: extensions, STARTTLS, TLS, key, issuer, window, steps"
! grep -q "ESMTP\|Dec 2026\|started\|duration" "$work/bl.json"
tap $? "the baseline holds no reply text, date or time of the session"

# ---- no drift: same server, another greeting text and date ----
mx same server "reply CONNECT 220 ok.test ESMTP Fri, 4 Dec 2026 11:22:33 queue 4F2A"
rc=$(probe same --baseline "$work/bl.json")
[ "$rc" = 0 ] && grep -q "^baseline: *no drift from" "$work/same.out"
tap $? "no drift (the greeting's text and date changed): exit 0, said so ($rc)"
rc=$(probe samej --json --baseline "$work/bl.json")
[ "$rc" = 0 ] && drift samej '.drift == [] and .baseline.errors == 0'
tap $? "no drift in JSON: an empty drift array"

# ---- an extension removed ----
mx noext server "reply CONNECT 220 ok.test ESMTP" \
    "reply EHLO 250-fakemx.test" "reply EHLO 250-SIZE 10240000" \
    "reply EHLO 250-ENHANCEDSTATUSCODES" "reply EHLO 250-8BITMIME" \
    "reply EHLO 250-STARTTLS" "reply EHLO 250 SMTPUTF8"
rc=$(probe noext --baseline "$work/bl.json")
[ "$rc" = 1 ] &&
    grep -q "error .*ehlo_extensions: EHLO extension PIPELINING removed" \
    "$work/noext.out"
tap $? "an EHLO extension removed: exit 1, the diff names it ($rc)"
rc=$(probe noextj --json --baseline "$work/bl.json")
[ "$rc" = 1 ] && drift noextj '[.drift[] | select(.field ==
    "ehlo_extensions" and .severity == "error" and .was == "PIPELINING")]
    | length == 1'
tap $? "... and in JSON: a drift item {field, severity, was}"

# ---- STARTTLS gone ----
mx notls none "reply CONNECT 220 ok.test ESMTP"
rc=$(probe notls --json --baseline "$work/bl.json")
[ "$rc" = 1 ] && drift notls '[.drift[] | select(.field ==
    "starttls_offered" and .severity == "error")] | length == 1' &&
    drift notls '[.drift[] | select(.field == "tls" and
    .severity == "error")] | length == 1'
tap $? "STARTTLS no longer offered: exit 1, starttls_offered and tls drift as errors ($rc)"

# ---- another certificate and key, no DANE ----
mx newcert self "reply CONNECT 220 ok.test ESMTP"
rc=$(probe newcert --json --baseline "$work/bl.json")
[ "$rc" = 0 ] && drift newcert '([.drift[] | select(.field ==
    "tls.spki_sha256" and .severity == "warning")] | length == 1) and
    .baseline.errors == 0 and .baseline.warnings >= 1'
tap $? "a new certificate key without DANE: a warning, exit 0 ($rc)"
rc=$(probe newcertt --baseline "$work/bl.json")
grep -q "warning .*tls.spki_sha256: certificate key" "$work/newcertt.out"
tap $? "... the text diff says it is a warning"

# ---- the same where DANE is published ----
jq '.entries[] .dane = {status: "secure", published: true} |
    .entries[] .tls.verified = false' "$work/bl.json" > "$work/bl-dane.json"
rc=$(probe danekey --json --baseline "$work/bl-dane.json")
[ "$rc" = 1 ] && drift danekey '[.drift[] | select(.field ==
    "tls.spki_sha256" and .severity == "error")] | length == 1'
tap $? "a new certificate key where DANE is published: an error, exit 1 ($rc)"
mx back server "reply CONNECT 220 ok.test ESMTP"
rc=$(probe danesame --json --baseline "$work/bl-dane.json")
drift danesame '[.drift[] | select(.field == "tls.spki_sha256")] |
    length == 0'
tap $? "... and the same key with DANE published is no key drift"

# ---- a refusal where there was acceptance ----
mx rej server "reply CONNECT 220 ok.test ESMTP" "reply RCPT 550 5.1.1 no"
rc=$(probe save2 -f "" -t user@example.com --baseline-save "$work/bl2.json")
mx rej2 server "reply CONNECT 220 ok.test ESMTP"
rc=$(probe rcpt -f "" -t user@example.com --json --baseline "$work/bl2.json")
[ "$rc" = 1 ] && drift rcpt '[.drift[] | select(.field == "stages" or
    .field == "result" or .field == "verdict")] | length == 3'
tap $? "a step's outcome changed (RCPT 550 -> 250): steps, result and verdict drift ($rc)"

# ---- another address than the baseline's ----
mx other server "reply CONNECT 220 ok.test ESMTP"
jq '.entries |= with_entries(.key = "127.0.0.9:25")' "$work/bl.json" \
    > "$work/bl-other.json"
rc=$(probe other --json --baseline "$work/bl-other.json")
[ "$rc" = 1 ] && drift other '[.drift[] | select(.field == "address")] |
    map(.severity) | sort == ["error", "warning"]'
tap $? "an address of the baseline not probed: error; a new one: warning ($rc)"

# ---- batch: per target ----
batch() {	# batch NAME ARGS...: smtprobe batch on batch.in
	local name=$1
	shift
	timeout -k 5 60 "$probe" batch --helo probe.test --per-ip-gap 0 \
	    --starttls-optional --timeout 5 "$@" "$work/batch.in" \
	    > "$work/$name.out" 2> "$work/$name.err"
	echo $?
	spool "$work/$name.out" "batch $name: $*"
}
mx bbase server "reply CONNECT 220 ok.test ESMTP"
printf '%s\n' "127.0.0.2:$P" "# and nothing else" > "$work/batch.in"
rc=$(batch bsave --baseline-save "$work/bb.json")
[ "$rc" = 0 ] && jq -e --arg k "127.0.0.2:$P 127.0.0.2:$P" '(.entries |
    length) == 1 and .entries[$k].starttls_offered' "$work/bb.json" \
    >/dev/null
tap $? "batch --baseline-save: one entry per target and address ($rc)"
spool "$work/bb.json" "the file of batch bsave --baseline-save"
mx bsame server "reply CONNECT 220 ok.test ESMTP at $(date)"
rc=$(batch bsame --baseline "$work/bb.json")
[ "$rc" = 0 ] && [ "$(jq -c 'select(.drift == []) | .input_index' \
    "$work/bsame.out" | wc -l)" = 1 ] && grep -q "0 drift errors" "$work/bsame.err"
tap $? "batch --baseline, no drift: every record has an empty drift array, exit 0 ($rc)"
mx bnotls none "reply CONNECT 220 ok.test ESMTP"
rc=$(batch bnotls --baseline "$work/bb.json")
[ "$rc" = 1 ] && [ "$(jq -c 'select([.drift[] | select(.field ==
    "starttls_offered" and .severity == "error")] | length == 1)' \
    "$work/bnotls.out" | wc -l)" = 1 ]
tap $? "batch --baseline, STARTTLS gone: drift in each record, exit 1 ($rc)"
jq '.entries["127.0.0.9:25 127.0.0.9:25"] = .entries[]' "$work/bb.json" \
    > "$work/bb2.json"
mv "$work/bb2.json" "$work/bb.json"
mx bpart server "reply CONNECT 220 ok.test ESMTP"
rc=$(batch bpart --baseline "$work/bb.json")
[ "$rc" = 1 ] && grep -q "in the baseline, not reported now" "$work/bpart.err"
tap $? "batch --baseline: a target of the baseline not reported is an error ($rc)"

# ---- bad files ----
echo '{"baseline": 7, "entries": {}}' > "$work/bl-v7.json"
rc=$(probe v7 --baseline "$work/bl-v7.json")
[ "$rc" = 1 ] && grep -q "not a baseline of format 1" "$work/v7.err"
tap $? "a baseline of another format version is refused ($rc)"
echo 'not json' > "$work/bl-junk.json"
rc=$(probe junk --baseline "$work/bl-junk.json")
[ "$rc" = 1 ] && grep -q "baseline: .*bl-junk.json" "$work/junk.err"
tap $? "a file that is not JSON: exit 1, named ($rc)"
rc=$(probe scn --baseline "$work/bl.json" --scenario /dev/null)
tap $([ "$rc" = 64 ]; echo $?) "--baseline with --scenario is a usage error ($rc)"
rc=$(probe nodir --baseline-save "$work/no/such/dir/bl.json")
[ "$rc" = 1 ] && grep -q "baseline-save" "$work/nodir.err"
tap $? "--baseline-save to a directory that does not exist: exit 1, said ($rc)"

echo "1..$n"

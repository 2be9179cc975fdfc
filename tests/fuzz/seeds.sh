#!/bin/sh
# seeds.sh SRCDIR OUTDIR - the seed corpus of every harness, taken from
# the tests, written to OUTDIR/NAME/ (one input a file), with a libFuzzer
# dictionary OUTDIR/NAME.dict for some. Sources:
#   reply    the replies of tests/verdict/{train,test}.tsv (lines joined by
#            " | " become CRLF lines) and the fakemx scripts of
#            tests/cases/*.case (reply and raw), plus hostile shapes;
#   ehlo     EHLO replies from the fakemx scripts and the corpus, and
#            extension lists;
#   dsn      the bounces of tests/dsn/*.eml;
#   verdict  every corpus line, its stage as the first byte;
#   scn      the shipped scenarios and those of the integration cases;
#   dns      a few answer packets of each kind.
# Everything is made with awk, so no seed needs committing; a new
# harness adds a section here. Inputs that once crashed a harness live
# in tests/fuzz/regress/NAME/ instead.
set -eu
src=$1
out=$2
rm -rf "$out"
mkdir -p "$out/reply" "$out/ehlo" "$out/dsn" "$out/verdict"

# the corpus: reply (cap byte "0": --max-line 4096) and verdict (stage
# byte: "F" unknown, then G resolve H connect I banner J ehlo K starttls
# L auth M mail N rcpt O data P eod Q rset R quit; see fuzz_verdict.c)
awk -F '\t' -v out="$out" '
BEGIN {
	n = split("resolve connect banner ehlo starttls auth mail rcpt " \
	    "data eod rset quit", st, " ")
	for (i = 1; i <= n; i++)
		letter[st[i]] = sprintf("%c", 70 + i)
}
/^#/ || NF < 4 { next }
{
	k++
	wire = $4
	gsub(/ \| /, "\r\n", wire)
	f = sprintf("%s/reply/corpus-%04d", out, k)
	printf "0%s\r\n", wire > f
	close(f)
	f = sprintf("%s/verdict/corpus-%04d", out, k)
	printf "%s%s", ($1 in letter ? letter[$1] : "F"), $4 > f
	close(f)
	if ($1 == "ehlo" && $4 ~ /^250/) {
		f = sprintf("%s/ehlo/corpus-%04d", out, k)
		printf "%s\r\n", wire > f
		close(f)
	}
}' "$src/tests/verdict/train.tsv" "$src/tests/verdict/test.tsv"

# the fakemx scripts: "reply STAGE TEXT" and "raw STAGE BYTES" (with
# \r \n \t \0 \\ \xHH escapes)
for c in "$src"/tests/cases/*.case; do
	sed -n 's/^fakemx: //p' "$c"
done | awk -v out="$out" '
function unescape(s,	o, i, c, h) {
	o = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c != "\\" || i == length(s)) {
			o = o c
			continue
		}
		c = substr(s, ++i, 1)
		if (c == "r") o = o "\r"
		else if (c == "n") o = o "\n"
		else if (c == "t") o = o "\t"
		else if (c == "0") o = o sprintf("%c", 0)
		else if (c == "x") {
			h = tolower(substr(s, i + 1, 2))
			o = o sprintf("%c", (index("0123456789abcdef", \
			    substr(h, 1, 1)) - 1) * 16 + \
			    index("0123456789abcdef", substr(h, 2, 1)) - 1)
			i += 2
		} else
			o = o c
	}
	return o
}
$1 == "reply" || $1 == "raw" {
	text = $0
	sub(/^[a-z]+ [^ ]+ /, "", text)
	k++
	f = sprintf("%s/reply/case-%03d", out, k)
	if ($1 == "reply")
		printf "0%s\r\n", text > f
	else
		printf "0%s", unescape(text) > f
	close(f)
	if ($2 ~ /^EHLO/) {
		f = sprintf("%s/ehlo/case-%03d", out, k)
		if ($1 == "reply")
			printf "%s\r\n", text > f
		else
			printf "%s", unescape(text) > f
		close(f)
	}
}'

# hostile shapes the fake MX plays (tests/cases/hostile-*.case), and
# what tests/fakemx.c answers to EHLO
awk -v out="$out" 'BEGIN {
	ehlo = "250-fakemx.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n" \
	    "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-STARTTLS\r\n" \
	    "250-AUTH PLAIN LOGIN\r\n250-AUTH=LOGIN\r\n250-CHUNKING\r\n" \
	    "250-SMTPUTF8\r\n250-DSN\r\n250 REQUIRETLS\r\n"
	printf "0%s", ehlo > (out "/reply/fakemx-ehlo")
	printf "%s", ehlo > (out "/ehlo/fakemx-ehlo")
	printf "fakemx.test\nPIPELINING\nSIZE 10240000\nAUTH PLAIN " \
	    "LOGIN\nAUTH=LOGIN\nSTARTTLS\nX-EXPS=LOGIN\n8BITMIME" \
	    > (out "/ehlo/list")
	printf "0220 bare.test ESMTP\n250-bare.test\n250 SIZE 1000\n" \
	    > (out "/reply/bare-lf")
	long = "x"
	while (length(long) < 5000)
		long = long long
	printf "0220 %s\r\n", long > (out "/reply/overlong")
	printf "1220 %s\r\n", substr(long, 1, 600) > (out "/reply/cap-512")
	s = ""
	for (i = 0; i < 300; i++)
		s = s "250-x\r\n"
	printf "0%s250 end\r\n", s > (out "/reply/endless")
	printf "02x0 what\r\n099 short\r\n" > (out "/reply/garbage-code")
	printf "0250-first\r\n251 other code\r\n" > (out "/reply/code-change")
	printf "0250-5.1.1 one\r\n250 5.1.1 two\r\n" > (out "/reply/enhanced")
	printf "0550 2.0.0 mismatched class\r\n" > (out "/reply/enh-class")
}'
cp "$src"/tests/dsn/*.eml "$out/dsn/"

# dictionaries: the tokens the parsers look for (libFuzzer's format:
# one quoted string a line, with \\, \" and \xHH escapes)
awk -v out="$out" '
function q(s) {
	gsub(/\\/, "\\\\", s)
	gsub(/"/, "\\\"", s)
	gsub(/\r/, "\\x0D", s)
	gsub(/\n/, "\\x0A", s)
	gsub(/\t/, "\\x09", s)
	return "\"" s "\""
}
function words(file, list, sep,	n, a, i) {
	n = split(list, a, sep)
	for (i = 1; i <= n; i++)
		print q(a[i]) > (out "/" file)
}
BEGIN {
	words("reply.dict", "\r\n|\n|250-|250 |220 |550 |421-|5.7.1 |" \
	    "2.0.0 |4.|5.|\r", "|")
	words("ehlo.dict", "SIZE|PIPELINING|STARTTLS|AUTH|8BITMIME|" \
	    "CHUNKING|SMTPUTF8|DSN|REQUIRETLS|ENHANCEDSTATUSCODES|" \
	    "BINARYMIME|DELIVERBY|LOGIN|PLAIN|XOAUTH2|=|\r\n|250-|250 ", \
	    "|")
	words("dsn.dict", "Final-Recipient: |Original-Recipient: |" \
	    "Action: |Status: |Remote-MTA: |Diagnostic-Code: |" \
	    "Reporting-MTA: |rfc822;|dns;|smtp;|multipart/report|" \
	    "message/delivery-status|text/plain|boundary=|Content-Type: |" \
	    "Content-Transfer-Encoding: |base64|quoted-printable|>>> |" \
	    "<<< |RCPT To:|MAIL From:|failed|delayed|\r\n\r\n|\n--|" \
	    "(in reply to RCPT TO command)|" \
	    "(in reply to end of DATA command)|" \
	    "SMTP error from remote mail server after RCPT TO:|" \
	    "... while talking to |The response from the remote server was:",
	    "|")
}
$1 == "words" || $1 == "also" {
	line = $0
	sub(/^[ \t]*[a-z]+[ \t]+/, "", line)
	n = split(line, w, "|")
	for (i = 1; i <= n; i++)
		if (!(w[i] in seen)) {
			seen[w[i]] = 1
			print q(w[i]) > (out "/verdict.dict")
		}
}' "$src/probe/judge/verdict.rules"

# scn: the shipped scenarios, the scenarios of the integration cases
# (their "scenario:" lines), and the dictionary of the language
mkdir -p "$out/scn" "$out/dns"
k=0
for f in "$src"/scenarios/*.scn; do
	k=$((k + 1))
	cp "$f" "$out/scn/shipped-$k"
done
for c in "$src"/tests/cases/*.case; do
	grep -q '^scenario:' "$c" || continue
	k=$((k + 1))
	sed -n 's/^scenario: //p' "$c" > "$out/scn/case-$k"
done
for w in connect ehlo helo starttls auth mail rcpt data rset noop vrfy \
    send sleep quit drop expect set or else continue stop verdict \
    optional required secret-env secret-file insecure noreply file raw \
    '<<END' END '${from}' '${to}' '"\r\n"' '/re/' 250 5xx 5.7.1 \
    permfail timeout; do
	printf '"%s"\n' "$(printf '%s' "$w" | sed 's/\\/\\\\/g; s/"/\\"/g')"
done > "$out/scn.dict"

# dns: answer packets (the first byte picks the type, modulo 7, and its
# bit 0x80 rewrites the question; see fuzz_dns.c): an A answer, an MX
# answer (one host and a null MX), a TXT answer, NXDOMAIN, a truncated
# one, and a CNAME chain; written with octal escapes, as POSIX printf
# takes them
q='\003www\004fuzz\004test\000'
printf "\000\022\064\201\200\000\001\000\001\000\000\000\000$q\000\001\000\001\300\014\000\001\000\001\000\000\001\054\000\004\177\000\000\002" \
	> "$out/dns/a"
printf "\200\022\065\201\200\000\001\000\002\000\000\000\000$q\000\017\000\001\300\014\000\017\000\001\000\000\001\054\000\010\000\012\003mx1\300\020\300\014\000\017\000\001\000\000\001\054\000\003\000\000\000" \
	> "$out/dns/mx"
printf "\003\022\066\201\200\000\001\000\001\000\000\000\000$q\000\020\000\001\300\014\000\020\000\001\000\000\001\054\000\016\007v=spf1 \005-all!" \
	> "$out/dns/txt"
printf "\000\022\067\201\203\000\001\000\000\000\000\000\000$q\000\001\000\001" \
	> "$out/dns/nxdomain"
printf "\000\022\070\203\200\000\001\000\000\000\000\000\000$q\000\001\000\001" \
	> "$out/dns/truncated"
printf "\000\022\071\201\200\000\001\000\002\000\000\000\000$q\000\001\000\001\300\014\000\005\000\001\000\000\001\054\000\002\300\020\300\020\000\001\000\001\000\000\001\054\000\004\300\000\002\001" \
	> "$out/dns/cname"

# engine: whole sessions (see fuzz_engine.c: byte 0 the plan, then
# chunks between \377 bytes, one per client line; empty chunks while the
# message lines go out), plus the committed corpus of long runs
# (tests/fuzz/corpus/engine, kept minimal with -merge=1)
mkdir -p "$out/engine"
g='220 mx.fuzz.test ESMTP\r\n'
e='250-mx.fuzz.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n'
ok='250 2.1.0 Ok\r\n'
printf "\006$g\377$e\377$ok\377$ok\377354 go\r\n\377\377\377\377250 queued\r\n\377221 bye\r\n" \
	> "$out/engine/delivery"
printf "\004$g\377$e\377$ok\377250 2.1.0 stray\r\n550 5.1.1 unknown\r\n\377221 bye\r\n" \
	> "$out/engine/stray-after-mail"
printf "\004$g\377$e\377${ok}250 2.1.0 stray\r\n\377550 5.1.1 unknown\r\n\377221 bye\r\n" \
	> "$out/engine/stray-late"
printf "\012$g\377$e\377220 2.0.0 go ahead\r\n\001TLS\377$e\377221 bye\r\n" \
	> "$out/engine/starttls"
printf "\032$g\377$e\377454 4.7.0 no TLS\r\n\377$ok\377221 bye\r\n" \
	> "$out/engine/starttls-refused"
printf "\001$g\377\376\074250 late\r\n" > "$out/engine/timeout"
printf "\006$g\377$e\377$ok\377$ok\377354 go\r\n\377\377\377\377250 queued\r\n550 5.7.1 no\r\n\377221 bye\r\n" \
	> "$out/engine/two-after-dot"
printf "\046$g\377$e\377$ok\377$ok\377354 go\r\n\377\377\377\377\377250 queued\r\n250 NOOP ok\r\n\377221 bye\r\n" \
	> "$out/engine/smuggling"
printf "\101220 %0600d\r\n" 0 > "$out/engine/long-line"
printf "\207$g\377$e\377$ok\377$ok\377$ok\377354 go\r\n\377\377\377\377250 queued\r\n\377250 reset\r\n\377$ok\377$ok\377221 bye\r\n" \
	> "$out/engine/two-transactions"
printf "\003$g\377$e\377421 4.3.2 bye\r\n\001CLOSE" > "$out/engine/close"
if [ -d "$src/tests/fuzz/corpus/engine" ]; then
	for f in "$src"/tests/fuzz/corpus/engine/*; do
		[ -f "$f" ] && cp "$f" "$out/engine/corpus-${f##*/}"
	done
fi
cat > "$out/engine.dict" <<'DICT'
"\x0d\x0a"
"250 "
"250-"
"220 "
"354 "
"221 "
"550 "
"421 "
"\x01TLS"
"\x01CLOSE"
"\xff"
"\xfe\x3c"
"STARTTLS"
DICT

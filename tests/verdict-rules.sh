#!/bin/sh
# verdict-rules.sh - probe/judge/verdict-rules.awk, the compiler of
# probe/judge/verdict.rules: it accepts the real file with every awk found
# (same output from each), refuses broken rules with FILE:LINE, and
# every keyword is documented in the file's header and in smtprobe(1).
# Prints TAP.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
gen=$top_srcdir/probe/judge/verdict-rules.awk
rules=$top_srcdir/probe/judge/verdict.rules
man=$top_srcdir/man/smtprobe.1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vrules.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
n=0
check() {	# check STATUS TEXT
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

# the real rules, with every awk there is
awks=
for a in awk mawk gawk nawk original-awk; do
	command -v "$a" >/dev/null 2>&1 && awks="$awks $a"
done
command -v busybox >/dev/null 2>&1 && busybox awk 'BEGIN{}' 2>/dev/null &&
	awks="$awks busybox-awk"
first=
for a in $awks; do
	cmd=$a
	[ "$a" = busybox-awk ] && cmd="busybox awk"
	$cmd -f "$gen" "$rules" >"$tmp/out.$a" 2>"$tmp/err.$a"
	[ $? -eq 0 ] && [ ! -s "$tmp/err.$a" ] &&
		grep -q '^static const struct rule rules\[\] = {' "$tmp/out.$a"
	check $? "$a compiles verdict.rules"
	sed 's/^/# /' "$tmp/err.$a"
	if [ -z "$first" ]; then
		first=$a
	else
		cmp -s "$tmp/out.$first" "$tmp/out.$a"
		check $? "$a writes the same table as $first"
	fi
done
nrules=$(grep -c '^rule ' "$rules")
grep -q "^#define VERDICT_RULES_COUNT[[:space:]]*$nrules\$" "$tmp/out.$first"
check $? "all $nrules rules are in the table"

# bad: NAME EXPECTED-LINE EXPECTED-TEXT, rules on standard input
bad() {
	name=$1 line=$2 want=$3
	cat >"$tmp/$name.rules"
	# a valid tail: an advice for every class
	for c in ip helo sender recipient relay content auth tls rate \
	    greylist policy server network protocol accepted; do
		printf 'advice %s\n\ttext x\n' "$c"
	done >>"$tmp/$name.rules"
	awk -f "$gen" "$tmp/$name.rules" >"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	[ $rc -eq 1 ] && [ ! -s "$tmp/$name.out" ] &&
		grep -q "^$tmp/$name.rules:$line: .*$want" "$tmp/$name.err"
	check $? "refused: $name (line $line: $want)"
	[ $rc -eq 1 ] || echo "# exit $rc"
	sed 's/^/# /' "$tmp/$name.err"
}
ok_rules() {	# ok_rules NAME: must compile
	name=$1
	cat >"$tmp/$name.rules"
	for c in ip helo sender recipient relay content auth tls rate \
	    greylist policy server network protocol accepted; do
		printf 'advice %s\n\ttext x\n' "$c"
	done >>"$tmp/$name.rules"
	awk -f "$gen" "$tmp/$name.rules" >"$tmp/$name.out" 2>"$tmp/$name.err"
	[ $? -eq 0 ] && [ ! -s "$tmp/$name.err" ]
	check $? "accepted: $name"
	sed 's/^/# /' "$tmp/$name.err"
}

ok_rules minimal <<'R'
# a comment
rule r1
	class ip
	reason dnsbl
	weight 90
R
ok_rules full <<'R'
rule r1
  class     content
  reason    url
  stages    data eod
  replies   45
  code      554
  enhanced  x.7.1
  words     url|"quoted"|back\slash|what??
  words     link
  also      listed
  weight    94
R
grep -q '"url|\\"quoted\\"|back\\\\slash|what\\?\\?|"' "$tmp/full.out"
check $? "quotes, backslashes and ? are escaped in the C strings"
grep -q 'ST(DATA) | ST(EOD)' "$tmp/full.out"
check $? "stages become ST() bits"

bad unknown-keyword 3 'unknown keyword "weigth"' <<'R'
rule r1
	class ip
	weigth 90
	reason dnsbl
R
bad no-weight 1 'rule r1 has no weight' <<'R'
rule r1
	class ip
	reason dnsbl
R
bad no-class 2 'rule r2 has no class' <<'R'

rule r2
	reason dnsbl
	weight 90
R
bad bad-class 2 'unknown class "ipp"' <<'R'
rule r1
	class ipp
	reason dnsbl
	weight 90
R
bad duplicate-id 6 'rule r1 is already defined on line 1' <<'R'
rule r1
	class ip
	reason dnsbl
	weight 90
# again
rule r1
	class ip
	reason dnsbl
	weight 90
R
bad twice 3 'class is given twice in rule r1' <<'R'
rule r1
	class ip
	class helo
	reason dnsbl
	weight 90
R
bad bad-stage 3 'unknown stage "rcpt-to"' <<'R'
rule r1
	class ip
	stages mail rcpt-to
	reason dnsbl
	weight 90
R
bad bad-replies 3 'replies is the first digits' <<'R'
rule r1
	class ip
	replies 4x
	reason dnsbl
	weight 90
R
bad bad-code 3 'code must be a basic code' <<'R'
rule r1
	class ip
	code 5501
	reason dnsbl
	weight 90
R
bad code-not-in-replies 1 'could never match' <<'R'
rule r1
	class ip
	replies 4
	code 550
	reason dnsbl
	weight 90
R
bad bad-enhanced 3 'enhanced must look like' <<'R'
rule r1
	class ip
	enhanced 7.1
	reason dnsbl
	weight 90
R
ok_rules enhanced-list <<'R'
rule r1
	class sender
	reason dkim
	replies 45
	enhanced x.7.20|5.7.21|x.7.
	weight 80
R
grep -q '\.enh = "x\.7\.20|5\.7\.21|x\.7\."' "$tmp/enhanced-list.out"
check $? "several enhanced patterns"
bad enhanced-list-bad 4 'enhanced must look like .* not "7.21"' <<'R'
rule r1
	class sender
	reason dkim
	enhanced x.7.20|7.21
	weight 80
R
bad enhanced-class 1 'enhanced 4.7.1 is not among replies 5' <<'R'
rule r1
	class sender
	reason dkim
	replies 5
	enhanced x.7.20|4.7.1
	weight 80
R
bad upper-case 4 'words must be lower case' <<'R'
rule r1
	class ip
	reason dnsbl
	words blocked using|Spamhaus
	weight 90
R
bad empty-alternative 4 'empty alternative' <<'R'
rule r1
	class ip
	reason dnsbl
	words blocked using||spamhaus
	weight 90
R
bad trailing-bar 4 'empty alternative' <<'R'
rule r1
	class ip
	reason dnsbl
	words blocked using|
	weight 90
R
long=$(printf '%0100d' 0)
bad long-word 4 'longer than 95 bytes' <<R
rule r1
	class ip
	reason dnsbl
	words $long
	weight 90
R
bad weight-zero 4 'weight must be 1..100' <<'R'
rule r1
	class ip
	reason dnsbl
	weight 0
R
bad weight-big 4 'weight must be 1..100' <<'R'
rule r1
	class ip
	reason dnsbl
	weight 101
R
bad outside 1 'class outside a rule or advice' <<'R'
class ip
rule r1
	class ip
	reason dnsbl
	weight 90
R
bad no-value 2 'class needs a value' <<'R'
rule r1
	class
	reason dnsbl
	weight 90
R
bad two-values 3 'reason takes one value' <<'R'
rule r1
	class ip
	reason dnsbl rdns
	weight 90
R
bad also-alone 1 'has also but no words' <<'R'
rule r1
	class ip
	reason dnsbl
	also helo
	weight 90
R
bad control-char 4 'only printable ASCII' <<R
rule r1
	class ip
	reason dnsbl
	words a$(printf '\001')b
	weight 90
R
bad advice-text-only 2 'weight does not belong in an advice' <<'R'
advice ip dnsbl
	weight 3
	text x
rule r1
	class ip
	reason dnsbl
	weight 90
R
bad advice-no-text 1 'advice ip dnsbl has no text' <<'R'
advice ip dnsbl
rule r1
	class ip
	reason dnsbl
	weight 90
R
# unless: repeatable, compiled into .unless; its words are checked like words
ok_rules unless <<'R'
rule r1
	class ip
	reason dnsbl
	words listed
	unless not listed|delisted
	unless whitelisted
	weight 90
R
grep -q '\.unless = "not listed|delisted|"' "$tmp/unless.out" &&
	grep -q '"whitelisted",$' "$tmp/unless.out" &&
	grep -q '\.unless = NULL,' "$tmp/minimal.out"
check $? "unless lines are compiled into .unless (NULL without them)"
bad firm-no 4 'firm takes "yes"' <<'R'
rule r1
	class recipient
	reason recipient-rejected
	firm no
	weight 90
R
printf 'rule r1\n\tclass recipient\n\treason recipient-rejected\n\tfirm yes\n\tweight 90\n' >"$tmp/firm.rules"
printf 'advice recipient\n\ttext t\n' >>"$tmp/firm.rules"
for c in ip helo sender relay content auth tls rate greylist policy server network protocol accepted; do
	printf 'advice %s\n\ttext t\n' "$c" >>"$tmp/firm.rules"
done
awk -f "$gen" "$tmp/firm.rules" >"$tmp/firm.out" 2>"$tmp/firm.err"
grep -q '\.firm = 1' "$tmp/firm.out" && grep -q '\.firm = 0' "$tmp/minimal.out"
check $? "firm yes is compiled into .firm = 1 (0 without it)"
bad unless-upper 5 'unless must be lower case' <<'R'
rule r1
	class ip
	reason dnsbl
	words listed
	unless Listed
	weight 90
R
bad unless-empty 5 'unless has an empty alternative' <<'R'
rule r1
	class ip
	reason dnsbl
	words listed
	unless a||b
	weight 90
R
# a catch-all before a specific advice hides it
printf 'rule r1\n\tclass ip\n\treason dnsbl\n\tweight 90\n' >"$tmp/order.rules"
printf 'advice ip\n\ttext all\nadvice ip dnsbl\n\ttext one\n' >>"$tmp/order.rules"
awk -f "$gen" "$tmp/order.rules" >/dev/null 2>"$tmp/order.err"
[ $? -eq 1 ] && grep -q ':7: advice ip dnsbl is never used' "$tmp/order.err"
check $? "refused: an advice after its class's catch-all"
# a rule whose class has no advice at all
printf 'rule r1\n\tclass ip\n\treason dnsbl\n\tweight 90\n' >"$tmp/noadv.rules"
awk -f "$gen" "$tmp/noadv.rules" >/dev/null 2>"$tmp/noadv.err"
[ $? -eq 1 ] && grep -q ':1: rule r1: no advice for ip/dnsbl' "$tmp/noadv.err" &&
	grep -q 'class helo has no catch-all advice' "$tmp/noadv.err"
check $? "refused: a rule without advice, a class without a catch-all"
# every error is reported, not only the first
printf 'rule A\nrule b\n\tclass x\n' >"$tmp/many.rules"
awk -f "$gen" "$tmp/many.rules" >/dev/null 2>"$tmp/many.err"
[ "$(grep -c . "$tmp/many.err")" -ge 4 ]
check $? "every error is reported ($(grep -c . "$tmp/many.err") lines)"

# every keyword is documented, in the file and in the man page
for kw in $(awk -v keywords=1 -f "$gen"); do
	grep -q "^#   $kw " "$rules"
	check $? "verdict.rules documents $kw"
	sed -n '/^\.Sh VERDICT RULES/,/^\.Sh /p' "$man" |
		grep -q "^\.It Cm $kw\\b"
	check $? "smtprobe.1 VERDICT RULES documents $kw"
done
echo "1..$n"

#!/bin/sh
# bounce.sh - "smtprobe explain" on the bounce corpus tests/bounce/
# (index.tsv: file, split, class, reason, label, source). For every
# message: is it recognised for what it is without --bounce (a bounce,
# an RFC 3834 auto-reply, an RFC 5965 feedback report, or nothing), and
# is the class of the first verdict the expected one. Prints the
# accuracy of the train and the test split; fails when the test split
# is below the floors. TAP.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
probe=$top_builddir/smtprobe
dir=$top_srcdir/tests/bounce
# floors: test-split class accuracy and bounce recognition, in percent
CLASS_FLOOR=${CLASS_FLOOR:-90}
RECOG_FLOOR=${RECOG_FLOOR:-98}
verbose=${BOUNCE_VERBOSE:-0}
. "$top_srcdir/tests/spool.sh"
spool_init bounce

tab=$(printf '\t')
res=$(grep -v '^#' "$dir/index.tsv" | while IFS=$tab read -r f split cls reason label src; do
	out=$("$probe" explain --json --file "$dir/$f" 2>/dev/null)
	spool_text "$out" "explain --json --file tests/bounce/$f"
	got=$(printf '%s' "$out" | jq -r '
	    if .input == "bounce" then "bounce:" + ((.class // .items[0].class) // "-")
	    elif .input == "auto-reply" or .input == "feedback-report" then .input + ":" + .input
	    elif .input == "none" then "none:none"
	    else "reply:" + (.class // "-") end' 2>/dev/null)
	[ -n "$got" ] || got="none:none"
	kind=${got%%:*} gcls=${got#*:}
	case $cls in
	none)	ok=$([ "$kind" = none ] && echo 1 || echo 0); isb=- ;;
	auto-reply|feedback-report)
		ok=$([ "$kind" = "$cls" ] && echo 1 || echo 0); isb=- ;;
	unknown) ok=$([ "$kind" = bounce ] && echo 1 || echo 0)
		isb=$ok ;;
	*)	isb=$([ "$kind" = bounce ] && echo 1 || echo 0)
		ok=$([ "$isb" = 1 ] && [ "$gcls" = "$cls" ] && echo 1 || echo 0) ;;
	esac
	echo "$split $ok $isb $f $cls $kind:$gcls"
done)

n=0
check() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
[ "$verbose" = 1 ] && printf '%s\n' "$res" | awk '$2 == 0 { print "# miss " $0 }'
stats() {	# stats SPLIT -> "class% recog% n"
	printf '%s\n' "$res" | awk -v s="$1" '$1 == s { n++; ok += $2;
	    if ($3 != "-") { b++; r += $3 } }
	    END { printf "%d %d %d %d %d %d\n", n ? ok * 100 / n : 0,
	    b ? r * 100 / b : 0, n, ok, b, r }'
}
for s in train test; do
	set -- $(stats $s)
	echo "# $s: class $4/$3 = $1 %, recognised as bounces $6/$5 = $2 %"
	eval "${s}_class=$1 ${s}_recog=$2 ${s}_n=$3"
done
check $([ "$test_n" -gt 0 ] && [ "$train_n" -gt 0 ]; echo $?) \
	"the corpus has both splits (train $train_n, test $test_n)"
check $([ "$test_class" -ge "$CLASS_FLOOR" ]; echo $?) \
	"test split class accuracy $test_class % >= $CLASS_FLOOR %"
check $([ "$test_recog" -ge "$RECOG_FLOOR" ]; echo $?) \
	"test split bounces recognised without --bounce $test_recog % >= $RECOG_FLOOR %"
python3 "$dir/split.py" --check >/dev/null 2>&1
rc=$?
[ $rc = 0 ] || command -v python3 >/dev/null 2>&1 || rc=0
check $rc "every bounce is on the side its normalised content says"
echo "1..$n"

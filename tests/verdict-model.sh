#!/bin/sh
# verdict-model.sh - the committed model of the verdict is current:
# tests/verdict/model.py, run again on tests/verdict/train.tsv, writes
# exactly probe/judge/verdict_model.c and tests/verdict/model-fixture.tsv
# as committed (regenerate with "python3 tests/verdict/model.py" after
# changing train.tsv or the trainer). Skipped without python3. Prints TAP.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
if ! command -v python3 >/dev/null 2>&1; then
	echo "1..0 # SKIP python3 not found"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmodel.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/probe/judge" "$tmp/tests/verdict"
n=0
check() {	# check STATUS TEXT
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

python3 "$top_srcdir/tests/verdict/model.py" --out "$tmp" 2>"$tmp/err"
check $? "model.py trains on train.tsv without error"
sed 's/^/# /' "$tmp/err"
for f in probe/judge/verdict_model.c tests/verdict/model-fixture.tsv; do
	cmp -s "$tmp/$f" "$top_srcdir/$f"
	st=$?
	check $st "$f is what model.py writes (else rerun it and commit)"
	[ $st -eq 0 ] || diff "$top_srcdir/$f" "$tmp/$f" | head -5 |
		sed 's/^/# /'
done
# the trainer reads the train split only
grep -n 'test\.tsv' "$top_srcdir/tests/verdict/model.py" |
	grep -v 'never read' >"$tmp/test-refs"
[ ! -s "$tmp/test-refs" ]
check $? "model.py does not read test.tsv"
echo "1..$n"

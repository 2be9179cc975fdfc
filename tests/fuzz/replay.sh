#!/bin/sh
# replay.sh - every libFuzzer harness, built as a plain program with the
# normal compiler (tests/fuzz/replay.c), on its seeds and on the inputs
# that once crashed it (tests/fuzz/regress/NAME). Prints TAP; a crash
# or a broken invariant fails the harness's line.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/replay.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
sh "$top_srcdir/tests/fuzz/seeds.sh" "$top_srcdir" "$tmp/seeds" || {
	echo "Bail out! seeds.sh failed"
	exit 99
}
n=0
for h in "$top_srcdir"/tests/fuzz/fuzz_*.c; do
	name=${h##*/fuzz_}
	name=${name%.c}
	prog=$top_builddir/tests/fuzz/replay_$name
	n=$((n + 1))
	if [ ! -x "$prog" ]; then
		echo "not ok $n - $name: no $prog (add it to tests/fuzz.am)"
		continue
	fi
	dirs=$tmp/seeds/$name
	[ -d "$top_srcdir/tests/fuzz/regress/$name" ] &&
		dirs="$dirs $top_srcdir/tests/fuzz/regress/$name"
	# shellcheck disable=SC2086
	out=$("$prog" $dirs 2>"$tmp/err")
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok $n - $name: $out"
	else
		echo "not ok $n - $name: exit $rc"
		sed 's/^/# /' "$tmp/err" | head -40
	fi
done
echo "1..$n"

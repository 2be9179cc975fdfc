#!/bin/sh
# style-check.sh - house rules the compiler does not enforce: no banned
# functions, no // comments, every integration case is registered in
# tests/cases.am, every product source in Makefile.am (the one list).
# Prints TAP.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top_srcdir" || exit 99
n=0
check() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
src=$(ls probe/*/*.c probe/*/*.h include/*.h tests/*.c tests/*.h tests/unit/*.c 2>/dev/null)
for f in sprintf strcpy strcat atoi gets; do
	hits=$(grep -nE "(^|[^a-z_])$f\\(" $src | grep -v '^\s*\*')
	[ -z "$hits" ]; check $? "no $f()"
	[ -z "$hits" ] || printf '%s\n' "$hits" | sed 's/^/# /'
done
hits=$(grep -nE '(^|[^:])//' $src | grep -vE '"[^"]*//[^"]*"')
[ -z "$hits" ]; check $? "no // comments"
[ -z "$hits" ] || printf '%s\n' "$hits" | sed 's/^/# /'
for c in probe/*/*.c; do
	grep -q "$c" Makefile.am
	check $? "$c is listed in Makefile.am"
done
for c in tests/cases/*.case; do
	grep -q "$c" tests/cases.am
	check $? "$c is listed in tests/cases.am"
done
echo "1..$n"

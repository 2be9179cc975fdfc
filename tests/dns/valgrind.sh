#!/bin/sh
# valgrind.sh - the DNS test programs again, under valgrind: no memory
# error and no leak (definite, indirect or possible) in dns.c, check.c
# or the tests. Each program runs in its own work directory (suffix
# -vg), so this can run beside the plain runs. Skipped in sanitizer
# builds (SMTPROBE_SANITIZED) and where valgrind is missing. TAP.
set -u
top_builddir=${top_builddir:-.}
if [ -n "${SMTPROBE_SANITIZED:-}" ]; then
	echo "1..0 # SKIP sanitizer build"
	exit 0
fi
if ! command -v valgrind >/dev/null 2>&1; then
	echo "1..0 # SKIP valgrind not installed"
	exit 0
fi
SMTPROBE_DT_TAG=vg
export SMTPROBE_DT_TAG
work=$top_builddir/tests/work/valgrind-dns
mkdir -p "$work" || exit 99
n=0
for t in tests/unit/t_dnsutil tests/dns/t_dns tests/dns/t_check; do
	name=$(basename "$t")
	timeout -k 5 300 valgrind -q --leak-check=full \
	    --show-leak-kinds=definite,indirect,possible \
	    --errors-for-leak-kinds=definite,indirect,possible \
	    --error-exitcode=99 "$top_builddir/$t" \
	    > "$work/$name.out" 2> "$work/$name.err"
	rc=$?
	nok=$(grep -c '^not ok' "$work/$name.out")
	nall=$(grep -c '^ok' "$work/$name.out")
	n=$((n + 1))
	if [ "$rc" -eq 0 ] && [ "$nok" -eq 0 ] && [ "$nall" -gt 0 ]; then
		echo "ok $n - $name under valgrind: $nall checks, no error"
	else
		echo "not ok $n - $name under valgrind: exit $rc, $nok failed"
		grep '^not ok' "$work/$name.out" | sed 's/^/# /'
		head -60 "$work/$name.err" | sed 's/^/# /'
	fi
done
echo "1..$n"

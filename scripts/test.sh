#!/bin/sh
# test.sh - install what the tests need (scripts/install-deps.sh --test:
# packages without services; the servers are unpacked privately by
# scripts/servers.sh, no service of the machine is touched), build, and
# run the whole suite
# twice: a normal build, where every integration case also runs under
# valgrind (SMTPROBE_VALGRIND=all: no memory error, no leak), and an
# ASan+UBSan build; gcc -fanalyzer over the product sources (make
# analyze); then a short run of every libFuzzer harness (make fuzz).
# Ends with one line "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/install-deps.sh --test || exit 1
pass=0 fail=0 status=0
count() {	# count BUILDDIR: add the harness totals
	for f in "$1"/test-suite.log; do
		[ -f "$f" ] || continue
		p=$(sed -n 's/^# PASS: *//p' "$f" | head -1)
		x=$(sed -n 's/^# FAIL: *//p' "$f" | head -1)
		e=$(sed -n 's/^# ERROR: *//p' "$f" | head -1)
		pass=$((pass + ${p:-0}))
		fail=$((fail + ${x:-0} + ${e:-0}))
	done
}
run() {	# run BUILDDIR CONFIGURE-ARGS...
	dir=$1
	shift
	echo "== make check in $dir $*"
	sh scripts/build.sh "$dir" --enable-werror "$@" || { status=1; fail=$((fail + 1)); return; }
	(cd "$dir" && make -s -j2 check) || {
		status=1
		cat "$dir"/test-suite.log 2>/dev/null | tail -120
	}
	count "$dir"
}
SMTPROBE_VALGRIND=all
export SMTPROBE_VALGRIND
run build
unset SMTPROBE_VALGRIND
# gcc's static analyzer over every product source: no warning allowed
echo "== make analyze in build"
if (cd build && make -s analyze); then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	status=1
fi
SMTPROBE_SANITIZED=1
ASAN_OPTIONS=detect_leaks=1
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export SMTPROBE_SANITIZED ASAN_OPTIONS UBSAN_OPTIONS
run build-asan --enable-sanitizers
# fuzz BUILDDIR: every libFuzzer harness for FUZZ_SECONDS (default 20)
# each; a fuzzer that runs clean passes, a crash, leak or hang fails
fuzz() {
	echo "== make fuzz in $1 (FUZZ_SECONDS=${FUZZ_SECONDS:-20})"
	rm -f "$1/tests/work/fuzz/summary"
	(cd "$1" && make -s fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-20}") ||
		status=1
	if [ ! -s "$1/tests/work/fuzz/summary" ]; then
		echo "make fuzz ran no fuzzer"
		status=1
		fail=$((fail + 1))
		return
	fi
	while read -r name st rest; do
		if [ "$st" = ok ]; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			status=1
		fi
	done <"$1/tests/work/fuzz/summary"
}
fuzz build
echo "$pass passed, $fail failed"
exit $status

#!/bin/sh
# run.sh - build the libFuzzer harnesses with clang and run each for a
# bounded time. "make fuzz" calls it; it also runs alone:
#
#	sh tests/fuzz/run.sh [-B] [-b BUILDDIR] [-o OUTDIR] [-s SRCDIR]
#	    [-t SECONDS] [NAME ...]
#
#   -b  the configured build tree whose config.h is used (default: .)
#   -o  where objects, fuzzers, corpora and logs go
#	(default: BUILDDIR/tests/work/fuzz; "make clean" removes it)
#   -s  the source tree (default: the one this script is in)
#   -t  seconds per fuzzer (default: $FUZZ_SECONDS, else 60)
#   -B  build only, run nothing
#   NAME  only these harnesses (tests/fuzz/fuzz_NAME.c); default: all
#
# Every probe/*/*.c but main.c is compiled once into an archive, so a
# harness links what it uses, however the modules come to depend on
# each other; the library flags come from make (FUZZ_CFLAGS, FUZZ_LIBS:
# configure's OpenSSL, libevent, ldns and jansson), else pkg-config.
# A harness names its own libFuzzer options in its FUZZ-OPTIONS line
# (see tests/fuzz/fuzz.h); its seeds come from tests/fuzz/seeds.sh, with
# the inputs of tests/fuzz/regress/NAME. New inputs the fuzzer finds stay
# in OUTDIR/corpus/NAME for the next run. The compiler is $FUZZ_CC, else
# clang. Every harness is built before any runs, with
# -fsanitize=fuzzer,address,undefined and no recovery from UB.
#
# Output: one line per fuzzer - executions, coverage (edges "cov" and
# features "ft"), corpus size - also written to OUTDIR/summary as
#	NAME STATUS EXECUTIONS EDGES FEATURES CORPUS
# (STATUS ok or failed). A crash, a leak, a timeout (-timeout=10) or
# running out of memory (-rss_limit_mb=2048) is a failure: its input is
# kept as OUTDIR/artifacts/NAME/*, the log as OUTDIR/NAME.log, and the
# exit status is 1. To keep a crash as a test, fix it and copy the
# input to tests/fuzz/regress/NAME/ (make check replays it).
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
build=.
out=
secs=${FUZZ_SECONDS:-60}
buildonly=0
while getopts Bb:o:s:t: opt; do
	case $opt in
	B) buildonly=1 ;;
	b) build=$OPTARG ;;
	o) out=$OPTARG ;;
	s) src=$(cd "$OPTARG" && pwd) ;;
	t) secs=$OPTARG ;;
	*) sed -n '5,6p' "$0" >&2; exit 64 ;;
	esac
done
shift $((OPTIND - 1))
build=$(cd "$build" && pwd) || exit 1
out=${out:-$build/tests/work/fuzz}
cc=${FUZZ_CC:-clang}
case $secs in
''|*[!0-9]*) echo "run.sh: -t wants whole seconds, not '$secs'" >&2; exit 64 ;;
esac
if [ ! -f "$build/config.h" ]; then
	echo "run.sh: no config.h in $build: run configure first" \
	    "(sh scripts/build.sh DIR), then 'make fuzz' there" >&2
	exit 1
fi
if [ $# -gt 0 ]; then
	names=$*
else
	names=$(cd "$src/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
fi
for n in $names; do
	[ -f "$src/tests/fuzz/fuzz_$n.c" ] ||
		{ echo "run.sh: no harness tests/fuzz/fuzz_$n.c" >&2; exit 64; }
done

mkdir -p "$out/obj" "$out/probe/judge" || exit 1
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)' \
    >"$out/cc-check.c"
printf ' { return d == 0 && n > 0; }\n' >>"$out/cc-check.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined -o "$out/cc-check" \
    "$out/cc-check.c" >"$out/cc-check.log" 2>&1; then
	echo "run.sh: $cc cannot build libFuzzer programs" \
	    "(Debian: apt-get install clang libclang-rt-14-dev):" >&2
	sed 's/^/  /' "$out/cc-check.log" >&2
	exit 1
fi

# the probe sources, once, instrumented for coverage and sanitizers; the
# warnings of configure's WARN_CFLAGS, except that clang's -Wformat=2
# also flags vfprintf() in a function without a format attribute
# (probe/base/log.c vlog), which gcc accepts
cflags="-std=c11 -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=undefined
-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
-Wno-format-nonliteral -Wno-unused-parameter -Werror"
incs="-I$out -I$build -I$src/include -I$src/tests"
${AWK:-awk} -f "$src/probe/judge/verdict-rules.awk" "$src/probe/judge/verdict.rules" \
    >"$out/probe/judge/verdict-rules.h.tmp" &&
	mv "$out/probe/judge/verdict-rules.h.tmp" "$out/probe/judge/verdict-rules.h" ||
	exit 1
pkgs="openssl libevent libevent_openssl ldns jansson libidn2"
libcflags=${FUZZ_CFLAGS-$(pkg-config --cflags $pkgs)}
libs=${FUZZ_LIBS-$(pkg-config --libs $pkgs)}
objs=
for s in "$src"/probe/*/*.c; do
	b=$(basename "$s" .c)
	[ "$b" = main ] && continue
	o=$out/obj/$b.o
	objs="$objs $o"
	if [ ! -f "$o" ] || [ "$s" -nt "$o" ] ||
	    [ "$out/probe/judge/verdict-rules.h" -nt "$o" ] ||
	    [ -n "$(find "$src/include" "$build/config.h" -newer "$o" \
	    2>/dev/null | head -1)" ]; then
		# shellcheck disable=SC2086
		"$cc" $cflags -fsanitize=fuzzer-no-link,address,undefined \
		    $incs $libcflags -c "$s" -o "$o" || exit 1
	fi
done
rm -f "$out/libprobe.a"
# shellcheck disable=SC2086
ar cr "$out/libprobe.a" $objs || exit 1
for n in $names; do
	# shellcheck disable=SC2086
	"$cc" $cflags -fsanitize=fuzzer,address,undefined $incs \
	    "$src/tests/fuzz/fuzz_$n.c" "$out/libprobe.a" $libs \
	    -o "$out/fuzz_$n" || exit 1
done
echo "built:$(for n in $names; do printf ' fuzz_%s' "$n"; done) in $out"
[ $buildonly = 1 ] && exit 0

sh "$src/tests/fuzz/seeds.sh" "$src" "$out/seeds" || exit 1
: >"$out/summary"
status=0
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS
for d in /usr/lib/llvm-*/bin; do
	[ -x "$d/llvm-symbolizer" ] && ASAN_SYMBOLIZER_PATH=$d/llvm-symbolizer
done
[ -n "${ASAN_SYMBOLIZER_PATH:-}" ] && export ASAN_SYMBOLIZER_PATH
for n in $names; do
	h=$src/tests/fuzz/fuzz_$n.c
	opts=$(sed -n 's/^ \* FUZZ-OPTIONS: *//p' "$h")
	dirs="$out/seeds/$n"
	[ -d "$src/tests/fuzz/regress/$n" ] &&
		dirs="$dirs $src/tests/fuzz/regress/$n"
	dict=
	[ -f "$out/seeds/$n.dict" ] && dict="-dict=$out/seeds/$n.dict"
	rm -rf "$out/artifacts/$n"
	mkdir -p "$out/corpus/$n" "$out/artifacts/$n"
	# shellcheck disable=SC2086
	"$out/fuzz_$n" -max_total_time="$secs" -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 $opts $dict \
	    -artifact_prefix="$out/artifacts/$n/" "$out/corpus/$n" $dirs \
	    >"$out/$n.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
	    "$out/$n.log" | tail -1)
	last=$(grep -E '^#[0-9]+.*cov: ' "$out/$n.log" | tail -1)
	cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(printf '%s\n' "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	found=$(ls "$out/artifacts/$n" 2>/dev/null)
	if [ $rc -eq 0 ] && [ -z "$found" ]; then
		st=ok
	else
		st=failed
		status=1
	fi
	printf '%s %s %s %s %s %s\n' "$n" "$st" "${execs:-0}" "${cov:-0}" \
	    "${ft:-0}" "${corp:-0}" >>"$out/summary"
	printf 'fuzz_%-8s %s: %s executions in %s s, cov %s edges, ft %s features, corpus %s inputs\n' \
	    "$n" "$st" "${execs:-0}" "$secs" "${cov:-0}" "${ft:-0}" \
	    "${corp:-0}"
	if [ $st = failed ]; then
		echo "  exit $rc; log $out/$n.log; inputs:"
		for f in $found; do echo "    $out/artifacts/$n/$f"; done
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*invariant failed|.*runtime error)' \
		    "$out/$n.log" | head -5 | sed 's/^/  /'
	fi
done
exit $status

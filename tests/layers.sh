#!/bin/sh
# layers.sh - the include graph keeps the layers of DESIGN.md: every
# module (a probe/LAYER/*.c and its include/*.h, by file stem) belongs to one
# layer, and may include only headers of its own layer or of a lower
# one, with no circle among modules. Prints TAP.
#
# A private header NAME_int.h belongs to module NAME (batch_int.h is the
# batch modules' shared inside, not a module of its own).
#
# Layers, lowest first (a module's layer is the folder under probe/
# that holds its .c; a module outside them fails the first check):
#   base    log, memory, validators, text, the JSON writer
#   wire    the SMTP connection's bytes: io, tls, https, replies, AUTH,
#           messages, the DANE policy
#   dns     DNS and what is looked up before a connection
#   engine  stage names, the session record, the SMTP engine
#   judge   verdict, bounces, TLS policy evaluation: read records
#   run     scenarios: parse and run on the engine
#   out     outputs
#   cmd     the front ends
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top_srcdir" || exit 99
n=0
check() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
rank() {	# rank LAYER
	case $1 in
	base) echo 0 ;; wire) echo 1 ;; dns) echo 2 ;; engine) echo 3 ;;
	judge) echo 4 ;; run) echo 5 ;; out) echo 6 ;; cmd) echo 7 ;;
	*) echo -1 ;;
	esac
}
layer() {	# layer MODULE: the folder of probe/LAYER/MODULE.c
	d=$(find probe -mindepth 2 -maxdepth 2 -name "$1.c" | head -1)
	if [ -n "$d" ]; then
		basename "$(dirname "$d")"
	else
		echo none
	fi
}
tmp=$(mktemp "${TMPDIR:-/tmp}/layers.XXXXXX") || exit 99
trap 'rm -f "$tmp"' EXIT
files=$(find probe include -name '*.[ch]' ! -name 'verdict-rules.h' | sort)
for f in $files; do
	m=$(basename "$f")
	m=${m%.*}
	m=${m%_int}
	sed -n 's/^#include "\([a-z_-]*\)\.h".*/\1/p' "$f" | while read -r h; do
		h=${h%_int}
		[ "$h" = "$m" ] || [ "$h" = config ] ||
		    [ "$h" = verdict-rules ] || echo "$m $h"
	done
done | sort -u >"$tmp"

mods=$(for f in $files; do m=$(basename "$f"); m=${m%.*}; echo "${m%_int}"; done |
    sort -u)
bad=
for m in $mods; do
	[ "$(rank "$(layer "$m")")" -ge 0 ] || bad="$bad $m"
done
[ -z "$bad" ]; check $? "every module has a layer"
[ -z "$bad" ] || echo "# no layer:$bad (put its .c in a folder of probe/)"

up=
while read -r m h; do
	lm=$(layer "$m")
	lh=$(layer "$h")
	[ "$(rank "$lm")" -ge "$(rank "$lh")" ] || up="$up $m($lm)->$h($lh)"
done <"$tmp"
[ -z "$up" ]; check $? "no include points up a layer"
[ -z "$up" ] || printf '# %s\n' $up

loop=$(tsort "$tmp" 2>&1 >/dev/null)
[ -z "$loop" ]; check $? "no circle among modules"
[ -z "$loop" ] || printf '%s\n' "$loop" | sed 's/^/# /'
echo "1..$n"

#!/bin/sh
# cv.sh - the honest yardstick of the verdict, on train only: 5-fold
# cross-validation of the model (tests/verdict/model.py --cv, out-of-fold
# scores) and how it combines with the rules (tests/verdict/combine-cv.c:
# the model alone, the rules alone, both, and both where the rules are
# weak). Run from a build directory:
#   sh ../tests/verdict/cv.sh [grid | post_min w_min w_max reason_rule]
#   sh ../tests/verdict/cv.sh --dev NEW.tsv [grid | post_min ...]
# (about 1.5 minutes for the model on an idle core; "grid" tries 400
# weightings, about 5 minutes more). The test split is never read.
# --dev judges held-out lines (a new corpus pass before it is merged)
# with the rules and the model built into this directory's libprobe.a,
# so that the weights are chosen on lines nobody wrote a rule from.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vcv.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/probe/judge" "$tmp/tests/verdict"
if [ "${1:-}" != --dev ]; then
	python3 "$top/tests/verdict/model.py" --cv --oof "$tmp/oof.txt" \
	    --out "$tmp"
fi
${CC:-cc} -O2 -I. -I"$top" -I"$top/include" -o "$tmp/combine-cv" \
    "$top/tests/verdict/combine-cv.c" libprobe.a -ljansson -lm \
    $(pkg-config --libs libevent openssl ldns)
if [ "${1:-}" = --dev ]; then
	[ $# -ge 2 ] || { echo "usage: cv.sh --dev NEW.tsv [...]" >&2; exit 2; }
	new=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
	shift 2
	"$tmp/combine-cv" --dev "$new" "$@"
	exit
fi
"$tmp/combine-cv" "$top/tests/verdict/train.tsv" "$tmp/oof.txt" "$@"

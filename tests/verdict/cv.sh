#!/bin/sh
# cv.sh - the honest yardstick of the verdict, on train only: 5-fold
# cross-validation of the model (tests/verdict/model.py --cv, out-of-fold
# scores) and how it combines with the rules (tests/verdict/combine-cv.c:
# the model alone, the rules alone, both, and both where the rules are
# weak). Run from a build directory:
#   sh ../tests/verdict/cv.sh [grid | post_min w_min w_max reason_rule]
# (about 1.5 minutes for the model on an idle core; "grid" tries 400
# weightings, about 5 minutes more). The test split is never read.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vcv.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/probe/judge" "$tmp/tests/verdict"
python3 "$top/tests/verdict/model.py" --cv --oof "$tmp/oof.txt" \
    --out "$tmp"
${CC:-cc} -O2 -I. -I"$top" -I"$top/include" -o "$tmp/combine-cv" \
    "$top/tests/verdict/combine-cv.c" libprobe.a -ljansson -lm \
    $(pkg-config --libs libevent openssl ldns)
"$tmp/combine-cv" "$top/tests/verdict/train.tsv" "$tmp/oof.txt" "$@"

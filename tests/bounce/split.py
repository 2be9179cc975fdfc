#!/usr/bin/env python3
# split.py - keep the bounce corpus index: put every bounce of
# tests/bounce/ on the train or test side by a hash of its normalised
# content, the same rule as tests/verdict/split.py uses for replies.
#
# The normalised content of a bounce: its bytes read as Latin-1, every
# line end and tab made a space, then tests/verdict/split.py's
# normalise() (case folded, addresses "@", ids "#", digit runs "0"),
# FNV-1a 32 bits, hash % 100 < 70: train, else test. Two bounces that
# differ only by addresses, ids, dates or counts normalise alike, land
# on the same side, and only the first is kept.
#
# index.tsv columns: file, split, class, reason, label, source.
#   class/reason: the expected verdict; class "auto-reply" (RFC 3834),
#     "feedback-report" (RFC 5965), "none" (not a bounce at all) and
#     "unknown" (a bounce that states no reason: only recognition is
#     checked) are not verdict classes.
#   label: "hand" (read and set by a person) or "rule" (set by a
#     keyword pass over the Diagnostic-Code or failure text, then
#     spot-checked); see README.
#   source: repository:path of the original file.
#
# Usage: split.py LABELS.tsv SOURCES.tsv   rewrite index.tsv
#        split.py --check                  exit 1 if a line is wrong
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "verdict"))
from split import normalise, fnv1a  # noqa: E402

INDEX = os.path.join(HERE, "index.tsv")
HEAD = "# file\tsplit\tclass\treason\tlabel\tsource\n"


def norm_file(path):
    with open(path, "rb") as f:
        t = f.read().decode("latin-1")
    t = t.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return normalise(t)


def side(path):
    return "train" if fnv1a(norm_file(path)) % 100 < 70 else "test"


def check():
    bad = 0
    for line in open(INDEX):
        if line.startswith("#"):
            continue
        f = line.rstrip("\n").split("\t")
        if len(f) != 6 or side(os.path.join(HERE, f[0])) != f[1]:
            print("wrong line: " + line.rstrip())
            bad += 1
    return 1 if bad else 0


def build(labels, sources):
    src = dict(l.rstrip("\n").split("\t") for l in open(sources))
    seen = {}
    rows = []
    for l in open(labels):
        name, cls, reason, how = l.rstrip("\n").split("\t")
        path = os.path.join(HERE, name)
        n = norm_file(path)
        if n in seen:
            os.unlink(path)
            continue
        seen[n] = name
        rows.append("\t".join([name, side(path), cls, reason, how,
                               src[name]]) + "\n")
    with open(INDEX, "w") as f:
        f.write(HEAD)
        f.writelines(rows)


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        sys.exit(check())
    build(sys.argv[1], sys.argv[2])

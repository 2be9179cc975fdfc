#!/usr/bin/env python3
# split.py - keep the verdict corpus: merge new replies into
# tests/verdict/train.tsv and test.tsv, deduplicate, and put each reply
# on the side its normalised text says.
#
# Line format of both files (and of every input file):
#   stage<TAB>class<TAB>reason<TAB>reply<TAB>source
# A multi-line reply is joined with " | ". "#" lines are comments.
# stage is where the reply came (banner ehlo starttls auth mail rcpt
# data eod), or "unknown" when the source does not say. source is a
# short id explained in tests/verdict/sources.tsv.
#
# THE SPLIT RULE (tests/unit/t_verdict.c implements the same, and checks
# every line against it):
#   1. Normalise the reply: split it into tokens at blanks (space, tab);
#      lower-case ASCII letters (A-Z only; other bytes are left alone);
#      then, token by token:
#        - the first two tokens stay as they are when they are made only
#          of digits, "." and "-" (the reply code and the enhanced code,
#          e.g. "550", "550-5.7.1", "5.1.1": they carry the meaning);
#        - a token holding "@" becomes "@" (a mailbox);
#        - a token that, without the characters ()[]<>{},;:"' at its
#          ends, is at least 8 bytes long, holds at least one digit and
#          one letter, and only [a-z0-9+/=_.-], becomes "#" (queue ids,
#          session ids, hex and base64 tags, numbered host names);
#        - in any other token every run of digits becomes one "0"
#          (IP addresses, ports, counts, dates, numbered codes).
#      The tokens are joined with one space.
#   2. Hash the normalised text with FNV-1a, 32 bits (offset basis
#      2166136261, prime 16777619) over its bytes.
#   3. hash % 100 < 70: train; otherwise test.
#   4. Exception: the lines of the old tests/verdict/corpus.tsv (source
#      "legacy:corpus.tsv") are in train whatever their hash, since the
#      current rules were written from them; so is any reply whose
#      normalised text equals a legacy line's.
# Near-duplicates (the same wording with another address, IP, id or
# count) normalise to the same text, so they land on the same side; the
# corpus keeps only the first line of each stage and normalised text
# (the same words at another stage may mean another thing, e.g. Exim's
# "550 Administrative prohibition", so the stage is part of the key;
# the side depends on the text alone). Adding replies never moves an
# existing one to the other side.
#
# Usage:
#   python3 tests/verdict/split.py [NEW.tsv ...]   merge, rewrite both files
#   python3 tests/verdict/split.py --check         exit 1 if a line is on
#                                                  the wrong side or doubled
#   python3 tests/verdict/split.py --norm TEXT     print normal form, hash, side
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN = os.path.join(HERE, "train.tsv")
TEST = os.path.join(HERE, "test.tsv")
LEGACY = "legacy:corpus.tsv"
CLASSES = ("ip helo sender recipient relay content auth tls rate greylist "
           "policy server network protocol accepted").split()
STAGES = "banner ehlo starttls auth mail rcpt data eod unknown".split()
STRIP = "()[]<>{},;:\"'"
IDCHARS = set("abcdefghijklmnopqrstuvwxyz0123456789+/=_.-")

HEADER = """\
# smtprobe verdict corpus, {side} split: real SMTP replies with the expected
# verdict. Columns: stage<TAB>class<TAB>reason<TAB>reply<TAB>source.
# Multi-line replies are joined with " | ". IPs are documentation ranges,
# mailbox and customer domains example.com/.net/.org; provider names that
# are part of the wording are kept. Sources: tests/verdict/sources.tsv.
# The side of each line is decided by tests/verdict/split.py (see its
# header); do not move lines by hand. Rules are written from train only.
"""


def lower(s):
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in s)


def isdigit(c):
    return "0" <= c <= "9"


def isalpha(c):
    return "a" <= c <= "z"


def fold_digits(tok):
    out = []
    prev = False
    for c in tok:
        if isdigit(c):
            if not prev:
                out.append("0")
            prev = True
        else:
            out.append(c)
            prev = False
    return "".join(out)


def norm_token(tok, i):
    if i < 2 and all(isdigit(c) or c in ".-" for c in tok):
        return tok
    if "@" in tok:
        return "@"
    core = tok.strip(STRIP)
    if (len(core) >= 8 and any(isdigit(c) for c in core) and
            any(isalpha(c) for c in core) and all(c in IDCHARS for c in core)):
        return "#"
    return fold_digits(tok)


def normalise(reply):
    toks = [t for t in lower(reply).replace("\t", " ").split(" ") if t]
    return " ".join(norm_token(t, i) for i, t in enumerate(toks))


def fnv1a(s):
    h = 2166136261
    for b in s.encode("utf-8", "surrogateescape"):
        h ^= b
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def side(reply):
    return "train" if fnv1a(normalise(reply)) % 100 < 70 else "test"


def read(path, strict=True):
    rows = []
    if not os.path.exists(path):
        return rows
    with open(path, encoding="utf-8", errors="surrogateescape") as fp:
        for n, line in enumerate(fp, 1):
            line = line.rstrip("\r\n")
            if not line or line.startswith("#"):
                continue
            f = line.split("\t")
            if len(f) != 5:
                sys.exit("%s:%d: %d fields, want 5" % (path, n, len(f)))
            if f[0] not in STAGES or f[1] not in CLASSES:
                sys.exit("%s:%d: bad stage or class" % (path, n))
            if strict and not f[4]:
                sys.exit("%s:%d: no source" % (path, n))
            rows.append(tuple(f))
    return rows


def main(argv):
    if argv[:1] == ["--norm"]:
        t = " ".join(argv[1:])
        n = normalise(t)
        print("%s\n%u %s" % (n, fnv1a(n), side(t)))
        return 0
    train, test = read(TRAIN), read(TEST)
    if argv[:1] == ["--check"]:
        legacy = {normalise(r[3]) for r in train if r[4] == LEGACY}
        bad = 0
        seen = set()
        for where, rows in (("train", train), ("test", test)):
            for r in rows:
                n = normalise(r[3])
                want = "train" if (r[4] == LEGACY or n in legacy) else side(r[3])
                if want != where:
                    print("%s: belongs in %s: %s" % (where, want, r[3]))
                    bad += 1
                if (r[0], n) in seen:
                    print("%s: duplicate: %s" % (where, r[3]))
                    bad += 1
                seen.add((r[0], n))
        return 1 if bad else 0
    rows = train + test
    for path in argv:
        rows += read(path)
    legacy = {normalise(r[3]) for r in rows if r[4] == LEGACY}
    seen = {}
    out = {"train": [], "test": []}
    for r in rows:
        n = normalise(r[3])
        if (r[0], n) in seen:
            o = seen[(r[0], n)]
            if o[1:3] != r[1:3]:
                sys.stderr.write("conflict: %s/%s (%s) vs %s/%s (%s): %s\n"
                                 % (o[1], o[2], o[4], r[1], r[2], r[4], r[3]))
            continue
        seen[(r[0], n)] = r
        s = "train" if (r[4] == LEGACY or n in legacy) else side(r[3])
        out[s].append(r)
    for s, path in (("train", TRAIN), ("test", TEST)):
        # legacy first in its old order, then by source, stable
        out[s].sort(key=lambda r: (r[4] != LEGACY, r[4] if r[4] != LEGACY
                                   else ""))
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as fp:
            fp.write(HEADER.format(side=s))
            for r in out[s]:
                fp.write("\t".join(r) + "\n")
    print("train %d, test %d" % (len(out["train"]), len(out["test"])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

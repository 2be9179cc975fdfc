#!/usr/bin/env python3
# metrics-check.py FILE [QUERY...] - read a --metrics file strictly as the
# Prometheus text exposition format (0.0.4) says, without promtool, and
# print what it holds; exit 1 with the line that breaks a rule.
#
# Rules checked: every line is a HELP, a TYPE, a comment or a sample;
# names match [a-zA-Z_:][a-zA-Z0-9_:]* and start with "smtprobe_"; label
# names match [a-zA-Z_][a-zA-Z0-9_]*; label values are quoted and use
# only the escapes \\ \" \n; values are floats (or NaN, +Inf, -Inf);
# each family has one HELP and one TYPE, before its samples, its samples
# together; a summary's samples are NAME_sum, NAME_count (or NAME with
# a quantile); no series appears twice; the file ends with a newline.
#
# A QUERY is NAME{label="value",...} (labels in any order, all of them)
# or NAME alone; each prints "QUERY VALUE", or "QUERY absent". A QUERY
# "-" reads more of them from standard input, one a line.
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LNAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def fail(n, line, why):
    print("line %d: %s: %s" % (n, why, line))
    sys.exit(1)


def labels(n, line, s):
    """the {...} part s (without braces) as a sorted tuple"""
    out = []
    i = 0
    while i < len(s):
        m = re.match(LNAME, s[i:])
        if not m:
            fail(n, line, "bad label name")
        key = m.group(0)
        i += len(key)
        if s[i:i + 2] != '="':
            fail(n, line, "label %s: no =\"" % key)
        i += 2
        val = []
        while True:
            if i >= len(s):
                fail(n, line, "label %s: unterminated value" % key)
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    fail(n, line, "label %s: bad escape \\%s" % (key, nxt))
                val.append({"\\": "\\", '"': '"', "n": "\n"}[nxt])
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                fail(n, line, "raw newline in a label value")
            else:
                val.append(c)
                i += 1
        if any(k == key for k, _ in out):
            fail(n, line, "label %s twice" % key)
        out.append((key, "".join(val)))
        if i < len(s):
            if s[i] != ",":
                fail(n, line, "no comma after label %s" % key)
            i += 1
    return tuple(sorted(out))


def parse(text):
    if text and not text.endswith("\n"):
        fail(0, "", "the file does not end with a newline")
    helps, types, seen_family, series = {}, {}, [], {}
    current = None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            kind, rest = line[2:6], line[7:]
            m = re.match("(%s)(?: (.*))?$" % NAME, rest)
            if not m:
                fail(n, line, "bad %s line" % kind)
            name = m.group(1)
            table = helps if kind == "HELP" else types
            if name in table:
                fail(n, line, "second %s for %s" % (kind, name))
            if name in seen_family:
                fail(n, line, "%s after the samples of %s" % (kind, name))
            if kind == "TYPE" and m.group(2) not in TYPES:
                fail(n, line, "unknown type")
            if kind == "HELP" and not m.group(2):
                fail(n, line, "empty HELP")
            table[name] = m.group(2)
            current = name
            continue
        if line.startswith("#") or line == "":
            if line == "":
                fail(n, line, "empty line")
            continue
        m = re.match(r"(%s)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$" % NAME, line)
        if not m:
            fail(n, line, "not a sample line")
        name, lab, value = m.group(1), m.group(2) or "", m.group(3)
        if not name.startswith("smtprobe_"):
            fail(n, line, "the name does not start with smtprobe_")
        fam = name
        if types.get(current) in ("summary", "histogram"):
            for suf in ("_sum", "_count", "_bucket"):
                if name == current + suf:
                    fam = current
        if fam != current:
            fail(n, line, "sample of %s outside its family (HELP/TYPE "
                 "first, samples together)" % name)
        if fam not in helps or fam not in types:
            fail(n, line, "%s has no HELP or no TYPE" % fam)
        if fam not in seen_family:
            seen_family.append(fam)
        try:
            float(value)
        except ValueError:
            if value not in ("NaN", "+Inf", "-Inf"):
                fail(n, line, "bad value")
        key = (name, labels(n, line, lab))
        if key in series:
            fail(n, line, "the same series twice")
        series[key] = float(value)
    for fam in set(helps) | set(types):
        if fam not in helps or fam not in types:
            fail(0, fam, "HELP without TYPE or TYPE without HELP")
    return series


def query(series, q):
    m = re.match(r"(%s)(?:\{(.*)\})?$" % NAME, q)
    if not m:
        return "bad query"
    key = (m.group(1), labels(0, q, m.group(2) or ""))
    if key not in series:
        return "absent"
    v = series[key]
    return "%d" % v if v == int(v) else repr(v)


def main(argv):
    if not argv:
        print("usage: metrics-check.py FILE [QUERY...]", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as f:
        series = parse(f.read())
    print("%d series" % len(series))
    qs = []
    for q in argv[1:]:
        qs += sys.stdin.read().splitlines() if q == "-" else [q]
    for q in qs:
        print("%s %s" % (q, query(series, q)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

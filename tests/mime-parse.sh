#!/bin/bash
# mime-parse.sh - the messages smtprobe builds, read back by a real MIME
# parser (Python's email package): sent to the fake MX with an HTML
# part, attachments (binary, a non-ASCII name, EICAR) and GTUBE, to a
# server with 8BITMIME and to one without; the message the fake MX
# logged is rebuilt byte for byte and must parse without a defect, with
# every part's text and every attachment's bytes as they were given.
# Prints TAP; skipped without python3. Talks to 127.0.0.1 only.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
probe=$top_builddir/smtprobe
fakemx=$top_builddir/tests/fakemx
command -v python3 >/dev/null || { echo "1..0 # SKIP no python3"; exit 0; }
work=$(mktemp -d "${TMPDIR:-/tmp}/smtprobe-mime.XXXXXX")
fpid=
cleanup() {
	[ -n "$fpid" ] && kill "$fpid" 2>/dev/null && wait "$fpid" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

printf 'Gr\xc3\xbc\xc3\x9fe = 100 percent\n.leading dot\ntrailing blank \n' \
	> "$work/body.txt"
printf '<p>h\xc3\xa4llo</p>\n' > "$work/page.html"
head -c 3000 /dev/urandom > "$work/random.bin"
pdf=$work/r$'\xc3\xa9'sum$'\xc3\xa9'.pdf
printf '%%PDF-1.4\n' > "$pdf"

n=0
for mode in 8bitmime plain; do
	if [ "$mode" = 8bitmime ]; then
		printf 'reply EHLO 250-fakemx.test\nreply EHLO 250 8BITMIME\n'
	else
		printf 'reply EHLO 250 fakemx.test\n'
	fi > "$work/script"
	rm -f "$work/port" "$work/log"
	"$fakemx" -P "$work/port" -l "$work/log" -t 30 "$work/script" &
	fpid=$!
	for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
	"$probe" -s "127.0.0.1:$(cat "$work/port")" --helo probe.test -q \
		-f sender@probe.test -t user@fake.test \
		--body "$work/body.txt" --body-html "$work/page.html" \
		--attach "$work/random.bin" \
		--attach "$pdf" \
		--attach-eicar --attach-gtube \
		--header "Subject: Gr"$'\xc3\xbc\xc3\x9f'"e aus M"$'\xc3\xbc'"nchen, eine l"$'\xc3\xa4'"ngere Betreffzeile" \
		> "$work/out" 2>&1
	rc=$?
	kill "$fpid" 2>/dev/null && wait "$fpid" 2>/dev/null
	fpid=
	python3 - "$work" "$mode" "$rc" "$n" <<'PYEOF'
import email, re, sys
from email import policy
work, mode, rc, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
res = []
def check(cond, desc):
    res.append((bool(cond), desc))
check(rc == 0, "%s: the probe exits 0" % mode)
# the log escapes bytes as \xHH and "\" as "\\"; "D: " lines, dots stuffed
raw = b""
for line in open(work + "/log", "rb").read().split(b"\n"):
    if not line.startswith(b"D: "):
        continue
    l = re.sub(rb"\\x([0-9a-f]{2})|\\\\",
               lambda m: bytes([int(m.group(1), 16)]) if m.group(1) else b"\\",
               line[3:])
    if l.startswith(b"."):
        l = l[1:]
    raw += l + b"\r\n"
check(all(len(l) <= 998 for l in raw.split(b"\r\n")), "%s: lines <= 998" % mode)
check(mode == "8bitmime" or max(raw) < 0x80, "%s: 7-bit only without 8BITMIME" % mode)
m = email.message_from_bytes(raw, policy=policy.default)
parts = list(m.walk())
check(m.get_content_type() == "multipart/mixed", "%s: multipart/mixed" % mode)
check(all(not p.defects for p in parts), "%s: no MIME defect (%s)" % (mode,
      [p.defects for p in parts if p.defects]))
types = [p.get_content_type() for p in parts]
check(types == ["multipart/mixed", "multipart/alternative", "text/plain",
      "text/html", "application/octet-stream", "application/pdf",
      "application/octet-stream"], "%s: the parts in order (%s)" % (mode, types))
text = parts[2].get_content().replace("\r\n", "\n")
body = open(work + "/body.txt", encoding="utf-8").read()
check(text.startswith(body) and "GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL" in text,
      "%s: the text decodes to the body, GTUBE after it" % mode)
check(parts[2].get_content_charset() == "utf-8" and
      parts[2]["Content-Transfer-Encoding"] == ("8bit" if mode == "8bitmime"
      else "quoted-printable"), "%s: utf-8, %s" % (mode, parts[2]["Content-Transfer-Encoding"]))
check(parts[3].get_content().replace("\r\n", "\n") == "<p>h\u00e4llo</p>\n",
      "%s: the HTML decodes" % mode)
check(parts[4].get_content() == open(work + "/random.bin", "rb").read(),
      "%s: 3000 random bytes come back" % mode)
check(parts[5].get_filename() == "r\u00e9sum\u00e9.pdf" and
      parts[5].get_content() == b"%PDF-1.4\n", "%s: RFC 2231 file name" % mode)
check(parts[6].get_filename() == "eicar.com" and len(parts[6].get_content()) == 68
      and parts[6].get_content().startswith(b"X5O!P%@AP"), "%s: EICAR" % mode)
check(str(m["Subject"]) == "Gr\u00fc\u00dfe aus M\u00fcnchen, eine l\u00e4ngere Betreffzeile",
      "%s: the 8-bit Subject decodes (%s)" % (mode, m["Subject"]))
for i, (ok, desc) in enumerate(res):
    print("%sok %d - %s" % ("" if ok else "not ", n + i + 1, desc))
PYEOF
	n=$((n + 13))
done
echo "1..$n"

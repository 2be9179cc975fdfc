#!/bin/sh
# doc-check.sh - the option table, --help and man/smtprobe.1 agree; every
# stage, exit code and finding kind is documented. Prints TAP.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
probe=$top_builddir/smtprobe
man=$top_srcdir/man/smtprobe.1
n=0
check() {	# check STATUS TEXT
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
help=$("$probe" --help)
opts=$("$probe" --list-options)
[ -n "$opts" ]; check $? "the option table lists options"
for o in $opts; do
	name=${o#--}
	printf '%s\n' "$help" | grep -q -- "--$name\\b"
	check $? "--help documents $o"
	grep -q "^\.It .*Fl Fl $name\\b" "$man"
	check $? "smtprobe.1 documents $o"
done
# every documented option exists (a switch's generated --no- form,
# ", Fl Fl no-NAME" on its .It line, is checked by man-options.sh)
eopts=$("$probe" explain --list-options)
bopts=$("$probe" batch --list-options)
for name in $(sed -e 's/ , Fl Fl no-[a-z0-9-]*//' -n -e 's/^\.It .*Fl Fl \([a-z0-9-]*\).*/\1/p' "$man" | sort -u); do
	printf '%s\n%s\n%s\n' "$opts" "$eopts" "$bopts" | grep -qx -- "--$name"
	check $? "smtprobe.1 option --$name exists in the table"
done
for o in $("$probe" explain --list-options); do
	name=${o#--}
	"$probe" explain --help | grep -q -- "--$name\\b"
	check $? "explain --help documents $o"
	sed -n '/^\.Sh EXPLAIN/,/^\.Sh /p' "$man" | grep -q "^\.It .*Fl Fl $name\\b"
	check $? "smtprobe.1 EXPLAIN documents $o"
done
# shell: its options are the probe's, in --help and in the SHELL section
sopts=$("$probe" shell --list-options)
[ -n "$sopts" ]; check $? "the shell lists options"
shelp=$("$probe" shell --help)
shellsec=$(sed -n '/^\.Sh SHELL/,/^\.Sh /p' "$man")
for o in $sopts; do
	name=${o#--}
	printf '%s\n' "$shelp" | grep -q -- "--$name\\b"
	check $? "shell --help documents $o"
	printf '%s\n' "$shellsec" | grep -q "^\.It .*Fl Fl $name\\b"
	check $? "smtprobe.1 SHELL documents $o"
	printf '%s\n' "$opts" | grep -qx -- "$o"
	check $? "shell option $o is an option of the probe"
done
for name in $(printf '%s\n' "$shellsec" |
    sed -e 's/ , Fl Fl no-[a-z0-9-]*//' -n -e 's/^\.It .*Fl Fl \([a-z0-9-]*\).*/\1/p' | sort -u); do
	printf '%s\n' "$sopts" | grep -qx -- "--$name"
	check $? "smtprobe.1 SHELL option --$name exists in the shell"
done
# batch: its own table, in batch --help and in the BATCH section (every
# .It line there, options joined by "|" included)
[ -n "$bopts" ]; check $? "batch lists options"
bhelp=$("$probe" batch --help)
batchsec=$(sed -n '/^\.Sh BATCH/,/^\.Sh /p' "$man")
for o in $bopts; do
	name=${o#--}
	printf '%s\n' "$bhelp" | grep -q -- "--$name\\b"
	check $? "batch --help documents $o"
	printf '%s\n' "$batchsec" | grep -q "^\.It .*Fl Fl $name\\b"
	check $? "smtprobe.1 BATCH documents $o"
done
for name in $(printf '%s\n' "$batchsec" | sed -e 's/ , Fl Fl no-[a-z0-9-]*//' -n -e 's/^\.It .*Fl Fl \([a-z0-9-]*\).*/\1/p' |
    sort -u; printf '%s\n' "$batchsec" | grep '^\.It .*Fl Fl' |
    grep -o '| Fl Fl [a-z0-9-]*' | sed 's/.* //' | sort -u); do
	printf '%s\n' "$bopts" | grep -qx -- "--$name"
	check $? "smtprobe.1 BATCH option --$name exists in batch"
done
for code in 0 2 3 64; do
	printf '%s\n' "$batchsec" | sed -n '/^Exit status of/,$p' |
	    grep -q "^\.It $code\$"
	check $? "batch exit code $code documented"
done
for st in ok permfail tempfail timeout refused unreachable tls dns error \
    expect blocklisted invalid interrupted; do
	printf '%s\n' "$batchsec" | grep -q "^\.It Li $st\$"
	check $? "batch status $st documented"
	printf '%s\n' "$bhelp" | grep -q "\\b$st\\b"
	check $? "batch --help lists status $st"
done
for st in connect banner ehlo starttls mail rcpt data eod rset quit; do
	grep -q "$st [0-9]" "$man"
	check $? "default timeout of stage $st documented"
done
for code in 0 1 2 3 64 70; do
	sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$man" | grep -q "^\.It $code\$"
	check $? "exit code $code documented"
done
kinds=$(grep -ho 'FIND_[A-Z]*, "[a-z-]*"' "$top_srcdir"/probe/*/*.c | sed 's/.*"\(.*\)"/\1/' | sort -u)
for k in $kinds; do
	grep -q "$k" "$man"
	check $? "finding kind $k documented"
done
echo "1..$n"

#!/bin/sh
# man-options.sh - the option table (include/opt.def), every command's
# --help and the option lists of man/smtprobe.1 agree: the lists are
# regenerated (scripts/man-options.sh) and must equal the committed
# page, and each --help lists exactly the table's options of its
# command. Prints TAP.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
probe=$top_builddir/smtprobe
man=$top_srcdir/man/smtprobe.1
gen=$top_srcdir/scripts/man-options.sh
frag=$top_srcdir/man/options
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
check() {	# check STATUS TEXT
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
run() {		# run COMMAND ARGS: smtprobe [COMMAND] ARGS
	if [ "$1" = probe ]; then shift; "$probe" "$@"; else "$probe" "$@"; fi
}

: >"$tmp/diff"
sh "$gen" "$probe" "$man" "$frag" >"$tmp/man.1" 2>"$tmp/err"
st=$?
sed 's/^/# /' "$tmp/err"
check $st "the man page's option lists regenerate without error"
if [ $st -eq 0 ]; then
	diff -u "$man" "$tmp/man.1" >"$tmp/diff"
	st=$?
fi
[ $st -eq 0 ] || sed 's/^/# /' "$tmp/diff" | head -40
check $st "man/smtprobe.1 is what scripts/man-options.sh makes (run make man-options)"
for cmd in probe explain shell batch; do
	grep -q "^\.\\\\\" BEGIN GENERATED OPTIONS $cmd\$" "$man"
	check $? "smtprobe.1 has the generated option list of $cmd"
	# the table's options of cmd, from the dump and from --list-options
	run "$cmd" --dump-options | sed -n 's/^\([a-z0-9-]*\)	.*/--\1/p' |
	    sort >"$tmp/table"
	run "$cmd" --list-options | sort >"$tmp/list"
	[ -s "$tmp/table" ] && cmp -s "$tmp/table" "$tmp/list"
	check $? "$cmd: --list-options is the table's options"
	# the options --help lists, in its left column
	run "$cmd" --help | sed -n 's/^  \(-[a-zA-Z0-9], \|    \)\(--[a-z0-9-]*\).*/\2/p' |
	    sort >"$tmp/help"
	diff "$tmp/table" "$tmp/help" >"$tmp/hdiff"
	st=$?
	[ $st -eq 0 ] || sed 's/^/# /' "$tmp/hdiff"
	check $st "$cmd --help lists exactly the table's options"
	# the man page's list has one .It line per option, the table's
	sed -n "/^\.\\\\\" BEGIN GENERATED OPTIONS $cmd\$/,/^\.\\\\\" END GENERATED OPTIONS $cmd\$/p" \
	    "$man" >"$tmp/mansec"
	sed -e 's/ , Fl Fl no-[a-z0-9-]*//' -n \
	    -e 's/^\.It .*Fl Fl \([a-z0-9-]*\).*/--\1/p' "$tmp/mansec" |
	    sort >"$tmp/manlist"
	diff "$tmp/table" "$tmp/manlist" >/dev/null
	check $? "smtprobe.1 lists exactly the table's options of $cmd"
	# a switch's --no- form (OC_NEG): the same in --help and the page
	run "$cmd" --help | sed -E -n \
	    's/^  (-[a-zA-Z0-9], |    )--([a-z0-9-]+), --no-\2( .*)?$/--\2/p' |
	    sort >"$tmp/hneg"
	sed -E -n \
	    's/^\.It (Fl [a-zA-Z0-9] , )?Fl Fl ([a-z0-9-]+) , Fl Fl no-\2$/--\2/p' \
	    "$tmp/mansec" | sort >"$tmp/mneg"
	diff "$tmp/hneg" "$tmp/mneg" >/dev/null
	check $? "$cmd: --help and smtprobe.1 show the same --no- switches ($(wc -l <"$tmp/hneg"))"
done
# the generator itself: a text for an option the table lacks, or an
# option without a text, is an error
mkdir "$tmp/frag"
cp "$frag"/*.mdoc "$tmp/frag/"
printf '@@ no-such-option\nText.\n' >>"$tmp/frag/batch.mdoc"
sh "$gen" "$probe" "$man" "$tmp/frag" >/dev/null 2>"$tmp/err"
[ $? -ne 0 ] && grep -q "no-such-option" "$tmp/err"
check $? "a text for an option not in the table fails the generation"
cp "$frag"/*.mdoc "$tmp/frag/"
awk '/^@@ seed$/ { skip = 1; next } /^@@ / { skip = 0 } !skip' \
    "$frag/batch.mdoc" >"$tmp/frag/batch.mdoc"
sh "$gen" "$probe" "$man" "$tmp/frag" >/dev/null 2>"$tmp/err"
[ $? -ne 0 ] && grep -q -- "--seed" "$tmp/err"
check $? "an option of the table without a text fails the generation"
# defaults come from the code: batch's timeouts are its own
"$probe" batch --dump-options | grep -q '^=TIMEOUTS	connect 10,'
check $? "batch's default connect timeout (10 s) is printed from the code"
"$probe" --dump-options | grep -q '^=TIMEOUTS	connect 30,'
check $? "the probe's default connect timeout (30 s) is printed from the code"
echo "1..$n"

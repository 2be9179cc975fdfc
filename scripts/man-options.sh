#!/bin/sh
# man-options.sh - write the option lists of man/smtprobe.1 from the
# option table (include/opt.def, as "smtprobe [COMMAND] --dump-options"
# prints it) and the longer texts of man/options/COMMAND.mdoc.
#
# usage: man-options.sh SMTPROBE MANPAGE OPTDIR
# The man page is printed to standard output with the lines between
# ".\" BEGIN GENERATED OPTIONS COMMAND" and ".\" END GENERATED OPTIONS
# COMMAND" replaced: per option of COMMAND, in the table's order, its
# .It line from the table, then its text from OPTDIR/COMMAND.mdoc
# (blocks opened by "@@ NAME"; "@TIMEOUTS@" there becomes the
# command's default stage timeouts, "@DEFAULT@" the option's default and
# "@RANGE@" its range, all from the code's constants).
# Exit 1 when an option has no text or a text names no option.
set -eu
probe=$1 man=$2 dir=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for cmd in probe explain shell batch; do
	if [ "$cmd" = probe ]; then
		"$probe" --dump-options >"$tmp/$cmd.tab"
	else
		"$probe" "$cmd" --dump-options >"$tmp/$cmd.tab"
	fi
	awk -F '\t' -v cmd="$cmd" -v frag="$dir/$cmd.mdoc" '
	function subst(t, tok, val,	k) {
		while ((k = index(t, tok)) > 0)
			t = substr(t, 1, k - 1) val substr(t, k + length(tok))
		return t
	}
	BEGIN { bad = 0 }
	FILENAME == frag {
		if ($0 ~ /^@@ /) { name = substr($0, 4); seen[name] = 1
			text[name] = ""; next }
		if (name == "") { next }
		text[name] = text[name] $0 "\n"
		next
	}
	$1 == "=TIMEOUTS" { timeouts = $2; next }
	{ order[++n] = $1; it[n] = $2; dflt[n] = $3; range[n] = $4 }
	END {
		print ".\\\" DO NOT EDIT: generated from include/opt.def and " \
		    "man/options/" cmd ".mdoc"
		print ".\\\" by scripts/man-options.sh (make man-options)."
		for (i = 1; i <= n; i++) {
			if (!(order[i] in seen)) {
				printf "man-options.sh: --%s (%s) has no text " \
				    "in %s\n", order[i], cmd, frag >"/dev/stderr"
				bad = 1
			}
			t = subst(text[order[i]], "@TIMEOUTS@", timeouts)
			t = subst(t, "@DEFAULT@", dflt[i])
			t = subst(t, "@RANGE@", range[i])
			printf "%s\n%s", it[i], t
			used[order[i]] = 1
		}
		for (m in seen)
			if (!(m in used)) {
				printf "man-options.sh: %s names --%s, which " \
				    "%s does not take\n", frag, m, cmd \
				    >"/dev/stderr"
				bad = 1
			}
		exit bad
	}' "$dir/$cmd.mdoc" "$tmp/$cmd.tab" >"$tmp/$cmd.out"
done
awk -v tmp="$tmp" '
/^\.\\" BEGIN GENERATED OPTIONS / {
	print
	f = tmp "/" $NF ".out"
	while ((getline l < f) > 0)
		print l
	close(f)
	skip = 1
	next
}
/^\.\\" END GENERATED OPTIONS / { skip = 0 }
!skip' "$man"

#!/bin/bash
# completion.sh - the bash and zsh completion written by
# scripts/complete-gen from the option table: every long option of
# every command is offered, option values complete to the words the
# parser takes (stages, mechanisms, enum words, files), and the zsh
# script is valid zsh when zsh is there. Prints TAP.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
probe=$top_builddir/smtprobe
bashc=$top_builddir/completion/bash/smtprobe
zshc=$top_builddir/completion/zsh/_smtprobe
n=0
check() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
[ -f "$bashc" ] && [ -f "$zshc" ] || { echo "Bail out! no $bashc or $zshc (make)"; exit 99; }
# shellcheck disable=SC1090
. "$bashc"
# comp WORD...: what completing the last word offers, one per line
comp() {
	COMP_WORDS=(smtprobe "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	_smtprobe
	printf '%s\n' "${COMPREPLY[@]}" | sort
}
has() {	# has WORD WORDS...: the completion of WORDS offers WORD
	w=$1; shift
	comp "$@" | grep -qx -- "$w"
}
complete -p smtprobe >/dev/null 2>&1
check $? "bash: the script registers a completion for smtprobe"
[ "$(comp --stop-b)" = "--stop-before" ]
check $? "bash: --stop-b completes to --stop-before"
want="auth banner connect data ehlo eod mail rcpt starttls"
[ "$(comp --stop-before "" | tr '\n' ' ' | sed 's/ $//')" = "$want" ]
check $? "bash: --stop-before offers the stop points, auth included"
[ "$(comp --quit-after st)" = "starttls" ]
check $? "bash: --quit-after st completes to starttls"
has cram-md5 --auth "" && has xoauth2 --auth ""
check $? "bash: --auth offers the mechanisms"
[ "$(comp ba)" = "batch" ]
check $? "bash: the first word completes to a command"
has merge batch me
check $? "bash: after batch, merge is offered (batch merge PART...)"
[ "$(comp batch merge --in)" = "--input" ] && has -q batch merge -
check $? "bash: batch merge offers its own options (--input, -q)"
! has --shard-key batch merge --sh
check $? "bash: batch merge does not offer batch's options"
[ "$(comp batch --shard-key "" | tr '\n' ' ')" = "ip name " ]
check $? "bash: batch --shard-key offers its enum words"
has --stage explain --st
check $? "bash: explain's own options (--stage)"
! has --stage --st
check $? "bash: the probe does not offer explain's --stage"
has --no-starttls --no-st
check $? "bash: the --no- form of a switch (--no-starttls)"
grep -q "'--no-starttls\[" "$zshc"
check $? "zsh: the --no- form of a switch (--no-starttls)"
has json --format ""
check $? "bash: --format offers json"
mkdir -p "${TMPDIR:-/tmp}/smtprobe-comp.$$/dir" && : >"${TMPDIR:-/tmp}/smtprobe-comp.$$/dir/body.txt"
has "${TMPDIR:-/tmp}/smtprobe-comp.$$/dir/body.txt" --body "${TMPDIR:-/tmp}/smtprobe-comp.$$/dir/b"
check $? "bash: --body completes file names"
has - --body ""
check $? "bash: --body also offers - (standard input)"
rm -rf "${TMPDIR:-/tmp}/smtprobe-comp.$$"
# every long option of every command, from the binary's own table
for cmd in probe shell batch explain; do
	if [ "$cmd" = probe ]; then
		opts=$("$probe" --dump-options | cut -f1 | grep -v '^=')
		words=()
	else
		opts=$("$probe" "$cmd" --dump-options | cut -f1 | grep -v '^=')
		words=("$cmd")
	fi
	got=$(comp "${words[@]}" --)
	miss=
	for o in $opts; do
		printf '%s\n' "$got" | grep -qx -- "--$o" || miss="$miss --$o"
	done
	[ -z "$miss" ]
	check $? "bash: every option of $cmd is offered"
	[ -z "$miss" ] || echo "# missing:$miss"
	zmiss=
	for o in $opts; do
		grep -q -- "'--$o[=[]" "$zshc" || zmiss="$zmiss --$o"
	done
	[ -z "$zmiss" ]
	check $? "zsh: every option of $cmd has a spec"
	[ -z "$zmiss" ] || echo "# missing:$zmiss"
done
grep -q "'--stop-before=\[.*\]:STAGE:(connect banner ehlo starttls auth mail rcpt data eod)'" "$zshc"
check $? "zsh: --stop-before's values are the stop points"
if command -v zsh >/dev/null 2>&1; then
	zsh -n "$zshc"
	check $? "zsh: the script parses (zsh -n)"
	# the function itself, with _arguments replaced by a recorder: the
	# specs it hands over for "smtprobe batch --sh"
	out=$(cd "${TMPDIR:-/tmp}" && zsh -fc '_arguments() { print -rl -- "$@"; }
	    words=(smtprobe batch --sh); CURRENT=3; source "$1"' zsh "$zshc" 2>&1)
	printf '%s\n' "$out" | grep -q "^--shard-key=\[.*\]:ip|name:(ip name)$" &&
	    ! printf '%s\n' "$out" | grep -q '^--stop-before='
	check $? "zsh: after 'batch' the specs are batch's (--shard-key, no --stop-before)"
	out=$(cd "${TMPDIR:-/tmp}" && zsh -fc '_arguments() { print -rl -- "$@"; }
	    words=(smtprobe batch merge --in); CURRENT=4; source "$1"' zsh "$zshc" 2>&1)
	printf '%s\n' "$out" | grep -q '^--input=\[' &&
	    ! printf '%s\n' "$out" | grep -q '^--shard-key='
	check $? "zsh: after 'batch merge' the specs are merge's (--input, no --shard-key)"
	out=$(cd "${TMPDIR:-/tmp}" && zsh -fc '_arguments() { print -rl -- "$@"; }
	    words=(smtprobe --stop-before ""); CURRENT=3; source "$1"' zsh "$zshc" 2>&1)
	printf '%s\n' "$out" | grep -q '^--stop-before=\[.*\]:STAGE:(connect banner ehlo starttls auth mail rcpt data eod)$'
	check $? "zsh: the probe's specs (--stop-before with its stop points)"
else
	echo "ok $((n += 1)) # SKIP zsh not installed"
fi
echo "1..$n"

#!/bin/sh
# shell.sh - "smtprobe shell" against the fake MX, through a pipe and
# through a real terminal (script(1) from util-linux gives it a pty):
# STARTTLS mid-session, AUTH with its password prompt, data up to a lone
# "." with dot-stuffing, parse errors (nothing sent), raw lines, expect,
# a server that closes while the user types, save then replay with
# "smtprobe --scenario" (the same C: and D: lines in the fake MX log),
# --proxy and --xclient (and their place on the replay line), pipeline
# blocks, and no output that holds the password. Prints TAP.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
probe=$top_builddir/smtprobe
fakemx=$top_builddir/tests/fakemx
certs=$top_builddir/tests/certs
work=$(mktemp -d "${TMPDIR:-/tmp}/smtprobe-shell.XXXXXX")
fpid=
spid=
# the password: no output, log of ours or saved file may hold it, nor
# its AUTH PLAIN form
PW='Pw-sh3ll-q7Zx'
B64=$(printf '\000bob\000%s' "$PW" | base64 | tr -d '\n')
export PW
n=0
failed=0
check() {	# check STATUS TEXT
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
skip() {	# skip TEXT WHY
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}
bail() { echo "Bail out! shell.sh: $*"; exit 99; }
stop_mx() {
	[ -n "$fpid" ] && kill "$fpid" 2>/dev/null && wait "$fpid" 2>/dev/null
	fpid=
}
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null
	stop_mx
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 99' HUP INT TERM

[ -x "$probe" ] || bail "no smtprobe at $probe"
[ -x "$fakemx" ] || bail "no fake MX at $fakemx"
[ -f "$certs/server.pem" ] || bail "no test certificates in $certs"

start_mx() {	# start_mx: the fake MX on $work/mx.script, sets $port
	stop_mx
	rm -f "$work/port"
	: > "$work/log"
	"$fakemx" -P "$work/port" -l "$work/log" -t 120 \
		-c "$certs/server.pem" -k "$certs/server.key" \
		"$work/mx.script" 2> "$work/fakemx.err" &
	fpid=$!
	i=0
	while [ ! -s "$work/port" ] && [ $i -lt 100 ]; do
		kill -0 "$fpid" 2>/dev/null || break
		sleep 0.05
		i=$((i + 1))
	done
	[ -s "$work/port" ] ||
		bail "fake MX did not start: $(cat "$work/fakemx.err")"
	port=$(cat "$work/port")
}
input() {	# input LINE...: what the next shell reads
	printf '%s\n' "$@" > "$work/in"
}
mx() {	# mx LINE...: the fake MX script
	printf '%s\n' "$@" > "$work/mx.script"
}
shell() {	# shell NAME [OPTION...]: a shell reading $work/in, sets rc
	name=$1
	shift
	timeout -k 5 60 "$probe" shell 127.0.0.1 --port "$port" \
		--tls-ca-file "$certs/ca.pem" --helo client.example "$@" \
		< "$work/in" > "$work/$name.out" 2> "$work/$name.err"
	rc=$?
}
has() {		# has FILE TEXT: FILE holds the fixed TEXT
	grep -qF -- "$2" "$work/$1"
}
lacks() {	# lacks TEXT FILE...: no FILE holds TEXT
	for f in "$@"; do
		[ "$f" = "$1" ] && continue
		[ -f "$work/$f" ] && grep -qF -- "$1" "$work/$f" && return 1
	done
	return 0
}
dump() {	# dump FILE...: show files as TAP comments
	for f in "$@"; do
		echo "# --- $f"
		sed 's/^/# /' "$work/$f" 2>/dev/null | head -60
	done
}
cmds() {	# cmds: the C: and D: lines of the fake MX log
	grep -E '^(C|D): ' "$work/log"
}
real_auth=
grep -q '^ \*	auth USER SECRET' "$top_srcdir/tests/fakemx.c" && real_auth=1

mark=$failed
# 1. a pipe: greeting, STARTTLS on the live session, annotations, expect,
# a raw line, parse errors (nothing sent), and the end of input (QUIT)
mx 'reply RCPT~nobody 550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown'
start_mx
input ehlo starttls 'MAIL FROM:<a@example.org>' \
	'rcpt nobody@example.net' 'expect 550 or 5.1.1 verdict recipient' \
	'RCPT TO:<b@example.net>' 'XFOO bar' 'mail <bad' 'auth plian bob' \
	'expect 250'
shell pipe
check $([ "$rc" = 0 ]; echo $?) "pipe: exit $rc (want 0)"
has pipe.out '<- 220 fakemx.test'
check $? "pipe: the greeting is shown"
has pipe.out '-> STARTTLS' && has pipe.out '~> EHLO client.example' &&
	grep -q '^\*\*\* tls 1 established' "$work/log"
check $? "pipe: starttls upgrades the live session, EHLO again under TLS"
has pipe.out '== rcpt: permfail, 5.1.1 Bad destination mailbox address'
check $? "pipe: a refusal shows its stage and the enhanced code's meaning"
has pipe.out '== verdict: recipient (user-unknown)' &&
	has pipe.out '== advice: '
check $? "pipe: a refusal shows the verdict and advice"
has pipe.out '== rcpt: ok, 2.1.5 Destination address valid'
check $? "pipe: an acceptance shows its stage and meaning"
has pipe.out '** expect 550 or 5.1.1 verdict recipient: ok'
check $? "pipe: expect checks the step above at once"
has log 'C: XFOO bar' && has pipe.out '== send: permfail'
check $? "pipe: a line that is no keyword is sent as it is"
has pipe.err 'mail <bad' && has pipe.err '     ^' &&
	has pipe.err '!! column 6: address "<bad"'
check $? "pipe: a parse error shows the line, a caret and the column"
has pipe.err '!! column 6: unknown mechanism "plian"'
check $? "pipe: a bad auth mechanism is a parse error at its column"
! grep -q -e 'C: MAIL FROM:<bad' -e 'C: AUTH' -e 'C: mail' "$work/log"
check $? "pipe: nothing was sent for the lines that did not parse"
has pipe.err 'expect checks the step above, and the line above sent nothing'
check $? "pipe: expect after a line that sent nothing is refused"
cmds > "$work/pipe.cmds"
[ "$(sed -n 's/^C: //p' "$work/pipe.cmds" | tr '\n' '|')" = \
	'EHLO client.example|STARTTLS|EHLO client.example|MAIL FROM:<a@example.org>|RCPT TO:<nobody@example.net>|RCPT TO:<b@example.net>|XFOO bar|QUIT|' ]
check $? "pipe: the commands, in order, end with QUIT at the end of input"
[ "$failed" -eq "$mark" ] || dump pipe.out pipe.err log

mark=$failed
# 2. AUTH: refused by the shell without TLS, then the password from the
# next line of the pipe; the engine masks the payload
mx 'reply AUTH 235 2.7.0 Authentication successful'
start_mx
input ehlo 'auth plain bob' starttls 'auth plain bob' "$PW" \
	quit
shell auth
check $([ "$rc" = 0 ]; echo $?) "auth: exit $rc (want 0)"
has auth.err 'auth not sent: the session is not under TLS'
check $? "auth: refused before TLS, with the reason"
[ "$(grep -c '^C: AUTH' "$work/log")" = 1 ] && has log "C: AUTH PLAIN $B64"
check $? "auth: one AUTH PLAIN sent, under TLS, with the base64 done"
has auth.out '~> AUTH PLAIN ********' && has auth.out '== auth: ok, 2.7.0'
check $? "auth: the transcript masks the payload"
lacks "$PW" auth.out auth.err && lacks "$B64" auth.out auth.err
check $? "auth: no output holds the password or its base64"
[ "$failed" -eq "$mark" ] || dump auth.out auth.err log

mark=$failed
# 3. AUTH checked for real by the fake MX (its "auth" directive): a wrong
# password ends the session (as in a scenario), connect, the right one
if [ -n "$real_auth" ]; then
	mx "auth bob $PW"
	start_mx
	input ehlo starttls 'auth login bob' 'wrong-password' \
		connect ehlo starttls 'auth login bob' "$PW"
	shell realauth
	check $([ "$rc" = 0 ]; echo $?) "real auth: exit $rc (want 0)"
	grep -q '^\*\*\* auth 1 failed LOGIN' "$work/log" &&
		grep -q '^\*\*\* auth 2 ok LOGIN bob' "$work/log"
	check $? "real auth: wrong password refused, right one accepted"
	has realauth.out '== verdict: auth' &&
		has realauth.out '** the session is over; connect opens a new one'
	check $? "real auth: the refusal is explained, the session ends"
	lacks "$PW" realauth.out realauth.err &&
		lacks wrong-password realauth.out realauth.err
	check $? "real auth: no output holds a password"
	[ "$failed" -eq "$mark" ] || dump realauth.out realauth.err log
else
	skip "real auth" "the fake MX has no auth directive yet"
fi

mark=$failed
# 4. data: the message up to a lone ".", dot-stuffed on the wire; "${"
# in a message is text
mx ''
start_mx
input ehlo 'mail <a@example.org>' 'rcpt <b@example.net>' data \
	'Subject: shell test' '' '.leading dot' '..two dots' \
	'a ${literal} here' . quit
shell data
check $([ "$rc" = 0 ]; echo $?) "data: exit $rc (want 0)"
has log 'D: Subject: shell test' && has log 'D: ..leading dot' &&
	has log 'D: ...two dots' && has log 'D: a ${literal} here'
check $? "data: every line sent, the ones starting with \".\" dot-stuffed"
has data.out '== eod: ok' && ! grep -qx 'D: \.' "$work/log"
check $? "data: the lone dot ends the message and is not part of it"
[ "$failed" -eq "$mark" ] || dump data.out data.err log

# 5a. rcpt after a refused MAIL: the runner's rule (scn_exec_may_run), not a copy
printf 'reply MAIL 550 5.7.1 sender refused\n' > "$work/mx.script"
start_mx
input ehlo 'mail a@probe.test' 'rcpt b@fake.test'
shell norcpt
has norcpt.err 'rcpt not sent: MAIL was refused (a scenario skips it too)' && ! has log 'C: RCPT'
check $? "rcpt: after a refused MAIL, not sent (the runner's own rule and words)"
: > "$work/mx.script"

# 5. data refused by the shell when the runner would skip it
start_mx
input ehlo data
shell nodata
has nodata.err 'data not sent: no recipient was accepted (a scenario skips it too)' && ! has log 'C: DATA'
check $? "data: without an accepted rcpt, not sent (as in a scenario)"

mark=$failed
# 6. save, then replay the file with smtprobe --scenario: the same
# commands and message lines reach the fake MX
mx 'reply AUTH 235 2.7.0 Authentication successful' \
	'reply XFOO 502 5.5.1 not here'
start_mx
input ehlo starttls 'auth plain bob' "$PW" 'mail ${from}' \
	'set rcpt b@example.net' 'rcpt ${rcpt}' 'rcpt c@example.net' \
	'expect 2xx' data 'Subject: replay' '' '.dots' 'END' '${x}' . \
	'XFOO "quoted" $x \ back' 'expect 502' 'data <<EOT' 'From: <x@y>' \
	'' 'inline ${from}' 'EOT' rset 'vrfy postmaster' noop quit \
	"save $work/saved.scn" history
shell save --var from=a@example.org
check $([ "$rc" = 0 ]; echo $?) "save: exit $rc (want 0)"
grep -q "^\*\* saved [0-9]* lines to $work/saved.scn" "$work/save.out"
check $? "save: the file is written"
has save.out '    4  mail ${from}'
check $? "history: the lines typed, numbered, without the password"
cmds > "$work/save.cmds"
grep -q 'D: \.\.dots' "$work/save.cmds" &&
	grep -q 'D: inline a@example.org' "$work/save.cmds"
check $? "save: both messages were sent"
lacks "$PW" save.out save.err saved.scn && lacks "$B64" save.out save.err
check $? "save: no output and not the file holds the password"
start_mx
PWVAR=$PW timeout -k 5 60 "$probe" -s 127.0.0.1 --port "$port" \
	--tls-ca-file "$certs/ca.pem" --helo client.example \
	--auth-secret-env PWVAR --scenario "$work/saved.scn" \
	> "$work/replay.out" 2> "$work/replay.err"
rrc=$?
check $([ "$rrc" = 0 ]; echo $?) "replay: exit $rrc (want 0)"
cmds > "$work/replay.cmds"
cmp -s "$work/save.cmds" "$work/replay.cmds"
check $? "replay: the same C: and D: lines as the shell session"
[ "$failed" -eq "$mark" ] || { dump save.out save.err saved.scn replay.out \
	replay.err; diff "$work/save.cmds" "$work/replay.cmds" | sed 's/^/# /'; }

mark=$failed
# 7. the server closes while the user types; connect opens a new session;
# exit ends it politely
mx 'reply NOOP#1 250 2.0.0 Ok' 'close NOOP#1'
start_mx
rm -f "$work/in"
mkfifo "$work/in"
{
	printf 'noop\n'
	# the next line only once the server has answered and closed
	i=0
	while ! grep -q '== noop: ok' "$work/closed.out" 2>/dev/null &&
	    [ $i -lt 600 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	sleep 0.5
	printf '%s\n' noop connect ehlo exit
} > "$work/in" &
shell closed
rm -f "$work/in"
check $([ "$rc" = 0 ]; echo $?) "closed: exit $rc (want 0)"
has closed.out '** connection closed by server' &&
	has closed.out '** the server closed the connection while you were typing'
check $? "closed: said so on the next line"
has closed.err 'not sent: no open session (the session ended before this step); connect opens one'
check $? "closed: a step without a session is not sent"
grep -q '^\*\*\* connect 2' "$work/log" &&
	[ "$(grep '^C: ' "$work/log" | tail -1)" = 'C: QUIT' ]
check $? "closed: connect opened a new session, exit ended it with QUIT"
[ "$failed" -eq "$mark" ] || dump closed.out closed.err log

# 8. exit status: an expect line not met; usage errors; --starttls
mx ''
start_mx
input noop 'expect 550'
shell expect
check $([ "$rc" = 1 ]; echo $?) "expect: not met, exit $rc (want 1)"
has expect.out '!! error: expectation not met: expected 550, got 250 2.0.0'
check $? "expect: says what came"
input help
shell help
has help.out 'save FILE' && has help.out 'history'
check $? "help: lists the shell's commands"
input noop
shell tls --starttls
has tls.out '~> EHLO client.example' && has tls.out '~> NOOP'
check $? "--starttls: the shell begins with ehlo and starttls"
"$probe" shell > /dev/null 2>&1
check $([ $? = 64 ]; echo $?) "usage: no server, exit 64"
"$probe" shell 127.0.0.1 --from a@b > /dev/null 2>&1
check $([ $? = 64 ]; echo $?) "usage: an option of the probe only, exit 64"
"$probe" shell 127.0.0.1 --timeout soon > /dev/null 2>&1
check $([ $? = 64 ]; echo $?) "usage: a bad value is checked as for the probe"
"$probe" shell --help | grep -q -- '--auth-secret-env'
check $? "usage: --help lists the options"

mark=$failed
# 9. a real terminal: script(1) runs the shell on a pty; input is typed
# only after the prompt it answers (the password after its prompt, when
# echo is off)
if command -v script > /dev/null 2>&1; then
	if [ -n "$real_auth" ]; then
		mx "auth bob $PW"
	else
		mx 'reply AUTH 235 2.7.0 Authentication successful'
	fi
	start_mx
	rm -f "$work/tty.in" "$work/tty.ts"
	mkfifo "$work/tty.in"
	: > "$work/tty.ts"
	TERM=dumb timeout -k 5 90 script -qfec "'$probe' shell 127.0.0.1 \
--port $port --tls-ca-file '$certs/ca.pem' --helo client.example" \
		"$work/tty.ts" < "$work/tty.in" > /dev/null 2>&1 &
	spid=$!
	exec 3> "$work/tty.in"
	tty_ok=0
	upto() {	# upto TEXT COUNT: the pty showed TEXT COUNT times
		i=0
		while [ $i -lt 600 ]; do
			[ "$(grep -oF -- "$1" "$work/tty.ts" | wc -l)" -ge "$2" ] &&
				return 0
			kill -0 "$spid" 2>/dev/null || return 1
			sleep 0.05
			i=$((i + 1))
		done
		echo "# timed out waiting for \"$1\" ($2)"
		tty_ok=1
		return 1
	}
	typein() {	# typein TEXT: a line typed, Return is CR
		printf '%s\r' "$1" >&3
	}
	p='smtprobe> '
	upto "$p" 1 && typein ehlo
	upto '== ehlo: ok' 1 && upto "$p" 2 && typein starttls
	upto '== ehlo: ok' 2 && upto "$p" 3 && typein 'auth plain bob'
	upto 'Password for bob: ' 1 && typein "$PW"
	upto '== auth: ok' 1 && upto "$p" 4 && typein 'mail <a@example.org>'
	upto '== mail: ok' 1 && upto "$p" 5 && typein 'rcpt <b@example.net>'
	upto '== rcpt: ok' 1 && upto "$p" 6 && typein data
	upto 'data> ' 1 && typein 'Subject: pty'
	upto 'data> ' 2 && typein ''
	upto 'data> ' 3 && typein '.dot line'
	upto 'data> ' 4 && typein .
	upto '== eod: ok' 1 && upto "$p" 7 && typein 'mail <bad'
	upto 'column 6' 1 && upto "$p" 8 && typein "save $work/tty.scn"
	upto '** saved' 1 && upto "$p" 9 && printf '\004' >&3
	i=0
	while kill -0 "$spid" 2>/dev/null && [ $i -lt 600 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	wait "$spid"
	trc=$?
	spid=
	exec 3>&-
	check $tty_ok "pty: every prompt came"
	check $([ "$trc" = 0 ]; echo $?) "pty: the shell ended, exit $trc (want 0)"
	has tty.ts '** smtprobe shell:' && has tty.ts 'smtprobe> ehlo'
	check $? "pty: line editing is on (prompt, typed line shown)"
	has tty.ts '~> EHLO client.example' &&
		grep -q '^\*\*\* tls 1 established' "$work/log"
	check $? "pty: starttls upgraded the live session"
	has tty.ts '~> AUTH PLAIN ********' && has log "C: AUTH PLAIN $B64"
	check $? "pty: auth asked for the password and did the base64"
	lacks "$PW" tty.ts && lacks "$B64" tty.ts tty.scn
	check $? "pty: the password was never echoed nor shown"
	has log 'D: ..dot line' && ! grep -q '^C: mail' "$work/log"
	check $? "pty: data up to a lone dot, dot-stuffed; a parse error sent nothing"
	[ "$(grep '^C: ' "$work/log" | tail -1)" = 'C: QUIT' ]
	check $? "pty: Ctrl-D ended the session with QUIT"
	cmds > "$work/tty.cmds"
	[ "$failed" -eq "$mark" ] || dump tty.ts log
	start_mx
	PWVAR=$PW timeout -k 5 60 "$probe" -s 127.0.0.1 --port "$port" \
		--tls-ca-file "$certs/ca.pem" --helo client.example \
		--auth-secret-env PWVAR --scenario "$work/tty.scn" \
		> "$work/ttyreplay.out" 2> "$work/ttyreplay.err"
	rrc=$?
	cmds > "$work/ttyreplay.cmds"
	[ "$rrc" = 0 ] && cmp -s "$work/tty.cmds" "$work/ttyreplay.cmds"
	check $? "pty: the saved file replays the same commands (exit $rrc)"
	[ "$failed" -eq "$mark" ] || { dump tty.scn ttyreplay.out ttyreplay.err
		diff "$work/tty.cmds" "$work/ttyreplay.cmds" | sed 's/^/# /'; }
else
	skip "pty" "script(1) from util-linux is not installed"
fi

# 9b. as if from another client: --proxy's header first, --xclient after
# the typed ehlo (then EHLO again), and both on the replay line of a save
mark=$failed
mx proxy 'reply EHLO 250-fakemx.test' 'reply EHLO 250 XCLIENT ADDR NAME' \
	'reply XCLIENT 220 fakemx.test ESMTP'
start_mx
input ehlo 'mail <a@example.org>' "save $work/asif.scn" quit
shell asif --proxy v1 --proxy-source 192.0.2.3:33 --xclient ADDR=192.0.2.9
check $([ "$rc" = 0 ]; echo $?) "asif: exit $rc (want 0)"
grep -qF "*** proxy 1 v1 TCP4 192.0.2.3:33 127.0.0.1:$port" "$work/log"
check $? "asif: the PROXY line came first, with --proxy-source"
[ "$(cmds | tr '\n' '|')" = \
    "C: EHLO client.example|C: XCLIENT ADDR=192.0.2.9|C: EHLO client.example|C: MAIL FROM:<a@example.org>|C: QUIT|" ]
check $? "asif: EHLO, XCLIENT, EHLO again, then the typed mail"
grep -q '^# replay: .* --proxy v1 --proxy-source 192.0.2.3:33 --xclient ADDR=192.0.2.9 ' \
	"$work/asif.scn"
check $? "asif: the saved file's replay line keeps --proxy and --xclient"
[ "$failed" -eq "$mark" ] || { dump asif.out asif.err asif.scn log; }
stop_mx

mark=$failed
# 10. pipeline ... end: the block is read whole, then MAIL, both RCPT and
# DATA go as one group (the fake MX sees them before it answers any),
# the expect inside checks its RCPT, the message follows the 354; save
# writes the block back and the replay pipelines it the same; a block
# with a step that cannot be pipelined is refused whole, nothing sent
mx 'reply RCPT~bad 550 5.1.1 no such user'
start_mx
input ehlo pipeline 'mail a@example.org' 'rcpt b@example.net' \
	'rcpt bad@example.net' 'expect 550' data end 'Subject: grp' '' hi . \
	pipeline 'mail a@example.org' 'auth plain bob' end \
	"save $work/grp.scn" quit
shell grp
check $([ "$rc" = 0 ]; echo $?) "pipeline: exit $rc (want 0)"
has grp.out '** pipelining 4 commands (RFC 2920)' &&
	[ "$(grep -E '^(->|<-) (MAIL|RCPT|DATA|250 2.1|550|354)' \
	    "$work/grp.out" | cut -c1-2 | tr -d '\n')" = '->->->-><-<-<-<-' ]
check $? "pipeline: four commands out before the first reply, then one reply each"
has grp.out '** expect 550: ok' && has log 'D: Subject: grp' &&
	grep -q '^\*\*\* eod 1' "$work/log"
check $? "pipeline: the expect checks its RCPT, the message goes after the 354"
has grp.err '!! line 2 of the pipeline block: auth cannot be pipelined' &&
	[ "$(grep -c '^C: MAIL' "$work/log")" = 1 ]
check $? "pipeline: a block that does not parse is refused whole"
grep -qx pipeline "$work/grp.scn" && grep -qx 'rcpt bad@example.net' \
	"$work/grp.scn" && grep -qx 'expect 550' "$work/grp.scn" &&
	grep -qx 'data <<END' "$work/grp.scn" && grep -qx end "$work/grp.scn"
check $? "pipeline: save writes the block back, the message as a here-document"
timeout -k 5 60 "$probe" -s 127.0.0.1 --port "$port" --helo client.example \
	--scenario "$work/grp.scn" > "$work/grp-replay.out" 2>&1
grrc=$?
check $([ "$grrc" = 0 ] && has grp-replay.out \
	'** pipelining 4 commands (RFC 2920)' && has grp-replay.out \
	'expect 550: ok'; echo $?) "pipeline: the saved block replays as one group (exit $grrc)"
[ "$failed" -eq "$mark" ] || dump grp.out grp.err grp.scn log
stop_mx

# 11. valgrind: a session with STARTTLS, AUTH, data and save leaks nothing
if command -v valgrind > /dev/null 2>&1 && [ -z "${SMTPROBE_SANITIZED:-}" ]
then
	mx 'reply AUTH 235 2.7.0 Authentication successful'
	start_mx
	printf '%s\n' ehlo starttls 'auth plain bob' "$PW" \
		'mail <a@example.org>' 'rcpt <b@example.net>' data x . \
		'mail <bad' 'expect 250' "save $work/vg.scn" history |
		timeout -k 5 120 valgrind -q --leak-check=full \
		--show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible \
		--error-exitcode=99 "$probe" shell 127.0.0.1 --port "$port" \
		--tls-ca-file "$certs/ca.pem" > "$work/vg.out" 2> "$work/vg.err"
	vrc=$?
	check $([ "$vrc" = 0 ]; echo $?) "valgrind: no leak, no error (exit $vrc)"
	[ "$vrc" = 0 ] || dump vg.err
else
	skip "valgrind" "not available here, or a sanitizer build"
fi
echo "1..$n"

#!/bin/bash
# fakemx-auth.sh - the fake MX's server side of AUTH ("auth" lines of
# tests/fakemx.c), spoken to in raw SMTP over bash's /dev/tcp, so that
# what smtprobe never sends is checked too: PLAIN without an initial
# response, "=", "*", bad base64, the wrong answer after an OAuth error,
# scripted AUTH and AUTHDATA replies. The integration cases then trust
# the fake MX. Prints TAP; talks to 127.0.0.1 only.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
fakemx=$top_builddir/tests/fakemx
work=$(mktemp -d "${TMPDIR:-/tmp}/smtprobe-fakemx-auth.XXXXXX")
fpids=()
cleanup() {
	local p
	exec 3>&- 2>/dev/null
	for p in "${fpids[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT

n=0
failed=0
check() {	# check STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
bail() { echo "Bail out! fakemx-auth: $*"; exit 99; }
[ -x "$fakemx" ] || bail "no fake MX at $fakemx"
command -v openssl >/dev/null || bail "no openssl"
b64() { printf "$1" | base64 -w0; }	# b64 PRINTF-FORMAT: base64
unb64() { printf '%s' "$1" | base64 -d 2>/dev/null; }

# start NAME SCRIPT-LINE...: a fake MX with that script; sets port, log
start() {
	local name=$1
	shift
	printf '%s\n' "$@" > "$work/$name.script"
	log=$work/$name.log
	"$fakemx" -P "$work/$name.port" -l "$log" -t 120 \
		"$work/$name.script" 2> "$work/$name.err" &
	fpids+=("$!")
	for _ in $(seq 1 100); do
		[ -s "$work/$name.port" ] && break
		sleep 0.05
	done
	[ -s "$work/$name.port" ] ||
		bail "fake MX $name did not start: $(cat "$work/$name.err")"
	port=$(cat "$work/$name.port")
}

# reply: read one reply into $reply (all lines, CR removed, joined by
# "|") and $last (its last line)
read_reply() {
	local line
	reply= last=
	while IFS= read -r -t 10 line <&3; do
		line=${line%$'\r'}
		reply=${reply:+$reply|}$line
		last=$line
		[[ $line =~ ^[0-9][0-9][0-9]- ]] || return 0
	done
	last="(no reply)"
}

# session: a new connection, greeted, after EHLO
session() {
	exec 3>&- 2>/dev/null
	exec 3<>"/dev/tcp/127.0.0.1/$port" || bail "cannot connect to $port"
	read_reply
	printf 'EHLO client.test\r\n' >&3
	read_reply
	ehlo=$reply
}

# ask LINE WANT DESCRIPTION: send LINE, the reply's last line must start
# with WANT
ask() {
	printf '%s\r\n' "$1" >&3
	read_reply
	case $last in "$2"*) check 0 "$3" ;; *)
		check 1 "$3"
		echo "#   sent \"$1\", got \"$reply\", want \"$2...\"" ;;
	esac
}

# logged TEXT: the fake MX log has TEXT
logged() {
	grep -qF -- "$1" "$log"
	check $? "log has: $1"
}

# ---- accounts in plaintext ----
start main \
	'auth bob s3cret' \
	'auth tim tanstaaftanstaaf CRAM-MD5,LOGIN' \
	'auth@tls carol tls-only PLAIN' \
	'auth a,b=c tok OAUTHBEARER' \
	'auth sp\x20ace pass\x20word PLAIN'

session
case "|$ehlo|" in
*"|250-AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2 OAUTHBEARER|"*) check 0 "EHLO offers every mechanism of the accounts" ;;
*) check 1 "EHLO offers every mechanism of the accounts"; echo "# $ehlo" ;;
esac
ask "AUTH PLAIN $(b64 '\0bob\0s3cret')" "235 2.7.0 " "PLAIN with an initial response"
logged "*** auth 1 ok PLAIN bob"
ask "AUTH PLAIN $(b64 '\0bob\0s3cret')" "503 5.5.1 " "AUTH again after success: 503"
ask "MAIL FROM:<bob@probe.test>" "250 " "other commands still work"

session
ask "AUTH PLAIN" "334 " "PLAIN without an initial response: 334"
[ "$last" = "334 " ] ; check $? "... with an empty challenge (\"334 \")"
ask "$(b64 '\0bob\0s3cret')" "235 " "... then the response: 235"

session
ask "AUTH PLAIN $(b64 '\0bob\0wrong')" "535 5.7.8 " "PLAIN wrong password: 535 5.7.8"
logged "failed PLAIN: wrong password"
ask "AUTH PLAIN $(b64 '\0nobody\0s3cret')" "535 5.7.8 " "PLAIN unknown user: 535"
ask "AUTH PLAIN $(b64 '\0carol\0tls-only')" "535 5.7.8 " "PLAIN: a TLS-only account does not exist in plaintext"
ask "AUTH PLAIN $(b64 '\0tim\0tanstaaftanstaaf')" "535 5.7.8 " "PLAIN: not a mechanism of that account"
ask "AUTH PLAIN $(b64 'eve\0bob\0s3cret')" "535 5.7.8 " "PLAIN: another authorization identity is refused"
logged "failed PLAIN: authorization identity is not the user"
ask "AUTH PLAIN $(b64 'bob\0s3cret')" "535 5.7.8 " "PLAIN: one NUL only is malformed"
ask "AUTH PLAIN =" "535 5.7.8 " "PLAIN \"=\" (empty initial response) is malformed"
ask "AUTH PLAIN !!!!" "501 5.5.2 " "PLAIN bad base64: 501 5.5.2"
logged "failed PLAIN: bad base64"
ask "AUTH PLAIN QQ=A" "501 5.5.2 " "PLAIN \"=\" inside base64: 501"
ask "AUTH PLAIN AGJvYgBzM2NyZXR" "501 5.5.2 " "PLAIN truncated base64: 501"
ask "AUTH PLAIN AGJvYgBzM2NyZXR=" "501 5.5.2 " "PLAIN base64 with pad bits set: 501"
ask "AUTH PLAIN" "334 " "PLAIN again, no initial response"
ask "*" "501 5.7.0 " "\"*\" cancels: 501 5.7.0"
logged "*** auth 3 cancelled PLAIN"
ask "AUTH PLAIN $(b64 '\0sp ace\0pass word')" "235 " "PLAIN with blanks in user and password (escapes in the script)"

session
ask "AUTH LOGIN" "334 VXNlcm5hbWU6" "LOGIN asks for the user name"
ask "$(b64 bob)" "334 UGFzc3dvcmQ6" "... then for the password"
ask "$(b64 wrong)" "535 5.7.8 " "... wrong password: 535"
logged "*** auth 4 failed LOGIN: wrong password"
ask "AUTH LOGIN $(b64 bob)" "334 UGFzc3dvcmQ6" "LOGIN with the user name as initial response"
ask "*" "501 5.7.0 " "... \"*\" at the password prompt: 501"
ask "AUTH LOGIN" "334 VXNlcm5hbWU6" "LOGIN again"
ask "$(b64 tim)" "334 UGFzc3dvcmQ6" "... user tim"
ask "$(b64 tanstaaftanstaaf)" "235 " "... right password: 235"
logged "*** auth 4 ok LOGIN tim"

# CRAM-MD5: a fresh challenge each time, the HMAC checked
cram() {	# cram USER SECRET: answer the challenge in $last
	local ch dig
	ch=$(unb64 "${last#334 }")
	dig=$(printf '%s' "$ch" | openssl dgst -md5 -hmac "$2" | awk '{ print $NF }')
	b64 "$1 $dig"
}
session
ask "AUTH CRAM-MD5" "334 " "CRAM-MD5 sends a challenge"
ch1=$(unb64 "${last#334 }")
[[ $ch1 =~ ^\<[0-9.]+@fakemx\.test\>$ ]]
check $? "... of the form <digits@fakemx.test> (got \"$ch1\")"
ask "$(cram tim tanstaaftanstaaf)" "235 " "... right digest: 235"
logged "*** auth 5 ok CRAM-MD5 tim"
session
ask "AUTH CRAM-MD5" "334 " "CRAM-MD5 on a new connection"
ch2=$(unb64 "${last#334 }")
[ "$ch1" != "$ch2" ]; check $? "... a fresh challenge ($ch2)"
ask "$(cram tim wrong)" "535 5.7.8 " "... wrong secret: 535"
logged "*** auth 6 failed CRAM-MD5: wrong digest"
ask "AUTH CRAM-MD5" "334 " "CRAM-MD5 again"
ask "$(b64 'tim 0123')" "535 5.7.8 " "... a short digest is malformed: 535"
ask "AUTH CRAM-MD5 $(b64 x)" "501 5.5.2 " "CRAM-MD5 with an initial response: 501"
ask "AUTH CRAM-MD5" "334 " "CRAM-MD5 once more"
ask "$(cram bob s3cret)" "235 " "... bob, whose account has every mechanism"

# XOAUTH2
session
ask "AUTH XOAUTH2 $(b64 'user=bob\001auth=Bearer s3cret\001\001')" "235 " "XOAUTH2 right token: 235"
logged "*** auth 7 ok XOAUTH2 bob"
session
ask "AUTH XOAUTH2 $(b64 'user=bob\001auth=Bearer wrong\001\001')" "334 " "XOAUTH2 wrong token: 334"
json=$(unb64 "${last#334 }")
[ "$json" = '{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}' ]
check $? "... with a base64 JSON error ($json)"
ask "" "535 5.7.8 Username and Password not accepted" "... the client's empty line: 535"
logged "*** auth 8 failed XOAUTH2: wrong token"
ask "AUTH XOAUTH2 $(b64 'user=bob\001auth=Bearer wrong\001\001')" "334 " "XOAUTH2 wrong token again"
ask "AQ==" "501 5.5.2 " "... anything but an empty line after the error: 501"
ask "AUTH XOAUTH2 $(b64 'user=bob\001auth=Bearer wrong\001\001')" "334 " "XOAUTH2 wrong token once more"
ask "*" "501 5.7.0 " "... \"*\" after the error: 501 5.7.0"
ask "AUTH XOAUTH2 $(b64 'user=bob\001auth=Bearer s3cret\001')" "535 5.7.8 " "XOAUTH2 without the final ^A^A is malformed"
ask "AUTH XOAUTH2" "334 " "XOAUTH2 without an initial response"
ask "$(b64 'user=bob\001auth=Bearer s3cret\001\001')" "235 " "... then the payload: 235"

# OAUTHBEARER, with the GS2 escapes
session
ask "AUTH OAUTHBEARER $(b64 'n,a=a=2Cb=3Dc,\001host=mx\001port=25\001auth=Bearer tok\001\001')" "235 " "OAUTHBEARER, user a,b=c escaped: 235"
logged "*** auth 9 ok OAUTHBEARER a,b=c"
session
ask "AUTH OAUTHBEARER $(b64 'n,a=a,b=c,\001auth=Bearer tok\001\001')" "535 5.7.8 " "OAUTHBEARER user not escaped: malformed, 535"
ask "AUTH OAUTHBEARER $(b64 'n,a=a=2Xb,\001auth=Bearer tok\001\001')" "535 5.7.8 " "OAUTHBEARER bad escape: 535"
ask "AUTH OAUTHBEARER $(b64 'p=tls-unique,a=bob,\001auth=Bearer tok\001\001')" "535 5.7.8 " "OAUTHBEARER channel binding flag p=: 535"
ask "AUTH OAUTHBEARER $(b64 'n,a=a=2Cb=3Dc,\001auth=Bearer bad\001\001')" "334 " "OAUTHBEARER wrong token: 334"
json=$(unb64 "${last#334 }")
case $json in '{"status":"invalid_token",'*) check 0 "... with a base64 JSON error" ;;
*) check 1 "... with a base64 JSON error ($json)" ;; esac
ask "$(b64 '\001')" "535 5.7.8 " "... the client's ^A: 535"
logged "*** auth 10 failed OAUTHBEARER: wrong token"
ask "AUTH OAUTHBEARER $(b64 'n,a=a=2Cb=3Dc,\001auth=Bearer bad\001\001')" "334 " "OAUTHBEARER wrong token again"
ask "" "501 5.5.2 " "... an empty line instead of ^A: 501"

# mechanisms and syntax
session
ask "AUTH" "501 5.5.4 " "AUTH without a mechanism: 501"
ask "AUTH DIGEST-MD5" "504 5.5.4 " "unknown mechanism: 504"
ask "AUTH plain $(b64 '\0bob\0s3cret') extra" "501 5.5.4 " "AUTH with too many words: 501"
ask "auth plain $(b64 '\0bob\0s3cret')" "235 " "the verb and mechanism in any case"

# ---- only some mechanisms, only under TLS ----
start limited 'auth bob s3cret PLAIN,LOGIN'
session
case "|$ehlo|" in *"|250-AUTH PLAIN LOGIN|"*) check 0 "EHLO offers only PLAIN LOGIN" ;;
*) check 1 "EHLO offers only PLAIN LOGIN"; echo "# $ehlo" ;; esac
ask "AUTH CRAM-MD5" "504 5.5.4 " "a mechanism not offered: 504"

start tlsonly 'auth@tls bob s3cret' \
	'reply AUTH@plain 530 5.7.0 Must issue a STARTTLS command first'
session
case "|$ehlo|" in *"|250-AUTH"*) check 1 "auth@tls: no AUTH in plaintext EHLO" ;;
*) check 0 "auth@tls: no AUTH in plaintext EHLO" ;; esac
ask "AUTH PLAIN $(b64 '\0bob\0s3cret')" "530 5.7.0 Must issue a STARTTLS" "AUTH@plain rule: 530"

start tlsonly2 'auth@tls bob s3cret'
session
ask "AUTH PLAIN $(b64 '\0bob\0s3cret')" "503 5.5.1 Error: authentication not enabled" "auth@tls without a rule: 503 in plaintext"

# ---- rules beat the built-in AUTH ----
start scripted 'auth bob s3cret' \
	'reply AUTH 454 4.7.0 Temporary authentication failure' \
	'reply AUTH~CRAM-MD5 334 PGNoYWxsZW5nZT4=' \
	'reply AUTH~LOGIN 334 VXNlcm5hbWU6' \
	'reply AUTHDATA~Ym9i 334 UGFzc3dvcmQ6' \
	'reply AUTHDATA~czNjcmV0 334 VGhpcmQ6' \
	'delay AUTHDATA#3 50'
session
ask "AUTH PLAIN $(b64 '\0bob\0s3cret')" "454 4.7.0 " "reply AUTH overrides the check"
! grep -q "auth 1 ok" "$log"; check $? "... and nothing was checked"
ask "AUTH CRAM-MD5" "334 PGNoYWxsZW5nZT4=" "a scripted 334 (AUTH~CRAM-MD5)"
ask "anything" "535 5.7.8 " "... AUTHDATA without a rule: 535"
session
ask "AUTH LOGIN" "334 VXNlcm5hbWU6" "scripted LOGIN prompt"
ask "$(b64 bob)" "334 UGFzc3dvcmQ6" "... AUTHDATA~TEXT scripted"
ask "$(b64 s3cret)" "334 VGhpcmQ6" "... and a third prompt"
ask "*" "501 5.7.0 " "... AUTHDATA#3 delayed, default for \"*\": 501"

# ---- no auth line: AUTH is an unknown command, as before ----
start none 'reply UNKNOWN 502 5.5.1 not here'
session
case "|$ehlo|" in *"|250-AUTH"*) check 1 "no auth line: no AUTH in EHLO" ;;
*) check 0 "no auth line: no AUTH in EHLO" ;; esac
ask "AUTH PLAIN $(b64 '\0bob\0s3cret')" "502 5.5.1 not here" "no auth line: AUTH is UNKNOWN"
start none2 'reply RCPT 550 no'
session
ask "AUTH PLAIN x" "500 5.5.2 " "no auth line, no rule: 500 as before"

# ---- script errors ----
for bad in 'auth bob' 'auth@foo bob s' 'auth bob s PLAIN,FOO' \
	'auth bob s PLAIN extra' 'auth bob\0 s'; do
	printf '%s\n' "$bad" > "$work/bad.script"
	"$fakemx" -t 5 "$work/bad.script" 2> "$work/bad.err"
	[ $? -eq 64 ] && [ -s "$work/bad.err" ]
	check $? "script error: \"$bad\" ($(head -c 80 "$work/bad.err"))"
done

exec 3>&-
if [ "$failed" -gt 0 ]; then
	for f in "$work"/*.log; do
		echo "# --- $f"
		sed 's/^/# /' "$f" | tail -40
	done
fi
echo "1..$n"

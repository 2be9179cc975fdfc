#!/bin/sh
# explain.sh - "smtprobe explain" on pasted replies and on the bounce
# samples in tests/dsn: class, reason, stage and exit status. TAP.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
probe=$top_builddir/smtprobe
dsn=$top_srcdir/tests/dsn
. "$top_srcdir/tests/spool.sh"
spool_init explain
n=0
check() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
# reply: ARGS... -> exit, jq test
reply() {	# reply WANT-EXIT JQ-EXPR ARGS...
	want=$1 expr=$2
	shift 2
	out=$("$probe" explain --json "$@" 2>/dev/null)
	rc=$?
	spool_text "$out" "explain --json $*"
	[ "$rc" = "$want" ] && [ "$(printf '%s' "$out" | jq -r "$expr")" = true ]
	check $? "explain $* -> exit $rc, $expr"
	[ "$rc" = "$want" ] || printf '%s\n' "$out" | sed 's/^/# /'
}
reply 1 '.class == "recipient" and .reason == "user-unknown"' \
	'550 5.1.1 <x@example.net>: Recipient address rejected: User unknown'
reply 1 '.class == "ip" and .reason == "dnsbl" and .stage == "rcpt"' \
	--stage rcpt '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org'
reply 2 '.class == "greylist"' '450 4.2.0 <x@example.net>: Recipient address rejected: Greylisted'
reply 1 '.class == "helo" and .reason == "non-fqdn"' \
	'504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname'
reply 0 '.class == "accepted"' '250 2.0.0 Ok: queued as 4Q7xYz'
reply 1 '.class == "sender" and .enhanced == "5.7.26" and .enhanced_meaning == "Multiple authentication checks failed"' \
	'550-5.7.26 This mail has been blocked because the sender is unauthenticated.' \
	'550 5.7.26 DMARC policy of example.com.'

# a multi-line reply on standard input
out=$(printf '550-5.7.1 Our system has detected that this message is\r\n550 5.7.1 likely unsolicited mail.\r\n' | "$probe" explain --stage eod)
rc=$?
[ $rc = 1 ] && printf '%s\n' "$out" | grep -q 'verdict: content (spam) at eod'
check $? "multi-line reply on stdin: content/spam at eod"
printf '%s\n' "$out" | grep -q '^reply:     550-5.7.1 Our system .* | 550 5.7.1 likely'
check $? "continuation lines joined with |"

# not a reply at all, and words no rule reads
"$probe" explain 'hello there' >/dev/null 2>"${TMPDIR:-/tmp}/explain.$$"
rc=$?
[ $rc = 64 ] && grep -q 'does not start with an SMTP reply code, and its words say nothing known' "${TMPDIR:-/tmp}/explain.$$"
check $? "text without a reply code nor known words: exit 64 and a clear message"
rm -f "${TMPDIR:-/tmp}/explain.$$"
# a reply without its code ("mailbox is full" copied from a bounce or a
# log line): judged on its words alone, said so, the code null in JSON
reply 1 '.class == "recipient" and .reason == "mailbox-full" and .code == null' \
	'mailbox is full'
reply 1 '.class == "network" and .reason == "timeout" and .code == null' \
	'Connection timed out'
out=$("$probe" explain 'User unknown' 2>&1)
[ $? = 1 ] && printf '%s\n' "$out" | grep -q '^\*\* no reply code: judged on its words alone' &&
	printf '%s\n' "$out" | grep -q 'verdict: recipient (user-unknown)'
check $? "a code-less text: the transcript says it was judged on its words"
# the words users think in: connect is the banner, helo is ehlo
reply 1 '.stage == "banner"' --stage connect \
	'554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org'
reply 1 '.stage == "ehlo"' --stage HELO \
	'504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname'
"$probe" explain --stage nowhere '550 x' >/dev/null 2>&1
check $([ $? = 64 ]; echo $?) "unknown --stage: exit 64"

# messages that are not bounces are named for what they are
kind() {	# kind NAME WANT-EXIT WANT-INPUT TEXT
	out=$(printf '%b' "$4" | "$probe" explain --json 2>/dev/null)
	rc=$?
	spool_text "$out" "explain --json: $1"
	[ "$rc" = "$2" ] && [ "$(printf '%s' "$out" | jq -r .input)" = "$3" ]
	check $? "$1: exit $rc, input $3"
}
kind "RFC 3834 auto-reply" 0 auto-reply \
	'From: a@example.com\nSubject: Out of Office: hello\nAuto-Submitted: auto-replied\n\nI am away until Monday.\n'
kind "RFC 5965 feedback report" 0 feedback-report \
	'Content-Type: multipart/report; report-type=feedback-report; boundary=y\n\n--y\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: x/1\nVersion: 1\n\n--y--\n'
kind "bounce by its Subject, without --bounce" 1 bounce \
	'From: MAILER-DAEMON@example.com\nSubject: failure notice\n\n<n@example.org>:\nThe e-mail message could not be delivered because the user'"'"'s mailfolder is full.\n'
kind "a bounce without any reason: recognised, exit 64" 64 bounce \
	'Subject: Undeliverable: hello\n\nDelivery to the following recipients failed.\n\n'
# an ordinary e-mail (RFC 5322 headers, no bounce marker) is not a
# bounce: said so, exit 64, instead of its body judged as a reply
kind "an ordinary e-mail: not a bounce, exit 64" 64 none \
	'Return-Path: <a@example.com>\nReceived: from x by y; Mon, 1 Jan 2024 10:00:00 +0000\nFrom: a@example.com\nTo: b@example.net\nSubject: cheap offers\nMessage-ID: <1@example.com>\n\nWe have blocked prices, the spam filter says they are too good.\n'
kind "a log of an unsubscribe holding a forwarded message: not a bounce" 64 none \
	'----\nsubscriber exists: 1\nunsubscribed? 1\n\nContent-Type: message/rfc822\n\nReceived: from x by y\nTo: b@example.net\nFrom: a@example.com\nSubject: news\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\nThe spam of the week.\n'
out=$(printf 'From: a@example.com\nTo: b@example.net\nSubject: hi\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\nblocked\n' | "$probe" explain 2>&1)
[ $? = 64 ] && printf '%s\n' "$out" | grep -q '^input:     none' &&
	! printf '%s\n' "$out" | grep -q 'verdict:'
check $? "an ordinary e-mail, text output: input none, no verdict"
# Microsoft JMRP report sent as the reported message itself
kind "a JMRP complaint without its Subject: by X-HmXmrOriginalRecipient" 0 feedback-report \
	'Return-Path: u@hotmail.com\nReceived: from x by y\nX-HmXmrOriginalRecipient: r@hotmail.com\nFrom: list@example.com\nTo: r@hotmail.com\nSubject: Monthly offers\n\nBuy now.\n'

# a DSN fragment pasted alone, an exit status that is not a reply, the
# qmail auto-reply loop bounce of the seeds pasted on one line
out=$(printf 'Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 <a@example.net>: Recipient address rejected: User unknown\n' | "$probe" explain --json)
rc=$?
[ $rc = 1 ] && [ "$(printf '%s' "$out" | jq -r '.items[0].class + "/" + .items[0].reason')" = recipient/user-unknown ]
check $? "DSN fragment alone: recipient/user-unknown, exit $rc"
out=$(printf 'Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: X-Unix; 255\n' | "$probe" explain --json)
[ "$(printf '%s' "$out" | jq -r '.items[0].reply')" = null ]
check $? "Diagnostic-Code: X-Unix; 255 is not read as a reply"
out=$(printf '%s\n' "This is a permanent error; I've given up. Sorry it didn't work out. <box@example.net>: AUTORESPOND: This message is looping...it has my Delivered-To header. --- Below this line is a copy of the message" | "$probe" explain --json)
rc=$?
[ $rc = 1 ] && printf '%s' "$out" | jq -e '.input == "bounce" and .items[0].recipient == "box@example.net" and (.items[0].reply | test("looping"))' >/dev/null
check $? "qmail auto-reply loop bounce pasted on one line: a bounce for box@example.net"

# MTA logs (tests/mtalog: lines in Postfix's, Exim's and postqueue -j's
# own forms): one verdict per failed or deferred recipient, the stage
# from the log's words, a summary by class and destination
mlog() {	# mlog FILE JQ-EXPR
	out=$("$probe" explain --json --file "$top_srcdir/tests/mtalog/$1" 2>&1)
	spool_text "$out" "explain --json --file tests/mtalog/$1"
	[ "$(printf '%s' "$out" | jq -r "$2" 2>&1)" = true ]
	check $? "log $1: $2"
}
mlog postfix-maillog.txt '.input == "log" and (.items | length) == 4'
mlog postfix-maillog.txt '[.items[] | .class + "/" + (.stage // "-")] == ["recipient/rcpt", "content/eod", "network/connect", "greylist/rcpt"]'
mlog postfix-maillog.txt '.items[2].remote_mta == "mx.example.org" and .summary.by_destination["example.org"] == 2 and .summary.by_class.recipient == 1'
mlog exim-mainlog.txt '[.items[] | .recipient + " " + .class + "/" + .stage] == ["frank@example.net recipient/rcpt", "grace@example.org greylist/mail"]'
mlog postqueue.json '.items[0].recipient == "heidi@example.net" and .items[0].reason == "mailbox-full" and .items[0].stage == "rcpt"'
reply 1 '.reply == "554 5.7.1 ** blocked == x@example.com"' '554 5.7.1 ** blocked == x@example.com'
"$probe" explain --file "$top_srcdir/tests/mtalog/postfix-maillog.txt" | grep -q '^== summary by class: recipient 1 content 1 network 1 greylist 1$'
check $? "log text output ends with a summary by class"

# bounces: FILE WANT-EXIT JQ-EXPR
bounce() {
	out=$("$probe" explain --json --file "$dsn/$1" 2>&1)
	rc=$?
	spool_text "$out" "explain --json --file tests/dsn/$1"
	[ "$rc" = "$2" ] && [ "$(printf '%s' "$out" | jq -r "$3" 2>&1)" = true ]
	check $? "bounce $1 -> exit $rc, $3"
	[ "$rc" = "$2" ] || printf '%s\n' "$out" | head -20 | sed 's/^/# /'
}
bounce postfix-rcpt-unknown.eml 1 '.items[0].class == "recipient" and .items[0].stage == "rcpt" and .items[0].status == "5.1.1"'
bounce postfix-eod-spam.eml 1 '.items[0].class == "content" and .items[0].stage == "eod"'
bounce postfix-greeting.eml 1 '.items[0].class == "ip" and .items[0].reason == "dnsbl" and .items[0].stage == "banner"'
bounce exim-rcpt.eml 1 '.items[0].class == "recipient" and .items[0].stage == "rcpt"'
bounce exim-mail-from.eml 1 '.items[0].class == "sender" and .items[0].stage == "mail"'
bounce gmail.eml 1 '.items[0].class == "recipient" and .items[0].reason == "user-unknown"'
bounce exchange.eml 1 '.items[0].class == "ip" and .items[0].enhanced == "5.7.606"'
bounce sendmail.eml 1 '.items[0].class == "recipient" and .items[0].stage == "rcpt"'
bounce multi-recipient.eml 1 '(.items | length) == 2 and ([.items[].class] | index("recipient")) != null'
# a multi-status DSN: one verdict per recipient, the first failed one
# decides the bounce's class and its exit status
bounce multi-status.eml 1 '(.items | length) == 3 and .items[0].class == "network" and .decided_by == 2 and .class == "recipient" and .reason == "user-unknown"'
out=$("$probe" explain --file "$dsn/multi-status.eml" 2>&1)
printf '%s\n' "$out" | grep -q '^== bounce: recipient (user-unknown), decided by recipient 3 of 3 (gone@example.org), the first that failed$'
check $? "a multi-status DSN, text output: the deciding recipient named"
# limits: a bounce past DSN_MAX_PARTS MIME parts or DSN_MAX_ITEMS
# recipients says it was cut short (text warning, JSON "truncated")
big=${TMPDIR:-/tmp}/explain-big.$$
{
	printf 'From: MAILER-DAEMON@mx.example\nSubject: Undelivered\n'
	printf 'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
	i=0
	while [ $i -lt 300 ]; do
		printf -- '--B\nContent-Type: text/plain\n\npart %d\n' $i
		i=$((i + 1))
	done
	printf -- '--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\n'
	printf 'Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 5.1.1\n'
	printf 'Diagnostic-Code: smtp; 550 5.1.1 unknown\n\n--B--\n'
} > "$big.parts"
out=$("$probe" explain --json --bounce --file "$big.parts" 2>/dev/null)
[ "$(printf '%s' "$out" | jq -r '.truncated == true and .limits.mime_parts == 256')" = true ]
check $? "bounce past 256 MIME parts: JSON truncated with the limit"
"$probe" explain --bounce --file "$big.parts" 2>/dev/null | grep -q '^!! warning: the bounce has more than 256 MIME parts'
check $? "bounce past 256 MIME parts: a warning in the text output"
{
	printf 'From: MAILER-DAEMON@mx.example\nSubject: Undelivered\n'
	printf 'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
	printf -- '--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n'
	i=0
	while [ $i -lt 1005 ]; do
		printf '\nFinal-Recipient: rfc822; u%d@example.net\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 unknown\n' $i
		i=$((i + 1))
	done
	printf '\n--B--\n'
} > "$big.items"
out=$("$probe" explain --json --bounce --file "$big.items" 2>/dev/null)
[ "$(printf '%s' "$out" | jq -r '.truncated == true and .limits.items == 1000 and (.items | length) == 1000')" = true ]
check $? "bounce of 1005 recipients: JSON truncated at 1000 items"
"$probe" explain --bounce --file "$big.items" 2>/dev/null | grep -q '^!! warning: the bounce names more than 1000 recipients'
check $? "bounce of 1005 recipients: a warning in the text output"
out=$("$probe" explain --json --file "$dsn/multi-recipient.eml" 2>/dev/null)
[ "$(printf '%s' "$out" | jq -r '.truncated == false and has("limits") == false')" = true ]
check $? "a whole bounce: truncated false"
rm -f "$big.parts" "$big.items"
echo "1..$n"

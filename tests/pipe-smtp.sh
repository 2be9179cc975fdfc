#!/bin/sh
# pipe-smtp.sh [BANNER] - a tiny SMTP server on stdin/stdout for the
# --pipe cases (tests/cases/pipe-cmd-*.case): greets with BANNER (default
# "220 pipe.test ESMTP"), answers EHLO/HELO with its name and 8BITMIME,
# echoes every other command back in its 250 ("250 2.0.0 got MAIL
# FROM:<a@b>"), takes a message after DATA and counts its lines, 221 to
# QUIT. It says "pipe-smtp: stderr works" on stderr at the start.
cr=$(printf '\r')
echo "pipe-smtp: stderr works" >&2
printf '%s\r\n' "${1:-220 pipe.test ESMTP}"
while IFS= read -r l; do
	l=${l%"$cr"}
	case $l in
	EHLO*|HELO*|ehlo*|helo*)
		printf '250-pipe.test hello %s\r\n250 8BITMIME\r\n' "${l#* }" ;;
	DATA|data)
		printf '354 go ahead\r\n'
		n=0
		while IFS= read -r m; do
			[ "${m%"$cr"}" = . ] && break
			n=$((n + 1))
		done
		printf '250 2.0.0 got %s lines\r\n' "$n" ;;
	QUIT|quit)
		printf '221 2.0.0 bye\r\n'
		exit 0 ;;
	*)
		printf '250 2.0.0 got %s\r\n' "$l" ;;
	esac
done

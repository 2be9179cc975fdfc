#!/bin/sh
# demo.sh - install, build, and probe the bundled fake MX on loopback:
# STARTTLS with a verified test certificate, two recipients, one of them
# refused. Nothing leaves the machine.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/install-deps.sh
sh scripts/build.sh build >/dev/null
b=$top/build
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT INT TERM
cat > "$work/script" <<'MX'
reply CONNECT 220 mx.fake.test ESMTP fakemx (smtprobe demo)
reply RCPT#2 550 5.1.1 <nobody@fake.test>: Recipient address rejected: User unknown in local recipient table
MX
"$b/tests/fakemx" -P "$work/port" -t 60 -c "$b/tests/certs/server.pem" \
	-k "$b/tests/certs/server.key" "$work/script" &
pid=$!
i=0
while [ ! -s "$work/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
port=$(cat "$work/port")
echo "\$ smtprobe -s 127.0.0.1:$port --starttls --tls-verify ... -f demo@smtprobe.test -t postmaster@fake.test -t nobody@fake.test"
rc=0
"$b/smtprobe" -s "127.0.0.1:$port" --helo demo.smtprobe.test --starttls \
	--tls-verify --tls-ca-file "$b/tests/certs/ca.pem" \
	--tls-sni mx.fake.test -f demo@smtprobe.test \
	-t postmaster@fake.test -t nobody@fake.test || rc=$?
echo "(exit status $rc: 1 means a permanent rejection, here of one recipient)"
[ $rc -eq 1 ]

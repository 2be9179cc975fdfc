#!/bin/bash
# interop.sh - smtprobe against real Postfix, Exim and OpenSMTPD servers on
# loopback; prints TAP. Run by `make check` (tests/interop.am).
#
# The whole run happens in namespaces of its own (unshare: network,
# mount, PID): a private loopback where the ports and port 53 are ours,
# a private /etc/resolv.conf (bind mount) pointing at our DNS server,
# and a PID namespace whose end kills anything left behind. Inside it:
#
#   DNS      unbound on 127.0.0.53:53, zones from unbound.conf.in: the
#            servers' domain, the senders' domains and a DNSBL; the
#            root is static, so no query leaves.
#   pf-now   Postfix, smtpd_delay_reject=no    BASE+0 main (STARTTLS,
#            AUTH), BASE+1 STARTTLS required, BASE+2 submission
#            (reject_sender_login_mismatch)
#   pf-delay Postfix, smtpd_delay_reject=yes   BASE+3
#   pf-screen postscreen before pf-now's smtpd BASE+7 (DNSBL and
#            pregreet: drop), BASE+8 (enforce: refused at RCPT)
#   exim     Exim 4 with -C, as root           BASE+4 main (STARTTLS,
#            AUTH), BASE+5 STARTTLS required, BASE+6 AUTH required
#   dovecot  Dovecot LMTP only                 BASE+10, and the unix
#            socket WORK/dovecot/lmtp.sock (server dovecot-unix); one
#            user, user@lmtp.interop.test. Dovecot finds its programs
#            and libraries at compiled-in paths (/usr/lib/dovecot,
#            /usr/bin/doveconf): the unpacked packages are laid over
#            /usr/lib and /usr/bin with read-only overlay mounts, in
#            this mount namespace only.
#
# and for the check scenarios (scenarios/*.scn, cases in
# tests/interop/checks), BASE+20..BASE+29:
#   pf-now   more listeners                    BASE+20 stock (as the
#            main one: smtpd_forbid_bare_newline at its default, no),
#            BASE+21 fixed (smtpd_forbid_bare_newline = normalize,
#            no exclusions), BASE+22 relaying (mynetworks =
#            127.0.0.0/8: everything relays from loopback), BASE+23
#            no STARTTLS
#   exim     more ports                        BASE+24 relaying (the
#            RCPT ACL accepts anything from 127.0.0.0/8), BASE+25 no
#            STARTTLS
#   osmtpd   OpenSMTPD, -d -f, as root, in a   BASE+26 main (STARTTLS,
#            mount namespace of its own        local recipients only,
#            (private /run, /var/spool, /var/  EHLO names need a dot),
#            lib: its compiled-in paths)       BASE+27 an open relay,
#                                              BASE+28 no STARTTLS
#   pf-asif  Postfix, smtpd_delay_reject=yes,  BASE+15 XCLIENT and
#            XFORWARD for 127.0.0.0/8          XFORWARD offered, BASE+16
#            (smtpd_authorized_*_hosts)        PROXY protocol first
#                                              (smtpd_upstream_proxy_
#                                              protocol = haproxy)
#   --pipe   Exim's -bh test mode (the exim config above, no daemon):
#            smtprobe --pipe 'exim -C CONF -bh ADDR'
#
# BASE is $SMTPROBE_PORT_BASE (default 42500); every port is checked free
# before anything starts. Each server has a private config, queue/spool
# and log under a temporary work directory; accepted mail is discarded
# by the server (Postfix: the discard transport; Exim: :blackhole:).
# Everything started is stopped by PID on exit, also on failure.
#
# Cases come from tests/interop/cases (one line each, described there).
# For each case smtprobe runs with --json; one TAP line checks the exit
# code, the stage and the reply code, a second the verdict. A case whose
# verdict smtprobe is known to get wrong is marked "todo" in the cases
# file: its verdict line is then a TAP TODO until the rule is fixed (and
# an unexpected pass reports XPASS, a reminder to remove the mark).
#
# The servers (Postfix, Exim, unbound, saslpasswd2) are not installed
# packages: scripts/servers.sh unpacks them into a private cache on
# first use and prints where (its directory goes first in PATH; each
# Postfix instance's main.cf gets the lines that point it at the
# unpacked tree). No service of the machine is started, stopped or
# reconfigured; a system Postfix or Exim, if any, is never touched.
#
# Needs root, unshare, and the test_interop packages of
# scripts/install-deps.sh (swaks, the libraries); without them, or
# when scripts/servers.sh cannot unpack the servers (offline, first
# run), the test is skipped, unless SMTPROBE_INTEROP_REQUIRED=1 or CI
# is set, when it fails.
# SMTPROBE_INTEROP_KEEP=1 keeps the work directory for inspection.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/spool.sh"
spool_init interop
probe=$top_builddir/smtprobe
certs=$top_builddir/tests/certs

# Credentials of the AUTH test account (both MTAs); nothing secret.
# AUTH_WRONG is the password of the failing cases. smtprobe reads them
# from the environment (SMTPROBE_INTEROP_PASS, SMTPROBE_INTEROP_WRONG)
# or from files (@WORK@/auth-pass, @WORK@/auth-wrong in a case's args).
AUTH_USER=probeuser
AUTH_PASS=interop-secret-1
AUTH_WRONG=interop-wrong-2

# ---- outside the namespaces: prerequisites, setup, enter ----
if [ "${1:-}" != --inside ]; then
	skip() {
		if [ -n "${SMTPROBE_INTEROP_REQUIRED:-}${CI:-}" ]; then
			echo "Bail out! interop: $*"
			exit 99
		fi
		echo "1..0 # SKIP interop: $*"
		exit 0
	}
	t_start=$(date +%s%N)
	[ -x "$probe" ] || { echo "Bail out! no smtprobe at $probe"; exit 99; }
	[ -f "$certs/server.pem" ] ||
		{ echo "Bail out! no test certificates in $certs"; exit 99; }
	[ "$(id -u)" -eq 0 ] || skip "needs root (namespaces, MTAs)"
	PATH=$PATH:/usr/sbin:/sbin
	for c in unshare ip ss jq swaks; do
		command -v "$c" >/dev/null ||
			skip "no $c (sh scripts/install-deps.sh --test)"
	done
	unshare --net --mount true 2>/dev/null ||
		skip "cannot create namespaces here (unshare --net --mount)"
	srv=$(sh "$top_srcdir/scripts/servers.sh" env) ||
		skip "scripts/servers.sh could not unpack the servers"
	eval "$srv"
	for c in unbound saslpasswd2 postfix smtpd; do
		[ -x "$SERVERS_BIN/$c" ] || skip "no $c in $SERVERS_BIN"
	done
	PATH=$SERVERS_BIN:$PATH
	exim=$EXIM
	t_setup=$(date +%s%N)
	export PATH POSTFIX_MAIN_CF exim t_start t_setup top_srcdir \
		DOVECOT_CORE DOVECOT_LMTPD \
		top_builddir
	# unshare ignores SIGINT and SIGTERM while it waits; if it is
	# killed, the inner shell gets SIGTERM and stops what it started
	# (and when that shell ends, the PID namespace takes the rest).
	exec unshare --net --mount --pid --fork --mount-proc \
		--kill-child=SIGTERM bash "$0" --inside
fi

# ---- inside: private network, mounts and PIDs ----
base=${SMTPROBE_PORT_BASE:-42500}
dns_addr=127.0.0.53
work=
pids=()		# "NAME PID" of everything started, stopped in reverse

n=0
nfail=0
# tap STATUS DESCRIPTION... - one TAP line; the words of the description
# are joined by spaces. A last word "TODO ..." is the TAP directive.
tap() {
	local st=$1 desc dir=
	shift
	case ${!#} in "TODO "*) dir=${!#}; set -- "${@:1:$#-1}" ;; esac
	case ${!#} in '') set -- "${@:1:$#-1}" ;; esac
	desc="$*"
	n=$((n + 1))
	if [ "$st" -eq 0 ]; then
		echo "ok $n - $desc${dir:+ # $dir}"
	else
		echo "not ok $n - $desc${dir:+ # $dir}"
		[ -n "$dir" ] || nfail=$((nfail + 1))
	fi
}
bail() { echo "Bail out! interop: $*"; exit 99; }	# bail WORDS...
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
secs() { printf '%d.%01d' $(($1 / 1000)) $(($1 % 1000 / 100)); }

cleanup() {
	local i name pid
	trap - EXIT INT TERM HUP
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		name=${pids[i]% *}
		pid=${pids[i]#* }
		kill -TERM "$pid" 2>/dev/null || continue
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "# $name (pid $pid) did not stop, killing it"
			kill -KILL "$pid" 2>/dev/null
		fi
	done
	if [ -n "$work" ]; then
		if [ -n "${SMTPROBE_INTEROP_KEEP:-}" ]; then
			echo "# work directory kept: $work"
		else
			rm -rf "$work"
		fi
	fi
}
trap cleanup EXIT
trap 'exit 99' INT TERM HUP

# fill TEMPLATE OUT NAME=VALUE... - copy TEMPLATE to OUT, replacing
# each @NAME@ by VALUE
fill() {
	local in=$1 out=$2 kv expr=()
	shift 2
	for kv in "$@"; do
		expr+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
	done
	sed "${expr[@]}" "$in" > "$out"
	! grep -q '@[A-Z_]*@' "$out" || bail "unfilled field in $out"
}

# listening PORT [udp] - true when something listens on PORT
listening() {
	if [ "${2:-}" = udp ]; then
		[ -n "$(ss -Hlun "( sport = :$1 )")" ]
	else
		[ -n "$(ss -Hltn "( sport = :$1 )")" ]
	fi
}

# wait_port NAME PORT [udp] - wait up to 10 s for a listener
wait_port() {
	for _ in $(seq 1 100); do
		listening "$2" "${3:-}" && return 0
		sleep 0.1
	done
	bail "$1 does not listen on port $2"
}

ip link set lo up || bail "cannot bring up lo"
case $base in
''|*[!0-9]*) bail "SMTPROBE_PORT_BASE=$base is not a port number" ;;
esac
[ "$base" -ge 1024 ] && [ "$base" -le 65000 ] ||
	bail "SMTPROBE_PORT_BASE=$base: use 1024..65000"
declare -A port=(
	[pf-now]=$base [pf-now-tls]=$((base + 1)) [pf-now-sub]=$((base + 2))
	[pf-delay]=$((base + 3))
	[pf-screen]=$((base + 7)) [pf-screen-enforce]=$((base + 8))
	[exim]=$((base + 4)) [exim-tls]=$((base + 5)) [exim-auth]=$((base + 6))
	[pf-stock]=$((base + 20)) [pf-fixed]=$((base + 21))
	[pf-relay]=$((base + 22)) [pf-notls]=$((base + 23))
	[exim-relay]=$((base + 24)) [exim-notls]=$((base + 25))
	[osmtpd]=$((base + 26)) [osmtpd-relay]=$((base + 27))
	[osmtpd-notls]=$((base + 28))
	[dovecot]=$((base + 10))
	[pf-asif]=$((base + 15)) [pf-asif-proxy]=$((base + 16))
)
declare -A sock=()	# servers reached over a unix socket
for p in "${port[@]}"; do
	listening "$p" && bail "port $p is in use (set SMTPROBE_PORT_BASE)"
done
listening 53 udp && bail "port 53 is in use inside the namespace"

work=$(mktemp -d "${TMPDIR:-/tmp}/smtprobe-interop.XXXXXX")
# the MTAs' unprivileged users must reach their directories
chmod 755 "$work"

# ---- DNS ----
# Until tests/dns/servers.sh can serve these zones on port 53 of a
# loopback address, the interop run starts its own unbound.
start_dns() {
	mkdir -p "$work/dns"
	fill "$here/unbound.conf.in" "$work/dns/unbound.conf" \
		DIR="$work/dns" ADDR="$dns_addr"
	unbound -d -c "$work/dns/unbound.conf" 2> "$work/dns/stderr" &
	pids+=("unbound $!")
	wait_port unbound 53 udp
	printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$dns_addr" \
		> "$work/resolv.conf"
	local conf
	conf=$(readlink -f /etc/resolv.conf)
	[ -f "$conf" ] || bail "no /etc/resolv.conf to bind over"
	mount --bind "$work/resolv.conf" "$conf" ||
		bail "cannot bind-mount a private resolv.conf"
}

# ---- Postfix ----
# prepare_postfix NAME DELAY - one instance with its own config
# directory, queue, data directory, log and sasldb
prepare_postfix() {
	local name=$1 delay=$2 d=$work/$1 extra master
	mkdir -p "$d/etc/sasl" "$d/spool" "$d/data"
	chown postfix "$d/data"
	for f in client_access sender_access recipients sender_login \
		header_checks body_checks; do
		cp "$here/postfix/$f" "$d/etc/$f"
	done
	fill "$here/postfix/main.cf.in" "$d/etc/main.cf" DIR="$d" \
		CONF="$d/etc" HOST="$name.interop.test" DELAY="$delay"
	# where the unpacked Postfix lives (scripts/servers.sh)
	cat "$POSTFIX_MAIN_CF" >> "$d/etc/main.cf"
	extra=
	if [ "$name" = pf-now ]; then
		extra="127.0.0.1:${port[pf-now-tls]} inet n - n - - smtpd
  -o smtpd_tls_security_level=encrypt
127.0.0.1:${port[pf-now-sub]} inet n - n - - smtpd
  -o smtpd_client_restrictions=
  -o smtpd_sender_restrictions=reject_sender_login_mismatch
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
		# the check scenarios' listeners (tests/interop/checks)
		extra="$extra
127.0.0.1:${port[pf-stock]} inet n - n - - smtpd
127.0.0.1:${port[pf-fixed]} inet n - n - - smtpd
  -o smtpd_forbid_bare_newline=normalize
  -o smtpd_forbid_bare_newline_exclusions=
127.0.0.1:${port[pf-relay]} inet n - n - - smtpd
  -o mynetworks=127.0.0.0/8
127.0.0.1:${port[pf-notls]} inet n - n - - smtpd
  -o smtpd_tls_security_level=none
  -o smtpd_sasl_auth_enable=no"
		# postscreen in front of the main smtpd: the 220- teaser, the
		# pregreet test and bl.interop.test, with the drop action on
		# one port and enforce (refused at RCPT) on the other; a
		# short greet wait keeps the cases quick. Each postscreen has
		# a cache of its own: a btree cache is locked by the one
		# process that opens it, and a second one would wait forever
		extra="$extra
127.0.0.1:${port[pf-screen]} inet n - n - 1 postscreen
  -o postscreen_dnsbl_sites=bl.interop.test*2
  -o postscreen_dnsbl_threshold=2
  -o postscreen_dnsbl_action=drop
  -o postscreen_greet_action=drop
  -o postscreen_greet_wait=2s
127.0.0.1:${port[pf-screen-enforce]} inet n - n - 1 postscreen
  -o postscreen_dnsbl_sites=bl.interop.test*2
  -o postscreen_dnsbl_threshold=2
  -o postscreen_dnsbl_action=enforce
  -o postscreen_greet_action=enforce
  -o postscreen_greet_wait=2s
  -o postscreen_cache_map=btree:\$data_directory/postscreen_cache_enforce
smtpd pass - - n - - smtpd
dnsblog unix - - n - 0 dnsblog
tlsproxy unix - - n - 0 tlsproxy"
	fi
	if [ "$name" = pf-asif ]; then
		# as if from another client: XCLIENT and XFORWARD for the
		# loopback clients; the second port wants a PROXY header
		printf '%s\n' "smtpd_authorized_xclient_hosts = 127.0.0.0/8" \
			"smtpd_authorized_xforward_hosts = 127.0.0.0/8" \
			>> "$d/etc/main.cf"
		extra="127.0.0.1:${port[pf-asif-proxy]} inet n - n - - smtpd
  -o smtpd_upstream_proxy_protocol=haproxy"
	fi
	master=$(awk -v extra="$extra" '$0 == "@EXTRA@" { print extra; next }
		{ print }' "$here/postfix/master.cf.in")
	printf '%s\n' "$master" > "$d/etc/master.cf.tmp"
	fill "$d/etc/master.cf.tmp" "$d/etc/master.cf" PORT="${port[$name]}"
	rm -f "$d/etc/master.cf.tmp"
	install -m 644 "$certs/server.pem" "$d/server.pem"
	install -m 600 "$certs/server.key" "$d/server.key"
	printf '%s\n' "pwcheck_method: auxprop" "auxprop_plugin: sasldb" \
		"mech_list: PLAIN LOGIN" "sasldb_path: $d/sasldb2" \
		> "$d/etc/sasl/smtpd.conf"
	printf '%s' "$AUTH_PASS" | saslpasswd2 -p -c -f "$d/sasldb2" \
		-u interop.test "$AUTH_USER" || bail "saslpasswd2 failed"
	chown root:postfix "$d/sasldb2"
	chmod 640 "$d/sasldb2"
}

# run_postfix NAME... - start the prepared instances side by side ("start"
# creates the queue directories and checks the setup: seconds each),
# then record each master's PID
run_postfix() {
	local name d pid i=0 starter=() rc=()
	for name in "$@"; do
		postfix -c "$work/$name/etc" start \
			> "$work/$name/start.log" 2>&1 &
		starter+=("$!")
	done
	for name in "$@"; do
		wait "${starter[i]}"
		rc+=("$?")
		i=$((i + 1))
	done
	# record every master that runs before judging any of them
	i=0
	for name in "$@"; do
		d=$work/$name
		pid=
		for _ in $(seq 1 50); do
			pid=$(tr -dc 0-9 2>/dev/null \
				< "$d/spool/pid/master.pid")
			[ -z "$pid" ] && [ "${rc[i]}" -eq 0 ] || break
			sleep 0.1
		done
		[ -z "$pid" ] || pids+=("postfix-$name $pid")
		i=$((i + 1))
	done
	i=0
	for name in "$@"; do
		d=$work/$name
		[ "${rc[i]}" -eq 0 ] || bail "postfix start ($name):" \
			"$(head -c 600 "$d/start.log")"
		grep -q "postfix-$name " <<< "${pids[*]}" ||
			bail "postfix $name wrote no master.pid"
		i=$((i + 1))
	done
}

# ---- Exim ----
start_exim() {
	local d=$work/exim
	mkdir -p "$d/spool" "$d/log"
	chown Debian-exim:Debian-exim "$d/spool" "$d/log"
	install -m 644 "$certs/server.pem" "$d/server.pem"
	install -m 640 -g Debian-exim "$certs/server.key" "$d/server.key"
	fill "$here/exim/exim.conf.in" "$d/exim.conf" DIR="$d" \
		EXIM="$exim" HOST="exim.interop.test" PORT="${port[exim]}" \
		PORT_TLS="${port[exim-tls]}" PORT_AUTH="${port[exim-auth]}" \
		PORT_RELAY="${port[exim-relay]}" \
		PORT_NOTLS="${port[exim-notls]}" \
		AUTH_USER="$AUTH_USER" AUTH_PASS="$AUTH_PASS"
	chmod 644 "$d/exim.conf"
	"$exim" -C "$d/exim.conf" -bV > "$d/check.log" 2>&1 ||
		bail "exim -bV: $(head -c 600 "$d/check.log")"
	"$exim" -C "$d/exim.conf" -bdf > "$d/stderr" 2>&1 &
	pids+=("exim $!")
}

# ---- OpenSMTPD ----
# Its queue (/var/spool/smtpd), control socket (/run/smtpd.sock) and
# chroot (/var/lib/opensmtpd/empty) are compiled in: it runs in a mount
# namespace of its own where those three trees are private tmpfs.
start_osmtpd() {
	local d=$work/osmtpd
	mkdir -p "$d"
	install -m 644 "$certs/server.pem" "$d/server.pem"
	install -m 600 "$certs/server.key" "$d/server.key"
	printf '%s\n' 'user@interop.test' 'postmaster@interop.test' \
		> "$d/recipients"
	printf '%s\n' '\.' > "$d/dotted"
	fill "$here/opensmtpd/smtpd.conf.in" "$d/smtpd.conf" DIR="$d" \
		HOST="osmtpd.interop.test" PORT="${port[osmtpd]}" \
		PORT_RELAY="${port[osmtpd-relay]}" \
		PORT_NOTLS="${port[osmtpd-notls]}" PORT_PF="${port[pf-now]}"
	smtpd -n -f "$d/smtpd.conf" > "$d/check.log" 2>&1 ||
		bail "smtpd -n: $(head -c 600 "$d/check.log")"
	unshare --mount sh -c 'mount -t tmpfs -o mode=755 osmtpd-run /run &&
		mount -t tmpfs -o mode=755 osmtpd-spool /var/spool &&
		mkdir -m 711 /var/spool/smtpd &&
		mount -t tmpfs -o mode=755 osmtpd-lib /var/lib &&
		mkdir -p -m 755 /var/lib/opensmtpd/empty &&
		exec smtpd -d -f "$1"' sh "$d/smtpd.conf" > "$d/log" 2>&1 &
	pids+=("osmtpd $!")
}

# ---- Dovecot (LMTP) ----
start_dovecot() {
	local d=$work/dovecot lib bin
	[ -x "$DOVECOT_CORE/usr/sbin/dovecot" ] &&
		[ -x "$DOVECOT_LMTPD/usr/lib/dovecot/lmtp" ] ||
		bail "no unpacked Dovecot (scripts/servers.sh)"
	# its compiled-in paths, in this mount namespace only
	lib=$DOVECOT_LMTPD/usr/lib:$DOVECOT_CORE/usr/lib:/usr/lib
	bin=$DOVECOT_CORE/usr/bin:/usr/bin
	mount -t overlay overlay -o "lowerdir=$lib" /usr/lib &&
		mount -t overlay overlay -o "lowerdir=$bin" /usr/bin ||
		bail "cannot lay the unpacked Dovecot over /usr"
	mkdir -p "$d/mail"
	chmod 777 "$d/mail"
	printf 'user@lmtp.interop.test:{PLAIN}x:65534:65534::%s\n' \
		"$d/mail/user" > "$d/users"
	fill "$here/dovecot/dovecot.conf.in" "$d/dovecot.conf" DIR="$d" \
		PORT="${port[dovecot]}"
	"$DOVECOT_CORE/usr/sbin/dovecot" -F -c "$d/dovecot.conf" \
		> "$d/stderr" 2>&1 &
	pids+=("dovecot $!")
	sock[dovecot-unix]=$d/lmtp.sock
}

t_servers=$(date +%s%N)
start_dns
prepare_postfix pf-now no
prepare_postfix pf-delay yes
prepare_postfix pf-asif yes
run_postfix pf-now pf-delay pf-asif
start_exim
start_osmtpd
start_dovecot
for s in "${!port[@]}"; do
	wait_port "$s" "${port[$s]}"
done
for s in "${!sock[@]}"; do
	for _ in $(seq 1 100); do
		[ -S "${sock[$s]}" ] && break
		sleep 0.1
	done
	[ -S "${sock[$s]}" ] || bail "$s: no socket ${sock[$s]}"
done
t_cases=$(date +%s%N)
echo "# servers up in $(secs "$(ms "$t_servers")") s" \
	"(ports $base..$((base + 8)), $((base + 10)), $((base + 15))..$((base + 16)),"\
	" $((base + 20))..$((base + 28)), DNS $dns_addr:53)"

# The private resolver answers the test zones and nothing else.
[ "$(getent hosts mx.interop.test | awk '{ print $1 }')" = 127.0.0.1 ]
tap $? "dns: mx.interop.test resolves through the private resolv.conf"
! getent hosts nx.invalid > /dev/null
tap $? "dns: names outside the test zones do not resolve"

# ---- cases ----
# logfile SERVER - the server's log
logfile() {
	case $1 in
	pf-now*|pf-screen*) echo "$work/pf-now/maillog" ;;
	pf-delay*) echo "$work/pf-delay/maillog" ;;
	pf-asif*) echo "$work/pf-asif/maillog" ;;
	exim*) echo "$work/exim/log/mainlog" ;;
	osmtpd*) echo "$work/osmtpd/log" ;;
	dovecot*) echo "$work/dovecot/dovecot.log" ;;
	esac
}

# check_log SERVER TEXT - wait up to 10 s for TEXT in the server's log
# (delivery to discard happens after the reply)
check_log() {
	local f
	f=$(logfile "$1")
	for _ in $(seq 1 100); do
		grep -qF -- "$2" "$f" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# The AUTH passwords as they would leak: as they are, base64 (LOGIN)
# and in a PLAIN payload.
secret_forms=()
for p in "$AUTH_PASS" "$AUTH_WRONG"; do
	secret_forms+=("$p" "$(printf '%s' "$p" | base64 -w0)"
		"$(printf '\0%s\0%s' "$AUTH_USER" "$p" | base64 -w0)")
done
export SMTPROBE_INTEROP_PASS=$AUTH_PASS SMTPROBE_INTEROP_WRONG=$AUTH_WRONG
printf '%s\n' "$AUTH_PASS" > "$work/auth-pass"
printf '%s\n' "$AUTH_WRONG" > "$work/auth-wrong"

# check_secrets - for an AUTH case (run_case's variables): run it again
# for the transcript and JUnit XML; no output of either run may hold a
# password or its base64
check_secrets() {
	local s hit=
	timeout -k 5 90 "$probe" -s "127.0.0.1:${port[$server]}" --timeout 30 \
		--junit "$out.xml" "${argv[@]}" > "$out.txt" 2> "$out.txt.err"
	for s in "${secret_forms[@]}"; do
		grep -qF -- "$s" "$out.json" "$out.err" "$out.txt" \
			"$out.txt.err" "$out.xml" 2>/dev/null && hit="$hit $s"
	done
	[ -s "$out.txt" ] && [ -s "$out.xml" ] && [ -z "$hit" ]
	tap $? "$name: no output (JSON, transcript, JUnit, stderr) holds" \
		"a password or its base64${hit:+ (found:$hit)}"
}

# run_case NAME SERVER EXIT STAGE CODE CLASS REASON MARK ARGS EXTRA...
run_case() {
	local name=$1 server=$2 want_exit=$3 stage=$4 code=$5 class=$6 \
		reason=$7 mark=$8 args=$9 out rc got ok directive x
	shift 9
	local extras=("$@") argv target
	out=$work/case-$name
	[ -n "${port[$server]:-}${sock[$server]:-}" ] ||
		bail "case $name: no server $server"
	target=127.0.0.1:${port[$server]:-}
	[ -z "${sock[$server]:-}" ] || target=unix:${sock[$server]}
	args=${args//@SRC@/$here}
	args=${args//@CERTS@/$certs}
	args=${args//@WORK@/$work}
	eval "argv=($args)" || bail "case $name: bad arguments: $args"
	timeout -k 5 90 "$probe" -s "$target" --timeout 30 \
		--json "${argv[@]}" > "$out.json" 2> "$out.err"
	rc=$?
	spool "$out.json" "case $name against $server"
	case " ${argv[*]} " in *" --auth "*) check_secrets ;; esac
	if ! jq -e . "$out.json" > /dev/null 2>&1; then
		tap 1 "$name: --json output is valid JSON (exit $rc)"
		sed 's/^/# /' "$out.err" | head -20
		tap 1 "$name: verdict $class${reason:+/$reason}"
		return
	fi
	# the step that decided: result.stage, or for an accepted session
	# the named step; its reply code; and the verdict
	got=$(jq -r --arg s "$stage" '[
		(.result.stage // "-"),
		([.steps[] | select(.stage == $s)] | last | .reply.code // "-"),
		(.verdict.class // "-"), (.verdict.reason // "-"),
		(.verdict.stage // "-")] | join(" ")' "$out.json")
	local g_stage g_code g_class g_reason g_vstage
	read -r g_stage g_code g_class g_reason g_vstage <<< "$got"
	local w_stage=$stage
	[ "$class" = accepted ] && w_stage=-
	ok=0
	[ "$rc" = "$want_exit" ] && [ "$g_stage" = "$w_stage" ] &&
		[ "$g_code" = "$code" ] || ok=1
	tap $ok "$name ($server): exit $rc, stage $g_stage, code $g_code" \
		"(want $want_exit, $w_stage, $code)"
	[ $ok -eq 0 ] || failed_servers+=" $server"
	ok=0
	[ "$g_class" = "$class" ] || ok=1
	[ "$reason" = - ] || [ "$g_reason" = "$reason" ] || ok=1
	[ "$class" = accepted ] || [ "$g_vstage" = "$stage" ] || ok=1
	directive=
	[ "$mark" = todo ] && directive="TODO verdict"
	tap $ok "$name: verdict $g_class/$g_reason at $g_vstage" \
		"(want $class/$reason at $stage)" "$directive"
	if [ $ok -ne 0 ]; then
		[ -n "$directive" ] || failed_servers+=" $server"
		jq -r --arg s "$stage" '"#   reply: " + ([.steps[] |
			select(.stage == $s and .reply != null)] | last |
			.reply.lines // [] | join(" | ")),
			"#   verdict: " + (.verdict | tostring)' "$out.json" |
			head -c 2000
		echo
	fi
	for x in "${extras[@]}"; do
		case $x in
		log:*)	check_log "$server" "${x#log:}"
			ok=$?
			tap $ok "$name: $server log has: ${x#log:}" ;;
		jq:*)	[ "$(jq -r "${x#jq:}" "$out.json" 2>&1)" = true ]
			ok=$?
			tap $ok "$name: json: ${x#jq:}" ;;
		*)	bail "case $name: unknown check '$x'" ;;
		esac
		[ $ok -eq 0 ] || failed_servers+=" $server"
	done
}

ncases=0
failed_servers=
while IFS= read -r line || [ -n "$line" ]; do
	case $line in ''|'#'*) continue ;; esac
	# "\|" is a "|" inside a field (a jq pipe)
	line=${line//'\|'/$'\001'}
	IFS='|' read -r -a f <<< "$line"
	for i in "${!f[@]}"; do
		f[i]=$(printf '%s' "${f[i]//$'\001'/|}" |
			sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
	done
	[ "${#f[@]}" -ge 9 ] || bail "cases: short line: $line"
	run_case "${f[@]}"
	ncases=$((ncases + 1))
done < "$here/cases"

# ---- the check scenarios (tests/interop/checks) ----
# run_check NAME SERVER EXIT VERDICT FINDINGS MARK ARGS - a shipped
# scenario against a server: the exit code, the verdict of the session
# that decided (the first whose verdict is not accepted, else
# accepted/accepted) and the findings every session reached
run_check() {
	local name=$1 server=$2 want_exit=$3 want_v=$4 want_f=$5 mark=$6 \
		args=$7 out rc got_v got_f ok k directive=
	out=$work/check-$name
	[ -n "${port[$server]:-}" ] || bail "check $name: no server $server"
	local argv
	args=${args//@SCN@/$top_srcdir/scenarios}
	args=${args//@CERTS@/$certs}
	eval "argv=($args)" || bail "check $name: bad arguments: $args"
	timeout -k 5 120 "$probe" -s "127.0.0.1:${port[$server]}" \
		--timeout 30 --json "${argv[@]}" > "$out.json" 2> "$out.err"
	rc=$?
	got_v=$(jq -r '[.runs[].sessions[].verdict |
		select(.class != "accepted")] + [{class: "accepted",
		reason: "accepted"}] | .[0] | .class + "/" + .reason' \
		"$out.json" 2>/dev/null)
	got_f=$(jq -r '[.runs[].sessions[].findings[].kind] | unique |
		join(" ")' "$out.json" 2>/dev/null)
	ok=0
	[ "$rc" = "$want_exit" ] && [ "$got_v" = "$want_v" ] || ok=1
	for k in $want_f; do
		case $k in
		-) ;;
		!*) case " $got_f " in *" ${k#!} "*) ok=1 ;; esac ;;
		*) case " $got_f " in *" $k "*) ;; *) ok=1 ;; esac ;;
		esac
	done
	[ "$mark" = todo ] && directive="TODO conclusion"
	tap $ok "check $name ($server): exit $rc, $got_v, findings" \
		"[$got_f] (want $want_exit, $want_v, [$want_f])" "$directive"
	if [ $ok -ne 0 ]; then
		[ -n "$directive" ] || failed_servers+=" $server"
		sed 's/^/#   /' "$out.err" | head -5
	fi
}

while IFS= read -r line || [ -n "$line" ]; do
	case $line in ''|'#'*) continue ;; esac
	IFS='|' read -r -a f <<< "$line"
	for i in "${!f[@]}"; do
		f[i]=$(printf '%s' "${f[i]}" |
			sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
	done
	[ "${#f[@]}" -eq 7 ] || bail "checks: not 7 fields: $line"
	run_check "${f[@]}"
	ncases=$((ncases + 1))
done < "$here/checks"

# ---- AUTH on the server side ----
# swaks proves the servers' AUTH works (right and wrong password, PLAIN
# and LOGIN) independently of smtprobe, whose --auth cases are in
# tests/interop/cases: a failing case then points at smtprobe.
for server in pf-now exim; do
	for mech in PLAIN LOGIN; do
		for pass in "$AUTH_PASS" wrong-password; do
			want=0
			[ "$pass" = "$AUTH_PASS" ] || want=28
			timeout -k 5 60 swaks --server 127.0.0.1 \
				--port "${port[$server]}" \
				--ehlo client.probe.test \
				--from sender@probe.test \
				--to user@interop.test \
				--auth "$mech" --auth-user "$AUTH_USER" \
				--auth-password "$pass" --quit-after AUTH \
				> "$work/swaks.out" 2>&1
			rc=$?
			what=right
			[ "$want" = 0 ] || what=wrong
			tap $([ "$rc" = "$want" ]; echo $?) "auth ($server):" \
				"swaks AUTH $mech, $what password: exit $rc" \
				"(want $want)"
			if [ "$rc" != "$want" ]; then
				sed 's/^/# /' "$work/swaks.out" | tail -12
				failed_servers+=" $server"
			fi
		done
	done
done

# ---- --pipe: Exim's -bh test mode, no daemon, no network ----
# run_pipe NAME EXIT STAGE ADDR - smtprobe --pipe 'exim -C ... -bh
# ADDR': Exim runs its ACLs as if the session came from ADDR; the exit
# code and the deciding stage are checked, and that the command ended
# with status 0 (the transcript's note)
run_pipe() {
	local name=$1 want=$2 stage=$3 addr=$4 out rc got
	out=$work/pipe-$name
	timeout -k 5 90 "$probe" --pipe "$exim -C $work/exim/exim.conf -bh $addr" \
		--timeout 30 --helo client.probe.test -f sender@probe.test \
		-t user@interop.test --json > "$out.json" 2> "$out.err"
	rc=$?
	got=$(jq -r '.result.stage // "-"' "$out.json" 2>/dev/null)
	[ "$rc" = "$want" ] && [ "$got" = "$stage" ]
	tap $? "pipe-$name (exim -bh $addr): exit $rc, stage $got" \
		"(want $want, $stage)"
	timeout -k 5 90 "$probe" --pipe "$exim -C $work/exim/exim.conf -bh $addr" \
		--timeout 30 --helo client.probe.test -f sender@probe.test \
		-t user@interop.test > "$out.txt" 2> "$out.txt.err"
	grep -q '^\*\* the command exited with status 0$' "$out.txt"
	tap $? "pipe-$name: the exim command exited with status 0"
}
run_pipe exim-bh-accepted 0 - 127.0.0.1
run_pipe exim-bh-connect-acl 1 banner 127.0.0.66
run_pipe exim-bh-dnsbl 1 banner 127.0.0.77

# the end of the logs of every server that failed a check
for s in $(printf '%s\n' $failed_servers |
	sed 's/-tls$\|-sub$\|-auth$\|-proxy$//' | sort -u); do
	echo "# --- $s log (last 30 lines): $(logfile "$s")"
	tail -30 "$(logfile "$s")" 2>/dev/null | sed 's/^/# /'
done

# ---- timing ----
total=$(ms "$t_start")
setup=$(( (t_setup - t_start) / 1000000 ))
servers=$(( (t_cases - t_servers) / 1000000 ))
cases=$(ms "$t_cases")
tap 0 "interop adds $(secs "$total") s:" \
	"setup $(secs "$setup") s, servers $(secs "$servers") s," \
	"$ncases cases and AUTH checks $(secs "$cases") s"

echo "1..$n"
[ "$nfail" -eq 0 ]

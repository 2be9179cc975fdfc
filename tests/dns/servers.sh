#!/bin/sh
# servers.sh - real DNS servers on loopback for the test suite.
#
# Usage:
#   servers.sh start WORKDIR [EXTRA...]
#   servers.sh stop WORKDIR
#
# "start" generates the test zones under WORKDIR, signs them, and starts
#   - unbound, authoritative for the zones and validating them (one
#     process, NOTES-tls-dns.md 4.4), on 127.0.0.1 (or
#     $SMTPROBE_DNS_ADDR) and ::1, UDP and TCP;
#   - rbldnsd with the DNSBL zones, on 127.0.0.1 (UDP), reached through
#     unbound (stub zone dnsbl.test), so tests need only one resolver.
# It returns once both answer, or exits 1 with a message on stderr (a
# missing server binary is an error, not a skip). unbound,
# unbound-checkconf and rbldnsd are not installed packages: they come
# from scripts/servers.sh, which unpacks them into a private cache on
# first use (and whose directory goes first in PATH here); ldns-keygen,
# ldns-signzone, ldns-key2ds and drill come from the ldnsutils package
# (scripts/install-deps.sh --test). "stop" stops every process "start" left, by
# PID, and waits for them; it is safe to call twice or after a failed
# start. Callers should stop from a trap:
#       trap 'sh servers.sh stop "$w"' EXIT
#
# Ports: pairs P (unbound) and P+1 (rbldnsd) are tried from
# $SMTPROBE_PORT_BASE (default 25300) upwards; a pair is used only when
# nothing is bound to either port (read from /proc/net), and choosing
# plus starting happen under a lock (flock on
# ${TMPDIR:-/tmp}/smtprobe-dns-ports.lock), so parallel tests and other
# users of this script do not collide. With $SMTPROBE_DNS_PORT set,
# unbound takes exactly that port (53 inside a network namespace lets
# libc-based programs such as Postfix use WORKDIR/resolv.conf).
#
# Results, in WORKDIR:
#   env        shell assignments, to source: DNS_PORT, DNS_ADDR,
#              DNS_RESOLVER ("127.0.0.1:P"), DNS_RESOLVER6 ("[::1]:P",
#              empty without IPv6), RBL_PORT, DNS_ANCHOR (trust anchor
#              file), DNS_ZONES, DNS_RESOLV_CONF
#   dns.port   P;  rbl.port  P+1;  resolver, resolver6  as in env
#   resolv.conf  "nameserver ADDR" (for libc: only with port 53)
#   zones/     zone files as served;  run/  logs, configs, keys, PIDs
#
# EXTRA arguments add data without editing this file:
#   FILE.zone         an extra authoritative zone, unsigned; its name is
#                     the file name without ".zone" ("a.test.zone" is
#                     zone a.test). A zone under test. gets a delegation
#                     (no DS) in test., so it validates as insecure.
#   sign:FILE.zone    the same, but signed, with its DS in test.
#                     (secure, AD=1).
#   rbl:ZONE:TYPE:FILE  an rbldnsd dataset (TYPE ip4set, ip6trie, dnset,
#                     ...). ZONE must lie under dnsbl.test.
#
# Environment:
#   SMTPROBE_PORT_BASE   first port tried (default 25300)
#   SMTPROBE_DNS_OWNER   a PID; when that process ends, a watcher stops
#                        the servers (for tests that may crash before
#                        they call "stop")
#   SMTPROBE_DNS_V6      "no": do not listen on ::1
#   SMTPROBE_DNS_ADDR    IPv4 address for unbound (default 127.0.0.1)
#   SMTPROBE_DNS_PORT    fixed port for unbound (default: search)
#
# Built-in zones (see the zone texts below for every name):
#   test.            signed trust anchor; delegates the zones below
#   secure.test      signed: MX ordering, null MX, implicit MX, CNAME,
#                    TLSA, TXT
#   bogus.test       signed, then one A record (www) and the TLSA
#                    record of mx1 (any port) altered: SERVFAIL
#   insecure.test    unsigned: hosts for PTR/FCrDNS, HELO, sender
#                    domains (SPF, DMARC), URL hosts
#   113.0.203.in-addr.arpa, 8.b.d.0.1.0.0.2.ip6.arpa   PTR data
#   zen.dnsbl.test, dbl.dnsbl.test, bl.dnsbl.test, broken.dnsbl.test,
#   odd.dnsbl.test   rbldnsd: listings, Spamhaus-style error answers,
#                    a list that answers for everything, a list
#                    answering outside 127/8
set -u

prog=servers.sh
die() {
	echo "$prog: $*" >&2
	exit 1
}

usage() {
	echo "usage: $prog start WORKDIR [EXTRA...] | stop WORKDIR" >&2
	exit 2
}

# port_busy PORT - true if anything is bound to PORT (TCP or UDP, v4/v6)
port_busy() {
	hex=$(printf '%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 \
	    2>/dev/null | awk -v p=":$hex" '
		NR > 0 && substr($2, length($2) - 4) == p { f = 1 }
		END { exit !f }'
}

# running PID - true if PID exists and is not a zombie (an orphan's
# zombie may wait a while for a lazy init to reap it)
running() {
	kill -0 "$1" 2>/dev/null || return 1
	st=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null)
	[ "$st" != Z ]
}

# alive PIDFILE - true if the process in PIDFILE runs
alive() {
	[ -s "$1" ] && running "$(cat "$1")"
}

# stop_all WORKDIR - stop every process recorded under WORKDIR/pids
stop_all() {
	w=$1
	self=${2:-}
	[ -d "$w/pids" ] || return 0
	for f in "$w"/pids/*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		case $f in
		*/watch.pid)
			# the watcher may be the one calling us
			[ "$pid" = "$self" ] && {
				rm -f "$f"
				continue
			}
			;;
		esac
		kill "$pid" 2>/dev/null
	done
	for f in "$w"/pids/*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		i=0
		while running "$pid" && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		running "$pid" && kill -9 "$pid" 2>/dev/null
		rm -f "$f"
	done
	return 0
}

# keygen ZONE - make a key in run/keys, print its base path
keygen() {
	(cd "$w/run/keys" && ldns-keygen -a ECDSAP256SHA256 -k "$1") ||
		die "ldns-keygen $1 failed"
}

# sign ZONE FILE KEY - sign FILE into zones/ZONE.zone.signed
sign() {
	ldns-signzone -o "$1" -f "$w/zones/$1.zone.signed" "$2" \
	    "$w/run/keys/$3" >/dev/null 2>"$w/run/sign.err" ||
		die "ldns-signzone $1 failed: $(cat "$w/run/sign.err")"
}

write_zones() {
	z=$w/zones
	cat > "$z/secure.test.zone" <<'EOF'
$ORIGIN secure.test.
$TTL 300
@		SOA	ns.test. hostmaster.test. 1 3600 900 604800 300
@		NS	ns.test.
; three MX: two share preference 10 (random order), one at 20.
; The domain's own A record must not be used while MX records exist.
@		MX	10 mx1.secure.test.
@		MX	10 mx2.secure.test.
@		MX	20 mx3.secure.test.
@		A	192.0.2.99
mx1		A	127.0.0.1
mx1		AAAA	::1
mx2		A	127.0.0.2
mx3		A	127.0.0.3
mx3		AAAA	2001:db8::3
; RFC 7505 null MX, and a null MX wrongly mixed with a real one
nullmx		MX	0 .
badnull		MX	0 .
badnull		MX	10 mx1.secure.test.
; no MX: implicit MX to the domain's own addresses
implicit	A	127.0.0.1
implicit	AAAA	::1
; no MX and no address
nothing		TXT	"neither MX nor address"
; MX whose only host has no address
noaddr		MX	10 nohost.secure.test.
; MX host that is a CNAME (outside RFC 5321, resolved anyway)
alias		CNAME	mx1.secure.test.
cnamed		MX	10 alias.secure.test.
; TLSA for later DANE work
_25._tcp.mx1	TLSA	3 1 1 0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0
; TXT made of several strings, joined without spaces by readers
txt		TXT	"v=spf1 " "ip4:192.0.2.0/24 " "-all"
EOF
	cat > "$z/bogus.test.zone" <<'EOF'
$ORIGIN bogus.test.
$TTL 300
@		SOA	ns.test. hostmaster.test. 1 3600 900 604800 300
@		NS	ns.test.
@		MX	10 mx1.bogus.test.
mx1		A	127.0.0.1
www		A	127.0.0.1
; TLSA for any port of mx1, altered after signing (DANE "bogus")
*._tcp.mx1	TLSA	3 1 1 b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0
EOF
	cat > "$z/insecure.test.zone" <<'EOF'
$ORIGIN insecure.test.
$TTL 300
@		SOA	ns.test. hostmaster.test. 1 3600 900 604800 300
@		NS	ns.test.
@		MX	10 mx1.insecure.test.
mx1		A	127.0.0.1
; forward names for the PTR records (FCrDNS)
mail		A	203.0.113.5
mail6		AAAA	2001:db8::25
wrong		A	203.0.113.99
; HELO names: one with A elsewhere, one with only an MX
other		A	198.51.100.77
mxonly		MX	10 mx1.insecure.test.
; sender domains
sender-ok	MX	10 mx1.insecure.test.
sender-ok	TXT	"v=spf1 ip4:203.0.113.0/24 -all"
sender-ok	TXT	"google-site-verification=xyz"
_dmarc.sender-ok TXT	"v=DMARC1; p=reject; rua=mailto:d@insecure.test"
sender-a	A	203.0.113.5
sender-twospf	MX	10 mx1.insecure.test.
sender-twospf	TXT	"v=spf1 -all"
sender-twospf	TXT	"v=spf1 +all"
sender-null	MX	0 .
; organizational-domain DMARC record (inherited by sender-a)
_dmarc		TXT	"v=DMARC1; p=none"
; URL hosts
www		A	192.0.2.80
promo		A	192.0.2.81
EOF
	cat > "$z/113.0.203.in-addr.arpa.zone" <<'EOF'
$ORIGIN 113.0.203.in-addr.arpa.
$TTL 300
@		SOA	ns.test. hostmaster.test. 1 3600 900 604800 300
@		NS	ns.test.
5		PTR	mail.insecure.test.
6		PTR	dyn-203-0-113-6.insecure.test.
8		PTR	wrong.insecure.test.
; 7 has no PTR
EOF
	cat > "$z/8.b.d.0.1.0.0.2.ip6.arpa.zone" <<'EOF'
$ORIGIN 8.b.d.0.1.0.0.2.ip6.arpa.
$TTL 300
@		SOA	ns.test. hostmaster.test. 1 3600 900 604800 300
@		NS	ns.test.
; 2001:db8::25
5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0	PTR	mail6.insecure.test.
EOF
	cat > "$z/test.zone.in" <<'EOF'
$ORIGIN test.
$TTL 300
@		SOA	ns.test. hostmaster.test. 1 3600 900 604800 300
@		NS	ns.test.
ns		A	127.0.0.1
insecure	NS	ns.test.
dnsbl		NS	ns.test.
secure		NS	ns.test.
bogus		NS	ns.test.
EOF
}

write_rbl() {
	r=$w/rbl
	cat > "$r/sbl.txt" <<'EOF'
$SOA 300 ns.dnsbl.test. hostmaster.dnsbl.test. 0 600 300 86400 300
$NS 300 ns.dnsbl.test.
:127.0.0.2:SBL-like test listing for $
127.0.0.2
192.0.2.10
192.0.2.20 :127.0.0.4:XBL/CBL-like listing for $
198.51.100.1 :127.255.255.254:query via public resolver refused
198.51.100.2 :127.255.255.255:excessive number of queries
198.51.100.3 :127.255.255.252:typing error in DNSBL name
EOF
	cat > "$r/pbl.txt" <<'EOF'
:127.0.0.10:PBL-like (ISP policy) listing for $
192.0.2.10
192.0.2.128/25 :127.0.0.11:PBL-like dynamic range $
EOF
	cat > "$r/v6.txt" <<'EOF'
:127.0.0.2:IPv6 test listing $
::ffff:7f00:2
2001:db8:bad::/48
EOF
	cat > "$r/dbl.txt" <<'EOF'
$SOA 300 ns.dnsbl.test. hostmaster.dnsbl.test. 0 600 300 86400 300
$NS 300 ns.dnsbl.test.
:127.0.1.2:DBL-like spam domain $
test
promo.insecure.test
.phish.test :127.0.1.4:DBL-like phishing domain $
EOF
	# a list that blocks the resolver: every query gets the error code
	cat > "$r/blocked.txt" <<'EOF'
$SOA 300 ns.dnsbl.test. hostmaster.dnsbl.test. 0 600 300 86400 300
:127.255.255.254:query via public resolver refused
0.0.0.0/0
EOF
	# a broken list: lists 127.0.0.1, which RFC 5782 forbids
	cat > "$r/broken.txt" <<'EOF'
$SOA 300 ns.dnsbl.test. hostmaster.dnsbl.test. 0 600 300 86400 300
:127.0.0.2:broken list entry
127.0.0.0/8
192.0.2.0/24
EOF
	# a list answering outside 127.0.0.0/8 (wildcarding registrar)
	cat > "$r/odd.txt" <<'EOF'
$SOA 300 ns.dnsbl.test. hostmaster.dnsbl.test. 0 600 300 86400 300
:192.0.2.250:parked
0.0.0.0/0
EOF
	set -- \
	    zen.dnsbl.test:ip4set:sbl.txt zen.dnsbl.test:ip4set:pbl.txt \
	    zen.dnsbl.test:ip6trie:v6.txt dbl.dnsbl.test:dnset:dbl.txt \
	    bl.dnsbl.test:ip4trie:blocked.txt \
	    broken.dnsbl.test:ip4set:broken.txt \
	    odd.dnsbl.test:ip4trie:odd.txt
	printf '%s\n' "$@" > "$w/run/rbl.specs"
}

# zone_of FILE - zone name of an extra zone file
zone_of() {
	b=$(basename "$1")
	echo "${b%.zone}"
}

do_start() {
	w=$1
	shift
	srv=$(sh "$(dirname "$0")/../../scripts/servers.sh" path) ||
		die "no unbound and rbldnsd (scripts/servers.sh failed)"
	PATH=$srv:$PATH
	for b in unbound unbound-checkconf rbldnsd ldns-keygen ldns-signzone \
	    ldns-key2ds drill; do
		command -v "$b" >/dev/null 2>&1 ||
			die "$b not found (sh scripts/install-deps.sh --test)"
	done
	[ -r /proc/net/udp ] || die "/proc/net/udp not readable"
	mkdir -p "$w" || die "cannot create $w"
	w=$(cd "$w" && pwd)
	stop_all "$w"
	rm -rf "$w/zones" "$w/rbl" "$w/run" "$w/pids"
	mkdir -p "$w/zones" "$w/rbl" "$w/run/keys" "$w/pids" || exit 1
	rm -f "$w/env" "$w/dns.port" "$w/rbl.port" "$w/resolver" \
	    "$w/resolver6"
	trap 'stop_all "$w"' EXIT
	trap 'exit 1' INT TERM HUP

	v6=yes
	[ "${SMTPROBE_DNS_V6:-}" = no ] && v6=no
	grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 \
	    2>/dev/null || v6=no

	write_zones
	write_rbl
	extra_zones= signed_zones="secure.test bogus.test"
	for x in "$@"; do
		case $x in
		rbl:*)
			spec=${x#rbl:}
			zone=${spec%%:*}
			rest=${spec#*:}
			type=${rest%%:*}
			file=${rest#*:}
			[ -r "$file" ] || die "cannot read $file"
			case $zone in
			*.dnsbl.test) ;;
			*) die "$zone: rbl zones must lie under dnsbl.test" ;;
			esac
			n=$(ls "$w/rbl" | wc -l)
			cp "$file" "$w/rbl/extra$n.txt"
			echo "$zone:$type:extra$n.txt" >> "$w/run/rbl.specs"
			;;
		sign:*)
			file=${x#sign:}
			[ -r "$file" ] || die "cannot read $file"
			zone=$(zone_of "$file")
			cp "$file" "$w/zones/$zone.zone"
			signed_zones="$signed_zones $zone"
			extra_zones="$extra_zones $zone"
			;;
		*)
			[ -r "$x" ] || die "cannot read $x"
			zone=$(zone_of "$x")
			cp "$x" "$w/zones/$zone.zone"
			extra_zones="$extra_zones $zone"
			;;
		esac
	done

	# sign the children, collect their DS for test.
	cp "$w/zones/test.zone.in" "$w/zones/test.zone"
	for zone in $extra_zones; do
		case $zone in
		*.test)
			lbl=${zone%.test}
			printf '%s\tNS\tns.test.\n' "$lbl" \
			    >> "$w/zones/test.zone"
			;;
		esac
	done
	for zone in $signed_zones; do
		k=$(keygen "$zone") || exit 1
		sign "$zone" "$w/zones/$zone.zone" "$k"
		case $zone in
		*.test)
			ldns-key2ds -n -2 "$w/run/keys/$k.key" \
			    >> "$w/zones/test.zone" || die "ldns-key2ds failed"
			;;
		esac
	done
	k=$(keygen test) || exit 1
	sign test "$w/zones/test.zone" "$k"
	cp "$w/run/keys/$k.key" "$w/run/test-anchor.key"
	# bogus.test: change one signed A record and the signed TLSA
	# record without re-signing
	sed -e 's/^\(www\.bogus\.test\.[ 	].*A[ 	]*\)127\.0\.0\.1$/\1127.0.0.9/' \
	    -e '/TLSA/s/b0b0b0b0$/b0b0b0b1/' \
	    "$w/zones/bogus.test.zone.signed" > "$w/zones/bogus.tmp" &&
		mv "$w/zones/bogus.tmp" "$w/zones/bogus.test.zone.signed"
	grep -q '127\.0\.0\.9' "$w/zones/bogus.test.zone.signed" &&
	    grep -q 'b0b0b0b1$' "$w/zones/bogus.test.zone.signed" ||
		die "could not tamper with bogus.test"

	# rbldnsd drops root privileges to user rbldns: give it a chroot
	# of world-readable files so the parent directories do not matter
	chmod 755 "$w/rbl"
	chmod 644 "$w"/rbl/*

	# choose ports and start, under a lock shared with other users
	lock=${TMPDIR:-/tmp}/smtprobe-dns-ports.lock
	if command -v flock >/dev/null 2>&1; then
		exec 9>>"$lock"
		flock -w 120 9 || die "cannot lock $lock"
	fi
	base=${SMTPROBE_PORT_BASE:-25300}
	case $base in
	''|*[!0-9]*) die "SMTPROBE_PORT_BASE: not a number: $base" ;;
	esac
	addr=${SMTPROBE_DNS_ADDR:-127.0.0.1}
	fixed=${SMTPROBE_DNS_PORT:-}
	case $fixed in
	*[!0-9]*) die "SMTPROBE_DNS_PORT: not a number: $fixed" ;;
	esac
	p=$base
	started=
	if [ -n "$fixed" ]; then
		# fixed resolver port (e.g. 53 in a network namespace): not
		# pre-checked, other addresses may hold it; rbldnsd anywhere
		while port_busy "$p" && [ "$p" -lt $((base + 400)) ]; do
			p=$((p + 1))
		done
		start_servers "$fixed" "$p" && started=yes
	else
		while [ "$p" -lt $((base + 400)) ] && [ "$p" -lt 65534 ]; do
			if port_busy "$p" || port_busy $((p + 1)); then
				p=$((p + 2))
				continue
			fi
			if start_servers "$p" $((p + 1)); then
				started=yes
				break
			fi
			stop_all "$w"
			p=$((p + 2))
		done
	fi
	[ -n "$started" ] || die "could not start on $addr port ${fixed:-$base}"\
	    "and up (see $w/run/*.log, $w/run/unbound.out)"
	[ -n "${lock:-}" ] && exec 9>&-

	r6=
	[ "$v6" = yes ] && r6="[::1]:$p"
	echo "$p" > "$w/dns.port"
	echo "$rp" > "$w/rbl.port"
	echo "$addr:$p" > "$w/resolver"
	echo "$r6" > "$w/resolver6"
	printf '# libc uses port 53 only; the servers listen on port %s\n%s\n' \
	    "$p" "nameserver $addr" > "$w/resolv.conf"
	echo "options timeout:2 attempts:2" >> "$w/resolv.conf"
	cat > "$w/env" <<EOF
DNS_PORT=$p
DNS_ADDR=$addr
DNS_RESOLVER=$addr:$p
DNS_RESOLVER6=$r6
RBL_PORT=$rp
DNS_ANCHOR=$w/run/test-anchor.key
DNS_ZONES=$w/zones
DNS_RESOLV_CONF=$w/resolv.conf
EOF
	owner=${SMTPROBE_DNS_OWNER:-}
	if [ -n "$owner" ]; then
		sh "$0" watch "$w" "$owner" </dev/null >/dev/null 2>&1 &
		echo $! > "$w/pids/watch.pid"
	fi
	trap - EXIT
	return 0
}

# start_servers PORT RBLPORT - write configs, start both servers, wait
# until they answer; 1 if either did not come up (e.g. lost a race for
# a port). Sets p and rp, which the caller reports.
start_servers() {
	p=$1
	rp=$2
	c=$w/run/unbound.conf
	{
		echo "server:"
		echo "    interface: $addr@$p"
		[ "$v6" = yes ] && echo "    interface: ::1@$p"
		echo "    port: $p"
		echo "    do-ip6: $v6"
		cat <<EOF
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "$w/run"
    pidfile: "$w/run/unbound.selfpid"
    logfile: "$w/run/unbound.log"
    use-syslog: no
    verbosity: 1
    val-log-level: 2
    ede: yes
    access-control: 127.0.0.0/8 allow
    access-control: ::1 allow
    access-control: $addr allow
    do-not-query-localhost: no
    module-config: "validator iterator"
    trust-anchor-file: "$w/run/test-anchor.key"
    root-hints: ""
    harden-referral-path: no
    qname-minimisation: no
    cache-max-ttl: 0
    cache-max-negative-ttl: 0
    num-threads: 1
    outgoing-range: 64
    so-reuseport: no
    domain-insecure: "dnsbl.test."
    local-zone: "test." nodefault
    local-zone: "113.0.203.in-addr.arpa." nodefault
    local-zone: "8.b.d.0.1.0.0.2.ip6.arpa." nodefault
EOF
		for f in "$w"/zones/*.zone; do
			zone=$(basename "$f" .zone)
			case $zone in
			*.test|test) ;;
			*) echo "    local-zone: \"$zone.\" nodefault" ;;
			esac
		done
		for f in "$w"/zones/*.zone; do
			zone=$(basename "$f" .zone)
			zf=$f
			[ -f "$f.signed" ] && zf=$f.signed
			cat <<EOF
auth-zone:
    name: "$zone."
    zonefile: "$zf"
    for-downstream: no
    for-upstream: yes
EOF
		done
		cat <<EOF
stub-zone:
    name: "dnsbl.test."
    stub-addr: 127.0.0.1@$rp
remote-control:
    control-enable: no
EOF
	} > "$c"
	unbound-checkconf "$c" > "$w/run/checkconf.log" 2>&1 ||
		die "unbound-checkconf failed: $(cat "$w/run/checkconf.log")"

	if [ "$(id -u)" -eq 0 ]; then
		set -- -r "$w/rbl" -w /
	else
		set -- -w "$w/rbl"
	fi
	# shellcheck disable=SC2046
	rbldnsd -n -b "127.0.0.1/$rp" "$@" -t 300 -c 0 \
	    $(cat "$w/run/rbl.specs") \
	    </dev/null >"$w/run/rbldnsd.log" 2>&1 9>&- &
	echo $! > "$w/pids/rbldnsd.pid"
	unbound -d -c "$c" </dev/null >"$w/run/unbound.out" 2>&1 9>&- &
	echo $! > "$w/pids/unbound.pid"

	i=0
	while [ $i -lt 100 ]; do
		alive "$w/pids/unbound.pid" || return 1
		alive "$w/pids/rbldnsd.pid" || return 1
		# drill waits 5 s for a lost datagram: cap each try at 1 s
		if timeout 1 drill -p "$p" "@$addr" secure.test SOA \
		    2>/dev/null | grep -q 'rcode: NOERROR' &&
		    timeout 1 drill -p "$rp" @127.0.0.1 \
		    2.0.0.127.zen.dnsbl.test A 2>/dev/null |
		    grep -q 'rcode: NOERROR'; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

[ $# -ge 2 ] || usage
cmd=$1
w=$2
shift 2
case $cmd in
start)
	do_start "$w" "$@"
	;;
stop)
	[ $# -eq 0 ] || usage
	[ -d "$w" ] || exit 0
	stop_all "$(cd "$w" && pwd)"
	;;
watch)
	# internal: stop the servers once process $1 has ended
	[ $# -eq 1 ] || usage
	while kill -0 "$1" 2>/dev/null && [ -f "$w/pids/unbound.pid" ]; do
		sleep 1
	done
	stop_all "$w" $$
	;;
*)
	usage
	;;
esac

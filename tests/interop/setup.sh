#!/bin/sh
# setup.sh - make the interop tests' second MTA available and keep the
# system's own mail and DNS services out of the way. Idempotent; run as
# root on Debian 12 with only the Debian mirror reachable. Prints the
# path of the Exim binary on standard output, everything else on
# standard error.
#
# Postfix is installed as a package (scripts/install-deps.sh --test);
# exim4 conflicts with it (both provide mail-transport-agent), so
# exim4-daemon-light is fetched with `apt-get download` and unpacked with
# `dpkg-deb -x` into a cache directory, one per package version:
#   ${SMTPROBE_INTEROP_CACHE:-/var/cache/smtprobe-interop}/exim4-VERSION/
# The libraries it links are ordinary packages on the test_interop line
# of scripts/install-deps.sh. Exim looks up its compiled-in user
# Debian-exim before it reads any configuration, so that system user is
# created the way the exim4-base package would create it.
#
# A package's postinst may start its service (postfix on port 25,
# unbound on port 53) where no policy-rc.d stops it. The tests run in a
# network namespace of their own and never talk to those, but nothing
# the install started should keep running: the first time this runs on
# a machine, a running system postfix or unbound is stopped and its
# start at boot disabled (marker files quiesced-NAME in the cache
# directory; later runs leave the services as they find them). Set
# SMTPROBE_INTEROP_KEEP_SERVICES=1 to leave them alone.
#
# Exit status: 0 ready, 1 something is missing (the message says what).
set -eu
cache=${SMTPROBE_INTEROP_CACHE:-/var/cache/smtprobe-interop}
pkg=exim4-daemon-light

say() { echo "interop setup: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
	die "needs apt-get and dpkg-deb (Debian)"
mkdir -p "$cache"
chmod 755 "$cache"

# One setup at a time (two builds may run the suite side by side).
exec 9> "$cache/.lock"
flock 9

# quiesce NAME - once per machine, stop the system service NAME if its
# package's install left it running, and keep it from starting at boot
quiesce() {
	svc=$1
	[ -n "${SMTPROBE_INTEROP_KEEP_SERVICES:-}" ] && return 0
	[ -e "/etc/init.d/$svc" ] ||
		[ -e "/lib/systemd/system/$svc.service" ] || return 0
	[ -e "$cache/quiesced-$svc" ] && return 0
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
		if systemctl is-active --quiet "$svc" ||
			systemctl is-enabled --quiet "$svc" 2>/dev/null; then
			say "stopping and disabling the system $svc service"
			systemctl disable --now --quiet "$svc" 2>/dev/null ||
				true
		fi
	else
		running=
		case $svc in
		postfix) postfix status >/dev/null 2>&1 && running=1 ;;
		*)	pid=$(cat "/run/$svc.pid" 2>/dev/null || true)
			[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
				running=1 ;;
		esac
		if [ -n "$running" ]; then
			say "stopping the system $svc (started by its install)"
			"/etc/init.d/$svc" stop >/dev/null 2>&1 || true
		fi
		if command -v update-rc.d >/dev/null &&
			ls /etc/rc[2-5].d/S*"$svc" >/dev/null 2>&1; then
			say "disabling the system $svc at boot"
			update-rc.d "$svc" disable >/dev/null 2>&1 || true
		fi
	fi
	: > "$cache/quiesced-$svc"
}
quiesce postfix
quiesce unbound
quiesce exim4

# The version apt would install; the package lists may be missing on a
# fresh machine.
version() {
	apt-cache show --no-all-versions "$pkg" 2>/dev/null |
		sed -n 's/^Version: //p' | head -1
}
ver=$(version)
if [ -z "$ver" ]; then
	say "apt-get update (no package list names $pkg)"
	apt-get update -q >/dev/null 2>&1 || true
	ver=$(version)
fi
[ -n "$ver" ] || die "apt knows no $pkg package"
dir=$cache/exim4-$(printf '%s' "$ver" | tr -c 'A-Za-z0-9.+~\n-' _)
exim=$dir/usr/sbin/exim4

if [ ! -x "$exim" ]; then
	say "unpacking $pkg $ver into $dir"
	tmp=$(mktemp -d "$cache/.dl.XXXXXX")
	# apt drops to the _apt user to download; let it write there
	chown _apt "$tmp" 2>/dev/null || true
	get() { (cd "$tmp" && apt-get download -q "$pkg=$ver" >/dev/null); }
	if ! get 2>/dev/null; then
		# the package lists may name a version the mirror dropped
		apt-get update -q >/dev/null 2>&1 || true
		get || {
			rm -rf "$tmp"
			die "cannot download $pkg $ver"
		}
	fi
	mkdir -p "$tmp/root"
	dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/root"
	rm -rf "$dir"
	mv "$tmp/root" "$dir"
	rm -rf "$tmp"
fi
[ -x "$exim" ] || die "no exim binary in $dir"

missing=$(ldd "$exim" 2>/dev/null |
	sed -n 's/^[[:space:]]*\([^ ]*\) => not found.*/\1/p' | tr '\n' ' ')
[ -z "$missing" ] || die "$exim needs libraries that are not installed:" \
	"$missing(sh scripts/install-deps.sh --test)"

if ! getent passwd Debian-exim >/dev/null; then
	say "creating the system user Debian-exim (as exim4-base would)"
	adduser --system --group --quiet --home /var/spool/exim4 \
		--no-create-home --disabled-login --force-badname Debian-exim ||
		die "cannot create the user Debian-exim"
fi
echo "$exim"

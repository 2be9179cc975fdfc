#!/bin/sh
# promtool.sh - promtool(1), for the tests that check smtprobe's
# --metrics files ("promtool check metrics"), unpacked privately from
# Debian's prometheus package by scripts/unpack.sh, as servers.sh does:
# fetched with `apt-get download`, unpacked with `dpkg-deb -x`, never
# installed (installing prometheus would start and enable the
# Prometheus server). Only promtool is used; nothing else of the tree
# runs.
#
# Usage:
#   promtool.sh [path]   make sure the package is unpacked (downloads
#                        about 19 MB on first use) and print the path of
#                        promtool
#   promtool.sh package  the package name
#
# The tree goes to the cache directory of scripts/servers.sh,
#   ${SMTPROBE_SERVERS_CACHE:-/var/cache/smtprobe-servers}/prometheus-VERSION/
# (${XDG_CACHE_HOME:-$HOME/.cache}/smtprobe-servers for a user who cannot
# write there and finds nothing ready there), prepared under flock(1) on
# CACHE/.lock in a temporary name and renamed into place; the set/uid
# and set/gid bits are dropped. When apt names no version (no package
# lists, offline) the newest tree already unpacked is used.
#
# Exit status: 0 ready (the path on stdout); 1 promtool cannot be had
# (the message on stderr says why).
set -u

prog=promtool.sh
pkg=prometheus

say() { echo "$prog: $*" >&2; }
die() { say "$*"; exit 1; }

case ${1:-path} in
path) ;;
package) echo "$pkg"; exit 0 ;;
*) echo "usage: promtool.sh [path | package]" >&2; exit 2 ;;
esac

cache=${SMTPROBE_SERVERS_CACHE:-/var/cache/smtprobe-servers}

# safe VERSION - VERSION as a file name (as servers.sh)
safe() { printf '%s' "$1" | tr -c 'A-Za-z0-9.+~\n-' _; }

# newest - the newest unpacked tree in CACHE, or nothing
newest() {
	for d in "$1/$pkg"-[0-9]*; do
		[ -f "$d/.unpacked" ] && echo "$d"
	done | sort -V | tail -1
}

ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null |
    awk '/^Version: / { print $2; exit }')

# the servers.sh fallback for a user who cannot write the cache
if [ ! -w "$cache" ] && { [ -z "$ver" ] ||
    [ ! -f "$cache/$pkg-$(safe "$ver")/.unpacked" ]; } &&
    [ -z "$(newest "$cache")" ]; then
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/smtprobe-servers
fi
mkdir -p "$cache" 2>/dev/null

if [ -n "$ver" ]; then
	dir=$cache/$pkg-$(safe "$ver")
else
	dir=$(newest "$cache")
	[ -n "$dir" ] || die "apt names no version of $pkg and none is" \
	    "unpacked in $cache (apt-get update?)"
fi

if [ ! -f "$dir/.unpacked" ]; then
	[ -w "$cache" ] || die "cannot write $cache"
	command -v flock >/dev/null || die "flock(1) is missing (util-linux)"
	exec 9>"$cache/.lock"
	flock 9
	if [ ! -f "$dir/.unpacked" ]; then
		dirs="$pkg $dir" want=" $pkg=$ver"
		# shellcheck source=scripts/unpack.sh
		. "$(dirname "$0")/unpack.sh"
		unpack_fetch :
	fi
	exec 9>&-
fi
[ -x "$dir/usr/bin/promtool" ] || die "$pkg has no usr/bin/promtool (in $dir)"
echo "$dir/usr/bin/promtool"

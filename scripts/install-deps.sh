#!/bin/sh
# install-deps.sh [--test] [--slurm] [--list] - install what smtprobe
# needs on Debian 12, as root. With --test, also what the test suite
# needs; with --slurm, the libraries the Slurm and munge programs of
# make check-slurm link (scripts/slurm.sh unpacks the programs, never
# installs them).
# Packages that are already installed are not fetched again. With
# --list, print the packages it would install (one a line, installed
# or not) and install nothing.
#
# Only packages that ship no service are installed: compilers, the
# libraries, and client tools (jq, swaks, ldnsutils ...). The servers
# the tests run (Postfix, Exim, unbound, rbldnsd, saslpasswd2) are not
# installed: scripts/servers.sh unpacks them into a private cache with
# apt-get download and dpkg-deb -x (no maintainer script runs, no
# service of the machine is started, stopped, enabled or reconfigured);
# this script installs the libraries they link (servers.sh libs) and
# then runs servers.sh once, so a missing library shows up here.
# tests/no-services.sh checks that nothing on these lists ships a
# service (an init script or a systemd unit).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
test=
list=
slurm=
for a in "$@"; do
	case $a in
	--test) test=1 ;;
	--slurm) slurm=1 ;;
	--list) list=1 ;;
	*) echo "usage: install-deps.sh [--test] [--slurm] [--list]" >&2
	   exit 2 ;;
	esac
done
pkgs="gcc make autoconf automake pkg-config libssl-dev libevent-dev
libldns-dev libjansson-dev libedit-dev libidn2-dev openssl"
# What the test suite needs, by area (client tools and libraries only;
# flock and unshare come from util-linux, which is essential).
test_core="jq valgrind libxml2-utils bsdutils python3 python3-yaml
python3-jsonschema zsh"
test_dns="ldnsutils adduser"
test_interop="swaks iproute2 libsasl2-modules libsasl2-modules-db"
test_fuzz="clang libclang-rt-14-dev llvm-14"
test_deb="dpkg-dev debhelper lintian"
export DEBIAN_FRONTEND=noninteractive
if [ -n "$test" ]; then
	# the libraries of the unpacked servers, from the package lists
	if ! servers=$(sh "$top/scripts/servers.sh" libs 2>/dev/null) &&
	    [ "$(id -u)" -eq 0 ] && [ -z "$list" ]; then
		apt-get update -q >/dev/null
		servers=$(sh "$top/scripts/servers.sh" libs)
	fi
	[ -n "$servers" ] || {
		echo "install-deps.sh: no package list names the servers" \
		    "(apt-get update)" >&2
		exit 1
	}
	pkgs="$pkgs $test_core $test_dns $test_interop $test_fuzz $test_deb $servers"
fi
if [ -n "$slurm" ]; then
	slurm_libs=$(sh "$top/scripts/slurm.sh" libs) || exit 1
	pkgs="$pkgs $slurm_libs"
fi
if [ -n "$list" ]; then
	printf '%s\n' $pkgs
	exit 0
fi
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing"
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps.sh: run as root, or install:$missing" >&2
		exit 1
	fi
	apt-get update -q >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
# unpack the servers now (first time only), so a problem shows here
[ -z "$test" ] || [ "$(id -u)" -ne 0 ] ||
	sh "$top/scripts/servers.sh" path >/dev/null

#!/bin/sh
# install-deps.sh [--test] - install what smtprobe needs on Debian 12,
# as root. With --test, also what the test suite needs. Packages that
# are already installed are not fetched again.
set -eu
pkgs="gcc make autoconf automake pkg-config libssl-dev libevent-dev
libldns-dev libjansson-dev libedit-dev openssl"
# What the test suite needs, by area.
test_core="jq valgrind libxml2-utils bsdutils python3"
test_dns="unbound rbldnsd ldnsutils"
test_interop="postfix sasl2-bin libsasl2-modules libsasl2-modules-db unbound swaks iproute2 libgnutls30 libgnutls-dane0 libidn12 libidn2-0 libnsl2 libpcre2-8-0 libdb5.3"
test_fuzz="clang libclang-rt-14-dev llvm-14"
[ "${1:-}" = --test ] &&
	pkgs="$pkgs $test_core $test_dns $test_interop $test_fuzz"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: run as root, or install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null

#!/bin/sh
# deb.sh - the Debian package: build it from a copy of the source tree
# with dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS=nocheck: the
# suite this script belongs to is the check), require lintian to find
# no error and no warning, then install the .deb into a scratch root
# with dpkg --root (a database of its own: the machine's packages are
# not touched), check that every part is where Debian's tools look for
# it, that the installed program runs, and that removing the package
# leaves nothing behind. Prints TAP.
#
# Needs dpkg-dev, debhelper, lintian (scripts/install-deps.sh --test);
# without them the test is skipped, unless CI is set, when it fails.
# The ASan/UBSan pass of scripts/test.sh skips it (SMTPROBE_SANITIZED):
# the package is the same. A full build from a clean tree: about 6
# minutes on two loaded cores.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
. "$top_srcdir/tests/lib.sh"

if [ -n "${SMTPROBE_SANITIZED:-}" ]; then
	echo "1..0 # SKIP the package is built in the normal pass"
	exit 0
fi
for t in dpkg-buildpackage dh lintian dpkg-deb; do
	if ! command -v "$t" >/dev/null 2>&1; then
		if [ -n "${CI:-}" ]; then
			echo "Bail out! $t is missing (scripts/install-deps.sh --test)"
			exit 1
		fi
		echo "1..0 # SKIP $t is missing (scripts/install-deps.sh --test)"
		exit 0
	fi
done

lib_init deb
src=$work/smtprobe-0.1.0
mkdir -p "$src"
# the source as a user has it: the files git tracks (no build
# directories); from a tarball, everything but build directories
if git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top_srcdir" && git ls-files -z | tar --null -T - -cf -)
else
	tar -C "$top_srcdir" --exclude='./build' --exclude='./build-*' \
	    --exclude=./autom4te.cache -cf - .
fi | tar -C "$src" -xf -

(cd "$src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) \
    > "$work/build.log" 2>&1
st=$?
[ $st -eq 0 ] || tail -40 "$work/build.log" | sed 's/^/# /'
tap $st "dpkg-buildpackage -us -uc -b builds the package"
deb=$(ls "$work"/smtprobe_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] && [ -f "$deb" ]
tap $? "a .deb came out ($(basename "${deb:-none}"))"
if [ -z "$deb" ]; then
	echo "1..$n"
	exit 1
fi

# lintian: no error, no warning (pedantic and informational tags are
# shown, not counted); as root it says so on stderr, which is not a tag
lintian --fail-on error,warning --no-tag-display-limit "$deb" \
    > "$work/lintian.out" 2>"$work/lintian.err"
st=$?
sed 's/^/# lintian: /' "$work/lintian.out"
tap $st "lintian finds no error and no warning in the .deb"

# what the package holds
dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|' > "$work/files"
for f in /usr/bin/smtprobe /usr/share/man/man1/smtprobe.1.gz \
    /usr/share/man/man5/smtprobe-scenario.5.gz \
    /usr/share/smtprobe/verdict.rules \
    /usr/share/smtprobe/scenarios/open-relay.scn \
    /usr/share/smtprobe/schema/probe.json \
    /usr/share/bash-completion/completions/smtprobe \
    /usr/share/zsh/vendor-completions/_smtprobe \
    /usr/share/doc/smtprobe/copyright; do
	grep -qx "$f" "$work/files"
	tap $? "the package installs $f"
done
dpkg-deb -f "$deb" Depends | grep -q 'libevent' &&
    dpkg-deb -f "$deb" Depends | grep -q 'libldns'
tap $? "Depends names the libraries it links ($(dpkg-deb -f "$deb" Depends))"

# a real installation into a scratch root with its own dpkg database
root=$work/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
: > "$root/var/lib/dpkg/status"
: > "$root/var/lib/dpkg/available"
dpkg --root="$root" --force-depends --force-script-chrootless \
    --force-not-root -i "$deb" > "$work/install.log" 2>&1
st=$?
[ $st -eq 0 ] || sed 's/^/# /' "$work/install.log"
tap $st "dpkg --root installs it into a scratch root"
"$root/usr/bin/smtprobe" --version > "$work/version" 2>&1
tap $? "the installed smtprobe runs: $(head -1 "$work/version")"
"$root/usr/bin/smtprobe" --help 2>&1 | grep -q -- '--scenario'
tap $? "the installed smtprobe prints its --help"
dpkg --root="$root" -s smtprobe 2>/dev/null | grep -q '^Status: install ok installed'
tap $? "dpkg --root knows it as installed"
dpkg --root="$root" --force-script-chrootless --force-not-root \
    -P smtprobe > "$work/purge.log" 2>&1
st=$?
left=$(cd "$root" && find usr -type f 2>/dev/null | head -5)
[ $st -eq 0 ] && [ -z "$left" ]
tap $? "purging it leaves no file behind${left:+ (left: $left)}"

echo "1..$n"

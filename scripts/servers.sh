#!/bin/sh
# servers.sh - the server programs the tests run, unpacked privately
# from their Debian packages instead of installed, so that nothing
# starts, stops or reconfigures a service of the machine (installing
# the postfix package would start the system Postfix, and remove an
# installed Exim; unbound's would start a resolver on port 53).
#
# Usage:
#   servers.sh [env]   make sure every server is unpacked (downloads on
#                      first use), check that the libraries they link
#                      are installed, create the system users they run
#                      as (as root); print shell assignments to eval:
#                        SERVERS_BIN      put it first in PATH: unbound,
#                                         unbound-checkconf, rbldnsd,
#                                         postfix, postconf, postmap,
#                                         postalias, postsuper,
#                                         smtp-sink, smtp-source,
#                                         saslpasswd2, exim4,
#                                         smtpd, smtpctl (OpenSMTPD)
#                        POSTFIX_MAIN_CF  main.cf lines that point a
#                                         private Postfix instance at
#                                         the unpacked tree (append
#                                         them to its main.cf)
#                        EXIM             the Exim binary
#                        DOVECOT_CORE     the unpacked trees of
#                        DOVECOT_LMTPD    dovecot-core and dovecot-lmtpd
#                                         (its compiled-in paths,
#                                         /usr/lib/dovecot and
#                                         /usr/bin/doveconf, must be
#                                         laid over /usr in a mount
#                                         namespace of the caller's:
#                                         tests/interop/interop.sh)
#                        SERVERS_CACHE    the cache directory
#   servers.sh path    the same, but print only SERVERS_BIN
#   servers.sh packages  the server packages, one a line
#   servers.sh libs    the library packages they link, one a line
#                      (scripts/install-deps.sh --test installs them)
#
# Each package (postfix, unbound, rbldnsd, exim4-daemon-light,
# sasl2-bin, opensmtpd, dovecot-core, dovecot-lmtpd) is fetched with
# `apt-get download` and unpacked with
# `dpkg-deb -x` (scripts/unpack.sh), never installed: no maintainer script runs, so no
# service is started, enabled or reconfigured, and no package conflict
# arises (exim4 and postfix both provide mail-transport-agent). One
# directory per package version, in the cache directory
#   ${SMTPROBE_SERVERS_CACHE:-/var/cache/smtprobe-servers}/PKG-VERSION/
# (a user who cannot write there and finds nothing ready there gets
# ${XDG_CACHE_HOME:-$HOME/.cache}/smtprobe-servers). The set/uid and
# set/gid bits are dropped from the unpacked files (the tests run Exim
# as root; a set-uid copy of an old Exim must not lie around). A new
# package version (a security update) is unpacked beside the old one.
# BIN-CHECKSUM/ holds the wrappers: Postfix's programs find their
# private libraries through RUNPATH /usr/lib/postfix, so its wrappers set
# LD_LIBRARY_PATH; the others are symbolic links. BIN/postfix-main.cf
# sets what Postfix has compiled in (command_directory,
# daemon_directory, shlib_directory, meta_directory) to the unpacked
# tree, and passes LD_LIBRARY_PATH on through import_environment (master
# and postfix clean their environment). Postfix's start check warns that
# postdrop and postqueue are not set-gid postdrop: the tests submit no
# mail locally. Postfix's dynamicmaps.cf is copied into the tree's
# etc/postfix as its postinst would.
#
# Idempotent and safe to run in parallel: everything is prepared under
# flock(1) on CACHE/.lock in temporary names and renamed into place; a
# run that finds everything ready takes no lock. The versions apt names
# are kept in CACHE/.versions-KEY (KEY: the package lists' names, times
# and sizes), the ldd check's success in BIN/.libs-ok.
#
# System users, created when missing (root only, as the packages'
# scripts would; nothing is started): postfix and group postdrop
# (Postfix's mail_owner and setgid_group), Debian-exim (compiled into
# Exim), rbldns (rbldnsd's default user when started as root),
# opensmtpd and opensmtpq (compiled into OpenSMTPD's smtpd).
#
# Exit status: 0 ready; 1 something is missing (the message on stderr
# says what and how to get it).
set -u

prog=servers.sh
pkgs="postfix unbound rbldnsd exim4-daemon-light sasl2-bin opensmtpd
dovecot-core dovecot-lmtpd"

say() { echo "$prog: $*" >&2; }
die() { say "$*"; exit 1; }
# unpack_fetch: download and unpack, shared with scripts/slurm.sh
# shellcheck source=scripts/unpack.sh
. "$(dirname "$0")/unpack.sh"

# progs PKG - the programs of PKG that the tests use, relative to its
# unpacked tree
progs() {
	case $1 in
	postfix) echo usr/sbin/postfix usr/sbin/postconf usr/sbin/postmap \
	    usr/sbin/postalias usr/sbin/postsuper usr/sbin/postqueue \
	    usr/sbin/postcat usr/sbin/postlog usr/sbin/smtp-sink \
	    usr/sbin/smtp-source ;;
	unbound) echo usr/sbin/unbound usr/sbin/unbound-checkconf ;;
	rbldnsd) echo usr/sbin/rbldnsd ;;
	exim4-daemon-light) echo usr/sbin/exim4 ;;
	sasl2-bin) echo usr/sbin/saslpasswd2 usr/sbin/sasldblistusers2 ;;
	opensmtpd) echo usr/sbin/smtpd usr/sbin/smtpctl ;;
	dovecot-core) echo usr/sbin/dovecot usr/bin/doveconf ;;
	dovecot-lmtpd) echo usr/lib/dovecot/lmtp ;;
	esac
}

# versions - "PKG VERSION" for each server package, the version apt
# would install (empty when apt knows none). apt-cache takes a second or
# more, and every DNS test asks: the answer is kept in the cache
# directory, keyed on the packages, the package lists and apt's
# preferences.
versions() {
	# shellcheck disable=SC2086
	key=$({ echo $pkgs; stat -c '%n %Y %s' /var/lib/apt/lists/* \
	    /etc/apt/preferences /etc/apt/preferences.d/* 2>/dev/null; } |
	    cksum | awk '{ print $1 }')
	kept=$(cat "$cache/.versions-$key" 2>/dev/null)
	if [ -n "$kept" ]; then
		printf '%s\n' "$kept"
		return
	fi
	# shellcheck disable=SC2086
	kept=$(apt-cache show --no-all-versions $pkgs 2>/dev/null |
	    awk '/^Package: / { p = $2 } /^Version: / { print p, $2 }')
	[ -n "$kept" ] || return 0
	printf '%s\n' "$kept"
	if [ -w "$cache" ] &&
	    printf '%s\n' "$kept" > "$cache/.versions-$key.$$" 2>/dev/null
	then
		for f in "$cache"/.versions-*; do
			case $f in
			*/.versions-"$key"|*/.versions-"$key".$$) ;;
			*) rm -f "$f" ;;
			esac
		done
		mv "$cache/.versions-$key.$$" "$cache/.versions-$key"
	fi
}

# libs - the library packages the server packages depend on (first
# alternative of each dependency, lib* and zlib*)
libs() {
	# shellcheck disable=SC2086
	out=$(apt-cache show --no-all-versions $pkgs 2>/dev/null) ||
		die "apt-cache knows none of: $pkgs (apt-get update?)"
	printf '%s\n' "$out" | sed -n 's/^\(Pre-\)\{0,1\}Depends: //p' |
	    tr ',' '\n' | sed 's/|.*//; s/(.*//; s/:any//; s/[[:space:]]//g' |
	    grep -E '^(lib|zlib)' | sort -u
}

# safe VERSION - VERSION as a file name
safe() { printf '%s' "$1" | tr -c 'A-Za-z0-9.+~\n-' _; }

# newest PKG - the newest unpacked tree of PKG in the cache (for when
# apt names no version: no package lists, or offline)
newest() {
	for d in "$cache/$1"-[0-9]*; do
		[ -f "$d/.unpacked" ] && echo "$d"
	done | sort -V | tail -1
}

# plan - set dirs ("PKG DIR" lines) and bin (the wrapper directory) for
# the versions apt names; 1 if a package has neither a version nor an
# unpacked tree
plan() {
	vers=$(versions)
	dirs=
	missing=
	for p in $pkgs; do
		v=$(printf '%s\n' "$vers" | awk -v p="$p" '$1 == p { print $2 }')
		if [ -n "$v" ]; then
			d=$cache/$p-$(safe "$v")
		else
			d=$(newest "$p")
			[ -n "$d" ] || { missing="$missing $p"; continue; }
		fi
		dirs="$dirs$p $d
"
	done
	[ -z "$missing" ] || return 1
	sum=$(printf '%s' "$dirs" | cksum | awk '{ print $1 }')
	bin=$cache/bin-$sum
	return 0
}

# ready - true when every tree and the wrapper directory are in place
ready() {
	[ -f "$bin/.ready" ] || return 1
	printf '%s' "$dirs" | while read -r p d; do
		[ -f "$d/.unpacked" ] || exit 1
	done
}

# wanted - "PKG=VERSION" of each package whose tree is missing
wanted() {
	want=
	while read -r p d; do
		[ -n "$p" ] && [ ! -f "$d/.unpacked" ] || continue
		v=$(printf '%s\n' "$vers" | awk -v p="$p" '$1 == p { print $2 }')
		[ -n "$v" ] || die "apt names no version of $p (apt-get update)"
		want="$want $p=$v"
	done <<EOF
$dirs
EOF
}

# refresh - after a failed download: as root, the package lists anew
# (they may name a version the mirror dropped); then one more try
refresh() {
	if [ "$(id -u)" -eq 0 ]; then
		say "apt-get update (download failed)"
		apt-get update -q >/dev/null 2>&1
		plan || die "apt names no version of:$missing"
		wanted
	fi
	return 0
}

# fetch - download and unpack the packages whose tree is missing
# (scripts/unpack.sh)
fetch() {
	wanted
	unpack_fetch postfix_fixup refresh
}

# postfix_fixup PKG ROOT - what Postfix's postinst would put in
# /etc/postfix and its instances read from meta_directory
postfix_fixup() {
	[ "$1" = postfix ] || return 0
	[ -f "$2/etc/postfix/dynamicmaps.cf" ] ||
		cp "$2/usr/share/postfix/dynamicmaps.cf" "$2/etc/postfix/" 2>/dev/null
	return 0
}

# dir_of PKG - the tree of PKG in the plan
dir_of() {
	printf '%s' "$dirs" | awk -v p="$1" '$1 == p { print $2 }'
}

# make_bin - the wrapper directory and postfix-main.cf, made in a
# temporary name and renamed into place
make_bin() {
	[ -f "$bin/.ready" ] && return 0
	t=$(mktemp -d "$cache/.bin.XXXXXX") || die "cannot write $cache"
	pf=$(dir_of postfix)
	for p in $pkgs; do
		d=$(dir_of "$p")
		for f in $(progs "$p"); do
			[ -x "$d/$f" ] || die "$p has no $f (in $d)"
			# Dovecot runs only from its place under /usr
			case $p in dovecot-*) continue ;; esac
			n=$(basename "$f")
			if [ "$p" = postfix ]; then
				cat > "$t/$n" <<EOF
#!/bin/sh
# $n from the unpacked postfix package (scripts/servers.sh)
LD_LIBRARY_PATH=$pf/usr/lib/postfix\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
exec $d/$f "\$@"
EOF
				chmod 755 "$t/$n"
			else
				ln -s "$d/$f" "$t/$n"
			fi
		done
	done
	# Postfix's compiled-in paths point at /usr and /etc/postfix; its
	# programs clean their environment (import_environment), so the
	# library path is passed on by name
	cat > "$t/postfix-main.cf" <<EOF
# the unpacked Postfix (scripts/servers.sh)
command_directory = $pf/usr/sbin
daemon_directory = $pf/usr/lib/postfix/sbin
shlib_directory = $pf/usr/lib/postfix
meta_directory = $pf/etc/postfix
sendmail_path = $pf/usr/sbin/sendmail
newaliases_path = $pf/usr/bin/newaliases
mailq_path = $pf/usr/bin/mailq
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C
	POSTLOG_SERVICE POSTLOG_HOSTNAME
	LD_LIBRARY_PATH=$pf/usr/lib/postfix
EOF
	: > "$t/.ready"
	chmod 755 "$t"
	mv "$t" "$bin" 2>/dev/null || rm -rf "$t"
	[ -f "$bin/.ready" ] || die "cannot make $bin"
}

# check_libs - every ELF file the tests run finds its libraries; once
# it did, BIN/.libs-ok spares the next runs the ldd calls
check_libs() {
	[ -f "$bin/.libs-ok" ] && return 0
	files=
	for p in $pkgs; do
		d=$(dir_of "$p")
		for f in $(progs "$p"); do files="$files $d/$f"; done
	done
	pf=$(dir_of postfix)
	for f in "$pf"/usr/lib/postfix/sbin/* "$pf"/usr/lib/postfix/*.so; do
		files="$files $f"
	done
	dc=$(dir_of dovecot-core)/usr/lib/dovecot
	# shellcheck disable=SC2086
	out=$(LD_LIBRARY_PATH=$pf/usr/lib/postfix:$dc ldd $files 2>/dev/null |
	    awk '/:$/ { f = $1; sub(/:$/, "", f); n = split(f, a, "/");
		f = a[n] } / => not found/ { print $1, f }' | sort -u)
	if [ -z "$out" ]; then
		: > "$bin/.libs-ok" 2>/dev/null
		return 0
	fi
	say "libraries the unpacked servers need are not installed:"
	printf '%s\n' "$out" | awk '{ l[$1] = l[$1] " " $2 }
	    END { for (x in l) print "  " x " (for" l[x] ")" }' >&2
	# shellcheck disable=SC2046
	die "install them: sh scripts/install-deps.sh --test (library" \
	    "packages not installed:$(absent $(libs)))"
}

# absent PKG... - those of the packages that are not installed
absent() {
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "ok installed" || printf ' %s' "$p"
	done
}

# users - the system users the servers run as, created when missing
users() {
	[ "$(id -u)" -eq 0 ] || return 0
	getent group postdrop >/dev/null ||
		addgroup --system --quiet postdrop ||
		die "cannot create the group postdrop"
	mkuser postfix /var/spool/postfix
	mkuser Debian-exim /var/spool/exim4
	mkuser rbldns /var/lib/rbldns
	mkuser opensmtpd /var/lib/opensmtpd
	mkuser opensmtpq /var/lib/opensmtpd
}

# mkuser NAME HOME - a system user and group, no login, home not made
mkuser() {
	getent passwd "$1" >/dev/null && return 0
	say "creating the system user $1 (as its package would)"
	adduser --system --group --quiet --home "$2" --no-create-home \
	    --disabled-login --force-badname "$1" ||
		die "cannot create the user $1"
}

# ---- main ----
cmd=${1:-env}
case $cmd in
packages)
	# shellcheck disable=SC2086
	printf '%s\n' $pkgs
	exit 0
	;;
libs)
	libs
	exit 0
	;;
env|path) ;;
*)
	echo "usage: $prog [env | path | packages | libs]" >&2
	exit 2
	;;
esac
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
	die "needs apt-get and dpkg-deb (Debian)"

cache=${SMTPROBE_SERVERS_CACHE:-}
if [ -z "$cache" ]; then
	cache=/var/cache/smtprobe-servers
	if [ "$(id -u)" -ne 0 ] && ! { plan && ready; } &&
	    ! { mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ]; }; then
		cache=${XDG_CACHE_HOME:-$HOME/.cache}/smtprobe-servers
	fi
fi
case $cache in
/*) ;;
*) die "SMTPROBE_SERVERS_CACHE must be an absolute path: $cache" ;;
esac

plan || die "apt names no version of:$missing, and nothing is" \
    "unpacked in $cache (apt-get update, as root)"
if ! ready || { [ "$(id -u)" -eq 0 ] && ! { getent passwd rbldns \
    Debian-exim postfix opensmtpd opensmtpq && getent group postdrop; } \
    >/dev/null; }; then
	mkdir -p "$cache" || die "cannot create $cache"
	chmod 755 "$cache" 2>/dev/null
	exec 9>>"$cache/.lock" || die "cannot write $cache/.lock"
	command -v flock >/dev/null || die "needs flock (util-linux)"
	flock -w 600 9 || die "cannot lock $cache/.lock"
	fetch
	make_bin
	users
	exec 9>&-
fi
check_libs
if [ "$cmd" = path ]; then
	echo "$bin"
	exit 0
fi
cat <<EOF
SERVERS_CACHE='$cache'
SERVERS_BIN='$bin'
POSTFIX_MAIN_CF='$bin/postfix-main.cf'
EXIM='$(dir_of exim4-daemon-light)/usr/sbin/exim4'
DOVECOT_CORE='$(dir_of dovecot-core)'
DOVECOT_LMTPD='$(dir_of dovecot-lmtpd)'
EOF

#!/bin/sh
# slurm.sh - Slurm (Debian's slurm-wlm: slurmctld, slurmd, the client
# commands, the plugins) and MUNGE for `make check-slurm`, unpacked
# privately from their Debian packages the way scripts/servers.sh
# unpacks the mail servers, never installed: the packages' maintainer
# scripts would create users, enable and start slurmctld, slurmd and
# munged as services of the machine.
#
# Usage:
#   slurm.sh [env]    make sure every package is unpacked (downloads on
#                     first use) and that the libraries they link are
#                     installed; print shell assignments to eval:
#                       SLURM_LOWER  the lower directories (colon-
#                                    separated, upper first) of a
#                                    read-only overlay mounted on /usr
#                                    in a private mount namespace: the
#                                    links the postinsts would make
#                                    (slurmctld -> slurmctld-wlm ...),
#                                    then each package's usr/; /usr
#                                    itself goes last
#                       SLURM_CACHE  the cache directory
#   slurm.sh packages the packages, one a line
#   slurm.sh libs     the library packages they link, one a line
#                     (apt-get install them: libraries start nothing)
#
# The binaries must see the tree at /usr: they have RUNPATH
# /usr/lib/x86_64-linux-gnu/slurm-wlm (libslurmfull), slurmd runs
# /usr/sbin/slurmstepd, the plugins are found there; hence the overlay,
# which tests/slurm/slurm.sh mounts inside its own namespaces.
#
# Cache, locking, set-uid stripping, download and unpacking: as
# scripts/servers.sh, with scripts/unpack.sh (one
# directory per package version in ${SMTPROBE_SERVERS_CACHE:-
# /var/cache/smtprobe-servers}, prepared under flock(1) in temporary
# names and renamed into place). Exit status: 0 ready; 1 something is
# missing (stderr says what).
set -u

prog=slurm.sh
pkgs="slurmctld slurmd slurm-client slurm-wlm-basic-plugins munge"

say() { echo "$prog: $*" >&2; }
die() { say "$*"; exit 1; }
# unpack_fetch: download and unpack, as scripts/servers.sh
# shellcheck source=scripts/unpack.sh
. "$(dirname "$0")/unpack.sh"

# versions - "PKG VERSION" for each package, as apt would install it
versions() {
	# shellcheck disable=SC2086
	apt-cache show --no-all-versions $pkgs 2>/dev/null |
	    awk '/^Package: / { p = $2 } /^Version: / { print p, $2 }'
}

# libs - the library packages the packages depend on
libs() {
	# shellcheck disable=SC2086
	out=$(apt-cache show --no-all-versions $pkgs 2>/dev/null) ||
		die "apt-cache knows none of: $pkgs (apt-get update?)"
	printf '%s\n' "$out" | sed -n 's/^\(Pre-\)\{0,1\}Depends: //p' |
	    tr ',' '\n' | sed 's/|.*//; s/(.*//; s/:any//; s/[[:space:]]//g' |
	    grep -E '^(lib|zlib)' | sort -u
}

safe() { printf '%s' "$1" | tr -c 'A-Za-z0-9.+~\n-' _; }

# plan - dirs: "PKG DIR" lines for the versions apt names (else the
# newest unpacked tree)
plan() {
	vers=$(versions)
	dirs=
	for p in $pkgs; do
		v=$(printf '%s\n' "$vers" | awk -v p="$p" '$1 == p { print $2 }')
		if [ -n "$v" ]; then
			d=$cache/$p-$(safe "$v")
		else
			d=$(for x in "$cache/$p"-[0-9]*; do
				[ -f "$x/.unpacked" ] && echo "$x"
			done | sort -V | tail -1)
			[ -n "$d" ] || die "apt names no version of $p and" \
			    "nothing is unpacked in $cache (apt-get update)"
		fi
		dirs="$dirs$p $d $v
"
	done
}

# fetch - download and unpack the packages whose tree is missing
# (scripts/unpack.sh)
fetch() {
	want=
	while read -r p d v; do
		[ -n "$p" ] && [ ! -f "$d/.unpacked" ] || continue
		want="$want $p=$v"
	done <<EOF
$dirs
EOF
	unpack_fetch :
}

# dir_of PKG - the tree of PKG
dir_of() { printf '%s' "$dirs" | awk -v p="$1" '$1 == p { print $2 }'; }

# make_links - the directory of the links the postinsts would make
# (update-alternatives: slurmctld -> slurmctld-wlm ...)
make_links() {
	sum=$(printf '%s' "$dirs" | cksum | awk '{ print $1 }')
	links=$cache/slurm-links-$sum
	[ -f "$links/.ready" ] && return 0
	t=$(mktemp -d "$cache/.links.XXXXXX") || die "cannot write $cache"
	mkdir -p "$t/sbin"
	for n in slurmctld slurmd slurmstepd; do
		ln -s "$n-wlm" "$t/sbin/$n"
	done
	: > "$t/.ready"
	chmod 755 "$t"
	mv "$t" "$links" 2>/dev/null || rm -rf "$t"
	[ -f "$links/.ready" ] || die "cannot make $links"
}

# check_libs - the daemons, the commands and the plugins they load find
# their libraries (libslurmfull through the unpacked plugin directory)
check_libs() {
	pl=$(dir_of slurm-wlm-basic-plugins)/usr/lib/x86_64-linux-gnu/slurm-wlm
	files="$(dir_of slurmctld)/usr/sbin/slurmctld-wlm
$(dir_of slurmd)/usr/sbin/slurmd-wlm $(dir_of slurmd)/usr/sbin/slurmstepd-wlm
$(dir_of slurm-client)/usr/bin/sbatch $(dir_of munge)/usr/sbin/munged"
	for f in auth_munge cred_munge select_cons_tres proctrack_pgid \
	    task_none sched_backfill; do
		files="$files $pl/$f.so"
	done
	# shellcheck disable=SC2086
	out=$(LD_LIBRARY_PATH=$pl ldd $files 2>/dev/null |
	    awk '/ => not found/ { print $1 }' | sort -u)
	[ -z "$out" ] && return 0
	# shellcheck disable=SC2086
	die "libraries not installed:" $out "(as root: sh" \
	    "scripts/install-deps.sh --slurm)"
}

cmd=${1:-env}
case $cmd in
packages) printf '%s\n' $pkgs; exit 0 ;;
libs) libs; exit 0 ;;
env) ;;
*) echo "usage: $prog [env | packages | libs]" >&2; exit 2 ;;
esac
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
	die "needs apt-get and dpkg-deb (Debian)"
[ "$(dpkg --print-architecture)" = amd64 ] ||
	die "the overlay paths are those of amd64"
cache=${SMTPROBE_SERVERS_CACHE:-/var/cache/smtprobe-servers}
case $cache in
/*) ;;
*) die "SMTPROBE_SERVERS_CACHE must be an absolute path: $cache" ;;
esac
plan
mkdir -p "$cache" || die "cannot create $cache"
exec 9>>"$cache/.lock" || die "cannot write $cache/.lock"
command -v flock >/dev/null || die "needs flock (util-linux)"
flock -w 600 9 || die "cannot lock $cache/.lock"
fetch
make_links
exec 9>&-
check_libs
lower=$links
while read -r p d v; do
	[ -n "$p" ] && lower="$lower:$d/usr"
done <<EOF
$dirs
EOF
cat <<EOF
SLURM_CACHE='$cache'
SLURM_LOWER='$lower'
EOF

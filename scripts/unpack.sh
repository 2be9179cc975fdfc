# unpack.sh - sourced by scripts/servers.sh and scripts/slurm.sh: the
# one way they get Debian packages without installing them. The
# packages are fetched with `apt-get download` into a temporary
# directory under the cache and unpacked with `dpkg-deb -x`: no
# maintainer script runs, so no service is started, enabled or
# reconfigured. The set-uid and set-gid bits are dropped from the
# unpacked files; a tree gets its .unpacked mark, then is renamed into
# place.
#
# The sourcing script defines say and die (message to stderr; message
# and exit 1) and the variables cache (the cache directory), dirs
# (lines "PKG DIR ...": the tree each package goes to) and want
# (" PKG=VERSION ...": the packages to fetch), and holds the cache's
# lock while it calls unpack_fetch.
# shellcheck shell=sh disable=SC2154

# unpack_download DIR - apt-get download $want into DIR (its messages
# in DIR/err)
unpack_download() {
	# shellcheck disable=SC2086
	(cd "$1" && apt-get download -q $want >/dev/null 2>"$1/err")
}

# unpack_fetch FIXUP [RETRY] - download $want and unpack each package
# of $dirs whose tree has no .unpacked mark into that tree. FIXUP PKG
# ROOT runs on each unpacked tree before it is renamed into place (:
# for nothing); RETRY, after a failed download, returns 0 to have it
# tried once more (it may set dirs and want anew)
unpack_fetch() {
	[ -n "$want" ] || return 0
	say "unpacking${want} into $cache"
	tmp=$(mktemp -d "$cache/.dl.XXXXXX") || die "cannot write $cache"
	# apt drops to the user _apt to download; let it write there
	[ "$(id -u)" -eq 0 ] && chown _apt "$tmp" 2>/dev/null
	if ! unpack_download "$tmp" && ! { [ $# -gt 1 ] && "$2" &&
	    unpack_download "$tmp"; }; then
		say "$(tail -3 "$tmp/err")"
		rm -rf "$tmp"
		die "cannot download${want} (is the Debian mirror" \
		    "reachable? apt-get update?)"
	fi
	while read -r p d rest; do
		[ -n "$p" ] && [ ! -f "$d/.unpacked" ] || continue
		rm -rf "$tmp/root"
		mkdir "$tmp/root"
		dpkg-deb -x "$tmp/${p}"_*.deb "$tmp/root" ||
			die "dpkg-deb -x $p failed"
		find "$tmp/root" -type f -perm /6000 -exec chmod ug-s {} +
		"$1" "$p" "$tmp/root"
		: > "$tmp/root/.unpacked"
		rm -rf "$d"
		mv "$tmp/root" "$d" || die "cannot rename into $d"
	done <<EOF
$dirs
EOF
	rm -rf "$tmp"
}

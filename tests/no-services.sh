#!/bin/sh
# no-services.sh - the test suite leaves the machine's services alone
# (issue 13): no package that ships a service is installed for it, and
# no script starts, stops, enables, disables or reconfigures a service
# of the machine. Prints TAP.
#
# 1. Scripts: no line (comments aside) of scripts/, tests/ or bench/
#    runs systemctl, service NAME ACTION, update-rc.d, invoke-rc.d,
#    /etc/init.d/NAME, or `postfix start|stop|...` without -c (the
#    system instance); apt-get/apt install appears only in
#    scripts/install-deps.sh. The scanner is first run on a planted
#    file to show it catches each of these.
# 2. Packages: the list of scripts/install-deps.sh --test --list holds
#    no server package (scripts/servers.sh packages, and a fixed list:
#    postfix*, exim4*, unbound, rbldnsd, sasl2-bin, dovecot*, bind9,
#    nsd, knot, opendkim, systemd); then every package it lists, and
#    every package apt would pull in to install those not installed
#    (apt-get install -s), is checked by its contents: none may ship an
#    /etc/init.d script or a systemd .service or .socket unit. Installed
#    packages are read with dpkg-query -L; the others are downloaded
#    (apt-get download, into the work directory) and read with
#    dpkg-deb -c; when that is impossible (offline) the check is a SKIP.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top_srcdir" || exit 99
n=0
nfail=0
# tap STATUS WORDS... - one TAP line
tap() {
	st=$1
	shift
	n=$((n + 1))
	if [ "$st" -eq 0 ]; then
		echo "ok $n - $*"
	else
		echo "not ok $n - $*"
		nfail=$((nfail + 1))
	fi
}
work=$(mktemp -d "${TMPDIR:-/tmp}/smtprobe-no-services.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT

# ---- 1. scripts ----
# scan FILE... - print FILE:LINE: TEXT for each line that acts on a
# service of the machine (comment lines are not code)
scan() {
	cmd='(^|[;&|(]|\$\(|then|do|else)[[:space:]]*(sudo[[:space:]]+)?'
	grep -nHE \
	    -e '(^|[^[:alnum:]_-])systemctl([^[:alnum:]_-]|$)' \
	    -e 'update-rc\.d' -e 'invoke-rc\.d' -e '/etc/init\.d/' \
	    -e "${cmd}service[[:space:]]+[^[:space:]]+[[:space:]]+(start|stop|restart|reload|force-reload|enable|disable)" \
	    -e "(${cmd}|/)postfix[[:space:]]+(start|stop|reload|abort|flush|restart|set-permissions|upgrade-configuration)" \
	    -e "${cmd}apt(-get)?[[:space:]]+(-[^[:space:]]+[[:space:]]+)*install" \
	    "$@" 2>/dev/null |
	    grep -vE '^[^:]*:[0-9]+:[[:space:]]*(#|\*|/\*)' |
	    grep -vE '^scripts/install-deps\.sh:[0-9]+:[[:space:]]*apt-get install -y'
}

planted=$work/planted.sh
cat > "$planted" <<'EOF'
systemctl disable --now postfix
service unbound stop
update-rc.d exim4 disable
invoke-rc.d postfix restart
/etc/init.d/unbound stop
/usr/sbin/postfix stop
apt-get install -y postfix
# systemctl in a comment is fine, so are messages and private instances:
postfix -c "$work/pf" start || bail "postfix start failed"
echo "OpenSSL not found (Debian: apt-get install libssl-dev)"
EOF
hits=$(scan "$planted" | wc -l)
[ "$hits" -eq 7 ]
tap $? "the scanner finds the 7 planted service actions (found $hits)"

files=$(find scripts tests bench -type f \( -name '*.sh' -o -name '*.c' \
    -o -name '*.h' -o -name '*.am' -o -name '*.in' \) \
    ! -path tests/no-services.sh 2>/dev/null | sort)
# shellcheck disable=SC2086
hits=$(scan $files Makefile.am configure.ac)
[ -z "$hits" ]
tap $? "no script starts, stops, enables or disables a service of the" \
"machine, and only install-deps.sh installs packages"
[ -z "$hits" ] || printf '%s\n' "$hits" | sed 's/^/# /'

# ---- 2. packages ----
if ! command -v dpkg-query >/dev/null 2>&1 ||
    ! list=$(sh scripts/install-deps.sh --test --list 2>"$work/err"); then
	echo "# $(cat "$work/err" 2>/dev/null)"
	echo "ok $((n + 1)) - package checks # SKIP not Debian, or no" \
	    "package lists (apt-get update)"
	n=$((n + 1))
	echo "1..$n"
	[ "$nfail" -eq 0 ]
	exit
fi
forbidden=$(printf '%s\n' $list | grep -xE \
    'postfix(-.*)?|exim4.*|unbound|rbldnsd|sasl2-bin|dovecot.*|bind9|nsd|knot|opendkim|systemd|sendmail.*|courier.*')
for s in $(sh scripts/servers.sh packages); do
	printf '%s\n' $list | grep -qx "$s" && forbidden="$forbidden $s"
done
# shellcheck disable=SC2046
forbidden=$(echo $(printf '%s\n' $forbidden | sort -u))
[ -z "$forbidden" ]
tap $? "install-deps.sh --test installs no server package${forbidden:+:" \
"$forbidden}"

# the packages install-deps.sh would install here: those it lists that
# are not installed, and what apt pulls in with them
# shellcheck disable=SC2086
status=$(dpkg-query -W -f='${Package} ${Status}\n' $list 2>/dev/null)
absent=
for p in $list; do
	printf '%s\n' "$status" | grep -q "^$p .*ok installed" ||
		absent="$absent $p"
done
pulled=
if [ -n "$absent" ]; then
	# shellcheck disable=SC2086
	pulled=$(apt-get install -s -q --no-install-recommends $absent \
	    2>/dev/null | sed -n 's/^Inst \([^ ]*\) .*/\1/p')
fi
check=$(printf '%s\n' $list $pulled | sort -u)

# units - the lines of a package's file list (stdin) that are services
units() {
	sed 's/ -> .*//' |
	    grep -E '^/etc/init\.d/[^/]+$|^(/usr)?/lib/systemd/(system|user)/[^/]+\.(service|socket)$'
}

# installed packages: dpkg's file lists; the others: their .deb
chmod 755 "$work"
mkdir "$work/debs"
[ "$(id -u)" -eq 0 ] && chown _apt "$work/debs" 2>/dev/null
# shellcheck disable=SC2086
status=$(dpkg-query -W -f='${Package} ${Status}\n' $check 2>/dev/null)
get=
for p in $check; do
	printf '%s\n' "$status" | grep -q "^$p .*ok installed" ||
		get="$get $p"
done
# shellcheck disable=SC2086
[ -z "$get" ] || (cd "$work/debs" && apt-get download -q $get \
    >/dev/null 2>&1)
bad=
unchecked=
info=/var/lib/dpkg/info
for p in $check; do
	case " $get " in
	*" $p "*)
		deb=$(ls "$work/debs/${p}"_*.deb 2>/dev/null | head -1)
		if [ -z "$deb" ]; then
			unchecked="$unchecked $p"
			continue
		fi
		dpkg-deb -c "$deb" |
		    awk '{ $1 = $2 = $3 = $4 = $5 = ""; print }' |
		    sed 's/^ *\.//' > "$work/list" ;;
	*)	cat "$info/$p.list" "$info/$p":*.list > "$work/list" \
		    2>/dev/null ;;
	esac
	u=$(units < "$work/list" | tr '\n' ' ')
	[ -z "$u" ] || bad="$bad $p ($u)"
done
ncheck=$(printf '%s\n' $check | wc -l)
if [ -n "$unchecked" ]; then
	echo "ok $((n + 1)) - the packages install-deps.sh installs ship no" \
	    "service # SKIP cannot read$unchecked (offline?)"
	n=$((n + 1))
else
	[ -z "$bad" ]
	tap $? "none of the $ncheck packages install-deps.sh --test would" \
	    "install here ships an init script or a systemd service${bad:+:$bad}"
fi

# the check itself sees a service: the unpacked postfix tree's own
# file list, when scripts/servers.sh has unpacked it
pf=$(ls -d "${SMTPROBE_SERVERS_CACHE:-/var/cache/smtprobe-servers}"/postfix-[0-9]* \
    2>/dev/null | head -1)
if [ -n "$pf" ]; then
	(cd "$pf" && find . ! -type d | sed 's/^\.//') > "$work/pf.list"
	units < "$work/pf.list" | grep -q '/postfix\.service$'
	tap $? "the contents check finds postfix.service in the postfix package"
fi
echo "1..$n"
[ "$nfail" -eq 0 ]

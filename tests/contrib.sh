#!/bin/sh
# contrib.sh - the recipes under contrib/ stay true: the CI files are
# valid YAML with the keys their systems need, the container's runtime
# stage installs the package of every library the built binary links
# (readelf, ldd, dpkg -S), runs as a user without privileges, and pins its base
# images; hadolint checks the Dockerfile where it is installed. Prints TAP.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
n=0
check() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
c=$top_srcdir/contrib
df=$c/container/Dockerfile
if python3 -c 'import yaml' 2>/dev/null; then
	python3 - "$c/ci/github-actions.yml" <<'PY'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
on = d.get("on", d.get(True))
steps = d["jobs"]["probe"]["steps"]
assert "schedule" in on, "no schedule"
assert any("--junit" in s.get("run", "") for s in steps), "no --junit"
assert any("junit" in str(s.get("with", "")) for s in steps), "JUnit not published"
PY
	check $? "github-actions.yml: YAML, scheduled, runs with --junit and publishes it"
	python3 - "$c/ci/gitlab-ci.yml" <<'PY'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
j = d["smtprobe"]
assert any("--junit smtprobe-junit.xml" in s for s in j["script"])
assert j["artifacts"]["reports"]["junit"] == "smtprobe-junit.xml"
PY
	check $? "gitlab-ci.yml: YAML, the job's JUnit file is its junit report"
	for f in "$c"/k8s/*.yaml; do
		[ -f "$f" ] || continue
		python3 -c 'import sys, yaml; list(yaml.safe_load_all(open(sys.argv[1])))' "$f"
		check $? "$(basename "$f"): YAML"
	done
else
	echo "ok $((n += 1)) # SKIP python3-yaml not installed"
fi
# the runtime stage: from the second FROM on
runtime=$(sed -n '/^FROM debian:12-slim/,$p' "$df")
[ -n "$runtime" ]
check $? "Dockerfile: a runtime stage on debian:12-slim"
[ "$(grep -c '^FROM ' "$df")" -ge 2 ]
check $? "Dockerfile: multi-stage"
! grep -E '^FROM [^ ]*(:latest)?( |$)' "$df" | grep -qvE '^FROM [^ :]+:[0-9a-z.-]+'
check $? "Dockerfile: every base image has a tag"
printf '%s\n' "$runtime" | grep -qE '^USER [a-z]' &&
    ! printf '%s\n' "$runtime" | grep -qE '^USER (root|0)\b'
check $? "Dockerfile: runs as a user without privileges"
miss=
if command -v ldd >/dev/null && command -v dpkg >/dev/null &&
    command -v readelf >/dev/null; then
	# the libraries it names itself (NEEDED); apt brings what they need
	needed=$(LC_ALL=C readelf -d "$top_builddir/smtprobe" |
	    sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
	for lib in $(ldd "$top_builddir/smtprobe" | awk '$3 ~ /^\// { print $1 " " $3 }' |
	    while read -r so path; do
		printf '%s\n' "$needed" | grep -qx "$so" && echo "$path"
	    done); do
		pkg=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -1 | cut -d: -f1)
		[ -z "$pkg" ] && pkg=$(dpkg -S "$lib" 2>/dev/null | head -1 | cut -d: -f1)
		case $pkg in
		libc6|"") continue ;;	# in every Debian image
		libasan*|libubsan*|liblsan*|libtsan*) continue ;; # a sanitizer build
		esac
		printf '%s\n' "$runtime" | grep -qw -- "$pkg" || miss="$miss $pkg"
	done
	[ -z "$miss" ]
	check $? "Dockerfile: the runtime stage installs every library smtprobe links"
	[ -z "$miss" ] || echo "# missing:$miss"
else
	echo "ok $((n += 1)) # SKIP no ldd or dpkg"
fi
if command -v hadolint >/dev/null 2>&1; then
	hadolint "$df"
	check $? "hadolint Dockerfile"
else
	echo "ok $((n += 1)) # SKIP hadolint not installed"
fi
echo "1..$n"

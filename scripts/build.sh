#!/bin/sh
# build.sh [DIR [CONFIGURE-ARGS...]] - configure and build out of tree
# (default DIR: build). Runs autoreconf when configure is missing or old.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-build}
[ $# -gt 0 ] && shift
cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] ||
	[ Makefile.am -nt configure ] || [ tests/cases.am -nt configure ]; then
	autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
fi
mkdir -p "$dir"
cd "$dir"
if [ ! -f Makefile ] || [ "$top/configure" -nt Makefile ]; then
	"$top/configure" -q "$@"
fi
make -s -j"$(nproc 2>/dev/null || echo 2)" all tests/fakemx tests/certs/stamp

#!/usr/bin/env bash
# Builds the Debian packages from a scratch copy of the source tree, never in the tree itself:
# dpkg-buildpackage writes its build directory (obj-<triplet>) and debian/<package>/ into the
# tree and the .debs into the tree's PARENT directory. The copy holds the files git knows
# (tracked, or untracked and not ignored), so build directories are not copied.
#
#   tests/packaging/build_debs.sh OUT_DIR [dpkg-buildpackage arguments...]
#
# OUT_DIR receives the .deb, .buildinfo and .changes files (existing ones of this source
# package are removed first). Extra arguments go to dpkg-buildpackage, e.g. a driver profile:
#   FORWARDER_SX1302_LORAGW_LIB=... FORWARDER_SX1302_LORAGW_INCLUDE=... \
#     tests/packaging/build_debs.sh out -Ppkg.forwarder.sx1302
# DEB_BUILD_OPTIONS defaults to "nocheck parallel=<nproc>" (tests run from scripts/test.sh);
# FORWARDER_PKG_KEEP=1 keeps the scratch copy for inspection.
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: $0 OUT_DIR [dpkg-buildpackage arguments...]" >&2
    exit 2
fi
out=$1
shift
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

scratch=$(mktemp -d "${TMPDIR:-/tmp}/forwarder-deb.XXXXXX")
if [[ "${FORWARDER_PKG_KEEP:-0}" != 1 ]]; then
    trap 'rm -rf "$scratch"' EXIT
fi
src="$scratch/forwarder"
mkdir -p "$src"

echo "--- copy the source tree to $src"
if git -C "$source_dir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Tracked files that were deleted in the work tree are skipped (test -e / -L).
    (cd "$source_dir" && git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do
            if [[ -e "$f" || -L "$f" ]]; then printf '%s\0' "$f"; fi
        done | sort -zu | tar --null --no-recursion -T - -cf -) | tar -xf - -C "$src"
else
    tar -C "$source_dir" --exclude='./build*' --exclude='./obj-*' --exclude=./.git -cf - . |
        tar -xf - -C "$src"
fi
[[ -L "$src/debian" || -d "$src/debian" ]] || { echo "no debian/ in the copy" >&2; exit 1; }

jobs=$(nproc 2>/dev/null || echo 2)
export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-"nocheck parallel=$jobs"}
echo "--- dpkg-buildpackage -b -us -uc $* (DEB_BUILD_OPTIONS=$DEB_BUILD_OPTIONS)"
start=$SECONDS
(cd "$src" && nice -n 10 dpkg-buildpackage -b -us -uc "$@")
echo "--- built in $((SECONDS - start)) s"

rm -f "$out"/forwarder*_*.deb "$out"/forwarder_*.buildinfo "$out"/forwarder_*.changes
shopt -s nullglob
files=("$scratch"/*.deb "$scratch"/*.buildinfo "$scratch"/*.changes)
[[ ${#files[@]} -gt 0 ]] || { echo "dpkg-buildpackage wrote no packages" >&2; exit 1; }
mv "${files[@]}" "$out/"
ls -l "$out"

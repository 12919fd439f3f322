#!/usr/bin/env bash
# Tests the driver build profiles end to end without Semtech's HAL: builds a position-independent
# libloragw.a from the sx1302 test double (hal-drivers/fake-loragw), builds the packages with
# -Ppkg.forwarder.sx1302 and FORWARDER_SX1302_LORAGW_LIB/_INCLUDE pointing at it, and checks
# that forwarder-driver-sx1302 holds forwarder-sx1302.so, depends on the exact forwarder
# version, and loads in the unpacked daemon (--describe sx1302).
# The package it builds drives no hardware: never ship it.
#
# usage: driver_profile_check.sh [OUT_DIR]     (a full package build: ~10 minutes on one core)
set -euo pipefail

source_dir=$(cd "$(dirname "$0")/../.." && pwd)
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/forwarder-drvprof.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
out=${1:-$tmp/debs}

echo "--- fake sx1302 HAL: libloragw.a (-fPIC)"
fake="$source_dir/hal-drivers/fake-loragw"
mkdir -p "$tmp/hal"
for c in sx1302/fake_loragw.c common/fake_core.c; do
    cc -std=c11 -O2 -fPIC -fvisibility=hidden -I "$fake/sx1302/include" -I "$fake/common" \
        -c "$fake/$c" -o "$tmp/hal/$(basename "$(dirname "$c")").o"
done
ar rcs "$tmp/hal/libloragw.a" "$tmp/hal"/*.o

echo "--- packages with -Ppkg.forwarder.sx1302"
FORWARDER_SX1302_LORAGW_LIB="$tmp/hal/libloragw.a" \
FORWARDER_SX1302_LORAGW_INCLUDE="$fake/sx1302/include" \
    bash "$source_dir/tests/packaging/build_debs.sh" "$out" -Ppkg.forwarder.sx1302

shopt -s nullglob
drv=("$out"/forwarder-driver-sx1302_*.deb)
runtime=("$out"/forwarder_*.deb)
shopt -u nullglob
[[ ${#drv[@]} -eq 1 ]] || fail "no forwarder-driver-sx1302 package"
# (Listings go to files: `dpkg-deb -c | grep -q` fails under pipefail when grep exits first.)
dpkg-deb -c "${drv[0]}" >"$tmp/driver.list"
dpkg-deb -c "${runtime[0]}" >"$tmp/runtime.list"
grep -q '/forwarder/plugins/forwarder-sx1302.so$' "$tmp/driver.list" || fail "no forwarder-sx1302.so in it"
if grep -q 'forwarder-sx1302.so' "$tmp/runtime.list"; then
    fail "forwarder-sx1302.so is also in the forwarder package"
fi
version=$(dpkg-deb -f "${runtime[0]}" Version)
depends=$(dpkg-deb -f "${drv[0]}" Depends)
[[ "$depends" == *"forwarder (= $version)"* ]] || fail "the driver does not depend on forwarder (= $version)"

echo "--- the unpacked daemon loads the driver"
root="$tmp/root"
dpkg-deb -x "${runtime[0]}" "$root"
dpkg-deb -x "${drv[0]}" "$root"
plugins=("$root"/usr/lib/*/forwarder/plugins)
"$root/usr/bin/forwarder" --plugin-dir "${plugins[0]}" --describe sx1302 | tee "$tmp/describe.out"
grep -q board "$tmp/describe.out" || fail "--describe sx1302: no option 'board'"
echo "PASS: the sx1302 build profile builds forwarder-driver-sx1302"

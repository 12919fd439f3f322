#!/usr/bin/env bash
# Checks of the Debian packaging that need no package build:
#   - debian/control parses; without build profiles it yields forwarder and forwarder-dev, with
#     pkg.forwarder.<chip> also forwarder-driver-<chip>;
#   - debian/rules refuses a driver profile without the HAL variables, and passes them to CMake
#     when they are given;
#   - the systemd unit passes `systemd-analyze verify` (ExecStart pointed at /bin/true, since the
#     daemon is not installed here; tests/packaging/sdk_check.sh verifies the packaged unit with
#     the packaged binary and man page).
# usage: static_check.sh SOURCE_DIR          exit 77 when debhelper or systemd is missing
set -euo pipefail

source_dir=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
for tool in dh_listpackages dpkg-architecture systemd-analyze; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
cd "$source_dir"
[[ -f debian/control ]] || fail "no debian/control at the source root (the symlink debian -> packaging/debian)"

echo "--- debian/control without build profiles"
pkgs=$(DEB_BUILD_PROFILES='' dh_listpackages | sort | tr '\n' ' ')
echo "$pkgs"
[[ "$pkgs" == "forwarder forwarder-dev " ]] || fail "expected forwarder forwarder-dev, got: $pkgs"

echo "--- debian/control with every driver profile"
pkgs=$(DEB_BUILD_PROFILES="pkg.forwarder.sx1302 pkg.forwarder.sx1301 pkg.forwarder.picogw" dh_listpackages |
    sort | tr '\n' ' ')
echo "$pkgs"
[[ "$pkgs" == "forwarder forwarder-dev forwarder-driver-picogw forwarder-driver-sx1301 forwarder-driver-sx1302 " ]] ||
    fail "driver packages missing with the profiles: $pkgs"

echo "--- debian/rules: a profile without its HAL is an error"
status=0
out=$(env -u FORWARDER_SX1302_LORAGW_LIB -u FORWARDER_SX1302_LORAGW_INCLUDE \
    DEB_BUILD_PROFILES=pkg.forwarder.sx1302 make -s -n -f debian/rules override_dh_auto_configure 2>&1) ||
    status=$?
echo "$out"
[[ $status -ne 0 && "$out" == *FORWARDER_SX1302_LORAGW_LIB* ]] || fail "the sx1302 profile without a HAL was not refused"

echo "--- debian/rules: the HAL variables reach CMake only with the profile"
out=$(FORWARDER_SX1302_LORAGW_LIB=/hal/libloragw.a FORWARDER_SX1302_LORAGW_INCLUDE=/hal/inc \
    DEB_BUILD_PROFILES=pkg.forwarder.sx1302 make -s -n -f debian/rules override_dh_auto_configure)
echo "$out"
[[ "$out" == *'-DFORWARDER_SX1302_LORAGW_LIB="/hal/libloragw.a"'* &&
   "$out" == *'-DFORWARDER_SX1302_LORAGW_INCLUDE="/hal/inc"'* ]] || fail "the sx1302 HAL was not passed to CMake"
out=$(FORWARDER_SX1302_LORAGW_LIB=/hal/libloragw.a FORWARDER_SX1302_LORAGW_INCLUDE=/hal/inc \
    DEB_BUILD_PROFILES='' make -s -n -f debian/rules override_dh_auto_configure)
[[ "$out" != */hal/libloragw.a* ]] || fail "the sx1302 HAL was used without its profile"

echo "--- systemd-analyze verify forwarder.service"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/forwarder-static.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
sed 's|^ExecStart=/usr/bin/forwarder |ExecStart=/bin/true |' debian/forwarder.service >"$tmp/forwarder.service"
grep -q '^ExecStart=/bin/true ' "$tmp/forwarder.service" || fail "unexpected ExecStart= in the unit"
out=$(cd "$tmp" && systemd-analyze verify --man=no "$tmp/forwarder.service" 2>&1) ||
    { echo "$out"; fail "systemd-analyze verify failed"; }
[[ -z "$out" ]] || { echo "$out"; fail "systemd-analyze verify printed warnings"; }

echo "PASS: debian/control, debian/rules profiles and the systemd unit"

#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite twice: a normal build,
# then an AddressSanitizer + UndefinedBehaviorSanitizer build; then runs the fuzz targets
# (libFuzzer) of the LNS message decoder, the CUPS answer parser and the Semtech UDP codec
# briefly; then builds the Debian packages (in a scratch copy, into build-deb/), runs lintian on
# them and the SDK check (tests/packaging/sdk_check.sh).
#   scripts/test.sh                 everything
#   scripts/test.sh --no-sanitize   skip the sanitizer build
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sanitize=1
[ "${1:-}" = "--no-sanitize" ] && sanitize=0

"$root/scripts/install-deps.sh"
jobs=$(nproc 2>/dev/null || echo 2)

echo "== build and test (RelWithDebInfo)"
"$root/scripts/build.sh" "$root/build"
(cd "$root/build" && ctest -j"$jobs" --output-on-failure --timeout 300)

if [ "$sanitize" = 1 ]; then
  echo "== build and test (ASan + UBSan)"
  "$root/scripts/build.sh" "$root/build-asan" -DFORWARDER_SANITIZE=ON -DFORWARDER_BUILD_BENCH=OFF
  (cd "$root/build-asan" &&
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest -j"$jobs" --output-on-failure --timeout 300)
fi
echo "== fuzz the LNS, CUPS and Semtech UDP decoders (${FUZZ_SECONDS:-30} s each)"
bash "$root/plugins/lns/fuzz/run.sh" "$root/build" "${FUZZ_SECONDS:-30}"
bash "$root/plugins/cups/fuzz/run.sh" "$root/build" "${FUZZ_SECONDS:-30}"
bash "$root/plugins/semtech-udp/fuzz/run.sh" "$root/build" "${FUZZ_SECONDS:-30}"
echo "== Debian packages: dpkg-buildpackage (scratch copy), lintian, SDK check"
bash "$root/tests/packaging/build_debs.sh" "$root/build-deb"
# Every remaining tag is overridden with its reason in packaging/debian/*lintian-overrides.
lintian --display-info --fail-on error,warning "$root"/build-deb/forwarder_*.changes
bash "$root/tests/packaging/sdk_check.sh" "$root/build-deb" "$root"
echo "== all tests passed"

#!/usr/bin/env bash
# Out-of-tree plugin build test.
#
# Installs the SDK (component "dev") and the daemon (component "runtime") from a forwarder
# build tree into a scratch prefix, builds docs/examples/hello-transport against that
# prefix only, and checks that the real daemon loads the result:
#   1. BUILD_DIR/bin/forwarder --plugin-dir <example build dir> --describe hello
#   2. the installed daemon finds the plugin after `cmake --install` of the example, i.e.
#      forwarder_PLUGIN_DIR from the CMake package is the daemon's default plugin dir.
#
# usage: out_of_tree_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
    exit 2
fi
build_dir=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
example_dir="$source_dir/docs/examples/hello-transport"
forwarder="$build_dir/bin/forwarder"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/forwarder-oot.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
example_build="$tmp/hello-build"

step() { echo "--- $*"; }
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# A build configured for packaging (-DCMAKE_INSTALL_SYSCONFDIR=/etc) would install its
# configuration file outside the scratch prefix: refuse instead of writing to /etc.
sysconfdir=$(sed -n 's/^CMAKE_INSTALL_SYSCONFDIR:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
[[ "$sysconfdir" != /* ]] ||
    fail "BUILD_DIR has an absolute CMAKE_INSTALL_SYSCONFDIR ($sysconfdir); use a build with the default"
unset DESTDIR

step "install the SDK and the daemon into $prefix"
timeout 60 cmake --install "$build_dir" --prefix "$prefix" --component dev
timeout 60 cmake --install "$build_dir" --prefix "$prefix" --component runtime
[[ -f "$prefix/include/forwarder/plugin.h" ]] || fail "plugin.h was not installed"

step "configure the example against the installed SDK only"
# -Werror: the example is documentation, it must compile cleanly.
timeout 120 cmake -S "$example_dir" -B "$example_build" \
    -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS=-Werror

step "build the example"
timeout 120 cmake --build "$example_build" -j 1
plugin="$example_build/forwarder-hello.so"
[[ -f "$plugin" ]] || fail "$plugin was not built"

check_describe() { # label, output file
    grep -q 'hello' "$2" || fail "$1: the plugin name 'hello' is missing"
    grep -q 'greeting' "$2" || fail "$1: the option 'greeting' is missing"
    grep -q 'every' "$2" || fail "$1: the option 'every' is missing"
}

step "forwarder --plugin-dir <example build> --describe hello"
status=0
timeout 30 "$forwarder" --plugin-dir "$example_build" --describe hello >"$tmp/describe.out" 2>&1 ||
    status=$?
cat "$tmp/describe.out"
[[ $status -eq 0 ]] || fail "forwarder --describe hello exited with status $status"
check_describe "build-tree daemon" "$tmp/describe.out"

step "install the example and describe it with the installed daemon's default plugin dir"
timeout 60 cmake --install "$example_build"
# <libdir>/forwarder/plugins: lib/ for the default /usr/local prefix, lib/<multiarch> for /usr.
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
installed_plugin="$prefix/${libdir:-lib}/forwarder/plugins/forwarder-hello.so"
[[ -f "$installed_plugin" ]] || fail "the example did not install to $installed_plugin"
status=0
timeout 30 "$prefix/bin/forwarder" --describe hello >"$tmp/describe-installed.out" 2>&1 ||
    status=$?
cat "$tmp/describe-installed.out"
[[ $status -eq 0 ]] || fail "installed forwarder --describe hello exited with status $status"
check_describe "installed daemon" "$tmp/describe-installed.out"

echo "PASS: out-of-tree plugin builds against the installed SDK and loads"

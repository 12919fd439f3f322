#!/usr/bin/env bash
# SDK check of the Debian packages: installs nothing on the system.
#
#   1. unpacks forwarder_*.deb and forwarder-dev_*.deb from DEB_DIR into a scratch root
#      (dpkg -x) and checks the installed layout;
#   2. builds docs/examples/hello-transport out of tree against <root>/usr only: once with
#      CMake's find_package(forwarder) (CMAKE_FIND_ROOT_PATH=<root> in ONLY mode, package
#      registries off; the compile commands and the headers actually read must come from <root>),
#      once with pkg-config;
#   3. runs the unpacked daemon: --describe hello, --check-config, then a short real run with a
#      virtual radio and the example transport (plugin dir: the example .so next to the
#      packaged plugins), feeds uplinks over UDP and checks the example's log lines and that
#      the daemon stops cleanly on SIGTERM.
#
# usage: sdk_check.sh DEB_DIR [SOURCE_DIR]
# DEB_DIR may also come from $FORWARDER_DEB_DIR. Exit 77 (skipped) when no packages are there:
# build them with tests/packaging/build_debs.sh.
set -euo pipefail

deb_dir=${1:-${FORWARDER_DEB_DIR:-}}
source_dir=${2:-$(cd "$(dirname "$0")/../.." && pwd)}
source_dir=$(cd "$source_dir" && pwd)

skip() {
    echo "SKIP: $*"
    exit 77
}
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
step() { echo "--- $*"; }

[[ -n "$deb_dir" ]] || skip "no package directory (argument or FORWARDER_DEB_DIR); build the packages with tests/packaging/build_debs.sh"
[[ -d "$deb_dir" ]] || skip "$deb_dir does not exist"
deb_dir=$(cd "$deb_dir" && pwd)
shopt -s nullglob
runtime_debs=("$deb_dir"/forwarder_*.deb)
dev_debs=("$deb_dir"/forwarder-dev_*.deb)
shopt -u nullglob
[[ ${#runtime_debs[@]} -ge 1 && ${#dev_debs[@]} -ge 1 ]] ||
    skip "no forwarder_*.deb and forwarder-dev_*.deb in $deb_dir"
[[ ${#runtime_debs[@]} -eq 1 && ${#dev_debs[@]} -eq 1 ]] ||
    fail "more than one version of the packages in $deb_dir"
for tool in dpkg-deb cmake cc pkg-config; do
    command -v "$tool" >/dev/null || fail "$tool is needed"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/forwarder-sdk.XXXXXX")
daemon_pid=
cleanup() {
    if [[ -n "$daemon_pid" ]] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill -KILL "$daemon_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
root="$tmp/root"
mkdir -p "$root"

# ---------------------------------------------------------------------------------------------
step "unpack $(basename "${runtime_debs[0]}") and $(basename "${dev_debs[0]}") into $root"
dpkg-deb -x "${runtime_debs[0]}" "$root"
dpkg-deb -x "${dev_debs[0]}" "$root"

plugin_dirs=("$root"/usr/lib/*/forwarder/plugins)
[[ -d "${plugin_dirs[0]}" ]] || fail "no usr/lib/<multiarch>/forwarder/plugins in the package"
pkg_plugins=${plugin_dirs[0]}
multiarch=$(basename "$(dirname "$(dirname "$pkg_plugins")")")
echo "multiarch: $multiarch"

step "installed layout"
for f in usr/bin/forwarder \
         etc/forwarder/forwarder.yaml \
         lib/systemd/system/forwarder.service \
         lib/udev/rules.d/60-forwarder.rules \
         usr/share/man/man1/forwarder.1.gz \
         usr/share/forwarder/boards/rak2287.yaml \
         usr/include/forwarder/plugin.h \
         usr/include/forwarder/plugin.hpp \
         usr/share/forwarder/proto/forwarder.proto \
         "usr/lib/$multiarch/cmake/forwarder/forwarderConfig.cmake" \
         "usr/lib/$multiarch/pkgconfig/forwarder.pc"; do
    [[ -e "$root/$f" ]] || fail "/$f is not in the packages"
done
for p in capture cups lns semtech-udp virtual; do
    [[ -f "$pkg_plugins/forwarder-$p.so" ]] || fail "plugin forwarder-$p.so is not packaged"
done
[[ ! -e "$root/usr/lib/forwarder" ]] || fail "/usr/lib/forwarder exists: plugins belong in /usr/lib/$multiarch/forwarder"
conffiles=$(dpkg-deb --ctrl-tarfile "${runtime_debs[0]}" | tar -xO ./conffiles)
grep -qx /etc/forwarder/forwarder.yaml <<<"$conffiles" ||
    fail "/etc/forwarder/forwarder.yaml is not a conffile"
# The default plugin dir of the unpacked daemon is the compiled-in one (there is no
# <root>/usr/lib/forwarder/plugins): the error for an unknown plugin names it.
"$root/usr/bin/forwarder" --describe sdk-check-no-such-plugin >"$tmp/default-dir.out" 2>&1 || true
grep -q "plugin directory /usr/lib/$multiarch/forwarder/plugins\b" "$tmp/default-dir.out" ||
    { cat "$tmp/default-dir.out"; fail "the daemon's default plugin dir is not /usr/lib/$multiarch/forwarder/plugins"; }

step "systemd-analyze verify the packaged unit (ExecStart= and man: resolved in $root)"
if command -v systemd-analyze >/dev/null && command -v man >/dev/null; then
    mkdir -p "$tmp/unit"
    sed "s|^ExecStart=/usr/bin/forwarder |ExecStart=$root/usr/bin/forwarder |" \
        "$root/lib/systemd/system/forwarder.service" >"$tmp/unit/forwarder.service"
    grep -q "^ExecStart=$root/usr/bin/forwarder " "$tmp/unit/forwarder.service" ||
        fail "unexpected ExecStart= in the packaged unit"
    status=0
    (cd "$tmp/unit" && MANPATH="$root/usr/share/man" systemd-analyze verify "$tmp/unit/forwarder.service") \
        >"$tmp/verify.out" 2>&1 || status=$?
    cat "$tmp/verify.out"
    [[ $status -eq 0 && ! -s "$tmp/verify.out" ]] || fail "systemd-analyze verify: status $status or warnings"
else
    echo "(systemd-analyze or man is not installed: not verified)"
fi

step "no executable stack in the daemon and the plugins (MemoryDenyWriteExecute=yes in the unit)"
if command -v readelf >/dev/null; then
    for f in "$root/usr/bin/forwarder" "$pkg_plugins"/*.so; do
        flags=$(readelf -lW "$f" | awk '$1 == "GNU_STACK" { print $7 }')
        [[ -n "$flags" && "$flags" != *E* ]] || fail "$f: GNU_STACK '$flags' (an executable stack breaks dlopen under MemoryDenyWriteExecute)"
    done
fi

step "the shipped configuration: rejected as is (no radio), with one line naming radios"
status=0
"$root/usr/bin/forwarder" --plugin-dir "$pkg_plugins" --check-config "$root/etc/forwarder/forwarder.yaml" \
    >"$tmp/shipped.out" 2>&1 || status=$?
cat "$tmp/shipped.out"
[[ $status -eq 1 ]] || fail "--check-config of the shipped config: status $status, expected 1"
grep -q "radios" "$tmp/shipped.out" || fail "the error does not name 'radios'"

step "the shipped configuration with its virtual radio and ChirpStack UDP examples uncommented: accepted"
# (The other examples need a driver package or credentials: tests/packaging/packaged_config_test.sh.)
uncomment() { # file, first line of the example block: delete the `#` of the block's lines
    awk -v start="$2" '
        inblock && /^ *#  / { sub(/#/, ""); print; next }
        { inblock = 0 }
        !done && $0 ~ start { sub(/#/, ""); print; inblock = 1; done = 1; next }
        { print }' "$1"
}
uncomment "$root/etc/forwarder/forwarder.yaml" '^  #- driver: virtual$' >"$tmp/step.yaml"
uncomment "$tmp/step.yaml" '^  #- plugin: semtech-udp$' >"$tmp/shipped-virtual.yaml"
"$root/usr/bin/forwarder" --plugin-dir "$pkg_plugins" --check-config "$tmp/shipped-virtual.yaml" \
    >"$tmp/shipped-virtual.out" 2>&1 ||
    { cat "$tmp/shipped-virtual.out"; fail "the shipped configuration with the examples uncommented is refused"; }

# ---------------------------------------------------------------------------------------------
# A copy of the example, so that nothing is written into the source tree and no path of it
# can leak into the build other than the example's own sources.
example="$tmp/hello-transport"
cp -r "$source_dir/docs/examples/hello-transport" "$example"
rm -rf "$example/build"

step "build the example with CMake against $root/usr only"
cmake_build="$tmp/hello-cmake"
timeout 120 cmake -S "$example" -B "$cmake_build" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS=-Werror \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
    -DCMAKE_FIND_ROOT_PATH="$root" \
    -DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=ONLY \
    -DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY \
    -DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY \
    -DCMAKE_FIND_ROOT_PATH_MODE_PROGRAM=NEVER \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
    -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF >"$tmp/cmake-configure.out" 2>&1 ||
    { cat "$tmp/cmake-configure.out"; fail "configuring the example failed"; }
forwarder_dir=$(sed -n 's/^forwarder_DIR:[A-Z]*=//p' "$cmake_build/CMakeCache.txt")
echo "forwarder_DIR=$forwarder_dir"
[[ "$forwarder_dir" == "$root/usr/lib/$multiarch/cmake/forwarder" ]] ||
    fail "find_package(forwarder) used $forwarder_dir, not the unpacked forwarder-dev"
plugin_dir_var=$(sed -n 's/^HELLO_PLUGIN_DIR:[A-Z]*=//p' "$cmake_build/CMakeCache.txt")
[[ "$plugin_dir_var" == "$root/usr/lib/$multiarch/forwarder/plugins" ]] ||
    fail "forwarder_PLUGIN_DIR is $plugin_dir_var, expected <root>/usr/lib/$multiarch/forwarder/plugins"
timeout 120 cmake --build "$cmake_build" -j 1
cmake_plugin="$cmake_build/forwarder-hello.so"
[[ -f "$cmake_plugin" ]] || fail "$cmake_plugin was not built"

step "the example compiled against the unpacked headers only"
compile_cmd=$(sed -n 's/^ *"command": "\(.*\)",$/\1/p' "$cmake_build/compile_commands.json" |
    sed 's/\\"/"/g')
echo "$compile_cmd"
[[ "$compile_cmd" == *"$root/usr/include"* ]] || fail "the compile command lacks $root/usr/include"
if [[ "$compile_cmd" == *"$source_dir/core"* || "$compile_cmd" == *"/work/main"* ]]; then
    fail "the compile command refers to the source tree"
fi
# The headers the compiler actually reads (a system-wide forwarder-dev would be found first
# through /usr/include if the -I were missing).
(cd "$cmake_build" && eval "$compile_cmd -M -MF $tmp/deps.d") >/dev/null
grep -o '[^ \\]*forwarder/plugin\.h' "$tmp/deps.d" | sort -u >"$tmp/plugin-h.txt"
cat "$tmp/plugin-h.txt"
if [[ $(wc -l <"$tmp/plugin-h.txt") -ne 1 ]] ||
    ! grep -qx "$root/usr/include/forwarder/plugin.h" "$tmp/plugin-h.txt"; then
    fail "plugin.h was not read from $root/usr/include"
fi

step "build the example with pkg-config against $root/usr only"
export PKG_CONFIG_LIBDIR="$root/usr/lib/$multiarch/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$root"
unset PKG_CONFIG_PATH
pc_cflags=$(pkg-config --cflags forwarder | xargs)  # (pkgconf ends it with a space)
pc_plugindir=$(pkg-config --variable=plugindir forwarder)
pc_protodir=$(pkg-config --variable=protodir forwarder)
echo "cflags: $pc_cflags; plugindir: $pc_plugindir; protodir: $pc_protodir; version: $(pkg-config --modversion forwarder)"
[[ "$pc_cflags" == "-I$root/usr/include" ]] || fail "pkg-config --cflags forwarder: $pc_cflags"
# pkgconf prefixes path variables with the sysroot; accept both spellings.
[[ "${pc_plugindir#"$root"}" == "/usr/lib/$multiarch/forwarder/plugins" ]] || fail "plugindir: $pc_plugindir"
[[ "${pc_protodir#"$root"}" == "/usr/share/forwarder/proto" ]] || fail "protodir: $pc_protodir"
[[ -f "$root${pc_protodir#"$root"}/forwarder.proto" ]] || fail "no forwarder.proto in protodir"
mkdir -p "$tmp/hello-pc"
# shellcheck disable=SC2086  # pc_cflags is a flag list
cc -std=c11 -Wall -Wextra -Werror -O2 -fPIC -fvisibility=hidden -shared -Wl,--no-undefined \
    $pc_cflags -o "$tmp/hello-pc/forwarder-hello.so" "$example/hello_transport.c"
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR

# ---------------------------------------------------------------------------------------------
# The installed daemon with the example plugin: the example next to the packaged plugins.
run_with_plugin() { # label, example .so
    local label=$1 so=$2 plugins="$tmp/plugins-$1"
    mkdir -p "$plugins"
    cp "$pkg_plugins"/forwarder-*.so "$plugins/"
    cp "$so" "$plugins/"
    flags=$(readelf -lW "$so" | awk '$1 == "GNU_STACK" { print $7 }')
    [[ "$flags" != *E* ]] || fail "[$label] the example plugin needs an executable stack"

    step "[$label] forwarder --describe hello"
    timeout 30 "$root/usr/bin/forwarder" --plugin-dir "$plugins" --describe hello >"$tmp/describe.out" 2>&1 ||
        { cat "$tmp/describe.out"; fail "[$label] --describe hello failed"; }
    cat "$tmp/describe.out"
    grep -q greeting "$tmp/describe.out" || fail "[$label] --describe: no option 'greeting'"

    local port=$((20000 + RANDOM % 20000))
    local cfg="$tmp/sdk-$label.yaml"
    cat >"$cfg" <<EOF
gateway:
  eui: "0016C001FF10A235"
plugin_dir: $plugins
radios:
  - driver: virtual
    options:
      uplink_udp: "127.0.0.1:$port"
transports:
  - plugin: hello
    name: sdkcheck
    options:
      greeting: sdk-$label
      every: 1
stats:
  interval_s: 0
EOF
    step "[$label] forwarder --check-config"
    timeout 30 "$root/usr/bin/forwarder" --check-config "$cfg" >"$tmp/check.out" 2>&1 ||
        { cat "$tmp/check.out"; fail "[$label] --check-config failed"; }
    # The plugin's own check() is reached through the daemon: every: 0 is refused.
    sed 's/every: 1/every: 0/' "$cfg" >"$tmp/bad.yaml"
    status=0
    timeout 30 "$root/usr/bin/forwarder" --check-config "$tmp/bad.yaml" >"$tmp/bad.out" 2>&1 || status=$?
    if [[ $status -ne 1 ]] || ! grep -q "every" "$tmp/bad.out"; then
        cat "$tmp/bad.out"
        fail "[$label] the example's check() did not refuse every: 0"
    fi

    step "[$label] run the daemon with the example transport, 3 uplinks"
    local log="$tmp/run-$label.log"
    timeout 60 "$root/usr/bin/forwarder" --config "$cfg" >"$log" 2>&1 &
    daemon_pid=$!
    local frame='{"rxpk":[{"freq":868.1,"datr":"SF7BW125","codr":"4/5","rssi":-42,"lsnr":7,"data":"QCofASYABwABqrvMESIzRA=="}]}'
    local sent=0 deadline=$((SECONDS + 20))  # the payload below is 16 bytes
    while ((SECONDS < deadline)); do
        kill -0 "$daemon_pid" 2>/dev/null || { cat "$log"; fail "[$label] the daemon exited early"; }
        if grep -q "sdk-$label: uplink #3 " "$log"; then
            break
        fi
        # Until the radio is listening, datagrams are lost: keep sending, one every 200 ms.
        printf '%s' "$frame" >"/dev/udp/127.0.0.1/$port" 2>/dev/null || true
        sent=$((sent + 1))
        sleep 0.2
    done
    kill -TERM "$daemon_pid"
    status=0
    wait "$daemon_pid" || status=$?
    daemon_pid=
    cat "$log"
    grep -q "sdk-$label: uplink #3 (16 bytes) at 868100000 Hz" "$log" ||
        fail "[$label] the example transport did not log three uplinks"
    [[ $status -eq 0 ]] || fail "[$label] the daemon exited with status $status on SIGTERM"
}

run_with_plugin cmake "$cmake_plugin"
run_with_plugin pkgconfig "$tmp/hello-pc/forwarder-hello.so"

echo "PASS: packages unpack with the expected layout; the example plugin builds against the"
echo "      packaged SDK only (CMake and pkg-config) and runs in the packaged daemon"

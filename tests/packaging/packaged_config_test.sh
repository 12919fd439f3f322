#!/usr/bin/env bash
# The configuration shipped in the package (packaging/forwarder.yaml -> /etc/forwarder):
#   - as shipped it has no radio: --check-config refuses it with one line naming `radios`;
#   - with an example radio and an example network uncommented the way an operator does it
#     (delete the `#` in front of each line of the block), --check-config accepts it, for every
#     radio and every network example in the file.
# The concentrator drivers are the fake-HAL builds of the real drivers
# (BUILD_DIR/tests/fakehal-plugins); credential paths under /etc/forwarder are pointed at empty
# files in a scratch directory. Board profiles come from SOURCE_DIR/config/boards, laid out as
# installed.
#
# usage: packaged_config_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
    exit 2
fi
build_dir=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
shipped="$source_dir/packaging/forwarder.yaml"
forwarder="$build_dir/bin/forwarder"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
step() { echo "--- $*"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/forwarder-pkgcfg.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Plugin dir: the built plugins plus the fake-HAL concentrator drivers.
plugins="$tmp/plugins"
mkdir -p "$plugins"
ln -s "$build_dir"/lib/forwarder/plugins/forwarder-*.so "$plugins/"
for d in sx1302 sx1301; do
    so="$build_dir/tests/fakehal-plugins/forwarder-$d.so"
    [[ -f "$so" ]] || fail "$so is missing (a build with FORWARDER_BUILD_TESTS=ON builds it)"
    ln -sf "$so" "$plugins/"
done
# The daemon in an installed-like layout, so that `board: NAME` is found as on a gateway
# (<bindir>/../share/forwarder/boards) wherever the build directory is.
mkdir -p "$tmp/usr/bin" "$tmp/usr/share/forwarder"
cp "$build_dir/bin/forwarder" "$tmp/usr/bin/forwarder"
ln -s "$source_dir/config/boards" "$tmp/usr/share/forwarder/boards"
forwarder="$tmp/usr/bin/forwarder"
etc="$tmp/etc"
mkdir -p "$etc"
# Credential files the examples name, with plausible contents: a CA certificate, and API key
# files as The Things Stack has them made ("Authorization: Bearer ..." + CR LF).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=packaged-config-test \
    -days 1 -keyout /dev/null -out "$etc/tc.trust" 2>/dev/null || fail "openssl could not make a certificate"
cp "$etc/tc.trust" "$etc/cups.trust"
for f in lns.key cups.key; do
    printf 'Authorization: Bearer NNSXS.PACKAGEDCONFIGTEST\r\n' >"$etc/$f"
done

# uncomment FILE REGEX N: removes the `#` of the Nth line matching REGEX and of the lines right
# after it that continue the block (`  #  ...`), as an operator does.
uncomment() {
    awk -v start="$2" -v nth="$3" '
        inblock && /^ *#  / { sub(/#/, ""); print; next }
        { inblock = 0 }
        $0 ~ start { seen++; if (seen == nth) { sub(/#/, ""); print; inblock = 1; next } }
        { print }' "$1"
}

check() { # label, config: --check-config must accept it
    local status=0
    (cd "$source_dir" && timeout 60 "$forwarder" --plugin-dir "$plugins" --check-config "$2") \
        >"$tmp/out" 2>&1 || status=$?
    if [[ $status -ne 0 ]]; then
        cat "$tmp/out"
        echo "--- the configuration:"
        grep -v '^ *#' "$2" | grep -v '^$'
        fail "$1: --check-config exited with status $status"
    fi
    echo "ok: $1"
}

step "the shipped configuration is refused: no radio"
status=0
(cd "$source_dir" && timeout 60 "$forwarder" --plugin-dir "$plugins" --check-config "$shipped") \
    >"$tmp/out" 2>&1 || status=$?
cat "$tmp/out"
[[ $status -eq 1 ]] || fail "shipped config: status $status, expected 1"
grep -q "radios" "$tmp/out" || fail "shipped config: the error does not name 'radios'"
[[ $(grep -c . "$tmp/out") -eq 1 ]] || fail "shipped config: expected one error line"

sed "s|/etc/forwarder/|$etc/|g" "$shipped" >"$tmp/base.yaml"

# name|first line of the example block|which occurrence of that line
radios=("sx1302|^  #- driver: sx1302$|1" "sx1301|^  #- driver: sx1301$|1"
        "virtual|^  #- driver: virtual$|1")
transports=("tts-lns|^  #- plugin: lns$|1" "tts-cups|^  #- plugin: cups$|1"
            "chirpstack-udp|^  #- plugin: semtech-udp$|1" "chirpstack-lns|^  #- plugin: lns$|2")
found_radio=0
for r in "${radios[@]}"; do
    IFS='|' read -r rname rre rn <<<"$r"
    grep -Eq "$rre" "$tmp/base.yaml" || fail "no radio example '$rname' in $shipped"
    for t in "${transports[@]}"; do
        IFS='|' read -r tname tre tn <<<"$t"
        cfg="$tmp/$rname-$tname.yaml"
        uncomment "$tmp/base.yaml" "$rre" "$rn" >"$tmp/step.yaml"
        uncomment "$tmp/step.yaml" "$tre" "$tn" >"$cfg"
        # Exactly one radio and one transport became active.
        [[ $(grep -c '^  - driver: ' "$cfg") -eq 1 ]] || fail "$rname: the radio example did not uncomment"
        [[ $(grep -c '^  - plugin: ' "$cfg") -eq 1 ]] || fail "$tname: the transport example did not uncomment"
        step "radio $rname + network $tname"
        check "$rname + $tname" "$cfg"
        found_radio=1
    done
done
[[ $found_radio -eq 1 ]] || fail "no combination was checked"

echo "PASS: the shipped configuration is refused as is and accepted with each example uncommented"

#!/usr/bin/env bash
# Builds the LNS codec fuzzer with clang (libFuzzer + ASan + UBSan) and runs it.
#   plugins/lns/fuzz/run.sh BUILD_DIR [SECONDS]
# BUILD_DIR is a configured CMake build directory (for the generated forwarder.pb.cc; it is
# generated here with protoc if missing). Output goes to BUILD_DIR/lns-fuzz: the binary, the
# growing corpus (kept between runs) and crash artifacts. Exits non-zero on a finding.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../../scripts/fuzz-common.sh
source "$here/../../../scripts/fuzz-common.sh"
fuzz_setup "${1:?usage: run.sh BUILD_DIR [SECONDS]}" lns
seconds=${2:-20}
lns=$root/plugins/lns
fuzz_build decode_fuzz "" "$lns/lns_codec.cpp" "$root/core/support/lora_frame.cpp" \
    "$root/core/support/json_read.cpp" "$root/core/support/json_text.cpp" "$here/decode_fuzz.cpp"

# Seeds: every JSON vector, plus the PHYPayloads of the frame vectors as raw bytes.
rm -f "$out"/seeds/*
vectors=$lns/tests/vectors
n=0
while IFS= read -r -d '' file; do
    cp "$file" "$out/seeds/vector-$n.json"
    n=$((n + 1))
done < <(find "$vectors" -name '*.json' -print0)
frames=$(grep -hoE '"(frame_hex|[a-z_]+\.json)": *"[0-9a-fA-F]+"' \
    "$vectors/basicstation_ref/selftest_lora_frames.json" \
    "$vectors/chirpstack/cs_uplink_expected_phypayload.json" | sed -E 's/.*"([0-9a-fA-F]+)"$/\1/')
n=0
for hex in $frames; do
    printf '%b' "$(sed 's/../\\x&/g' <<<"$hex")" >"$out/seeds/frame-$n.bin"
    n=$((n + 1))
done

fuzz_run decode_fuzz "$seconds" "$here/lns.dict"

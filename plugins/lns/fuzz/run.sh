#!/usr/bin/env bash
# Builds the LNS codec fuzzer with clang (libFuzzer + ASan + UBSan) and runs it.
#   plugins/lns/fuzz/run.sh BUILD_DIR [SECONDS]
# BUILD_DIR is a configured CMake build directory (for the generated forwarder.pb.cc; it is
# generated here with protoc if missing). Output goes to BUILD_DIR/lns-fuzz: the binary, the
# growing corpus (kept between runs) and crash artifacts. Exits non-zero on a finding.
set -euo pipefail

build=${1:?usage: run.sh BUILD_DIR [SECONDS]}
seconds=${2:-20}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lns=$(dirname "$here")
root=$(cd "$lns/../.." && pwd)
mkdir -p "$build"
build=$(cd "$build" && pwd)
out=$build/lns-fuzz
mkdir -p "$out/obj" "$out/corpus" "$out/seeds"

cxx=${CXX_FUZZ:-clang++}
gen=$build/core/gen
if [[ ! -f $gen/forwarder.pb.cc || ! -f $gen/forwarder.pb.h ]]; then
    gen=$out/gen
    mkdir -p "$gen"
    protoc --cpp_out="$gen" -I "$root/core/proto" "$root/core/proto/forwarder.proto"
fi

common=(-std=c++20 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined
        -fno-sanitize-recover=undefined)
includes=(-I "$lns" -I "$root/core/support" -I "$gen")
read -r -a pb_cflags <<<"$(pkg-config --cflags protobuf-lite)"
read -r -a pb_libs <<<"$(pkg-config --libs protobuf-lite)"

# name:source:extra-flags (the generated code is not coverage-instrumented)
units=(
    "lns_codec:$lns/lns_codec.cpp:-fsanitize=fuzzer-no-link"
    "lora_frame:$lns/lora_frame.cpp:-fsanitize=fuzzer-no-link"
    "json_text:$root/core/support/json_text.cpp:-fsanitize=fuzzer-no-link"
    "decode_fuzz:$here/decode_fuzz.cpp:-fsanitize=fuzzer-no-link"
    "forwarder_pb:$gen/forwarder.pb.cc:"
)
objects=()
pids=()
for unit in "${units[@]}"; do
    IFS=: read -r name source extra <<<"$unit"
    object=$out/obj/$name.o
    objects+=("$object")
    if [[ ! -f $object || $source -nt $object || $lns/lns_codec.hpp -nt $object ||
          $lns/lora_frame.hpp -nt $object || $0 -nt $object ]]; then
        echo "compiling $(basename "$source")"
        "$cxx" "${common[@]}" $extra "${includes[@]}" "${pb_cflags[@]}" -c "$source" -o "$object" &
        pids+=($!)
        if (( ${#pids[@]} >= 2 )); then # 2 cores
            wait "${pids[0]}"
            pids=("${pids[@]:1}")
        fi
    fi
done
for pid in "${pids[@]}"; do
    wait "$pid"
done
"$cxx" "${common[@]}" -fsanitize=fuzzer "${objects[@]}" -o "$out/decode_fuzz" \
    -lPocoJSON -lPocoFoundation "${pb_libs[@]}" -lpthread

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

echo "fuzzing for ${seconds}s ($(ls "$out/seeds" | wc -l) seeds, corpus $out/corpus)"
"$out/decode_fuzz" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -dict="$here/lns.dict" -artifact_prefix="$out/" \
    "$out/corpus" "$out/seeds"

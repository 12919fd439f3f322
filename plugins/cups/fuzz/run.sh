#!/usr/bin/env bash
# Builds the CUPS codec fuzzer with clang (libFuzzer + ASan + UBSan) and runs it.
#   plugins/cups/fuzz/run.sh BUILD_DIR [SECONDS]
# BUILD_DIR is a configured CMake build directory (for the generated forwarder.pb.cc that the
# LNS codec, source of the ID6 formatter, needs; it is generated here with protoc if missing).
# Output goes to BUILD_DIR/cups-fuzz: the binary, the growing corpus (kept between runs) and
# crash artifacts. Exits non-zero on a finding.
set -euo pipefail

build=${1:?usage: run.sh BUILD_DIR [SECONDS]}
seconds=${2:-20}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cups=$(dirname "$here")
root=$(cd "$cups/../.." && pwd)
lns=$root/plugins/lns
mkdir -p "$build"
build=$(cd "$build" && pwd)
out=$build/cups-fuzz
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
includes=(-I "$cups" -I "$lns" -I "$root/core/support" -I "$gen")
read -r -a pb_cflags <<<"$(pkg-config --cflags protobuf-lite)"
read -r -a pb_libs <<<"$(pkg-config --libs protobuf-lite)"
read -r -a ssl_libs <<<"$(pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto)"

# name:source:extra-flags. Only the CUPS code is coverage-instrumented; the LNS codec (linked
# for format_id6), the JSON escaper and the generated code only get the sanitizers.
units=(
    "cups_codec:$cups/cups_codec.cpp:-fsanitize=fuzzer-no-link"
    "cups_fuzz:$here/cups_fuzz.cpp:-fsanitize=fuzzer-no-link"
    "lns_codec:$lns/lns_codec.cpp:"
    "lora_frame:$lns/lora_frame.cpp:"
    "json_text:$root/core/support/json_text.cpp:"
    "forwarder_pb:$gen/forwarder.pb.cc:"
)
objects=()
pids=()
for unit in "${units[@]}"; do
    IFS=: read -r name source extra <<<"$unit"
    object=$out/obj/$name.o
    objects+=("$object")
    if [[ ! -f $object || $source -nt $object || $cups/cups_codec.hpp -nt $object ||
          $lns/lns_codec.hpp -nt $object || $lns/lora_frame.hpp -nt $object ||
          $0 -nt $object ]]; then
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
"$cxx" "${common[@]}" -fsanitize=fuzzer "${objects[@]}" -o "$out/cups_fuzz" \
    -lPocoJSON -lPocoFoundation "${pb_libs[@]}" "${ssl_libs[@]}" -lpthread

# Seeds: the hex byte strings of the CUPS vectors (answers, blobs) as raw bytes, the request
# JSON, and a few hand-made answers, blobs and tokens.
rm -f "$out"/seeds/*
bin() { printf '%b' "$(sed 's/../\\x&/g' <<<"$1")" >"$2"; }
vectors=$root/plugins/lns/tests/vectors/tts
n=0
for hex in $(grep -hoE '"[A-Za-z_]*hex": *"[0-9a-fA-F]+"' "$vectors"/tts_cups_*.json |
             sed -E 's/.*"([0-9a-fA-F]+)"$/\1/'); do
    bin "$hex" "$out/seeds/vector-$n.bin"
    n=$((n + 1))
done
cp "$vectors/tts_cups_update_info_request.json" "$out/seeds/request.json"
token=417574686f72697a6174696f6e3a20746f6b656e0d0a # "Authorization: token\r\n" (22 bytes)
blob=300302010500000000$token # DER SEQUENCE trust, no certificate, token (31 bytes)
uri=68747470733a2f2f632e65783a343433 # "https://c.ex:443" (16 bytes)
printf 'Authorization: Bearer NNSXS.X\nX-Extra: hello\n\n' >"$out/seeds/token-lf.txt"
bin "$blob" "$out/seeds/blob-token.bin"
bin 300302010530030201053003020105 "$out/seeds/blob-cert-key.bin"
bin "30818100$(printf '00%.0s' {1..128})0000000000000000" "$out/seeds/blob-long-form.bin"
bin 0000000000000000000000000000 "$out/seeds/answer-empty.bin"
bin 000000000000000000000000000000000000 "$out/seeds/answer-empty-tts.bin"
# cups URI, no tc URI, cups and tc blobs, sigLen 12 (key CRC + 8 bytes), a 6-byte update ("update").
bin "10${uri}001f00${blob}1f00${blob}0c000000aabbccdd00000000112233440600000075706461746500000000" \
    "$out/seeds/answer-full.bin"

echo "fuzzing for ${seconds}s ($(ls "$out/seeds" | wc -l) seeds, corpus $out/corpus)"
"$out/cups_fuzz" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -dict="$here/cups.dict" -artifact_prefix="$out/" \
    "$out/corpus" "$out/seeds"

#!/usr/bin/env bash
# Builds the CUPS codec fuzzer with clang (libFuzzer + ASan + UBSan) and runs it.
#   plugins/cups/fuzz/run.sh BUILD_DIR [SECONDS]
# BUILD_DIR is a configured CMake build directory (for the generated forwarder.pb.cc that the
# LNS codec, source of the ID6 formatter, needs; it is generated here with protoc if missing).
# Output goes to BUILD_DIR/cups-fuzz: the binary, the growing corpus (kept between runs) and
# crash artifacts. Exits non-zero on a finding.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../../scripts/fuzz-common.sh
source "$here/../../../scripts/fuzz-common.sh"
fuzz_setup "${1:?usage: run.sh BUILD_DIR [SECONDS]}" cups
seconds=${2:-20}
lns=$root/plugins/lns
# Only the CUPS code is coverage-instrumented; the LNS codec (for format_id6) and the JSON
# readers and escaper get the sanitizers only.
fuzz_build cups_fuzz "$(pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto)" \
    "$root/plugins/cups/cups_codec.cpp" "$here/cups_fuzz.cpp" "=$lns/lns_codec.cpp" \
    "=$root/core/support/lora_frame.cpp" "=$root/core/support/json_read.cpp" \
    "=$root/core/support/json_text.cpp"

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

fuzz_run cups_fuzz "$seconds" "$here/cups.dict"

#!/usr/bin/env bash
# Builds the Semtech UDP codec fuzzer with clang (libFuzzer + ASan + UBSan) and runs it.
#   plugins/semtech-udp/fuzz/run.sh BUILD_DIR [SECONDS]
# BUILD_DIR is a configured CMake build directory (for the generated forwarder.pb.cc; it is
# generated here with protoc if missing). Output goes to BUILD_DIR/udp-fuzz: the binary, the
# growing corpus (kept between runs) and crash artifacts. Exits non-zero on a finding.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../../scripts/fuzz-common.sh
source "$here/../../../scripts/fuzz-common.sh"
fuzz_setup "${1:?usage: run.sh BUILD_DIR [SECONDS]}" udp
seconds=${2:-20}
udp=$root/plugins/semtech-udp
support=$root/core/support
fuzz_build decode_fuzz "" "$udp/udp_codec.cpp" "$support/base64.cpp" \
    "$support/json_read.cpp" "$support/lora_text.cpp" "$here/decode_fuzz.cpp"

# Seeds: the spec's examples (semtech-udp.md §2-§5), as JSON bodies and as whole datagrams.
rm -f "$out"/seeds/*
seed()
{
    printf '%s' "$2" >"$out/seeds/$1"
}
push='{"rxpk":[{"jver":1,"tmst":3512348611,"time":"2020-10-01T09:30:53.592567Z","tmms":1285579871592,'
push+='"ftime":85224290,"chan":2,"rfch":0,"freq":866.349812,"mid":3,"stat":1,"modu":"LORA",'
push+='"datr":"SF7BW125","codr":"4/6","rssis":-37,"lsnr":5.1,"foff":-3313,"rssi":-35,"size":32,'
push+='"data":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","brd":0},'
push+='{"tmst":12,"chan":8,"rfch":1,"freq":868.800000,"stat":-1,"modu":"FSK","datr":50000,'
push+='"rssi":-80,"size":3,"data":"YWJj"}],'
push+='"stat":{"time":"2014-01-12 08:59:28 GMT","lati":46.24000,"long":3.25230,"alti":145,'
push+='"rxnb":2,"rxok":2,"rxfw":2,"ackr":100.0,"dwnb":2,"txnb":2,"temp":35.3}}'
lora='{"txpk":{"imme":true,"freq":864.123456,"rfch":0,"powe":14,"modu":"LORA","datr":"SF11BW125",'
lora+='"codr":"4/6","ipol":false,"size":32,"data":"H3P3N2i9qc4yt7rK7ldqoeCVJGBybzPY5h1Dd7P7p8v"}}'
fsk='{"txpk":{"imme":true,"freq":861.3,"rfch":0,"powe":12,"modu":"FSK","datr":50000,"fdev":3000,'
fsk+='"size":32,"data":"H3P3N2i9qc4yt7rK7ldqoeCVJGBybzPY5h1Dd7P7p8v"}}'
cs='{"txpk":{"imme":false,"tmms":1400000000000,"tmst":5,"freq":868.8,"rfch":0,"powe":14,'
cs+='"modu":"Fsk","datr":"50000","fdev":25000,"prea":2,"ncrc":true,"size":3,"data":"YWJj",'
cs+='"brd":0,"ant":0}}'
ack='{"txpk_ack":{"error":"NONE","warn":"TX_POWER","value":14}}'
seed push.json "$push"
seed txpk-lora.json "$lora"
seed txpk-fsk.json "$fsk"
seed txpk-cs.json "$cs"
seed txack.json "$ack"
seed txack-error.json '{"txpk_ack":{"error":"COLLISION_PACKET"}}'
eui='\xb8\x27\xeb\xff\xfe\x61\x51\xcf'
printf '\x02\x3a\x7c\x02%b' "$eui" >"$out/seeds/pull-data.bin"
printf '\x02\x3a\x7c\x00%b%s' "$eui" "$push" >"$out/seeds/push-data.bin"
printf '\x02\x12\x34\x03%s' "$lora" >"$out/seeds/pull-resp.bin"
printf '\x01\x12\x34\x05%b%s' "$eui" "$ack" >"$out/seeds/tx-ack.bin"
printf '\x02\x3a\x7c\x01' >"$out/seeds/push-ack.bin"

fuzz_run decode_fuzz "$seconds" "$here/udp.dict"

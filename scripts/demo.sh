#!/usr/bin/env bash
# The forwarder's main job on its built-in default: a virtual radio fed by a small traffic
# generator, forwarding over the LoRa Basics Station protocol to a local LNS
# (forwarder-lns-sim), which answers each uplink with a class A downlink; the transmitted
# downlink is reported back (dntxed). The LNS prints what it sees; the capture transport
# prints every frame and TxResult as JSON.
#   scripts/demo.sh            20 frames at 2 per second, then a clean stop
#   FRAMES=100 RATE=10 scripts/demo.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
frames=${FRAMES:-20}
rate=${RATE:-2}

"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "$root/build" >&2

bin="$root/build/bin"
"$bin/forwarder-lns-sim" --listen 127.0.0.1:6090 --downlink rx1 --pretty --duration 600 &
sim=$!
"$bin/forwarder" --config "$root/config/forwarder.yaml" &
fwd=$!
trap 'kill -TERM $fwd $sim 2>/dev/null || true' EXIT
sleep 1
"$bin/forwarder-traffic-gen" --target 127.0.0.1:1780 --rate "$rate" --count "$frames" --quiet
sleep 2
kill -TERM $fwd
wait $fwd
kill -TERM $sim
wait $sim || true
trap - EXIT

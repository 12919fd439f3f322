#!/usr/bin/env bash
# The forwarder's main job on its built-in default: a virtual radio fed by a small traffic
# generator, every frame shown by the capture transport (JSON lines on stdout).
#   scripts/demo.sh            20 frames at 2 per second, then a clean stop
#   FRAMES=100 RATE=10 scripts/demo.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
frames=${FRAMES:-20}
rate=${RATE:-2}

"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "$root/build" >&2

"$root/build/bin/forwarder" --config "$root/config/forwarder.yaml" &
fwd=$!
trap 'kill -TERM $fwd 2>/dev/null || true' EXIT
sleep 0.5
"$root/build/bin/forwarder-traffic-gen" --target 127.0.0.1:1780 --rate "$rate" --count "$frames"
sleep 0.5
kill -TERM $fwd
wait $fwd
trap - EXIT

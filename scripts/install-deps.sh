#!/usr/bin/env bash
# Installs the Debian (bookworm) packages needed to build, test and package forwarder.
# Idempotent: does nothing when everything is already installed.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libpoco-dev libssl-dev libyaml-cpp-dev libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev libgps-dev libgpiod-dev
  openssl clang libclang-rt-14-dev
  dpkg-dev file
  debhelper lintian systemd man-db
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "installing: ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"

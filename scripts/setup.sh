#!/usr/bin/env bash
# Installs what clustersim needs to build and test on Debian 12 (idempotent: apt-get skips what is there).
set -euo pipefail
packages=(cmake g++ ninja-build ccache libboost-graph-dev nlohmann-json3-dev libtbb-dev libfmt-dev
          libcli11-dev catch2)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

#!/usr/bin/env bash
# Installs what clustersim needs to build and test on Debian 12 (idempotent: only missing packages are
# installed). Usage: bash scripts/setup.sh   (as root, or with sudo available)
set -euo pipefail
packages=(
  cmake g++ ninja-build ccache                      # toolchain
  libboost-graph-dev nlohmann-json3-dev libtbb-dev   # core and sweep
  libfmt-dev libcli11-dev catch2                     # command line and tests
  qt6-base-dev qt6-charts-dev qt6-svg-dev libgl-dev  # desktop explorer and PDF/SVG reports
  libqt6opengl6-dev fonts-dejavu-core               # (fonts for PDF reports)
                                   # Qt Charts' CMake package needs Qt6OpenGL
  libopenmpi-dev openmpi-bin                         # distributed sweeps (optional feature, tested in CI)
  python3-torch libopenblas0-pthread                 # tools/measure calibration harness (CPU PyTorch) and its test
)
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

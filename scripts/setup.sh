#!/usr/bin/env bash
# Installs every Debian 12 package hemapath needs to build, test and benchmark.
# Non-interactive and idempotent: safe to run again. Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libopenblas0-pthread
  # Gloo's headers, which LibTorch's distributed (c10d) headers include.
  libgloo-dev
  libopencv-dev
  libopenslide-dev
  libvips-dev libvips-tools
  libcli11-dev nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev
  libsqlite3-dev
  libboost-dev
  libgtest-dev libbenchmark-dev
  # Only tests and benchmarks use these (torchvision parity, speed peers); the tool never does.
  python3-torch python3-torchvision python3-openslide
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}"
echo "hemapath: all build dependencies are installed"

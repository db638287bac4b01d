#!/usr/bin/env bash
# Configures and builds hemapath (Release) into ./build with 2 jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release

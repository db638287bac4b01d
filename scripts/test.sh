#!/usr/bin/env bash
# Set up, build and run the whole test suite: what CI runs on a fresh Debian 12 machine.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
ctest --preset release -j2

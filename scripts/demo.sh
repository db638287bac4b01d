#!/usr/bin/env bash
# Set up, build, and run hemapath's main job on the bundled sample smears: each white cell
# is cut out with its mask and typed by the bundled model; results go to out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
build/hemapath info models/wbc_separable_cnn.hpm
build/hemapath predict --model models/wbc_separable_cnn.hpm data/samples/wbc/images \
  --masks data/samples/wbc/masks --out out/demo/predictions.csv
build/hemapath eval --model models/wbc_separable_cnn.hpm --data data/samples/wbc --out out/demo/report

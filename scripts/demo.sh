#!/usr/bin/env bash
# Set up, build, and run hemapath's main job on the bundled sample smears: every red and white
# cell is found, outlined and typed by the bundled models (models/README.md); per smear an
# overlay, a cell table, GeoJSON and a summary, and one summary table, in out/demo/. The three
# Chula smears are scored against their labelled points (out/demo/evaluation.json).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
build/hemapath analyze data/samples/smears --points data/samples/smear_points --out out/demo

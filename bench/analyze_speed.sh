#!/usr/bin/env bash
# Seconds per 640x480 smear for the whole `hemapath analyze` (both stages, every output file),
# with the time of each stage, on the bundled models. The smears are copied COPIES times so
# the run is long enough to time; the first smear's model loading is part of the wall time,
# so the per-smear wall figure is slightly pessimistic.
# Usage: bench/analyze_speed.sh [THREADS] [COPIES] [ANALYZE FLAGS...]   (from the repository
# root; HEMAPATH_BIN the binary, default build/hemapath; e.g. --red-symmetries 1 for one view)
set -euo pipefail
threads=${1:-2}
copies=${2:-4}
shift $(($# < 2 ? $# : 2))
hemapath=${HEMAPATH_BIN:-build/hemapath}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in"
for k in $(seq 1 "$copies"); do
  for f in data/samples/smears/*.jpg; do cp "$f" "$work/in/$k-$(basename "$f")"; done
done
n=$(ls "$work/in" | wc -l)
start=$(date +%s.%N)
$hemapath -q analyze "$work/in" --threads "$threads" --out "$work/out" "$@" | tail -n 2 | head -n 1
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v n="$n" -v t="$threads" \
  'BEGIN { printf "wall time: %.3f s per smear over %d smears, %d threads, outputs written\n", (e - s) / n, n, t }'

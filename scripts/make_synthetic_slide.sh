#!/usr/bin/env bash
# Makes a large synthetic whole-slide image by tiling a real one: SOURCE is repeated ACROSS x
# DOWN times and written as a pyramidal, tiled, JPEG-compressed TIFF (what scanners write and
# OpenSlide reads as generic-tiff) carrying SOURCE's resolution in its TIFF tags.
#   scripts/make_synthetic_slide.sh SOURCE OUT.tif ACROSS DOWN [MPP]
# e.g. 18 x 14 copies of CMU-1-Small-Region (2220 x 2967 px) make a 39960 x 41538 px slide.
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: $0 SOURCE OUT.tif ACROSS DOWN [MPP]" >&2
  exit 2
fi
source_slide=$1 out=$2 across=$3 down=$4 mpp=${5:-0.499}
command -v vips >/dev/null || { echo "$0: vips not found (scripts/setup.sh installs libvips-tools)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# OpenSlide gives RGBA: flatten onto white first so the copies are plain RGB.
vips flatten "$source_slide" "$work/flat.v" --background 255
px_per_mm=$(awk -v m="$mpp" 'BEGIN { printf "%.6f", 1000 / m }')
vips replicate "$work/flat.v" "$work/big.v" "$across" "$down"
vips tiffsave "$work/big.v" "$out.partial.tif" --tile --pyramid --compression jpeg --Q 85 \
  --tile-width 256 --tile-height 256 --bigtiff --xres "$px_per_mm" --yres "$px_per_mm"
mv "$out.partial.tif" "$out"
vipsheader "$out"

#!/usr/bin/env bash
# The segmentation figures of docs/segmentation.md, from scratch:
#   nuclei (configs/nuclei_unet.yaml): train a U-Net on the seeded 80% of nuclei-dsb2018, then
#     score the untouched 20% with and without the watershed that splits touching nuclei, and
#     draw the cells found on one test tile;
#   white cells (configs/wbc_segmentation_unet.yaml): train on 70% of wbc-bccd (best epoch by the
#     10% validation part), score the untouched 20% test part.
# Usage: bench/segmentation_acceptance.sh [OUT_DIR]   (from the repository root; HEMAPATH_THREADS
# sets compute threads, default all cores; HEMAPATH_BIN the binary, default build/hemapath).
# Finished trainings are reused.
set -euo pipefail
out=${1:-runs/segmentation_acceptance}
hemapath=${HEMAPATH_BIN:-build/hemapath}
threads=${HEMAPATH_THREADS:-0}
mkdir -p "$out"

train() {  # config name: trains into $out/name unless finished there
  if [ ! -f "$out/$1/done" ]; then
    rm -rf "$out/$1"
    $hemapath train --config "configs/$1.yaml" --out "$out/$1" --threads "$threads"
    touch "$out/$1/done"
  fi
}

train nuclei_unet
$hemapath eval --model "$out/nuclei_unet/last.hpm" --threads "$threads" --out "$out/nuclei_unet/test"
$hemapath eval --model "$out/nuclei_unet/last.hpm" --threads "$threads" --out "$out/nuclei_unet/test_no_watershed" \
  --no-watershed
# A test tile with many touching nuclei (docs/results/nuclei_overlay.png): the cells found.
tile=${NUCLEI_TILE:-../shared/data/nuclei-dsb2018/images/3934a094e8537841.png}
$hemapath predict --model "$out/nuclei_unet/last.hpm" "$tile" --threads "$threads" --out "$out/nuclei_unet/predict"

train wbc_segmentation_unet
$hemapath eval --model "$out/wbc_segmentation_unet/best.hpm" --threads "$threads" --out "$out/wbc_segmentation_unet/test"

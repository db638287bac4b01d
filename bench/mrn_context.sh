#!/usr/bin/env bash
# MRN versus U-Net where context matters: seeded synthetic slides over real texture
# (bench/synthetic_context_slides.py), tiles + 2 um/px context patches cut by `hemapath slide
# tile`, a U-Net at 0.5 um/px, MRN-bilinear and MRN-transposed trained the same way, then each
# run over two held-out slides by `hemapath slide segment --truth` (foreground IoU). The last
# epoch is scored: the per-tile validation mIoU, mostly over empty tiles, is a poor guide to a best one.
#   [THREADS=N] bench/mrn_context.sh [WORK_DIR]     (default /tmp/hemapath-mrn; THREADS: training threads)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/hemapath-mrn}
mkdir -p "$work"
if [ ! -f "$work/texture.raw" ]; then
  vips flatten ../shared/data/slides/CMU-1-Small-Region.svs "$work/texture.v" --background 255
  vips rawsave "$work/texture.v" "$work/texture.raw"
fi
for spec in "train 3072 1" "test1 2048 101" "test2 2048 102"; do
  set -- $spec
  [ -f "$work/$1.png" ] || /usr/bin/python3 bench/synthetic_context_slides.py "$work/texture.raw" 2220 2967 "$work" "$1" "$2" "$3"
done
rm -rf "$work/train_tiles"
build/hemapath -q slide tile "$work/train.png" --slide-mpp 0.5 --mpp 0.5 --size 128 --min-tissue 0 \
  --annotation "$work/train_labels.png" --classes region --context-mpp 2.0 --context-size 128 --out "$work/train_tiles"
tiles="$work/train_tiles"
data="--set data.images=$tiles/tiles --set data.masks=$tiles/masks"
declare -A extra=([unet]="$data" [mrn_bilinear]="$data --set data.context=$tiles/context"
                  [mrn_transposed]="$data --set data.context=$tiles/context --set model.extra.upsampling=transposed")
declare -A config=([unet]=configs/context_unet.yaml [mrn_bilinear]=configs/context_mrn.yaml [mrn_transposed]=configs/context_mrn.yaml)
for model in unet mrn_bilinear mrn_transposed; do
  [ -f "$work/$model/best.hpm" ] || build/hemapath -q train --config "${config[$model]}" ${extra[$model]} --threads "${THREADS:-0}" --out "$work/$model"
  for test in test1 test2; do
    build/hemapath -q slide segment "$work/$test.png" --slide-mpp 0.5 --model "$work/$model/last.hpm" --size 128 \
      --overlap 32 --min-tissue 0 --truth "$work/${test}_labels.png" --truth-classes region --out "$work/$model-$test" \
      | grep "against" | sed "s|^|$model $test: |"
  done
done

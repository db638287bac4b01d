#!/usr/bin/env bash
# Does the red-cell classifier gain from its 64 px crops enlarged to 128 px instead of 96?
# (docs/smear-analysis.md: EfficientNet's last stage then sees 4x4 positions instead of 3x3.)
# Both arms are the bundled model's second stage (12 epochs from the first stage's weights,
# peak learning rate 0.001) on the split by smear, from the same first stage; each is
# corrected for the classes' shares (tau by validation loss, 8 views) and scored on the
# validation crops of its 100 unseen smears. The held-out smears are not read.
# Usage: bench/crop_resolution_study.sh FIRST_STAGE.hpm [OUT_DIR]   (from the repository root;
# FIRST_STAGE.hpm: configs/rbc_efficientnet_b0.yaml trained with
# --set data.split.group_by=column:source; the arms run side by side, one thread each).
set -euo pipefail
first=${1:?usage: bench/crop_resolution_study.sh FIRST_STAGE.hpm [OUT_DIR]}
out=${2:-runs/crop_resolution}
hemapath=${HEMAPATH_BIN:-build/hemapath}
epochs=${EPOCHS:-12}  # fewer only to try the script out
mkdir -p "$out"

arm() {  # name, crop size
  $hemapath train --config configs/rbc_efficientnet_b0.yaml --out "$out/$1" --threads 1 \
    --pretrained "$first" --epochs "$epochs" --set train.optimizer.lr=0.001 \
    --set data.split.group_by=column:source --set data.workers=1 --set "data.crop.size=$2" >"$out/$1.log" 2>&1
  $hemapath calibrate --model "$out/$1/last.hpm" --out "$out/$1/calibrated.hpm" --symmetries 8 --threads 1
  $hemapath eval --model "$out/$1/calibrated.hpm" --split val --symmetries 8 --threads 1 --out "$out/$1/val_eval"
}
arm size96 96 >"$out/size96.txt" &
small=$!
arm size128 128 >"$out/size128.txt" &
large=$!
wait "$small"
wait "$large"
for a in size96 size128; do echo "$a: $(grep "^accuracy" "$out/$a.txt")"; done

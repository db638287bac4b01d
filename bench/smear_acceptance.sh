#!/usr/bin/env bash
# The blood-smear figures of docs/smear-analysis.md and the bundled models, from scratch:
#   1. red-cell training data from the Chula points (seeded 20% of the images held out);
#   2. the red-cell U-Net, the red-cell EfficientNet-B0 (two stages: the config, then 12 more
#      epochs from its best weights; its validation crops choose tau and the number of averaged
#      views) and the small white-cell U-Net;
#   3. the bundled red-cell classifier: the same two stages again on every training crop, no
#      validation part, their last epochs kept and corrected with that tau; then scored once
#      on the held-out crops (cells from the labelled points), the figures recorded in its header;
#   4. `analyze` on the held-out Chula smears, scored against their points (detection, and the
#      classes of the matched cells), again on those of them whose every cell is labelled
#      (detection precision means something only there), and on the wbc-bccd test smears of the white-cell
#      classifier's split (types against labels.csv, detection against the masks);
#   5. 5x2 cross-validation of the red-cell classifier at a reduced budget (CV_EPOCHS epochs,
#      default 6, instead of 28; groups = source smears).
# Usage: bench/smear_acceptance.sh [OUT_DIR]   (from the repository root; HEMAPATH_THREADS sets
# compute threads, default all cores; HEMAPATH_BIN the binary, default build/hemapath).
# Finished steps are reused. The float16 models land in OUT_DIR/models (as models/ holds them).
set -euo pipefail
out=${1:-runs}
hemapath=${HEMAPATH_BIN:-build/hemapath}
threads=${HEMAPATH_THREADS:-0}
data=../shared/data
mkdir -p "$out"

if [ ! -d "$out/rbc_points" ]; then
  $hemapath prepare-points --images $data/rbc-chula/images --points $data/rbc-chula/labels \
    --classes $data/rbc-chula/classes.txt --out "$out/rbc_points" --exclude uncategorised \
    --max-radius 32 --max-hole-area 800
fi

train() {  # config, run name, data override, further train flags
  if [ ! -f "$out/$2/done" ]; then
    rm -rf "${out:?}/$2"
    $hemapath train --config "configs/$1.yaml" --out "$out/$2" --threads "$threads" --set "data.$3" "${@:4}"
    touch "$out/$2/done"
  fi
}
# The configs read runs/rbc_points; point them at $out/rbc_points.
train rbc_segmentation_unet rbc_unet "masks=$PWD/$out/rbc_points/train/masks"
train rbc_efficientnet_b0 rbc_efficientnet_b0 "labels=$PWD/$out/rbc_points/crops/train/labels.csv"
# The second stage: the first run's training accuracy was still rising when its schedule
# ended; a fresh cosine schedule from its best weights, on the same split.
train rbc_efficientnet_b0 rbc_effb0_ft "labels=$PWD/$out/rbc_points/crops/train/labels.csv" \
  --pretrained "$out/rbc_efficientnet_b0/best.hpm" --epochs 12 --set train.optimizer.lr=0.001
# The bundled classifier: both stages once more with the validation crops trained on too,
# the schedule and tau being settled by the runs above; their last epochs are kept.
all_crops=(--set data.split.train=1 --set data.split.val=0)
train rbc_efficientnet_b0 rbc_effb0_all1 "labels=$PWD/$out/rbc_points/crops/train/labels.csv" "${all_crops[@]}"
train rbc_efficientnet_b0 rbc_effb0_all2 "labels=$PWD/$out/rbc_points/crops/train/labels.csv" "${all_crops[@]}" \
  --pretrained "$out/rbc_effb0_all1/last.hpm" --epochs 12 --set train.optimizer.lr=0.001
train wbc_segmentation_unet_small wbc_unet "workers=2"

mkdir -p "$out/models"
[ -f "$out/models/rbc_unet.hpm" ] || $hemapath convert "$out/rbc_unet/best.hpm" "$out/models/rbc_unet.hpm"
# The validated classifier corrected for the classes' shares, tau chosen on its validation crops.
validated=$out/rbc_effb0_ft/calibrated.hpm
[ -f "$validated" ] || {
  $hemapath convert "$out/rbc_effb0_ft/best.hpm" "$out/rbc_effb0_ft/float16.hpm" &&
    $hemapath calibrate --model "$out/rbc_effb0_ft/float16.hpm" --out "$validated" \
      --symmetries "${RED_SYMMETRIES:-8}" --threads "$threads"
}
tau=$($hemapath info "$validated" | sed -n 's/.*prior correction: tau \([0-9.]*\).*/\1/p')
[ -f "$out/models/wbc_unet.hpm" ] || $hemapath convert "$out/wbc_unet/best.hpm" "$out/models/wbc_unet.hpm"

# The number of views analyze averages (--red-symmetries) is chosen on the validated
# classifier's validation crops, by macro-F1 (its training monitor).
for views in 1 2 4 8 16; do
  echo "validation, $views views: $($hemapath -q eval --model "$validated" --split val \
    --symmetries "$views" --threads "$threads" | sed -n 2p)"
done
# The bundled classifier: the all-crops run with that tau (its figures on the training crops
# are printed, not used); then the held-out crops are scored once, into its header.
[ -f "$out/models/rbc_efficientnet_b0.hpm" ] || {
  $hemapath convert "$out/rbc_effb0_all2/last.hpm" "$out/rbc_effb0_all2/float16.hpm" &&
    $hemapath calibrate --model "$out/rbc_effb0_all2/float16.hpm" --out "$out/rbc_effb0_all2/calibrated.hpm" \
      --tau "$tau" --split train --threads "$threads" &&
    $hemapath eval --model "$out/rbc_effb0_all2/calibrated.hpm" --data "$out/rbc_points/crops/test" \
      --symmetries "${RED_SYMMETRIES:-8}" --threads "$threads" --out "$out/rbc_efficientnet_b0/test" \
      --record-in "$out/models/rbc_efficientnet_b0.hpm"
}
$hemapath eval --model "$out/models/wbc_unet.hpm" --threads "$threads" --out "$out/wbc_unet/test"

models=(--model-rbc-seg "$out/models/rbc_unet.hpm" --model-rbc-cls "$out/models/rbc_efficientnet_b0.hpm"
        --model-wbc-seg "$out/models/wbc_unet.hpm" --model-wbc-cls models/wbc_separable_cnn.hpm)
$hemapath analyze "$out/rbc_points/test/images" --points $data/rbc-chula/labels "${models[@]}" \
  --threads "$threads" --out "$out/analyze_chula_test" | tail -n 4
# Precision needs smears whose every cell is labelled: the held-out smears where the points'
# cells cover at least 95% of the colour foreground clear of the image border (split.csv's
# labelled_share, from the annotation and the colour threshold alone, not from any prediction).
rm -rf "$out/chula_test_complete" && mkdir -p "$out/chula_test_complete"
awk -F, -v share="${COMPLETE_SHARE:-0.95}" 'NR > 1 && $2 == "test" && $4 >= share { print $1 }' \
  "$out/rbc_points/split.csv" | while read -r image; do
  ln -s "$(realpath "$out/rbc_points/test/images/$image")" "$out/chula_test_complete/"
done
$hemapath analyze "$out/chula_test_complete" --points $data/rbc-chula/labels "${models[@]}" \
  --threads "$threads" --out "$out/analyze_chula_test_complete" | tail -n 4
# The white-cell classifier's test split (configs/wbc_separable_cnn.yaml, seed 1), as eval lists it.
$hemapath eval --model models/wbc_separable_cnn.hpm --split test --threads "$threads" --out "$out/wbc_cls_test" > /dev/null
mkdir -p "$out/wbc_test_images"
tail -n +2 "$out/wbc_cls_test/predictions.csv" | cut -d, -f1 | while read -r image; do
  ln -sf "$(realpath "$image")" "$out/wbc_test_images/"
done
$hemapath analyze "$out/wbc_test_images" --wbc-labels $data/wbc-bccd/labels.csv --wbc-masks $data/wbc-bccd/masks \
  "${models[@]}" --threads "$threads" --out "$out/analyze_bccd_test" | tail -n 4

$hemapath cv --config configs/rbc_efficientnet_b0.yaml --scheme 5x2 --group-by column:source \
  --epochs "${CV_EPOCHS:-6}" \
  --set "data.labels=$PWD/$out/rbc_points/crops/train/labels.csv" --threads "$threads" \
  --out "$out/cv_rbc_efficientnet_b0" --resume

#!/usr/bin/env bash
# Does autoencoder pretraining help when labels are scarce? White-cell crops (BCCD), ResNet18:
#   1. pretrain an autoencoder on every smear's crop, labels unseen (configs/wbc_autoencoder_resnet18.yaml);
#   2. for 5 seeds, train on a stratified 20% of the training split (data.split.train_subset)
#      from scratch and from the autoencoder's encoder, same config, seed and subset otherwise;
#   3. evaluate each once on the untouched test split; print macro-F1 and accuracy, mean +- std.
# The validation and test parts are those of the full config (split seed 1) in every run.
# Usage: bench/pretraining_scarce_labels.sh [OUT_DIR] [EPOCHS]   (from the repository root;
# HEMAPATH_THREADS sets compute threads, default all cores; HEMAPATH_BIN the binary, default
# build/hemapath). Re-running skips finished runs.
set -euo pipefail
out=${1:-runs/pretraining_scarce_labels}
epochs=${2:-60}
hemapath=${HEMAPATH_BIN:-build/hemapath}
threads=${HEMAPATH_THREADS:-0}
mkdir -p "$out"

if [ ! -d "$out/ae" ]; then  # finished pretraining only: an interrupted one is redone
  rm -rf "$out/ae.partial"
  $hemapath pretrain --config configs/wbc_autoencoder_resnet18.yaml --out "$out/ae.partial" --threads "$threads"
  mv "$out/ae.partial" "$out/ae"
fi

for seed in 1 2 3 4 5; do
  for start in scratch autoencoder; do
    run="$out/${start}_s$seed"
    [ -f "$run/test/report.json" ] && continue
    rm -rf "$run"
    extra=()
    [ "$start" = autoencoder ] && extra=(--pretrained "$out/ae/autoencoder.hpm")
    $hemapath train --config configs/wbc_resnet18.yaml --out "$run" --seed "$seed" --epochs "$epochs" \
      --set data.split.train_subset=0.2 --set data.split.subset_seed="$seed" --set train.batch_size=16 \
      --threads "$threads" "${extra[@]}" --quiet
    $hemapath eval --model "$run/best.hpm" --split test --out "$run/test" --threads "$threads" --quiet > /dev/null
  done
done

python3 - "$out" <<'PY'
import json, statistics, sys
out = sys.argv[1]
print("| start | seed | train images | test accuracy | test macro-F1 |")
print("|---|---:|---:|---:|---:|")
summary = {}
for start in ("scratch", "autoencoder"):
    for seed in range(1, 6):
        r = json.load(open(f"{out}/{start}_s{seed}/test/report.json"))
        rep = r.get("report", r)
        train = sum(1 for line in open(f"{out}/{start}_s{seed}/split.csv") if line.rstrip().endswith(",train"))
        summary.setdefault(start, []).append((rep["accuracy"], rep["macro_f1"]))
        print(f"| {start} | {seed} | {train} | {rep['accuracy']:.4f} | {rep['macro_f1']:.4f} |")
print()
print("| start | accuracy mean +- std | macro-F1 mean +- std |")
print("|---|---:|---:|")
for start, values in summary.items():
    acc = [a for a, _ in values]; f1 = [f for _, f in values]
    print(f"| {start} | {statistics.mean(acc):.4f} +- {statistics.stdev(acc):.4f} | "
          f"{statistics.mean(f1):.4f} +- {statistics.stdev(f1):.4f} |")
PY

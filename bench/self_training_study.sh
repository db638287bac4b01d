#!/usr/bin/env bash
# Does the red-cell classifier gain from the cells the Chula annotators left unlabelled,
# labelled by a teacher classifier (self-training)? (docs/smear-analysis.md)
# The teacher is a second stage trained on the split by smear (TWIN_RUN, e.g. the 96 px arm of
# bench/crop_resolution_study.sh, with its calibrated.hpm). It runs `analyze` on that run's
# training smears only; their unlabelled red cells clear of the border that it calls with
# probability >= MIN_PROBABILITY become crops (prepare-points). The student is the twin's
# recipe (12 epochs from the same first stage, learning rate 0.001, 96 px) on the twin's
# training crops plus those, with no validation part; it is corrected (tau by loss, 8 views)
# and scored on the twin's validation crops (100 unseen smears). The held-out smears are not read.
# Usage: bench/self_training_study.sh TWIN_RUN FIRST_STAGE.hpm [OUT_DIR]   (from the repository root)
set -euo pipefail
twin=${1:?usage: bench/self_training_study.sh TWIN_RUN FIRST_STAGE.hpm [OUT_DIR]}
first=${2:?usage: bench/self_training_study.sh TWIN_RUN FIRST_STAGE.hpm [OUT_DIR]}
out=${3:-runs/self_training}
hemapath=${HEMAPATH_BIN:-build/hemapath}
epochs=${EPOCHS:-12}  # fewer only to try the script out
min_probability=${MIN_PROBABILITY:-0.8}
chula=${CHULA:-../shared/data/rbc-chula}
crops=runs/rbc_points/crops/train  # prepare-points' training crops, as in the twin's config
mkdir -p "$out/val" "$out/train_images" "$out/student_data"

# The twin's split: its training smears (for the teacher) and its crops of each part.
python3 - "$twin/split.csv" "$crops/labels.csv" "$out" "$chula/images" <<'EOF'
import csv, os, sys
split_csv, labels_csv, out, images = sys.argv[1:]
crop_dir = os.path.dirname(os.path.abspath(labels_csv))
rows = {os.path.join(crop_dir, r["image"]): r for r in csv.DictReader(open(labels_csv))}
parts = {"train": [], "val": []}
for r in csv.DictReader(open(split_csv)):
    row = dict(rows[os.path.abspath(r["image"])])
    row["image"] = os.path.abspath(r["image"])
    parts[r["part"]].append(row)
for part, name in (("val", "val/labels.csv"), ("train", "labelled_train.csv")):
    with open(os.path.join(out, name), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["image", "label", "source", "x", "y"])
        w.writeheader()
        w.writerows(parts[part])
for smear in sorted({r["source"] for r in parts["train"]}):
    os.symlink(os.path.abspath(os.path.join(images, smear)), os.path.join(out, "train_images", smear))
EOF

$hemapath analyze "$out/train_images" --out "$out/teacher" --model-rbc-cls "$twin/calibrated.hpm" >"$out/teacher.log" 2>&1
python3 bench/pseudo_label_points.py --analyze "$out/teacher" --points "$chula/labels" \
  --classes "$chula/classes.txt" --out "$out/pseudo_points" --min-probability "$min_probability"
$hemapath prepare-points --images "$out/train_images" --points "$out/pseudo_points" --classes "$chula/classes.txt" \
  --out "$out/pseudo_crops" --exclude uncategorised --max-radius 32 --max-hole-area 800 --test-fraction 0
python3 - "$out" <<'EOF'
import csv, os, sys
out = sys.argv[1]
rows = list(csv.DictReader(open(os.path.join(out, "labelled_train.csv"))))
folder = os.path.abspath(os.path.join(out, "pseudo_crops", "crops", "train"))
for r in csv.DictReader(open(os.path.join(folder, "labels.csv"))):
    r["image"] = os.path.join(folder, r["image"])
    rows.append(r)
with open(os.path.join(out, "student_data", "labels.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=["image", "label", "source", "x", "y"])
    w.writeheader()
    w.writerows(rows)
EOF

$hemapath train --config configs/rbc_efficientnet_b0.yaml --out "$out/student" --threads 1 \
  --pretrained "$first" --epochs "$epochs" --set train.optimizer.lr=0.001 \
  --set "data.labels=$(realpath "$out/student_data/labels.csv")" --set data.split.train=1 --set data.split.val=0 \
  --set data.workers=1 --set data.crop.size=96 >"$out/student.log" 2>&1
$hemapath calibrate --model "$out/student/last.hpm" --data "$out/val" --out "$out/student/calibrated.hpm" \
  --symmetries 8 --threads 1
$hemapath eval --model "$out/student/calibrated.hpm" --data "$out/val" --symmetries 8 --threads 1 \
  --out "$out/student/val_eval"

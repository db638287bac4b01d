#!/usr/bin/env bash
# Data-parallel training throughput on this machine: the white-cell classifier
# (configs/wbc_separable_cnn.yaml) trained for a few epochs by 1 process x 1 thread and by
# 2 processes x 1 thread (scripts/launch_local.sh), interleaved, and the ratio of their
# training images/s (log.csv's train_images_per_s, the optimisation passes only, mean over
# epochs after the first). Then the largest parameter difference after one epoch of a 2-rank
# run from a 1-process run with train.micro_batches=2 (same global batches, same halves) and
# from one on whole batches, on the full-size model.
#   bench/distributed_train.sh [EPOCHS] [ROUNDS]   (HEMAPATH_BIN, HEMAPATH_SPEED_BIN: the binaries)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs="${1:-3}"
rounds="${2:-2}"
hemapath="${HEMAPATH_BIN:-build/hemapath}"
speed="${HEMAPATH_SPEED_BIN:-build/bench/hemapath_speed}"
config=configs/wbc_separable_cnn.yaml
out="$(mktemp -d /tmp/hemapath_dp_bench.XXXXXX)"
trap 'rm -rf "$out"' EXIT
export OMP_NUM_THREADS=1

rate() {  # mean train images/s over the epochs after the first
  awk -F, 'NR > 2 { s += $10; n++ } END { if (n) printf "%.2f", s / n; else print "nan" }' "$1/log.csv"
}

echo "white-cell classifier, $epochs epochs, global batch 32, 1 thread per process, $rounds interleaved rounds"
one_rates=()
two_rates=()
for ((r = 1; r <= rounds; ++r)); do
  "$hemapath" -q train --config "$config" --epochs "$epochs" --threads 1 --out "$out/one_$r" \
    --set train.micro_batches=2 > /dev/null
  scripts/launch_local.sh 2 "$hemapath" -q train --config "$config" --epochs "$epochs" --threads 1 \
    --out "$out/two_$r" --distributed > /dev/null
  one_rates+=("$(rate "$out/one_$r")")
  two_rates+=("$(rate "$out/two_$r")")
  echo "round $r: 1 process ${one_rates[-1]} img/s, 2 processes ${two_rates[-1]} img/s"
done
python3 - "${one_rates[*]}" "${two_rates[*]}" <<'PY'
import sys, statistics
one = [float(x) for x in sys.argv[1].split()]
two = [float(x) for x in sys.argv[2].split()]
print(f"mean: 1 x 1 thread {statistics.mean(one):.2f} img/s, 2 x 1 thread {statistics.mean(two):.2f} img/s, "
      f"ratio {statistics.mean(two) / statistics.mean(one):.2f}")
PY
# The weights after one epoch, without dropout (each rank draws its own masks, a single
# process draws them in another order): 2 ranks against 1 process on the same halves, and
# against 1 process on whole batches (BatchNorm over all 32).
one_epoch=(-q train --config "$config" --epochs 1 --threads 1 --set model.dropout=0)
"$hemapath" "${one_epoch[@]}" --out "$out/w_one" --set train.micro_batches=2 > /dev/null
scripts/launch_local.sh 2 "$hemapath" "${one_epoch[@]}" --out "$out/w_two" --distributed > /dev/null
"$hemapath" "${one_epoch[@]}" --out "$out/w_whole" > /dev/null
echo "weights after 1 epoch (dropout 0), 2 ranks against 1 process with train.micro_batches=2:"
"$speed" compare --weights "$out/w_one/last.hpm" --other "$out/w_two/last.hpm"
echo "2 ranks against 1 process on whole batches:"
"$speed" compare --weights "$out/w_whole/last.hpm" --other "$out/w_two/last.hpm"

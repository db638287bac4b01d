#!/usr/bin/env bash
# Slide inference at two slide areas, one 4x the other: tiles/s and peak memory of
# `hemapath slide segment` with a tiny model, side by side in one run. Peak RSS must not grow
# with the slide's area (the stitched map streams to disk).
#   bench/slide_memory.sh [WORK_DIR] [MPP]        (default /tmp/hemapath-slide-bench, 2.0 um/px)
# Slides: CMU-1-Small-Region tiled 18 x 14 (39960 x 41538 px) and 36 x 28 (79920 x 83076 px).
# Writes bench/results/slide_memory.json.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/hemapath-slide-bench}
mpp=${2:-2.0}
mkdir -p "$work" bench/results
source_slide=../shared/data/slides/CMU-1-Small-Region.svs
[ -f "$work/small.tif" ] || scripts/make_synthetic_slide.sh "$source_slide" "$work/small.tif" 18 14 >/dev/null
[ -f "$work/large.tif" ] || scripts/make_synthetic_slide.sh "$source_slide" "$work/large.tif" 36 28 >/dev/null
/usr/bin/python3 bench/tiny_slide_model.py "$work/tiny.pt" "$mpp" 512
results="{}"
for size in small large; do
  rm -rf "$work/out-$size"
  build/hemapath -q slide segment "$work/$size.tif" --model "$work/tiny.pt" --overlap 16 --batch-size 4 \
    --out "$work/out-$size" --no-cells > "$work/$size.log"
  summary="$work/out-$size/summary.json"
  results=$(python3 -c "import json,sys; r=json.loads(sys.argv[1]); s=json.load(open(sys.argv[2])); \
r[sys.argv[3]]={k:s[k] for k in ('slide_size_px','output_size_px','tiles_run','tiles_per_second','tile_seconds','output_seconds','seconds','peak_rss_mib')}; \
print(json.dumps(r))" "$results" "$summary" "$size")
  python3 -c "import json,sys; s=json.load(open(sys.argv[1])); \
print(f\"{sys.argv[2]}: slide {s['slide_size_px'][0]}x{s['slide_size_px'][1]} px, map {s['output_size_px'][0]}x{s['output_size_px'][1]} px at {s['mpp']} um/px, {s['tiles_run']} tiles, {s['tiles_per_second']:.1f} tiles/s, {s['seconds']:.0f} s in all, peak RSS {s['peak_rss_mib']:.0f} MiB\")" "$summary" "$size"
done
python3 -c "import json,sys; r=json.loads(sys.argv[1]); a=r['small']['peak_rss_mib']; b=r['large']['peak_rss_mib']; \
r['area_ratio']=(r['large']['slide_size_px'][0]*r['large']['slide_size_px'][1])/(r['small']['slide_size_px'][0]*r['small']['slide_size_px'][1]); \
r['peak_rss_ratio']=b/a; print(f\"area x{r['area_ratio']:.2f}: peak RSS x{b/a:.3f} ({a:.0f} -> {b:.0f} MiB)\"); \
json.dump(r, open('bench/results/slide_memory.json','w'), indent=2)" "$results"

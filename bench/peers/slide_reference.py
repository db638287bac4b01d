#!/usr/bin/env python3
"""A reference slide-segmentation pipeline as a Python user writes it (openslide-python,
PyTorch eager, NumPy stitching): tiles of SIZE px at MPP um/px with OVERLAP px shared by
neighbours, each batch through the network, the class of every pixel of each tile's kept
centre written into one map held in memory, saved as a PNG at the end. The same network and
weights as hemapath's (bench/peers/pytorch_peer.py).

  slide_reference.py SLIDE --arch unet --weights W.pt --out MAP.png --mpp 2 --size 512 \
      --overlap 32 --batch 4 --threads T

Prints one JSON line: tiles, seconds, tiles/s, peak RSS (MiB).
"""
import argparse
import json
import resource
import time

import numpy as np
import openslide
import torch
from PIL import Image

import pytorch_peer


def spans(size, tile, overlap):
    """Tile starts and the [begin, end) each keeps, as hemapath cuts them."""
    if size <= tile:
        return [(0, 0, size)]
    out, start = [], 0
    while True:
        s = min(start, size - tile)
        last = s + tile >= size
        out.append((s, 0 if s == 0 else s + overlap // 2, size if last else s + tile - overlap // 2))
        if last:
            return out
        start += tile - overlap


def main():
    p = argparse.ArgumentParser()
    p.add_argument("slide")
    p.add_argument("--arch", default="unet")
    p.add_argument("--weights", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--mpp", type=float, default=2.0)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--overlap", type=int, default=32)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    model = pytorch_peer.load(args.arch, args.weights).eval()
    slide = openslide.OpenSlide(args.slide)
    slide_mpp = float(slide.properties.get(openslide.PROPERTY_NAME_MPP_X, 0) or 0)
    if slide_mpp <= 0:  # a libvips pyramid: the TIFF resolution tags, as hemapath reads them
        per_unit = {"centimeter": 1e4, "inch": 25400.0}[slide.properties["tiff.ResolutionUnit"]]
        slide_mpp = per_unit / float(slide.properties["tiff.XResolution"])
    downsample = args.mpp / slide_mpp
    level = slide.get_best_level_for_downsample(downsample)
    level_downsample = slide.level_downsamples[level]
    width0, height0 = slide.dimensions
    width, height = int(round(width0 / downsample)), int(round(height0 / downsample))
    class_map = np.zeros((height, width), dtype=np.uint8)
    tiles = [(y, x) for y in spans(height, args.size, args.overlap) for x in spans(width, args.size, args.overlap)]
    read_side = int(round(args.size * downsample / level_downsample))

    def read(y, x):
        region = slide.read_region((int(x[0] * downsample), int(y[0] * downsample)), level, (read_side, read_side))
        rgb = region.convert("RGB").resize((args.size, args.size), Image.BILINEAR)
        return torch.from_numpy(np.asarray(rgb, dtype=np.float32) / 255.0).permute(2, 0, 1)

    for i in range(0, len(tiles), args.batch):
        chunk = tiles[i:i + args.batch]
        batch = torch.stack([read(y, x) for y, x in chunk])
        with torch.inference_mode():
            classes = torch.softmax(model(batch), 1).argmax(1).to(torch.uint8).numpy()
        for (y, x), c in zip(chunk, classes):
            h, w = min(args.size, height), min(args.size, width)
            class_map[y[1]:y[2], x[1]:x[2]] = c[y[1] - y[0]:y[2] - y[0], x[1] - x[0]:x[2] - x[0]][:h, :w]
    Image.fromarray(class_map).save(args.out)
    seconds = time.perf_counter() - start
    print(json.dumps({"side": "pytorch", "tiles": len(tiles), "seconds": seconds, "tiles_per_second": len(tiles) / seconds,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
                      "map_size_px": [width, height]}))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Seeded synthetic slides for the MRN-versus-U-Net check, drawn over real tissue texture.

Each slide is a mosaic of CMU-1-Small-Region crops (real H&E texture, flipped and rotated) at
0.5 um/px. A few landmarks (teal discs 40 px across, like a dye mark: unlike anything in H&E,
so still plain at 2 um/px) are scattered over it; every pixel within RADIUS px of a landmark is
class 1 ("region"), the rest class 0. Inside a region nothing local marks it: a 128 px tile far
from its landmark looks like any other, so the class of a fine tile depends on what lies around
it, which a context patch at 2 um/px (512 px of field) shows and a fine-resolution network
does not.

Usage: synthetic_context_slides.py TEXTURE.raw WIDTH HEIGHT OUT_DIR NAME SIZE SEED
(TEXTURE.raw: 8-bit RGB, row-major). Writes NAME.png (the slide) and NAME_labels.png (0/1).
Benchmarks only; hemapath never runs Python."""
import sys
import zlib
import struct

import numpy as np

RADIUS = 170
LANDMARK = 20


def write_png(path, array):
    """A minimal PNG writer (8-bit grey or RGB), so the script needs numpy only."""
    height, width = array.shape[:2]
    colour = 2 if array.ndim == 3 else 0
    raw = b"".join(b"\x00" + array[y].tobytes() for y in range(height))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def main():
    texture_path, tw, th, out_dir, name, size, seed = sys.argv[1:8]
    tw, th, size, seed = int(tw), int(th), int(size), int(seed)
    rng = np.random.default_rng(seed)
    texture = np.fromfile(texture_path, dtype=np.uint8).reshape(th, tw, 3)
    block = 256
    slide = np.empty((size, size, 3), dtype=np.uint8)
    for y in range(0, size, block):
        for x in range(0, size, block):
            while True:  # a crop that is mostly tissue, not glass
                cy, cx = rng.integers(0, th - block), rng.integers(0, tw - block)
                crop = texture[cy:cy + block, cx:cx + block]
                if (crop.mean(axis=2) < 200).mean() > 0.7:
                    break
            crop = np.rot90(crop, rng.integers(0, 4))
            if rng.integers(0, 2):
                crop = crop[:, ::-1]
            slide[y:y + block, x:x + block] = crop[: size - y, : size - x]
    yy, xx = np.mgrid[0:size, 0:size]
    labels = np.zeros((size, size), dtype=np.uint8)
    count = max(2, size * size // (900 * 900))
    for _ in range(count):
        cy, cx = rng.integers(LANDMARK, size - LANDMARK, 2)
        d = np.hypot(yy - cy, xx - cx)
        labels[d <= RADIUS] = 1
        slide[d <= LANDMARK] = (40, 170, 170)
    write_png(f"{out_dir}/{name}.png", slide)
    write_png(f"{out_dir}/{name}_labels.png", labels)
    print(f"{name}: {size}x{size} px, {count} landmarks, region fraction {labels.mean():.3f}")


if __name__ == "__main__":
    main()

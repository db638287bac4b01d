#!/usr/bin/env python3
"""Point files of pseudo-labelled red cells for a self-training study (docs/smear-analysis.md).

Reads `hemapath analyze` outputs (<analyze>/<stem>/cells.csv) of smears whose annotation marks
only some cells, and writes <out>/<stem>.txt ('x y class-index' per line, the Chula format) for
the red cells the annotators left unlabelled: no labelled point of any class inside the cell's
box (so a labelled cell is never labelled twice), clear of the image border (cut cells, which
annotators pass over), and called with at least --min-probability by the teacher classifier.
"""
import argparse
import csv
import os
import sys


def read_points(path):
    points = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                points.append((float(parts[0]), float(parts[1])))
    return points


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--analyze", required=True, help="analyze output folder (<stem>/cells.csv)")
    ap.add_argument("--points", required=True, help="folder of the smears' labelled points (<stem>.txt)")
    ap.add_argument("--classes", required=True, help="classes.txt of the point files")
    ap.add_argument("--out", required=True, help="folder for the pseudo-label point files (must not exist)")
    ap.add_argument("--min-probability", type=float, default=0.9)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    args = ap.parse_args()

    classes = [c.strip() for c in open(args.classes) if c.strip()]
    os.makedirs(args.out)
    stems = sorted(d for d in os.listdir(args.analyze) if os.path.isfile(os.path.join(args.analyze, d, "cells.csv")))
    if not stems:
        sys.exit(f"no <stem>/cells.csv under '{args.analyze}'")
    counts = {"red cells": 0, "labelled": 0, "border": 0, "unsure": 0, "kept": 0}
    per_class = {}
    for stem in stems:
        labelled = read_points(os.path.join(args.points, stem + ".txt"))
        lines = []
        for cell in csv.DictReader(open(os.path.join(args.analyze, stem, "cells.csv"))):
            if cell["type"] != "red":
                continue
            counts["red cells"] += 1
            x, y, w, h = (int(cell[k]) for k in ("bbox_x", "bbox_y", "bbox_w", "bbox_h"))
            if any(x <= px < x + w and y <= py < y + h for px, py in labelled):
                counts["labelled"] += 1
            elif x <= 0 or y <= 0 or x + w >= args.width or y + h >= args.height:
                counts["border"] += 1
            elif float(cell["probability"]) < args.min_probability:
                counts["unsure"] += 1
            else:
                counts["kept"] += 1
                per_class[cell["class"]] = per_class.get(cell["class"], 0) + 1
                lines.append(f"{round(float(cell['centroid_x']))} {round(float(cell['centroid_y']))} "
                             f"{classes.index(cell['class'])}\n")
        with open(os.path.join(args.out, stem + ".txt"), "w") as f:
            f.writelines(lines)
    print(f"{len(stems)} smears: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print("kept per class: " + ", ".join(f"{k} {v}" for k, v in sorted(per_class.items(), key=lambda kv: -kv[1])))


if __name__ == "__main__":
    main()

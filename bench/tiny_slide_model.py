#!/usr/bin/env python3
"""Exports a tiny, fast TorchScript segmenter (two 3x3 convolutions, 2 classes) and its JSON
sidecar for the slide benchmarks, which measure reading, stitching and memory rather than a
network. Usage: tiny_slide_model.py OUT.pt MPP TILE. Benchmarks only; hemapath never runs Python."""
import json
import sys

import torch

out, mpp, tile = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
torch.manual_seed(1)
model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(4, 2, 3, padding=1)).eval()
torch.jit.script(model).save(out)
with open(out[: -len(".pt")] + ".json", "w") as f:
    json.dump({"classes": ["background", "tissue"], "mpp": mpp, "tile_size": tile, "stride": 1,
               "normalization": {"mode": "unit"}, "output": "logits"}, f, indent=2)

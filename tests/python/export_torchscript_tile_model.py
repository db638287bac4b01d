#!/usr/bin/env python3
"""Writes a small TorchScript segmentation model, its JSON sidecar and PyTorch's own results on
an image, for hemapath's TorchScript slide-inference test.

The model (seeded; BatchNorm with random statistics, so eval-mode folding matters) maps
[N,3,H,W] to 3-class logits with a receptive field of radius 2 px. Writes into --out:

  model.pt        torch.jit.script of the model (what a lab's Python training would export)
  model.json      the sidecar: classes, mpp, tile size, stride, normalisation, output kind
  reference.pt    {"input": the normalised image [1,3,H,W],
                   "probabilities": softmax of the model on that input [1,3,H,W],
                   "padded_classes": argmax of the model on the image with 8 px of white
                   beyond its right and bottom edges (as the tiles there read), cropped back
                   [H,W] (int64)}

--image is raw 8-bit RGB, row-major, --height x --width px. Only tests use this script;
hemapath itself never runs Python.
"""
import argparse
import json
import os

import numpy as np
import torch

SEED = 20261129
MEAN = [0.70, 0.55, 0.72]
STD = [0.16, 0.20, 0.13]
CLASSES = ["background", "stroma", "tumour"]


def build_model():
    torch.manual_seed(SEED)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1),
        torch.nn.BatchNorm2d(8),
        torch.nn.ReLU(),
        torch.nn.Conv2d(8, 8, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(8, len(CLASSES), 1),
    )
    bn = model[1]
    with torch.no_grad():
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.2, 0.2)
    return model.eval()


def normalise(rgb):
    x = torch.from_numpy(rgb).permute(2, 0, 1).float().unsqueeze(0) / 255.0
    return (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--width", type=int, required=True)
    parser.add_argument("--height", type=int, required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)

    model = build_model()
    torch.jit.script(model).save(os.path.join(args.out, "model.pt"))
    sidecar = {
        "classes": CLASSES,
        "mpp": 0.5,
        "tile_size": 64,
        "stride": 1,
        "normalization": {"mode": "standardize", "mean": MEAN, "std": STD},
        "output": "logits",
    }
    with open(os.path.join(args.out, "model.json"), "w") as f:
        json.dump(sidecar, f, indent=2)

    rgb = np.fromfile(args.image, dtype=np.uint8).reshape(args.height, args.width, 3)
    # Tiles start at the slide's top-left edge and reach past its right and bottom edges.
    padded = np.pad(rgb, ((0, 8), (0, 8), (0, 0)), constant_values=255)
    with torch.no_grad():
        x = normalise(rgb)
        probabilities = torch.softmax(model(x), 1)
        padded_classes = model(normalise(padded)).argmax(1)[0, :-8, :-8]
    torch.save({"input": x.contiguous(), "probabilities": probabilities.contiguous(),
                "padded_classes": padded_classes.contiguous()}, os.path.join(args.out, "reference.pt"))


if __name__ == "__main__":
    main()

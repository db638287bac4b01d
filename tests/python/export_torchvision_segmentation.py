#!/usr/bin/env python3
"""Writes torchvision segmentation reference models for hemapath's segmentation parity test.

For each architecture (fcn_resnet50, deeplabv3_resnet50): a seeded torchvision model with 3
classes, no auxiliary head and no pretrained weights, whose BatchNorm layers carry random
running statistics and affine parameters (so a wrong eps or layout shows up), evaluated in eval
mode on a fixed random input. Writes, per architecture, into --out:

  ARCH.pt      the state dict (a plain dict name -> tensor, saved by torch.save)
  ARCH_io.pt   {"input": [1,3,S,S] float, "output": [1,3,S,S] float} (the "out" logits), same format

Only tests use this script; hemapath itself never runs Python.
"""
import argparse
import os
import sys

import torch
import torchvision
import torchvision.models.segmentation as segmentation

# The same random batch-norm statistics and plain state dicts as the classifier exports.
from export_torchvision import randomise_batch_norm, save_reference

NUM_CLASSES = 3
BATCH = 1
# 64 px keeps the test fast: the dilated backbone's map is 8x8, wide enough for ASPP's rates.
INPUT_SIZE = 64
SEED = 20240612
ARCHS = ("fcn_resnet50", "deeplabv3_resnet50")


def export(arch, out_dir):
    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED + 1)
    # weights_backbone defaults to ImageNet weights (a download): None keeps it offline.
    model = getattr(segmentation, arch)(weights=None, weights_backbone=None, num_classes=NUM_CLASSES, aux_loss=False)
    randomise_batch_norm(model, generator)
    model.eval()
    x = torch.randn(BATCH, 3, INPUT_SIZE, INPUT_SIZE, generator=generator)
    # The last convolution (random BatchNorm through ResNet-50 gives large logits).
    return save_reference(model, lambda inputs: model(inputs)["out"], model.classifier[-1], x, arch, out_dir)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="output folder (created)")
    parser.add_argument("archs", nargs="+", choices=ARCHS, help="torchvision segmentation architectures")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    for arch in args.archs:
        if not hasattr(segmentation, arch):
            sys.exit(f"export_torchvision_segmentation.py: torchvision {torchvision.__version__} has no '{arch}'")
        scale = export(arch, args.out)
        print(f"{arch}: logits scaled by 1/{scale:.4g}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Independent multiply-accumulate count of a torchvision classifier, for hemapath's
complexity test.

Builds torchvision's model (random weights, --num-classes classes, eval mode), runs one
forward pass on a [1, 3, SIZE, SIZE] input and counts, with forward hooks on the layers
(not on ATen operations, as hemapath does), the MACs of every Conv1d/2d/3d and
ConvTranspose layer (output elements x in_channels/groups x kernel area; transposed:
input elements x out_channels/groups x kernel area) and every Linear layer (output
elements x in_features). Prints one JSON object:

  {"arch": ..., "size": ..., "num_classes": ..., "parameters": ...,
   "conv_macs": ..., "linear_macs": ..., "macs": ..., "conv_layers": ..., "linear_layers": ...}

Only tests use this script; hemapath itself never runs Python.
"""
import argparse
import json
import math

import torch
import torchvision


def count(model, size):
    totals = {"conv_macs": 0, "linear_macs": 0, "conv_layers": 0, "linear_layers": 0}

    def conv_hook(module, inputs, output):
        kernel = math.prod(module.kernel_size)
        if isinstance(module, torch.nn.modules.conv._ConvTransposeNd):
            macs = inputs[0].numel() * (module.out_channels // module.groups) * kernel
        else:
            macs = output.numel() * (module.in_channels // module.groups) * kernel
        totals["conv_macs"] += macs
        totals["conv_layers"] += 1

    def linear_hook(module, inputs, output):
        totals["linear_macs"] += output.numel() * module.in_features
        totals["linear_layers"] += 1

    handles = []
    for module in model.modules():
        if isinstance(module, torch.nn.modules.conv._ConvNd):
            handles.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, torch.nn.Linear):
            handles.append(module.register_forward_hook(linear_hook))
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    for handle in handles:
        handle.remove()
    totals["macs"] = totals["conv_macs"] + totals["linear_macs"]
    return totals


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("arch", help="torchvision.models name, e.g. resnet18")
    parser.add_argument("--size", type=int, default=224, help="input side length, px")
    parser.add_argument("--num-classes", type=int, default=4)
    args = parser.parse_args()
    torch.manual_seed(1)
    model = getattr(torchvision.models, args.arch)(num_classes=args.num_classes).eval()
    result = {"arch": args.arch, "size": args.size, "num_classes": args.num_classes,
              "parameters": sum(p.numel() for p in model.parameters())}
    result.update(count(model, args.size))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

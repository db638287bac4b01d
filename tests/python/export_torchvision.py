#!/usr/bin/env python3
"""Writes torchvision reference models for hemapath's parity test.

For each architecture: a seeded torchvision model with 5 classes whose BatchNorm layers
carry random running statistics and affine parameters (so a wrong eps, momentum or layout
shows up instead of hiding behind an identity BatchNorm), evaluated in eval mode on a fixed
random input. Writes, per architecture, into --out:

  ARCH.pt      the state dict (a plain dict name -> tensor, saved by torch.save)
  ARCH_io.pt   {"input": [2,3,S,S] float, "output": [2,5] float}, same format

Only tests use this script; hemapath itself never runs Python.
"""
import argparse
import os
import sys

import torch
import torchvision

NUM_CLASSES = 5
BATCH = 2
# 64 px keeps the suite fast; every architecture here reaches a >= 2x2 final map at 64.
INPUT_SIZE = {}
DEFAULT_SIZE = 64
SEED = 20240611


def randomise_batch_norm(model, generator):
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            n = module.num_features
            with torch.no_grad():
                module.running_mean.copy_(torch.randn(n, generator=generator) * 0.1)
                module.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
                module.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(n, generator=generator) * 0.1)
                module.num_batches_tracked.fill_(7)


def plain_state_dict(model):
    # A plain dict of contiguous, unshared tensors: LibTorch's unpickler reads a dict, not
    # an OrderedDict carrying `_metadata`.
    return {name: t.detach().contiguous().clone() for name, t in model.state_dict().items()}


def export(arch, out_dir):
    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED + 1)
    model = getattr(torchvision.models, arch)(num_classes=NUM_CLASSES)
    randomise_batch_norm(model, generator)
    model.eval()
    size = INPUT_SIZE.get(arch, DEFAULT_SIZE)
    x = torch.randn(BATCH, 3, size, size, generator=generator)
    # The final linear layer: MobileNetV3's head init alone gives logits ~0.01, a deep ResNet
    # with random BatchNorm ~100.
    head = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
    return save_reference(model, lambda inputs: model(inputs), head, x, arch, out_dir)


def save_reference(model, run, head, x, arch, out_dir):
    """Scales `head` (the last layer, with bias) so run(x) peaks at 1, then writes ARCH.pt and
    ARCH_io.pt: the test's absolute tolerance then means the same for every architecture.
    Returns the factor the logits were divided by."""
    with torch.no_grad():
        scale = 1.0 / float(run(x).abs().max())
        head.weight.mul_(scale)
        head.bias.mul_(scale)
        y = run(x)
    torch.save(plain_state_dict(model), os.path.join(out_dir, arch + ".pt"))
    torch.save({"input": x.contiguous(), "output": y.contiguous()}, os.path.join(out_dir, arch + "_io.pt"))
    return 1.0 / scale


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="output folder (created)")
    parser.add_argument("archs", nargs="+", help="torchvision architecture names")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    for arch in args.archs:
        if not hasattr(torchvision.models, arch):
            sys.exit(f"export_torchvision.py: torchvision {torchvision.__version__} has no architecture '{arch}'")
        scale = export(arch, args.out)
        print(f"{arch}: logits scaled by 1/{scale:.4g}")


if __name__ == "__main__":
    main()

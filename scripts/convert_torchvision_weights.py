#!/usr/bin/env python3
"""Converts torchvision weights into the state-dict file hemapath imports.

    convert_torchvision_weights.py ARCH WEIGHTS.pth OUT.pt
    convert_torchvision_weights.py ARCH --random-seed N OUT.pt

Loads a torchvision state dict (e.g. resnet50-0676ba61.pth from torchvision's model zoo),
checks its names and shapes against torchvision.models.ARCH(), and writes it as a plain
dict of tensors with torch.save (zip format), which hemapath's read_state_dict reads with
LibTorch alone. With --random-seed it writes a seeded, randomly initialised model instead
(for tests). Run it once on any machine with torch and torchvision; hemapath needs neither.
"""
import argparse
import sys

import torch
import torchvision


def fail(message):
    sys.exit(f"convert_torchvision_weights.py: {message}")


def load_weights(path):
    try:
        weights = torch.load(path, map_location="cpu")
    except Exception as error:  # noqa: BLE001 - any failure means "not a weights file"
        fail(f"cannot read '{path}' as PyTorch weights: {error}")
    # Some checkpoints wrap the state dict; accept the common wrappers.
    for key in ("state_dict", "model"):
        if isinstance(weights, dict) and isinstance(weights.get(key), dict):
            weights = weights[key]
    if not isinstance(weights, dict) or not all(isinstance(v, torch.Tensor) for v in weights.values()):
        fail(f"'{path}' is not a state dict: expected a dict of name -> tensor")
    return weights


def check_against(arch, model, weights, source):
    expected = model.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    mismatched = [
        f"{name}: {list(weights[name].shape)} vs {list(expected[name].shape)}"
        for name in sorted(set(expected) & set(weights))
        if weights[name].shape != expected[name].shape
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing (e.g. {', '.join(missing[:5])})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:5])})")
    if mismatched:
        problems.append(f"{len(mismatched)} of another shape (e.g. {'; '.join(mismatched[:5])})")
    if problems:
        fail(f"'{source}' does not match torchvision.models.{arch}(): " + "; ".join(problems))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("arch", help="torchvision architecture, e.g. resnet50, efficientnet_b0")
    parser.add_argument("inputs", nargs="+", metavar="WEIGHTS.pth OUT.pt",
                        help="torchvision weights file then output file (only OUT.pt with --random-seed)")
    parser.add_argument("--random-seed", type=int, default=None,
                        help="write a randomly initialised model seeded with N instead of converting")
    parser.add_argument("--num-classes", type=int, default=1000, help="classes of the model (default 1000)")
    args = parser.parse_args()

    if not hasattr(torchvision.models, args.arch) or not callable(getattr(torchvision.models, args.arch)):
        fail(f"torchvision {torchvision.__version__} has no architecture '{args.arch}'")
    expected_inputs = 1 if args.random_seed is not None else 2
    if len(args.inputs) != expected_inputs:
        fail("expected ARCH WEIGHTS.pth OUT.pt, or ARCH --random-seed N OUT.pt")
    out = args.inputs[-1]

    if args.random_seed is not None:
        torch.manual_seed(args.random_seed)
    model = getattr(torchvision.models, args.arch)(num_classes=args.num_classes)
    if args.random_seed is not None:
        weights = model.state_dict()
        source = f"random seed {args.random_seed}"
    else:
        source = args.inputs[0]
        weights = load_weights(source)
        check_against(args.arch, model, weights, source)

    # A plain dict of contiguous, unshared tensors: LibTorch's unpickler reads a dict, not an
    # OrderedDict carrying `_metadata`, and a view would drag its whole storage along.
    plain = {name: t.detach().to("cpu").contiguous().clone() for name, t in weights.items()}
    torch.save(plain, out)
    print(f"wrote {len(plain)} tensors of {args.arch} ({source}) to {out}")


if __name__ == "__main__":
    main()

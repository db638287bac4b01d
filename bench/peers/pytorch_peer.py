#!/usr/bin/env python3
"""The Python side of hemapath's speed benchmark (bench/run): the same networks, with the same
weights, run the way a PyTorch user runs them (eager modules, torch.inference_mode), and a
reference slide pipeline on openslide-python.

  weights --arch A --out W.pt                 seeded weights (BatchNorm statistics randomised) and
                                              an input/output pair (W_io.pt) to check parity
  forward --arch A --weights W.pt --batch N --size HxW --threads T --seconds S [--device D]
  train   --arch A --weights W.pt --batch N --size HxW --threads T --seconds S [--device D]

Each measuring mode prints one JSON line. Only benchmarks use this script; hemapath never
runs Python.
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

# Architectures at their hemapath working settings: classes, extra options.
ARCHS = {
    "resnet18": {"classes": 4},
    "efficientnet_b0": {"classes": 12},
    "unet": {"classes": 3, "depth": 4, "width": 16},
    "mrn": {"classes": 1, "depth": 4, "width": 8, "context_ratio": 4.0},
}
SEED = 20261129


def conv_bn_act(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


def double_conv(cin, cout):
    return nn.Sequential(conv_bn_act(cin, cout), conv_bn_act(cout, cout))


class UNetUp(nn.Module):
    """hemapath's UNetUp with bilinear upsampling: upsample x2, concatenate the skip, two convs."""

    def __init__(self, cin, skip, cout):
        super().__init__()
        self.conv = double_conv(cin + skip, cout)

    def forward(self, x, skip):
        x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        return self.conv(torch.cat([x, skip], 1))


class UNet(nn.Module):
    """hemapath's U-Net (models/unet.cpp) without an encoder: same layers, same names."""

    def __init__(self, classes, depth, width, in_channels=3):
        super().__init__()
        self.depth = depth
        self.down = nn.ModuleList(
            [double_conv(in_channels if l == 0 else width << (l - 1), width << l) for l in range(depth + 1)])
        self.up = nn.ModuleList([UNetUp(width << (l + 1), width << l, width << l) for l in range(depth)])
        self.head = nn.Conv2d(width, classes, 1)

    def forward(self, x):
        skips = []
        for level, block in enumerate(self.down):
            if level > 0:
                x = F.max_pool2d(x, 2, 2)
            x = block(x)
            skips.append(x)
        for level in reversed(range(self.depth)):
            x = self.up[level](x, skips[level])
        return self.head(x)


class MRN(nn.Module):
    """hemapath's multi-resolution network (models/mrn.cpp): fine and context encoders."""

    def __init__(self, classes, depth, width, context_ratio, in_channels=3):
        super().__init__()
        self.depth, self.ratio, self.c = depth, context_ratio, in_channels
        cw = width
        self.down = nn.ModuleList(
            [double_conv(in_channels if l == 0 else width << (l - 1), width << l) for l in range(depth + 1)])
        self.context = nn.ModuleList(
            [double_conv(in_channels if l == 0 else cw << (l - 1), cw << l) for l in range(depth + 1)])
        self.bottleneck = nn.Conv2d((width + cw) << depth, width << depth, 1)
        self.up = nn.ModuleList([UNetUp(width << (l + 1), (width + cw) << l, width << l) for l in range(depth)])
        self.head = nn.Conv2d(width, classes, 1)

    def context_view(self, context, size):
        h, w = context.shape[2], context.shape[3]
        ch = max(1, math.floor(h / self.ratio + 0.5))
        cw = max(1, math.floor(w / self.ratio + 0.5))
        centre = context[:, :, (h - ch) // 2:(h - ch) // 2 + ch, (w - cw) // 2:(w - cw) // 2 + cw]
        return F.interpolate(centre, size=list(size), mode="bilinear", align_corners=False)

    def forward(self, x):
        fine, context = x[:, :self.c], x[:, self.c:2 * self.c]
        skips = []
        for level in range(self.depth + 1):
            if level > 0:
                fine = F.max_pool2d(fine, 2, 2)
                context = F.max_pool2d(context, 2, 2)
            fine = self.down[level](fine)
            context = self.context[level](context)
            skips.append(torch.cat([fine, self.context_view(context, fine.shape[2:])], 1))
        y = self.bottleneck(skips[-1])
        for level in reversed(range(self.depth)):
            y = self.up[level](y, skips[level])
        return self.head(y)


def build(arch):
    a = ARCHS[arch]
    if arch == "unet":
        return UNet(a["classes"], a["depth"], a["width"])
    if arch == "mrn":
        return MRN(a["classes"], a["depth"], a["width"], a["context_ratio"])
    return getattr(torchvision.models, arch)(num_classes=a["classes"])


def in_channels(arch):
    return 6 if arch == "mrn" else 3


def randomise_batch_norm(model, generator):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(n, generator=generator) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
                m.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                m.bias.copy_(torch.randn(n, generator=generator) * 0.1)


def write_weights(arch, out):
    torch.manual_seed(SEED)
    model = build(arch)
    randomise_batch_norm(model, torch.Generator().manual_seed(SEED + 1))
    model.eval()
    state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    torch.save(state, out)
    x = torch.rand(2, in_channels(arch), 64, 64, generator=torch.Generator().manual_seed(SEED + 2))
    with torch.no_grad():
        y = model(x)
    torch.save({"input": x, "output": y}, out.replace(".pt", "_io.pt"))


def load(arch, weights):
    model = build(arch)
    model.load_state_dict(torch.load(weights), strict=True)
    return model


def parse_size(text):
    h, w = text.split("x")
    return int(h), int(w)


def timed(work, batch, seconds, device):
    """Images/s of `work` after two warm-up runs, over at least `seconds` and 3 runs (each
    waiting for the GPU, when it runs on one)."""

    def step():
        work()
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    step()
    step()
    runs, start = 0, time.perf_counter()
    while runs < 3 or time.perf_counter() - start < seconds:
        step()
        runs += 1
    return batch * runs / (time.perf_counter() - start)


def forward(args):
    model = load(args.arch, args.weights).eval().to(args.device)
    h, w = parse_size(args.size)
    x = torch.rand(args.batch, in_channels(args.arch), h, w, device=args.device)

    def step():
        with torch.inference_mode():
            model(x)

    return {"images_per_second": timed(step, args.batch, args.seconds, args.device)}


def train(args):
    model = load(args.arch, args.weights).train().to(args.device)
    h, w = parse_size(args.size)
    x = torch.rand(args.batch, in_channels(args.arch), h, w, device=args.device)
    classes = ARCHS[args.arch]["classes"]
    dense = args.arch in ("unet", "mrn")
    if dense:
        target = torch.rand(args.batch, classes, h, w) if classes == 1 else torch.randint(0, classes, (args.batch, h, w))
    else:
        target = torch.randint(0, classes, (args.batch,))
    target = target.to(args.device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def step():
        optimizer.zero_grad()
        out = model(x)
        loss = F.binary_cross_entropy_with_logits(out, target) if dense and classes == 1 else F.cross_entropy(out, target)
        loss.backward()
        optimizer.step()

    return {"images_per_second": timed(step, args.batch, args.seconds, args.device)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["weights", "forward", "train"])
    p.add_argument("--arch", required=True, choices=sorted(ARCHS))
    p.add_argument("--weights")
    p.add_argument("--out")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--size", default="64x64")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seconds", type=float, default=3)
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.mode == "weights":
        write_weights(args.arch, args.out)
        return
    result = forward(args) if args.mode == "forward" else train(args)
    result.update({"side": "pytorch", "mode": args.mode, "arch": args.arch, "batch": args.batch, "size": args.size,
                   "threads": torch.get_num_threads(), "device": args.device})
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())

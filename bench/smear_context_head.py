#!/usr/bin/env python3
"""Does a red cell's smear help classify it? A study on frozen features, not part of hemapath.

Loads a hemapath EfficientNet-B0 classifier (.hpm), takes the pooled features of every crop
(averaged over the 8 flips and quarter turns), and fits two linear heads on the training part of
the model's own split: one on the cell's features, one on the cell's features and the mean
features of all crops of its smear (stain, camera and the smear's own normal cells, which a
64 px crop cannot show). Both are scored on the split's validation part. Only the crops of the
split are read; use a model whose split is by smear so that validation smears are unseen.

  python3 bench/smear_context_head.py --model runs/rbc_grouped/calibrated.hpm \
      --crops runs/rbc_points/crops/train/labels.csv --split runs/rbc_grouped/split.csv

Needs Debian's python3-torch, python3-torchvision and python3-pil.
"""
import argparse
import csv
import io
import json
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image


def read_hpm(path):
    """Header and TorchScript archive of a model file (layout in include/hemapath/models/model_file.h)."""
    data = open(path, "rb").read()
    if data[:4] != b"HPM1":
        raise SystemExit(f"{path}: not a hemapath model file")
    header_bytes = struct.unpack("<Q", data[4:12])[0]
    header = json.loads(data[12:12 + header_bytes])
    at = 12 + header_bytes
    weight_bytes = struct.unpack("<Q", data[at:at + 8])[0]
    return header, torch.jit.load(io.BytesIO(data[at + 8:at + 8 + weight_bytes]))


def load_network(path):
    header, archive = read_hpm(path)
    if header.get("arch") != "efficientnet_b0" or header["input"]["crop"]["mode"] != "resize":
        raise SystemExit(f"{path}: expected an efficientnet_b0 classifier with resized crops")
    net = torchvision.models.efficientnet_b0(num_classes=len(header["classes"]))
    state = dict(archive.named_parameters())
    state.update(archive.named_buffers())
    net.load_state_dict({k: v.detach() for k, v in state.items()})
    return header, net.eval()


def features(header, net, paths, batch=256):
    """Pooled features and log-probabilities, each averaged over the 8 views."""
    norm = header["normalization"]
    mean = torch.tensor(norm["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(norm["std"]).view(1, 3, 1, 1)
    size = header["input"]["size"]
    feats, logps = [], []
    with torch.inference_mode():
        for start in range(0, len(paths), batch):
            images = [np.array(Image.open(p).convert("RGB")) for p in paths[start:start + batch]]
            x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255
            x = (F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False) - mean) / std
            f_sum, logp_sum = 0, 0
            for view in range(8):
                v = torch.rot90(x, view % 4, (2, 3))
                v = v.flip(3) if view >= 4 else v
                f = net.avgpool(net.features(v)).flatten(1)
                f_sum = f_sum + f / 8
                logp_sum = logp_sum + F.log_softmax(net.classifier(f), 1) / 8
            feats.append(f_sum)
            logps.append(logp_sum)
    return torch.cat(feats).numpy(), torch.cat(logps).numpy()


def macro_f1(truth, pred, num_classes):
    scores = []
    for c in range(num_classes):
        tp = np.sum((pred == c) & (truth == c))
        wrong = np.sum((pred == c) != (truth == c))
        if tp + wrong:
            scores.append(2 * tp / (2 * tp + wrong))
    return float(np.mean(scores))


def fit_linear(x, y, num_classes, l2):
    x, y = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    w = torch.zeros(x.shape[1], num_classes, requires_grad=True)
    b = torch.zeros(num_classes, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=300, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(x @ w + b, y) + l2 * (w ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return lambda z: torch.tensor(z, dtype=torch.float32) @ w.detach() + b.detach()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--crops", required=True, help="labels.csv of the crops: image,label,source")
    ap.add_argument("--split", required=True, help="the model's split.csv: image,label,part")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)

    header, net = load_network(args.model)
    classes = header["classes"]
    part_of = {os.path.basename(r["image"]): r["part"] for r in csv.DictReader(open(args.split))}
    base = os.path.dirname(args.crops)
    rows = [r for r in csv.DictReader(open(args.crops)) if part_of.get(r["image"]) in ("train", "val")]
    if not rows:
        raise SystemExit(f"{args.crops}: no crop is in the train or val part of {args.split}")
    part = np.array([part_of[r["image"]] for r in rows])
    label = np.array([classes.index(r["label"]) for r in rows])
    smear = np.array([r["source"] for r in rows])
    feat, logp = features(header, net, [os.path.join(base, r["image"]) for r in rows])

    smear_mean = np.zeros_like(feat)
    for s in np.unique(smear):
        smear_mean[smear == s] = feat[smear == s].mean(0)
    train, val = part == "train", part == "val"
    mu, sd = feat[train].mean(0), feat[train].std(0) + 1e-6
    inputs = {"cell": (feat - mu) / sd,
              "cell + smear mean": np.hstack([(feat - mu) / sd, (smear_mean - mu) / sd])}

    def report(name, pred):
        print(f"{name}: val accuracy {np.mean(pred == label[val]):.4f}, "
              f"macro-F1 {macro_f1(label[val], pred, len(classes)):.4f}", flush=True)

    report("network's own head", logp[val].argmax(1))
    # L2 by 5-fold cross-validation over the training part's smears, by loss.
    smears = np.unique(smear[train])
    np.random.RandomState(0).shuffle(smears)
    folds = np.array_split(smears, 5)
    correct = {}
    for name, x in inputs.items():
        best = None
        for l2 in (1e-4, 1e-3, 1e-2):
            losses = []
            for fold in folds:
                held = train & np.isin(smear, fold)
                head = fit_linear(x[train & ~held], label[train & ~held], len(classes), l2)
                losses.append(F.cross_entropy(head(x[held]), torch.tensor(label[held])).item())
            if best is None or np.mean(losses) < best[0]:
                best = (np.mean(losses), l2)
        head = fit_linear(x[train], label[train], len(classes), best[1])
        pred = head(x[val]).argmax(1).numpy()
        report(f"{name} (L2 {best[1]:g})", pred)
        correct[name] = pred == label[val]

    only_cell = np.sum(correct["cell"] & ~correct["cell + smear mean"])
    only_smear = np.sum(correct["cell + smear mean"] & ~correct["cell"])
    val_smears = np.unique(smear[val])
    rng = np.random.RandomState(1)
    diffs = []
    for _ in range(2000):
        picked = np.concatenate([np.where(smear[val] == s)[0] for s in rng.choice(val_smears, len(val_smears))])
        diffs.append(correct["cell + smear mean"][picked].mean() - correct["cell"][picked].mean())
    low, high = np.percentile(diffs, [2.5, 97.5])
    print(f"right only with the cell: {only_cell}, only with its smear: {only_smear}; accuracy difference "
          f"{np.mean(correct['cell + smear mean']) - np.mean(correct['cell']):+.4f} "
          f"(95% bootstrap over the {len(val_smears)} validation smears {low:+.4f} to {high:+.4f})")


if __name__ == "__main__":
    main()

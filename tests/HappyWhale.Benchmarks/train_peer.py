#!/usr/bin/env python3
"""The PyTorch peer of the training benchmark (bench_train.sh), written for it: the same model (torchvision
backbone, GeM, Linear+BatchNorm neck, ArcFace), the same batch augmentation, AdamW with the same warmup + cosine
step schedule, on the same prepared rows and labels that HappyWhale's run wrote to its JSON.

Usage: train_peer.py OURS_JSON OUT_JSON
Prints one line and writes {images_per_second, seconds, threads, torch, blas} to OUT_JSON.
"""
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


def blas_info():
    info = {"torch": torch.__version__, "torch_blas": "BLAS_INFO=" + ("generic" if "BLAS_INFO=generic" in torch.__config__.show() else "other")}
    try:
        from threadpoolctl import threadpool_info
        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        info["blas"] = [{k: p.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "filepath")} for p in pools]
    except ImportError:
        info["blas"] = "threadpoolctl not installed"
    return info


class Gem(nn.Module):
    def __init__(self, p, eps=1e-6):
        super().__init__()
        self.p, self.eps = p, eps

    def forward(self, x):
        return F.adaptive_avg_pool2d(x.clamp(min=self.eps).pow(self.p), 1).pow(1.0 / self.p)


class ArcFace(nn.Module):
    def __init__(self, dim, classes, s, m):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(classes, dim))
        nn.init.xavier_uniform_(self.weight)
        self.s, self.m = s, m

    def forward(self, e, labels):
        cos = F.linear(F.normalize(e, dim=1), F.normalize(self.weight, dim=1)).clamp(-1, 1)
        idx = labels.view(-1, 1)
        target = cos.gather(1, idx)
        sin = (1 - target * target).clamp(min=1e-12).sqrt()
        phi = target * math.cos(self.m) - sin * math.sin(self.m)
        th, mm = math.cos(math.pi - self.m), math.sin(math.pi - self.m) * self.m
        phi = torch.where(target > th, phi, target - mm)
        return cos.scatter(1, idx, phi) * self.s


class Model(nn.Module):
    def __init__(self, backbone, classes, p):
        super().__init__()
        if backbone.startswith("resnet"):
            full = getattr(torchvision.models, backbone)()
            self.backbone = nn.Sequential(full.conv1, full.bn1, full.relu, full.maxpool, full.layer1, full.layer2, full.layer3, full.layer4)
            features = full.fc.in_features
        else:
            full = getattr(torchvision.models, backbone)()
            self.backbone = full.features
            features = full.classifier[1].in_features
        self.pool = Gem(p["gem_p"])
        self.fc = nn.Linear(features, p["embedding_dim"])
        self.bn = nn.BatchNorm1d(p["embedding_dim"])
        self.head = ArcFace(p["embedding_dim"], classes, p["s"], p["m"])

    def forward(self, x):
        return self.bn(self.fc(self.pool(self.backbone(x)).flatten(1)))


MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def augment(x, a, g):
    """The trainer's batch augmentation for the keys the benchmarked experiments use (flip, rotation, zoom, shift)."""
    n = x.shape[0]
    uniform = lambda w: (torch.rand(n, generator=g) * 2 - 1) * w
    if a["hflip"] > 0:
        x = torch.where((torch.rand(n, generator=g) < a["hflip"]).view(n, 1, 1, 1), x.flip(3), x)
    if a["rotate_deg"] > 0 or a["scale"] > 0 or a["shift"] > 0:
        angle, zoom = uniform(a["rotate_deg"] * math.pi / 180), uniform(a["scale"]) + 1
        dx, dy = uniform(2 * a["shift"]), uniform(2 * a["shift"])
        cos, sin = angle.cos() / zoom, angle.sin() / zoom
        theta = torch.stack([torch.stack([cos, -sin, dx], 1), torch.stack([sin, cos, dy], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    for key in ("cutout", "brightness", "contrast", "saturation", "hue", "gray_p"):
        if a[key] > 0:
            raise SystemExit(f"train_peer.py: augmentation {key} is not implemented in the peer; benchmark an experiment without it")
    return x.clamp(0, 1)


def main():
    ours = json.load(open(sys.argv[1]))
    p = ours["peer"]
    torch.set_num_threads(ours["threads"])
    torch.manual_seed(p["seed"])
    shards = [np.load(path, mmap_mode="r") for path in p["shards"]]
    model = Model(ours["backbone"], ours["classes"], p)
    # train.memory_format as PyTorch spells it: channels-last weights and batches (oneDNN then runs NHWC throughout).
    layout = torch.channels_last if ours["memory_format"] == "channels_last" else torch.contiguous_format
    model = model.to(memory_format=layout)
    opt = torch.optim.AdamW(model.parameters(), lr=p["lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=p["weight_decay"])
    batch = ours["batch"]

    def run(rows):
        steps = len(rows) // batch
        warm = int(math.floor(p["warmup_share"] * steps))
        g = torch.Generator().manual_seed(p["seed"])
        order = torch.randperm(len(rows), generator=g).tolist()
        model.train()
        for s in range(steps):
            chosen = [rows[i] for i in order[s * batch:(s + 1) * batch]]
            pixels = np.stack([shards[sh][off] for sh, off, _ in chosen])
            labels = torch.tensor([label for _, _, label in chosen], dtype=torch.long)
            x = torch.from_numpy(pixels).permute(0, 3, 1, 2).float().div_(255).contiguous()
            x = ((augment(x, p["augment"], g) - MEAN) / STD).contiguous(memory_format=layout)
            lr = p["lr"] * (s + 1) / warm if s < warm else \
                p["lr"] * (p["min_lr"] + (1 - p["min_lr"]) * 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, steps - warm))))
            for group in opt.param_groups:
                group["lr"] = lr
            e = model(x)
            loss = F.cross_entropy(model.head(e, labels), labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if not math.isfinite(loss.item()):
                raise SystemExit(f"train_peer.py: loss became {loss.item()} at step {s}")

    run(p["warmup_rows"])
    start = time.perf_counter()
    run(p["rows"])
    seconds = time.perf_counter() - start
    result = {"images_per_second": len(p["rows"]) // batch * batch / seconds, "seconds": seconds, "threads": torch.get_num_threads(), **blas_info()}
    json.dump(result, open(sys.argv[2], "w"), indent=1)
    print(f"PyTorch {torch.__version__} {ours['backbone']} {ours['image_size']}px batch {batch} {ours['memory_format']}: {result['images_per_second']:.1f} img/s "
          f"({len(p['rows']) // batch} steps in {seconds:.1f} s, {torch.get_num_threads()} threads)")


if __name__ == "__main__":
    main()

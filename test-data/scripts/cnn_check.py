#!/usr/bin/python3
"""Sanity check that the phantom's sex signal is learnable from pixels: trains a small CNN with
PyTorch (Debian's python3-torch, CPU) on a generated set and reports test accuracy. A development
tool, not part of the package or CI; results are recorded in ../README.md.

    node test-data/dist/cli.js --region cervical --count 2000 --seed 60 --out /tmp/c-train --width 256
    node test-data/dist/cli.js --region cervical --count 400 --seed 61 --out /tmp/c-test --width 256
    /usr/bin/python3 test-data/scripts/cnn_check.py /tmp/c-train /tmp/c-test --size 128 --epochs 15
"""
import argparse
import csv
import os
import time

import numpy as np
import torch
import torch.nn as nn
from PIL import Image


def load(folder, width):
    rows = list(csv.DictReader(open(os.path.join(folder, 'labels.csv'))))
    xs, ys = [], []
    for r in rows:
        im = Image.open(os.path.join(folder, r['file'])).convert('L')
        h = round(im.height * width / im.width)
        xs.append(np.asarray(im.resize((width, h), Image.BOX), dtype=np.float32) / 255.0)
        ys.append(1 if r['sex'] == 'M' else 0)
    x = torch.tensor(np.stack(xs))[:, None] - 0.5
    return x, torch.tensor(ys)


def model():
    def block(i, o, stride=1):
        return [nn.Conv2d(i, o, 3, stride, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU()]
    return nn.Sequential(
        *block(1, 16, 2), *block(16, 32), nn.MaxPool2d(2),
        *block(32, 48), nn.MaxPool2d(2),
        *block(48, 64), nn.MaxPool2d(2),
        *block(64, 96), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(96, 2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('train')
    ap.add_argument('test')
    ap.add_argument('--size', type=int, default=128)
    ap.add_argument('--epochs', type=int, default=15)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--limit', type=int, default=0, help='use only the first N training films')
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    xtr, ytr = load(a.train, a.size)
    if a.limit:
        xtr, ytr = xtr[:a.limit], ytr[:a.limit]
    xte, yte = load(a.test, a.size)
    net = model()
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=a.epochs * ((len(xtr) + 31) // 32))
    t0 = time.time()
    for epoch in range(a.epochs):
        net.train()
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), 32):
            idx = perm[i:i + 32]
            xb = xtr[idx]
            if torch.rand(1).item() < 0.5:  # small random shifts as augmentation
                xb = torch.roll(xb, shifts=(int(torch.randint(-6, 7, (1,))), int(torch.randint(-6, 7, (1,)))), dims=(2, 3))
            loss = nn.functional.cross_entropy(net(xb), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        net.eval()
        with torch.no_grad():
            acc = (net(xte).argmax(1) == yte).float().mean().item()
        print(f'epoch {epoch + 1:3d}  loss {loss.item():.3f}  test acc {acc:.3f}  {time.time() - t0:.0f}s', flush=True)
    print(f'final test accuracy {acc:.3f} (train {len(xtr)}, test {len(xte)}, {a.size} px)')


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""PyTorch prototype of spine-cli's quick preset (a development aid, not a dependency): the same
network family, 64 px area-downsampled grey films replicated to 3 ImageNet-normalised channels,
the data layer's augmentation (rotation 5 deg, scale/shift 5%, brightness 5%, contrast 10%), SGD
with momentum 0.9 and weight decay 5e-4, MultiStepLR (gamma 0.2), best-validation checkpoint.
It screened the settings in packages/cli/README.md#quick-start ("How the preset was chosen");
those numbers came from this code on the 2-core development machine (PyTorch 1.13, one thread).

Films: the training pool is the first --pool-count films of --pool, shuffled per seed (Python's
random.Random(seed)) into --train and --val; the test films are those of --test after --test-skip,
never used to choose anything here. The screens used another phantom seed for the test films:

  node test-data/dist/cli.js --region cervical --count 3000 --seed 11 --out /tmp/c3000 --width 128
  # old preset on the committed 800 films (the first row of the table):
  /usr/bin/python3 packages/cli/scripts/quick_prototype.py --pool test-data/sample/cervical \\
      --pool-count 800 --train 560 --val 80 --epochs 20 --milestones 12,16 --test /tmp/c3000 --test-skip 2000
  # the preset (1400 films of seed 11's first 2000, 16 epochs, batch 32, lr 0.04, narrow):
  /usr/bin/python3 packages/cli/scripts/quick_prototype.py --pool /tmp/c3000 --pool-count 2000 \\
      --train 1400 --val 200 --epochs 16 --milestones 10,13 --batch 32 --lr 0.04 \\
      --channels 16,32,32,32,32 --test /tmp/c3000 --test-skip 2000
"""
import argparse, csv, math, random, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from PIL import Image

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def read_labels(folder):
    rows = list(csv.DictReader(open(f'{folder}/labels.csv')))
    return [r['file'] for r in rows], [0 if r['sex'] in ('F', 'female', '0') else 1 for r in rows]


def load(folder, files, size):
    xs = []
    for f in files:
        a = torch.from_numpy(np.asarray(Image.open(f'{folder}/{f}').convert('L'), dtype=np.float32) / 255.0)[None, None]
        xs.append(F.interpolate(a, size=(size, size), mode='area')[0, 0])
    return torch.stack(xs)


def normalise(x):
    return (x[:, None].expand(-1, 3, -1, -1) - MEAN) / STD


def augment(x, g, size):
    n = x.shape[0]
    u = lambda m: (torch.rand(n, generator=g) * 2 - 1) * m
    rot, sc, sx, sy, br, co = u(5) * math.pi / 180, 1 + u(0.05), u(0.05), u(0.05), u(0.05), 1 + u(0.1)
    cos, sin = torch.cos(rot) / sc, torch.sin(rot) / sc
    theta = torch.stack([torch.stack([cos, -sin, -sx * 2], 1), torch.stack([sin, cos, -sy * 2], 1)], 1)
    grid = F.affine_grid(theta, (n, 1, size, size), align_corners=False)
    y = F.grid_sample(x[:, None], grid, mode='bilinear', padding_mode='border', align_corners=False)[:, 0]
    m = y.mean((1, 2), keepdim=True)
    return ((y - m) * co.view(-1, 1, 1) + m + br.view(-1, 1, 1)).clamp(0, 1)


def network(a):
    """'seq': the quick preset's layout (conv1 k x k stride --conv1-stride, pools after conv1,
    conv2 and conv5, FC 64-64); 'gap': 3x3 convs with pools after conv2-4 and a global average pool."""
    def cbr(i, o, k, s, p):
        return [nn.Conv2d(i, o, k, s, p, bias=False), nn.BatchNorm2d(o), nn.ReLU()]
    ch = a.channels
    if a.arch == 'gap':
        f = nn.Sequential(*cbr(3, ch[0], 3, 2, 1), *cbr(ch[0], ch[1], 3, 1, 1), nn.MaxPool2d(2, 2), *cbr(ch[1], ch[2], 3, 1, 1), nn.MaxPool2d(2, 2),
                          *cbr(ch[2], ch[3], 3, 1, 1), nn.MaxPool2d(2, 2), *cbr(ch[3], ch[4], 3, 1, 1), nn.AdaptiveAvgPool2d(1))
        c = nn.Sequential(nn.Flatten(), nn.Linear(ch[4], 2))
    else:
        k = a.conv1_kernel
        f = nn.Sequential(*cbr(3, ch[0], k, a.conv1_stride, k // 2), nn.MaxPool2d(3, 2), *cbr(ch[0], ch[1], 3, 1, 1), nn.MaxPool2d(3, 2),
                          *cbr(ch[1], ch[2], 3, 1, 1), *cbr(ch[2], ch[3], 3, 1, 1), *cbr(ch[3], ch[4], 3, 1, 1), nn.MaxPool2d(3, 2))
        side = f(torch.zeros(1, 3, a.size, a.size)).shape[-1]
        c = nn.Sequential(nn.Flatten(), nn.Linear(ch[4] * side * side, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
    m = nn.Sequential(f, c)
    for mod in m.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            nn.init.normal_(mod.weight, 0, 0.1)
            if mod.bias is not None:
                nn.init.zeros_(mod.bias)
        if a.kaiming and isinstance(mod, nn.Linear):
            nn.init.kaiming_normal_(mod.weight, nonlinearity='relu')
    return m


def run(a, train, val, test, seed):
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    m = network(a)
    opt = torch.optim.SGD(m.parameters(), lr=a.lr, momentum=0.9, weight_decay=5e-4)
    sch = torch.optim.lr_scheduler.CosineAnnealingLR(opt, a.epochs) if a.cosine else torch.optim.lr_scheduler.MultiStepLR(opt, a.milestones, 0.2)

    def accuracy(d):
        m.eval()
        with torch.no_grad():
            return (m(normalise(d[0])).argmax(1) == d[1]).float().mean().item()

    best, state, t0 = -1.0, None, time.time()
    for _ in range(a.epochs):
        m.train()
        perm = torch.randperm(len(train[1]), generator=g)
        for i in range(0, len(perm), a.batch):
            idx = perm[i:i + a.batch]
            xb = train[0][idx] if a.no_augment else augment(train[0][idx], g, a.size)
            loss = F.cross_entropy(m(normalise(xb)), train[1][idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sch.step()
        va = accuracy(val)
        if va > best:
            best, state = va, {k: v.clone() for k, v in m.state_dict().items()}
    m.load_state_dict(state)
    return accuracy(test), best, time.time() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ints = lambda s: [int(v) for v in s.split(',')]
    p.add_argument('--pool', required=True)
    p.add_argument('--pool-count', type=int, required=True)
    p.add_argument('--train', type=int, required=True)
    p.add_argument('--val', type=int, required=True)
    p.add_argument('--test', required=True)
    p.add_argument('--test-skip', type=int, default=0)
    p.add_argument('--epochs', type=int, default=20)
    p.add_argument('--milestones', type=ints, default=None, help='default: 60%% and 80%% of --epochs')
    p.add_argument('--batch', type=int, default=16)
    p.add_argument('--lr', type=float, default=0.02)
    p.add_argument('--channels', type=ints, default=[16, 32, 48, 64, 64])
    p.add_argument('--arch', choices=['seq', 'gap'], default='seq')
    p.add_argument('--conv1-kernel', type=int, default=5)
    p.add_argument('--conv1-stride', type=int, default=2)
    p.add_argument('--size', type=int, default=64)
    p.add_argument('--no-augment', action='store_true')
    p.add_argument('--cosine', action='store_true')
    p.add_argument('--kaiming', action='store_true', help='Kaiming init for the FC layers')
    p.add_argument('--seeds', type=ints, default=[0, 1, 2])
    a = p.parse_args()
    if a.milestones is None:
        a.milestones = [int(a.epochs * 0.6), int(a.epochs * 0.8)]
    torch.set_num_threads(1)
    files, ys = read_labels(a.pool)
    X, Y = load(a.pool, files[:a.pool_count], a.size), torch.tensor(ys[:a.pool_count])
    tf, ty = read_labels(a.test)
    test = (load(a.test, tf[a.test_skip:], a.size), torch.tensor(ty[a.test_skip:]))
    for seed in a.seeds:
        idx = list(range(a.pool_count))
        random.Random(seed).shuffle(idx)
        tr, va = idx[:a.train], idx[a.train:a.train + a.val]
        acc, best, secs = run(a, (X[tr], Y[tr]), (X[va], Y[va]), test, seed)
        print(f'seed {seed}: test {acc:.3f} ({len(test[1])} films), best val {best:.3f}, {secs:.0f} s', flush=True)


if __name__ == '__main__':
    main()

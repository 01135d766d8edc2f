"""Shared helpers for the golden-fixture generators (run with Debian's /usr/bin/python3, torch 1.13).

A fixture is one JSON file in packages/nn/fixtures/golden/: {"torch": version, "cases": [...]},
each case a dict of named arrays stored as {"shape": [...], "data": [floats]} plus any plain
values. Inputs come from a seeded generator so a rerun writes identical files. Keep fixtures
small (a few hundred KB per file): CI reads them, it never runs PyTorch.
"""
import json
import os
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.normpath(os.path.join(HERE, '..', '..', 'fixtures', 'golden'))


def arr(t):
    t = t.detach().to(torch.float64).contiguous()
    return {'shape': list(t.shape), 'data': [float(v) for v in t.flatten().tolist()]}


def rand(gen, *shape, scale=1.0):
    """Seeded normal values (never zeros) as float32, like our tests' inputs."""
    return (torch.randn(*shape, generator=gen, dtype=torch.float64) * scale).to(torch.float32)


def write(name, cases):
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, name + '.json')
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump({'torch': torch.__version__, 'cases': cases}, f, separators=(',', ':'))
    os.replace(tmp, path)
    print('wrote', os.path.relpath(path), os.path.getsize(path), 'bytes')

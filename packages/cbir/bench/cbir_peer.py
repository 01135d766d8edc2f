#!/usr/bin/python3
"""The peer of packages/cbir/bench/cbir-bench.mjs: the same work done by the numpy/scipy port of
the reference MATLAB code (scripts/make-phog-golden.py) with Pillow for PNG I/O and resizing.

Usage: cbir_peer.py CASES.json -> prints {"label": rate, ...} (rate in the case's unit).
Each case: {"label", "kind": "phog"|"crop", "files": [...], "workingWidth": int|null,
            "refs": {"file": [w, h, x, y, rw, rh], ...} (crop only), "out": dir (crop only)}.
"""
import importlib.util
import json
import os
import sys
import time

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location('golden', os.path.join(HERE, '..', 'scripts', 'make-phog-golden.py'))
golden = importlib.util.module_from_spec(spec)
spec.loader.exec_module(golden)


def working(path, ww):
    im = Image.open(path).convert('L')
    if ww is not None and ww != im.width:
        im = im.resize((ww, max(1, round(im.height * ww / im.width))), Image.BOX)
    return im


def phog(im):
    G = np.asarray(im, dtype=np.uint8)
    h, w = G.shape
    return golden.anna_phog(G, 8, 360, 3, [1, h, 1, w])


def run_phog(case):
    planes = [working(f, case['workingWidth']) for f in case['files']]
    t = time.perf_counter()
    for p in planes:
        phog(p)
    return len(planes) / (time.perf_counter() - t)


def run_crop(case):
    refs = case['refs']
    names = sorted(refs)
    ref_desc = np.stack([phog(working(os.path.join(case['refDir'], n), case['workingWidth'])) for n in names])
    os.makedirs(case['out'], exist_ok=True)
    t = time.perf_counter()
    for f in case['files']:
        im = Image.open(f).convert('L')
        small = im.resize((case['workingWidth'], max(1, round(im.height * case['workingWidth'] / im.width))), Image.BOX) if case['workingWidth'] else im
        d = phog(small)
        k = int(np.argmin(np.sqrt(((ref_desc - d) ** 2).sum(axis=1))))
        w, h, x, y, rw, rh = refs[names[k]]
        cx = (x + rw / 2) * im.width / w
        cy = (y + rh / 2) * im.height / h
        side = round(case['side'] * im.width / case['atWidth'])
        bx, by = round(cx - side / 2), round(cy - side / 2)
        im.crop((bx, by, bx + side, by + side)).save(os.path.join(case['out'], os.path.basename(f)), compress_level=1)
    return len(case['files']) / (time.perf_counter() - t)


def main():
    cases = json.load(open(sys.argv[1]))
    out = {}
    for c in cases:
        out[c['label']] = run_phog(c) if c['kind'] == 'phog' else run_crop(c)
        print(f"peer {c['label']}: {out[c['label']]:.3f}", file=sys.stderr)
    print(json.dumps(out))


if __name__ == '__main__':
    main()

"""Writes fixtures/densenet/keys.json: torchvision 0.14's DenseNet state-dict keys and shapes.

Run with Debian's /usr/bin/python3 (torch 1.13, torchvision 0.14). DenseNet-121 is stored in full
(key, shape, in state_dict order); DenseNet-169/201 as their entry count, parameter count and
the SHA-256 of the same "key shape" lines joined with newlines, so the fixture stays small.
CI only reads the JSON.
"""
import hashlib
import json
import os

import torch
import torchvision

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'densenet', 'keys.json')


def lines(model):
    return [f"{k} {','.join(str(d) for d in v.shape)}" for k, v in model.state_dict().items()]


def main():
    out = {'torch': torch.__version__, 'torchvision': torchvision.__version__, 'models': {}}
    for name in ('densenet121', 'densenet169', 'densenet201'):
        m = getattr(torchvision.models, name)(weights=None)
        ls = lines(m)
        entry = {
            'entries': len(ls),
            'parameters': sum(p.numel() for p in m.parameters()),
            'sha256': hashlib.sha256('\n'.join(ls).encode()).hexdigest(),
        }
        if name == 'densenet121':
            entry['lines'] = ls
        out['models'][name] = entry
    path = os.path.normpath(OUT)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(out, f, indent=0)
        f.write('\n')
    os.replace(tmp, path)
    print('wrote', os.path.relpath(path), os.path.getsize(path), 'bytes')


if __name__ == '__main__':
    main()

"""Write tiny DenseNet checkpoints with torch.save for the weights tests (import, inspect, fetch).

Run with Debian's PyTorch 1.13:  /usr/bin/python3 packages/models/scripts/make-weights-files.py
Writes packages/models/fixtures/weights/*.pth and expected.json. CI only reads the committed files.

The network is torchvision's own DenseNet class at a tiny size (growth 4, blocks (1, 2), 8 initial
features, bn_size 2, 3 classes: about 3,000 parameters), so the keys and the layout are exactly
those of densenet121 while the files stay a few kB. Files:
  tiny.zip.pth             the state dict, zip format (torch >= 1.6), current key names
  tiny-legacy-names.legacy.pth
                           the same tensors in the legacy format (_use_new_zipfile_serialization=False)
                           under the old names torchvision's 2017 checkpoints use ('norm.1', 'conv.2'),
                           without num_batches_tracked, like densenet121-a639ec97.pth
  tiny-wrapped.zip.pth     {'epoch', 'arch', 'state_dict': ...} as training scripts save it
  tiny-other-depth.zip.pth a DenseNet with blocks (1, 1): keys that do not fit the tiny network
  tiny-with-args.zip.pth   {'state_dict': ..., 'args': argparse.Namespace(...)}: a pickle global
                           outside the allow-list, which must be refused (nothing is executed)
expected.json holds every tensor of the state dict (current names, as torch.load reads them), a
seeded input image, and the network's eval-mode pooled features and logits for it.
"""
import argparse
import collections
import json
import os
import re

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, '..', 'fixtures', 'weights'))
TINY = dict(growth_rate=4, block_config=(1, 2), num_init_features=8, bn_size=2, num_classes=3)


def trained_like(net, seed):
    """Distinctive BN affine values and moved running stats (defaults 1/0 would hide mixed-up keys)."""
    torch.manual_seed(seed)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            torch.nn.init.uniform_(m.weight, 0.5, 1.5)
            torch.nn.init.normal_(m.bias, 0, 0.1)
    net.train()
    with torch.no_grad():
        for _ in range(2):
            net(torch.randn(2, 3, 32, 32))
    return net


def legacy_names(sd):
    """Inverse of torchvision's remap: denselayerN.norm1.weight -> denselayerN.norm.1.weight."""
    out = collections.OrderedDict()
    for k, v in sd.items():
        if k.endswith('num_batches_tracked'):
            continue  # pre-0.4 checkpoints have none
        out[re.sub(r'(denselayer\d+\.(?:norm|relu|conv))((?:1|2)\.(?:weight|bias|running_mean|running_var))$', r'\1.\2', k)] = v
    return out


def values(t):
    return t.detach().float().contiguous().flatten().tolist() if t.dtype.is_floating_point else [int(v) for v in t.flatten().tolist()]


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    net = trained_like(torchvision.models.DenseNet(**TINY), 1)
    sd = net.state_dict()

    torch.save(sd, os.path.join(OUT, 'tiny.zip.pth'))
    torch.save(legacy_names(sd), os.path.join(OUT, 'tiny-legacy-names.legacy.pth'), _use_new_zipfile_serialization=False)
    torch.save({'epoch': 3, 'arch': 'tiny-densenet', 'state_dict': sd}, os.path.join(OUT, 'tiny-wrapped.zip.pth'))
    other = trained_like(torchvision.models.DenseNet(**{**TINY, 'block_config': (1, 1)}), 2)
    torch.save(other.state_dict(), os.path.join(OUT, 'tiny-other-depth.zip.pth'))
    torch.save({'state_dict': sd, 'args': argparse.Namespace(lr=0.001, epochs=60)}, os.path.join(OUT, 'tiny-with-args.zip.pth'))

    # What the files must read back as (checked against torch.load itself).
    loaded = torch.load(os.path.join(OUT, 'tiny-legacy-names.legacy.pth'))
    assert list(loaded.keys()) == list(legacy_names(sd).keys())

    g = torch.Generator().manual_seed(5)
    x = torch.rand(1, 3, 32, 32, generator=g)
    net.eval()
    with torch.no_grad():
        f = torch.nn.functional.relu(net.features(x))
        pooled = torch.flatten(torch.nn.functional.adaptive_avg_pool2d(f, (1, 1)), 1)
        logits = net(x)
    expected = {
        'torch': torch.__version__,
        'torchvision': torchvision.__version__,
        'config': {'growthRate': 4, 'blockConfig': [1, 2], 'numInitFeatures': 8, 'bnSize': 2, 'numClasses': 3},
        'tensors': collections.OrderedDict((k, {'dtype': str(v.dtype).replace('torch.', ''), 'shape': list(v.shape), 'data': values(v)}) for k, v in sd.items()),
        'parameterCount': sum(p.numel() for p in net.parameters()),
        'otherDepthParameterCount': sum(p.numel() for p in other.parameters()),
        'input': {'shape': list(x.shape), 'data': values(x)},
        'pooledFeatures': values(pooled),
        'logits': values(logits),
    }
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(expected, f, separators=(',', ':'))
    for n in sorted(os.listdir(OUT)):
        print(f'{n:36s} {os.path.getsize(os.path.join(OUT, n)):8d}')


if __name__ == '__main__':
    main()

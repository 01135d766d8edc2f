"""Write full-size torchvision ResNet checkpoints with torch.save, an input and their logits.

Usage: /usr/bin/python3 packages/models/scripts/make-resnet-checkpoint.py OUTDIR [ARCH ...]
(ARCH: resnet18, resnet34, resnet50; default resnet18 resnet50). For each ARCH writes
OUTDIR/ARCH.pth (the state dict, torch.save's zip format, ~45-100 MB) and OUTDIR/ARCH.json with a
seeded input (batch 2, 3 x 224 x 224) and torchvision's eval-mode logits for it, float32.

Too big to commit, so packages/cli/test/weights-resnet.test.ts runs this at test time where
PyTorch 1.13 and torchvision are installed and passes each file through `spine-cli weights
import`. Weights are torchvision's own initialisation under a fixed seed; the BatchNorm affine
parameters and running statistics are moved off their defaults (a few train-mode batches), so
every tensor of the file matters to the logits.
"""
import json
import os
import sys

import torch
import torchvision


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    archs = sys.argv[2:] or ['resnet18', 'resnet50']
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(2)
    for i, arch in enumerate(archs):
        torch.manual_seed(100 + i)
        net = getattr(torchvision.models, arch)(weights=None)
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                torch.nn.init.uniform_(m.weight, 0.5, 1.5)
                torch.nn.init.normal_(m.bias, 0, 0.1)
        net.train()
        with torch.no_grad():
            for _ in range(2):
                net(torch.randn(4, 3, 64, 64))
        net.eval()
        torch.save(net.state_dict(), os.path.join(out, f'{arch}.pth'))
        x = torch.rand(2, 3, 224, 224, generator=torch.Generator().manual_seed(7))
        with torch.no_grad():
            logits = net(x)
        with open(os.path.join(out, f'{arch}.json'), 'w') as f:
            json.dump({'arch': arch, 'parameterCount': sum(p.numel() for p in net.parameters()), 'input': {'shape': list(x.shape), 'data': x.flatten().tolist()}, 'logits': {'shape': list(logits.shape), 'data': logits.flatten().tolist()}}, f)


if __name__ == '__main__':
    main()

"""Writes fixtures/resnet/: parity goldens for ResNet-18/50 and the U-Net, torchvision's ResNet keys
and module trees, and tiny torch.save checkpoints for the `weights import` tests.

Run with Debian's /usr/bin/python3 (torch 1.13, torchvision 0.14) from anywhere. CI only reads
the files; the tests compute the same on our engine and compare.

golden.json: nothing random. Weights, running statistics, input and upstream gradient come from
the closed formulas of make-densenet-golden.py (imported from it: a lowbias32 hash per state-dict
entry, conv/linear weights u * sqrt(6 / fan_in), BN weight 1 + 0.25 u, ...), so only results are
stored. For each network the sequence is the DenseNet one: train-mode forward, backward of
sum(out * upstream), eval-mode forward, in float32 and in float64; the file keeps both outputs
(float32, PyTorch's default) and, for a few parameters, float64 gradient summaries with PyTorch's
own float32 spread from float64 (see make-densenet-golden.py for why).
  resnet18   torchvision.models.resnet18, batch 2 at 224 px
  resnet50   torchvision.models.resnet50, batch 2 at 224 px (outputs only: its gradients run
             through the same blocks as resnet18's)
  unet       the U-Net below (in_channels 1, out_channels 2, base 8, depth 3), batch 2 at 32 px

keys.json: resnet18/34/50 state-dict "key shape" lines (resnet18 and resnet50 in full, resnet34 as
count + SHA-256), parameter counts, and resnet18's and resnet50's named_modules() as (path, class).

tiny-*.pth: torchvision's own BasicBlock / Bottleneck and ResNet._make_layer at narrow widths
(NarrowResNet below: the stage widths torchvision fixes at 64..512 made small), so keys and
layout are torchvision's while the files stay a few kB. BN affine values and running statistics
are moved off their defaults. tiny.json holds each file's parameter count, a seeded input and
its eval-mode logits.
"""
import hashlib
import importlib.util
import json
import os

import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, '..', 'fixtures', 'resnet'))

_spec = importlib.util.spec_from_file_location('densenet_golden', os.path.join(HERE, 'make-densenet-golden.py'))
dg = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dg)

import numpy as np  # noqa: E402


class DoubleConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)

    def forward(self, x):
        return torch.relu(self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))


class UpStage(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cin // 2, 2, stride=2)
        self.conv = DoubleConv(cin, cin // 2)

    def forward(self, x, skip):
        return self.conv(torch.cat([skip, self.up(x)], 1))


class UNet(nn.Module):
    """The architecture of packages/models/src/models/unet.ts."""

    def __init__(self, in_channels, out_channels, base, depth):
        super().__init__()
        self.encoder = nn.Sequential(DoubleConv(in_channels, base), *[DoubleConv(base * 2 ** (i - 1), base * 2 ** i) for i in range(1, depth + 1)])
        self.decoder = nn.Sequential(*[UpStage(base * 2 ** (depth - j)) for j in range(depth)])
        self.head = nn.Conv2d(base, out_channels, 1)

    def forward(self, x):
        skips = []
        y = self.encoder[0](x)
        for enc in list(self.encoder)[1:]:
            skips.append(y)
            y = enc(torch.nn.functional.max_pool2d(y, 2))
        for dec in self.decoder:
            y = dec(y, skips.pop())
        return self.head(y)


class NarrowResNet(ResNet):
    """torchvision's ResNet with stage widths other than (64, 128, 256, 512)."""

    def __init__(self, block, layers, widths, num_classes):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = widths[0]
        self.dilation = 1
        self.groups = 1
        self.base_width = 64
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, widths[0], layers[0])
        self.layer2 = self._make_layer(block, widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(block, widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(block, widths[3], layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3] * block.expansion, num_classes)


RESNET18_GRADS = ['conv1.weight', 'bn1.weight', 'layer1.0.conv1.weight', 'layer2.0.downsample.0.weight', 'layer2.0.downsample.1.bias', 'layer3.1.bn2.bias', 'layer4.1.conv2.weight', 'fc.weight', 'fc.bias']
RESNET18_RUNNING = ['bn1.running_mean', 'layer2.0.downsample.1.running_var', 'layer4.1.bn2.running_var']
UNET_GRADS = ['encoder.0.conv1.weight', 'encoder.3.bn2.weight', 'decoder.0.up.weight', 'decoder.0.up.bias', 'decoder.2.conv.conv2.weight', 'head.weight', 'head.bias']
UNET_RUNNING = ['encoder.0.bn1.running_mean', 'decoder.2.conv.bn2.running_var']


def formula_input(batch, channels, size):
    n, c, h, w = np.meshgrid(np.arange(batch), np.arange(channels), np.arange(size), np.arange(size), indexing='ij')
    flat = np.arange(batch * channels * size * size, dtype=np.float64).reshape(n.shape)
    x = np.sin(0.05 * h * (c + 1) + 0.07 * w + 1.1 * n) + 0.3 * np.sin(0.9 * flat + 0.5)
    return torch.from_numpy(x.astype(np.float32))


def load_formula(model):
    state = model.state_dict()
    new_state = {}
    for t, (key, value) in enumerate(state.items()):
        v = dg.formula_value(t, key, tuple(value.shape))
        new_state[key] = value if v is None else v
    model.load_state_dict(new_state)


def step(make, x, dtype, grad_keys, running_keys):
    model = make()
    load_formula(model)
    model = model.to(dtype)
    x = x.to(dtype)
    model.train()
    y_train = model(x)
    (y_train * dg.upstream(y_train.numel()).reshape(y_train.shape).to(dtype)).sum().backward()
    params = dict(model.named_parameters())
    grads = {k: params[k].grad.detach().clone() for k in grad_keys}
    after = model.state_dict()
    running = {k: after[k].detach().clone() for k in running_keys}
    model.eval()
    with torch.no_grad():
        y_eval = model(x)
    return y_train.detach(), grads, running, y_eval


def golden(make, batch, channels, size, grad_keys, running_keys):
    x = formula_input(batch, channels, size)
    y32, g32, _, e32 = step(make, x, torch.float32, grad_keys, running_keys)
    y64, g64, r64, e64 = step(make, x, torch.float64, grad_keys, running_keys)
    flat = lambda t: [dg.g8(v) for v in t.flatten().tolist()]  # noqa: E731
    return {
        'batch': batch,
        'channels': channels,
        'size': size,
        'out_train': {'shape': list(y32.shape), 'data': flat(y32)},
        'out_eval': {'shape': list(e32.shape), 'data': flat(e32)},
        'grads': {k: {**dg.summary(g64[k]), 'f32Spread': dg.spread(g32[k], g64[k])} for k in grad_keys},
        'running_after': {k: dg.summary(r64[k]) for k in running_keys},
        'out_f32_vs_f64': {'train': dg.spread(y32, y64), 'eval': dg.spread(e32, e64)},
    }


def key_lines(model):
    return [f"{k} {','.join(str(d) for d in v.shape)}" for k, v in model.state_dict().items()]


def keys_fixture():
    out = {'torch': torch.__version__, 'torchvision': torchvision.__version__, 'models': {}}
    for name in ('resnet18', 'resnet34', 'resnet50'):
        m = getattr(torchvision.models, name)(weights=None)
        ls = key_lines(m)
        entry = {'entries': len(ls), 'parameters': sum(p.numel() for p in m.parameters()), 'sha256': hashlib.sha256('\n'.join(ls).encode()).hexdigest()}
        if name != 'resnet34':
            entry['lines'] = ls
            entry['modules'] = [[path, type(mod).__name__] for path, mod in m.named_modules()]
        out['models'][name] = entry
    return out


def trained_like(net, seed):
    torch.manual_seed(seed)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.normal_(m.bias, 0, 0.1)
    net.train()
    with torch.no_grad():
        for _ in range(2):
            net(torch.randn(2, 3, 32, 32))
    return net.eval()


TINY = {
    'tiny-resnet-basic': {'block': 'basic', 'layers': [1, 1, 1, 1], 'widths': [8, 8, 16, 16], 'numClasses': 3},
    'tiny-resnet-bottleneck': {'block': 'bottleneck', 'layers': [1, 2, 1, 1], 'widths': [4, 8, 8, 16], 'numClasses': 3},
}


def tiny_files():
    out = {}
    g = torch.Generator().manual_seed(5)
    x = torch.rand(2, 3, 32, 32, generator=g)
    for i, (name, c) in enumerate(TINY.items()):
        torch.manual_seed(10 + i)
        block = BasicBlock if c['block'] == 'basic' else Bottleneck
        net = trained_like(NarrowResNet(block, c['layers'], c['widths'], c['numClasses']), 20 + i)
        path = os.path.join(OUT, f'{name}.pth')
        torch.save(net.state_dict(), path)
        with torch.no_grad():
            logits = net(x)
        out[name] = {'config': c, 'parameterCount': sum(p.numel() for p in net.parameters()), 'keys': list(net.state_dict().keys()), 'logits': {'shape': list(logits.shape), 'data': [dg.g8(v) for v in logits.flatten().tolist()]}}
    return {'torch': torch.__version__, 'torchvision': torchvision.__version__, 'input': {'shape': list(x.shape), 'data': x.flatten().tolist()}, 'files': out}


def write_json(name, obj, indent=None):
    path = os.path.join(OUT, name)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(obj, f, separators=None if indent is not None else (',', ':'), indent=indent)
        f.write('\n')
    os.replace(tmp, path)
    print('wrote', os.path.relpath(path), os.path.getsize(path), 'bytes')


def main():
    torch.set_num_threads(2)
    os.makedirs(OUT, exist_ok=True)
    write_json('keys.json', keys_fixture(), indent=0)
    write_json('tiny.json', tiny_files())
    g = {'torch': torch.__version__, 'torchvision': torchvision.__version__}
    g['resnet18'] = golden(lambda: torchvision.models.resnet18(weights=None), 2, 3, 224, RESNET18_GRADS, RESNET18_RUNNING)
    g['resnet50'] = golden(lambda: torchvision.models.resnet50(weights=None), 2, 3, 224, [], [])
    g['unet'] = golden(lambda: UNet(1, 2, 8, 3), 2, 1, 32, UNET_GRADS, UNET_RUNNING)
    g['unet']['config'] = {'inChannels': 1, 'outChannels': 2, 'base': 8, 'depth': 3}
    write_json('golden.json', g)
    for name in ('resnet18', 'resnet50', 'unet'):
        e = g[name]
        print(f"{name}: out f32 vs f64 train {e['out_f32_vs_f64']['train']['maxRel']:.1e} eval {e['out_f32_vs_f64']['eval']['maxRel']:.1e}")
        for k, v in e['grads'].items():
            print(f"  {k:40s} float32 vs float64: max {v['f32Spread']['maxRel']:.1e}")


if __name__ == '__main__':
    main()

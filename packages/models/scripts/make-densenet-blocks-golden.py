"""Writes fixtures/densenet/golden-blocks.json: torchvision 0.14's _DenseBlock and _Transition.

Run with Debian's /usr/bin/python3 (torch 1.13, torchvision 0.14) from anywhere. CI only reads the
JSON; test/models/densenet-blocks.test.ts builds the same blocks (DenseLayer inside DenseBlock,
then Transition) and compares, in the plain and the memory-efficient mode.

A dense block of two layers (8 input channels, growth 4, bottleneck 2x) then a transition 16 -> 8,
its state dict set to seeded values (running variances positive, BatchNorm weights near 1).
Recorded: the state-dict keys in order, the state, the input and upstream gradient, a train-mode
forward, the input's and every parameter's gradient, the running statistics after that step, and
an eval-mode forward of the same input.
"""
import json
import os

import torch
from torchvision.models.densenet import _DenseBlock, _Transition

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'densenet', 'golden-blocks.json'))


def arr(t):
    t = t.detach().to(torch.float64).contiguous()
    return {'shape': list(t.shape), 'data': [float(v) for v in t.flatten().tolist()]}


def rand(gen, *shape, scale=1.0):
    return (torch.randn(*shape, generator=gen, dtype=torch.float64) * scale).to(torch.float32)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(23)
    net = torch.nn.Sequential(
        _DenseBlock(num_layers=2, num_input_features=8, bn_size=2, growth_rate=4, drop_rate=0.0),
        _Transition(num_input_features=16, num_output_features=8),
    )
    with torch.no_grad():
        for k, v in net.state_dict().items():
            if k.endswith('num_batches_tracked'):
                continue
            if k.endswith('running_var'):
                v.copy_(rand(g, *v.shape).abs() + 0.5)
            elif 'norm' in k and k.endswith('weight'):
                v.copy_(rand(g, *v.shape, scale=0.5) + 1.0)
            else:
                v.copy_(rand(g, *v.shape, scale=0.5))
    keys = list(net.state_dict().keys())
    state = {k: arr(v) for k, v in net.state_dict().items() if not k.endswith('num_batches_tracked')}
    x = rand(g, 2, 8, 9, 11).requires_grad_(True)
    up = rand(g, 2, 8, 4, 5)
    net.train()
    y = net(x)
    (y * up).sum().backward()
    grads = {k: arr(p.grad) for k, p in net.named_parameters()}
    after = {k: arr(v) for k, v in net.state_dict().items() if 'running' in k}
    net.eval()
    with torch.no_grad():
        y_eval = net(x)
    out = {'torch': torch.__version__, 'keys': keys, 'state': state, 'x': arr(x), 'up': arr(up), 'y': arr(y), 'dx': arr(x.grad),
           'grads': grads, 'running_after': after, 'y_eval': arr(y_eval)}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    tmp = OUT + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(out, f, separators=(',', ':'))
        f.write('\n')
    os.replace(tmp, OUT)
    print('wrote', os.path.relpath(OUT), os.path.getsize(OUT), 'bytes')


if __name__ == '__main__':
    main()

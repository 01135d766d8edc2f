"""Writes fixtures/densenet/golden-densenet121.json: torchvision 0.14's DenseNet-121 at 224 px.

Run with Debian's /usr/bin/python3 (torch 1.13, torchvision 0.14) from anywhere. CI only reads the
JSON; test/models/densenet-parity.test.ts computes the same on our engine and compares.

Nothing here is random: weights, BatchNorm running statistics, the input and the upstream gradient
all come from closed formulas that the test evaluates too (in float64, rounded to float32), so the
fixture holds only results (a few kilobytes):

  h(t, i) = lowbias32((i * 0x9E3779B1 + t * 0x85EBCA77) mod 2^32)   an integer hash, bit-exact on
            both sides (t: the entry's position in state_dict order, i: flat index)
  u(t, i) = 2 h / 2^32 - 1                  uniform in [-1, 1), variance 1/3
  conv / linear weight   u * sqrt(6 / fan_in)    (variance 2 / fan_in, kaiming's, so activations stay O(1))
  BN weight 1 + 0.25 u, BN bias 0.1 u, running_mean 0.1 u, running_var 1 + 0.5 u, classifier bias 0.1 u
  num_batches_tracked stays 0
(A hash rather than sin(a i + b): smooth weights correlate with the smooth input and with each
other, and the eval-mode activations, which no batch statistics renormalise, then blow up.)
  x[n, c, h, w] = sin(0.05 h (c + 1) + 0.07 w + 1.1 n) + 0.3 sin(0.9 i + 0.5)   (i: flat index)
  upstream gradient of the logits: cos(0.37 i + 0.2), i.e. loss = sum(logits * that)

Sequence (the test repeats it): train mode forward of the batch, loss.backward(), then eval mode
forward of the same batch (with the running statistics the train step just moved).
Recorded: both logit tensors in full (float32, PyTorch's default); for a few parameters the
gradient's sum, sum of |g|, L2 norm, largest |g| and entries at 8 spread flat indices, and a few
running statistics after the step likewise, all from the same sequence run in float64, which is
the reference the gradients are held to.

Why float64 and a recorded spread for gradients: the sequence is run in float32 and in float64,
and for every recorded gradient the fixture keeps how far PyTorch's own float32 result lies from
float64 (f32Spread). At 224 px a float32 forward moves some of the ~10^7 ReLU inputs across
zero, and each flipped mask reroutes a gradient element; below the last dense block that puts
PyTorch's float32 gradients 0.3-1% (max entry / max |g|) away from float64, while logits agree
to 1e-6 and the top layers' gradients to 1e-5. The discontinuity is real, not rounding noise:
in float64, scaling the input by 1 + 1e-7 moved the stem's gradients (conv0, norm0, transition2)
by up to 8e-4 of their largest entry. The test holds ours to 1e-3 where float32 is reproducible
to that and to 3x PyTorch's own float32 spread where it is not.
"""
import json
import math
import os

import numpy as np
import torch
import torchvision

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'densenet', 'golden-densenet121.json'))
BATCH = 2
SIZE = 224

GRAD_PARAMS = [
    'features.conv0.weight',
    'features.norm0.weight',
    'features.denseblock1.denselayer1.norm1.bias',
    'features.denseblock2.denselayer7.conv2.weight',
    'features.transition2.conv.weight',
    'features.denseblock3.denselayer12.norm1.weight',
    'features.denseblock3.denselayer12.conv1.weight',
    'features.denseblock4.denselayer16.conv2.weight',
    'features.norm5.weight',
    'features.norm5.bias',
    'classifier.weight',
    'classifier.bias',
]
RUNNING = [
    'features.norm0.running_mean',
    'features.denseblock3.denselayer12.norm1.running_var',
    'features.norm5.running_mean',
    'features.norm5.running_var',
]


def lowbias32(h):
    # Chris Wellons' lowbias32 on uint32 arrays (numpy wraps products modulo 2^32).
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x7FEB352D)
    h = h ^ (h >> np.uint32(15))
    h = h * np.uint32(0x846CA68B)
    return h ^ (h >> np.uint32(16))


def u(t, n):
    i = np.arange(n, dtype=np.uint32)
    h = lowbias32(i * np.uint32(0x9E3779B1) + np.uint32((t * 0x85EBCA77) % 2**32))
    return 2 * (h.astype(np.float64) / 2**32) - 1


def formula_value(t, key, shape):
    n = int(np.prod(shape)) if len(shape) else 1
    s = u(t, n)
    if key.endswith('num_batches_tracked'):
        return None
    if key.endswith('running_mean'):
        v = 0.1 * s
    elif key.endswith('running_var'):
        v = 1 + 0.5 * s
    elif key.endswith('weight') and len(shape) >= 2:
        fan_in = int(np.prod(shape[1:]))
        v = s * math.sqrt(6 / fan_in)
    elif key.endswith('weight'):
        v = 1 + 0.25 * s
    else:  # BN bias, classifier bias
        v = 0.1 * s
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


def formula_input():
    n, c, h, w = np.meshgrid(np.arange(BATCH), np.arange(3), np.arange(SIZE), np.arange(SIZE), indexing='ij')
    flat = np.arange(BATCH * 3 * SIZE * SIZE, dtype=np.float64).reshape(n.shape)
    x = np.sin(0.05 * h * (c + 1) + 0.07 * w + 1.1 * n) + 0.3 * np.sin(0.9 * flat + 0.5)
    return torch.from_numpy(x.astype(np.float32))


def upstream(n):
    return torch.from_numpy(np.cos(0.37 * np.arange(n, dtype=np.float64) + 0.2).astype(np.float32))


def g8(v):
    return float(f'{float(v):.9g}')


def summary(t):
    d = t.detach().to(torch.float64).flatten()
    n = d.numel()
    idx = [int(k * (n - 1) // 7) for k in range(8)]
    return {
        'shape': list(t.shape),
        'sum': g8(d.sum()),
        'sumAbs': g8(d.abs().sum()),
        'l2': g8(d.norm()),
        'maxAbs': g8(d.abs().max()),
        'at': idx,
        'values': [g8(d[i]) for i in idx],
    }


def step(dtype):
    """The sequence in `dtype`: train forward, backward, eval forward."""
    model = torchvision.models.densenet121(weights=None)
    state = model.state_dict()
    new_state = {}
    for t, (key, value) in enumerate(state.items()):
        v = formula_value(t, key, tuple(value.shape))
        new_state[key] = value if v is None else v
    model.load_state_dict(new_state)
    model = model.to(dtype)
    x = formula_input().to(dtype)
    model.train()
    y_train = model(x)
    loss = (y_train * upstream(y_train.numel()).reshape(y_train.shape).to(dtype)).sum()
    loss.backward()
    params = dict(model.named_parameters())
    grads = {k: params[k].grad.detach().clone() for k in GRAD_PARAMS}
    after = model.state_dict()
    running = {k: after[k].detach().clone() for k in RUNNING}
    model.eval()
    with torch.no_grad():
        y_eval = model(x)
    return y_train.detach(), grads, running, y_eval


def spread(a, b):
    """How far float32 (a) lies from float64 (b): max |a - b| / max |b| and the L2 ratio."""
    a, b = a.to(torch.float64), b.to(torch.float64)
    return {'maxRel': g8((a - b).abs().max() / b.abs().max()), 'l2Rel': g8((a - b).norm() / b.norm())}


def main():
    torch.set_num_threads(2)
    y32, g32, r32, e32 = step(torch.float32)
    y64, g64, r64, e64 = step(torch.float64)
    out = {
        'torch': torch.__version__,
        'torchvision': torchvision.__version__,
        'batch': BATCH,
        'size': SIZE,
        'logits_train': {'shape': list(y32.shape), 'data': [g8(v) for v in y32.flatten().tolist()]},
        'logits_eval': {'shape': list(e32.shape), 'data': [g8(v) for v in e32.flatten().tolist()]},
        'grads': {k: {**summary(g64[k]), 'f32Spread': spread(g32[k], g64[k])} for k in GRAD_PARAMS},
        'running_after': {k: summary(r64[k]) for k in RUNNING},
        'logits_f32_vs_f64': {'train': spread(y32, y64), 'eval': spread(e32, e64)},
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    tmp = OUT + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(out, f, separators=(',', ':'))
        f.write('\n')
    os.replace(tmp, OUT)
    print('wrote', os.path.relpath(OUT), os.path.getsize(OUT), 'bytes')
    print('logits train: min %.3f max %.3f; eval: min %.3f max %.3f' % (y32.min(), y32.max(), e32.min(), e32.max()))
    for k in GRAD_PARAMS:
        sp = out['grads'][k]['f32Spread']
        print('%-50s float32 vs float64: max %.1e, L2 %.1e' % (k, sp['maxRel'], sp['l2Rel']))


if __name__ == '__main__':
    main()

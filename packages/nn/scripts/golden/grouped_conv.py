"""Grouped and depthwise conv2d against PyTorch in float64 (fixtures/golden/grouped_conv.json):
outputs and the gradients of input, weight and bias for a random upstream gradient."""
import torch
import torch.nn.functional as F
from common import arr, rand, write

g = torch.Generator().manual_seed(2408)
cases = []
for xs, ws, groups, stride, padding, dilation, bias in [
    ((2, 4, 5, 5), (6, 2, 3, 3), 2, 1, 1, 1, True),
    ((1, 3, 6, 5), (3, 1, 3, 3), 3, 2, 1, 1, True),
    ((2, 2, 4, 4), (4, 1, 3, 3), 2, 1, 2, 2, False),
    ((1, 6, 3, 4), (3, 2, 1, 1), 3, 1, 0, 1, True),
    ((1, 10, 4, 4), (4, 5, 3, 3), 2, 1, 1, 1, True),
]:
    x32, w32 = rand(g, *xs), rand(g, *ws, scale=0.5)
    b32 = rand(g, ws[0]) if bias else None
    x, w = x32.double().requires_grad_(True), w32.double().requires_grad_(True)
    b = b32.double().requires_grad_(True) if bias else None
    y = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    up = rand(g, *y.shape).double()
    y.backward(up)
    c = {'name': f'x{list(xs)} w{list(ws)} groups {groups} stride {stride} padding {padding} dilation {dilation}', 'groups': groups, 'stride': stride, 'padding': padding,
         'dilation': dilation, 'x': arr(x32), 'w': arr(w32), 'g': arr(up), 'y': arr(y), 'dx': arr(x.grad), 'dw': arr(w.grad)}
    if bias:
        c['b'] = arr(b32)
        c['db'] = arr(b.grad)
    cases.append(c)
write('grouped_conv', cases)

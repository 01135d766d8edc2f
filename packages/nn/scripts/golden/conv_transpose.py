"""conv_transpose2d against PyTorch in float64 (fixtures/golden/conv_transpose.json): outputs and
the gradients of input, weight and bias for a random upstream gradient."""
import torch
import torch.nn.functional as F
from common import arr, rand, write

g = torch.Generator().manual_seed(2407)
cases = []
for xs, ws, stride, padding, out_pad, dilation, bias in [
    ((2, 3, 4, 5), (3, 2, 3, 3), 2, 1, 1, 1, True),
    ((1, 2, 3, 3), (2, 4, 2, 2), 2, 0, 0, 1, False),
    ((2, 2, 4, 3), (2, 3, 3, 3), 1, 2, 0, 2, True),
    ((2, 4, 3, 3), (4, 5, 1, 1), 1, 0, 0, 1, True),
    ((1, 3, 5, 4), (3, 2, 4, 3), (3, 2), (1, 0), (2, 1), 1, False),
]:
    x32, w32 = rand(g, *xs), rand(g, *ws, scale=0.5)
    b32 = rand(g, ws[1]) if bias else None
    x, w = x32.double().requires_grad_(True), w32.double().requires_grad_(True)
    b = b32.double().requires_grad_(True) if bias else None
    y = F.conv_transpose2d(x, w, b, stride=stride, padding=padding, output_padding=out_pad, dilation=dilation)
    up = rand(g, *y.shape).double()
    y.backward(up)
    lst = lambda v: list(v) if isinstance(v, tuple) else v
    c = {'name': f'x{list(xs)} w{list(ws)} stride {stride} padding {padding} outputPadding {out_pad} dilation {dilation}',
         'stride': lst(stride), 'padding': lst(padding), 'outputPadding': lst(out_pad), 'dilation': lst(dilation),
         'x': arr(x32), 'w': arr(w32), 'g': arr(up), 'y': arr(y), 'dx': arr(x.grad), 'dw': arr(w.grad)}
    if bias:
        c['b'] = arr(b32)
        c['db'] = arr(b.grad)
    cases.append(c)
write('conv_transpose', cases)

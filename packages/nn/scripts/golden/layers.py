"""Conv1d and Embedding against PyTorch in float64 (fixtures/golden/layers.json): outputs and the
gradients of input, weight and bias for a random upstream gradient."""
import torch
import torch.nn.functional as F
from common import arr, rand, write

g = torch.Generator().manual_seed(2405)
cases = []
for shape, wshape, stride, padding, dilation, bias in [((2, 3, 11), (4, 3, 3), 2, 1, 1, True), ((3, 2, 9), (5, 2, 4), 1, 2, 2, False), ((1, 4, 7), (2, 4, 1), 3, 0, 1, True)]:
    x32, w32 = rand(g, *shape), rand(g, *wshape, scale=0.5)
    b32 = rand(g, wshape[0]) if bias else None
    x, w = x32.double().requires_grad_(True), w32.double().requires_grad_(True)
    b = b32.double().requires_grad_(True) if bias else None
    y = F.conv1d(x, w, b, stride=stride, padding=padding, dilation=dilation)
    up = rand(g, *y.shape).double()
    y.backward(up)
    c = {'op': 'conv1d', 'name': f'conv1d x{list(shape)} w{list(wshape)} stride {stride} padding {padding} dilation {dilation}', 'stride': stride, 'padding': padding, 'dilation': dilation,
         'x': arr(x32), 'w': arr(w32), 'g': arr(up), 'y': arr(y), 'dx': arr(x.grad), 'dw': arr(w.grad)}
    if bias:
        c['b'] = arr(b32)
        c['db'] = arr(b.grad)
    cases.append(c)

for V, D, ishape, pad in [(7, 5, (3, 4), None), (6, 3, (2, 2, 3), 2), (5, 4, (9,), -1)]:
    w32 = rand(g, V, D)
    idx = torch.randint(0, V, ishape, generator=g)
    idx.view(-1)[:3] = torch.tensor([1, 1, V - 1])  # repeats and the last row
    w = w32.double().requires_grad_(True)
    y = F.embedding(idx, w, padding_idx=pad)
    up = rand(g, *y.shape).double()
    y.backward(up)
    cases.append({'op': 'embedding', 'name': f'embedding [{V}, {D}] indices {list(ishape)} paddingIdx {pad}', 'paddingIdx': pad, 'w': arr(w32), 'indices': idx.flatten().tolist(),
                  'indicesShape': list(ishape), 'g': arr(up), 'y': arr(y), 'dw': arr(w.grad)})
write('layers', cases)

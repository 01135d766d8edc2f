"""Golden fixtures for conv2d and the pooling ops: forward outputs and the gradients of
sum(out * r) for a seeded random upstream gradient r.

Run: /usr/bin/python3 packages/nn/scripts/golden/conv_pool.py
Writes packages/nn/fixtures/golden/conv_pool.json. Shapes stay tiny (batch 2, a few channels,
9-15 px) so the file stays small and the tests stay fast on lavapipe.
"""
import torch
import torch.nn.functional as F

from common import write


def rand(gen, *shape, scale=1.0):
    """Seeded normal values rounded to 3 decimals: exact as short JSON, the same f32 on both sides."""
    v = torch.randn(*shape, generator=gen, dtype=torch.float64) * scale
    return (torch.round(v * 1000) / 1000).to(torch.float32)


def arr(t):
    """Like common.arr, but 7 significant digits (far below the 1e-4 bar) keep the file small."""
    t = t.detach().to(torch.float64).contiguous()
    return {'shape': list(t.shape), 'data': [float('%.7g' % v) for v in t.flatten().tolist()]}


def conv_case(gen, label, n, c, h, w, oc, k, stride=1, padding=0, dilation=1, bias=True):
    kh, kw = (k, k) if isinstance(k, int) else k
    x = rand(gen, n, c, h, w).requires_grad_()
    wt = rand(gen, oc, c, kh, kw, scale=(c * kh * kw) ** -0.5).requires_grad_()
    b = rand(gen, oc).requires_grad_() if bias else None
    y = F.conv2d(x, wt, b, stride=stride, padding=padding, dilation=dilation)
    r = rand(gen, *y.shape)
    (y * r).sum().backward()
    case = {'op': 'conv2d', 'label': label, 'stride': stride, 'padding': padding, 'dilation': dilation,
            'x': arr(x), 'w': arr(wt), 'y': arr(y), 'r': arr(r), 'dx': arr(x.grad), 'dw': arr(wt.grad)}
    if bias:
        case['b'] = arr(b)
        case['db'] = arr(b.grad)
    return case


def pool_case(gen, op, label, shape, **kw):
    x = rand(gen, *shape).requires_grad_()
    if op == 'maxPool2d':
        y = F.max_pool2d(x, kw['kernel'], kw['stride'], kw['padding'], ceil_mode=kw['ceilMode'])
    elif op == 'avgPool2d':
        y = F.avg_pool2d(x, kw['kernel'], kw['stride'], kw['padding'], ceil_mode=kw['ceilMode'],
                         count_include_pad=kw['countIncludePad'])
    else:
        y = F.adaptive_avg_pool2d(x, kw['size'])
    r = rand(gen, *y.shape)
    (y * r).sum().backward()
    return {'op': op, 'label': label, **kw, 'x': arr(x), 'y': arr(y), 'r': arr(r), 'dx': arr(x.grad)}


def main():
    gen = torch.Generator().manual_seed(20240604)
    cases = [
        conv_case(gen, '3x3 p1 (DenseNet conv2)', 2, 6, 9, 9, 8, 3, padding=1),
        conv_case(gen, '3x3 odd sizes, no pad', 2, 4, 9, 13, 6, 3),
        conv_case(gen, '3x3 s2 p1', 2, 5, 13, 11, 6, 3, stride=2, padding=1),
        conv_case(gen, '3x3 dilation 2 p2', 2, 3, 12, 11, 5, 3, padding=2, dilation=2),
        conv_case(gen, '7x7 s2 p3 (DenseNet conv0)', 2, 3, 11, 11, 6, 7, stride=2, padding=3, bias=False),
        conv_case(gen, '7x7 s2 (paper conv1)', 2, 3, 13, 11, 5, 7, stride=2),
        conv_case(gen, '1x1 (bottleneck)', 2, 8, 7, 7, 6, 1),
        conv_case(gen, '1x1 odd channels, no bias', 2, 5, 5, 7, 3, 1, bias=False),
        conv_case(gen, '1x1 stride 2 (not a matmul)', 2, 6, 9, 9, 5, 1, stride=2),
        conv_case(gen, '5x3 kernel, stride (2,1), pad (2,0)', 2, 4, 10, 9, 6, (5, 3), stride=(2, 1), padding=(2, 0)),
        pool_case(gen, 'maxPool2d', '3x3 s2 p1 (DenseNet pool0)', (2, 2, 12, 11), kernel=3, stride=2, padding=1, ceilMode=False),
        pool_case(gen, 'maxPool2d', '3x3 s2 (paper)', (2, 2, 13, 13), kernel=3, stride=2, padding=0, ceilMode=False),
        pool_case(gen, 'maxPool2d', '3x3 s2 ceil', (2, 2, 12, 10), kernel=3, stride=2, padding=0, ceilMode=True),
        pool_case(gen, 'maxPool2d', '3x3 s2 p1 ceil (ragged last window)', (2, 2, 10, 9), kernel=3, stride=2, padding=1, ceilMode=True),
        pool_case(gen, 'maxPool2d', '2x2 s2 p1 ceil (last window dropped)', (2, 2, 9, 11), kernel=2, stride=2, padding=1, ceilMode=True),
        pool_case(gen, 'maxPool2d', '2x2 s2 odd size', (2, 2, 9, 11), kernel=2, stride=2, padding=0, ceilMode=False),
        pool_case(gen, 'avgPool2d', '2x2 s2 (DenseNet transition)', (2, 3, 10, 11), kernel=2, stride=2, padding=0, ceilMode=False, countIncludePad=True),
        pool_case(gen, 'avgPool2d', '3x3 s2 p1 include pad', (2, 2, 11, 10), kernel=3, stride=2, padding=1, ceilMode=False, countIncludePad=True),
        pool_case(gen, 'avgPool2d', '3x3 s2 p1 exclude pad', (2, 2, 11, 10), kernel=3, stride=2, padding=1, ceilMode=False, countIncludePad=False),
        pool_case(gen, 'avgPool2d', '3x3 s2 p1 ceil include pad', (2, 2, 10, 12), kernel=3, stride=2, padding=1, ceilMode=True, countIncludePad=True),
        pool_case(gen, 'avgPool2d', '3x3 s2 p1 ceil exclude pad', (2, 2, 10, 12), kernel=3, stride=2, padding=1, ceilMode=True, countIncludePad=False),
        pool_case(gen, 'avgPool2d', '2x2 s2 p1 ceil include pad (last window dropped)', (2, 2, 9, 7), kernel=2, stride=2, padding=1, ceilMode=True, countIncludePad=True),
        pool_case(gen, 'adaptiveAvgPool2d', '13x11 -> 5x4', (2, 2, 13, 11), size=[5, 4]),
        pool_case(gen, 'adaptiveAvgPool2d', '7x9 -> 3x7', (2, 2, 7, 9), size=[3, 7]),
        pool_case(gen, 'adaptiveAvgPool2d', '6x7 -> 1x1 (global)', (2, 3, 6, 7), size=[1, 1]),
    ]
    # Ties: integer-valued input so several window entries share the maximum; PyTorch's CPU
    # kernel sends the gradient to the first one in row-major window order.
    x = torch.floor(rand(gen, 2, 2, 9, 9) * 1.5).requires_grad_()
    y = F.max_pool2d(x, 3, 2, 1)
    r = rand(gen, *y.shape)
    (y * r).sum().backward()
    cases.append({'op': 'maxPool2d', 'label': '3x3 s2 p1 with ties', 'kernel': 3, 'stride': 2, 'padding': 1,
                  'ceilMode': False, 'x': arr(x), 'y': arr(y), 'r': arr(r), 'dx': arr(x.grad)})
    write('conv_pool', cases)


if __name__ == '__main__':
    main()

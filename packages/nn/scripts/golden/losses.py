"""Losses against PyTorch in float64 (fixtures/golden/losses.json): mse, l1, smooth L1, BCE with
logits (pos_weight, weight), NLL after log_softmax (weights, ignore_index, spatial targets) and a
soft Dice loss (MONAI's formula), each with its reductions: the loss and the gradients of input
(and target where PyTorch gives one) for a random upstream gradient."""
import torch
import torch.nn.functional as F
from common import arr, rand, write

g = torch.Generator().manual_seed(2402)


def f64(t, grad=True):
    return t.to(torch.float64).requires_grad_(grad)


def backward(loss):
    up = rand(g, *loss.shape).to(torch.float64) if loss.dim() else torch.tensor(1.0, dtype=torch.float64)
    loss.backward(up)
    return up


cases = []


def pointwise(op, fn, shape, reduction, ties=False, **kw):
    x32, y32 = rand(g, *shape), rand(g, *shape)
    if ties:
        y32.view(-1)[::3] = x32.view(-1)[::3]
    x, y = f64(x32), f64(y32)
    loss = fn(x, y, reduction=reduction, **kw)
    up = backward(loss)
    cases.append({'op': op, 'name': f'{op} {list(shape)} {reduction} {kw}', 'reduction': reduction, **kw,
                  'x': arr(x32), 'y': arr(y32), 'g': arr(up), 'loss': arr(loss), 'dx': arr(x.grad), 'dy': arr(y.grad)})


for r in ['mean', 'sum', 'none']:
    pointwise('mse', F.mse_loss, (3, 7), r)
    pointwise('l1', F.l1_loss, (2, 3, 5), r, ties=True)
pointwise('smooth_l1', F.smooth_l1_loss, (5, 9), 'mean', beta=1.0)
pointwise('smooth_l1', F.smooth_l1_loss, (4, 3, 3), 'none', beta=0.5)
pointwise('smooth_l1', F.smooth_l1_loss, (7, 5), 'sum', beta=0.0)

for shape, r, pos, weight in [((4, 6), 'mean', True, True), ((3, 5, 2), 'none', True, False), ((9,), 'sum', False, True), ((2, 7), 'mean', False, False)]:
    x32 = rand(g, *shape, scale=3.0)
    x32.view(-1)[0], x32.view(-1)[1] = 40.0, -40.0  # saturated logits stay finite
    y32 = torch.rand(*shape, generator=g, dtype=torch.float64).to(torch.float32)
    pw32 = (torch.rand(shape[-1], generator=g, dtype=torch.float64) * 3).to(torch.float32) if pos else None
    w32 = (torch.rand(*shape[:-1], 1, generator=g, dtype=torch.float64) + 0.5).to(torch.float32) if weight else None
    x, y = f64(x32), f64(y32)
    loss = F.binary_cross_entropy_with_logits(x, y, weight=None if w32 is None else w32.double(), pos_weight=None if pw32 is None else pw32.double(), reduction=r)
    up = backward(loss)
    c = {'op': 'bce_logits', 'name': f'bce_logits {list(shape)} {r} posWeight={pos} weight={weight}', 'reduction': r,
         'x': arr(x32), 'y': arr(y32), 'g': arr(up), 'loss': arr(loss), 'dx': arr(x.grad), 'dy': arr(y.grad)}
    if pw32 is not None:
        c['posWeight'] = arr(pw32)
    if w32 is not None:
        c['weight'] = arr(w32)
    cases.append(c)

for shape, r, weighted, ignore in [((5, 4), 'mean', False, None), ((6, 3), 'mean', True, 1), ((2, 3, 4, 5), 'none', True, None), ((3, 5, 7), 'sum', False, 2), ((2, 4, 3, 3), 'mean', True, 0)]:
    z32 = rand(g, *shape, scale=2.0)
    tshape = (shape[0],) + shape[2:]
    t = torch.randint(0, shape[1], tshape, generator=g)
    w32 = (torch.rand(shape[1], generator=g, dtype=torch.float64) + 0.25).to(torch.float32) if weighted else None
    z = f64(z32)
    logp = F.log_softmax(z, dim=1)
    kw = {} if ignore is None else {'ignore_index': ignore}
    loss = F.nll_loss(logp, t, weight=None if w32 is None else w32.double(), reduction=r, **kw)
    up = backward(loss)
    c = {'op': 'nll', 'name': f'nll {list(shape)} {r} weight={weighted} ignore={ignore}', 'reduction': r, 'logits': arr(z32), 'target': t.flatten().tolist(),
         'targetShape': list(tshape), 'g': arr(up), 'loss': arr(loss), 'dlogits': arr(z.grad)}
    if w32 is not None:
        c['weight'] = arr(w32)
    if ignore is not None:
        c['ignoreIndex'] = ignore
    cases.append(c)


def dice(p, t, smooth, reduction):
    dims = tuple(range(2, p.dim()))
    loss = 1 - (2 * (p * t).sum(dims) + smooth) / (p.sum(dims) + t.sum(dims) + smooth)
    return loss.mean() if reduction == 'mean' else loss.sum() if reduction == 'sum' else loss


for shape, r, smooth in [((2, 3, 5, 4), 'mean', 1e-5), ((3, 1, 7, 6), 'none', 1.0), ((2, 2, 9), 'sum', 1e-5)]:
    p32 = torch.sigmoid(rand(g, *shape, scale=2.0).double()).to(torch.float32)
    t32 = (torch.rand(*shape, generator=g) > 0.6).to(torch.float32)
    p, t = f64(p32), f64(t32)
    loss = dice(p, t, smooth, r)
    up = backward(loss)
    cases.append({'op': 'dice', 'name': f'dice {list(shape)} {r} smooth={smooth}', 'reduction': r, 'smooth': smooth, 'x': arr(p32), 'y': arr(t32),
                  'g': arr(up), 'loss': arr(loss), 'dx': arr(p.grad), 'dy': arr(t.grad)})

write('losses', cases)

"""Golden fixtures for batch norm (+ReLU), local response norm, softmax cross-entropy and SGD.

Run: /usr/bin/python3 packages/nn/scripts/golden/norm_loss_sgd.py  (Debian torch 1.13)
Writes packages/nn/fixtures/golden/norm_loss_sgd.json. Shapes are odd on purpose (planes that
are and are not multiples of 4, planes longer than one kernel chunk, windows wider than C).
Gradients are of sum(out * g) for a random upstream g, so every element's gradient differs.
"""
import torch
import torch.nn.functional as F
from common import arr, rand, write

gen = torch.Generator().manual_seed(20240613)
cases = []


def leaf(t):
    return t.clone().requires_grad_(True)


def bn_case(name, shape, training, relu=False, momentum=0.1, eps=1e-5, offset=0.0, steps=1):
    c = shape[1]
    w = leaf(rand(gen, c) * 0.5 + 1.0)
    b = leaf(rand(gen, c))
    rm = rand(gen, c)
    rv = rand(gen, c).abs() + 0.5
    case = {'op': 'batchnorm', 'name': name, 'training': training, 'relu': relu, 'momentum': momentum, 'eps': eps,
            'weight': arr(w), 'bias': arr(b), 'running_mean': arr(rm), 'running_var': arr(rv), 'steps': []}
    for _ in range(steps):
        x = leaf(rand(gen, *shape, scale=2.0) + offset)
        y = F.batch_norm(x, rm, rv, w, b, training=training, momentum=momentum, eps=eps)
        if relu:
            y = F.relu(y)
        g = rand(gen, *shape)
        w.grad = b.grad = None
        (y * g).sum().backward()
        case['steps'].append({'x': arr(x), 'y': arr(y), 'g': arr(g), 'dx': arr(x.grad), 'dweight': arr(w.grad),
                              'dbias': arr(b.grad), 'running_mean': arr(rm), 'running_var': arr(rv)})
    cases.append(case)


bn_case('train scalar planes 7x6', [3, 5, 7, 6], True)
bn_case('train vec4 planes, offset mean, two steps', [2, 3, 4, 4], True, momentum=0.3, offset=5.0, steps=2)
bn_case('train planes longer than a chunk (9x9)', [2, 2, 9, 9], True)
bn_case('train vec4 planes longer than a chunk (16x17)', [2, 2, 16, 17], True, offset=-3.0)
bn_case('eval 7x6', [3, 5, 7, 6], False)
bn_case('train fused relu 6x6', [2, 4, 6, 6], True, relu=True)
bn_case('eval fused relu 5x3', [2, 4, 5, 3], False, relu=True)
bn_case('train [N, C] (BatchNorm1d layout)', [6, 5], True, eps=1e-3)


def lrn_case(name, shape, size, alpha, beta, k):
    x = leaf(rand(gen, *shape, scale=2.0))
    y = F.local_response_norm(x, size, alpha=alpha, beta=beta, k=k)
    g = rand(gen, *shape)
    (y * g).sum().backward()
    cases.append({'op': 'lrn', 'name': name, 'size': size, 'alpha': alpha, 'beta': beta, 'k': k,
                  'x': arr(x), 'y': arr(y), 'g': arr(g), 'dx': arr(x.grad)})


lrn_case('size 5 vec4 planes', [2, 7, 5, 4], 5, 0.5, 0.75, 1.0)
lrn_case('size 4 (even window) scalar planes', [2, 6, 3, 5], 4, 0.3, 0.6, 2.0)
lrn_case('size 5 defaults', [1, 9, 3, 3], 5, 1e-4, 0.75, 1.0)
lrn_case('AlexNet paper variant (alpha 1e-4 * 5, k 2)', [2, 8, 3, 3], 5, 5e-4, 0.75, 2.0)
lrn_case('window wider than C', [1, 3, 2, 3], 7, 0.8, 0.5, 1.5)


def ce_case(name, n, c, weight=False, smoothing=0.0, reduction='mean', scale=2.0, offset=0.0):
    x = leaf(rand(gen, n, c, scale=scale) + offset)
    t = torch.randint(0, c, (n,), generator=gen)
    w = (torch.rand(c, generator=gen) + 0.2) if weight else None
    loss = F.cross_entropy(x, t, weight=w, label_smoothing=smoothing, reduction=reduction)
    g = rand(gen, *loss.shape) if reduction == 'none' else torch.tensor(1.7)
    (loss * g).sum().backward()
    case = {'op': 'cross_entropy', 'name': name, 'reduction': reduction, 'label_smoothing': smoothing,
            'logits': arr(x), 'targets': [int(v) for v in t.tolist()], 'loss': arr(loss), 'g': arr(g), 'dlogits': arr(x.grad)}
    if w is not None:
        case['weight'] = arr(w)
    cases.append(case)


ce_case('mean', 7, 5)
ce_case('mean, class weights', 7, 5, weight=True)
ce_case('mean, label smoothing 0.1', 6, 4, smoothing=0.1)
ce_case('mean, weights and label smoothing 0.2', 9, 3, weight=True, smoothing=0.2)
ce_case('sum, weights and label smoothing 0.1', 5, 6, weight=True, smoothing=0.1, reduction='sum')
ce_case('none, weights and label smoothing 0.15', 5, 4, weight=True, smoothing=0.15, reduction='none')
ce_case('large logits (stability)', 4, 7, scale=30.0, offset=200.0)
ce_case('two classes (DenseNet head), weights', 8, 2, weight=True)


def sgd_case(name, lr, momentum, dampening, wd, nesterov):
    shapes = [[3, 4], [5], [2, 3, 3]]
    params = [torch.nn.Parameter(rand(gen, *s)) for s in shapes]
    init = [arr(p) for p in params]
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum, dampening=dampening, weight_decay=wd, nesterov=nesterov)
    steps = []
    for _ in range(3):
        grads = [rand(gen, *s) for s in shapes]
        for p, g in zip(params, grads):
            p.grad = g.clone()
        opt.step()
        steps.append({'grads': [arr(g) for g in grads], 'params': [arr(p) for p in params]})
    cases.append({'op': 'sgd', 'name': name, 'lr': lr, 'momentum': momentum, 'dampening': dampening,
                  'weight_decay': wd, 'nesterov': nesterov, 'init': init, 'steps': steps})


sgd_case('plain', 0.1, 0.0, 0.0, 0.0, False)
sgd_case('weight decay, no momentum', 0.05, 0.0, 0.0, 0.01, False)
sgd_case('momentum 0.9', 0.1, 0.9, 0.0, 0.0, False)
sgd_case('momentum, dampening 0.1, weight decay', 0.1, 0.9, 0.1, 1e-2, False)
sgd_case('nesterov, weight decay', 0.05, 0.9, 0.0, 5e-3, True)

write('norm_loss_sgd', cases)

"""LayerNorm, GroupNorm, InstanceNorm2d and BatchNorm1d (training) against PyTorch in float64
(fixtures/golden/norms.json): outputs and the gradients of input, weight and bias for a random
upstream gradient; BatchNorm1d's running statistics after the step."""
import torch
from common import arr, rand, write

g = torch.Generator().manual_seed(2404)
cases = []


def run(kind, name, module, shape, args):
    module = module.double()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(rand(g, *p.shape, scale=0.5).double() + (1.0 if p.dim() and p is getattr(module, 'weight', None) else 0.0))
    state = {k: arr(v) for k, v in module.state_dict().items() if 'num_batches' not in k}
    x32 = rand(g, *shape, scale=2.0) + 0.5
    x = x32.double().requires_grad_(True)
    module.train()
    y = module(x)
    up = rand(g, *y.shape).double()
    y.backward(up)
    c = {'kind': kind, 'name': name, 'args': args, 'state': state, 'x': arr(x32), 'g': arr(up), 'y': arr(y), 'dx': arr(x.grad)}
    for pname, p in module.named_parameters():
        c['d' + pname] = arr(p.grad)
    if kind == 'BatchNorm1d':
        c['running_mean'] = arr(module.running_mean)
        c['running_var'] = arr(module.running_var)
    cases.append(c)


run('LayerNorm', 'LayerNorm [5] on [3, 4, 5]', torch.nn.LayerNorm(5), (3, 4, 5), {'normalizedShape': [5]})
run('LayerNorm', 'LayerNorm [4, 5] without affine on [2, 3, 4, 5]', torch.nn.LayerNorm([4, 5], elementwise_affine=False), (2, 3, 4, 5), {'normalizedShape': [4, 5], 'elementwiseAffine': False})
run('LayerNorm', 'LayerNorm [7] eps 1e-3 on [2, 7]', torch.nn.LayerNorm(7, eps=1e-3), (2, 7), {'normalizedShape': [7], 'eps': 1e-3})
run('GroupNorm', 'GroupNorm 3 groups of [2, 6, 3, 4]', torch.nn.GroupNorm(3, 6), (2, 6, 3, 4), {'numGroups': 3, 'numChannels': 6})
run('GroupNorm', 'GroupNorm 2 groups of [3, 4, 5]', torch.nn.GroupNorm(2, 4), (3, 4, 5), {'numGroups': 2, 'numChannels': 4})
run('GroupNorm', 'GroupNorm 1 group without affine of [2, 5, 3, 3]', torch.nn.GroupNorm(1, 5, affine=False), (2, 5, 3, 3), {'numGroups': 1, 'numChannels': 5, 'affine': False})
run('InstanceNorm2d', 'InstanceNorm2d of [2, 3, 5, 4]', torch.nn.InstanceNorm2d(3), (2, 3, 5, 4), {'numFeatures': 3})
run('InstanceNorm2d', 'InstanceNorm2d affine of [3, 2, 3, 7]', torch.nn.InstanceNorm2d(2, affine=True), (3, 2, 3, 7), {'numFeatures': 2, 'affine': True})
run('BatchNorm1d', 'BatchNorm1d of [6, 4]', torch.nn.BatchNorm1d(4), (6, 4), {'numFeatures': 4})
run('BatchNorm1d', 'BatchNorm1d of [3, 4, 5]', torch.nn.BatchNorm1d(4), (3, 4, 5), {'numFeatures': 4})
write('norms', cases)

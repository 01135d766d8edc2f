"""Activations against PyTorch in float64 (fixtures/golden/activations.json): each function's
output and input gradient for a random upstream gradient, at a size the four-lane kernel takes
and one it does not, with the kinks (0, +-3) and saturated values among the inputs."""
import torch
import torch.nn.functional as F
from common import arr, rand, write

g = torch.Generator().manual_seed(2403)
fns = [
    ('leakyRelu', {}, lambda x: F.leaky_relu(x)),
    ('leakyRelu', {'negativeSlope': 0.2}, lambda x: F.leaky_relu(x, 0.2)),
    ('elu', {}, lambda x: F.elu(x)),
    ('elu', {'alpha': 0.5}, lambda x: F.elu(x, 0.5)),
    ('gelu', {}, lambda x: F.gelu(x)),
    ('gelu', {'approximate': 'tanh'}, lambda x: F.gelu(x, approximate='tanh')),
    ('silu', {}, F.silu),
    ('sigmoid', {}, torch.sigmoid),
    ('tanh', {}, torch.tanh),
    ('hardswish', {}, F.hardswish),
    ('softmax', {'dim': 1}, lambda x: F.softmax(x, dim=1)),
    ('softmax', {'dim': 0}, lambda x: F.softmax(x, dim=0)),
    ('logSoftmax', {'dim': -1}, lambda x: F.log_softmax(x, dim=-1)),
]
cases = []
for name, args, fn in fns:
    for shape in [(2, 8), (3, 7)]:
        x32 = rand(g, *shape, scale=3.0)
        flat = x32.view(-1)
        flat[:6] = torch.tensor([0.0, 3.0, -3.0, 25.0, -25.0, 1e-3])
        x = x32.double().requires_grad_(True)
        y = fn(x)
        up = rand(g, *shape).double()
        y.backward(up)
        cases.append({'fn': name, 'args': args, 'name': f'{name} {args} {list(shape)}', 'x': arr(x32), 'g': arr(up), 'y': arr(y), 'dx': arr(x.grad)})
write('activations', cases)

"""Linear forward/backward and a Sequential's state-dict keys (fixtures/golden/modules.json)."""
import torch
from common import arr, rand, write

g = torch.Generator().manual_seed(4)
cases = []
for (n, i, o, bias) in [(5, 7, 3, True), (2, 9, 11, False)]:
    lin = torch.nn.Linear(i, o, bias=bias)
    with torch.no_grad():
        lin.weight.copy_(rand(g, o, i))
        if bias:
            lin.bias.copy_(rand(g, o))
    x = rand(g, n, i).requires_grad_(True)
    up = rand(g, n, o)
    y = lin(x)
    (y * up).sum().backward()
    c = {'kind': 'linear', 'bias': bias, 'x': arr(x), 'weight': arr(lin.weight), 'up': arr(up), 'y': arr(y), 'dx': arr(x.grad), 'dweight': arr(lin.weight.grad)}
    if bias:
        c['b'] = arr(lin.bias)
        c['dbias'] = arr(lin.bias.grad)
    cases.append(c)

seq = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Sequential(torch.nn.Linear(8, 8, bias=False), torch.nn.ReLU()), torch.nn.Linear(8, 2))
cases.append({'kind': 'keys', 'keys': list(seq.state_dict().keys()), 'shapes': [list(v.shape) for v in seq.state_dict().values()],
              'params': sum(p.numel() for p in seq.parameters())})
write('modules', cases)

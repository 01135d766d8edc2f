"""A small network made of every layer type (fixtures/golden/blocks.json):
its state dict (random, non-trivial values), a training-mode forward/backward with the updated
BatchNorm running statistics, and an eval-mode forward."""
import torch
from common import arr, rand, write

torch.manual_seed(0)
g = torch.Generator().manual_seed(11)
net = torch.nn.Sequential(
    torch.nn.Conv2d(3, 8, 3, stride=2, padding=1),
    torch.nn.BatchNorm2d(8),
    torch.nn.ReLU(),
    torch.nn.LocalResponseNorm(5, alpha=1e-2, beta=0.75, k=2.0),
    torch.nn.MaxPool2d(3, 2, ceil_mode=True),
    torch.nn.AdaptiveAvgPool2d(1),
    torch.nn.Flatten(),
    torch.nn.Linear(8, 2),
)
with torch.no_grad():
    for k, v in net.state_dict().items():
        if k.endswith('num_batches_tracked'):
            continue
        if k.endswith('running_var'):
            v.copy_(rand(g, *v.shape).abs() + 0.5)
        else:
            v.copy_(rand(g, *v.shape, scale=0.5) + (1.0 if k.endswith('1.weight') and v.dim() == 1 else 0.0))
state = {k: arr(v) for k, v in net.state_dict().items() if not k.endswith('num_batches_tracked')}
keys = list(net.state_dict().keys())
x = rand(g, 2, 3, 21, 19).requires_grad_(True)
up = rand(g, 2, 2)
net.train()
y = net(x)
(y * up).sum().backward()
grads = {k: arr(p.grad) for k, p in net.named_parameters()}
after = {k: arr(v) for k, v in net.state_dict().items() if 'running' in k}
net.eval()
y_eval = net(x.detach())
write('blocks', [{'keys': keys, 'state': state, 'x': arr(x), 'up': arr(up), 'y': arr(y), 'dx': arr(x.grad), 'grads': grads,
                  'running_after': after, 'y_eval': arr(y_eval)}])

"""Adam, AdamW and RMSprop against torch.optim (fixtures/golden/optim.json): 20 steps of a small
conv net with cross-entropy from one initialisation, the losses and final weights of each; and
clip_grad_norm_ / clip_grad_value_ on a few gradients."""
import torch
from common import arr, rand, write

g = torch.Generator().manual_seed(24)


def make_net():
    return torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, stride=2, padding=1), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 4, 3))


net0 = make_net()
with torch.no_grad():
    for v in net0.state_dict().values():
        v.copy_(rand(g, *v.shape, scale=0.4))
init = {k: arr(v) for k, v in net0.state_dict().items()}
x = rand(g, 6, 2, 8, 8)
y = torch.tensor([0, 2, 1, 2, 1, 0])

# (name, optimizer class, options, head group options or None)
configs = [
    ('Adam', torch.optim.Adam, {'lr': 1e-2}, None),
    ('Adam L2 amsgrad', torch.optim.Adam, {'lr': 5e-3, 'betas': (0.8, 0.99), 'eps': 1e-6, 'weight_decay': 1e-2, 'amsgrad': True}, None),
    ('AdamW two groups', torch.optim.AdamW, {'lr': 1e-2, 'weight_decay': 0.05}, {'lr': 3e-3, 'weight_decay': 0.0}),
    ('AdamW amsgrad maximize', torch.optim.AdamW, {'lr': 2e-3, 'amsgrad': True, 'maximize': True}, None),
    ('RMSprop', torch.optim.RMSprop, {'lr': 1e-3}, None),
    ('RMSprop centered momentum', torch.optim.RMSprop, {'lr': 1e-3, 'alpha': 0.9, 'eps': 1e-6, 'weight_decay': 1e-3, 'momentum': 0.8, 'centered': True}, None),
]

cases = [{'op': 'inputs', 'init': init, 'x': arr(x), 'y': y.tolist()}]
for name, cls, options, head in configs:
    net = make_net()
    net.load_state_dict(net0.state_dict())
    if head is None:
        opt = cls(net.parameters(), **options)
    else:
        head_params = list(net[3].parameters())
        opt = cls([{'params': list(net[0].parameters())}, dict(params=head_params, **head)], **options)
    losses = []
    for step in range(20):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        losses.append(float(loss))
    final = {k: arr(v) for k, v in net.state_dict().items()}
    sd = opt.state_dict()
    steps = [float(s['step']) for s in sd['state'].values()]
    cases.append({'op': 'train', 'name': name, 'optimizer': cls.__name__, 'options': {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()},
                  'head': head, 'losses': losses, 'final': final, 'stateKeys': sorted(sd['state'][0].keys()), 'steps': steps,
                  'groupKeys': sorted(k for k in sd['param_groups'][0].keys())})

for name, max_norm, norm_type in [('l2 clipped', 0.5, 2.0), ('l2 under the limit', 100.0, 2.0), ('l1', 1.0, 1.0), ('inf', 0.3, float('inf')), ('p=3', 0.7, 3.0)]:
    grads = [rand(g, 3, 5), rand(g, 7), rand(g, 2, 2, 3)]
    params = [torch.nn.Parameter(torch.zeros_like(t)) for t in grads]
    for p, t in zip(params, grads):
        p.grad = t.clone()
    total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)
    cases.append({'op': 'clip_norm', 'name': name, 'maxNorm': max_norm, 'normType': 'inf' if norm_type == float('inf') else norm_type,
                  'grads': [arr(t) for t in grads], 'total': float(total), 'clipped': [arr(p.grad) for p in params]})

grads = [rand(g, 4, 3), rand(g, 9)]
params = [torch.nn.Parameter(torch.zeros_like(t)) for t in grads]
for p, t in zip(params, grads):
    p.grad = t.clone()
torch.nn.utils.clip_grad_value_(params, 0.4)
cases.append({'op': 'clip_value', 'name': 'value 0.4', 'clipValue': 0.4, 'grads': [arr(t) for t in grads], 'clipped': [arr(p.grad) for p in params]})

write('optim', cases)

"""Three SGD steps (momentum, weight decay, two parameter groups) of a tiny conv net with
cross-entropy, as PyTorch computes them (fixtures/golden/train_step.json)."""
import torch
from common import arr, rand, write

g = torch.Generator().manual_seed(21)
net = torch.nn.Sequential(
    torch.nn.Conv2d(3, 6, 3, stride=2, padding=1), torch.nn.BatchNorm2d(6), torch.nn.ReLU(),
    torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(6 * 4 * 4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
with torch.no_grad():
    for k, v in net.state_dict().items():
        if 'running' not in k and 'num_batches' not in k:
            v.copy_(rand(g, *v.shape, scale=0.4))
init = {k: arr(v) for k, v in net.state_dict().items() if 'num_batches' not in k}
x = rand(g, 4, 3, 15, 16)
y = torch.tensor([0, 2, 1, 2])
head = list(net[5].parameters()) + list(net[7].parameters())
head_ids = {id(p) for p in head}
body = [p for p in net.parameters() if id(p) not in head_ids]
opt = torch.optim.SGD([{'params': body}, {'params': head, 'lr': 0.05, 'weight_decay': 0.0}], lr=0.1, momentum=0.9, weight_decay=5e-4)
weights = torch.tensor([1.0, 2.0, 0.5])
losses = []
for step in range(3):
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(net(x), y, weight=weights)
    loss.backward()
    opt.step()
    losses.append(float(loss))
final = {k: arr(v) for k, v in net.state_dict().items() if 'num_batches' not in k}
write('train_step', [{'init': init, 'x': arr(x), 'y': y.tolist(), 'classWeights': weights.tolist(), 'losses': losses, 'final': final}])

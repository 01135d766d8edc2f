"""Learning-rate sequences of torch.optim.lr_scheduler for 12 epochs (fixtures/golden/schedulers.json)."""
import torch
from common import write

def run(make, metrics=None):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([{'params': [p]}, {'params': [torch.nn.Parameter(torch.zeros(1))], 'lr': 0.5}], lr=0.1, momentum=0.9)
    sched = make(opt)
    lrs = []
    for epoch in range(12):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[epoch])
        lrs.append([g['lr'] for g in opt.param_groups])
    return lrs

plateau_metrics = [1.0, 0.9, 0.95, 0.95, 0.96, 0.97, 0.8, 0.81, 0.82, 0.83, 0.84, 0.85]
cases = [
    {'name': 'StepLR', 'args': {'stepSize': 3, 'gamma': 0.5}, 'lrs': run(lambda o: torch.optim.lr_scheduler.StepLR(o, 3, 0.5))},
    {'name': 'MultiStepLR', 'args': {'milestones': [2, 5, 9], 'gamma': 0.1}, 'lrs': run(lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [2, 5, 9], 0.1))},
    {'name': 'ExponentialLR', 'args': {'gamma': 0.8}, 'lrs': run(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.8))},
    {'name': 'CosineAnnealingLR', 'args': {'tMax': 10, 'etaMin': 0.001}, 'lrs': run(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 10, 0.001))},
    {'name': 'ReduceLROnPlateau', 'args': {'patience': 2, 'factor': 0.5, 'cooldown': 1}, 'metrics': plateau_metrics,
     'lrs': run(lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, patience=2, factor=0.5, cooldown=1), plateau_metrics)},
]
write('schedulers', cases)

"""LinearLR, OneCycleLR and SequentialLR of torch.optim.lr_scheduler (fixtures/golden/warmup_schedulers.json):
each group's rate (and momentum, where the scheduler cycles it) right after construction and after
each of 12 steps, on two parameter groups."""
import torch
from torch.optim import lr_scheduler as S
from common import write


def momentum_of(group):
    return group['betas'][0] if 'betas' in group else group['momentum']


def run(make, optimizer='SGD', steps=12):
    params = [{'params': [torch.nn.Parameter(torch.zeros(1))]}, {'params': [torch.nn.Parameter(torch.zeros(1))], 'lr': 0.5}]
    if optimizer == 'SGD':
        opt = torch.optim.SGD(params, lr=0.1, momentum=0.9)
    else:
        opt = torch.optim.Adam(params, lr=0.1)
    sched = make(opt)
    lrs = [[g['lr'] for g in opt.param_groups]]
    momenta = [[momentum_of(g) for g in opt.param_groups]]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append([g['lr'] for g in opt.param_groups])
        momenta.append([momentum_of(g) for g in opt.param_groups])
    return {'optimizer': optimizer, 'lrs': lrs, 'momenta': momenta}


cases = [
    dict(name='LinearLR', args={'startFactor': 0.25, 'endFactor': 1.0, 'totalIters': 4},
         **run(lambda o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4))),
    dict(name='LinearLR decay', args={'startFactor': 1.0, 'endFactor': 0.1, 'totalIters': 7},
         **run(lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=7))),
    dict(name='OneCycleLR', args={'maxLr': [0.4, 1.0], 'totalSteps': 12},
         **run(lambda o: S.OneCycleLR(o, max_lr=[0.4, 1.0], total_steps=12))),
    dict(name='OneCycleLR linear three-phase Adam', args={'maxLr': 0.3, 'epochs': 3, 'stepsPerEpoch': 4, 'annealStrategy': 'linear', 'threePhase': True,
                                                          'pctStart': 0.25, 'divFactor': 10.0, 'finalDivFactor': 100.0, 'baseMomentum': 0.8, 'maxMomentum': 0.9},
         **run(lambda o: S.OneCycleLR(o, max_lr=0.3, epochs=3, steps_per_epoch=4, anneal_strategy='linear', three_phase=True,
                                      pct_start=0.25, div_factor=10.0, final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9), optimizer='Adam')),
    dict(name='OneCycleLR without momentum', args={'maxLr': 0.2, 'totalSteps': 12, 'cycleMomentum': False},
         **run(lambda o: S.OneCycleLR(o, max_lr=0.2, total_steps=12, cycle_momentum=False))),
    dict(name='SequentialLR warm-up then cosine', args={'milestones': [3]},
         **run(lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=3), S.CosineAnnealingLR(o, T_max=8, eta_min=0.001)], milestones=[3]))),
    dict(name='SequentialLR three schedulers', args={'milestones': [2, 6]},
         **run(lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.5, total_iters=2), S.ExponentialLR(o, 0.9), S.StepLR(o, 2, 0.5)], milestones=[2, 6]))),
]
write('warmup_schedulers', cases)

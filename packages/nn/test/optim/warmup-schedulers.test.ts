// LinearLR, OneCycleLR and SequentialLR against torch.optim.lr_scheduler
// (fixtures/golden/warmup_schedulers.json): the rate and momentum of two groups right after
// construction and after each of 12 steps; state dict round trips; PyTorch's refusals.
import { describe, expect, it } from 'vitest';
import {
  CosineAnnealingLR,
  ExponentialLR,
  LinearLR,
  OneCycleLR,
  SequentialLR,
  StepLR,
  type HasMomentumGroups,
  type OneCycleOptions,
} from '../../src/index.js';
import { loadGolden } from '../helpers/golden.js';

interface Case {
  name: string;
  optimizer: 'SGD' | 'Adam';
  args: Record<string, unknown>;
  lrs: number[][];
  momenta: number[][];
}
const cases = loadGolden('warmup_schedulers') as unknown as Case[];

function groups(kind: 'SGD' | 'Adam'): HasMomentumGroups {
  return kind === 'SGD'
    ? {
        paramGroups: [
          { lr: 0.1, momentum: 0.9 },
          { lr: 0.5, momentum: 0.9 },
        ],
      }
    : {
        paramGroups: [
          { lr: 0.1, betas: [0.9, 0.999] },
          { lr: 0.5, betas: [0.9, 0.999] },
        ],
      };
}

function make(c: Case, o: HasMomentumGroups): { step(): void } {
  const a = c.args as Record<string, number>;
  if (c.name.startsWith('LinearLR'))
    return new LinearLR(o, { startFactor: a.startFactor, endFactor: a.endFactor, totalIters: a.totalIters });
  if (c.name.startsWith('OneCycleLR')) return new OneCycleLR(o, c.args as unknown as OneCycleOptions);
  if (c.name === 'SequentialLR warm-up then cosine')
    return new SequentialLR(
      o,
      [new LinearLR(o, { startFactor: 0.1, totalIters: 3 }), new CosineAnnealingLR(o, 8, 0.001)],
      [3],
    );
  if (c.name === 'SequentialLR three schedulers')
    return new SequentialLR(
      o,
      [new LinearLR(o, { startFactor: 0.5, totalIters: 2 }), new ExponentialLR(o, 0.9), new StepLR(o, 2, 0.5)],
      [2, 6],
    );
  throw new Error(c.name);
}

const momentumOf = (g: HasMomentumGroups['paramGroups'][number]) => g.betas?.[0] ?? g.momentum!;

describe('warm-up and one-cycle schedulers match PyTorch', () => {
  for (const c of cases) {
    it(c.name, () => {
      const o = groups(c.optimizer);
      const s = make(c, o);
      for (let e = 0; e < c.lrs.length; e++) {
        if (e > 0) s.step();
        o.paramGroups.forEach((g, i) => {
          expect(g.lr, `${c.name} step ${e} group ${i} lr`).toBeCloseTo(c.lrs[e]![i]!, 12);
          expect(momentumOf(g), `${c.name} step ${e} group ${i} momentum`).toBeCloseTo(c.momenta[e]![i]!, 12);
        });
      }
    });
  }
});

describe('scheduler state and refusals', () => {
  it('a resumed SequentialLR continues exactly, across its milestone', () => {
    const build = () => {
      const o = groups('SGD');
      return {
        o,
        s: new SequentialLR(
          o,
          [new LinearLR(o, { startFactor: 0.1, totalIters: 3 }), new CosineAnnealingLR(o, 8, 0.001)],
          [3],
        ),
      };
    };
    const a = build();
    for (let i = 0; i < 2; i++) a.s.step();
    const b = build();
    b.s.loadStateDict(JSON.parse(JSON.stringify(a.s.stateDict())) as Record<string, unknown>);
    expect(b.s.getLastLr()).toEqual(a.s.getLastLr());
    for (let i = 0; i < 6; i++) {
      a.s.step();
      b.s.step();
      expect(b.s.getLastLr()).toEqual(a.s.getLastLr());
    }
  });

  it('a resumed OneCycleLR continues exactly, momentum included', () => {
    const a = groups('Adam');
    const s1 = new OneCycleLR(a, { maxLr: 0.3, totalSteps: 10 });
    for (let i = 0; i < 4; i++) s1.step();
    const b = groups('Adam');
    const s2 = new OneCycleLR(b, { maxLr: 0.3, totalSteps: 10 });
    s2.loadStateDict(JSON.parse(JSON.stringify(s1.stateDict())) as Record<string, unknown>);
    for (let i = 0; i < 6; i++) {
      s1.step();
      s2.step();
      expect(b.paramGroups).toEqual(a.paramGroups);
    }
  });

  it('refuses what PyTorch refuses, in words', () => {
    const s = new OneCycleLR(groups('SGD'), { maxLr: 0.1, totalSteps: 3 });
    for (let i = 0; i < 3; i++) s.step();
    expect(() => s.step()).toThrow(/stepped 4 times, the cycle has 3 steps/);
    expect(() => new OneCycleLR(groups('SGD'), { maxLr: 0.1 })).toThrow(/give totalSteps, or epochs and stepsPerEpoch/);
    expect(() => new OneCycleLR(groups('SGD'), { maxLr: [0.1], totalSteps: 5 })).toThrow(
      /maxLr has 1 values for 2 parameter groups/,
    );
    expect(() => new OneCycleLR({ paramGroups: [{ lr: 0.1 }] }, { maxLr: 0.1, totalSteps: 5 })).toThrow(
      /cycleMomentum needs an optimizer with momentum or betas/,
    );
    expect(() => new LinearLR(groups('SGD'), { startFactor: 1.5 })).toThrow(/startFactor must be in \[0, 1\]/);
    const o = groups('SGD');
    expect(() => new SequentialLR(o, [new LinearLR(o), new StepLR(o, 2)], [])).toThrow(
      /2 schedulers need 1 milestones/,
    );
    expect(() => new SequentialLR(o, [new LinearLR(o), new StepLR(groups('SGD'), 2)], [3])).toThrow(
      /scheduler 1 drives another optimizer/,
    );
  });
});

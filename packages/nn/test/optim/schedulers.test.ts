// Learning-rate schedules against torch.optim.lr_scheduler (fixtures/golden/schedulers.json).
import { describe, expect, it } from 'vitest';
import {
  CosineAnnealingLR,
  ExponentialLR,
  MultiStepLR,
  ReduceLROnPlateau,
  StepLR,
  type HasParamGroups,
} from '../../src/index.js';
import { loadGolden } from '../helpers/golden.js';

const cases = loadGolden('schedulers') as {
  name: string;
  args: Record<string, number & number[]>;
  lrs: number[][];
  metrics?: number[];
}[];

function groups(): HasParamGroups {
  return { paramGroups: [{ lr: 0.1 }, { lr: 0.5 }] };
}

function make(name: string, o: HasParamGroups, a: Record<string, number & number[]>) {
  switch (name) {
    case 'StepLR':
      return new StepLR(o, a.stepSize, a.gamma);
    case 'MultiStepLR':
      return new MultiStepLR(o, a.milestones, a.gamma);
    case 'ExponentialLR':
      return new ExponentialLR(o, a.gamma);
    case 'CosineAnnealingLR':
      return new CosineAnnealingLR(o, a.tMax, a.etaMin);
    default:
      throw new Error(name);
  }
}

describe('LR schedulers match PyTorch', () => {
  for (const c of cases) {
    it(c.name, () => {
      const o = groups();
      const got: number[][] = [];
      if (c.name === 'ReduceLROnPlateau') {
        const s = new ReduceLROnPlateau(o, {
          patience: c.args.patience,
          factor: c.args.factor,
          cooldown: c.args.cooldown,
        });
        for (const m of c.metrics!) {
          s.step(m);
          got.push(s.getLastLr());
        }
      } else {
        const s = make(c.name, o, c.args);
        for (let e = 0; e < c.lrs.length; e++) {
          s.step();
          got.push(s.getLastLr());
        }
      }
      got.forEach((lrs, e) =>
        lrs.forEach((lr, g) => expect(lr, `${c.name} epoch ${e + 1} group ${g}`).toBeCloseTo(c.lrs[e]![g]!, 12)),
      );
    });
  }

  it('a resumed scheduler continues exactly (state dict round trip)', () => {
    const a = groups();
    const s1 = new MultiStepLR(a, [2, 5], 0.1);
    for (let i = 0; i < 3; i++) s1.step();
    const b = groups();
    const s2 = new MultiStepLR(b, [2, 5], 0.1);
    s2.loadStateDict(JSON.parse(JSON.stringify(s1.stateDict())));
    for (let i = 0; i < 4; i++) {
      s1.step();
      s2.step();
      expect(s2.getLastLr()).toEqual(s1.getLastLr());
    }
    const p1 = new ReduceLROnPlateau(groups(), { patience: 0 });
    p1.step(1);
    p1.step(2);
    const p2 = new ReduceLROnPlateau(groups(), { patience: 0 });
    p2.loadStateDict(JSON.parse(JSON.stringify(p1.stateDict())));
    p1.step(3);
    p2.step(3);
    expect(p2.getLastLr()).toEqual(p1.getLastLr());
  });
});

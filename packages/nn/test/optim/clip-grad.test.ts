// clipGradNorm_ and clipGradValue_ against torch.nn.utils (fixtures/golden/optim.json).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { clipGradNorm_, clipGradValue_ } from '../../src/index.js';
import { expectGolden, loadGolden, toTensor, type GoldenArray, type GoldenCase } from '../helpers/golden.js';

const cases = loadGolden('optim');

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => T.setPoisonOutputs(false));

function withGrads(c: GoldenCase): T.Tensor[] {
  return (c.grads as GoldenArray[]).map((a) => {
    const p = T.zeros(a.shape).keep();
    p.grad = toTensor(a).keep();
    return p;
  });
}

describe('clipGradNorm_ against torch.nn.utils.clip_grad_norm_', () => {
  for (const c of cases.filter((c) => c.op === 'clip_norm')) {
    it(c.name as string, async () => {
      const params = withGrads(c);
      const before = params.map((p) => p.grad!);
      const normType = c.normType === 'inf' ? Infinity : (c.normType as number);
      const total = clipGradNorm_(params, c.maxNorm as number, { normType });
      expect(Math.abs((await total.item()) - (c.total as number)) / (c.total as number)).toBeLessThan(1e-5);
      for (const [i, p] of params.entries()) {
        expect(p.grad, 'in place').toBe(before[i]);
        await expectGolden(p.grad!, (c.clipped as GoldenArray[])[i]!, 1e-5, `grad ${i}`);
      }
    });
  }

  it('skips parameters without a gradient and gives 0 when there are none', async () => {
    const [a, b] = [T.zeros([2]).keep(), T.zeros([3]).keep()];
    b.grad = T.tensor([3, 4, 0]).keep();
    expect(await clipGradNorm_([a, b], 1).item()).toBeCloseTo(5, 5);
    expect(Array.from(await b.grad.data()).map((v) => +v.toFixed(5))).toEqual([0.6, 0.8, 0]);
    expect(await clipGradNorm_([a], 1).item()).toBe(0);
    expect(() => clipGradNorm_([b], -1)).toThrow(/maxNorm must be/);
    expect(() => clipGradNorm_([b], 1, { normType: 0 })).toThrow(/normType must be > 0/);
  });
});

describe('clipGradValue_ against torch.nn.utils.clip_grad_value_', () => {
  for (const c of cases.filter((c) => c.op === 'clip_value')) {
    it(c.name as string, async () => {
      const params = withGrads(c);
      clipGradValue_(params, c.clipValue as number);
      for (const [i, p] of params.entries())
        await expectGolden(p.grad!, (c.clipped as GoldenArray[])[i]!, 1e-7, `grad ${i}`);
    });
  }
});

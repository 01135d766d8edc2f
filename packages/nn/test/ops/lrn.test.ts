import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { localResponseNorm } from '../../src/ops/norm-loss.js';
import { arrayOf, expectGolden, loadGolden, toTensor, type GoldenArray } from '../helpers/golden.js';

const cases = loadGolden('norm_loss_sgd').filter((c) => c.op === 'lrn');

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => {
  T.setPoisonOutputs(false);
  T.setKernelFamily(null);
});

// The forward has a channel-walking kernel (software adapters) and a per-element one (GPUs):
// every case runs under both families.
const FAMILIES = ['cpu', 'gpu'] as const;

describe('localResponseNorm against PyTorch', () => {
  for (const family of FAMILIES) {
    for (const c of cases) {
      it(`${family}: ${c.name as string}`, async () => {
        T.setKernelFamily(family);
        const x = toTensor(arrayOf(c, 'x'), true);
        const y = localResponseNorm(x, {
          size: c.size as number,
          alpha: c.alpha as number,
          beta: c.beta as number,
          k: c.k as number,
        });
        y.backward(toTensor(arrayOf(c, 'g')));
        await expectGolden(y, arrayOf(c, 'y'), 1e-4, `${c.name} y`);
        await expectGolden(x.grad!, arrayOf(c, 'dx'), 1e-3, `${c.name} dx`);
        x.grad!.dispose();
      });
    }
  }
});

/** float64 reference of PyTorch's formula. */
function reference(
  x: Float32Array,
  [N, C, S]: number[],
  size: number,
  alpha: number,
  beta: number,
  k: number,
): number[] {
  const out = new Array<number>(x.length);
  for (let n = 0; n < N!; n++)
    for (let c = 0; c < C!; c++)
      for (let s = 0; s < S!; s++) {
        let sum = 0;
        for (let j = c - Math.floor(size / 2); j <= c + Math.floor((size - 1) / 2); j++)
          if (j >= 0 && j < C!) sum += x[(n * C! + j) * S! + s]! ** 2;
        out[(n * C! + c) * S! + s] = x[(n * C! + c) * S! + s]! / (k + (alpha / size) * sum) ** beta;
      }
  return out;
}

describe('localResponseNorm at AlexNet shapes', () => {
  for (const family of FAMILIES) {
    it(`${family}: matches a float64 reference at 96 channels, 13x13 planes, size 5, the paper variant`, async () => {
      T.setKernelFamily(family);
      const shape = [2, 96, 13, 13];
      const x = T.randn(shape, { seed: 3, std: 4 });
      const y = localResponseNorm(x, { size: 5, alpha: 5e-4, k: 2 });
      const want: GoldenArray = {
        shape,
        data: reference((await x.data()) as Float32Array, [2, 96, 169], 5, 5e-4, 0.75, 2),
      };
      await expectGolden(y, want, 1e-4, 'y');
    });
  }

  it('rejects a size outside 1..64 and inputs without spatial dims', () => {
    expect(() => localResponseNorm(T.ones([2, 3, 4]), { size: 0 })).toThrow(/size must be/);
    expect(() => localResponseNorm(T.ones([2, 3]), { size: 3 })).toThrow(/spatial dims/);
  });
});

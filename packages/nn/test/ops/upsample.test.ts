// interpolate / Upsample, nearest and bilinear (alignCorners), against PyTorch
// (fixtures/golden/upsample.json) and a float64 reference with finite-difference gradients at
// awkward sizes, on both kernel families.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { Upsample, interpolate, type UpsampleOptions } from '../../src/index.js';
import { arrayOf, expectGolden, loadGolden, toTensor } from '../helpers/golden.js';
import { awkwardShape, gradCheck, uniformArr } from '../helpers/grad-check.js';
import type { Arr } from './conv-pool-reference.js';

const cases = loadGolden('upsample');
const FAMILIES = ['cpu', 'gpu'] as const;

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => {
  T.setPoisonOutputs(false);
  T.setKernelFamily(null);
});

describe('Upsample against PyTorch', () => {
  for (const family of FAMILIES) {
    for (const c of cases) {
      it(`${family}: ${c.name as string}`, async () => {
        T.setKernelFamily(family);
        const a = c.args as {
          mode: 'nearest' | 'bilinear';
          size?: [number, number];
          scaleFactor?: number;
          alignCorners?: boolean;
        };
        const x = toTensor(arrayOf(c, 'x'), true);
        const y = new Upsample(a as UpsampleOptions).forward(x);
        y.backward(toTensor(arrayOf(c, 'g')));
        // Nearest copies values: exact up to the gradient's float32 sums.
        await expectGolden(y, arrayOf(c, 'y'), a.mode === 'nearest' ? 1e-7 : 1e-4, 'y');
        await expectGolden(x.grad!, arrayOf(c, 'dx'), a.mode === 'nearest' ? 1e-6 : 1e-3, 'dx');
      });
    }
  }
});

/** float64 bilinear of one axis as PyTorch defines it: source index, then the two neighbours. */
function axis(inSize: number, outSize: number, alignCorners: boolean): { i0: number; i1: number; l1: number }[] {
  return Array.from({ length: outSize }, (_, o) => {
    const scale = alignCorners ? (outSize > 1 ? (inSize - 1) / (outSize - 1) : 0) : inSize / outSize;
    const src = alignCorners ? scale * o : Math.max(scale * (o + 0.5) - 0.5, 0);
    const i0 = Math.floor(src);
    return { i0, i1: Math.min(i0 + 1, inSize - 1), l1: src - i0 };
  });
}

function bilinearRef(x: Arr, Ho: number, Wo: number, alignCorners: boolean): Arr {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [ah, aw] = [axis(H, Ho, alignCorners), axis(W, Wo, alignCorners)];
  const out = new Float64Array(N * C * Ho * Wo);
  for (let p = 0; p < N * C; p++)
    for (let oh = 0; oh < Ho; oh++)
      for (let ow = 0; ow < Wo; ow++) {
        const [r, s] = [ah[oh]!, aw[ow]!];
        const at = (h: number, w: number) => x.data[(p * H + h) * W + w]!;
        out[(p * Ho + oh) * Wo + ow] =
          (1 - r.l1) * ((1 - s.l1) * at(r.i0, s.i0) + s.l1 * at(r.i0, s.i1)) +
          r.l1 * ((1 - s.l1) * at(r.i1, s.i0) + s.l1 * at(r.i1, s.i1));
      }
  return { shape: [N, C, Ho, Wo], data: out };
}

describe('bilinear against a float64 reference at awkward sizes', () => {
  for (const family of FAMILIES) {
    for (const alignCorners of [false, true]) {
      it(`${family}: alignCorners ${alignCorners}`, async () => {
        T.setKernelFamily(family);
        const [N, C, H, W] = awkwardShape(family === 'cpu' ? 701 : 702, 4, 6);
        const [Ho, Wo] = awkwardShape(alignCorners ? 703 : 704, 2, 13);
        const x = uniformArr([N!, C!, H!, W!], 9);
        await gradCheck({
          label: `bilinear [${N}, ${C}, ${H}, ${W}] -> [${Ho}, ${Wo}]`,
          inputs: [x],
          wrt: [0],
          gpu: ([t]) => interpolate(t!, { size: [Ho!, Wo!], mode: 'bilinear', alignCorners }),
          ref: ([a]) => bilinearRef(a!, Ho!, Wo!, alignCorners),
        });
      });
    }
  }

  it('refuses what PyTorch refuses, in words', () => {
    const x = T.zeros([1, 1, 2, 2]);
    expect(() => interpolate(x, { size: 3, scaleFactor: 2 })).toThrow(/either size or scaleFactor/);
    expect(() => interpolate(x, { size: 3, alignCorners: true })).toThrow(/alignCorners applies to 'bilinear' only/);
    expect(() => interpolate(T.zeros([2, 2]), { size: 3 })).toThrow(/input must be f32 \[N, C, H, W\]/);
    expect(() => interpolate(x, { scaleFactor: 0.2 })).toThrow(/output size \[0, 0\]/);
  });
});

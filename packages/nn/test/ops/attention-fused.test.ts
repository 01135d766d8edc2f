// fusedAttention against PyTorch float64 goldens (fixtures/golden/attention.json) and against
// the composed attention (itself matched to PyTorch) at awkward shapes with full masks, on both
// kernel families.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { fusedAttention, scaledDotProductAttention } from '../../src/index.js';
import { arrayOf, expectGolden, loadGolden, toTensor, type GoldenArray } from '../helpers/golden.js';
import { awkwardShape, uniformArr } from '../helpers/grad-check.js';

const cases = loadGolden('attention').filter((c) => c.op === 'sdpa');
const FAMILIES = ['cpu', 'gpu'] as const;

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => {
  T.setPoisonOutputs(false);
  T.setKernelFamily(null);
});

const leaf = (shape: number[], seed: number) => {
  const a = uniformArr(shape, seed, -2, 2);
  const t = T.tensor(Float32Array.from(a.data), shape);
  t.requiresGrad = true;
  return t;
};
const golden = async (t: T.Tensor): Promise<GoldenArray> => ({ shape: [...t.shape], data: Array.from(await t.data()) });

describe('fusedAttention', () => {
  for (const family of FAMILIES) {
    for (const c of cases) {
      it(`${family}: against PyTorch, ${c.name as string}`, async () => {
        T.setKernelFamily(family);
        const [q, k, v] = ['q', 'k', 'v'].map((n) => toTensor(arrayOf(c, n), true)) as [T.Tensor, T.Tensor, T.Tensor];
        const y = fusedAttention(q, k, v, {
          attnMask: c.mask ? toTensor(arrayOf(c, 'mask')) : null,
          isCausal: c.isCausal as boolean,
        });
        y.backward(toTensor(arrayOf(c, 'g')));
        await expectGolden(y, arrayOf(c, 'y'), 1e-4, 'y');
        for (const [n, t] of [
          ['dq', q],
          ['dk', k],
          ['dv', v],
        ] as const)
          await expectGolden(t.grad!, arrayOf(c, n), 1e-3, n);
      });
    }

    it(`${family}: equals the composed attention with a per-batch mask and a causal mask at awkward shapes`, async () => {
      T.setKernelFamily(family);
      const [A, B, L, S, E, Ev] = awkwardShape(family === 'cpu' ? 801 : 802, 6, 7);
      for (const [causal, shape] of [
        [false, [A!, B!]],
        [true, [A!]],
      ] as const) {
        const Lc = causal ? Math.max(L!, S!) : L!;
        const Sc = causal ? Lc : S!;
        const mask = T.tensor(Float32Array.from(uniformArr([...shape, Lc, Sc], 5, -1, 1).data), [...shape, Lc, Sc]);
        const make = () =>
          [leaf([...shape, Lc, E!], 1), leaf([...shape, Sc, E!], 2), leaf([...shape, Sc, Ev!], 3)] as const;
        const up = T.tensor(Float32Array.from(uniformArr([...shape, Lc, Ev!], 4).data), [...shape, Lc, Ev!]);
        const [q1, k1, v1] = make();
        const want = scaledDotProductAttention(q1, k1, v1, { attnMask: mask, isCausal: causal, scale: 0.7 });
        want.backward(up);
        const [q2, k2, v2] = make();
        const got = fusedAttention(q2, k2, v2, { attnMask: mask, isCausal: causal, scale: 0.7 });
        got.backward(up);
        await expectGolden(got, await golden(want), 1e-5, `causal ${causal}: y`);
        for (const [a, b, n] of [
          [q2, q1, 'dq'],
          [k2, k1, 'dk'],
          [v2, v1, 'dv'],
        ] as const)
          await expectGolden(a.grad!, await golden(b.grad!), 1e-4, `causal ${causal}: ${n}`);
      }
    });
  }

  it('refuses shapes that do not fit, in words', () => {
    expect(() => fusedAttention(T.zeros([2, 3, 4]), T.zeros([2, 5, 3]), T.zeros([2, 5, 2]))).toThrow(
      /k must be \[2, S, 4\]/,
    );
    expect(() =>
      fusedAttention(T.zeros([3, 4]), T.zeros([5, 4]), T.zeros([5, 2]), { attnMask: T.zeros([5, 3]) }),
    ).toThrow(/attnMask must be \[3, 5\]/);
  });
});

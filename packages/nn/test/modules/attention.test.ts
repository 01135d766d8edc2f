// scaledDotProductAttention and MultiheadAttention against PyTorch float64 goldens
// (fixtures/golden/attention.json) on both kernel families: outputs, averaged attention
// weights, and the gradients of the inputs and projections.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { MultiheadAttention, scaledDotProductAttention } from '../../src/index.js';
import { arrayOf, expectGolden, loadGolden, stateMap, toTensor, type GoldenArray } from '../helpers/golden.js';

const cases = loadGolden('attention');
const FAMILIES = ['cpu', 'gpu'] as const;

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => {
  T.setPoisonOutputs(false);
  T.setKernelFamily(null);
});

describe('attention against PyTorch (float64 goldens)', () => {
  for (const family of FAMILIES) {
    for (const c of cases.filter((c) => c.op === 'sdpa')) {
      it(`${family}: ${c.name as string}`, async () => {
        T.setKernelFamily(family);
        const [q, k, v] = ['q', 'k', 'v'].map((n) => toTensor(arrayOf(c, n), true)) as [T.Tensor, T.Tensor, T.Tensor];
        const y = scaledDotProductAttention(q, k, v, {
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
    const mhaRuns = cases
      .filter((c) => c.op === 'mha')
      .flatMap((c) => [true, false].map((needWeights) => ({ c, needWeights })));
    for (const { c, needWeights } of mhaRuns) {
      it(`${family}: ${c.name as string}${needWeights ? '' : ', fused (no weights)'}`, async () => {
        T.setKernelFamily(family);
        const mha = new MultiheadAttention(c.embedDim as number, c.numHeads as number, {
          batchFirst: c.batchFirst as boolean,
        });
        const state = c.state as Record<string, GoldenArray>;
        expect([...mha.stateDict().keys()].sort()).toEqual(Object.keys(state).sort());
        mha.loadStateDict(stateMap(state));
        const query = toTensor(arrayOf(c, 'query'), true);
        const [key, value] = c.self
          ? [query, query]
          : [toTensor(arrayOf(c, 'key'), true), toTensor(arrayOf(c, 'value'), true)];
        const S = key.shape[c.batchFirst ? 1 : 0]!;
        const N = key.shape[c.batchFirst ? 0 : 1]!;
        const keyPaddingMask = c.keyPaddingMask
          ? T.tensor(Int32Array.from(c.keyPaddingMask as number[]), [N, S])
          : null;
        const { output, weights } = mha.forwardWithWeights(query, key, value, {
          keyPaddingMask,
          attnMask: c.attnMask ? toTensor(arrayOf(c, 'attnMask')) : null,
          needWeights,
        });
        output.backward(toTensor(arrayOf(c, 'g')));
        await expectGolden(output, arrayOf(c, 'y'), 1e-4, 'output');
        if (needWeights) await expectGolden(weights!, arrayOf(c, 'weights'), 1e-4, 'weights');
        else expect(weights).toBeNull();
        await expectGolden(query.grad!, arrayOf(c, 'dquery'), 1e-3, 'dquery');
        if (!c.self) {
          await expectGolden(key.grad!, arrayOf(c, 'dkey'), 1e-3, 'dkey');
          await expectGolden(value.grad!, arrayOf(c, 'dvalue'), 1e-3, 'dvalue');
        }
        await expectGolden(mha.param('in_proj_weight').grad!, arrayOf(c, 'din_proj_weight'), 1e-3, 'din_proj_weight');
        await expectGolden(mha.outProj.param('weight').grad!, arrayOf(c, 'dout_proj.weight'), 1e-3, 'dout_proj.weight');
      });
    }
  }

  it('refuses shapes that do not fit, in words', () => {
    expect(() => new MultiheadAttention(10, 3)).toThrow(/embedDim 10 is not divisible by numHeads 3/);
    const mha = new MultiheadAttention(4, 2);
    expect(() => mha.forward(T.zeros([3, 2, 5]))).toThrow(/query must be \[L, N, 4\]/);
    expect(() =>
      mha.forwardWithWeights(T.zeros([3, 2, 4]), T.zeros([5, 2, 4]), T.zeros([5, 2, 4]), {
        keyPaddingMask: T.zeros([2, 3]),
      }),
    ).toThrow(/keyPaddingMask must be \[2, 5\]/);
  });
});

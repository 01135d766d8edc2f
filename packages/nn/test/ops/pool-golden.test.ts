// maxPool2d / avgPool2d / adaptiveAvgPool2d against PyTorch 1.13 (fixtures/golden/conv_pool.json):
// forward, and the input gradient of sum(y * r). The pool kernels are the same for both
// families; both still run so a family switch can never route around them unnoticed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import {
  adaptiveAvgPool2d,
  avgPool2d,
  globalAvgPool2d,
  maxPool2d,
  poolOutputSize,
  type IntPair,
} from '../../src/ops/conv-pool.js';
import { arrayOf, expectGolden, loadGolden, toTensor, type GoldenCase } from '../helpers/golden.js';

const cases = loadGolden('conv_pool').filter((c) => c.op !== 'conv2d');

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => {
  T.setKernelFamily(null);
  T.setPoisonOutputs(false);
});

function run(c: GoldenCase, x: T.Tensor): T.Tensor {
  const o = {
    kernel: c.kernel as IntPair,
    stride: c.stride as IntPair,
    padding: c.padding as IntPair,
    ceilMode: c.ceilMode as boolean,
  };
  if (c.op === 'maxPool2d') return maxPool2d(x, o);
  if (c.op === 'avgPool2d') return avgPool2d(x, { ...o, countIncludePad: c.countIncludePad as boolean });
  return adaptiveAvgPool2d(x, c.size as IntPair);
}

for (const family of ['cpu', 'gpu'] as const) {
  describe(`pools match PyTorch (${family} kernels)`, () => {
    for (const c of cases) {
      it(`${String(c.op)} ${String(c.label)}`, async () => {
        T.setKernelFamily(family);
        const label = `${family} ${String(c.op)} ${String(c.label)}`;
        const x = toTensor(arrayOf(c, 'x'), true);
        const r = toTensor(arrayOf(c, 'r'));
        const y = run(c, x);
        await expectGolden(y, arrayOf(c, 'y'), 1e-4, `${label}: y`);
        const loss = T.scope(() => T.sum(T.mul(y, r)));
        loss.backward();
        await expectGolden(x.grad!, arrayOf(c, 'dx'), 1e-3, `${label}: dx`);
        for (const t of [x, r, y, loss, x.grad]) t?.dispose();
      });
    }
  });
}

describe('pool details', () => {
  it("ceil_mode drops a last window that would start in the padding (PyTorch's rule)", () => {
    expect(poolOutputSize(10, 3, 2, 1, true)).toBe(6); // ceil(9/2) + 1; the last window starts at 10 - 1 = 9 < 11
    expect(poolOutputSize(5, 2, 2, 1, true)).toBe(3); // ceil(4/2) + 1 = 4, but window 3 starts at 6 >= 5 + 1: dropped
    expect(poolOutputSize(112, 3, 2, 1, false)).toBe(56); // DenseNet pool0
    expect(poolOutputSize(111, 3, 2, 0, false)).toBe(55); // the paper's first pool
  });

  it('max pool pads with -inf, not zero', async () => {
    // Each 2x2 window at stride 2, padding 1 holds one real (negative) value and three pads.
    const x = T.tensor([-1, -2, -3, -4], [1, 1, 2, 2]);
    const y = maxPool2d(x, { kernel: 2, stride: 2, padding: 1 });
    expect(Array.from(await y.data())).toEqual([-1, -2, -3, -4]);
    x.dispose();
    y.dispose();
  });

  it('global average pool equals adaptive [1, 1] and keeps H, W as 1', async () => {
    const x = T.randn([2, 3, 5, 7], { seed: 5 });
    const g = globalAvgPool2d(x);
    expect(g.shape).toEqual([2, 3, 1, 1]);
    const a = await adaptiveAvgPool2d(x, 1).data();
    const want = await g.data();
    for (let i = 0; i < 6; i++) expect(a[i]).toBeCloseTo(want[i]!, 6);
    for (const t of [x, g]) t.dispose();
  });

  it('rejects padding over half the kernel, like PyTorch', () => {
    const x = T.zeros([1, 1, 8, 8]);
    expect(() => maxPool2d(x, { kernel: 2, padding: 2 })).toThrow(/at most half/);
    expect(() => avgPool2d(T.zeros([1, 8, 8]), { kernel: 2 })).toThrow(/NCHW/);
  });
});

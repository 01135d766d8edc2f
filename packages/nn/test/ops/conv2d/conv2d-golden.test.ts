// conv2d against PyTorch 1.13 (fixtures/golden/conv_pool.json from scripts/golden/conv_pool.py):
// forward, and the gradients of sum(y * r) for x, w and b, on both kernel families.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { conv2d, type IntPair } from '../../../src/ops/conv-pool.js';
import { arrayOf, expectGolden, loadGolden, toTensor } from '../../helpers/golden.js';

const cases = loadGolden('conv_pool').filter((c) => c.op === 'conv2d');

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => {
  T.setKernelFamily(null);
  T.setPoisonOutputs(false);
});

for (const family of ['cpu', 'gpu'] as const) {
  describe(`conv2d matches PyTorch (${family} kernels)`, () => {
    for (const c of cases) {
      it(String(c.label), async () => {
        T.setKernelFamily(family);
        const label = `${family} ${String(c.label)}`;
        const x = toTensor(arrayOf(c, 'x'), true);
        const w = toTensor(arrayOf(c, 'w'), true);
        const b = c.b ? toTensor(arrayOf(c, 'b'), true) : null;
        const r = toTensor(arrayOf(c, 'r'));
        const options = { stride: c.stride as IntPair, padding: c.padding as IntPair, dilation: c.dilation as IntPair };
        const y = conv2d(x, w, b, options);
        await expectGolden(y, arrayOf(c, 'y'), 1e-4, `${label}: y`);
        const loss = T.scope(() => T.sum(T.mul(y, r)));
        loss.backward();
        await expectGolden(x.grad!, arrayOf(c, 'dx'), 1e-3, `${label}: dx`);
        await expectGolden(w.grad!, arrayOf(c, 'dw'), 1e-3, `${label}: dw`);
        if (b) await expectGolden(b.grad!, arrayOf(c, 'db'), 1e-3, `${label}: db`);
        for (const t of [x, w, b, r, y, loss, x.grad, w.grad, b?.grad]) t?.dispose();
      });
    }
  });
}

describe('conv2d bookkeeping', () => {
  it('frees everything it allocates (forward and backward)', async () => {
    T.setKernelFamily(null);
    const before = T.memory().liveBytes;
    const x = T.randn([2, 3, 9, 8], { seed: 1 });
    const w = T.randn([5, 3, 3, 3], { seed: 2 });
    w.requiresGrad = true;
    const loss = T.scope(() => T.sum(conv2d(x, w, null, { padding: 1, stride: 2 })));
    loss.backward();
    await w.grad!.data();
    for (const t of [x, w, w.grad, loss]) t?.dispose();
    expect(T.memory().liveBytes).toBe(before);
  });

  it('skips the data gradient when the input needs none', () => {
    const x = T.randn([1, 2, 6, 6], { seed: 3 });
    const w = T.randn([2, 2, 3, 3], { seed: 4 });
    w.requiresGrad = true;
    const loss = T.scope(() => T.sum(conv2d(x, w)));
    loss.backward();
    expect(x.grad).toBeNull();
    expect(w.grad!.shape).toEqual([2, 2, 3, 3]);
    for (const t of [x, w, w.grad, loss]) t?.dispose();
  });

  it('rejects mismatched shapes with a message naming them', () => {
    const x = T.zeros([1, 3, 5, 5]);
    expect(() => conv2d(x, T.zeros([4, 2, 3, 3]))).toThrow(/expects 2 input channels, input has 3/);
    expect(() => conv2d(x, T.zeros([4, 3, 7, 7]))).toThrow(/does not fit/);
    expect(() => conv2d(x, T.zeros([4, 3, 3, 3]), null, { stride: 0 })).toThrow(/stride/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { dropout, localResponseNorm, softmaxCrossEntropy, type Reduction } from '../../src/ops/norm-loss.js';
import { arrayOf, expectGolden, loadGolden, toTensor } from '../helpers/golden.js';

const cases = loadGolden('norm_loss_sgd').filter((c) => c.op === 'cross_entropy');

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => T.setPoisonOutputs(false));

describe('softmaxCrossEntropy against PyTorch', () => {
  for (const c of cases) {
    it(c.name as string, async () => {
      const x = toTensor(arrayOf(c, 'logits'), true);
      const targets = T.tensor(Int32Array.from(c.targets as number[]));
      const weight = c.weight ? toTensor(arrayOf(c, 'weight')) : undefined;
      const loss = softmaxCrossEntropy(x, targets, {
        weight,
        labelSmoothing: c.label_smoothing as number,
        reduction: c.reduction as Reduction,
      });
      loss.backward(toTensor(arrayOf(c, 'g')));
      await expectGolden(loss, arrayOf(c, 'loss'), 1e-4, `${c.name} loss`);
      await expectGolden(x.grad!, arrayOf(c, 'dlogits'), 1e-3, `${c.name} dlogits`);
      x.grad!.dispose();
    });
  }
});

describe('softmaxCrossEntropy behaviour', () => {
  it('refuses a target outside [0, C) known on the host at the call, naming its position and value', () => {
    const x = T.randn([4, 2], { seed: 1 });
    expect(() => softmaxCrossEntropy(x, T.tensor(Int32Array.from([1, 0, 1, 7])))).toThrow(
      'softmaxCrossEntropy: target 7 at position 3 is outside [0, 2)',
    );
    expect(() => softmaxCrossEntropy(x, T.tensor(Int32Array.from([1, -1, 1, 0])), { reduction: 'none' })).toThrow(
      'softmaxCrossEntropy: target -1 at position 1 is outside [0, 2)',
    );
  });

  it('refuses a target outside [0, C) computed on the device at the next read, without reading out of bounds', async () => {
    const x = T.randn([3, 4], { seed: 1 });
    const onDevice = (v: number[]) => T.cast(T.tensor(v), 'i32'); // a kernel's output: not on the host
    const loss = softmaxCrossEntropy(x, onDevice([0, 4, 1]));
    await expect(loss.item()).rejects.toThrow('softmaxCrossEntropy: target 4 at position 1 is outside [0, 4)');
    expect(await loss.item()).toBeNaN(); // reported once; the loss itself is NaN
    // Calls without a read in between: the first problem is the one reported.
    softmaxCrossEntropy(x, onDevice([3, 2, -5]));
    softmaxCrossEntropy(x, onDevice([9, 0, 0]));
    const fine = softmaxCrossEntropy(x, onDevice([3, 0, 2]));
    await expect(fine.item()).rejects.toThrow('softmaxCrossEntropy: target -5 at position 2 is outside [0, 4)');
    expect(Number.isFinite(await softmaxCrossEntropy(x, onDevice([3, 0, 2])).item())).toBe(true);
  });

  it('matches log-softmax + gather at ImageNet width (1000 classes, several workgroups per row)', async () => {
    const x = T.randn([3, 1000], { seed: 2, std: 5 });
    const t = [17, 999, 512];
    const loss = await softmaxCrossEntropy(x, T.tensor(Int32Array.from(t))).item();
    const xs = await x.data();
    let want = 0;
    for (let n = 0; n < 3; n++) {
      const row = Array.from(xs.slice(n * 1000, (n + 1) * 1000));
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
      want += (lse - row[t[n]!]!) / 3;
    }
    expect(Math.abs(loss - want) / want).toBeLessThan(1e-5);
  });

  it('rejects f32 targets, wrong weight sizes and unknown reductions', () => {
    const x = T.randn([2, 3], { seed: 3 });
    expect(() => softmaxCrossEntropy(x, T.tensor([0, 1]))).toThrow(/targets must be i32 \[2\]/);
    expect(() => softmaxCrossEntropy(x, T.tensor(Int32Array.from([0, 1])), { weight: T.ones([2]) })).toThrow(
      /weight must be f32 \[3\]/,
    );
    expect(() => softmaxCrossEntropy(x, T.tensor(Int32Array.from([0, 1])), { reduction: 'avg' as Reduction })).toThrow(
      /reduction/,
    );
  });
});

describe('norm-loss ops together', () => {
  it('LRN -> dropout -> cross-entropy trains through one backward and frees every temporary', async () => {
    const x = T.randn([4, 6, 2, 2], { seed: 11 }).keep();
    x.requiresGrad = true;
    const targets = T.tensor(Int32Array.from([1, 0, 5, 3])).keep();
    const weight = T.rand([6], { seed: 12, low: 0.5, high: 1 }).keep();
    await T.sync();
    const live = T.memory().liveBytes;
    const loss = T.scope(() => {
      const y = localResponseNorm(x, { size: 3, alpha: 0.5 });
      const d = dropout(y, 0.25, { training: true, seed: 3 });
      const l = softmaxCrossEntropy(T.reshape(T.mean(d, [2, 3]), [4, 6]), targets, { weight, labelSmoothing: 0.1 });
      l.backward();
      return l;
    });
    expect(Number.isFinite(await loss.item())).toBe(true);
    const gs = await x.grad!.data();
    expect(gs.every((v) => Number.isFinite(v))).toBe(true);
    loss.dispose();
    x.grad!.dispose();
    await T.sync();
    expect(T.memory().liveBytes).toBe(live);
    for (const t of [x, targets, weight]) t.dispose();
  });
});

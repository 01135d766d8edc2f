import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { sgdStep, type SgdOptions } from '../../src/ops/norm-loss.js';
import { expectGolden, loadGolden, toTensor, type GoldenArray, type GoldenCase } from '../helpers/golden.js';

const cases = loadGolden('norm_loss_sgd').filter((c) => c.op === 'sgd');

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => T.setPoisonOutputs(false));

const optionsOf = (c: GoldenCase): SgdOptions => ({
  lr: c.lr as number,
  momentum: c.momentum as number,
  dampening: c.dampening as number,
  weightDecay: c.weight_decay as number,
  nesterov: c.nesterov as boolean,
});

describe('sgdStep against torch.optim.SGD (3 steps)', () => {
  for (const c of cases) {
    it(c.name as string, async () => {
      const params = (c.init as GoldenArray[]).map((a) => toTensor(a).keep());
      let buffers: (T.Tensor | null)[] | undefined;
      for (const [k, s] of (c.steps as GoldenCase[]).entries()) {
        const grads = (s.grads as GoldenArray[]).map((a) => toTensor(a));
        buffers = T.scope(() => sgdStep(params, grads, buffers, optionsOf(c)));
        for (const [i, p] of params.entries())
          await expectGolden(p, (s.params as GoldenArray[])[i]!, 1e-4, `step ${k + 1} param ${i}`);
      }
      expect(buffers!.every((b) => (c.momentum === 0 ? b === null : b !== null && !b.isDisposed))).toBe(true);
      for (const t of [...params, ...buffers!]) t?.dispose();
    });
  }
});

/** PyTorch's rule in float64. */
function reference(
  p: number[],
  g: number[],
  b: number[] | null,
  o: Required<SgdOptions>,
): { p: number[]; b: number[] | null } {
  const outP: number[] = [];
  const outB: number[] = [];
  for (let i = 0; i < p.length; i++) {
    let d = g[i]! + o.weightDecay * p[i]!;
    if (o.momentum !== 0) {
      const buf = b === null ? d : o.momentum * b[i]! + (1 - o.dampening) * d;
      outB.push(buf);
      d = o.nesterov ? d + o.momentum * buf : buf;
    }
    outP.push(p[i]! - o.lr * d);
  }
  return { p: outP, b: o.momentum !== 0 ? outB : null };
}

describe('sgdStep batching', () => {
  it('updates many parameters of mixed sizes in ceil(n / slots) dispatches, skipping null grads', async () => {
    const sizes = [7, 1, 300, 64, 5, 1000, 3, 2, 129, 17, 4, 33, 6];
    const o = { lr: 0.05, momentum: 0.9, dampening: 0.2, weightDecay: 1e-3, nesterov: false };
    const params = sizes.map((n, i) => T.randn([n], { seed: i }).keep());
    const gradsFor = (step: number) => sizes.map((n, i) => (i === 4 ? null : T.randn([n], { seed: 100 * step + i })));
    // Parameter 2 already has a buffer (resumed state); the others start fresh.
    const start: (T.Tensor | null)[] = sizes.map((n, i) => (i === 2 ? T.randn([n], { seed: 999 }).keep() : null));
    let wantP = await Promise.all(params.map(async (p) => Array.from(await p.data())));
    let wantB: (number[] | null)[] = await Promise.all(start.map(async (b) => (b ? Array.from(await b.data()) : null)));
    let buffers: (T.Tensor | null)[] = start;
    const limit = T.getEngine().info.limits.maxStorageBuffersPerShaderStage;
    for (let step = 0; step < 2; step++) {
      const grads = gradsFor(step);
      for (const [i, g] of grads.entries()) {
        if (!g) continue;
        const r = reference(wantP[i]!, Array.from(await g.data()), wantB[i]!, o);
        wantP[i] = r.p;
        wantB[i] = r.b;
      }
      await T.sync();
      const before = T.getEngine().counters.dispatches;
      buffers = sgdStep(params, grads, buffers, o);
      // Step 2 only: on step 1 the poisoned new buffers add fill dispatches of their own.
      if (step === 1)
        expect(T.getEngine().counters.dispatches - before).toBe(Math.ceil(12 / Math.min(16, Math.floor(limit / 3))));
      for (const g of grads) g?.dispose();
    }
    expect(buffers[4]).toBeNull();
    for (const [i, p] of params.entries())
      await expectGolden(p, { shape: [sizes[i]!], data: wantP[i]! }, 1e-5, `param ${i}`);
    for (const [i, b] of buffers.entries())
      if (b) await expectGolden(b, { shape: [sizes[i]!], data: wantB[i]! }, 1e-5, `buffer ${i}`);
    for (const t of [...params, ...buffers]) t?.dispose();
  });

  it('rejects bad options and mismatched gradients', () => {
    const p = T.zeros([3]);
    expect(() => sgdStep([p], [T.zeros([3])], null, { lr: 0.1, nesterov: true })).toThrow(/Nesterov/);
    expect(() => sgdStep([p], [T.zeros([4])], null, { lr: 0.1 })).toThrow(/parameter 0/);
    expect(() => sgdStep([p, p], [T.zeros([3]), T.zeros([3])], null, { lr: 0.1 })).toThrow(/shares its storage/);
    expect(() => sgdStep([p], [T.zeros([3])], null, { lr: -1 })).toThrow(/lr must be/);
  });
});

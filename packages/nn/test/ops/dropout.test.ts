import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { dropout } from '../../src/ops/norm-loss.js';

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => T.setPoisonOutputs(false));

describe('dropout', () => {
  it('keeps about 1 - p of the elements, scaled by 1 / (1 - p), and preserves the mean', async () => {
    const n = 40_001; // not a multiple of 4: the scalar kernel
    for (const [p, seed] of [
      [0.5, 1],
      [0.2, 2],
      [0.9, 3],
    ] as const) {
      const y = await dropout(T.ones([n]), p, { training: true, seed }).data();
      let kept = 0;
      for (const v of y) {
        if (v !== 0) {
          expect(v).toBeCloseTo(1 / (1 - p), 5);
          kept++;
        }
      }
      // Binomial(n, 1 - p): 5 standard deviations.
      const sd = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(kept - n * (1 - p))).toBeLessThan(5 * sd);
    }
  });

  it('draws the mask from (seed, counter) like the tensor RNG, in the vec4 kernel too', async () => {
    const n = 4096;
    const p = 0.3;
    const y = await dropout(T.full([64, 64], 2), p, { training: true, seed: 77 }).data();
    const [k0, k1] = T.seedKeys(77);
    for (let i = 0; i < n; i++) {
      const keep = T.rngUniform(k0, k1, i) >= p;
      expect(y[i], `element ${i}`).toBeCloseTo(keep ? 2 / (1 - p) : 0, 5);
    }
  });

  it('is reproducible: same seed, same mask; manualSeed replays the default generator', async () => {
    const x = T.randn([3, 5, 7], { seed: 4 });
    const a = await dropout(x, 0.4, { training: true, seed: 9 }).data();
    const b = await dropout(x, 0.4, { training: true, seed: 9 }).data();
    expect(b).toEqual(a);
    T.manualSeed(123);
    const c = await dropout(x, 0.4, { training: true }).data();
    const d = await dropout(x, 0.4, { training: true }).data();
    T.manualSeed(123);
    const e = await dropout(x, 0.4, { training: true }).data();
    expect(e).toEqual(c);
    expect(d).not.toEqual(c); // the generator advanced
  });

  it('backward applies the forward mask to the gradient', async () => {
    for (const shape of [
      [6, 7, 5],
      [8, 16],
    ]) {
      const x = T.randn(shape, { seed: 5 });
      x.requiresGrad = true;
      const g = T.randn(shape, { seed: 6 });
      const y = dropout(x, 0.35, { training: true });
      y.backward(g);
      const [xs, ys, gs, dx] = await Promise.all([x.data(), y.data(), g.data(), x.grad!.data()]);
      for (let i = 0; i < xs.length; i++) {
        const kept = ys[i] !== 0;
        expect(dx[i]).toBeCloseTo(kept ? gs[i]! / 0.65 : 0, 5);
        expect(ys[i]).toBeCloseTo(kept ? xs[i]! / 0.65 : 0, 5);
      }
      x.grad!.dispose();
    }
  });

  it('is the identity in eval and for p = 0; p = 1 drops everything', async () => {
    const x = T.randn([5, 3], { seed: 7 });
    expect(dropout(x, 0.5, { training: false })).toBe(x);
    expect(dropout(x, 0, { training: true })).toBe(x);
    expect(Array.from(await dropout(x, 1, { training: true }).data()).every((v) => v === 0)).toBe(true);
    expect(() => dropout(x, 1.5, { training: true })).toThrow(/p must be in \[0, 1\]/);
  });
});

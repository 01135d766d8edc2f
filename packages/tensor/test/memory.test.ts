// Lifetimes: scopes, keep, dispose, and a 1,000-step training loop whose live memory stays
// flat (a leak of even one buffer per step would show).
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';
import { upload } from './helpers/gpu.js';
import { randomArr, seedFor } from './helpers/random.js';

beforeAll(async () => {
  await T.ready();
});

describe('scope', () => {
  it('disposes intermediates and keeps returned and kept tensors (also inside arrays, objects, maps)', () => {
    let inner: T.Tensor[] = [];
    let kept: T.Tensor | null = null;
    const out = T.scope(() => {
      const a = T.ones([4]);
      const b = T.add(a, 1);
      kept = T.mul(b, 2).keep();
      inner = [a, b];
      return { direct: T.exp(b), list: [T.neg(b), { deep: T.square(b) }], map: new Map([['m', T.abs(b)]]) };
    });
    expect(inner.every((t) => t.isDisposed)).toBe(true);
    expect(kept!.isDisposed).toBe(false);
    for (const t of [out.direct, out.list[0] as T.Tensor, (out.list[1] as { deep: T.Tensor }).deep, out.map.get('m')!])
      expect(t.isDisposed).toBe(false);
  });

  it('returned tensors move to the enclosing scope', () => {
    let fromInner: T.Tensor | null = null;
    T.scope(() => {
      fromInner = T.scope(() => T.ones([2]));
      expect(fromInner.isDisposed).toBe(false);
    });
    expect(fromInner!.isDisposed).toBe(true);
  });

  it('cleans up when fn throws, and rejects async functions', () => {
    let made: T.Tensor | null = null;
    expect(() =>
      T.scope(() => {
        made = T.ones([3]);
        throw new Error('inside');
      }),
    ).toThrow('inside');
    expect(made!.isDisposed).toBe(true);
    expect(() => T.scope(async () => T.ones([1]))).toThrow(/synchronous/);
  });
});

describe('dispose', () => {
  it('is idempotent and gives the bytes back once', () => {
    const before = T.memory().liveBytes;
    const t = T.ones([1000]);
    const size = T.memory().liveBytes - before;
    expect(size).toBeGreaterThanOrEqual(4000);
    t.dispose();
    t.dispose();
    expect(T.memory().liveBytes).toBe(before);
  });

  it('views share storage: the buffer goes when the last view goes', async () => {
    const before = T.memory().liveBytes;
    const t = T.arange(12);
    const v = T.reshape(t, [3, 4]);
    t.dispose();
    expect(Array.from(await v.data())).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(T.memory().liveBytes).toBeGreaterThan(before);
    v.dispose();
    expect(T.memory().liveBytes).toBe(before);
  });

  it('using a disposed tensor throws a TensorError that names it', async () => {
    const t = T.ones([2, 3]);
    t.dispose();
    expect(() => T.add(t, 1)).toThrow(T.TensorError);
    expect(() => T.reshape(t, [6])).toThrow(/disposed/);
    await expect(t.data()).rejects.toThrow(T.TensorError);
  });

  it('memory() tracks the peak until reset', () => {
    T.resetPeakMemory();
    const base = T.memory();
    const t = T.ones([1 << 16]);
    t.dispose();
    const after = T.memory();
    expect(after.peakLiveBytes).toBeGreaterThanOrEqual(base.liveBytes + (1 << 18));
    T.resetPeakMemory();
    expect(T.memory().peakLiveBytes).toBe(after.liveBytes);
  });
});

describe('training loop', () => {
  it('1,000 steps of a 2-layer MLP keep live bytes flat and the loss falls', async () => {
    const x = upload(randomArr([16, 8], seedFor('mlp-x'))).keep();
    const target = upload(randomArr([16, 4], seedFor('mlp-y'), { lo: -0.5, hi: 0.5 })).keep();
    let params = [
      upload(randomArr([8, 16], seedFor('mlp-w1'), { lo: -0.4, hi: 0.4 })),
      upload(randomArr([16], seedFor('mlp-b1'), { lo: -0.1, hi: 0.1 })),
      upload(randomArr([16, 4], seedFor('mlp-w2'), { lo: -0.4, hi: 0.4 })),
      upload(randomArr([4], seedFor('mlp-b2'), { lo: -0.1, hi: 0.1 })),
    ];
    for (const p of params) p.keep().requiresGrad = true;
    const lr = 0.05;
    const losses: number[] = [];
    const live: Record<number, number> = {};
    for (let step = 1; step <= 1000; step++) {
      const loss = T.scope(() => {
        const [w1, b1, w2, b2] = params as [T.Tensor, T.Tensor, T.Tensor, T.Tensor];
        const h = T.relu(T.add(T.matmul(x, w1), b1));
        const out = T.add(T.matmul(h, w2), b2);
        const l = T.mean(T.square(T.sub(out, target)));
        l.backward();
        // SGD as new kept tensors; the old parameters and the gradients go.
        params = T.noGrad(() =>
          params.map((p) => {
            const next = T.sub(p, T.mul(p.grad!, lr)).keep();
            next.requiresGrad = true;
            p.grad!.dispose();
            p.dispose();
            return next;
          }),
        );
        return step % 100 === 0 ? l : null;
      });
      if (loss) {
        losses.push(await loss.item());
        loss.dispose();
        live[step] = T.memory().liveBytes;
      }
    }
    expect(live[1000]).toBe(live[100]);
    expect(live[500]).toBe(live[100]);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.9);
    for (const t of [x, target, ...params]) t.dispose();
  });
});

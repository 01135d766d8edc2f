// The kernel profiler (kernel-profiler.ts, T.profileKernels): each dispatch counted under its
// kernel's name, across several submits, with per-dispatch details on request; results still
// right while profiled; a clear error when nested or stopped twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';

beforeAll(async () => {
  await T.ready();
});
afterAll(() => T.setKernelFamily(null));

describe('profileKernels', () => {
  it('counts every dispatch under its kernel, across submits, and leaves results right', async () => {
    const a = T.tensor(
      Float32Array.from({ length: 64 * 64 }, (_, i) => (i % 7) - 3),
      [64, 64],
    );
    const b = T.tensor(
      Float32Array.from({ length: 64 * 64 }, (_, i) => (i % 5) - 2),
      [64, 64],
    );
    const before = T.getEngine().counters.submits;
    const p = await T.profileKernels(async () => {
      let acc = T.matmulRaw(a, b);
      for (let i = 0; i < 3; i++) {
        const next = T.add(acc, a);
        acc.dispose();
        acc = next;
        T.flush(); // a submit per round: the profile must gather all of them
      }
      return acc.data();
    });
    expect(T.getEngine().counters.submits - before).toBeGreaterThanOrEqual(4);
    const byName = new Map(p.kernels.map((k) => [k.name, k]));
    expect(byName.get('elementwise')?.dispatches).toBe(3);
    expect([...byName.keys()].some((n) => n.startsWith('matmul'))).toBe(true);
    expect(p.kernels.reduce((s, k) => s + k.dispatches, 0)).toBeGreaterThanOrEqual(4);
    expect(p.kernelMs).toBeGreaterThan(0);
    expect(p.deviceMs).toBeGreaterThanOrEqual(p.kernelMs * 0.99);
    expect(p.dispatches).toBeUndefined();
    // The values: A·B + 3A, against a CPU sum.
    const [av, bv] = [await a.data(), await b.data()];
    for (const [r, c] of [
      [0, 0],
      [17, 40],
      [63, 63],
    ] as const) {
      let s = 3 * av[r * 64 + c]!;
      for (let k = 0; k < 64; k++) s += av[r * 64 + k]! * bv[k * 64 + c]!;
      expect(p.result[r * 64 + c]).toBe(s);
    }
    for (const t of [a, b]) t.dispose();
  });

  it('lists each dispatch with its workgroups and first uniform words when asked', async () => {
    const x = T.ones([1000]);
    const p = await T.profileKernels(() => T.mul(x, x).data(), { perDispatch: true });
    const d = p.dispatches!.find((e) => e.name === 'elementwise')!;
    expect(d.workgroups.length).toBe(3);
    expect(d.words.length).toBeGreaterThan(0);
    // The per-dispatch list is the same timing the totals fold: one entry per dispatch, same sums.
    expect(p.dispatches!.length).toBe(p.kernels.reduce((s, k) => s + k.dispatches, 0));
    expect(p.dispatches!.reduce((s, e) => s + e.ms, 0)).toBeCloseTo(p.kernelMs, 9);
    x.dispose();
  });

  it('refuses to nest, and to stop a profile that is not running', async () => {
    const e = T.getEngine();
    await expect(T.profileKernels(() => T.profileKernels(() => 1))).rejects.toThrow(/already running/);
    await expect(e.stopKernelProfile()).rejects.toThrow(/no kernel profile is running/);
    // A failed body still ends the profile, so the next one can start.
    await expect(T.profileKernels(() => Promise.reject(new Error('body failed')))).rejects.toThrow('body failed');
    const ok = await T.profileKernels(() => 2);
    expect(ok.result).toBe(2);
    expect(ok.kernels).toEqual([]);
  });
});

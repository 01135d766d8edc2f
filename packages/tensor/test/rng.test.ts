// Counter-based random numbers: the GPU draws equal their CPU twin bit for bit, seeded draws
// reproduce, the default generator advances and its state restores exactly, and the
// distributions have the right moments.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';

beforeAll(async () => {
  await T.ready();
});

function moments(v: Float32Array | Int32Array): { mean: number; variance: number } {
  let m = 0;
  for (const x of v) m += x;
  m /= v.length;
  let s = 0;
  for (const x of v) s += (x - m) ** 2;
  return { mean: m, variance: s / (v.length - 1) };
}

/** CPU twin of the default-generator draw at (seed, counter). */
function cpuUniform(seed: number, counter: number, n: number): number[] {
  const [k0, k1] = T.seedKeys(seed);
  return Array.from({ length: n }, (_, i) => T.rngUniform(k0, k1, counter + i));
}

describe('reproducibility', () => {
  it('rand with a seed equals the CPU twin exactly and leaves the default generator alone', async () => {
    const state = T.getRngState();
    const x = await T.rand([1003], { seed: 1234 }).data();
    expect(Array.from(x)).toEqual(cpuUniform(1234, 0, 1003));
    expect(T.getRngState()).toEqual(state);
    const again = await T.rand([1003], { seed: 1234 }).data();
    expect(Array.from(again)).toEqual(Array.from(x));
    const other = await T.rand([1003], { seed: 1235 }).data();
    expect(Array.from(other)).not.toEqual(Array.from(x));
  });

  it('randn and bernoulli follow the CPU twin (Box-Muller on pairs; u < p)', async () => {
    const n = 501;
    const z = await T.randn([n], { seed: 99 }).data();
    const u = cpuUniform(99, 0, 2 * n);
    for (let i = 0; i < n; i++) {
      const want = Math.sqrt(-2 * Math.log(1 - u[2 * i]!)) * Math.cos(2 * Math.PI * u[2 * i + 1]!);
      expect(Math.abs(z[i]! - want), `randn[${i}]`).toBeLessThan(2e-4 * Math.max(1, Math.abs(want)));
    }
    const b = await T.bernoulli([n], 0.3, { seed: 7 }).data();
    const p = Math.fround(0.3);
    expect(Array.from(b)).toEqual(cpuUniform(7, 0, n).map((v) => (v < p ? 1 : 0)));
    expect(() => T.bernoulli([2], 1.5)).toThrow(T.TensorError);
  });

  it('the default generator advances, and manualSeed / setRngState replay a draw exactly', async () => {
    T.manualSeed(42);
    const a = await T.rand([257]).data();
    expect(Array.from(a)).toEqual(cpuUniform(42, 0, 257));
    const b = await T.rand([257]).data();
    expect(Array.from(b)).toEqual(cpuUniform(42, 257, 257));
    const saved = T.getRngState();
    const c = await T.randn([100]).data();
    expect(T.getRngState().counter).toBe(saved.counter + 200);
    T.setRngState(saved);
    expect(Array.from(await T.randn([100]).data())).toEqual(Array.from(c));
    T.manualSeed(42);
    expect(Array.from(await T.rand([257]).data())).toEqual(Array.from(a));
  });
});

describe('distributions', () => {
  const n = 200_000;
  it('rand is uniform on [low, high)', async () => {
    const x = await T.rand([n], { seed: 11, low: -2, high: 3 }).data();
    const { mean, variance } = moments(x);
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(variance - 25 / 12)).toBeLessThan(0.03);
    expect(x.every((v) => v >= -2 && v < 3)).toBe(true);
  });

  it('randn has the requested mean and standard deviation', async () => {
    const x = await T.randn([n], { seed: 12, mean: 1.5, std: 2 }).data();
    const { mean, variance } = moments(x);
    expect(Math.abs(mean - 1.5)).toBeLessThan(0.03);
    expect(Math.abs(variance - 4)).toBeLessThan(0.08);
    expect(x.every(Number.isFinite)).toBe(true);
  });

  it('bernoulli has mean p', async () => {
    const x = await T.bernoulli([n], 0.3, { seed: 13 }).data();
    expect(Math.abs(moments(x).mean - 0.3)).toBeLessThan(0.006);
    expect(x.every((v) => v === 0 || v === 1)).toBe(true);
  });
});

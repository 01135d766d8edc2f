// The matmul tier-up on lavapipe (ops/matmul/matmul-tiers.ts): products start on the baseline block, a
// variant is handed to the kernel warmer once it has done enough work, and then runs the wide
// block, with results still matching the float64 reference. The blocks here are small (16x16,
// 8x8) so that CI compiles them in seconds on a cold shader cache; the logic is the same for the
// default 32x32. A fake warmer checks the bookkeeping; the real one runs a child process. The
// tier-up serves the buffer kernels, so texture operands are off here except where a test says.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';
import * as tuning from '../src/tuning.js';
import { refMatmul, refMatmulAbs } from './reference/matmul.js';
import { mapArr } from './reference/ndarray.js';
import { download, expectClose, upload } from './helpers/gpu.js';
import { randomArr, seedFor } from './helpers/random.js';

const DEFAULTS = (() => tuning.getMatmulTierUp())();
let llvmpipe = false;

beforeAll(async () => {
  await T.ready();
  llvmpipe =
    T.deviceInfo().kernels === 'cpu' && /llvmpipe/i.test(`${T.deviceInfo().device} ${T.deviceInfo().description}`);
  T.setPoisonOutputs(true);
  tuning.setMatmulTextures(false);
});
afterAll(() => tuning.setMatmulTextures('auto'));
afterEach(() => {
  tuning.setKernelWarmer(null);
  tuning.setMatmulTierUp(DEFAULTS);
});

// 68 x 136 x 36: eligible for a 16x16 block (M >= 16, N >= 8 lanes x 16, K % 4 == 0) and a
// multiple of neither tile size, so clamped rows and guarded columns are exercised.
const M = 68;
const N = 136;
const K = 36;

async function checkProduct(transA: boolean, transB: boolean): Promise<void> {
  const a = randomArr(transA ? [K, M] : [M, K], seedFor('tiers a', transA, transB));
  const b = randomArr(transB ? [N, K] : [K, N], seedFor('tiers b', transA, transB));
  const c = T.matmulRaw(upload(a), upload(b), transA, transB);
  const scale = mapArr(refMatmulAbs(a, b, transA, transB), (v) => 1e-6 * Math.sqrt(K) * v);
  expectClose(
    await download(c),
    refMatmul(a, b, transA, transB),
    { rtol: 0, atol: 1e-6, scale },
    `tiers ${transA} ${transB}`,
  );
  c.dispose();
}

function fakeWarmer(result: () => Promise<void> = async () => undefined) {
  const calls: { job: tuning.WarmJob; hold: boolean }[] = [];
  tuning.setKernelWarmer({
    warm: (job, _device, hold) => {
      calls.push({ job, hold });
      return result();
    },
  });
  return calls;
}

const state = (v: string) => tuning.matmulTiers().find((t) => t.variant === v)?.state;

describe('matmul tier-up', () => {
  it('warms a variant once it has done the threshold of work, then runs the wide block', async (ctx) => {
    if (!llvmpipe) ctx.skip();
    const calls = fakeWarmer();
    const tiles = { tm: 16, tn: 16, wx: 8, wy: 1 };
    tuning.setMatmulTierUp({ tiles, hotFlops: 3 * 2 * M * N * K });
    expect(tuning.matmulTierUpActive()).toBe(true);
    await checkProduct(false, false);
    await checkProduct(false, false);
    expect(calls).toHaveLength(0);
    expect(state('NN')).toBe('baseline');
    await checkProduct(false, false); // the third crosses the threshold
    expect(calls).toEqual([
      {
        job: {
          kernel: 'matmul',
          options: { family: 'cpu', transA: false, transB: false, vec4: true, packedB: true, ...tiles },
        },
        hold: false,
      },
    ]);
    await new Promise((r) => setTimeout(r, 0));
    expect(state('NN')).toBe('ready');
    const compiled = T.getEngine().counters.pipelinesCompiled;
    await checkProduct(false, false);
    // The wide block's pipeline, and the B packer for its wider panels.
    expect(T.getEngine().counters.pipelinesCompiled).toBe(compiled + 2);
    await checkProduct(false, false);
    expect(T.getEngine().counters.pipelinesCompiled).toBe(compiled + 2);
    expect(calls).toHaveLength(1);
  });

  it('warmMatmul warms every transpose variant at once and each then matches the reference', async (ctx) => {
    if (!llvmpipe) ctx.skip();
    const calls = fakeWarmer();
    tuning.setMatmulTierUp({ tiles: { tm: 8, tn: 8, wx: 8, wy: 1 } });
    expect(await tuning.warmMatmul()).toBe(true);
    expect(calls.map((c) => [c.job.options.transA, c.job.options.transB, c.hold])).toEqual([
      [false, false, true],
      [true, false, true],
      [false, true, true],
      [true, true, true],
    ]);
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const)
      await checkProduct(ta, tb);
    expect(tuning.matmulTiers().map((t) => t.state)).toEqual(['ready', 'ready', 'ready', 'ready']);
  });

  it('warmMatmul with wait: false returns at once and the variant switches when ready', async (ctx) => {
    if (!llvmpipe) ctx.skip();
    let finish!: () => void;
    const calls = fakeWarmer(() => new Promise<void>((r) => (finish = r)));
    tuning.setMatmulTierUp({ tiles: { tm: 16, tn: 16, wx: 8, wy: 1 } });
    expect(await tuning.warmMatmul([{ transA: true }], { wait: false })).toBe(false);
    expect(calls.map((c) => c.hold)).toEqual([false]);
    expect(state('TN')).toBe('warming');
    await checkProduct(true, false); // still the baseline
    finish();
    await new Promise((r) => setTimeout(r, 0));
    expect(state('TN')).toBe('ready');
    await checkProduct(true, false);
  });

  it('leaves products that cannot take the wide block out of the count', async (ctx) => {
    if (!llvmpipe) ctx.skip();
    const calls = fakeWarmer();
    tuning.setMatmulTierUp({ tiles: { tm: 16, tn: 16, wx: 8, wy: 1 }, hotFlops: 1 });
    const run = async (m: number, n: number, k: number) =>
      (await T.matmulRaw(T.ones([m, k]), T.ones([k, n])).data())[0];
    expect(await run(68, 136, 37)).toBe(37); // K % 4 != 0: no vec4 path
    expect(await run(12, 136, 36)).toBe(36); // fewer rows than the block
    expect(await run(68, 100, 36)).toBe(36); // fewer columns than one workgroup covers
    expect(calls).toHaveLength(0);
    expect(tuning.matmulTiers()).toEqual([]);
  });

  it('keeps the baseline when warming fails, and says why', async (ctx) => {
    if (!llvmpipe) ctx.skip();
    fakeWarmer(async () => {
      throw new Error('no adapter in the child');
    });
    tuning.setMatmulTierUp({ tiles: { tm: 16, tn: 16, wx: 8, wy: 1 }, hotFlops: 1 });
    await checkProduct(false, true);
    await new Promise((r) => setTimeout(r, 0));
    expect(tuning.matmulTiers()).toEqual([
      { variant: 'NT', state: 'failed', gflop: (2 * M * N * K) / 1e9, error: 'no adapter in the child' },
    ]);
    await checkProduct(false, true);
  });

  it('is off when turned off, even with a warmer', async () => {
    const calls = fakeWarmer();
    tuning.setMatmulTierUp({ enabled: false, hotFlops: 1 });
    expect(tuning.matmulTierUpActive()).toBe(false);
    expect(await tuning.warmMatmul()).toBe(false);
    await checkProduct(false, false);
    expect(calls).toHaveLength(0);
  });

  it('is inactive while texture operands are on: the products it would serve take the texture kernel', async (ctx) => {
    if (!llvmpipe) ctx.skip();
    const calls = fakeWarmer();
    tuning.setMatmulTierUp({ hotFlops: 1 });
    expect(tuning.matmulTierUpActive()).toBe(true);
    tuning.setMatmulTextures('auto');
    try {
      expect(tuning.matmulTierUpActive()).toBe(false);
      expect(await tuning.warmMatmul()).toBe(false);
      await checkProduct(false, false);
      expect(calls).toHaveLength(0);
    } finally {
      tuning.setMatmulTextures(false);
    }
  });

  it('does nothing without a warmer', async () => {
    tuning.setMatmulTierUp({ hotFlops: 1 });
    expect(tuning.matmulTierUpActive()).toBe(false);
    expect(await tuning.warmMatmul()).toBe(false);
    await checkProduct(true, false);
    expect(tuning.matmulTiers().every((t) => t.state === 'baseline')).toBe(true);
  });

  it('the Node warmer compiles the block in a child process', async (ctx) => {
    if (!llvmpipe) ctx.skip();
    const script = new URL('../dist/kernel-warmer-child.js', import.meta.url).pathname;
    tuning.setKernelWarmer(new T.NodeKernelWarmer(script));
    tuning.setMatmulTierUp({ tiles: { tm: 8, tn: 8, wx: 8, wy: 1 } });
    expect(await tuning.warmMatmul([{ transB: true }])).toBe(true);
    const [row] = tuning.matmulTiers();
    expect(row).toMatchObject({ variant: 'NT', state: 'ready' });
    expect(row!.warmSeconds).toBeGreaterThan(0);
    await checkProduct(false, true);
  });
});

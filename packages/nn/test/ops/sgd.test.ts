import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { sgdStep, type SgdOptions } from '../../src/ops/norm-loss.js';
import { MomentumArena } from '../../src/ops/sgd.js';
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
      let arena: MomentumArena | null = null;
      for (const [k, s] of (c.steps as GoldenCase[]).entries()) {
        const grads = (s.grads as GoldenArray[]).map((a) => toTensor(a));
        arena = T.scope(() => sgdStep(params, grads, arena, optionsOf(c)));
        for (const [i, p] of params.entries())
          await expectGolden(p, (s.params as GoldenArray[])[i]!, 1e-4, `step ${k + 1} param ${i}`);
      }
      expect(c.momentum === 0 ? arena === null : arena !== null && !arena.isDisposed).toBe(true);
      for (const t of params) t.dispose();
      arena?.dispose();
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

/** Slots per dispatch: (grad, param) pairs, one binding less with momentum (the arena's). */
const slotsPerDispatch = (momentum: boolean) =>
  Math.min(16, Math.floor((T.getEngine().info.limits.maxStorageBuffersPerShaderStage - (momentum ? 1 : 0)) / 2));

/** Dispatches of one step: groups of at most `slots` parameters with a gradient, never across a chunk. */
function expectedDispatches(arena: MomentumArena | null, withGrad: number[], slots: number): number {
  let n = 0;
  let inGroup = 0;
  let chunk = -1;
  for (const i of withGrad) {
    const c = arena ? arena.chunkOf[i]! : 0;
    if (inGroup === 0 || inGroup === slots || c !== chunk) {
      n++;
      inGroup = 0;
      chunk = c;
    }
    inGroup++;
  }
  return n;
}

/**
 * Steps of sgdStep against the float64 rule, parameters and buffers compared after each step.
 * `gradAt(step, i)` false skips parameter i that step (a null grad).
 */
async function checkSteps(
  sizes: number[],
  o: Required<SgdOptions>,
  steps: number,
  gradAt: (step: number, i: number) => boolean,
  arena: MomentumArena | null,
  resumed: Map<number, T.Tensor> = new Map(),
): Promise<MomentumArena | null> {
  const params = sizes.map((n, i) => T.randn([n], { seed: i }).keep());
  const wantP = await Promise.all(params.map(async (p) => Array.from(await p.data())));
  const wantB: (number[] | null)[] = sizes.map(() => null);
  for (const [i, b] of resumed) {
    arena!.write(i, b);
    wantB[i] = Array.from(await b.data());
  }
  for (let step = 0; step < steps; step++) {
    const grads = sizes.map((n, i) => (gradAt(step, i) ? T.randn([n], { seed: 100 * (step + 1) + i }) : null));
    for (const [i, g] of grads.entries()) {
      if (!g) continue;
      const r = reference(wantP[i]!, Array.from(await g.data()), wantB[i]!, o);
      wantP[i] = r.p;
      wantB[i] = r.b;
    }
    await T.sync();
    const fresh = arena === null && o.momentum !== 0;
    const before = T.getEngine().counters.dispatches;
    arena = sgdStep(params, grads, arena, o);
    const withGrad = sizes.flatMap((n, i) => (grads[i] && n > 0 ? [i] : []));
    // A new arena's poisoned storage adds a fill dispatch of its own.
    if (!fresh)
      expect(T.getEngine().counters.dispatches - before, `dispatches of step ${step + 1}`).toBe(
        expectedDispatches(arena, withGrad, slotsPerDispatch(o.momentum !== 0)),
      );
    for (const g of grads) g?.dispose();
    for (const [i, p] of params.entries())
      await expectGolden(p, { shape: [sizes[i]!], data: wantP[i]! }, 1e-5, `step ${step + 1} param ${i}`);
    for (const [i, want] of wantB.entries()) {
      const b = arena?.read(i) ?? null;
      expect(b === null, `step ${step + 1}: buffer ${i} exists`).toBe(want === null);
      if (b) await expectGolden(b, { shape: [sizes[i]!], data: want! }, 1e-5, `step ${step + 1} buffer ${i}`);
      b?.dispose();
    }
  }
  for (const p of params) p.dispose();
  return arena;
}

// Sizes that straddle the workgroup (64) and slot boundaries, more parameters than one dispatch
// takes, so a wrong offset into the arena moves some parameter's buffer onto its neighbour's.
const AWKWARD = [7, 1, 300, 65, 5, 1000, 3, 2, 129, 17, 4, 33, 6, 1, 64, 3, 7, 1000, 65, 1];

describe('sgdStep batching', () => {
  it('updates many parameters of mixed sizes in ceil(n / slots) dispatches, skipping null grads', async () => {
    const o = { lr: 0.05, momentum: 0.9, dampening: 0.2, weightDecay: 1e-3, nesterov: false };
    const sizes = AWKWARD.slice(0, 13);
    // Parameter 2 already has a buffer (resumed state); the others start fresh; 4 never has a grad.
    const arena = new MomentumArena(sizes.map((n) => [n]));
    const resumed = new Map([[2, T.randn([300], { seed: 999 })]]);
    const end = await checkSteps(sizes, o, 2, (_, i) => i !== 4, arena, resumed);
    expect(end).toBe(arena);
    expect(arena.has[4]).toBe(false);
    expect(expectedDispatches(arena, [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12], slotsPerDispatch(true))).toBe(
      Math.ceil(12 / slotsPerDispatch(true)),
    );
    arena.dispose();
    for (const t of resumed.values()) t.dispose();
  });

  for (const [name, o] of [
    ['momentum and dampening', { lr: 0.05, momentum: 0.9, dampening: 0.3, weightDecay: 1e-2, nesterov: false }],
    ['Nesterov', { lr: 0.1, momentum: 0.8, dampening: 0, weightDecay: 5e-4, nesterov: true }],
    ['no momentum', { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 1e-3, nesterov: false }],
  ] as const) {
    it(`${name}: 4 steps of 20 awkward sizes, null grads in the middle, against float64`, async () => {
      // Parameter 3 has no grad on step 1 (its buffer starts on step 2), 9 and 10 skip step 2
      // (their buffers stay as they are), 15 never has one.
      const gradAt = (step: number, i: number) =>
        !(i === 15 || (i === 3 && step === 0) || ((i === 9 || i === 10) && step === 1));
      const arena = await checkSteps(AWKWARD, o, 4, gradAt, null);
      expect(arena === null).toBe(o.momentum === 0);
      if (arena) {
        expect(arena.chunks.length).toBe(1);
        expect(arena.chunks[0]!.size).toBe(AWKWARD.reduce((a, b) => a + b, 0));
        expect(arena.has).toEqual(AWKWARD.map((_, i) => i !== 15));
      }
      arena?.dispose();
    });
  }

  it('an arena split into chunks keeps each buffer whole in one and never mixes chunks in a dispatch', async () => {
    const o = { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 1e-3, nesterov: true };
    // 1100 values per chunk: 1000 fits alone, the small ones fill chunks up to the bound.
    const arena = new MomentumArena(
      AWKWARD.map((n) => [n]),
      1100 * 4,
    );
    expect(arena.chunks.length).toBeGreaterThan(2);
    for (const [i, n] of AWKWARD.entries()) {
      expect(arena.offsets[i]! + n).toBeLessThanOrEqual(arena.chunks[arena.chunkOf[i]!]!.size);
      if (i > 0 && arena.chunkOf[i] === arena.chunkOf[i - 1])
        expect(arena.offsets[i]).toBe(arena.offsets[i - 1]! + AWKWARD[i - 1]!);
    }
    await checkSteps(AWKWARD, o, 3, (step, i) => !(i === 7 && step === 1), arena);
    arena.dispose();
  });

  it("a buffer written into the arena reads back unchanged, in its parameter's shape", async () => {
    const arena = new MomentumArena([[2, 3], [1], [4, 1, 2]]);
    expect(arena.read(1)).toBeNull();
    arena.write(1, T.tensor([5]));
    arena.write(2, T.arange(8));
    arena.write(0, T.tensor([1, 2, 3, 4, 5, 6], [3, 2]));
    const b = [arena.read(0)!, arena.read(1)!, arena.read(2)!];
    expect(b.map((t) => t.shape)).toEqual([[2, 3], [1], [4, 1, 2]]);
    expect(await Promise.all(b.map(async (t) => Array.from(await t.data())))).toEqual([
      [1, 2, 3, 4, 5, 6],
      [5],
      [0, 1, 2, 3, 4, 5, 6, 7],
    ]);
    expect(() => arena.write(0, T.zeros([5]))).toThrow(/buffer 0 takes 6 f32 values/);
    arena.dispose();
  });

  it('rejects bad options and mismatched gradients', () => {
    const p = T.zeros([3]);
    expect(() => sgdStep([p], [T.zeros([3])], null, { lr: 0.1, nesterov: true })).toThrow(/Nesterov/);
    expect(() => sgdStep([p], [T.zeros([4])], null, { lr: 0.1 })).toThrow(/parameter 0/);
    expect(() => sgdStep([p, p], [T.zeros([3]), T.zeros([3])], null, { lr: 0.1 })).toThrow(/shares its storage/);
    expect(() => sgdStep([p], [T.zeros([3])], null, { lr: -1 })).toThrow(/lr must be/);
    const arena = new MomentumArena([[4]]);
    expect(() => sgdStep([p], [T.zeros([3])], arena, { lr: 0.1, momentum: 0.9 })).toThrow(/momentum buffer 0 has 4/);
    expect(() => sgdStep([p, T.zeros([4])], [null, null], arena, { lr: 0.1 })).toThrow(/arena for 1 parameters/);
    arena.dispose();
  });
});

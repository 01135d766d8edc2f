import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { batchNorm2d, batchNormRelu } from '../../src/ops/norm-loss.js';
import { setBatchNormSinglePass } from '../../src/tuning.js';
import { arrayOf, expectGolden, loadGolden, toTensor, type GoldenArray, type GoldenCase } from '../helpers/golden.js';

const cases = loadGolden('norm_loss_sgd').filter((c) => c.op === 'batchnorm');

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => T.setPoisonOutputs(false));

// The 'gpu' kernel family reads the statistics' chunks interleaved; check both orders here.
describe.each([
  ['adapter default', null],
  ["'gpu'", 'gpu'],
] as const)('batchNorm2d / batchNormRelu against PyTorch, %s kernel family', (_, family) => {
  beforeAll(() => T.setKernelFamily(family));
  afterAll(() => T.setKernelFamily(null));
  for (const c of cases) {
    it(c.name as string, async () => {
      const w = toTensor(arrayOf(c, 'weight'), true).keep();
      const b = toTensor(arrayOf(c, 'bias'), true).keep();
      const rm = toTensor(arrayOf(c, 'running_mean')).keep();
      const rv = toTensor(arrayOf(c, 'running_var')).keep();
      const op = c.relu ? batchNormRelu : batchNorm2d;
      const steps = c.steps as GoldenCase[];
      for (const [k, s] of steps.entries()) {
        const label = `${c.name} step ${k + 1}`;
        const x = toTensor(arrayOf(s, 'x'), true);
        const y = op(x, w, b, rm, rv, {
          training: c.training as boolean,
          momentum: c.momentum as number,
          eps: c.eps as number,
        });
        y.backward(toTensor(arrayOf(s, 'g')));
        await expectGolden(y, arrayOf(s, 'y'), 1e-4, `${label} y`);
        await expectGolden(rm, arrayOf(s, 'running_mean'), 1e-4, `${label} running_mean`);
        await expectGolden(rv, arrayOf(s, 'running_var'), 1e-4, `${label} running_var`);
        await expectGolden(x.grad!, arrayOf(s, 'dx'), 1e-3, `${label} dx`);
        await expectGolden(w.grad!, arrayOf(s, 'dweight'), 1e-3, `${label} dweight`);
        await expectGolden(b.grad!, arrayOf(s, 'dbias'), 1e-3, `${label} dbias`);
        for (const t of [w, b, x]) {
          t.grad?.dispose();
          t.grad = null;
        }
        x.dispose();
        y.dispose();
      }
      for (const t of [w, b, rm, rv]) t.dispose();
    });
  }
});

describe('batchNorm2d behaviour', () => {
  const first = cases[0]!;
  const step = (first.steps as GoldenCase[])[0]!;
  const x0 = arrayOf(step, 'x');

  it('eval leaves the running stats alone; training without running stats uses batch stats', async () => {
    const w = toTensor(arrayOf(first, 'weight'));
    const b = toTensor(arrayOf(first, 'bias'));
    const rm = toTensor(arrayOf(first, 'running_mean'));
    const rv = toTensor(arrayOf(first, 'running_var'));
    batchNorm2d(toTensor(x0), w, b, rm, rv, { training: false });
    await expectGolden(rm, arrayOf(first, 'running_mean'), 1e-7, 'running_mean after eval');
    // Without running stats PyTorch normalises with the batch's, in either mode.
    const y = batchNorm2d(toTensor(x0), w, b, null, null, { training: false });
    await expectGolden(y, arrayOf(step, 'y'), 1e-4, 'untracked y');
  });

  it('computes only parameter gradients when x needs none, and frees its temporaries', async () => {
    const w = toTensor(arrayOf(first, 'weight'), true).keep();
    const b = toTensor(arrayOf(first, 'bias'), true).keep();
    const x = toTensor(x0).keep();
    const g = toTensor(arrayOf(step, 'g')).keep();
    await T.sync();
    const live = T.memory().liveBytes;
    T.scope(() => batchNorm2d(x, w, b, null, null, { training: true }).backward(g));
    await expectGolden(w.grad!, arrayOf(step, 'dweight'), 1e-3, 'dweight');
    expect(x.grad).toBeNull();
    w.grad!.dispose();
    b.grad!.dispose();
    await T.sync();
    expect(T.memory().liveBytes).toBe(live);
    for (const t of [w, b, x, g]) t.dispose();
  });

  it('rejects mismatched shapes and single-value channels in training', () => {
    const x = T.randn([2, 3, 4, 4], { seed: 1 });
    const w = T.ones([4]);
    expect(() => batchNorm2d(x, w, T.zeros([3]), null, null, { training: true })).toThrow(/weight must be f32 \[3\]/);
    expect(() =>
      batchNorm2d(T.randn([1, 3, 1, 1], { seed: 2 }), T.ones([3]), T.zeros([3]), null, null, { training: true }),
    ).toThrow(/more than 1 value/);
  });

  it('matches a float64 reference on a DenseNet-sized plane count', async () => {
    // Many chunks per plane and a 2-D plane grid: 3 x 8 planes of 28x28.
    const shape = [3, 8, 28, 28];
    const x = T.randn(shape, { seed: 5, mean: 1.5, std: 3 });
    const y = batchNormRelu(x, T.full([8], 0.7), T.full([8], 0.2), null, null, { training: true });
    const xs = await x.data();
    const want: GoldenArray = { shape, data: new Array(xs.length) };
    const S = 28 * 28;
    for (let c = 0; c < 8; c++) {
      let s = 0;
      for (let n = 0; n < 3; n++) for (let i = 0; i < S; i++) s += xs[(n * 8 + c) * S + i]!;
      const mean = s / (3 * S);
      let v = 0;
      for (let n = 0; n < 3; n++) for (let i = 0; i < S; i++) v += (xs[(n * 8 + c) * S + i]! - mean) ** 2;
      const inv = 1 / Math.sqrt(v / (3 * S) + 1e-5);
      for (let n = 0; n < 3; n++)
        for (let i = 0; i < S; i++)
          want.data[(n * 8 + c) * S + i] = Math.max(0, (xs[(n * 8 + c) * S + i]! - mean) * inv * 0.7 + 0.2);
    }
    await expectGolden(y, want, 1e-4, 'y');
  });
});

/** relu(batchNorm) forward and backward in float64 (batch statistics, no running stats). */
function bnReluReference(xs: ArrayLike<number>, gs: ArrayLike<number>, shape: number[], w: number, b: number) {
  const [N, C] = shape as [number, number];
  const S = shape.slice(2).reduce((p, d) => p * d, 1);
  const M = N * S;
  const y = new Array<number>(xs.length);
  const dx = new Array<number>(xs.length);
  const dw = new Array<number>(C);
  const db = new Array<number>(C);
  const at = (n: number, c: number, i: number) => (n * C + c) * S + i;
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) s += xs[at(n, c, i)]!;
    const mean = s / M;
    let v = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) v += (xs[at(n, c, i)]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / M + 1e-5);
    let sg = 0;
    let sgh = 0;
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < S; i++) {
        const k = at(n, c, i);
        const h = (xs[k]! - mean) * inv;
        const pre = h * w + b;
        y[k] = Math.max(0, pre);
        const dy = pre > 0 ? gs[k]! : 0;
        dx[k] = dy; // the pre-activation gradient, finished below
        sg += dy;
        sgh += dy * h;
      }
    }
    dw[c] = sgh;
    db[c] = sg;
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < S; i++) {
        const k = at(n, c, i);
        const h = (xs[k]! - mean) * inv;
        dx[k] = w * inv * (dx[k]! - sg / M - (h * sgh) / M);
      }
    }
  }
  return { y, dx, dw, db };
}

// The single-pass kernels (one workgroup per channel: the statistics, and the backward's sums and
// coefficients, one dispatch each) and the partial/finalize pairs, forced on both families.
describe.each([
  ["'cpu'", 'cpu', true],
  ["'cpu'", 'cpu', false],
  ["'gpu'", 'gpu', true],
  ["'gpu'", 'gpu', false],
] as const)('batchNormRelu against float64, %s kernel family, single pass %s', (_, family, single) => {
  beforeAll(() => {
    T.setKernelFamily(family);
    setBatchNormSinglePass(single);
  });
  afterAll(() => {
    T.setKernelFamily(null);
    setBatchNormSinglePass('auto');
  });
  const shapes: [string, number[]][] = [
    ['vec4 planes', [3, 5, 28, 28]],
    ['odd planes', [4, 6, 7, 7]],
    ['90x90 planes, many vectors per lane', [2, 3, 90, 90]],
    ['odd planes of many chunks, channels not a multiple of a workgroup', [3, 9, 33, 35]],
  ];
  for (const [label, shape] of shapes) {
    it(`${label}: [${shape.join(', ')}]`, async () => {
      const C = shape[1]!;
      const x = T.randn(shape, { seed: 11, mean: 40, std: 3 });
      const g = T.randn(shape, { seed: 12 });
      const w = T.full([C], 0.7);
      const b = T.full([C], 0.2);
      for (const t of [x, w, b]) t.requiresGrad = true;
      const y = batchNormRelu(x, w, b, null, null, { training: true });
      y.backward(g);
      const ref = bnReluReference(await x.data(), await g.data(), shape, 0.7, 0.2);
      await expectGolden(y, { shape, data: ref.y }, 1e-4, 'y');
      await expectGolden(x.grad!, { shape, data: ref.dx }, 1e-3, 'dx');
      await expectGolden(w.grad!, { shape: [C], data: ref.dw }, 1e-3, 'dweight');
      await expectGolden(b.grad!, { shape: [C], data: ref.db }, 1e-3, 'dbias');
    });
  }
});

// 'cpu': the backward (sums, coefficients and dx) in one dispatch; 'gpu': the sums and
// coefficients in one, dx in a second.
describe.each([
  ['cpu', 1],
  ['gpu', 2],
] as const)('batchNormRelu dispatches, %s kernel family', (family, backward) => {
  // Poisoned outputs are filled by a dispatch of their own.
  beforeAll(() => {
    T.setKernelFamily(family);
    T.setPoisonOutputs(false);
  });
  afterAll(() => {
    T.setKernelFamily(null);
    T.setPoisonOutputs(true);
  });

  it(`training records the statistics in one dispatch and the backward in ${backward}`, async () => {
    const shape = [4, 6, 14, 14];
    const x = T.randn(shape, { seed: 3 }).keep();
    const g = T.randn(shape, { seed: 4 }).keep();
    const w = T.full([6], 0.5).keep();
    const b = T.full([6], 0.1).keep();
    const rm = T.zeros([6]).keep();
    const rv = T.ones([6]).keep();
    for (const t of [x, w, b]) t.requiresGrad = true;
    const e = T.getEngine();
    const before = e.counters.dispatches;
    const y = batchNormRelu(x, w, b, rm, rv, { training: true });
    expect(e.counters.dispatches - before).toBe(2); // statistics, then y
    y.backward(g);
    expect(e.counters.dispatches - before).toBe(2 + backward);
    for (const t of [x, g, w, b, rm, rv, y, x.grad!, w.grad!, b.grad!]) t.dispose();
  });
});

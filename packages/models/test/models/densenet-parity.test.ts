// Parity with torchvision 0.14: a full DenseNet-121 at 224 px (batch 2) whose weights, running
// statistics, input and upstream gradient all come from the closed formulas documented in
// scripts/make-densenet-golden.py, which wrote fixtures/densenet/golden-densenet121.json with
// PyTorch 1.13, in the plain and the memory-efficient mode:
// - logits (train and eval mode) within 1e-4 relative error of PyTorch's float32 ones;
// - running statistics after the step within 1e-4 of PyTorch's (float64 run);
// - parameter gradients against PyTorch's float64 run: within 1e-3 where PyTorch's own float32
//   gradient is that close to float64 (classifier, norm5, the last dense layer), and within 3x
//   PyTorch's own float32 spread below (ReLU masks flipped by float32 rounding; see the script).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import type { StateEntry } from '@spine/nn';
import { densenet121, type DenseNet } from '../../src/models/densenet/densenet.js';

interface Summary {
  /** How far PyTorch's float32 gradient lies from its float64 one (gradients only). */
  f32Spread?: { maxRel: number; l2Rel: number };
  shape: number[];
  sum: number;
  sumAbs: number;
  l2: number;
  maxAbs: number;
  at: number[];
  values: number[];
}
interface Golden {
  batch: number;
  size: number;
  logits_train: { shape: number[]; data: number[] };
  logits_eval: { shape: number[]; data: number[] };
  grads: Record<string, Summary>;
  running_after: Record<string, Summary>;
}
const GOLDEN = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'densenet', 'golden-densenet121.json'), 'utf8')) as Golden;

beforeAll(async () => {
  await T.ready();
});

/** Chris Wellons' lowbias32, as the generator's numpy version (uint32 arithmetic). */
function lowbias32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** u(t, i) = 2 h / 2^32 - 1 in [-1, 1): the generator's per-entry value stream. */
function hashStream(t: number, n: number): Float64Array {
  const out = new Float64Array(n);
  const salt = Math.imul(t, 0x85ebca77) >>> 0;
  for (let i = 0; i < n; i++) out[i] = (2 * lowbias32((Math.imul(i, 0x9e3779b1) + salt) >>> 0)) / 2 ** 32 - 1;
  return out;
}

/** The generator's formula weights for every state-dict entry (num_batches_tracked left at 0). */
function formulaState(m: DenseNet): Map<string, StateEntry> {
  const state = new Map<string, StateEntry>();
  [...m.stateDict()].forEach(([key, t], index) => {
    if (key.endsWith('num_batches_tracked')) return;
    const u = hashStream(index, t.size);
    const fanIn = t.shape.slice(1).reduce((a, b) => a * b, 1);
    const f: (v: number) => number = key.endsWith('running_mean')
      ? (v) => 0.1 * v
      : key.endsWith('running_var')
        ? (v) => 1 + 0.5 * v
        : key.endsWith('weight') && t.rank >= 2
          ? (v) => v * Math.sqrt(6 / fanIn)
          : key.endsWith('weight')
            ? (v) => 1 + 0.25 * v
            : (v) => 0.1 * v;
    state.set(key, { shape: [...t.shape], data: Float32Array.from(u, f) });
  });
  return state;
}

function formulaInput(batch: number, size: number): T.Tensor {
  const x = new Float32Array(batch * 3 * size * size);
  let i = 0;
  for (let n = 0; n < batch; n++)
    for (let c = 0; c < 3; c++)
      for (let h = 0; h < size; h++)
        for (let w = 0; w < size; w++, i++) x[i] = Math.sin(0.05 * h * (c + 1) + 0.07 * w + 1.1 * n) + 0.3 * Math.sin(0.9 * i + 0.5);
  return T.tensor(x, [batch, 3, size, size]);
}

function upstream(shape: readonly number[]): T.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return T.tensor(Float32Array.from({ length: n }, (_, i) => Math.cos(0.37 * i + 0.2)), shape);
}

function expectLogits(got: Float32Array | Int32Array, want: { shape: number[]; data: number[] }, label: string): void {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < want.data.length; i++) {
    scale = Math.max(scale, Math.abs(want.data[i]!));
    worst = Math.max(worst, Math.abs(got[i]! - want.data[i]!));
  }
  expect(got.length, label).toBe(want.data.length);
  report(label, worst / scale, 1e-4);
  expect(worst / scale, `${label}: max |ours - torch| / max |torch|`).toBeLessThan(1e-4);
}

/** SPINE_PARITY_REPORT=1 prints every measured error next to its bound (for docs and reports). */
function report(label: string, err: number, bound: number): void {
  if (process.env.SPINE_PARITY_REPORT) console.info(`${label.padEnd(58)} ${err.toExponential(2)}  (bound ${bound.toExponential(1)})`);
}

/** A tensor's summary against the fixture's: entries relative to its largest |v|, sums to sum |v|. */
async function expectSummary(t: T.Tensor, want: Summary, rel: number, label: string): Promise<void> {
  expect(t.shape, label).toEqual(want.shape);
  const d = await t.data();
  let sum = 0;
  let sumAbs = 0;
  let sq = 0;
  let maxAbs = 0;
  for (const v of d) {
    sum += v;
    sumAbs += Math.abs(v);
    sq += v * v;
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  const worst = Math.max(
    Math.abs(sum - want.sum) / want.sumAbs,
    Math.abs(sumAbs - want.sumAbs) / want.sumAbs,
    Math.abs(Math.sqrt(sq) - want.l2) / want.l2,
    Math.abs(maxAbs - want.maxAbs) / want.maxAbs,
    ...want.at.map((i, k) => Math.abs(d[i]! - want.values[k]!) / want.maxAbs),
  );
  report(label, worst, rel);
  expect(Math.abs(sum - want.sum) / want.sumAbs, `${label} sum (${sum} vs ${want.sum})`).toBeLessThan(rel);
  expect(Math.abs(sumAbs - want.sumAbs) / want.sumAbs, `${label} sum |g|`).toBeLessThan(rel);
  expect(Math.abs(Math.sqrt(sq) - want.l2) / want.l2, `${label} L2`).toBeLessThan(rel);
  expect(Math.abs(maxAbs - want.maxAbs) / want.maxAbs, `${label} max |g|`).toBeLessThan(rel);
  want.at.forEach((i, k) => expect(Math.abs(d[i]! - want.values[k]!) / want.maxAbs, `${label}[${i}]`).toBeLessThan(rel));
}

/** The generator's sequence: train forward, backward of sum(logits * upstream), eval forward. */
async function checkAgainstTorch(memoryEfficient: boolean): Promise<void> {
  const m = densenet121({ memoryEfficient });
  m.loadStateDict(formulaState(m), false);
  const x = formulaInput(GOLDEN.batch, GOLDEN.size);
  m.train();
  const y = m.forward(x);
  expectLogits(await y.data(), GOLDEN.logits_train, 'train-mode logits');
  T.sum(T.mul(y, upstream(y.shape))).backward();
  const params = new Map(m.namedParameters());
  for (const [key, want] of Object.entries(GOLDEN.grads)) {
    const tolerance = Math.max(1e-3, 3 * want.f32Spread!.maxRel);
    await expectSummary(params.get(key)!.grad!, want, tolerance, `grad ${key}`);
  }
  const state = m.stateDict();
  for (const [key, want] of Object.entries(GOLDEN.running_after)) await expectSummary(state.get(key)!, want, 1e-4, key);
  m.eval();
  expectLogits(await T.noGrad(() => m.forward(x)).data(), GOLDEN.logits_eval, 'eval-mode logits');
  m.dispose();
  x.dispose();
}

describe('DenseNet-121 matches torchvision 0.14 at 224 px (formula weights)', () => {
  // About a minute each on lavapipe (2 cores), more on a loaded machine.
  it('plain mode: train logits, gradients, running stats, eval logits', { timeout: 600_000 }, async () => {
    await checkAgainstTorch(false);
  });

  it('memory-efficient mode: the same', { timeout: 600_000 }, async () => {
    await checkAgainstTorch(true);
  });
});

// The closed-formula weights, inputs and upstream gradients of scripts/make-densenet-golden.py
// (which make-resnet-unet-fixtures.py imports), and the comparisons against a golden's recorded
// outputs and float64 summaries.
import { expect } from 'vitest';
import * as T from '@spine/tensor/node';
import type { Module, StateEntry } from '@spine/nn';

export interface Summary {
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

export interface Outputs {
  shape: number[];
  data: number[];
}

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

/** The generator's formula value for every state-dict entry (num_batches_tracked left at 0). */
export function formulaState(m: Module): Map<string, StateEntry> {
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

/** x[n, c, h, w] = sin(0.05 h (c + 1) + 0.07 w + 1.1 n) + 0.3 sin(0.9 i + 0.5), i the flat index. */
export function formulaInput(batch: number, channels: number, size: number): T.Tensor {
  const x = new Float32Array(batch * channels * size * size);
  let i = 0;
  for (let n = 0; n < batch; n++)
    for (let c = 0; c < channels; c++)
      for (let h = 0; h < size; h++)
        for (let w = 0; w < size; w++, i++)
          x[i] = Math.sin(0.05 * h * (c + 1) + 0.07 * w + 1.1 * n) + 0.3 * Math.sin(0.9 * i + 0.5);
  return T.tensor(x, [batch, channels, size, size]);
}

/** The upstream gradient cos(0.37 i + 0.2) of the generator's loss sum(out * upstream). */
export function upstream(shape: readonly number[]): T.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return T.tensor(
    Float32Array.from({ length: n }, (_, i) => Math.cos(0.37 * i + 0.2)),
    shape,
  );
}

/** SPINE_PARITY_REPORT=1 prints every measured error next to its bound (for docs and reports). */
function report(label: string, err: number, bound: number): void {
  if (process.env.SPINE_PARITY_REPORT)
    console.info(`${label.padEnd(58)} ${err.toExponential(2)}  (bound ${bound.toExponential(1)})`);
}

/** max |ours - torch| / max |torch| below `rel`. */
export function expectOutputs(
  got: Float32Array | Int32Array,
  shape: readonly number[],
  want: Outputs,
  label: string,
  rel = 1e-4,
): void {
  expect([...shape], label).toEqual(want.shape);
  expect(got.length, label).toBe(want.data.length);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < want.data.length; i++) {
    scale = Math.max(scale, Math.abs(want.data[i]!));
    worst = Math.max(worst, Math.abs(got[i]! - want.data[i]!));
  }
  report(label, worst / scale, rel);
  expect(worst / scale, `${label}: max |ours - torch| / max |torch|`).toBeLessThan(rel);
}

/** A tensor's summary against the fixture's: entries relative to its largest |v|, sums to sum |v|. */
export async function expectSummary(t: T.Tensor, want: Summary, rel: number, label: string): Promise<void> {
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
  const checks: [string, number][] = [
    ['sum', Math.abs(sum - want.sum) / want.sumAbs],
    ['sum |v|', Math.abs(sumAbs - want.sumAbs) / want.sumAbs],
    ['L2', Math.abs(Math.sqrt(sq) - want.l2) / want.l2],
    ['max |v|', Math.abs(maxAbs - want.maxAbs) / want.maxAbs],
    ...want.at.map((i, k): [string, number] => [`[${i}]`, Math.abs(d[i]! - want.values[k]!) / want.maxAbs]),
  ];
  report(label, Math.max(...checks.map(([, e]) => e)), rel);
  for (const [what, err] of checks) expect(err, `${label} ${what}`).toBeLessThan(rel);
}

// Finite-difference gradient check. loss = sum(op(x) * r) with a random r; the GPU gradient
// from backward() is compared with central differences of the float64 reference forward, so
// what is measured is the backward rule, not f32 rounding in a GPU forward.
import { expect } from 'vitest';
import { mul, scope, sum, type Tensor } from '../../src/node.js';
import type { Arr } from '../reference/ndarray.js';
import { download, expectClose, upload } from './gpu.js';
import { randomArr } from './random.js';

export interface GradCheck {
  label: string;
  inputs: Arr[];
  gpu: (xs: Tensor[]) => Tensor;
  ref: (xs: Arr[]) => Arr;
  seed: number;
  /** Inputs to differentiate (default: all). */
  wrt?: number[];
  /** Finite-difference step (float64, so it can be small). */
  h?: number;
  rtol?: number;
}

function refLoss(ref: (xs: Arr[]) => Arr, xs: Arr[], r: Arr): number {
  const y = ref(xs);
  let s = 0;
  for (let i = 0; i < y.data.length; i++) s += y.data[i]! * r.data[i]!;
  return s;
}

export function numericGrad(ref: (xs: Arr[]) => Arr, xs: Arr[], r: Arr, which: number, h: number): Arr {
  const x = xs[which]!;
  const g = new Float64Array(x.data.length);
  for (let j = 0; j < g.length; j++) {
    const orig = x.data[j]!;
    x.data[j] = orig + h;
    const up = refLoss(ref, xs, r);
    x.data[j] = orig - h;
    const down = refLoss(ref, xs, r);
    x.data[j] = orig;
    g[j] = (up - down) / (2 * h);
  }
  return { shape: [...x.shape], data: g };
}

export async function gradCheck(c: GradCheck): Promise<void> {
  const wrt = c.wrt ?? c.inputs.map((_, i) => i);
  const yRef = c.ref(c.inputs);
  const r = randomArr(yRef.shape, c.seed ^ 0x5bd1e995, { lo: -1, hi: 1 });
  const xs = c.inputs.map((a) => upload(a));
  for (const i of wrt) xs[i]!.requiresGrad = true;
  scope(() => {
    const y = c.gpu(xs);
    expect(y.shape, `${c.label}: output shape`).toEqual(yRef.shape);
    sum(mul(y, upload(r))).backward();
  });
  for (const i of wrt) {
    const x = xs[i]!;
    expect(x.grad, `${c.label}: input ${i} has no gradient`).not.toBeNull();
    const got = await download(x.grad!);
    const want = numericGrad(c.ref, c.inputs, r, i, c.h ?? 1e-6);
    // f32 backward vs exact derivative: relative 1e-3, plus an absolute floor relative to
    // the largest gradient (cancellation in sums of products makes small entries noisy).
    const big = want.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expectClose(got, want, { rtol: c.rtol ?? 1e-3, atol: 1e-4 * Math.max(1, big) }, `${c.label}: d/dx${i}`);
  }
  for (const x of xs) {
    x.grad?.dispose();
    x.dispose();
  }
}

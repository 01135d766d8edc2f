// A differentiable op against its float64 reference: the forward within `fwd`, and the
// gradients of sum(y * r) (r a random upstream gradient) within `grad` of central differences
// of the reference, so what is measured is the backward rule, not f32 rounding in a forward.
import { expect } from 'vitest';
import * as T from '@spine/tensor/node';
import { expectGolden } from './golden.js';
import { randomArr } from './near.js';
import type { Arr } from '../ops/conv-pool-reference.js';

export interface GradCheck {
  label: string;
  inputs: Arr[];
  /** Indices of the inputs to differentiate. */
  wrt: number[];
  gpu: (xs: T.Tensor[]) => T.Tensor;
  ref: (xs: Arr[]) => Arr;
  fwd?: number;
  grad?: number;
  /** Step of the central differences (default 1e-6). */
  h?: number;
}

export async function gradCheck(c: GradCheck): Promise<void> {
  const { label, inputs, wrt, fwd = 1e-4, grad = 1e-3, h = 1e-6 } = c;
  const want = c.ref(inputs);
  const r = randomArr(want.shape, 77);
  const xs = inputs.map((a, i) => {
    const t = T.tensor(Float32Array.from(a.data), a.shape);
    t.requiresGrad = wrt.includes(i);
    return t;
  });
  const y = c.gpu(xs);
  await expectGolden(y, { shape: want.shape, data: Array.from(want.data) }, fwd, `${label}: forward`);
  const loss = T.scope(() => T.sum(T.mul(y, T.tensor(Float32Array.from(r.data), r.shape))));
  loss.backward();
  const objective = () => c.ref(inputs).data.reduce((s, v, k) => s + v * r.data[k]!, 0);
  for (const i of wrt) {
    const x = inputs[i]!.data;
    const fd = new Float64Array(x.length);
    for (let k = 0; k < x.length; k++) {
      const v = x[k]!;
      x[k] = v + h;
      const up = objective();
      x[k] = v - h;
      const down = objective();
      x[k] = v;
      fd[k] = (up - down) / (2 * h);
    }
    const g = xs[i]!.grad;
    expect(g, `${label}: input ${i} has a gradient`).toBeTruthy();
    await expectGolden(g!, { shape: inputs[i]!.shape, data: Array.from(fd) }, grad, `${label}: gradient of input ${i}`);
  }
  for (const t of [...xs, y, loss, ...xs.map((t) => t.grad)]) t?.dispose();
}

/** Seeded f32-exact values in [lo, hi). */
export function uniformArr(shape: number[], seed: number, lo = -1, hi = 1): Arr {
  const a = randomArr(shape, seed);
  return { shape, data: a.data.map((v) => Math.fround(lo + ((v + 1) / 2) * (hi - lo))) };
}

/** A seeded awkward shape: `rank` dims, each in [1, max], for checks beyond the goldens' fixed sizes. */
export function awkwardShape(seed: number, rank: number, max = 9): number[] {
  let s = seed >>> 0;
  return Array.from({ length: rank }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return 1 + ((s >>> 16) % max);
  });
}

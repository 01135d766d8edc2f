// Shared by the conv tests: seeded float32-exact random arrays for the float64 reference, and a
// worst-relative-error check of a tensor against one.
import { expect } from 'vitest';
import type * as T from '@spine/tensor/node';
import type { Arr } from '../ops/conv-pool-reference.js';

/** Values in [-1, 1) exactly representable in f32, from a seeded LCG. */
export function randomArr(shape: number[], seed: number): Arr {
  let s = seed >>> 0;
  const data = new Float64Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = Math.fround((s / 2 ** 32) * 2 - 1);
  }
  return { shape, data };
}

/** max |t - want| / max |want| below `rel`. */
export async function expectNear(t: T.Tensor, want: Arr, rel: number, label: string): Promise<void> {
  expect(t.shape, label).toEqual(want.shape);
  const got = await t.data();
  const scale = want.data.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-12);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want.data[i]!) / scale);
  expect(worst, `${label}: worst relative error`).toBeLessThan(rel);
}

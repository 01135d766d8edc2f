// Moving reference arrays to and from the device, and comparing with an f32 tolerance that
// reports where and by how much a result is off.
import { expect } from 'vitest';
import { tensor, type DType, type Tensor } from '../../src/node.js';
import { unravel, type Arr } from '../reference/ndarray.js';

export function upload(a: Arr, dtype: DType = 'f32'): Tensor {
  const data = dtype === 'i32' ? Int32Array.from(a.data) : Float32Array.from(a.data);
  return tensor(data, a.shape);
}

export async function download(t: Tensor): Promise<Arr> {
  return { shape: [...t.shape], data: Float64Array.from(await t.data()) };
}

export interface Tolerance {
  rtol?: number;
  atol?: number;
  /** Per-element absolute tolerance (e.g. scaled by |A|·|B| for matmul); added to atol. */
  scale?: Arr;
}

/**
 * Assert `actual` matches `expected` elementwise: |a - e| <= atol + rtol*|e| (+ scale_i).
 * NaN (a poisoned, unwritten output) never matches. Fails with the first mismatches.
 */
export function expectClose(actual: Arr, expected: Arr, tol: Tolerance = {}, label = ''): void {
  expect(actual.shape, `${label}: shape`).toEqual(expected.shape);
  const rtol = tol.rtol ?? 1e-5;
  const atol = tol.atol ?? 1e-6;
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i]!;
    const e = expected.data[i]!;
    const limit = atol + rtol * Math.abs(e) + (tol.scale?.data[i] ?? 0);
    const ok = Number.isNaN(e) ? Number.isNaN(a) : Math.abs(a - e) <= limit || a === e;
    if (!ok) {
      count++;
      if (bad.length < 5)
        bad.push(
          `[${unravel(i, expected.shape).join(', ')}]: got ${a}, expected ${e} (limit ${limit.toExponential(2)})`,
        );
    }
  }
  if (count) expect.fail(`${label}: ${count} of ${expected.data.length} elements differ\n  ${bad.join('\n  ')}`);
}

/** Exact equality (copies, integer results). */
export function expectEqual(actual: Arr, expected: Arr, label = ''): void {
  expectClose(actual, expected, { rtol: 0, atol: 0 }, label);
}

/** Read a tensor and compare it with a reference. */
export async function expectTensor(t: Tensor, expected: Arr, tol: Tolerance = {}, label = ''): Promise<void> {
  expectClose(await download(t), expected, tol, label);
}

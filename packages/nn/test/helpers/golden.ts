// Reading golden fixtures written by scripts/golden/*.py (PyTorch 1.13) and comparing our
// results with them. CI only reads the committed JSON; it never runs PyTorch.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import * as T from '@spine/tensor/node';

export interface GoldenArray {
  shape: number[];
  data: number[];
}
export type GoldenCase = Record<string, unknown>;

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'golden');

export function loadGolden(name: string): GoldenCase[] {
  const file = join(FIXTURES, `${name}.json`);
  return (JSON.parse(readFileSync(file, 'utf8')) as { cases: GoldenCase[] }).cases;
}

export function arrayOf(c: GoldenCase, key: string): GoldenArray {
  const v = c[key] as GoldenArray | undefined;
  if (!v || !Array.isArray(v.shape) || !Array.isArray(v.data)) throw new Error(`golden case has no array '${key}'`);
  return v;
}

/** Upload a fixture array as an f32 tensor (optionally a leaf that requires grad). */
export function toTensor(a: GoldenArray, requiresGrad = false): T.Tensor {
  const t = T.tensor(Float32Array.from(a.data), a.shape);
  t.requiresGrad = requiresGrad;
  return t;
}

/** A fixture's state dict as entries Module.loadStateDict accepts. */
export function stateMap(state: Record<string, GoldenArray>): Map<string, { shape: number[]; data: Float32Array }> {
  return new Map(Object.entries(state).map(([k, v]) => [k, { shape: v.shape, data: Float32Array.from(v.data) }]));
}

/**
 * Compare a tensor with a fixture array: max |got - want| / max(|want|_inf, floor) must be
 * under `rel` (the parity bar against PyTorch: 1e-4 forward, 1e-3 gradients). Reports the worst element.
 * `floor` is for quantities that are zero in exact arithmetic (e.g. the gradient of a conv
 * bias followed by train-mode BatchNorm): pass the scale of their neighbours.
 */
export async function expectGolden(
  got: T.Tensor,
  want: GoldenArray,
  rel: number,
  label: string,
  floor = 1e-12,
): Promise<void> {
  expect(got.shape, `${label}: shape`).toEqual(want.shape);
  const data = await got.data();
  let scale = floor;
  for (const v of want.data) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < data.length; i++) {
    const d = Math.abs(data[i]! - want.data[i]!);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  const err = worst / scale;
  expect(
    err,
    `${label}: relative error ${err.toExponential(2)} at flat index ${at} (got ${data[at]}, want ${want.data[at]})`,
  ).toBeLessThan(rel);
}
